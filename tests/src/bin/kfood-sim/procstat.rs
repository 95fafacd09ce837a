//! Resident memory and CPU time of a process on the same machine (Linux
//! `/proc`), for reporting the relay's cost under load.

use std::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub rss_kib: u64,
    /// user + system CPU time, in clock ticks.
    pub cpu_ticks: u64,
    pub at: Instant,
}

/// Clock ticks per second (`getconf CLK_TCK`), 100 on every common Linux.
const CLK_TCK: f64 = 100.0;

pub fn sample(pid: u32) -> Option<Sample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after ')'.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(Sample {
        rss_kib,
        cpu_ticks: utime + stime,
        at: Instant::now(),
    })
}

/// CPU use between two samples, in percent of one core.
pub fn cpu_percent(a: &Sample, b: &Sample) -> f64 {
    let secs = b.at.duration_since(a.at).as_secs_f64();
    if secs <= 0.0 {
        return 0.0;
    }
    (b.cpu_ticks.saturating_sub(a.cpu_ticks)) as f64 / CLK_TCK / secs * 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_process() {
        let s = sample(std::process::id()).expect("own /proc entry");
        assert!(s.rss_kib > 0);
    }
}
