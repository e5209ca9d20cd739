//! Streams that give their thread back.
//!
//! A paginated stream holds a page in memory and hands its items out one
//! by one; each is ready at once, so a consumer that never waits could read
//! every item of a long walk without returning to its runtime. Nothing else
//! on that thread (the walk's own requests in flight among them) would run
//! until the stream ran dry. [`cooperative`] makes every item spend a unit
//! of tokio's cooperative budget, so the task yields every so many items,
//! as tokio's own channels and sockets make it do.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::Stream;

/// A stream whose items spend tokio's cooperative budget; see the
/// [module docs](self).
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Cooperative<S> {
    inner: Pin<Box<S>>,
}

/// Wraps `stream` so that every item it yields spends a unit of tokio's
/// cooperative budget: when the budget is spent the task yields before the
/// next item. Outside a tokio runtime there is no budget and nothing
/// changes.
pub fn cooperative<S: Stream>(stream: S) -> Cooperative<S> {
    Cooperative {
        inner: Box::pin(stream),
    }
}

impl<S: Stream> Stream for Cooperative<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let coop = ready!(tokio::task::coop::poll_proceed(cx));
        let item = ready!(self.inner.as_mut().poll_next(cx));
        coop.made_progress();
        Poll::Ready(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures::StreamExt;

    use super::cooperative;

    /// Reads `items` ready items on a single-threaded runtime beside a task
    /// that records how many had been read each time it ran.
    async fn read_beside_a_watcher(
        cooperate: bool,
        items: usize,
    ) -> std::collections::BTreeSet<usize> {
        let read = Arc::new(AtomicUsize::new(0));
        let watcher = crate::testing::watch_progress(Arc::clone(&read), items);
        let ready = futures::stream::iter(0..items);
        let mut stream = if cooperate {
            cooperative(ready).boxed()
        } else {
            ready.boxed()
        };
        while stream.next().await.is_some() {
            read.fetch_add(1, Ordering::SeqCst);
        }
        watcher.await.unwrap_or_default()
    }

    #[tokio::test]
    async fn ready_items_spend_the_budget_and_the_task_yields() {
        let seen = read_beside_a_watcher(true, 1000).await;
        // The watcher ran while the items were read, not only before and
        // after (tokio's budget is 128 units per poll of a task).
        assert!(
            seen.iter().any(|&n| n > 0 && n < 1000),
            "the watcher ran only at {seen:?}"
        );
        // Without the wrapper it would not have: what the test tells apart.
        let plain = read_beside_a_watcher(false, 1000).await;
        assert!(
            plain.iter().all(|&n| n == 0 || n == 1000),
            "the plain stream yielded at {plain:?}"
        );
    }

    #[test]
    fn outside_tokio_it_is_the_stream_itself() {
        let items: Vec<_> =
            futures::executor::block_on(cooperative(futures::stream::iter(0..300)).collect());
        assert_eq!(items, (0..300).collect::<Vec<_>>());
    }
}
