//! Reads the server's own "wait this long" hint from a response, because a
//! server that says when it will be ready deserves to be believed over our
//! exponential guess.
//!
//! Parsing is kept separate from the clamp in
//! [`RetryConfig::retry_after_cap`](super::RetryConfig::retry_after_cap): these
//! functions report what the server asked for, and the policy decides how much
//! of it to honour.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderName, HeaderValue};

/// A non-standard header carrying a delay in whole seconds, seen in one
/// PensionPro client; it is only consulted when `Retry-After` is missing or
/// unreadable.
pub(crate) const RETRY_AFTER_FALLBACK: HeaderName =
    HeaderName::from_static("x-retry-after-seconds");

/// Parses one `Retry-After` value (RFC 9110 §10.2.3) into a delay from `now`.
///
/// Two forms are accepted, after trimming surrounding spaces and tabs:
///
/// * `delay-seconds`: one or more ASCII digits. A sign (`-5`, `+5`), a
///   fraction (`1.5`), an exponent or any other character makes the value
///   invalid and yields `None`. A number of seconds too large for a `u64`
///   saturates to `u64::MAX` seconds rather than being rejected, because the
///   server clearly meant "a long time"; the policy then clamps it.
/// * `HTTP-date`: the IMF-fixdate form (`Sun, 06 Nov 1994 08:49:37 GMT`) and
///   the obsolete RFC 850 and asctime forms, as accepted by `httpdate`. A date
///   at or before `now` yields `Some(Duration::ZERO)`: the server's wait is
///   already over.
///
/// Anything else, including values that are not visible ASCII, yields `None`.
/// The result is not clamped here; see
/// [`RetryConfig::retry_after_cap`](super::RetryConfig::retry_after_cap).
pub fn parse_retry_after(value: &HeaderValue, now: SystemTime) -> Option<Duration> {
    let text = trim(value.to_str().ok()?);
    if let Some(delay) = parse_delay_seconds(text) {
        return Some(delay);
    }
    let at = httpdate::parse_http_date(text).ok()?;
    // `duration_since` fails exactly when the date is in the past, which means
    // "retry now".
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Returns the delay a response asks for, if it names a readable one.
///
/// `Retry-After` is checked first; if it is absent, or none of its values can
/// be parsed by [`parse_retry_after`], the `x-retry-after-seconds` header is
/// read instead, accepting only whole seconds since its name promises nothing
/// else. When a header is repeated, the first readable value wins.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    headers
        .get_all(http::header::RETRY_AFTER)
        .iter()
        .find_map(|value| parse_retry_after(value, now))
        .or_else(|| {
            headers
                .get_all(RETRY_AFTER_FALLBACK)
                .iter()
                .find_map(|value| parse_delay_seconds(trim(value.to_str().ok()?)))
        })
}

/// Removes the optional whitespace HTTP allows around a field value.
fn trim(text: &str) -> &str {
    text.trim_matches([' ', '\t'])
}

/// Parses `1*DIGIT` as seconds, saturating instead of failing on overflow.
fn parse_delay_seconds(text: &str) -> Option<Duration> {
    // `u64::from_str` would also accept a leading `+`, which the grammar does
    // not, so the digits are checked first; after that the only possible
    // parse failure is overflow.
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds = text.parse::<u64>().unwrap_or(u64::MAX);
    Some(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed "now" so HTTP-date cases are exact: 2023-11-14T22:13:20Z.
    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn value(text: &str) -> HeaderValue {
        HeaderValue::from_str(text).unwrap()
    }

    #[test]
    fn retry_after_values() {
        let later = httpdate::fmt_http_date(now() + Duration::from_secs(90));
        let earlier = httpdate::fmt_http_date(now() - Duration::from_secs(90));
        let cases: &[(&str, Option<Duration>)] = &[
            ("0", Some(Duration::ZERO)),
            ("1", Some(Duration::from_secs(1))),
            ("120", Some(Duration::from_secs(120))),
            ("007", Some(Duration::from_secs(7))),
            (" 5\t", Some(Duration::from_secs(5))),
            ("18446744073709551615", Some(Duration::from_secs(u64::MAX))),
            (
                "99999999999999999999999999",
                Some(Duration::from_secs(u64::MAX)),
            ),
            (&later, Some(Duration::from_secs(90))),
            (&earlier, Some(Duration::ZERO)),
            // The current instant is not in the future either.
            (&httpdate::fmt_http_date(now()), Some(Duration::ZERO)),
            // The obsolete RFC 850 and asctime forms of 2023-11-14T22:14:50Z.
            (
                "Tuesday, 14-Nov-23 22:14:50 GMT",
                Some(Duration::from_secs(90)),
            ),
            ("Tue Nov 14 22:14:50 2023", Some(Duration::from_secs(90))),
            ("", None),
            ("   ", None),
            ("-1", None),
            ("-0", None),
            ("+5", None),
            ("1.5", None),
            ("1e3", None),
            ("5 s", None),
            ("soon", None),
            ("Tue, 14 Nov 2023 25:00:00 GMT", None),
            ("Tue, 14 Nov 2023 22:14:50", None),
        ];
        for (text, expected) in cases {
            assert_eq!(
                parse_retry_after(&value(text), now()),
                *expected,
                "{text:?}"
            );
        }
    }

    #[test]
    fn retry_after_rejects_non_ascii_values() {
        let opaque = HeaderValue::from_bytes(b"\xff12").unwrap();
        assert_eq!(parse_retry_after(&opaque, now()), None);
    }

    #[test]
    fn retry_after_header_takes_precedence_over_fallback() {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::RETRY_AFTER, value("3"));
        headers.insert("x-retry-after-seconds", value("9"));
        assert_eq!(retry_after(&headers, now()), Some(Duration::from_secs(3)));
    }

    #[test]
    fn retry_after_fallback_header() {
        let cases: &[(Option<&str>, Option<&str>, Option<Duration>)] = &[
            (None, None, None),
            (None, Some("9"), Some(Duration::from_secs(9))),
            // An unreadable Retry-After does not hide a readable fallback.
            (Some("soon"), Some("9"), Some(Duration::from_secs(9))),
            (Some("soon"), None, None),
            // The fallback names seconds, so it accepts nothing else.
            (None, Some("Tue, 14 Nov 2023 22:14:50 GMT"), None),
            (None, Some("-3"), None),
            (None, Some("2.5"), None),
            (None, Some(" 4 "), Some(Duration::from_secs(4))),
        ];
        for (standard, fallback, expected) in cases {
            let mut headers = HeaderMap::new();
            if let Some(text) = standard {
                headers.insert(http::header::RETRY_AFTER, value(text));
            }
            if let Some(text) = fallback {
                headers.insert("x-retry-after-seconds", value(text));
            }
            assert_eq!(
                retry_after(&headers, now()),
                *expected,
                "{standard:?} / {fallback:?}"
            );
        }
    }

    #[test]
    fn retry_after_first_readable_repeated_value_wins() {
        let mut headers = HeaderMap::new();
        headers.append(http::header::RETRY_AFTER, value("later"));
        headers.append(http::header::RETRY_AFTER, value("6"));
        headers.append(http::header::RETRY_AFTER, value("8"));
        assert_eq!(retry_after(&headers, now()), Some(Duration::from_secs(6)));
    }
}
