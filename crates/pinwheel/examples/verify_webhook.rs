//! Verifies webhook deliveries the way an endpoint should: signature over the
//! raw body, freshness of the timestamp, then de-duplication on `event_id`;
//! and lists the webhooks registered for the key.
//!
//! Offline by default: deliveries are signed with the secret `test-secret`
//! and the webhook list comes from a local mock server. With
//! `PINWHEEL_API_SECRET` set, that secret signs and verifies, and the list
//! comes from Pinwheel.
//!
//! ```sh
//! cargo run -p pinwheel --example verify_webhook
//! ```

#![allow(
    clippy::print_stdout,
    reason = "an example shows its results on the terminal"
)]

use std::time::{SystemTime, UNIX_EPOCH};

use futures::TryStreamExt;
use httpmock::MockServer;
use pinwheel::webhook::{self, Begin, DeliveryLog, Verifier};
use pinwheel::{Client, SecretString, types};
use pinwheel_httpmock::MockServerExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let online = std::env::var(pinwheel::client::ENV_API_SECRET).ok();
    let secret = SecretString::from(online.clone().unwrap_or_else(|| "test-secret".to_owned()));
    let verifier = Verifier::new(secret.clone())?;
    let log = DeliveryLog::default();

    // A delivery as Pinwheel would send it, signed now.
    let body = br#"{"event": "account.added", "event_id": "5a141122-4235-4fa1-bd76-0628573880b0", "payload": {"account_id": "03bbc20e-bc39-464a-b4dc-4b63ffb7213d", "end_user_id": "my_user_12345", "platform_name": "Workday", "connected": true}}"#;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let headers = webhook::signed_headers(&secret, now, body);

    // Delivered twice, as at-least-once delivery allows.
    for attempt in 1..=2 {
        let envelope = verifier.parse(&headers, body)?;
        let Begin::New(receipt) = log.begin(envelope.event_id.clone()) else {
            println!(
                "delivery {attempt}: {} already processed, skipped",
                envelope.event_id
            );
            continue;
        };
        if let Some(added) = envelope.account_added()? {
            println!(
                "delivery {attempt}: {} for end user {:?} on {:?}",
                envelope.event, added.end_user_id, added.platform_name
            );
        }
        // Remembered only now that it was processed.
        log.commit(receipt);
    }

    // A body changed in transit is refused before it is parsed.
    let tampered = String::from_utf8_lossy(body).replace("Workday", "Evilcorp");
    match verifier.parse(&headers, tampered.as_bytes()) {
        Err(error) => println!("tampered delivery refused: {error}"),
        Ok(_) => println!("tampered delivery accepted?!"),
    }

    // The webhooks this key has registered.
    let mut mock = None;
    let client = if online.is_some() {
        Client::from_env()?
    } else {
        let server = mock_server().await?;
        let client = Client::builder(secret)
            .base_url(server.base_url())
            .build()?;
        mock = Some(server);
        client
    };
    let hooks: Vec<_> = client.webhooks().items().try_collect().await?;
    for hook in &hooks {
        println!(
            "registered: {:?} {:?} for {:?}",
            hook.url, hook.status, hook.enabled_events
        );
    }
    drop(mock);
    Ok(())
}

/// A mock Pinwheel with the example webhook of Pinwheel's API document.
async fn mock_server() -> Result<MockServer, serde_json::Error> {
    let server = MockServer::start_async().await;
    let page: types::ListWebhooksResponse = serde_json::from_value(serde_json::json!({
        "data": [{
            "url": "https://example.com/webhook_endpoint",
            "id": "ae0047bf-cd48-4f41-9fa2-2e578ca82969",
            "created_at": "2020-11-06T15:59:13.530178+00:00",
            "last_updated": "2020-11-06T16:00:00.530178+00:00",
            "enabled_events": ["income.added", "employment.added"],
            "status": "active",
            "version": "2023-04-18"
        }],
        "meta": {"count": 1, "next_cursor": null}
    }))?;
    server.list_webhooks(|_, then| {
        then.ok(&page);
    });
    Ok(server)
}
