//! Tests of the whole decision rule, kept apart from the module root because
//! the tables are long and the root should read as the API.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderValue, Method, StatusCode};
use proptest::prelude::*;

use super::*;

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);

/// A fixed wall clock so HTTP-date cases are exact.
fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// The context of an idempotent, replayable request with no deadline.
fn cx(attempt: u32) -> Context {
    Context {
        attempt,
        idempotent: true,
        replayable: true,
        elapsed: Duration::ZERO,
        deadline: None,
        now: now(),
    }
}

fn cx_for(method: &Method, attempt: u32) -> Context {
    Context {
        idempotent: is_idempotent(method),
        ..cx(attempt)
    }
}

/// A decision without its permit, so tables can compare it with `==`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Done,
    Retry(Duration, RetryReason),
    GiveUp(GiveUpReason),
}

fn outcome(decision: Decision) -> Outcome {
    match decision {
        Decision::Done => Outcome::Done,
        Decision::Retry { after, reason, .. } => Outcome::Retry(after, reason),
        Decision::GiveUp { reason } => Outcome::GiveUp(reason),
    }
}

/// Decides with an unlimited budget and the ceiling of every backoff, so the
/// delay is deterministic.
fn decide(config: &RetryConfig, attempt: &Attempt<'_>, cx: &Context) -> Outcome {
    outcome(config.decide(attempt, cx, &RetryBudget::unlimited(), &mut MaxJitter))
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(name, value)| {
            (
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            )
        })
        .collect()
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap()
}

#[test]
fn idempotent_methods() {
    let cases = [
        (Method::GET, true),
        (Method::HEAD, true),
        (Method::PUT, true),
        (Method::DELETE, true),
        (Method::OPTIONS, true),
        (Method::TRACE, true),
        (Method::POST, false),
        (Method::PATCH, false),
        (Method::CONNECT, false),
        (Method::from_bytes(b"PURGE").unwrap(), false),
    ];
    for (method, expected) in cases {
        assert_eq!(is_idempotent(&method), expected, "{method}");
    }
}

#[test]
fn default_config_values() {
    let config = RetryConfig::default();
    assert_eq!(config.max_attempts, 3);
    assert_eq!(config.transient_base, 100 * MS);
    assert_eq!(config.throttle_base, SEC);
    assert_eq!(config.max_backoff, 20 * SEC);
    assert_eq!(config.retry_after_cap, 60 * SEC);
    assert!(!config.retry_non_idempotent);
    let codes: Vec<u16> = config
        .retryable_statuses
        .iter()
        .map(|s| s.as_u16())
        .collect();
    assert_eq!(codes, [408, 429, 500, 502, 503, 504]);
    assert_eq!(RetryConfig::disabled().max_attempts, 1);
}

#[test]
fn statuses_for_get_and_post() {
    let config = RetryConfig::default();
    let empty = HeaderMap::new();
    // (status, outcome for GET, outcome for POST), with MaxJitter so the
    // first transient wait is exactly 100 ms and the first throttled one 1 s.
    let not_idempotent = Outcome::GiveUp(GiveUpReason::NotIdempotent);
    let cases = [
        (200, Outcome::Done, Outcome::Done),
        (201, Outcome::Done, Outcome::Done),
        (204, Outcome::Done, Outcome::Done),
        (301, Outcome::Done, Outcome::Done),
        (304, Outcome::Done, Outcome::Done),
        (400, Outcome::Done, Outcome::Done),
        (401, Outcome::Done, Outcome::Done),
        (403, Outcome::Done, Outcome::Done),
        (404, Outcome::Done, Outcome::Done),
        (409, Outcome::Done, Outcome::Done),
        (422, Outcome::Done, Outcome::Done),
        (501, Outcome::Done, Outcome::Done),
        (505, Outcome::Done, Outcome::Done),
        (599, Outcome::Done, Outcome::Done),
        (
            408,
            Outcome::Retry(100 * MS, RetryReason::Status(status(408))),
            not_idempotent,
        ),
        (
            429,
            Outcome::Retry(SEC, RetryReason::Throttled),
            not_idempotent,
        ),
        (
            500,
            Outcome::Retry(100 * MS, RetryReason::Status(status(500))),
            not_idempotent,
        ),
        (
            502,
            Outcome::Retry(100 * MS, RetryReason::Status(status(502))),
            not_idempotent,
        ),
        (
            503,
            Outcome::Retry(100 * MS, RetryReason::Status(status(503))),
            not_idempotent,
        ),
        (
            504,
            Outcome::Retry(100 * MS, RetryReason::Status(status(504))),
            not_idempotent,
        ),
    ];
    for (code, get, post) in cases {
        let attempt = Attempt::Response {
            status: status(code),
            headers: &empty,
        };
        assert_eq!(
            decide(&config, &attempt, &cx_for(&Method::GET, 1)),
            get,
            "GET {code}"
        );
        assert_eq!(
            decide(&config, &attempt, &cx_for(&Method::POST, 1)),
            post,
            "POST {code}"
        );
        assert_eq!(
            decide(&config, &attempt, &cx_for(&Method::PATCH, 1)),
            post,
            "PATCH {code}"
        );
    }
}

#[test]
fn transport_failures_for_get_and_post() {
    let config = RetryConfig::default();
    let not_idempotent = Outcome::GiveUp(GiveUpReason::NotIdempotent);
    let connect = Outcome::Retry(100 * MS, RetryReason::ConnectError);
    let timeout = Outcome::Retry(100 * MS, RetryReason::Timeout);
    let transport = Outcome::Retry(100 * MS, RetryReason::TransportError);
    let cases = [
        (Attempt::ConnectError, &connect, &connect),
        (Attempt::Timeout { sent: false }, &timeout, &timeout),
        (Attempt::Timeout { sent: true }, &timeout, &not_idempotent),
        (
            Attempt::TransportError { sent: false },
            &transport,
            &transport,
        ),
        (
            Attempt::TransportError { sent: true },
            &transport,
            &not_idempotent,
        ),
    ];
    for (attempt, get, post) in cases {
        assert_eq!(
            &decide(&config, &attempt, &cx_for(&Method::GET, 1)),
            get,
            "GET {attempt:?}"
        );
        assert_eq!(
            &decide(&config, &attempt, &cx_for(&Method::POST, 1)),
            post,
            "POST {attempt:?}"
        );
    }
}

#[test]
fn post_retried_when_opted_in() {
    let config = RetryConfig::default().with_retry_non_idempotent(true);
    let empty = HeaderMap::new();
    let cases = [
        (
            Attempt::Response {
                status: StatusCode::SERVICE_UNAVAILABLE,
                headers: &empty,
            },
            RetryReason::Status(StatusCode::SERVICE_UNAVAILABLE),
        ),
        (
            Attempt::Response {
                status: StatusCode::TOO_MANY_REQUESTS,
                headers: &empty,
            },
            RetryReason::Throttled,
        ),
        (Attempt::Timeout { sent: true }, RetryReason::Timeout),
        (
            Attempt::TransportError { sent: true },
            RetryReason::TransportError,
        ),
        (Attempt::ConnectError, RetryReason::ConnectError),
    ];
    for (attempt, reason) in cases {
        let decision = decide(&config, &attempt, &cx_for(&Method::POST, 1));
        assert!(
            matches!(decision, Outcome::Retry(_, r) if r == reason),
            "{attempt:?}: {decision:?}"
        );
    }
}

#[test]
fn custom_retryable_statuses() {
    let config = RetryConfig::default().with_retryable_statuses([StatusCode::CONFLICT]);
    let empty = HeaderMap::new();
    let response = |code| Attempt::Response {
        status: status(code),
        headers: &empty,
    };
    assert_eq!(
        decide(&config, &response(409), &cx(1)),
        Outcome::Retry(100 * MS, RetryReason::Status(StatusCode::CONFLICT))
    );
    assert_eq!(decide(&config, &response(503), &cx(1)), Outcome::Done);
    assert_eq!(decide(&config, &response(429), &cx(1)), Outcome::Done);
}

#[test]
fn attempts_exhausted() {
    let config = RetryConfig::default();
    let exhausted = Outcome::GiveUp(GiveUpReason::AttemptsExhausted);
    let cases = [
        (0, Outcome::Retry(100 * MS, RetryReason::ConnectError)),
        (1, Outcome::Retry(100 * MS, RetryReason::ConnectError)),
        (2, Outcome::Retry(200 * MS, RetryReason::ConnectError)),
        (3, exhausted),
        (4, Outcome::GiveUp(GiveUpReason::AttemptsExhausted)),
        (u32::MAX, Outcome::GiveUp(GiveUpReason::AttemptsExhausted)),
    ];
    for (attempt, expected) in cases {
        assert_eq!(
            decide(&config, &Attempt::ConnectError, &cx(attempt)),
            expected,
            "{attempt}"
        );
    }

    let disabled = RetryConfig::disabled();
    assert_eq!(
        decide(&disabled, &Attempt::ConnectError, &cx(1)),
        Outcome::GiveUp(GiveUpReason::AttemptsExhausted)
    );
    // Zero attempts allowed behaves like one.
    let zero = RetryConfig::default().with_max_attempts(0);
    assert_eq!(
        decide(&zero, &Attempt::ConnectError, &cx(1)),
        Outcome::GiveUp(GiveUpReason::AttemptsExhausted)
    );
}

/// A status, the response headers and the delay expected for them.
type HintCase<'a> = (u16, &'a [(&'a str, &'a str)], Duration);

#[test]
fn retry_after_sets_the_delay() {
    let config = RetryConfig::default();
    let in_45s = httpdate::fmt_http_date(now() + 45 * SEC);
    let in_2h = httpdate::fmt_http_date(now() + 7200 * SEC);
    let ago_90s = httpdate::fmt_http_date(now() - 90 * SEC);
    // (status, headers, expected delay); MaxJitter makes the computed
    // fallback exactly the ceiling: 1 s for 429 and 100 ms otherwise.
    let cases: &[HintCase<'_>] = &[
        (429, &[("retry-after", "7")], 7 * SEC),
        (503, &[("retry-after", "7")], 7 * SEC),
        (500, &[("retry-after", "7")], 7 * SEC),
        (429, &[("retry-after", "0")], Duration::ZERO),
        (429, &[("retry-after", &in_45s)], 45 * SEC),
        (503, &[("retry-after", &ago_90s)], Duration::ZERO),
        // Above the cap: clamped to 60 s, not obeyed and not ignored.
        (429, &[("retry-after", "3600")], 60 * SEC),
        (429, &[("retry-after", &in_2h)], 60 * SEC),
        (429, &[("retry-after", "99999999999999999999999")], 60 * SEC),
        // Unreadable values fall back to the computed backoff.
        (429, &[("retry-after", "-5")], SEC),
        (429, &[("retry-after", "2.5")], SEC),
        (429, &[("retry-after", "whenever")], SEC),
        (503, &[("retry-after", "")], 100 * MS),
        // The non-standard fallback header, and the precedence between them.
        (429, &[("x-retry-after-seconds", "4")], 4 * SEC),
        (503, &[("x-retry-after-seconds", "4000")], 60 * SEC),
        (
            429,
            &[("retry-after", "2"), ("x-retry-after-seconds", "4")],
            2 * SEC,
        ),
        (
            429,
            &[("retry-after", "nope"), ("x-retry-after-seconds", "4")],
            4 * SEC,
        ),
        (429, &[], SEC),
        (503, &[], 100 * MS),
    ];
    for (code, pairs, expected) in cases {
        let headers = headers(pairs);
        let attempt = Attempt::Response {
            status: status(*code),
            headers: &headers,
        };
        let decision = decide(&config, &attempt, &cx(1));
        assert!(
            matches!(decision, Outcome::Retry(after, _) if after == *expected),
            "{code} {pairs:?}: {decision:?}"
        );
    }
}

#[test]
fn retry_after_is_not_jittered() {
    let config = RetryConfig::default();
    let headers = headers(&[("retry-after", "5")]);
    let attempt = Attempt::Response {
        status: StatusCode::TOO_MANY_REQUESTS,
        headers: &headers,
    };
    let decision = config.decide(
        &attempt,
        &cx(1),
        &RetryBudget::unlimited(),
        &mut FixedJitter(0),
    );
    assert_eq!(
        outcome(decision),
        Outcome::Retry(5 * SEC, RetryReason::Throttled)
    );
}

#[test]
fn full_jitter_bounds() {
    let config = RetryConfig::default().with_max_attempts(u32::MAX);
    let budget = RetryBudget::unlimited();
    let delay = |attempt: u32, jitter: &mut dyn Jitter| match config.decide(
        &Attempt::ConnectError,
        &cx(attempt),
        &budget,
        jitter,
    ) {
        Decision::Retry { after, .. } => after,
        other => panic!("{other:?}"),
    };
    for attempt in [1, 2, 5, 20, 1000] {
        let ceiling = config.backoff_ceiling(RetryKind::Transient, attempt);
        assert_eq!(
            delay(attempt, &mut FixedJitter(0)),
            Duration::ZERO,
            "{attempt}"
        );
        assert_eq!(delay(attempt, &mut MaxJitter), ceiling, "{attempt}");
        assert_eq!(
            delay(attempt, &mut FixedJitter(1 << 31)),
            ceiling / 2,
            "{attempt}"
        );
        let mut rng = ThreadRngJitter;
        for _ in 0..200 {
            assert!(delay(attempt, &mut rng) <= ceiling, "{attempt}");
        }
    }
}

#[test]
fn exponential_growth_with_separate_bases() {
    let config = RetryConfig::default();
    // (attempt, transient and timeout ceiling, throttled ceiling)
    let cases = [
        (1, 100 * MS, SEC),
        (2, 200 * MS, 2 * SEC),
        (3, 400 * MS, 4 * SEC),
        (4, 800 * MS, 8 * SEC),
        (5, 1600 * MS, 16 * SEC),
        (6, 3200 * MS, 20 * SEC),
        (8, 12800 * MS, 20 * SEC),
        (9, 20 * SEC, 20 * SEC),
        (1000, 20 * SEC, 20 * SEC),
        (u32::MAX, 20 * SEC, 20 * SEC),
    ];
    for (attempt, transient, throttled) in cases {
        assert_eq!(
            config.backoff_ceiling(RetryKind::Transient, attempt),
            transient,
            "{attempt}"
        );
        assert_eq!(
            config.backoff_ceiling(RetryKind::Timeout, attempt),
            transient,
            "{attempt}"
        );
        assert_eq!(
            config.backoff_ceiling(RetryKind::Throttled, attempt),
            throttled,
            "{attempt}"
        );
    }

    // The same through `decide`, with a 429 and a 503 carrying no hint.
    let config = config.with_max_attempts(u32::MAX);
    let empty = HeaderMap::new();
    let throttled = Attempt::Response {
        status: StatusCode::TOO_MANY_REQUESTS,
        headers: &empty,
    };
    let unavailable = Attempt::Response {
        status: StatusCode::SERVICE_UNAVAILABLE,
        headers: &empty,
    };
    // Attempt u32::MAX is excluded because it exhausts even this limit.
    for (attempt, transient, throttle) in cases.into_iter().filter(|c| c.0 < u32::MAX) {
        assert_eq!(
            decide(&config, &throttled, &cx(attempt)),
            Outcome::Retry(throttle, RetryReason::Throttled),
            "{attempt}"
        );
        assert_eq!(
            decide(&config, &unavailable, &cx(attempt)),
            Outcome::Retry(
                transient,
                RetryReason::Status(StatusCode::SERVICE_UNAVAILABLE)
            ),
            "{attempt}"
        );
    }
}

#[test]
fn backoff_saturates_at_attempt_1000() {
    let huge = RetryConfig::default()
        .with_max_attempts(u32::MAX)
        .with_transient_base(Duration::MAX)
        .with_max_backoff(Duration::MAX);
    assert_eq!(
        huge.backoff_ceiling(RetryKind::Transient, 1000),
        Duration::MAX
    );
    assert_eq!(huge.backoff_ceiling(RetryKind::Transient, 2), Duration::MAX);
    assert_eq!(
        outcome(huge.decide(
            &Attempt::ConnectError,
            &cx(1000),
            &RetryBudget::unlimited(),
            &mut MaxJitter
        )),
        Outcome::Retry(Duration::MAX, RetryReason::ConnectError)
    );

    let uncapped = RetryConfig::default().with_max_backoff(Duration::MAX);
    assert_eq!(
        uncapped.backoff_ceiling(RetryKind::Transient, 32),
        100 * MS * (1 << 31)
    );
    assert_eq!(
        uncapped.backoff_ceiling(RetryKind::Transient, 33),
        Duration::MAX
    );
    assert_eq!(
        uncapped.backoff_ceiling(RetryKind::Throttled, 1000),
        Duration::MAX
    );

    let zero = RetryConfig::default().with_transient_base(Duration::ZERO);
    assert_eq!(
        zero.backoff_ceiling(RetryKind::Transient, 1000),
        Duration::ZERO
    );
}

#[test]
fn deadline_gives_up() {
    let config = RetryConfig::default();
    let long_wait = headers(&[("retry-after", "30")]);
    let throttled = Attempt::Response {
        status: StatusCode::TOO_MANY_REQUESTS,
        headers: &long_wait,
    };
    let too_late = Outcome::GiveUp(GiveUpReason::DeadlineExceeded);
    // (attempt, elapsed, deadline, expected); MaxJitter waits 100 ms on a
    // connect error and the 429 asks for 30 s.
    let cases = [
        (
            Attempt::ConnectError,
            Duration::ZERO,
            Some(10 * SEC),
            Outcome::Retry(100 * MS, RetryReason::ConnectError),
        ),
        (
            Attempt::ConnectError,
            9899 * MS,
            Some(10 * SEC),
            Outcome::Retry(100 * MS, RetryReason::ConnectError),
        ),
        (
            Attempt::ConnectError,
            9900 * MS,
            Some(10 * SEC),
            Outcome::GiveUp(GiveUpReason::DeadlineExceeded),
        ),
        (
            Attempt::ConnectError,
            11 * SEC,
            Some(10 * SEC),
            Outcome::GiveUp(GiveUpReason::DeadlineExceeded),
        ),
        (
            Attempt::ConnectError,
            Duration::MAX,
            Some(10 * SEC),
            Outcome::GiveUp(GiveUpReason::DeadlineExceeded),
        ),
        (
            Attempt::ConnectError,
            11 * SEC,
            None,
            Outcome::Retry(100 * MS, RetryReason::ConnectError),
        ),
        (throttled, SEC, Some(20 * SEC), too_late),
        (
            throttled,
            SEC,
            Some(40 * SEC),
            Outcome::Retry(30 * SEC, RetryReason::Throttled),
        ),
    ];
    for (attempt, elapsed, deadline, expected) in cases {
        let cx = Context {
            elapsed,
            deadline,
            ..cx(1)
        };
        assert_eq!(
            decide(&config, &attempt, &cx),
            expected,
            "{attempt:?} {elapsed:?} {deadline:?}"
        );
    }
}

#[test]
fn body_not_replayable_gives_up() {
    let config = RetryConfig::default();
    let empty = HeaderMap::new();
    let unavailable = Attempt::Response {
        status: StatusCode::SERVICE_UNAVAILABLE,
        headers: &empty,
    };
    let ok = Attempt::Response {
        status: StatusCode::OK,
        headers: &empty,
    };
    let streamed = Context {
        replayable: false,
        ..cx(1)
    };
    let not_replayable = Outcome::GiveUp(GiveUpReason::BodyNotReplayable);
    assert_eq!(decide(&config, &unavailable, &streamed), not_replayable);
    assert_eq!(
        decide(&config, &Attempt::ConnectError, &streamed),
        not_replayable
    );
    assert_eq!(
        decide(&config, &Attempt::Timeout { sent: true }, &streamed),
        not_replayable
    );
    // A final outcome is still just final.
    assert_eq!(decide(&config, &ok, &streamed), Outcome::Done);
}

#[test]
fn budget_stops_retries_during_an_outage_and_refills() {
    let config = RetryConfig::default();
    let budget = RetryBudget::default();
    let empty = HeaderMap::new();
    let unavailable = Attempt::Response {
        status: StatusCode::SERVICE_UNAVAILABLE,
        headers: &empty,
    };
    let ok = Attempt::Response {
        status: StatusCode::OK,
        headers: &empty,
    };

    // A sustained outage: every request is a GET that fails with 503 on all
    // of its attempts. Each request retries twice (attempts 1 and 2) and then
    // exhausts its attempts, spending 2 * 5 = 10 tokens, so 500 tokens pay
    // for exactly 100 retries across 50 requests.
    let mut retries = 0;
    let mut first_refusal = None;
    'outage: for request in 0..1000 {
        for attempt in 1..=3 {
            match config.decide(&unavailable, &cx(attempt), &budget, &mut FixedJitter(0)) {
                Decision::Retry { permit, .. } => {
                    assert_eq!(permit.cost(), 5);
                    retries += 1;
                }
                Decision::GiveUp {
                    reason: GiveUpReason::AttemptsExhausted,
                } => break,
                Decision::GiveUp {
                    reason: GiveUpReason::BudgetExhausted,
                } => {
                    first_refusal = Some((request, attempt));
                    break 'outage;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(retries, 100);
    assert_eq!(first_refusal, Some((50, 1)));
    assert_eq!(budget.available(), 0);

    // Timeouts cost more, so they are refused too.
    assert_eq!(
        outcome(config.decide(
            &Attempt::Timeout { sent: false },
            &cx(1),
            &budget,
            &mut MaxJitter
        )),
        Outcome::GiveUp(GiveUpReason::BudgetExhausted)
    );

    // First-attempt successes refill one token each: four are not enough for
    // a 5-token retry, the fifth is.
    for _ in 0..4 {
        assert_eq!(
            outcome(config.decide(&ok, &cx(1), &budget, &mut MaxJitter)),
            Outcome::Done
        );
        budget.on_success(None);
    }
    assert_eq!(
        outcome(config.decide(&unavailable, &cx(1), &budget, &mut MaxJitter)),
        Outcome::GiveUp(GiveUpReason::BudgetExhausted)
    );
    budget.on_success(None);
    assert_eq!(budget.available(), 5);
    let Decision::Retry { permit, .. } =
        config.decide(&unavailable, &cx(1), &budget, &mut MaxJitter)
    else {
        panic!("five tokens pay for a retry");
    };
    assert_eq!(budget.available(), 0);

    // The retried request then succeeds, which refunds its retry in full.
    assert_eq!(
        outcome(config.decide(&ok, &cx(2), &budget, &mut MaxJitter)),
        Outcome::Done
    );
    budget.on_success(Some(permit));
    assert_eq!(budget.available(), 5);

    // Recovery: enough successes bring the bucket back to capacity and no
    // further.
    for _ in 0..1000 {
        budget.on_success(None);
    }
    assert_eq!(budget.available(), 500);
}

#[test]
fn budget_is_only_charged_for_real_retries() {
    let config = RetryConfig::default();
    let budget = RetryBudget::new(10);
    let empty = HeaderMap::new();
    let unavailable = Attempt::Response {
        status: StatusCode::SERVICE_UNAVAILABLE,
        headers: &empty,
    };
    let refused = [
        Context {
            attempt: 3,
            ..cx(1)
        },
        Context {
            replayable: false,
            ..cx(1)
        },
        Context {
            idempotent: false,
            ..cx(1)
        },
        Context {
            elapsed: 10 * SEC,
            deadline: Some(SEC),
            ..cx(1)
        },
    ];
    for cx in refused {
        assert!(matches!(
            config.decide(&unavailable, &cx, &budget, &mut MaxJitter),
            Decision::GiveUp { .. }
        ));
    }
    let ok = Attempt::Response {
        status: StatusCode::OK,
        headers: &empty,
    };
    assert_eq!(
        config.decide(&ok, &cx(1), &budget, &mut MaxJitter),
        Decision::Done
    );
    assert_eq!(budget.available(), 10);
}

#[test]
fn disabled_budget_refuses_every_retry() {
    let config = RetryConfig::default();
    let decision = config.decide(
        &Attempt::ConnectError,
        &cx(1),
        &RetryBudget::disabled(),
        &mut MaxJitter,
    );
    assert_eq!(
        outcome(decision),
        Outcome::GiveUp(GiveUpReason::BudgetExhausted)
    );
}

#[test]
fn reasons_display_in_lowercase() {
    let texts = [
        RetryReason::Throttled.to_string(),
        RetryReason::Status(StatusCode::BAD_GATEWAY).to_string(),
        RetryReason::ConnectError.to_string(),
        RetryReason::Timeout.to_string(),
        RetryReason::TransportError.to_string(),
        GiveUpReason::AttemptsExhausted.to_string(),
        GiveUpReason::BudgetExhausted.to_string(),
        GiveUpReason::NotIdempotent.to_string(),
        GiveUpReason::BodyNotReplayable.to_string(),
        GiveUpReason::DeadlineExceeded.to_string(),
        RetryKind::Throttled.to_string(),
    ];
    for text in &texts {
        assert!(!text.is_empty());
        assert_eq!(text, &text.to_lowercase());
    }
    assert_eq!(texts[1], "retryable status 502");
    assert_eq!(texts[6], "retry budget exhausted");
}

#[test]
fn reason_kinds() {
    let cases = [
        (RetryReason::Throttled, RetryKind::Throttled),
        (
            RetryReason::Status(StatusCode::SERVICE_UNAVAILABLE),
            RetryKind::Transient,
        ),
        (
            RetryReason::Status(StatusCode::REQUEST_TIMEOUT),
            RetryKind::Transient,
        ),
        (RetryReason::ConnectError, RetryKind::Transient),
        (RetryReason::TransportError, RetryKind::Transient),
        (RetryReason::Timeout, RetryKind::Timeout),
    ];
    for (reason, kind) in cases {
        assert_eq!(reason.kind(), kind, "{reason}");
    }
}

/// Any attempt outcome, including responses with arbitrary statuses and
/// arbitrary (visible ASCII) `Retry-After` values.
fn any_attempt() -> impl Strategy<Value = (u8, u16, Option<String>, bool)> {
    (
        0u8..4,
        100u16..600,
        proptest::option::of("[ -~]{0,40}|[0-9]{1,30}"),
        any::<bool>(),
    )
}

fn any_duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        (0u64..100_000_000_000).prop_map(Duration::from_nanos),
        (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
        Just(Duration::ZERO),
        Just(Duration::MAX),
    ]
}

proptest! {
    #[test]
    fn retry_delay_is_bounded_and_decide_never_panics(
        (kind, code, retry_after, sent) in any_attempt(),
        attempt in any::<u32>(),
        max_attempts in any::<u32>(),
        jitter in any::<u32>(),
        max_jitter in any::<bool>(),
        transient_base in any_duration(),
        throttle_base in any_duration(),
        max_backoff in any_duration(),
        retry_after_cap in any_duration(),
        elapsed in any_duration(),
        deadline in proptest::option::of(any_duration()),
        idempotent in any::<bool>(),
        replayable in any::<bool>(),
        now_secs in any::<u32>(),
        capacity in 0u32..50,
    ) {
        let config = RetryConfig::default()
            .with_max_attempts(max_attempts)
            .with_transient_base(transient_base)
            .with_throttle_base(throttle_base)
            .with_max_backoff(max_backoff)
            .with_retry_after_cap(retry_after_cap);
        let mut headers = HeaderMap::new();
        if let Some(value) = &retry_after {
            headers.insert(http::header::RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        }
        let attempt_outcome = match kind {
            0 => Attempt::Response { status: StatusCode::from_u16(code).unwrap(), headers: &headers },
            1 => Attempt::ConnectError,
            2 => Attempt::Timeout { sent },
            _ => Attempt::TransportError { sent },
        };
        let cx = Context {
            attempt,
            idempotent,
            replayable,
            elapsed,
            deadline,
            now: SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(now_secs)),
        };
        let budget = RetryBudget::new(capacity);
        let decision = if max_jitter {
            config.decide(&attempt_outcome, &cx, &budget, &mut MaxJitter)
        } else {
            config.decide(&attempt_outcome, &cx, &budget, &mut FixedJitter(jitter))
        };
        match decision {
            Decision::Retry { after, permit, .. } => {
                prop_assert!(after <= max_backoff.max(retry_after_cap));
                prop_assert!(attempt < max_attempts);
                prop_assert!(replayable);
                if let Some(deadline) = deadline {
                    prop_assert!(elapsed.saturating_add(after) < deadline);
                }
                prop_assert_eq!(budget.available() + permit.cost(), capacity);
            }
            Decision::Done | Decision::GiveUp { .. } => {
                prop_assert_eq!(budget.available(), capacity);
            }
        }
    }

    #[test]
    fn parse_retry_after_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64), now_secs in any::<u64>()) {
        if let Ok(value) = HeaderValue::from_bytes(&bytes) {
            let now = SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(now_secs)).unwrap_or(SystemTime::UNIX_EPOCH);
            let _ = parse_retry_after(&value, now);
        }
    }

    #[test]
    fn budget_stays_within_capacity(
        capacity in 0u32..200,
        steps in proptest::collection::vec((0u8..5, any::<bool>()), 0..200),
    ) {
        let budget = RetryBudget::new(capacity);
        let mut held = Vec::new();
        for (step, keep) in steps {
            match step {
                0 => held.extend(budget.try_withdraw(RetryKind::Transient)),
                1 => held.extend(budget.try_withdraw(RetryKind::Timeout)),
                2 => held.extend(budget.try_withdraw(RetryKind::Throttled)),
                3 => budget.on_success(None),
                _ => {
                    let permit = held.pop();
                    // A permit that is not refunded simply stays spent.
                    if keep { budget.on_success(permit) }
                }
            }
            prop_assert!(budget.available() <= capacity);
        }
    }
}
