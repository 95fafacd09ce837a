//! The demo's rush (DESIGN §14 capacity): for a while customers order
//! faster, and at the peak the kitchen lead pauses online ordering
//! (`capacity_set {paused, paused_until}`, as crew may), then resumes it.
//! Customers meanwhile are refused `ordering_paused` and try again later.

use std::time::Duration;

use kfood_protocol::capacity::CapacitySet;
use kfood_protocol::time::{format_ms, now_ms};
use kfood_protocol::Request;
use tokio::time::Instant;

use crate::conn::SimConn;
use crate::demo::scaled;

/// How long customers order faster before the pause.
const RUSH_SECS: f64 = 60.0;
/// How much faster they order during the rush.
pub const RUSH_FACTOR: f64 = 3.0;

/// When the rush and the pause happen, from the demo's start.
#[derive(Debug, Clone, Copy)]
pub struct Timeline {
    rush_from: Instant,
    pause_at: Instant,
    pause_until: Instant,
}

impl Timeline {
    /// A pause `pause_at_s` (demo) seconds after `start` lasting `pause_for_s`;
    /// `None` when `pause_at_s` is 0.
    pub fn new(start: Instant, pause_at_s: u64, pause_for_s: u64, speed: f64) -> Option<Timeline> {
        if pause_at_s == 0 {
            return None;
        }
        let pause_at = start + scaled(pause_at_s as f64, speed);
        let rush = scaled(RUSH_SECS, speed);
        Some(Timeline {
            rush_from: pause_at.checked_sub(rush).unwrap_or(start).max(start),
            pause_at,
            pause_until: pause_at + scaled(pause_for_s as f64, speed),
        })
    }

    /// Customers order faster now.
    pub fn rushing(&self, now: Instant) -> bool {
        (self.rush_from..self.pause_at).contains(&now)
    }
}

/// The kitchen lead: pauses online ordering at the peak, for as long as the
/// timeline says (with `paused_until`, so the relay would end it by itself
/// too), then resumes it.
pub async fn kitchen_lead(conn: SimConn, t: Timeline) {
    tokio::time::sleep_until(t.pause_at).await;
    let left = t.pause_until.saturating_duration_since(Instant::now());
    let until = now_ms() + left.as_millis() as i64;
    let pause = Request::CapacitySet(CapacitySet {
        paused: Some(true),
        paused_until: Some(Some(format_ms(until))),
        ..CapacitySet::default()
    });
    match conn.request(&pause).await {
        Ok(_) => println!(
            "kitchen lead: the rush is on, online ordering paused for {} s",
            left.as_secs()
        ),
        Err(code) => {
            println!("kitchen lead: could not pause ordering ({code})");
            return;
        }
    }
    tokio::time::sleep_until(t.pause_until).await;
    let resume = Request::CapacitySet(CapacitySet {
        paused: Some(false),
        paused_until: Some(None),
        ..CapacitySet::default()
    });
    match conn.request(&resume).await {
        Ok(_) => println!("kitchen lead: online ordering resumed"),
        Err(code) => println!("kitchen lead: could not resume ordering ({code})"),
    }
}

/// A customer's wait before the next order: shorter in the rush.
pub fn customer_wait(base_secs: f64, speed: f64, timeline: Option<&Timeline>) -> Duration {
    let rushing = timeline.is_some_and(|t| t.rushing(Instant::now()));
    let secs = if rushing {
        base_secs / RUSH_FACTOR
    } else {
        base_secs
    };
    scaled(secs, speed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rush comes right before the pause, and a pause at 0 is none.
    #[test]
    fn the_rush_precedes_the_pause() {
        let start = Instant::now();
        assert!(Timeline::new(start, 0, 45, 1.0).is_none());
        let t = Timeline::new(start, 120, 45, 2.0).unwrap();
        assert_eq!(t.pause_at - start, Duration::from_secs(60));
        assert_eq!(t.pause_until - t.pause_at, Duration::from_secs_f64(22.5));
        assert!(!t.rushing(start));
        assert!(t.rushing(t.pause_at - Duration::from_secs(1)));
        assert!(!t.rushing(t.pause_at));
        let early = Timeline::new(start, 10, 5, 1.0).unwrap();
        assert!(early.rushing(start), "a rush cut short by the start");
    }
}
