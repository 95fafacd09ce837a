//! The HTTP API of DESIGN §2 and §8: login and registration, the public menu,
//! health and metrics, and the polling fallback (`/api/events`,
//! `/api/messages`) that must say what the socket says.

use std::time::{Duration, Instant};

use kfood_protocol::Role;
use kfood_relay::config::Limits;
use kfood_tests::*;
use serde_json::{json, Value};

/// Logs in as `username` and checks the answer and that its token opens a socket as `role`.
#[track_caller]
fn check_login<'a>(
    relay: &'a TestRelay,
    username: &'a str,
    password: &'a str,
    role: Role,
    name: &'a str,
) -> impl std::future::Future<Output = ()> + 'a {
    let caller = std::panic::Location::caller();
    async move {
        let r = http_post(
            &relay.http_url("/api/login"),
            None,
            &json!({"username": username, "password": password}),
        )
        .await;
        assert_eq!(r.status, 200, "{caller}: {}", r.text);
        let user = json!({"id": username, "name": name, "type": role});
        assert_eq!(r.body["user"], user, "{caller}");
        let expires = r.body["expires_at"].as_str().expect("expires_at");
        let exp = kfood_protocol::time::parse_ms(expires).expect("RFC 3339");
        assert!(exp > kfood_protocol::time::now_ms(), "{caller}: {expires}");
        let token = r.body["token"].as_str().expect("token");
        let c = Client::connect(&relay.ws_url(), token, role, None).await;
        assert_eq!(c.authenticated["data"]["user"], user, "{caller}");
    }
}

/// `POST /api/login` answers `{token, expires_at, user}` for each demo account, and the token works on `/ws`.
#[tokio::test]
async fn login_gives_a_working_token() {
    let relay = TestRelay::start().await;
    check_login(
        &relay,
        "admin",
        "kfood-admin-demo",
        Role::Admin,
        "Demo Admin",
    )
    .await;
    check_login(&relay, "crew", "kfood-crew-demo", Role::Crew, "Demo Crew").await;
    check_login(
        &relay,
        "customer",
        "kfood-customer-demo",
        Role::Customer,
        "Demo Customer",
    )
    .await;
    relay.stop().await;
}

/// An unknown user and a wrong password get the same 401 `auth_failed`; a bad body is 400.
#[tokio::test]
async fn bad_credentials_are_indistinguishable() {
    let relay = TestRelay::start().await;
    let url = relay.http_url("/api/login");
    let unknown = http_post(
        &url,
        None,
        &json!({"username": "nobody", "password": "kfood-crew-demo"}),
    )
    .await;
    let wrong = http_post(
        &url,
        None,
        &json!({"username": "crew", "password": "kfood-admin-demo"}),
    )
    .await;
    assert_eq!(unknown.status, 401, "{}", unknown.text);
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    assert_eq!(unknown.body["error"]["code"], "auth_failed");
    assert_eq!(unknown.body, wrong.body, "nothing tells the two apart");
    assert!(unknown.body.get("token").is_none());

    let bad = http_post(&url, None, &json!({"user": "crew"})).await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert!(bad.body["error"]["code"].is_string(), "{}", bad.text);
    relay.stop().await;
}

/// Sends a registration expected to fail with `status`, `code` and `field`.
#[track_caller]
fn check_register_refused<'a>(
    relay: &'a TestRelay,
    body: Value,
    status: u16,
    code: &'a str,
    field: &'a str,
) -> impl std::future::Future<Output = ()> + 'a {
    let caller = std::panic::Location::caller();
    async move {
        let r = http_post(&relay.http_url("/api/register"), None, &body).await;
        assert_eq!(r.status, status, "{caller}: {body} → {}", r.text);
        assert_eq!(r.body["error"]["code"], code, "{caller}: {}", r.text);
        assert_eq!(r.body["error"]["field"], field, "{caller}: {}", r.text);
    }
}

/// `POST /api/register` creates a customer (201, the login body); a taken name is 409; bad names and passwords are 400 `invalid` naming the field.
#[tokio::test]
async fn register_customers() {
    let relay = TestRelay::start().await;
    let body = json!({"username": "min-ji.k", "password": "bulgogi-2026", "name": "Min-ji"});
    let r = http_post(&relay.http_url("/api/register"), None, &body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body["user"],
        json!({"id": "min-ji.k", "name": "Min-ji", "type": "customer"})
    );
    assert!(r.body["expires_at"].is_string());
    let token = r.body["token"].as_str().unwrap();
    Client::connect(&relay.ws_url(), token, Role::Customer, None).await;
    check_login(&relay, "min-ji.k", "bulgogi-2026", Role::Customer, "Min-ji").await;

    // Without a name the username stands in; extra fields cannot pick a role.
    let r = http_post(
        &relay.http_url("/api/register"),
        None,
        &json!({"username": "jun_99", "password": "12345678", "role": "admin"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body["user"],
        json!({"id": "jun_99", "name": "jun_99", "type": "customer"})
    );

    check_register_refused(&relay, body.clone(), 409, "invalid", "username").await;
    check_register_refused(
        &relay,
        json!({"username": "admin", "password": "whatever-long"}),
        409,
        "invalid",
        "username",
    )
    .await;
    check_register_refused(
        &relay,
        json!({"username": "MinJi", "password": "bulgogi-2026"}),
        400,
        "invalid",
        "username",
    )
    .await;
    check_register_refused(
        &relay,
        json!({"username": "mj", "password": "bulgogi-2026"}),
        400,
        "invalid",
        "username",
    )
    .await;
    check_register_refused(
        &relay,
        json!({"username": "min ji", "password": "bulgogi-2026"}),
        400,
        "invalid",
        "username",
    )
    .await;
    check_register_refused(
        &relay,
        json!({"username": "minji2", "password": "short"}),
        400,
        "invalid",
        "password",
    )
    .await;
    relay.stop().await;
}

/// `GET /api/menu` is public and lists items in display order, each category together, as the snapshot does.
#[tokio::test]
async fn menu_is_public_and_in_category_order() {
    let relay = TestRelay::start().await;
    let r = http_get(&relay.http_url("/api/menu"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.body["items"].as_array().expect("items");
    assert!(items.len() > 10);
    assert_eq!(items[0]["id"], "bibimbap");
    let mut categories: Vec<&str> = Vec::new();
    for it in items {
        for k in [
            "id",
            "name",
            "category",
            "description",
            "price_cents",
            "available",
            "prep_minutes",
        ] {
            assert!(it.get(k).is_some(), "{k} missing: {it}");
        }
        let c = it["category"].as_str().unwrap();
        if categories.last() != Some(&c) {
            assert!(!categories.contains(&c), "{c} is split: {items:?}");
            categories.push(c);
        }
    }
    assert!(categories.len() > 1);
    let ann = relay.connect("ann", Role::Customer).await;
    assert_eq!(
        &ann.snapshot.unwrap()["data"]["menu"],
        &r.body["items"],
        "the same menu as the snapshot"
    );
    relay.stop().await;
}

/// `GET /healthz` reports ok with the head and the log_id.
#[tokio::test]
async fn healthz_reports_ok() {
    let relay = TestRelay::start().await;
    let r = http_get(&relay.http_url("/healthz"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "ok");
    assert_eq!(r.body["head_seq"], 0);
    assert!(r.body["log_id"].as_str().is_some_and(|s| !s.is_empty()));
    let missing = http_get(&relay.http_url("/api/nothing-here"), None).await;
    assert_eq!(missing.status, 404);
    relay.stop().await;
}

/// The value of the Prometheus series `name` (with its labels), if present.
fn series(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// `GET /metrics` has `kfood_connections{role}`, `kfood_messages_in_total` and `kfood_orders{status}`.
#[tokio::test]
async fn metrics_in_prometheus_format() {
    let relay = TestRelay::start().await;
    let _kim = relay.connect("kim", Role::Crew).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    ann.ok("order_place", cash_order(&[("bibimbap", 1)])).await;
    // Order counts come from the once-a-second sample.
    let mut text = String::new();
    for _ in 0..50 {
        let r = http_get(&relay.http_url("/metrics"), None).await;
        assert_eq!(r.status, 200);
        let ct = r.headers["content-type"].to_str().unwrap();
        assert!(ct.starts_with("text/plain"), "{ct}");
        text = r.text;
        if series(&text, "kfood_orders{status=\"pending\"}") == Some(1.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        series(&text, "kfood_orders{status=\"pending\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        series(&text, "kfood_connections{role=\"crew\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        series(&text, "kfood_connections{role=\"customer\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        series(&text, "kfood_connections{role=\"admin\"}"),
        Some(0.0),
        "{text}"
    );
    assert!(
        series(&text, "kfood_messages_in_total").unwrap() >= 1.0,
        "{text}"
    );
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        // The standard process series keep their usual names.
        assert!(
            line.starts_with("kfood_") || line.starts_with("process_"),
            "{line}"
        );
    }
    relay.stop().await;
}

/// `GET /api/events` as `token`.
async fn poll(relay: &TestRelay, token: &str, query: &str) -> Value {
    let r = http_get(&relay.http_url(&format!("/api/events{query}")), Some(token)).await;
    assert_eq!(r.status, 200, "{query}: {}", r.text);
    r.body
}

/// Without `since` the answer begins with a snapshot; with `since` it holds the same events the socket got, filtered the same way.
#[tokio::test]
async fn polling_matches_the_socket() {
    let relay = TestRelay::start().await;
    let ann_token = token("ann", Role::Customer);
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut bob = relay.connect("bob", Role::Customer).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    ann.ok("order_place", card_order(&[("bibimbap", 1)], GOOD_CARD))
        .await;
    let bobs = bob.ok("order_place", cash_order(&[("japchae", 1)])).await["order"]["id"].clone();
    boss.ok(
        "menu_update",
        json!({"op": "set_available", "item": {"id": "kimbap", "available": false}}),
    )
    .await;
    let live: Vec<Value> = ann
        .settle()
        .await
        .into_iter()
        .filter(|m| m.get("seq").is_some())
        .collect();
    assert_eq!(seqs(&live), vec![1, 2, 4]);

    let first = poll(&relay, &ann_token, "").await;
    assert_eq!(first["events"][0]["type"], "snapshot");
    assert_eq!(first["events"][0]["data"]["reset"], false);
    assert_eq!(first["head_seq"], 4);
    let orders = first["events"][0]["data"]["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 1, "only ann's own order");

    let polled = poll(&relay, &ann_token, "?since=0").await;
    assert_eq!(
        polled["events"].as_array().unwrap(),
        &live,
        "the socket's events"
    );
    assert_eq!(polled["head_seq"], 4);
    assert!(
        live.iter().all(|e| e["data"]["order_id"] != bobs),
        "bob's order is not ann's"
    );

    let tail = poll(&relay, &ann_token, "?since=2").await;
    assert_eq!(seqs(tail["events"].as_array().unwrap()), vec![4]);

    let crew = poll(&relay, &token("kim", Role::Crew), "?since=0").await;
    let crew_events = crew["events"].as_array().unwrap();
    assert_eq!(
        seqs(crew_events),
        vec![1, 3, 4],
        "crew see no payment events"
    );
    assert!(crew_events[0]["data"]["order"]["payment"]
        .get("last4")
        .is_none());
    relay.stop().await;
}

/// `wait` holds a poll until an event this user may see arrives, skipping others' events, and returns empty when none comes.
#[tokio::test]
async fn long_poll_returns_when_an_event_arrives() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut bob = relay.connect("bob", Role::Customer).await;
    let url = relay.http_url("/api/events?since=0&wait=20");
    let ann_token = token("ann", Role::Customer);
    let held = tokio::spawn(async move {
        let started = Instant::now();
        (http_get(&url, Some(&ann_token)).await, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    bob.ok("order_place", cash_order(&[("japchae", 1)])).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!held.is_finished(), "bob's order is not ann's to see");
    let mine = ann.ok("order_place", cash_order(&[("kimbap", 1)])).await;
    let (r, took) = held.await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    let events = r.body["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{}", r.text);
    assert_eq!(events[0]["type"], "order_created");
    assert_eq!(events[0]["data"]["order_id"], mine["order"]["id"]);
    assert_eq!(r.body["head_seq"], 2);
    assert!(
        took < Duration::from_secs(20),
        "answered before the hold ran out"
    );

    // Nothing new: an empty answer at the head once the wait is over.
    let quiet = poll(&relay, &token("ann", Role::Customer), "?since=2&wait=1").await;
    let log_id = ann.authenticated["data"]["log_id"].clone();
    assert_eq!(
        quiet,
        json!({"events": [], "head_seq": 2, "log_id": log_id})
    );
    relay.stop().await;
}

/// One poll carries at most 500 events; the next picks up from its `head_seq`.
#[tokio::test]
async fn poll_answers_hold_at_most_500_events() {
    let relay = TestRelay::start_with(Limits {
        rate_per_sec: 1000,
        rate_burst: 1000,
        ..Limits::default()
    })
    .await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    for round in 0..6 {
        let n = if round == 5 { 10 } else { 100 };
        let batch: Vec<Value> = (0..n)
            .map(|i| {
                json!({"type": "menu_update", "id": format!("m{round}-{i}"),
                       "data": {"op": "set_available", "item": {"id": "kimbap", "available": i % 2 == 1}}})
            })
            .collect();
        boss.send(json!({"type": "batch", "data": batch})).await;
        let r = boss.reply_to(&format!("m{round}-{}", n - 1)).await;
        assert_eq!(r["type"], "ack", "{r}");
    }
    let t = token("ann", Role::Customer);
    let page = poll(&relay, &t, "?since=0").await;
    assert_eq!(
        seqs(page["events"].as_array().unwrap()),
        (1..=500).collect::<Vec<_>>()
    );
    assert_eq!(page["head_seq"], 500);
    let rest = poll(&relay, &t, "?since=500").await;
    assert_eq!(
        seqs(rest["events"].as_array().unwrap()),
        (501..=510).collect::<Vec<_>>()
    );
    assert_eq!(rest["head_seq"], 510);
    relay.stop().await;
}

/// A `since` outside the log gets a snapshot with `reset: true`.
#[tokio::test]
async fn poll_since_outside_the_log_resets() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    ann.ok("order_place", cash_order(&[("kimbap", 1)])).await;
    let r = poll(&relay, &token("ann", Role::Customer), "?since=50").await;
    let events = r["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["type"], "snapshot");
    assert_eq!(events[0]["data"]["reset"], true);
    assert_eq!(events[0]["data"]["head_seq"], 1);
    assert_eq!(events[0]["data"]["orders"].as_array().unwrap().len(), 1);
    assert_eq!(r["head_seq"], 1);
    relay.stop().await;
}

/// `POST /api/messages` as `token`; returns the replies.
async fn post_messages(relay: &TestRelay, token: &str, body: Value) -> Vec<Value> {
    let r = http_post(&relay.http_url("/api/messages"), Some(token), &body).await;
    assert_eq!(r.status, 200, "{body} → {}", r.text);
    r.body["replies"].as_array().expect("replies").clone()
}

/// `POST /api/messages` takes a message or a batch and answers the acks and errors in order; an order placed over HTTP reaches the crew socket.
#[tokio::test]
async fn messages_over_http() {
    let relay = TestRelay::start().await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let ann = token("ann", Role::Customer);
    let replies = post_messages(
        &relay,
        &ann,
        json!({"type": "order_place", "id": "h1", "data": card_order(&[("bibimbap", 2)], GOOD_CARD)}),
    )
    .await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["type"], "ack");
    assert_eq!(replies[0]["data"]["ref"], "h1");
    let order = &replies[0]["data"]["order"];
    assert_eq!(order["total_cents"], 2700);
    let created = kim.next_of("order_created").await;
    assert_eq!(created["data"]["order_id"], order["id"]);
    assert_eq!(created["sender"], json!({"id": "ann", "type": "customer"}));

    let replies = post_messages(
        &relay,
        &ann,
        json!({"type": "batch", "data": [
            {"type": "order_quote", "id": "b1", "data": cash_order(&[("kimbap", 1)])},
            {"type": "order_place", "id": "b2", "data": cash_order(&[("no-such-dish", 1)])},
            {"type": "order_cancel", "id": "b3", "data": {"order_id": order["id"], "reason": "changed my mind"}},
            {"type": "teleport", "id": "b4"},
        ]}),
    )
    .await;
    let summary: Vec<(Value, Value, Value)> = replies
        .iter()
        .map(|r| {
            (
                r["type"].clone(),
                r["data"]["ref"].clone(),
                r["data"]["code"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (json!("ack"), json!("b1"), Value::Null),
            (json!("error"), json!("b2"), json!("unknown_item")),
            (json!("ack"), json!("b3"), Value::Null),
            (json!("error"), json!("b4"), json!("unknown_type")),
        ]
    );
    assert_eq!(replies[0]["data"]["total_cents"], 800);
    let cancelled = kim.next_of("order_cancelled").await;
    assert_eq!(cancelled["data"]["order_id"], order["id"]);
    relay.stop().await;
}

/// The polling API needs a valid Bearer token (401 otherwise); a request the role may not make is a `forbidden` reply.
#[tokio::test]
async fn polling_api_auth_and_roles() {
    let relay = TestRelay::start().await;
    let events = relay.http_url("/api/events");
    let messages = relay.http_url("/api/messages");
    let msg = json!({"type": "order_quote", "id": "q", "data": cash_order(&[("kimbap", 1)])});
    let cases: [(Option<String>, &str); 4] = [
        (None, "auth_failed"),
        (Some("not-a-jwt".into()), "auth_failed"),
        (Some(token_ttl("ann", Role::Customer, -60)), "token_expired"),
        (Some(String::new()), "auth_failed"),
    ];
    for (bearer, code) in &cases {
        let g = http_get(&events, bearer.as_deref()).await;
        assert_eq!(g.status, 401, "{bearer:?}: {}", g.text);
        assert_eq!(g.body["error"]["code"], *code, "{bearer:?}: {}", g.text);
        let p = http_post(&messages, bearer.as_deref(), &msg).await;
        assert_eq!(p.status, 401, "{bearer:?}: {}", p.text);
        assert_eq!(p.body["error"]["code"], *code, "{bearer:?}: {}", p.text);
    }

    let crew = token("kim", Role::Crew);
    let replies = post_messages(
        &relay,
        &crew,
        json!({"type": "order_place", "id": "p", "data": cash_order(&[("kimbap", 1)])}),
    )
    .await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["type"], "error");
    assert_eq!(replies[0]["data"]["code"], "forbidden");
    assert_eq!(replies[0]["data"]["ref"], "p");
    let ann = token("ann", Role::Customer);
    let replies = post_messages(
        &relay,
        &ann,
        json!({"type": "announce", "id": "a", "data": {"audience": "all", "kind": "announcement", "text": "hi"}}),
    )
    .await;
    assert_eq!(replies[0]["data"]["code"], "forbidden", "{replies:?}");

    let bad = http_post(&messages, Some(&ann), &json!("not an envelope")).await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert_eq!(bad.body["error"]["code"], "malformed");
    relay.stop().await;
}
