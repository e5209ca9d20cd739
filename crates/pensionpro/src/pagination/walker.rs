//! The walk as a state machine over `(skip, top) -> window`, apart from HTTP,
//! so that a simulated server can drive it through thousands of cases (see
//! `tests.rs` beside this file). The contract and the reasoning are in the
//! docs of [`crate::pagination`].

use std::collections::{HashMap, VecDeque};

use foldhash::fast::RandomState;

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesOrdered;

use super::{ResumePoint, Row, WalkStop};
use crate::error::{Error, Result};

/// The rows of one window and the `TotalCount` the server sent with them.
pub(crate) type Window<T> = (Vec<T>, Option<u64>);

/// What fetches a window: `(skip, top)` to the request's future.
pub(crate) type Fetch<'a, T> =
    Box<dyn FnMut(u32, u32) -> BoxFuture<'a, Result<Window<T>>> + Send + 'a>;

/// The `Id`s a walk has yielded, as a compressed bitmap: ids are mostly
/// dense integers, so a walk of millions of rows keeps them in kilobytes
/// (a hash set took about 20 bytes each, which outgrew the pages it
/// bounds).
#[derive(Default)]
struct Ids(roaring::RoaringTreemap);

impl Ids {
    /// Adds `id`; whether it was new.
    fn insert(&mut self, id: i64) -> bool {
        self.0.insert(id.cast_unsigned())
    }

    fn contains(&self, id: &i64) -> bool {
        self.0.contains(id.cast_unsigned())
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A row as the walk holds it: what it takes in memory, for the budget.
pub(crate) trait Held: Row {
    /// Bytes the row takes, on the stack and on the heap.
    fn held_bytes(&self) -> usize {
        std::mem::size_of_val(self)
    }
}

/// How a walk is configured (the public side is `PageOptions`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub(crate) page: u32,
    pub(crate) concurrency: usize,
    /// Bytes the windows may take: the one being read, the one taken ahead
    /// of it, and those in flight.
    pub(crate) memory: usize,
    pub(crate) start: u32,
    pub(crate) stall_budget: u32,
    pub(crate) trust_total: bool,
    pub(crate) resume: Option<ResumePoint>,
}

/// The last row yielded (or the row a resumed walk goes on after), where
/// it was when last seen and what the server counted then.
#[derive(Debug, Clone, Copy)]
struct Last {
    id: i64,
    pos: u64,
    total: Option<u64>,
}

/// What consuming a window leads to.
enum Step<T> {
    Yield(Batch<T>),
    Continue,
    Fail(Error),
}

/// The rows of a window the walk yields: the window as it came and which
/// of its rows are new. Rows are moved out once, when the consumer takes
/// them, instead of filtering the window into a new vector.
pub(crate) struct Batch<T> {
    rows: Vec<T>,
    /// `None`: every row.
    keep: Option<Vec<bool>>,
}

impl<T> Batch<T> {
    fn all(rows: Vec<T>) -> Self {
        Batch { rows, keep: None }
    }

    /// How many rows the batch yields.
    pub(crate) fn len(&self) -> usize {
        self.keep
            .as_ref()
            .map_or(self.rows.len(), |keep| keep.iter().filter(|k| **k).count())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows the batch yields, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.rows
            .iter()
            .enumerate()
            .filter(|(k, _)| self.keep.as_ref().is_none_or(|keep| keep[*k]))
            .map(|(_, row)| row)
    }
}

impl<T: Row> Batch<T> {
    /// The `Id`s of the rows the batch yields.
    fn iter_ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.iter().filter_map(Row::row_id)
    }
}

impl<T> IntoIterator for Batch<T> {
    type Item = T;
    type IntoIter = std::iter::FilterMap<
        std::iter::Zip<
            std::vec::IntoIter<T>,
            std::iter::Chain<std::vec::IntoIter<bool>, std::iter::Repeat<bool>>,
        >,
        fn((T, bool)) -> Option<T>,
    >;

    fn into_iter(self) -> Self::IntoIter {
        let keep = self.keep.unwrap_or_default();
        self.rows
            .into_iter()
            .zip(keep.into_iter().chain(std::iter::repeat(true)))
            .filter_map(|(row, keep)| keep.then_some(row))
    }
}

pub(crate) struct Walker<'a, T> {
    fetch: Fetch<'a, T>,
    settings: Settings,
    /// The lowest `$skip` a walk may look at.
    floor: u32,
    /// Window starts not yet requested.
    queue: VecDeque<u32>,
    /// Windows requested, consumed in the order they were queued.
    inflight: FuturesOrdered<BoxFuture<'a, (u32, Result<Window<T>>)>>,
    /// Windows at the front of `inflight` requested before the walk went
    /// sequential: their rows are not used, but their answers are awaited
    /// and remembered, because a server may hand one of them out again as
    /// the answer to a later request (see `previous`).
    ignored: usize,
    /// `Id`s yielded so far (and the resume anchor).
    seen: Ids,
    /// The last rows yielded (a window's worth), with their place in the
    /// order they came out: a window holding one of them is at or behind
    /// the last row, never ahead.
    recent: HashMap<i64, u64, RandomState>,
    recent_order: VecDeque<i64>,
    /// Rows yielded so far, as a sequence number.
    sequence: u64,
    /// Whether the server has answered a window with another's rows.
    saw_stale: bool,
    /// Whether `TotalCount` has told where the last row went: the walk stops
    /// using it once it has been wrong (rows appended after the last row
    /// move the count but not the row, and some servers count wrong).
    count_tells: bool,
    /// The longest window the server has answered: it answers as many rows
    /// as it has up to that (its page-size cap, or what was asked), so a
    /// window shorter than this reached the end of the data.
    longest: usize,
    /// The most bytes a window has held.
    heaviest: usize,
    last: Option<Last>,
    /// Whether rows carry `Id`s (decided by the first rows seen).
    keyed: Option<bool>,
    /// After anything unexpected the walk goes on one window at a time.
    sequential: bool,
    /// In sequential mode, how far past the last row's position the next
    /// window starts: what rows inserted ahead of it moved it per request.
    jump: u64,
    /// Windows in a row that held no row yielded before.
    lost: u32,
    max_total: Option<u64>,
    previous_total: Option<u64>,
    latest_total: Option<u64>,
    /// Requests in a row that brought no new row.
    wasted: u32,
    /// The `Id`s of the window answered last (consumed or ignored) and
    /// where it was asked for.
    previous: (u32, Vec<i64>),
    pub(crate) yielded: u64,
    pub(crate) requests: u64,
    done: bool,
}

impl<'a, T: Held + Send + 'a> Walker<'a, T> {
    pub(crate) fn new(fetch: Fetch<'a, T>, settings: Settings) -> Self {
        let mut walker = Walker {
            fetch,
            settings,
            floor: settings.start,
            queue: VecDeque::from([settings.start]),
            inflight: FuturesOrdered::new(),
            ignored: 0,
            seen: Ids::default(),
            recent: HashMap::default(),
            recent_order: VecDeque::new(),
            sequence: 0,
            longest: 0,
            heaviest: 0,
            count_tells: true,
            saw_stale: false,
            last: None,
            keyed: None,
            sequential: false,
            jump: 0,
            lost: 0,
            max_total: None,
            previous_total: None,
            latest_total: None,
            wasted: 0,
            previous: (0, Vec::new()),
            yielded: 0,
            requests: 0,
            done: false,
        };
        if let Some(point) = settings.resume {
            // The walk goes on after a row it has yielded before; it may have
            // moved either way since.
            walker.floor = 0;
            walker.queue = VecDeque::from([point.skip]);
            walker.seen.insert(point.after_id);
            walker.remember(point.after_id);
            walker.last = Some(Last {
                id: point.after_id,
                pos: u64::from(point.skip),
                total: point.total,
            });
            walker.keyed = Some(true);
        }
        walker
    }

    /// How many windows may be in flight within the memory budget, which
    /// holds the window being read and the one taken from the walk ahead
    /// of it as well: a window is estimated as the most bytes one has held
    /// (before the first answer, a full page of rows without heap data).
    fn memory_limit(&self) -> usize {
        let window = if self.heaviest > 0 {
            self.heaviest
        } else {
            (self.settings.page as usize).saturating_mul(std::mem::size_of::<T>())
        };
        (self.settings.memory / window.max(1))
            .saturating_sub(2)
            .max(1)
    }

    /// The rows of the next window with anything new, `None` at the end.
    pub(crate) async fn next_batch(&mut self) -> Option<Result<Batch<T>>> {
        loop {
            if self.done {
                return None;
            }
            let limit = if self.sequential {
                1
            } else {
                self.settings.concurrency.min(self.memory_limit())
            };
            while self.inflight.len() < limit {
                let Some(skip) = self.queue.pop_front() else {
                    break;
                };
                let future = (self.fetch)(skip, self.settings.page);
                self.inflight
                    .push_back(Box::pin(async move { (skip, future.await) }));
            }
            let Some((skip, window)) = self.inflight.next().await else {
                // Nothing was queued: every path that continues a walk queues
                // a window, so this only happens after the end was decided.
                self.done = true;
                return None;
            };
            self.requests += 1;
            if let Ok((rows, _)) = &window {
                let bytes = rows.iter().map(Held::held_bytes).sum::<usize>();
                self.heaviest = self.heaviest.max(bytes);
            }
            if self.ignored > 0 {
                self.ignored -= 1;
                if let Ok((rows, _)) = &window {
                    self.previous = (skip, rows.iter().filter_map(Row::row_id).collect());
                }
                continue;
            }
            let (rows, total) = match window {
                Ok(window) => window,
                Err(error) => {
                    self.done = true;
                    return Some(Err(self.interrupted(error)));
                }
            };
            if let Some(total) = total {
                self.max_total = Some(self.max_total.map_or(total, |max| max.max(total)));
                self.previous_total = self.latest_total.replace(total);
            }
            match self.consume(skip, rows, total) {
                Step::Yield(rows) if rows.is_empty() && !self.done => {}
                Step::Yield(rows) => return Some(Ok(rows)),
                Step::Continue => {}
                Step::Fail(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
            }
        }
    }

    /// Where a walk can be taken up again: after the last row of the latest
    /// window, found again by its `Id` wherever it has moved.
    fn resume_point(&self) -> Option<ResumePoint> {
        self.last.map(|last| ResumePoint {
            skip: u32::try_from(last.pos).unwrap_or(u32::MAX),
            after_id: last.id,
            total: last.total,
        })
    }

    fn interrupted(&self, error: Error) -> Error {
        Error::Interrupted {
            yielded: self.yielded,
            resume: self.resume_point(),
            source: Box::new(error),
        }
    }

    fn stopped(&self, reason: WalkStop) -> Error {
        Error::WalkStopped {
            yielded: self.yielded,
            requests: self.requests,
            reason,
            resume: self.resume_point(),
            context: Box::default(),
        }
    }

    /// Counts a request that brought nothing new against the budget of
    /// requests in a row without progress.
    fn waste(&mut self) -> Option<Error> {
        self.wasted += 1;
        (self.wasted > self.settings.stall_budget).then(|| {
            self.stopped(WalkStop::NoProgress {
                wasted: self.wasted,
            })
        })
    }

    fn go_sequential(&mut self) {
        // Windows already requested are awaited, not dropped: the request
        // may have reached the server, and its answer is one the server
        // could hand out again.
        self.ignored = self.inflight.len();
        self.queue.clear();
        self.sequential = true;
    }

    /// Plans the windows after the first from the total the server counts:
    /// consecutive windows overlap by one row.
    fn plan(&mut self, total: u64) {
        let (page, step) = (
            u64::from(self.settings.page),
            u64::from(self.settings.page - 1),
        );
        let mut previous = u64::from(self.settings.start);
        while previous + page < total {
            previous += step;
            match u32::try_from(previous) {
                Ok(skip) => self.queue.push_back(skip),
                Err(_) => break,
            }
        }
    }

    fn queue_at(&mut self, skip: u64) {
        let skip = skip.max(u64::from(self.floor));
        self.queue
            .push_back(u32::try_from(skip).unwrap_or(u32::MAX));
    }

    fn consume(&mut self, skip: u32, rows: Vec<T>, total: Option<u64>) -> Step<T> {
        let len = rows.len();
        let full = len >= self.settings.page as usize;
        if self.keyed.is_none() {
            if rows.is_empty() {
                // The list was empty when the walk began: nothing existed
                // for the whole walk.
                self.done = true;
                return Step::Yield(Batch::all(rows));
            }
            self.keyed = Some(rows.iter().any(|row| row.row_id().is_some()));
            if self.keyed == Some(true)
                && full
                && let Some(total) = total
            {
                self.plan(total);
            }
        }
        if self.keyed == Some(false) {
            return self.consume_unkeyed(skip, rows);
        }

        // The answer to the window before, given for another window: a
        // stale copy (or a server ignoring `$skip`). It says nothing about
        // where rows are now; ask again.
        let ids: Vec<i64> = rows.iter().filter_map(Row::row_id).collect();
        // Asked again, the same answer is taken as it is: the rows really
        // moved by the difference.
        let stale = !ids.is_empty() && skip != self.previous.0 && ids == self.previous.1;
        self.previous = (skip, ids);
        if stale {
            self.saw_stale = true;
            if let Some(error) = self.waste() {
                return Step::Fail(error);
            }
            self.go_sequential();
            self.queue_at(u64::from(skip));
            return Step::Continue;
        }

        let anchor = rows
            .iter()
            .rposition(|row| row.row_id().is_some_and(|id| self.seen.contains(&id)));
        let from = match anchor {
            Some(index) => index + 1,
            // Nothing comes before the start, so the window's unseen rows
            // leave no gap before them: nothing was yielded yet, or every
            // row yielded before was deleted, which the count must confirm
            // (rows inserted ahead would look the same, and they sort before
            // the last row). Not when resuming: the rows the walk before
            // yielded are not known here.
            None if skip <= self.floor
                && len > 0
                && self.settings.resume.is_none()
                && (self.seen.is_empty() || self.deleted_up_to_here()) =>
            {
                0
            }
            // No rows at all from the start: the data is empty now, unless
            // the count says otherwise (then one of them is wrong: ask again).
            None if len == 0 && skip <= self.floor => {
                if total.is_none_or(|count| count == 0) {
                    self.done = true;
                    return Step::Continue;
                }
                if let Some(error) = self.waste() {
                    return Step::Fail(error);
                }
                self.go_sequential();
                self.queue_at(u64::from(skip));
                return Step::Continue;
            }
            None if len == 0 => return self.past_the_end(skip),
            None => return self.lost(),
        };
        let position = |k: usize| u64::from(skip) + k as u64;
        let ended = len < self.longest;
        self.longest = self.longest.max(len);
        // The most recently yielded row the window holds tells where the
        // last row is now: that many rows after it, or itself.
        let reference = rows
            .iter()
            .enumerate()
            .filter_map(|(k, row)| {
                let id = row.row_id()?;
                self.recent.get(&id).map(|&seq| (seq, k))
            })
            .max();
        if let (Some((seq, k)), Some(last)) = (reference, self.last) {
            let now = position(k) + (self.sequence - seq);
            if let (Some(then), Some(count)) = (last.total, self.latest_total) {
                let predicted = i128::from(last.pos) + i128::from(count) - i128::from(then);
                if (predicted - i128::from(now)).abs() >= i128::from(self.settings.page) {
                    self.count_tells = false;
                }
            }
            let fresh_after = rows[k + 1..]
                .iter()
                .any(|row| row.row_id().is_some_and(|id| !self.seen.contains(&id)));
            if self.sequential && fresh_after {
                // How far rows inserted ahead moved the last row while one
                // request was made: where the next window should expect it.
                // (Only from a window that brings rows: a stale copy of an
                // earlier answer would teach a wrong distance.)
                self.jump = now.saturating_sub(last.pos);
            }
            self.last = Some(Last {
                id: last.id,
                pos: now,
                total: self.latest_total,
            });
        }
        let start = reference.is_none() && anchor.is_none();
        let last_row = rows
            .iter()
            .enumerate()
            .rev()
            .find_map(|(k, row)| row.row_id().map(|id| (k, id)));
        let keep: Vec<bool> = rows
            .iter()
            .enumerate()
            .map(|(k, row)| {
                k >= from
                    && match row.row_id() {
                        Some(id) => self.seen.insert(id),
                        None => true,
                    }
            })
            .collect();
        let fresh = Batch {
            rows,
            keep: Some(keep),
        };
        for id in fresh.iter_ids() {
            self.remember(id);
        }
        self.yielded += fresh.len() as u64;
        let productive = !fresh.is_empty();
        if productive {
            self.wasted = 0;
        } else if let Some(error) = self.waste() {
            return Step::Fail(error);
        }
        if reference.is_none() && !start {
            // Only rows yielded long ago: the window is behind the last row.
            // What it had new (rows inserted there) came out; go on looking.
            self.search();
            return Step::Yield(fresh);
        }
        self.lost = 0;
        if productive && let Some((k, id)) = last_row {
            // Everything after the reference came out: the window's last row
            // is the last row now, exactly where the window says.
            self.last = Some(Last {
                id,
                pos: position(k),
                total: self.latest_total,
            });
        }
        let last_pos = self.last.map_or(u64::from(skip), |l| l.pos);

        if productive && !full {
            // A short window: the end of the data when it was fetched, unless
            // every window so far was as short (a server capping pages).
            let counted_to_here = self.settings.trust_total
                && self.max_total.is_some_and(|total| position(len) >= total);
            if ended || counted_to_here {
                self.done = true;
            } else {
                // Ask again from the last row: at the end of the data the
                // server answers that row alone.
                self.go_sequential();
                self.jump = 0;
                self.queue_at(last_pos);
            }
            return Step::Yield(fresh);
        }
        if productive {
            if self.sequential {
                self.queue_at(last_pos + self.jump);
            } else if self.queue.is_empty() && self.inflight.is_empty() {
                self.queue_at(last_pos);
            }
            return Step::Yield(fresh);
        }

        // Nothing new, and the window knows where the last row is.
        if ended || (len == 1 && anchor == Some(0)) {
            // Nothing after the rows yielded, in a window shorter than the
            // server answers when it has more (or the row asked for alone):
            // the end of the data.
            self.done = true;
            return Step::Continue;
        }
        self.go_sequential();
        // Ask from the last row (a stale answer is asked again; at the end
        // the row comes alone); when rows inserted ahead keep moving it, as
        // far on as they moved it last time.
        self.queue_at(last_pos + self.jump);
        Step::Continue
    }

    /// Whether the count fell since the last row was seen by at least the
    /// rows that were ahead of it: then every row yielded may be gone. Not
    /// believed from a server that has counted wrong or answered stale
    /// windows: a stale window at the start would look the same.
    fn deleted_up_to_here(&self) -> bool {
        if self.saw_stale {
            return false;
        }
        match (self.last, self.latest_total) {
            (
                Some(Last {
                    pos,
                    total: Some(then),
                    ..
                }),
                Some(now),
            ) if self.count_tells => {
                then.saturating_sub(now) >= pos.saturating_sub(u64::from(self.floor))
            }
            _ => false,
        }
    }

    /// Remembers `id` as the newest row yielded, keeping a window's worth.
    fn remember(&mut self, id: i64) {
        self.sequence += 1;
        self.recent.insert(id, self.sequence);
        self.recent_order.push_back(id);
        let keep = (self.settings.page as usize).max(64);
        while self.recent_order.len() > keep {
            if let Some(old) = self.recent_order.pop_front() {
                self.recent.remove(&old);
            }
        }
    }

    /// A window without any row yielded before: rows moved across its start
    /// (deleted ahead, so the walk is too far; or inserted ahead, so it is
    /// not far enough), or the server sent something else. Positions alone
    /// cannot tell which, so the walk looks where the count says the last
    /// row went (rows inserted or deleted ahead of it move it by the
    /// difference), then one window before, one after, two before, ... so
    /// the windows it looks at leave no gap.
    fn lost(&mut self) -> Step<T> {
        if let Some(error) = self.waste() {
            return Step::Fail(error);
        }
        self.search();
        Step::Continue
    }

    /// An empty window: the data ends before it. Step back, each time twice
    /// as far, until a window has rows again.
    fn past_the_end(&mut self, skip: u32) -> Step<T> {
        if let Some(error) = self.waste() {
            return Step::Fail(error);
        }
        self.go_sequential();
        self.jump = 0;
        let step = self.stride();
        let back = step.saturating_mul(1 << self.lost.min(40));
        self.lost += 1;
        let base = self
            .last
            .map_or(u64::from(skip), |l| l.pos.min(u64::from(skip)));
        self.queue_at(
            base.saturating_sub(back)
                .min(u64::from(skip).saturating_sub(1)),
        );
        Step::Continue
    }

    /// How far apart windows searched one after the other start so that
    /// they overlap by a row: the rows the server answers per window less
    /// one. A server that caps pages below the size asked answers fewer,
    /// and windows a page apart would leave gaps the last row can hide in.
    fn stride(&self) -> u64 {
        let answered = if self.longest > 0 {
            self.longest.min(self.settings.page as usize)
        } else {
            self.settings.page as usize
        };
        (answered as u64).saturating_sub(1).max(1)
    }

    /// Queues the next place to look for the last row.
    fn search(&mut self) {
        self.go_sequential();
        self.jump = 0;
        let round = i128::from(self.lost);
        self.lost += 1;
        let (base, then) = self.last.map_or((0, None), |l| (l.pos, l.total));
        let moved = match (then, self.latest_total) {
            (Some(then), Some(now)) if self.count_tells => i128::from(now) - i128::from(then),
            _ => 0,
        };
        let step = i128::from(self.stride());
        // A count can be wrong, so the search alternates between the place
        // it predicts and where the row was, widening around each.
        let (centre, round) = if moved == 0 {
            (i128::from(base), round)
        } else if round % 2 == 0 {
            (i128::from(base) + moved, round / 2)
        } else {
            (i128::from(base), round / 2)
        };
        // 0, -1, +1, -2, +2, ... windows around the centre, which sits in
        // the middle of the first one.
        let windows = if round % 2 == 1 {
            -(round + 1) / 2
        } else {
            round / 2
        };
        let target = if self.lost == 3 {
            // Once, the start: where the rows after the last one are when
            // every row before them was deleted.
            i128::from(self.floor)
        } else {
            centre - step / 2 + windows * step
        };
        self.queue_at(u64::try_from(target.max(0)).unwrap_or(u64::MAX));
    }

    /// Rows without `Id`s cannot be recognised, so they are paged plainly,
    /// without the guarantees.
    fn consume_unkeyed(&mut self, skip: u32, rows: Vec<T>) -> Step<T> {
        if rows.len() >= self.settings.page as usize {
            if self.queue.is_empty() && self.inflight.is_empty() {
                self.queue
                    .push_back(skip.saturating_add(self.settings.page));
            }
        } else {
            self.done = true;
        }
        self.yielded += rows.len() as u64;
        Step::Yield(Batch::all(rows))
    }
}
