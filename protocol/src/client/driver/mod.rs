//! The connection task: one loop that logs in, opens the socket,
//! authenticates, resumes, heartbeats, reconnects with backoff, falls back to
//! HTTP polling and moves back to the socket (DESIGN §4, §11).
//!
//! `mod.rs` holds the loop and what every transport shares (messages, the
//! welcome, the cache); `session` is one socket's life, `polling` the HTTP
//! fallback, `welcome` the pure decisions on the relay's first answers.

mod polling;
mod session;
mod welcome;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio::time::{sleep_until, Instant, MissedTickBehavior};

use super::cache::CacheSlot;
use super::config::RelayUrls;
use super::config::{ClientConfig, Credentials};
use super::error::ClientError;
use super::outbox::{refusal, Outbox, Request};
use super::relays::RelayRing;
use super::seq::SeqTracker;
use super::transport::{HttpFail, Transport, WsStream};
use super::{lock, ClientEvent, ConnState, Control, Shared};
use crate::envelope::Envelope;
use crate::error::{ErrorCode, ProtocolError};
use crate::messages::{kind, Authenticated};
use welcome::{welcome_action, WelcomeAction};

/// How often a changed cache is written: often enough that a crash loses a
/// second of state, rarely enough that a busy kitchen does not grind the disk.
const CACHE_FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Shortest heartbeat interval honoured, whatever the relay announces.
const MIN_HEARTBEAT: Duration = Duration::from_millis(100);
/// Frames beyond the request queue the socket writer holds: the
/// authentication, a sync and a few heartbeats of a stalled socket.
const WRITE_SLACK: usize = 16;
/// Time a closing socket gets to say goodbye.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// How one connection (or attempt) ended.
#[derive(Debug)]
enum End {
    /// The socket never opened, or broke; retry after backoff.
    Lost { welcomed: bool, why: String },
    /// Start over at once, without counting a failure (another `log_id`,
    /// new credentials).
    Restart,
    /// The relay refused the credentials.
    AuthRejected(Option<ProtocolError>),
    /// The program closed the client.
    Shutdown,
}

/// Whether to carry on after a wait.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Go,
    Stop,
}

/// Awaits the future in `slot`, or never when there is none.
async fn opt<F: Future + Unpin>(slot: &mut Option<F>) -> F::Output {
    match slot {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(t) => sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// Aborts the socket writer when the session ends, however it ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub(crate) struct Driver {
    cfg: ClientConfig,
    transport: Transport,
    token: Option<String>,
    requests: mpsc::Receiver<Request>,
    control: mpsc::Receiver<Control>,
    events: mpsc::Sender<ClientEvent>,
    state: watch::Sender<ConnState>,
    /// The relays of `--relay` and the one in use or being tried.
    ring: RelayRing,
    /// What the program sees of `ring`: the relay in use.
    relay: watch::Sender<RelayUrls>,
    shared: Arc<Shared>,
    seq: SeqTracker,
    log_id: Option<String>,
    /// The user whose seq and cache we hold (presumed until the relay says).
    user_id: Option<String>,
    outbox: Outbox,
    /// Counter of internal `sync` requests (`s-<n>`).
    syncs: u64,
    /// Heartbeat `t` is milliseconds since this instant.
    epoch: Instant,
    /// Set once a fresh login was tried after a refusal; cleared on welcome.
    fresh_login_used: bool,
    /// The relay confirmed our state on this connection (sync answered).
    caught_up: bool,
}

/// The channels between the handles and the connection task.
pub(crate) struct Channels {
    pub requests: mpsc::Receiver<Request>,
    pub control: mpsc::Receiver<Control>,
    pub events: mpsc::Sender<ClientEvent>,
    pub state: watch::Sender<ConnState>,
    pub relay: watch::Sender<RelayUrls>,
}

impl Driver {
    pub fn new(cfg: ClientConfig, transport: Transport, ch: Channels, shared: Arc<Shared>) -> Self {
        // Resume from the cache only when it says which log its seq is from.
        let (seq, log_id, user_id) = match lock(&shared.cache).as_ref() {
            Some(slot) if slot.entry.log_id.is_some() && cfg.resume_from_cache => (
                SeqTracker::new(slot.entry.last_seq),
                slot.entry.log_id.clone(),
                Some(slot.entry.user_id.clone()),
            ),
            Some(slot) => (
                SeqTracker::default(),
                None,
                Some(slot.entry.user_id.clone()),
            ),
            None => (SeqTracker::default(), None, None),
        };
        {
            let mut st = lock(&shared.status);
            st.last_seq = seq.last();
            st.log_id = log_id.clone();
        }
        let ring = RelayRing::new(cfg.relay.clone(), cfg.other_relays.iter().cloned());
        Driver {
            cfg,
            transport,
            token: None,
            requests: ch.requests,
            control: ch.control,
            events: ch.events,
            state: ch.state,
            ring,
            relay: ch.relay,
            shared,
            seq,
            log_id,
            user_id,
            outbox: Outbox::default(),
            syncs: 0,
            epoch: Instant::now(),
            fresh_login_used: false,
            caught_up: false,
        }
    }

    pub async fn run(mut self) {
        // Consecutive attempts that did not get as far as `authenticated`.
        let mut failures: u32 = 0;
        // A socket the polling fallback found open again.
        let mut reopened: Option<WsStream> = None;
        loop {
            let end = match self.ensure_token().await {
                Err(end) => end,
                Ok(()) => {
                    let ws = match reopened.take() {
                        Some(ws) => Ok(ws),
                        None => {
                            if failures == 0 {
                                self.set_state(ConnState::Connecting);
                            }
                            let open = self.transport.clone().open_socket();
                            match self.or_control(open).await {
                                Ok(Ok(ws)) => Ok(ws),
                                Ok(Err(why)) => Err(End::Lost {
                                    welcomed: false,
                                    why,
                                }),
                                Err(end) => Err(end),
                            }
                        }
                    };
                    match ws {
                        Ok(ws) => self.session(ws).await,
                        Err(end) => end,
                    }
                }
            };
            self.outbox.mark_all_unsent();
            self.flush_cache();
            let flow = match end {
                End::Shutdown => Flow::Stop,
                End::Restart => {
                    failures = 0;
                    Flow::Go
                }
                End::AuthRejected(err) => {
                    failures = 0;
                    self.auth_rejected(err).await
                }
                End::Lost { welcomed, why } => {
                    if welcomed {
                        failures = 0;
                    } else {
                        failures += 1;
                    }
                    tracing::info!(why = %why, failures, relay = %self.ring.current(), "relay connection lost");
                    // Each attempt goes to the next relay of the list.
                    self.next_relay();
                    if failures >= self.cfg.fallback_after && self.token.is_some() {
                        match self.polling(&mut failures).await {
                            Ok(ws) => {
                                reopened = Some(ws);
                                Flow::Go
                            }
                            Err(End::AuthRejected(err)) => self.auth_rejected(err).await,
                            Err(End::Shutdown) => Flow::Stop,
                            Err(_) => Flow::Go,
                        }
                    } else {
                        let delay = self.cfg.backoff.next_delay(failures);
                        self.wait_retry(failures + 1, delay).await
                    }
                }
            };
            if flow == Flow::Stop {
                break;
            }
        }
        self.shutdown();
    }

    // ------------------------------------------------------------ plumbing

    fn set_state(&self, s: ConnState) {
        self.state.send_if_modified(|cur| {
            if *cur == s {
                false
            } else {
                tracing::debug!(state = %s, "connection state");
                *cur = s;
                true
            }
        });
    }

    /// Moves on to the next relay of `--relay`: the next socket, login,
    /// long-poll or post goes there.
    fn next_relay(&mut self) {
        if self.ring.len() < 2 {
            return;
        }
        let next = self.ring.advance().clone();
        tracing::info!(relay = %next, "trying the next relay");
        self.transport.urls = next.clone();
        self.relay.send_replace(next);
    }

    async fn emit(&self, ev: ClientEvent) {
        // A program that dropped its receiver only wanted requests.
        let _ = self.events.send(ev).await;
    }

    fn publish_status(&self) {
        let mut st = lock(&self.shared.status);
        st.last_seq = self.seq.last();
        st.log_id = self.log_id.clone();
    }

    fn with_cache<R>(&self, f: impl FnOnce(&mut CacheSlot) -> R) -> Option<R> {
        lock(&self.shared.cache).as_mut().map(f)
    }

    fn flush_cache(&self) {
        if let Some(Err(e)) = self.with_cache(|c| c.flush()) {
            tracing::warn!(cause = %e, "cache not written");
        }
    }

    fn confirm_cache(&self) {
        let now = crate::time::now_ms();
        self.with_cache(|c| c.confirmed_ms = Some(now));
    }

    fn set_credentials(&mut self, c: Credentials) {
        tracing::info!(credentials = ?c, "new credentials");
        self.cfg.credentials = c;
        self.token = None;
        self.fresh_login_used = false;
    }

    /// Handles a control command while waiting; `Some(flow)` ends the wait.
    fn on_control(&mut self, c: Option<Control>) -> Option<Flow> {
        match c {
            None | Some(Control::Close) => Some(Flow::Stop),
            Some(Control::ReconnectNow) => Some(Flow::Go),
            Some(Control::SetCredentials(c)) => {
                self.set_credentials(c);
                Some(Flow::Go)
            }
        }
    }

    /// Runs `fut` unless a control command interrupts it.
    async fn or_control<T>(&mut self, fut: impl Future<Output = T>) -> Result<T, End> {
        tokio::pin!(fut);
        loop {
            tokio::select! {
                r = &mut fut => return Ok(r),
                c = self.control.recv() => match c {
                    None | Some(Control::Close) => return Err(End::Shutdown),
                    Some(Control::ReconnectNow) => {}
                    Some(Control::SetCredentials(c)) => {
                        self.set_credentials(c);
                        return Err(End::Restart);
                    }
                },
            }
        }
    }

    /// A token to authenticate with: the configured one, or a fresh login.
    async fn ensure_token(&mut self) -> Result<(), End> {
        if self.token.is_some() {
            return Ok(());
        }
        let (username, password) = match &self.cfg.credentials {
            Credentials::Token(t) => {
                self.token = Some(t.clone());
                return Ok(());
            }
            Credentials::Password { username, password } => (username.clone(), password.clone()),
        };
        let login = self.transport.clone().login(username, password);
        match self.or_control(login).await? {
            Ok(reply) => {
                tracing::info!(user = %reply.user.id, expires_at = %reply.expires_at, "logged in");
                self.token = Some(reply.token);
                Ok(())
            }
            Err(HttpFail::Auth(e)) => {
                tracing::warn!(cause = %e, "login refused");
                self.emit(ClientEvent::Error(e.clone())).await;
                // A fresh login was just tried; do not try another.
                self.fresh_login_used = true;
                Err(End::AuthRejected(Some(e)))
            }
            Err(HttpFail::Other(why)) => Err(End::Lost {
                welcomed: false,
                why: format!("login: {why}"),
            }),
        }
    }

    /// Credentials refused: with a password, log in once more (the token
    /// may just have expired); otherwise wait for the program.
    async fn auth_rejected(&mut self, err: Option<ProtocolError>) -> Flow {
        tracing::warn!(cause = ?err, "credentials refused");
        self.token = None;
        if matches!(self.cfg.credentials, Credentials::Password { .. }) && !self.fresh_login_used {
            self.fresh_login_used = true;
            return Flow::Go;
        }
        self.wait_credentials().await
    }

    /// `AuthExpired`: new requests fail at once; queued ones wait for new
    /// credentials.
    async fn wait_credentials(&mut self) -> Flow {
        self.set_state(ConnState::AuthExpired);
        let mut flush = tokio::time::interval(CACHE_FLUSH_EVERY);
        loop {
            tokio::select! {
                r = self.requests.recv() => match r {
                    Some(r) => { let _ = r.reply.send(Err(ClientError::AuthExpired)); }
                    None => return Flow::Stop,
                },
                c = self.control.recv() => {
                    if let Some(flow) = self.on_control(c) {
                        self.fresh_login_used = false;
                        return flow;
                    }
                }
                _ = flush.tick() => self.flush_cache(),
            }
        }
    }

    /// `Reconnecting`: waits `delay` (counting down in the state), queueing
    /// requests meanwhile.
    async fn wait_retry(&mut self, attempt: u32, delay: Duration) -> Flow {
        let deadline = Instant::now() + delay;
        let remaining = |now: Instant| deadline.saturating_duration_since(now).as_millis() as u64;
        self.set_state(ConnState::Reconnecting {
            attempt,
            next_try_in_ms: remaining(Instant::now()),
        });
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        tick.reset();
        loop {
            tokio::select! {
                () = sleep_until(deadline) => return Flow::Go,
                _ = tick.tick() => {
                    self.set_state(ConnState::Reconnecting { attempt, next_try_in_ms: remaining(Instant::now()) });
                    self.flush_cache();
                }
                r = self.requests.recv() => match r {
                    Some(r) => self.outbox.push(r),
                    None => return Flow::Stop,
                },
                c = self.control.recv() => {
                    if let Some(flow) = self.on_control(c) {
                        return flow;
                    }
                }
            }
        }
    }

    fn shutdown(&mut self) {
        self.set_state(ConnState::Closed);
        self.requests.close();
        while let Ok(r) = self.requests.try_recv() {
            let _ = r.reply.send(Err(ClientError::Closed));
        }
        self.outbox.fail_all(&ClientError::Closed);
        self.flush_cache();
        tracing::info!("client closed");
    }

    // ------------------------------------------------------------ messages

    /// Handles one message from the relay (by socket or by polling).
    /// `Some(end)` when the connection must end.
    async fn on_message(&mut self, env: Envelope) -> Option<End> {
        match env.kind.as_str() {
            kind::ACK | kind::ERROR => {
                if let Some(reference) = env.reference().map(str::to_owned) {
                    if reference.starts_with("s-") {
                        if env.kind == kind::ACK {
                            let head = env.data.get("head_seq").and_then(Value::as_u64);
                            self.caught_up(head.unwrap_or(0)).await;
                        }
                    } else {
                        self.outbox.resolve(&reference, env, Instant::now());
                    }
                    return None;
                }
                let err = refusal(&env);
                let auth = matches!(err.code, ErrorCode::AuthFailed | ErrorCode::TokenExpired);
                tracing::warn!(code = %err.code, message = %err.message, "error from the relay");
                self.emit(ClientEvent::Error(err.clone())).await;
                auth.then_some(End::AuthRejected(Some(err)))
            }
            kind::HEARTBEAT => {
                let now = self.epoch.elapsed().as_millis() as u64;
                let rtt = env
                    .data
                    .get("t")
                    .and_then(Value::as_u64)
                    .filter(|t| *t <= now)
                    .map(|t| now - t);
                if self.state.borrow().is_live() {
                    self.set_state(ConnState::Live { rtt_ms: rtt });
                }
                if self.caught_up {
                    self.confirm_cache();
                }
                None
            }
            kind::AUTHENTICATED => None,
            kind::SNAPSHOT => {
                if let Some(head) = env.data.get("head_seq").and_then(Value::as_u64) {
                    self.seq.reset_to(head);
                }
                let log_id = self.log_id.clone();
                self.with_cache(|c| {
                    c.entry.log_id = log_id;
                    c.entry.apply_snapshot(&env.data);
                    c.dirty = true;
                });
                self.publish_status();
                self.emit(ClientEvent::Snapshot(env)).await;
                None
            }
            _ => {
                match env.seq {
                    Some(seq) if self.seq.accept(seq) => {
                        self.with_cache(|c| {
                            c.entry.apply_event(&env);
                            c.dirty = true;
                        });
                        self.publish_status();
                        self.emit(ClientEvent::Event(env)).await;
                    }
                    Some(seq) => tracing::debug!(seq, kind = %env.kind, "already handed over"),
                    None => self.emit(ClientEvent::Notice(env)).await,
                }
                None
            }
        }
    }

    async fn caught_up(&mut self, head_seq: u64) {
        self.caught_up = true;
        self.confirm_cache();
        self.with_cache(|c| c.dirty = true);
        self.flush_cache();
        self.emit(ClientEvent::Synced { head_seq }).await;
    }

    /// Applies `authenticated`: `Some(end)` when this connection must go.
    async fn welcome(&mut self, w: &Authenticated, since_sent: bool) -> Option<End> {
        let action = welcome_action(
            since_sent,
            self.log_id.as_deref(),
            self.user_id.as_deref(),
            &w.log_id,
            &w.user.id,
        );
        if action != WelcomeAction::Continue {
            tracing::info!(
                old_log = ?self.log_id, log = %w.log_id, old_user = ?self.user_id, user = %w.user.id,
                "another relay log or user: dropping the cache"
            );
            self.seq.clear();
        }
        self.log_id = Some(w.log_id.clone());
        self.user_id = Some(w.user.id.clone());
        // The cache file of this user (it may not be the presumed one).
        if let Some(dir) = self.cfg.cache_dir.clone() {
            let mut cache = lock(&self.shared.cache);
            let wrong_user = cache.as_ref().is_none_or(|c| c.entry.user_id != w.user.id);
            if wrong_user {
                *cache = Some(CacheSlot::open(
                    &dir,
                    &self.ring.current().ws,
                    &w.user.id,
                    self.cfg.cache_ttl,
                ));
            }
            if let Some(c) = cache.as_mut() {
                if wrong_user || action != WelcomeAction::Continue {
                    c.entry.reset(Some(w.log_id.clone()));
                    c.dirty = true;
                }
                c.entry.log_id = Some(w.log_id.clone());
            }
        }
        {
            let mut st = lock(&self.shared.status);
            st.user = Some(w.user.clone());
        }
        self.publish_status();
        match action {
            WelcomeAction::ResetAndReconnect => Some(End::Restart),
            _ => None,
        }
    }
}
