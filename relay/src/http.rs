//! The HTTP API of DESIGN §2: login, register, the polling fallback, the
//! public menu, the day's report (§14, built in `report`), health and
//! metrics. Routes return `impl Filter + Clone`; auth
//! comes after the path so an unknown path is a 404, not a 401.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kfood_protocol::messages::{self as m, kind, ActivityKind, Credentials, LoginReply};
use kfood_protocol::{limits, Envelope, ErrorCode, Frame, ProtocolError, Role, UserRef};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

use crate::auth::{dummy_hash, verify_password, UserRecord};
use crate::core::{Caller, Command, Item};
use crate::hub::Outgoing;
use crate::shared::Shared;

/// The client address, put on each request by the server's accept loop.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// An API error as a rejection: the status and the §5 error.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: ProtocolError,
    pub retry_after: Option<u64>,
}

impl warp::reject::Reject for ApiError {}

fn reject(status: StatusCode, error: ProtocolError) -> Rejection {
    warp::reject::custom(ApiError {
        status,
        error,
        retry_after: None,
    })
}

fn status_for(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::AuthFailed | ErrorCode::TokenExpired => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn with_shared(
    shared: Arc<Shared>,
) -> impl Filter<Extract = (Arc<Shared>,), Error = Infallible> + Clone {
    warp::any().map(move || shared.clone())
}

/// `Authorization: Bearer <jwt>` → the caller, or 401.
fn bearer(shared: Arc<Shared>) -> impl Filter<Extract = (Caller,), Error = Rejection> + Clone {
    warp::header::optional::<String>("authorization").and_then(move |h: Option<String>| {
        let shared = shared.clone();
        async move {
            let token = h
                .as_deref()
                .and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                })
                .ok_or_else(|| {
                    reject(
                        StatusCode::UNAUTHORIZED,
                        ProtocolError::new(ErrorCode::AuthFailed, "a Bearer token is required"),
                    )
                })?;
            let claims = shared
                .auth
                .check(token.trim())
                .map_err(|e| reject(StatusCode::UNAUTHORIZED, e))?;
            Ok::<_, Rejection>(Caller {
                user: claims.user(),
                session: claims.jti,
            })
        }
    })
}

fn json_body<T: serde::de::DeserializeOwned + Send>(
    max: usize,
) -> impl Filter<Extract = (T,), Error = Rejection> + Clone {
    warp::body::content_length_limit(max as u64)
        .and(warp::body::bytes())
        .and_then(|b: Bytes| async move {
            let v: Value = serde_json::from_slice(&b).map_err(|e| {
                reject(
                    StatusCode::BAD_REQUEST,
                    ProtocolError::new(ErrorCode::Malformed, format!("the body is not JSON: {e}")),
                )
            })?;
            kfood_protocol::envelope::parse_value::<T>(v)
                .map_err(|e| reject(StatusCode::BAD_REQUEST, e))
        })
}

pub fn routes(
    shared: Arc<Shared>,
) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    let max = shared.limits.max_frame_bytes;
    let peer = warp::ext::optional::<Peer>();
    let login = warp::path!("api" / "login")
        .and(warp::post())
        .and(with_shared(shared.clone()))
        .and(peer)
        .and(json_body::<Credentials>(max))
        .and_then(login);
    let register = warp::path!("api" / "register")
        .and(warp::post())
        .and(with_shared(shared.clone()))
        .and(peer)
        .and(json_body::<Credentials>(max))
        .and_then(register);
    let events = warp::path!("api" / "events")
        .and(warp::get())
        .and(with_shared(shared.clone()))
        .and(bearer(shared.clone()))
        .and(warp::query::<EventsQuery>())
        .and_then(events);
    let messages = warp::path!("api" / "messages")
        .and(warp::post())
        .and(with_shared(shared.clone()))
        .and(bearer(shared.clone()))
        .and(warp::body::content_length_limit(max as u64))
        .and(warp::body::bytes())
        .and_then(messages);
    let menu = warp::path!("api" / "menu")
        .and(warp::get())
        .and(with_shared(shared.clone()))
        .and_then(menu);
    let report = warp::path!("api" / "report")
        .and(warp::get())
        .and(with_shared(shared.clone()))
        .and(bearer(shared.clone()))
        .and(warp::query::<ReportQuery>())
        .and_then(report);
    let health = warp::path!("healthz")
        .and(warp::get())
        .and(with_shared(shared.clone()))
        .map(health);
    let metrics = warp::path!("metrics")
        .and(warp::get())
        .and(with_shared(shared))
        .map(|s: Arc<Shared>| {
            warp::reply::with_header(
                crate::metrics::prometheus(&s),
                "content-type",
                "text/plain; version=0.0.4",
            )
        });
    login
        .or(register)
        .or(events)
        .or(messages)
        .or(menu)
        .or(report)
        .or(health)
        .or(metrics)
        .recover(recover)
}

fn check_login_rate(shared: &Shared, peer: Option<Peer>) -> Result<(), Rejection> {
    let ip = peer
        .map(|p| p.0.ip())
        .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
    shared.login_limiter.check(ip).map_err(|secs| {
        warp::reject::custom(ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            error: ProtocolError::new(
                ErrorCode::RateLimited,
                format!("too many attempts; try again in {secs} s"),
            ),
            retry_after: Some(secs),
        })
    })
}

fn login_reply(shared: &Shared, rec: &UserRecord) -> LoginReply {
    let ttl = shared.limits.token_ttl_hours.saturating_mul(3600);
    let (token, claims) = shared.auth.issue(&rec.id, &rec.name, rec.role, ttl);
    LoginReply {
        token,
        expires_at: kfood_protocol::time::format_ms(claims.exp * 1000),
        user: UserRef {
            id: rec.id.clone(),
            name: rec.name.clone(),
            role: rec.role,
        },
    }
}

async fn login(
    shared: Arc<Shared>,
    peer: Option<Peer>,
    creds: Credentials,
) -> Result<impl Reply, Rejection> {
    check_login_rate(&shared, peer)?;
    // Accounts are part of the core's state (the fold of the log).
    let (tx, rx) = oneshot::channel();
    let asked = Command::Account {
        username: creds.username.clone(),
        reply: tx,
    };
    let rec: Option<UserRecord> = match shared.core.send(asked).await {
        Ok(()) => rx.await.ok().flatten(),
        Err(_) => None,
    };
    let hash = rec
        .as_ref()
        .map(|r| r.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_owned());
    let pw = creds.password.clone();
    let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &hash))
        .await
        .unwrap_or(false);
    let Some(rec) = rec.filter(|_| ok) else {
        return Err(reject(
            StatusCode::UNAUTHORIZED,
            ProtocolError::new(ErrorCode::AuthFailed, "unknown user or wrong password"),
        ));
    };
    let reply = login_reply(&shared, &rec);
    let _ = shared
        .core
        .send(Command::Activity {
            user: reply.user.clone(),
            kind: ActivityKind::Login,
            text: "logged in".into(),
        })
        .await;
    Ok(warp::reply::json(&reply))
}

async fn register(
    shared: Arc<Shared>,
    peer: Option<Peer>,
    creds: Credentials,
) -> Result<impl Reply, Rejection> {
    check_login_rate(&shared, peer)?;
    let bad = |e: ProtocolError| reject(StatusCode::BAD_REQUEST, e);
    m::validate_username(&creds.username).map_err(bad)?;
    m::validate_password(&creds.password).map_err(bad)?;
    let name = match creds
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        Some(n) => {
            kfood_protocol::menu::checked_name("name", n, limits::MAX_NAME_CHARS).map_err(bad)?
        }
        None => creds.username.clone(),
    };
    let pw = creds.password.clone();
    let hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&pw))
        .await
        .map_err(|e| {
            reject(
                StatusCode::INTERNAL_SERVER_ERROR,
                ProtocolError::internal(e.to_string()),
            )
        })?
        .map_err(|e| reject(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    let rec = UserRecord {
        id: creds.username.clone(),
        name,
        role: Role::Customer,
        password_hash: hash,
        created_at: kfood_protocol::time::now(),
    };
    let (tx, rx) = oneshot::channel();
    shared
        .core
        .send(Command::Register {
            record: rec.clone(),
            reply: tx,
        })
        .await
        .map_err(|_| {
            reject(
                StatusCode::SERVICE_UNAVAILABLE,
                ProtocolError::internal("the relay is stopping"),
            )
        })?;
    match rx.await {
        Ok(Ok(())) => Ok(warp::reply::with_status(
            warp::reply::json(&login_reply(&shared, &rec)),
            StatusCode::CREATED,
        )),
        Ok(Err(e)) if e.field.as_deref() == Some("username") => {
            Err(reject(StatusCode::CONFLICT, e))
        }
        Ok(Err(e)) => Err(reject(status_for(e.code), e)),
        Err(_) => Err(reject(
            StatusCode::SERVICE_UNAVAILABLE,
            ProtocolError::internal("the relay is stopping"),
        )),
    }
}

#[derive(Debug, Deserialize)]
struct EventsQuery {
    since: Option<u64>,
    wait: Option<u64>,
}

async fn snapshot_for(shared: &Shared, caller: &Caller, reset: bool) -> Result<Value, Rejection> {
    let (tx, mut rx) = mpsc::channel(2);
    let stopping = || {
        reject(
            StatusCode::SERVICE_UNAVAILABLE,
            ProtocolError::internal("the relay is stopping"),
        )
    };
    shared
        .core
        .send(Command::Snapshot {
            caller: caller.clone(),
            reset,
            reply: tx,
        })
        .await
        .map_err(|_| stopping())?;
    match rx.recv().await {
        Some(Outgoing::Frame(f)) => serde_json::from_str(&f).map_err(|_| stopping()),
        _ => Err(stopping()),
    }
}

/// On an engine shared by several relays a `since` from another relay may
/// be ahead of this one for a moment: wait (at most 2 s) until this relay
/// has published that far, so it never looks like the future (DESIGN §15).
async fn catch_up(shared: &Shared, since: u64) -> Result<(), Rejection> {
    if shared.store.engine() == "sled" || since <= shared.head() {
        return Ok(());
    }
    let mut published = shared.published.clone();
    let wait = crate::jetstream::PUBLISH_TIMEOUT;
    let reached = tokio::time::timeout(wait, published.wait_for(|h| *h >= since)).await;
    if matches!(reached, Ok(Ok(_))) {
        return Ok(());
    }
    match shared.unavailable() {
        Some(why) => Err(reject(
            StatusCode::SERVICE_UNAVAILABLE,
            ProtocolError::new(ErrorCode::Unavailable, why),
        )),
        // Never written anywhere: answered like any `since` from the future.
        None => Ok(()),
    }
}

/// Visible events after `since`, scanning at most to `head`.
fn read_events(
    shared: &Shared,
    caller: &Caller,
    since: u64,
    head: u64,
) -> Result<Vec<Value>, Rejection> {
    let mut out = Vec::new();
    let mut from = since + 1;
    while from <= head && out.len() < limits::POLL_MAX_EVENTS {
        let rows = shared.store.events_from(from, 512).map_err(|e| {
            reject(
                StatusCode::INTERNAL_SERVER_ERROR,
                ProtocolError::internal(e.to_string()),
            )
        })?;
        if rows.is_empty() {
            break;
        }
        for rec in rows {
            let seq = rec.seq;
            from = seq + 1;
            if seq > head || out.len() == limits::POLL_MAX_EVENTS {
                from = head + 1;
                break;
            }
            if let Some(env) = rec.view_for(caller.user.role, &caller.user.id) {
                out.push(serde_json::to_value(env).unwrap_or_default());
            }
        }
    }
    Ok(out)
}

async fn events(
    shared: Arc<Shared>,
    caller: Caller,
    q: EventsQuery,
) -> Result<impl Reply, Rejection> {
    if let Some(since) = q.since {
        catch_up(&shared, since).await?;
    }
    let head = shared.head();
    let first = shared.first_seq.load(std::sync::atomic::Ordering::SeqCst);
    let since = match q.since {
        None => {
            let snap = snapshot_for(&shared, &caller, false).await?;
            let h = snap["data"]["head_seq"].as_u64().unwrap_or(head);
            return Ok(events_page(&shared, vec![snap], h));
        }
        Some(n) if n > head || n.saturating_add(1) < first => {
            let snap = snapshot_for(&shared, &caller, true).await?;
            let h = snap["data"]["head_seq"].as_u64().unwrap_or(head);
            return Ok(events_page(&shared, vec![snap], h));
        }
        Some(n) => n,
    };
    let wait = Duration::from_secs(q.wait.unwrap_or(0).min(limits::POLL_MAX_WAIT_SECS));
    let deadline = tokio::time::Instant::now() + wait;
    let mut published = shared.published.clone();
    let mut scanned = head;
    let mut found = read_events(&shared, &caller, since, scanned)?;
    while found.is_empty() && tokio::time::Instant::now() < deadline {
        // Wait for the log to grow past what was already scanned.
        let grew = tokio::time::timeout_at(deadline, published.wait_for(|h| *h > scanned)).await;
        if !matches!(grew, Ok(Ok(_))) {
            break;
        }
        let new_head = shared.head();
        found = read_events(&shared, &caller, scanned, new_head)?;
        scanned = new_head;
    }
    let head_seq = found
        .last()
        .and_then(|e| e["seq"].as_u64())
        .map_or(scanned, |s| s.max(since));
    let head_seq = if found.len() == limits::POLL_MAX_EVENTS {
        head_seq
    } else {
        scanned.max(head_seq)
    };
    Ok(events_page(&shared, found, head_seq))
}

/// The `GET /api/events` answer (DESIGN §2): the events, the head they reach
/// and the log they belong to.
fn events_page(shared: &Shared, events: Vec<Value>, head_seq: u64) -> warp::reply::Json {
    warp::reply::json(&json!({
        "events": events,
        "head_seq": head_seq,
        "log_id": shared.log_id,
    }))
}

async fn messages(
    shared: Arc<Shared>,
    caller: Caller,
    body: Bytes,
) -> Result<impl Reply, Rejection> {
    let text = std::str::from_utf8(&body).map_err(|_| {
        reject(
            StatusCode::BAD_REQUEST,
            ProtocolError::new(ErrorCode::Malformed, "the body is not UTF-8"),
        )
    })?;
    shared
        .metrics
        .msgs_in
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let frame = Frame::parse(text, shared.limits.max_batch)
        .map_err(|e| reject(StatusCode::BAD_REQUEST, e))?;
    let envs: Vec<Result<Envelope, ProtocolError>> = match frame {
        Frame::Single(e) => vec![Ok(e)],
        Frame::Batch(v) => v,
    };
    let mut items = Vec::with_capacity(envs.len());
    for e in envs {
        items.push(match e {
            Ok(env) => {
                let password_hash = crate::auth::pre_hash(&env).await;
                Item::Msg { env, password_hash }
            }
            Err(error) => Item::Reply {
                reference: None,
                env: Envelope::error(None, &error),
            },
        });
    }
    let (tx, mut rx) = mpsc::channel(items.len() * 2 + 2);
    shared
        .core
        .send(Command::Request {
            caller,
            items,
            reply: tx,
        })
        .await
        .map_err(|_| {
            reject(
                StatusCode::SERVICE_UNAVAILABLE,
                ProtocolError::internal("the relay is stopping"),
            )
        })?;
    let mut replies = Vec::new();
    while let Some(out) = rx.recv().await {
        if let Outgoing::Frame(f) = out {
            if let Ok(v) = serde_json::from_str::<Value>(&f) {
                if matches!(
                    v["type"].as_str(),
                    Some(kind::ACK | kind::ERROR | kind::HEARTBEAT)
                ) {
                    replies.push(v);
                }
            }
        }
    }
    Ok(warp::reply::json(&json!({ "replies": replies })))
}

#[derive(Debug, Deserialize)]
struct ReportQuery {
    date: Option<String>,
}

/// `GET /api/report?date=YYYY-MM-DD` (DESIGN §14): admins only.
async fn report(
    shared: Arc<Shared>,
    caller: Caller,
    q: ReportQuery,
) -> Result<impl Reply, Rejection> {
    if caller.role() != Role::Admin {
        return Err(reject(
            StatusCode::FORBIDDEN,
            ProtocolError::new(ErrorCode::Forbidden, "the day's report is for admins"),
        ));
    }
    match crate::report::day_report(&shared, q.date.as_deref()).await {
        Ok(r) => Ok(warp::reply::json(&r)),
        Err(e) => Err(reject(status_for(e.code), e)),
    }
}

async fn menu(shared: Arc<Shared>) -> Result<impl Reply, Rejection> {
    let (tx, rx) = oneshot::channel();
    let stopping = || {
        reject(
            StatusCode::SERVICE_UNAVAILABLE,
            ProtocolError::internal("the relay is stopping"),
        )
    };
    shared
        .core
        .send(Command::Menu { reply: tx })
        .await
        .map_err(|_| stopping())?;
    let (items, capacity) = rx.await.map_err(|_| stopping())?;
    Ok(warp::reply::json(
        &json!({ "items": items, "capacity": capacity, "tz": shared.limits.tz }),
    ))
}

/// `GET /healthz` (DESIGN §15): `{status, engine, relay_id, head_seq,
/// reason?}`, plus the `log_id` and uptime; 503 with the reason when the
/// relay cannot take changes (a write to the store failed, or on JetStream
/// NATS has been unreachable for 5 s).
fn health(shared: Arc<Shared>) -> warp::reply::WithStatus<warp::reply::Json> {
    let failed = shared
        .store_failed
        .load(std::sync::atomic::Ordering::SeqCst);
    // Why the relay cannot take changes now, if it cannot.
    let down = if failed {
        Some("a write to the store failed: see the relay's log")
    } else {
        shared.unavailable()
    };
    let mut body = json!({
        "status": if down.is_some() { "unavailable" } else { "ok" },
        "engine": shared.engine,
        "relay_id": shared.relay_id,
        "head_seq": shared.head(),
        "log_id": shared.log_id,
        "uptime_s": shared.started.elapsed().as_secs(),
    });
    if let Some(why) = down {
        body["reason"] = json!(why);
    }
    let status = if down.is_some() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    warp::reply::with_status(warp::reply::json(&body), status)
}

fn error_body(e: &ProtocolError) -> Value {
    json!({ "error": e })
}

async fn recover(r: Rejection) -> Result<warp::reply::Response, Infallible> {
    let (status, err, retry) = if let Some(e) = r.find::<ApiError>() {
        (e.status, e.error.clone(), e.retry_after)
    } else if r.is_not_found() {
        (
            StatusCode::NOT_FOUND,
            ProtocolError::not_found("no such path"),
            None,
        )
    } else if r.find::<warp::reject::MethodNotAllowed>().is_some() {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            ProtocolError::new(ErrorCode::Invalid, "method not allowed"),
            None,
        )
    } else if r.find::<warp::reject::PayloadTooLarge>().is_some() {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            ProtocolError::invalid("body", "the body is too large"),
            None,
        )
    } else if r.find::<warp::reject::InvalidQuery>().is_some() {
        (
            StatusCode::BAD_REQUEST,
            ProtocolError::invalid("query", "bad query: since and wait are whole numbers"),
            None,
        )
    } else if r.find::<warp::reject::LengthRequired>().is_some() {
        (
            StatusCode::LENGTH_REQUIRED,
            ProtocolError::invalid("body", "Content-Length is required"),
            None,
        )
    } else {
        (
            StatusCode::BAD_REQUEST,
            ProtocolError::new(ErrorCode::Malformed, format!("{r:?}")),
            None,
        )
    };
    let reply = warp::reply::with_status(warp::reply::json(&error_body(&err)), status);
    let mut resp = reply.into_response();
    if let Some(secs) = retry {
        if let Ok(v) = warp::http::HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert("retry-after", v);
        }
    }
    Ok(resp)
}
