//! The shared rate budget in a real Redis: two clients, and two processes,
//! stay under a limit a loopback server enforces, and the outage policy holds
//! when Redis stops and comes back.
//!
//! Each test starts its own `redis-server` on a free loopback port. The
//! binary must be installed (`cargo make test` installs it where it can);
//! without it these tests fail, unless `CLIENT_CORE_SKIP_REDIS=1` says to
//! skip them on purpose.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use client_core::call::{CallOptions, with_call};
use client_core::rate::RateLimit;
use client_core::redis_store::{OnUnavailable, RedisStore};
use client_core::testing::{RedisServer, Reply, ScriptedServer};
use client_core::{Operation, Runtime, SecretHeader, SecretString};
use http::HeaderName;

static OP: Operation = Operation {
    id: "get_thing",
    method: "GET",
    path: "/thing",
    extensions: &[],
};
const SECRET: &str = "firm-key-0123456789abcdef";
const LIMIT: u32 = 20;
const BURST: u32 = 2;

/// A Redis for one test, or None when skipping is explicitly allowed.
fn redis_server() -> Option<RedisServer> {
    if !RedisServer::available() {
        if std::env::var_os("CLIENT_CORE_SKIP_REDIS").is_some() {
            eprintln!("skipping: redis-server is not installed and CLIENT_CORE_SKIP_REDIS is set");
            return None;
        }
        panic!(
            "redis-server is not installed (apt-get install redis-server), or set CLIENT_CORE_SKIP_REDIS=1"
        );
    }
    Some(RedisServer::start().expect("redis-server did not start"))
}

/// A server that enforces `LIMIT` requests per second with bursts of `BURST`
/// (a GCRA, like the clients' quota) plus 15 ms of tolerance for loopback
/// jitter, answering 429 beyond it.
async fn limited_server() -> ScriptedServer {
    let state: Arc<Mutex<(Option<Instant>, VecDeque<Instant>)>> = Arc::default();
    ScriptedServer::start(move |_, _| {
        let interval = Duration::from_secs(1) / LIMIT;
        let now = Instant::now();
        let mut state = state.lock().unwrap();
        let tat = state.0.unwrap_or(now).max(now);
        let tolerance = interval * (BURST - 1) + Duration::from_millis(15);
        if now + tolerance < tat {
            return Reply::json(429, r#"{"Message": "rate limit"}"#);
        }
        state.0 = Some(tat + interval);
        Reply::json(200, "{}")
    })
    .await
    .unwrap()
}

fn runtime(store: RedisStore) -> Runtime {
    let secret = SecretHeader::new(
        HeaderName::from_static("apikey"),
        SecretString::from(SECRET),
    )
    .unwrap();
    let limit = RateLimit::per_second(NonZeroU32::new(LIMIT).unwrap())
        .with_burst(NonZeroU32::new(BURST).unwrap());
    Runtime::builder("redis-test")
        .secret_header(secret)
        .rate_limit(limit)
        .rate_store(Arc::new(store))
        .retry(client_core::retry::RetryConfig::disabled())
        .build()
}

/// Sends requests back to back for `duration` from three concurrent loops
/// (so a free slot of the budget is always taken at once); returns the statuses.
async fn load(runtime: Runtime, url: String, duration: Duration) -> Vec<u16> {
    let end = Instant::now() + duration;
    let loops = (0..3).map(|_| {
        let runtime = runtime.clone();
        let url = url.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut statuses = Vec::new();
            while Instant::now() < end {
                let request = http.get(format!("{url}/thing")).build().unwrap();
                statuses.push(
                    runtime
                        .exec(&http, request, &OP)
                        .await
                        .unwrap()
                        .status()
                        .as_u16(),
                );
            }
            statuses
        })
    });
    let mut statuses = Vec::new();
    for handle in loops.collect::<Vec<_>>() {
        statuses.extend(handle.await.unwrap());
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_share_one_budget() {
    let Some(redis) = redis_server() else { return };
    let server = limited_server().await;
    let a = tokio::spawn(load(
        runtime(RedisStore::new(&redis.url()).unwrap()),
        server.url(),
        Duration::from_secs(3),
    ));
    let b = tokio::spawn(load(
        runtime(RedisStore::new(&redis.url()).unwrap()),
        server.url(),
        Duration::from_secs(3),
    ));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    let throttled = a.iter().chain(&b).filter(|s| **s == 429).count();
    let sent = server.requests().len();
    let rate = server.achieved_rate().unwrap();
    println!("two clients: {sent} requests, {rate:.2}/s of {LIMIT}/s, {throttled} x 429");
    assert_eq!(throttled, 0, "together the clients stayed under the limit");
    assert!(!a.is_empty() && !b.is_empty(), "both clients got a share");
    assert!(
        rate >= 0.95 * f64::from(LIMIT),
        "reached {rate:.2}/s of {LIMIT}/s"
    );
}

#[test]
fn worker_process() {
    // Runs only when spawned by `two_processes_share_one_budget`.
    let (Ok(redis), Ok(server)) = (
        std::env::var("CC_WORKER_REDIS"),
        std::env::var("CC_WORKER_SERVER"),
    ) else {
        return;
    };
    let statuses = tokio::runtime::Runtime::new().unwrap().block_on(load(
        runtime(RedisStore::new(&redis).unwrap()),
        server,
        Duration::from_secs(3),
    ));
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    println!("WORKER sent={} throttled={throttled}", statuses.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_budget() {
    let Some(redis) = redis_server() else { return };
    let server = limited_server().await;
    let spawn = || {
        Command::new(std::env::current_exe().unwrap())
            .args([
                "redis::worker_process",
                "--exact",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("CC_WORKER_REDIS", redis.url())
            .env("CC_WORKER_SERVER", server.url())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    let outputs = tokio::task::spawn_blocking(move || {
        [
            first.wait_with_output().unwrap(),
            second.wait_with_output().unwrap(),
        ]
    })
    .await
    .unwrap();
    let mut per_process = Vec::new();
    for output in &outputs {
        let text = String::from_utf8_lossy(&output.stdout);
        let line = text
            .lines()
            .find_map(|l| l.find("WORKER").map(|at| &l[at..]))
            .unwrap_or_else(|| panic!("no worker report in {text}"));
        let numbers: Vec<usize> = line
            .split(['=', ' '])
            .filter_map(|t| t.parse().ok())
            .collect();
        per_process.push((numbers[0], numbers[1]));
    }
    let sent = server.requests().len();
    // Measured at the server, from the first to the last request, so process
    // start-up is not counted as idle time.
    let rate = server.achieved_rate().unwrap();
    println!("two processes: {per_process:?}, {sent} requests, {rate:.2}/s of {LIMIT}/s");
    assert!(
        per_process.iter().all(|(sent, _)| *sent > 0),
        "both processes sent"
    );
    assert_eq!(
        per_process
            .iter()
            .map(|(_, throttled)| throttled)
            .sum::<usize>(),
        0,
        "no 429 at all"
    );
    assert!(
        rate >= 0.95 * f64::from(LIMIT),
        "reached {rate:.2}/s of {LIMIT}/s"
    );
}

async fn one_call(runtime: &Runtime, url: &str) -> (u16, client_core::call::CallReport) {
    let http = reqwest::Client::new();
    let request = http.get(format!("{url}/thing")).build().unwrap();
    let (result, report) =
        with_call(CallOptions::default(), runtime.exec(&http, request, &OP)).await;
    (result.unwrap().unwrap().status().as_u16(), report)
}

#[tokio::test]
async fn an_outage_falls_back_to_local_and_recovers() {
    let Some(mut redis) = redis_server() else {
        return;
    };
    let server = ScriptedServer::start(|_, _| Reply::json(200, "{}"))
        .await
        .unwrap();
    let store = RedisStore::new(&redis.url())
        .unwrap()
        .with_probe_interval(Duration::from_millis(200));
    let runtime = runtime(store);
    let key = RedisStore::redis_key(runtime.limiter_key());
    assert_eq!(one_call(&runtime, &server.url()).await.0, 200);
    assert!(
        redis_get(&redis.url(), &key).await.is_some(),
        "the budget is held in Redis"
    );

    redis.stop();
    for _ in 0..5 {
        let (status, report) = one_call(&runtime, &server.url()).await;
        assert_eq!(
            (status, report.rate_store_error),
            (200, None),
            "calls go on with the local limiter"
        );
    }
    assert!(redis.restart());
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The first call after the probe interval reconnects; the budget is in Redis again.
    for _ in 0..3 {
        assert_eq!(one_call(&runtime, &server.url()).await.0, 200);
    }
    assert!(
        redis_get(&redis.url(), &key).await.is_some(),
        "the shared budget applies again after recovery"
    );
    assert_eq!(server.requests().len(), 9);
}

#[tokio::test]
async fn an_outage_fails_calls_when_the_policy_says_so() {
    let Some(mut redis) = redis_server() else {
        return;
    };
    let server = ScriptedServer::start(|_, _| Reply::json(200, "{}"))
        .await
        .unwrap();
    let store = RedisStore::new(&redis.url())
        .unwrap()
        .with_policy(OnUnavailable::Fail)
        .with_probe_interval(Duration::from_millis(200));
    let runtime = runtime(store);
    assert_eq!(one_call(&runtime, &server.url()).await.0, 200);
    redis.stop();
    let (status, report) = one_call(&runtime, &server.url()).await;
    assert_eq!(status, 503);
    assert!(report.rate_store_error.is_some());
    assert_eq!(report.attempts, 0);
    assert_eq!(
        server.requests().len(),
        1,
        "nothing was sent without the shared budget"
    );
    assert!(redis.restart());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(one_call(&runtime, &server.url()).await.0, 200);
}

#[tokio::test]
async fn no_redis_key_or_value_contains_the_secret() {
    let Some(redis) = redis_server() else { return };
    let server = ScriptedServer::start(|_, _| Reply::json(200, "{}"))
        .await
        .unwrap();
    let runtime = runtime(RedisStore::new(&redis.url()).unwrap());
    for _ in 0..3 {
        one_call(&runtime, &server.url()).await;
    }
    let client = redis::Client::open(redis.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(!keys.is_empty());
    for key in keys {
        let value: String = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .unwrap();
        assert!(
            !key.contains(SECRET) && !value.contains(SECRET),
            "{key} = {value}"
        );
        assert!(key.starts_with("client-core:rate:redis-test:"), "{key}");
    }
}

async fn redis_get(url: &str, key: &str) -> Option<String> {
    let client = redis::Client::open(url).ok()?;
    let mut connection = client.get_multiplexed_async_connection().await.ok()?;
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut connection)
        .await
        .ok()
}
