//! What the bots say and how they read what they hear: the typed requests
//! they send (orders, kitchen bumps) and durable events read as
//! [`Event`] values, so no request is written by hand as JSON.

use kfood_protocol::messages::{Card, LineRequest, OrderPlace, OrderUpdate, PaymentRequest};
use kfood_protocol::options::ChosenOption;
use kfood_protocol::order::{Fulfillment, FulfillmentKind, PaymentMethod};
use kfood_protocol::time::{format_ms, Millis};
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

/// The demo menu's option groups (`kfood-relay --demo`, DESIGN §14) on the
/// items the bots order: the spice levels and the priced extras of each.
const SPICE: [&str; 3] = ["mild", "medium", "hot"];
const SPICED: [&str; 3] = ["bibimbap", "kimchi-jjigae", "tteokbokki"];
const EXTRAS: [(&str, &[&str]); 3] = [
    ("bibimbap", &["egg", "rice", "tofu"]),
    ("bulgogi", &["rice", "kimchi"]),
    ("tteokbokki", &["cheese", "egg"]),
];

/// A scheduled order's lead, in minutes from now: past any demo item's
/// prep time, so the relay takes it (DESIGN §14), and within the hour and a
/// half a demo runs.
const SCHEDULE_LEAD_MIN: std::ops::Range<i64> = 30..90;

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
        .map(|_| {
            let item_id = pool[rng.gen_range(0..pool.len())].to_owned();
            LineRequest {
                options: random_options(rng, &item_id),
                item_id,
                qty: rng.gen_range(1..=2),
                notes: None,
            }
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

/// Options a customer might pick for `item_id` of the demo menu: a spice
/// level half the time, an extra now and then; none for other items.
pub fn random_options(rng: &mut impl Rng, item_id: &str) -> Vec<ChosenOption> {
    let mut out = Vec::new();
    if SPICED.contains(&item_id) && rng.gen_bool(0.5) {
        out.push(ChosenOption {
            group: "spice".into(),
            choice: SPICE[rng.gen_range(0..SPICE.len())].into(),
        });
    }
    if let Some((_, extras)) = EXTRAS.iter().find(|(id, _)| *id == item_id) {
        if rng.gen_bool(0.3) {
            out.push(ChosenOption {
                group: "extras".into(),
                choice: extras[rng.gen_range(0..extras.len())].into(),
            });
        }
    }
    out
}

/// Makes `order` one placed for later: ready at a quarter-hour mark
/// [`SCHEDULE_LEAD_MIN`] from `now`.
pub fn schedule(order: &mut OrderPlace, rng: &mut impl Rng, now: Millis) {
    const QUARTER: Millis = 15 * 60_000;
    let lead = rng.gen_range(SCHEDULE_LEAD_MIN) * 60_000;
    let at = (now + lead).div_euclid(QUARTER) * QUARTER + QUARTER;
    order.scheduled_for = Some(format_ms(at));
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
            assert!(o.scheduled_for.is_none());
        }
    }

    /// Options are only ever the demo menu's own: spice on spiced items, an extra of that item.
    #[test]
    fn random_options_belong_to_the_item() {
        let mut rng = rand::thread_rng();
        let mut seen = 0;
        for _ in 0..200 {
            for item in ITEMS {
                for o in random_options(&mut rng, item) {
                    seen += 1;
                    match o.group.as_str() {
                        "spice" => {
                            assert!(SPICED.contains(&item) && SPICE.contains(&o.choice.as_str()))
                        }
                        "extras" => {
                            let (_, extras) = EXTRAS.iter().find(|(id, _)| *id == item).unwrap();
                            assert!(extras.contains(&o.choice.as_str()), "{item}: {o:?}");
                        }
                        other => panic!("{other}"),
                    }
                }
            }
        }
        assert!(seen > 0);
        assert!(random_options(&mut rng, "mandu").is_empty());
    }

    /// A scheduled order is due on a quarter-hour mark, at least the lead ahead.
    #[test]
    fn scheduled_orders_fall_on_quarter_hours() {
        let mut rng = rand::thread_rng();
        let now = 1_800_000_123_456;
        for _ in 0..50 {
            let mut o = random_order(&mut rng, &[]);
            schedule(&mut o, &mut rng, now);
            let at = kfood_protocol::time::parse_ms(o.scheduled_for.as_deref().unwrap()).unwrap();
            assert_eq!(at % (15 * 60_000), 0);
            assert!(at - now >= SCHEDULE_LEAD_MIN.start * 60_000);
            assert!(at - now <= (SCHEDULE_LEAD_MIN.end + 15) * 60_000);
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
