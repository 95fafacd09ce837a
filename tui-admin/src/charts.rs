//! The relay's `metrics` samples over time: the one-minute history the relay
//! sends with the first sample, and a rolling buffer of the per-second
//! samples since, turned into the series the dashboard charts draw.

use std::collections::VecDeque;

use kfood_protocol::messages::MetricsSample;
use kfood_protocol::time::Millis;

/// Per-second samples kept: fifteen minutes, the longest chart window. An
/// older sample is dropped as each new one arrives.
pub const SECOND_SAMPLES: usize = 15 * 60;

/// The longest chart window.
pub const WINDOW_LONG_MS: Millis = 15 * 60_000;
/// The short, per-second chart window.
pub const WINDOW_SHORT_MS: Millis = 2 * 60_000;

/// What a chart needs of one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// When the relay took the sample (its `uptime_s` placed on our clock).
    pub t_ms: Millis,
    pub uptime_s: u64,
    pub msgs_in: f64,
    pub msgs_out: f64,
    pub fanout_p50: f64,
    pub fanout_p99: f64,
    pub orders_today: u64,
}

impl Point {
    fn of(s: &MetricsSample, t_ms: Millis) -> Point {
        Point {
            t_ms,
            uptime_s: s.uptime_s,
            msgs_in: s.msgs_in_per_s,
            msgs_out: s.msgs_out_per_s,
            fanout_p50: s.fanout_ms.p50,
            fanout_p99: s.fanout_ms.p99,
            orders_today: s.orders_today,
        }
    }

    pub fn msgs(&self) -> f64 {
        self.msgs_in + self.msgs_out
    }
}

/// How values falling into one chart column are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agg {
    Mean,
    Max,
}

#[derive(Debug, Clone, Default)]
pub struct Charts {
    /// The relay's one-minute samples from before we connected, oldest first.
    minutes: Vec<Point>,
    /// Per-second samples since we connected, oldest first.
    seconds: VecDeque<Point>,
    /// The latest sample in full (without its history).
    pub latest: Option<MetricsSample>,
}

impl Charts {
    /// Takes one `metrics` sample received at `t_ms`.
    pub fn push(&mut self, mut sample: MetricsSample, t_ms: Millis) {
        let restarted = self
            .seconds
            .back()
            .is_some_and(|p| sample.uptime_s < p.uptime_s);
        if restarted {
            // A restarted relay counts from zero again: its old figures no
            // longer line up with the new ones.
            self.seconds.clear();
            self.minutes.clear();
        }
        if let Some(history) = sample.history.take() {
            // Each history sample's age is exact: the relay's uptime then and now.
            self.minutes = history
                .iter()
                .filter(|h| h.uptime_s <= sample.uptime_s)
                .map(|h| {
                    let age_ms = (sample.uptime_s - h.uptime_s) as Millis * 1000;
                    Point::of(h, t_ms - age_ms)
                })
                .collect();
        }
        if self.seconds.len() == SECOND_SAMPLES {
            self.seconds.pop_front();
        }
        self.seconds.push_back(Point::of(&sample, t_ms));
        self.latest = Some(sample);
    }

    /// Every known point, oldest first: the minute history before the first
    /// per-second sample, then the per-second samples.
    pub fn points(&self) -> impl Iterator<Item = &Point> {
        let first_second = self.seconds.front().map(|p| p.t_ms).unwrap_or(Millis::MAX);
        self.minutes
            .iter()
            .filter(move |p| p.t_ms < first_second)
            .chain(self.seconds.iter())
    }

    /// The largest `value` of any sample in the `window_ms` before the latest.
    pub fn peak(&self, window_ms: Millis, value: impl Fn(&Point) -> f64) -> Option<f64> {
        let end = self.last_t()?;
        self.points()
            .filter(|p| p.t_ms > end - window_ms)
            .map(value)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
    }

    pub fn last_point(&self) -> Option<&Point> {
        self.seconds.back()
    }

    pub fn last_t(&self) -> Option<Millis> {
        self.seconds.back().map(|p| p.t_ms)
    }

    pub fn is_empty(&self) -> bool {
        self.seconds.is_empty()
    }

    /// `value` over the `window_ms` before the latest sample, in `cols`
    /// columns, oldest left. A column with no sample of its own shows the
    /// last value before it when that is at most a minute older (the history
    /// has one sample a minute); otherwise it is `None`: no data.
    pub fn series(
        &self,
        window_ms: Millis,
        cols: usize,
        agg: Agg,
        value: impl Fn(&Point) -> f64,
    ) -> Vec<Option<f64>> {
        let Some(end) = self.last_t() else {
            return vec![None; cols];
        };
        if cols == 0 {
            return Vec::new();
        }
        let start = end - window_ms;
        let mut sums = vec![(0.0f64, 0usize, f64::MIN); cols];
        let mut last_before: Vec<Option<(Millis, f64)>> = vec![None; cols];
        let col_of = |t: Millis| -> Option<usize> {
            if t <= start || t > end {
                return None;
            }
            // Column c holds (start + c·w/cols, start + (c+1)·w/cols].
            let c = ((t - start - 1) as i128 * cols as i128 / window_ms.max(1) as i128) as usize;
            Some(c.min(cols - 1))
        };
        let mut carry: Option<(Millis, f64)> = None;
        let mut points = self.points().peekable();
        for (c, slot) in last_before.iter_mut().enumerate() {
            let col_end = start + (window_ms as i128 * (c as i128 + 1) / cols as i128) as Millis;
            while let Some(p) = points.peek() {
                if p.t_ms > col_end {
                    break;
                }
                let v = value(p);
                if let Some(pc) = col_of(p.t_ms) {
                    let s = &mut sums[pc];
                    s.0 += v;
                    s.1 += 1;
                    s.2 = s.2.max(v);
                }
                carry = Some((p.t_ms, v));
                points.next();
            }
            *slot = carry;
        }
        (0..cols)
            .map(|c| {
                let (sum, n, max) = sums[c];
                if n > 0 {
                    return Some(match agg {
                        Agg::Mean => sum / n as f64,
                        Agg::Max => max,
                    });
                }
                let col_end =
                    start + (window_ms as i128 * (c as i128 + 1) / cols as i128) as Millis;
                match last_before[c] {
                    Some((t, v)) if col_end - t <= 61_000 => Some(v),
                    _ => None,
                }
            })
            .collect()
    }

    /// Orders placed in each of the last `minutes` minutes, oldest first; the
    /// last one is the minute still running. `None` where nothing is known.
    pub fn orders_per_minute(&self, minutes: usize) -> Vec<Option<u64>> {
        let Some(end) = self.last_t() else {
            return vec![None; minutes];
        };
        let points: Vec<&Point> = self.points().collect();
        let at = |t: Millis| -> Option<u64> {
            points
                .iter()
                .rev()
                .find(|p| p.t_ms <= t)
                .map(|p| p.orders_today)
        };
        (0..minutes)
            .map(|m| {
                let m_end = end - (minutes - 1 - m) as Millis * 60_000;
                let m_start = m_end - 60_000;
                let last = at(m_end)?;
                let first = at(m_start).or_else(|| {
                    points
                        .iter()
                        .find(|p| p.t_ms > m_start && p.t_ms <= m_end)
                        .map(|p| p.orders_today)
                })?;
                // `orders_today` starts again at midnight.
                Some(if last >= first { last - first } else { last })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kfood_protocol::messages::Percentiles;

    fn sample(uptime_s: u64, msgs: f64, orders_today: u64) -> MetricsSample {
        MetricsSample {
            uptime_s,
            msgs_in_per_s: msgs,
            msgs_out_per_s: 0.0,
            orders_today,
            fanout_ms: Percentiles {
                p50: 1.0,
                p99: msgs,
            },
            ..Default::default()
        }
    }

    const T0: Millis = 1_800_000_000_000;

    #[test]
    fn history_is_placed_by_uptime() {
        let mut c = Charts::default();
        let mut first = sample(181, 9.0, 7);
        first.history = Some(vec![
            sample(1, 1.0, 0),
            sample(61, 2.0, 2),
            sample(121, 3.0, 5),
        ]);
        c.push(first, T0);
        let ts: Vec<Millis> = c.points().map(|p| T0 - p.t_ms).collect();
        assert_eq!(ts, vec![180_000, 120_000, 60_000, 0]);
        // Each minute ends one minute after the last; the last ends now.
        assert_eq!(
            c.orders_per_minute(5),
            vec![None, Some(0), Some(2), Some(3), Some(2)]
        );
    }

    #[test]
    fn rolling_buffer_is_bounded_and_restarts_clear_it() {
        let mut c = Charts::default();
        for s in 0..(SECOND_SAMPLES as u64 + 10) {
            c.push(sample(s, 1.0, 0), T0 + s as Millis * 1000);
        }
        assert_eq!(c.points().count(), SECOND_SAMPLES);
        c.push(sample(3, 1.0, 0), T0 + 2_000_000);
        assert_eq!(c.points().count(), 1);
    }

    #[test]
    fn series_buckets_and_carries() {
        let mut c = Charts::default();
        for s in 0..60u64 {
            c.push(sample(s, s as f64, 0), T0 + s as Millis * 1000);
        }
        // 60 s in 6 columns of 10 s: the mean of each ten seconds.
        let v = c.series(60_000, 6, Agg::Mean, Point::msgs);
        assert_eq!(v[0], Some(4.5));
        assert_eq!(v[5], Some(54.5));
        let max = c.series(60_000, 6, Agg::Max, |p| p.fanout_p99);
        assert_eq!(max[5], Some(59.0));
        // Before the first sample there is nothing.
        let wide = c.series(120_000, 4, Agg::Mean, Point::msgs);
        assert_eq!(wide[0], None);
        assert!(wide[3].is_some());
    }

    #[test]
    fn empty_charts_have_no_data() {
        let c = Charts::default();
        assert_eq!(c.series(60_000, 3, Agg::Mean, Point::msgs), vec![None; 3]);
        assert_eq!(c.orders_per_minute(2), vec![None, None]);
    }
}
