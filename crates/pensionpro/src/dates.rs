//! Lenient readers for PensionPro's dates, because one payload mixes
//! formats: `CreatedOn` is ISO-8601 UTC (`2020-07-13T19:30:10Z`), business
//! dates are US-style with no zone (`9/14/2012 12:00:00 AM`), request
//! examples carry milliseconds (`2020-08-19T20:18:29.341Z`), and date-only
//! values appear too. The generated types keep every date a string, so
//! decoding never fails on one; these functions turn the string into a
//! `chrono` value when asked.
//!
//! A value with a zone becomes [`Timestamp::Utc`]. A US-format value has no
//! zone and nobody has documented which one it means (firm-local or UTC), so
//! it stays a [`Timestamp::Local`] `NaiveDateTime` and the caller decides
//! with [`Timestamp::assume_offset`].
//!
//! ```
//! use pensionpro::dates::Timestamp;
//!
//! let added = Timestamp::parse("9/14/2012 12:00:00 AM").unwrap();
//! assert_eq!(added.date().to_string(), "2012-09-14");
//! assert!(matches!(Timestamp::parse("2020-07-13T19:30:10Z"), Some(Timestamp::Utc(_))));
//! assert_eq!(Timestamp::parse("soon"), None);
//! ```

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use pensionpro_client::types;

/// A date or time as PensionPro sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timestamp {
    /// A point in time with a zone (ISO-8601 with `Z` or an offset).
    Utc(DateTime<Utc>),
    /// A date and time without a zone (US format, or ISO without `Z`).
    Local(NaiveDateTime),
    /// A date alone.
    Date(NaiveDate),
}

/// Date-time forms without a zone, most frequent first.
const LOCAL_FORMATS: &[&str] = &[
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m-%d-%Y %I:%M:%S %p",
    "%m-%d-%Y %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
];

/// Date-only forms.
const DATE_FORMATS: &[&str] = &["%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y"];

impl Timestamp {
    /// Reads any of the forms PensionPro sends; `None` when the text is none
    /// of them (the raw string stays in the payload either way).
    pub fn parse(text: &str) -> Option<Timestamp> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            return Some(Timestamp::Utc(at.with_timezone(&Utc)));
        }
        // RFC 3339 wants a `T`; ISO-8601 allows a space.
        if let Ok(at) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z") {
            return Some(Timestamp::Utc(at.with_timezone(&Utc)));
        }
        if let Some(local) = LOCAL_FORMATS
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        {
            return Some(Timestamp::Local(local));
        }
        DATE_FORMATS
            .iter()
            .find_map(|format| NaiveDate::parse_from_str(text, format).ok())
            .map(Timestamp::Date)
    }

    /// The calendar date (in UTC for a zoned value).
    pub fn date(&self) -> NaiveDate {
        self.naive().date()
    }

    /// The date and time without a zone (UTC's wall clock for a zoned value,
    /// midnight for a date).
    pub fn naive(&self) -> NaiveDateTime {
        match self {
            Timestamp::Utc(at) => at.naive_utc(),
            Timestamp::Local(local) => *local,
            Timestamp::Date(date) => date.and_time(NaiveTime::MIN),
        }
    }

    /// The point in time, when the value carried a zone.
    pub fn to_utc(&self) -> Option<DateTime<Utc>> {
        match self {
            Timestamp::Utc(at) => Some(*at),
            Timestamp::Local(_) | Timestamp::Date(_) => None,
        }
    }

    /// The point in time, reading a value without a zone in `offset` (for
    /// example the firm's zone); a zoned value is returned as it is.
    pub fn assume_offset(&self, offset: FixedOffset) -> DateTime<Utc> {
        match self {
            Timestamp::Utc(at) => *at,
            Timestamp::Local(_) | Timestamp::Date(_) => {
                let naive = self.naive();
                // A fixed offset maps every wall-clock time to exactly one instant.
                offset
                    .from_local_datetime(&naive)
                    .single()
                    .map_or_else(|| naive.and_utc(), |at| at.with_timezone(&Utc))
            }
        }
    }
}

/// Reads an optional date field of a generated type.
///
/// ```
/// use pensionpro::dates;
/// let plan = pensionpro::types::Plan {
///     added_on: Some("9/14/2012 12:00:00 AM".into()),
///     ..Default::default()
/// };
/// assert_eq!(dates::field(&plan.added_on).unwrap().date().to_string(), "2012-09-14");
/// assert_eq!(dates::field(&plan.terminated_on), None);
/// ```
pub fn field(value: &Option<String>) -> Option<Timestamp> {
    value.as_deref().and_then(Timestamp::parse)
}

/// `CreatedOn` and `UpdatedOn`, which every entity has.
pub trait Dated {
    /// When the record was created.
    fn created_at(&self) -> Option<Timestamp>;
    /// When the record was last changed.
    fn updated_at(&self) -> Option<Timestamp>;
}

macro_rules! dated {
    ($($entity:ident),* $(,)?) => {$(
        impl Dated for types::$entity {
            fn created_at(&self) -> Option<Timestamp> {
                field(&self.created_on)
            }

            fn updated_at(&self) -> Option<Timestamp> {
                field(&self.updated_on)
            }
        }
    )*};
}

dated!(
    Address,
    Client,
    Contact,
    ContactPhoneNumberLink,
    DistributionFile,
    Distribution,
    Employee,
    EmployeePlanRole,
    EmployerData,
    FeeSchedule,
    FeeScheduleItem,
    FeeScheduleTemplate,
    InvestmentProviderLink,
    LegalPlanFile,
    Lookup,
    Note,
    Participant,
    PlanContactRole,
    PlanCycle,
    Plan,
    PlanServicesProvidedLink,
    ProjectField,
    ProjectFile,
    Project,
    ProjectTemplate,
    TaskGroup,
    TaskItem,
    Task,
    TimeEntry,
    ToDoComment,
    ToDo,
    Worktray,
    WorktrayMember,
);

#[cfg(test)]
mod tests {
    use super::*;

    fn local(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    #[test]
    fn every_known_form_parses() {
        let utc = |text: &str| Timestamp::Utc(local(text).and_utc());
        let cases = [
            ("2020-07-13T19:30:10Z", utc("2020-07-13 19:30:10")),
            ("2020-08-19T20:18:29.341Z", utc("2020-08-19 20:18:29.341")),
            ("2020-08-19T22:18:29+02:00", utc("2020-08-19 20:18:29")),
            ("2020-08-19 20:18:29Z", utc("2020-08-19 20:18:29")),
            (
                "9/14/2012 12:00:00 AM",
                Timestamp::Local(local("2012-09-14 00:00:00")),
            ),
            (
                "7/13/2020 7:30:10 PM",
                Timestamp::Local(local("2020-07-13 19:30:10")),
            ),
            (
                "12/1/2011 12:00:00 PM",
                Timestamp::Local(local("2011-12-01 12:00:00")),
            ),
            (
                "01/31/2024 13:05",
                Timestamp::Local(local("2024-01-31 13:05:00")),
            ),
            (
                "2020-07-13T19:30:10",
                Timestamp::Local(local("2020-07-13 19:30:10")),
            ),
            (
                "2020-07-13T19:30:10.5",
                Timestamp::Local(local("2020-07-13 19:30:10.5")),
            ),
            (
                "2024-01-31",
                Timestamp::Date(NaiveDate::from_ymd_opt(2024, 1, 31).unwrap()),
            ),
            (
                "1/1/2024",
                Timestamp::Date(NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()),
            ),
            (
                "01-31-2024",
                Timestamp::Date(NaiveDate::from_ymd_opt(2024, 1, 31).unwrap()),
            ),
            (
                "  9/14/2012 12:00:00 AM ",
                Timestamp::Local(local("2012-09-14 00:00:00")),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(Timestamp::parse(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn garbage_is_none_not_a_panic() {
        for text in [
            "",
            " ",
            "soon",
            "13/45/2020",
            "2020-02-30",
            "9/14/2012 25:00:00",
            "\u{0}",
        ] {
            assert_eq!(Timestamp::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn zoneless_values_take_the_offset_the_caller_names() {
        let value = Timestamp::parse("9/14/2012 12:00:00 AM").unwrap();
        assert_eq!(value.to_utc(), None);
        let eastern = FixedOffset::west_opt(5 * 3600).unwrap();
        assert_eq!(
            value.assume_offset(eastern).to_rfc3339(),
            "2012-09-14T05:00:00+00:00"
        );
        let zoned = Timestamp::parse("2020-07-13T19:30:10Z").unwrap();
        assert_eq!(zoned.assume_offset(eastern), zoned.to_utc().unwrap());
        assert_eq!(zoned.date().to_string(), "2020-07-13");
    }
}
