//! Rate limits of DESIGN §9: a token bucket per connection and a per-address
//! login limiter that forgets idle addresses, both from `governor`.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use std::sync::Mutex;

use governor::clock::{Clock, DefaultClock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::hub::lock;

/// Refused messages in a row after which a connection is closed 4008: a
/// client that keeps sending at twice its burst is not backing off.
pub fn abuse_threshold(burst: u32) -> u32 {
    burst.saturating_mul(2).max(10)
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

/// One connection's message budget.
pub struct ConnLimiter {
    limiter: DefaultDirectRateLimiter,
    clock: DefaultClock,
    refused_in_row: u32,
    abuse_after: u32,
}

pub enum Verdict {
    Allow,
    /// Refuse this message; retry after this long.
    Refuse(Duration),
    /// Refuse this message and close the connection 4008 (after its
    /// `rate_limited`, which still says how long to wait).
    Close(Duration),
}

impl ConnLimiter {
    pub fn new(per_sec: u32, burst: u32) -> Self {
        let quota = Quota::per_second(nz(per_sec)).allow_burst(nz(burst));
        ConnLimiter {
            limiter: RateLimiter::direct(quota),
            clock: DefaultClock::default(),
            refused_in_row: 0,
            abuse_after: abuse_threshold(burst),
        }
    }

    pub fn check(&mut self) -> Verdict {
        match self.limiter.check() {
            Ok(()) => {
                self.refused_in_row = 0;
                Verdict::Allow
            }
            Err(not_until) => {
                self.refused_in_row += 1;
                let wait = not_until.wait_time_from(self.clock.now());
                if self.refused_in_row > self.abuse_after {
                    Verdict::Close(wait)
                } else {
                    Verdict::Refuse(wait)
                }
            }
        }
    }
}

/// How often the login limiter forgets idle addresses. An address is idle
/// once its budget has been whole again for one refill interval (at most two
/// minutes after its last attempt), so the limiter holds only the addresses
/// seen in the last three minutes.
pub const LOGIN_SWEEP_EVERY: Duration = Duration::from_secs(60);
/// Addresses held past which the login limiter sweeps early (at most once a
/// second), so a spray of addresses cannot grow it for a whole minute.
pub const LOGIN_TRACKED_SOFT_MAX: usize = 65_536;

type KeyedLimiter<C> =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Login and register attempts per client address.
pub struct LoginLimiter<C: Clock + Clone = DefaultClock> {
    limiter: KeyedLimiter<C>,
    clock: C,
    /// When the next sweep of idle addresses is due.
    next_sweep: Mutex<C::Instant>,
}

impl LoginLimiter {
    pub fn new(per_min: u32) -> Self {
        Self::with_clock(per_min, DefaultClock::default())
    }
}

impl<C: Clock + Clone> LoginLimiter<C> {
    /// A limiter on `clock` (tests drive a fake one).
    pub fn with_clock(per_min: u32, clock: C) -> Self {
        let quota = Quota::per_minute(nz(per_min)).allow_burst(nz(per_min));
        let first_sweep = clock.now() + Nanos::from(LOGIN_SWEEP_EVERY);
        LoginLimiter {
            limiter: RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock.clone()),
            clock,
            next_sweep: Mutex::new(first_sweep),
        }
    }

    /// `Err(seconds to wait)` when the address is over its limit.
    pub fn check(&self, addr: IpAddr) -> Result<(), u64> {
        self.sweep_if_due();
        self.limiter
            .check_key(&addr)
            .map_err(|nu| nu.wait_time_from(self.clock.now()).as_secs().max(1))
    }

    /// Addresses currently held.
    pub fn tracked(&self) -> usize {
        self.limiter.len()
    }

    fn sweep_if_due(&self) {
        let now = self.clock.now();
        let mut next = lock(&self.next_sweep);
        let crowded = self.limiter.len() > LOGIN_TRACKED_SOFT_MAX;
        let due = now >= *next
            || (crowded
                && now
                    >= next
                        .saturating_sub(Nanos::from(LOGIN_SWEEP_EVERY - Duration::from_secs(1))));
        if !due {
            return;
        }
        *next = now + Nanos::from(LOGIN_SWEEP_EVERY);
        drop(next);
        self.sweep();
    }

    /// Forgets every address whose budget is whole again.
    fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Past the burst a connection is refused, then closed after the abuse threshold.
    #[test]
    fn burst_then_refuse_then_close() {
        let mut l = ConnLimiter::new(1, 5);
        for _ in 0..5 {
            assert!(matches!(l.check(), Verdict::Allow));
        }
        let mut refused = 0;
        loop {
            match l.check() {
                Verdict::Allow => panic!("over the burst"),
                Verdict::Refuse(d) => {
                    assert!(d <= Duration::from_secs(1));
                    refused += 1;
                }
                Verdict::Close(_) => break,
            }
        }
        assert_eq!(refused, abuse_threshold(5));
    }

    /// Idle addresses are forgotten at the next sweep; one still over its limit is kept.
    #[test]
    fn login_limiter_forgets_idle_addresses() {
        use governor::clock::FakeRelativeClock;
        let clock = FakeRelativeClock::default();
        let l = LoginLimiter::with_clock(2, clock.clone());
        let ip = |n: u8| IpAddr::from([10, 0, 0, n]);
        assert!(l.check(ip(1)).is_ok());
        assert!(l.check(ip(2)).is_ok());
        assert!(l.check(ip(2)).is_ok());
        assert!(l.check(ip(2)).is_err(), "over the limit");
        assert_eq!(l.tracked(), 2);
        // A sweep now keeps both: neither budget is whole yet.
        l.sweep();
        assert_eq!(l.tracked(), 2);
        assert!(
            l.check(ip(2)).is_err(),
            "still over the limit after a sweep"
        );

        clock.advance(2 * LOGIN_SWEEP_EVERY + Duration::from_secs(1));
        assert!(l.check(ip(3)).is_ok());
        assert_eq!(l.tracked(), 1, "the idle addresses are gone");
        assert!(l.check(ip(2)).is_ok(), "a forgotten address starts afresh");

        // Many addresses, all idle a minute later: memory goes back down.
        for n in 0..=255u8 {
            let _ = l.check(IpAddr::from([192, 168, 1, n]));
        }
        assert!(l.tracked() > 256);
        clock.advance(2 * LOGIN_SWEEP_EVERY + Duration::from_secs(1));
        let _ = l.check(ip(4));
        assert_eq!(l.tracked(), 1);
    }

    /// Each address has its own budget.
    #[test]
    fn login_per_address() {
        let l = LoginLimiter::new(2);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        assert!(l.check(a).is_ok());
        assert!(l.check(a).is_ok());
        assert!(l.check(a).unwrap_err() >= 1);
        assert!(l.check(b).is_ok());
    }
}
