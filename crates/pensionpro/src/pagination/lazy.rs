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
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::walker::{Batch, Held, Window};
use super::{ResumePoint, Row};
use crate::error::{Error, Result};

/// A list answer as the walk reads it. `TotalCount` is taken as any integer
/// (a negative one as absent); rows are not decoded.
#[derive(Deserialize)]
pub(crate) struct RawPage {
    #[serde(rename = "Values", default)]
    values: Option<Vec<Box<RawValue>>>,
    #[serde(rename = "TotalCount", default)]
    total_count: Option<i64>,
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

/// The call a page came from, to report a row of it that does not decode.
struct Page {
    call: client_core::Response<()>,
    total: Option<u64>,
}

impl Page {
    /// The error the call would have returned had `row` failed to decode
    /// with it.
    fn decode_error(&self, row: &RawValue, source: serde_json::Error) -> Error {
        Error::from(
            self.call
                .decode_error::<crate::types::ErrorResponse>(row.get().as_bytes(), source),
        )
    }
}

/// A row of a page, as JSON text, with what the walk needs of it.
pub(crate) struct Pending {
    id: Option<i64>,
    /// Its place in the server's order when its page was fetched.
    pos: u64,
    json: Box<RawValue>,
    page: Arc<Page>,
}

impl Row for Pending {
    fn row_id(&self) -> Option<i64> {
        self.id
    }
}

impl Held for Pending {
    fn held_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.json.get().len()
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
            values,
            total_count,
        },
        call,
    ) = response.into_parts();
    let total = total_count.and_then(|total| u64::try_from(total).ok());
    let page = Arc::new(Page { call, total });
    let rows = values
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(k, json)| match id_of(json.get()) {
            Ok(id) => Ok(Pending {
                id,
                pos: u64::from(skip) + k as u64,
                json,
                page: Arc::clone(&page),
            }),
            Err(source) => Err(page.decode_error(&json, source)),
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
        match serde_json::from_str::<T>(pending.json.get()) {
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
                    source: Box::new(pending.page.decode_error(&pending.json, source)),
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

    use super::{IdOf, id_of, scan_id};

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
