//! Rate limits of DESIGN §9: per-connection message rate (heartbeats and a
//! batch's messages included), closing persistent abusers 4008, and the
//! per-address login limit.

use kfood_protocol::Role;
use kfood_relay::config::Limits;
use kfood_tests::*;
use serde_json::{json, Value};

/// Past the burst, messages are refused `rate_limited` with their `ref` and `retry_after_ms`, and not processed.
#[tokio::test]
async fn over_the_rate_is_refused_with_ref_and_retry_after() {
    let relay = TestRelay::start_with(tight_rate()).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let ids: Vec<String> = (1..=8).map(|i| format!("r{i}")).collect();
    for id in &ids[..7] {
        ann.send(quote_frame(id)).await;
    }
    // The eighth would create an order: refused, so nothing is created.
    ann.send(json!({"type": "order_place", "id": "r8", "data": cash_order(&[("kimbap", 1)])}))
        .await;
    for id in &ids[..5] {
        let r = ann.reply_to(id).await;
        assert_eq!(r["type"], "ack", "within the burst: {r}");
    }
    for id in &ids[5..] {
        assert_rate_limited(&ann.reply_to(id).await, id);
    }
    assert_eq!(ann.closed, None, "a few over the limit do not close");
    let crew_saw = kim.settle().await;
    assert!(
        !crew_saw.iter().any(|m| m["type"] == "order_created"),
        "{crew_saw:?}"
    );
    relay.stop().await;
}

/// Heartbeats count against the rate like any message.
#[tokio::test]
async fn heartbeats_count_against_the_rate() {
    let relay = TestRelay::start_with(tight_rate()).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    for i in 0..5 {
        ann.send(json!({"type": "heartbeat", "id": format!("h{i}"), "data": {"t": i}}))
            .await;
    }
    for i in 0..5 {
        let r = ann.reply_to(&format!("h{i}")).await;
        assert_eq!(r["type"], "heartbeat", "{r}");
    }
    ann.send(quote_frame("q")).await;
    assert_rate_limited(&ann.reply_to("q").await, "q");
    relay.stop().await;
}

/// A batch counts as its messages: with a burst of five, a batch of eight runs five and refuses three, in order.
#[tokio::test]
async fn a_batch_counts_as_its_messages() {
    let relay = TestRelay::start_with(tight_rate()).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let ids: Vec<String> = (1..=8).map(|i| format!("b{i}")).collect();
    let batch: Vec<Value> = ids.iter().map(|id| quote_frame(id)).collect();
    ann.send(json!({"type": "batch", "data": batch})).await;
    let seen = ann.settle().await;
    let refs: Vec<&Value> = seen.iter().map(|m| &m["data"]["ref"]).collect();
    assert_eq!(refs, ids.iter().collect::<Vec<_>>(), "{seen:?}");
    for m in &seen[..5] {
        assert_eq!(m["type"], "ack", "{m}");
    }
    for (m, id) in seen[5..].iter().zip(&ids[5..]) {
        assert_rate_limited(m, id);
    }
    relay.stop().await;
}

/// A client that keeps flooding after being refused is closed 4008.
#[tokio::test]
async fn persistent_abuse_closes_4008() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let relay = TestRelay::start_with(tight_rate()).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    for i in 0..200 {
        // The relay may close mid-flood; later sends then fail.
        if ann
            .ws
            .send(Message::text(quote_frame(&format!("f{i}")).to_string()))
            .await
            .is_err()
        {
            break;
        }
    }
    // Everything before the close is an ack or a `rate_limited`, and the
    // socket ends with a close frame (`edges.rs` pins the order).
    while let Some(m) = ann.try_next(WAIT).await {
        assert!(
            m["type"] == "ack" || m["data"]["code"] == "rate_limited",
            "{m}"
        );
    }
    assert_eq!(ann.closed, Some(4008));

    // One batch far over the burst is abuse as well.
    let mut bob = relay.connect("bob", Role::Customer).await;
    let batch: Vec<Value> = (0..60).map(|i| quote_frame(&format!("g{i}"))).collect();
    bob.send(json!({"type": "batch", "data": batch})).await;
    assert_eq!(bob.close_code().await, Some(4008));

    // Other connections are unaffected.
    let mut carl = relay.connect("carl", Role::Customer).await;
    carl.ok("order_quote", cash_order(&[("kimbap", 1)])).await;
    relay.stop().await;
}

/// Past `login_per_min`, `POST /api/login` from the same address gets 429 with `Retry-After` and `rate_limited`.
#[tokio::test]
async fn login_limit_per_address() {
    let relay = TestRelay::start_with(Limits {
        login_per_min: 3,
        ..Limits::default()
    })
    .await;
    let url = relay.http_url("/api/login");
    let good = json!({"username": "crew", "password": "kfood-crew-demo"});
    let bad = json!({"username": "crew", "password": "not-the-password"});
    for body in [&good, &bad, &good] {
        let r = http_post(&url, None, body).await;
        assert_ne!(r.status, 429, "{}", r.text);
    }
    let r = http_post(&url, None, &good).await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(r.body["error"]["code"], "rate_limited", "{}", r.text);
    let retry: u64 = r.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    // Registration shares the limit.
    let reg = json!({"username": "newbie", "password": "long-enough-pw"});
    let r = http_post(&relay.http_url("/api/register"), None, &reg).await;
    assert_eq!(r.status, 429, "{}", r.text);
    relay.stop().await;
}
