//! Capacity (DESIGN §14): pausing online ordering, orders per 15-minute
//! slot and extra minutes, who may set what, and that the setting is in
//! every snapshot and `GET /api/menu` and survives a restart.

use std::time::Duration;

use kfood_protocol::time::{format_ms, now_ms, parse_ms};
use kfood_protocol::Role;
use kfood_tests::*;
use serde_json::{json, Value};

/// Length of a slot, in ms.
const SLOT: i64 = 900_000;

/// The order data without payment, as `order_quote` takes it.
fn quote_of(order: &Value) -> Value {
    let mut q = order.clone();
    q.as_object_mut().unwrap().remove("payment");
    q
}

fn ms(v: &Value) -> i64 {
    parse_ms(v.as_str().unwrap_or_else(|| panic!("a time: {v}"))).unwrap()
}

/// While paused, quotes and orders get `ordering_paused` and nothing is
/// created; the checks before it (unknown items) still come first; resuming
/// opens ordering again, and everyone hears each change.
#[tokio::test]
async fn paused_refuses_quotes_and_orders() {
    let relay = TestRelay::start().await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let ack = boss.ok("capacity_set", json!({"paused": true})).await;
    assert_eq!(ack["capacity"]["paused"], true);
    for c in [&mut kim, &mut ann] {
        let ev = c.next_of("capacity_update").await;
        assert_eq!(ev["data"]["paused"], true);
        assert_eq!(ev["data"]["by"]["id"], "boss");
        assert!(ev["seq"].as_u64().is_some(), "durable: {ev}");
    }
    let order = card_order(&[("bibimbap", 1)], GOOD_CARD);
    ann.refused("order_quote", quote_of(&order), "ordering_paused")
        .await;
    ann.refused("order_place", order.clone(), "ordering_paused")
        .await;
    let mut bad_total = cash_order(&[("bibimbap", 1)]);
    bad_total["expected_total_cents"] = json!(1);
    ann.refused("order_place", bad_total, "ordering_paused")
        .await;
    ann.refused(
        "order_place",
        cash_order(&[("no-such-dish", 1)]),
        "unknown_item",
    )
    .await;
    let quiet = boss.settle().await;
    assert!(
        quiet.iter().all(|m| m["type"] != "order_created"),
        "nothing was created: {quiet:?}"
    );
    boss.ok("capacity_set", json!({"paused": false})).await;
    assert_eq!(
        ann.next_of("capacity_update").await["data"]["paused"],
        false
    );
    let placed = ann.ok("order_place", order).await;
    assert_eq!(placed["order"]["status"], "pending");
}

/// Crew may pause and resume but not set slots or extra minutes (`forbidden`
/// naming the field); customers may not send it; ranges are `invalid`; a
/// value that changes nothing is acked with no event.
#[tokio::test]
async fn who_may_set_what_and_ranges() {
    let relay = TestRelay::start().await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let until = format_ms(now_ms() + 3_600_000);
    kim.ok(
        "capacity_set",
        json!({"paused": true, "paused_until": until}),
    )
    .await;
    let ev = boss.next_of("capacity_update").await;
    assert_eq!(ev["data"]["by"]["type"], "crew");
    assert_eq!(ms(&ev["data"]["paused_until"]), ms(&json!(until)));
    for (field, data) in [
        (
            "orders_per_slot",
            json!({"paused": false, "orders_per_slot": 3}),
        ),
        ("extra_minutes", json!({"extra_minutes": 5})),
    ] {
        let e = kim.refused("capacity_set", data, "forbidden").await;
        assert_eq!(e["field"], field);
    }
    ann.refused("capacity_set", json!({"paused": true}), "forbidden")
        .await;
    for (field, data) in [
        ("orders_per_slot", json!({"orders_per_slot": 1001})),
        ("extra_minutes", json!({"extra_minutes": 121})),
        ("paused_until", json!({"paused_until": "after lunch"})),
        (
            "paused_until",
            json!({"paused_until": "2020-01-01T00:00:00Z"}),
        ),
    ] {
        let e = boss.refused("capacity_set", data, "invalid").await;
        assert_eq!(e["field"], field);
    }
    boss.ok(
        "capacity_set",
        json!({"orders_per_slot": 1000, "extra_minutes": 120}),
    )
    .await;
    boss.next_of("capacity_update").await;
    // The same values again: acked, no event.
    let same = boss
        .ok(
            "capacity_set",
            json!({"paused": true, "orders_per_slot": 1000, "extra_minutes": 120}),
        )
        .await;
    assert_eq!(same["capacity"]["orders_per_slot"], 1000);
    let after = boss.settle().await;
    assert!(
        after.iter().all(|m| m["type"] != "capacity_update"),
        "no event for no change: {after:?}"
    );
    // Resuming clears the end of the pause.
    let resumed = kim.ok("capacity_set", json!({"paused": false})).await;
    assert_eq!(resumed["capacity"]["paused_until"], Value::Null);
}

/// A pause with `paused_until` ends by itself: quotes are refused until
/// then and priced after, with no event needed.
#[tokio::test]
async fn a_timed_pause_ends_by_itself() {
    let relay = TestRelay::start().await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let until = now_ms() + 1500;
    boss.ok(
        "capacity_set",
        json!({"paused": true, "paused_until": format_ms(until)}),
    )
    .await;
    let q = quote_of(&cash_order(&[("kimbap", 1)]));
    let first = ann.request("order_quote", q.clone()).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut answer = first.clone();
    while answer["type"] == "error" {
        assert_eq!(answer["data"]["code"], "ordering_paused", "{answer}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "the pause never ended"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        answer = ann.request("order_quote", q.clone()).await;
    }
    assert!(now_ms() >= until, "not before paused_until");
    assert!(answer["data"]["total_cents"].as_i64().unwrap() > 0);
    if first["type"] == "error" {
        assert_eq!(first["data"]["code"], "ordering_paused");
    }
}

/// With two orders per slot, once the slot of an order's ready time holds
/// two, the third is quoted and placed for the start of the next slot, and
/// its eta follows; extra minutes push every ready time.
#[tokio::test]
async fn the_third_order_in_a_full_slot_goes_to_the_next() {
    let relay = TestRelay::start().await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    boss.ok("capacity_set", json!({"orders_per_slot": 2})).await;
    // The kitchen's time may cross a slot's end while the test runs: fill
    // the slot again then (at most once a quarter hour).
    for _round in 0..3 {
        let mut slots: Vec<i64> = Vec::new();
        let full = loop {
            let o = ann.ok("order_place", cash_order(&[("bibimbap", 1)])).await;
            let ready = ms(&o["order"]["ready_at"]);
            assert_eq!(o["order"]["eta"], o["order"]["ready_at"], "pickup");
            slots.push(ready.div_euclid(SLOT));
            let k = *slots.last().unwrap();
            if slots.iter().filter(|s| **s == k).count() == 2 {
                break k;
            }
        };
        let quote = ann
            .ok("order_quote", quote_of(&cash_order(&[("bibimbap", 1)])))
            .await;
        let ready = ms(&quote["ready_at"]);
        if ready != (full + 1) * SLOT {
            // The kitchen's own time left the full slot meanwhile.
            assert!(ready.div_euclid(SLOT) > full, "never in the full slot");
            continue;
        }
        let third = ann.ok("order_place", cash_order(&[("bibimbap", 1)])).await;
        let placed = ms(&third["order"]["ready_at"]);
        assert!(placed.div_euclid(SLOT) > full, "placed in the next slot");
        assert_eq!(third["order"]["eta"], third["order"]["ready_at"]);
        // Extra minutes move the kitchen's time itself.
        boss.ok(
            "capacity_set",
            json!({"orders_per_slot": 0, "extra_minutes": 30}),
        )
        .await;
        let before = now_ms();
        let q = ann
            .ok("order_quote", quote_of(&cash_order(&[("kimbap", 1)])))
            .await;
        let prep = 36 * 60_000; // kimbap's 6 minutes + 30 extra
        let ready = ms(&q["ready_at"]);
        assert!(ready >= before + prep && ready <= now_ms() + prep, "{q}");
        return;
    }
    panic!("the slot rule was never seen with a full slot");
}

/// The setting is in every snapshot (with who set it) and in
/// `GET /api/menu` (without), and survives a restart.
#[tokio::test]
async fn capacity_persists_and_is_in_snapshots_and_the_menu() {
    let tmp = tempfile::tempdir().unwrap();
    let relay = TestRelay::start_in(tmp.path(), Default::default()).await;
    let menu = http_get(&relay.http_url("/api/menu"), None).await;
    assert_eq!(
        menu.body["capacity"],
        json!({"paused": false, "paused_until": null, "orders_per_slot": 0, "extra_minutes": 0})
    );
    let ann = relay.connect("ann", Role::Customer).await;
    let initial = &ann.snapshot.as_ref().unwrap()["data"]["capacity"];
    assert_eq!(initial["at"], Value::Null);
    assert_eq!(initial["by"], Value::Null);
    let mut boss = relay.connect("boss", Role::Admin).await;
    let set = json!({"paused": true, "orders_per_slot": 4, "extra_minutes": 10});
    let ack = boss.ok("capacity_set", set).await;
    let stored = ack["capacity"].clone();
    drop((ann, boss));
    relay.stop().await;

    let relay = TestRelay::start_in(tmp.path(), Default::default()).await;
    for role in Role::ALL {
        let c = relay.connect("someone", role).await;
        let snap = &c.snapshot.as_ref().unwrap()["data"]["capacity"];
        assert_eq!(snap, &stored, "{role}");
        assert_eq!(snap["by"]["id"], "boss");
    }
    let menu = http_get(&relay.http_url("/api/menu"), None).await;
    assert_eq!(
        menu.body["capacity"],
        json!({"paused": true, "paused_until": null, "orders_per_slot": 4, "extra_minutes": 10})
    );
    relay.stop().await;
}
