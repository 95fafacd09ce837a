//! The JetStream engine's side of the [`Store`] trait. The stream is the
//! log, so by the time the writer hands a commit here it is already
//! durable (the core waited for JetStream's publish ack): `append` keeps its
//! events for replays, sends activity to the audit stream and snapshots to
//! the object store, in order, from one background task; `flush` has
//! nothing left to do.
//!
//! A relay keeps the events it folded since its start (bounded by
//! `--log-retention`); a `since` older than that gets a snapshot with
//! `reset`, as on sled after retention.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};

use kfood_protocol::messages::Activity;
use tokio::sync::mpsc;

use super::Cluster;
use crate::log::{Commit, Logged};
use crate::store::{Batch, FlushFuture, Store, StoreError, StoredSnapshot};

/// Recent activity entries kept for `activity_query`.
pub const ACTIVITY_KEPT: usize = 10_000;
/// Writes waiting for the background uploader (activity, snapshots).
const UPLOAD_QUEUE: usize = 8192;

enum Upload {
    Activity(Vec<u8>),
    Snapshot(StoredSnapshot),
    /// Retention: purge the stream below the older kept snapshot.
    Purge {
        keep_from: u64,
    },
}

pub struct JsStore {
    cluster: Arc<Cluster>,
    events: RwLock<BTreeMap<u64, Logged>>,
    activity: Mutex<VecDeque<Activity>>,
    snapshot: Mutex<Option<StoredSnapshot>>,
    uploads: mpsc::Sender<Upload>,
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

fn lock<T>(l: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    l.lock().unwrap_or_else(|p| p.into_inner())
}

impl JsStore {
    /// A store over `cluster`; must be made inside the tokio runtime (it
    /// starts the uploader).
    pub fn new(cluster: Arc<Cluster>) -> JsStore {
        let (uploads, rx) = mpsc::channel(UPLOAD_QUEUE);
        tokio::spawn(upload(cluster.clone(), rx));
        JsStore {
            cluster,
            events: RwLock::new(BTreeMap::new()),
            activity: Mutex::new(VecDeque::new()),
            snapshot: Mutex::new(None),
            uploads,
        }
    }

    pub fn cluster(&self) -> &Arc<Cluster> {
        &self.cluster
    }

    /// Keeps the events of commits folded at start, for replays.
    pub fn keep(&self, commits: &[Commit]) {
        let mut ev = write(&self.events);
        for e in commits.iter().flat_map(|c| &c.events) {
            ev.insert(e.seq, e.clone());
        }
    }
}

async fn upload(cluster: Arc<Cluster>, mut rx: mpsc::Receiver<Upload>) {
    while let Some(u) = rx.recv().await {
        match u {
            Upload::Activity(bytes) => {
                // The audit is best effort beside the log: no wait for the ack.
                if let Err(e) = cluster
                    .js
                    .publish(cluster.names.audit_subject.clone(), bytes.into())
                    .await
                {
                    tracing::warn!(cause = %e, "activity not written");
                }
            }
            Upload::Snapshot(s) => match cluster.put_snapshot(&s).await {
                Ok(()) => tracing::debug!(head_seq = s.head_seq, "snapshot written"),
                Err(e) => tracing::warn!(cause = %e, "snapshot not written"),
            },
            Upload::Purge { keep_from } => {
                if let Err(e) = cluster.purge_below(keep_from).await {
                    tracing::warn!(cause = %e, "log retention");
                }
            }
        }
    }
}

impl Store for JsStore {
    fn append(&self, batch: &Batch<'_>) -> Result<(), StoreError> {
        if !batch.commits.is_empty() {
            let mut ev = write(&self.events);
            for e in batch.commits.iter().flat_map(|c| &c.events) {
                ev.insert(e.seq, e.clone());
            }
        }
        for a in &batch.activity {
            if self
                .uploads
                .try_send(Upload::Activity(crate::wire::json_bytes(*a)))
                .is_err()
            {
                tracing::warn!("activity dropped: the audit stream is behind");
            }
        }
        if let Some(s) = &batch.snapshot {
            *lock(&self.snapshot) = Some(s.clone());
            if self.uploads.try_send(Upload::Snapshot(s.clone())).is_err() {
                tracing::warn!("snapshot skipped: the object store is behind");
            }
        }
        Ok(())
    }

    fn flush(&self) -> FlushFuture<'_> {
        Box::pin(async { Ok(()) })
    }

    fn commits_after(&self, _after: u64) -> Result<Vec<Commit>, StoreError> {
        // The core reads commits from the stream itself (`jetstream::load`).
        Ok(Vec::new())
    }

    fn events_from(&self, from: u64, limit: usize) -> Result<Vec<Logged>, StoreError> {
        Ok(read(&self.events)
            .range(from..)
            .take(limit)
            .map(|(_, e)| e.clone())
            .collect())
    }

    fn first_seq(&self) -> Result<Option<u64>, StoreError> {
        Ok(read(&self.events).keys().next().copied())
    }

    fn snapshot(&self) -> Result<Option<StoredSnapshot>, StoreError> {
        Ok(lock(&self.snapshot).clone())
    }

    fn purge(&self, keep_from: u64) -> Result<u64, StoreError> {
        let below = match &*lock(&self.snapshot) {
            Some(s) => keep_from.min(s.head_seq + 1),
            None => return Ok(self.first_seq()?.unwrap_or(keep_from)),
        };
        let mut ev = write(&self.events);
        let kept = ev.split_off(&below);
        *ev = kept;
        if self.uploads.try_send(Upload::Purge { keep_from }).is_err() {
            tracing::warn!("log retention skipped: the object store is behind");
        }
        Ok(ev.keys().next().copied().unwrap_or(below))
    }

    fn activity_before(&self, before: u64, limit: usize) -> Result<Vec<Activity>, StoreError> {
        Ok(lock(&self.activity)
            .iter()
            .rev()
            .filter(|a| a.id < before)
            .take(limit)
            .cloned()
            .collect())
    }

    fn last_activity_id(&self) -> Result<u64, StoreError> {
        Ok(lock(&self.activity).back().map(|a| a.id).unwrap_or(0))
    }

    fn log_id(&self) -> Result<String, StoreError> {
        Ok(self.cluster.genesis.log_id.clone())
    }

    fn size_on_disk(&self) -> u64 {
        0
    }

    fn engine(&self) -> &'static str {
        "jetstream"
    }

    fn follows_activity(&self) -> bool {
        true
    }

    fn note_activity(&self, entry: &Activity) {
        let mut a = lock(&self.activity);
        a.push_back(entry.clone());
        while a.len() > ACTIVITY_KEPT {
            a.pop_front();
        }
    }
}
