//! Shared helpers: a client pointed at a loopback server, and a tiny hyper
//! server whose answers a test computes from each request (httpmock answers
//! from fixed mocks, which cannot change data between pages or measure how
//! many requests are in flight).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::Arc;

use bytes::Bytes;
use client_core::rate::RateLimit;
use client_core::retry::RetryConfig;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use pensionpro::Client;
use tokio::net::TcpListener;

pub(crate) const KEY: &str = "abcdefghijklmnopqrstuvwx";
pub(crate) const USER: &str = "jane.doe";

/// A client for `base_url` with test credentials, a generous rate limit and
/// no retries (so a failure shows on the first attempt).
pub(crate) fn client(base_url: &str) -> Client {
    Client::builder()
        .api_key(KEY)
        .username(USER)
        .base_url(base_url)
        .rate_limit(RateLimit::per_second(NonZeroU32::new(10_000).unwrap()))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

/// One request as the handler sees it.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: HashMap<String, String>,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Bytes,
}

/// What the handler answers.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

impl Response {
    pub(crate) fn json(value: &serde_json::Value) -> Self {
        Self {
            status: 200,
            body: serde_json::to_vec(value).unwrap(),
        }
    }

    pub(crate) fn status(status: u16, value: &serde_json::Value) -> Self {
        Self {
            status,
            body: serde_json::to_vec(value).unwrap(),
        }
    }
}

/// Serves `handler` on a loopback port until the test ends; returns the base URL.
pub(crate) async fn serve<F, Fut>(handler: F) -> String
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let handler = Arc::clone(&handler);
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<Incoming>| {
                    let handler = Arc::clone(&handler);
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let url =
                            reqwest::Url::parse(&format!("http://loopback{}", parts.uri)).unwrap();
                        let request = Request {
                            method: parts.method.to_string(),
                            path: url.path().to_owned(),
                            query: url.query_pairs().into_owned().collect(),
                            headers: parts.headers,
                            body,
                        };
                        let answer = handler(request).await;
                        let response = hyper::Response::builder()
                            .status(answer.status)
                            .header("content-type", "application/json")
                            .header("x-ratelimit-limit", "100")
                            .header("x-ratelimit-remaining", "99")
                            .body(Full::new(Bytes::from(answer.body)))
                            .unwrap();
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{address}")
}
