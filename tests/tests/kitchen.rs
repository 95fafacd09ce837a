//! The kitchen of DESIGN §13 against a real relay: stations on items and
//! lines, `line_done` and its rules, `--auto-ready`, recall of a delivered
//! order, kitchen notes, and what crew see of all of it.

use kfood_protocol::Role;
use kfood_relay::config::Limits;
use kfood_tests::{card_order, cash_order, Client, TestRelay, GOOD_CARD};
use serde_json::{json, Value};

/// Places `items` as `ann` and returns the order as acked.
async fn place(ann: &mut Client, items: &[(&str, u32)]) -> Value {
    ann.ok("order_place", cash_order(items)).await["order"].clone()
}

fn mark(order: &Value, line: u64, done: bool) -> Value {
    json!({"order_id": order["id"], "line": line, "done": done})
}

/// Each order line copies its item's station; the demo menu spreads over
/// grill, wok, cold and drinks.
#[tokio::test]
async fn lines_carry_their_station() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let menu = ann.snapshot.clone().expect("snapshot")["data"]["menu"].clone();
    let stations: std::collections::BTreeSet<&str> = menu
        .as_array()
        .expect("menu")
        .iter()
        .filter_map(|i| i["station"].as_str())
        .collect();
    assert_eq!(
        stations,
        ["cold", "drinks", "grill", "wok"].into_iter().collect()
    );
    let o = place(&mut ann, &[("bulgogi", 1), ("sikhye", 2)]).await;
    assert_eq!(o["lines"][0]["station"], "grill");
    assert_eq!(o["lines"][1]["station"], "drinks");
    assert_eq!(o["lines"][0]["done"], Value::Null);
}

/// A mark on a pending order starts it (one event, history by the cook);
/// a repeat is acked with no event; undo keeps the status; a line outside
/// the order is `invalid` on `line`; customers may not mark.
#[tokio::test]
async fn line_done_rules() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let o = place(&mut ann, &[("bulgogi", 1), ("sikhye", 1)]).await;
    kim.next_of("order_created").await;
    ann.next_of("order_created").await;

    let acked = kim.ok("line_done", mark(&o, 0, true)).await["order"].clone();
    assert_eq!(acked["status"], "preparing");
    assert_eq!(acked["lines"][0]["done"]["by"]["id"], "kim");
    let last = acked["history"]
        .as_array()
        .expect("history")
        .last()
        .cloned();
    assert_eq!(
        last.map(|h| (h["status"].clone(), h["by"]["id"].clone())),
        Some((json!("preparing"), json!("kim")))
    );
    let ev = ann.next_of("order_update").await;
    assert_eq!(ev["data"]["status"], "preparing");
    assert!(ev["data"]["order"]["lines"][0]["done"].is_object());

    // The same mark again: acked with the order, no event.
    let again = kim.ok("line_done", mark(&o, 0, true)).await;
    assert_eq!(
        again["order"]["lines"][0]["done"],
        acked["lines"][0]["done"]
    );
    assert!(ann
        .collect("order_update", std::time::Duration::from_millis(300))
        .await
        .is_empty());

    // Undo: the mark goes, the status stays, no history entry.
    let undone = kim.ok("line_done", mark(&o, 0, false)).await["order"].clone();
    assert_eq!(undone["status"], "preparing");
    assert_eq!(undone["lines"][0]["done"], Value::Null);
    assert_eq!(
        undone["history"].as_array().map(Vec::len),
        acked["history"].as_array().map(Vec::len)
    );

    let bad = kim.refused("line_done", mark(&o, 2, true), "invalid").await;
    assert_eq!(bad["field"], "line");
    ann.refused("line_done", mark(&o, 0, true), "forbidden")
        .await;
    let missing = kim
        .refused(
            "line_done",
            json!({"order_id": 9999, "line": 0, "done": true}),
            "not_found",
        )
        .await;
    assert_eq!(missing["field"], "order_id");
}

/// All lines done leaves the order preparing for the expo; marks are
/// refused once it is ready (and on cancelled orders), and kept by bumps.
#[tokio::test]
async fn all_done_waits_for_the_expo() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let o = place(&mut ann, &[("bulgogi", 1), ("sikhye", 1)]).await;
    kim.ok("line_done", mark(&o, 0, true)).await;
    let both = kim.ok("line_done", mark(&o, 1, true)).await["order"].clone();
    assert_eq!(both["status"], "preparing");
    let ready = kim
        .ok(
            "order_update",
            json!({"order_id": o["id"], "status": "ready"}),
        )
        .await["order"]
        .clone();
    assert!(
        ready["lines"][1]["done"].is_object(),
        "bumps keep the marks"
    );
    kim.refused("line_done", mark(&o, 1, false), "invalid_transition")
        .await;

    let c = place(&mut ann, &[("kimbap", 1)]).await;
    ann.ok(
        "order_cancel",
        json!({"order_id": c["id"], "reason": "changed my mind"}),
    )
    .await;
    kim.refused("line_done", mark(&c, 0, true), "invalid_transition")
        .await;
}

/// With `--auto-ready` the last mark moves the order to ready in the same event.
#[tokio::test]
async fn auto_ready_moves_the_last_mark_to_ready() {
    let relay = TestRelay::start_with(Limits {
        auto_ready: true,
        ..Limits::default()
    })
    .await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let o = place(&mut ann, &[("bulgogi", 1), ("sikhye", 1)]).await;
    kim.ok("line_done", mark(&o, 1, true)).await;
    let last = kim.ok("line_done", mark(&o, 0, true)).await["order"].clone();
    assert_eq!(last["status"], "ready");
    let statuses: Vec<Value> = last["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        [json!("pending"), json!("preparing"), json!("ready")]
    );
    // The same last mark again (its ack lost): acked with the order, not refused.
    let again = kim.ok("line_done", mark(&o, 0, true)).await["order"].clone();
    assert_eq!(again["status"], "ready");
    ann.next_of("order_created").await;
    let a = ann.next_of("order_update").await;
    let b = ann.next_of("order_update").await;
    assert_eq!(
        (a["data"]["status"].clone(), b["data"]["status"].clone()),
        (json!("preparing"), json!("ready"))
    );
}

/// A delivered order may be recalled to ready within 15 minutes, with its eta back.
#[tokio::test]
async fn delivered_can_be_recalled() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let o = place(&mut ann, &[("bulgogi", 1)]).await;
    let id = o["id"].clone();
    for s in ["preparing", "ready"] {
        kim.ok("order_update", json!({"order_id": id, "status": s}))
            .await;
    }
    let ready_eta = kim
        .ok("order_update", json!({"order_id": id, "status": "ready"}))
        .await["order"]["eta"]
        .clone();
    let delivered = kim
        .ok(
            "order_update",
            json!({"order_id": id, "status": "delivered"}),
        )
        .await;
    assert_eq!(delivered["order"]["eta"], Value::Null);
    let back = kim
        .ok("order_update", json!({"order_id": id, "status": "ready"}))
        .await;
    assert_eq!(back["order"]["status"], "ready");
    assert_eq!(back["order"]["eta"], ready_eta);
    ann.refused(
        "order_update",
        json!({"order_id": id, "status": "preparing"}),
        "forbidden",
    )
    .await;
}

/// A kitchen note is an `order_update` with no status: the history gets the
/// note under the current status and the customer receives it; it is one
/// line of at most 200 characters, and refused on a cancelled order.
#[tokio::test]
async fn kitchen_notes_reach_the_customer() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let o = place(&mut ann, &[("bulgogi", 1)]).await;
    ann.next_of("order_created").await;
    let noted = kim
        .ok(
            "order_update",
            json!({"order_id": o["id"], "note": "out of lettuce,\nwraps on the side"}),
        )
        .await["order"]
        .clone();
    assert_eq!(noted["status"], "pending");
    let h = noted["history"]
        .as_array()
        .and_then(|h| h.last().cloned())
        .expect("entry");
    assert_eq!(
        (h["status"].clone(), h["note"].clone()),
        (json!("pending"), json!("out of lettuce,wraps on the side"))
    );
    let ev = ann.next_of("order_update").await;
    assert_eq!(
        ev["data"]["order"]["history"]
            .as_array()
            .and_then(|h| h.last().cloned())
            .map(|h| h["note"].clone()),
        Some(json!("out of lettuce,wraps on the side"))
    );
    let long = "x".repeat(201);
    let e = kim
        .refused(
            "order_update",
            json!({"order_id": o["id"], "note": long}),
            "invalid",
        )
        .await;
    assert_eq!(e["field"], "note");
    ann.ok(
        "order_cancel",
        json!({"order_id": o["id"], "reason": "sorry"}),
    )
    .await;
    kim.refused(
        "order_update",
        json!({"order_id": o["id"], "note": "too late"}),
        "invalid_transition",
    )
    .await;
}

/// Crew never see card data on the new paths (line marks, notes); the
/// owning customer and admins see the payment whole.
#[tokio::test]
async fn crew_never_see_card_data_on_line_marks() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let o = ann
        .ok("order_place", card_order(&[("bulgogi", 1)], GOOD_CARD))
        .await["order"]
        .clone();
    let acked = kim.ok("line_done", mark(&o, 0, true)).await["order"].clone();
    let noted = kim
        .ok(
            "order_update",
            json!({"order_id": o["id"], "note": "two minutes"}),
        )
        .await["order"]
        .clone();
    for v in [&acked, &noted] {
        assert_eq!(
            v["payment"].as_object().map(|p| p.len()),
            Some(2),
            "{}",
            v["payment"]
        );
    }
    for _ in 0..2 {
        let ev = kim.next_of("order_update").await;
        let text = ev.to_string();
        assert!(!text.contains("4242") && !text.contains("last4"), "{text}");
    }
    let ev = boss.next_of("order_update").await;
    assert_eq!(ev["data"]["order"]["payment"]["last4"], "4242");
}
