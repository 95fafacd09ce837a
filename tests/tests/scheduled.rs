//! Orders placed for later (DESIGN §14): the `scheduled_for` checks,
//! `slot_full`, firing into `pending` at the fire time by the relay (and
//! after a `kill -9`, once), firing early by the kitchen, and the
//! customer's cancel and modify of a scheduled order.
//!
//! The `kill -9` test needs `target/debug/kfood-relay`: `cargo build -p
//! kfood-relay` (or `cargo test --workspace`) first.

use std::time::Duration;

use kfood_protocol::time::{format_ms, now_ms, parse_ms};
use kfood_protocol::Role;
use kfood_tests::*;
use serde_json::{json, Value};

/// Bibimbap's prep minutes in the demo menu, in ms.
const BIBIMBAP_PREP: i64 = 12 * 60_000;
/// The relay's default delivery minutes, in ms.
#[allow(dead_code)]
const RIDE: i64 = 25 * 60_000;

fn ms(v: &Value) -> i64 {
    parse_ms(v.as_str().unwrap_or_else(|| panic!("a time: {v}"))).unwrap()
}

/// A card pickup order of one Bibimbap for `at`.
fn scheduled_order(at: i64) -> Value {
    let mut o = card_order(&[("bibimbap", 1)], GOOD_CARD);
    o["scheduled_for"] = json!(format_ms(at));
    o
}

fn without_payment(order: &Value) -> Value {
    let mut q = order.clone();
    q.as_object_mut().unwrap().remove("payment");
    q
}

/// The relay's own signature on a fired order's history entry.
fn assert_fired_by_relay(order: &Value) {
    let last = order["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["status"], "pending");
    assert_eq!(
        last["by"],
        json!({"id": "relay", "name": "relay", "type": "system"})
    );
}

/// Unparseable, too soon (for pickup and for delivery) or more than 7 days
/// ahead is `invalid` on `scheduled_for`, for quotes and orders; a full
/// slot is `slot_full`; while paused, a good time still gets
/// `ordering_paused`, a bad one `invalid` first.
#[tokio::test]
async fn scheduled_refusals() {
    let relay = TestRelay::start().await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let now = now_ms();
    let mut unparseable = scheduled_order(now);
    unparseable["scheduled_for"] = json!("tonight");
    let mut delivery = scheduled_order(now + BIBIMBAP_PREP + 10 * 60_000);
    delivery["fulfillment"] = json!({"kind": "delivery", "address": "1 Main St"});
    let cases = [
        unparseable,
        scheduled_order(now + 60_000),
        scheduled_order(now + 8 * 24 * 3_600_000),
        delivery,
    ];
    for order in cases {
        for (kind, data) in [
            ("order_quote", without_payment(&order)),
            ("order_place", order.clone()),
        ] {
            let e = ann.refused(kind, data, "invalid").await;
            assert_eq!(e["field"], "scheduled_for", "{kind} {order}");
        }
    }
    // One order per slot: a second one for the same slot is refused.
    boss.ok("capacity_set", json!({"orders_per_slot": 1})).await;
    let at = (now + 2 * 3_600_000).div_euclid(900_000) * 900_000 + 300_000;
    let first = ann.ok("order_place", scheduled_order(at)).await;
    assert_eq!(first["order"]["status"], "scheduled");
    let same_slot = scheduled_order(at + 60_000);
    ann.refused("order_quote", without_payment(&same_slot), "slot_full")
        .await;
    ann.refused("order_place", same_slot, "slot_full").await;
    ann.ok("order_place", scheduled_order(at + 900_000)).await;
    // Paused: the invalid time is said first, a good one is paused.
    boss.ok("capacity_set", json!({"paused": true})).await;
    let e = ann
        .refused("order_place", scheduled_order(now + 60_000), "invalid")
        .await;
    assert_eq!(e["field"], "scheduled_for");
    ann.refused(
        "order_place",
        scheduled_order(at + 2 * 900_000),
        "ordering_paused",
    )
    .await;
}

/// A scheduled order is paid and starts `scheduled` with its times; at its
/// fire time (`ready_at` − prep) the relay moves it to `pending` with an
/// `order_update` signed by the relay, never before that time, and also
/// while ordering is paused.
#[tokio::test]
async fn a_scheduled_order_fires_on_time() {
    let relay = TestRelay::start().await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    // The fire time a few seconds ahead.
    let at = now_ms() + BIBIMBAP_PREP + 3_000;
    let quote = ann
        .ok("order_quote", without_payment(&scheduled_order(at)))
        .await;
    assert_eq!(ms(&quote["ready_at"]), at);
    // A delivery is ready its ride before the time it is wanted at the door.
    let mut door = without_payment(&scheduled_order(at + RIDE));
    door["fulfillment"] = json!({"kind": "delivery", "address": "1 Main St"});
    assert_eq!(ms(&ann.ok("order_quote", door).await["ready_at"]), at);
    let placed = ann.ok("order_place", scheduled_order(at)).await["order"].clone();
    assert_eq!(placed["status"], "scheduled");
    assert_eq!(placed["payment"]["status"], "paid");
    assert_eq!(ms(&placed["scheduled_for"]), at);
    assert_eq!(ms(&placed["ready_at"]), at);
    assert_eq!(ms(&placed["eta"]), at);
    assert_eq!(placed["history"][0]["status"], "scheduled");
    let created = kim.next_of("order_created").await;
    assert_eq!(created["data"]["status"], "scheduled");
    // A pause stops new orders, not the ones already placed.
    boss.ok("capacity_set", json!({"paused": true})).await;
    let fired = kim.next_of("order_update").await;
    assert_eq!(fired["data"]["status"], "pending");
    assert_eq!(fired["sender"], json!({"id": "relay", "type": "system"}));
    let order = &fired["data"]["order"];
    assert_fired_by_relay(order);
    let fire_at = at - BIBIMBAP_PREP;
    let last = order["history"].as_array().unwrap().last().unwrap();
    assert!(ms(&last["at"]) >= fire_at, "never before its fire time");
    // Ready when the kitchen can have it: its prep from the firing, and
    // never before its time.
    let kitchen = ms(&last["at"]) + BIBIMBAP_PREP;
    assert_eq!(ms(&order["eta"]), kitchen.max(at));
    let seen = ann.next_of("order_update").await;
    assert_eq!(seen["data"]["status"], "pending");
}

/// Crew fire a scheduled order early with `order_update` to `pending`; it
/// never goes back to `scheduled`, and its lines are not marked before it
/// fires.
#[tokio::test]
async fn crew_fire_early() {
    let relay = TestRelay::start().await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let at = now_ms() + 3 * 3_600_000;
    let id = ann.ok("order_place", scheduled_order(at)).await["order"]["id"].clone();
    let e = kim
        .refused(
            "line_done",
            json!({"order_id": id, "line": 0, "done": true}),
            "invalid_transition",
        )
        .await;
    assert!(e["message"].as_str().unwrap().contains("scheduled"), "{e}");
    kim.refused(
        "order_update",
        json!({"order_id": id, "prep_minutes": 20}),
        "invalid_transition",
    )
    .await;
    ann.refused(
        "order_update",
        json!({"order_id": id, "status": "pending"}),
        "forbidden",
    )
    .await;
    let fired = kim
        .ok("order_update", json!({"order_id": id, "status": "pending"}))
        .await;
    let order = &fired["order"];
    assert_eq!(order["status"], "pending");
    let last = order["history"].as_array().unwrap().last().unwrap();
    assert_eq!(last["by"]["id"], "kim");
    assert_eq!(ms(&order["eta"]), at, "the customer's time still holds");
    let ev = ann.next_of("order_update").await;
    assert_eq!(ev["data"]["status"], "pending");
    kim.refused(
        "order_update",
        json!({"order_id": id, "status": "scheduled"}),
        "invalid_transition",
    )
    .await;
}

/// The customer changes the instructions of a scheduled order and cancels
/// it like a pending one; a paid one is refunded.
#[tokio::test]
async fn customer_modifies_and_cancels_a_scheduled_order() {
    let relay = TestRelay::start().await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let at = now_ms() + 2 * 3_600_000;
    let id = ann.ok("order_place", scheduled_order(at)).await["order"]["id"].clone();
    let changed = ann
        .ok(
            "order_modify",
            json!({"order_id": id, "instructions": "ring twice"}),
        )
        .await;
    assert_eq!(changed["order"]["status"], "scheduled");
    assert_eq!(changed["order"]["instructions"], "ring twice");
    assert_eq!(
        kim.next_of("order_modified").await["data"]["order"]["instructions"],
        "ring twice"
    );
    let cancelled = ann
        .ok(
            "order_cancel",
            json!({"order_id": id, "reason": "plans changed"}),
        )
        .await;
    assert_eq!(cancelled["order"]["status"], "cancelled");
    assert_eq!(cancelled["order"]["payment"]["status"], "refunded");
    ann.next_of("payment_refunded").await;
    assert_eq!(
        kim.next_of("order_cancelled").await["data"]["status"],
        "cancelled"
    );
}

async fn connect(relay: &RelayProcess, id: &str, role: Role, since: Option<u64>) -> Client {
    Client::connect(&relay.ws_url(), &token(id, role), role, since).await
}

/// A relay killed with `kill -9` before a scheduled order's fire time
/// fires it when it starts again, once, with the real time in the history;
/// a second restart fires nothing more.
#[tokio::test]
async fn overdue_orders_fire_once_after_kill9() {
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::spawn(dir.path(), &[]).await;
    let mut ann = connect(&relay, "ann", Role::Customer, None).await;
    let mut boss = connect(&relay, "boss", Role::Admin, None).await;
    let first_at = now_ms() + BIBIMBAP_PREP + 4_000;
    let mut ids = Vec::new();
    // Two due while down (the later placed fires first: earlier fire time),
    // one still ahead.
    for at in [first_at + 500, first_at, first_at + 3_600_000] {
        let o = ann.ok("order_place", scheduled_order(at)).await;
        ids.push(o["order"]["id"].as_u64().unwrap());
    }
    let seen = seqs(&boss.settle().await);
    let last_seen = *seen.last().unwrap();
    drop((ann, boss));
    relay.kill9();
    // Wait out the fire times while the relay is down.
    let fire_at = first_at + 500 - BIBIMBAP_PREP;
    let wait = (fire_at - now_ms() + 200).max(0);
    tokio::time::sleep(Duration::from_millis(wait as u64)).await;

    let relay = RelayProcess::spawn(dir.path(), &[]).await;
    let mut boss = connect(&relay, "boss", Role::Admin, Some(last_seen)).await;
    let mut fired = Vec::new();
    while fired.len() < 2 {
        let ev = boss.next_of("order_update").await;
        assert_eq!(ev["data"]["status"], "pending");
        assert_fired_by_relay(&ev["data"]["order"]);
        let last = ev["data"]["order"]["history"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert!(
            ms(&last["at"]) > fire_at,
            "the real time, after the restart"
        );
        fired.push(ev["data"]["order_id"].as_u64().unwrap());
    }
    assert_eq!(fired, [ids[1], ids[0]], "in fire time order");
    let more = boss.settle().await;
    assert!(
        more.iter().all(|m| m["type"] != "order_update"),
        "each fired once: {more:?}"
    );
    drop(boss);
    relay.kill9();

    // Again: the log after the orders holds exactly the two firings.
    let relay = RelayProcess::spawn(dir.path(), &[]).await;
    let mut boss = connect(&relay, "boss", Role::Admin, Some(last_seen)).await;
    let since_placed = boss.settle().await;
    let to_pending = since_placed
        .iter()
        .filter(|m| m["type"] == "order_update" && m["data"]["status"] == "pending")
        .count();
    assert_eq!(to_pending, 2, "each fired exactly once: {since_placed:?}");
    let boss = connect(&relay, "boss", Role::Admin, None).await;
    let orders = boss.snapshot.as_ref().unwrap()["data"]["orders"].clone();
    let status = |id: u64| {
        orders
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == id)
            .map(|o| o["status"].clone())
    };
    assert_eq!(status(ids[0]), Some(json!("pending")));
    assert_eq!(status(ids[1]), Some(json!("pending")));
    assert_eq!(status(ids[2]), Some(json!("scheduled")));
    relay.kill9();
}
