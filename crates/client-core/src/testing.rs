//! A scripted HTTP/1.1 server on loopback, for tests that need exact control
//! over what a server answers: a sequence of statuses, `Retry-After` headers,
//! slow or broken responses. Enabled by the `test-util` feature.
//!
//! httpmock matches requests to canned responses; these tests need the n-th
//! request to get the n-th answer, and faults no mock server offers (a
//! connection reset in the middle of a body), so the server is written here,
//! small and dependency-free.

pub mod examples;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Method, e.g. `GET`.
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Recorded {
    /// The value of header `name` (case-insensitive), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of query parameter `name` (not percent-decoded), if sent.
    pub fn query(&self, name: &str) -> Option<&str> {
        let query = self.target.split_once('?')?.1;
        query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key == name).then_some(value)
        })
    }
}

/// How the server answers one request.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Wait this long before sending anything.
    pub delay: Duration,
    /// A fault to inject.
    pub fault: Fault,
}

/// A way for a response to go wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// None: a well-formed response.
    #[default]
    None,
    /// Promise the whole body, send half of it, close the connection.
    ResetMidBody,
    /// Close the connection without answering.
    Close,
}

impl Reply {
    /// A response with `status` and a JSON body.
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into().into_bytes(),
            delay: Duration::ZERO,
            fault: Fault::None,
        }
    }

    /// A response with `status`, content type and raw body.
    pub fn raw(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            delay: Duration::ZERO,
            fault: Fault::None,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// Delays the whole response.
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Injects a fault.
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.fault = fault;
        self
    }
}

type Script = dyn Fn(usize, &Recorded) -> Reply + Send + Sync;

/// The server. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct ScriptedServer {
    address: std::net::SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    arrivals: Arc<Mutex<Vec<std::time::Instant>>>,
    in_flight: Arc<Mutex<(usize, usize)>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ScriptedServer {
    /// Starts a server on 127.0.0.1 whose answer to the n-th request (from 0)
    /// is `script(n, &request)`.
    pub async fn start(
        script: impl Fn(usize, &Recorded) -> Reply + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let arrivals: Arc<Mutex<Vec<std::time::Instant>>> = Arc::default();
        let in_flight: Arc<Mutex<(usize, usize)>> = Arc::default();
        let script: Arc<Script> = Arc::new(script);
        let task = {
            let requests = Arc::clone(&requests);
            let arrivals = Arc::clone(&arrivals);
            let in_flight = Arc::clone(&in_flight);
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let requests = Arc::clone(&requests);
                    let arrivals = Arc::clone(&arrivals);
                    let in_flight = Arc::clone(&in_flight);
                    let script = Arc::clone(&script);
                    tokio::spawn(async move {
                        let _ =
                            serve(stream, &requests, &arrivals, &in_flight, script.as_ref()).await;
                    });
                }
            })
        };
        Ok(Self {
            address,
            requests,
            arrivals,
            in_flight,
            task,
        })
    }

    /// The base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// When each request (in arrival order) was fully received.
    pub fn arrivals(&self) -> Vec<std::time::Instant> {
        self.arrivals.lock().map(|a| a.clone()).unwrap_or_default()
    }

    /// Requests per second between the first and the last arrival.
    pub fn achieved_rate(&self) -> Option<f64> {
        let arrivals = self.arrivals();
        let span = arrivals.last()?.duration_since(*arrivals.first()?);
        (arrivals.len() > 1).then(|| (arrivals.len() - 1) as f64 / span.as_secs_f64())
    }

    /// The largest number of requests the server was answering at once.
    pub fn max_in_flight(&self) -> usize {
        self.in_flight.lock().map(|c| c.1).unwrap_or_default()
    }
}

async fn serve(
    mut stream: TcpStream,
    requests: &Mutex<Vec<Recorded>>,
    arrivals: &Mutex<Vec<std::time::Instant>>,
    in_flight: &Mutex<(usize, usize)>,
    script: &Script,
) -> std::io::Result<()> {
    let Some(request) = read_request(&mut stream).await? else {
        return Ok(());
    };
    let index = {
        let mut all = requests
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?;
        all.push(request.clone());
        if let Ok(mut times) = arrivals.lock() {
            times.push(std::time::Instant::now());
        }
        all.len() - 1
    };
    if let Ok(mut counts) = in_flight.lock() {
        counts.0 += 1;
        counts.1 = counts.1.max(counts.0);
    }
    let reply = script(index, &request);
    tokio::time::sleep(reply.delay).await;
    let result = write_reply(&mut stream, &reply).await;
    if let Ok(mut counts) = in_flight.lock() {
        counts.0 = counts.0.saturating_sub(1);
    }
    result
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Recorded>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 || buffer.len() > 1 << 20 {
            return Ok(None);
        }
        buffer.extend_from_slice(chunk.get(..read).unwrap_or_default());
    };
    let head = String::from_utf8_lossy(buffer.get(..head_end).unwrap_or_default()).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer.get(head_end..).unwrap_or_default().to_vec();
    while body.len() < length {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(chunk.get(..read).unwrap_or_default());
    }
    Ok(Some(Recorded {
        method,
        target,
        headers,
        body,
    }))
}

async fn write_reply(stream: &mut TcpStream, reply: &Reply) -> std::io::Result<()> {
    if reply.fault == Fault::Close {
        return stream.shutdown().await;
    }
    let mut head = format!(
        "HTTP/1.1 {} Scripted\r\ncontent-length: {}\r\nconnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    match reply.fault {
        Fault::ResetMidBody => {
            let half = reply.body.get(..reply.body.len() / 2).unwrap_or_default();
            stream.write_all(half).await?;
            stream.flush().await?;
            // Closing with bytes still promised is what a reset looks like to the client.
            stream.shutdown().await
        }
        _ => {
            stream.write_all(&reply.body).await?;
            stream.shutdown().await
        }
    }
}

/// A `redis-server` child process on a free loopback port, for tests and
/// benchmarks of the shared rate store. Stopped when dropped.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    child: Option<std::process::Child>,
}

impl RedisServer {
    /// Whether a `redis-server` binary is on the PATH.
    pub fn available() -> bool {
        std::process::Command::new("redis-server")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Starts one (no persistence, loopback only), or `None` when
    /// `redis-server` is missing or does not come up within 10 s.
    pub fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let mut server = Self { port, child: None };
        server.restart().then_some(server)
    }

    /// The URL to connect to, e.g. `redis://127.0.0.1:40123/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Starts the server again on the same port; true once it accepts connections.
    pub fn restart(&mut self) -> bool {
        self.stop();
        let Ok(child) = std::process::Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
        else {
            return false;
        };
        self.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if std::time::Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    /// Stops the server (it can be restarted).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A task on the current runtime that, each time it runs, records how many
/// items `read` says have been read, and yields; it ends once `read`
/// reaches `items` and returns what it saw. A consumer that reads a stream
/// beside it shows whether the stream gave the thread back mid-way (see
/// [`crate::stream::cooperative`]).
pub fn watch_progress(
    read: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    items: usize,
) -> tokio::task::JoinHandle<std::collections::BTreeSet<usize>> {
    tokio::spawn(async move {
        let mut seen = std::collections::BTreeSet::new();
        loop {
            let now = read.load(std::sync::atomic::Ordering::SeqCst);
            seen.insert(now);
            if now >= items {
                return seen;
            }
            tokio::task::yield_now().await;
        }
    })
}
