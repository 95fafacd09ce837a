//! What the bots say and how they read what they hear: the typed requests
//! they send (orders, kitchen bumps) and durable events read as
//! [`Event`] values, so no request is written by hand as JSON.

use kfood_protocol::messages::{Card, LineRequest, OrderPlace, OrderUpdate, PaymentRequest};
use kfood_protocol::order::{Fulfillment, FulfillmentKind, PaymentMethod};
use kfood_protocol::{Envelope, Event, OrderStatus, Request};
use rand::Rng;

/// Items of the demo menu (`kfood-relay --demo`) the bots order.
const ITEMS: [&str; 8] = [
    "bibimbap",
    "bulgogi",
    "kimchi-jjigae",
    "tteokbokki",
    "japchae",
    "kimbap",
    "mandu",
    "sikhye",
];

/// A test card that the relay's payment gateway charges.
pub const CARD_OK: &str = "4242424242424242";

/// A card payment with `number` (the gateway's test numbers decide the outcome).
pub fn card_payment(number: &str) -> PaymentRequest {
    PaymentRequest {
        method: PaymentMethod::Card,
        card: Some(Card {
            number: number.to_owned(),
            exp: "12/30".to_owned(),
            cvc: "123".to_owned(),
        }),
    }
}

/// A random pickup order: one to three lines, mostly card, some cash.
pub fn random_order(rng: &mut impl Rng, menu: &[String]) -> OrderPlace {
    let pool: Vec<&str> = if menu.is_empty() {
        ITEMS.to_vec()
    } else {
        menu.iter().map(String::as_str).collect()
    };
    let n = rng.gen_range(1..=3);
    let items = (0..n)
        .map(|_| LineRequest {
            item_id: pool[rng.gen_range(0..pool.len())].to_owned(),
            qty: rng.gen_range(1..=2),
            notes: None,
            options: Vec::new(),
        })
        .collect();
    let payment = if rng.gen_bool(0.8) {
        card_payment(CARD_OK)
    } else {
        PaymentRequest {
            method: PaymentMethod::Cash,
            card: None,
        }
    };
    OrderPlace {
        client_order_id: Some(uuid::Uuid::new_v4()),
        items,
        instructions: None,
        fulfillment: Fulfillment {
            kind: FulfillmentKind::Pickup,
            address: None,
        },
        payment: Some(payment),
        promo_code: None,
        expected_total_cents: None,
        scheduled_for: None,
    }
}

/// A crew member's request to move order `order_id` to `status`.
pub fn status_update(order_id: u64, status: OrderStatus) -> Request {
    Request::OrderUpdate(OrderUpdate {
        order_id,
        status: Some(status),
        prep_minutes: None,
        delivery_minutes: None,
        note: None,
    })
}

/// Reads a durable event typed; anything else (or an event this build cannot
/// read) is `None`.
pub fn durable(e: &Envelope) -> Option<Event> {
    match Event::from_envelope(e) {
        Ok(ev) => ev,
        Err(err) => {
            tracing::warn!(kind = %e.kind, cause = %err, "unreadable event");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kfood_protocol::messages::kind;

    /// Every random order is a well-formed `order_place` the relay would parse back unchanged.
    #[test]
    fn random_orders_are_valid_order_place_requests() {
        let mut rng = rand::thread_rng();
        for _ in 0..50 {
            let req = Request::OrderPlace(random_order(&mut rng, &[]));
            let env = req.to_envelope();
            assert_eq!(env.kind, kind::ORDER_PLACE);
            assert_eq!(Request::from_envelope(&env).expect("parses"), req);
            let Request::OrderPlace(o) = req else {
                unreachable!()
            };
            assert!((1..=3).contains(&o.items.len()));
            assert!(o.items.iter().all(|l| ITEMS.contains(&l.item_id.as_str())));
            assert!(o.client_order_id.is_some());
        }
    }

    /// A kitchen bump carries exactly the order id and the new status.
    #[test]
    fn status_update_is_an_order_update_with_only_a_status() {
        let env = status_update(7, OrderStatus::Ready).to_envelope();
        assert_eq!(env.kind, kind::ORDER_UPDATE);
        assert_eq!(
            env.data,
            serde_json::json!({"order_id": 7, "status": "ready"})
        );
    }

    /// A card payment serialises as DESIGN §5 asks: method, then the card's number, exp and cvc.
    #[test]
    fn card_payment_wire_shape() {
        let v = serde_json::to_value(card_payment(CARD_OK)).expect("serialises");
        assert_eq!(
            v,
            serde_json::json!({"method": "card", "card": {"number": CARD_OK, "exp": "12/30", "cvc": "123"}})
        );
    }
}
