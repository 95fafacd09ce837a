//! The client connection manager of DESIGN §11, shared by the three terminal
//! programs, `kfood-sim` and the tests.
//!
//! [`Client::connect`] spawns one tokio task that owns the socket and returns
//! a [`ClientHandle`] to send requests with, a stream of [`ClientEvent`]s and
//! a `watch` of the [`ConnState`] for the status bar. Through drops,
//! reconnects and HTTP polling the program sees one continuous stream: every
//! durable event once, in seq order, and a snapshot whenever its state must
//! be replaced.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kfood_protocol::client::ClientError> {
//! use kfood_protocol::client::{Client, ClientConfig, ClientEvent, Credentials};
//! use kfood_protocol::messages::OrderUpdate;
//! use kfood_protocol::{OrderStatus, Request, Role};
//!
//! let config = ClientConfig::new("ws://127.0.0.1:8080", Credentials::Token("…".into()), Role::Crew)?;
//! let (client, mut events, state) = Client::connect(config)?;
//! let bump = Request::OrderUpdate(OrderUpdate {
//!     order_id: 42,
//!     status: Some(OrderStatus::Preparing),
//!     prep_minutes: None,
//!     delivery_minutes: None,
//!     note: None,
//! });
//! let ack = client.send(&bump).await?;
//! while let Some(ev) = events.recv().await {
//!     if let ClientEvent::Event(env) = ev { /* update the board */ }
//! }
//! # Ok(()) }
//! ```
//!
//! Everything is logged with `tracing`; nothing is ever printed.

pub mod backoff;
pub mod cache;
mod config;
mod driver;
mod error;
pub mod login;
pub mod outbox;
pub mod relays;
pub mod report;
pub mod seq;
mod transport;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch, Semaphore};

pub use backoff::Backoff;
pub use cache::{default_cache_dir, CacheEntry, CachedState};
pub use config::{
    ClientConfig, Credentials, RelayUrls, DEFAULT_BATCH_CAP, DEFAULT_CACHE_TTL,
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_FALLBACK_AFTER, DEFAULT_POLL_WAIT_SECS, DEFAULT_QUEUE_CAP,
};
pub use error::ClientError;
pub use login::{login, register, LoginError};
pub use relays::RelayRing;
pub use seq::SeqTracker;

use crate::envelope::Envelope;
use crate::messages::Authenticated;
use crate::{ProtocolError, UserRef};
use cache::CacheSlot;
use outbox::{request_id, Reply, Request};

/// Events waiting for the program. A program that stops reading holds up the
/// connection task (and then the relay closes the socket as too slow, and
/// the client resumes later), so nothing is lost; 1024 rides out a burst
/// such as a replay while the program draws.
pub const EVENTS_QUEUE: usize = 1024;
/// Control commands (close, reconnect now, new credentials) waiting for the
/// task; they are rare and idempotent, so a few suffice.
pub const CONTROL_QUEUE: usize = 16;

/// The connection as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState {
    /// Logging in or opening the first socket.
    Connecting,
    /// Authenticated on a socket. `rtt_ms` from the last heartbeat.
    Live { rtt_ms: Option<u64> },
    /// Waiting before socket attempt `attempt` (1 for the first retry).
    Reconnecting { attempt: u32, next_try_in_ms: u64 },
    /// The socket cannot be opened; events come by HTTP long-poll, and the
    /// socket is still tried in the background.
    Polling,
    /// Neither the socket nor HTTP reaches the relay; still retrying.
    Offline,
    /// The relay refused the credentials (expired or revoked token, bad
    /// password). Nothing is retried until [`ClientHandle::set_credentials`]
    /// or [`ClientHandle::reconnect_now`].
    AuthExpired,
    /// [`ClientHandle::close`] was called, or every handle dropped.
    Closed,
}

impl ConnState {
    /// One word for the status bar: `live`, `reconnecting`, `polling`,
    /// `offline`, `login needed`…
    pub fn label(&self) -> &'static str {
        match self {
            ConnState::Connecting => "connecting",
            ConnState::Live { .. } => "live",
            ConnState::Reconnecting { .. } => "reconnecting",
            ConnState::Polling => "polling",
            ConnState::Offline => "offline",
            ConnState::AuthExpired => "login needed",
            ConnState::Closed => "closed",
        }
    }

    pub fn is_live(&self) -> bool {
        matches!(self, ConnState::Live { .. })
    }

    /// Events arrive (by socket or by polling).
    pub fn is_connected(&self) -> bool {
        matches!(self, ConnState::Live { .. } | ConnState::Polling)
    }
}

impl std::fmt::Display for ConnState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnState::Live { rtt_ms: Some(ms) } => write!(f, "live {ms} ms"),
            ConnState::Reconnecting {
                attempt,
                next_try_in_ms,
            } => write!(
                f,
                "reconnecting (attempt {attempt}, in {:.1} s)",
                *next_try_in_ms as f64 / 1000.0
            ),
            other => f.write_str(other.label()),
        }
    }
}

/// What the program receives, in order.
// `Cached` is the large one and comes at most once per start: boxing it
// would only add an allocation to every program's match.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// The cache as it was at start, before anything from the relay (first
    /// in the stream, at most once). Draw it, marked stale if it says so;
    /// what follows updates it.
    Cached(CachedState),
    /// The relay accepted the credentials (on every connection).
    Welcome(Authenticated),
    /// A `snapshot`: replace everything with it (parse its `data` with
    /// [`Envelope::parse_data`] into [`crate::messages::Snapshot`]). Events
    /// that follow build on it.
    Snapshot(Envelope),
    /// A durable event (it has a `seq`), handed over once, in seq order.
    Event(Envelope),
    /// A non-durable event: `metrics`, `activity`, or an `announcement`
    /// without seq (the relay's notice before it restarts).
    Notice(Envelope),
    /// Caught up: everything the relay had up to `head_seq` was handed over.
    /// A stale cache is confirmed from here on.
    Synced { head_seq: u64 },
    /// An `error` that answers none of this client's requests (for instance
    /// `token_expired` right before the relay closes the socket).
    Error(ProtocolError),
}

/// Control commands from handles to the task.
#[derive(Debug)]
pub(crate) enum Control {
    Close,
    ReconnectNow,
    SetCredentials(Credentials),
}

/// What handles and the task share.
#[derive(Debug)]
pub(crate) struct Shared {
    next_id: AtomicU64,
    /// `None` when the cache is off (or the user is not known yet).
    pub cache: Mutex<Option<CacheSlot>>,
    pub status: Mutex<Status>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Status {
    pub user: Option<UserRef>,
    pub last_seq: Option<u64>,
    pub log_id: Option<String>,
}

/// Locks, recovering from a poisoned lock (the data is plain state).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The connection manager's entry point.
pub struct Client;

impl Client {
    /// Spawns the connection task on the current tokio runtime and returns
    /// at once: the handle, the events, and the state. Nothing here waits
    /// for the network; watch the state (or the events) for `Live`,
    /// `AuthExpired`… Fails only on a configuration that cannot work.
    #[allow(clippy::type_complexity)]
    pub fn connect(
        config: ClientConfig,
    ) -> Result<
        (
            ClientHandle,
            mpsc::Receiver<ClientEvent>,
            watch::Receiver<ConnState>,
        ),
        ClientError,
    > {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            ClientError::Config("the client needs to run inside a tokio runtime".into())
        })?;
        let transport = transport::Transport::new(&config)?;
        let queue_cap = config.effective_queue_cap();
        let (req_tx, req_rx) = mpsc::channel(queue_cap);
        let (ctl_tx, ctl_rx) = mpsc::channel(CONTROL_QUEUE);
        let (ev_tx, ev_rx) = mpsc::channel(EVENTS_QUEUE);
        let (state_tx, state_rx) = watch::channel(ConnState::Connecting);
        let (relay_tx, relay_rx) = watch::channel(config.relay.clone());

        let slot = match (&config.cache_dir, config.credentials.presumed_user_id()) {
            (Some(dir), Some(user)) => Some(CacheSlot::open(
                dir,
                &config.relay.ws,
                &user,
                config.cache_ttl,
            )),
            _ => None,
        };
        if let Some(s) = &slot {
            if s.has_state() || !s.entry.cart.is_null() {
                let view = s.view(crate::time::now_ms());
                // The channel is new and empty: this cannot fail for room.
                let _ = ev_tx.try_send(ClientEvent::Cached(view));
            }
        }
        let shared = Arc::new(Shared {
            next_id: AtomicU64::new(1),
            cache: Mutex::new(slot),
            status: Mutex::new(Status::default()),
            task: Mutex::new(None),
        });
        let channels = driver::Channels {
            requests: req_rx,
            control: ctl_rx,
            events: ev_tx,
            state: state_tx,
            relay: relay_tx,
        };
        let driver = driver::Driver::new(config, transport, channels, shared.clone());
        let task = runtime.spawn(driver.run());
        *lock(&shared.task) = Some(task);
        let handle = ClientHandle {
            requests: req_tx,
            control: ctl_tx,
            permits: Arc::new(Semaphore::new(queue_cap)),
            queue_cap,
            shared,
            state: state_rx.clone(),
            relay: relay_rx,
        };
        Ok((handle, ev_rx, state_rx))
    }
}

/// Sends requests and steers the connection. Cheap to clone; the task ends
/// when every handle is dropped or [`ClientHandle::close`] is called.
#[derive(Clone)]
pub struct ClientHandle {
    requests: mpsc::Sender<Request>,
    control: mpsc::Sender<Control>,
    /// One permit per request waiting for its answer: the bounded queue.
    permits: Arc<Semaphore>,
    queue_cap: usize,
    shared: Arc<Shared>,
    state: watch::Receiver<ConnState>,
    relay: watch::Receiver<RelayUrls>,
}

impl std::fmt::Debug for ClientHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientHandle")
            .field("state", &*self.state.borrow())
            .field("queued", &self.queued())
            .finish()
    }
}

impl ClientHandle {
    /// Sends `{type: kind, id, data}` and waits for its `ack` (returned
    /// whole) or `error` ([`ClientError::Refused`]). While the client is not
    /// live the request waits in the queue; a request whose outcome is
    /// unknown after a drop is sent again with the same id.
    ///
    /// Dropping the returned future does not withdraw the request: it is
    /// still sent and its answer ignored. Give changes idempotency keys
    /// (`client_order_id`) so that this and resends are safe.
    pub async fn request(&self, kind: &str, data: Value) -> Result<Envelope, ClientError> {
        self.submit(kind, data)?.await
    }

    /// Sends a typed request (DESIGN §5) and waits for its `ack` or
    /// `error`, as [`ClientHandle::request`]. Programs send requests this
    /// way, so none is ever written by hand as JSON.
    pub async fn send(&self, req: &crate::Request) -> Result<Envelope, ClientError> {
        self.submit_request(req)?.await
    }

    /// Queues a typed request without waiting, as [`ClientHandle::submit`].
    pub fn submit_request(&self, req: &crate::Request) -> Result<PendingReply, ClientError> {
        self.submit(req.kind(), req.data())
    }

    /// Queues a request without waiting: the error comes at once when the
    /// queue is full, the answer later from the [`PendingReply`].
    pub fn submit(&self, kind: &str, data: Value) -> Result<PendingReply, ClientError> {
        match &*self.state.borrow() {
            ConnState::Closed => return Err(ClientError::Closed),
            ConnState::AuthExpired => return Err(ClientError::AuthExpired),
            _ => {}
        }
        let permit = self
            .permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| ClientError::QueueFull(self.queue_cap))?;
        let n = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let id = request_id(n);
        let text = Envelope::new(kind, data).with_id(id.clone()).to_json();
        let (tx, rx) = oneshot::channel();
        self.requests
            .try_send(Request {
                n,
                text,
                reply: tx,
                permit,
            })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => ClientError::QueueFull(self.queue_cap),
                mpsc::error::TrySendError::Closed(_) => ClientError::Closed,
            })?;
        Ok(PendingReply { id, rx })
    }

    /// The state now.
    pub fn state(&self) -> ConnState {
        self.state.borrow().clone()
    }

    /// A new receiver of the state.
    pub fn watch_state(&self) -> watch::Receiver<ConnState> {
        self.state.clone()
    }

    /// The relay in use (or, while reconnecting, the one tried next): one
    /// of `--relay`'s list, for the status bar (DESIGN §15).
    pub fn relay(&self) -> RelayUrls {
        self.relay.borrow().clone()
    }

    /// A new receiver of the relay in use; it changes when the client moves
    /// to another relay of the list.
    pub fn watch_relay(&self) -> watch::Receiver<RelayUrls> {
        self.relay.clone()
    }

    /// Requests waiting for an answer (queued or in flight).
    pub fn queued(&self) -> usize {
        self.queue_cap - self.permits.available_permits()
    }

    /// The cache as it stands (kept up to date from events), or `None` when
    /// the cache is off.
    pub fn cached_state(&self) -> Option<CachedState> {
        lock(&self.shared.cache)
            .as_ref()
            .map(|s| s.view(crate::time::now_ms()))
    }

    /// Stores the customer's cart in the cache, written at once.
    /// Does nothing when the cache is off.
    pub fn set_cart(&self, cart: Value) {
        if let Some(slot) = lock(&self.shared.cache).as_mut() {
            slot.entry.cart = cart;
            slot.dirty = true;
            // A cart is a person's work and changes only at a keypress: write
            // it now rather than at the next periodic flush, so a program
            // that quits (or is killed) right after loses nothing.
            if let Err(e) = slot.flush() {
                tracing::warn!(cause = %e, "cart not written to the cache");
            }
        }
    }

    /// The user the relay says we are, once authenticated.
    pub fn user(&self) -> Option<UserRef> {
        lock(&self.shared.status).user.clone()
    }

    /// The last durable seq handed over (what the next `since` will be).
    pub fn last_seq(&self) -> Option<u64> {
        lock(&self.shared.status).last_seq
    }

    /// The relay's `log_id`, once known.
    pub fn log_id(&self) -> Option<String> {
        lock(&self.shared.status).log_id.clone()
    }

    /// Skips the wait before the next attempt (a "retry now" key), or
    /// retries after `AuthExpired` with the same credentials.
    pub fn reconnect_now(&self) {
        let _ = self.control.try_send(Control::ReconnectNow);
    }

    /// New credentials (after the program asked for a password again):
    /// the connection starts over with them.
    pub fn set_credentials(&self, credentials: Credentials) {
        if self
            .control
            .try_send(Control::SetCredentials(credentials))
            .is_err()
        {
            tracing::warn!("client: control queue full; new credentials not taken");
        }
    }

    /// Closes the socket (1000), writes the cache, fails waiting requests
    /// with [`ClientError::Closed`], and waits for the task to end.
    pub async fn close(&self) {
        let _ = self.control.send(Control::Close).await;
        let task = lock(&self.shared.task).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

/// The answer to a [`ClientHandle::submit`]ted request.
#[derive(Debug)]
pub struct PendingReply {
    id: String,
    rx: oneshot::Receiver<Reply>,
}

impl PendingReply {
    /// The request's id (`c-<n>`).
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Future for PendingReply {
    type Output = Result<Envelope, ClientError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(ClientError::Closed)))
    }
}
