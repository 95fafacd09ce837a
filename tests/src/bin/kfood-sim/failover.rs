//! `kfood-sim load --kill-pid PID --kill-at SECS`: kills a relay mid-load
//! with SIGKILL (as a crash would) and measures what its users lived
//! through: for each user that was on it, the time from the kill to its
//! first message from another relay (the welcome on its new socket: live
//! again) and to being caught up there (`synced`: every event it missed
//! handed over). Users are told apart by the relay they were on at the
//! kill; the killed relay is the one its users moved away from.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kfood_protocol::client::ClientEvent;
use serde::Serialize;

use crate::report::{row, Latencies, Summary};

/// The kill as one user saw it.
#[derive(Debug, Default)]
pub struct Probe {
    inner: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    /// When the relay was killed, and the relay this user was on then.
    armed: Option<(Instant, String)>,
    /// From the kill to the welcome from another relay.
    live: Option<Duration>,
    /// From the kill to caught up on another relay.
    synced: Option<Duration>,
}

impl Probe {
    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The relay was killed at `at`, while this user was on `relay`.
    pub fn arm(&self, at: Instant, relay: String) {
        self.lock().armed = Some((at, relay));
    }

    /// Notes one event of the client, which is now on `relay_now`. Only the
    /// welcome and `synced` count: both come from the socket just opened,
    /// while other events may still be the old relay's, queued.
    pub fn saw(&self, ev: &ClientEvent, relay_now: &str) {
        let mut s = self.lock();
        let Some((at, ref relay)) = s.armed else {
            return;
        };
        if relay == relay_now {
            return;
        }
        let since = at.elapsed();
        match ev {
            ClientEvent::Welcome(_) if s.live.is_none() => s.live = Some(since),
            ClientEvent::Synced { .. } if s.synced.is_none() => {
                s.synced = Some(since);
                s.live.get_or_insert(since);
            }
            _ => {}
        }
    }

    /// The relay at the kill, and the times to live and synced elsewhere.
    fn outcome(&self) -> Option<(String, Option<Duration>, Option<Duration>)> {
        let s = self.lock();
        let (_, relay) = s.armed.as_ref()?;
        Some((relay.clone(), s.live, s.synced))
    }
}

/// The failover part of the report.
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct Failover {
    /// Seconds into the load when the relay was killed.
    pub kill_at_s: f64,
    /// The killed relay (its WebSocket URL), as its users left it.
    pub killed_relay: Option<String>,
    /// Users that were on the killed relay.
    pub clients_on_killed: u64,
    /// Of them, those live on another relay by the end.
    pub moved: u64,
    /// From the kill to the first message from another relay.
    pub kill_to_live: Summary,
    /// From the kill to caught up on another relay.
    pub kill_to_synced: Summary,
}

impl Failover {
    /// Its lines in the report's latency table.
    pub fn table(&self) -> String {
        format!(
            "{}{}kill -9 at {:.1} s of {}: {} of its {} users live elsewhere\n",
            row("kill -9 -> live on another relay", &self.kill_to_live),
            row("kill -9 -> synced on another relay", &self.kill_to_synced),
            self.kill_at_s,
            self.killed_relay.as_deref().unwrap_or("the relay"),
            self.moved,
            self.clients_on_killed,
        )
    }
}

/// Sends SIGKILL to `pid` (no unsafe code: the `kill` command does it).
pub fn kill9(pid: u32) -> anyhow::Result<()> {
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()?;
    anyhow::ensure!(status.success(), "kill -9 {pid} failed: {status}");
    Ok(())
}

/// Sums the probes up, once the load is over.
pub fn summarize<'a>(kill_at_s: f64, probes: impl Iterator<Item = &'a Probe>) -> Failover {
    let outcomes: Vec<_> = probes.filter_map(Probe::outcome).collect();
    // The relay users moved away from is the one killed.
    let killed: BTreeSet<&String> = outcomes
        .iter()
        .filter(|(_, live, _)| live.is_some())
        .map(|(relay, _, _)| relay)
        .collect();
    let mut live = Latencies::default();
    let mut synced = Latencies::default();
    let mut on_killed = 0;
    for (relay, l, s) in &outcomes {
        if !killed.contains(relay) {
            continue;
        }
        on_killed += 1;
        if let Some(l) = l {
            live.push(*l);
        }
        if let Some(s) = s {
            synced.push(*s);
        }
    }
    Failover {
        kill_at_s,
        killed_relay: killed.iter().next().map(|r| (*r).clone()),
        clients_on_killed: on_killed,
        moved: live.summary().count,
        kill_to_live: live.summary(),
        kill_to_synced: synced.summary(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only users that were on the killed relay count, timed from the kill to the welcome and the sync on another relay.
    #[test]
    fn gaps_of_the_users_of_the_killed_relay() {
        let at = Instant::now() - Duration::from_millis(50);
        let (moved, stayed, stuck) = (Probe::default(), Probe::default(), Probe::default());
        moved.arm(at, "ws://a/ws".into());
        stayed.arm(at, "ws://b/ws".into());
        stuck.arm(at, "ws://a/ws".into());
        // Still on A: nothing counts; then live and synced on B.
        moved.saw(&ClientEvent::Synced { head_seq: 1 }, "ws://a/ws");
        moved.saw(&ClientEvent::Synced { head_seq: 2 }, "ws://b/ws");
        stayed.saw(&ClientEvent::Synced { head_seq: 2 }, "ws://b/ws");
        let f = summarize(10.0, [&moved, &stayed, &stuck].into_iter());
        assert_eq!(f.killed_relay.as_deref(), Some("ws://a/ws"));
        assert_eq!((f.clients_on_killed, f.moved), (2, 1));
        assert_eq!(f.kill_to_synced.count, 1);
        assert!(f.kill_to_live.max_ms >= 50.0, "{f:?}");
    }
}
