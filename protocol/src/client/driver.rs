//! The connection task: one loop that logs in, opens the socket,
//! authenticates, resumes, heartbeats, reconnects with backoff, falls back to
//! HTTP polling and moves back to the socket (DESIGN §4, §11).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};
use tokio::time::{sleep_until, Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::cache::CacheSlot;
use super::config::{ClientConfig, Credentials};
use super::error::ClientError;
use super::outbox::{refusal, writer_loop, Outbound, Outbox, Request};
use super::seq::SeqTracker;
use super::transport::{HttpFail, Transport, WsStream};
use super::{lock, ClientEvent, ConnState, Control, Shared};
use crate::envelope::{join_batch, split_frame, Envelope};
use crate::error::{ErrorCode, ProtocolError};
use crate::messages::{kind, Authenticated, EventsPage};

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
/// A `POST /api/messages` in flight: the requests it carries and the replies.
type PostFut = BoxFut<(Vec<u64>, Result<Vec<Envelope>, HttpFail>)>;

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

/// What the welcome means for what we hold.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WelcomeAction {
    /// Same log and user: resume.
    Continue,
    /// Another log or user, and no `since` was sent: drop the cache; the
    /// snapshot that follows replaces it.
    ResetCache,
    /// Another log or user after a `since` was sent: that `since` meant
    /// nothing here. Drop the cache and reconnect without it.
    ResetAndReconnect,
}

/// The pure decision on `authenticated`.
pub(crate) fn welcome_action(
    since_sent: bool,
    known_log: Option<&str>,
    known_user: Option<&str>,
    log_id: &str,
    user_id: &str,
) -> WelcomeAction {
    let same_log = known_log.is_none_or(|l| l == log_id);
    let same_user = known_user.is_none_or(|u| u == user_id);
    match (same_log && same_user, since_sent) {
        (true, _) => WelcomeAction::Continue,
        (false, false) => WelcomeAction::ResetCache,
        (false, true) => WelcomeAction::ResetAndReconnect,
    }
}

/// Close codes after which the same credentials will not work (DESIGN §4):
/// 4001 unauthenticated or expired, 4003 wrong role, 4011 revoked.
pub(crate) fn close_means_auth(code: u16) -> bool {
    matches!(code, 4001 | 4003 | 4011)
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

impl Driver {
    pub fn new(
        cfg: ClientConfig,
        transport: Transport,
        requests: mpsc::Receiver<Request>,
        control: mpsc::Receiver<Control>,
        events: mpsc::Sender<ClientEvent>,
        state: watch::Sender<ConnState>,
        shared: Arc<Shared>,
    ) -> Self {
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
        Driver {
            cfg,
            transport,
            token: None,
            requests,
            control,
            events,
            state,
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
                    tracing::info!(why = %why, failures, "relay connection lost");
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
                    &self.cfg.relay.ws,
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

    // -------------------------------------------------------------- socket

    fn send_unsent(&mut self, out: &mpsc::Sender<Outbound>) {
        for (n, text) in self.outbox.take_unsent(usize::MAX, Instant::now()) {
            if out.try_send(Outbound::Text(text)).is_err() {
                // The writer is stuck or gone; the silence check or the
                // writer's end will end this connection, and it goes again.
                self.outbox.mark_unsent(&[n]);
            }
        }
    }

    fn heartbeat(&self) -> String {
        let t = self.epoch.elapsed().as_millis() as u64;
        Envelope::new(kind::HEARTBEAT, json!({ "t": t })).to_json()
    }

    /// One socket's life: authenticate, resume, then live until it ends.
    async fn session(&mut self, ws: WsStream) -> End {
        self.caught_up = false;
        let (sink, mut stream) = ws.split();
        let (out, rx) = mpsc::channel(self.cfg.effective_queue_cap() + WRITE_SLACK);
        let mut writer = AbortOnDrop(tokio::spawn(writer_loop(
            sink,
            rx,
            self.cfg.effective_batch_cap(),
        )));
        let since = self.seq.last();
        let mut auth = json!({
            "type": kind::AUTHENTICATION,
            "userType": self.cfg.role,
            "token": self.token.clone().unwrap_or_default(),
        });
        if let Some(s) = since {
            auth["since"] = json!(s);
        }
        if out.send(Outbound::Text(auth.to_string())).await.is_err() {
            return End::Lost {
                welcomed: false,
                why: "socket writer ended".into(),
            };
        }

        // ------------------------------------------------------ welcome
        let first = tokio::time::timeout(self.cfg.connect_timeout, read_welcome(&mut stream)).await;
        let (w, rest) = match first {
            Err(_) => {
                return End::Lost {
                    welcomed: false,
                    why: "no answer to authentication".into(),
                }
            }
            Ok(Err(end)) => {
                if let End::AuthRejected(Some(e)) = &end {
                    self.emit(ClientEvent::Error(e.clone())).await;
                }
                return end;
            }
            Ok(Ok(w)) => w,
        };
        tracing::info!(user = %w.user.id, session = %w.session, head_seq = w.head_seq, since = ?since, "authenticated");
        if let Some(end) = self.welcome(&w, since.is_some()).await {
            let _ = out.try_send(Outbound::Close(1000));
            let _ = tokio::time::timeout(CLOSE_GRACE, &mut writer.0).await;
            return end;
        }
        self.fresh_login_used = false;
        self.set_state(ConnState::Live { rtt_ms: None });
        self.emit(ClientEvent::Welcome(w.clone())).await;
        let hb = Duration::from_millis(w.heartbeat_ms).max(MIN_HEARTBEAT);
        // A heartbeat at once, so the round trip shows without waiting.
        let _ = out.try_send(Outbound::Text(self.heartbeat()));
        // Answered after the replay: marks the moment we are caught up.
        self.syncs += 1;
        let sync = Envelope::new(kind::SYNC, json!({ "since": w.head_seq }))
            .with_id(format!("s-{}", self.syncs))
            .to_json();
        let _ = out.try_send(Outbound::Text(sync));
        self.outbox.mark_all_unsent();
        self.send_unsent(&out);
        for env in rest {
            if let Some(end) = self.on_message(env).await {
                return end;
            }
        }

        // --------------------------------------------------------- live
        let silence = tokio::time::sleep(hb * 2);
        tokio::pin!(silence);
        let mut beat = tokio::time::interval_at(Instant::now() + hb, hb);
        beat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut flush = tokio::time::interval(CACHE_FLUSH_EVERY);
        let lost = |why: String| End::Lost {
            welcomed: true,
            why,
        };
        loop {
            let retry_at = self.outbox.next_retry();
            tokio::select! {
                frame = stream.next() => {
                    let msg = match frame {
                        Some(Ok(msg)) => msg,
                        Some(Err(e)) => return lost(e.to_string()),
                        None => return lost("socket ended".into()),
                    };
                    // Anything at all proves the socket alive.
                    silence.as_mut().reset(Instant::now() + hb * 2);
                    match msg {
                        Message::Text(t) => match split_frame(&t) {
                            Ok(envs) => {
                                for env in envs {
                                    if let Some(end) = self.on_message(env).await {
                                        return end;
                                    }
                                }
                            }
                            Err(e) => tracing::warn!(cause = %e, "unreadable frame from the relay"),
                        },
                        Message::Close(frame) => return close_end(frame, true),
                        _ => {}
                    }
                }
                _ = beat.tick() => {
                    let _ = out.try_send(Outbound::Text(self.heartbeat()));
                }
                () = &mut silence => {
                    tracing::warn!(silent_ms = (hb * 2).as_millis() as u64, "nothing heard from the relay: reconnecting");
                    return lost("heartbeat timeout".into());
                }
                () = sleep_until_opt(retry_at) => self.send_unsent(&out),
                r = self.requests.recv() => match r {
                    Some(r) => {
                        self.outbox.push(r);
                        self.send_unsent(&out);
                    }
                    None => {
                        let _ = out.try_send(Outbound::Close(1000));
                        let _ = tokio::time::timeout(CLOSE_GRACE, &mut writer.0).await;
                        return End::Shutdown;
                    }
                },
                c = self.control.recv() => {
                    let end = match c {
                        None | Some(Control::Close) => End::Shutdown,
                        Some(Control::ReconnectNow) => continue,
                        Some(Control::SetCredentials(c)) => {
                            self.set_credentials(c);
                            End::Restart
                        }
                    };
                    let _ = out.try_send(Outbound::Close(1000));
                    let _ = tokio::time::timeout(CLOSE_GRACE, &mut writer.0).await;
                    return end;
                }
                _ = flush.tick() => self.flush_cache(),
                () = out.closed() => return lost("socket write failed".into()),
            }
        }
    }

    // ------------------------------------------------------------- polling

    /// HTTP polling while the socket cannot be opened; probes the socket in
    /// the background and returns it once it opens.
    async fn polling(&mut self, failures: &mut u32) -> Result<WsStream, End> {
        let Some(token) = self.token.clone() else {
            return Err(End::Restart);
        };
        tracing::warn!(
            failures = *failures,
            "the socket cannot be opened: falling back to HTTP polling"
        );
        self.set_state(ConnState::Polling);
        self.caught_up = false;
        let cap = self.cfg.effective_batch_cap();
        let mut poll: Option<BoxFut<Result<EventsPage, HttpFail>>> = None;
        let mut post: Option<PostFut> = None;
        let mut probe: Option<BoxFut<Result<WsStream, String>>> = None;
        let mut reopened: Option<WsStream> = None;
        let mut poll_at = Instant::now();
        let mut post_at = Instant::now();
        let mut probe_at = Instant::now() + self.cfg.backoff.next_delay(*failures);
        let mut poll_failures: u32 = 0;
        let mut flush = tokio::time::interval(CACHE_FLUSH_EVERY);
        loop {
            let now = Instant::now();
            if let Some(ws) = reopened.take() {
                if post.is_none() {
                    tracing::info!("the socket opens again: leaving HTTP polling");
                    return Ok(ws);
                }
                // Let the post in flight finish: its outcome is then known.
                reopened = Some(ws);
            }
            if reopened.is_none() && poll.is_none() && now >= poll_at {
                let t = self.transport.clone();
                poll = Some(Box::pin(t.poll(token.clone(), self.seq.last())));
            }
            if post.is_none() && now >= post_at && self.outbox.has_unsent(now) {
                let batch = self.outbox.take_unsent(cap, now);
                let ns: Vec<u64> = batch.iter().map(|(n, _)| *n).collect();
                let texts: Vec<String> = batch.into_iter().map(|(_, t)| t).collect();
                let body = match texts.len() {
                    1 => texts.into_iter().next().unwrap_or_default(),
                    _ => join_batch(&texts),
                };
                let t = self.transport.clone();
                let tok = token.clone();
                post = Some(Box::pin(async move { (ns, t.post(tok, body).await) }));
            }
            if reopened.is_none() && probe.is_none() && now >= probe_at {
                probe = Some(Box::pin(self.transport.clone().open_socket()));
            }
            let mut wake: Option<Instant> = self.outbox.next_retry();
            if post.is_none() && self.outbox.has_unsent(now) {
                wake = Some(wake.map_or(post_at, |w| w.min(post_at)));
            }
            if reopened.is_none() {
                if poll.is_none() {
                    wake = Some(wake.map_or(poll_at, |w| w.min(poll_at)));
                }
                if probe.is_none() {
                    wake = Some(wake.map_or(probe_at, |w| w.min(probe_at)));
                }
            }
            tokio::select! {
                r = opt(&mut poll) => {
                    poll = None;
                    match r {
                        Ok(page) => {
                            poll_failures = 0;
                            self.set_state(ConnState::Polling);
                            let full = page.events.len() >= crate::limits::POLL_MAX_EVENTS;
                            for env in page.events {
                                if let Some(end) = self.on_message(env).await {
                                    return Err(end);
                                }
                            }
                            self.seq.advance_to(page.head_seq);
                            let last = self.seq.last();
                            self.with_cache(|c| {
                                if c.entry.last_seq != last {
                                    c.entry.last_seq = last;
                                    c.dirty = true;
                                }
                            });
                            self.publish_status();
                            if !full && !self.caught_up {
                                self.caught_up(page.head_seq).await;
                            } else if self.caught_up {
                                self.confirm_cache();
                            }
                            poll_at = Instant::now();
                        }
                        Err(HttpFail::Auth(e)) => return Err(End::AuthRejected(Some(e))),
                        Err(HttpFail::Other(why)) => {
                            tracing::debug!(why = %why, "poll failed");
                            self.set_state(ConnState::Offline);
                            poll_at = Instant::now() + self.cfg.backoff.next_delay(poll_failures);
                            poll_failures += 1;
                        }
                    }
                }
                r = opt(&mut post) => {
                    post = None;
                    let (ns, result) = r;
                    match result {
                        Ok(replies) => {
                            for env in replies {
                                if let Some(end) = self.on_message(env).await {
                                    self.outbox.mark_unsent(&ns);
                                    return Err(end);
                                }
                            }
                            // Anything the relay did not answer goes again.
                            self.outbox.mark_unsent(&ns);
                        }
                        Err(HttpFail::Auth(e)) => {
                            self.outbox.mark_unsent(&ns);
                            return Err(End::AuthRejected(Some(e)));
                        }
                        Err(HttpFail::Other(why)) => {
                            tracing::debug!(why = %why, "post failed; the messages go again");
                            self.outbox.mark_unsent(&ns);
                            post_at = Instant::now() + self.cfg.backoff.next_delay(poll_failures);
                        }
                    }
                }
                r = opt(&mut probe) => {
                    probe = None;
                    match r {
                        Ok(ws) => {
                            // The long-poll in flight is dropped; the socket
                            // resumes from the last seq instead.
                            poll = None;
                            reopened = Some(ws);
                        }
                        Err(why) => {
                            *failures += 1;
                            tracing::debug!(why = %why, failures = *failures, "socket probe failed");
                            probe_at = Instant::now() + self.cfg.backoff.next_delay(*failures);
                        }
                    }
                }
                () = sleep_until_opt(wake) => {}
                r = self.requests.recv() => match r {
                    Some(r) => self.outbox.push(r),
                    None => return Err(End::Shutdown),
                },
                c = self.control.recv() => match c {
                    None | Some(Control::Close) => return Err(End::Shutdown),
                    Some(Control::ReconnectNow) => probe_at = Instant::now(),
                    Some(Control::SetCredentials(c)) => {
                        self.set_credentials(c);
                        return Err(End::Restart);
                    }
                },
                _ = flush.tick() => self.flush_cache(),
            }
        }
    }
}

/// Reads up to `authenticated`: the welcome and whatever came in the same
/// frame after it, or how the relay refused.
async fn read_welcome<S>(stream: &mut S) -> Result<(Authenticated, Vec<Envelope>), End>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let mut refusal_seen: Option<ProtocolError> = None;
    while let Some(msg) = stream.next().await {
        let msg = msg.map_err(|e| End::Lost {
            welcomed: false,
            why: e.to_string(),
        })?;
        match msg {
            Message::Text(t) => {
                let envs = split_frame(&t).map_err(|e| End::Lost {
                    welcomed: false,
                    why: format!("unreadable welcome: {e}"),
                })?;
                let mut envs = envs.into_iter();
                while let Some(env) = envs.next() {
                    match env.kind.as_str() {
                        kind::AUTHENTICATED => {
                            let w = env.parse_data::<Authenticated>().map_err(|e| End::Lost {
                                welcomed: false,
                                why: format!("unreadable authenticated: {e}"),
                            })?;
                            return Ok((w, envs.collect()));
                        }
                        kind::ERROR => {
                            let e = refusal(&env);
                            if matches!(
                                e.code,
                                ErrorCode::AuthFailed
                                    | ErrorCode::TokenExpired
                                    | ErrorCode::Forbidden
                            ) {
                                refusal_seen = Some(e);
                            } else {
                                tracing::warn!(code = %e.code, message = %e.message, "error before authenticated");
                            }
                        }
                        other => tracing::debug!(kind = other, "ignored before authenticated"),
                    }
                }
            }
            Message::Close(frame) => {
                // The `error` before the close says more than its code.
                return Err(match (close_end(frame, false), refusal_seen) {
                    (End::AuthRejected(_), Some(e)) => End::AuthRejected(Some(e)),
                    (end, _) => end,
                });
            }
            _ => {}
        }
    }
    Err(match refusal_seen {
        Some(e) => End::AuthRejected(Some(e)),
        None => End::Lost {
            welcomed: false,
            why: "socket ended before authenticated".into(),
        },
    })
}

/// How a close frame ends the connection.
fn close_end(frame: Option<CloseFrame>, welcomed: bool) -> End {
    let (code, reason) = frame
        .map(|f| (u16::from(f.code), f.reason.to_string()))
        .unwrap_or((1005, String::new()));
    if close_means_auth(code) {
        let code_kind = if code == 4003 {
            ErrorCode::Forbidden
        } else {
            ErrorCode::AuthFailed
        };
        tracing::warn!(code, reason = %reason, "relay refused the credentials");
        return End::AuthRejected(Some(ProtocolError::new(
            code_kind,
            format!("closed {code}: {reason}"),
        )));
    }
    End::Lost {
        welcomed,
        why: format!("closed {code} {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    #[test]
    fn welcome_decisions() {
        use WelcomeAction::*;
        // First contact: nothing known.
        assert_eq!(welcome_action(false, None, None, "L1", "kim"), Continue);
        // Resume on the same log.
        assert_eq!(
            welcome_action(true, Some("L1"), Some("kim"), "L1", "kim"),
            Continue
        );
        // The relay's data was replaced: the since we sent meant nothing.
        assert_eq!(
            welcome_action(true, Some("L1"), Some("kim"), "L2", "kim"),
            ResetAndReconnect
        );
        assert_eq!(
            welcome_action(false, Some("L1"), Some("kim"), "L2", "kim"),
            ResetCache
        );
        // A token for another user than the cache we presumed.
        assert_eq!(
            welcome_action(true, Some("L1"), Some("kim"), "L1", "lee"),
            ResetAndReconnect
        );
        assert_eq!(
            welcome_action(false, None, Some("kim"), "L1", "lee"),
            ResetCache
        );
    }

    fn close(code: u16) -> Option<CloseFrame> {
        Some(CloseFrame {
            code: CloseCode::from(code),
            reason: "why".into(),
        })
    }

    #[test]
    fn close_codes() {
        for code in [4001, 4003, 4011] {
            assert!(close_means_auth(code));
            assert!(
                matches!(close_end(close(code), true), End::AuthRejected(Some(_))),
                "{code}"
            );
        }
        for code in [1000, 1001, 1006, 1011, 1013, 4000, 4008, 4009, 4010] {
            assert!(!close_means_auth(code));
            assert!(
                matches!(
                    close_end(close(code), true),
                    End::Lost { welcomed: true, .. }
                ),
                "{code}"
            );
        }
        assert!(matches!(
            close_end(None, false),
            End::Lost {
                welcomed: false,
                ..
            }
        ));
    }
}
