//! Rate limits of DESIGN §9: a token bucket per connection and a per-address
//! login limiter, both from `governor`.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

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

/// Login and register attempts per client address.
pub struct LoginLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl LoginLimiter {
    pub fn new(per_min: u32) -> Self {
        let quota = Quota::per_minute(nz(per_min)).allow_burst(nz(per_min));
        LoginLimiter {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// `Err(seconds to wait)` when the address is over its limit.
    pub fn check(&self, addr: IpAddr) -> Result<(), u64> {
        self.limiter
            .check_key(&addr)
            .map_err(|nu| nu.wait_time_from(self.clock.now()).as_secs().max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
