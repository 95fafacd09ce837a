//! Figures for the `metrics` event and `/metrics`, read from the state.

use std::collections::BTreeMap;

use kfood_protocol::messages::Severity;
use kfood_protocol::order::OrderStatus;
use kfood_protocol::time::{parse_ms, Millis};

use super::alerts::{day_of, Watch};
use crate::log::State;

/// Figures for the `metrics` event and `/metrics`.
#[derive(Debug, Clone, Default)]
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

pub fn stats(st: &State, w: &Watch, now: Millis) -> Stats {
    let today = day_of(now);
    let mut s = Stats {
        head_seq: st.model.head_seq,
        ..Stats::default()
    };
    for status in OrderStatus::ALL {
        s.orders_by_status.insert(status.as_str().to_owned(), 0);
    }
    let mut prep: Vec<f64> = Vec::new();
    for o in st.model.orders.values() {
        *s.orders_by_status
            .entry(o.status.as_str().to_owned())
            .or_default() += 1;
        if o.is_late(now) {
            s.late_orders += 1;
        }
        if day_of(parse_ms(&o.created_at).unwrap_or(0)) != today {
            continue;
        }
        s.orders_today += 1;
        if o.status != OrderStatus::Cancelled {
            s.revenue_today_cents += o.total_cents;
        }
        let entry = |status: OrderStatus, last: bool| {
            let mut it = o.history.iter().filter(|h| h.status == status);
            let h = if last { it.next_back() } else { it.next() };
            h.and_then(|h| parse_ms(&h.at))
        };
        if let (Some(a), Some(b)) = (
            entry(OrderStatus::Preparing, false),
            entry(OrderStatus::Ready, true),
        ) {
            prep.push((b - a).max(0) as f64 / 60_000.0);
        }
    }
    if !prep.is_empty() {
        prep.sort_by(|a, b| a.total_cmp(b));
        s.prep_min_avg = prep.iter().sum::<f64>() / prep.len() as f64;
        let p90 = ((prep.len() as f64 * 0.9).ceil() as usize).saturating_sub(1);
        s.prep_min_p90 = prep[p90.min(prep.len() - 1)];
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
