//! Group commit (DESIGN §10): takes every outcome waiting, writes their
//! commits (and the activity beside them) in one batch, flushes once, then
//! publishes events and sends replies in seq order. Nothing is published
//! before its flush, so `kill -9` never erases an event a client saw, nor
//! reuses its seq.
//!
//! The writer is the store's side of the relay: it also answers
//! `activity_query` and carries out log retention, so the core never waits
//! on the disk.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use kfood_protocol::messages::kind;
use kfood_protocol::{Envelope, ErrorCode, ProtocolError, Role};
use serde_json::json;
use tokio::sync::{mpsc, watch};

use crate::core::{Command, Outcome, ReplyBody};
use crate::hub::Outgoing;
use crate::log::State;
use crate::metrics::Metrics;
use crate::shared::Shared;
use crate::store::{Batch, StoreError};
use crate::wire::{frame, stamped, to_value};

/// Most outcomes written under one flush. Bounds the latency a single group
/// adds; under load groups fill up and one flush serves hundreds of acks.
pub const MAX_GROUP: usize = 512;

pub async fn run(
    shared: Arc<Shared>,
    mut rx: mpsc::Receiver<Outcome>,
    published: watch::Sender<u64>,
    core: mpsc::Sender<Command>,
) {
    let mut next_activity = match shared.store.last_activity_id() {
        Ok(n) => n + 1,
        Err(e) => {
            tracing::error!(cause = %e, "cannot read the activity log; numbering from 1");
            1
        }
    };
    let mut group: Vec<Outcome> = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = rx.recv().await {
        group.push(first);
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(o) => group.push(o),
                Err(_) => break,
            }
        }
        for a in group.iter_mut().flat_map(|o| o.activity.iter_mut()) {
            a.id = next_activity;
            next_activity += 1;
        }
        match write(&shared, &mut group).await {
            Ok(()) => {
                shared.metrics.groups.fetch_add(1, Ordering::Relaxed);
                for o in group.drain(..) {
                    deliver(&shared, o, &published);
                }
            }
            Err(e) => {
                tracing::error!(cause = %e, outcomes = group.len(), "store write failed; refusing the group");
                for o in group.drain(..) {
                    refuse(o);
                }
                // Best effort: tell the admins (the alert itself may fail to persist too).
                let _ = core.try_send(Command::StoreFailed(e.to_string()));
                shared.store_failed.store(true, Ordering::SeqCst);
            }
        }
    }
}

/// Writes the group as one batch and flushes it; a snapshot the group asked
/// for (and the log retention that waits on it) follows in the background.
async fn write(shared: &Arc<Shared>, group: &mut [Outcome]) -> Result<(), StoreError> {
    let snapshot = group.iter_mut().filter_map(|o| o.snapshot.take()).last();
    let trim = group.iter().filter_map(|o| o.trim).max();
    let batch = Batch {
        commits: group.iter().flat_map(|o| &o.commits).collect(),
        activity: group.iter().flat_map(|o| &o.activity).collect(),
        snapshot: None,
    };
    if !batch.is_empty() {
        shared.store.append(&batch)?;
        shared.store.flush().await?;
    }
    if let Some(state) = snapshot {
        // Only now is every commit the snapshot covers durable.
        tokio::spawn(keep_snapshot(shared.clone(), state, trim));
    }
    Ok(())
}

/// Serialises `state` off the async threads, writes and flushes it, then
/// trims the log below it if asked. Snapshots are taken one at a time, in
/// the order they were asked for; one lost to a crash only means a longer
/// replay at the next start, since the commits are already durable.
async fn keep_snapshot(shared: Arc<Shared>, state: Box<State>, trim: Option<u64>) {
    let _one_at_a_time = shared.snapshot_lock.lock().await;
    let stored = match tokio::task::spawn_blocking(move || state.snapshot()).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(cause = %e, "snapshot not taken");
            return;
        }
    };
    let head_seq = stored.head_seq;
    let batch = Batch {
        commits: Vec::new(),
        activity: Vec::new(),
        snapshot: Some(stored),
    };
    let written = match shared.store.append(&batch) {
        Ok(()) => shared.store.flush().await,
        Err(e) => Err(e),
    };
    if let Err(e) = written {
        tracing::error!(cause = %e, "snapshot not written");
        return;
    }
    tracing::debug!(head_seq, "snapshot written");
    if let Some(keep_from) = trim {
        match shared.store.purge(keep_from) {
            Ok(first) => {
                shared.first_seq.store(first, Ordering::SeqCst);
                tracing::debug!(first, "trimmed the event log");
            }
            Err(e) => tracing::error!(cause = %e, "cannot trim the event log"),
        }
    }
}

fn deliver(shared: &Shared, o: Outcome, published: &watch::Sender<u64>) {
    for e in o.commits.iter().flat_map(|c| &c.events) {
        shared.hub.publish(e);
        published.send_replace(e.seq);
    }
    if o.commits.iter().any(|c| !c.events.is_empty()) {
        Metrics::record_fanout(&shared.metrics, o.born.elapsed());
    }
    // On an engine that numbers activity itself, its follower sends it.
    for a in o
        .activity
        .iter()
        .filter(|_| !shared.store.follows_activity())
    {
        let mut env = Envelope::new(kind::ACTIVITY, to_value(a));
        env.timestamp = Some(a.at.clone());
        shared.hub.broadcast(&env, |c| c.user.role == Role::Admin);
    }
    if let Some((entry, first)) = o.attach {
        shared.hub.register(entry.clone());
        for out in first {
            shared.hub.send_to(&entry, out);
        }
        // Only now, behind `authenticated` and the snapshot, may the first
        // `metrics` (the one with history) follow.
        if entry.user.role == Role::Admin {
            crate::hub::lock(&shared.metrics.fresh_admins).push(entry.tx.clone());
        }
    }
    for r in o.replies {
        let out = match r.body {
            ReplyBody::Frame(f) => f,
            ReplyBody::Activity { before, limit } => {
                activity_ack(shared, r.reference, before, limit)
            }
        };
        // A reply to a full queue is dropped with the connection, which resumes.
        let _ = r.to.try_send(out);
    }
    if let Some(user) = o.close_user {
        shared.hub.close_user(&user, 4011, "session revoked");
    }
    if let Some(done) = o.done {
        let _ = done.send(Ok(()));
    }
}

/// The ack of an `activity_query`: older entries, newest first.
fn activity_ack(shared: &Shared, reference: Option<String>, before: u64, limit: usize) -> Outgoing {
    let env = match shared.store.activity_before(before, limit) {
        Ok(rows) => Envelope::ack(reference.as_deref(), json!({ "activity": rows })),
        Err(e) => Envelope::error(
            reference.as_deref(),
            &ProtocolError::internal(e.to_string()),
        ),
    };
    frame(&stamped(env))
}

/// Turns every ack of a group that could not be written into `error internal`.
fn refuse(o: Outcome) {
    let err = ProtocolError::new(
        ErrorCode::Internal,
        "the change could not be saved; try again",
    );
    for r in o.replies {
        let Some(reference) = &r.reference else {
            continue;
        };
        let out = frame(&stamped(Envelope::error(Some(reference), &err)));
        let _ = r.to.try_send(out);
    }
    if let Some(done) = o.done {
        let _ = done.send(Err(err));
    }
}
