//! The basic flow end to end: a customer orders, the kitchen works it, and
//! each party sees exactly what it may.

use kfood_protocol::Role;
use kfood_tests::*;
use serde_json::json;

/// A card order reaches crew (without card data) and admin, and a bump reaches the customer.
#[tokio::test]
async fn order_flows_to_kitchen_and_back() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut kim = relay.connect("kim", Role::Crew).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let snap = ann.snapshot.clone().unwrap();
    assert_eq!(snap["data"]["reset"], false);
    assert!(snap["data"]["menu"].as_array().unwrap().len() > 10);

    let ack = ann
        .ok(
            "order_place",
            card_order(&[("bibimbap", 2), ("kimbap", 1)], GOOD_CARD),
        )
        .await;
    let order = &ack["order"];
    assert_eq!(order["status"], "pending");
    assert_eq!(order["total_cents"], 2 * 1350 + 800);
    assert_eq!(order["payment"]["last4"], "4242");
    let id = order["id"].as_u64().unwrap();
    assert_eq!(order["code"], format!("K-{id:04}"));

    let created = kim.next_of("order_created").await;
    assert_eq!(
        created["data"]["order"]["payment"],
        json!({"method": "card", "status": "paid"})
    );
    let created_seq = created["seq"].as_u64().unwrap();
    let admin_created = boss.next_of("order_created").await;
    assert_eq!(admin_created["data"]["order"]["payment"]["brand"], "visa");
    let confirmed = boss.next_of("payment_confirmed").await;
    assert_eq!(confirmed["seq"].as_u64().unwrap(), created_seq + 1);

    let upd = kim
        .ok(
            "order_update",
            json!({"order_id": id, "status": "preparing", "prep_minutes": 9}),
        )
        .await;
    assert_eq!(upd["order"]["status"], "preparing");
    let seen = ann.next_of("order_update").await;
    assert_eq!(seen["data"]["status"], "preparing");
    assert_eq!(seen["data"]["order"]["prep_minutes"], 9);
    assert_eq!(seen["sender"], json!({"id": "kim", "type": "crew"}));
    relay.stop().await;
}
