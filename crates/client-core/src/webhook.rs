//! Remembering webhook deliveries in two phases, so a crash between
//! receiving a delivery and processing it never loses it.
//!
//! Vendors deliver webhooks at least once: a delivery whose answer got lost
//! comes again. Recording a delivery as done *when it arrives* loses it if
//! the process dies before the application has acted on it: the redelivery
//! is then answered "already seen" and never processed. [`DeliveryLog`]
//! records in two phases instead:
//!
//! 1. [`DeliveryLog::begin`] when a delivery arrives: `New` (process it,
//!    holding the [`Receipt`]) or `Done` (processed before: skip it);
//! 2. [`DeliveryLog::commit`] with the receipt once the application has
//!    processed it. A delivery begun and not committed (the process died, or
//!    the handler failed and dropped the receipt) is `New` again when it is
//!    redelivered.
//!
//! The log is in memory and bounded (the oldest committed keys are forgotten
//! first), so it covers redeliveries within one process's life; for anything
//! that moves money keep the keys in the application's own store, in the
//! transaction that applies the delivery (the wrappers' READMEs show how).

use std::collections::{HashSet, VecDeque};
use std::num::NonZeroUsize;
use std::sync::Mutex;

/// Deliveries remembered unless configured otherwise.
pub const DEFAULT_CAPACITY: NonZeroUsize = match NonZeroUsize::new(10_000) {
    Some(capacity) => capacity,
    None => NonZeroUsize::MIN,
};

/// What [`DeliveryLog::begin`] found.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a new delivery must be committed once processed"]
pub enum Begin {
    /// Not processed before: process it, then commit the receipt.
    New(Receipt),
    /// Processed and committed before: acknowledge it and do nothing.
    Done,
}

/// Proof that a delivery was begun; commit it once processed.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "commit the receipt once the delivery is processed"]
pub struct Receipt {
    key: String,
}

impl Receipt {
    /// The delivery's key (an event id, a digest of its body).
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// A bounded, in-memory, two-phase record of webhook deliveries.
#[derive(Debug)]
pub struct DeliveryLog {
    capacity: NonZeroUsize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    done: HashSet<String>,
    order: VecDeque<String>,
}

impl Default for DeliveryLog {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl DeliveryLog {
    /// Remembers at most `capacity` committed deliveries.
    #[must_use]
    pub fn new(capacity: NonZeroUsize) -> Self {
        Self {
            capacity,
            state: Mutex::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts handling the delivery `key`.
    pub fn begin(&self, key: impl Into<String>) -> Begin {
        let key = key.into();
        if self.state().done.contains(&key) {
            Begin::Done
        } else {
            Begin::New(Receipt { key })
        }
    }

    /// Records the delivery of `receipt` as processed.
    pub fn commit(&self, receipt: Receipt) {
        let mut state = self.state();
        if !state.done.insert(receipt.key.clone()) {
            return;
        }
        state.order.push_back(receipt.key);
        while state.order.len() > self.capacity.get() {
            if let Some(oldest) = state.order.pop_front() {
                state.done.remove(&oldest);
            }
        }
    }

    /// Committed deliveries remembered.
    pub fn len(&self) -> usize {
        self.state().order.len()
    }

    /// Whether none is remembered.
    pub fn is_empty(&self) -> bool {
        self.state().order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_is_done_only_once_committed() {
        let log = DeliveryLog::default();
        let Begin::New(receipt) = log.begin("e1") else {
            panic!("new")
        };
        // Redelivered before the first was processed (the process died, or
        // is still working): handed out again, not lost.
        let Begin::New(again) = log.begin("e1") else {
            panic!("still new")
        };
        log.commit(receipt);
        assert_eq!(log.begin("e1"), Begin::Done);
        log.commit(again);
        assert_eq!(log.len(), 1);
    }

    #[test]
    fn the_log_is_bounded() {
        let log = DeliveryLog::new(NonZeroUsize::new(2).unwrap());
        for key in ["a", "b", "c"] {
            let Begin::New(receipt) = log.begin(key) else {
                panic!("{key}")
            };
            log.commit(receipt);
        }
        assert_eq!(log.len(), 2);
        assert!(
            matches!(log.begin("a"), Begin::New(_)),
            "the oldest was forgotten"
        );
        assert_eq!(log.begin("c"), Begin::Done);
    }
}
