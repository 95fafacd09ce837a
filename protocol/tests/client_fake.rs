//! The connection manager against a scripted WebSocket server on port 0:
//! the behaviours that need a relay misbehaving on cue (a stalled socket, a
//! revocation, a reply that never comes, a replay that overlaps).
#![cfg(feature = "client")]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use kfood_protocol::client::{
    Backoff, Client, ClientConfig, ClientError, ClientEvent, ClientHandle, ConnState, Credentials,
};
use kfood_protocol::Role;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

const WAIT: Duration = Duration::from_secs(10);

/// A server that hands each accepted socket, with its first frame, to the test.
struct Fake {
    addr: SocketAddr,
    conns: mpsc::Receiver<Conn>,
}

struct Conn {
    ws: WebSocketStream<TcpStream>,
    /// The first frame: the client's `authentication`.
    auth: Value,
    /// Messages of a batch not yet looked at.
    inbox: std::collections::VecDeque<Value>,
}

impl Fake {
    async fn start() -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, conns) = mpsc::channel(8);
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                        return;
                    };
                    if let Some(Ok(Message::Text(t))) = ws.next().await {
                        let auth: Value = serde_json::from_str(&t).unwrap();
                        let _ = tx
                            .send(Conn {
                                ws,
                                auth,
                                inbox: Default::default(),
                            })
                            .await;
                    }
                });
            }
        });
        Fake { addr, conns }
    }

    async fn next_conn(&mut self) -> Conn {
        tokio::time::timeout(WAIT, self.conns.recv())
            .await
            .expect("the client connects")
            .expect("server running")
    }

    async fn no_conn_within(&mut self, d: Duration) -> bool {
        tokio::time::timeout(d, self.conns.recv()).await.is_err()
    }

    fn config(&self) -> ClientConfig {
        let mut c = ClientConfig::new(
            &format!("ws://{}", self.addr),
            Credentials::Token("opaque-test-token".into()),
            Role::Crew,
        )
        .unwrap();
        c.backoff = Backoff {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(50),
        };
        c.connect_timeout = Duration::from_secs(3);
        c
    }
}

impl Conn {
    async fn send(&mut self, v: Value) {
        self.ws.send(Message::text(v.to_string())).await.unwrap();
    }

    async fn welcome(&mut self, heartbeat_ms: u64, head_seq: u64) {
        self.send(json!({"type": "authenticated", "data": {
            "user": {"id": "kim", "name": "Kim", "type": "crew"},
            "session": "s1", "heartbeat_ms": heartbeat_ms, "head_seq": head_seq, "log_id": "log-1"}}))
            .await;
    }

    async fn snapshot(&mut self, head_seq: u64) {
        self.send(json!({"type": "snapshot", "data": {
            "menu": [], "orders": [], "announcements": [], "head_seq": head_seq, "reset": false}}))
            .await;
    }

    async fn event(&mut self, seq: u64) {
        self.send(
            json!({"type": "announcement", "seq": seq, "data": {"text": format!("event {seq}")}}),
        )
        .await;
    }

    /// The next message that is not a heartbeat or a sync (answered here).
    async fn next_request(&mut self) -> Value {
        loop {
            while let Some(m) = self.inbox.pop_front() {
                match m["type"].as_str() {
                    Some("heartbeat") => {}
                    Some("sync") => {
                        let id = m["id"].as_str().unwrap().to_owned();
                        self.send(json!({"type": "ack", "data": {"ref": id, "head_seq": 0}}))
                            .await;
                    }
                    _ => return m,
                }
            }
            let msg = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a message from the client")
                .expect("socket open")
                .unwrap();
            let Message::Text(t) = msg else { continue };
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] == "batch" {
                self.inbox
                    .extend(v["data"].as_array().unwrap().iter().cloned());
            } else {
                self.inbox.push_back(v);
            }
        }
    }

    async fn close(&mut self, code: u16) {
        let _ = self
            .ws
            .close(Some(CloseFrame {
                code: CloseCode::from(code),
                reason: "test".into(),
            }))
            .await;
    }
}

async fn wait_state(state: &mut watch::Receiver<ConnState>, want: impl Fn(&ConnState) -> bool) {
    let reached = tokio::time::timeout(WAIT, state.wait_for(|s| want(s)))
        .await
        .is_ok();
    assert!(reached, "state stayed {:?}", *state.borrow());
}

/// Durable events handed to the program, as seqs, until `until` is seen.
async fn seqs_until(events: &mut mpsc::Receiver<ClientEvent>, until: u64) -> Vec<u64> {
    let mut seen = Vec::new();
    while !seen.contains(&until) {
        let ev = tokio::time::timeout(WAIT, events.recv())
            .await
            .unwrap_or_else(|_| panic!("stuck after {seen:?}"))
            .unwrap();
        if let ClientEvent::Event(e) = ev {
            seen.push(e.seq.unwrap());
        }
    }
    seen
}

fn connect(
    cfg: ClientConfig,
) -> (
    ClientHandle,
    mpsc::Receiver<ClientEvent>,
    watch::Receiver<ConnState>,
) {
    Client::connect(cfg).unwrap()
}

/// A socket that goes silent without closing (TCP does not notice) is given
/// up after 2 × heartbeat_ms, and the client resumes from its last seq.
#[tokio::test]
async fn a_stalled_socket_is_dropped_and_resumed() {
    let mut fake = Fake::start().await;
    let (_client, mut events, mut state) = connect(fake.config());
    let mut c1 = fake.next_conn().await;
    assert_eq!(c1.auth["type"], "authentication");
    assert_eq!(c1.auth["userType"], "crew");
    assert_eq!(c1.auth["token"], "opaque-test-token");
    assert!(c1.auth.get("since").is_none(), "nothing known: no since");
    c1.welcome(150, 3).await;
    c1.snapshot(3).await;
    c1.event(4).await;
    wait_state(&mut state, ConnState::is_live).await;
    assert_eq!(seqs_until(&mut events, 4).await, [4]);
    // From here c1 says nothing more, but stays open.
    let started = tokio::time::Instant::now();
    let mut c2 = fake.next_conn().await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(5),
        "gave up after {waited:?}"
    );
    assert_eq!(c2.auth["since"], 4, "resumes after the last event");
    c2.welcome(150, 4).await;
    wait_state(&mut state, ConnState::is_live).await;
    drop(c1);
}

/// Close 4011 (revoked) is a state the program acts on, not a reconnect loop;
/// new credentials start over.
#[tokio::test]
async fn revoked_session_waits_for_new_credentials() {
    let mut fake = Fake::start().await;
    let (client, mut events, mut state) = connect(fake.config());
    let mut c1 = fake.next_conn().await;
    c1.welcome(15_000, 0).await;
    c1.snapshot(0).await;
    wait_state(&mut state, ConnState::is_live).await;
    c1.close(4011).await;
    wait_state(&mut state, |s| *s == ConnState::AuthExpired).await;
    assert!(
        fake.no_conn_within(Duration::from_millis(500)).await,
        "no reconnect with a revoked token"
    );
    assert_eq!(
        client.request("order_update", json!({})).await,
        Err(ClientError::AuthExpired)
    );
    client.set_credentials(Credentials::Token("fresh-token".into()));
    let mut c2 = fake.next_conn().await;
    assert_eq!(c2.auth["token"], "fresh-token");
    c2.welcome(15_000, 0).await;
    wait_state(&mut state, ConnState::is_live).await;
    drop(events.try_recv());
}

/// An `error auth_failed` before the close 4001 reaches the program, and the
/// state is `AuthExpired`.
#[tokio::test]
async fn refused_token_is_reported() {
    let mut fake = Fake::start().await;
    let (_client, mut events, mut state) = connect(fake.config());
    let mut c1 = fake.next_conn().await;
    c1.send(json!({"type": "error", "data": {"code": "token_expired", "message": "the token has expired"}}))
        .await;
    c1.close(4001).await;
    wait_state(&mut state, |s| *s == ConnState::AuthExpired).await;
    let ev = tokio::time::timeout(WAIT, events.recv())
        .await
        .unwrap()
        .unwrap();
    match ev {
        ClientEvent::Error(e) => assert_eq!(e.code, kfood_protocol::ErrorCode::TokenExpired),
        other => panic!("{other:?}"),
    }
}

/// A request sent on a socket that died before its answer goes again, with
/// the same id, on the next socket; its caller gets that answer once.
#[tokio::test]
async fn unknown_outcome_is_resent_with_the_same_id() {
    let mut fake = Fake::start().await;
    let (client, _events, mut state) = connect(fake.config());
    let mut c1 = fake.next_conn().await;
    c1.welcome(15_000, 0).await;
    wait_state(&mut state, ConnState::is_live).await;
    let pending = client
        .submit(
            "order_update",
            json!({"order_id": 1, "status": "preparing"}),
        )
        .unwrap();
    let first = c1.next_request().await;
    assert_eq!(first["id"], pending.id());
    assert_eq!(client.queued(), 1);
    c1.close(1001).await;
    let mut c2 = fake.next_conn().await;
    c2.welcome(15_000, 0).await;
    let again = c2.next_request().await;
    assert_eq!(again, first, "same message, same id");
    c2.send(json!({"type": "ack", "data": {"ref": first["id"], "order": {"id": 1}}}))
        .await;
    // A duplicate answer (the first socket's, had it arrived) is ignored.
    c2.send(json!({"type": "ack", "data": {"ref": first["id"]}}))
        .await;
    let ack = tokio::time::timeout(WAIT, pending).await.unwrap().unwrap();
    assert_eq!(ack.data["order"]["id"], 1);
    assert_eq!(client.queued(), 0);
}

/// Requests made while no socket is open wait in the queue and go out on
/// the next one, oldest first; past the queue's capacity a request fails at
/// once with `QueueFull`.
#[tokio::test]
async fn requests_queue_while_offline_up_to_the_cap() {
    let mut fake = Fake::start().await;
    let mut cfg = fake.config();
    cfg.queue_cap = 3;
    let (client, _events, _state) = connect(cfg);
    let mut c1 = fake.next_conn().await; // authentication received, no answer yet
    let a = client.submit("x", json!({"n": 1})).unwrap();
    let _b = client.submit("x", json!({"n": 2})).unwrap();
    let _c = client.submit("x", json!({"n": 3})).unwrap();
    assert_eq!(
        client.submit("x", json!({"n": 4})).unwrap_err(),
        ClientError::QueueFull(3)
    );
    c1.welcome(15_000, 0).await;
    let mut ns = Vec::new();
    for _ in 0..3 {
        ns.push(c1.next_request().await["data"]["n"].as_u64().unwrap());
    }
    assert_eq!(ns, [1, 2, 3]);
    c1.send(json!({"type": "error", "data": {"ref": a.id(), "code": "invalid", "message": "no", "field": "n"}}))
        .await;
    match tokio::time::timeout(WAIT, a).await.unwrap() {
        Err(ClientError::Refused(e)) => assert_eq!(e.field.as_deref(), Some("n")),
        other => panic!("{other:?}"),
    }
    // Capacity is freed by the answer.
    assert!(client.submit("x", json!({"n": 5})).is_ok());
}

/// A replay that overlaps what was already handed over (and events the
/// relay sends twice) reach the program once, in order.
#[tokio::test]
async fn overlapping_replays_are_deduplicated() {
    let mut fake = Fake::start().await;
    let (_client, mut events, _state) = connect(fake.config());
    let mut c1 = fake.next_conn().await;
    c1.welcome(15_000, 2).await;
    c1.snapshot(2).await;
    for s in [1, 2, 3, 4, 4, 5] {
        c1.event(s).await;
    }
    assert_eq!(seqs_until(&mut events, 5).await, [3, 4, 5]);
    c1.close(1001).await;
    let mut c2 = fake.next_conn().await;
    assert_eq!(c2.auth["since"], 5);
    c2.welcome(15_000, 8).await;
    // A batch frame, overlapping the first socket's events.
    let batch: Vec<Value> = [4, 5, 6, 7, 8]
        .iter()
        .map(|s| json!({"type": "announcement", "seq": s, "data": {}}))
        .collect();
    c2.send(json!({"type": "batch", "data": batch})).await;
    assert_eq!(seqs_until(&mut events, 8).await, [6, 7, 8]);
}

/// Five failed attempts and the client says so; `close` ends it for good.
#[tokio::test]
async fn unreachable_relay_backs_off_then_closes() {
    // A port with nothing behind it.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut cfg = ClientConfig::new(
        &format!("ws://{addr}"),
        Credentials::Token("t".into()),
        Role::Crew,
    )
    .unwrap();
    cfg.backoff = Backoff {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(40),
    };
    let (client, _events, mut state) = connect(cfg);
    wait_state(
        &mut state,
        |s| matches!(s, ConnState::Reconnecting { attempt, .. } if *attempt >= 2),
    )
    .await;
    // After five failures it polls (and polling fails too: offline).
    wait_state(&mut state, |s| *s == ConnState::Offline).await;
    let pending = client.submit("x", json!({})).unwrap();
    client.close().await;
    assert_eq!(client.state(), ConnState::Closed);
    assert_eq!(pending.await, Err(ClientError::Closed));
    assert_eq!(
        client.submit("x", json!({})).unwrap_err(),
        ClientError::Closed
    );
}

/// With the relay unreachable, attempts follow the backoff schedule (each
/// wait within `min(cap, base × 2^n)`), and after five failed attempts the
/// client falls back to polling (which fails too: offline). Virtual time.
#[tokio::test(start_paused = true)]
async fn reconnect_schedule_follows_the_backoff() {
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let cfg = ClientConfig::new(
        &format!("ws://{addr}"),
        Credentials::Token("t".into()),
        Role::Crew,
    )
    .unwrap();
    let backoff = cfg.backoff;
    assert_eq!(backoff, Backoff::default());
    let (client, _events, mut state) = connect(cfg);
    let mut attempts = Vec::new();
    loop {
        let s = state.borrow_and_update().clone();
        match s {
            ConnState::Reconnecting {
                attempt,
                next_try_in_ms,
            } => {
                let ceiling = backoff.ceiling(attempt - 1).as_millis() as u64;
                assert!(
                    next_try_in_ms <= ceiling,
                    "attempt {attempt}: {next_try_in_ms} ms"
                );
                if attempts.last() != Some(&attempt) {
                    attempts.push(attempt);
                }
            }
            ConnState::Polling | ConnState::Offline => break,
            ConnState::Connecting => {}
            other => panic!("unexpected {other:?}"),
        }
        tokio::time::timeout(Duration::from_secs(120), state.changed())
            .await
            .expect("the state moves on")
            .unwrap();
    }
    // The first try is attempt 1; the fifth failure falls back to polling.
    assert_eq!(attempts, [2, 3, 4, 5]);
    client.close().await;
}
