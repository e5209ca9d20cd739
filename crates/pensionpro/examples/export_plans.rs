//! Exports every plan as CSV: the whole list walked page by page with
//! [`pensionpro::Client::list`], dates read leniently.
//!
//! Offline by default: it starts a mock PensionPro on loopback with 2,500
//! plans. With `PENSIONPRO_API_KEY` and `PENSIONPRO_USERNAME` set it talks to
//! the real API instead.
//!
//! ```text
//! cargo run -p pensionpro --example export_plans
//! ```

#![allow(clippy::print_stdout, reason = "an example prints its results")]

use std::num::NonZeroU32;

use futures::StreamExt;
use httpmock::MockServer;
use pensionpro::{Client, Query, dates, types};
use pensionpro_httpmock::MockServerExt;

const MOCK_PLANS: i32 = 2_500;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let live = std::env::var_os("PENSIONPRO_API_KEY").is_some()
        && std::env::var_os("PENSIONPRO_USERNAME").is_some();
    // The mock server must outlive the client's requests.
    let server = if live {
        None
    } else {
        Some(mock_server().await?)
    };
    let client = match &server {
        None => Client::from_env()?,
        Some(server) => Client::builder()
            .api_key("offline-example-key-0000")
            .username("offline.example")
            .base_url(server.base_url())
            .build()?,
    };

    println!("Id,Name,AddedOn,InternalPlanId");
    let mut plans = client.list(client.list_plans(), &Query::new());
    let mut count = 0;
    while let Some(plan) = plans.next().await {
        let plan = plan?;
        let added = dates::field(&plan.added_on)
            .map(|at| at.date().to_string())
            .unwrap_or_default();
        println!(
            "{},{:?},{},{}",
            plan.id.unwrap_or_default(),
            plan.name.unwrap_or_default(),
            added,
            plan.internal_plan_id.unwrap_or_default()
        );
        count += 1;
    }
    println!("# {count} plans in {} requests", client.requests_sent());
    Ok(())
}

/// A mock PensionPro whose plan list has `MOCK_PLANS` rows, served in the
/// overlapping windows a walk asks for.
async fn mock_server() -> Result<MockServer, Box<dyn std::error::Error>> {
    let server = MockServer::start_async().await;
    let page = 1000;
    let mut skip = 0;
    loop {
        let rows: Vec<serde_json::Value> = (skip..(skip + page).min(MOCK_PLANS))
            .map(|i| {
                serde_json::json!({
                    "Id": 300_000 + i,
                    "Name": format!("Client {i} 401(k) Plan"),
                    "AddedOn": "9/14/2012 12:00:00 AM",
                    "InternalPlanId": format!("P-{i:05}"),
                })
            })
            .collect();
        let body: types::PlanListResponse = serde_json::from_value(serde_json::json!({
            "Values": rows,
            "TotalCount": MOCK_PLANS,
        }))?;
        server.list_plans(|when, then| {
            when.skip(skip).top(NonZeroU32::new(1000)).orderby("Id");
            then.ok(&body);
        });
        if skip + page >= MOCK_PLANS {
            break;
        }
        // Windows overlap by one row (see the pagination module).
        skip += page - 1;
    }
    Ok(server)
}
