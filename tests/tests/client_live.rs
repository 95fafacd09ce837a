//! The connection manager against the real relay (`kfood_relay::run` on
//! 127.0.0.1, over a sled store in a temporary directory, with test-minted
//! tokens): authentication and acks, deduplicated events, resume after a
//! relay restart, the local cache, revocation and the HTTP polling fallback.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kfood_protocol::client::{
    Backoff, Client, ClientConfig, ClientError, ClientEvent, ClientHandle, ConnState, Credentials,
};
use kfood_protocol::jwt::{Claims, Secret};
use kfood_protocol::{ErrorCode, Role};
use kfood_relay::config::Limits;
use kfood_relay::store::SledStore;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// The relay's JWT secret in these tests (what `KFOOD_JWT_SECRET` would hold).
const SECRET: &str = "kfood-client-test-secret-0123456789";
const WAIT: Duration = Duration::from_secs(15);

fn secret() -> Secret {
    Secret::new(SECRET.as_bytes()).unwrap()
}

fn token(id: &str, role: Role) -> String {
    let now = kfood_protocol::time::now_ms() / 1000;
    secret().sign(&Claims::new(id, &format!("{id} name"), role, now, 3600))
}

/// A relay served in this process over the store in `dir`.
struct Relay {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), String>>,
}

impl Relay {
    /// Starts on `addr` (port 0 for any) over `dir`.
    async fn start(dir: &Path, addr: &str) -> Relay {
        let store = SledStore::open(dir, 16).expect("open store");
        kfood_relay::seed_demo(&store).expect("seed demo");
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let opts = kfood_relay::Options {
            limits: Limits::default(),
            secret: secret(),
            demo: true,
            tls: None,
        };
        let stop = shutdown.clone();
        let task = tokio::spawn(async move {
            kfood_relay::run(listener, Arc::new(store), opts, stop)
                .await
                .map_err(|e| e.to_string())
        });
        Relay {
            addr,
            shutdown,
            task,
        }
    }

    /// Stops gracefully (close 1001 to every socket) and releases the store.
    async fn stop(self) {
        self.shutdown.cancel();
        let r = tokio::time::timeout(Duration::from_secs(20), self.task).await;
        assert!(matches!(r, Ok(Ok(Ok(())))), "relay did not stop: {r:?}");
    }

    fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }
}

fn config(relay: &str, id: &str, role: Role) -> ClientConfig {
    let mut c = ClientConfig::new(relay, Credentials::Token(token(id, role)), role).unwrap();
    c.backoff = Backoff {
        base: Duration::from_millis(20),
        cap: Duration::from_millis(200),
    };
    c.connect_timeout = Duration::from_secs(5);
    c
}

struct Program {
    client: ClientHandle,
    events: mpsc::Receiver<ClientEvent>,
    state: watch::Receiver<ConnState>,
}

impl Program {
    fn start(cfg: ClientConfig) -> Program {
        let (client, events, state) = Client::connect(cfg).unwrap();
        Program {
            client,
            events,
            state,
        }
    }

    async fn wait_state(&mut self, want: impl Fn(&ConnState) -> bool) {
        let ok = tokio::time::timeout(WAIT, self.state.wait_for(|s| want(s)))
            .await
            .is_ok();
        assert!(ok, "state stayed {:?}", *self.state.borrow());
    }

    async fn next(&mut self) -> ClientEvent {
        tokio::time::timeout(WAIT, self.events.recv())
            .await
            .expect("an event in time")
            .expect("client running")
    }

    /// Events until one matches; returns all of them, the match last.
    async fn until(&mut self, stop: impl Fn(&ClientEvent) -> bool) -> Vec<ClientEvent> {
        let mut seen = Vec::new();
        loop {
            let ev = self.next().await;
            let done = stop(&ev);
            seen.push(ev);
            if done {
                return seen;
            }
        }
    }

    /// Events until `order_created` has been seen for every id in `ids`.
    async fn until_created(&mut self, ids: &[u64]) -> Vec<ClientEvent> {
        let mut seen = Vec::new();
        let mut missing: HashSet<u64> = ids.iter().copied().collect();
        while !missing.is_empty() {
            let ev = self.next().await;
            if let Some(id) = created_id(&ev) {
                missing.remove(&id);
            }
            seen.push(ev);
        }
        seen
    }
}

fn created_id(ev: &ClientEvent) -> Option<u64> {
    match ev {
        ClientEvent::Event(e) if e.kind == "order_created" => e.data["order_id"].as_u64(),
        _ => None,
    }
}

fn seqs(evs: &[ClientEvent]) -> Vec<u64> {
    evs.iter()
        .filter_map(|e| match e {
            ClientEvent::Event(env) => env.seq,
            _ => None,
        })
        .collect()
}

#[track_caller]
fn assert_strictly_increasing(s: &[u64]) {
    assert!(s.windows(2).all(|w| w[0] < w[1]), "seqs {s:?}");
}

fn cash_order() -> Value {
    json!({
        "client_order_id": uuid::Uuid::new_v4(),
        "items": [{"item_id": "bibimbap", "qty": 1}],
        "fulfillment": {"kind": "pickup"},
        "payment": {"method": "cash"},
    })
}

async fn place(c: &ClientHandle) -> u64 {
    let ack = c.request("order_place", cash_order()).await.unwrap();
    ack.data["order"]["id"].as_u64().unwrap()
}

/// Connect, authenticate, snapshot, caught up; requests resolve with their
/// `ack` or their refusal; the program's own order comes back as an event.
#[tokio::test]
async fn connects_and_requests_get_their_answers() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), "127.0.0.1:0").await;
    let mut ann = Program::start(config(&relay.url(), "ann", Role::Customer));
    let first = ann.until(|e| matches!(e, ClientEvent::Synced { .. })).await;
    assert!(matches!(first[0], ClientEvent::Welcome(ref w) if w.user.id == "ann"));
    let snap = first
        .iter()
        .find_map(|e| match e {
            ClientEvent::Snapshot(s) => Some(s.clone()),
            _ => None,
        })
        .expect("a snapshot on first contact");
    assert!(!snap.data["menu"].as_array().unwrap().is_empty());
    ann.wait_state(ConnState::is_live).await;
    assert_eq!(ann.client.user().unwrap().id, "ann");

    let quote = ann
        .client
        .request("order_quote", cash_order())
        .await
        .unwrap();
    assert_eq!(quote.kind, "ack");
    assert!(quote.data["total_cents"].as_i64().unwrap() > 0);
    let id = place(&ann.client).await;
    let evs = ann.until_created(&[id]).await;
    assert_eq!(seqs(&evs).len(), 1);

    let refused = ann
        .client
        .request(
            "order_update",
            json!({"order_id": id, "status": "preparing"}),
        )
        .await;
    match refused {
        Err(ClientError::Refused(e)) => assert_eq!(e.code, ErrorCode::Forbidden),
        other => panic!("{other:?}"),
    }
    // The round trip shows once a heartbeat came back.
    ann.wait_state(|s| matches!(s, ConnState::Live { rtt_ms: Some(_) }))
        .await;
    ann.client.close().await;
    relay.stop().await;
}

/// Crew see every new order once, in seq order, and their own bump comes
/// back as an `order_update` to the customer as well.
#[tokio::test]
async fn events_arrive_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), "127.0.0.1:0").await;
    let mut kim = Program::start(config(&relay.url(), "kim", Role::Crew));
    kim.until(|e| matches!(e, ClientEvent::Synced { .. })).await;
    let mut ann = Program::start(config(&relay.url(), "ann", Role::Customer));
    ann.until(|e| matches!(e, ClientEvent::Synced { .. })).await;

    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(place(&ann.client).await);
    }
    let evs = kim.until_created(&ids).await;
    let s = seqs(&evs);
    assert_eq!(s.len(), 5, "{s:?}");
    assert_strictly_increasing(&s);

    kim.client
        .request(
            "order_update",
            json!({"order_id": ids[0], "status": "preparing"}),
        )
        .await
        .unwrap();
    let update = ann
        .until(|e| matches!(e, ClientEvent::Event(env) if env.kind == "order_update"))
        .await;
    let ClientEvent::Event(env) = update.last().unwrap() else {
        unreachable!()
    };
    assert_eq!(env.data["status"], "preparing");
    assert_eq!(kim.client.last_seq(), Some(env.seq.unwrap()));
    relay.stop().await;
}

/// The relay restarts (close 1001): the client reconnects, resumes from its
/// last seq without a snapshot, and hands over what happened meanwhile —
/// nothing lost, nothing twice.
#[tokio::test]
async fn relay_restart_resumes_without_loss_or_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), "127.0.0.1:0").await;
    let addr = relay.addr;
    let mut kim = Program::start(config(&relay.url(), "kim", Role::Crew));
    let mut all = kim.until(|e| matches!(e, ClientEvent::Synced { .. })).await;
    let ann = Program::start(config(&relay.url(), "ann", Role::Customer));
    let mut ids = vec![place(&ann.client).await, place(&ann.client).await];
    all.extend(kim.until_created(&ids).await);

    relay.stop().await;
    let notice = kim
        .until(|e| matches!(e, ClientEvent::Notice(env) if env.kind == "announcement"))
        .await;
    all.extend(notice);
    kim.wait_state(|s| !s.is_live()).await;

    let relay = Relay::start(dir.path(), &addr.to_string()).await;
    // Orders placed as soon as the relay is back, racing the crew's reconnect.
    ann.client.reconnect_now();
    ids.push(place(&ann.client).await);
    ids.push(place(&ann.client).await);
    kim.wait_state(ConnState::is_live).await;
    ids.push(place(&ann.client).await);
    all.extend(kim.until_created(&ids[2..]).await);

    let s = seqs(&all);
    assert_strictly_increasing(&s);
    let created: Vec<u64> = all.iter().filter_map(created_id).collect();
    assert_eq!(created, ids, "each order once, in order");
    let snapshots = all
        .iter()
        .filter(|e| matches!(e, ClientEvent::Snapshot(_)))
        .count();
    assert_eq!(snapshots, 1, "the reconnect resumed, no second snapshot");
    relay.stop().await;
}

/// A restarted program shows its cache at once and resumes from it (no
/// snapshot); the cache holds the orders, the menu and the cart.
#[tokio::test]
async fn restarted_program_resumes_from_its_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), "127.0.0.1:0").await;
    let cfg = || config(&relay.url(), "kim", Role::Crew).with_cache_dir(cache.path());
    let ann = Program::start(config(&relay.url(), "ann", Role::Customer));

    let mut kim = Program::start(cfg());
    kim.until(|e| matches!(e, ClientEvent::Synced { .. })).await;
    let first = place(&ann.client).await;
    kim.until_created(&[first]).await;
    kim.client.set_cart(json!({"note": "opaque to the client"}));
    let seen = kim.client.last_seq();
    kim.client.close().await;

    // While the program is away, another order.
    let second = place(&ann.client).await;

    let mut kim = Program::start(cfg());
    let ClientEvent::Cached(cached) = kim.next().await else {
        panic!("the cache comes first")
    };
    assert!(!cached.stale);
    assert_eq!(cached.entry.last_seq, seen);
    assert!(cached.entry.model.orders.contains_key(&first));
    assert!(!cached.entry.model.menu.is_empty());
    assert_eq!(cached.entry.cart, json!({"note": "opaque to the client"}));
    let evs = kim.until_created(&[second]).await;
    assert!(
        !evs.iter().any(|e| matches!(e, ClientEvent::Snapshot(_))),
        "resumed from the cached seq: {evs:?}"
    );
    assert!(matches!(evs[0], ClientEvent::Welcome(_)));
    assert!(!evs.iter().any(|e| created_id(e) == Some(first)));
    kim.until(|e| matches!(e, ClientEvent::Synced { .. })).await;
    let now = kim.client.cached_state().unwrap();
    assert!(now.entry.model.orders.contains_key(&second));
    assert_eq!(now.entry.log_id, kim.client.log_id());
    kim.client.close().await;
    relay.stop().await;
}

/// A cache from another relay log (the data directory was replaced) is
/// dropped, its seq never trusted: the program gets a fresh snapshot.
#[tokio::test]
async fn cache_of_another_log_is_dropped() {
    let cache = tempfile::tempdir().unwrap();
    let dir1 = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir1.path(), "127.0.0.1:0").await;
    let addr = relay.addr;
    let cfg = || config(&format!("ws://{addr}"), "kim", Role::Crew).with_cache_dir(cache.path());
    let ann = Program::start(config(&relay.url(), "ann", Role::Customer));
    let mut kim = Program::start(cfg());
    kim.until(|e| matches!(e, ClientEvent::Synced { .. })).await;
    let old = place(&ann.client).await;
    kim.until_created(&[old]).await;
    let old_log = kim.client.log_id().unwrap();
    kim.client.close().await;
    ann.client.close().await;
    relay.stop().await;

    let dir2 = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir2.path(), &addr.to_string()).await;
    let mut kim = Program::start(cfg());
    assert!(matches!(kim.next().await, ClientEvent::Cached(_)));
    let evs = kim.until(|e| matches!(e, ClientEvent::Synced { .. })).await;
    let snap = evs
        .iter()
        .find_map(|e| match e {
            ClientEvent::Snapshot(s) => Some(s),
            _ => None,
        })
        .expect("a snapshot replaces the foreign cache");
    assert!(snap.data["orders"].as_array().unwrap().is_empty());
    assert_ne!(kim.client.log_id().unwrap(), old_log);
    let now = kim.client.cached_state().unwrap();
    assert!(
        !now.entry.model.orders.contains_key(&old),
        "old log's orders gone"
    );
    relay.stop().await;
}

/// `session_revoke` closes the crew's socket 4011: the client stops and
/// says `AuthExpired` instead of reconnecting with a dead token.
#[tokio::test]
async fn revoked_session_is_auth_expired() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), "127.0.0.1:0").await;
    let mut kim = Program::start(config(&relay.url(), "kim", Role::Crew));
    kim.wait_state(ConnState::is_live).await;
    // Revocation covers tokens issued up to its second: let one pass.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let boss = Program::start(config(&relay.url(), "boss", Role::Admin));
    boss.client
        .request("session_revoke", json!({"user_id": "kim"}))
        .await
        .unwrap();
    kim.wait_state(|s| *s == ConnState::AuthExpired).await;
    assert_eq!(
        kim.client.request("sync", json!({"since": 0})).await,
        Err(ClientError::AuthExpired)
    );
    // A fresh token (issued after the revocation) works.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    kim.client
        .set_credentials(Credentials::Token(token("kim", Role::Crew)));
    kim.wait_state(ConnState::is_live).await;
    relay.stop().await;
}

/// Username and password are exchanged for a token; a wrong password is
/// `AuthExpired` at once, not a retry loop.
#[tokio::test]
async fn password_login() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), "127.0.0.1:0").await;
    let creds = |password: &str| Credentials::Password {
        username: "crew".into(),
        password: password.into(),
    };
    let mut crew = Program::start(
        ClientConfig::new(&relay.url(), creds("kfood-crew-demo"), Role::Crew).unwrap(),
    );
    crew.wait_state(ConnState::is_live).await;
    assert_eq!(crew.client.user().unwrap().id, "crew");

    let mut wrong = Program::start(
        ClientConfig::new(&relay.url(), creds("not-the-password"), Role::Crew).unwrap(),
    );
    wrong.wait_state(|s| *s == ConnState::AuthExpired).await;
    let ClientEvent::Error(e) = wrong.next().await else {
        panic!("the refusal is reported")
    };
    assert_eq!(e.code, ErrorCode::AuthFailed);
    wrong.client.set_credentials(creds("kfood-crew-demo"));
    wrong.wait_state(ConnState::is_live).await;
    relay.stop().await;
}

/// Forwards every connection on `listener` to `to` (a socket that comes back).
async fn forward(listener: tokio::net::TcpListener, to: SocketAddr) {
    while let Ok((mut inbound, _)) = listener.accept().await {
        tokio::spawn(async move {
            if let Ok(mut outbound) = tokio::net::TcpStream::connect(to).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}

/// When the socket cannot be opened but HTTP works, the client polls
/// (`/api/events`, `/api/messages`); once the socket opens it moves back,
/// and the program sees one deduplicated stream throughout.
#[tokio::test]
async fn polling_fallback_and_back_to_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), "127.0.0.1:0").await;
    // A port where the socket will open later.
    let blocked: SocketAddr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut cfg = config(&relay.url(), "kim", Role::Crew);
    cfg.relay.ws = format!("ws://{blocked}/ws");
    cfg.poll_wait_secs = 1;
    cfg.backoff = Backoff {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(50),
    };
    let mut kim = Program::start(cfg);
    kim.wait_state(|s| *s == ConnState::Polling).await;
    let mut all = kim.until(|e| matches!(e, ClientEvent::Synced { .. })).await;
    assert!(all.iter().any(|e| matches!(e, ClientEvent::Snapshot(_))));

    let ann = Program::start(config(&relay.url(), "ann", Role::Customer));
    let mut ids = vec![place(&ann.client).await, place(&ann.client).await];
    all.extend(kim.until_created(&ids).await);
    // Requests go by POST /api/messages meanwhile.
    let ack = kim
        .client
        .request(
            "order_update",
            json!({"order_id": ids[0], "status": "preparing"}),
        )
        .await
        .unwrap();
    assert_eq!(ack.data["order"]["status"], "preparing");
    all.extend(
        kim.until(|e| matches!(e, ClientEvent::Event(env) if env.kind == "order_update"))
            .await,
    );
    assert_eq!(kim.client.state(), ConnState::Polling);

    // The socket becomes reachable: the client moves back to it.
    let listener = tokio::net::TcpListener::bind(blocked).await.unwrap();
    tokio::spawn(forward(listener, relay.addr));
    kim.wait_state(ConnState::is_live).await;
    ids.push(place(&ann.client).await);
    all.extend(kim.until_created(&ids[2..]).await);

    let s = seqs(&all);
    assert_strictly_increasing(&s);
    let created: Vec<u64> = all.iter().filter_map(created_id).collect();
    assert_eq!(created, ids);
    let snapshots = all
        .iter()
        .filter(|e| matches!(e, ClientEvent::Snapshot(_)))
        .count();
    assert_eq!(
        snapshots, 1,
        "moving to the socket resumed, no second snapshot"
    );
    relay.stop().await;
}
