//! The scenarios of `cargo make bench`. Each returns rows of
//! `{metric, value, unit, goal?, met?}`; ratios are always against a baseline
//! measured in the same run.

use pensionpro::Call as _;
use pinwheel::Call as _;
use std::future::Future;
use std::num::{NonZeroU32, NonZeroUsize};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use futures::StreamExt;
use serde_json::{Value, json};

use crate::row;
use crate::server::{Behaviour, Server};

type Scenario = fn() -> Pin<Box<dyn Future<Output = anyhow::Result<Value>>>>;

/// Every scenario, in the order they run.
pub const ALL: &[(&str, Scenario)] = &[
    ("overhead", || Box::pin(overhead())),
    ("export", || Box::pin(export())),
    ("utilisation", || Box::pin(utilisation())),
    ("memory", || Box::pin(memory())),
    ("builds", || Box::pin(builds())),
];

/// d) `cargo xtask codegen --check` for both APIs with the xtask binary as
/// built (release if there is one, else debug; not built: not reported), and
/// the cold builds `cargo make bench-build` last measured.
async fn builds() -> anyhow::Result<Value> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let mut rows = Vec::new();
    let xtask = ["release", "debug"]
        .iter()
        .map(|profile| target.join(profile).join("xtask"))
        .find(|path| path.is_file());
    if let Some(xtask) = xtask {
        let started = Instant::now();
        let status = tokio::process::Command::new(&xtask)
            .args(["codegen", "--check"])
            .current_dir(&root)
            .stdout(std::process::Stdio::null())
            .status()
            .await?;
        let seconds = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            status.success(),
            "{} codegen --check failed",
            xtask.display()
        );
        let profile = xtask
            .parent()
            .and_then(|p| p.file_name())
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        rows.push(row(
            &format!("cargo xtask codegen --check, both APIs ({profile} xtask)"),
            seconds,
            "s",
            Some(("<= 5", seconds <= 5.0)),
        ));
    }
    if let Ok(text) = std::fs::read_to_string(target.join("bench/cold-builds.txt")) {
        for line in text.lines() {
            if let Some((krate, seconds)) = line.split_once(' ')
                && let Ok(seconds) = seconds.trim().parse::<f64>()
            {
                rows.push(row(
                    &format!("cold build of {krate} (last cargo make bench-build)"),
                    seconds,
                    "s",
                    None,
                ));
            }
        }
    }
    Ok(json!({ "rows": rows }))
}

const ACCOUNTS: &str = r#"{"meta":{"count":1,"next_cursor":null},"data":[{"id":"03bbc20e-bc39-464a-b4dc-4b63ffb7213d","created_at":"2021-01-06T15:59:13.530178+00:00","end_user_id":"u1","platform_id":"fce3eee0-285b-496f-9b36-30e976194736","connected":true,"monitoring_status":"active","data_refreshed_at":null,"data_updated_at":null}]}"#;
const PLANS: &str = r#"{"Values":[{"Id":1,"Name":"Plan 401(k)","DataKey":"1d450f452c4c29d70806d0ef003a943b1565e50a","IsDeactivated":false}],"TotalCount":1}"#;

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// A PensionPro client for walks of the bench server's plans.
fn walk_client(
    url: String,
    limit: client_core::rate::RateLimit,
    concurrency: NonZeroUsize,
    memory: usize,
) -> anyhow::Result<pensionpro::Client> {
    Ok(pensionpro::Client::builder()
        .api_key("k")
        .username("u")
        .base_url(url)
        .rate_limit(limit)
        .page_concurrency(concurrency)
        .page_memory(memory)
        .build()?)
}

fn pages(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap_or(NonZeroUsize::MIN)
}

fn unlimited() -> client_core::rate::RateLimit {
    client_core::rate::RateLimit::per_second(NonZeroU32::new(1_000_000).unwrap_or(NonZeroU32::MAX))
}

/// a) Per-request overhead of the full clients over plain reqwest (both
/// decode into the same generated type), on a keep-alive loopback server.
async fn overhead() -> anyhow::Result<Value> {
    const REQUESTS: usize = 2000;
    const REPETITIONS: usize = 5;
    let pinwheel_server = Server::start(Behaviour {
        body: Bytes::from_static(ACCOUNTS.as_bytes()),
        ..Behaviour::default()
    })
    .await?;
    let pensionpro_server = Server::start(Behaviour {
        body: Bytes::from_static(PLANS.as_bytes()),
        ..Behaviour::default()
    })
    .await?;

    let plain = reqwest::Client::new();
    let pinwheel = pinwheel::Client::builder("bench-secret")
        .base_url(pinwheel_server.url())
        .without_rate_limit()
        .build()?;
    let pensionpro = pensionpro::Client::builder()
        .api_key("bench-key")
        .username("bench")
        .base_url(pensionpro_server.url())
        .rate_limit(unlimited())
        .build()?;
    let accounts_url = format!("{}/accounts", pinwheel_server.url());
    let plans_url = format!("{}/v2/plans", pensionpro_server.url());

    // Warm up connections and allocators.
    for _ in 0..200 {
        plain_get::<pinwheel::types::ListAccountsResponse>(&plain, &accounts_url).await?;
        pinwheel.list_accounts().send().await?;
        pensionpro.list_plans().send().await?;
    }
    // Five repetitions of 400 rounds; every round times one request of each
    // series back to back, so a change in the machine's speed (a shared
    // 2-core VM whose loopback latency jumps between modes) hits all four
    // series alike. The reported ratio is the median of the five.
    let mut series: [Vec<Duration>; 4] = Default::default();
    let mut ratios: [Vec<f64>; 2] = Default::default();
    for _ in 0..REPETITIONS {
        let mut rep: [Vec<Duration>; 4] = Default::default();
        for _ in 0..REQUESTS / REPETITIONS {
            let started = Instant::now();
            plain_get::<pinwheel::types::ListAccountsResponse>(&plain, &accounts_url).await?;
            rep[0].push(started.elapsed());
            let started = Instant::now();
            pinwheel.list_accounts().send().await?;
            rep[1].push(started.elapsed());
            let started = Instant::now();
            plain_get::<pensionpro::types::PlanListResponse>(&plain, &plans_url).await?;
            rep[2].push(started.elapsed());
            let started = Instant::now();
            pensionpro.list_plans().send().await?;
            rep[3].push(started.elapsed());
        }
        ratios[0].push(median(&mut rep[1]).as_secs_f64() / median(&mut rep[0]).as_secs_f64());
        ratios[1].push(median(&mut rep[3]).as_secs_f64() / median(&mut rep[2]).as_secs_f64());
        for (all, part) in series.iter_mut().zip(rep) {
            all.extend(part);
        }
    }
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    let spread = |r: &mut Vec<f64>| {
        r.sort_by(f64::total_cmp);
        (
            r.get(r.len() / 2).copied().unwrap_or(f64::NAN),
            r.first().copied().unwrap_or(f64::NAN),
            r.last().copied().unwrap_or(f64::NAN),
        )
    };
    let (rp, rp_min, rp_max) = spread(&mut ratios[0]);
    let (rq, rq_min, rq_max) = spread(&mut ratios[1]);
    let [bp, wp, bq, wq] = series.map(|mut s| median(&mut s));
    Ok(json!({"rows": [
        row("plain reqwest, Pinwheel-shaped GET (median)", micros(bp), "us", None),
        row("pinwheel client, same GET (median)", micros(wp), "us", None),
        row("pinwheel / plain (median of 5 ratios of medians)", rp, "x", Some(("<= 1.05", rp <= 1.05))),
        row("pinwheel / plain, lowest and highest of the 5", rp_min, "x", None),
        row("", rp_max, "x", None),
        row("plain reqwest, PensionPro-shaped GET (median)", micros(bq), "us", None),
        row("pensionpro client, same GET (median)", micros(wq), "us", None),
        row("pensionpro / plain (median of 5 ratios of medians)", rq, "x", Some(("<= 1.05", rq <= 1.05))),
        row("pensionpro / plain, lowest and highest of the 5", rq_min, "x", None),
        row("", rq_max, "x", None),
        row("requests per series", REQUESTS as f64, "requests", None),
    ]}))
}

async fn plain_get<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: &str,
) -> anyhow::Result<T> {
    let bytes = client
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// b) Exporting 20,000 PensionPro rows (20 pages of 1000) from a server with
/// 50 ms latency and a scaled limit of 100 requests per 2 s: the client's
/// concurrent walk against sequential `$skip` paging, and against the
/// fastest the dependency between pages allows.
async fn export() -> anyhow::Result<Value> {
    const ROWS: u64 = 20_000;
    const LATENCY: Duration = Duration::from_millis(50);
    let behaviour = Behaviour {
        latency: LATENCY,
        limit: Some((100, Duration::from_secs(2))),
        rows: Some(ROWS),
        ..Behaviour::default()
    };
    let limit = client_core::rate::RateLimit::new(
        NonZeroU32::new(100).unwrap_or(NonZeroU32::MIN),
        Duration::from_secs(2),
    );

    // Baseline: the same generated call, one `$skip` page after the other.
    let server = Server::start(behaviour.clone()).await?;
    let client = pensionpro::Client::builder()
        .api_key("k")
        .username("u")
        .base_url(server.url())
        .rate_limit(limit)
        .build()?;
    let started = Instant::now();
    let mut rows = 0u64;
    let mut skip = 0;
    loop {
        let page = client
            .list_plans()
            .top(NonZeroU32::new(1000).unwrap_or(NonZeroU32::MIN))
            .skip(skip)
            .orderby("Id")
            .send()
            .await?;
        let values = page.into_inner().values.unwrap_or_default();
        rows += values.len() as u64;
        if values.len() < 1000 {
            break;
        }
        skip += 1000;
    }
    let sequential = started.elapsed();
    let sequential_requests = server.stats.requests.load(Ordering::Relaxed);
    anyhow::ensure!(rows == ROWS, "sequential walk read {rows} rows");

    // The client's walk, with enough pages in flight to use the budget.
    let server = Server::start(behaviour).await?;
    let concurrency = 20;
    // The default memory budget: rows are held as their text until taken,
    // so every page fits in it.
    let client = walk_client(
        server.url(),
        limit,
        pages(concurrency),
        pensionpro::pagination::DEFAULT_PAGE_MEMORY,
    )?;
    let started = Instant::now();
    let mut walk = client.list(client.list_plans(), &pensionpro::Query::new());
    let mut seen = 0u64;
    let mut last = 0i64;
    while let Some(plan) = walk.next().await {
        let id = plan?.id.unwrap_or_default() as i64;
        anyhow::ensure!(id == last + 1, "row {id} out of order after {last}");
        last = id;
        seen += 1;
    }
    let concurrent = started.elapsed();
    anyhow::ensure!(seen == ROWS, "walk read {seen} rows");
    let requests = server.stats.requests.load(Ordering::Relaxed);
    let throttled = server.stats.throttled.load(Ordering::Relaxed);

    // The same walk where the rate binds: 5 requests per second (bursts of
    // 5), so after the burst one request leaves every 200 ms. Bound: the
    // requests past the burst at that pace, plus the last one's latency.
    const RATE: u32 = 5;
    let rate_server = Server::start(Behaviour {
        latency: LATENCY,
        rows: Some(ROWS),
        ..Behaviour::default()
    })
    .await?;
    let rate_client = walk_client(
        rate_server.url(),
        client_core::rate::RateLimit::per_second(NonZeroU32::new(RATE).unwrap_or(NonZeroU32::MIN)),
        pages(concurrency),
        pensionpro::pagination::DEFAULT_PAGE_MEMORY,
    )?;
    let started = Instant::now();
    let mut walk = rate_client.list(rate_client.list_plans(), &pensionpro::Query::new());
    let mut rate_seen = 0u64;
    while let Some(plan) = walk.next().await {
        plan?;
        rate_seen += 1;
    }
    let rate_wall = started.elapsed();
    anyhow::ensure!(rate_seen == ROWS, "rate-bound walk read {rate_seen} rows");
    let rate_requests = rate_server.stats.requests.load(Ordering::Relaxed);
    let rate_bound = Duration::from_secs_f64(
        rate_requests.saturating_sub(u64::from(RATE)) as f64 / f64::from(RATE),
    ) + LATENCY;
    let to_rate_bound = rate_wall.as_secs_f64() / rate_bound.as_secs_f64();

    // Lower bound: the first page must arrive before the others can be
    // planned; with every other page in flight at once (the budget of 100
    // per 2 s covers all of them), that is two round trips.
    let bound = LATENCY * 2;
    let speedup = sequential.as_secs_f64() / concurrent.as_secs_f64();
    let to_bound = concurrent.as_secs_f64() / bound.as_secs_f64();
    Ok(json!({"rows": [
        row("rows exported", seen as f64, "rows", None),
        row("requests, sequential $skip baseline", sequential_requests as f64, "requests", None),
        row("requests, client walk", requests as f64, "requests", Some(("20 + total needs", requests <= 21))),
        row("429s received", throttled as f64, "responses", Some(("0", throttled == 0))),
        row("wall time, sequential baseline", sequential.as_secs_f64() * 1000.0, "ms", None),
        row("wall time, client walk", concurrent.as_secs_f64() * 1000.0, "ms", None),
        row("speed-up over sequential", speedup, "x", Some((">= 3", speedup >= 3.0))),
        row("wall time / latency bound (2 round trips)", to_bound, "x", Some(("<= 1.25", to_bound <= 1.25))),
        row("pages in flight (configured)", concurrency as f64, "pages", None),
        row("rate-bound walk (5 requests/s): requests", rate_requests as f64, "requests", None),
        row("rate-bound walk: wall time", rate_wall.as_secs_f64() * 1000.0, "ms", None),
        row("rate-bound walk: rate bound", rate_bound.as_secs_f64() * 1000.0, "ms", None),
        row("rate-bound walk: wall time / rate bound", to_rate_bound, "x", Some(("<= 1.25", to_rate_bound <= 1.25))),
    ]}))
}

/// c) Sustained calls against a server enforcing 20 requests per second:
/// achieved rate / limit and 429s, for one client, and for two OS processes
/// sharing one key through Redis (when `redis-server` is installed).
async fn utilisation() -> anyhow::Result<Value> {
    const LIMIT: u32 = 20;
    const SECONDS: u64 = 5;
    let behaviour = Behaviour {
        limit: Some((LIMIT, Duration::from_secs(1))),
        body: Bytes::from_static(PLANS.as_bytes()),
        ..Behaviour::default()
    };
    let server = Server::start(behaviour.clone()).await?;
    let started = Instant::now();
    load(&server.url(), None, Duration::from_secs(SECONDS)).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let sent = server.stats.requests.load(Ordering::Relaxed);
    let throttled = server.stats.throttled.load(Ordering::Relaxed);
    // What the server admits in `elapsed`: one burst, then the sustained rate.
    let admissible = |elapsed: f64| f64::from(LIMIT) + f64::from(LIMIT) * elapsed;
    let one = (sent - throttled) as f64 / admissible(elapsed);
    let mut rows = vec![
        row(
            "one client: accepted / what the limit admits",
            one,
            "x",
            Some((">= 0.95", one >= 0.95)),
        ),
        row(
            "one client: 429s",
            throttled as f64,
            "responses",
            Some(("0", throttled == 0)),
        ),
    ];

    match client_core::testing::RedisServer::start() {
        Some(redis) => {
            let server = Server::start(behaviour).await?;
            let exe = std::env::current_exe()?;
            let spawn = || {
                tokio::process::Command::new(&exe)
                    .args(["--child-load", &server.url(), &redis.url(), &SECONDS.to_string()])
                    .kill_on_drop(true)
                    .status()
            };
            let started = Instant::now();
            let (a, b) = tokio::join!(spawn(), spawn());
            anyhow::ensure!(a?.success() && b?.success(), "a load process failed");
            let elapsed = started.elapsed().as_secs_f64();
            let sent = server.stats.requests.load(Ordering::Relaxed);
            let throttled = server.stats.throttled.load(Ordering::Relaxed);
            let two = (sent - throttled) as f64 / admissible(elapsed);
            rows.push(row("two processes, one Redis store: accepted / what the limit admits", two, "x", Some((">= 0.95", two >= 0.95))));
            rows.push(row("two processes, one Redis store: 429s", throttled as f64, "responses", Some(("0", throttled == 0))));
        }
        None => rows.push(json!({"metric": "two processes, one Redis store", "value": "skipped: redis-server not installed"})),
    }
    Ok(json!({"rows": rows}))
}

/// Calls as fast as the client allows for `duration` from four loops.
async fn load(url: &str, redis: Option<&str>, duration: Duration) -> anyhow::Result<()> {
    let limit =
        client_core::rate::RateLimit::per_second(NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN));
    let mut builder = pensionpro::Client::builder()
        .api_key("shared-firm-key")
        .username("bench")
        .base_url(url)
        .rate_limit(limit)
        .retry(client_core::retry::RetryConfig::disabled());
    if let Some(redis) = redis {
        builder = builder.redis(redis)?;
    }
    let client = builder.build()?;
    let end = Instant::now() + duration;
    let loops = (0..4).map(|_| {
        let client = client.clone();
        async move {
            while Instant::now() < end {
                // A 429 is counted by the server; keep going.
                let _ = client.list_plans().send().await;
            }
        }
    });
    futures::future::join_all(loops).await;
    Ok(())
}

/// d) Peak memory streaming 100,000 rows against 1,000, each in a fresh process.
async fn memory() -> anyhow::Result<Value> {
    let exe = std::env::current_exe()?;
    let mut peaks = Vec::new();
    for (rows, concurrency, memory) in [
        (0u64, 1, "default"),
        (1_000, 1, "default"),
        (100_000, 1, "default"),
        (100_000, 4, "default"),
        (100_000, 4, "unbounded"),
    ] {
        let output = tokio::process::Command::new(&exe)
            .args([
                "--child-memory",
                &rows.to_string(),
                &concurrency.to_string(),
                memory,
            ])
            .output()
            .await?;
        anyhow::ensure!(
            output.status.success(),
            "memory child failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8_lossy(&output.stdout);
        let kib: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("peak_kib="))
            .context("child printed no peak")?
            .trim()
            .parse()?;
        peaks.push(kib);
    }
    // A page's weight in memory: the peak of a one-page walk over an empty
    // one (same process set-up, no rows).
    let page = peaks[1] as f64 - peaks[0] as f64;
    let sequential = peaks[2] as f64 - peaks[1] as f64;
    let concurrent = peaks[3] as f64 - peaks[1] as f64;
    let unbounded = peaks[4] as f64 - peaks[1] as f64;
    Ok(json!({"rows": [
        row("peak RSS, empty walk", peaks[0] as f64, "KiB", None),
        row("peak RSS, 1,000 rows (one page)", peaks[1] as f64, "KiB", None),
        row("peak RSS, 100,000 rows, 1 page in flight", peaks[2] as f64, "KiB", None),
        row("peak RSS, 100,000 rows, defaults (4 pages, 24 MiB)", peaks[3] as f64, "KiB", None),
        row("peak RSS, 100,000 rows, 4 pages, no memory budget", peaks[4] as f64, "KiB", None),
        row("one page in memory (a walk of 1,000 rows over an empty one)", page, "KiB", None),
        row("100k vs 1k rows, 1 in flight, in pages", sequential / page, "pages", Some(("<= 2", sequential <= 2.0 * page))),
        row("100k vs 1k rows, defaults, in pages", concurrent / page, "pages", Some(("<= 2", concurrent <= 2.0 * page))),
        row("100k vs 1k rows, 4 in flight without a budget, in pages", unbounded / page, "pages", None),
        row(
            "100k vs 1k rows, defaults, in MiB (the walk's budget is 24 MiB)",
            concurrent / 1024.0,
            "MiB",
            Some(("<= 24", concurrent <= (pensionpro::pagination::DEFAULT_PAGE_MEMORY / 1024) as f64)),
        ),
    ]}))
}

/// Child processes of the scenarios above.
pub fn child_mode(args: &[String]) -> Option<anyhow::Result<()>> {
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    };
    match args.first().map(String::as_str) {
        Some("--child-load") => {
            let (url, redis, seconds) = (args.get(1)?, args.get(2)?, args.get(3)?.parse().ok()?);
            Some(
                runtime().map_err(Into::into).and_then(|rt| {
                    rt.block_on(load(url, Some(redis), Duration::from_secs(seconds)))
                }),
            )
        }
        Some("--child-memory") => {
            let rows: u64 = args.get(1)?.parse().ok()?;
            let concurrency = NonZeroUsize::new(args.get(2)?.parse().ok()?)?;
            let memory: usize = match args.get(3).map(String::as_str) {
                Some("unbounded") => usize::MAX,
                _ => pensionpro::pagination::DEFAULT_PAGE_MEMORY,
            };
            Some(
                runtime()
                    .map_err(Into::into)
                    .and_then(|rt| rt.block_on(stream_rows(rows, concurrency, memory))),
            )
        }
        _ => None,
    }
}

#[allow(clippy::print_stdout, reason = "the parent reads the child's report")]
async fn stream_rows(rows: u64, concurrency: NonZeroUsize, memory: usize) -> anyhow::Result<()> {
    let server = Server::start(Behaviour {
        rows: Some(rows),
        ..Behaviour::default()
    })
    .await?;
    let client = walk_client(server.url(), unlimited(), concurrency, memory)?;
    let mut walk = client.list(client.list_plans(), &pensionpro::Query::new());
    let mut count = 0u64;
    while let Some(row) = walk.next().await {
        row?;
        count += 1;
    }
    anyhow::ensure!(count == rows, "streamed {count} of {rows}");
    let status = std::fs::read_to_string("/proc/self/status")?;
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .context("no VmHWM")?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .to_owned();
    println!("peak_kib={peak}");
    Ok(())
}
