//! Lists completed 401(k) projects with a typed OData filter: the user's
//! search text is escaped, so it cannot change the query.
//!
//! Offline by default against a mock PensionPro on loopback; with
//! `PENSIONPRO_API_KEY` and `PENSIONPRO_USERNAME` set it queries the real API.
//!
//! ```text
//! cargo run -p pensionpro --example filter_projects -- "O'Brien"
//! ```

#![allow(clippy::print_stdout, reason = "an example prints its results")]

use futures::TryStreamExt;
use httpmock::MockServer;
use pensionpro::odata::{Query, field};
use pensionpro::{Client, types};
use pensionpro_httpmock::MockServerExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let search = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "O'Brien".to_owned());
    let query = Query::new()
        .filter(
            field("ProjectStatus.DisplayName")
                .eq("Completed")
                .and(field("Name").contains(search.as_str())),
        )
        .expand("Plan")
        .order_by_desc("CompletedOn");
    println!("$filter={}", query.filter_string().unwrap_or_default());

    let live = std::env::var_os("PENSIONPRO_API_KEY").is_some()
        && std::env::var_os("PENSIONPRO_USERNAME").is_some();
    let server = if live {
        None
    } else {
        Some(mock_server(&query).await?)
    };
    let client = match &server {
        None => Client::from_env()?,
        Some(server) => Client::builder()
            .api_key("offline-example-key-0000")
            .username("offline.example")
            .base_url(server.base_url())
            .build()?,
    };

    let projects: Vec<types::Project> = client
        .list(client.list_projects(), &query)
        .try_collect()
        .await?;
    for project in &projects {
        println!(
            "{:>8}  {:<40}  completed {}",
            project.id.unwrap_or_default(),
            project.name.as_deref().unwrap_or_default(),
            project.completed_on.as_deref().unwrap_or("-"),
        );
    }
    println!("# {} projects", projects.len());
    Ok(())
}

/// A mock that answers only the exact filter the query renders.
async fn mock_server(query: &Query) -> Result<MockServer, Box<dyn std::error::Error>> {
    let server = MockServer::start_async().await;
    let body: types::ProjectListResponse = serde_json::from_str(
        r#"{"Values": [
            {"Id": 9001, "Name": "O'Brien Dental 401(k) 2024 Annual", "CompletedOn": "2025-03-14T16:02:11Z"},
            {"Id": 8807, "Name": "O'Brien Dental 401(k) 2023 Annual", "CompletedOn": "2024-03-02T10:40:00Z"}
        ], "TotalCount": 2}"#,
    )?;
    let filter = query.filter_string().unwrap_or_default();
    server.list_projects(|when, then| {
        when.filter(filter.as_str())
            .expand("Plan")
            .orderby("CompletedOn desc,Id");
        then.ok(&body);
    });
    Ok(server)
}
