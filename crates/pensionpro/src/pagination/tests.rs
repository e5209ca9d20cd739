//! The walk against a simulated server, in memory: arbitrary inserts and
//! deletes anywhere (ahead of the walk, behind it, in bursts larger than a
//! page), page sizes from 1 to 1000, 1 to 8 pages in flight, and servers
//! that ignore `$skip`, shorten pages, cap them, lie about `TotalCount` or
//! answer a request with the page they answered before.
//!
//! The property, the walk's contract: the rows that existed for the whole
//! walk come out exactly once and in order, and no row comes out twice; or
//! the stream ends with `Error::WalkStopped`. Where the contract can be kept
//! (no churn and a server that honours `$skip`, or light churn and an honest
//! server) the walk must also succeed, so a walker that always gave up would
//! fail; a server that ignores `$skip` must end it with the error.

#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail by panicking")]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use proptest::prelude::*;

use super::walker::{Settings, Walker};
use super::{ResumePoint, Row, WalkStop};
use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
struct SimRow {
    key: i64,
    id: i64,
}

impl super::walker::Held for SimRow {}

impl Row for SimRow {
    fn row_id(&self) -> Option<i64> {
        Some(self.id)
    }
}

/// What changes between requests.
#[derive(Debug, Clone, Copy)]
enum Churn {
    None,
    /// A few inserts and deletes at random places before each request.
    Light {
        inserts: usize,
        deletes: usize,
    },
    /// Occasional bursts, up to twice a page, anywhere.
    Bursts {
        every: usize,
        size: usize,
    },
    /// Rows inserted ahead of everything before each request (a
    /// newest-first order while rows are being created).
    Front {
        per_request: usize,
    },
    /// Rows deleted from the start before each request.
    DeleteFront {
        per_request: usize,
    },
}

/// How the server misbehaves.
#[derive(Debug, Clone, Copy)]
struct Quirks {
    ignores_skip: bool,
    /// The most rows the server ever answers: pages shorter than asked.
    cap: Option<usize>,
    count: Count,
    /// Percent of answers that repeat the answer before.
    repeat_percent: u32,
}

#[derive(Debug, Clone, Copy)]
enum Count {
    Honest,
    Absent,
    /// Off by up to this many, either way.
    Lies(i64),
}

struct Sim {
    rows: Vec<SimRow>,
    next_id: i64,
    front_key: i64,
    rng: u64,
    churn: Churn,
    quirks: Quirks,
    /// Churn stops after this many requests, so every walk can end.
    churn_requests: usize,
    requests: usize,
    previous: Option<Vec<SimRow>>,
    deleted: HashSet<i64>,
    /// Rows inserted and not yet merged into `rows`.
    added: Vec<SimRow>,
}

impl Sim {
    fn random(&mut self, below: usize) -> usize {
        // xorshift64*: deterministic per case.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let value = self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D);
        if below == 0 {
            0
        } else {
            (value % below as u64) as usize
        }
    }

    /// Adds a row at a random place; `sort` puts it there.
    fn insert_at_random(&mut self) {
        let key = i64::try_from(self.random(1_000_000)).unwrap();
        self.added.push(SimRow {
            key,
            id: self.next_id,
        });
        self.next_id += 1;
    }

    /// Adds a row ahead of every other one; `sort` puts it there.
    fn insert_front(&mut self) {
        self.front_key -= 1;
        self.added.push(SimRow {
            key: self.front_key,
            id: self.next_id,
        });
        self.next_id += 1;
    }

    /// Merges the rows added since the last call into their places.
    fn sort(&mut self) {
        if self.added.is_empty() {
            return;
        }
        let mut added = std::mem::take(&mut self.added);
        added.sort_unstable_by_key(|r| (r.key, r.id));
        let old = std::mem::take(&mut self.rows);
        let mut merged = Vec::with_capacity(old.len() + added.len());
        let (mut a, mut b) = (old.into_iter().peekable(), added.into_iter().peekable());
        loop {
            let take_a = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => (x.key, x.id) < (y.key, y.id),
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            merged.extend(if take_a { a.next() } else { b.next() });
        }
        self.rows = merged;
    }

    fn delete_at(&mut self, at: usize) {
        self.sort();
        if at < self.rows.len() {
            let row = self.rows.remove(at);
            self.deleted.insert(row.id);
        }
    }

    fn change(&mut self) {
        if self.requests >= self.churn_requests {
            return;
        }
        self.churn_once();
        self.sort();
    }

    fn churn_once(&mut self) {
        match self.churn {
            Churn::None => {}
            Churn::Light { inserts, deletes } => {
                for _ in 0..self.random(inserts + 1) {
                    self.insert_at_random();
                }
                for _ in 0..self.random(deletes + 1) {
                    let at = self.random(self.rows.len());
                    self.delete_at(at);
                }
            }
            Churn::Bursts { every, size } => {
                if self.random(every.max(1)) == 0 {
                    let n = self.random(size + 1);
                    if self.random(2) == 0 {
                        for _ in 0..n {
                            self.insert_at_random();
                        }
                    } else {
                        self.sort();
                        let at = self.random(self.rows.len());
                        let end = (at + n).min(self.rows.len());
                        for row in self.rows.drain(at..end) {
                            self.deleted.insert(row.id);
                        }
                    }
                }
            }
            Churn::Front { per_request } => {
                for _ in 0..per_request {
                    self.insert_front();
                }
            }
            Churn::DeleteFront { per_request } => {
                for _ in 0..per_request {
                    self.delete_at(0);
                }
            }
        }
    }

    fn answer(&mut self, skip: u32, top: u32) -> (Vec<SimRow>, Option<u64>) {
        self.change();
        self.requests += 1;
        // A repeated page: the rows of the answer before, again (an empty
        // answer is not a page).
        let repeat = self.random(100) < self.quirks.repeat_percent as usize;
        if repeat && let Some(previous) = self.previous.as_ref().filter(|p| !p.is_empty()) {
            return (previous.clone(), Some(self.rows.len() as u64));
        }
        let skip = if self.quirks.ignores_skip {
            0
        } else {
            skip as usize
        };
        let mut take = top as usize;
        if let Some(cap) = self.quirks.cap {
            take = take.min(cap);
        }
        let rows: Vec<SimRow> = self.rows.iter().skip(skip).take(take).cloned().collect();
        let truth = self.rows.len() as i64;
        let count = match self.quirks.count {
            Count::Honest => Some(truth as u64),
            Count::Absent => None,
            Count::Lies(by) => {
                let off =
                    i64::try_from(self.random(usize::try_from(2 * by + 1).unwrap())).unwrap() - by;
                Some((truth + off).max(0) as u64)
            }
        };
        self.previous = Some(rows.clone());
        (rows, count)
    }
}

#[derive(Debug, Clone)]
struct Case {
    rows: usize,
    page: u32,
    concurrency: usize,
    churn: Churn,
    quirks: Quirks,
    seed: u64,
}

/// How a walk ended.
struct Outcome {
    ids: Vec<i64>,
    error: Option<Error>,
    requests: usize,
    survivors: Vec<i64>,
    order: HashMap<i64, (i64, i64)>,
}

fn run(
    case: &Case,
    resume: Option<ResumePoint>,
    sim: Option<Arc<Mutex<Sim>>>,
) -> (Outcome, Arc<Mutex<Sim>>) {
    let sim = sim.unwrap_or_else(|| {
        let mut sim = Sim {
            rows: Vec::new(),
            next_id: 1,
            front_key: 0,
            rng: case.seed | 1,
            churn: case.churn,
            quirks: case.quirks,
            churn_requests: 100,
            requests: 0,
            previous: None,
            deleted: HashSet::new(),
            added: Vec::new(),
        };
        for _ in 0..case.rows {
            sim.insert_at_random();
        }
        sim.sort();
        Arc::new(Mutex::new(sim))
    });
    let initial: Vec<SimRow> = sim.lock().unwrap().rows.clone();
    let served = Arc::clone(&sim);
    let fetch = Box::new(move |skip: u32, top: u32| {
        let answer = served.lock().unwrap().answer(skip, top);
        futures::future::ready(Ok(answer)).boxed()
    });
    let settings = Settings {
        page: case.page.clamp(2, 1000),
        concurrency: case.concurrency,
        memory: usize::MAX,
        start: 0,
        stall_budget: super::DEFAULT_STALL_BUDGET,
        trust_total: false,
        resume,
    };
    let mut walker = Walker::new(fetch, settings);
    let mut ids = Vec::new();
    let mut error = None;
    futures::executor::block_on(async {
        while let Some(batch) = walker.next_batch().await {
            match batch {
                Ok(rows) => ids.extend(rows.iter().map(|r| r.id)),
                Err(e) => error = Some(e),
            }
            assert!(walker.requests < 50_000, "the walk does not end: {case:?}");
        }
    });
    let state = sim.lock().unwrap();
    let order: HashMap<i64, (i64, i64)> = initial
        .iter()
        .chain(state.rows.iter())
        .map(|r| (r.id, (r.key, r.id)))
        .collect();
    let survivors: Vec<i64> = initial
        .iter()
        .filter(|r| !state.deleted.contains(&r.id))
        .map(|r| r.id)
        .collect();
    let requests = usize::try_from(walker.requests).unwrap();
    drop(state);
    (
        Outcome {
            ids,
            error,
            requests,
            survivors,
            order,
        },
        sim,
    )
}

/// The contract: no row twice; survivors in order; and, when the walk
/// ended well, every survivor.
fn check_contract(case: &Case, outcome: &Outcome) -> Result<(), TestCaseError> {
    let mut seen = HashSet::new();
    for id in &outcome.ids {
        prop_assert!(seen.insert(*id), "row {id} came out twice: {case:?}");
    }
    let survivors: HashSet<i64> = outcome.survivors.iter().copied().collect();
    let yielded_survivors: Vec<(i64, i64)> = outcome
        .ids
        .iter()
        .filter(|id| survivors.contains(id))
        .map(|id| outcome.order[id])
        .collect();
    prop_assert!(
        yielded_survivors.windows(2).all(|w| w[0] < w[1]),
        "survivors out of order: {case:?}"
    );
    match &outcome.error {
        None => {
            let missing: Vec<_> = outcome
                .survivors
                .iter()
                .filter(|id| !seen.contains(id))
                .collect();
            prop_assert!(
                missing.is_empty(),
                "the walk ended Ok without {} surviving row(s), e.g. {:?}: {case:?}",
                missing.len(),
                &missing[..missing.len().min(5)]
            );
        }
        Some(Error::WalkStopped {
            reason: WalkStop::NoProgress { .. },
            yielded,
            ..
        }) => {
            prop_assert_eq!(*yielded, outcome.ids.len() as u64);
        }
        Some(other) => prop_assert!(false, "unexpected error {other}: {case:?}"),
    }
    Ok(())
}

fn churn() -> impl Strategy<Value = Churn> {
    prop_oneof![
        3 => Just(Churn::None),
        3 => (0..4usize, 0..4usize).prop_map(|(inserts, deletes)| Churn::Light { inserts, deletes }),
        2 => (1..6usize, 1..2000usize).prop_map(|(every, size)| Churn::Bursts { every, size }),
        1 => (0..1500usize).prop_map(|per_request| Churn::Front { per_request }),
        1 => (0..50usize).prop_map(|per_request| Churn::DeleteFront { per_request }),
    ]
}

fn quirks() -> impl Strategy<Value = Quirks> {
    (
        prop::bool::weighted(0.08),
        prop_oneof![3 => Just(None), 1 => (2..400usize).prop_map(Some)],
        prop_oneof![
            3 => Just(Count::Honest),
            1 => Just(Count::Absent),
            1 => (1..500i64).prop_map(Count::Lies),
        ],
        prop_oneof![3 => Just(0u32), 1 => 1..10u32, 1 => 10..40u32],
    )
        .prop_map(|(ignores_skip, cap, count, repeat_percent)| Quirks {
            ignores_skip,
            cap,
            count,
            repeat_percent,
        })
}

fn case() -> impl Strategy<Value = Case> {
    (
        0..3000usize,
        prop_oneof![1..12u32, 12..200u32, 200..=1000u32],
        1..=8usize,
        churn(),
        quirks(),
        any::<u64>(),
    )
        .prop_map(|(rows, page, concurrency, churn, quirks, seed)| Case {
            // Up to about 60 windows: enough for every path, quick enough
            // for thousands of cases.
            rows: rows.min(page.max(2) as usize * 60),
            page,
            concurrency,
            churn,
            quirks,
            seed,
        })
}

/// Whether the walk must succeed: a server that honours `$skip`, repeats a
/// page rarely and counts honestly (or not at all), and no churn or only
/// light churn.
fn must_succeed(case: &Case) -> bool {
    let server = !case.quirks.ignores_skip
        && case.quirks.repeat_percent <= 10
        && !matches!(case.quirks.count, Count::Lies(_));
    let calm = matches!(case.churn, Churn::None)
        || (matches!(case.churn, Churn::Light { .. })
            && case.quirks.repeat_percent == 0
            && case.quirks.cap.is_none()
            && case.page >= 8);
    server && calm
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_surviving_row_exactly_once_in_order_or_the_error(case in case()) {
        let (outcome, _) = run(&case, None, None);
        check_contract(&case, &outcome)?;
        if must_succeed(&case) {
            prop_assert!(outcome.error.is_none(), "{:?}: {case:?}", outcome.error);
        }
        let page = case.page.clamp(2, 1000) as usize;
        if case.quirks.ignores_skip && matches!(case.churn, Churn::None) && case.rows > page {
            prop_assert!(outcome.error.is_some(), "a server ignoring $skip cannot be walked: {case:?}");
        }
        if matches!(case.churn, Churn::None)
            && !case.quirks.ignores_skip
            && case.quirks.repeat_percent == 0
            && case.quirks.cap.is_none()
            && matches!(case.quirks.count, Count::Honest)
        {
            // Undisturbed: every window planned, plus one to confirm the end.
            let windows = if case.rows <= page { 1 } else { 1 + (case.rows - page).div_ceil(page - 1) };
            prop_assert!(outcome.requests <= windows + 1, "{} requests for {windows} windows: {case:?}", outcome.requests);
        }
    }
}

#[test]
fn the_issue_scenario_front_inserts_end_with_every_survivor_or_the_error() {
    // 5,000 rows in a newest-first order, 1,000 new rows ahead of the walk
    // before each request: the walk made 6 requests, yielded 1,000 rows and
    // ended Ok before.
    let case = Case {
        rows: 5000,
        page: 1000,
        concurrency: 4,
        churn: Churn::Front { per_request: 1000 },
        quirks: Quirks {
            ignores_skip: false,
            cap: None,
            count: Count::Honest,
            repeat_percent: 0,
        },
        seed: 7,
    };
    let (outcome, _) = run(&case, None, None);
    check_contract(&case, &outcome).unwrap();
    match &outcome.error {
        None => {}
        Some(error) => {
            assert!(matches!(error, Error::WalkStopped { .. }), "{error}");
            assert!(error.to_string().contains("resume"), "{error}");
            assert!(error.resume_point().is_some());
        }
    }
}

#[test]
fn a_stopped_walk_resumes_after_its_last_row_without_a_gap_or_a_repeat() {
    // Fast front inserts stop the walk; once they stop, resuming finishes it.
    let case = Case {
        rows: 3000,
        page: 100,
        concurrency: 4,
        churn: Churn::Front { per_request: 400 },
        quirks: Quirks {
            ignores_skip: false,
            cap: None,
            count: Count::Honest,
            repeat_percent: 0,
        },
        seed: 11,
    };
    let (first, sim) = run(&case, None, None);
    let error = first
        .error
        .as_ref()
        .expect("400 rows ahead per request outrun 99-row steps");
    let point = error.resume_point().unwrap();
    sim.lock().unwrap().churn = Churn::None;
    let (rest, _) = run(&case, Some(point), Some(Arc::clone(&sim)));
    assert!(rest.error.is_none(), "{:?}", rest.error);
    let mut all = first.ids.clone();
    all.extend(&rest.ids);
    let combined = Outcome {
        ids: all,
        error: None,
        requests: first.requests + rest.requests,
        survivors: first.survivors.clone(),
        order: first
            .order
            .clone()
            .into_iter()
            .chain(rest.order.clone())
            .collect(),
    };
    check_contract(&case, &combined).unwrap();
}

/// A large row (11 KiB, what a decoded PensionPro `Plan` took before the
/// generator boxed nested objects).
struct Wide {
    id: i64,
    _fields: [u8; 11 * 1024],
}

impl super::walker::Held for Wide {}

impl Row for Wide {
    fn row_id(&self) -> Option<i64> {
        Some(self.id)
    }
}

/// Walks 40 wide rows in pages of 4 with 8 pages allowed at once and the
/// given memory budget; returns the ids in order and the most windows that
/// were in flight together.
fn walk_wide(memory: usize) -> (Vec<i64>, usize) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (counter, peak) = (Arc::clone(&in_flight), Arc::clone(&most));
    let fetch = Box::new(move |skip: u32, top: u32| {
        let now = counter.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(now, Ordering::SeqCst);
        let counter = Arc::clone(&counter);
        async move {
            counter.fetch_sub(1, Ordering::SeqCst);
            let rows: Vec<Wide> = (u64::from(skip)..(u64::from(skip) + u64::from(top)).min(40))
                .map(|i| Wide {
                    id: i64::try_from(i).unwrap() + 1,
                    _fields: [0; 11 * 1024],
                })
                .collect();
            Ok((rows, Some(40)))
        }
        .boxed()
    });
    let settings = Settings {
        page: 4,
        concurrency: 8,
        memory,
        start: 0,
        stall_budget: super::DEFAULT_STALL_BUDGET,
        trust_total: false,
        resume: None,
    };
    let mut walker = Walker::new(fetch, settings);
    let mut ids = Vec::new();
    futures::executor::block_on(async {
        while let Some(batch) = walker.next_batch().await {
            ids.extend(batch.unwrap().iter().map(|row| row.id));
        }
    });
    (ids, most.load(Ordering::SeqCst))
}

#[test]
fn the_memory_budget_bounds_the_pages_in_flight() {
    let window = 4 * std::mem::size_of::<Wide>();
    let expected: Vec<i64> = (1..=40).collect();
    // Four and a half windows' worth: the one being read, the one taken
    // ahead of it, and two in flight; every row once and in order.
    let (ids, most) = walk_wide(4 * window + window / 2);
    assert_eq!(ids, expected);
    assert_eq!(most, 2, "windows in flight with a budget of two");
    // Less than two windows: one at a time, never none.
    let (ids, most) = walk_wide(window + window / 2);
    assert_eq!(ids, expected);
    assert_eq!(most, 1);
    // No budget: the configured eight.
    let (ids, most) = walk_wide(usize::MAX);
    assert_eq!(ids, expected);
    assert_eq!(most, 8, "without a budget the walk uses its concurrency");
}
