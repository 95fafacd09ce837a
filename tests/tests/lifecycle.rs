//! A socket's life (DESIGN §3, §4, §9): authentication and its refusals, the
//! welcome, heartbeats and the silence limit, the close codes, bad frames that
//! leave the connection open, batches, and text cleaning.

use futures_util::SinkExt;
use kfood_protocol::jwt::{Claims, Secret};
use kfood_protocol::Role;
use kfood_relay::config::Limits;
use kfood_tests::*;
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// Sends `first` as a socket's first frame and expects an `error` with `code`
/// followed by the close `close`.
#[track_caller]
fn check_first_frame<'a>(
    relay: &'a TestRelay,
    first: String,
    code: &'a str,
    close: u16,
) -> impl std::future::Future<Output = ()> + 'a {
    let caller = std::panic::Location::caller();
    async move {
        let mut c = Client::unauthenticated(&relay.ws_url()).await;
        c.send_text(&first).await;
        let err = c.next().await;
        assert_eq!(err["type"], "error", "{caller}: {first} → {err}");
        assert_eq!(err["data"]["code"], code, "{caller}: {first} → {err}");
        assert!(
            err["data"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{caller}: the refusal says why: {err}"
        );
        assert_eq!(c.close_code().await, Some(close), "{caller}: {first}");
    }
}

fn auth(role: &str, token: &str) -> String {
    json!({"type": "authentication", "userType": role, "token": token}).to_string()
}

/// A first frame that is not a valid authentication, or a token that is bad, expired or for another role, is refused with its error and close code.
#[tokio::test]
async fn refused_authentication_closes_with_its_code() {
    let relay = TestRelay::start().await;
    let foreign = Secret::new(b"some-other-relays-secret-0123456789abcdef").unwrap();
    let now = kfood_protocol::time::now_ms() / 1000;
    let foreign_token = foreign.sign(&Claims::new("kim", "Kim", Role::Crew, now, 3600));
    let crew = token("kim", Role::Crew);

    check_first_frame(
        &relay,
        r#"{"type":"heartbeat","data":{"t":1}}"#.into(),
        "auth_failed",
        4001,
    )
    .await;
    check_first_frame(&relay, "not json at all".into(), "auth_failed", 4001).await;
    check_first_frame(
        &relay,
        r#"{"type":"authentication","userType":"crew"}"#.into(),
        "auth_failed",
        4001,
    )
    .await;
    check_first_frame(
        &relay,
        auth("crew", "garbage.not.ajwt"),
        "auth_failed",
        4001,
    )
    .await;
    check_first_frame(&relay, auth("crew", &foreign_token), "auth_failed", 4001).await;
    check_first_frame(&relay, auth("chef", &crew), "auth_failed", 4001).await;
    check_first_frame(
        &relay,
        auth("crew", &token_ttl("kim", Role::Crew, -60)),
        "token_expired",
        4001,
    )
    .await;
    check_first_frame(&relay, auth("admin", &crew), "forbidden", 4003).await;
    check_first_frame(&relay, auth("customer", &crew), "forbidden", 4003).await;
    relay.stop().await;
}

/// A token that expires while its socket is open gets `error token_expired` and close 4001 at that moment.
#[tokio::test]
async fn token_expiring_on_an_open_socket_closes_4001() {
    let relay = TestRelay::start().await;
    let short = token_ttl("ann", Role::Customer, 2);
    let mut c = Client::connect(&relay.ws_url(), &short, Role::Customer, None).await;
    // Still usable before it expires.
    c.ok("sync", json!({"since": c.head_seq()})).await;
    let err = c.next_of("error").await;
    assert_eq!(err["data"]["code"], "token_expired", "{err}");
    assert_eq!(c.close_code().await, Some(4001));
    relay.stop().await;
}

/// The authentication fields are accepted inside `data` as well as at the top level.
#[tokio::test]
async fn authentication_fields_inside_data_are_accepted() {
    let relay = TestRelay::start().await;
    let mut c = Client::unauthenticated(&relay.ws_url()).await;
    c.send(json!({
        "type": "authentication",
        "data": {"userType": "crew", "token": token("kim", Role::Crew)},
    }))
    .await;
    let welcome = c.next().await;
    assert_eq!(welcome["type"], "authenticated", "{welcome}");
    assert_eq!(welcome["data"]["user"]["type"], "crew");
    let snap = c.next_of("snapshot").await;
    assert_eq!(snap["data"]["reset"], false);
    relay.stop().await;
}

/// `authenticated` carries the user, a session, heartbeat_ms, the log's head and its log_id.
#[tokio::test]
async fn authenticated_carries_the_welcome_fields() {
    let relay = TestRelay::start_with(Limits {
        heartbeat_ms: 12_000,
        ..Limits::default()
    })
    .await;
    let kim = relay.connect("kim", Role::Crew).await;
    let d = &kim.authenticated["data"];
    assert_eq!(
        d["user"],
        json!({"id": "kim", "name": "kim name", "type": "crew"})
    );
    assert!(d["session"].as_str().is_some_and(|s| !s.is_empty()), "{d}");
    assert_eq!(d["heartbeat_ms"], 12_000);
    assert_eq!(d["head_seq"], 0, "a fresh relay's log is empty");
    let log_id = d["log_id"].as_str().expect("log_id").to_owned();
    assert!(!log_id.is_empty());
    assert!(kim.authenticated["timestamp"].is_string());
    assert!(kim.authenticated.get("seq").is_none(), "not durable");

    let mut boss = relay.connect("boss", Role::Admin).await;
    boss.ok(
        "menu_update",
        json!({"op": "set_available", "item": {"id": "kimbap", "available": false}}),
    )
    .await;
    let ann = relay.connect("ann", Role::Customer).await;
    let d2 = &ann.authenticated["data"];
    assert_eq!(d2["head_seq"], 1);
    assert_eq!(
        d2["log_id"],
        log_id.as_str(),
        "one log_id per data directory"
    );
    assert_ne!(
        d2["session"], d["session"],
        "each socket is its own session"
    );
    let health = http_get(&relay.http_url("/healthz"), None).await;
    assert_eq!(health.body["log_id"], log_id.as_str());
    relay.stop().await;
}

/// A binary frame closes 4000, before and after authentication.
#[tokio::test]
async fn binary_frame_closes_4000() {
    let relay = TestRelay::start().await;
    let mut raw = Client::unauthenticated(&relay.ws_url()).await;
    raw.ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    assert_eq!(raw.close_code().await, Some(4000));

    let mut c = relay.connect("ann", Role::Customer).await;
    c.ws.send(Message::binary(b"{\"type\":\"heartbeat\"}".to_vec()))
        .await
        .unwrap();
    assert_eq!(c.close_code().await, Some(4000));
    relay.stop().await;
}

/// A frame over `max_frame_bytes` closes 4009; one just under it is handled.
#[tokio::test]
async fn frame_over_the_limit_closes_4009() {
    let relay = TestRelay::start_with(Limits {
        max_frame_bytes: 2048,
        ..Limits::default()
    })
    .await;
    let mut c = relay.connect("ann", Role::Customer).await;
    let framed = |pad: usize| {
        json!({"type": "order_quote", "id": format!("q{pad}"), "padding": "x".repeat(pad),
               "data": cash_order(&[("bibimbap", 1)])})
        .to_string()
    };
    let small = framed(1600);
    assert!(small.len() < 2048, "{}", small.len());
    c.send_text(&small).await;
    let r = c.reply_to("q1600").await;
    assert_eq!(r["type"], "ack", "{r}");

    let big = framed(2500);
    assert!(big.len() > 2048);
    c.send_text(&big).await;
    assert_eq!(c.close_code().await, Some(4009));

    // Also as the very first frame.
    let mut raw = Client::unauthenticated(&relay.ws_url()).await;
    let first = json!({"type": "authentication", "userType": "crew",
                       "token": token("kim", Role::Crew), "padding": "x".repeat(3000)});
    raw.send(first).await;
    assert_eq!(raw.close_code().await, Some(4009));
    relay.stop().await;
}

/// A heartbeat is answered with the same `t` and the relay's own time; with an id that answer carries `ref` and no ack follows.
#[tokio::test]
async fn heartbeat_echoes_t_with_relay_time() {
    let relay = TestRelay::start().await;
    let mut c = relay.connect("ann", Role::Customer).await;
    for t in [json!(1_700_000_000_123i64), json!("abc"), json!(0)] {
        let before = kfood_protocol::time::now_ms();
        c.send(json!({"type": "heartbeat", "data": {"t": t}})).await;
        let hb = c.next_of("heartbeat").await;
        assert_eq!(hb["data"]["t"], t, "{hb}");
        let relay_ms = hb["data"]["relay_ms"].as_i64().expect("relay_ms");
        assert!(relay_ms >= before - 1000, "{relay_ms} vs {before}");
        assert!(hb.get("seq").is_none());
    }
    c.send(json!({"type": "heartbeat", "id": "hb-1", "data": {"t": 7}}))
        .await;
    let hb = c.reply_to("hb-1").await;
    assert_eq!(hb["type"], "heartbeat", "{hb}");
    assert_eq!(hb["data"]["t"], 7, "{hb}");
    let rest = c.settle().await;
    assert!(
        rest.iter().all(|m| m["type"] != "ack"),
        "a heartbeat is never acked: {rest:?}"
    );
    relay.stop().await;
}

/// A socket silent for 2.5 × heartbeat_ms is closed 4010; one that keeps heartbeating stays open.
#[tokio::test]
async fn silent_socket_closes_4010() {
    let relay = TestRelay::start_with(Limits {
        heartbeat_ms: 300,
        ..Limits::default()
    })
    .await;
    let mut quiet = relay.connect("ann", Role::Customer).await;
    let mut chatty = relay.connect("bob", Role::Customer).await;
    assert_eq!(chatty.authenticated["data"]["heartbeat_ms"], 300);
    // 1.5 s of heartbeats every 100 ms: twice the 750 ms silence limit.
    for i in 0..15 {
        chatty
            .send(json!({"type": "heartbeat", "data": {"t": i}}))
            .await;
        let hb = chatty.next_of("heartbeat").await;
        assert_eq!(hb["data"]["t"], i);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(chatty.closed, None, "a heartbeating socket stays open");
    assert_eq!(quiet.close_code().await, Some(4010));
    // Once it falls silent it goes the same way.
    assert_eq!(chatty.close_code().await, Some(4010));
    relay.stop().await;
}

/// Sends `frame` and expects an `error` with `code` (and `field`, `ref` when given).
#[track_caller]
fn check_error<'a>(
    c: &'a mut Client,
    frame: &'a str,
    code: &'a str,
    reference: Option<&'a str>,
) -> impl std::future::Future<Output = Value> + 'a {
    let caller = std::panic::Location::caller();
    async move {
        c.send_text(frame).await;
        let err = c.next_of("error").await;
        assert_eq!(err["data"]["code"], code, "{caller}: {frame} → {err}");
        match reference {
            Some(r) => assert_eq!(err["data"]["ref"], r, "{caller}: {frame} → {err}"),
            None => assert!(err["data"].get("ref").is_none(), "{caller}: {err}"),
        }
        err
    }
}

/// Bad frames get `malformed` or `unknown_type` and the connection stays open.
#[tokio::test]
async fn bad_frames_get_errors_and_the_socket_stays_open() {
    let relay = TestRelay::start().await;
    let mut c = relay.connect("ann", Role::Customer).await;
    check_error(&mut c, "not json", "malformed", None).await;
    check_error(&mut c, "{\"type\": \"order_quote\", ", "malformed", None).await;
    check_error(&mut c, "[1, 2]", "malformed", None).await;
    check_error(&mut c, "42", "malformed", None).await;
    check_error(&mut c, r#"{"id": "x"}"#, "malformed", None).await;
    check_error(&mut c, r#"{"type": 7, "id": "x"}"#, "malformed", None).await;
    check_error(
        &mut c,
        r#"{"type": "batch", "data": {}}"#,
        "malformed",
        None,
    )
    .await;
    let e = check_error(
        &mut c,
        r#"{"type": "teleport", "id": "u1"}"#,
        "unknown_type",
        Some("u1"),
    )
    .await;
    assert!(
        e["data"]["message"].as_str().unwrap().contains("teleport"),
        "{e}"
    );
    check_error(&mut c, r#"{"type": "teleport"}"#, "unknown_type", None).await;
    let e = check_error(
        &mut c,
        r#"{"type": "order_quote", "id": "v1", "data": {"items": 5}}"#,
        "invalid",
        Some("v1"),
    )
    .await;
    assert_eq!(e["data"]["field"], "items", "{e}");
    check_error(
        &mut c,
        &auth("customer", &token("ann", Role::Customer)),
        "invalid",
        None,
    )
    .await;

    assert_eq!(c.closed, None);
    let quote = c.ok("order_quote", cash_order(&[("bibimbap", 2)])).await;
    assert_eq!(quote["total_cents"], 2700);
    relay.stop().await;
}

/// A batch over `max_batch` gets one `error invalid` (field `data`) and none of it runs.
#[tokio::test]
async fn oversize_batch_is_refused_whole() {
    let relay = TestRelay::start_with(Limits {
        max_batch: 3,
        ..Limits::default()
    })
    .await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let msgs: Vec<Value> = (0..4)
        .map(|i| json!({"type": "order_place", "id": format!("p{i}"), "data": cash_order(&[("kimbap", 1)])}))
        .collect();
    ann.send(json!({"type": "batch", "data": msgs})).await;
    let seen = ann.settle().await;
    assert_eq!(seen.len(), 1, "one answer for the whole batch: {seen:?}");
    assert_eq!(seen[0]["type"], "error");
    assert_eq!(seen[0]["data"]["code"], "invalid");
    assert_eq!(seen[0]["data"]["field"], "data");
    assert!(seen[0]["data"].get("ref").is_none());

    // Nothing ran: the next order is the first, and it is all the kitchen sees.
    let placed = ann.ok("order_place", cash_order(&[("kimbap", 1)])).await;
    assert_eq!(placed["order"]["id"], 1);
    let created = kim.next_of("order_created").await;
    assert_eq!(created["data"]["order_id"], 1);
    assert_eq!(created["seq"], 1);
    relay.stop().await;
}

/// The `(type, ref)` of every reply among `msgs` (acks, errors, and
/// heartbeats answering one with an id), in order.
fn replies(msgs: &[Value]) -> Vec<(String, Value)> {
    msgs.iter()
        .filter(|m| {
            m["type"] == "ack"
                || m["type"] == "error"
                || (m["type"] == "heartbeat" && m["data"].get("ref").is_some())
        })
        .map(|m| {
            (
                m["type"].as_str().unwrap().to_owned(),
                m["data"].get("ref").cloned().unwrap_or(Value::Null),
            )
        })
        .collect()
}

/// A batch's messages run in order and their replies come in the same order; a batch inside a batch is `malformed` alone.
#[tokio::test]
async fn batch_replies_in_order_and_nested_batch_is_malformed() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let batch = json!({"type": "batch", "data": [
        {"type": "order_quote", "id": "a", "data": cash_order(&[("bibimbap", 1)])},
        {"type": "order_quote", "id": "b", "data": cash_order(&[("no-such-dish", 1)])},
        {"type": "heartbeat", "id": "c", "data": {"t": 5}},
        {"type": "batch", "data": [{"type": "heartbeat", "id": "nested", "data": {"t": 6}}]},
        {"type": "order_place", "id": "d", "data": cash_order(&[("japchae", 1)])},
        {"type": "teleport", "id": "e"},
        {"type": "order_modify", "id": "f", "data": {"order_id": 1, "instructions": "more kimchi"}},
    ]});
    ann.send(batch).await;
    let seen = ann.settle().await;
    let t = |k: &str, r: Value| (k.to_owned(), r);
    assert_eq!(
        replies(&seen),
        vec![
            t("ack", json!("a")),
            t("error", json!("b")),
            t("heartbeat", json!("c")),
            t("error", Value::Null),
            t("ack", json!("d")),
            t("error", json!("e")),
            t("ack", json!("f")),
        ],
        "{seen:?}"
    );
    let err = |r: &str| {
        seen.iter()
            .find(|m| m["type"] == "error" && m["data"]["ref"] == r)
            .unwrap()["data"]["code"]
            .clone()
    };
    assert_eq!(err("b"), "unknown_item");
    assert_eq!(err("e"), "unknown_type");
    let nested = seen
        .iter()
        .find(|m| m["type"] == "error" && m["data"].get("ref").is_none())
        .unwrap();
    assert_eq!(nested["data"]["code"], "malformed");
    assert!(
        !seen
            .iter()
            .any(|m| m["data"]["ref"] == "nested" || m["data"]["t"] == 6),
        "the nested batch did not run: {seen:?}"
    );
    // `f` modified the order `d` created: the batch ran in order.
    let modified = seen.iter().find(|m| m["type"] == "order_modified").unwrap();
    assert_eq!(modified["data"]["order"]["instructions"], "more kimchi");
    relay.stop().await;
}

/// Unknown fields, at the top level and inside `data`, are ignored.
#[tokio::test]
async fn unknown_fields_are_ignored() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut data = cash_order(&[("bibimbap", 1)]);
    data["gift_wrap"] = json!(true);
    data["items"][0]["spice_level"] = json!(11);
    data["fulfillment"]["drone"] = json!("fast");
    ann.send(json!({"type": "order_place", "id": "x1", "data": data,
                    "priority": "vip", "trace": {"span": 1}}))
        .await;
    let r = ann.reply_to("x1").await;
    assert_eq!(r["type"], "ack", "{r}");
    assert_eq!(r["data"]["order"]["total_cents"], 1350);
    assert!(r["data"]["order"].get("gift_wrap").is_none());
    relay.stop().await;
}

/// `sender` is set by the relay from the session, whatever the client writes there.
#[tokio::test]
async fn sender_is_set_by_the_relay() {
    let relay = TestRelay::start().await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    ann.send(
        json!({"type": "order_place", "id": "s1", "data": cash_order(&[("kimbap", 1)]),
                    "sender": {"id": "boss", "type": "admin"}}),
    )
    .await;
    let ack = ann.reply_to("s1").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["data"]["order"]["customer"]["id"], "ann");
    let created = kim.next_of("order_created").await;
    assert_eq!(created["sender"], json!({"id": "ann", "type": "customer"}));
    assert_eq!(created["data"]["order"]["customer"]["id"], "ann");

    // A bogus sender shape is ignored too, not refused.
    ann.send(
        json!({"type": "order_quote", "id": "s2", "data": cash_order(&[("kimbap", 1)]),
                    "sender": "root"}),
    )
    .await;
    let r = ann.reply_to("s2").await;
    assert_eq!(r["type"], "ack", "{r}");
    relay.stop().await;
}

/// Every string in `v` is free of ESC, C1 controls and bidi overrides; newlines only under `multiline` keys.
#[track_caller]
fn assert_clean(v: &Value, path: &str, multiline: &[&str]) {
    match v {
        Value::String(s) => {
            let key = path.rsplit('.').next().unwrap_or("");
            for c in s.chars() {
                let allowed_ws = matches!(c, '\n' | '\t') && multiline.contains(&key);
                let control = matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
                    | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
                assert!(!control || allowed_ws, "{path} = {s:?} holds {c:?}");
            }
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| assert_clean(x, &format!("{path}[{i}]"), multiline)),
        Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| assert_clean(x, &format!("{path}.{k}"), multiline)),
        _ => {}
    }
}

/// Terminal escapes and bidi overrides never reach the kitchen: removed from notes and instructions (newlines kept) and from names and addresses (newlines too).
#[tokio::test]
async fn control_characters_are_removed_before_the_crew_sees_them() {
    let relay = TestRelay::start().await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let evil_name = token_named(
        "ann",
        "Ann\u{1b}[2J\nSmith\u{202e}\u{85}",
        Role::Customer,
        3600,
    );
    let mut ann = Client::connect(&relay.ws_url(), &evil_name, Role::Customer, None).await;
    assert_eq!(ann.authenticated["data"]["user"]["name"], "Ann[2JSmith");
    let mut data = cash_order(&[("bibimbap", 1)]);
    data["items"][0]["notes"] = json!("no \u{1b}[2Jonions\u{202e}\nextra spicy\tplease\u{7}");
    data["instructions"] = json!("ring \u{1b}]0;pwned\u{7}twice\r\nthanks\u{2066}!\u{2069}");
    data["fulfillment"] =
        json!({"kind": "delivery", "address": "1 Main St\n\u{1b}[31mApt 2\u{202d}"});
    ann.ok("order_place", data).await;

    let created = kim.next_of("order_created").await;
    let order = &created["data"]["order"];
    assert_eq!(
        order["lines"][0]["notes"],
        "no [2Jonions\nextra spicy\tplease"
    );
    assert_eq!(order["instructions"], "ring ]0;pwnedtwice\nthanks!");
    assert_eq!(order["customer"]["name"], "Ann[2JSmith");
    assert_eq!(order["fulfillment"]["address"], "1 Main St[31mApt 2");
    assert_clean(&created, "", &["notes", "instructions"]);
    relay.stop().await;
}

/// Graceful shutdown sends every socket a non-durable maintenance `announcement`, then closes 1001.
#[tokio::test]
async fn graceful_shutdown_announces_maintenance_then_closes_1001() {
    let relay = TestRelay::start().await;
    let mut clients = vec![
        relay.connect("ann", Role::Customer).await,
        relay.connect("kim", Role::Crew).await,
        relay.connect("boss", Role::Admin).await,
    ];
    let stopping = tokio::spawn(relay.stop());
    for c in &mut clients {
        let notice = c.next_of("announcement").await;
        assert_eq!(notice["data"]["kind"], "maintenance", "{notice}");
        assert!(notice.get("seq").is_none(), "not durable: {notice}");
        assert!(notice["data"]["text"]
            .as_str()
            .is_some_and(|t| !t.is_empty()));
        assert_eq!(c.close_code().await, Some(1001));
    }
    stopping.await.expect("relay stopped");
}

/// Control frames (ping) before the authentication are not taken as the first frame.
#[tokio::test]
async fn ping_before_authentication_is_not_the_first_frame() {
    let relay = TestRelay::start().await;
    let mut c = Client::unauthenticated(&relay.ws_url()).await;
    c.ws.send(Message::Ping(b"hello".to_vec().into()))
        .await
        .unwrap();
    c.send_text(&auth("crew", &token("kim", Role::Crew))).await;
    let welcome = c.next().await;
    assert_eq!(welcome["type"], "authenticated", "{welcome}");
    relay.stop().await;
}

/// An admin's stream starts with `authenticated` and the snapshot; the first
/// `metrics` after them carries `history`, whenever the admin connects
/// relative to the relay's one-second metrics tick.
#[tokio::test]
async fn admin_metrics_follow_the_snapshot_with_history() {
    let relay = TestRelay::start().await;
    let mut admins = Vec::new();
    // Connections spread over two and a half metrics ticks.
    for n in 0..16 {
        // `connect` asserts `authenticated` first, then reads the snapshot.
        admins.push(relay.connect(&format!("boss-{n}"), Role::Admin).await);
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }
    for boss in &mut admins {
        let m = boss.next_of("metrics").await;
        assert!(
            m["data"]["history"].is_array(),
            "first metrics lacks history: {m}"
        );
    }
    relay.stop().await;
}
