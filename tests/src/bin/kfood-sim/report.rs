//! Latency summaries and the load report (table and JSON).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// Latencies of one kind, in microseconds.
#[derive(Debug, Default, Clone)]
pub struct Latencies(Vec<u64>);

impl Latencies {
    pub fn push(&mut self, d: Duration) {
        self.0.push(d.as_micros() as u64);
    }

    pub fn summary(&self) -> Summary {
        let mut v = self.0.clone();
        v.sort_unstable();
        let at = |p: f64| -> f64 {
            if v.is_empty() {
                return 0.0;
            }
            let i = ((v.len() as f64 * p).ceil() as usize)
                .saturating_sub(1)
                .min(v.len() - 1);
            v[i] as f64 / 1000.0
        };
        Summary {
            count: v.len() as u64,
            p50_ms: at(0.50),
            p95_ms: at(0.95),
            p99_ms: at(0.99),
            max_ms: v.last().map_or(0.0, |m| *m as f64 / 1000.0),
        }
    }
}

#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub count: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub customers: usize,
    pub crew: usize,
    pub admins: usize,
    pub duration_s: f64,
    pub target_orders_per_sec: f64,
    pub orders_placed: u64,
    pub orders_acked: u64,
    /// Of the acked orders, those placed for later (`--scheduled-share`).
    pub orders_scheduled: u64,
    pub acked_per_sec: f64,
    pub place_to_ack: Summary,
    pub update_to_customer: Summary,
    pub announcement_to_last: Summary,
    pub errors: BTreeMap<String, u64>,
    pub reconnects: u64,
    /// Users per relay (its WebSocket URL): once connected, and at the end.
    pub clients_per_relay: BTreeMap<String, (u64, u64)>,
    pub relay_rss_kib_start: Option<u64>,
    pub relay_rss_kib_end: Option<u64>,
    pub relay_rss_kib_peak: Option<u64>,
    pub relay_cpu_percent: Option<f64>,
    /// With `--kill-pid`: the killed relay's users and their gaps.
    pub failover: Option<crate::failover::Failover>,
}

pub fn row(name: &str, s: &Summary) -> String {
    format!(
        "{name:<34} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.2}\n",
        s.count, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms
    )
}

impl Report {
    pub fn table(&self) -> String {
        let mut t = String::new();
        t.push_str(&format!(
            "kfood-sim load: {} customers, {} crew, {} admins, {:.1} s, target {} orders/s\n\n",
            self.customers,
            self.crew,
            self.admins,
            self.duration_s,
            if self.target_orders_per_sec > 0.0 {
                format!("{:.1}", self.target_orders_per_sec)
            } else {
                "max (closed loop)".into()
            },
        ));
        t.push_str(&format!(
            "orders placed {}   acked {}   acked/s {:.1}   reconnects {}\n",
            self.orders_placed, self.orders_acked, self.acked_per_sec, self.reconnects
        ));
        if self.orders_scheduled > 0 {
            t.push_str(&format!(
                "of them placed for later (scheduled) {}\n",
                self.orders_scheduled
            ));
        }
        t.push('\n');
        t.push_str(&self.relays_table());
        t.push_str(&format!(
            "{:<34} {:>8} {:>9} {:>9} {:>9} {:>9}\n",
            "latency (ms)", "count", "p50", "p95", "p99", "max"
        ));
        t.push_str(&row("order_place -> ack", &self.place_to_ack));
        t.push_str(&row(
            "crew order_update -> customer",
            &self.update_to_customer,
        ));
        t.push_str(&row(
            "announcement -> last client",
            &self.announcement_to_last,
        ));
        if let Some(f) = &self.failover {
            t.push_str(&f.table());
        }
        t.push('\n');
        if self.errors.is_empty() {
            t.push_str("errors: none\n");
        } else {
            t.push_str("errors:\n");
            for (code, n) in &self.errors {
                t.push_str(&format!("  {code:<24} {n}\n"));
            }
        }
        if let (Some(s), Some(e), Some(p)) = (
            self.relay_rss_kib_start,
            self.relay_rss_kib_end,
            self.relay_rss_kib_peak,
        ) {
            t.push_str(&format!(
                "relay: RSS {:.1} MiB at start, {:.1} MiB peak, {:.1} MiB at end; CPU {:.0}% of one core\n",
                s as f64 / 1024.0,
                p as f64 / 1024.0,
                e as f64 / 1024.0,
                self.relay_cpu_percent.unwrap_or(0.0)
            ));
        }
        t
    }
}

impl Report {
    /// `clients per relay (connected -> at the end)`, one line per relay.
    fn relays_table(&self) -> String {
        let mut t = String::from("clients per relay (connected -> at the end):\n");
        for (relay, (start, end)) in &self.clients_per_relay {
            t.push_str(&format!("  {relay:<40} {start:>6} -> {end}\n"));
        }
        t.push('\n');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report says how many users each relay had, when connected and at the end.
    #[test]
    fn clients_per_relay_in_the_table() {
        let mut r = Report::default();
        r.clients_per_relay.insert("ws://a:1/ws".into(), (60, 0));
        r.clients_per_relay.insert("ws://b:2/ws".into(), (60, 120));
        let t = r.table();
        assert!(
            t.contains("clients per relay (connected -> at the end):"),
            "{t}"
        );
        assert!(t.contains("ws://a:1/ws") && t.contains("60 -> 0"), "{t}");
        assert!(t.contains("60 -> 120"), "{t}");
    }

    #[test]
    fn percentiles() {
        let mut l = Latencies::default();
        for ms in 1..=100 {
            l.push(Duration::from_millis(ms));
        }
        let s = l.summary();
        assert_eq!(
            (s.count, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms),
            (100, 50.0, 95.0, 99.0, 100.0)
        );
        assert_eq!(Latencies::default().summary(), Summary::default());
    }
}
