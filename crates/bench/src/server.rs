//! A minimal hyper server on loopback, so the benchmarks measure the clients
//! and not the server: keep-alive HTTP/1.1, canned bodies, optional latency,
//! an optional rate limit it enforces with 429s, and PensionPro-style paging.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// What the server does.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Added before every answer.
    pub latency: Duration,
    /// At most this many requests per `window` (GCRA, burst = the count); beyond: 429.
    pub limit: Option<(u32, Duration)>,
    /// Serve `$top`/`$skip` pages over this many PensionPro-shaped rows.
    pub rows: Option<u64>,
    /// The body of every other answer.
    pub body: Bytes,
}

/// Counters the benchmarks read.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests received.
    pub requests: AtomicU64,
    /// 429s sent.
    pub throttled: AtomicU64,
    /// List requests (with `$skip`).
    pub pages: AtomicU64,
}

/// A running server, on a thread and runtime of its own so that its work
/// and scheduling do not mix with the client's being measured.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    /// What it counted.
    pub stats: Arc<Stats>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Server {
    /// The base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Starts a server with `behaviour` on its own thread.
    pub async fn start(behaviour: Behaviour) -> anyhow::Result<Self> {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let stats = Arc::new(Stats::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread_stats = Arc::clone(&stats);
        std::thread::Builder::new()
            .name("bench-server".into())
            .spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                runtime.block_on(async move {
                    let Ok(listener) = TcpListener::from_std(std_listener) else {
                        return;
                    };
                    tokio::select! {
                        _ = stopped => {}
                        _ = serve(listener, Arc::new(behaviour), thread_stats) => {}
                    }
                });
            })?;
        Ok(Self {
            addr,
            stats,
            stop: Some(stop),
        })
    }
}

async fn serve(listener: TcpListener, behaviour: Arc<Behaviour>, stats: Arc<Stats>) {
    let gcra: Arc<Mutex<Option<Instant>>> = Arc::default();
    while let Ok((stream, _)) = listener.accept().await {
        let _ = stream.set_nodelay(true);
        let stats = Arc::clone(&stats);
        let behaviour = Arc::clone(&behaviour);
        let gcra = Arc::clone(&gcra);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                answer(
                    request,
                    Arc::clone(&behaviour),
                    Arc::clone(&stats),
                    Arc::clone(&gcra),
                )
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    request: Request<Incoming>,
    behaviour: Arc<Behaviour>,
    stats: Arc<Stats>,
    gcra: Arc<Mutex<Option<Instant>>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    stats.requests.fetch_add(1, Ordering::Relaxed);
    if let Some((count, window)) = behaviour.limit {
        let interval = window / count.max(1);
        // Bursts of `count`, and 5 ms for loopback scheduling jitter (a real
        // server's window is far coarser).
        let tolerance = interval * count.saturating_sub(1) + Duration::from_millis(5);
        let now = Instant::now();
        let allowed = match gcra.lock() {
            Ok(mut tat) => {
                let current = tat.unwrap_or(now).max(now);
                if now + tolerance < current {
                    false
                } else {
                    *tat = Some(current + interval);
                    true
                }
            }
            Err(_) => true,
        };
        if !allowed {
            stats.throttled.fetch_add(1, Ordering::Relaxed);
            return Ok(json(
                429,
                Bytes::from_static(br#"{"Message": "API calls quota exceeded"}"#),
            ));
        }
    }
    if !behaviour.latency.is_zero() {
        tokio::time::sleep(behaviour.latency).await;
    }
    if let Some(rows) = behaviour.rows {
        let query = request.uri().query().unwrap_or_default();
        let value = |name: &str| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
                .and_then(|v| v.parse::<u64>().ok())
        };
        if query.contains("%24skip")
            || query.contains("$skip")
            || query.contains("%24top")
            || query.contains("$top")
        {
            stats.pages.fetch_add(1, Ordering::Relaxed);
        }
        let skip = value("%24skip").or_else(|| value("$skip")).unwrap_or(0);
        let top = value("%24top")
            .or_else(|| value("$top"))
            .unwrap_or(1000)
            .min(1000);
        return Ok(json(200, page(rows, skip, top)));
    }
    Ok(json(200, behaviour.body.clone()))
}

fn json(status: u16, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// A page of PensionPro plans `{Values, TotalCount}` with ids `skip+1..`.
pub fn page(rows: u64, skip: u64, top: u64) -> Bytes {
    let end = rows.min(skip.saturating_add(top));
    let mut body = String::with_capacity(((end.saturating_sub(skip)) as usize) * 120 + 64);
    body.push_str(r#"{"Values":["#);
    for id in skip..end {
        if id > skip {
            body.push(',');
        }
        body.push_str(&format!(
            r#"{{"Id":{},"Name":"Plan {} 401(k)","DataKey":"1d450f452c4c29d70806d0ef003a943b1565e50a","IsDeactivated":false}}"#,
            id + 1,
            id + 1
        ));
    }
    body.push_str(&format!(r#"],"TotalCount":{rows}}}"#));
    Bytes::from(body)
}
