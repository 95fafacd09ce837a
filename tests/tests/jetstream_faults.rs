//! The JetStream engine when NATS fails (DESIGN §15): with three servers and
//! replicas 3, losing one mid-load loses no acked order; losing all makes
//! changes `unavailable` and `/healthz` 503, and the relays recover by
//! themselves when the servers come back.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kfood_protocol::Role;
use kfood_relay::config::Limits;
use kfood_tests::nats::{self, NatsCluster};
use kfood_tests::*;
use serde_json::json;

/// Customers placing orders one after another until told to stop; the ids
/// of acked orders go to `acked`.
async fn place_until(
    relay_url: String,
    who: String,
    stop: tokio_util::sync::CancellationToken,
    acked: Arc<Mutex<BTreeSet<u64>>>,
) {
    let mut c = Client::connect(
        &relay_url,
        &token(&who, Role::Customer),
        Role::Customer,
        None,
    )
    .await;
    while !stop.is_cancelled() {
        let r = c
            .request("order_place", cash_order(&[("japchae", 1)]))
            .await;
        if r["type"] == "ack" {
            let id = r["data"]["order"]["id"].as_u64().expect("id");
            acked.lock().expect("lock").insert(id);
        } else {
            assert_eq!(r["data"]["code"], "unavailable", "only unavailable: {r}");
        }
    }
}

async fn health_status(relay: &TestRelay) -> u16 {
    match reqwest::get(relay.http_url("/healthz")).await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

/// Waits (up to a minute) until `/healthz` answers `status`.
async fn wait_health(relay: &TestRelay, status: u16) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while tokio::time::Instant::now() < deadline {
        if health_status(relay).await == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/healthz never answered {status}");
}

/// Three NATS servers, replicas 3: kill -9 one mid-load and no acked order is lost; stop all three and changes are `unavailable` and `/healthz` 503; restart them and changes are accepted again without restarting the relays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_loss_loses_no_acked_order_and_recovers_by_itself() {
    if !nats::available() {
        return;
    }
    let mut cluster = NatsCluster::start().await;
    let urls = cluster.urls();
    let a = TestRelay::start_jetstream_replicas(&urls, "faults", Some(3), Limits::default()).await;
    let b = TestRelay::start_jetstream_replicas(&urls, "faults", Some(3), Limits::default()).await;

    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = tokio_util::sync::CancellationToken::new();
    let mut load = Vec::new();
    for (i, relay) in [&a, &b, &a, &b].into_iter().enumerate() {
        load.push(tokio::spawn(place_until(
            relay.ws_url(),
            format!("cust{i}"),
            stop.clone(),
            acked.clone(),
        )));
    }
    // Some orders in, then one server dies.
    wait_for(|| acked.lock().expect("lock").len() >= 20).await;
    cluster.servers[1].kill9();
    let before = acked.lock().expect("lock").len();
    wait_for(|| acked.lock().expect("lock").len() >= before + 20).await;
    stop.cancel();
    for l in load {
        l.await.expect("load task");
    }
    let acked = acked.lock().expect("lock").clone();
    for relay in [&a, &b] {
        let boss = connect_retrying(relay, "boss", Role::Admin).await;
        let snap = boss.snapshot.as_ref().expect("snapshot");
        let have: BTreeSet<u64> = snap["data"]["orders"]
            .as_array()
            .expect("orders")
            .iter()
            .filter_map(|o| o["id"].as_u64())
            .collect();
        let lost: Vec<&u64> = acked.difference(&have).collect();
        assert!(lost.is_empty(), "acked orders lost: {lost:?}");
    }

    // All three gone: changes are refused at once and health says so.
    let mut ann = connect_retrying(&a, "ann", Role::Customer).await;
    for s in &mut cluster.servers {
        s.kill9();
    }
    let r = ann
        .request("order_place", cash_order(&[("japchae", 1)]))
        .await;
    assert_eq!(r["data"]["code"], "unavailable", "{r}");
    wait_health(&a, 503).await;
    wait_health(&b, 503).await;

    // Back again: the relays recover without a restart.
    for s in &mut cluster.servers {
        s.restart().await;
    }
    wait_health(&a, 200).await;
    wait_health(&b, 200).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let url = a.ws_url();
    let mut ann = loop {
        // A socket may still be refused 1013 while the stream elects a leader.
        let attempt = tokio::spawn({
            let url = url.clone();
            async move {
                let mut c =
                    Client::connect(&url, &token("ann", Role::Customer), Role::Customer, None)
                        .await;
                let r = c
                    .request("order_place", cash_order(&[("japchae", 1)]))
                    .await;
                (r["type"] == "ack").then_some(c)
            }
        })
        .await;
        if let Ok(Some(c)) = attempt {
            break c;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "changes never accepted again"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    ann.ok(
        "order_quote",
        json!({"items": [{"item_id": "japchae", "qty": 1}], "fulfillment": {"kind": "pickup"}}),
    )
    .await;
    a.stop().await;
    b.stop().await;
}

/// Connects, again while the relay answers 1013 (the stream electing a
/// leader after a server was lost), for up to a minute.
async fn connect_retrying(relay: &TestRelay, id: &str, role: Role) -> Client {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (url, tok) = (relay.ws_url(), token(id, role));
        let attempt =
            tokio::spawn(async move { Client::connect(&url, &tok, role, None).await }).await;
        match attempt {
            Ok(c) => return c,
            Err(_) => assert!(tokio::time::Instant::now() < deadline, "never connected"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits (up to two minutes) for `cond`.
async fn wait_for(cond: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
