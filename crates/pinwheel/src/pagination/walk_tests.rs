//! Listings against a simulated cursor server, in memory: rows with ids and
//! rows without (identical ones included), page sizes from 1 to 100, and
//! servers that ignore the cursor, send a cursor they sent before, or invent
//! new cursors forever.
//!
//! The property, the listing's contract: no row comes out twice (rows with
//! ids by id; rows without ids by position in the listing), and the listing
//! ends with every row, in order, or with `RepeatedCursor` or `WalkStopped`.
//! An honest server must be listed to the end, identical rows and all.

#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail by panicking")]

use futures::StreamExt;
use proptest::prelude::*;
use serde_json::json;

use super::*;

/// How the simulated server pages.
#[derive(Debug, Clone, Copy)]
enum Server {
    Honest,
    /// Answers the first page whatever the cursor.
    IgnoresCursor,
    /// Page `at` points back to the cursor of page `to`.
    Cycles {
        at: usize,
        to: usize,
    },
    /// After the last page, answers it again under new cursors forever.
    InventsCursors,
}

#[derive(Debug, Clone)]
struct Case {
    /// Row payloads: `Some(n)` for a row with id `n`, `None` for a row
    /// without one; payload values repeat, so rows without ids can be identical.
    rows: Vec<(Option<u16>, u8)>,
    page: usize,
    server: Server,
}

fn cursor(page: usize) -> String {
    format!("c{page}")
}

/// The answer for `cursor` (`None`: the first page), as a webhook page:
/// `id` null for rows without one.
fn answer(
    case: &Case,
    requested: Option<&str>,
    invented: &mut usize,
) -> types::ListWebhooksResponse {
    let pages = case.rows.len().div_ceil(case.page).max(1);
    let index = match (case.server, requested) {
        (_, None) | (Server::IgnoresCursor, _) => 0,
        (_, Some(c)) if c.starts_with('x') => pages - 1,
        (_, Some(c)) => c[1..].parse().unwrap(),
    };
    let data: Vec<_> = case
        .rows
        .iter()
        .skip(index * case.page)
        .take(case.page)
        .map(|(id, payload)| {
            json!({
                "id": id.map(|n| uuid::Uuid::from_u128(u128::from(n) + 1).to_string()),
                "url": format!("https://example.com/{payload}"),
                "created_at": null, "last_updated": null, "enabled_events": null,
                "status": null, "version": null
            })
        })
        .collect();
    let next = match case.server {
        Server::Cycles { at, to } if index == at => Some(cursor(to)),
        Server::IgnoresCursor => (pages > 1).then(|| cursor(1)),
        Server::InventsCursors if index + 1 >= pages => {
            *invented += 1;
            Some(format!("x{invented}"))
        }
        _ => (index + 1 < pages).then(|| cursor(index + 1)),
    };
    serde_json::from_value(
        json!({"data": data, "meta": {"count": data.len(), "next_cursor": next}}),
    )
    .unwrap()
}

/// A row as it came out: its id and its payload.
type Listed = (Option<u16>, String);

/// Lists `case`: the rows, the error that ended it and the requests made.
fn run(case: &Case) -> (Vec<Listed>, Option<Error>, usize) {
    let invented = std::sync::Mutex::new(0usize);
    let requests = std::sync::atomic::AtomicUsize::new(0);
    let pages = pages_of(None, |requested: Option<String>| {
        let n = requests.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        assert!(n < 10_000, "the listing does not end: {case:?}");
        let body = answer(case, requested.as_deref(), &mut invented.lock().unwrap());
        std::future::ready(Ok(Response::new(
            progenitor_client::ResponseValue::new(
                body,
                reqwest::StatusCode::OK,
                http::HeaderMap::new(),
            ),
            client_core::call::CallReport::default(),
        )))
    });
    let items: Vec<_> = futures::executor::block_on(flatten(pages, DEFAULT_STALL_BUDGET).collect());
    let mut rows = Vec::new();
    let mut error = None;
    for item in items {
        assert!(error.is_none(), "an item after the error: {case:?}");
        match item {
            Ok(webhook) => {
                let id = webhook.id.map(|u| u16::try_from(u.as_u128() - 1).unwrap());
                rows.push((id, webhook.url.unwrap()));
            }
            Err(e) => error = Some(e),
        }
    }
    (rows, error, requests.into_inner())
}

/// Whether the rows hold more consecutive identical pages without ids than
/// the stall budget.
fn identical_run(case: &Case) -> bool {
    let pages: Vec<&[(Option<u16>, u8)]> = case.rows.chunks(case.page).collect();
    let mut run = 0;
    for pair in pages.windows(2) {
        if pair[0] == pair[1] && pair[0].iter().all(|(id, _)| id.is_none()) {
            run += 1;
            if run >= DEFAULT_STALL_BUDGET {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::bool::ANY,
        proptest::collection::vec(0..4u8, 0..300),
        1..=100usize,
        0..4u8,
        any::<(usize, usize)>(),
    )
        .prop_map(|(keyed, payloads, page, server, (at, to))| {
            let rows: Vec<_> = payloads
                .into_iter()
                .enumerate()
                .map(|(i, p)| (keyed.then(|| u16::try_from(i).unwrap()), p))
                .collect();
            let pages = rows.len().div_ceil(page).max(1);
            let server = match server {
                0 => Server::Honest,
                1 => Server::IgnoresCursor,
                2 if pages > 1 => {
                    // Page `at` (not the first) points back to an earlier page's cursor.
                    let at = 1 + at % (pages - 1);
                    Server::Cycles {
                        at,
                        to: 1 + to % at,
                    }
                }
                2 => Server::Honest,
                _ => Server::InventsCursors,
            };
            Case { rows, page, server }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn every_row_once_in_order_or_the_error(case in case()) {
        let (rows, error, _) = run(&case);
        let expected: Vec<Listed> = case
            .rows
            .iter()
            .map(|(id, p)| (*id, format!("https://example.com/{p}")))
            .collect();
        // No row twice, and what came out is the listing's start, in order.
        prop_assert!(rows.len() <= expected.len(), "more rows than exist: {case:?}");
        prop_assert_eq!(&rows[..], &expected[..rows.len()], "{:?}", case);
        match &error {
            None => prop_assert_eq!(rows.len(), expected.len(), "Ok with rows missing: {:?}", case),
            Some(Error::RepeatedCursor { .. } | Error::WalkStopped { .. }) => {}
            Some(other) => prop_assert!(false, "unexpected {other}: {case:?}"),
        }
        let pages = case.rows.len().div_ceil(case.page).max(1);
        match case.server {
            // Unless the data itself has more identical pages without ids in
            // a row than the budget allows: those cannot be told from a loop.
            Server::Honest if !identical_run(&case) => prop_assert!(error.is_none(), "{error:?}: {case:?}"),
            Server::IgnoresCursor | Server::Cycles { .. } if pages > 1 => {
                prop_assert!(error.is_some(), "a loop must end with the error: {case:?}");
            }
            Server::InventsCursors if !case.rows.is_empty() => {
                prop_assert!(error.is_some(), "a loop must end with the error: {case:?}");
            }
            _ => {}
        }
    }
}

#[test]
fn identical_rows_without_ids_all_come_out() {
    // Two pages of the very same rows: real data, not a repeat.
    let case = Case {
        rows: vec![(None, 1); 6],
        page: 3,
        server: Server::Honest,
    };
    let (rows, error, requests) = run(&case);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(rows.len(), 6);
    assert_eq!(requests, 2);
}

#[test]
fn a_server_inventing_cursors_stops_after_the_budget_without_a_repeat() {
    let case = Case {
        rows: (0..10).map(|i| (None, i)).collect(),
        page: 4,
        server: Server::InventsCursors,
    };
    let (rows, error, requests) = run(&case);
    assert_eq!(rows.len(), 10, "every row once");
    let error = error.unwrap();
    assert!(matches!(error, Error::WalkStopped { .. }), "{error}");
    assert!(error.to_string().contains("ignoring the cursor"), "{error}");
    // Three real pages, then the last one again under the budget's cursors.
    assert_eq!(requests, 3 + DEFAULT_STALL_BUDGET as usize);
}
