//! Randomness for full-jitter backoff, behind a trait so that production
//! draws from the thread RNG while tests pin the draw and get exact delays.
//!
//! Fractions are integers rather than floats so that scaling a delay is exact
//! integer arithmetic with no rounding surprises and no NaN to guard against.

use std::time::Duration;

/// A number in `[0, 1]`, stored as a numerator over `2^32`.
///
/// Random draws use [`Fraction::from_bits`], which covers `[0, 1)`; the
/// constant [`Fraction::ONE`] exists so tests can ask for the top of the range
/// exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fraction(u64);

impl Fraction {
    /// The denominator every fraction is expressed over.
    const DENOMINATOR: u64 = 1 << 32;

    /// Zero: full jitter yields no delay at all.
    pub const ZERO: Self = Self(0);

    /// One: full jitter yields the whole backoff ceiling.
    pub const ONE: Self = Self(Self::DENOMINATOR);

    /// The fraction `bits / 2^32`, which is always below one.
    pub const fn from_bits(bits: u32) -> Self {
        Self(bits as u64)
    }

    /// The numerator over `2^32`, in `0..=2^32`.
    pub const fn numerator(self) -> u64 {
        self.0
    }

    /// Returns `delay * self`, rounded down to the nanosecond.
    ///
    /// The product is computed in `u128` nanoseconds, where it cannot
    /// overflow: a `Duration` holds under `2^94` nanoseconds and the numerator
    /// is at most `2^32`.
    pub fn of(self, delay: Duration) -> Duration {
        let nanos = (delay.as_nanos() * u128::from(self.0)) >> 32;
        duration_from_nanos(nanos)
    }
}

/// Converts nanoseconds back to a `Duration`, saturating instead of
/// panicking if the value were ever out of range.
fn duration_from_nanos(nanos: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    let Ok(secs) = u64::try_from(nanos / NANOS_PER_SEC) else {
        return Duration::MAX;
    };
    // The remainder is below one billion, so it always fits.
    let subsec = u32::try_from(nanos % NANOS_PER_SEC).unwrap_or(0);
    Duration::new(secs, subsec)
}

/// A source of random fractions for full-jitter backoff.
pub trait Jitter: Send {
    /// Returns the next fraction of the backoff ceiling to wait.
    fn next_fraction(&mut self) -> Fraction;
}

/// Draws uniformly from `[0, 1)` with the thread-local RNG of `rand`; the
/// production choice.
///
/// It holds no RNG itself (the thread RNG is not `Send`), so it can live in a
/// future that moves between worker threads.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadRngJitter;

impl Jitter for ThreadRngJitter {
    fn next_fraction(&mut self) -> Fraction {
        Fraction::from_bits(rand::random::<u32>())
    }
}

/// Always returns `bits / 2^32`; `FixedJitter(0)` waits no time at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedJitter(pub u32);

impl Jitter for FixedJitter {
    fn next_fraction(&mut self) -> Fraction {
        Fraction::from_bits(self.0)
    }
}

/// Always returns [`Fraction::ONE`], so every backoff is exactly its ceiling.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MaxJitter;

impl Jitter for MaxJitter {
    fn next_fraction(&mut self) -> Fraction {
        Fraction::ONE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fraction_scales_exactly() {
        let second = Duration::from_secs(1);
        assert_eq!(Fraction::ZERO.of(second), Duration::ZERO);
        assert_eq!(Fraction::ONE.of(second), second);
        assert_eq!(
            Fraction::from_bits(1 << 31).of(second),
            Duration::from_millis(500)
        );
        assert_eq!(
            Fraction::from_bits(1 << 30).of(second),
            Duration::from_millis(250)
        );
        // Just below one rounds down, never up past the ceiling.
        assert!(Fraction::from_bits(u32::MAX).of(second) < second);
        assert_eq!(Fraction::ONE.of(Duration::MAX), Duration::MAX);
        assert!(Fraction::from_bits(u32::MAX).of(Duration::MAX) < Duration::MAX);
    }

    #[test]
    fn jitter_sources() {
        assert_eq!(FixedJitter(7).next_fraction(), Fraction::from_bits(7));
        assert_eq!(MaxJitter.next_fraction(), Fraction::ONE);
        let mut rng = ThreadRngJitter;
        for _ in 0..1000 {
            assert!(rng.next_fraction() < Fraction::ONE);
        }
    }
}
