//! A [`RateStore`] in Redis: one vendor budget shared by every process and
//! machine that uses the same credentials.
//!
//! A nightly sync, a webhook handler and a reporting job that limit
//! themselves alone together exceed a firm-wide limit; response headers only
//! say so afterwards. Here the GCRA state of each limiter key lives in Redis
//! and is updated atomically on the server: with redis-cell's `CL.THROTTLE`
//! when the server has the module, otherwise with a Lua script that does the
//! same arithmetic on Redis's own clock (so the clocks of the clients do not
//! matter).
//!
//! Keys are `client-core:rate:<vendor>:<fingerprint>`: the runtime's limiter
//! key, which holds a sha256 fingerprint of the credentials, never a secret.
//!
//! When Redis cannot be reached the store follows the [`OnUnavailable`]
//! policy chosen by the user: fall back to an in-process limiter with a
//! warning (the default: calls continue, each process then only holds its
//! own share), or fail the call. It probes Redis again after
//! [`RedisStore::with_probe_interval`] and logs when it is back.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::time::Instant;

use crate::rate::{Admission, InProcessStore, RateLimit, RateStore, StoreError, StoreFuture};

/// What to do when Redis cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnUnavailable {
    /// Use an in-process limiter with the same quota and log a warning. The
    /// budget is then held per process until Redis is back.
    #[default]
    FallBackToLocal,
    /// Fail the call: nothing is sent without the shared budget.
    Fail,
}

const KEY_PREFIX: &str = "client-core:rate:";

/// GCRA on the server's clock. KEYS[1]: the key. ARGV[1]: emission interval
/// in microseconds. ARGV[2]: burst tolerance in microseconds. Returns
/// `{allowed (1/0), wait in microseconds}`.
const GCRA: &str = r"
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now_us)
if tat < now_us then tat = now_us end
local allow_at = tat - tolerance
if now_us < allow_at then
  return {0, allow_at - now_us}
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now_us) / 1000) + 1000)
return {1, 0}
";

const CELL_UNKNOWN: u8 = 0;
const CELL_YES: u8 = 1;
const CELL_NO: u8 = 2;

/// A shared rate store in Redis.
pub struct RedisStore {
    client: redis::Client,
    connection: tokio::sync::Mutex<Option<ConnectionManager>>,
    policy: OnUnavailable,
    timeout: Duration,
    probe_interval: Duration,
    /// While Redis is unreachable: when to try it again.
    down_until: Mutex<Option<Instant>>,
    cell: AtomicU8,
    script: redis::Script,
    local: InProcessStore,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password; show only where it points.
        let info = self.client.get_connection_info();
        f.debug_struct("RedisStore")
            .field("addr", &info.addr().to_string())
            .field("policy", &self.policy)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store for the Redis at `url` (`redis://host:port/db`). Connecting
    /// happens on first use, so a Redis that is down at start-up is handled
    /// by the policy like any other outage.
    pub fn new(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|e| StoreError {
            message: format!("invalid Redis URL: {e}"),
        })?;
        Ok(Self {
            client,
            connection: tokio::sync::Mutex::new(None),
            policy: OnUnavailable::default(),
            timeout: Duration::from_millis(250),
            probe_interval: Duration::from_secs(1),
            down_until: Mutex::new(None),
            cell: AtomicU8::new(CELL_UNKNOWN),
            script: redis::Script::new(GCRA),
            local: InProcessStore::new(),
        })
    }

    /// What to do when Redis cannot be reached (default: fall back to local).
    pub fn with_policy(mut self, policy: OnUnavailable) -> Self {
        self.policy = policy;
        self
    }

    /// Connect and response timeout of each Redis call (default 250 ms): a
    /// slow Redis must not stall requests.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long to stop asking an unreachable Redis before probing it again (default 1 s).
    pub fn with_probe_interval(mut self, interval: Duration) -> Self {
        self.probe_interval = interval;
        self
    }

    /// The Redis key that holds the state of a limiter key.
    pub fn redis_key(limiter_key: &str) -> String {
        format!("{KEY_PREFIX}{limiter_key}")
    }

    async fn connection(&self) -> Result<ConnectionManager, redis::RedisError> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1)
            .set_max_delay(self.probe_interval);
        let connection = tokio::time::timeout(
            self.timeout * 2,
            ConnectionManager::new_with_config(self.client.clone(), config),
        )
        .await
        .map_err(|_| {
            redis::RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "connecting to Redis timed out",
            ))
        })??;
        *slot = Some(connection.clone());
        Ok(connection)
    }

    async fn acquire_remote(
        &self,
        key: &str,
        limit: &RateLimit,
    ) -> Result<Admission, redis::RedisError> {
        let mut connection = self.connection().await?;
        let redis_key = Self::redis_key(key);
        if self.cell.load(Ordering::Relaxed) != CELL_NO {
            match throttle_with_cell(&mut connection, &redis_key, limit).await {
                Ok(admission) => {
                    self.cell.store(CELL_YES, Ordering::Relaxed);
                    return Ok(admission);
                }
                Err(error)
                    if error.kind()
                        == redis::ErrorKind::Server(redis::ServerErrorKind::ResponseError) =>
                {
                    // No redis-cell module: use the script from now on.
                    self.cell.store(CELL_NO, Ordering::Relaxed);
                }
                Err(error) => return Err(error),
            }
        }
        let interval = micros(limit.interval());
        let tolerance = interval.saturating_mul(u64::from(limit.burst().get()).saturating_sub(1));
        let (allowed, wait): (i64, i64) = self
            .script
            .key(redis_key)
            .arg(interval)
            .arg(tolerance)
            .invoke_async(&mut connection)
            .await?;
        Ok(if allowed == 1 {
            Admission::Allowed
        } else {
            Admission::RetryIn(
                Duration::from_micros(u64::try_from(wait).unwrap_or(0))
                    .max(Duration::from_micros(1)),
            )
        })
    }

    fn is_down(&self) -> bool {
        let now = Instant::now();
        self.down_until
            .lock()
            .map(|until| until.is_some_and(|until| until > now))
            .unwrap_or(false)
    }

    fn mark(&self, reachable: bool, error: Option<&redis::RedisError>) {
        let Ok(mut until) = self.down_until.lock() else {
            return;
        };
        match (reachable, until.is_some()) {
            (true, true) => {
                tracing::info!("Redis rate store reachable again; the shared budget applies");
                *until = None;
            }
            (false, was_down) => {
                if !was_down {
                    tracing::warn!(
                        error = error.map(ToString::to_string).unwrap_or_default(),
                        policy = ?self.policy,
                        "Redis rate store unreachable"
                    );
                }
                *until = Some(Instant::now() + self.probe_interval);
            }
            (true, false) => {}
        }
    }
}

/// `CL.THROTTLE key max_burst count period 1` answers
/// `[limited, limit, remaining, retry_after_s, reset_after_s]`.
async fn throttle_with_cell(
    connection: &mut ConnectionManager,
    key: &str,
    limit: &RateLimit,
) -> Result<Admission, redis::RedisError> {
    let period = limit.per().as_secs().max(1);
    let count = limit.limit().get();
    let reply: Vec<i64> = redis::cmd("CL.THROTTLE")
        .arg(key)
        .arg(limit.burst().get().saturating_sub(1))
        .arg(count)
        .arg(period)
        .arg(1)
        .query_async(connection)
        .await?;
    Ok(cell_admission(&reply, limit))
}

/// Reads a `CL.THROTTLE` reply. Its retry time is in whole seconds, too
/// coarse for per-second limits, so a limited answer waits at least one
/// emission interval.
fn cell_admission(reply: &[i64], limit: &RateLimit) -> Admission {
    match reply {
        [0, ..] => Admission::Allowed,
        [_, _, _, retry_after, ..] => {
            let seconds = Duration::from_secs(u64::try_from(*retry_after).unwrap_or(0));
            Admission::RetryIn(seconds.max(limit.interval()))
        }
        _ => Admission::RetryIn(limit.interval()),
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

impl RateStore for RedisStore {
    fn acquire<'a>(
        &'a self,
        key: &'a str,
        limit: &'a RateLimit,
    ) -> StoreFuture<'a, Result<Admission, StoreError>> {
        Box::pin(async move {
            if !self.is_down() {
                match tokio::time::timeout(self.timeout * 2, self.acquire_remote(key, limit)).await
                {
                    Ok(Ok(admission)) => {
                        self.mark(true, None);
                        return Ok(admission);
                    }
                    Ok(Err(error)) => self.mark(false, Some(&error)),
                    Err(_) => self.mark(false, None),
                }
                // The next probe opens a fresh connection instead of waiting
                // for the old one's reconnect backoff.
                *self.connection.lock().await = None;
            }
            match self.policy {
                OnUnavailable::FallBackToLocal => self.local.acquire(key, limit).await,
                OnUnavailable::Fail => Err(StoreError {
                    message: "Redis is unreachable and the policy is to fail".into(),
                }),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    #[test]
    fn cell_replies_become_admissions() {
        let limit = RateLimit::per_second(NonZeroU32::new(50).unwrap_or(NonZeroU32::MIN));
        assert_eq!(
            cell_admission(&[0, 50, 49, -1, 0], &limit),
            Admission::Allowed
        );
        // Limited with a zero-second retry: wait one emission interval (20 ms), never spin.
        assert_eq!(
            cell_admission(&[1, 50, 0, 0, 1], &limit),
            Admission::RetryIn(Duration::from_millis(20))
        );
        assert_eq!(
            cell_admission(&[1, 50, 0, 3, 3], &limit),
            Admission::RetryIn(Duration::from_secs(3))
        );
        assert_eq!(
            cell_admission(&[], &limit),
            Admission::RetryIn(Duration::from_millis(20))
        );
    }

    #[test]
    fn keys_are_prefixed_limiter_keys() {
        assert_eq!(
            RedisStore::redis_key("pinwheel:0123abcd"),
            "client-core:rate:pinwheel:0123abcd"
        );
    }

    #[test]
    fn debug_does_not_show_the_password() {
        let store = RedisStore::new("redis://:hunter2@127.0.0.1:6390/0").unwrap();
        let shown = format!("{store:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("6390"), "{shown}");
    }
}
