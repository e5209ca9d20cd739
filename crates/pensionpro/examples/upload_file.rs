//! Uploads a file to a project: the multipart request PensionPro expects,
//! streamed from disk, within the limit of two uploads at a time.
//!
//! Offline by default against a mock PensionPro on loopback; with
//! `PENSIONPRO_API_KEY` and `PENSIONPRO_USERNAME` set it uploads for real (to
//! the project id given as the second argument).
//!
//! ```text
//! cargo run -p pensionpro --example upload_file -- path/to/census.csv 42
//! ```

#![allow(clippy::print_stdout, reason = "an example prints its results")]

use httpmock::MockServer;
use pensionpro::files::FileSource;
use pensionpro::{Client, types};
use pensionpro_httpmock::MockServerExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next();
    let project_id: i32 = args.next().map(|id| id.parse()).transpose()?.unwrap_or(42);

    let live = std::env::var_os("PENSIONPRO_API_KEY").is_some()
        && std::env::var_os("PENSIONPRO_USERNAME").is_some();
    let server = if live {
        None
    } else {
        Some(mock_server().await)
    };
    let client = match &server {
        None => Client::from_env()?,
        Some(server) => Client::builder()
            .api_key("offline-example-key-0000")
            .username("offline.example")
            .base_url(server.base_url())
            .build()?,
    };

    let (name, file) = match path {
        Some(path) => {
            let file = tokio::fs::File::open(&path).await?;
            let length = file.metadata().await?.len();
            let name = std::path::Path::new(&path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "upload.bin".to_owned());
            (
                name.clone(),
                FileSource::from_reader(name, file).with_length(length),
            )
        }
        None => (
            "census.csv".to_owned(),
            FileSource::from_bytes("census.csv", "ssn_last4,hours\n1234,1040\n")
                .with_content_type("text/csv"),
        ),
    };
    let metadata = types::ProjectFile {
        project_id: Some(project_id),
        title: Some(name),
        show_on_web: Some(false),
        archived: Some(false),
        has_been_warned: Some(false),
        ..Default::default()
    };
    let created = client.upload(&metadata, file).await?;
    println!(
        "uploaded {:?} as project file {}",
        created.title.unwrap_or_default(),
        created.id.unwrap_or_default()
    );
    Ok(())
}

async fn mock_server() -> MockServer {
    let server = MockServer::start_async().await;
    server.create_project_file(|when, then| {
        when.into_inner()
            .header_exists("apikey")
            .body_includes(r#"name="ProjectFile""#)
            .body_includes(r#"name="file""#);
        then.ok(&types::ProjectFile {
            id: Some(5150),
            project_id: Some(42),
            title: Some("census.csv".into()),
            ..Default::default()
        });
    });
    server
}
