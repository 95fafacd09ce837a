//! What admins (and, for the menu, crew) do over the socket (DESIGN §5):
//! the menu editor, announcements, promos, accounts and sessions, the
//! activity log, and system alerts with their acknowledgement.

use kfood_protocol::jwt::Claims;
use kfood_protocol::Role;
use kfood_relay::config::Limits;
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

/// Asserts that `reply` is an `error` with `code` (and `field`, when given).
#[track_caller]
fn check_refused(reply: &Value, code: &str, field: Option<&str>) {
    assert_eq!(reply["type"], "error", "expected {code}, got {reply}");
    assert_eq!(reply["data"]["code"], code, "{reply}");
    if let Some(f) = field {
        assert_eq!(reply["data"]["field"], f, "{reply}");
    }
}

/// The public menu's item ids, in display order.
async fn menu_ids(relay: &TestRelay) -> Vec<String> {
    let menu: Value = reqwest::get(relay.http_url("/api/menu"))
        .await
        .expect("GET /api/menu")
        .json()
        .await
        .expect("menu JSON");
    menu["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// An RFC 3339 time as unix ms (the relay writes times in its own format).
#[track_caller]
fn ms(v: &Value) -> i64 {
    kfood_protocol::time::parse_ms(v.as_str().expect("a time")).expect("RFC 3339")
}

fn menu_item<'a>(snapshot: &'a Value, id: &str) -> Option<&'a Value> {
    snapshot["data"]["menu"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
}

/// A declined card payment by `c`.
async fn decline(c: &mut Client) {
    c.refused(
        "order_place",
        card_order(&[("kimbap", 1)], DECLINED_CARD),
        "payment_declined",
    )
    .await;
}

fn hotteok() -> Value {
    json!({
        "id": "hotteok", "name": "Hotteok", "category": "Drinks & Dessert",
        "description": "Sweet pancake with brown sugar and nuts",
        "price_cents": 450, "prep_minutes": 5, "available": true,
    })
}

/// `hotteok()` as the relay keeps it: an item that names no station is the
/// kitchen's (DESIGN §13), one that names no options has none (§14).
fn hotteok_stored() -> Value {
    let mut v = hotteok();
    v["station"] = json!("kitchen");
    v["options"] = json!([]);
    v
}

/// An admin's upsert of a new id with every field adds the item in its category; everyone gets menu_update with the whole item and can order it.
#[tokio::test]
async fn upsert_adds_a_new_item_for_everyone() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut boss = relay.connect("boss", Role::Admin).await;

    let ack = boss
        .ok("menu_update", json!({"op": "upsert", "item": hotteok()}))
        .await;
    assert_eq!(ack["item"], hotteok_stored());
    for c in [&mut ann, &mut kim, &mut boss] {
        let e = c.next_of("menu_update").await;
        assert_eq!(e["data"], json!({"op": "upsert", "item": hotteok_stored()}));
        assert!(e["seq"].as_u64().is_some());
    }
    let ids = menu_ids(&relay).await;
    assert_eq!(
        &ids[ids.len() - 2..],
        ["barley-tea", "hotteok"],
        "a new item goes last in its category"
    );
    let order = ann.ok("order_place", cash_order(&[("hotteok", 2)])).await;
    assert_eq!(order["order"]["total_cents"], 900);
    relay.stop().await;
}

/// An upsert of a new id is invalid without any one of its fields, or with a bad value, and changes nothing.
#[tokio::test]
async fn a_new_item_needs_every_field() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut boss = relay.connect("boss", Role::Admin).await;

    let mut cases: Vec<(Value, String)> = [
        "name",
        "category",
        "description",
        "price_cents",
        "prep_minutes",
        "available",
    ]
    .iter()
    .map(|f| {
        let mut item = hotteok();
        item.as_object_mut().unwrap().remove(*f);
        (item, format!("item.{f}"))
    })
    .collect();
    for (field, value) in [
        ("id", json!("Hot Teok")),
        ("id", json!("")),
        ("name", json!("n".repeat(65))),
        ("name", json!("  ")),
        ("price_cents", json!(-1)),
        ("prep_minutes", json!(601)),
    ] {
        let mut item = hotteok();
        item[field] = value;
        cases.push((item, format!("item.{field}")));
    }
    for (item, field) in cases {
        let r = boss
            .request("menu_update", json!({"op": "upsert", "item": item}))
            .await;
        check_refused(&r, "invalid", Some(&field));
    }
    let r = boss
        .request(
            "menu_update",
            json!({"op": "rename", "item": {"id": "kimbap"}}),
        )
        .await;
    check_refused(&r, "invalid", Some("op"));

    // Nothing was added or broadcast: the next menu_update is this one.
    boss.ok(
        "menu_update",
        json!({"op": "set_available", "item": {"id": "kimbap", "available": false}}),
    )
    .await;
    let e = ann.next_of("menu_update").await;
    assert_eq!(e["data"]["item"]["id"], "kimbap");
    assert!(!menu_ids(&relay).await.contains(&"hotteok".to_owned()));
    relay.stop().await;
}

/// An upsert of an existing id changes only the given fields, broadcasts the whole item, and reprices new orders (old totals are price_changed); a new category moves it.
#[tokio::test]
async fn upsert_patches_an_existing_item() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let before = menu_item(ann.snapshot.as_ref().unwrap(), "bibimbap")
        .unwrap()
        .clone();

    let ack = boss
        .ok(
            "menu_update",
            json!({"op": "upsert", "item": {"id": "bibimbap", "price_cents": 1400}}),
        )
        .await;
    let mut expected = before.clone();
    expected["price_cents"] = json!(1400);
    assert_eq!(ack["item"], expected);
    let e = ann.next_of("menu_update").await;
    assert_eq!(e["data"], json!({"op": "upsert", "item": expected}));

    let mut stale = cash_order(&[("bibimbap", 1)]);
    stale["expected_total_cents"] = json!(1350);
    ann.refused("order_place", stale, "price_changed").await;
    let q = ann.ok("order_quote", cash_order(&[("bibimbap", 1)])).await;
    assert_eq!(q["total_cents"], 1400);

    boss.ok(
        "menu_update",
        json!({"op": "upsert", "item": {"id": "kimbap", "category": "Rice & Noodles"}}),
    )
    .await;
    let ids = menu_ids(&relay).await;
    let at = |id: &str| ids.iter().position(|i| i == id).unwrap();
    assert_eq!(at("kimbap"), at("naengmyeon") + 1, "{ids:?}");
    relay.stop().await;
}

/// remove takes an item off the menu (menu_update carries just its id); it can no longer be ordered, open orders keep it, and removing it again is not_found.
#[tokio::test]
async fn remove_takes_an_item_off_the_menu() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let placed = ann.ok("order_place", cash_order(&[("sikhye", 2)])).await;

    let ack = boss
        .ok(
            "menu_update",
            json!({"op": "remove", "item": {"id": "sikhye"}}),
        )
        .await;
    assert_eq!(ack["item"], json!({"id": "sikhye"}));
    for c in [&mut ann, &mut kim] {
        let e = c.next_of("menu_update").await;
        assert_eq!(e["data"], json!({"op": "remove", "item": {"id": "sikhye"}}));
    }
    assert!(!menu_ids(&relay).await.contains(&"sikhye".to_owned()));
    ann.refused("order_place", cash_order(&[("sikhye", 1)]), "unknown_item")
        .await;
    let r = boss
        .request(
            "menu_update",
            json!({"op": "remove", "item": {"id": "sikhye"}}),
        )
        .await;
    check_refused(&r, "not_found", Some("item.id"));

    let fresh = relay.connect("ann", Role::Customer).await;
    let snap = fresh.snapshot.unwrap();
    assert!(menu_item(&snap, "sikhye").is_none());
    assert_eq!(
        snap["data"]["orders"][0], placed["order"],
        "open orders keep the item"
    );
    relay.stop().await;
}

/// Crew may only mark items available or not (broadcast whole to everyone); a crew upsert or remove, and any customer menu change, is forbidden.
#[tokio::test]
async fn crew_may_only_set_available() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let mut expected = menu_item(kim.snapshot.as_ref().unwrap(), "tteokbokki")
        .unwrap()
        .clone();
    expected["available"] = json!(false);

    let ack = kim
        .ok(
            "menu_update",
            json!({"op": "set_available", "item": {"id": "tteokbokki", "available": false}}),
        )
        .await;
    assert_eq!(ack["item"], expected);
    for c in [&mut ann, &mut boss] {
        let e = c.next_of("menu_update").await;
        assert_eq!(e["data"], json!({"op": "set_available", "item": expected}));
        assert_eq!(e["sender"], json!({"id": "kim", "type": "crew"}));
    }

    let upsert = json!({"op": "upsert", "item": hotteok()});
    let remove = json!({"op": "remove", "item": {"id": "kimbap"}});
    for data in [&upsert, &remove] {
        let r = kim.request("menu_update", data.clone()).await;
        check_refused(&r, "forbidden", Some("op"));
    }
    let set = json!({"op": "set_available", "item": {"id": "kimbap", "available": false}});
    for data in [&upsert, &remove, &set] {
        ann.refused("menu_update", data.clone(), "forbidden").await;
    }
    let r = kim
        .request(
            "menu_update",
            json!({"op": "set_available", "item": {"id": "kimbap"}}),
        )
        .await;
    check_refused(&r, "invalid", Some("item.available"));
    let r = kim
        .request(
            "menu_update",
            json!({"op": "set_available", "item": {"id": "pizza", "available": false}}),
        )
        .await;
    check_refused(&r, "not_found", Some("item.id"));

    let fresh = relay.connect("ann", Role::Customer).await;
    let snap = fresh.snapshot.unwrap();
    assert_eq!(menu_item(&snap, "tteokbokki").unwrap()["available"], false);
    assert_eq!(menu_item(&snap, "kimbap").unwrap()["available"], true);
    assert!(menu_item(&snap, "hotteok").is_none());
    relay.stop().await;
}

/// announce is acked with the whole announcement (author, times, cleaned text); bad fields are invalid; an expired one is left out of snapshots.
#[tokio::test]
async fn announcements_are_stored_and_checked() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut boss = relay.connect("boss", Role::Admin).await;

    let ack = boss
        .ok(
            "announce",
            json!({"audience": "all", "kind": "maintenance", "text": "Closing at 21:00\nsee you \u{1b}[31mtomorrow",
                   "expires_at": "2099-01-01T00:00:00Z"}),
        )
        .await;
    let a = &ack["announcement"];
    assert_eq!(a["id"], 1);
    assert_eq!(a["audience"], "all");
    assert_eq!(a["kind"], "maintenance");
    assert_eq!(ms(&a["expires_at"]), ms(&json!("2099-01-01T00:00:00Z")));
    assert_eq!(a["by"], json!({"id": "boss", "name": "boss name"}));
    assert!(a["created_at"].is_string());
    let text = a["text"].as_str().unwrap();
    assert!(text.starts_with("Closing at 21:00\nsee you"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "control characters are removed: {text:?}"
    );
    let e = ann.next_of("announcement").await;
    assert_eq!(&e["data"], a);

    boss.ok(
        "announce",
        json!({"audience": "customer", "kind": "promotion", "text": "old news", "expires_at": "2020-01-01T00:00:00Z"}),
    )
    .await;
    for (data, field) in [
        (
            json!({"audience": "all", "kind": "announcement", "text": "  "}),
            "text",
        ),
        (
            json!({"audience": "all", "kind": "announcement", "text": "x".repeat(1001)}),
            "text",
        ),
        (
            json!({"audience": "everyone", "kind": "announcement", "text": "hi"}),
            "audience",
        ),
        (
            json!({"audience": "all", "kind": "gossip", "text": "hi"}),
            "kind",
        ),
        (
            json!({"audience": "all", "kind": "announcement", "text": "hi", "expires_at": "soon"}),
            "expires_at",
        ),
    ] {
        let r = boss.request("announce", data).await;
        check_refused(&r, "invalid", Some(field));
    }
    let fresh = relay.connect("ann", Role::Customer).await;
    let shown = &fresh.snapshot.unwrap()["data"]["announcements"];
    assert_eq!(shown, &json!([a]), "only the unexpired announcement");
    relay.stop().await;
}

/// promo_upsert is acked with the normalised promo, appears in admin snapshots, and refuses bad discounts and codes.
#[tokio::test]
async fn promos_are_upserted_and_checked() {
    let relay = TestRelay::start().await;
    let mut boss = relay.connect("boss", Role::Admin).await;

    let ack = boss
        .ok(
            "promo_upsert",
            json!({"code": "spring-10", "percent_off": 10, "active": true, "expires_at": "2099-06-01T00:00:00Z"}),
        )
        .await;
    let promo = &ack["promo"];
    assert_eq!(
        (&promo["code"], &promo["percent_off"], &promo["active"]),
        (&json!("SPRING-10"), &json!(10), &json!(true)),
        "{promo}"
    );
    assert_eq!(ms(&promo["expires_at"]), ms(&json!("2099-06-01T00:00:00Z")));
    let e = boss.next_of("promo_update").await;
    assert_eq!(&e["data"], promo);
    // Switching from percent to amount replaces the discount.
    let ack = boss
        .ok(
            "promo_upsert",
            json!({"code": "SPRING-10", "amount_off_cents": 300, "active": true}),
        )
        .await;
    assert_eq!(
        ack["promo"],
        json!({"code": "SPRING-10", "amount_off_cents": 300, "active": true, "expires_at": null})
    );

    for (data, field) in [
        (
            json!({"code": "A", "percent_off": 0, "active": true}),
            "percent_off",
        ),
        (
            json!({"code": "A", "percent_off": 101, "active": true}),
            "percent_off",
        ),
        (
            json!({"code": "A", "percent_off": 5, "amount_off_cents": 5, "active": true}),
            "percent_off",
        ),
        (json!({"code": "NEW", "active": true}), "percent_off"),
        (
            json!({"code": "A", "amount_off_cents": 0, "active": true}),
            "amount_off_cents",
        ),
        (
            json!({"code": "no spaces", "percent_off": 5, "active": true}),
            "code",
        ),
        (json!({"code": "A", "percent_off": 5}), "active"),
        (
            json!({"code": "A", "percent_off": 5, "active": true, "expires_at": "later"}),
            "expires_at",
        ),
    ] {
        let r = boss.request("promo_upsert", data).await;
        check_refused(&r, "invalid", Some(field));
    }
    let fresh = relay.connect("eve", Role::Admin).await;
    assert_eq!(
        fresh.snapshot.unwrap()["data"]["promos"],
        json!([{"code": "SPRING-10", "amount_off_cents": 300, "active": true, "expires_at": null}])
    );
    relay.stop().await;
}

/// An account made with user_create can log in through POST /api/login and use its token; bad or taken usernames and short passwords are invalid.
#[tokio::test]
async fn user_create_makes_an_account_that_logs_in() {
    let relay = TestRelay::start().await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let ack = boss
        .ok(
            "user_create",
            json!({"username": "chef.lee", "password": "kimchi-2026", "name": "Chef Lee", "role": "crew"}),
        )
        .await;
    assert_eq!(
        ack["user"],
        json!({"id": "chef.lee", "name": "Chef Lee", "type": "crew"})
    );

    let http = reqwest::Client::new();
    let login = |password: &str| {
        http.post(relay.http_url("/api/login"))
            .json(&json!({"username": "chef.lee", "password": password}))
            .send()
    };
    let res = login("kimchi-2026").await.expect("login");
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["user"],
        json!({"id": "chef.lee", "name": "Chef Lee", "type": "crew"})
    );
    assert!(body["expires_at"].is_string());
    let token = body["token"].as_str().unwrap();
    let chef = Client::connect(&relay.ws_url(), token, Role::Crew, None).await;
    assert_eq!(chef.authenticated["data"]["user"]["name"], "Chef Lee");

    let res = login("wrong-password").await.expect("login");
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "auth_failed");

    for (data, field) in [
        (
            json!({"username": "chef.lee", "password": "another-one", "name": "Again", "role": "crew"}),
            "username",
        ),
        (
            json!({"username": "Chef Lee", "password": "kimchi-2026", "name": "x", "role": "crew"}),
            "username",
        ),
        (
            json!({"username": "cl", "password": "kimchi-2026", "name": "x", "role": "crew"}),
            "username",
        ),
        (
            json!({"username": "cook2", "password": "short", "name": "x", "role": "crew"}),
            "password",
        ),
        (
            json!({"username": "cook2", "password": "kimchi-2026", "name": "x", "role": "chef"}),
            "role",
        ),
        (
            json!({"username": "cook2", "password": "kimchi-2026", "name": " ", "role": "crew"}),
            "name",
        ),
    ] {
        let r = boss.request("user_create", data).await;
        check_refused(&r, "invalid", Some(field));
    }
    relay.stop().await;
}

/// user_list lists stored accounts and token-only users with whether they are online and how many sessions they hold.
#[tokio::test]
async fn user_list_shows_who_is_online() {
    let relay = TestRelay::start().await;
    let _ann1 = relay.connect("ann", Role::Customer).await;
    let _ann2 = relay.connect("ann", Role::Customer).await;
    let _kim = relay.connect("kim", Role::Crew).await;
    let mut boss = relay.connect("boss", Role::Admin).await;

    let users = boss.ok("user_list", json!({})).await["users"].clone();
    let rows = users.as_array().unwrap();
    let ids: Vec<&str> = rows.iter().map(|u| u["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "rows are sorted by id");
    let row = |id: &str| rows.iter().find(|u| u["id"] == id).cloned();
    assert_eq!(
        row("ann"),
        Some(
            json!({"id": "ann", "name": "ann name", "role": "customer", "online": true, "sessions": 2})
        )
    );
    assert_eq!(row("kim").unwrap()["sessions"], 1);
    assert_eq!(row("boss").unwrap()["online"], true);
    assert_eq!(
        row("crew"),
        Some(
            json!({"id": "crew", "name": "Demo Crew", "role": "crew", "online": false, "sessions": 0})
        ),
        "a stored account that is not connected"
    );
    relay.stop().await;
}

/// activity_query returns the activity log newest first, `limit` at a time, paging with `before`; a limit outside 1–200 is invalid.
#[tokio::test]
async fn activity_query_pages_newest_first() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    for _ in 0..3 {
        ann.ok("order_place", cash_order(&[("kimbap", 1)])).await;
    }
    // The third order's activity is live for admins, so it is stored.
    let mut live = Vec::new();
    while live.len() < 3 {
        let e = boss.next_of("activity").await;
        if e["data"]["kind"] == "order" {
            live.push(e);
        }
    }
    assert_eq!(live[2]["data"]["order_id"], 3);

    let ids = |v: &Value| -> Vec<u64> {
        v["activity"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_u64().unwrap())
            .collect()
    };
    let page = boss.ok("activity_query", json!({"limit": 2})).await;
    let first = ids(&page);
    assert_eq!(first.len(), 2);
    assert!(first[0] > first[1], "newest first: {first:?}");
    let newest = &page["activity"][0];
    assert_eq!(
        newest, &live[2]["data"],
        "the newest entry is the last order"
    );
    assert_eq!(
        newest["user"],
        json!({"id": "ann", "name": "ann name", "type": "customer"})
    );
    assert!(newest["text"].as_str().unwrap().contains("K-0003"));

    let next = boss
        .ok("activity_query", json!({"before": first[1], "limit": 2}))
        .await;
    let second = ids(&next);
    assert_eq!(second.len(), 2);
    assert!(second[0] < first[1] && second[1] < second[0], "{second:?}");
    let all = ids(&boss.ok("activity_query", json!({})).await);
    assert!(all.len() >= 5 && all.len() <= 100, "{all:?}");
    assert!(all.windows(2).all(|w| w[0] > w[1]), "{all:?}");
    assert_eq!(&all[..4], [first[0], first[1], second[0], second[1]]);

    for limit in [0, 201] {
        let r = boss
            .request("activity_query", json!({"limit": limit}))
            .await;
        check_refused(&r, "invalid", Some("limit"));
    }
    relay.stop().await;
}

/// session_revoke closes every socket of the user with 4011 and refuses their old tokens (4001); other users stay connected and later tokens work.
#[tokio::test]
async fn session_revoke_closes_the_users_sockets() {
    let relay = TestRelay::start().await;
    let old = token("ann", Role::Customer);
    let mut ann1 = Client::connect(&relay.ws_url(), &old, Role::Customer, None).await;
    let mut ann2 = relay.connect("ann", Role::Customer).await;
    let mut bob = relay.connect("bob", Role::Customer).await;
    let mut boss = relay.connect("boss", Role::Admin).await;

    boss.ok("session_revoke", json!({"user_id": "ann"})).await;
    assert_eq!(ann1.close_code().await, Some(4011));
    assert_eq!(ann2.close_code().await, Some(4011));
    bob.ok("heartbeat", json!({"t": 1})).await;

    let (err, code) = refused_auth(&relay.ws_url(), &old, Role::Customer).await;
    assert_eq!(err["data"]["code"], "auth_failed", "{err}");
    assert_eq!(code, Some(4001));

    // A token issued after the revocation (a later login) is accepted.
    let later = kfood_protocol::time::now_ms() / 1000 + 1;
    let fresh = secret().sign(&Claims::new("ann", "ann name", Role::Customer, later, 3600));
    let mut ann3 = Client::connect(&relay.ws_url(), &fresh, Role::Customer, None).await;
    ann3.ok("heartbeat", json!({"t": 2})).await;

    let r = boss.request("session_revoke", json!({"user_id": ""})).await;
    check_refused(&r, "invalid", Some("user_id"));
    relay.stop().await;
}

/// Five declined payments raise one payment_failures alert for admins (not crew); an admin's alert_ack resolves it for everyone watching, crew and customers may not ack.
#[tokio::test]
async fn payment_failures_raise_an_alert_that_admins_ack() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    for _ in 0..4 {
        decline(&mut ann).await;
    }
    assert!(
        unread(&mut boss, "system_alert").await.is_empty(),
        "four failures raise nothing"
    );
    decline(&mut ann).await;
    let raised = boss.next_of("system_alert").await;
    let alert = raised["data"].clone();
    assert_eq!(alert["kind"], "payment_failures");
    assert_eq!(alert["severity"], "warning");
    assert_eq!(alert["resolved"], false);
    assert!(alert["text"].as_str().unwrap().contains('5'), "{alert}");
    assert!(raised["seq"].as_u64().is_some());
    decline(&mut ann).await;
    assert!(
        unread(&mut boss, "system_alert").await.is_empty(),
        "one open alert, not one per failure"
    );

    let admin_view = relay.connect("eve", Role::Admin).await;
    assert_eq!(
        admin_view.snapshot.unwrap()["data"]["alerts"],
        json!([alert])
    );
    let crew_view = relay.connect("kim", Role::Crew).await;
    assert_eq!(crew_view.snapshot.unwrap()["data"]["alerts"], json!([]));

    let id = alert["id"].clone();
    kim.refused("alert_ack", json!({"alert_id": id}), "forbidden")
        .await;
    ann.refused("alert_ack", json!({"alert_id": id}), "forbidden")
        .await;
    let r = boss.request("alert_ack", json!({"alert_id": 999})).await;
    check_refused(&r, "not_found", Some("alert_id"));
    let ack = boss.ok("alert_ack", json!({"alert_id": id})).await;
    assert_eq!(ack["alert"]["resolved"], true);
    assert_eq!(
        ack["alert"]["resolved_by"],
        json!({"id": "boss", "name": "boss name"})
    );
    let resolved = boss.next_of("system_alert").await;
    assert_eq!(resolved["data"], ack["alert"]);
    assert!(unread(&mut kim, "system_alert").await.is_empty());

    let admin_view = relay.connect("eve", Role::Admin).await;
    assert_eq!(admin_view.snapshot.unwrap()["data"]["alerts"], json!([]));
    relay.stop().await;
}

/// Orders waiting with no crew connected raise a critical no_crew alert on the tick; crew see it in their snapshot and get it resolved once they are on.
#[tokio::test]
async fn no_crew_alert_when_orders_wait_unattended() {
    let relay = TestRelay::start_with(Limits {
        no_crew_after_secs: 0,
        ..Default::default()
    })
    .await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    ann.ok("order_place", cash_order(&[("kimbap", 1)])).await;

    let raised = boss.next_of("system_alert").await;
    assert_eq!(raised["data"]["kind"], "no_crew");
    assert_eq!(raised["data"]["severity"], "critical");
    assert_eq!(raised["data"]["resolved"], false);

    let mut kim = relay.connect("kim", Role::Crew).await;
    let alerts = &kim.snapshot.as_ref().unwrap()["data"]["alerts"];
    assert_eq!(
        alerts,
        &json!([raised["data"]]),
        "crew see open kitchen alerts"
    );
    let resolved = kim.next_of("system_alert").await;
    assert_eq!(resolved["data"]["id"], raised["data"]["id"]);
    assert_eq!(resolved["data"]["resolved"], true);
    let seen = boss.next_of("system_alert").await;
    assert_eq!(seen["data"], resolved["data"]);
    let customer_saw = unread(&mut ann, "system_alert").await;
    assert!(customer_saw.is_empty(), "{customer_saw:?}");
    relay.stop().await;
}
