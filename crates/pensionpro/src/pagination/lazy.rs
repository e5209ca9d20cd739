//! Rows that stay JSON text until the consumer takes them.
//!
//! A concurrent walk gets its pages at about the same time. Decoded on
//! arrival, every page fetched ahead sat in memory as rows (1000 plans were
//! 11 MiB before the generator boxed nested objects, 0.9 MiB after), written
//! once and read back later from memory no cache held. Here a page is read
//! as `{Values, TotalCount}` with each row kept as its text and its `Id`;
//! the walk's bookkeeping needs nothing else, and a row is decoded into its
//! type when it is taken, while its text is still in the cache.
//!
//! A row that does not decode ends the walk with
//! [`Error::Interrupted`](crate::Error::Interrupted) around the
//! [`Error::Decode`](crate::Error::Decode) the call would have returned
//! (its request id, status and a scrubbed snippet of the row), after every
//! row before it and with the point to resume after the last one.

use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;
use futures::stream::BoxStream;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::walker::{Batch, Held, Window};
use super::{ResumePoint, Row};
use crate::error::{Error, Result};

/// A list answer as the walk reads it: `TotalCount` as any integer (a
/// negative one as absent), and the rows of `Values` not decoded but copied,
/// one after the other, into one string: a page is one allocation, not one
/// per row, and each row is found by where it starts and ends in it.
///
/// serde_json still reads every row through (a row must be valid JSON), but
/// borrows its text from the body instead of allocating it: read from a
/// body in memory, as progenitor's `from_response` does; a deserializer
/// that cannot lend its input fails.
pub(crate) struct RawPage {
    text: String,
    /// `(start, end)` of each row in `text`.
    rows: Vec<(usize, usize)>,
    total_count: Option<i64>,
}

impl<'de> Deserialize<'de> for RawPage {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_map(PageVisitor)
    }
}

struct PageVisitor;

impl<'de> Visitor<'de> for PageVisitor {
    type Value = RawPage;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list answer {Values, TotalCount}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<RawPage, A::Error> {
        let mut page = RawPage {
            text: String::new(),
            rows: Vec::new(),
            total_count: None,
        };
        let (mut values, mut total) = (false, false);
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match &*key {
                "Values" if values => return Err(de::Error::duplicate_field("Values")),
                "Values" => {
                    values = true;
                    map.next_value_seed(Rows(&mut page))?;
                }
                "TotalCount" if total => return Err(de::Error::duplicate_field("TotalCount")),
                "TotalCount" => {
                    total = true;
                    page.total_count = map.next_value()?;
                }
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(page)
    }
}

/// `Values`: `null` or an array, each row appended to the page's text.
struct Rows<'p>(&'p mut RawPage);

impl<'de> DeserializeSeed<'de> for Rows<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Rows<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of rows or null")
    }

    fn visit_none<E: de::Error>(self) -> std::result::Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        Ok(())
    }

    fn visit_some<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let page = self.0;
        while let Some(row) = seq.next_element::<&'de RawValue>()? {
            let row = row.get();
            if page.text.is_empty() {
                // Rows are about as long as each other: room for 64 like
                // the first, so the text grows rarely; but never more than
                // 256 KiB beyond the row, so a huge first row cannot make
                // the page reserve many times what the body holds.
                page.text.reserve(
                    row.len()
                        .saturating_mul(64)
                        .min(row.len().saturating_add(256 * 1024)),
                );
            }
            let start = page.text.len();
            page.text.push_str(row);
            page.rows.push((start, page.text.len()));
        }
        // Held until the page is read: not with a quarter more room than
        // the rows take.
        if page.text.capacity() - page.text.len() > page.text.len() / 4 {
            page.text.shrink_to_fit();
        }
        Ok(())
    }
}

/// What the walk reads of a row before it is taken.
#[derive(Deserialize)]
struct IdOf {
    #[serde(rename = "Id", default)]
    id: Option<i64>,
}

/// A row's `Id`. The row's text is valid JSON (it was read as a raw
/// value), so the keys of its object are scanned until `Id` and only its
/// value is decoded: 24 ns against serde's 93 for a bench row with `Id`
/// first, 0.8 µs against 1.4 for the vendor's sample plan, whose `Id` is
/// its 70th key of 76. Anything the scan does not take simply (an escape in
/// a key, text that is not an object, an `Id` that is not an integer or
/// `null`) is decoded by serde, which gives the error. A row with two `Id`
/// keys gets the first here and fails when it is taken (the generated
/// decoder refuses a repeated field), where serde would fail its page.
fn id_of(text: &str) -> std::result::Result<Option<i64>, serde_json::Error> {
    match scan_id(text.as_bytes()) {
        Some(id) => Ok(id),
        None => serde_json::from_str::<IdOf>(text).map(|row| row.id),
    }
}

/// The `Id` of the object `text`, `Some(None)` when it has none, `None`
/// when the scan leaves the answer to serde.
fn scan_id(text: &[u8]) -> Option<Option<i64>> {
    let mut at = skip_space(text, 0);
    if text.get(at) != Some(&b'{') {
        return None;
    }
    at = skip_space(text, at + 1);
    if text.get(at) == Some(&b'}') {
        return Some(None);
    }
    loop {
        // A key: a string without escapes, or serde decides.
        if text.get(at) != Some(&b'"') {
            return None;
        }
        let key_start = at + 1;
        let key_end = key_start + text.get(key_start..)?.iter().position(|&b| b == b'"')?;
        let key = text.get(key_start..key_end)?;
        if key.contains(&b'\\') {
            return None;
        }
        at = skip_space(text, key_end + 1);
        if text.get(at) != Some(&b':') {
            return None;
        }
        at = skip_space(text, at + 1);
        let value_end = skip_value(text, at)?;
        if key == b"Id" {
            let value = std::str::from_utf8(text.get(at..value_end)?).ok()?;
            return serde_json::from_str::<Option<i64>>(value).ok();
        }
        at = skip_space(text, value_end);
        match text.get(at) {
            Some(b',') => at = skip_space(text, at + 1),
            Some(b'}') => return Some(None),
            _ => return None,
        }
    }
}

fn skip_space(text: &[u8], mut at: usize) -> usize {
    while text
        .get(at)
        .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        at += 1;
    }
    at
}

/// Where the (valid) JSON value starting at `at` ends.
fn skip_value(text: &[u8], at: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = at;
    loop {
        match *text.get(i)? {
            b'"' => {
                i += 1;
                loop {
                    match *text.get(i)? {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                i += 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                if depth == 0 {
                    // The end of the enclosing object: a scalar ended here.
                    return Some(i);
                }
                depth -= 1;
                i += 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            b',' | b' ' | b'\t' | b'\n' | b'\r' if depth == 0 => return Some(i),
            _ => i += 1,
        }
    }
}

/// A page's rows as text, and the call it came from, to report a row of it
/// that does not decode.
struct Page {
    text: String,
    call: client_core::Response<()>,
    total: Option<u64>,
}

impl Page {
    /// The error the call would have returned had `row` failed to decode
    /// with it.
    fn decode_error(&self, row: &str, source: serde_json::Error) -> Error {
        Error::from(
            self.call
                .decode_error::<crate::types::ErrorResponse>(row.as_bytes(), source),
        )
    }
}

/// A row of a page, as JSON text, with what the walk needs of it.
pub(crate) struct Pending {
    id: Option<i64>,
    /// Its place in the server's order when its page was fetched.
    pos: u64,
    /// Where its text is in its page's.
    start: usize,
    end: usize,
    page: Arc<Page>,
}

impl Pending {
    fn json(&self) -> &str {
        self.page.text.get(self.start..self.end).unwrap_or_default()
    }
}

impl Row for Pending {
    fn row_id(&self) -> Option<i64> {
        self.id
    }
}

impl Held for Pending {
    fn held_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + (self.end - self.start)
    }
}

/// The window of a page fetched at `skip`: every row's `Id` is read now, so
/// a row that is not an object or whose `Id` is not an integer fails the
/// page as a whole, as a body that does not decode.
pub(crate) fn window(
    response: client_core::Response<RawPage>,
    skip: u32,
) -> Result<Window<Pending>> {
    let (
        RawPage {
            text,
            rows,
            total_count,
        },
        call,
    ) = response.into_parts();
    let total = total_count.and_then(|total| u64::try_from(total).ok());
    let page = Arc::new(Page { text, call, total });
    let rows = rows
        .into_iter()
        .enumerate()
        .map(|(k, (start, end))| {
            let json = page.text.get(start..end).unwrap_or_default();
            match id_of(json) {
                Ok(id) => Ok(Pending {
                    id,
                    pos: u64::from(skip) + k as u64,
                    start,
                    end,
                    page: Arc::clone(&page),
                }),
                Err(source) => Err(page.decode_error(json, source)),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// The rows of a walk's batches, each decoded as `T` when it is taken.
pub(crate) struct Taken<'a, T> {
    batches: BoxStream<'a, Result<Batch<Pending>>>,
    current: Option<<Batch<Pending> as IntoIterator>::IntoIter>,
    /// What the walk answered when asked for the batch after `current`
    /// right after `current` came (see `poll_next`).
    ahead: Option<Option<Result<Batch<Pending>>>>,
    /// Rows yielded so far.
    yielded: u64,
    /// After the last row yielded (or where a resumed walk began).
    last: Option<ResumePoint>,
    done: bool,
    row: PhantomData<fn() -> T>,
}

impl<'a, T> Taken<'a, T> {
    pub(crate) fn new(
        batches: BoxStream<'a, Result<Batch<Pending>>>,
        resume: Option<ResumePoint>,
    ) -> Self {
        Taken {
            batches,
            current: None,
            ahead: None,
            yielded: 0,
            last: resume,
            done: false,
            row: PhantomData,
        }
    }
}

impl<T: DeserializeOwned> Taken<'_, T> {
    /// Decodes a row, or the error that ends the walk.
    fn take(&mut self, pending: &Pending) -> Result<T> {
        match serde_json::from_str::<T>(pending.json()) {
            Ok(row) => {
                self.yielded += 1;
                if let Some(id) = pending.id {
                    self.last = Some(ResumePoint {
                        skip: u32::try_from(pending.pos).unwrap_or(u32::MAX),
                        after_id: id,
                        total: pending.page.total,
                    });
                }
                Ok(row)
            }
            Err(source) => {
                self.done = true;
                Err(Error::Interrupted {
                    yielded: self.yielded,
                    resume: self.last,
                    source: Box::new(pending.page.decode_error(pending.json(), source)),
                })
            }
        }
    }
}

impl<T: DeserializeOwned> Stream for Taken<'_, T> {
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            if let Some(pending) = this.current.as_mut().and_then(Iterator::next) {
                return Poll::Ready(Some(this.take(&pending)));
            }
            this.current = None;
            let next = match this.ahead.take() {
                Some(next) => next,
                None => match this.batches.as_mut().poll_next(cx) {
                    Poll::Ready(next) => next,
                    Poll::Pending => return Poll::Pending,
                },
            };
            match next {
                Some(Ok(batch)) => {
                    this.current = Some(batch.into_iter());
                    // Asked for the next batch at once, the walk sends the
                    // requests it planned from this window (after the first
                    // page: all the others) while its rows are read, not
                    // after. A batch already there waits here; the walk's
                    // memory budget counts it.
                    if let Poll::Ready(next) = this.batches.as_mut().poll_next(cx) {
                        this.ahead = Some(next);
                    }
                }
                Some(Err(error)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(error)));
                }
                None => {
                    this.done = true;
                    return Poll::Ready(None);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail by panicking")]

    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::{IdOf, RawPage, id_of, scan_id};
    use serde_json::value::RawValue;

    /// The page as serde's derive reads it (the walk's reading before rows
    /// were copied into one string): the oracle for `RawPage`.
    #[derive(serde::Deserialize)]
    struct DerivedPage {
        #[serde(rename = "Values", default)]
        values: Option<Vec<Box<RawValue>>>,
        #[serde(rename = "TotalCount", default)]
        total_count: Option<i64>,
    }

    /// A page as read: the rows' texts and the count.
    type Read = (Vec<String>, Option<i64>);

    /// What each reading makes of `text`: the rows' texts and the count, or
    /// that it failed.
    fn both(text: &str) -> (Option<Read>, Option<Read>) {
        let ours = serde_json::from_slice::<RawPage>(text.as_bytes())
            .ok()
            .map(|page| {
                let rows = page
                    .rows
                    .iter()
                    .map(|&(start, end)| page.text[start..end].to_owned())
                    .collect();
                (rows, page.total_count)
            });
        let derived = serde_json::from_slice::<DerivedPage>(text.as_bytes())
            .ok()
            .map(|page| {
                let rows = page
                    .values
                    .unwrap_or_default()
                    .iter()
                    .map(|row| row.get().to_owned())
                    .collect();
                (rows, page.total_count)
            });
        (ours, derived)
    }

    #[test]
    fn a_page_reads_as_the_derive_reads_it() {
        let cases = [
            r#"{"Values":[{"Id":1},{"Id":2,"Name":"a,b]"}],"TotalCount":2}"#,
            r#"{"TotalCount":2,"Values":[ {"Id":1} , [1,2] ,"x", null ]}"#,
            r#"{"Values":null,"TotalCount":null}"#,
            r#"{"Values":[]}"#,
            r#"{"Other":{"Values":[1]},"TotalCount":-1}"#,
            r#"{"Val\u0075es":[{"Id":3}]}"#,
            r#"{}"#,
            // Failures: a repeated key, a wrong shape, text after the page,
            // a count that is not an integer, a page that is not an object.
            r#"{"Values":[],"Values":[]}"#,
            r#"{"TotalCount":1,"TotalCount":1}"#,
            r#"{"Values":{"Id":1}}"#,
            r#"{"Values":[{"Id":1}]} x"#,
            r#"{"Values":[{"Id":1]}"#,
            r#"{"TotalCount":"2"}"#,
            r#"[{"Id":1}]"#,
        ];
        for text in cases {
            let (ours, derived) = both(text);
            assert_eq!(ours, derived, "{text}");
        }
        // The failures fail.
        assert!(both(r#"{"Values":[],"Values":[]}"#).0.is_none());
    }

    /// What serde reads as the row's `Id` (the oracle the scan must agree with).
    fn serde_id(text: &str) -> Option<Option<i64>> {
        serde_json::from_str::<IdOf>(text).ok().map(|row| row.id)
    }

    #[test]
    fn the_scan_reads_the_top_level_id_or_leaves_it_to_serde() {
        let cases: [(&str, Option<Option<i64>>); 12] = [
            (r#"{"Id":7,"Name":"a"}"#, Some(Some(7))),
            (r#"{"Name":"a","Id":-7}"#, Some(Some(-7))),
            (r#" { "Id" : null } "#, Some(None)),
            (r#"{}"#, Some(None)),
            (r#"{"Name":"a"}"#, Some(None)),
            // An `Id` inside another object is not the row's.
            (r#"{"Client":{"Id":3},"Name":"}\"{"}"#, Some(None)),
            (r#"{"List":[{"Id":1},"]"],"Id":2}"#, Some(Some(2))),
            // What the scan leaves to serde: an escape in a key, an `Id`
            // that is not an integer, text that is not an object.
            (r#"{"\u0049d":5}"#, None),
            (r#"{"Id":"seven"}"#, None),
            (r#"{"Id":1.5}"#, None),
            ("7", None),
            (r#"{"Id":99999999999999999999}"#, None),
        ];
        for (text, expected) in cases {
            assert_eq!(scan_id(text.as_bytes()), expected, "{text}");
            // Whatever the scan leaves, the answer is serde's.
            assert_eq!(id_of(text).ok(), serde_id(text), "{text}");
        }
        // Two `Id`s: the scan takes the first, where serde refuses the row;
        // the row then fails when it is taken, because the generated decoder
        // refuses a repeated field too.
        let twice = r#"{"Id":1,"Id":2}"#;
        assert_eq!(scan_id(twice.as_bytes()), Some(Some(1)));
        assert_eq!(serde_id(twice), None);
        assert!(serde_json::from_str::<crate::types::Plan>(twice).is_err());
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f)),
            "[ -~\"\\\\{}\\[\\],:é\u{1F600}]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[A-Za-z\"\\\\{}]{0,4}|Id", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Any page, compact or pretty, with any rows, count and other
        /// keys, reads as the derive reads it: the same rows, each with the
        /// same text, and the same count.
        #[test]
        fn any_page_reads_as_the_derive_reads_it(
            rows in prop::option::of(prop::collection::vec(json_value(), 0..6)),
            total in prop::option::of(prop_oneof![Just(Value::Null), any::<i64>().prop_map(|n| json!(n)), Just(json!(1.5)), Just(json!("3"))]),
            other in prop::collection::btree_map("[A-Za-z]{1,6}", json_value(), 0..3),
            pretty in any::<bool>(),
        ) {
            let mut page: serde_json::Map<String, Value> = other.into_iter().collect();
            if let Some(rows) = rows {
                page.insert("Values".to_owned(), Value::Array(rows));
            }
            if let Some(total) = total {
                page.insert("TotalCount".to_owned(), total);
            }
            let page = Value::Object(page);
            let text = if pretty {
                serde_json::to_string_pretty(&page).unwrap()
            } else {
                serde_json::to_string(&page).unwrap()
            };
            let (ours, derived) = both(&text);
            prop_assert_eq!(ours, derived, "{}", text);
        }

        /// On any object, compact or pretty, the scan gives serde's answer
        /// or leaves the row to serde.
        #[test]
        fn the_scan_agrees_with_serde(
            fields in prop::collection::btree_map("[A-Za-z\"\\\\{}]{0,4}|Id", json_value(), 0..6),
            pretty in any::<bool>(),
        ) {
            let row = Value::Object(fields.into_iter().collect());
            let text = if pretty {
                serde_json::to_string_pretty(&row).unwrap()
            } else {
                serde_json::to_string(&row).unwrap()
            };
            if let Some(scanned) = scan_id(text.as_bytes()) {
                prop_assert_eq!(Some(scanned), serde_id(&text), "{}", text);
            }
            prop_assert_eq!(id_of(&text).ok(), serde_id(&text), "{}", text);
        }
    }
}
