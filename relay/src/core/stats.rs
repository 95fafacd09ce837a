//! Figures for the `metrics` event and `/metrics`, read from the state.
//!
//! They are asked for every second. A pass over every order of the day
//! takes tens of milliseconds once there are tens of thousands, and every
//! request waits behind it on the core, so [`Figures`] keeps each order's
//! share and redoes only the orders a commit touched since the last ask.

use std::collections::{BTreeMap, HashMap, HashSet};

use kfood_protocol::event::Event;
use kfood_protocol::messages::Severity;
use kfood_protocol::order::{Order, OrderStatus};
use kfood_protocol::time::{parse_ms, Millis};

use super::alerts::{day_of, Watch};
use crate::log::{Commit, State};

/// Figures for the `metrics` event and `/metrics`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub orders_by_status: BTreeMap<String, u64>,
    pub orders_today: u64,
    pub revenue_today_cents: i64,
    pub prep_min_avg: f64,
    pub prep_min_p90: f64,
    pub late_orders: u64,
    pub payment_failures_today: u64,
    pub open_critical_alerts: u64,
    pub head_seq: u64,
}

/// One order's share of the figures, apart from lateness (which moves with
/// the clock, so it is read from the order at each ask).
#[derive(Debug, Clone, Copy)]
struct Share {
    status: OrderStatus,
    today: bool,
    revenue_cents: i64,
    /// Preparing to ready, in milliseconds (exact, so sums do not depend on order).
    prep_ms: Option<i64>,
}

fn share(o: &Order, today: i64) -> Share {
    let is_today = day_of(parse_ms(&o.created_at).unwrap_or(0)) == today;
    let entry = |status: OrderStatus, last: bool| {
        let mut it = o.history.iter().filter(|h| h.status == status);
        let h = if last { it.next_back() } else { it.next() };
        h.and_then(|h| parse_ms(&h.at))
    };
    let prep_ms = match (
        entry(OrderStatus::Preparing, false),
        entry(OrderStatus::Ready, true),
    ) {
        (Some(a), Some(b)) if is_today => Some((b - a).max(0)),
        _ => None,
    };
    Share {
        status: o.status,
        today: is_today,
        revenue_cents: if is_today && o.status != OrderStatus::Cancelled {
            o.total_cents
        } else {
            0
        },
        prep_ms,
    }
}

/// The figures from every order's share; `late` counts the late orders.
fn total<'a>(
    st: &State,
    w: &Watch,
    now: Millis,
    shares: impl Iterator<Item = &'a Share>,
    late: u64,
) -> Stats {
    let today = day_of(now);
    let mut by_status = [0u64; OrderStatus::ALL.len()];
    let mut s = Stats {
        head_seq: st.model.head_seq,
        late_orders: late,
        ..Stats::default()
    };
    let mut prep: Vec<i64> = Vec::new();
    for sh in shares {
        if let Some(i) = OrderStatus::ALL.iter().position(|x| *x == sh.status) {
            by_status[i] += 1;
        }
        if sh.today {
            s.orders_today += 1;
            s.revenue_today_cents += sh.revenue_cents;
        }
        prep.extend(sh.prep_ms);
    }
    for (status, n) in OrderStatus::ALL.iter().zip(by_status) {
        s.orders_by_status.insert(status.as_str().to_owned(), n);
    }
    if !prep.is_empty() {
        const MINUTE_MS: f64 = 60_000.0;
        let sum: i64 = prep.iter().sum();
        s.prep_min_avg = sum as f64 / prep.len() as f64 / MINUTE_MS;
        let last = prep.len() - 1;
        let p90 = ((prep.len() as f64 * 0.9).ceil() as usize).saturating_sub(1);
        let (_, nth, _) = prep.select_nth_unstable(p90.min(last));
        s.prep_min_p90 = *nth as f64 / MINUTE_MS;
    }
    if w.failures_today.0 == today {
        s.payment_failures_today = w.failures_today.1;
    }
    s.open_critical_alerts = st
        .model
        .open_alerts()
        .filter(|a| a.severity == Severity::Critical)
        .count() as u64;
    s
}

/// The figures from a pass over every order (what [`Figures`] keeps up to
/// date; the property test checks that the two agree).
#[cfg(test)]
pub fn stats(st: &State, w: &Watch, now: Millis) -> Stats {
    let today = day_of(now);
    let shares: Vec<Share> = st.model.orders.values().map(|o| share(o, today)).collect();
    let late = st.model.orders.values().filter(|o| o.is_late(now)).count() as u64;
    total(st, w, now, shares.iter(), late)
}

/// Each order's share of the figures, kept between asks.
#[derive(Debug, Default)]
pub struct Figures {
    /// The day the shares are for; a new day redoes them all.
    day: Option<i64>,
    shares: HashMap<u64, Share>,
    /// Orders that are not final: only they can be late.
    open: HashSet<u64>,
    /// Orders changed since the last ask.
    touched: HashSet<u64>,
}

impl Figures {
    /// Notes the orders `commit` changed.
    pub fn touch(&mut self, commit: &Commit) {
        for e in &commit.events {
            let id = match &e.event {
                Event::OrderCreated(o)
                | Event::OrderUpdate(o)
                | Event::OrderModified(o)
                | Event::OrderCancelled(o) => o.order_id,
                Event::PaymentConfirmed(p) | Event::PaymentRefunded(p) => p.order_id,
                _ => continue,
            };
            self.touched.insert(id);
        }
    }

    /// The figures now, as a pass over every order would give them, redoing
    /// only the orders touched since the last ask.
    pub fn stats(&mut self, st: &State, w: &Watch, now: Millis) -> Stats {
        let today = day_of(now);
        let orders = &st.model.orders;
        if self.day != Some(today) {
            self.day = Some(today);
            self.shares.clear();
            self.open.clear();
            self.touched = orders.keys().copied().collect();
        }
        for id in std::mem::take(&mut self.touched) {
            match orders.get(&id) {
                Some(o) => {
                    self.shares.insert(id, share(o, today));
                    if o.status.is_final() {
                        self.open.remove(&id);
                    } else {
                        self.open.insert(id);
                    }
                }
                None => {
                    self.shares.remove(&id);
                    self.open.remove(&id);
                }
            }
        }
        if self.shares.len() != orders.len() {
            // Orders left the state without an event: start over.
            self.day = None;
            return self.stats(st, w, now);
        }
        let late = self
            .open
            .iter()
            .filter_map(|id| orders.get(id))
            .filter(|o| o.is_late(now))
            .count() as u64;
        total(st, w, now, self.shares.values(), late)
    }
}
