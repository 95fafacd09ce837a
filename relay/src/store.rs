//! The only code that touches sled. Everything else sees the narrow [`Store`]
//! trait — append a group of commits, read commits after a number, read
//! events by seq, put and get a snapshot, the activity beside the log — so
//! a second engine (DESIGN §15) implements just that.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;

use kfood_protocol::messages::Activity;
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

use crate::log::{Commit, Logged, Record};
use crate::wire::json_bytes;

/// The keyspaces of the sled engine. Keys are big-endian integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tree {
    /// commit number → its records and the seqs of its events.
    Commits = 0,
    /// seq → log record (the event and who may see it): replay by seq
    /// reads this tree alone, written in the same batch as the commit.
    Events,
    /// commit number → the folded state after that commit.
    Snapshots,
    /// activity id → activity entry (the audit kept beside the log).
    Activity,
    /// the log id.
    Meta,
}

const TREES: [&str; 5] = ["commits", "events", "snapshots", "activity", "meta"];

/// A snapshot of the folded state, serialised by `log.rs`.
#[derive(Debug, Clone)]
pub struct StoredSnapshot {
    /// The last commit folded in.
    pub commit_no: u64,
    pub head_seq: u64,
    /// The JetStream engine: the last stream message folded in (0 on sled).
    pub stream_seq: u64,
    pub bytes: Vec<u8>,
}

/// One atomic write: commits (with their events), activity entries, and
/// perhaps a snapshot.
#[derive(Debug, Default)]
pub struct Batch<'a> {
    pub commits: Vec<&'a Commit>,
    pub activity: Vec<&'a Activity>,
    pub snapshot: Option<StoredSnapshot>,
}

impl Batch<'_> {
    pub fn is_empty(&self) -> bool {
        self.commits.is_empty() && self.activity.is_empty() && self.snapshot.is_none()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("store: {0}")]
pub struct StoreError(pub String);

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError(e.to_string())
    }
}

pub type FlushFuture<'a> = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>>;

pub trait Store: Send + Sync + 'static {
    /// Writes the batch atomically: all of it or nothing.
    fn append(&self, batch: &Batch<'_>) -> Result<(), StoreError>;
    /// Makes everything written so far survive a killed process.
    fn flush(&self) -> FlushFuture<'_>;
    /// Every commit numbered above `after`, in order.
    fn commits_after(&self, after: u64) -> Result<Vec<Commit>, StoreError>;
    /// Up to `limit` events with seq `>= from`, in order.
    fn events_from(&self, from: u64, limit: usize) -> Result<Vec<Logged>, StoreError>;
    /// The oldest seq still in the log, `None` when it holds no event.
    fn first_seq(&self) -> Result<Option<u64>, StoreError>;
    /// The newest snapshot.
    fn snapshot(&self) -> Result<Option<StoredSnapshot>, StoreError>;
    /// Log retention: drops events below `keep_from` and the commits folded
    /// into the newest snapshot, never anything after that snapshot.
    /// Returns the oldest seq kept.
    fn purge(&self, keep_from: u64) -> Result<u64, StoreError>;
    /// Up to `limit` activity entries with ids below `before`, newest first.
    fn activity_before(&self, before: u64, limit: usize) -> Result<Vec<Activity>, StoreError>;
    /// The id of the newest activity entry (0 when there is none).
    fn last_activity_id(&self) -> Result<u64, StoreError>;
    /// The log's id, made once with the store.
    fn log_id(&self) -> Result<String, StoreError>;
    fn size_on_disk(&self) -> u64;
    /// The engine's name, for `/healthz` and logs.
    fn engine(&self) -> &'static str {
        "sled"
    }
    /// Whether activity comes back to the relay by another way (the
    /// JetStream engine's audit stream, which numbers it) rather than from
    /// the writer.
    fn follows_activity(&self) -> bool {
        false
    }
    /// An activity entry read back from that way, for `activity_query`.
    fn note_activity(&self, _entry: &Activity) {}
}

/// What the sled engine keeps under a commit's number; its events are in
/// the events tree.
#[derive(Serialize, Deserialize)]
struct CommitHead {
    seqs: Vec<u64>,
    records: Vec<Record>,
}

/// The embedded default engine.
pub struct SledStore {
    db: sled::Db,
    trees: Vec<sled::Tree>,
}

impl SledStore {
    /// Opens (or creates) the store in `dir` with a page cache of `cache_mb`.
    pub fn open(dir: &Path, cache_mb: u64) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(dir.join("db"))
            .cache_capacity(cache_mb.saturating_mul(1024 * 1024))
            // Durability comes from the explicit flush before every ack; the
            // background flush only bounds how much an un-acked write may lose.
            .flush_every_ms(Some(1000))
            .open()
            .map_err(|e| match e {
                sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                    StoreError(format!(
                        "{} is in use by another process (is the relay running? stop it first)",
                        dir.display()
                    ))
                }
                other => StoreError(format!("cannot open {}: {other}", dir.display())),
            })?;
        let trees = TREES
            .iter()
            .map(|name| db.open_tree(name))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SledStore { db, trees })
    }

    fn tree(&self, t: Tree) -> &sled::Tree {
        &self.trees[t as usize]
    }

    fn last_key(&self, t: Tree) -> Result<Option<u64>, StoreError> {
        Ok(self.tree(t).last()?.map(|(k, _)| from_be(&k)))
    }

    fn event(&self, seq: u64) -> Result<Logged, StoreError> {
        let v = self
            .tree(Tree::Events)
            .get(be(seq))?
            .ok_or_else(|| StoreError(format!("event {seq} of a commit is missing")))?;
        Logged::decode(&v)
    }
}

/// One key/value write of a batch.
type Put = (Tree, Vec<u8>, Vec<u8>);

fn puts(batch: &Batch<'_>) -> Vec<Put> {
    let mut out = Vec::new();
    for c in &batch.commits {
        for e in &c.events {
            out.push((Tree::Events, be(e.seq).to_vec(), e.encode()));
        }
        let head = CommitHead {
            seqs: c.events.iter().map(|e| e.seq).collect(),
            records: c.records.clone(),
        };
        out.push((Tree::Commits, be(c.no).to_vec(), json_bytes(&head)));
    }
    for a in &batch.activity {
        out.push((Tree::Activity, be(a.id).to_vec(), json_bytes(*a)));
    }
    if let Some(s) = &batch.snapshot {
        out.push((Tree::Snapshots, be(s.commit_no).to_vec(), s.bytes.clone()));
    }
    out
}

impl Store for SledStore {
    fn append(&self, batch: &Batch<'_>) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let puts = puts(batch);
        let res: Result<(), TransactionError<()>> = self.trees[..].transaction(|views| {
            for (tree, k, v) in &puts {
                views[*tree as usize].insert(k.as_slice(), v.as_slice())?;
            }
            Ok::<(), ConflictableTransactionError<()>>(())
        });
        res.map_err(|e| StoreError(format!("{e:?}")))
    }

    fn flush(&self) -> FlushFuture<'_> {
        Box::pin(async move {
            self.db.flush_async().await?;
            Ok(())
        })
    }

    fn commits_after(&self, after: u64) -> Result<Vec<Commit>, StoreError> {
        let mut out = Vec::new();
        for r in self
            .tree(Tree::Commits)
            .range(be(after.saturating_add(1))..)
        {
            let (k, v) = r?;
            let head: CommitHead =
                serde_json::from_slice(&v).map_err(|e| StoreError(format!("commit: {e}")))?;
            let events = head
                .seqs
                .iter()
                .map(|s| self.event(*s))
                .collect::<Result<Vec<_>, _>>()?;
            out.push(Commit {
                no: from_be(&k),
                events,
                records: head.records,
            });
        }
        Ok(out)
    }

    fn events_from(&self, from: u64, limit: usize) -> Result<Vec<Logged>, StoreError> {
        self.tree(Tree::Events)
            .range(be(from)..)
            .take(limit)
            .map(|r| Logged::decode(&r?.1))
            .collect()
    }

    fn first_seq(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.tree(Tree::Events).first()?.map(|(k, _)| from_be(&k)))
    }

    fn snapshot(&self) -> Result<Option<StoredSnapshot>, StoreError> {
        let Some((k, v)) = self.tree(Tree::Snapshots).last()? else {
            return Ok(None);
        };
        #[derive(Deserialize)]
        struct Head {
            model: HeadSeq,
        }
        #[derive(Deserialize)]
        struct HeadSeq {
            head_seq: u64,
        }
        let head: Head =
            serde_json::from_slice(&v).map_err(|e| StoreError(format!("snapshot: {e}")))?;
        Ok(Some(StoredSnapshot {
            commit_no: from_be(&k),
            head_seq: head.model.head_seq,
            stream_seq: 0,
            bytes: v.to_vec(),
        }))
    }

    fn purge(&self, keep_from: u64) -> Result<u64, StoreError> {
        let Some(snap) = self.snapshot()? else {
            return Ok(self.first_seq()?.unwrap_or(keep_from));
        };
        let below = keep_from.min(snap.head_seq + 1);
        remove_below(self.tree(Tree::Events), below)?;
        remove_below(self.tree(Tree::Commits), snap.commit_no + 1)?;
        remove_below(self.tree(Tree::Snapshots), snap.commit_no)?;
        Ok(self.first_seq()?.unwrap_or(below))
    }

    fn activity_before(&self, before: u64, limit: usize) -> Result<Vec<Activity>, StoreError> {
        let mut out = Vec::new();
        for r in self.tree(Tree::Activity).range(..be(before)).rev() {
            let (_, v) = r?;
            if let Ok(a) = serde_json::from_slice(&v) {
                out.push(a);
            }
            if out.len() == limit {
                break;
            }
        }
        Ok(out)
    }

    fn last_activity_id(&self) -> Result<u64, StoreError> {
        Ok(self.last_key(Tree::Activity)?.unwrap_or(0))
    }

    fn log_id(&self) -> Result<String, StoreError> {
        let meta = self.tree(Tree::Meta);
        if let Some(v) = meta.get(b"log_id")? {
            return Ok(String::from_utf8_lossy(&v).into_owned());
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        meta.insert(b"log_id", id.as_bytes())?;
        Ok(id)
    }

    fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }
}

fn remove_below(t: &sled::Tree, below: u64) -> Result<usize, StoreError> {
    let mut batch = sled::Batch::default();
    let mut n = 0;
    for r in t.range(..be(below)) {
        let (k, _) = r?;
        batch.remove(k);
        n += 1;
    }
    t.apply_batch(batch)?;
    Ok(n)
}

pub fn be(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

pub fn from_be(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    let n = b.len().min(8);
    a[8 - n..].copy_from_slice(&b[b.len() - n..]);
    u64::from_be_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kfood_protocol::event::{Event, Visibility};
    use kfood_protocol::messages::{Activity, ActivityKind};
    use kfood_protocol::{Role, UserRef};

    fn promo_event(seq: u64) -> Logged {
        let p = kfood_protocol::menu::Promo {
            code: format!("P{seq}"),
            percent_off: Some(10),
            amount_off_cents: None,
            active: true,
            expires_at: None,
        };
        Logged {
            seq,
            at: "2026-01-01T00:00:00Z".into(),
            sender: None,
            to: Visibility::Admins,
            event: Event::PromoUpdate(p),
        }
    }

    fn commit(no: u64, seqs: &[u64]) -> Commit {
        Commit {
            no,
            events: seqs.iter().map(|s| promo_event(*s)).collect(),
            records: Vec::new(),
        }
    }

    /// Commits read back whole and in order; events read by seq; retention
    /// purges only below the newest snapshot.
    #[tokio::test]
    async fn commits_events_snapshots_and_purge() {
        let dir = tempfile::tempdir().unwrap();
        let s = SledStore::open(dir.path(), 8).unwrap();
        let commits = [commit(1, &[1, 2]), commit(2, &[]), commit(3, &[3, 4, 5])];
        s.append(&Batch {
            commits: commits.iter().collect(),
            ..Batch::default()
        })
        .unwrap();
        s.flush().await.unwrap();
        assert_eq!(s.commits_after(1).unwrap(), commits[1..].to_vec());
        let seqs: Vec<u64> = s
            .events_from(3, 10)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, vec![3, 4, 5]);
        assert_eq!(s.purge(5).unwrap(), 1, "no snapshot: nothing goes");
        s.append(&Batch {
            snapshot: Some(StoredSnapshot {
                commit_no: 2,
                head_seq: 2,
                stream_seq: 0,
                bytes: br#"{"model":{"head_seq":2}}"#.to_vec(),
            }),
            ..Batch::default()
        })
        .unwrap();
        assert_eq!(s.purge(5).unwrap(), 3, "only below the snapshot");
        assert_eq!(s.commits_after(0).unwrap(), commits[2..].to_vec());
        assert_eq!(s.snapshot().unwrap().map(|s| s.commit_no), Some(2));
    }

    /// Activity reads newest first below an id.
    #[test]
    fn activity_pages_backwards() {
        let dir = tempfile::tempdir().unwrap();
        let s = SledStore::open(dir.path(), 8).unwrap();
        let acts: Vec<Activity> = (1..=5)
            .map(|id| Activity {
                id,
                at: "2026-01-01T00:00:00Z".into(),
                user: UserRef {
                    id: "boss".into(),
                    name: "Boss".into(),
                    role: Role::Admin,
                },
                kind: ActivityKind::Admin,
                text: format!("a{id}"),
                order_id: None,
            })
            .collect();
        s.append(&Batch {
            activity: acts.iter().collect(),
            ..Batch::default()
        })
        .unwrap();
        let ids: Vec<u64> = s
            .activity_before(4, 2)
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(ids, vec![3, 2]);
        assert_eq!(s.last_activity_id().unwrap(), 5);
        assert_eq!(s.log_id().unwrap(), s.log_id().unwrap());
    }

    /// A second process opening the same directory is told plainly.
    #[test]
    fn second_open_is_refused_plainly() {
        let dir = tempfile::tempdir().unwrap();
        let _a = SledStore::open(dir.path(), 8).unwrap();
        let err = SledStore::open(dir.path(), 8)
            .err()
            .expect("second open must fail");
        assert!(err.0.contains("in use"), "{err}");
    }
}
