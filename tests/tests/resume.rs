//! Resume and the durable log (DESIGN §3, §4, §10): `since` replays exactly
//! what a client missed, snapshots when it cannot, `sync`, log retention, and
//! seqs that survive a restart.

use kfood_protocol::Role;
use kfood_relay::config::Limits;
use kfood_tests::*;
use serde_json::{json, Value};
use std::time::Duration;

/// The durable events among `msgs`.
fn durable(msgs: &[Value]) -> Vec<Value> {
    msgs.iter()
        .filter(|m| m.get("seq").is_some())
        .cloned()
        .collect()
}

#[track_caller]
fn assert_strictly_increasing(s: &[u64]) {
    assert!(
        s.windows(2).all(|w| w[0] < w[1]),
        "seqs not increasing: {s:?}"
    );
}

fn toggle(id: &str, available: bool) -> Value {
    json!({"op": "set_available", "item": {"id": id, "available": available}})
}

/// Resuming with `since` replays exactly the missed events this customer may see, in order, once each, with no snapshot.
#[tokio::test]
async fn resume_replays_exactly_what_was_missed() {
    let relay = TestRelay::start().await;
    let mut live = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let mut bob = relay.connect("bob", Role::Customer).await;
    // Something before the gap, so the replay starts mid-log.
    boss.ok("menu_update", toggle("kimbap", false)).await;
    let gone = relay.connect("ann", Role::Customer).await;
    let since = gone.head_seq();
    assert_eq!(since, 1);
    drop(gone);
    assert_eq!(seqs(&live.settle().await), vec![1]);

    let mine = ann_orders(&mut live).await;
    let theirs = bob
        .ok("order_place", card_order(&[("japchae", 1)], GOOD_CARD))
        .await["order"]["id"]
        .as_u64()
        .unwrap();
    kim.ok(
        "order_update",
        json!({"order_id": mine, "status": "preparing"}),
    )
    .await;
    kim.ok(
        "order_update",
        json!({"order_id": theirs, "status": "preparing"}),
    )
    .await;
    boss.ok(
        "announce",
        json!({"audience": "crew", "kind": "announcement", "text": "staff meal at 3"}),
    )
    .await;
    boss.ok(
        "announce",
        json!({"audience": "customer", "kind": "promotion", "text": "free tea today"}),
    )
    .await;
    boss.ok("menu_update", toggle("kimbap", true)).await;

    let expected = durable(&live.settle().await);
    let exp_seqs = seqs(&expected);
    let kinds: Vec<&str> = expected
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "order_created",
            "payment_confirmed",
            "order_update",
            "announcement",
            "menu_update"
        ],
        "{expected:?}"
    );
    assert!(exp_seqs[0] > since);
    assert!(
        exp_seqs.windows(2).any(|w| w[1] > w[0] + 1),
        "bob's order and the crew notice leave gaps: {exp_seqs:?}"
    );

    let mut back = Client::connect(
        &relay.ws_url(),
        &token("ann", Role::Customer),
        Role::Customer,
        Some(since),
    )
    .await;
    let replayed = back.settle().await;
    assert!(
        !replayed.iter().any(|m| m["type"] == "snapshot"),
        "a resume inside the log has no snapshot: {replayed:?}"
    );
    assert_eq!(seqs(&replayed), exp_seqs, "exactly the missed events");
    assert_eq!(replayed, expected, "replayed as they were sent live");
    for m in &replayed {
        if let Some(order) = m["data"].get("order") {
            assert_eq!(order["customer"]["id"], "ann", "{m}");
        }
        assert_ne!(m["data"]["order_id"], theirs, "{m}");
        assert_ne!(m["data"]["text"], "staff meal at 3", "{m}");
    }
    relay.stop().await;
}

/// Ann's card order; returns its id.
async fn ann_orders(ann: &mut Client) -> u64 {
    ann.ok("order_place", card_order(&[("bibimbap", 1)], GOOD_CARD))
        .await["order"]["id"]
        .as_u64()
        .unwrap()
}

/// A `since` equal to the head replays nothing; the next event is the first one seen.
#[tokio::test]
async fn since_at_head_replays_nothing() {
    let relay = TestRelay::start().await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    boss.ok("menu_update", toggle("kimbap", false)).await;
    boss.ok("menu_update", toggle("kimbap", true)).await;
    let url = relay.ws_url();
    let mut ann =
        Client::connect(&url, &token("ann", Role::Customer), Role::Customer, Some(2)).await;
    assert_eq!(ann.head_seq(), 2);
    assert_eq!(ann.settle().await, Vec::<Value>::new());
    boss.ok("menu_update", toggle("kimbap", false)).await;
    let next = ann.next().await;
    assert_eq!(next["type"], "menu_update");
    assert_eq!(next["seq"], 3);
    relay.stop().await;
}

/// A `since` past the head gets a snapshot with `reset: true` at the current head.
#[tokio::test]
async fn since_past_head_gets_reset_snapshot() {
    let relay = TestRelay::start().await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    boss.ok("menu_update", toggle("kimbap", false)).await;
    for since in [2, 1_000_000] {
        let mut c = Client::connect(
            &relay.ws_url(),
            &token("ann", Role::Customer),
            Role::Customer,
            Some(since),
        )
        .await;
        let snap = c.next().await;
        assert_eq!(snap["type"], "snapshot", "{snap}");
        assert_eq!(snap["data"]["reset"], true);
        assert_eq!(snap["data"]["head_seq"], 1);
        let kimbap = snap["data"]["menu"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == "kimbap")
            .unwrap()
            .clone();
        assert_eq!(kimbap["available"], false, "the snapshot reflects the log");
    }
    relay.stop().await;
}

/// A customer resuming from the start sees only their own orders and payments (gaps are normal); crew see every order.
#[tokio::test]
async fn resume_is_filtered_per_user() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut bob = relay.connect("bob", Role::Customer).await;
    let a = ann_orders(&mut ann).await;
    let b = bob
        .ok("order_place", card_order(&[("japchae", 2)], GOOD_CARD))
        .await["order"]["id"]
        .as_u64()
        .unwrap();
    let a2 = ann.ok("order_place", cash_order(&[("kimbap", 1)])).await["order"]["id"]
        .as_u64()
        .unwrap();

    let url = relay.ws_url();
    let mut ann_back =
        Client::connect(&url, &token("ann", Role::Customer), Role::Customer, Some(0)).await;
    let got = ann_back.settle().await;
    let kinds: Vec<(&str, u64, u64)> = got
        .iter()
        .map(|m| {
            (
                m["type"].as_str().unwrap(),
                m["seq"].as_u64().unwrap(),
                m["data"]["order_id"].as_u64().unwrap(),
            )
        })
        .collect();
    // Seqs 3 and 4 are bob's order and payment.
    assert_eq!(
        kinds,
        vec![
            ("order_created", 1, a),
            ("payment_confirmed", 2, a),
            ("order_created", 5, a2)
        ]
    );

    let mut kim = Client::connect(&url, &token("kim", Role::Crew), Role::Crew, Some(0)).await;
    let crew = kim.settle().await;
    let crew_orders: Vec<u64> = crew
        .iter()
        .map(|m| m["data"]["order_id"].as_u64().unwrap())
        .collect();
    assert_eq!(crew_orders, vec![a, b, a2], "crew get no payment events");
    assert_strictly_increasing(&seqs(&crew));
    for m in &crew {
        let p = &m["data"]["order"]["payment"];
        assert!(p.get("last4").is_none() && p.get("brand").is_none(), "{m}");
    }
    relay.stop().await;
}

/// Once the log is trimmed past `since`, resuming gets a reset snapshot; a `since` still in the log replays.
#[tokio::test]
async fn trimmed_log_resumes_with_reset_snapshot() {
    let relay = TestRelay::start_with(Limits {
        log_retention: 100,
        rate_per_sec: 1000,
        rate_burst: 1000,
        ..Limits::default()
    })
    .await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    for round in 0..3 {
        let batch: Vec<Value> = (0..40)
            .map(|i| {
                json!({"type": "menu_update", "id": format!("m{round}-{i}"),
                       "data": toggle("kimbap", i % 2 == 1)})
            })
            .collect();
        boss.send(json!({"type": "batch", "data": batch})).await;
        let last = format!("m{round}-39");
        let r = boss.reply_to(&last).await;
        assert_eq!(r["type"], "ack", "{r}");
    }
    let head = 120;
    let admin_token = token("boss", Role::Admin);
    // The relay trims on its 5 s tick.
    let url = relay.http_url("/api/events?since=1");
    let mut trimmed = false;
    for _ in 0..60 {
        let r = http_get(&url, Some(&admin_token)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        if r.body["events"][0]["type"] == "snapshot" {
            assert_eq!(r.body["events"][0]["data"]["reset"], true);
            trimmed = true;
            break;
        }
        assert_eq!(
            r.body["events"][0]["seq"], 2,
            "still in the log: {}",
            r.text
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(trimmed, "the log was not trimmed to its retention");

    let ws = relay.ws_url();
    let mut old =
        Client::connect(&ws, &token("ann", Role::Customer), Role::Customer, Some(1)).await;
    let snap = old.next().await;
    assert_eq!(snap["type"], "snapshot", "{snap}");
    assert_eq!(snap["data"]["reset"], true);
    assert_eq!(snap["data"]["head_seq"], head);

    let mut recent = Client::connect(
        &ws,
        &token("ann", Role::Customer),
        Role::Customer,
        Some(head - 10),
    )
    .await;
    let replay = recent.settle().await;
    assert_eq!(seqs(&replay), ((head - 9)..=head).collect::<Vec<_>>());
    assert!(!replay.iter().any(|m| m["type"] == "snapshot"));
    relay.stop().await;
}

/// `sync` replays like a resume and acks with the head; past the head it answers with a reset snapshot.
#[tokio::test]
async fn sync_replays_and_acks_head() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    boss.ok("menu_update", toggle("kimbap", false)).await;
    let since = ann.settle().await[0]["seq"].as_u64().unwrap();
    ann_orders(&mut ann).await;
    boss.ok("menu_update", toggle("kimbap", true)).await;
    let live = durable(&ann.settle().await);
    assert_eq!(seqs(&live), vec![2, 3, 4]);

    let ack = ann.ok("sync", json!({"since": since})).await;
    assert_eq!(ack["head_seq"], 4);
    let replayed = ann.settle().await;
    assert_eq!(replayed, live, "sync replays the same events");

    let ack = ann.ok("sync", json!({"since": 4})).await;
    assert_eq!(ack["head_seq"], 4);
    assert_eq!(ann.settle().await, Vec::<Value>::new());

    ann.ok("sync", json!({"since": 99})).await;
    let after = ann.settle().await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0]["type"], "snapshot");
    assert_eq!(after[0]["data"]["reset"], true);
    assert_eq!(after[0]["data"]["orders"].as_array().unwrap().len(), 1);
    relay.stop().await;
}

/// Seqs keep increasing across a graceful restart, the log_id stays, and a resume spans the restart.
#[tokio::test]
async fn seq_and_log_id_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start_in(dir.path(), Limits::default()).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let first = ann_orders(&mut ann).await;
    ann.ok("order_place", cash_order(&[("kimbap", 2)])).await;
    let before = durable(&kim.settle().await);
    let last = *seqs(&before).last().unwrap();
    let log_id = kim.authenticated["data"]["log_id"].clone();
    drop((kim, ann));
    relay.stop().await;

    let relay = TestRelay::start_in(dir.path(), Limits::default()).await;
    let url = relay.ws_url();
    let mut kim = Client::connect(&url, &token("kim", Role::Crew), Role::Crew, Some(last)).await;
    assert_eq!(kim.head_seq(), last);
    assert_eq!(kim.authenticated["data"]["log_id"], log_id);
    assert_eq!(kim.settle().await, Vec::<Value>::new());

    let mut ann = relay.connect("ann", Role::Customer).await;
    let third = ann.ok("order_place", cash_order(&[("japchae", 1)])).await;
    assert!(
        third["order"]["id"].as_u64().unwrap() > first + 1,
        "order ids not reused"
    );
    let created = kim.next_of("order_created").await;
    assert_eq!(created["seq"].as_u64().unwrap(), last + 1);

    // A resume from before the restart replays across it.
    let mut again = Client::connect(&url, &token("kim", Role::Crew), Role::Crew, Some(0)).await;
    let all = seqs(&again.settle().await);
    assert_strictly_increasing(&all);
    assert_eq!(all.len(), before.len() + 1);
    assert_eq!(*all.last().unwrap(), last + 1);
    relay.stop().await;
}
