//! Counters, the `metrics` event sent to admins every second, and the
//! Prometheus text of `GET /metrics`.
//!
//! `GET /metrics` follows the Prometheus conventions: counters end in
//! `_total` and only grow; levels (connections, orders by status, the `_today`
//! figures, which restart at midnight UTC) are gauges; time is in seconds.
//! Besides the `kfood_` series it has the standard `process_` ones.
//!
//! `kfood_resumes_total` counts reconnections: sockets that authenticated with
//! a `since` (DESIGN §4), i.e. a client picking up where its last connection
//! stopped, rather than starting with a snapshot.

use std::collections::VecDeque;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kfood_protocol::messages::{kind, MetricsSample, Percentiles, RoleCounts};
use kfood_protocol::{Envelope, Role};
use tokio::sync::oneshot;

use crate::core::{Command, Stats};
use crate::hub::lock;
use crate::shared::Shared;
use crate::wire::stamped;

/// Fan-out latencies kept for the percentiles: the last few thousand events.
const FANOUT_SAMPLES: usize = 4096;
/// One-minute samples sent as `history` to a newly connected admin.
const HISTORY_MINUTES: usize = 15;

/// Upper bounds, in seconds, of the fan-out histogram's buckets (`+Inf` is
/// added): from a quick group commit to a slow disk.
pub const FANOUT_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// A Prometheus histogram of durations: a count per bucket, the sum and the count.
#[derive(Default)]
pub struct Histogram {
    /// Observations per bucket (not cumulative); the last is `+Inf`.
    buckets: [AtomicU64; FANOUT_BUCKETS.len() + 1],
    sum_ns: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = FANOUT_BUCKETS
            .iter()
            .position(|&le| secs <= le)
            .unwrap_or(FANOUT_BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Writes `name_bucket{le}` (cumulative, ending in `+Inf`), `name_sum` and `name_count`.
    fn write(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} histogram");
        // Read the buckets once; `_count` is their total so the text is consistent
        // even while events are being recorded.
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let mut cumulative = 0u64;
        for (i, n) in counts.iter().enumerate() {
            cumulative += n;
            let le = FANOUT_BUCKETS
                .get(i)
                .map_or_else(|| "+Inf".to_owned(), |b| b.to_string());
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let sum = self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {cumulative}");
    }
}

#[derive(Default)]
pub struct Metrics {
    pub msgs_in: AtomicU64,
    pub msgs_out: AtomicU64,
    pub groups: AtomicU64,
    /// Sockets that authenticated with `since` (a client resuming).
    pub resumes: AtomicU64,
    /// Time from decision to every recipient's queue, for `/metrics`.
    pub fanout: Histogram,
    /// The latest fan-out times, for the percentiles of the `metrics` event.
    fanout_us: Mutex<VecDeque<u64>>,
    pub last: Mutex<MetricsSample>,
    pub last_stats: Mutex<Stats>,
    history: Mutex<VecDeque<MetricsSample>>,
    /// Admin connections that still need their first sample (with history).
    pub fresh_admins: Mutex<Vec<tokio::sync::mpsc::Sender<crate::hub::Outgoing>>>,
    /// Charges and voids of the simulated payment gateway.
    pub payments: std::sync::Arc<crate::payment::PaymentCounts>,
}

impl Metrics {
    pub fn record_fanout(m: &Metrics, d: Duration) {
        m.fanout.observe(d);
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
            relay_id: shared.relay_id.clone(),
            relays: shared.presence.alive(kfood_protocol::time::now_ms()),
        };
        last_in = msgs_in;
        last_out = msgs_out;
        minute += 1;
        if minute % 60 == 1 {
            let mut h = lock(&m.history);
            if h.len() == HISTORY_MINUTES {
                h.pop_front();
            }
            // The history charts figures; who was alive then is not charted.
            h.push_back(MetricsSample {
                relays: Vec::new(),
                ..sample.clone()
            });
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
            let frame: tokio_tungstenite::tungstenite::Utf8Bytes = first.to_json().into();
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

/// Writes one metric family: HELP, TYPE and its samples.
fn family(out: &mut String, name: &str, help: &str, kind: &str, rows: &[(String, String)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, v) in rows {
        let _ = writeln!(out, "{name}{labels} {v}");
    }
}

fn one(v: impl ToString) -> Vec<(String, String)> {
    vec![(String::new(), v.to_string())]
}

/// `GET /metrics`: the relay's series (prefixed `kfood_`), then the process's.
pub fn prometheus(shared: &Shared) -> String {
    let m = &shared.metrics;
    let s = lock(&m.last).clone();
    let (customer, crew, admin) = shared.hub.counts();
    let mut out = String::new();
    let o = &mut out;
    family(
        o,
        "kfood_connections",
        "Open authenticated sockets by role.",
        "gauge",
        &[
            ("{role=\"customer\"}".into(), customer.to_string()),
            ("{role=\"crew\"}".into(), crew.to_string()),
            ("{role=\"admin\"}".into(), admin.to_string()),
        ],
    );
    let counters = counters(shared);
    for (name, help, v) in counters {
        family(o, name, help, "counter", &one(v));
    }
    let orders: Vec<(String, String)> = s
        .orders_by_status
        .iter()
        .map(|(k, v)| (format!("{{status=\"{k}\"}}"), v.to_string()))
        .collect();
    family(o, "kfood_orders", "Orders by status.", "gauge", &orders);
    let gauges: [(&str, &str, String); 7] = [
        (
            "kfood_orders_today",
            "Orders placed today (UTC); back to 0 at midnight.",
            s.orders_today.to_string(),
        ),
        (
            "kfood_revenue_today_cents",
            "Revenue today (UTC), cancelled orders excluded; back to 0 at midnight.",
            s.revenue_today_cents.to_string(),
        ),
        (
            "kfood_payment_failures_today",
            "Failed payments today (UTC); back to 0 at midnight.",
            s.payment_failures_today.to_string(),
        ),
        (
            "kfood_late_orders",
            "Open orders past their ETA.",
            s.late_orders.to_string(),
        ),
        (
            "kfood_head_seq",
            "Last published event seq.",
            shared.head().to_string(),
        ),
        (
            "kfood_store_bytes",
            "Size of the store on disk.",
            shared.store.size_on_disk().to_string(),
        ),
        (
            "kfood_uptime_seconds",
            "Seconds since the relay started serving.",
            shared.started.elapsed().as_secs().to_string(),
        ),
    ];
    for (name, help, v) in gauges {
        family(o, name, help, "gauge", &one(v));
    }
    family(
        o,
        "kfood_relay_info",
        "This run of the relay: its relay_id (fresh at every start).",
        "gauge",
        &[(format!("{{relay_id=\"{}\"}}", shared.relay_id), "1".into())],
    );
    m.fanout.write(
        o,
        "kfood_fanout_seconds",
        "Time from a decision to every recipient's queue, flush included.",
    );
    if let Some(p) = process::sample() {
        p.write(o);
    }
    out
}

/// The relay's counters: name, help and value.
fn counters(shared: &Shared) -> [(&'static str, &'static str, u64); 7] {
    let m = &shared.metrics;
    [
        (
            "kfood_messages_in_total",
            "Client messages received (a batch counts as its messages).",
            m.msgs_in.load(Ordering::Relaxed),
        ),
        (
            "kfood_messages_out_total",
            "Frames handed to connections.",
            shared.hub.sent.load(Ordering::Relaxed),
        ),
        (
            "kfood_resumes_total",
            "Sockets that authenticated with `since`: clients reconnecting and resuming from the last event they saw.",
            m.resumes.load(Ordering::Relaxed),
        ),
        (
            "kfood_slow_clients_closed_total",
            "Connections closed because their outbound queue was full.",
            shared.hub.overflowed.load(Ordering::Relaxed),
        ),
        (
            "kfood_store_groups_total",
            "Group commits (one flush each).",
            m.groups.load(Ordering::Relaxed),
        ),
        (
            "kfood_payment_charges_total",
            "Cards charged by the simulated gateway (once per client_order_id).",
            m.payments.charges.load(Ordering::Relaxed),
        ),
        (
            "kfood_payment_voids_total",
            "Charges voided because their order existed already or was not written.",
            m.payments.voids.load(Ordering::Relaxed),
        ),
    ]
}

/// The standard `process_` series, read from `/proc/self` (Linux; elsewhere
/// they are left out).
mod process {
    use std::fmt::Write;

    /// Clock ticks per second in `/proc` times: USER_HZ, 100 on every Linux
    /// architecture the relay builds for.
    const TICKS_PER_SEC: f64 = 100.0;

    pub struct Sample {
        resident_bytes: u64,
        cpu_seconds: f64,
        open_fds: usize,
        start_time_seconds: f64,
    }

    /// The fields of `/proc/self/stat` after the command name (which may hold
    /// spaces): index 0 is field 3, `state`.
    fn stat_fields(stat: &str) -> Option<Vec<&str>> {
        let (_, rest) = stat.rsplit_once(')')?;
        Some(rest.split_whitespace().collect())
    }

    pub fn sample() -> Option<Sample> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let f = stat_fields(&stat)?;
        let field = |n: usize| -> Option<f64> { f.get(n - 3)?.parse().ok() };
        let cpu_seconds = (field(14)? + field(15)?) / TICKS_PER_SEC;
        let started_after_boot = field(22)? / TICKS_PER_SEC;
        let boot: f64 = std::fs::read_to_string("/proc/stat")
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix("btime ")?.trim().parse().ok())?;
        let resident_kib: u64 = std::fs::read_to_string("/proc/self/status")
            .ok()?
            .lines()
            .find_map(|l| {
                l.strip_prefix("VmRSS:")?
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .ok()
            })?;
        let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count();
        Some(Sample {
            resident_bytes: resident_kib * 1024,
            cpu_seconds,
            open_fds,
            start_time_seconds: boot + started_after_boot,
        })
    }

    impl Sample {
        pub fn write(&self, out: &mut String) {
            let rows: [(&str, &str, &str, String); 4] = [
                (
                    "process_resident_memory_bytes",
                    "Resident memory size in bytes.",
                    "gauge",
                    self.resident_bytes.to_string(),
                ),
                (
                    "process_cpu_seconds_total",
                    "Total user and system CPU time spent in seconds.",
                    "counter",
                    self.cpu_seconds.to_string(),
                ),
                (
                    "process_open_fds",
                    "Number of open file descriptors.",
                    "gauge",
                    self.open_fds.to_string(),
                ),
                (
                    "process_start_time_seconds",
                    "Start time of the process since unix epoch in seconds.",
                    "gauge",
                    self.start_time_seconds.to_string(),
                ),
            ];
            for (name, help, kind, v) in rows {
                let _ = writeln!(out, "# HELP {name} {help}");
                let _ = writeln!(out, "# TYPE {name} {kind}");
                let _ = writeln!(out, "{name} {v}");
            }
        }
    }

    #[cfg(test)]
    mod tests {
        /// A command name with spaces and parentheses does not shift the fields.
        #[test]
        fn stat_fields_skip_the_command_name() {
            let stat = "42 (kfood (relay) x) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 12345 1000 200";
            let f = super::stat_fields(stat).unwrap();
            assert_eq!(f[0], "S");
            assert_eq!(f[14 - 3], "250");
            assert_eq!(f[15 - 3], "50");
            assert_eq!(f[22 - 3], "12345");
        }

        /// On Linux every process series is there and plausible.
        #[cfg(target_os = "linux")]
        #[test]
        fn reads_this_process() {
            let s = super::sample().expect("/proc/self");
            assert!(s.resident_bytes > 0);
            assert!(s.open_fds >= 3);
            assert!(s.start_time_seconds > 1.6e9);
            assert!(s.cpu_seconds >= 0.0);
        }
    }
}
