//! Durability with the real `kfood-relay` binary (DESIGN §8, §10): `kill -9`
//! never loses an acked order nor reuses a seq, resending is idempotent, and
//! the store subcommands behave beside a running relay.
//!
//! Needs `target/debug/kfood-relay`: `cargo build -p kfood-relay` (or
//! `cargo test --workspace`) first.

use std::collections::{HashMap, HashSet};

use kfood_protocol::Role;
use kfood_tests::*;
use serde_json::{json, Value};
use tokio::sync::mpsc;

async fn connect(relay: &RelayProcess, id: &str, role: Role) -> Client {
    Client::connect(&relay.ws_url(), &token(id, role), role, None).await
}

/// The orders of an admin's fresh snapshot, by id.
async fn orders_after_restart(relay: &RelayProcess) -> (Client, HashMap<u64, Value>) {
    let boss = connect(relay, "boss", Role::Admin).await;
    let orders = boss.snapshot.as_ref().unwrap()["data"]["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["id"].as_u64().unwrap(), o.clone()))
        .collect();
    (boss, orders)
}

/// After `kill -9` every acked order is back with its id and totals, seq continues after the last event seen, and resending an acked order returns it without a duplicate.
#[tokio::test]
async fn kill9_keeps_acked_orders_and_seq() {
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::spawn(dir.path(), &[]).await;
    let mut boss = connect(&relay, "boss", Role::Admin).await;
    let mut ann = connect(&relay, "ann", Role::Customer).await;
    let mut placed: Vec<(Value, Value)> = Vec::new();
    for i in 0..8 {
        let data = if i % 2 == 0 {
            card_order(&[("bibimbap", 1), ("kimbap", i + 1)], GOOD_CARD)
        } else {
            cash_order(&[("japchae", i)])
        };
        let ack = ann.ok("order_place", data.clone()).await;
        placed.push((data, ack["order"].clone()));
    }
    let seen = seqs(&boss.settle().await);
    let last_seen = *seen.last().unwrap();
    assert_eq!(last_seen, 12, "8 orders, 4 of them with a payment event");
    let log_id = boss.authenticated["data"]["log_id"].clone();
    drop((boss, ann));
    relay.kill9();

    let relay = RelayProcess::spawn(dir.path(), &[]).await;
    let (mut boss, orders) = orders_after_restart(&relay).await;
    assert_eq!(boss.head_seq(), last_seen, "nothing lost, nothing invented");
    assert_eq!(boss.authenticated["data"]["log_id"], log_id);
    assert_eq!(orders.len(), placed.len());
    for (_, order) in &placed {
        let id = order["id"].as_u64().unwrap();
        assert_eq!(orders.get(&id), Some(order), "order {id} as acked");
    }

    let mut ann = connect(&relay, "ann", Role::Customer).await;
    for (data, order) in &placed {
        let again = ann.ok("order_place", data.clone()).await;
        assert_eq!(&again["order"], order, "a resend returns the same order");
    }
    let fresh = ann.ok("order_place", cash_order(&[("kimbap", 1)])).await;
    let fresh_id = fresh["order"]["id"].as_u64().unwrap();
    assert_eq!(
        fresh_id,
        placed.len() as u64 + 1,
        "no duplicate was created"
    );
    let created = boss.next_of("order_created").await;
    assert_eq!(created["data"]["order_id"], fresh_id);
    assert_eq!(
        created["seq"].as_u64().unwrap(),
        last_seen + 1,
        "seq continues, never reused"
    );
    relay.kill9();
}

/// A `kill -9` in the middle of a burst of orders loses none that were acked, and resending the whole burst afterwards creates no duplicates.
#[tokio::test]
async fn kill9_during_a_burst_keeps_every_acked_order() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--rate-per-sec", "500", "--rate-burst", "500"];
    let relay = RelayProcess::spawn(dir.path(), &args).await;
    let mut ann = connect(&relay, "ann", Role::Customer).await;
    let burst: Vec<Value> = (0..50)
        .map(|i| {
            if i % 3 == 0 {
                cash_order(&[("kimbap", 1)])
            } else {
                card_order(&[("bibimbap", 1)], GOOD_CARD)
            }
        })
        .collect();
    let (tx, mut rx) = mpsc::unbounded_channel::<Value>();
    let frames: Vec<String> = burst
        .iter()
        .enumerate()
        .map(|(i, d)| json!({"type": "order_place", "id": format!("o{i}"), "data": d}).to_string())
        .collect();
    let sender = tokio::spawn(async move {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::Message;
        let ack = |m: Value| {
            if m["type"] == "ack" {
                let _ = tx.send(m["data"]["order"].clone());
            }
        };
        // Reading acks between sends paces the burst, so that the kill
        // lands while requests are in flight.
        for f in frames {
            if ann.ws.send(Message::text(f)).await.is_err() {
                break;
            }
            while let Some(m) = ann.try_next(std::time::Duration::from_millis(2)).await {
                ack(m);
            }
        }
        // Until the socket dies with the relay.
        while let Some(m) = ann.try_next(WAIT).await {
            ack(m);
        }
    });
    let mut acked = Vec::new();
    while acked.len() < 5 {
        acked.push(rx.recv().await.expect("an ack before the kill"));
    }
    relay.kill9();
    sender.await.unwrap();
    while let Ok(o) = rx.try_recv() {
        acked.push(o);
    }

    let relay = RelayProcess::spawn(dir.path(), &args).await;
    let (_boss, orders) = orders_after_restart(&relay).await;
    for order in &acked {
        let id = order["id"].as_u64().unwrap();
        assert_eq!(orders.get(&id), Some(order), "acked order {id} survived");
    }
    let coids: HashSet<&Value> = orders.values().map(|o| &o["client_order_id"]).collect();
    assert_eq!(coids.len(), orders.len(), "no order twice");

    // Resending everything (the outcome of the rest is unknown) is safe.
    let mut ann = connect(&relay, "ann", Role::Customer).await;
    let mut ids = HashSet::new();
    for data in &burst {
        let o = ann.ok("order_place", data.clone()).await;
        ids.insert(o["order"]["id"].as_u64().unwrap());
    }
    assert_eq!(ids.len(), 50);
    let (_boss, after) = orders_after_restart(&relay).await;
    assert_eq!(after.len(), 50, "every order exactly once");
    for order in &acked {
        let id = order["id"].as_u64().unwrap();
        assert_eq!(after.get(&id), Some(order));
    }
    relay.kill9();
}

/// `kfood-relay` run with `args` beside the test store, with the test secret.
async fn relay_cli(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    tokio::process::Command::new(relay_bin())
        .args(args)
        .args(engine_args(dir).await)
        .arg("--data-dir")
        .arg(dir)
        .env("KFOOD_JWT_SECRET", SECRET)
        .env("KFOOD_PASSWORD", "line-cook-pass")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("run kfood-relay")
}

/// `token issue` prints only a token on stdout, even while the relay runs, and it authenticates as crew.
#[tokio::test]
async fn token_issue_prints_a_working_device_token() {
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::spawn(dir.path(), &[]).await;
    let out = relay_cli(
        &[
            "token",
            "issue",
            "--role",
            "crew",
            "--name",
            "station-1",
            "--ttl",
            "1h",
        ],
        dir.path(),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.trim_end_matches('\n');
    assert_eq!(token.lines().count(), 1, "the token alone: {stdout:?}");
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    let claims = secret().verify(token).expect("signed with the secret");
    assert_eq!(claims.exp - claims.iat, 3600);

    let c = Client::connect(&relay.ws_url(), token, Role::Crew, None).await;
    assert_eq!(
        c.authenticated["data"]["user"],
        json!({"id": "station-1", "name": "station-1", "type": "crew"})
    );
    relay.kill9();
}

/// `user add` refuses plainly while the relay holds the store, and works once it is stopped.
#[tokio::test]
async fn user_add_needs_the_relay_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::spawn(dir.path(), &[]).await;
    let add = [
        "user",
        "add",
        "--role",
        "crew",
        "--name",
        "Line Cook",
        "linecook",
    ];
    let out = relay_cli(&add, dir.path()).await;
    if kfood_tests::nats::jetstream_engine() {
        // On JetStream the shared log takes the account while relays run.
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        relay.kill9();
        let relay = RelayProcess::spawn(dir.path(), &[]).await;
        let r = http_post(
            &format!("http://{}/api/login", relay.addr),
            None,
            &json!({"username": "linecook", "password": "line-cook-pass"}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        relay.kill9();
        return;
    }
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("relay must be stopped"), "{stderr}");
    relay.kill9();

    let out = relay_cli(&add, dir.path()).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let relay = RelayProcess::spawn(dir.path(), &[]).await;
    let r = http_post(
        &format!("http://{}/api/login", relay.addr),
        None,
        &json!({"username": "linecook", "password": "line-cook-pass"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["user"],
        json!({"id": "linecook", "name": "Line Cook", "type": "crew"})
    );
    relay.kill9();
}
