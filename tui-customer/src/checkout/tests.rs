//! The checkout form and its requests, without a relay.

use super::*;
use kfood_protocol::{ErrorCode, ProtocolError};
use serde_json::json;

// 2026-11-23
const NOW: Millis = 1_795_392_000_000;

fn form() -> Checkout {
    Checkout::new(Uuid::nil())
}

fn typed(field: Field, text: &str) -> Checkout {
    let mut f = form();
    f.field = field;
    text.chars().for_each(|c| f.input(c));
    f
}

fn cart() -> Vec<CartLine> {
    vec![CartLine::new("bibimbap", 2, "")]
}

#[track_caller]
fn check_typed(field: Field, text: &str, expected: &str) {
    let f = typed(field, text);
    let got = match field {
        Field::Number => &f.number,
        Field::Expiry => &f.exp,
        Field::Cvc => &f.cvc,
        Field::Promo => &f.promo,
        Field::Address => &f.address,
        _ => &f.instructions,
    };
    assert_eq!(got, expected, "{field:?} typed {text:?}");
}

/// Each field keeps only what fits it (digits, MM/YY, upper-case promo).
#[test]
fn fields_take_only_what_fits() {
    check_typed(Field::Number, "4242 4242-4242a4242", "4242424242424242");
    check_typed(Field::Number, &"1".repeat(25), &"1".repeat(19));
    check_typed(Field::Expiry, "1230", "12/30");
    check_typed(Field::Expiry, "12/30", "12/30");
    check_typed(Field::Expiry, "1/30", "01/30");
    check_typed(Field::Expiry, "123099", "12/30");
    check_typed(Field::Cvc, "12345", "1234");
    check_typed(Field::Cvc, "1x2", "12");
    check_typed(Field::Promo, "save 10!", "SAVE10");
    check_typed(Field::Address, "1 Main St", "1 Main St");
}

/// Backspace in the expiry drops the slash with the digit.
#[test]
fn expiry_backspace_drops_the_slash_too() {
    let mut f = typed(Field::Expiry, "123");
    f.backspace();
    assert_eq!(f.exp, "12");
}

/// Tab visits only the fields the choices show.
#[test]
fn tab_skips_hidden_fields() {
    let mut f = form();
    let mut seen = vec![f.field];
    for _ in 0..7 {
        f.next_field();
        seen.push(f.field);
    }
    use Field::*;
    assert_eq!(
        seen,
        [
            Fulfillment,
            When,
            Instructions,
            Promo,
            Payment,
            Number,
            Expiry,
            Cvc
        ]
    );
    f.next_field();
    assert_eq!(f.field, Fulfillment);
    f.prev_field();
    assert_eq!(f.field, Cvc);
    f.cash = true;
    f.delivery = true;
    assert_eq!(
        f.fields(),
        [Fulfillment, When, Address, Instructions, Promo, Payment]
    );
}

#[track_caller]
fn check_card(number: &str, exp: &str, cvc: &str, expected: Result<(), Field>) {
    let mut f = form();
    f.number = number.into();
    f.exp = exp.into();
    f.cvc = cvc.into();
    let got = f
        .validate(&cart(), NOW)
        .map_err(|p| p.field.unwrap_or(Field::Fulfillment));
    assert_eq!(got, expected, "{number} {exp} {cvc}");
}

/// Cards are checked with the relay's rules, naming the wrong field.
#[test]
fn card_validation() {
    check_card("4242424242424242", "12/30", "123", Ok(()));
    check_card("4000000000000002", "01/27", "1234", Ok(()));
    check_card("4242424242424241", "12/30", "123", Err(Field::Number));
    check_card("4242", "12/30", "123", Err(Field::Number));
    check_card("", "12/30", "123", Err(Field::Number));
    check_card("4242424242424242", "10/26", "123", Err(Field::Expiry));
    check_card("4242424242424242", "13/30", "123", Err(Field::Expiry));
    check_card("4242424242424242", "12/3", "123", Err(Field::Expiry));
    check_card("4242424242424242", "12/30", "12", Err(Field::Cvc));
}

/// An empty cart, or delivery without an address, is caught before asking the relay.
#[test]
fn form_validation() {
    let mut f = form();
    f.cash = true;
    assert!(f.validate(&cart(), NOW).is_ok());
    assert_eq!(f.validate(&[], NOW).unwrap_err().field, None);
    f.delivery = true;
    assert_eq!(
        f.validate(&cart(), NOW).unwrap_err().field,
        Some(Field::Address)
    );
    f.address = "  ".into();
    assert!(!f.quotable(&cart()));
    f.address = "1 Main St".into();
    assert!(f.validate(&cart(), NOW).is_ok());
    assert!(f.quotable(&cart()));
}

/// Hints judge the first wrong card field and not the ones after it.
#[test]
fn hints_follow_the_first_wrong_field() {
    let mut f = form();
    f.number = "4242424242424242".into();
    f.exp = "10/26".into();
    assert_eq!(f.card_hint(Field::Number, NOW), Some(Ok("visa".into())));
    assert!(matches!(f.card_hint(Field::Expiry, NOW), Some(Err(_))));
    assert_eq!(f.card_hint(Field::Cvc, NOW), None);
    f.exp = "12/30".into();
    f.cvc = "123".into();
    assert_eq!(f.card_hint(Field::Cvc, NOW), Some(Ok(String::new())));
    f.cash = true;
    assert_eq!(f.card_hint(Field::Number, NOW), None);
}

/// The quote carries the order without payment; the order adds the payment, the id and the total seen.
#[test]
fn request_shapes() {
    let mut f = form();
    let mut lines = cart();
    lines.push(CartLine::new("japchae", 1, "no onions"));
    f.promo = "SAVE10".into();
    f.instructions = "ring twice".into();
    let q = f.quote_request(&lines);
    assert_eq!(q.kind(), "order_quote");
    assert_eq!(
        q.data(),
        json!({
            "items": [{"item_id": "bibimbap", "qty": 2},
                      {"item_id": "japchae", "qty": 1, "notes": "no onions"}],
            "fulfillment": {"kind": "pickup"},
            "instructions": "ring twice",
            "promo_code": "SAVE10",
        })
    );
    f.number = "4242424242424242".into();
    f.exp = "12/30".into();
    f.cvc = "123".into();
    let p = f.place_request(&lines, 3950).data();
    assert_eq!(p["client_order_id"], json!(Uuid::nil()));
    assert_eq!(p["expected_total_cents"], 3950);
    assert_eq!(p["payment"]["card"]["exp"], "12/30");
    f.cash = true;
    f.delivery = true;
    f.address = "1 Main St".into();
    let p = f.place_request(&lines, 3950).data();
    assert_eq!(p["payment"], json!({"method": "cash"}));
    assert_eq!(
        p["fulfillment"],
        json!({"kind": "delivery", "address": "1 Main St"})
    );
}

/// A quote is used only for the shape of the order it priced.
#[test]
fn quotes_belong_to_one_shape() {
    let mut f = form();
    let lines = cart();
    f.quote = Some(Quote {
        key: f.quote_key(&lines),
        subtotal_cents: 2700,
        discount_cents: 0,
        ready_at: None,
        total_cents: 2700,
    });
    assert!(f.current_quote(&lines).is_some());
    f.promo = "SAVE10".into();
    assert!(f.current_quote(&lines).is_none());
    f.promo.clear();
    assert!(f
        .current_quote(&[CartLine::new("bibimbap", 3, "")])
        .is_none());
}

/// Card numbers are drawn masked but for the last four digits.
#[test]
fn masking() {
    assert_eq!(mask_number("4242424242424242", '*'), "**** **** **** 4242");
    assert_eq!(mask_number("42424", '*'), "*242 4");
    assert_eq!(mask_number("42", '*'), "42");
}

/// Enter without a quote asks for one (once); with one it places, once.
#[test]
fn submit_prices_first_then_places_once() {
    let mut f = form();
    f.cash = true;
    let lines = cart();
    let Submit::Quote { key, request } = f.submit(&lines, NOW, true) else {
        panic!("no quote asked for")
    };
    assert_eq!(request.kind(), "order_quote");
    assert_eq!(
        f.submit(&lines, NOW, true),
        Submit::Nothing,
        "already asked"
    );
    let ack = QuoteAck {
        subtotal_cents: 2700,
        discount_cents: 0,
        ready_at: None,
        total_cents: 2700,
    };
    f.on_quote(key, Ok(ack));
    let Submit::Place(request) = f.submit(&lines, NOW, true) else {
        panic!("not placed")
    };
    assert_eq!(request.data()["expected_total_cents"], 2700);
    assert_eq!(f.submit(&lines, NOW, true), Submit::Nothing, "placed once");
}

/// A changed price drops the old quote and asks for a new one.
#[test]
fn price_changed_asks_for_a_new_quote() {
    let mut f = form();
    f.cash = true;
    let lines = cart();
    f.quote = Some(Quote {
        key: f.quote_key(&lines),
        subtotal_cents: 2700,
        discount_cents: 0,
        ready_at: None,
        total_cents: 2700,
    });
    assert!(matches!(f.submit(&lines, NOW, true), Submit::Place(_)));
    let e = ProtocolError::new(ErrorCode::PriceChanged, "now 2800");
    let (_, again) = f.on_place_refused(&e, &lines).expect("a new quote");
    assert_eq!(again.kind(), "order_quote");
    assert!(f.current_quote(&lines).is_none());
    assert!(!f.placing);
    assert!(f.notice.as_deref().unwrap().contains("Prices changed"));
}

/// Other choices on a line make another shape (their prices differ); the
/// same choices in another order do not.
#[test]
fn options_are_part_of_the_quoted_shape() {
    use kfood_protocol::options::ChosenOption;
    let pick = |pairs: &[(&str, &str)]| -> Vec<CartLine> {
        let opts = pairs
            .iter()
            .map(|(g, c)| ChosenOption {
                group: (*g).into(),
                choice: (*c).into(),
            })
            .collect();
        vec![CartLine::new("bibimbap", 2, "").with_options(opts)]
    };
    let f = form();
    let hot_egg = f.quote_key(&pick(&[("spice", "hot"), ("extras", "egg")]));
    assert_eq!(
        hot_egg,
        f.quote_key(&pick(&[("extras", "egg"), ("spice", "hot")]))
    );
    assert_ne!(hot_egg, f.quote_key(&pick(&[("spice", "hot")])));
    assert_ne!(hot_egg, f.quote_key(&cart()));
}
