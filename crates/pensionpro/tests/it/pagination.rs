//! Walks over many pages: concurrent, in order, every row exactly once, also
//! while rows are inserted or deleted between pages.

use std::collections::BTreeSet;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use pensionpro::odata::{Query, field};
use pensionpro::pagination::PageOptions;
use serde_json::json;

use crate::support::{Request, Response, client, serve};

/// Plans held by the fake server, sorted by `Id`, and what it saw.
#[derive(Default)]
struct Data {
    ids: Vec<i64>,
    requests: Vec<(u32, u32)>,
}

struct Fake {
    data: Mutex<Data>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Fake {
    fn new(ids: impl IntoIterator<Item = i64>) -> Arc<Self> {
        Arc::new(Self {
            data: Mutex::new(Data {
                ids: ids.into_iter().collect(),
                requests: Vec::new(),
            }),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        })
    }
}

/// Serves `GET /v2/plans` over `fake`; `change` runs before answering the
/// n-th request (0-based), to insert or delete rows mid-walk.
async fn plans_server(
    fake: Arc<Fake>,
    delay: Duration,
    change: impl Fn(usize, &mut Vec<i64>) + Send + Sync + 'static,
) -> String {
    let change = Arc::new(change);
    serve(move |request: Request| {
        let fake = Arc::clone(&fake);
        let change = Arc::clone(&change);
        async move {
            assert_eq!(request.path, "/v2/plans");
            assert_eq!(
                request.query.get("$orderby").map(String::as_str),
                Some("Id")
            );
            let now = fake.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            fake.max_in_flight.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            let skip: u32 = request.query["$skip"].parse().unwrap();
            let top: u32 = request.query["$top"].parse().unwrap();
            let body = {
                let mut data = fake.data.lock().unwrap();
                let n = data.requests.len();
                data.requests.push((skip, top));
                change(n, &mut data.ids);
                let rows: Vec<_> = data
                    .ids
                    .iter()
                    .skip(skip as usize)
                    .take(top as usize)
                    .map(|id| json!({"Id": id, "Name": format!("Plan {id}")}))
                    .collect();
                json!({"Values": rows, "TotalCount": data.ids.len()})
            };
            fake.in_flight.fetch_sub(1, Ordering::SeqCst);
            Response::json(&body)
        }
    })
    .await
}

async fn walk_ids(base_url: &str, page_size: u32) -> Vec<i64> {
    let client = client(base_url);
    let options = PageOptions::default()
        .page_size(page_size)
        .concurrency(NonZeroUsize::new(4).unwrap());
    client
        .list_with(client.list_plans(), &Query::new(), options)
        .map(|row| row.unwrap().id.map(i64::from).unwrap())
        .collect()
        .await
}

fn assert_strictly_increasing(ids: &[i64]) {
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "not in order or repeated: {ids:?}"
    );
}

#[tokio::test]
async fn twenty_pages_come_concurrently_in_order_each_row_once() {
    // 200 rows, 11 per window (10 new rows per window after the first).
    let original: Vec<i64> = (1..=200).map(|i| i * 10).collect();
    let fake = Fake::new(original.clone());
    let url = plans_server(Arc::clone(&fake), Duration::from_millis(20), |_, _| {}).await;
    let ids = walk_ids(&url, 11).await;
    assert_eq!(ids, original);
    let requests = fake.data.lock().unwrap().requests.clone();
    assert_eq!(requests.len(), 20, "{requests:?}");
    assert!(requests.iter().all(|&(_, top)| top == 11));
    let max = fake.max_in_flight.load(Ordering::SeqCst);
    assert!((2..=4).contains(&max), "pages in flight at once: {max}");
}

#[tokio::test]
async fn rows_inserted_between_pages_cause_no_miss_and_no_repeat() {
    let original: Vec<i64> = (1..=200).map(|i| i * 10).collect();
    let fake = Fake::new(original.clone());
    let url = plans_server(Arc::clone(&fake), Duration::from_millis(5), |n, ids| {
        // Before the 4th and the 9th request, rows appear early in the order,
        // pushing every later row to later pages.
        if n == 3 || n == 8 {
            for new in [15, 25, 35, 45, 55, 65, 75] {
                ids.push(new + n as i64);
            }
            ids.sort_unstable();
        }
        // And a few at the end, after the walk planned its pages.
        if n == 5 {
            ids.extend([5000, 5010]);
        }
    })
    .await;
    let ids = walk_ids(&url, 11).await;
    assert_strictly_increasing(&ids);
    let seen: BTreeSet<_> = ids.iter().copied().collect();
    for id in &original {
        assert!(seen.contains(id), "row {id} was missed");
    }
    assert!(
        seen.contains(&5000) && seen.contains(&5010),
        "appended rows: {ids:?}"
    );
}

#[tokio::test]
async fn rows_deleted_between_pages_cause_no_miss_and_no_repeat() {
    let original: Vec<i64> = (1..=200).map(|i| i * 10).collect();
    let fake = Fake::new(original.clone());
    let deleted = Arc::new(Mutex::new(BTreeSet::new()));
    let record = Arc::clone(&deleted);
    let url = plans_server(
        Arc::clone(&fake),
        Duration::from_millis(5),
        move |n, ids| {
            // Before the 3rd and the 7th request, rows early in the order vanish,
            // pulling later rows onto pages that were already served.
            if n == 2 || n == 6 {
                let gone: Vec<i64> = ids.drain(0..15).collect();
                record.lock().unwrap().extend(gone);
            }
        },
    )
    .await;
    let ids = walk_ids(&url, 11).await;
    assert_strictly_increasing(&ids);
    let seen: BTreeSet<_> = ids.iter().copied().collect();
    let deleted = deleted.lock().unwrap();
    for id in original.iter().filter(|id| !deleted.contains(id)) {
        assert!(seen.contains(id), "surviving row {id} was missed");
    }
}

#[tokio::test]
async fn a_caller_order_gets_id_as_tie_breaker() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let url = serve(move |request: Request| {
        record
            .lock()
            .unwrap()
            .push(request.query.get("$orderby").cloned());
        async move { Response::json(&json!({"Values": [{"Id": 1}], "TotalCount": 1})) }
    })
    .await;
    let client = client(&url);
    let query = Query::new()
        .filter(field("IsDeactivated").eq(false))
        .order_by_desc("UpdatedOn");
    let rows: Vec<_> = client.list(client.list_plans(), &query).collect().await;
    assert_eq!(rows.len(), 1);
    // A page shorter than asked is confirmed with one request from its last
    // row; both carry the order.
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [
            Some("UpdatedOn desc,Id".to_owned()),
            Some("UpdatedOn desc,Id".to_owned())
        ]
    );
}

#[tokio::test]
async fn an_error_mid_walk_is_an_item_and_ends_the_stream() {
    let url = serve(|request: Request| async move {
        let skip: u32 = request.query["$skip"].parse().unwrap();
        if skip >= 20 {
            return Response::status(500, &json!({"Message": "boom"}));
        }
        let rows: Vec<_> = (skip..skip + 10).map(|id| json!({"Id": id + 1})).collect();
        Response::json(&json!({"Values": rows, "TotalCount": 100}))
    })
    .await;
    let client = client(&url);
    let options = PageOptions::default()
        .page_size(10)
        .concurrency(NonZeroUsize::new(1).unwrap());
    let items: Vec<_> = client
        .list_with(client.list_plans(), &Query::new(), options)
        .collect()
        .await;
    let (ok, err): (Vec<_>, Vec<_>) = items.iter().partition(|item| item.is_ok());
    assert_eq!(err.len(), 1);
    assert!(items.last().unwrap().is_err(), "the error is the last item");
    let error = items.last().unwrap().as_ref().unwrap_err();
    assert!(
        matches!(error, pensionpro::Error::Interrupted { yielded: 28, .. }),
        "{error:?}"
    );
    assert!(matches!(
        error.root(),
        pensionpro::Error::Server { status: 500, .. }
    ));
    assert_eq!(error.status(), Some(500));
    let resume = error.resume_point().unwrap();
    assert_eq!((resume.skip, resume.after_id), (27, 28));
    // Windows at 0, 9 and 18 succeeded: rows 1..=28 exactly once.
    assert_eq!(ok.len(), 28);
}

#[tokio::test]
async fn an_empty_list_is_an_empty_stream() {
    let url = serve(|_| async { Response::json(&json!({"Values": [], "TotalCount": 0})) }).await;
    let client = client(&url);
    let rows: Vec<_> = client
        .list(client.list_plans(), &Query::new())
        .collect()
        .await;
    assert!(rows.is_empty());
}

#[tokio::test]
async fn without_a_total_the_walk_goes_on_until_a_short_page() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let url = serve(move |request: Request| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            let skip: i64 = request.query["$skip"].parse().unwrap();
            let top: i64 = request.query["$top"].parse().unwrap();
            let rows: Vec<_> = (skip..(skip + top).min(35))
                .map(|i| json!({"Id": i + 1}))
                .collect();
            Response::json(&json!({"Values": rows}))
        }
    })
    .await;
    let ids = walk_ids(&url, 10).await;
    assert_eq!(ids, (1..=35).collect::<Vec<i64>>());
    // Windows at 0, 9, 18 and 27; the last one is short.
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_server_that_ignores_skip_ends_the_walk_with_the_error_not_a_quiet_end() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let url = serve(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        async {
            let rows: Vec<_> = (1..=10).map(|id| json!({"Id": id})).collect();
            Response::json(&json!({"Values": rows, "TotalCount": 100}))
        }
    })
    .await;
    let client = client(&url);
    let options = PageOptions::default().page_size(10).stall_budget(5);
    let items: Vec<_> = client
        .list_with(client.list_plans(), &Query::new(), options)
        .collect()
        .await;
    let ids: Vec<i32> = items
        .iter()
        .filter_map(|item| item.as_ref().ok().and_then(|plan| plan.id))
        .collect();
    assert_eq!(ids, (1..=10).collect::<Vec<i32>>(), "the rows served, once");
    let error = items.last().unwrap().as_ref().unwrap_err();
    assert!(
        matches!(
            error,
            pensionpro::Error::WalkStopped {
                yielded: 10,
                reason: pensionpro::pagination::WalkStop::NoProgress { wasted: 6 },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("resume"), "{error}");
    // The first page, the budget of requests without a new row and the one
    // that ran it out, plus up to three windows already in flight when the
    // walk saw the first stale answer.
    let calls = calls.load(Ordering::SeqCst);
    assert!((7..=10).contains(&calls), "{calls}");
}

#[tokio::test]
async fn a_server_that_serves_smaller_pages_than_asked_is_walked_to_the_end() {
    let url = serve(|request: Request| async move {
        let skip: i64 = request.query["$skip"].parse().unwrap();
        // The server caps pages at 7 rows whatever `$top` says.
        let rows: Vec<_> = (skip..(skip + 7).min(30))
            .map(|i| json!({"Id": i + 1}))
            .collect();
        Response::json(&json!({"Values": rows, "TotalCount": 30}))
    })
    .await;
    let ids = walk_ids(&url, 10).await;
    assert_eq!(ids, (1..=30).collect::<Vec<i64>>());
}

#[tokio::test]
async fn a_walk_gives_its_thread_back_while_a_page_is_read() {
    // One full page of 1000 rows, read on a single-threaded runtime by a
    // consumer that never waits: the rows of a page in memory are ready at
    // once, yet another task on the thread must run before the page ends.
    let fake = Fake::new(1..=1000);
    let url = plans_server(Arc::clone(&fake), Duration::ZERO, |_, _| {}).await;
    let client = client(&url);
    let read = Arc::new(AtomicUsize::new(0));
    let watcher = client_core::testing::watch_progress(Arc::clone(&read), 1000);
    let mut rows = client.list(client.list_plans(), &Query::new());
    while let Some(row) = rows.next().await {
        row.unwrap();
        read.fetch_add(1, Ordering::SeqCst);
    }
    let seen = watcher.await.unwrap();
    assert_eq!(read.load(Ordering::SeqCst), 1000);
    assert!(
        seen.iter().any(|&n| (1..1000).contains(&n)),
        "the other task ran only at {seen:?}: never while the page was read"
    );
}
