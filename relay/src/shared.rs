//! What every task of the relay shares.

use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::auth::Auth;
use crate::config::Limits;
use crate::core::Command;
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::store::Store;

pub struct Shared {
    pub limits: Limits,
    pub store: Arc<dyn Store>,
    pub hub: Arc<Hub>,
    pub auth: Arc<Auth>,
    pub metrics: Arc<Metrics>,
    /// Requests to the core; bounded so a flood waits here, not in memory.
    pub core: mpsc::Sender<Command>,
    /// Highest seq published (durable and broadcast).
    pub published: watch::Receiver<u64>,
    /// Oldest seq still in the log.
    pub first_seq: Arc<AtomicU64>,
    pub log_id: String,
    /// This run of the relay (DESIGN §15: fresh at every start).
    pub relay_id: String,
    /// Where clients reach this relay, as the relay list shows it.
    pub url: String,
    /// The storage engine, as `/healthz` names it (`sled`).
    pub engine: &'static str,
    /// The relays alive, for `metrics.relays`.
    pub presence: crate::presence::Presence,
    pub started: Instant,
    /// Set after a failed write; `/healthz` then answers 503.
    pub store_failed: AtomicBool,
    pub shutdown: CancellationToken,
    pub login_limiter: crate::limits::LoginLimiter,
    /// Snapshots are written one at a time, in the order they were taken.
    pub snapshot_lock: tokio::sync::Mutex<()>,
    /// The JetStream engine: set while NATS has been unreachable for 5 s;
    /// sockets are refused 1013 and `/healthz` answers 503 meanwhile.
    pub engine_down: AtomicBool,
}

impl Shared {
    pub fn head(&self) -> u64 {
        *self.published.borrow()
    }

    /// Why the relay cannot serve now, if it cannot.
    pub fn unavailable(&self) -> Option<&'static str> {
        self.engine_down
            .load(std::sync::atomic::Ordering::SeqCst)
            .then_some("NATS is unreachable")
    }
}
