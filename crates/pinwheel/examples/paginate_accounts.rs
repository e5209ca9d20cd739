//! Lists payroll accounts page by page with a filter that is sent with every
//! page.
//!
//! Offline by default: a local mock server (the generated typed mocks on
//! loopback) serves three pages. With `PINWHEEL_API_SECRET` set (and
//! optionally `PINWHEEL_MODE`, default `sandbox`) it lists your real accounts.
//!
//! ```sh
//! cargo run -p pinwheel --example paginate_accounts
//! ```

#![allow(
    clippy::print_stdout,
    reason = "an example shows its results on the terminal"
)]

use futures::TryStreamExt;
use httpmock::MockServer;
use pinwheel::{Client, types};
use pinwheel_httpmock::MockServerExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The mock server must live as long as the client uses it.
    let mut mock = None;
    let client = if std::env::var_os(pinwheel::client::ENV_API_SECRET).is_some() {
        Client::from_env()?
    } else {
        let server = mock_server().await?;
        let client = Client::builder("offline-example-secret")
            .base_url(server.base_url())
            .build()?;
        println!("offline: serving three pages from {}", server.base_url());
        mock = Some(server);
        client
    };

    let mut pages = std::pin::pin!(
        client
            .accounts()
            .with(|request| request.connected(true))
            .limit(2)?
            .pages()
    );
    let mut total = 0;
    while let Some(page) = pages.try_next().await? {
        println!(
            "page at cursor {:?} (request id {:?}):",
            page.cursor(),
            page.response().request_id()
        );
        for account in page.items() {
            total += 1;
            println!(
                "  account {} of end user {:?}, monitoring {:?}",
                account.id.map(|id| id.to_string()).unwrap_or_default(),
                account.end_user_id,
                account.monitoring_status,
            );
        }
    }
    println!("{total} connected accounts");
    drop(mock);
    Ok(())
}

/// A mock Pinwheel serving three pages of connected accounts.
async fn mock_server() -> Result<MockServer, serde_json::Error> {
    let server = MockServer::start_async().await;
    let pages = [
        (
            None,
            Some("cursor-2"),
            [
                "00000000-0000-4000-8000-000000000001",
                "00000000-0000-4000-8000-000000000002",
            ]
            .as_slice(),
        ),
        (
            Some("cursor-2"),
            Some("cursor-3"),
            [
                "00000000-0000-4000-8000-000000000003",
                "00000000-0000-4000-8000-000000000004",
            ]
            .as_slice(),
        ),
        (
            Some("cursor-3"),
            None,
            ["00000000-0000-4000-8000-000000000005"].as_slice(),
        ),
    ];
    for (cursor, next, ids) in pages {
        let data: Vec<_> = ids
            .iter()
            .enumerate()
            .map(|(n, id)| {
                serde_json::json!({
                    "id": id,
                    "created_at": "2021-01-06T15:59:13.530178+00:00",
                    "link_token_id": "bd2c09e7-1303-46d5-87c0-0ffa572d7ae4",
                    "platform_id": "fce3eee0-285b-496f-9b36-30e976194736",
                    "connected": true,
                    "monitoring_status": "active",
                    "data_updated_at": {},
                    "data_refreshed_at": {},
                    "end_user_id": format!("my_user_{n}")
                })
            })
            .collect();
        let page: types::ListAccountsResponse = serde_json::from_value(serde_json::json!({
            "data": data,
            "meta": {"count": ids.len(), "next_cursor": next}
        }))?;
        server.list_accounts(|when, then| {
            when.cursor(cursor).connected(true);
            then.ok(&page).into_inner().header(
                "x-pinwheel-request-id",
                format!("req-{}", cursor.unwrap_or("first")),
            );
        });
    }
    Ok(server)
}
