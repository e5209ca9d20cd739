//! A typed builder for PensionPro's OData query options, because a filter
//! glued together from strings lets a user's value change the query: a name
//! like `x' or Id gt 0 or Name eq 'y` would widen a filter to every record.
//!
//! Values are rendered as OData literals, never spliced: strings in single
//! quotes with `'` doubled (`'O''Brien'`), numbers and booleans bare, `null`
//! bare. Field paths are checked to be dotted identifiers
//! (`Status.DisplayName`), the form v1 proved and v2 clients use; the slash
//! form (`Project/PlanId`) appears only in unverified sources.
//!
//! Dates are quoted ISO-8601 in UTC (`'2024-01-31T00:00:00Z'`), the form the
//! newest v2 client sends. v1 clients compared against quoted US dates
//! (`'1/31/2024'`); [`Literal::us_date`] renders that form for a server that
//! turns out to want it. The same v2 client found `ge`/`le` on dates
//! unreliable and filtered dates on its side, so check date-bounded results
//! when they matter.
//!
//! ```
//! use pensionpro::odata::{Query, field};
//!
//! let query = Query::new()
//!     .filter(
//!         field("Status.DisplayName").eq("Active")
//!             .and(field("Name").contains("O'Brien"))
//!             .and(field("TerminatedOn").is_null()),
//!     )
//!     .expand("Client")
//!     .expand("PlanType")
//!     .order_by_desc("UpdatedOn")
//!     .top(100)?;
//! assert_eq!(
//!     query.filter_string().as_deref(),
//!     Some("Status.DisplayName eq 'Active' and contains(Name,'O''Brien') and TerminatedOn eq null")
//! );
//! assert_eq!(query.expand_string().as_deref(), Some("Client,PlanType"));
//! # Ok::<(), pensionpro::Error>(())
//! ```

use std::fmt;
use std::num::NonZeroU32;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use client_core::money::Decimal;

use crate::error::{Error, Result};

/// The largest `$top` PensionPro accepts.
pub const MAX_TOP: u32 = 1000;

/// A property path such as `Name` or `Status.DisplayName`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Field(String);

/// A field path; an invalid one is reported when the query is checked (see
/// [`Query::validate`]), so building a filter never fails half way.
pub fn field(path: impl Into<String>) -> Field {
    Field(path.into())
}

impl Field {
    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the path is a dotted list of identifiers (letters, digits and
    /// `_`, not starting with a digit).
    pub fn is_valid(&self) -> bool {
        is_path(&self.0)
    }

    fn compare(self, op: Op, value: impl Into<Literal>) -> Filter {
        Filter(Expr::Compare {
            field: self,
            op,
            value: value.into(),
        })
    }

    /// `Field eq value`.
    pub fn eq(self, value: impl Into<Literal>) -> Filter {
        self.compare(Op::Eq, value)
    }

    /// `Field ne value`.
    pub fn ne(self, value: impl Into<Literal>) -> Filter {
        self.compare(Op::Ne, value)
    }

    /// `Field gt value`.
    pub fn gt(self, value: impl Into<Literal>) -> Filter {
        self.compare(Op::Gt, value)
    }

    /// `Field ge value`.
    pub fn ge(self, value: impl Into<Literal>) -> Filter {
        self.compare(Op::Ge, value)
    }

    /// `Field lt value`.
    pub fn lt(self, value: impl Into<Literal>) -> Filter {
        self.compare(Op::Lt, value)
    }

    /// `Field le value`.
    pub fn le(self, value: impl Into<Literal>) -> Filter {
        self.compare(Op::Le, value)
    }

    /// `Field eq null`.
    pub fn is_null(self) -> Filter {
        self.compare(Op::Eq, Literal::Null)
    }

    /// `Field ne null`.
    pub fn is_not_null(self) -> Filter {
        self.compare(Op::Ne, Literal::Null)
    }

    /// `contains(Field,'text')`.
    pub fn contains(self, text: impl Into<String>) -> Filter {
        Filter(Expr::Function {
            name: "contains",
            field: self,
            text: text.into(),
        })
    }

    /// `startswith(Field,'text')`.
    pub fn starts_with(self, text: impl Into<String>) -> Filter {
        Filter(Expr::Function {
            name: "startswith",
            field: self,
            text: text.into(),
        })
    }

    /// `endswith(Field,'text')`.
    pub fn ends_with(self, text: impl Into<String>) -> Filter {
        Filter(Expr::Function {
            name: "endswith",
            field: self,
            text: text.into(),
        })
    }
}

/// A literal on the right of a comparison.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Literal {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// An exact decimal, written without exponent.
    Decimal(Decimal),
    /// A string, quoted with `'` doubled.
    Text(String),
    /// A point in time, quoted ISO-8601 UTC (`'2024-01-31T00:00:00Z'`).
    DateTime(DateTime<Utc>),
    /// A date, quoted as midnight UTC (`'2024-01-31T00:00:00Z'`).
    Date(NaiveDate),
    /// A date in the US form v1 clients used (`'1/31/2024'`).
    UsDate(NaiveDate),
}

impl Literal {
    /// A date in the US form (`'1/31/2024'`) instead of ISO.
    pub fn us_date(date: NaiveDate) -> Self {
        Literal::UsDate(date)
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("null"),
            Literal::Bool(value) => write!(f, "{value}"),
            Literal::Int(value) => write!(f, "{value}"),
            Literal::Decimal(value) => write!(f, "{}", value.normalize()),
            Literal::Text(text) => write_quoted(f, text),
            Literal::DateTime(at) => {
                write_quoted(f, &at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
            }
            Literal::Date(date) => {
                write_quoted(f, &format!("{}T00:00:00Z", date.format("%Y-%m-%d")))
            }
            Literal::UsDate(date) => write_quoted(f, &date.format("%-m/%-d/%Y").to_string()),
        }
    }
}

/// Writes `'text'` with every `'` doubled, the only escape OData strings need.
fn write_quoted(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    f.write_str("'")?;
    f.write_str(&text.replace('\'', "''"))?;
    f.write_str("'")
}

impl From<&str> for Literal {
    fn from(value: &str) -> Self {
        Literal::Text(value.to_owned())
    }
}

impl From<String> for Literal {
    fn from(value: String) -> Self {
        Literal::Text(value)
    }
}

impl From<&String> for Literal {
    fn from(value: &String) -> Self {
        Literal::Text(value.clone())
    }
}

impl From<bool> for Literal {
    fn from(value: bool) -> Self {
        Literal::Bool(value)
    }
}

macro_rules! int_literal {
    ($($t:ty),*) => {$(
        impl From<$t> for Literal {
            fn from(value: $t) -> Self {
                Literal::Int(i64::from(value))
            }
        }
    )*};
}
int_literal!(i8, i16, i32, i64, u8, u16, u32);

impl From<Decimal> for Literal {
    fn from(value: Decimal) -> Self {
        Literal::Decimal(value)
    }
}

impl From<DateTime<Utc>> for Literal {
    fn from(value: DateTime<Utc>) -> Self {
        Literal::DateTime(value)
    }
}

impl From<NaiveDate> for Literal {
    fn from(value: NaiveDate) -> Self {
        Literal::Date(value)
    }
}

impl<T: Into<Literal>> From<Option<T>> for Literal {
    fn from(value: Option<T>) -> Self {
        value.map_or(Literal::Null, Into::into)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Compare {
        field: Field,
        op: Op,
        value: Literal,
    },
    Function {
        name: &'static str,
        field: Field,
        text: String,
    },
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
}

/// A `$filter` expression. Combine with [`Filter::and`], [`Filter::or`] and
/// [`Filter::not`]; `Display` renders it.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter(Expr);

impl Filter {
    /// Both conditions.
    #[must_use]
    pub fn and(self, other: Filter) -> Filter {
        let mut parts = match self.0 {
            Expr::And(parts) => parts,
            single => vec![single],
        };
        match other.0 {
            Expr::And(more) => parts.extend(more),
            single => parts.push(single),
        }
        Filter(Expr::And(parts))
    }

    /// Either condition.
    #[must_use]
    pub fn or(self, other: Filter) -> Filter {
        let mut parts = match self.0 {
            Expr::Or(parts) => parts,
            single => vec![single],
        };
        match other.0 {
            Expr::Or(more) => parts.extend(more),
            single => parts.push(single),
        }
        Filter(Expr::Or(parts))
    }

    /// The negation.
    #[must_use]
    #[allow(clippy::should_implement_trait, reason = "reads as OData's `not`")]
    pub fn not(self) -> Filter {
        Filter(Expr::Not(Box::new(self.0)))
    }

    /// Every field path the expression uses, to be checked.
    fn fields(&self) -> Vec<&Field> {
        fn walk<'a>(expr: &'a Expr, out: &mut Vec<&'a Field>) {
            match expr {
                Expr::Compare { field, .. } | Expr::Function { field, .. } => out.push(field),
                Expr::And(parts) | Expr::Or(parts) => parts.iter().for_each(|p| walk(p, out)),
                Expr::Not(inner) => walk(inner, out),
            }
        }
        let mut out = Vec::new();
        walk(&self.0, &mut out);
        out
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_expr(f, &self.0)
    }
}

/// Writes an expression; compound children of a different operator get
/// parentheses, so the rendering never depends on OData's precedence rules.
fn write_expr(f: &mut fmt::Formatter<'_>, expr: &Expr) -> fmt::Result {
    match expr {
        Expr::Compare { field, op, value } => {
            write!(f, "{} {} {value}", field.as_str(), op.as_str())
        }
        Expr::Function { name, field, text } => {
            write!(f, "{name}({},", field.as_str())?;
            write_quoted(f, text)?;
            f.write_str(")")
        }
        Expr::And(parts) | Expr::Or(parts) => {
            let joiner = if matches!(expr, Expr::And(_)) {
                " and "
            } else {
                " or "
            };
            for (index, part) in parts.iter().enumerate() {
                if index > 0 {
                    f.write_str(joiner)?;
                }
                if matches!(part, Expr::And(_) | Expr::Or(_)) {
                    f.write_str("(")?;
                    write_expr(f, part)?;
                    f.write_str(")")?;
                } else {
                    write_expr(f, part)?;
                }
            }
            Ok(())
        }
        Expr::Not(inner) => {
            f.write_str("not (")?;
            write_expr(f, inner)?;
            f.write_str(")")
        }
    }
}

/// Sort direction for `$orderby`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Ascending (OData's default).
    Asc,
    /// Descending.
    Desc,
}

/// The OData options of one list request. Apply it to any generated list
/// builder with [`crate::pagination::ListRequest::with_query`], or hand it
/// to [`crate::Client::list`] for a walk over every page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    filter: Option<Filter>,
    expand: Vec<Field>,
    order_by: Vec<(Field, Order)>,
    select: Vec<Field>,
    top: Option<NonZeroU32>,
    skip: Option<u32>,
}

impl Query {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a `$filter` condition; several are combined with `and`.
    #[must_use]
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = Some(match self.filter.take() {
            Some(existing) => existing.and(filter),
            None => filter,
        });
        self
    }

    /// Adds a navigation property to `$expand`; nested ones in dot form
    /// (`TaskGroup.Project`), which v1 proved. (One v2 client used the OData
    /// v4 form `TaskGroup($expand=Project)`, which is not proven.)
    #[must_use]
    pub fn expand(mut self, path: impl Into<String>) -> Self {
        self.expand.push(field(path));
        self
    }

    /// Adds an ascending `$orderby` key.
    #[must_use]
    pub fn order_by(mut self, path: impl Into<String>) -> Self {
        self.order_by.push((field(path), Order::Asc));
        self
    }

    /// Adds a descending `$orderby` key.
    #[must_use]
    pub fn order_by_desc(mut self, path: impl Into<String>) -> Self {
        self.order_by.push((field(path), Order::Desc));
        self
    }

    /// Adds properties to `$select` (support in v2 is unproven; v1 honoured it).
    #[must_use]
    pub fn select<I, S>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.select.extend(paths.into_iter().map(field));
        self
    }

    /// Sets `$top`, the page size.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidQuery`] unless `1 <= top <= 1000`.
    pub fn top(mut self, top: u32) -> Result<Self> {
        match NonZeroU32::new(top) {
            Some(top) if top.get() <= MAX_TOP => {
                self.top = Some(top);
                Ok(self)
            }
            _ => Err(Error::invalid_query(format!(
                "$top must be between 1 and {MAX_TOP}, not {top}"
            ))),
        }
    }

    /// Sets `$skip`.
    #[must_use]
    pub fn skip(mut self, skip: u32) -> Self {
        self.skip = Some(skip);
        self
    }

    /// The `$filter` text, if any.
    pub fn filter_string(&self) -> Option<String> {
        self.filter.as_ref().map(ToString::to_string)
    }

    /// The `$expand` text, if any.
    pub fn expand_string(&self) -> Option<String> {
        join(self.expand.iter().map(Field::as_str))
    }

    /// The `$orderby` text, if any.
    pub fn order_by_string(&self) -> Option<String> {
        join(self.order_by.iter().map(|(field, order)| match order {
            Order::Asc => field.as_str().to_owned(),
            Order::Desc => format!("{} desc", field.as_str()),
        }))
    }

    /// The `$select` text, if any.
    pub fn select_string(&self) -> Option<String> {
        join(self.select.iter().map(Field::as_str))
    }

    /// `$top`, if set.
    pub fn top_value(&self) -> Option<NonZeroU32> {
        self.top
    }

    /// `$skip`, if set.
    pub fn skip_value(&self) -> Option<u32> {
        self.skip
    }

    /// The `$filter` expression, if any.
    pub fn filter_expr(&self) -> Option<&Filter> {
        self.filter.as_ref()
    }

    /// Whether `Id` is among the sort keys.
    pub(crate) fn orders_by_id(&self) -> bool {
        self.order_by
            .iter()
            .any(|(field, _)| field.as_str() == "Id")
    }

    /// Whether `$select` is set and lacks `Id`.
    pub(crate) fn selects_without_id(&self) -> bool {
        !self.select.is_empty() && !self.select.iter().any(|f| f.as_str() == "Id")
    }

    /// Checks every field path and `$skip`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidQuery`] naming the first bad path.
    pub fn validate(&self) -> Result<()> {
        let filter_fields = self.filter.iter().flat_map(Filter::fields);
        let others = self
            .expand
            .iter()
            .chain(self.select.iter())
            .chain(self.order_by.iter().map(|(field, _)| field));
        if let Some(bad) = filter_fields.chain(others).find(|f| !f.is_valid()) {
            return Err(Error::invalid_query(format!(
                "`{}` is not a property path (dotted identifiers such as `Status.DisplayName`)",
                bad.as_str()
            )));
        }
        if self.skip.is_some_and(|skip| i32::try_from(skip).is_err()) {
            return Err(Error::invalid_query("$skip is beyond the API's range"));
        }
        Ok(())
    }
}

fn join<'a>(parts: impl Iterator<Item = impl AsRef<str> + 'a>) -> Option<String> {
    let joined: Vec<String> = parts.map(|p| p.as_ref().to_owned()).collect();
    (!joined.is_empty()).then(|| joined.join(","))
}

/// A dotted path of identifiers.
fn is_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('.').all(|segment| {
            let mut chars = segment.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn formatting_table() {
        let date = NaiveDate::from_ymd_opt(2024, 1, 31).unwrap();
        let at = Utc.with_ymd_and_hms(2024, 1, 31, 13, 5, 0).unwrap();
        let cases: Vec<(Filter, &str)> = vec![
            (field("Name").eq("Acme"), "Name eq 'Acme'"),
            (field("Name").eq("O'Brien"), "Name eq 'O''Brien'"),
            (field("Name").eq(""), "Name eq ''"),
            (field("Id").ne(5), "Id ne 5"),
            (field("Id").gt(-7i64), "Id gt -7"),
            (field("Fee").ge(Decimal::new(12_500, 2)), "Fee ge 125"),
            (field("Fee").lt(Decimal::new(12_505, 2)), "Fee lt 125.05"),
            (field("IsDeactivated").eq(false), "IsDeactivated eq false"),
            (field("EndDate").is_null(), "EndDate eq null"),
            (field("EndDate").is_not_null(), "EndDate ne null"),
            (field("EndDate").eq(None::<i32>), "EndDate eq null"),
            (
                field("CreatedOn").le(at),
                "CreatedOn le '2024-01-31T13:05:00Z'",
            ),
            (field("DueOn").ge(date), "DueOn ge '2024-01-31T00:00:00Z'"),
            (
                field("DateCompleted").gt(Literal::us_date(date)),
                "DateCompleted gt '1/31/2024'",
            ),
            (
                field("Status.DisplayName").eq("Active"),
                "Status.DisplayName eq 'Active'",
            ),
            (
                field("SearchText").contains("a'b"),
                "contains(SearchText,'a''b')",
            ),
            (field("Name").starts_with("Ac"), "startswith(Name,'Ac')"),
            (field("Name").ends_with("me"), "endswith(Name,'me')"),
            (
                field("A").eq(1).and(field("B").eq(2)).and(field("C").eq(3)),
                "A eq 1 and B eq 2 and C eq 3",
            ),
            (
                field("A").eq(1).or(field("B").eq(2)).and(field("C").eq(3)),
                "(A eq 1 or B eq 2) and C eq 3",
            ),
            (
                field("A").eq(1).and(field("B").eq(2).or(field("C").eq(3))),
                "A eq 1 and (B eq 2 or C eq 3)",
            ),
            (field("A").eq(1).not(), "not (A eq 1)"),
            (
                field("A").eq(1).and(field("B").eq(2)).not(),
                "not (A eq 1 and B eq 2)",
            ),
        ];
        for (filter, expected) in cases {
            assert_eq!(filter.to_string(), expected);
        }
    }

    #[test]
    fn sub_second_times_keep_their_fraction() {
        let at = Utc.timestamp_millis_opt(1_597_868_309_341).unwrap();
        assert_eq!(
            field("UpdatedOn").gt(at).to_string(),
            "UpdatedOn gt '2020-08-19T20:18:29.341Z'"
        );
    }

    #[test]
    fn query_options_render() {
        let query = Query::new()
            .filter(field("A").eq(1))
            .filter(field("B").eq("x"))
            .expand("TaskGroup.Project")
            .expand("AssignedTo")
            .order_by("Order")
            .order_by_desc("CompletedOn")
            .select(["Id", "Name"])
            .skip(20)
            .top(1000)
            .unwrap();
        assert_eq!(query.filter_string().unwrap(), "A eq 1 and B eq 'x'");
        assert_eq!(
            query.expand_string().unwrap(),
            "TaskGroup.Project,AssignedTo"
        );
        assert_eq!(query.order_by_string().unwrap(), "Order,CompletedOn desc");
        assert_eq!(query.select_string().unwrap(), "Id,Name");
        assert_eq!(query.top_value().unwrap().get(), 1000);
        assert_eq!(query.skip_value(), Some(20));
        query.validate().unwrap();
        assert_eq!(Query::new().filter_string(), None);
    }

    #[test]
    fn top_outside_1_to_1000_is_a_typed_error() {
        for bad in [0, 1001, u32::MAX] {
            let error = Query::new().top(bad).unwrap_err();
            assert!(matches!(error, Error::InvalidQuery { .. }), "{error:?}");
        }
        assert!(Query::new().top(1).is_ok());
    }

    #[test]
    fn bad_paths_are_reported() {
        for bad in [
            "",
            "Name eq 1 or X",
            "a..b",
            "1abc",
            "Name'",
            "a/b",
            "Name)",
        ] {
            let query = Query::new().filter(field(bad).eq(1));
            assert!(query.validate().is_err(), "{bad:?} accepted");
            assert!(Query::new().expand(bad).validate().is_err());
            assert!(Query::new().order_by(bad).validate().is_err());
            assert!(Query::new().select([bad]).validate().is_err());
        }
        assert!(Query::new().skip(u32::MAX).validate().is_err());
        assert!(Query::new().filter(field("_a.B1").eq(1)).validate().is_ok());
    }
}
