//! Builders shared by the test modules: a client pointed at a mock server,
//! response bodies in the shapes of the spec's examples, and fixture files.

use httpmock::MockServer;
use pinwheel::retry::RetryConfig;
use pinwheel::{Client, types};
use serde_json::json;

/// The API secret every test client sends.
pub(crate) const SECRET: &str = "test-secret-123";

/// A client for `server`, without retries or pacing so tests are fast and
/// each request is seen exactly once.
pub(crate) fn client(server: &MockServer) -> Client {
    Client::builder(SECRET)
        .base_url(server.base_url())
        .retry(RetryConfig::disabled())
        .without_rate_limit()
        .build()
        .unwrap()
}

/// A payroll account as in the spec's example, with `id`.
pub(crate) fn account(id: &str) -> serde_json::Value {
    json!({
        "id": id,
        "created_at": "2021-01-06T15:59:13.530178+00:00",
        "link_token_id": "bd2c09e7-1303-46d5-87c0-0ffa572d7ae4",
        "platform_id": "fce3eee0-285b-496f-9b36-30e976194736",
        "connected": true,
        "monitoring_status": "active",
        "data_updated_at": {"direct_deposit_allocations": "2021-01-08T00:00:00.000000+00:00"},
        "data_refreshed_at": {"direct_deposit_allocations": "2021-01-09T00:00:00.000000+00:00"},
        "end_user_id": "my_user_12345"
    })
}

/// A page of accounts with the given ids and next cursor.
pub(crate) fn accounts_page(ids: &[&str], next: Option<&str>) -> types::ListAccountsResponse {
    let data: Vec<_> = ids.iter().map(|id| account(id)).collect();
    serde_json::from_value(json!({
        "data": data,
        "meta": {"count": ids.len(), "next_cursor": next}
    }))
    .unwrap()
}

/// A Pinwheel error body.
pub(crate) fn error_body(
    error_type: &str,
    code: &str,
    message: &str,
    status: u16,
) -> types::ErrorResponse {
    serde_json::from_value(json!({
        "error": {"type": error_type, "code": code, "message": message, "status_code": status}
    }))
    .unwrap()
}

/// A file of `tests/it/fixtures/`: response bodies copied from the examples
/// of Pinwheel's OpenAPI document.
pub(crate) fn fixture(name: &str) -> String {
    let path = format!("{}/tests/it/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Sequential account ids, so the order of items is checkable.
pub(crate) fn ids(range: std::ops::Range<u32>) -> Vec<String> {
    range
        .map(|n| format!("00000000-0000-4000-8000-{n:012}"))
        .collect()
}
