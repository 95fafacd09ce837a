//! Pricing and placing an order: quotes, the total seen, refusals, offline.

use super::*;

/// Checkout asks the relay for the price first, places with the quoted total
/// and one client_order_id, and a second Enter sends nothing more.
#[test]
fn checkout_quotes_then_places_once() {
    let (mut app, _) = in_checkout();
    let f = form(&app);
    assert_eq!(f.current_quote(&app.cart).unwrap().total_cents, 3950);
    let coid = f.client_order_id;

    // Enter without a card: the form says what is wrong, nothing is sent.
    act(&mut app, &[Action::Submit]);
    assert_eq!(
        form(&app).problem.as_ref().unwrap().field,
        Some(Field::Number)
    );
    assert_eq!(form(&app).field, Field::Number);
    assert!(sent(&mut app).is_empty());

    fill_card(&mut app, "4242424242424242");
    act(&mut app, &[Action::Submit, Action::Submit]);
    let reqs = sent(&mut app);
    assert_eq!(reqs.len(), 1, "Enter twice sends one order: {reqs:?}");
    let (id, kind, data) = &reqs[0];
    assert_eq!(*kind, "order_place");
    assert_eq!(data["client_order_id"], json!(coid));
    assert_eq!(data["expected_total_cents"], 3950);
    assert_eq!(
        data["items"],
        json!([{"item_id": "bibimbap", "qty": 2, "notes": "no egg"}, {"item_id": "japchae", "qty": 1}])
    );
    assert_eq!(
        data["payment"],
        json!({"method": "card", "card": {"number": "4242424242424242", "exp": "12/30", "cvc": "123"}})
    );
    assert_eq!(data["fulfillment"], json!({"kind": "pickup"}));

    let placed = order(1, OrderStatus::Pending);
    reply(&mut app, id, Ok(json!({"ref": id, "order": placed})));
    assert!(app.cart.is_empty());
    assert!(matches!(app.overlay, Overlay::None));
    assert_eq!(app.screen, Screen::Orders);
    assert_eq!(app.selected().unwrap().code, "K-0001");
    // The relay's order_created for the same order changes nothing.
    app.on_event(order_event("order_created", &placed));
    assert_eq!(app.model.orders.len(), 1);
}

/// A declined card says why, keeps the cart and the form, and a retry
/// carries the same client_order_id.
#[test]
fn declined_card_keeps_the_cart() {
    let (mut app, _) = in_checkout();
    fill_card(&mut app, "4000000000000002");
    act(&mut app, &[Action::Submit]);
    let (id, _, data) = sent(&mut app).remove(0);
    let coid = data["client_order_id"].clone();
    reply(
        &mut app,
        &id,
        Err(
            ProtocolError::new(ErrorCode::PaymentDeclined, "the card was declined")
                .with_field("payment.card.number"),
        ),
    );
    assert_eq!(app.cart.len(), 2);
    let f = form(&app);
    let problem = f.problem.clone().unwrap();
    assert!(problem.text.contains("declined"), "{}", problem.text);
    assert!(problem.text.contains("0002"), "{}", problem.text);
    assert_eq!(f.field, Field::Number);
    assert!(!f.placing);
    assert!(f.number.is_empty(), "ready for another card");

    fill_card(&mut app, "4242424242424242");
    act(&mut app, &[Action::Submit]);
    let (_, kind, data) = sent(&mut app).remove(0);
    assert_eq!(kind, "order_place");
    assert_eq!(data["client_order_id"], coid);
}

/// Every refusal at checkout is shown in words and the cart is kept.
#[test]
fn checkout_refusals_in_words() {
    #[track_caller]
    fn check(code: ErrorCode, field: Option<&str>, words: &str, focus: Option<Field>) {
        let (mut app, _) = in_checkout();
        fill_card(&mut app, "4242424242424242");
        act(&mut app, &[Action::Submit]);
        let (id, _, _) = sent(&mut app).remove(0);
        let mut e = ProtocolError::new(code, "details from the relay");
        if let Some(f) = field {
            e = e.with_field(f);
        }
        reply(&mut app, &id, Err(e));
        assert_eq!(app.cart.len(), 2, "{code}");
        let p = form(&app).problem.clone().unwrap();
        assert!(p.text.contains(words), "{code}: {}", p.text);
        assert!(p.text.contains("details from the relay"), "{}", p.text);
        assert_eq!(p.field, focus, "{code}");
    }
    check(
        ErrorCode::InvalidCard,
        Some("payment.card.exp"),
        "Card not valid",
        Some(Field::Expiry),
    );
    check(
        ErrorCode::InsufficientFunds,
        None,
        "declined",
        Some(Field::Number),
    );
    check(
        ErrorCode::InvalidPromo,
        Some("promo_code"),
        "Promo code",
        Some(Field::Promo),
    );
    check(
        ErrorCode::ItemUnavailable,
        Some("items[0].item_id"),
        "Not available",
        None,
    );
    check(
        ErrorCode::UnknownItem,
        Some("items[1].item_id"),
        "No longer on the menu",
        None,
    );
    check(
        ErrorCode::Invalid,
        Some("instructions"),
        "instructions",
        Some(Field::Instructions),
    );
}

/// A price change asks for a new quote and waits for the customer to accept it.
#[test]
fn price_changed_asks_again() {
    let (mut app, _) = in_checkout();
    fill_card(&mut app, "4242424242424242");
    act(&mut app, &[Action::Submit]);
    let (id, _, data) = sent(&mut app).remove(0);
    let coid = data["client_order_id"].clone();
    reply(
        &mut app,
        &id,
        Err(ProtocolError::new(
            ErrorCode::PriceChanged,
            "the total is now 4100 cents",
        )),
    );
    let reqs = sent(&mut app);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].1, "order_quote");
    assert!(form(&app).current_quote(&app.cart).is_none());
    reply(
        &mut app,
        &reqs[0].0,
        Ok(json!({"subtotal_cents": 4100, "discount_cents": 0, "total_cents": 4100})),
    );
    assert_eq!(
        form(&app).current_quote(&app.cart).unwrap().total_cents,
        4100
    );
    act(&mut app, &[Action::Submit]);
    let (_, kind, data) = sent(&mut app).remove(0);
    assert_eq!(kind, "order_place");
    assert_eq!(data["expected_total_cents"], 4100);
    assert_eq!(data["client_order_id"], coid);
}

/// A promo code changes the shape of the order: it is priced again before paying.
#[test]
fn promo_code_is_quoted_before_paying() {
    let (mut app, _) = in_checkout();
    {
        let Overlay::Checkout(f) = &mut app.overlay else {
            panic!()
        };
        f.field = Field::Promo;
    }
    type_text(&mut app, "save10");
    assert_eq!(form(&app).promo, "SAVE10");
    act(&mut app, &[Action::NextField]);
    let (id, kind, data) = sent(&mut app).remove(0);
    assert_eq!(kind, "order_quote");
    assert_eq!(data["promo_code"], "SAVE10");
    assert!(data.get("payment").is_none());
    reply(
        &mut app,
        &id,
        Ok(json!({"subtotal_cents": 3950, "discount_cents": 395, "total_cents": 3555})),
    );
    let q = form(&app).current_quote(&app.cart).unwrap();
    assert_eq!((q.discount_cents, q.total_cents), (395, 3555));
    // A promo the relay refuses shows on the promo field.
    {
        let Overlay::Checkout(f) = &mut app.overlay else {
            panic!()
        };
        f.field = Field::Promo;
    }
    type_text(&mut app, "X");
    act(&mut app, &[Action::PrevField]);
    let (id, _, _) = sent(&mut app).remove(0);
    reply(
        &mut app,
        &id,
        Err(
            ProtocolError::new(ErrorCode::InvalidPromo, "that promo code is not valid")
                .with_field("promo_code"),
        ),
    );
    assert_eq!(
        form(&app).problem.as_ref().unwrap().field,
        Some(Field::Promo)
    );
}

/// Delivery needs an address before it is priced or placed.
#[test]
fn delivery_needs_an_address() {
    let (mut app, _) = in_checkout();
    act(&mut app, &[Action::Toggle]);
    assert!(form(&app).delivery);
    assert!(sent(&mut app).is_empty(), "no quote without an address");
    act(&mut app, &[Action::Submit]);
    assert_eq!(
        form(&app).problem.as_ref().unwrap().field,
        Some(Field::Address)
    );
    assert_eq!(form(&app).field, Field::Address);
    type_text(&mut app, "1 Main St");
    act(&mut app, &[Action::NextField]);
    let (_, kind, data) = sent(&mut app).remove(0);
    assert_eq!(kind, "order_quote");
    assert_eq!(
        data["fulfillment"],
        json!({"kind": "delivery", "address": "1 Main St"})
    );
}

/// Cash needs no card.
#[test]
fn cash_orders_skip_the_card() {
    let (mut app, _) = in_checkout();
    {
        let Overlay::Checkout(f) = &mut app.overlay else {
            panic!()
        };
        f.field = Field::Payment;
    }
    act(&mut app, &[Action::Right, Action::Submit]);
    let (_, kind, data) = sent(&mut app).remove(0);
    assert_eq!(kind, "order_place");
    assert_eq!(data["payment"], json!({"method": "cash"}));
}

/// Offline, the order is queued (the network task sends it on reconnect),
/// and the customer is told so.
#[test]
fn placing_offline_is_queued() {
    let (mut app, _) = in_checkout();
    app.on_event(AppEvent::Conn(ConnState::Reconnecting {
        attempt: 2,
        next_try_in_ms: 900,
    }));
    assert!(app.stale());
    fill_card(&mut app, "4242424242424242");
    act(&mut app, &[Action::Submit]);
    assert_eq!(sent(&mut app).len(), 1);
    assert!(form(&app).notice.as_deref().unwrap().contains("queued"));
    act(&mut app, &[Action::Submit]);
    assert!(sent(&mut app).is_empty());
}

/// Without a quote from the relay nothing is paid: the cache never prices.
#[test]
fn no_quote_no_payment() {
    let mut app = app_with(vec![]);
    act(
        &mut app,
        &[Action::QuickAdd, Action::Go(Screen::Cart), Action::Checkout],
    );
    let (quote_id, _, _) = sent(&mut app).remove(0);
    fill_card(&mut app, "4242424242424242");
    act(&mut app, &[Action::Submit]);
    assert!(
        sent(&mut app).is_empty(),
        "quote already asked for; no order yet"
    );
    reply(
        &mut app,
        &quote_id,
        Ok(json!({"subtotal_cents": 1350, "discount_cents": 0, "total_cents": 1350})),
    );
    act(&mut app, &[Action::Submit]);
    assert_eq!(sent(&mut app)[0].2["expected_total_cents"], 1350);
}
