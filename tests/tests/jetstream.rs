//! Several relays on one NATS JetStream server (DESIGN §15): events reach
//! every relay's sockets with the same seqs, a resume works on any relay,
//! a revocation closes the user's sockets everywhere, and the same order
//! sent to two relays at once is placed (and charged) once.
//!
//! Each test starts its own `nats-server`; where none is installed it says
//! "skipped: nats-server not found" (or fails under `KFOOD_REQUIRE_NATS=1`).

use kfood_protocol::Role;
use kfood_relay::config::Limits;
use kfood_tests::nats::{self, NatsServer};
use kfood_tests::*;
use serde_json::json;

/// The value of a `/metrics` series.
async fn metric(relay: &TestRelay, name: &str) -> u64 {
    let text = reqwest::get(relay.http_url("/metrics"))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("body");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

/// An order placed through relay A reaches a crew socket on relay B and the admin on A with the same seq.
#[tokio::test]
async fn an_order_on_a_reaches_crew_on_b_with_the_same_seq() {
    if !nats::available() {
        return;
    }
    let server = NatsServer::start().await;
    let a = TestRelay::start_jetstream(&server.url(), "two", Limits::default()).await;
    let b = TestRelay::start_jetstream(&server.url(), "two", Limits::default()).await;
    let mut crew_b = b.connect("kim", Role::Crew).await;
    let mut boss_a = a.connect("boss", Role::Admin).await;
    let mut ann = a.connect("ann", Role::Customer).await;
    let id = ann
        .ok("order_place", card_order(&[("bibimbap", 1)], GOOD_CARD))
        .await["order"]["id"]
        .as_u64()
        .expect("order id");
    let on_b = crew_b.next_of("order_created").await;
    let on_a = boss_a.next_of("order_created").await;
    assert_eq!(on_b["data"]["order"]["id"], id);
    assert_eq!(on_a["seq"], on_b["seq"], "one seq cluster-wide");
    assert!(on_b["seq"].as_u64().is_some());
    // Crew never see card data, whichever relay serves them.
    assert!(on_b["data"]["order"]["payment"].get("last4").is_none());
    a.stop().await;
    b.stop().await;
}

/// A resume on relay B with a `since` from relay A replays exactly what was missed, in order.
#[tokio::test]
async fn a_resume_on_b_with_a_since_from_a_replays_what_was_missed() {
    if !nats::available() {
        return;
    }
    let server = NatsServer::start().await;
    let a = TestRelay::start_jetstream(&server.url(), "resume", Limits::default()).await;
    let b = TestRelay::start_jetstream(&server.url(), "resume", Limits::default()).await;
    let mut boss = a.connect("boss", Role::Admin).await;
    boss.ok(
        "announce",
        json!({"audience": "all", "kind": "announcement", "text": "before"}),
    )
    .await;
    let gone = a.connect("ann", Role::Customer).await;
    let since = gone.head_seq();
    assert!(since >= 1);
    drop(gone);
    let mut ann_live = a.connect("ann", Role::Customer).await;
    ann_live.settle().await;
    ann_live
        .ok("order_place", cash_order(&[("japchae", 2)]))
        .await;
    boss.ok(
        "announce",
        json!({"audience": "customer", "kind": "promotion", "text": "free tea"}),
    )
    .await;
    boss.ok(
        "announce",
        json!({"audience": "crew", "kind": "announcement", "text": "crew only"}),
    )
    .await;
    let expected: Vec<u64> = seqs(&ann_live.settle().await);
    assert!(!expected.is_empty());
    let mut resumed = Client::connect(
        &b.ws_url(),
        &token("ann", Role::Customer),
        Role::Customer,
        Some(since),
    )
    .await;
    let got = resumed.settle().await;
    assert!(
        got.iter().all(|m| m["type"] != "snapshot"),
        "a since from A is no future on B: {got:?}"
    );
    assert_eq!(seqs(&got), expected, "exactly what was missed");
    a.stop().await;
    b.stop().await;
}

/// A `session_revoke` on relay A closes the user's socket on relay B with 4011.
#[tokio::test]
async fn a_revocation_on_a_closes_the_users_socket_on_b() {
    if !nats::available() {
        return;
    }
    let server = NatsServer::start().await;
    let a = TestRelay::start_jetstream(&server.url(), "revoke", Limits::default()).await;
    let b = TestRelay::start_jetstream(&server.url(), "revoke", Limits::default()).await;
    let mut kim_b = b.connect("kim", Role::Crew).await;
    let mut boss = a.connect("boss", Role::Admin).await;
    boss.ok("session_revoke", json!({"user_id": "kim"})).await;
    assert_eq!(kim_b.close_code().await, Some(4011));
    a.stop().await;
    b.stop().await;
}

/// The same `client_order_id` sent to relays A and B at the same moment, many times over: one order each time, both acks name it, and the card is charged once.
#[tokio::test]
async fn the_same_order_on_two_relays_at_once_is_placed_and_charged_once() {
    if !nats::available() {
        return;
    }
    const ROUNDS: usize = 20;
    let server = NatsServer::start().await;
    let a = TestRelay::start_jetstream(&server.url(), "once", Limits::default()).await;
    let b = TestRelay::start_jetstream(&server.url(), "once", Limits::default()).await;
    let mut on_a = a.connect("ann", Role::Customer).await;
    let mut on_b = b.connect("ann", Role::Customer).await;
    let mut ids = std::collections::BTreeSet::new();
    for _ in 0..ROUNDS {
        let order = card_order(&[("bibimbap", 1)], GOOD_CARD);
        let (ra, rb) = tokio::join!(
            on_a.request("order_place", order.clone()),
            on_b.request("order_place", order)
        );
        assert_eq!(ra["type"], "ack", "{ra}");
        assert_eq!(rb["type"], "ack", "{rb}");
        let id = ra["data"]["order"]["id"].as_u64().expect("id");
        assert_eq!(rb["data"]["order"]["id"], id, "both acks name one order");
        ids.insert(id);
    }
    assert_eq!(ids.len(), ROUNDS);
    let mut boss = a.connect("boss", Role::Admin).await;
    let snap = boss.snapshot.take().expect("snapshot");
    let orders = snap["data"]["orders"].as_array().expect("orders").len();
    assert_eq!(orders, ROUNDS, "one order per client_order_id");
    let charged = metric(&a, "kfood_payment_charges_total").await
        + metric(&b, "kfood_payment_charges_total").await;
    let voided = metric(&a, "kfood_payment_voids_total").await
        + metric(&b, "kfood_payment_voids_total").await;
    println!("{ROUNDS} orders: {charged} charges, {voided} voided");
    assert_eq!(
        charged - voided,
        ROUNDS as u64,
        "charged once per order ({charged} charges, {voided} voids)"
    );
    a.stop().await;
    b.stop().await;
}
