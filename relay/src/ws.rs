//! One socket's life (DESIGN §4): authentication within 10 s, then requests,
//! heartbeats, live events and the close codes.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use kfood_protocol::envelope::join_batch;
use kfood_protocol::jwt::Claims;
use kfood_protocol::messages::{self as m, kind, ActivityKind};
use kfood_protocol::{limits, Envelope, ErrorCode, Frame, ProtocolError};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError as WsProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use crate::core::{Caller, Command, Item};
use crate::hub::{ConnEntry, Outgoing};
use crate::limits::{ConnLimiter, Verdict};
use crate::shared::Shared;
use crate::wire::stamped;

/// Frames joined into one outbound `batch`. Well under the §9 batch limit a
/// client may hold the relay to, and small enough to keep frames short.
pub const OUT_BATCH: usize = 64;
/// Events read from the log per step of a replay.
const REPLAY_CHUNK: usize = 256;
/// Time a closing socket gets to receive the replies decided before its close
/// and to answer the close frame; then it is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// Silence after which a client still sending the rest of an unreadable frame
/// is taken to be done.
const QUIET: Duration = Duration::from_millis(200);

/// The close codes of DESIGN §4.
pub mod close {
    pub const PROTOCOL: u16 = 4000;
    pub const UNAUTHENTICATED: u16 = 4001;
    pub const FORBIDDEN: u16 = 4003;
    pub const RATE_LIMIT: u16 = 4008;
    pub const TOO_LARGE: u16 = 4009;
    pub const HEARTBEAT: u16 = 4010;
    pub const REVOKED: u16 = 4011;
    pub const GOING_AWAY: u16 = 1001;
    /// The client fell too far behind; it resumes from its last seq.
    pub const TRY_AGAIN: u16 = 1013;
}

type Ws<S> = WebSocketStream<S>;

async fn send_env<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut Ws<S>, env: &Envelope) -> bool {
    ws.send(Message::text(stamped(env.clone()).to_json()))
        .await
        .is_ok()
}

/// Sends a close frame with `code`, then reads (and drops) whatever the
/// client still sends until it answers the close. Dropping a socket with
/// unread bytes resets the connection, and a reset can discard the close
/// frame on its way: the client would read 1006 instead of the code.
async fn close_with<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut Ws<S>, code: u16, reason: &str) {
    let frame = close_frame(code, reason);
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        if ws.close(Some(frame)).await.is_err() {
            return;
        }
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

/// Like [`close_with`], for a socket whose incoming stream can no longer be
/// parsed (a frame over the transport's limit was cut short): the rest is
/// read as raw bytes and dropped until the client goes quiet or closes.
async fn close_unreadable<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut Ws<S>,
    code: u16,
    reason: &str,
) {
    let frame = close_frame(code, reason);
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        if ws.close(Some(frame)).await.is_err() {
            return;
        }
        let mut sink = vec![0u8; 8 * 1024];
        while let Ok(Ok(n)) = tokio::time::timeout(QUIET, ws.get_mut().read(&mut sink)).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

fn close_frame(code: u16, reason: &str) -> CloseFrame {
    CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_owned().into(),
    }
}

/// Ends an authenticated socket with `code`, after every reply already
/// decided for it (DESIGN §4): `last` (replies and requests of the frame that
/// led to the close) goes through the core on its own reply queue. The core
/// decides in order and the writer delivers in order, so once that queue is
/// done, everything decided before it is in `rx`: that is written first,
/// then `last`'s replies, then the close frame.
async fn close_after_replies<S: AsyncRead + AsyncWrite + Unpin>(
    shared: &Shared,
    caller: &Caller,
    ws: &mut Ws<S>,
    rx: &mut mpsc::Receiver<Outgoing>,
    mut last: Vec<Item>,
    code: u16,
    reason: &str,
) {
    // With nothing of its own to say, a marker reply serves as the barrier;
    // it is not written.
    let marker_only = last.is_empty();
    if marker_only {
        last.push(Item::Reply {
            reference: None,
            env: Envelope::new(kind::ACK, json!({})),
        });
    }
    let direct: Vec<Envelope> = last
        .iter()
        .filter_map(|i| match i {
            Item::Reply { env, .. } if !marker_only => Some(env.clone()),
            _ => None,
        })
        .collect();
    let (tx, mut done) = mpsc::channel(last.len() * 2 + 1);
    let deadline = Instant::now() + CLOSE_GRACE;
    let sent = tokio::time::timeout_at(
        deadline,
        shared.core.send(Command::Request {
            caller: caller.clone(),
            items: last,
            reply: tx,
        }),
    )
    .await;
    let mut tail: Vec<Utf8Bytes> = Vec::new();
    if matches!(sent, Ok(Ok(()))) {
        while let Ok(Some(o)) = tokio::time::timeout_at(deadline, done.recv()).await {
            if let Outgoing::Frame(f) = o {
                tail.push(f);
            }
        }
    } else {
        // The core is gone (the relay is stopping): say what can be said.
        tail = direct
            .iter()
            .map(|e| Utf8Bytes::from(stamped(e.clone()).to_json()))
            .collect();
    }
    if marker_only {
        tail.clear();
    }
    if let Ok(first) = rx.try_recv() {
        if let Err((c, why)) = write_out(shared, caller, ws, first, rx).await {
            if c != 0 {
                close_with(ws, c, &why).await;
            }
            return;
        }
    }
    let mut batch = Vec::new();
    for f in tail {
        batch.push(f);
        if batch.len() == OUT_BATCH && flush(ws, &mut batch).await.is_err() {
            return;
        }
    }
    if flush(ws, &mut batch).await.is_err() {
        return;
    }
    close_with(ws, code, reason).await;
}

async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut Ws<S>, err: &ProtocolError, code: u16) {
    send_env(ws, &Envelope::error(None, err)).await;
    close_with(ws, code, &err.message).await;
}

/// The close for a read error that leaves the incoming stream unreadable, or
/// `None` when the client is simply gone.
fn unreadable(e: &WsError) -> Option<(u16, &'static str)> {
    match e {
        WsError::Capacity(_) => Some((close::TOO_LARGE, "frame too large")),
        WsError::Protocol(WsProtocolError::ResetWithoutClosingHandshake) => None,
        WsError::Protocol(_) | WsError::Utf8(_) => {
            Some((close::PROTOCOL, "not a valid WebSocket frame"))
        }
        _ => None,
    }
}

/// Reads and checks the first frame: a valid `authentication`.
async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    shared: &Shared,
    ws: &mut Ws<S>,
) -> Option<(Claims, Option<u64>)> {
    // Ping and pong are the transport's (tungstenite answers pings itself):
    // the first *message* is what must be the authentication.
    let first = tokio::time::timeout(Duration::from_secs(limits::AUTH_TIMEOUT_SECS), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => break other,
            }
        }
    })
    .await;
    let text = match first {
        Err(_) => {
            let e = ProtocolError::new(ErrorCode::AuthFailed, "no authentication within 10 s");
            refuse(ws, &e, close::UNAUTHENTICATED).await;
            return None;
        }
        Ok(Some(Ok(Message::Text(t)))) => t,
        Ok(Some(Ok(Message::Binary(_)))) => {
            close_with(
                ws,
                close::PROTOCOL,
                "binary frames are not part of the protocol",
            )
            .await;
            return None;
        }
        Ok(Some(Err(e))) => {
            if let Some((code, why)) = unreadable(&e) {
                close_unreadable(ws, code, why).await;
            }
            return None;
        }
        Ok(_) => return None,
    };
    if text.len() > shared.limits.max_frame_bytes {
        close_with(ws, close::TOO_LARGE, "frame too large").await;
        return None;
    }
    let auth = match parse_authentication(&text) {
        Ok(a) => a,
        Err(e) => {
            refuse(ws, &e, close::UNAUTHENTICATED).await;
            return None;
        }
    };
    if let Some(why) = shared.unavailable() {
        let e = ProtocolError::new(ErrorCode::Unavailable, why);
        refuse(ws, &e, close::TRY_AGAIN).await;
        return None;
    }
    let claims = match shared.auth.check(&auth.token) {
        Ok(c) => c,
        Err(e) => {
            refuse(ws, &e, close::UNAUTHENTICATED).await;
            return None;
        }
    };
    if claims.role != auth.user_type {
        let e = ProtocolError::forbidden(format!(
            "this token is for {}, not {}",
            claims.role, auth.user_type
        ))
        .with_field("userType");
        refuse(ws, &e, close::FORBIDDEN).await;
        return None;
    }
    Some((claims, auth.since))
}

/// The `authentication` fields, from the top level or from `data`.
pub fn parse_authentication(text: &str) -> Result<m::Authentication, ProtocolError> {
    let env: Envelope = serde_json::from_str(text).map_err(|_| {
        ProtocolError::new(
            ErrorCode::AuthFailed,
            "the first message must be authentication",
        )
    })?;
    if env.kind != kind::AUTHENTICATION {
        return Err(ProtocolError::new(
            ErrorCode::AuthFailed,
            "the first message must be authentication",
        ));
    }
    let mut fields = match env.data {
        Value::Object(o) => o,
        _ => serde_json::Map::new(),
    };
    for (k, v) in env.extra {
        fields.entry(k).or_insert(v);
    }
    kfood_protocol::envelope::parse_value::<m::Authentication>(Value::Object(fields)).map_err(|e| {
        ProtocolError {
            code: ErrorCode::AuthFailed,
            message: format!("bad authentication: {}", e.message),
            field: e.field,
        }
    })
}

/// Serves one socket until it closes.
///
/// Every idle socket keeps this future alive, and a future is as large as its
/// largest await: the rarely-running steps (authentication, handling a frame,
/// writing a burst, a replay) are boxed so they cost memory only while running.
pub async fn serve<S>(shared: Arc<Shared>, mut ws: Ws<S>, peer: Option<SocketAddr>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let Some((claims, since)) = Box::pin(authenticate(&shared, &mut ws)).await else {
        return;
    };
    let user = claims.user();
    let caller = Caller {
        user: user.clone(),
        session: uuid::Uuid::new_v4().to_string(),
    };
    let id = shared.hub.next_conn_id();
    let (tx, mut rx) = mpsc::channel(shared.limits.outbound_queue);
    let entry = ConnEntry {
        id,
        user: user.clone(),
        session: caller.session.clone(),
        tx: tx.clone(),
    };
    // The hub's copy is the only long-lived sender: when the hub drops a slow
    // connection, the queue ends and this task closes the socket.
    let weak = tx.downgrade();
    drop(tx);
    if shared
        .core
        .send(Command::Attach {
            caller: caller.clone(),
            since,
            entry,
        })
        .await
        .is_err()
    {
        return;
    }
    let _ = shared
        .core
        .send(Command::Activity {
            user: user.clone(),
            kind: ActivityKind::Connect,
            text: format!(
                "connected from {}",
                peer.map(|p| p.ip().to_string())
                    .unwrap_or_else(|| "?".into())
            ),
        })
        .await;
    if since.is_some() {
        shared.metrics.resumes.fetch_add(1, Ordering::Relaxed);
    }
    tracing::info!(conn = id, user = %user.id, role = %user.role, resume = since.is_some(), "authenticated");

    let reason = Box::pin(live(&shared, &caller, &mut ws, &mut rx, &weak, claims.exp)).await;
    shared.hub.unregister(id);
    tracing::info!(conn = id, user = %user.id, reason, "disconnected");
    if !shared.shutdown.is_cancelled() {
        let _ = shared.core.try_send(Command::Activity {
            user,
            kind: ActivityKind::Disconnect,
            text: reason.into(),
        });
    }
}

/// The authenticated socket's life: requests in, queued frames out,
/// heartbeat reaping and token expiry. Returns why it ended.
async fn live<S: AsyncRead + AsyncWrite + Unpin>(
    shared: &Shared,
    caller: &Caller,
    ws: &mut Ws<S>,
    rx: &mut mpsc::Receiver<Outgoing>,
    weak: &mpsc::WeakSender<Outgoing>,
    expires_at: i64,
) -> &'static str {
    let hb = Duration::from_millis(shared.limits.heartbeat_ms);
    let silent_limit = hb * 5 / 2;
    let mut last_heard = Instant::now();
    let mut check = tokio::time::interval(hb / 2);
    check.reset();
    let expires_in = Duration::from_secs(
        u64::try_from(expires_at - kfood_protocol::time::now_ms() / 1000).unwrap_or(0),
    );
    let expiry = tokio::time::sleep(expires_in);
    tokio::pin!(expiry);
    let mut limiter = ConnLimiter::new(shared.limits.rate_per_sec, shared.limits.rate_burst);
    loop {
        // A close the relay decides here waits for the replies decided before it.
        let closing: (Vec<Item>, u16, &str) = tokio::select! {
            _ = shared.shutdown.cancelled() => {
                let notice = Item::Reply { reference: None, env: shutdown_notice() };
                (vec![notice], close::GOING_AWAY, "relay shutting down")
            }
            incoming = ws.next() => {
                let msg = match incoming {
                    Some(Ok(msg)) => msg,
                    Some(Err(e)) => match unreadable(&e) {
                        Some((code, why)) => {
                            Box::pin(close_unreadable(ws, code, why)).await;
                            return why;
                        }
                        None => return "closed by client",
                    },
                    None => return "closed by client",
                };
                last_heard = Instant::now();
                match msg {
                    Message::Text(t) if t.len() > shared.limits.max_frame_bytes => {
                        (Vec::new(), close::TOO_LARGE, "frame too large")
                    }
                    Message::Text(t) => {
                        match Box::pin(on_text(shared, caller, &t, &mut limiter, weak, ws)).await {
                            Ok(()) => continue,
                            Err(last) => (last, close::RATE_LIMIT, "rate limit"),
                        }
                    }
                    Message::Binary(_) => {
                        (Vec::new(), close::PROTOCOL, "binary frames are not part of the protocol")
                    }
                    Message::Close(_) => return "closed by client",
                    _ => continue,
                }
            }
            out = rx.recv() => {
                match out {
                    None => {
                        Box::pin(close_with(ws, close::TRY_AGAIN, "too far behind; resume")).await;
                        return "slow client";
                    }
                    Some(first) => {
                        if let Err((code, why)) = Box::pin(write_out(shared, caller, ws, first, rx)).await {
                            if code != 0 {
                                Box::pin(close_with(ws, code, &why)).await;
                            }
                            return "closed by relay";
                        }
                        continue;
                    }
                }
            }
            _ = check.tick() => {
                if last_heard.elapsed() <= silent_limit {
                    continue;
                }
                (Vec::new(), close::HEARTBEAT, "heartbeat timeout")
            }
            _ = &mut expiry => {
                let e = ProtocolError::new(ErrorCode::TokenExpired, "the token has expired; log in again");
                let item = Item::Reply { reference: None, env: Envelope::error(None, &e) };
                (vec![item], close::UNAUTHENTICATED, "token expired")
            }
        };
        let (last, code, why) = closing;
        Box::pin(close_after_replies(shared, caller, ws, rx, last, code, why)).await;
        return why;
    }
}

fn shutdown_notice() -> Envelope {
    let now = kfood_protocol::time::now();
    Envelope::new(
        kind::ANNOUNCEMENT,
        json!({
            "id": 0, "audience": "all", "kind": "maintenance",
            "text": "The relay is restarting. Reconnecting shortly; nothing is lost.",
            "expires_at": null, "created_at": now, "by": {"id": "relay", "name": "KfoodDelights"},
        }),
    )
}

/// Answers a heartbeat with its `t` and the relay's time.
async fn answer_heartbeat<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut Ws<S>, env: &Envelope) {
    let t = env
        .parse_data::<m::Heartbeat>()
        .map(|h| h.t)
        .unwrap_or(Value::Null);
    // Its one answer, carrying `ref`; no ack (DESIGN §3).
    let hb = m::Heartbeat {
        t,
        relay_ms: Some(kfood_protocol::time::now_ms()),
        reference: env.id.clone(),
    };
    let reply = Envelope::new(
        kind::HEARTBEAT,
        serde_json::to_value(hb).unwrap_or_default(),
    );
    send_env(ws, &reply).await;
}

/// `error rate_limited` for a refused message, with its `ref` and `retry_after_ms`.
fn rate_error(reference: Option<String>, wait: Duration) -> Item {
    let err = ProtocolError::new(ErrorCode::RateLimited, "too many messages; slow down");
    let mut env = Envelope::error(reference.as_deref(), &err);
    if let Some(obj) = env.data.as_object_mut() {
        obj.insert(
            "retry_after_ms".into(),
            json!(wait.as_millis().max(1) as u64),
        );
    }
    Item::Reply { reference, env }
}

/// Handles one client frame. `Err(last)` when the client is past the rate
/// for good: the connection closes 4008 after `last`, this frame's decided
/// requests and refusals (every message not run gets its `rate_limited`).
async fn on_text<S: AsyncRead + AsyncWrite + Unpin>(
    shared: &Shared,
    caller: &Caller,
    text: &str,
    limiter: &mut ConnLimiter,
    queue: &mpsc::WeakSender<Outgoing>,
    ws: &mut Ws<S>,
) -> Result<(), Vec<Item>> {
    let frame = Frame::parse(text, shared.limits.max_batch);
    let n = frame.as_ref().map(Frame::len).unwrap_or(1).max(1);
    shared
        .metrics
        .msgs_in
        .fetch_add(n as u64, Ordering::Relaxed);
    let envs: Vec<Result<Envelope, ProtocolError>> = match frame {
        // The frame as a whole is refused: one error, nothing runs. It goes
        // through the core like any reply, so it follows the earlier ones.
        Err(e) => vec![Err(e)],
        Ok(Frame::Single(env)) if env.kind == kind::HEARTBEAT => {
            // Answered here, at once, so the round trip measures the network.
            return match limiter.check() {
                Verdict::Close(wait) => Err(vec![rate_error(env.id.clone(), wait)]),
                Verdict::Refuse(wait) => {
                    if let Item::Reply { env, .. } = rate_error(env.id.clone(), wait) {
                        send_env(ws, &env).await;
                    }
                    Ok(())
                }
                Verdict::Allow => {
                    answer_heartbeat(ws, &env).await;
                    Ok(())
                }
            };
        }
        Ok(Frame::Single(env)) => vec![Ok(env)],
        Ok(Frame::Batch(v)) => v,
    };
    let mut items = Vec::with_capacity(envs.len());
    let mut closing: Option<Duration> = None;
    for e in envs {
        let reference = e.as_ref().ok().and_then(|env| env.id.clone());
        if let Some(wait) = closing {
            // The close is decided; the rest of the frame is refused, not dropped.
            items.push(rate_error(reference, wait));
            continue;
        }
        let item = match (e, limiter.check()) {
            (_, Verdict::Close(wait)) => {
                closing = Some(wait);
                rate_error(reference, wait)
            }
            (_, Verdict::Refuse(wait)) => rate_error(reference, wait),
            (Err(error), Verdict::Allow) => Item::Reply {
                reference: None,
                env: Envelope::error(None, &error),
            },
            (Ok(env), Verdict::Allow) => {
                let password_hash = crate::auth::pre_hash(&env).await;
                Item::Msg { env, password_hash }
            }
        };
        items.push(item);
    }
    if closing.is_some() {
        return Err(items);
    }
    if items.is_empty() {
        return Ok(());
    }
    // No queue: the hub dropped this connection as too slow; it is closing.
    let Some(reply) = queue.upgrade() else {
        return Ok(());
    };
    let _ = shared
        .core
        .send(Command::Request {
            caller: caller.clone(),
            items,
            reply,
        })
        .await;
    Ok(())
}

/// Writes `first` and whatever else is queued, joined into batch frames.
/// `Err((code, reason))` closes the socket (code 0: the socket is gone).
async fn write_out<S: AsyncRead + AsyncWrite + Unpin>(
    shared: &Shared,
    caller: &Caller,
    ws: &mut Ws<S>,
    first: Outgoing,
    rx: &mut mpsc::Receiver<Outgoing>,
) -> Result<(), (u16, String)> {
    let mut pending: Vec<Utf8Bytes> = Vec::new();
    let mut next = Some(first);
    while let Some(o) = next.take() {
        match o {
            Outgoing::Frame(f) => pending.push(f),
            Outgoing::Replay { after, upto } => {
                flush(ws, &mut pending).await?;
                replay(shared, caller, ws, after, upto).await?;
            }
            Outgoing::Close(code, reason) => {
                flush(ws, &mut pending).await?;
                return Err((code, reason));
            }
        }
        if pending.len() < OUT_BATCH {
            next = rx.try_recv().ok();
        } else {
            flush(ws, &mut pending).await?;
            next = rx.try_recv().ok();
        }
    }
    flush(ws, &mut pending).await
}

async fn flush<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut Ws<S>,
    pending: &mut Vec<Utf8Bytes>,
) -> Result<(), (u16, String)> {
    let text = match pending.len() {
        0 => return Ok(()),
        // The shared buffer itself: a broadcast is not copied per socket.
        1 => pending[0].clone(),
        _ => join_batch(pending).into(),
    };
    pending.clear();
    ws.send(Message::Text(text))
        .await
        .map_err(|_| (0, String::new()))
}

/// Sends the durable events `after < seq <= upto` this user may see.
async fn replay<S: AsyncRead + AsyncWrite + Unpin>(
    shared: &Shared,
    caller: &Caller,
    ws: &mut Ws<S>,
    after: u64,
    upto: u64,
) -> Result<(), (u16, String)> {
    let mut from = after + 1;
    while from <= upto {
        let rows = shared
            .store
            .events_from(from, REPLAY_CHUNK)
            .map_err(|e| (1011, e.to_string()))?;
        if rows.is_empty() {
            break;
        }
        let mut pending: Vec<Utf8Bytes> = Vec::new();
        for rec in &rows {
            let seq = rec.seq;
            from = seq + 1;
            if seq > upto {
                from = upto + 1;
                break;
            }
            if let Some(env) = rec.view_for(caller.user.role, &caller.user.id) {
                pending.push(env.to_json().into());
                if pending.len() == OUT_BATCH {
                    flush(ws, &mut pending).await?;
                }
            }
        }
        flush(ws, &mut pending).await?;
    }
    Ok(())
}
