//! Reconnect delays: exponential backoff with full jitter (DESIGN §11).
//!
//! The delay before retry `attempt` (0 for the first retry) is drawn uniformly
//! from `0 ..= min(cap, base × 2^attempt)`. Full jitter spreads a crowd of
//! clients that lost the relay at the same moment (a restart) over the whole
//! window instead of having them knock at once.

use std::time::Duration;

use rand::Rng;

/// First window: a retry right after a drop is usually what works.
pub const BASE: Duration = Duration::from_millis(250);
/// Largest window: an idle terminal retries at least every 10 s.
pub const CAP: Duration = Duration::from_secs(10);

/// The backoff parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: BASE,
            cap: CAP,
        }
    }
}

impl Backoff {
    /// Upper bound of the window for retry `attempt`: `min(cap, base × 2^attempt)`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The delay for retry `attempt` given a uniform draw `unit` in `[0, 1]`.
    /// Pure: the random part is handed in, so it can be tested.
    pub fn delay_with(&self, attempt: u32, unit: f64) -> Duration {
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.ceiling(attempt).mul_f64(unit)
    }

    /// The delay for retry `attempt`, drawn from `rng`.
    pub fn delay(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling(attempt);
        let ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rng.gen_range(0..=ms))
    }

    /// The delay for retry `attempt`, drawn from the thread's generator.
    pub fn next_delay(&self, attempt: u32) -> Duration {
        self.delay(attempt, &mut rand::thread_rng())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn ceiling_doubles_up_to_the_cap() {
        let b = Backoff::default();
        let ceilings: Vec<u64> = (0..8).map(|a| b.ceiling(a).as_millis() as u64).collect();
        assert_eq!(ceilings, [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
        assert_eq!(b.ceiling(31), CAP);
        assert_eq!(b.ceiling(u32::MAX), CAP, "no overflow on absurd attempts");
    }

    #[test]
    fn delay_spans_the_whole_window() {
        let b = Backoff::default();
        assert_eq!(b.delay_with(0, 0.0), Duration::ZERO);
        assert_eq!(b.delay_with(0, 1.0), MS(250));
        assert_eq!(b.delay_with(3, 0.5), MS(1000));
        assert_eq!(b.delay_with(20, 0.25), MS(2500));
        assert_eq!(b.delay_with(2, 7.0), MS(1000), "clamped to the window");
        assert_eq!(b.delay_with(2, f64::NAN), Duration::ZERO);
    }

    #[test]
    fn random_delays_stay_in_the_window_and_vary() {
        let b = Backoff::default();
        let mut rng = StdRng::seed_from_u64(7);
        for attempt in 0..12 {
            let ceiling = b.ceiling(attempt);
            let draws: Vec<Duration> = (0..200).map(|_| b.delay(attempt, &mut rng)).collect();
            assert!(draws.iter().all(|d| *d <= ceiling), "attempt {attempt}");
            let distinct: std::collections::HashSet<_> = draws.iter().collect();
            assert!(distinct.len() > 20, "attempt {attempt}: full jitter varies");
            // Full jitter: some draws in the lower half of the window.
            assert!(draws.iter().any(|d| *d < ceiling / 2), "attempt {attempt}");
        }
    }

    #[test]
    fn custom_parameters() {
        let b = Backoff {
            base: MS(10),
            cap: MS(50),
        };
        assert_eq!(b.ceiling(0), MS(10));
        assert_eq!(b.ceiling(2), MS(40));
        assert_eq!(b.ceiling(3), MS(50));
    }
}
