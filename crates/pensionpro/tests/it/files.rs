//! Uploads and downloads: the multipart shape, streaming, credentials only
//! for the PensionPro host, and never more than two transfers of a kind at
//! once however many the application starts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use pensionpro::files::FileSource;
use pensionpro::{Error, types};
use serde_json::json;

use crate::support::{KEY, Request, Response, client, serve};

#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    max: AtomicUsize,
    total: AtomicUsize,
}

impl Gauge {
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        self.total.fetch_add(1, Ordering::SeqCst);
    }

    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_than_two_uploads_are_ever_in_flight() {
    let gauge = Arc::new(Gauge::default());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let (server_gauge, server_bodies) = (Arc::clone(&gauge), Arc::clone(&bodies));
    let url = serve(move |request: Request| {
        let gauge = Arc::clone(&server_gauge);
        let bodies = Arc::clone(&server_bodies);
        async move {
            assert_eq!(
                (request.method.as_str(), request.path.as_str()),
                ("POST", "/v2/projectfiles")
            );
            assert_eq!(request.headers["apikey"], KEY);
            gauge.enter();
            tokio::time::sleep(Duration::from_millis(100)).await;
            gauge.leave();
            let content_type = request.headers["content-type"].to_str().unwrap().to_owned();
            bodies
                .lock()
                .unwrap()
                .push((content_type, request.body.clone()));
            Response::json(&json!({"Id": 77, "ProjectId": 42, "Title": "census"}))
        }
    })
    .await;
    let client = client(&url);
    let uploads = (0..10).map(|i| {
        let client = client.clone();
        tokio::spawn(async move {
            let metadata = types::ProjectFile {
                project_id: Some(42),
                title: Some(format!("census {i}")),
                ..Default::default()
            };
            let file =
                FileSource::from_bytes(format!("census-{i}.csv"), format!("id,name\n{i},x\n"))
                    .with_content_type("text/csv");
            client.upload(&metadata, file).await
        })
    });
    for upload in futures::future::join_all(uploads).await {
        assert_eq!(upload.unwrap().unwrap().id, Some(77));
    }
    assert_eq!(gauge.total.load(Ordering::SeqCst), 10);
    let max = gauge.max.load(Ordering::SeqCst);
    assert_eq!(max, 2, "uploads in flight at once: {max}");

    let bodies = bodies.lock().unwrap();
    let (content_type, body) = &bodies[0];
    assert!(
        content_type.starts_with("multipart/form-data; boundary="),
        "{content_type}"
    );
    let body = String::from_utf8_lossy(body);
    assert!(body.contains(r#"name="ProjectFile""#), "{body}");
    assert!(body.contains(r#""ProjectId":42"#), "{body}");
    assert!(body.contains(r#"name="file"; filename="census-"#), "{body}");
    assert!(body.contains("Content-Type: text/csv"), "{body}");
}

#[tokio::test]
async fn an_upload_streams_from_a_reader() {
    let received = Arc::new(Mutex::new(Bytes::new()));
    let record = Arc::clone(&received);
    let url = serve(move |request: Request| {
        *record.lock().unwrap() = request.body.clone();
        async move { Response::json(&json!({"Id": 5, "PlanId": 9})) }
    })
    .await;
    let client = client(&url);
    let content = "x".repeat(200_000);
    let reader = std::io::Cursor::new(content.clone().into_bytes());
    let created = client
        .upload(
            &types::LegalPlanFile {
                plan_id: Some(9),
                ..Default::default()
            },
            FileSource::from_reader("plan.pdf", reader),
        )
        .await
        .unwrap();
    assert_eq!(created.id, Some(5));
    let body = received.lock().unwrap().clone();
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains(r#"name="LegalPlanFile""#));
    assert!(text.contains(&content), "the whole file was sent");
}

#[tokio::test]
async fn an_upload_without_the_files_category_is_the_pii_error() {
    let url = serve(|_| async {
        Response::status(
            401,
            &json!({"Message": "Authorization has been denied for this request."}),
        )
    })
    .await;
    let client = client(&url);
    let error = client
        .upload(
            &types::DistributionFile::default(),
            FileSource::from_bytes("a.txt", "a"),
        )
        .await
        .unwrap_err();
    match error {
        Error::PiiPermission {
            category, context, ..
        } => {
            assert_eq!(category, "Files");
            assert_eq!(context.operation_id, "create_distribution_file");
        }
        other => panic!("expected the PII error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_stream_and_never_exceed_two_at_once() {
    let gauge = Arc::new(Gauge::default());
    let server_gauge = Arc::clone(&gauge);
    let url = serve(move |request: Request| {
        let gauge = Arc::clone(&server_gauge);
        async move {
            assert_eq!(request.headers["apikey"], KEY);
            gauge.enter();
            tokio::time::sleep(Duration::from_millis(50)).await;
            gauge.leave();
            Response {
                status: 200,
                body: request.path.repeat(1000).into_bytes(),
            }
        }
    })
    .await;
    let client = client(&url);
    let downloads = (0..10).map(|i| {
        let client = client.clone();
        tokio::spawn(async move {
            let mut out = Vec::new();
            let written = client
                .download_to(&format!("/files/{i}"), &mut out)
                .await
                .unwrap();
            (written, out)
        })
    });
    for (i, download) in futures::future::join_all(downloads)
        .await
        .into_iter()
        .enumerate()
    {
        let (written, out) = download.unwrap();
        let expected = format!("/files/{i}").repeat(1000);
        assert_eq!(out, expected.as_bytes());
        assert_eq!(written as usize, expected.len());
    }
    assert_eq!(gauge.max.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_download_holds_its_slot_until_dropped() {
    let url = serve(|_| async {
        Response {
            status: 200,
            body: b"content".to_vec(),
        }
    })
    .await;
    let client = client(&url);
    let first = client.download("/a").await.unwrap();
    let second = client.download("/b").await.unwrap();
    // Both slots are taken: a third download waits.
    let third = tokio::time::timeout(Duration::from_millis(200), client.download("/c")).await;
    assert!(
        third.is_err(),
        "a third download started while two were open"
    );
    drop(first);
    let mut third = client.download("/c").await.unwrap();
    assert_eq!(
        third.next().await.unwrap().unwrap(),
        Bytes::from_static(b"content")
    );
    assert!(third.next().await.is_none());
    drop(second);
}

#[tokio::test]
async fn credentials_go_only_to_the_pensionpro_host() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let foreign = serve(move |request: Request| {
        record.lock().unwrap().push(
            request.headers.contains_key("apikey") || request.headers.contains_key("username"),
        );
        async {
            Response {
                status: 200,
                body: b"signed".to_vec(),
            }
        }
    })
    .await;
    let home = serve(|request: Request| async move {
        let authorised = request.headers.get("apikey").is_some_and(|v| v == KEY);
        Response {
            status: if authorised { 200 } else { 401 },
            body: b"home".to_vec(),
        }
    })
    .await;
    let client = client(&home);
    let mut out = Vec::new();
    client
        .download_to(&format!("{foreign}/bucket/file.pdf"), &mut out)
        .await
        .unwrap();
    assert_eq!(out, b"signed");
    assert_eq!(seen.lock().unwrap().as_slice(), [false]);
    let mut out = Vec::new();
    client
        .download_to(&format!("{home}/v2/files/1"), &mut out)
        .await
        .unwrap();
    assert_eq!(out, b"home");
}
