//! The relay core's rules that DESIGN changed: a heartbeat's `ref`, what an
//! admin's snapshot holds, revocation in the same second, recall within 15
//! minutes (`delivered → ready` too), bounded history, requests that change
//! nothing, `tz`, and one-line cancel reasons (DESIGN §3–§6, §8, §9).

use kfood_protocol::Role;
use kfood_relay::config::Limits;
use kfood_tests::*;
use serde_json::{json, Value};

/// The durable events among `msgs` (those with a seq).
fn durable(msgs: &[Value]) -> Vec<Value> {
    msgs.iter()
        .filter(|m| m.get("seq").is_some())
        .cloned()
        .collect()
}

fn order_id(ack: &Value) -> u64 {
    ack["order"]["id"].as_u64().expect("order id")
}

/// A heartbeat with an id is answered by the relay's heartbeat carrying `ref`, and never acked.
#[tokio::test]
async fn heartbeat_with_id_gets_ref_and_no_ack() {
    let relay = TestRelay::start().await;
    let mut c = relay.connect("ann", Role::Customer).await;
    let batch = json!({"type": "batch", "data": [{"type": "heartbeat", "id": "in-batch", "data": {"t": 2}}]});
    c.send(json!({"type": "heartbeat", "id": "alone", "data": {"t": 1}}))
        .await;
    c.send(batch).await;
    let seen = c.settle().await;
    let refs: Vec<(&str, &str)> = seen
        .iter()
        .map(|m| {
            (
                m["type"].as_str().unwrap_or(""),
                m["data"]["ref"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        refs,
        [("heartbeat", "alone"), ("heartbeat", "in-batch")],
        "{seen:?}"
    );
    relay.stop().await;
}

/// An admin's snapshot holds every active announcement whatever its audience; a customer's only theirs.
#[tokio::test]
async fn admin_snapshot_holds_every_active_announcement() {
    let relay = TestRelay::start().await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    for audience in ["customer", "crew", "admin"] {
        boss.ok(
            "announce",
            json!({"audience": audience, "kind": "announcement", "text": format!("to {audience}")}),
        )
        .await;
    }
    let texts = |c: &Client| -> Vec<String> {
        c.snapshot.as_ref().unwrap()["data"]["announcements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["text"].as_str().unwrap().to_owned())
            .collect()
    };
    let admin = relay.connect("eve", Role::Admin).await;
    assert_eq!(texts(&admin), ["to customer", "to crew", "to admin"]);
    let ann = relay.connect("ann", Role::Customer).await;
    assert_eq!(texts(&ann), ["to customer"]);
    relay.stop().await;
}

/// After session_revoke, a login by that user in the same second gets a token issued the next second, which works; older tokens stay refused.
#[tokio::test]
async fn login_right_after_revocation_works() {
    let relay = TestRelay::start().await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let old = token("customer", Role::Customer);
    let before = kfood_protocol::time::now_ms() / 1000;
    boss.ok("session_revoke", json!({"user_id": "customer"}))
        .await;
    let r = http_post(
        &relay.http_url("/api/login"),
        None,
        &json!({"username": "customer", "password": "kfood-customer-demo"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let fresh = r.body["token"].as_str().expect("token").to_owned();
    let claims = secret().verify(&fresh).expect("valid token");
    assert!(claims.iat > before, "issued after the revocation second");
    let c = Client::connect(&relay.ws_url(), &fresh, Role::Customer, None).await;
    assert_eq!(c.authenticated["type"], "authenticated");
    let (err, code) = refused_auth(&relay.ws_url(), &old, Role::Customer).await;
    assert_eq!(err["data"]["code"], "auth_failed", "{err}");
    assert_eq!(code, Some(4001));
    relay.stop().await;
}

/// `delivered → ready` is a recall within 15 minutes and restores the eta the order had while ready.
#[tokio::test]
async fn recall_of_delivered_restores_its_eta() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut data = cash_order(&[("kimbap", 1)]);
    data["fulfillment"] = json!({"kind": "delivery", "address": "1 Main St"});
    let id = order_id(&ann.ok("order_place", data).await);
    let step = |status: &str| json!({"order_id": id, "status": status});
    kim.ok("order_update", step("preparing")).await;
    let ready = kim.ok("order_update", step("ready")).await;
    let eta = ready["order"]["eta"].clone();
    assert!(eta.is_string(), "{ready}");
    let delivered = kim.ok("order_update", step("delivered")).await;
    assert_eq!(delivered["order"]["eta"], Value::Null);
    let back = kim.ok("order_update", step("ready")).await;
    assert_eq!(back["order"]["status"], "ready");
    assert_eq!(back["order"]["eta"], eta, "the last eta is restored");
    let history = back["order"]["history"].as_array().unwrap();
    assert_eq!(history.last().unwrap()["status"], "ready");
    relay.stop().await;
}

/// An order's history keeps at most 100 entries, the first (placed) one included.
#[tokio::test]
async fn history_is_bounded_to_100() {
    let relay = TestRelay::start_with(Limits {
        rate_per_sec: 1000,
        rate_burst: 1000,
        ..Limits::default()
    })
    .await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let id = order_id(&ann.ok("order_place", cash_order(&[("kimbap", 1)])).await);
    let mut last = Value::Null;
    for i in 0..120 {
        last = kim
            .ok(
                "order_update",
                json!({"order_id": id, "note": format!("note {i}")}),
            )
            .await;
    }
    let history = last["order"]["history"].as_array().unwrap();
    assert_eq!(history.len(), 100);
    assert_eq!(history[0]["status"], "pending");
    assert_eq!(history[99]["note"], "note 119");
    relay.stop().await;
}

/// Every request that changes nothing is acked with no event; an order_update with no field to change is invalid.
#[tokio::test]
async fn requests_that_change_nothing_send_no_event() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let placed = ann.ok("order_place", cash_order(&[("kimbap", 1)])).await;
    let id = order_id(&placed);
    boss.ok(
        "promo_upsert",
        json!({"code": "SAME", "percent_off": 10, "active": true}),
    )
    .await;
    for c in [&mut ann, &mut kim, &mut boss] {
        c.settle().await;
    }
    let kimbap = placed["order"]["lines"][0]["name"].clone();
    assert_eq!(kimbap, "Kimbap");
    let (ann_, kim_, boss_) = (0, 1, 2);
    let mut c = [ann, kim, boss];
    let nothing = [
        (
            kim_,
            "order_update",
            json!({"order_id": id, "status": "pending"}),
        ),
        (
            kim_,
            "order_update",
            json!({"order_id": id, "prep_minutes": 6}),
        ),
        (
            kim_,
            "menu_update",
            json!({"op": "set_available", "item": {"id": "kimbap", "available": true}}),
        ),
        (
            boss_,
            "menu_update",
            json!({"op": "upsert", "item": {"id": "kimbap", "name": "Kimbap"}}),
        ),
        (
            boss_,
            "promo_upsert",
            json!({"code": "same", "percent_off": 10, "active": true}),
        ),
        (
            ann_,
            "order_modify",
            json!({"order_id": id, "instructions": ""}),
        ),
    ];
    for (who, kind, data) in nothing {
        let r = c[who].request(kind, data.clone()).await;
        assert_eq!(r["type"], "ack", "{kind} {data}: {r}");
    }
    let [ann, kim, boss] = &mut c;
    let r = kim.request("order_update", json!({"order_id": id})).await;
    assert_eq!(r["type"], "error", "{r}");
    assert_eq!(r["data"]["code"], "invalid");
    for c in [&mut *ann, &mut *kim, &mut *boss] {
        let events = durable(&c.settle().await);
        assert!(events.is_empty(), "no event: {events:?}");
    }
    assert_eq!(boss.ok("sync", json!({})).await["head_seq"], 2);
    relay.stop().await;
}

/// The relay's time zone (`--tz`) is in `authenticated` and in `GET /api/menu`.
#[tokio::test]
async fn tz_in_authenticated_and_menu() {
    let relay = TestRelay::start_with(Limits {
        tz: "Asia/Seoul".into(),
        ..Limits::default()
    })
    .await;
    let c = relay.connect("ann", Role::Customer).await;
    assert_eq!(c.authenticated["data"]["tz"], "Asia/Seoul");
    let menu = http_get(&relay.http_url("/api/menu"), None).await;
    assert_eq!(menu.status, 200);
    assert_eq!(menu.body["tz"], "Asia/Seoul");
    assert!(menu.body["items"].as_array().is_some_and(|a| !a.is_empty()));
    relay.stop().await;
}

/// A cancel reason is one line: a newline in it does not reach the history.
#[tokio::test]
async fn cancel_reason_is_one_line() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let id = order_id(&ann.ok("order_place", cash_order(&[("kimbap", 1)])).await);
    let r = ann
        .request(
            "order_cancel",
            json!({"order_id": id, "reason": "changed\nmy mind"}),
        )
        .await;
    assert_eq!(r["type"], "ack", "{r}");
    let note = r["data"]["order"]["history"][1]["note"].clone();
    let note = note.as_str().expect("note");
    assert!(!note.contains('\n'), "{note:?}");
    relay.stop().await;
}
