//! Cursor pagination on the wire: every page carries the caller's filters,
//! the stream follows `next_cursor` to the end, stops on a repeated cursor,
//! and an error ends it with the cursor to resume from.

use pinwheel::Call;
use std::num::NonZeroU64;

use futures::{StreamExt, TryStreamExt};
use httpmock::MockServer;
use pinwheel::{Error, types};
use pinwheel_httpmock::MockServerExt;

use crate::support::{accounts_page, client, error_body, fixture, ids};

fn strs(ids: &[String]) -> Vec<&str> {
    ids.iter().map(String::as_str).collect()
}

fn limit(n: u64) -> Option<NonZeroU64> {
    NonZeroU64::new(n)
}

#[tokio::test]
async fn three_pages_are_followed_and_the_filter_is_sent_with_each() {
    let server = MockServer::start_async().await;
    let ids = ids(0..6);
    let ids = strs(&ids);
    let pages = [
        (None, accounts_page(&ids[0..2], Some("cursor-2"))),
        (
            Some("cursor-2"),
            accounts_page(&ids[2..4], Some("cursor-3")),
        ),
        (Some("cursor-3"), accounts_page(&ids[4..6], None)),
    ];
    let mocks: Vec<_> = pages
        .iter()
        .map(|(cursor, page)| {
            server.list_accounts(|when, then| {
                // Each page's request must carry the filter and the limit,
                // and exactly its own cursor (none on the first page).
                when.cursor(*cursor)
                    .connected(true)
                    .limit(limit(2))
                    .monitoring_status(types::ListAccountsMonitoringStatus::Active);
                then.ok(page);
            })
        })
        .collect();

    let client = client(&server);
    let accounts: Vec<_> = client
        .accounts()
        .with(|request| {
            request
                .connected(true)
                .monitoring_status(types::ListAccountsMonitoringStatus::Active)
        })
        .limit(2)
        .unwrap()
        .items()
        .try_collect()
        .await
        .unwrap();

    let got: Vec<_> = accounts.iter().map(|a| a.id.unwrap().to_string()).collect();
    assert_eq!(got, ids);
    for mock in &mocks {
        mock.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn pages_report_their_cursors_and_request_ids() {
    let server = MockServer::start_async().await;
    let ids = ids(0..2);
    let first = accounts_page(&[&ids[0]], Some("next"));
    let second = accounts_page(&[&ids[1]], None);
    server.list_accounts(|when, then| {
        when.cursor(None);
        then.ok(&first)
            .into_inner()
            .header("x-pinwheel-request-id", "req-page-1");
    });
    server.list_accounts(|when, then| {
        when.cursor("next");
        then.ok(&second)
            .into_inner()
            .header("x-pinwheel-request-id", "req-page-2");
    });
    let client = client(&server);
    let pages: Vec<_> = client.accounts().pages().try_collect().await.unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].cursor(), None);
    assert_eq!(pages[0].next_cursor(), Some("next"));
    assert_eq!(pages[0].response().request_id(), Some("req-page-1"));
    assert_eq!(pages[1].cursor(), Some("next"));
    assert_eq!(pages[1].next_cursor(), None);
    assert_eq!(pages[1].response().request_id(), Some("req-page-2"));
    assert_eq!(pages[1].response().meta.count, Some(1));
}

#[tokio::test]
async fn a_repeated_cursor_ends_the_stream_with_an_error() {
    let server = MockServer::start_async().await;
    let ids = ids(0..2);
    let first = accounts_page(&[&ids[0]], Some("loop"));
    let looping = accounts_page(&[&ids[1]], Some("loop"));
    let first_mock = server.list_accounts(|when, then| {
        when.cursor(None);
        then.ok(&first);
    });
    let loop_mock = server.list_accounts(|when, then| {
        when.cursor("loop");
        then.ok(&looping)
            .into_inner()
            .header("x-pinwheel-request-id", "req-loop");
    });
    let client = client(&server);
    let results: Vec<_> = client.accounts().items().collect().await;

    assert_eq!(results.len(), 3, "two items, then the error");
    assert_eq!(results[0].as_ref().unwrap().id.unwrap().to_string(), ids[0]);
    assert_eq!(results[1].as_ref().unwrap().id.unwrap().to_string(), ids[1]);
    let error = results[2].as_ref().unwrap_err();
    assert!(
        matches!(error, Error::RepeatedCursor { cursor, .. } if cursor == "loop"),
        "{error:?}"
    );
    assert_eq!(error.request_id(), Some("req-loop"));
    first_mock.assert_calls_async(1).await;
    loop_mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn an_error_mid_stream_ends_it_and_the_listing_resumes_without_gaps_or_duplicates() {
    let server = MockServer::start_async().await;
    let ids = ids(0..5);
    let ids = strs(&ids);
    let first = accounts_page(&ids[0..2], Some("cursor-2"));
    let second = accounts_page(&ids[2..4], Some("cursor-3"));
    let third = accounts_page(&ids[4..5], None);
    server.list_accounts(|when, then| {
        when.cursor(None);
        then.ok(&first);
    });
    let failing = server.list_accounts(|when, then| {
        when.cursor("cursor-2");
        then.server_error(
            503,
            &error_body("UNKNOWN_ERROR", "OVERLOADED", "try again later", 503),
        )
        .into_inner()
        .header("x-pinwheel-request-id", "req-503");
    });
    let client = client(&server);

    let results: Vec<_> = client.accounts().items().collect().await;
    assert_eq!(results.len(), 3, "two items, then the error, then nothing");
    let mut delivered: Vec<String> = results[..2]
        .iter()
        .map(|r| r.as_ref().unwrap().id.unwrap().to_string())
        .collect();
    let error = results[2].as_ref().unwrap_err();
    assert!(
        matches!(error, Error::Interrupted { pages: 1, .. }),
        "{error:?}"
    );
    assert!(matches!(error.root(), Error::Server { .. }));
    assert_eq!(error.resume_cursor(), Some("cursor-2"));
    assert_eq!(error.request_id(), Some("req-503"));
    assert_eq!(error.status(), Some(503));

    // The server recovers; the listing continues where it stopped.
    failing.delete_async().await;
    server.list_accounts(|when, then| {
        when.cursor("cursor-2");
        then.ok(&second);
    });
    server.list_accounts(|when, then| {
        when.cursor("cursor-3");
        then.ok(&third);
    });
    let rest: Vec<_> = client
        .accounts()
        .resume_from(error.resume_cursor().unwrap())
        .items()
        .try_collect()
        .await
        .unwrap();
    delivered.extend(rest.iter().map(|a| a.id.unwrap().to_string()));
    assert_eq!(delivered, ids);
}

#[tokio::test]
async fn page_limits_outside_one_to_a_hundred_are_typed_errors() {
    let server = MockServer::start_async().await;
    let client = client(&server);
    assert!(matches!(
        client.accounts().limit(0),
        Err(Error::InvalidLimit { limit: 0 })
    ));
    assert!(matches!(
        client.jobs().limit(101),
        Err(Error::InvalidLimit { limit: 101 })
    ));
    assert!(client.paystubs(uuid::Uuid::nil()).limit(100).is_ok());
    assert!(client.webhooks().limit(1).is_ok());
}

#[tokio::test]
async fn path_parameters_and_date_filters_are_kept_across_paystub_pages() {
    let server = MockServer::start_async().await;
    let account_id: uuid::Uuid = "5c1952df-3a84-4f28-8318-58291452061f".parse().unwrap();
    let from = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    // The spec's example page, then the same page as the last one.
    let example = fixture("paystubs.json");
    let mut last: serde_json::Value = serde_json::from_str(&example).unwrap();
    last["meta"]["next_cursor"] = serde_json::Value::Null;
    // Another paystub: an identical row would be recognised as a repeat.
    last["data"][0]["id"] = serde_json::json!("7d3e2c1b-0a9f-4e8d-b7c6-5a4b3c2d1e0f");
    let next = "eyJlbXBsb3llciI6ICJVbml0ZWQgUGFyY2VsIFNlcnZpY2UifQ==";
    let first_mock = server.list_paystubs(|when, then| {
        when.account_id(&account_id)
            .from_pay_date(&from)
            .cursor(None);
        then.into_inner()
            .status(200)
            .header("content-type", "application/json")
            .body(example.as_str());
    });
    let last_mock = server.list_paystubs(|when, then| {
        when.account_id(&account_id)
            .from_pay_date(&from)
            .cursor(next);
        then.into_inner()
            .status(200)
            .header("content-type", "application/json")
            .body(last.to_string());
    });
    let client = client(&server);
    let paystubs: Vec<_> = client
        .paystubs(account_id)
        .with(move |request| request.from_pay_date(from))
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(paystubs.len(), 2);
    first_mock.assert_calls_async(1).await;
    last_mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn any_list_operation_streams_through_a_cursor_closure() {
    let server = MockServer::start_async().await;
    let job = |id: &str| {
        serde_json::json!({
            "id": id,
            "account_id": "449e7a5c-69d3-4b8a-aaaf-5c9b713ebc65",
            "name": "direct_deposit_switch",
            "timestamp": "2021-01-12T02:36:01.287148+00:00",
            "outcome": "success",
            "link_token_id": "4787acbc-11cf-4db3-998c-5ea7c4feebcd"
        })
    };
    let ids = ids(0..2);
    let first: types::ListJobsResponse = serde_json::from_value(serde_json::json!({
        "data": [job(&ids[0])], "meta": {"count": 1, "next_cursor": "j2"}
    }))
    .unwrap();
    let second: types::ListJobsResponse = serde_json::from_value(serde_json::json!({
        "data": [job(&ids[1])], "meta": {"count": 1, "next_cursor": null}
    }))
    .unwrap();
    for (cursor, page) in [(None, &first), (Some("j2"), &second)] {
        server.list_jobs(|when, then| {
            when.cursor(cursor)
                .outcome(types::ListJobsOutcome::Success)
                .limit(limit(1));
            then.ok(page);
        });
    }
    let client = client(&server);
    let api = client.api();
    let jobs: Vec<_> = pinwheel::pagination::items(None, |cursor| {
        let mut request = api
            .list_jobs()
            .outcome(types::ListJobsOutcome::Success)
            .limit(limit(1).unwrap());
        if let Some(cursor) = cursor {
            request = request.cursor(cursor);
        }
        request.send()
    })
    .try_collect()
    .await
    .unwrap();
    let got: Vec<_> = jobs.iter().map(|j| j.id.unwrap().to_string()).collect();
    assert_eq!(got, ids);
}

/// Rows without an `id` (company paystubs) are trusted to cursor progress:
/// two identical rows, and two identical pages, all come out.
#[tokio::test]
async fn identical_rows_without_ids_are_all_yielded() {
    let server = MockServer::start_async().await;
    let connection = uuid::Uuid::from_u128(7);
    let row = serde_json::json!({
        "employee_external_id": "e1", "pay_date": "2024-01-31", "currency": "USD",
        "gross_pay_amount": 100, "net_pay_amount": 80, "check_amount": 80,
        "total_taxes": 20, "total_deductions": 0, "total_reimbursements": 0, "created_at": null
    });
    for (cursor, next) in [(None, Some("p2")), (Some("p2"), None)] {
        let body =
            serde_json::json!({"data": [row, row], "meta": {"count": 2, "next_cursor": next}});
        server.mock(|when, then| {
            let when = when
                .method(httpmock::Method::GET)
                .path("/company_connections/00000000-0000-0000-0000-000000000007/paystubs/e1");
            match cursor {
                Some(cursor) => when.query_param("cursor", cursor),
                None => when.query_param_missing("cursor"),
            };
            then.status(200)
                .header("content-type", "application/json")
                .json_body(body);
        });
    }
    let client = client(&server);
    let rows: Vec<_> = client
        .company_paystubs(connection, "e1")
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 4, "every identical row of both identical pages");
}

#[tokio::test]
async fn a_walk_gives_its_thread_back_while_a_page_is_read() {
    // One page of 500 accounts, read on a single-threaded runtime by a
    // consumer that never waits: the items of a page in memory are ready
    // at once, yet another task on the thread must run before they end.
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let server = MockServer::start_async().await;
    let ids = ids(0..500);
    let page = accounts_page(&strs(&ids), None);
    server.list_accounts(|when, then| {
        when.cursor(None);
        then.ok(&page);
    });
    let client = client(&server);
    let read = Arc::new(AtomicUsize::new(0));
    let watcher = client_core::testing::watch_progress(Arc::clone(&read), 500);
    let mut items = std::pin::pin!(client.accounts().items());
    while let Some(item) = items.next().await {
        item.unwrap();
        read.fetch_add(1, Ordering::SeqCst);
    }
    let seen = watcher.await.unwrap();
    assert!(
        seen.iter().any(|&n| n > 0 && n < 500),
        "the other task ran only at {seen:?}: never while the page was read"
    );
}
