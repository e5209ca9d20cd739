//! The Admin API: a dashboard login becomes a bearer token that is sent,
//! never shown, to list, create and revoke keys.

use futures::TryStreamExt;
use httpmock::MockServer;
use pinwheel::admin::AdminClient;
use pinwheel::retry::RetryConfig;
use pinwheel::{Error, ExposeSecret, types};
use pinwheel_httpmock::MockServerExt;
use serde_json::json;

const USERNAME: &str = "ops@example.com";
const PASSWORD: &str = "dashboard-password-42";
const TOKEN: &str = "665ffb0f-3b65-483d-97be-2aeddfd54467";
const KEY: &str = "412cb238ff82788ae1678fbdb3623a75b44059aa07a6e915c3d99a750e7953b2";
const NEW_SECRET: &str = "23252c3d516ec1cf92822d8db03b04f59c22ac4810fb20752b5511e43340e771";

fn admin(server: &MockServer) -> AdminClient {
    AdminClient::builder(USERNAME, PASSWORD)
        .base_url(server.base_url())
        .retry(RetryConfig::disabled())
        .without_rate_limit()
        .build()
        .unwrap()
}

/// Mocks `POST /admin/token` for the test login, answering a token that
/// expires at `expiration`; no API secret may be sent.
fn login_mock<'a>(server: &'a MockServer, expiration: &str) -> httpmock::Mock<'a> {
    let request = types::CreateAdminTokenRequest {
        username: USERNAME.into(),
        password: PASSWORD.into(),
        unknown_fields: Default::default(),
    };
    let response: types::CreateAdminTokenResponse = serde_json::from_value(json!({"data": {
        "token": TOKEN,
        "expiration": expiration,
        "workspace_name": "Acme, Inc.",
        "mode": "production",
        "user_role": "administrator"
    }}))
    .unwrap();
    server.create_admin_token(|when, then| {
        when.body(&request)
            .into_inner()
            .header("pinwheel-version", pinwheel::API_VERSION)
            .header_missing("x-api-secret")
            .header_missing("authorization");
        then.ok(&response);
    })
}

fn keys_page() -> types::ListApiKeysResponse {
    serde_json::from_value(json!({
        "data": [{
            "mode": "production",
            "key": KEY,
            "expires_at": null,
            "created_at": "2023-03-24 21:37:00.650846+00:00",
            "last_used_at": "2023-03-24",
            "is_active": true,
            "revoked_at": null
        }],
        "meta": {"count": 1, "next_cursor": null}
    }))
    .unwrap()
}

#[tokio::test]
async fn login_then_list_create_and_revoke_with_the_bearer_token() {
    let server = MockServer::start_async().await;
    let bearer = format!("Bearer {TOKEN}");
    let login = login_mock(&server, "2099-01-01T00:00:00+00:00");
    let keys = keys_page();
    let list = server.list_api_keys(|when, then| {
        when.authorization(bearer.as_str())
            .into_inner()
            .header_missing("x-api-secret");
        then.ok(&keys);
    });
    let created: types::CreateApiKeyResponse = serde_json::from_value(json!({"data": {
        "mode": "production",
        "key": KEY,
        "secret": NEW_SECRET,
        "expires_at": null,
        "created_at": "2023-03-24 21:37:00.650846+00:00"
    }}))
    .unwrap();
    let create = server.create_api_key(|when, then| {
        when.authorization(bearer.as_str());
        then.ok(&created)
            .into_inner()
            .header("x-pinwheel-request-id", "req-create");
    });
    let revoked: types::RevokeApiKeyResponse = serde_json::from_value(json!({"data": {
        "mode": "production",
        "key": KEY,
        "expires_at": null,
        "created_at": "2023-03-20 13:02:21.987347+00:00",
        "revoked_at": "2023-03-24 21:37:00.768426+00:00"
    }}))
    .unwrap();
    let revoke = server.revoke_api_key(|when, then| {
        when.api_key(KEY).authorization(bearer.as_str());
        then.ok(&revoked);
    });

    let admin = admin(&server);
    let listed: Vec<_> = admin.keys().try_collect().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].key.as_deref(), Some(KEY));

    let key = admin.create_key(None).await.unwrap();
    assert_eq!(key.key, KEY);
    assert_eq!(key.secret.expose_secret(), NEW_SECRET);
    assert_eq!(key.request_id.as_deref(), Some("req-create"));
    let debug = format!("{key:?}");
    assert!(!debug.contains(NEW_SECRET), "{debug}");

    let done = admin.revoke_key(KEY).await.unwrap();
    assert!(done.revoked_at.is_some());

    // One login served all three calls.
    login.assert_calls_async(1).await;
    list.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    revoke.assert_calls_async(1).await;

    let debug = format!("{admin:?}");
    assert!(
        !debug.contains(PASSWORD) && !debug.contains(TOKEN),
        "{debug}"
    );
    assert!(debug.contains("logged_in: true"), "{debug}");
}

#[tokio::test]
async fn an_expired_token_is_replaced_before_the_next_call() {
    let server = MockServer::start_async().await;
    // The spec's example token expired in 2023.
    let login = login_mock(&server, "2023-03-24 21:37:00.650846+00:00");
    let keys = keys_page();
    server.list_api_keys(|_, then| {
        then.ok(&keys);
    });
    let admin = admin(&server);
    for _ in 0..2 {
        let listed: Vec<_> = admin.keys().try_collect().await.unwrap();
        assert_eq!(listed.len(), 1);
    }
    login.assert_calls_async(2).await;
}

#[tokio::test]
async fn a_refused_token_makes_the_next_call_log_in_again() {
    let server = MockServer::start_async().await;
    let login = login_mock(&server, "2099-01-01T00:00:00+00:00");
    let refused = server.list_api_keys(|_, then| {
        then.client_error(
            401,
            &crate::support::error_body("UNAUTHORIZED_REQUEST", "TOKEN_EXPIRED", "expired", 401),
        );
    });
    let admin = admin(&server);
    let error = admin.keys().try_collect::<Vec<_>>().await.unwrap_err();
    assert!(
        matches!(error.root(), Error::Unauthorized { .. }),
        "{error:?}"
    );
    refused.delete_async().await;
    let keys = keys_page();
    server.list_api_keys(|_, then| {
        then.ok(&keys);
    });
    let listed: Vec<_> = admin.keys().try_collect().await.unwrap();
    assert_eq!(listed.len(), 1);
    login.assert_calls_async(2).await;
}

#[tokio::test]
async fn a_failed_login_is_an_unauthorized_error_and_shows_no_password() {
    let server = MockServer::start_async().await;
    server.create_admin_token(|_, then| {
        then.client_error(
            401,
            &crate::support::error_body("UNAUTHORIZED_REQUEST", "INVALID_CREDENTIALS", "no", 401),
        )
        .into_inner()
        .header("x-pinwheel-request-id", "req-login");
    });
    let admin = admin(&server);
    let error = admin.login().await.unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    assert_eq!(error.request_id(), Some("req-login"));
    assert!(!format!("{error} {error:?}").contains(PASSWORD));
}
