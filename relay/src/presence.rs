//! Which relays of the restaurant are alive (DESIGN §15): each relay says
//! `{relay_id, url, connections, head_seq, at}` every [`EVERY`], and the
//! ones heard from within [`ALIVE_WITHIN`] are listed in `metrics.relays`
//! (the admin Dashboard's relay list).
//!
//! [`Presence`] only holds the latest list; where it comes from is the
//! engine's business. With sled the relay is alone and [`run`] fills it with
//! itself; with JetStream the engine writes its own entry to the relays'
//! KV bucket and [`Presence::set`]s what it reads back.

use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use kfood_protocol::messages::RelayPresence;
use kfood_protocol::time::Millis;

use crate::shared::Shared;

/// How often a relay says it is alive.
pub const EVERY: Duration = Duration::from_secs(5);
/// A relay not heard from for this long is no longer listed: three missed
/// beats, so one slow write does not drop it.
pub const ALIVE_WITHIN: Duration = Duration::from_secs(15);
/// Characters of a `relay_id`: short enough for a status line, random
/// enough that two starts never share one.
pub const RELAY_ID_LEN: usize = 8;

/// A fresh `relay_id` (DESIGN §15: fresh at every start): lowercase hex.
pub fn new_relay_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..RELAY_ID_LEN].to_owned()
}

/// The relays last heard from. Cheap to share; the lock is held only to
/// copy the list in or out.
#[derive(Debug, Default)]
pub struct Presence {
    relays: Mutex<Vec<RelayPresence>>,
}

impl Presence {
    /// Replaces the list with what was heard last (every relay's latest entry).
    pub fn set(&self, relays: Vec<RelayPresence>) {
        *self.relays.lock().unwrap_or_else(|e| e.into_inner()) = relays;
    }

    /// The relays heard from within [`ALIVE_WITHIN`] of `now_ms`, by
    /// `relay_id`; an entry whose time cannot be read is left out.
    pub fn alive(&self, now_ms: Millis) -> Vec<RelayPresence> {
        let window = ALIVE_WITHIN.as_millis() as Millis;
        let mut alive: Vec<RelayPresence> = self
            .relays
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|r| {
                kfood_protocol::time::parse_ms(&r.at)
                    .is_some_and(|at| now_ms.saturating_sub(at) <= window)
            })
            .cloned()
            .collect();
        alive.sort_by(|a, b| a.relay_id.cmp(&b.relay_id));
        alive
    }
}

impl Presence {
    /// Crew sockets on the other relays alive at `now_ms` (DESIGN §15: the
    /// `no_crew` alert counts crew on every live relay). `me` is left out:
    /// this relay counts its own sockets as they are now.
    pub fn crew_elsewhere(&self, me: &str, now_ms: Millis) -> u64 {
        self.alive(now_ms)
            .iter()
            .filter(|r| r.relay_id != me)
            .map(|r| r.crew)
            .sum()
    }
}

/// This relay's own entry, as of now.
pub fn own(shared: &Shared) -> RelayPresence {
    let (customer, crew, admin) = shared.hub.counts();
    RelayPresence {
        relay_id: shared.relay_id.clone(),
        url: shared.url.clone(),
        connections: customer + crew + admin,
        crew,
        head_seq: shared.head(),
        at: kfood_protocol::time::now(),
    }
}

/// The sled engine's presence: the relay alone, refreshed every [`EVERY`]
/// until shutdown.
pub async fn run(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        shared.presence.set(vec![own(&shared)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kfood_protocol::time::format_ms;

    fn seen(id: &str, at: Millis) -> RelayPresence {
        RelayPresence {
            relay_id: id.into(),
            url: format!("ws://{id}:8080"),
            connections: 3,
            crew: 1,
            head_seq: 10,
            at: format_ms(at),
        }
    }

    /// Crew on the other live relays count; this relay's own entry and stale ones do not.
    #[test]
    fn crew_elsewhere_counts_the_other_live_relays() {
        let now: Millis = 1_800_000_000_000;
        let p = Presence::default();
        p.set(vec![
            seen("me", now),
            seen("b", now - 1_000),
            seen("old", now - 60_000),
        ]);
        assert_eq!(p.crew_elsewhere("me", now), 1);
        assert_eq!(p.crew_elsewhere("nobody", now), 2);
    }

    /// Only relays heard from within 15 s are alive; unreadable times are left out.
    #[test]
    fn alive_means_heard_from_within_15_s() {
        let now: Millis = 1_800_000_000_000;
        let p = Presence::default();
        assert!(p.alive(now).is_empty());
        let mut junk = seen("j", now);
        junk.at = "yesterday".into();
        p.set(vec![
            seen("b", now - 15_000),
            seen("a", now - 1_000),
            seen("old", now - 15_001),
            junk,
        ]);
        let ids: Vec<String> = p.alive(now).into_iter().map(|r| r.relay_id).collect();
        assert_eq!(ids, ["a", "b"]);
        p.set(Vec::new());
        assert!(p.alive(now).is_empty(), "set replaces the list");
    }

    /// Every start gets its own short id.
    #[test]
    fn relay_ids_are_short_and_fresh() {
        let (a, b) = (new_relay_id(), new_relay_id());
        assert_eq!(a.len(), RELAY_ID_LEN);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
