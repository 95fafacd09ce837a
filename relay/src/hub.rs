//! Who receives what (DESIGN §5 routing) and the registry of live sockets.
//!
//! The hub never waits on a client: each connection has a bounded queue and a
//! connection whose queue is full is closed; it recovers by resuming.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use kfood_protocol::{Envelope, Role, UserRef};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::log::Logged;

/// What a connection's writer is handed.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A serialised message. Every recipient of a broadcast shares one
    /// buffer, and a frame goes to the socket without a copy.
    Frame(Utf8Bytes),
    /// Durable events with `after < seq <= upto`, read from the log by the
    /// connection itself so a long replay never holds up the broadcast.
    Replay { after: u64, upto: u64 },
    /// Close with this code and reason.
    Close(u16, String),
}

/// One live socket as the hub sees it.
#[derive(Debug, Clone)]
pub struct ConnEntry {
    pub id: u64,
    pub user: UserRef,
    pub session: String,
    pub tx: mpsc::Sender<Outgoing>,
}

#[derive(Default)]
pub struct Hub {
    conns: RwLock<HashMap<u64, ConnEntry>>,
    next_id: AtomicU64,
    /// Frames handed to connections since start.
    pub sent: AtomicU64,
    /// Frames dropped because a queue was full (the connection is then closed).
    pub overflowed: AtomicU64,
    overflow_victims: Mutex<Vec<u64>>,
}

impl Hub {
    pub fn next_conn_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn register(&self, entry: ConnEntry) {
        write(&self.conns).insert(entry.id, entry);
    }

    pub fn unregister(&self, id: u64) {
        write(&self.conns).remove(&id);
    }

    /// Hands a frame to one connection; a full queue closes it.
    pub fn send_to(&self, entry: &ConnEntry, out: Outgoing) {
        match entry.tx.try_send(out) {
            Ok(()) => {
                self.sent.fetch_add(1, Ordering::Relaxed);
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.overflowed.fetch_add(1, Ordering::Relaxed);
                lock(&self.overflow_victims).push(entry.id);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Broadcasts a durable event to everyone allowed to see it
    /// ([`kfood_protocol::event::Visibility::admits`]), as each may see it
    /// ([`kfood_protocol::Event::view_for`]). The event is serialised at most
    /// once per view: whole, and as crew see it.
    pub fn publish(&self, e: &Logged) {
        let mut full: Option<Utf8Bytes> = None;
        let mut crew: Option<Utf8Bytes> = None;
        let conns = read(&self.conns);
        for c in conns.values() {
            let role = c.user.role;
            if !e.to.admits(role, &c.user.id) {
                continue;
            }
            let (slot, view) = if role == Role::Crew {
                (&mut crew, Role::Crew)
            } else {
                (&mut full, Role::Admin)
            };
            let frame = slot.get_or_insert_with(|| e.json_for(view).into()).clone();
            self.send_to(c, Outgoing::Frame(frame));
        }
        drop(conns);
        self.close_overflowed();
    }

    /// Sends a non-durable message to every connection `filter` admits.
    pub fn broadcast(&self, env: &Envelope, filter: impl Fn(&ConnEntry) -> bool) {
        let frame: Utf8Bytes = env.to_json().into();
        let conns = read(&self.conns);
        for c in conns.values().filter(|c| filter(c)) {
            self.send_to(c, Outgoing::Frame(frame.clone()));
        }
        drop(conns);
        self.close_overflowed();
    }

    /// Closes every socket of `user_id`.
    pub fn close_user(&self, user_id: &str, code: u16, reason: &str) {
        for c in read(&self.conns).values().filter(|c| c.user.id == user_id) {
            // A close must get through even to a full queue: the connection
            // task also watches its entry's removal below.
            let _ = c.tx.try_send(Outgoing::Close(code, reason.to_owned()));
        }
    }

    pub fn close_all(&self, code: u16, reason: &str) {
        for c in read(&self.conns).values() {
            let _ = c.tx.try_send(Outgoing::Close(code, reason.to_owned()));
        }
    }

    fn close_overflowed(&self) {
        let victims = std::mem::take(&mut *lock(&self.overflow_victims));
        if victims.is_empty() {
            return;
        }
        let mut conns = write(&self.conns);
        for id in victims {
            // Removing the entry drops the hub's sender; the connection sees
            // its queue end once drained and closes so the client resumes.
            if let Some(c) = conns.remove(&id) {
                tracing::warn!(conn = id, user = %c.user.id, "outbound queue full, closing slow connection");
            }
        }
    }

    pub fn counts(&self) -> (u64, u64, u64) {
        let mut n = (0, 0, 0);
        for c in read(&self.conns).values() {
            match c.user.role {
                Role::Customer => n.0 += 1,
                Role::Crew => n.1 += 1,
                Role::Admin => n.2 += 1,
                // No socket is the relay's own.
                Role::System => {}
            }
        }
        n
    }

    /// Open sockets per user id.
    pub fn sessions_by_user(&self) -> HashMap<String, (UserRef, u64)> {
        let mut m: HashMap<String, (UserRef, u64)> = HashMap::new();
        for c in read(&self.conns).values() {
            m.entry(c.user.id.clone())
                .or_insert_with(|| (c.user.clone(), 0))
                .1 += 1;
        }
        m
    }

    pub fn is_registered(&self, id: u64) -> bool {
        read(&self.conns).contains_key(&id)
    }
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

pub fn lock<T>(l: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    l.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kfood_protocol::event::{Event, Visibility};
    use kfood_protocol::messages::{Announcement, AnnouncementKind, Audience};
    use kfood_protocol::Party;

    fn conn(hub: &Hub, id: &str, role: Role) -> (ConnEntry, mpsc::Receiver<Outgoing>) {
        let (tx, rx) = mpsc::channel(8);
        let entry = ConnEntry {
            id: hub.next_conn_id(),
            user: UserRef {
                id: id.into(),
                name: id.into(),
                role,
            },
            session: format!("s-{id}"),
            tx,
        };
        hub.register(entry.clone());
        (entry, rx)
    }

    fn frame_of(rx: &mut mpsc::Receiver<Outgoing>) -> Option<Utf8Bytes> {
        match rx.try_recv() {
            Ok(Outgoing::Frame(f)) => Some(f),
            _ => None,
        }
    }

    /// A broadcast is serialised once per view and reaches only those its visibility admits.
    #[test]
    fn publish_serialises_once_per_view_and_filters() {
        let hub = Hub::default();
        let (_, mut kim) = conn(&hub, "kim", Role::Crew);
        let (_, mut lee) = conn(&hub, "lee", Role::Crew);
        let (_, mut ann) = conn(&hub, "ann", Role::Customer);
        let (_, mut boss) = conn(&hub, "boss", Role::Admin);
        let a = Announcement {
            id: 1,
            audience: Audience::Crew,
            kind: AnnouncementKind::Announcement,
            text: "line check".into(),
            expires_at: None,
            created_at: "2026-01-01T00:00:00Z".into(),
            by: Party {
                id: "boss".into(),
                name: "Boss".into(),
            },
        };
        let e = Logged {
            seq: 7,
            at: "2026-01-01T00:00:00Z".into(),
            sender: None,
            to: Visibility::Audience {
                audience: Audience::Crew,
            },
            event: Event::Announcement(a),
        };
        hub.publish(&e);
        let (k, l) = (frame_of(&mut kim).unwrap(), frame_of(&mut lee).unwrap());
        assert!(
            k.as_ptr() == l.as_ptr(),
            "one serialisation for every crew socket"
        );
        assert!(k.contains("\"seq\":7"), "{k}");
        assert!(frame_of(&mut ann).is_none(), "not for customers");
        assert!(frame_of(&mut boss).is_none(), "not for admins");
    }
}
