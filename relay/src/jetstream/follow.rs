//! The tasks that keep a relay in step with its cluster: the log follower
//! (every message, whoever wrote it, to the core in stream order), the
//! audit follower (activity for this relay's admins), relay presence in the
//! KV bucket, and the watch on the NATS connection.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{consumer, stream};
use futures_util::StreamExt;
use kfood_protocol::messages::{kind, Activity};
use kfood_protocol::{Envelope, Role};
use tokio::sync::mpsc;

use super::{err, Cluster, Incoming, UNREACHABLE_GRACE};
use crate::presence::{self, RelayPresence};
use crate::shared::Shared;
use crate::store::StoreError;
use crate::wire::to_value;

/// Messages of the log read ahead of the core.
pub const FOLLOW_QUEUE: usize = 1024;
/// How often the NATS connection is checked.
const HEALTH_EVERY: Duration = Duration::from_millis(250);

/// An ordered consumer of `stream` from sequence `from`.
pub async fn ordered(
    s: &stream::Stream,
    from: u64,
) -> Result<consumer::OrderedPullConsumer, StoreError> {
    s.create_consumer(consumer::pull::OrderedConfig {
        deliver_policy: consumer::DeliverPolicy::ByStartSequence {
            start_sequence: from.max(1),
        },
        ..Default::default()
    })
    .await
    .map_err(|e| err("consumer", e))
}

/// Feeds every message of the log to the core, in stream order. The ordered
/// consumer recreates itself after a gap or a lost connection.
pub async fn log(consumer: consumer::OrderedPullConsumer, to_core: mpsc::Sender<Incoming>) {
    let mut msgs = match consumer.messages().await {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(cause = %e, "cannot follow the log");
            return;
        }
    };
    while let Some(m) = msgs.next().await {
        let m = match m {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(cause = %e, "following the log");
                continue;
            }
        };
        match Incoming::from_message(&m) {
            Ok(inc) => {
                if to_core.send(inc).await.is_err() {
                    return;
                }
            }
            Err(e) => tracing::error!(cause = %e, "unreadable message in the log"),
        }
    }
}

/// Follows the audit stream: each entry (its `id` is its stream sequence)
/// joins this relay's recent activity and goes to its admins.
pub async fn audit(cluster: Arc<Cluster>, shared: Arc<Shared>, keep: usize) {
    let Ok(mut s) = cluster.js.get_stream(&cluster.names.audit).await else {
        tracing::error!("cannot open the audit stream");
        return;
    };
    // Entries written before this start only fill the recent activity;
    // admins were sent them live by whichever relay served them then.
    let last = match s.info().await {
        Ok(i) => i.state.last_sequence,
        Err(_) => 0,
    };
    let consumer = match ordered(&s, last.saturating_sub(keep as u64) + 1).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(cause = %e, "cannot follow the audit stream");
            return;
        }
    };
    let Ok(mut msgs) = consumer.messages().await else {
        return;
    };
    while let Some(m) = msgs.next().await {
        let Ok(m) = m else { continue };
        let Ok(info) = m.info() else { continue };
        let seq = info.stream_sequence;
        let Ok(mut a) = serde_json::from_slice::<Activity>(&m.payload) else {
            continue;
        };
        a.id = seq;
        shared.store.note_activity(&a);
        if seq > last {
            let mut env = Envelope::new(kind::ACTIVITY, to_value(&a));
            env.timestamp = Some(a.at.clone());
            shared.hub.broadcast(&env, |c| c.user.role == Role::Admin);
        }
    }
}

/// Writes this relay's entry ([`presence::own`]) to the relays' bucket
/// every [`presence::EVERY`] and lists every entry it reads back there
/// ([`Presence::alive`](crate::presence::Presence::alive) keeps the recent
/// ones). The entry is deleted on shutdown.
pub async fn presence(cluster: Arc<Cluster>, shared: Arc<Shared>) {
    let mut every = tokio::time::interval(presence::EVERY);
    loop {
        tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            _ = every.tick() => {}
        }
        let me = presence::own(&shared);
        let bytes = crate::wire::json_bytes(&me);
        if let Err(e) = cluster.relays.put(&cluster.relay_id, bytes.into()).await {
            tracing::debug!(cause = %e, "presence not written");
        }
        let mut relays = read_relays(&cluster).await;
        // This relay is alive whether or not its entry could be written.
        if !relays.iter().any(|r| r.relay_id == me.relay_id) {
            relays.push(me);
        }
        shared.presence.set(relays);
    }
    let _ = cluster.relays.delete(&cluster.relay_id).await;
}

/// Every entry of the relays' bucket that can be read.
async fn read_relays(cluster: &Cluster) -> Vec<RelayPresence> {
    let Ok(mut keys) = cluster.relays.keys().await else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while let Some(Ok(k)) = keys.next().await {
        if let Ok(Some(v)) = cluster.relays.get(&k).await {
            if let Ok(p) = serde_json::from_slice::<RelayPresence>(&v) {
                out.push(p);
            }
        }
    }
    out
}

/// Watches the NATS connection: after [`UNREACHABLE_GRACE`] without it the
/// relay closes its sockets 1013 and answers 503 until it is back.
pub async fn health(cluster: Arc<Cluster>, shared: Arc<Shared>) {
    let mut lost_at: Option<tokio::time::Instant> = None;
    let mut every = tokio::time::interval(HEALTH_EVERY);
    loop {
        tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            _ = every.tick() => {}
        }
        if cluster.connected() {
            if lost_at.take().is_some() {
                tracing::info!("NATS is reachable again");
            }
            shared.engine_down.store(false, Ordering::SeqCst);
            continue;
        }
        let since = *lost_at.get_or_insert_with(tokio::time::Instant::now);
        if since.elapsed() >= UNREACHABLE_GRACE && !shared.engine_down.swap(true, Ordering::SeqCst)
        {
            tracing::warn!("NATS unreachable for 5 s: closing sockets until it is back");
            shared
                .hub
                .close_all(1013, "the relay lost its store; try another relay");
        }
    }
}
