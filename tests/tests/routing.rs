//! Who may send what and who receives what (DESIGN §5 request and event
//! tables, §4 snapshot contents): every request row from an allowed and a
//! refused sender, every event row to its recipients and to nobody else.

use kfood_protocol::Role;
use kfood_relay::config::Limits;
use kfood_tests::*;
use serde_json::{json, Value};

const ANN: usize = 0;
const BOB: usize = 1;
const KIM: usize = 2;
const BOSS: usize = 3;
const NAMES: [&str; 4] = ["ann", "bob", "kim", "boss"];

/// ann and bob (customers), kim (crew), boss (admin), indexed by the consts above.
async fn cast(relay: &TestRelay) -> [Client; 4] {
    [
        relay.connect("ann", Role::Customer).await,
        relay.connect("bob", Role::Customer).await,
        relay.connect("kim", Role::Crew).await,
        relay.connect("boss", Role::Admin).await,
    ]
}

/// The types among `kinds` of the messages that reached `c` and were not read
/// yet (up to a barrier the relay answers after everything it queued before;
/// an event that is not among them was not sent to `c`).
async fn received(c: &mut Client, kinds: &[&str]) -> Vec<String> {
    c.settle()
        .await
        .into_iter()
        .filter_map(|m| m["type"].as_str().map(str::to_owned))
        .filter(|t| kinds.contains(&t.as_str()))
        .collect()
}

/// Whether serialised JSON carries ann's id or name anywhere.
fn mentions_ann(json: &str) -> bool {
    json.contains("\"ann\"") || json.contains("ann name")
}

#[track_caller]
fn check_forbidden(who: &str, kind: &str, reply: &Value) {
    assert_eq!(
        reply["type"], "error",
        "{kind} from {who} must be refused: {reply}"
    );
    assert_eq!(
        reply["data"]["code"], "forbidden",
        "{kind} from {who}: {reply}"
    );
}

#[track_caller]
fn check_ack(who: &str, kind: &str, reply: &Value) {
    // A heartbeat's one answer is the relay's heartbeat (DESIGN §3).
    let answer = if kind == "heartbeat" {
        "heartbeat"
    } else {
        "ack"
    };
    assert_eq!(
        reply["type"], answer,
        "{kind} from {who} must be acked: {reply}"
    );
}

fn order_of(ack: &Value) -> u64 {
    ack["data"]["order"]["id"].as_u64().expect("order id")
}

/// Every request row is acked from each role it allows (ownership included).
#[tokio::test]
async fn requests_are_accepted_from_their_roles() {
    let relay = TestRelay::start_with(Limits {
        payment_failure_burst: 1,
        ..Default::default()
    })
    .await;
    let mut c = cast(&relay).await;
    // Orders to act on, and an open alert to acknowledge.
    let mut orders = Vec::new();
    for _ in 0..4 {
        let r = c[ANN]
            .request("order_place", cash_order(&[("kimbap", 1)]))
            .await;
        check_ack("ann", "order_place", &r);
        orders.push(order_of(&r));
    }
    c[ANN]
        .refused(
            "order_place",
            card_order(&[("kimbap", 1)], DECLINED_CARD),
            "payment_declined",
        )
        .await;
    let alert = c[BOSS].next_of("system_alert").await["data"]["id"].clone();
    let mut quote = cash_order(&[("bibimbap", 1)]);
    quote.as_object_mut().unwrap().remove("payment");

    let cases: Vec<(&str, Value, &[usize])> = vec![
        ("heartbeat", json!({"t": 7}), &[ANN, KIM, BOSS]),
        ("sync", json!({}), &[ANN, KIM, BOSS]),
        ("order_quote", quote, &[ANN]),
        ("order_place", cash_order(&[("kimbap", 1)]), &[ANN]),
        (
            "order_modify",
            json!({"order_id": orders[0], "instructions": "no sesame"}),
            &[ANN],
        ),
        (
            "order_update",
            json!({"order_id": orders[0], "prep_minutes": 20}),
            &[KIM, BOSS],
        ),
        (
            "menu_update",
            json!({"op": "set_available", "item": {"id": "mandu", "available": false}}),
            &[KIM],
        ),
        (
            "menu_update",
            json!({"op": "upsert", "item": {"id": "mandu", "price_cents": 900}}),
            &[BOSS],
        ),
        (
            "menu_update",
            json!({"op": "remove", "item": {"id": "yakgwa"}}),
            &[BOSS],
        ),
        (
            "announce",
            json!({"audience": "all", "kind": "announcement", "text": "hello"}),
            &[BOSS],
        ),
        (
            "promo_upsert",
            json!({"code": "HI", "percent_off": 5, "active": true}),
            &[BOSS],
        ),
        ("alert_ack", json!({"alert_id": alert}), &[BOSS]),
        ("session_revoke", json!({"user_id": "nobody"}), &[BOSS]),
        (
            "user_create",
            json!({"username": "newcook", "password": "password-1", "name": "New Cook", "role": "crew"}),
            &[BOSS],
        ),
        ("user_list", json!({}), &[BOSS]),
        ("activity_query", json!({"limit": 5}), &[BOSS]),
    ];
    for (kind, data, who) in cases {
        for &i in who {
            let r = c[i].request(kind, data.clone()).await;
            check_ack(NAMES[i], kind, &r);
        }
    }
    // order_cancel: the owning customer, crew and admins.
    for (i, order) in [(ANN, orders[1]), (KIM, orders[2]), (BOSS, orders[3])] {
        let r = c[i]
            .request("order_cancel", json!({"order_id": order, "reason": "test"}))
            .await;
        check_ack(NAMES[i], "order_cancel", &r);
        assert_eq!(r["data"]["order"]["status"], "cancelled");
    }
    relay.stop().await;
}

/// Every request row is forbidden from each role outside it (and order requests on another customer's order), and a refusal changes nothing.
#[tokio::test]
async fn requests_are_forbidden_to_other_roles() {
    let relay = TestRelay::start().await;
    let mut c = cast(&relay).await;
    let order = order_of(
        &c[ANN]
            .request("order_place", card_order(&[("kimbap", 1)], GOOD_CARD))
            .await,
    );
    let head = c[BOSS].ok("sync", json!({"since": 0})).await["head_seq"].clone();
    let mut quote = cash_order(&[("bibimbap", 1)]);
    quote.as_object_mut().unwrap().remove("payment");

    let cases: Vec<(&str, Value, &[usize])> = vec![
        ("order_quote", quote, &[KIM, BOSS]),
        ("order_place", cash_order(&[("kimbap", 1)]), &[KIM, BOSS]),
        (
            "order_modify",
            json!({"order_id": order, "instructions": "x"}),
            &[BOB, KIM, BOSS],
        ),
        (
            "order_cancel",
            json!({"order_id": order, "reason": "x"}),
            &[BOB],
        ),
        (
            "order_update",
            json!({"order_id": order, "status": "preparing"}),
            &[ANN, BOB],
        ),
        (
            "menu_update",
            json!({"op": "set_available", "item": {"id": "kimbap", "available": false}}),
            &[ANN],
        ),
        (
            "menu_update",
            json!({"op": "upsert", "item": {"id": "kimbap", "price_cents": 1}}),
            &[ANN, KIM],
        ),
        (
            "menu_update",
            json!({"op": "remove", "item": {"id": "kimbap"}}),
            &[ANN, KIM],
        ),
        (
            "announce",
            json!({"audience": "all", "kind": "announcement", "text": "free food"}),
            &[ANN, KIM],
        ),
        (
            "promo_upsert",
            json!({"code": "FREE", "percent_off": 100, "active": true}),
            &[ANN, KIM],
        ),
        ("alert_ack", json!({"alert_id": 1}), &[ANN, KIM]),
        ("session_revoke", json!({"user_id": "boss"}), &[ANN, KIM]),
        (
            "user_create",
            json!({"username": "sneaky", "password": "password-1", "name": "Sneaky", "role": "admin"}),
            &[ANN, KIM],
        ),
        ("user_list", json!({}), &[ANN, KIM]),
        ("activity_query", json!({}), &[ANN, KIM]),
    ];
    for (kind, data, who) in cases {
        for &i in who {
            let r = c[i].request(kind, data.clone()).await;
            check_forbidden(NAMES[i], kind, &r);
        }
    }
    // No durable event came of any of it, and the admin is still connected.
    let after = c[BOSS].ok("sync", json!({"since": 0})).await["head_seq"].clone();
    assert_eq!(after, head);
    let users = c[BOSS].ok("user_list", json!({})).await;
    assert!(
        !users.to_string().contains("sneaky"),
        "no account was made: {users}"
    );
    let q = c[ANN]
        .ok(
            "order_quote",
            json!({"items": [{"item_id": "kimbap", "qty": 1}], "fulfillment": {"kind": "pickup"}}),
        )
        .await;
    assert_eq!(q["total_cents"], 800, "the menu is unchanged");
    relay.stop().await;
}

/// Order events reach the owning customer, all crew and all admins; payment events only the customer and admins; crew never see card data; another customer sees nothing.
#[tokio::test]
async fn order_and_payment_events_reach_only_their_parties() {
    let relay = TestRelay::start().await;
    let mut c = cast(&relay).await;
    let order = order_of(
        &c[ANN]
            .request("order_place", card_order(&[("bulgogi", 1)], GOOD_CARD))
            .await,
    );
    c[ANN]
        .ok(
            "order_modify",
            json!({"order_id": order, "instructions": "extra kimchi"}),
        )
        .await;
    c[KIM]
        .ok(
            "order_update",
            json!({"order_id": order, "status": "preparing"}),
        )
        .await;
    c[KIM]
        .ok(
            "order_cancel",
            json!({"order_id": order, "reason": "no beef"}),
        )
        .await;

    let all = [
        "order_created",
        "order_update",
        "order_modified",
        "order_cancelled",
        "payment_confirmed",
        "payment_failed",
        "payment_refunded",
    ];
    let owner_and_admin = [
        "order_created",
        "payment_confirmed",
        "order_modified",
        "order_update",
        "order_cancelled",
        "payment_refunded",
    ];
    let expected: [&[&str]; 4] = [
        &owner_and_admin,
        &[],
        &[
            "order_created",
            "order_modified",
            "order_update",
            "order_cancelled",
        ],
        &owner_and_admin,
    ];
    for (i, want) in expected.into_iter().enumerate() {
        let got = c[i].settle().await;
        let types: Vec<&str> = got
            .iter()
            .filter_map(|m| m["type"].as_str())
            .filter(|t| all.contains(t))
            .collect();
        assert_eq!(types, want, "{}", NAMES[i]);
        for m in &got {
            let text = m.to_string();
            assert!(!text.contains(GOOD_CARD), "{}: {text}", NAMES[i]);
            if i == KIM {
                if let Some(p) = m["data"]["order"].get("payment") {
                    assert_eq!(
                        p,
                        &json!({"method": "card", "status": p["status"]}),
                        "{text}"
                    );
                }
                assert!(!text.contains("4242"), "crew never see card data: {text}");
            }
            if i == BOB {
                assert!(!mentions_ann(&text), "bob never sees ann: {text}");
            }
        }
        if i != BOB {
            let e = got.iter().find(|m| m["type"] == "order_update").unwrap();
            assert_eq!(e["data"]["order_id"], order);
            assert_eq!(e["data"]["order"]["instructions"], "extra kimchi");
        }
    }
    relay.stop().await;
}

/// payment_failed reaches the customer who tried and admins only.
#[tokio::test]
async fn payment_failed_reaches_the_payer_and_admins() {
    let relay = TestRelay::start().await;
    let mut c = cast(&relay).await;
    c[ANN]
        .refused(
            "order_place",
            card_order(&[("kimbap", 1)], NO_FUNDS_CARD),
            "insufficient_funds",
        )
        .await;
    for (i, n) in [(ANN, 1), (BOB, 0), (KIM, 0), (BOSS, 1)] {
        let got = received(&mut c[i], &["payment_failed"]).await;
        assert_eq!(got.len(), n, "{}", NAMES[i]);
    }
    relay.stop().await;
}

/// menu_update reaches every role, whoever sends it.
#[tokio::test]
async fn menu_update_reaches_everyone() {
    let relay = TestRelay::start().await;
    let mut c = cast(&relay).await;
    c[KIM]
        .ok(
            "menu_update",
            json!({"op": "set_available", "item": {"id": "galbi", "available": false}}),
        )
        .await;
    c[BOSS]
        .ok(
            "menu_update",
            json!({"op": "upsert", "item": {"id": "galbi", "price_cents": 2500}}),
        )
        .await;
    for (i, client) in c.iter_mut().enumerate() {
        let got = received(client, &["menu_update"]).await;
        assert_eq!(got.len(), 2, "{}", NAMES[i]);
    }
    relay.stop().await;
}

/// Each announcement reaches only its audience, live and in the snapshot of a later connection.
#[tokio::test]
async fn announcements_reach_only_their_audience() {
    let relay = TestRelay::start().await;
    let mut c = cast(&relay).await;
    let mut eve = relay.connect("eve", Role::Admin).await;
    for audience in ["all", "customer", "crew", "admin"] {
        c[BOSS]
            .ok(
                "announce",
                json!({"audience": audience, "kind": "announcement", "text": format!("to {audience}")}),
            )
            .await;
    }
    let expected = [
        ("ann", Role::Customer, vec!["to all", "to customer"]),
        ("bob", Role::Customer, vec!["to all", "to customer"]),
        ("kim", Role::Crew, vec!["to all", "to crew"]),
        ("boss", Role::Admin, vec!["to all", "to admin"]),
    ];
    // An admin's snapshot holds every active announcement, whatever its audience.
    let snapshot_of = |id: &str, want: &Vec<&'static str>| {
        if id == "boss" {
            vec!["to all", "to customer", "to crew", "to admin"]
        } else {
            want.clone()
        }
    };
    let texts = |msgs: Vec<Value>| -> Vec<String> {
        msgs.iter()
            .map(|m| m["text"].as_str().unwrap().to_owned())
            .collect()
    };
    for (i, (id, role, want)) in expected.iter().enumerate() {
        let live = c[i]
            .settle()
            .await
            .into_iter()
            .filter(|m| m["type"] == "announcement")
            .collect::<Vec<_>>();
        assert_eq!(
            texts(live.into_iter().map(|m| m["data"].clone()).collect()),
            *want,
            "{id}"
        );
        let fresh = relay.connect(id, *role).await;
        let snap = fresh.snapshot.unwrap()["data"]["announcements"].clone();
        assert_eq!(
            texts(snap.as_array().unwrap().clone()),
            snapshot_of(id, want),
            "{id} snapshot"
        );
    }
    let live = received(&mut eve, &["announcement"]).await;
    assert_eq!(live.len(), 2, "another admin gets all and admin");
    relay.stop().await;
}

/// promo_update reaches admins only.
#[tokio::test]
async fn promo_update_reaches_admins_only() {
    let relay = TestRelay::start().await;
    let mut c = cast(&relay).await;
    let mut eve = relay.connect("eve", Role::Admin).await;
    c[BOSS]
        .ok(
            "promo_upsert",
            json!({"code": "SEOUL", "amount_off_cents": 200, "active": true}),
        )
        .await;
    let e = eve.next_of("promo_update").await;
    assert_eq!(e["data"]["code"], "SEOUL");
    assert_eq!(e["sender"], json!({"id": "boss", "type": "admin"}));
    for (i, n) in [(ANN, 0), (BOB, 0), (KIM, 0), (BOSS, 1)] {
        let got = received(&mut c[i], &["promo_update"]).await;
        assert_eq!(got.len(), n, "{}", NAMES[i]);
    }
    relay.stop().await;
}

/// activity streams live (without a seq) to admins only.
#[tokio::test]
async fn activity_streams_to_admins_only() {
    let relay = TestRelay::start().await;
    let mut c = cast(&relay).await;
    let order = order_of(
        &c[ANN]
            .request("order_place", cash_order(&[("japchae", 1)]))
            .await,
    );
    let e = loop {
        let e = c[BOSS].next_of("activity").await;
        if e["data"]["kind"] == "order" {
            break e;
        }
    };
    assert!(e.get("seq").is_none(), "activity is not durable: {e}");
    assert_eq!(e["data"]["order_id"], order);
    assert_eq!(
        e["data"]["user"],
        json!({"id": "ann", "name": "ann name", "type": "customer"})
    );
    for i in [ANN, BOB, KIM] {
        assert!(
            received(&mut c[i], &["activity"]).await.is_empty(),
            "{}",
            NAMES[i]
        );
    }
    relay.stop().await;
}

/// system_alert reaches admins; kitchen alerts (order_late) also crew; customers never.
#[tokio::test]
async fn system_alerts_reach_admins_and_kitchen_alerts_crew() {
    let relay = TestRelay::start_with(Limits {
        payment_failure_burst: 1,
        ..Default::default()
    })
    .await;
    let mut c = cast(&relay).await;
    c[ANN]
        .refused(
            "order_place",
            card_order(&[("kimbap", 1)], DECLINED_CARD),
            "payment_declined",
        )
        .await;
    let order = order_of(
        &c[ANN]
            .request("order_place", cash_order(&[("kimbap", 1)]))
            .await,
    );
    // Started with no prep time left, its ETA passes at once (one lateness
    // rule, `Order::is_late`; a pending order waits for its slot's
    // `ready_at`); the tick raises order_late within 5 s.
    c[KIM]
        .ok(
            "order_update",
            json!({"order_id": order, "status": "preparing", "prep_minutes": 0}),
        )
        .await;

    let late = c[KIM].next_of("system_alert").await;
    assert_eq!(late["data"]["kind"], "order_late");
    assert_eq!(late["data"]["order_id"], order);
    assert_eq!(late["data"]["resolved"], false);

    let kinds = |msgs: Vec<Value>| -> Vec<String> {
        msgs.iter()
            .filter(|m| m["type"] == "system_alert")
            .map(|m| m["data"]["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        kinds(c[BOSS].settle().await),
        ["payment_failures", "order_late"]
    );
    assert!(
        kinds(c[KIM].settle().await).is_empty(),
        "crew got only the kitchen alert"
    );
    assert!(kinds(c[ANN].settle().await).is_empty());
    assert!(kinds(c[BOB].settle().await).is_empty());
    relay.stop().await;
}

/// A snapshot holds what its role may see: a customer their own orders and no alerts or promos; crew every order without card data and kitchen alerts; admins everything, with open alerts and promos.
#[tokio::test]
async fn snapshots_show_each_role_what_it_may_see() {
    let relay = TestRelay::start_with(Limits {
        payment_failure_burst: 1,
        ..Default::default()
    })
    .await;
    let mut c = cast(&relay).await;
    let anns = order_of(
        &c[ANN]
            .request("order_place", card_order(&[("kimbap", 1)], GOOD_CARD))
            .await,
    );
    let bobs = order_of(
        &c[BOB]
            .request("order_place", cash_order(&[("sundubu", 1)]))
            .await,
    );
    c[BOB]
        .refused(
            "order_place",
            card_order(&[("kimbap", 1)], DECLINED_CARD),
            "payment_declined",
        )
        .await;
    c[BOSS]
        .ok(
            "promo_upsert",
            json!({"code": "VIP", "percent_off": 15, "active": true}),
        )
        .await;
    c[BOSS]
        .ok(
            "announce",
            json!({"audience": "admin", "kind": "announcement", "text": "staff meeting"}),
        )
        .await;
    let alert = c[BOSS].next_of("system_alert").await["data"].clone();
    assert_eq!(alert["kind"], "payment_failures");

    let snap = |client: Client| client.snapshot.unwrap()["data"].clone();
    let ids = |s: &Value| -> Vec<u64> {
        s["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_u64().unwrap())
            .collect()
    };

    let ann = snap(relay.connect("ann", Role::Customer).await);
    assert_eq!(ids(&ann), [anns]);
    assert_eq!(ann["orders"][0]["payment"]["last4"], "4242");
    assert!(
        ann.get("alerts").is_none() && ann.get("promos").is_none(),
        "{ann}"
    );
    assert_eq!(ann["announcements"], json!([]));
    let bob = snap(relay.connect("bob", Role::Customer).await);
    assert_eq!(ids(&bob), [bobs]);
    assert!(!mentions_ann(&bob.to_string()), "bob never sees ann: {bob}");

    let kim = snap(relay.connect("kim", Role::Crew).await);
    assert_eq!(ids(&kim), [anns, bobs]);
    assert_eq!(
        kim["orders"][0]["payment"],
        json!({"method": "card", "status": "paid"})
    );
    assert_eq!(
        kim["alerts"],
        json!([]),
        "payment alerts are not the kitchen's"
    );
    assert!(kim.get("promos").is_none(), "{kim}");

    let boss = snap(relay.connect("boss", Role::Admin).await);
    assert_eq!(ids(&boss), [anns, bobs]);
    assert_eq!(boss["orders"][0]["payment"]["last4"], "4242");
    assert_eq!(boss["alerts"], json!([alert]));
    assert_eq!(boss["promos"][0]["code"], "VIP");
    assert_eq!(boss["announcements"][0]["text"], "staff meeting");
    for s in [&ann, &bob, &kim, &boss] {
        assert!(s["menu"].as_array().unwrap().len() > 10);
        assert_eq!(s["reset"], false);
        assert!(s["head_seq"].as_u64().unwrap() > 0);
    }
    relay.stop().await;
}
