//! Failover between two relays on one NATS JetStream server (DESIGN §15):
//! under a load of orders, relay A is killed with `kill -9`; its clients
//! (which list A,B) move to B, every order acked is there once, requests
//! in flight at the kill are answered by B, the crew sees every event once
//! and in order, and the seqs go on. And scheduled orders fire once when
//! both relays' timers fire them, and on the relay that is left when the
//! one they were placed on stops.
//!
//! Needs `nats-server` on PATH ("skipped: nats-server not found" without
//! it, a failure under `KFOOD_REQUIRE_NATS=1`) and the relay binary:
//! `cargo build -p kfood-relay` first (or `cargo test --workspace`).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kfood_protocol::client::{
    Backoff, Client as ProgramClient, ClientConfig, ClientEvent, ClientHandle, ConnState,
    Credentials,
};
use kfood_protocol::time::{format_ms, now_ms};
use kfood_protocol::Role;
use kfood_relay::config::Limits;
use kfood_tests::nats::{self, NatsServer};
use kfood_tests::*;
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// Customers placing orders during the failover.
const CUSTOMERS: usize = 6;
/// Orders each customer places, one after another.
const ORDERS_EACH: usize = 12;
/// Orders acked before A is killed.
const ACKED_BEFORE_KILL: usize = 20;
/// Bibimbap's prep minutes in the demo menu, in ms.
const BIBIMBAP_PREP: i64 = 12 * 60_000;

/// A program's client of `relays` (comma-separated) with short waits
/// between attempts.
fn config(relays: &str, id: &str, role: Role) -> ClientConfig {
    let mut c = ClientConfig::new(relays, Credentials::Token(token(id, role)), role).unwrap();
    c.backoff = Backoff {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(100),
    };
    c.connect_timeout = Duration::from_secs(5);
    c
}

/// A client that is live (on the first relay of its list).
async fn live(cfg: ClientConfig) -> (ClientHandle, mpsc::Receiver<ClientEvent>) {
    let (client, events, mut state) = ProgramClient::connect(cfg).unwrap();
    tokio::time::timeout(WAIT, state.wait_for(ConnState::is_live))
        .await
        .expect("live in time")
        .expect("client running");
    (client, events)
}

/// The relay binary on JetStream (cluster `cluster` of `nats_url`), as a
/// process to `kill -9`.
async fn relay_process(dir: &std::path::Path, nats_url: &str, cluster: &str) -> RelayProcess {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let child = std::process::Command::new(relay_bin())
        .args(["--demo", "--bind", &addr.to_string(), "--data-dir"])
        .arg(dir)
        .args(["--engine", "jetstream", "--nats-url", nats_url])
        .args(["--cluster", cluster])
        .env("KFOOD_JWT_SECRET", SECRET)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn kfood-relay");
    let p = RelayProcess { child, addr };
    p.wait_healthy().await;
    p
}

/// Places `ORDERS_EACH` cash orders one after another; each order's
/// `client_order_id` and the order id its ack names.
async fn customer(client: ClientHandle, acked: Arc<AtomicUsize>) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for _ in 0..ORDERS_EACH {
        let order = cash_order(&[("bibimbap", 1)]);
        let key = order["client_order_id"].as_str().unwrap().to_owned();
        let ack = tokio::time::timeout(WAIT, client.request("order_place", order))
            .await
            .expect("acked in time (by B after the kill)")
            .expect("acked");
        assert_eq!(ack.data["order"]["client_order_id"], key.as_str());
        out.push((key, ack.data["order"]["id"].as_u64().expect("order id")));
        acked.fetch_add(1, Ordering::SeqCst);
    }
    out
}

/// Reads `crew` until it has seen `orders` distinct orders created; every
/// durable event it got, in arrival order.
async fn crew_events(mut crew: Client, orders: usize) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut created = BTreeSet::new();
    while created.len() < orders {
        let v = crew.next().await;
        if v["type"] == "order_created" {
            created.insert(v["data"]["order"]["id"].as_u64().unwrap());
        }
        if v["seq"].is_u64() {
            seen.push(v);
        }
    }
    seen
}

/// Reads a program's events until it has seen `orders` distinct orders
/// created, live events or in a snapshot; (seq of each event, snapshots
/// after the first).
async fn program_events(mut events: mpsc::Receiver<ClientEvent>, orders: usize) -> (Vec<u64>, u32) {
    let mut seqs = Vec::new();
    let mut created = BTreeSet::new();
    let mut snapshots: u32 = 0;
    while created.len() < orders {
        let ev = tokio::time::timeout(WAIT, events.recv())
            .await
            .expect("an event in time")
            .expect("client running");
        match ev {
            ClientEvent::Event(env) => {
                seqs.push(env.seq.expect("a durable event has a seq"));
                if env.kind == "order_created" {
                    created.insert(env.data["order"]["id"].as_u64().unwrap());
                }
            }
            ClientEvent::Snapshot(_) => snapshots += 1,
            _ => {}
        }
    }
    (seqs, snapshots.saturating_sub(1))
}

fn strictly_increasing(seqs: &[u64]) -> bool {
    seqs.windows(2).all(|w| w[0] < w[1])
}

/// `kill -9` of relay A under load: clients listing A,B move to B, every acked order exists once, in-flight requests are answered by B, the crew sees every event once and in order, and the seqs go on.
#[tokio::test]
async fn failover_under_load() {
    if !nats::available() {
        return;
    }
    let server = NatsServer::start().await;
    let b = TestRelay::start_jetstream(&server.url(), "fo", Limits::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let a = relay_process(dir.path(), &server.url(), "fo").await;
    let list = format!("{},{}", a.ws_url(), b.ws_url());
    let total = CUSTOMERS * ORDERS_EACH;

    // Crew on B all along, and a crew program that starts on A and moves.
    let crew_b = tokio::spawn(crew_events(b.connect("kim", Role::Crew).await, total));
    let (mover, mover_events) = live(config(&list, "cook", Role::Crew)).await;
    let moving_crew = tokio::spawn(program_events(mover_events, total));

    let acked = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..CUSTOMERS {
        let (c, mut events) = live(config(&list, &format!("cust-{i}"), Role::Customer)).await;
        assert_eq!(c.relay().ws, a.ws_url(), "every client starts on A");
        // The customers' own events are not checked here; keep them flowing.
        tokio::spawn(async move { while events.recv().await.is_some() {} });
        tasks.push(tokio::spawn(customer(c.clone(), acked.clone())));
        clients.push(c);
    }
    tokio::time::timeout(WAIT, async {
        while acked.load(Ordering::SeqCst) < ACKED_BEFORE_KILL {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("orders acked on A");
    a.kill9();

    let mut orders: BTreeMap<String, u64> = BTreeMap::new();
    for t in tasks {
        for (key, id) in t.await.expect("customer") {
            assert!(orders.insert(key, id).is_none(), "one ack per order");
        }
    }
    assert_eq!(orders.len(), total, "every order acked");
    let ids: BTreeSet<u64> = orders.values().copied().collect();
    assert_eq!(ids.len(), total, "no order made twice");
    for c in &clients {
        assert_eq!(c.relay().ws, b.ws_url(), "the customers moved to B");
    }

    // The crew on B: every order created once, every event once, in order.
    let seen = tokio::time::timeout(WAIT * 3, crew_b)
        .await
        .expect("crew saw every order")
        .expect("crew task");
    let seqs: Vec<u64> = seen.iter().map(|v| v["seq"].as_u64().unwrap()).collect();
    assert!(strictly_increasing(&seqs), "once and in order: {seqs:?}");
    let created: Vec<u64> = seen
        .iter()
        .filter(|v| v["type"] == "order_created")
        .map(|v| v["data"]["order"]["id"].as_u64().unwrap())
        .collect();
    assert_eq!(created.len(), total, "each order created once");
    assert_eq!(created.iter().copied().collect::<BTreeSet<_>>(), ids);

    // The crew program that moved: resumed on B (no fresh snapshot), each
    // event once and in order, the seqs going on from where A left them.
    let (mover_seqs, snapshots) = tokio::time::timeout(WAIT * 3, moving_crew)
        .await
        .expect("the moving crew saw every order")
        .expect("crew program");
    assert_eq!(snapshots, 0, "one log: a resume, not a new snapshot");
    assert!(strictly_increasing(&mover_seqs), "{mover_seqs:?}");
    assert_eq!(mover.relay().ws, b.ws_url());
    // After the kill, B numbers on from the same log.
    let mut boss = b.connect("boss", Role::Admin).await;
    boss.ok(
        "announce",
        json!({"audience": "all", "kind": "announcement", "text": "after"}),
    )
    .await;
    let after = boss.next_of("announcement").await["seq"].as_u64().unwrap();
    assert!(after > *seqs.last().unwrap(), "the seqs go on");
    mover.close().await;
    for c in clients {
        c.close().await;
    }
    b.stop().await;
}

/// Scheduled orders fire once when two relays' timers fire them at the same moment (the fire decided on a stale state is decided again and writes nothing), and the relay left fires the orders placed on another that stopped.
#[tokio::test]
async fn scheduled_orders_fire_once_across_relays() {
    if !nats::available() {
        return;
    }
    let server = NatsServer::start().await;
    let a = TestRelay::start_jetstream(&server.url(), "fire", Limits::default()).await;
    let b = TestRelay::start_jetstream(&server.url(), "fire", Limits::default()).await;
    let mut ann = a.connect("ann", Role::Customer).await;
    let mut boss = b.connect("boss", Role::Admin).await;
    let place = |at: i64| {
        let mut o = card_order(&[("bibimbap", 1)], GOOD_CARD);
        o["scheduled_for"] = json!(format_ms(at));
        o
    };
    // Three orders due a few seconds from now, on both relays' timers.
    let at = now_ms() + BIBIMBAP_PREP + 3_000;
    let mut ids = BTreeSet::new();
    for k in 0..3 {
        let o = ann.ok("order_place", place(at + k)).await;
        assert_eq!(o["order"]["status"], "scheduled");
        ids.insert(o["order"]["id"].as_u64().unwrap());
    }
    let mut fired = Vec::new();
    while fired.len() < ids.len() {
        let ev = boss.next_of("order_update").await;
        if ev["data"]["status"] == "pending" {
            fired.push(ev["data"]["order_id"].as_u64().unwrap());
        }
    }
    // Both timers have long passed: anything fired twice is here by now.
    let later = boss.collect("order_update", Duration::from_secs(2)).await;
    assert!(later.is_empty(), "fired once each: {later:?}");
    assert_eq!(fired.iter().copied().collect::<BTreeSet<_>>(), ids);

    // Placed on A, which stops before the fire time: B fires them.
    let at = now_ms() + BIBIMBAP_PREP + 3_000;
    let mut left = BTreeSet::new();
    for k in 0..2 {
        let o = ann.ok("order_place", place(at + k)).await;
        left.insert(o["order"]["id"].as_u64().unwrap());
    }
    for _ in 0..2 {
        boss.next_of("order_created").await;
    }
    drop(ann);
    a.stop().await;
    let mut fired = BTreeSet::new();
    while fired.len() < left.len() {
        let ev = boss.next_of("order_update").await;
        assert_eq!(ev["data"]["status"], "pending");
        assert_eq!(ev["sender"], json!({"id": "relay", "type": "system"}));
        fired.insert(ev["data"]["order_id"].as_u64().unwrap());
    }
    assert_eq!(fired, left);
    b.stop().await;
}
