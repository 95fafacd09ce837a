//! Orders end to end (DESIGN §5 order requests, §6 the order and its states,
//! §7 payments): placing, pricing, paying, modifying, cancelling, the status
//! machine, and the fields a bad order is refused on.

use kfood_protocol::time::parse_ms;
use kfood_protocol::Role;
use kfood_tests::*;
use serde_json::{json, Value};

/// The messages of type `kind` that reached `c` and were not read yet (up to
/// a barrier the relay answers after everything it queued before).
async fn unread(c: &mut Client, kind: &str) -> Vec<Value> {
    c.settle()
        .await
        .into_iter()
        .filter(|m| m["type"] == kind)
        .collect()
}

fn id_of(ack: &Value) -> u64 {
    ack["order"]["id"].as_u64().expect("ack carries the order")
}

/// Places a one-kimbap cash order; returns its id.
async fn place_cash(c: &mut Client) -> u64 {
    id_of(&c.ok("order_place", cash_order(&[("kimbap", 1)])).await)
}

/// Asserts that `reply` is an `error` with `code` (and `field`, when given).
#[track_caller]
fn check_refused(reply: &Value, code: &str, field: Option<&str>) {
    assert_eq!(reply["type"], "error", "expected {code}, got {reply}");
    assert_eq!(reply["data"]["code"], code, "{reply}");
    if let Some(f) = field {
        assert_eq!(reply["data"]["field"], f, "{reply}");
    }
}

/// Minutes between two RFC 3339 times.
#[track_caller]
fn minutes_between(from: &Value, to: &Value) -> i64 {
    let a = parse_ms(from.as_str().expect("a time")).expect("RFC 3339");
    let b = parse_ms(to.as_str().expect("a time")).expect("RFC 3339");
    assert_eq!((b - a) % 60_000, 0, "{from} → {to} is not whole minutes");
    (b - a) / 60_000
}

/// Waits for `kind` on `c` and checks it is about `order_id` with `status`.
async fn expect_order_event(c: &mut Client, kind: &str, order_id: u64, status: &str) -> Value {
    let e = c.next_of(kind).await;
    assert_eq!(e["data"]["order_id"], order_id, "{e}");
    assert_eq!(e["data"]["status"], status, "{e}");
    assert_eq!(e["data"]["order"]["status"], status, "{e}");
    assert!(e["seq"].as_u64().is_some(), "order events are durable: {e}");
    e
}

/// A card order is acked with the whole order: code, lines priced from the menu, a paid payment without the card number, an eta.
#[tokio::test]
async fn card_order_is_acked_with_the_whole_order() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;

    let ack = ann
        .ok(
            "order_place",
            card_order(&[("bibimbap", 2), ("kimbap", 1)], GOOD_CARD),
        )
        .await;
    let o = &ack["order"];
    assert_eq!(o["id"], 1);
    assert_eq!(o["code"], "K-0001");
    assert_eq!(o["status"], "pending");
    assert_eq!(o["customer"], json!({"id": "ann", "name": "ann name"}));
    assert_eq!(o["lines"][0]["item_id"], "bibimbap");
    assert_eq!(o["lines"][0]["name"], "Bibimbap");
    assert_eq!(o["lines"][0]["qty"], 2);
    assert_eq!(o["lines"][0]["unit_price_cents"], 1350);
    assert_eq!(o["lines"][1]["unit_price_cents"], 800);
    assert_eq!(o["subtotal_cents"], 3500);
    assert_eq!(o["discount_cents"], 0);
    assert_eq!(o["total_cents"], 3500);
    assert_eq!(o["fulfillment"], json!({"kind": "pickup"}));
    assert_eq!(o["payment"]["method"], "card");
    assert_eq!(o["payment"]["status"], "paid");
    assert_eq!(o["payment"]["brand"], "visa");
    assert_eq!(o["payment"]["last4"], "4242");
    assert_eq!(o["payment"]["amount_cents"], 3500);
    assert!(o["payment"]["id"].is_string(), "{o}");
    assert_eq!(o["prep_minutes"], 12, "the slowest line sets the prep time");
    assert!(o["eta"].is_string(), "an open order has an eta: {o}");
    assert_eq!(o["history"][0]["status"], "pending");
    assert_eq!(o["history"][0]["by"]["id"], "ann");
    assert!(
        !ack.to_string().contains(GOOD_CARD),
        "the full card number never comes back: {ack}"
    );

    let second = ann.ok("order_place", cash_order(&[("kimbap", 1)])).await;
    assert_eq!(second["order"]["code"], "K-0002");
    relay.stop().await;
}

/// Crew and admins bump an order pending → preparing → ready → delivered; every step reaches the customer, crew and admins, and the eta goes null once delivered.
#[tokio::test]
async fn every_bump_reaches_the_order_parties() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let id = id_of(
        &ann.ok("order_place", card_order(&[("kimbap", 1)], GOOD_CARD))
            .await,
    );

    for (step, status) in ["preparing", "ready", "delivered"].into_iter().enumerate() {
        // Crew and admins both may bump.
        let actor = if step == 1 { &mut boss } else { &mut kim };
        let ack = actor
            .ok("order_update", json!({"order_id": id, "status": status}))
            .await;
        assert_eq!(ack["order"]["status"], status);
        for c in [&mut ann, &mut kim, &mut boss] {
            let e = expect_order_event(c, "order_update", id, status).await;
            let eta = &e["data"]["order"]["eta"];
            if status == "delivered" {
                assert!(eta.is_null(), "no eta once delivered: {e}");
            } else {
                assert!(eta.is_string(), "an open order has an eta: {e}");
            }
        }
    }
    relay.stop().await;
}

/// A recall steps an order back one status (preparing → pending by crew, ready → preparing by an admin) and is broadcast and recorded in the history.
#[tokio::test]
async fn recall_steps_back_one_status() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let id = id_of(&ann.ok("order_place", cash_order(&[("kimbap", 1)])).await);

    kim.ok(
        "order_update",
        json!({"order_id": id, "status": "preparing"}),
    )
    .await;
    let back = kim
        .ok("order_update", json!({"order_id": id, "status": "pending"}))
        .await;
    assert_eq!(back["order"]["status"], "pending");
    let statuses: Vec<&str> = back["order"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["pending", "preparing", "pending"]);
    expect_order_event(&mut ann, "order_update", id, "preparing").await;
    expect_order_event(&mut ann, "order_update", id, "pending").await;

    for status in ["preparing", "ready"] {
        kim.ok("order_update", json!({"order_id": id, "status": status}))
            .await;
    }
    let back = boss
        .ok(
            "order_update",
            json!({"order_id": id, "status": "preparing"}),
        )
        .await;
    assert_eq!(back["order"]["status"], "preparing");
    expect_order_event(&mut ann, "order_update", id, "preparing").await;
    expect_order_event(&mut ann, "order_update", id, "ready").await;
    let e = expect_order_event(&mut ann, "order_update", id, "preparing").await;
    assert_eq!(e["sender"], json!({"id": "boss", "type": "admin"}));
    relay.stop().await;
}

/// Jumps of two steps, moves out of a final status and cancelling through order_update are invalid_transition and send no event.
#[tokio::test]
async fn skipping_statuses_is_an_invalid_transition() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let pending = place_cash(&mut ann).await;
    let preparing = place_cash(&mut ann).await;
    let ready = place_cash(&mut ann).await;
    let delivered = place_cash(&mut ann).await;
    let cancelled = place_cash(&mut ann).await;
    let mut bumps = 0;
    for (id, steps) in [(preparing, 1), (ready, 2), (delivered, 3)] {
        for status in &["preparing", "ready", "delivered"][..steps] {
            kim.ok("order_update", json!({"order_id": id, "status": status}))
                .await;
            bumps += 1;
        }
    }
    kim.ok(
        "order_cancel",
        json!({"order_id": cancelled, "reason": "test"}),
    )
    .await;
    for _ in 0..bumps {
        ann.next_of("order_update").await;
    }

    let cases = [
        (pending, "ready"),
        (pending, "delivered"),
        (preparing, "delivered"),
        (ready, "pending"),
        (delivered, "pending"),
        (cancelled, "pending"),
        (cancelled, "preparing"),
    ];
    for (id, status) in cases {
        let r = kim
            .request("order_update", json!({"order_id": id, "status": status}))
            .await;
        check_refused(&r, "invalid_transition", None);
    }
    let r = kim
        .request(
            "order_update",
            json!({"order_id": pending, "status": "cancelled"}),
        )
        .await;
    check_refused(&r, "invalid_transition", Some("status"));

    // Nothing changed: the next update the customer sees is this one.
    kim.ok(
        "order_update",
        json!({"order_id": pending, "status": "preparing"}),
    )
    .await;
    expect_order_event(&mut ann, "order_update", pending, "preparing").await;
    let fresh = relay.connect("ann", Role::Customer).await;
    let orders = fresh.snapshot.as_ref().unwrap()["data"]["orders"].clone();
    let status_of = |id: u64| {
        orders
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == id)
            .map(|o| o["status"].clone())
    };
    assert_eq!(status_of(ready).unwrap(), "ready");
    assert_eq!(status_of(delivered).unwrap(), "delivered");
    assert_eq!(status_of(cancelled).unwrap(), "cancelled");
    relay.stop().await;
}

/// Setting the status an order already has (or cancelling a cancelled one, or modifying to the same instructions) is acked with the order and sends no event.
#[tokio::test]
async fn repeating_a_change_is_acked_without_an_event() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let id = id_of(&ann.ok("order_place", cash_order(&[("kimbap", 1)])).await);

    ann.ok(
        "order_modify",
        json!({"order_id": id, "instructions": "extra napkins"}),
    )
    .await;
    let again = ann
        .ok(
            "order_modify",
            json!({"order_id": id, "instructions": "extra napkins"}),
        )
        .await;
    assert_eq!(again["order"]["instructions"], "extra napkins");
    kim.ok(
        "order_update",
        json!({"order_id": id, "status": "preparing"}),
    )
    .await;
    let again = kim
        .ok(
            "order_update",
            json!({"order_id": id, "status": "preparing"}),
        )
        .await;
    assert_eq!(again["order"]["status"], "preparing");
    assert_eq!(
        again["order"]["history"].as_array().unwrap().len(),
        2,
        "a repeat adds no history: {again}"
    );
    assert_eq!(
        unread(&mut kim, "order_modified").await.len(),
        1,
        "the repeated modify sent no event"
    );
    // The next update the customer sees is the prep change, not a repeat.
    kim.ok("order_update", json!({"order_id": id, "prep_minutes": 30}))
        .await;
    expect_order_event(&mut ann, "order_update", id, "preparing").await;
    let e = expect_order_event(&mut ann, "order_update", id, "preparing").await;
    assert_eq!(e["data"]["order"]["prep_minutes"], 30);

    kim.ok(
        "order_cancel",
        json!({"order_id": id, "reason": "out of rice"}),
    )
    .await;
    let again = kim
        .ok(
            "order_cancel",
            json!({"order_id": id, "reason": "out of rice"}),
        )
        .await;
    assert_eq!(again["order"]["status"], "cancelled");
    expect_order_event(&mut ann, "order_cancelled", id, "cancelled").await;
    assert!(unread(&mut ann, "order_cancelled").await.is_empty());
    relay.stop().await;
}

/// order_place with a client_order_id the customer already used returns the same order and creates (and charges) nothing; another customer's same id is their own order.
#[tokio::test]
async fn order_place_is_idempotent() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut bob = relay.connect("bob", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let data = card_order(&[("bibimbap", 1)], GOOD_CARD);

    let first = ann.ok("order_place", data.clone()).await;
    let again = ann.ok("order_place", data.clone()).await;
    assert_eq!(first["order"], again["order"]);
    let bobs = bob.ok("order_place", data.clone()).await;
    assert_ne!(id_of(&bobs), id_of(&first));
    assert_eq!(bobs["order"]["customer"]["id"], "bob");
    let other = id_of(&ann.ok("order_place", cash_order(&[("kimbap", 1)])).await);

    let created: Vec<u64> = [
        kim.next_of("order_created").await,
        kim.next_of("order_created").await,
        kim.next_of("order_created").await,
    ]
    .iter()
    .map(|e| e["data"]["order_id"].as_u64().unwrap())
    .collect();
    assert_eq!(created, [id_of(&first), id_of(&bobs), other]);
    let paid = ann.next_of("payment_confirmed").await;
    assert_eq!(paid["data"]["order_id"], id_of(&first));
    assert!(unread(&mut ann, "payment_confirmed").await.is_empty());
    relay.stop().await;
}

/// An expected_total_cents that differs from the relay's total is price_changed and places nothing; the right one places the order.
#[tokio::test]
async fn stale_expected_total_is_price_changed() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut data = card_order(&[("bibimbap", 2)], GOOD_CARD);

    data["expected_total_cents"] = json!(2 * 1300);
    let r = ann.request("order_place", data.clone()).await;
    check_refused(&r, "price_changed", Some("expected_total_cents"));
    data["expected_total_cents"] = json!(2 * 1350);
    let ack = ann.ok("order_place", data).await;
    assert_eq!(ack["order"]["total_cents"], 2700);
    let created = kim.next_of("order_created").await;
    assert_eq!(created["data"]["order_id"], id_of(&ack));
    assert_eq!(id_of(&ack), 1, "the refused attempt used no order id");
    relay.stop().await;
}

/// Percent and amount promo codes discount the subtotal (case-insensitively, never below zero) in quotes and orders.
#[tokio::test]
async fn promo_codes_discount_the_subtotal() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    boss.ok(
        "promo_upsert",
        json!({"code": "TENOFF", "percent_off": 10, "active": true}),
    )
    .await;
    boss.ok(
        "promo_upsert",
        json!({"code": "FIVE", "amount_off_cents": 500, "active": true}),
    )
    .await;

    let with = |code: &str, items: &[(&str, u32)]| {
        let mut d = card_order(items, GOOD_CARD);
        d["promo_code"] = json!(code);
        d
    };
    let cases = [
        ("tenoff", ("bibimbap", 2), (2700, 270, 2430)),
        ("FIVE", ("bibimbap", 2), (2700, 500, 2200)),
        (" five ", ("barley-tea", 1), (250, 250, 0)),
    ];
    for (code, item, (sub, disc, total)) in cases {
        let q = ann.ok("order_quote", with(code, &[item])).await;
        assert_eq!(
            (
                &q["subtotal_cents"],
                &q["discount_cents"],
                &q["total_cents"]
            ),
            (&json!(sub), &json!(disc), &json!(total)),
            "{code}: {q}"
        );
    }
    let ack = ann
        .ok("order_place", with("five", &[("bibimbap", 2)]))
        .await;
    let o = &ack["order"];
    assert_eq!(o["discount_cents"], 500);
    assert_eq!(o["total_cents"], 2200);
    assert_eq!(o["promo_code"], "FIVE");
    assert_eq!(
        o["payment"]["amount_cents"], 2200,
        "the card is charged the total"
    );
    relay.stop().await;
}

/// Unknown, inactive, expired and malformed promo codes are invalid_promo for quotes and orders.
#[tokio::test]
async fn unusable_promo_codes_are_invalid_promo() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    boss.ok(
        "promo_upsert",
        json!({"code": "OFF", "percent_off": 10, "active": false}),
    )
    .await;
    boss.ok(
        "promo_upsert",
        json!({"code": "OLD", "amount_off_cents": 100, "active": true, "expires_at": "2020-01-01T00:00:00Z"}),
    )
    .await;
    boss.ok(
        "promo_upsert",
        json!({"code": "GONE", "percent_off": 20, "active": true}),
    )
    .await;
    // Deactivating keeps the discount and makes the code unusable.
    let off = boss
        .ok("promo_upsert", json!({"code": "gone", "active": false}))
        .await;
    assert_eq!(
        off["promo"],
        json!({"code": "GONE", "percent_off": 20, "active": false, "expires_at": null})
    );

    for code in ["NOPE", "OFF", "OLD", "GONE", "bad code!"] {
        for kind in ["order_quote", "order_place"] {
            let mut d = card_order(&[("bibimbap", 1)], GOOD_CARD);
            d["promo_code"] = json!(code);
            let r = ann.request(kind, d).await;
            check_refused(&r, "invalid_promo", Some("promo_code"));
        }
    }
    let fresh = relay.connect("ann", Role::Customer).await;
    assert_eq!(fresh.snapshot.unwrap()["data"]["orders"], json!([]));
    relay.stop().await;
}

/// An item not on the menu is unknown_item; one the crew 86'd is item_unavailable until it is back.
#[tokio::test]
async fn unknown_and_unavailable_items_are_refused() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;

    for kind in ["order_quote", "order_place"] {
        let r = ann
            .request(kind, cash_order(&[("kimbap", 1), ("pizza", 1)]))
            .await;
        check_refused(&r, "unknown_item", Some("items[1].item_id"));
    }
    kim.ok(
        "menu_update",
        json!({"op": "set_available", "item": {"id": "kimbap", "available": false}}),
    )
    .await;
    let e = ann.next_of("menu_update").await;
    assert_eq!(e["data"]["item"]["available"], false);
    for kind in ["order_quote", "order_place"] {
        let r = ann.request(kind, cash_order(&[("kimbap", 1)])).await;
        check_refused(&r, "item_unavailable", Some("items[0].item_id"));
    }
    kim.ok(
        "menu_update",
        json!({"op": "set_available", "item": {"id": "kimbap", "available": true}}),
    )
    .await;
    let ack = ann.ok("order_place", cash_order(&[("kimbap", 1)])).await;
    assert_eq!(id_of(&ack), 1, "the refused orders created nothing");
    relay.stop().await;
}

/// A card that fails the Luhn check, a bad or past expiry, a bad CVC or no card at all is invalid_card with the field, and nothing is charged.
#[tokio::test]
async fn bad_cards_are_invalid_card() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let card = |number: &str, exp: &str, cvc: &str| {
        let mut d = card_order(&[("bibimbap", 1)], GOOD_CARD);
        d["payment"]["card"] = json!({"number": number, "exp": exp, "cvc": cvc});
        d
    };
    let cases = [
        (
            card("4242424242424241", "12/30", "123"),
            "payment.card.number",
        ),
        (card("1234", "12/30", "123"), "payment.card.number"),
        (card(GOOD_CARD, "13/30", "123"), "payment.card.exp"),
        (card(GOOD_CARD, "1230", "123"), "payment.card.exp"),
        (card(GOOD_CARD, "01/20", "123"), "payment.card.exp"),
        (card(GOOD_CARD, "12/30", "12"), "payment.card.cvc"),
        (
            json!({"client_order_id": uuid::Uuid::new_v4(), "items": [{"item_id": "bibimbap", "qty": 1}],
                   "fulfillment": {"kind": "pickup"}, "payment": {"method": "card"}}),
            "payment.card",
        ),
    ];
    for (data, field) in cases {
        let r = ann.request("order_place", data).await;
        check_refused(&r, "invalid_card", Some(field));
    }
    // No charge was attempted: the first payment_failed is this decline's.
    let declined = card_order(&[("bibimbap", 1)], DECLINED_CARD);
    let r = ann.request("order_place", declined.clone()).await;
    check_refused(&r, "payment_declined", None);
    for c in [&mut ann, &mut boss] {
        let e = c.next_of("payment_failed").await;
        assert_eq!(e["data"]["client_order_id"], declined["client_order_id"]);
    }
    relay.stop().await;
}

/// A declined card or one without funds is refused with its code, reported to the payer and admins as payment_failed, and creates no order; the same cart then pays with a good card.
#[tokio::test]
async fn declined_payments_create_no_order() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut boss = relay.connect("boss", Role::Admin).await;

    let mut data = card_order(&[("bibimbap", 1)], DECLINED_CARD);
    for (card, code, last4) in [
        (DECLINED_CARD, "payment_declined", "0002"),
        (NO_FUNDS_CARD, "insufficient_funds", "9995"),
    ] {
        data["payment"]["card"]["number"] = json!(card);
        let r = ann.request("order_place", data.clone()).await;
        check_refused(&r, code, Some("payment.card.number"));
        for c in [&mut ann, &mut boss] {
            let e = c.next_of("payment_failed").await;
            let d = &e["data"];
            assert_eq!(d["client_order_id"], data["client_order_id"], "{e}");
            assert_eq!(d["code"], code);
            assert_eq!(
                d["payment"],
                json!({"method": "card", "brand": "visa", "last4": last4, "amount_cents": 1350})
            );
            assert!(d.get("order_id").is_none(), "no order exists: {e}");
            assert!(!e.to_string().contains(card), "no full card number: {e}");
        }
    }
    for (id, role) in [("ann", Role::Customer), ("boss", Role::Admin)] {
        let fresh = relay.connect(id, role).await;
        assert_eq!(fresh.snapshot.unwrap()["data"]["orders"], json!([]), "{id}");
    }
    // The cart is kept: the same request with a good card goes through.
    data["payment"]["card"]["number"] = json!(GOOD_CARD);
    let ack = ann.ok("order_place", data).await;
    assert_eq!(id_of(&ack), 1);
    let created = kim.next_of("order_created").await;
    assert_eq!(
        created["data"]["order_id"], 1,
        "the declines created nothing"
    );
    relay.stop().await;
}

/// A cash order is created with payment status due and makes no payment event; cancelling it refunds nothing (the payment becomes void).
#[tokio::test]
async fn cash_orders_are_due_and_make_no_payment_event() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut boss = relay.connect("boss", Role::Admin).await;

    let cash = ann.ok("order_place", cash_order(&[("bulgogi", 1)])).await;
    let cash_id = id_of(&cash);
    assert_eq!(
        cash["order"]["payment"],
        json!({"method": "cash", "status": "due", "amount_cents": 1800})
    );
    expect_order_event(&mut ann, "order_created", cash_id, "pending").await;
    let card = id_of(
        &ann.ok("order_place", card_order(&[("kimbap", 1)], GOOD_CARD))
            .await,
    );
    for c in [&mut ann, &mut boss] {
        let e = c.next_of("payment_confirmed").await;
        assert_eq!(
            e["data"]["order_id"], card,
            "the cash order made no payment event"
        );
    }

    let cancelled = ann
        .ok(
            "order_cancel",
            json!({"order_id": cash_id, "reason": "no cash"}),
        )
        .await;
    assert_eq!(cancelled["order"]["payment"]["status"], "void");
    ann.ok("order_cancel", json!({"order_id": card, "reason": ""}))
        .await;
    for c in [&mut ann, &mut boss] {
        let e = c.next_of("payment_refunded").await;
        assert_eq!(
            e["data"]["order_id"], card,
            "the cash order refunded nothing"
        );
    }
    relay.stop().await;
}

/// Cancelling a paid card order refunds it: order_cancelled to every party (crew without card data), payment_refunded with status refunded to the customer and admins, eta null.
#[tokio::test]
async fn cancelling_a_paid_order_refunds_it() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let id = id_of(
        &ann.ok("order_place", card_order(&[("galbi", 1)], GOOD_CARD))
            .await,
    );

    let ack = ann
        .ok(
            "order_cancel",
            json!({"order_id": id, "reason": "changed my mind"}),
        )
        .await;
    let o = &ack["order"];
    assert_eq!(o["status"], "cancelled");
    assert_eq!(o["payment"]["status"], "refunded");
    assert!(o["eta"].is_null(), "no eta once cancelled: {o}");
    let last = o["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["status"], "cancelled");
    assert_eq!(last["note"], "changed my mind");
    assert_eq!(last["by"]["id"], "ann");

    let e = expect_order_event(&mut kim, "order_cancelled", id, "cancelled").await;
    assert_eq!(
        e["data"]["order"]["payment"],
        json!({"method": "card", "status": "refunded"})
    );
    for c in [&mut ann, &mut boss] {
        let cancelled = expect_order_event(c, "order_cancelled", id, "cancelled").await;
        let refunded = c.next_of("payment_refunded").await;
        assert_eq!(
            refunded["seq"].as_u64().unwrap(),
            cancelled["seq"].as_u64().unwrap() + 1
        );
        let p = &refunded["data"]["payment"];
        assert_eq!(refunded["data"]["order_id"], id);
        assert_eq!(p["status"], "refunded");
        assert_eq!(p["method"], "card");
        assert_eq!(p["last4"], "4242");
        assert_eq!(p["amount_cents"], 2400);
    }
    relay.stop().await;
}

/// A customer may not cancel an order the kitchen has started (invalid_transition); crew may, and the payment is refunded.
#[tokio::test]
async fn only_staff_cancel_a_preparing_order() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let id = id_of(
        &ann.ok("order_place", card_order(&[("kimbap", 1)], GOOD_CARD))
            .await,
    );
    kim.ok(
        "order_update",
        json!({"order_id": id, "status": "preparing"}),
    )
    .await;

    let r = ann
        .request(
            "order_cancel",
            json!({"order_id": id, "reason": "too slow"}),
        )
        .await;
    check_refused(&r, "invalid_transition", None);
    let ack = kim
        .ok(
            "order_cancel",
            json!({"order_id": id, "reason": "out of rice"}),
        )
        .await;
    assert_eq!(ack["order"]["status"], "cancelled");
    assert_eq!(
        ack["order"]["payment"],
        json!({"method": "card", "status": "refunded"}),
        "crew see payment as method and status only"
    );
    let e = ann.next_of("payment_refunded").await;
    assert_eq!(e["data"]["order_id"], id);
    relay.stop().await;
}

/// A customer acting on another customer's order is forbidden; an unknown order id is not_found, for every order request.
#[tokio::test]
async fn orders_are_found_and_owned() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut bob = relay.connect("bob", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let id = id_of(&ann.ok("order_place", cash_order(&[("kimbap", 1)])).await);

    let r = bob
        .request(
            "order_modify",
            json!({"order_id": id, "instructions": "mine now"}),
        )
        .await;
    check_refused(&r, "forbidden", Some("order_id"));
    let r = bob
        .request("order_cancel", json!({"order_id": id, "reason": "x"}))
        .await;
    check_refused(&r, "forbidden", Some("order_id"));

    let missing = 9999;
    let r = ann
        .request(
            "order_modify",
            json!({"order_id": missing, "instructions": "x"}),
        )
        .await;
    check_refused(&r, "not_found", Some("order_id"));
    for c in [&mut ann, &mut kim] {
        let r = c
            .request("order_cancel", json!({"order_id": missing, "reason": "x"}))
            .await;
        check_refused(&r, "not_found", Some("order_id"));
    }
    let r = kim
        .request(
            "order_update",
            json!({"order_id": missing, "status": "preparing"}),
        )
        .await;
    check_refused(&r, "not_found", Some("order_id"));

    // Still ann's, still pending, unchanged.
    let fresh = relay.connect("ann", Role::Customer).await;
    let o = &fresh.snapshot.unwrap()["data"]["orders"][0];
    assert_eq!(
        (o["id"].as_u64(), &o["status"]),
        (Some(id), &json!("pending"))
    );
    assert_eq!(o["instructions"], "");
    relay.stop().await;
}

/// The owning customer changes a pending order's instructions: order_modified reaches customer, crew and admins; after preparing it is invalid_transition.
#[tokio::test]
async fn order_modify_changes_a_pending_order() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let id = id_of(&ann.ok("order_place", cash_order(&[("mandu", 2)])).await);

    let ack = ann
        .ok(
            "order_modify",
            json!({"order_id": id, "instructions": "no onions\nextra sauce"}),
        )
        .await;
    assert_eq!(ack["order"]["instructions"], "no onions\nextra sauce");
    assert_eq!(ack["order"]["modified"], true);
    for c in [&mut ann, &mut kim, &mut boss] {
        let e = expect_order_event(c, "order_modified", id, "pending").await;
        assert_eq!(e["data"]["order"]["instructions"], "no onions\nextra sauce");
    }
    let r = ann
        .request(
            "order_modify",
            json!({"order_id": id, "instructions": "x".repeat(501)}),
        )
        .await;
    check_refused(&r, "invalid", Some("instructions"));

    kim.ok(
        "order_update",
        json!({"order_id": id, "status": "preparing"}),
    )
    .await;
    let r = ann
        .request(
            "order_modify",
            json!({"order_id": id, "instructions": "too late"}),
        )
        .await;
    check_refused(&r, "invalid_transition", None);
    relay.stop().await;
}

/// Bad order fields are `invalid` naming the field (qty 0 and 100, 51 lines, long notes and instructions, no client_order_id, delivery without an address, …) and place nothing.
#[tokio::test]
async fn bad_order_fields_are_invalid_with_the_field() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let base = cash_order(&[("bibimbap", 1)]);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut d = base.clone();
        d["client_order_id"] = json!(uuid::Uuid::new_v4());
        f(&mut d);
        d
    };
    let line = json!({"item_id": "kimbap", "qty": 1});
    let cases: Vec<(Value, &str)> = vec![
        (with(&|d| d["items"][0]["qty"] = json!(0)), "items[0].qty"),
        (with(&|d| d["items"][0]["qty"] = json!(100)), "items[0].qty"),
        (with(&|d| d["items"][0]["qty"] = json!(-1)), "items[0].qty"),
        (
            with(&|d| d["items"] = json!(vec![line.clone(); 51])),
            "items",
        ),
        (with(&|d| d["items"] = json!([])), "items"),
        (
            with(&|d| d["items"][0]["notes"] = json!("n".repeat(501))),
            "items[0].notes",
        ),
        (
            with(&|d| d["instructions"] = json!("i".repeat(501))),
            "instructions",
        ),
        (
            with(&|d| {
                d.as_object_mut().unwrap().remove("client_order_id");
            }),
            "client_order_id",
        ),
        (
            with(&|d| d["client_order_id"] = json!("not-a-uuid")),
            "client_order_id",
        ),
        (
            with(&|d| d["fulfillment"] = json!({"kind": "delivery"})),
            "fulfillment.address",
        ),
        (
            with(&|d| d["fulfillment"] = json!({"kind": "delivery", "address": "  "})),
            "fulfillment.address",
        ),
        (
            with(&|d| d["fulfillment"] = json!({"kind": "drone"})),
            "fulfillment.kind",
        ),
        (
            with(&|d| {
                d.as_object_mut().unwrap().remove("payment");
            }),
            "payment",
        ),
    ];
    for (data, field) in cases {
        let r = ann.request("order_place", data).await;
        check_refused(&r, "invalid", Some(field));
    }
    // The limits themselves are fine.
    let edge = with(&|d| {
        d["items"] = json!(vec![
            json!({"item_id": "kimbap", "qty": 99, "notes": "n".repeat(500)});
            50
        ]);
        d["instructions"] = json!("i".repeat(500));
    });
    let q = ann.ok("order_quote", edge).await;
    assert_eq!(q["total_cents"], 50 * 99 * 800);
    let fresh = relay.connect("ann", Role::Customer).await;
    assert_eq!(fresh.snapshot.unwrap()["data"]["orders"], json!([]));
    relay.stop().await;
}

/// An open order's eta is its status time plus prep (and delivery) minutes and follows the kitchen's estimates; bad estimates are invalid.
#[tokio::test]
async fn eta_follows_the_kitchen_estimates() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut data = cash_order(&[("bibimbap", 1), ("kimbap", 1)]);
    data["fulfillment"] = json!({"kind": "delivery", "address": "1 Gangnam-daero"});
    let ack = ann.ok("order_place", data).await;
    let id = id_of(&ack);
    let o = &ack["order"];
    assert_eq!(o["fulfillment"]["address"], "1 Gangnam-daero");
    assert_eq!(
        (&o["prep_minutes"], &o["delivery_minutes"]),
        (&json!(12), &json!(25))
    );
    assert_eq!(minutes_between(&o["created_at"], &o["eta"]), 12 + 25);

    let upd = kim
        .ok(
            "order_update",
            json!({"order_id": id, "prep_minutes": 20, "delivery_minutes": 30, "note": "busy night"}),
        )
        .await;
    let o = &upd["order"];
    assert_eq!(minutes_between(&o["created_at"], &o["eta"]), 20 + 30);
    let e = expect_order_event(&mut ann, "order_update", id, "pending").await;
    assert_eq!(e["data"]["order"]["eta"], o["eta"]);
    assert_eq!(
        e["data"]["order"]["history"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["note"],
        "busy night"
    );

    for (data, field) in [
        (json!({"order_id": id, "prep_minutes": 601}), "prep_minutes"),
        (
            json!({"order_id": id, "delivery_minutes": 601}),
            "delivery_minutes",
        ),
        (json!({"order_id": id, "note": "n".repeat(501)}), "note"),
        (json!({"order_id": id, "status": "cooking"}), "status"),
    ] {
        let r = kim.request("order_update", data).await;
        check_refused(&r, "invalid", Some(field));
    }
    let mut last = Value::Null;
    for status in ["preparing", "ready", "delivered"] {
        last = kim
            .ok("order_update", json!({"order_id": id, "status": status}))
            .await;
    }
    assert!(last["order"]["eta"].is_null(), "no eta once delivered");
    let r = kim
        .request("order_update", json!({"order_id": id, "prep_minutes": 5}))
        .await;
    check_refused(&r, "invalid_transition", None);
    relay.stop().await;
}

/// order_quote prices an order with the relay's menu and stores nothing; only customers may quote or place.
#[tokio::test]
async fn quotes_store_nothing_and_only_customers_order() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut boss = relay.connect("boss", Role::Admin).await;

    let mut data = cash_order(&[("tteokbokki", 3)]);
    data.as_object_mut().unwrap().remove("payment");
    let q = ann.ok("order_quote", data.clone()).await;
    assert_eq!(
        (
            &q["subtotal_cents"],
            &q["discount_cents"],
            &q["total_cents"]
        ),
        (&json!(2700), &json!(0), &json!(2700))
    );
    for c in [&mut kim, &mut boss] {
        c.refused("order_quote", data.clone(), "forbidden").await;
        c.refused("order_place", cash_order(&[("kimbap", 1)]), "forbidden")
            .await;
    }
    let id = id_of(&ann.ok("order_place", cash_order(&[("kimbap", 1)])).await);
    assert_eq!(id, 1, "the quote and the refused orders used no id");
    let created = kim.next_of("order_created").await;
    assert_eq!(created["data"]["order_id"], id);
    relay.stop().await;
}
