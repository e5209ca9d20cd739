//! A token bucket shared by every request of a client that limits how many
//! retries can happen while the service is failing.
//!
//! Per-request attempt limits alone let a full outage triple the load on a
//! struggling server. The budget makes retries cheap while most requests
//! succeed and stops them once failures dominate: every retry withdraws
//! tokens, every success puts some back, and when the bucket is empty the
//! policy gives up instead of retrying.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use super::RetryKind;

/// A shared retry token bucket; clones share the same tokens.
///
/// Costs: a retry after a timeout withdraws [`RetryBudget::TIMEOUT_RETRY_COST`]
/// tokens, any other retry [`RetryBudget::RETRY_COST`]. Refunds, through
/// [`RetryBudget::on_success`]: a request that succeeds after a retry gets
/// that retry's cost back, and one that succeeds on its first attempt adds
/// [`RetryBudget::SUCCESS_REFUND`]. The bucket never holds more than its
/// capacity.
#[derive(Clone)]
pub struct RetryBudget {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    /// Every withdrawal succeeds and costs nothing.
    Unlimited,
    /// A real bucket of at most `capacity` tokens.
    Limited {
        capacity: u32,
        available: Arc<AtomicU32>,
    },
}

/// The tokens one retry withdrew from a [`RetryBudget`].
///
/// It is deliberately neither `Clone` nor constructible outside this module,
/// so a refund can never return more than was taken. Dropping it without
/// passing it to [`RetryBudget::on_success`] leaves the tokens spent, which is
/// the right outcome for a retry that did not lead to a success.
///
/// A permit should be refunded to the budget it came from; refunding it to
/// another bucket adds tokens there, still never above that bucket's
/// capacity.
#[derive(Debug, PartialEq, Eq)]
pub struct RetryPermit {
    cost: u32,
}

impl RetryPermit {
    /// The number of tokens this permit holds; zero for an unlimited budget.
    pub fn cost(&self) -> u32 {
        self.cost
    }
}

impl RetryBudget {
    /// The capacity of [`RetryBudget::default`].
    pub const DEFAULT_CAPACITY: u32 = 500;
    /// Tokens a retry after a per-attempt timeout costs. Timeouts cost more
    /// because each one held a connection and a worker for the whole timeout.
    pub const TIMEOUT_RETRY_COST: u32 = 10;
    /// Tokens any other retry costs.
    pub const RETRY_COST: u32 = 5;
    /// Tokens a success on the first attempt adds back.
    pub const SUCCESS_REFUND: u32 = 1;

    /// A full bucket of `capacity` tokens.
    pub fn new(capacity: u32) -> Self {
        Self {
            inner: Inner::Limited {
                capacity,
                available: Arc::new(AtomicU32::new(capacity)),
            },
        }
    }

    /// A budget that never refuses a retry; only the attempt limit and the
    /// deadline then bound retries.
    pub fn unlimited() -> Self {
        Self {
            inner: Inner::Unlimited,
        }
    }

    /// A budget with no tokens and no room for any, so every retry is refused
    /// with [`GiveUpReason::BudgetExhausted`](super::GiveUpReason::BudgetExhausted).
    pub fn disabled() -> Self {
        Self::new(0)
    }

    /// What a retry of `kind` costs.
    pub fn cost_of(kind: RetryKind) -> u32 {
        match kind {
            RetryKind::Timeout => Self::TIMEOUT_RETRY_COST,
            RetryKind::Transient | RetryKind::Throttled => Self::RETRY_COST,
        }
    }

    /// Withdraws the cost of a retry of `kind`, or returns `None` without
    /// withdrawing anything if fewer tokens than that are left.
    pub fn try_withdraw(&self, kind: RetryKind) -> Option<RetryPermit> {
        match &self.inner {
            Inner::Unlimited => Some(RetryPermit { cost: 0 }),
            Inner::Limited { available, .. } => {
                let cost = Self::cost_of(kind);
                // Each update is a single read-modify-write on one atomic, and
                // no other memory is published through it, so relaxed
                // ordering is enough to keep the count exact.
                available
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                        left.checked_sub(cost)
                    })
                    .ok()
                    .map(|_| RetryPermit { cost })
            }
        }
    }

    /// Records that a request finished with an answer from the server.
    ///
    /// Pass the permit of the retry that led to it, or `None` if the request
    /// succeeded on its first attempt. The bucket is refilled by the permit's
    /// cost, or by [`RetryBudget::SUCCESS_REFUND`] without one, never beyond
    /// capacity.
    pub fn on_success(&self, permit: Option<RetryPermit>) {
        let Inner::Limited {
            capacity,
            available,
        } = &self.inner
        else {
            return;
        };
        let refund = permit.map_or(Self::SUCCESS_REFUND, |permit| permit.cost);
        let capacity = *capacity;
        // The closure always returns `Some`, so the update cannot fail and
        // its result carries nothing worth checking.
        let _ = available.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
            Some(left.saturating_add(refund).min(capacity))
        });
    }

    /// Tokens left now; `u32::MAX` for an unlimited budget.
    pub fn available(&self) -> u32 {
        match &self.inner {
            Inner::Unlimited => u32::MAX,
            Inner::Limited { available, .. } => available.load(Ordering::Relaxed),
        }
    }

    /// The most tokens the bucket can hold; `u32::MAX` for an unlimited
    /// budget.
    pub fn capacity(&self) -> u32 {
        match &self.inner {
            Inner::Unlimited => u32::MAX,
            Inner::Limited { capacity, .. } => *capacity,
        }
    }
}

impl Default for RetryBudget {
    /// A full bucket of [`RetryBudget::DEFAULT_CAPACITY`] tokens.
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

impl fmt::Debug for RetryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::Unlimited => f.write_str("RetryBudget(unlimited)"),
            Inner::Limited { capacity, .. } => f
                .debug_struct("RetryBudget")
                .field("available", &self.available())
                .field("capacity", capacity)
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_costs_and_refunds() {
        let budget = RetryBudget::new(20);
        let timeout = budget.try_withdraw(RetryKind::Timeout).unwrap();
        assert_eq!(timeout.cost(), 10);
        assert_eq!(budget.available(), 10);
        let transient = budget.try_withdraw(RetryKind::Transient).unwrap();
        let throttled = budget.try_withdraw(RetryKind::Throttled).unwrap();
        assert_eq!((transient.cost(), throttled.cost()), (5, 5));
        assert_eq!(budget.available(), 0);
        assert_eq!(budget.try_withdraw(RetryKind::Transient), None);

        budget.on_success(Some(timeout));
        assert_eq!(budget.available(), 10);
        budget.on_success(None);
        assert_eq!(budget.available(), 11);
        budget.on_success(Some(transient));
        budget.on_success(Some(throttled));
        assert_eq!(budget.available(), 20);
        // Never above capacity.
        budget.on_success(None);
        assert_eq!(budget.available(), 20);
    }

    #[test]
    fn budget_refuses_partial_withdrawal() {
        let budget = RetryBudget::new(7);
        assert!(budget.try_withdraw(RetryKind::Timeout).is_none());
        assert_eq!(budget.available(), 7, "a refused withdrawal takes nothing");
        assert!(budget.try_withdraw(RetryKind::Transient).is_some());
        assert_eq!(budget.available(), 2);
    }

    #[test]
    fn budget_clones_share_tokens() {
        let budget = RetryBudget::new(10);
        let clone = budget.clone();
        let _permit = clone.try_withdraw(RetryKind::Transient).unwrap();
        assert_eq!(budget.available(), 5);
    }

    #[test]
    fn budget_unlimited_and_disabled() {
        let unlimited = RetryBudget::unlimited();
        for _ in 0..10_000 {
            assert_eq!(
                unlimited.try_withdraw(RetryKind::Timeout).unwrap().cost(),
                0
            );
        }
        assert_eq!(unlimited.available(), u32::MAX);
        unlimited.on_success(None);

        let disabled = RetryBudget::disabled();
        assert_eq!(disabled.try_withdraw(RetryKind::Transient), None);
        disabled.on_success(None);
        assert_eq!(
            disabled.available(),
            0,
            "a zero-capacity bucket never fills"
        );
    }

    #[test]
    fn budget_default_is_full() {
        let budget = RetryBudget::default();
        assert_eq!(budget.available(), 500);
        assert_eq!(budget.capacity(), 500);
        assert_eq!(
            format!("{budget:?}"),
            "RetryBudget { available: 500, capacity: 500 }"
        );
    }

    #[test]
    fn budget_is_exact_under_contention() {
        let budget = RetryBudget::new(1000);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let budget = budget.clone();
                std::thread::spawn(move || {
                    let mut granted = 0;
                    while budget.try_withdraw(RetryKind::Transient).is_some() {
                        granted += 1;
                    }
                    granted
                })
            })
            .collect();
        let granted: u32 = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(granted, 200);
        assert_eq!(budget.available(), 0);
    }
}
