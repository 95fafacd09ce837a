//! Fault injection for the client connection manager (DESIGN §4, §10, §11)
//! through the small TCP proxy of `kfood_tests::proxy`: the relay killed
//! with SIGKILL and restarted mid-flow, a connection cut while a request is
//! in flight, a stalled socket that TCP does not close, the WebSocket path
//! refused so that polling takes over and hands back, and added latency.
//! In every case every acked change is there, the program sees every event
//! once and in order, and no order is placed twice.
//!
//! The kill -9 test needs `target/debug/kfood-relay`: `cargo build -p
//! kfood-relay` (or `cargo test --workspace`) first.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use kfood_protocol::client::{
    Backoff, Client as Manager, ClientConfig, ClientEvent, ClientHandle, ConnState, Credentials,
};
use kfood_protocol::Role;
use kfood_relay::config::Limits;
use kfood_tests::proxy::Proxy;
use kfood_tests::*;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// The relay's heartbeat in these tests: the client gives up on a silent
/// socket after 2 × this.
const HEARTBEAT_MS: u64 = 300;
/// How long a test waits for a state or an event before failing.
const LONG: Duration = Duration::from_secs(15);

fn limits() -> Limits {
    Limits {
        heartbeat_ms: HEARTBEAT_MS,
        ..Limits::default()
    }
}

fn config(relay: &str, id: &str, role: Role) -> ClientConfig {
    let mut c = ClientConfig::new(relay, Credentials::Token(token(id, role)), role).unwrap();
    c.backoff = Backoff {
        base: Duration::from_millis(50),
        cap: Duration::from_millis(500),
    };
    c.connect_timeout = Duration::from_secs(3);
    c
}

/// A program using the connection manager: its handle, events and state.
struct Program {
    client: ClientHandle,
    events: mpsc::Receiver<ClientEvent>,
    state: watch::Receiver<ConnState>,
    /// Every event handed to the program so far, in order.
    seen: Vec<ClientEvent>,
}

impl Program {
    fn start(cfg: ClientConfig) -> Program {
        let (client, events, state) = Manager::connect(cfg).unwrap();
        Program {
            client,
            events,
            state,
            seen: Vec::new(),
        }
    }

    async fn wait_state(&mut self, want: impl Fn(&ConnState) -> bool) -> ConnState {
        let r = tokio::time::timeout(LONG, self.state.wait_for(|s| want(s)))
            .await
            .map(|r| r.map(|s| s.clone()));
        match r {
            Ok(Ok(s)) => s,
            _ => panic!("state stayed {:?}", *self.state.borrow()),
        }
    }

    /// Reads events until one matches.
    async fn until(&mut self, stop: impl Fn(&ClientEvent) -> bool) {
        loop {
            let ev = tokio::time::timeout(LONG, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("no event in time; seen {:?}", self.seen))
                .expect("client running");
            let done = stop(&ev);
            self.seen.push(ev);
            if done {
                return;
            }
        }
    }

    async fn synced(&mut self) {
        self.until(|e| matches!(e, ClientEvent::Synced { .. }))
            .await;
    }

    /// Reads events until `order_created` has been seen for every id.
    async fn until_created(&mut self, ids: &[u64]) {
        let mut missing: HashSet<u64> = ids.iter().copied().collect();
        missing.retain(|id| !self.created().contains(id));
        while !missing.is_empty() {
            let before = self.seen.len();
            self.until(|e| created_id(e).is_some()).await;
            for ev in &self.seen[before..] {
                if let Some(id) = created_id(ev) {
                    missing.remove(&id);
                }
            }
        }
    }

    /// The seqs of the durable events handed over, in order.
    fn seqs(&self) -> Vec<u64> {
        self.seen
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Event(env) => env.seq,
                _ => None,
            })
            .collect()
    }

    /// The order ids of the `order_created` events handed over, in order.
    fn created(&self) -> Vec<u64> {
        self.seen.iter().filter_map(created_id).collect()
    }

    fn snapshots(&self) -> usize {
        self.seen
            .iter()
            .filter(|e| matches!(e, ClientEvent::Snapshot(_)))
            .count()
    }
}

fn created_id(ev: &ClientEvent) -> Option<u64> {
    match ev {
        ClientEvent::Event(e) if e.kind == "order_created" => e.data["order_id"].as_u64(),
        _ => None,
    }
}

#[track_caller]
fn assert_strictly_increasing(s: &[u64]) {
    assert!(
        s.windows(2).all(|w| w[0] < w[1]),
        "seqs not strictly increasing (a duplicate or a reorder): {s:?}"
    );
}

/// The orders in a fresh admin snapshot, by id.
async fn orders_in(ws_url: &str) -> HashMap<u64, Value> {
    let boss = Client::connect(ws_url, &token("boss", Role::Admin), Role::Admin, None).await;
    boss.snapshot.as_ref().unwrap()["data"]["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["id"].as_u64().unwrap(), o.clone()))
        .collect()
}

/// Asserts that no two orders share a `client_order_id`.
#[track_caller]
fn assert_no_duplicate_orders(orders: &HashMap<u64, Value>) {
    let mut by_coid: HashMap<String, Vec<u64>> = HashMap::new();
    for (id, o) in orders {
        let coid = o["client_order_id"]
            .as_str()
            .unwrap_or_else(|| panic!("order {id} has no client_order_id: {o}"));
        by_coid.entry(coid.to_owned()).or_default().push(*id);
    }
    let dups: Vec<_> = by_coid.values().filter(|ids| ids.len() > 1).collect();
    assert!(dups.is_empty(), "orders placed twice: {dups:?}");
}

fn one_bibimbap() -> Value {
    cash_order(&[("bibimbap", 1)])
}

/// Places a cash order with the raw client `c`; returns its id.
async fn place(c: &mut Client) -> u64 {
    c.ok("order_place", one_bibimbap()).await["order"]["id"]
        .as_u64()
        .unwrap()
}

/// `kill -9` of the relay binary while a customer places card orders in a
/// loop and the crew watches through the proxy; restarted in place, both
/// clients reconnect by themselves: every acked order is there once, and
/// the crew saw every order once, in seq order, resuming without a snapshot.
#[tokio::test]
async fn sigkill_mid_flow_loses_nothing_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let hb = HEARTBEAT_MS.to_string();
    let args = ["--heartbeat-ms", hb.as_str()];
    let relay = RelayProcess::spawn_on(dir.path(), addr, &args).await;
    let proxy = Proxy::start(addr).await;

    let mut kim = Program::start(config(&proxy.url(), "kim", Role::Crew));
    kim.synced().await;
    let mut ann = Program::start(config(&format!("ws://{addr}"), "ann", Role::Customer));
    ann.wait_state(ConnState::is_live).await;

    const ORDERS: usize = 12;
    let (acks_tx, mut acks) = watch::channel(0usize);
    let acked: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let loop_acked = acked.clone();
    let customer = ann.client.clone();
    let placing = tokio::spawn(async move {
        for i in 0..ORDERS {
            let data = card_order(&[("bibimbap", 1), ("kimbap", 1)], GOOD_CARD);
            let coid = data["client_order_id"].as_str().unwrap().to_owned();
            let ack = customer
                .request("order_place", data)
                .await
                .unwrap_or_else(|e| panic!("order {i} not placed: {e:?}"));
            let id = ack.data["order"]["id"].as_u64().expect("order id in ack");
            loop_acked.lock().unwrap().push((coid, id));
            acks_tx.send_replace(i + 1);
        }
    });

    tokio::time::timeout(LONG, acks.wait_for(|n| *n >= 4))
        .await
        .expect("four acks before the kill")
        .unwrap();
    relay.kill9();
    let relay = RelayProcess::spawn_on(dir.path(), addr, &args).await;

    tokio::time::timeout(Duration::from_secs(20), placing)
        .await
        .expect("the customer's loop finished after the restart")
        .expect("every order acked");
    let acked = acked.lock().unwrap().clone();
    assert_eq!(acked.len(), ORDERS);
    let ids: Vec<u64> = acked.iter().map(|(_, id)| *id).collect();

    // Every acked order is in the restarted relay, once.
    let orders = orders_in(&relay.ws_url()).await;
    assert_no_duplicate_orders(&orders);
    assert_eq!(orders.len(), ORDERS, "only the acked orders: {orders:?}");
    for (coid, id) in &acked {
        let o = orders
            .get(id)
            .unwrap_or_else(|| panic!("acked order {id} lost"));
        assert_eq!(o["client_order_id"], coid.as_str());
    }

    // The crew saw every order once, in order, across the kill.
    kim.until_created(&ids).await;
    assert_strictly_increasing(&kim.seqs());
    assert_eq!(kim.created(), ids, "each order once, in order");
    assert_eq!(
        kim.snapshots(),
        1,
        "the reconnect resumed, no second snapshot"
    );
    ann.until_created(&ids).await;
    assert_strictly_increasing(&ann.seqs());
    assert_eq!(ann.created(), ids);
    assert!(
        proxy.accepted() >= 2,
        "the crew reconnected through the proxy"
    );
    kim.client.close().await;
    ann.client.close().await;
}

/// A connection cut while `order_place` is in flight — after the relay took
/// it but before the ack came back, and before the relay saw it at all: the
/// client resends with the same id after reconnecting, the request resolves
/// with the one order, and no order is placed twice.
#[tokio::test]
async fn cut_with_a_request_in_flight_places_the_order_once() {
    let relay = TestRelay::start_with(limits()).await;
    let proxy = Proxy::start(relay.addr).await;
    let mut watcher = relay.connect("kim", Role::Crew).await;
    let mut ann = Program::start(config(&proxy.url(), "ann", Role::Customer));
    ann.synced().await;

    // 1. The relay took the order; its ack is held in the proxy's latency.
    proxy.set_delay(Duration::from_millis(400));
    let first_data = one_bibimbap();
    let mut pending = ann
        .client
        .submit("order_place", first_data.clone())
        .unwrap();
    let created = watcher.next_of("order_created").await;
    let first = created["data"]["order_id"].as_u64().unwrap();
    assert!(
        (&mut pending).now_or_never().is_none(),
        "the ack must still be on its way when the connection is cut"
    );
    let before = proxy.accepted();
    proxy.cut();
    proxy.set_delay(Duration::ZERO);
    let ack = tokio::time::timeout(LONG, pending)
        .await
        .expect("the request resolves after the reconnect")
        .expect("acked");
    assert_eq!(ack.kind, "ack");
    assert_eq!(
        ack.data["order"]["id"], first,
        "the same order, not a new one"
    );
    assert!(proxy.accepted() > before, "the client reconnected");

    // 2. Cut before the relay saw it: the resend places it, once.
    ann.wait_state(ConnState::is_live).await;
    proxy.set_delay(Duration::from_millis(400));
    let pending = ann.client.submit("order_place", one_bibimbap()).unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    proxy.cut();
    proxy.set_delay(Duration::ZERO);
    let ack = tokio::time::timeout(LONG, pending)
        .await
        .expect("the request resolves after the reconnect")
        .expect("acked");
    let second = ack.data["order"]["id"].as_u64().unwrap();
    assert_ne!(second, first);

    // A third order, placed normally, comes next: nothing in between.
    let third = ann
        .client
        .request("order_place", one_bibimbap())
        .await
        .unwrap();
    let third = third.data["order"]["id"].as_u64().unwrap();
    let created: Vec<u64> = [
        watcher.next_of("order_created").await,
        watcher.next_of("order_created").await,
    ]
    .iter()
    .map(|c| c["data"]["order_id"].as_u64().unwrap())
    .collect();
    assert_eq!(created, [second, third], "no duplicate order_created");

    let orders = orders_in(&relay.ws_url()).await;
    assert_no_duplicate_orders(&orders);
    assert_eq!(orders.len(), 3, "{orders:?}");
    ann.until_created(&[first, second, third]).await;
    assert_eq!(ann.created(), [first, second, third]);
    assert_strictly_increasing(&ann.seqs());
    ann.client.close().await;
    relay.stop().await;
}

/// A stalled socket that TCP does not close: the client notices within
/// about 2 × heartbeat, reconnects through a fresh connection, and gets the
/// events made during the stall once, in order.
#[tokio::test]
async fn stalled_socket_is_noticed_and_replaced() {
    let relay = TestRelay::start_with(limits()).await;
    let proxy = Proxy::start(relay.addr).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = Program::start(config(&proxy.url(), "kim", Role::Crew));
    kim.synced().await;
    kim.wait_state(|s| matches!(s, ConnState::Live { rtt_ms: Some(_) }))
        .await;
    let mut ids = vec![place(&mut ann).await];
    kim.until_created(&ids).await;

    let stalled_at = Instant::now();
    proxy.stall();
    for _ in 0..3 {
        ids.push(place(&mut ann).await);
    }
    kim.wait_state(|s| !s.is_live()).await;
    let noticed = stalled_at.elapsed();
    assert!(
        noticed < Duration::from_millis(HEARTBEAT_MS * 2 + 1500),
        "a silent socket is given up after about 2 × heartbeat, took {noticed:?}"
    );
    assert!(
        proxy.open_connections() >= 1,
        "the stalled connection is still open: TCP did not close it"
    );
    kim.wait_state(ConnState::is_live).await;
    kim.until_created(&ids).await;

    proxy.unstall();
    ids.push(place(&mut ann).await);
    kim.until_created(&ids).await;
    assert_eq!(kim.created(), ids, "each order once, in order");
    assert_strictly_increasing(&kim.seqs());
    assert_eq!(
        kim.snapshots(),
        1,
        "the reconnect resumed, no second snapshot"
    );
    kim.client.close().await;
    relay.stop().await;
}

/// The WebSocket path refused: the client falls back to HTTP polling,
/// requests and events keep flowing, then it moves back to the socket; the
/// program's stream equals what the relay sent a crew socket — no gap, no
/// duplicate.
#[tokio::test]
async fn websocket_refused_polling_takes_over_and_hands_back() {
    let relay = TestRelay::start_with(limits()).await;
    let proxy = Proxy::start(relay.addr).await;
    let mut watcher = relay.connect("obs", Role::Crew).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut cfg = config(&proxy.url(), "kim", Role::Crew);
    cfg.fallback_after = 2;
    cfg.poll_wait_secs = 1;
    let mut kim = Program::start(cfg);
    kim.synced().await;
    kim.wait_state(ConnState::is_live).await;
    let head = kim.client.last_seq().unwrap_or(0);
    let mut ids = vec![place(&mut ann).await];
    kim.until_created(&ids).await;

    proxy.refuse_ws(true);
    proxy.cut();
    kim.wait_state(|s| *s == ConnState::Polling).await;
    assert!(proxy.refused() >= 2, "the socket was tried and refused");
    ids.push(place(&mut ann).await);
    ids.push(place(&mut ann).await);
    kim.until_created(&ids).await;
    // A request goes over HTTP meanwhile.
    let ack = kim
        .client
        .request(
            "order_update",
            json!({"order_id": ids[1], "status": "preparing"}),
        )
        .await
        .unwrap();
    assert_eq!(ack.data["order"]["status"], "preparing");
    kim.until(|e| matches!(e, ClientEvent::Event(env) if env.kind == "order_update"))
        .await;
    assert_eq!(kim.client.state(), ConnState::Polling);

    proxy.refuse_ws(false);
    kim.wait_state(ConnState::is_live).await;
    ids.push(place(&mut ann).await);
    kim.until_created(&ids).await;

    assert_eq!(kim.created(), ids, "each order once, in order");
    let program = kim.seqs();
    assert_strictly_increasing(&program);
    let sent: Vec<u64> = seqs(&watcher.settle().await)
        .into_iter()
        .filter(|s| *s > head)
        .collect();
    assert_eq!(program, sent, "the program's stream is the relay's, no gap");
    assert_eq!(kim.snapshots(), 1, "polling and the way back resumed");
    kim.client.close().await;
    relay.stop().await;
}

/// 200 ms of added latency each way: the client stays live, its round trip
/// shows the delay, and requests still get their answers.
#[tokio::test]
async fn added_latency_keeps_the_client_live() {
    let relay = TestRelay::start_with(limits()).await;
    let proxy = Proxy::start(relay.addr).await;
    proxy.set_delay(Duration::from_millis(200));
    let mut ann = Program::start(config(&proxy.url(), "ann", Role::Customer));
    ann.synced().await;
    let s = ann
        .wait_state(|s| matches!(s, ConnState::Live { rtt_ms: Some(_) }))
        .await;
    let ConnState::Live { rtt_ms: Some(rtt) } = s else {
        unreachable!()
    };
    assert!(
        rtt >= 400,
        "200 ms each way shows in the round trip: {rtt} ms"
    );

    let ack = ann
        .client
        .request("order_place", one_bibimbap())
        .await
        .unwrap();
    let id = ack.data["order"]["id"].as_u64().unwrap();
    ann.until_created(&[id]).await;
    // Several heartbeats later it is still the first connection, still live.
    let left = tokio::time::timeout(
        Duration::from_millis(HEARTBEAT_MS * 6),
        ann.state.wait_for(|s| !s.is_live()),
    )
    .await
    .map(|r| r.map(|s| s.clone()));
    assert!(left.is_err(), "left live: {left:?}");
    assert_eq!(proxy.accepted(), 1, "never reconnected");
    ann.client.close().await;
    relay.stop().await;
}
