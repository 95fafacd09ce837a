//! Who receives what (DESIGN §5 routing) and the registry of live sockets.
//!
//! The hub never waits on a client: each connection has a bounded queue and a
//! connection whose queue is full is closed; it recovers by resuming.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use kfood_protocol::messages::{kind, Audience};
use kfood_protocol::{Envelope, Role, UserRef};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

/// Who may see a durable event. Stored with the event in the log, so a replay
/// is filtered exactly as the live broadcast was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "to")]
pub enum Visibility {
    Everyone,
    Audience {
        audience: Audience,
    },
    /// The owning customer, all crew, all admins (order events).
    OrderParties {
        customer: String,
    },
    /// One customer and all admins (payment events).
    CustomerAndAdmins {
        customer: String,
    },
    Admins,
    /// Crew and admins (kitchen alerts).
    Staff,
}

impl Visibility {
    pub fn admits(&self, role: Role, user_id: &str) -> bool {
        match self {
            Visibility::Everyone => true,
            Visibility::Audience { audience } => audience.includes(role),
            Visibility::OrderParties { customer } => role.is_staff() || customer == user_id,
            Visibility::CustomerAndAdmins { customer } => {
                role == Role::Admin || customer == user_id
            }
            Visibility::Admins => role == Role::Admin,
            Visibility::Staff => role.is_staff(),
        }
    }
}

/// A durable event as the log keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogRecord {
    #[serde(flatten)]
    pub to: Visibility,
    pub event: Envelope,
}

impl LogRecord {
    /// The event as `role` may see it, or `None` when it is not theirs to see.
    pub fn view_for(&self, role: Role, user_id: &str) -> Option<Envelope> {
        if !self.to.admits(role, user_id) {
            return None;
        }
        let mut e = self.event.clone();
        if role == Role::Crew && is_order_event(&e.kind) {
            redact_payment(&mut e.data);
        }
        Some(e)
    }
}

fn is_order_event(k: &str) -> bool {
    matches!(
        k,
        kind::ORDER_CREATED | kind::ORDER_UPDATE | kind::ORDER_MODIFIED | kind::ORDER_CANCELLED
    )
}

/// Crew see an order's payment as `{method, status}` only.
fn redact_payment(data: &mut serde_json::Value) {
    if let Some(p) = data
        .pointer_mut("/order/payment")
        .and_then(|p| p.as_object_mut())
    {
        p.retain(|k, _| k == "method" || k == "status");
    }
}

/// What a connection's writer is handed.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A serialised message.
    Frame(Arc<str>),
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

    /// Broadcasts a durable event to everyone allowed to see it. The event is
    /// serialised once per variant (full, and redacted for crew).
    pub fn publish(&self, rec: &LogRecord) {
        let mut full: Option<Arc<str>> = None;
        let mut crew: Option<Arc<str>> = None;
        let conns = read(&self.conns);
        for c in conns.values() {
            if !rec.to.admits(c.user.role, &c.user.id) {
                continue;
            }
            let slot = if c.user.role == Role::Crew && is_order_event(&rec.event.kind) {
                &mut crew
            } else {
                &mut full
            };
            let frame = slot
                .get_or_insert_with(|| {
                    rec.view_for(c.user.role, &c.user.id)
                        .map(|e| e.to_json())
                        .unwrap_or_default()
                        .into()
                })
                .clone();
            self.send_to(c, Outgoing::Frame(frame));
        }
        drop(conns);
        self.close_overflowed();
    }

    /// Sends a non-durable message to every connection `filter` admits.
    pub fn broadcast(&self, env: &Envelope, filter: impl Fn(&ConnEntry) -> bool) {
        let frame: Arc<str> = env.to_json().into();
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
    use serde_json::json;

    #[track_caller]
    fn check(to: Visibility, role: Role, user: &str, expected: bool) {
        assert_eq!(to.admits(role, user), expected, "{to:?} {role} {user}");
    }

    #[test]
    fn routing_table() {
        let order = || Visibility::OrderParties {
            customer: "ann".into(),
        };
        check(order(), Role::Customer, "ann", true);
        check(order(), Role::Customer, "bob", false);
        check(order(), Role::Crew, "kim", true);
        check(order(), Role::Admin, "boss", true);
        let pay = || Visibility::CustomerAndAdmins {
            customer: "ann".into(),
        };
        check(pay(), Role::Customer, "ann", true);
        check(pay(), Role::Customer, "bob", false);
        check(pay(), Role::Crew, "kim", false);
        check(pay(), Role::Admin, "boss", true);
        check(Visibility::Admins, Role::Crew, "kim", false);
        check(Visibility::Staff, Role::Crew, "kim", true);
        check(Visibility::Staff, Role::Customer, "ann", false);
        check(
            Visibility::Audience {
                audience: Audience::Customer,
            },
            Role::Crew,
            "kim",
            false,
        );
        check(Visibility::Everyone, Role::Customer, "ann", true);
    }

    #[test]
    fn crew_never_see_card_data() {
        let rec = LogRecord {
            to: Visibility::OrderParties {
                customer: "ann".into(),
            },
            event: Envelope::new(
                kind::ORDER_CREATED,
                json!({"order_id": 1, "status": "pending", "order": {"payment": {"method": "card", "status": "paid", "brand": "visa", "last4": "4242", "id": "ch_1", "amount_cents": 100}}}),
            ),
        };
        let crew = rec.view_for(Role::Crew, "kim").unwrap();
        assert_eq!(
            crew.data["order"]["payment"],
            json!({"method": "card", "status": "paid"})
        );
        let owner = rec.view_for(Role::Customer, "ann").unwrap();
        assert_eq!(owner.data["order"]["payment"]["last4"], "4242");
        assert!(rec.view_for(Role::Customer, "bob").is_none());
    }
}
