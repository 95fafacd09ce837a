//! Group commit (DESIGN §10): takes every outcome waiting, writes them in one
//! transaction, flushes once, then publishes events and sends replies in seq
//! order. Nothing is published before its flush, so `kill -9` never erases an
//! event a client saw, nor reuses its seq.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use kfood_protocol::{Envelope, ErrorCode, ProtocolError, Role};
use tokio::sync::{mpsc, watch};

use crate::core::{frame, stamped, Command, Outcome};
use crate::hub::Outgoing;
use crate::metrics::Metrics;
use crate::shared::Shared;

/// Most outcomes written under one flush. Bounds the latency a single group
/// adds; under load groups fill up and one flush serves hundreds of acks.
pub const MAX_GROUP: usize = 512;

pub async fn run(
    shared: Arc<Shared>,
    mut rx: mpsc::Receiver<Outcome>,
    published: watch::Sender<u64>,
    core: mpsc::Sender<Command>,
) {
    let mut group: Vec<Outcome> = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = rx.recv().await {
        group.push(first);
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(o) => group.push(o),
                Err(_) => break,
            }
        }
        let puts: Vec<_> = group
            .iter_mut()
            .flat_map(|o| std::mem::take(&mut o.puts))
            .collect();
        let written = match shared.store.write(&puts) {
            Ok(()) if puts.is_empty() => Ok(()),
            Ok(()) => shared.store.flush().await,
            Err(e) => Err(e),
        };
        match written {
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

fn deliver(shared: &Shared, o: Outcome, published: &watch::Sender<u64>) {
    for (seq, rec) in &o.events {
        shared.hub.publish(rec);
        published.send_replace(*seq);
    }
    if !o.events.is_empty() {
        Metrics::record_fanout(&shared.metrics, o.born.elapsed());
    }
    for env in &o.admin_live {
        shared.hub.broadcast(env, |c| c.user.role == Role::Admin);
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
        // A reply to a full queue is dropped with the connection, which resumes.
        let _ = r.to.try_send(r.out);
    }
    if let Some(user) = o.close_user {
        shared.hub.close_user(&user, 4011, "session revoked");
    }
    if let Some(done) = o.done {
        let _ = done.send(Ok(()));
    }
}

/// Turns every ack of a group that could not be written into `error internal`.
fn refuse(o: Outcome) {
    let err = ProtocolError::new(
        ErrorCode::Internal,
        "the change could not be saved; try again",
    );
    for r in o.replies {
        let out = match (&r.out, &r.reference) {
            (Outgoing::Frame(_), Some(reference)) => {
                frame(&stamped(Envelope::error(Some(reference), &err)))
            }
            _ => continue,
        };
        let _ = r.to.try_send(out);
    }
    if let Some(done) = o.done {
        let _ = done.send(Err(err));
    }
}
