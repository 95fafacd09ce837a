//! The KfoodDelights relay: one process that holds every socket and keeps the
//! data (DESIGN §2, §4, §10).
//!
//! [`run`] takes a bound listener, an opened store and a shutdown token, so a
//! test binds `127.0.0.1:0` and opens a temporary store (see `ARCHITECTURE.md`).

// Nothing a client sends may panic the relay: no unwrap/expect outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod auth;
pub mod config;
pub mod core;
pub mod demo;
pub mod http;
pub mod hub;
pub mod jetstream;
pub mod limits;
pub mod log;
pub mod metrics;
pub mod payment;
pub mod presence;
pub mod report;
pub mod server;
pub mod shared;
pub mod store;
pub mod wire;
pub mod writer;
pub mod ws;

use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kfood_protocol::jwt::Secret;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Auth;
use crate::config::Limits;
use crate::core::{Command, Core};
use crate::store::Store;

/// Requests waiting for the core. A flood waits here (and in each socket's
/// read) rather than growing memory.
pub const CORE_QUEUE: usize = 4096;
/// Decided outcomes waiting for the writer: a couple of groups' worth.
pub const WRITER_QUEUE: usize = 2 * writer::MAX_GROUP;
/// How often alerts and log retention are checked.
pub const TICK: Duration = Duration::from_secs(5);
/// Least time between two fire commands: the core fires everything due at
/// once, so this only keeps a clock that jumps from turning the timer into
/// a busy loop.
const FIRE_GAP: Duration = Duration::from_millis(200);
/// Time sockets get to say goodbye on shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything [`run`] needs besides the listener and the store.
pub struct Options {
    pub limits: Limits,
    pub secret: Secret,
    pub demo: bool,
    pub tls: Option<TlsAcceptor>,
}

/// Seeds the demo menu and accounts (DESIGN §8 `--demo`); returns lines to
/// print (the accounts and their passwords).
pub fn seed_demo(store: &dyn Store) -> anyhow::Result<Vec<String>> {
    let hash = |pw: &str| auth::hash_password(pw).map_err(|e| store::StoreError(e.message));
    Ok(log::seed_demo(store, demo::menu(), &demo::ACCOUNTS, &hash)?)
}

/// Serves until `shutdown` is cancelled, then stops gracefully (DESIGN §10):
/// stop accepting, close every socket 1001 after a maintenance notice, write
/// out everything decided, flush.
pub async fn run(
    listener: TcpListener,
    store: Arc<dyn Store>,
    opts: Options,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    opts.limits.validate().map_err(anyhow::Error::msg)?;
    // The relay's state is the fold of its log.
    let (state, replayed) = log::load_counting(&*store)?;
    serve(listener, store, state, replayed, opts, shutdown, None).await
}

/// [`run`] on the JetStream engine (DESIGN §15): the state is the fold of
/// the cluster's stream, which this relay follows while it serves.
pub async fn run_jetstream(
    listener: TcpListener,
    cluster: Arc<jetstream::Cluster>,
    opts: Options,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    opts.limits.validate().map_err(anyhow::Error::msg)?;
    let started = Instant::now();
    let (state, consumer, commits) = jetstream::load(&cluster).await?;
    tracing::info!(
        head_seq = state.model.head_seq,
        replayed = commits.len(),
        ms = started.elapsed().as_millis() as u64,
        relay_id = %cluster.relay_id,
        "loaded the cluster's log"
    );
    let store = Arc::new(jetstream::store::JsStore::new(cluster.clone()));
    store.keep(&commits);
    if commits.len() as u64 >= log::SNAPSHOT_EVERY {
        // A long replay is not repeated at the next start, here or elsewhere.
        store.append(&store::Batch {
            snapshot: Some(state.snapshot()),
            ..store::Batch::default()
        })?;
    }
    let (follow_tx, follow_rx) = mpsc::channel(jetstream::follow::FOLLOW_QUEUE);
    let follower = tokio::spawn(jetstream::follow::log(consumer, follow_tx));
    let replayed = commits.len() as u64;
    drop(commits);
    let r = serve(
        listener,
        store,
        state,
        replayed,
        opts,
        shutdown,
        Some((cluster, follow_rx)),
    )
    .await;
    follower.abort();
    r
}

type ClusterLink = (Arc<jetstream::Cluster>, mpsc::Receiver<jetstream::Incoming>);

async fn serve(
    listener: TcpListener,
    store: Arc<dyn Store>,
    state: log::State,
    replayed: u64,
    opts: Options,
    shutdown: CancellationToken,
    cluster: Option<ClusterLink>,
) -> anyhow::Result<()> {
    let revoked = state.records.revoked.clone().into_iter().collect();
    let auth = Arc::new(Auth::new(opts.secret, revoked));
    let hub = Arc::new(hub::Hub::default());
    let first = store.first_seq()?.unwrap_or(state.model.head_seq + 1);
    let first_seq = Arc::new(AtomicU64::new(first));
    let metrics = Arc::new(metrics::Metrics::default());
    let simulated = payment::Simulated {
        counts: metrics.payments.clone(),
    };
    let gateway: Box<dyn payment::PaymentGateway> = match cluster {
        // The same order may be decided on two relays, or twice on one.
        Some(_) => Box::new(payment::OnceCharged::new(simulated)),
        None => Box::new(simulated),
    };
    let core = Core::new(
        state,
        replayed,
        store.log_id()?,
        hub.clone(),
        auth.clone(),
        gateway,
        opts.limits.clone(),
        first_seq.clone(),
    );
    let (core_tx, core_rx) = mpsc::channel(CORE_QUEUE);
    let (writer_tx, writer_rx) = mpsc::channel(WRITER_QUEUE);
    let (published_tx, published_rx) = watch::channel(core.head_seq());
    // One relay_id per start: on JetStream the cluster link made it (its
    // commits are named after it).
    let relay_id = match &cluster {
        Some((c, _)) => c.relay_id.clone(),
        None => presence::new_relay_id(),
    };
    let scheme = if opts.tls.is_some() { "wss" } else { "ws" };
    let url = format!("{scheme}://{}", listener.local_addr()?);
    let shared = Arc::new(shared::Shared {
        login_limiter: limits::LoginLimiter::new(opts.limits.login_per_min),
        snapshot_lock: tokio::sync::Mutex::new(()),
        limits: opts.limits,
        store: store.clone(),
        hub,
        auth,
        metrics,
        core: core_tx.clone(),
        published: published_rx,
        first_seq,
        log_id: core.log_id.clone(),
        relay_id,
        url,
        engine: store.engine(),
        presence: presence::Presence::default(),
        started: Instant::now(),
        store_failed: AtomicBool::new(false),
        engine_down: AtomicBool::new(false),
        shutdown: shutdown.clone(),
    });
    tracing::info!(addr = %listener.local_addr()?, head_seq = core.head_seq(), log_id = %core.log_id, relay_id = %shared.relay_id, engine = shared.engine, "relay listening");
    let next_fire = core.next_fire();
    let mut helpers = Vec::new();
    let core_task = match cluster {
        Some((cluster, follow)) => {
            use jetstream::follow;
            let audit = follow::audit(
                cluster.clone(),
                shared.clone(),
                jetstream::store::ACTIVITY_KEPT,
            );
            helpers.push(tokio::spawn(audit));
            helpers.push(tokio::spawn(follow::presence(
                cluster.clone(),
                shared.clone(),
            )));
            helpers.push(tokio::spawn(follow::health(
                cluster.clone(),
                shared.clone(),
            )));
            tokio::spawn(core.run_cluster(core_rx, writer_tx, cluster, follow))
        }
        None => {
            helpers.push(tokio::spawn(presence::run(shared.clone())));
            tokio::spawn(core.run(core_rx, writer_tx))
        }
    };
    let writer_task = tokio::spawn(writer::run(
        shared.clone(),
        writer_rx,
        published_tx,
        core_tx.clone(),
    ));
    let metrics_task = tokio::spawn(metrics::run(shared.clone()));
    let ticker = tokio::spawn(tick(shared.clone()));
    let fire_timer = tokio::spawn(fire_timer(shared.clone(), next_fire));

    let tracker = TaskTracker::new();
    server::accept_loop(listener, opts.tls, shared.clone(), tracker.clone()).await;
    tracing::info!("shutting down: closing sockets");
    tracker.close();
    if tokio::time::timeout(DRAIN_TIMEOUT, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not close in time");
    }
    ticker.abort();
    fire_timer.abort();
    metrics_task.abort();
    let _ = core_tx.send(Command::Shutdown).await;
    drop(core_tx);
    let _ = core_task.await;
    drop(shared);
    let _ = writer_task.await;
    for h in helpers {
        h.abort();
    }
    store.flush().await?;
    tracing::info!("relay stopped");
    Ok(())
}

async fn tick(shared: Arc<shared::Shared>) {
    let mut every = tokio::time::interval(TICK);
    loop {
        tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            _ = every.tick() => {}
        }
        let (_, crew, _) = shared.hub.counts();
        // With several relays, crew on another relay are crew on duty too.
        let elsewhere = shared
            .presence
            .crew_elsewhere(&shared.relay_id, kfood_protocol::time::now_ms());
        if shared
            .core
            .send(Command::Tick {
                crew_online: crew + elsewhere,
            })
            .await
            .is_err()
        {
            break;
        }
    }
}

/// The fire timer of scheduled orders (DESIGN §14): sleeps until the core's
/// next fire time (at once for one overdue at start) and asks the core to
/// fire what is due. The core says when the next time changes.
async fn fire_timer(
    shared: Arc<shared::Shared>,
    mut next: watch::Receiver<Option<kfood_protocol::time::Millis>>,
) {
    loop {
        let at = *next.borrow_and_update();
        let sleep = async {
            match at {
                Some(t) => {
                    let wait = (t - kfood_protocol::time::now_ms()).max(0);
                    tokio::time::sleep(Duration::from_millis(wait as u64)).await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            changed = next.changed() => {
                if changed.is_err() {
                    break;
                }
                continue;
            }
            _ = sleep => {}
        }
        if shared.core.send(Command::Fire).await.is_err() {
            break;
        }
        tokio::time::sleep(FIRE_GAP).await;
    }
}
