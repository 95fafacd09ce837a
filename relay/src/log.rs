//! The log is the truth (DESIGN §10). Each decided request becomes one
//! [`Commit`]: its durable events, each with its seq and who may see it, and
//! the internal records it changes (accounts, revocations). The relay's
//! [`State`] is a [`Model`] (which sees every event whole) plus those
//! records, and it changes only by [`State::fold`]: the live path folds the
//! commit it just decided, a start folds the newest snapshot's successors.
//!
//! Nothing here knows the storage engine; `store.rs` keeps commits and
//! snapshots through the narrow [`Store`] trait.

use std::collections::{BTreeMap, HashMap};

use kfood_protocol::event::{Event, EventData, Visibility};
use kfood_protocol::model::Model;
use kfood_protocol::{Envelope, Role, Sender};
use serde::{Deserialize, Serialize};

use crate::auth::UserRecord;
use crate::store::{Batch, Store, StoreError, StoredSnapshot};

/// Fewest commits between two snapshots of the folded state. A start
/// replays at most this many commits after loading the newest snapshot (a
/// fraction of a second), while writing the whole state stays rare.
pub const SNAPSHOT_EVERY: u64 = 1_000;

impl State {
    /// Whether a snapshot is due after `since` commits: every
    /// [`SNAPSHOT_EVERY`] commits, or every as many commits as the state
    /// holds orders when that is more, so writing a snapshot (which costs
    /// as much as the state is large) stays a constant cost per commit.
    pub fn snapshot_due(&self, since: u64) -> bool {
        since >= SNAPSHOT_EVERY.max(self.model.orders.len() as u64)
    }
}

/// One durable event with its place in the log and who may receive it.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    pub seq: u64,
    /// When it was decided (RFC 3339), its envelope's `timestamp`.
    pub at: String,
    pub sender: Option<Sender>,
    pub to: Visibility,
    pub event: Event,
}

/// The stored form of a [`Logged`] event: its visibility beside the
/// envelope as it was first sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogRecord {
    #[serde(flatten)]
    pub to: Visibility,
    pub event: Envelope,
}

impl Logged {
    /// The event as `role` sees it ([`Event::view_for`]), as an envelope.
    pub fn envelope_for(&self, role: Role) -> Envelope {
        let mut env = self.event.view_for(role).to_envelope();
        env.seq = Some(self.seq);
        env.timestamp = Some(self.at.clone());
        env.sender = self.sender.clone();
        env
    }

    /// The event as `role` sees it, as the text of its envelope: the same
    /// JSON as `envelope_for(role).to_json()`, encoded straight from the
    /// typed event.
    pub fn json_for(&self, role: Role) -> String {
        let view = self.event.view_for(role);
        // Plain data with string keys always serialises.
        serde_json::to_string(&self.wire(&view)).unwrap_or_default()
    }

    fn wire<'a>(&'a self, view: &'a Event) -> WireEvent<'a> {
        WireEvent {
            kind: view.kind(),
            seq: self.seq,
            data: EventData(view),
            timestamp: &self.at,
            sender: self.sender.as_ref(),
        }
    }

    /// The event as this user may see it, or `None` when it is not theirs.
    pub fn view_for(&self, role: Role, user_id: &str) -> Option<Envelope> {
        self.to
            .admits(role, user_id)
            .then(|| self.envelope_for(role))
    }

    /// The stored form: a [`LogRecord`], encoded straight from the typed
    /// event (whole: the log keeps what admins see).
    pub fn encode(&self) -> Vec<u8> {
        crate::wire::json_bytes(&StoredEvent {
            to: &self.to,
            event: self.wire(&self.event),
        })
    }

    pub fn decode(bytes: &[u8]) -> Result<Logged, StoreError> {
        let rec: LogRecord =
            serde_json::from_slice(bytes).map_err(|e| StoreError(format!("event: {e}")))?;
        Self::from_record(rec)
    }

    /// The event a decoded [`LogRecord`] holds.
    pub fn from_record(rec: LogRecord) -> Result<Logged, StoreError> {
        let event = Event::parse(&rec.event.kind, rec.event.data)
            .map_err(|e| StoreError(format!("event {:?}: {}", rec.event.seq, e.message)))?;
        Ok(Logged {
            seq: rec.event.seq.unwrap_or_default(),
            at: rec.event.timestamp.unwrap_or_default(),
            sender: rec.event.sender,
            to: rec.to,
            event,
        })
    }
}

/// An envelope of a durable event as it is written: the fields of
/// [`Envelope`] that a durable event has, in its order.
#[derive(Serialize)]
struct WireEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    seq: u64,
    data: EventData<'a>,
    timestamp: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sender: Option<&'a Sender>,
}

/// A [`LogRecord`] as it is written.
#[derive(Serialize)]
struct StoredEvent<'a> {
    #[serde(flatten)]
    to: &'a Visibility,
    event: WireEvent<'a>,
}

/// An internal record a commit changes: what the relay keeps that no
/// client is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// An account created (or replaced), with its password hash.
    User(UserRecord),
    UserRemoved {
        id: String,
    },
    /// Every token of `user_id` issued at or before `at` (unix seconds) is refused.
    Revoked {
        user_id: String,
        at: i64,
    },
}

/// One decided request: what the log keeps of it, all or nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    /// Position among commits, from 1.
    pub no: u64,
    pub events: Vec<Logged>,
    pub records: Vec<Record>,
}

/// The relay's own records, folded from [`Record`]s.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Records {
    pub users: BTreeMap<String, UserRecord>,
    /// user id → unix seconds of the last revocation.
    pub revoked: BTreeMap<String, i64>,
}

impl Records {
    pub fn apply(&mut self, r: &Record) {
        match r {
            Record::User(u) => {
                self.users.insert(u.id.clone(), u.clone());
            }
            Record::UserRemoved { id } => {
                self.users.remove(id);
            }
            Record::Revoked { user_id, at } => {
                self.revoked.insert(user_id.clone(), *at);
            }
        }
    }
}

/// Everything the relay knows: the fold of its log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub model: Model,
    pub records: Records,
    /// The number of the last commit folded in.
    pub commit_no: u64,
    /// The JetStream engine: the stream sequence of the last message folded
    /// in (0 on sled, whose commits are numbered by `commit_no` alone).
    #[serde(default)]
    pub stream_seq: u64,
    /// (customer, client_order_id) → order id: derived from the orders, so
    /// never stored (DESIGN §6 idempotency).
    #[serde(skip)]
    pub idempotency: HashMap<(String, String), u64>,
}

impl State {
    /// Folds one commit in: the only way the relay's state changes.
    pub fn fold(&mut self, c: &Commit) {
        for e in &c.events {
            self.model.apply_at(e.seq, &e.event);
            if let Event::OrderCreated(d) = &e.event {
                let key = (d.order.customer.id.clone(), d.order.client_order_id.clone());
                self.idempotency.insert(key, d.order.id);
            }
        }
        for r in &c.records {
            self.records.apply(r);
        }
        self.commit_no = c.no;
    }

    /// The state as a snapshot for the store.
    pub fn snapshot(&self) -> StoredSnapshot {
        StoredSnapshot {
            commit_no: self.commit_no,
            head_seq: self.model.head_seq,
            stream_seq: self.stream_seq,
            bytes: crate::wire::json_bytes(self),
        }
    }

    pub fn from_snapshot(s: &StoredSnapshot) -> Result<State, StoreError> {
        let mut st: State =
            serde_json::from_slice(&s.bytes).map_err(|e| StoreError(format!("snapshot: {e}")))?;
        st.idempotency = st
            .model
            .orders
            .values()
            .map(|o| ((o.customer.id.clone(), o.client_order_id.clone()), o.id))
            .collect();
        Ok(st)
    }
}

/// The state a start begins with: the newest snapshot, then every commit
/// after it folded in.
pub fn load(store: &dyn Store) -> Result<State, StoreError> {
    load_counting(store).map(|(st, _)| st)
}

/// [`load`], and how many commits were folded after the snapshot (they
/// count towards the next one).
pub fn load_counting(store: &dyn Store) -> Result<(State, u64), StoreError> {
    let mut st = match store.snapshot()? {
        Some(s) => State::from_snapshot(&s)?,
        None => State::default(),
    };
    let mut replayed = 0;
    for c in store.commits_after(st.commit_no)? {
        st.fold(&c);
        replayed += 1;
    }
    // Every stored event belongs to a commit; events beyond the fold come
    // from a relay that kept state outside its log, and reusing their seqs
    // would show clients a different history under the same log id.
    if !store.events_from(st.model.head_seq + 1, 1)?.is_empty() {
        return Err(StoreError(
            "the data directory holds events that no commit records (written by an \
             older relay); start this relay on a new --data-dir"
                .into(),
        ));
    }
    Ok((st, replayed))
}

/// Appends one commit of records to a store no relay is serving (the
/// account subcommands), and makes it durable.
pub async fn append_records(store: &dyn Store, records: Vec<Record>) -> Result<(), StoreError> {
    let st = load(store)?;
    let commit = Commit {
        no: st.commit_no + 1,
        events: Vec::new(),
        records,
    };
    store.append(&Batch {
        commits: vec![&commit],
        ..Batch::default()
    })?;
    store.flush().await
}

/// Seeds the demo (DESIGN §8 `--demo`): a fresh store starts from a snapshot
/// holding the demo menu, so the log itself stays empty; demo accounts a
/// store lacks are added as one commit. Returns lines to print.
pub fn seed_demo(
    store: &dyn Store,
    menu: Vec<kfood_protocol::menu::MenuItem>,
    accounts: &[(&str, &str, Role, &str)],
    hash: &dyn Fn(&str) -> Result<String, StoreError>,
) -> Result<Vec<String>, StoreError> {
    let mut st = load(store)?;
    let fresh = st.commit_no == 0 && store.snapshot()?.is_none();
    let mut lines = Vec::new();
    if fresh {
        lines.push(format!("demo menu: {} items", menu.len()));
        st.model.menu = menu;
    }
    let mut missing = Vec::new();
    for (id, name, role, password) in accounts {
        lines.push(format!(
            "demo account: {id:<9} role {role:<8} password {password}"
        ));
        if !st.records.users.contains_key(*id) {
            missing.push(Record::User(UserRecord {
                id: (*id).into(),
                name: (*name).into(),
                role: *role,
                password_hash: hash(password)?,
                created_at: kfood_protocol::time::now(),
            }));
        }
    }
    if fresh {
        for r in &missing {
            st.records.apply(r);
        }
        store.append(&Batch {
            snapshot: Some(st.snapshot()),
            ..Batch::default()
        })?;
    } else if !missing.is_empty() {
        let commit = Commit {
            no: st.commit_no + 1,
            events: Vec::new(),
            records: missing,
        };
        store.append(&Batch {
            commits: vec![&commit],
            ..Batch::default()
        })?;
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kfood_protocol::messages::{Announcement, AnnouncementKind, Audience};
    use kfood_protocol::Party;

    /// The text encoded straight from the typed event is the envelope's JSON,
    /// for every view, and the stored form decodes back to the same event.
    #[test]
    fn direct_encoding_matches_the_envelope_and_round_trips() {
        let e = Logged {
            seq: 42,
            at: "2026-01-01T00:00:00.000Z".into(),
            sender: Some(Sender {
                id: "boss".into(),
                role: Role::Admin,
            }),
            to: Visibility::Audience {
                audience: Audience::All,
            },
            event: Event::Announcement(Announcement {
                id: 3,
                audience: Audience::All,
                kind: AnnouncementKind::Maintenance,
                text: "closing at 21:00\nsee you".into(),
                expires_at: None,
                created_at: "2026-01-01T00:00:00.000Z".into(),
                by: Party {
                    id: "boss".into(),
                    name: "Boss".into(),
                },
            }),
        };
        for role in Role::ALL {
            let direct: serde_json::Value = serde_json::from_str(&e.json_for(role)).expect("json");
            let via_envelope = serde_json::to_value(e.envelope_for(role)).expect("value");
            assert_eq!(direct, via_envelope, "{role}");
        }
        assert_eq!(Logged::decode(&e.encode()).expect("decode"), e);
    }
}
