//! Counters, the `metrics` event sent to admins every second, and the
//! Prometheus text of `GET /metrics`.

use std::collections::VecDeque;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kfood_protocol::messages::{kind, MetricsSample, Percentiles, RoleCounts};
use kfood_protocol::{Envelope, Role};
use tokio::sync::oneshot;

use crate::core::{Command, Stats};
use crate::wire::stamped;
use crate::hub::lock;
use crate::shared::Shared;

/// Fan-out latencies kept for the percentiles: the last few thousand events.
const FANOUT_SAMPLES: usize = 4096;
/// One-minute samples sent as `history` to a newly connected admin.
const HISTORY_MINUTES: usize = 15;

#[derive(Default)]
pub struct Metrics {
    pub msgs_in: AtomicU64,
    pub msgs_out: AtomicU64,
    pub groups: AtomicU64,
    pub reconnects: AtomicU64,
    fanout_us: Mutex<VecDeque<u64>>,
    pub last: Mutex<MetricsSample>,
    pub last_stats: Mutex<Stats>,
    history: Mutex<VecDeque<MetricsSample>>,
    /// Admin connections that still need their first sample (with history).
    pub fresh_admins: Mutex<Vec<tokio::sync::mpsc::Sender<crate::hub::Outgoing>>>,
}

impl Metrics {
    pub fn record_fanout(m: &Metrics, d: Duration) {
        let mut q = lock(&m.fanout_us);
        if q.len() == FANOUT_SAMPLES {
            q.pop_front();
        }
        q.push_back(d.as_micros() as u64);
    }

    fn fanout_percentiles(&self) -> Percentiles {
        let mut v: Vec<u64> = lock(&self.fanout_us).iter().copied().collect();
        if v.is_empty() {
            return Percentiles::default();
        }
        v.sort_unstable();
        let at = |p: f64| {
            v[((v.len() as f64 * p).ceil() as usize)
                .saturating_sub(1)
                .min(v.len() - 1)] as f64
                / 1000.0
        };
        Percentiles {
            p50: at(0.50),
            p99: at(0.99),
        }
    }
}

/// Builds a sample every second, sends it to admins, and keeps the history.
pub async fn run(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last_in = 0u64;
    let mut last_out = 0u64;
    let mut minute = 0u64;
    loop {
        tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        let (tx, rx) = oneshot::channel();
        if shared
            .core
            .send(Command::Stats { reply: tx })
            .await
            .is_err()
        {
            break;
        }
        let Ok(stats) = rx.await else { break };
        let m = &shared.metrics;
        let msgs_in = m.msgs_in.load(Ordering::Relaxed);
        let msgs_out = shared.hub.sent.load(Ordering::Relaxed);
        m.msgs_out.store(msgs_out, Ordering::Relaxed);
        let (customer, crew, admin) = shared.hub.counts();
        let sample = MetricsSample {
            uptime_s: shared.started.elapsed().as_secs(),
            connections: RoleCounts {
                customer,
                crew,
                admin,
            },
            msgs_in_per_s: (msgs_in - last_in) as f64,
            msgs_out_per_s: msgs_out.saturating_sub(last_out) as f64,
            orders_by_status: stats.orders_by_status.clone(),
            orders_today: stats.orders_today,
            revenue_today_cents: stats.revenue_today_cents,
            prep_min_avg: round2(stats.prep_min_avg),
            prep_min_p90: round2(stats.prep_min_p90),
            late_orders: stats.late_orders,
            payment_failures_today: stats.payment_failures_today,
            fanout_ms: m.fanout_percentiles(),
            store_bytes: shared.store.size_on_disk(),
            history: None,
        };
        last_in = msgs_in;
        last_out = msgs_out;
        minute += 1;
        if minute % 60 == 1 {
            let mut h = lock(&m.history);
            if h.len() == HISTORY_MINUTES {
                h.pop_front();
            }
            h.push_back(sample.clone());
        }
        *lock(&m.last) = sample.clone();
        *lock(&m.last_stats) = stats;
        let env = stamped(Envelope::new(
            kind::METRICS,
            serde_json::to_value(&sample).unwrap_or_default(),
        ));
        let fresh = std::mem::take(&mut *lock(&m.fresh_admins));
        if !fresh.is_empty() {
            // A newly connected admin's first sample carries the history.
            let with_history = MetricsSample {
                history: Some(lock(&m.history).iter().cloned().collect()),
                ..sample
            };
            let first = stamped(Envelope::new(
                kind::METRICS,
                serde_json::to_value(&with_history).unwrap_or_default(),
            ));
            let frame: Arc<str> = first.to_json().into();
            for tx in &fresh {
                let _ = tx.try_send(crate::hub::Outgoing::Frame(frame.clone()));
            }
        }
        shared.hub.broadcast(&env, |c| {
            c.user.role == Role::Admin && !fresh.iter().any(|t| t.same_channel(&c.tx))
        });
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `GET /metrics`: every series prefixed `kfood_`.
pub fn prometheus(shared: &Shared) -> String {
    let m = &shared.metrics;
    let s = lock(&m.last).clone();
    let (customer, crew, admin) = shared.hub.counts();
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, kind: &str, rows: &[(String, String)]| {
        let _ = writeln!(out, "# HELP kfood_{name} {help}");
        let _ = writeln!(out, "# TYPE kfood_{name} {kind}");
        for (labels, v) in rows {
            let _ = writeln!(out, "kfood_{name}{labels} {v}");
        }
    };
    let one = |v: String| vec![(String::new(), v)];
    gauge(
        "connections",
        "Open authenticated sockets by role.",
        "gauge",
        &[
            ("{role=\"customer\"}".into(), customer.to_string()),
            ("{role=\"crew\"}".into(), crew.to_string()),
            ("{role=\"admin\"}".into(), admin.to_string()),
        ],
    );
    gauge(
        "messages_in_total",
        "Client messages received.",
        "counter",
        &one(m.msgs_in.load(Ordering::Relaxed).to_string()),
    );
    gauge(
        "messages_out_total",
        "Frames handed to connections.",
        "counter",
        &one(shared.hub.sent.load(Ordering::Relaxed).to_string()),
    );
    gauge(
        "slow_clients_closed_total",
        "Connections closed because their queue was full.",
        "counter",
        &one(shared.hub.overflowed.load(Ordering::Relaxed).to_string()),
    );
    gauge(
        "store_groups_total",
        "Group commits (one flush each).",
        "counter",
        &one(m.groups.load(Ordering::Relaxed).to_string()),
    );
    let orders: Vec<(String, String)> = s
        .orders_by_status
        .iter()
        .map(|(k, v)| (format!("{{status=\"{k}\"}}"), v.to_string()))
        .collect();
    gauge("orders", "Orders by status.", "gauge", &orders);
    gauge(
        "orders_today",
        "Orders placed today (UTC).",
        "gauge",
        &one(s.orders_today.to_string()),
    );
    gauge(
        "revenue_today_cents",
        "Revenue today (UTC), cancelled orders excluded.",
        "gauge",
        &one(s.revenue_today_cents.to_string()),
    );
    gauge(
        "payment_failures_today",
        "Failed payments today (UTC).",
        "gauge",
        &one(s.payment_failures_today.to_string()),
    );
    gauge(
        "late_orders",
        "Open orders past their ETA.",
        "gauge",
        &one(s.late_orders.to_string()),
    );
    gauge(
        "fanout_ms",
        "Time from decision to every recipient's queue, flush included.",
        "summary",
        &[
            ("{quantile=\"0.5\"}".into(), s.fanout_ms.p50.to_string()),
            ("{quantile=\"0.99\"}".into(), s.fanout_ms.p99.to_string()),
        ],
    );
    gauge(
        "head_seq",
        "Last published event seq.",
        "gauge",
        &one(shared.head().to_string()),
    );
    gauge(
        "store_bytes",
        "Size of the store on disk.",
        "gauge",
        &one(shared.store.size_on_disk().to_string()),
    );
    gauge(
        "uptime_seconds",
        "Seconds since start.",
        "gauge",
        &one(shared.started.elapsed().as_secs().to_string()),
    );
    out
}
