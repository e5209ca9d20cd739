//! Rows that stay JSON text until the consumer takes them.
//!
//! A decoded PensionPro `Plan` has 516 fields and takes about 11 KiB; its
//! JSON in a list is often a hundred bytes. A walk that decoded every page
//! it fetched ahead held and wrote 11 MiB per page of plans, so a
//! concurrent walk spent its time writing and reading back memory that no
//! cache holds. Here a page is read as `{Values, TotalCount}` with each row
//! kept as its text and its `Id`; the walk's bookkeeping needs nothing
//! else, and a row is decoded into its type when it is taken, in memory
//! that is still in the cache.
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

/// The call a page came from, to report a row of it that does not decode.
struct Page {
    call: client_core::Response<()>,
    total: Option<u64>,
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
    let mut page = None;
    let call = response.map(|body| page = Some(body));
    let RawPage {
        values,
        total_count,
    } = page.unwrap_or(RawPage {
        values: None,
        total_count: None,
    });
    let total = total_count.and_then(|total| u64::try_from(total).ok());
    let page = Arc::new(Page { call, total });
    let rows = values
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(k, json)| match serde_json::from_str::<IdOf>(json.get()) {
            Ok(IdOf { id }) => Ok(Pending {
                id,
                pos: u64::from(skip) + k as u64,
                json,
                page: Arc::clone(&page),
            }),
            Err(source) => Err(Error::from(
                page.call
                    .decode_error::<crate::types::ErrorResponse>(json.get().as_bytes(), source),
            )),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// The rows of a walk's batches, each decoded as `T` when it is taken.
pub(crate) struct Taken<'a, T> {
    batches: BoxStream<'a, Result<Batch<Pending>>>,
    current: Option<<Batch<Pending> as IntoIterator>::IntoIter>,
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
                let decode = pending
                    .page
                    .call
                    .decode_error::<crate::types::ErrorResponse>(
                        pending.json.get().as_bytes(),
                        source,
                    );
                Err(Error::Interrupted {
                    yielded: self.yielded,
                    resume: self.last,
                    source: Box::new(Error::from(decode)),
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
            match this.batches.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(batch))) => this.current = Some(batch.into_iter()),
                Poll::Ready(Some(Err(error))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    return Poll::Ready(None);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
