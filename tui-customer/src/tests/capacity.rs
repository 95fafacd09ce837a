//! Capacity and orders for later (DESIGN §14) as the customer meets them:
//! the paused banner, a refusal said plainly, the quoted ready time, the
//! time chooser at checkout and a scheduled order on the Orders screen.

use super::*;

/// The relay's `capacity_update` pausing ordering until `until` minutes from now.
fn pause(app: &mut App, until: Option<i64>) {
    app.on_event(event(
        "capacity_update",
        json!({"paused": true, "paused_until": until.map(at), "orders_per_slot": 0,
               "extra_minutes": 0, "at": at(0), "by": {"id": "sam", "name": "Sam", "type": "crew"}}),
    ));
}

/// The checkout with a card filled in and `field` focused.
fn checkout_on(field: Field) -> (App, String) {
    let (mut app, quote) = in_checkout();
    fill_card(&mut app, "4242424242424242");
    let Overlay::Checkout(form) = &mut app.overlay else {
        panic!("not in checkout")
    };
    form.field = field;
    (app, quote)
}

/// While paused, every screen carries the banner (with when it ends), and
/// the cart still takes items.
#[test]
fn paused_banner_keeps_the_cart() {
    let mut app = app_with(vec![]);
    pause(&mut app, Some(45));
    act(&mut app, &[Action::QuickAdd]);
    assert_eq!(app.cart_count(), 1, "the cart still takes items");
    let screen = draw(&app, View::default(), 80, 24);
    assert!(screen.contains("ORDERING PAUSED until 10:45"), "{screen}");
    insta::assert_snapshot!(
        "paused_menu_80x24",
        terminal(&app, View::default(), 80, 24).backend()
    );
    // Past its end the pause is over by itself; a resume clears it at once.
    app.now_ms = NOW + 46 * 60_000;
    assert!(!draw(&app, View::default(), 80, 24).contains("PAUSED"));
    app.now_ms = NOW;
    app.on_event(event(
        "capacity_update",
        json!({"paused": false, "paused_until": null, "orders_per_slot": 0, "extra_minutes": 0,
               "at": at(1), "by": null}),
    ));
    assert!(!draw(&app, View::default(), 80, 24).contains("PAUSED"));
}

/// `ordering_paused` on placing is said in words; the cart is kept.
#[test]
fn ordering_paused_is_said_plainly() {
    let (mut app, _) = checkout_on(Field::Cvc);
    pause(&mut app, None);
    act(&mut app, &[Action::Submit]);
    let (id, kind, _) = sent(&mut app).remove(0);
    assert_eq!(kind, "order_place");
    reply(
        &mut app,
        &id,
        Err(ProtocolError::new(ErrorCode::OrderingPaused, "paused")),
    );
    let p = form(&app).problem.clone().expect("a problem shown");
    assert!(p.text.starts_with("Ordering is paused"), "{}", p.text);
    assert_eq!(app.cart_count(), 3, "the cart is kept");
    let screen = draw(&app, View::default(), 80, 24);
    assert!(screen.contains("ORDERING PAUSED"), "{screen}");
    assert!(screen.contains("! Ordering is paused"), "{screen}");
}

/// The quote's `ready_at` reads "about 10:24" in local time.
#[test]
fn quote_shows_the_ready_time() {
    let (mut app, _) = checkout_on(Field::Cvc);
    let Overlay::Checkout(form) = &mut app.overlay else {
        panic!("not in checkout")
    };
    form.quote.as_mut().expect("quoted").ready_at = Some(at(24));
    let screen = draw(&app, View::default(), 80, 24);
    assert!(screen.contains("Ready         about 10:24"), "{screen}");
    insta::assert_snapshot!(
        "quote_ready_80x24",
        terminal(&app, View::default(), 80, 24).backend()
    );
}

/// The time chooser: Right goes from "as soon as possible" to the soonest
/// slot, then 15 minutes a step; PgDn a day; the quote and the order carry
/// `scheduled_for`; Left past the soonest slot is as soon as possible again.
#[test]
fn checkout_time_chooser() {
    let (mut app, _) = checkout_on(Field::When);
    // Longest prep 12 min (bibimbap) + 5 min in hand: the 10:30 slot.
    act(&mut app, &[Action::Right]);
    let first = at(30);
    assert_eq!(
        form(&app).when.map(kfood_protocol::time::format_ms),
        Some(first.clone())
    );
    let reqs = sent(&mut app);
    assert_eq!(reqs[0].1, "order_quote");
    assert_eq!(reqs[0].2["scheduled_for"], json!(first));
    reply(
        &mut app,
        &reqs[0].0,
        Ok(
            json!({"subtotal_cents": 3950, "discount_cents": 0, "total_cents": 3950,
                  "ready_at": at(45)}),
        ),
    );
    act(&mut app, &[Action::Right]);
    assert_eq!(
        form(&app).when.map(kfood_protocol::time::format_ms),
        Some(at(45))
    );
    let reqs = sent(&mut app);
    reply(
        &mut app,
        &reqs[0].0,
        Ok(
            json!({"subtotal_cents": 3950, "discount_cents": 0, "total_cents": 3950,
                  "ready_at": at(45)}),
        ),
    );
    let screen = draw(&app, View::default(), 80, 24);
    assert!(screen.contains("(*) 10:45"), "{screen}");
    assert!(screen.contains("scheduled for 10:45"), "{screen}");
    insta::assert_snapshot!(
        "checkout_when_80x24",
        terminal(&app, View::default(), 80, 24).backend()
    );
    act(&mut app, &[Action::PageDown]);
    assert!(draw(&app, View::default(), 80, 24).contains("tomorrow 10:45"));
    act(&mut app, &[Action::PageUp, Action::Left, Action::Left]);
    assert_eq!(form(&app).when, None, "back to as soon as possible");
    // Placing for later sends the time.
    act(&mut app, &[Action::Right]);
    let (id, kind, data) = sent(&mut app).pop().expect("a quote for 10:30");
    assert_eq!(
        (kind, &data["scheduled_for"]),
        ("order_quote", &json!(at(30)))
    );
    reply(
        &mut app,
        &id,
        Ok(
            json!({"subtotal_cents": 3950, "discount_cents": 0, "total_cents": 3950,
                  "ready_at": at(30)}),
        ),
    );
    act(&mut app, &[Action::Submit]);
    let reqs = sent(&mut app);
    assert_eq!(reqs[0].1, "order_place");
    assert_eq!(reqs[0].2["scheduled_for"], json!(at(30)));
}

/// `slot_full` is said plainly, on the time field.
#[test]
fn slot_full_points_at_the_time() {
    let (mut app, _) = checkout_on(Field::Cvc);
    act(&mut app, &[Action::Submit]);
    let (id, _, _) = sent(&mut app).remove(0);
    reply(
        &mut app,
        &id,
        Err(ProtocolError::new(
            ErrorCode::SlotFull,
            "the 10:30 slot is full",
        )),
    );
    let f = form(&app);
    assert_eq!(f.field, Field::When);
    let p = f.problem.clone().expect("a problem");
    assert!(
        p.text.starts_with("Fully booked: the 10:30 slot is full."),
        "{}",
        p.text
    );
}

/// A scheduled order on Orders: "Scheduled for 11:30", when it goes to the
/// kitchen, its own first step, and x/m offered as for a pending one.
#[test]
fn scheduled_order_on_orders() {
    let mut o = order(5, OrderStatus::Scheduled);
    o.history.truncate(1);
    o.history[0].status = OrderStatus::Scheduled;
    o.scheduled_for = Some(at(90));
    o.ready_at = Some(at(90));
    o.eta = Some(at(90));
    let mut app = app_with(vec![o]);
    act(&mut app, &[Action::Go(Screen::Orders)]);
    let screen = draw(&app, View::default(), 80, 24);
    assert!(screen.contains("Scheduled for 11:30"), "{screen}");
    assert!(screen.contains("to the kitchen at 11:18"), "{screen}");
    assert!(screen.contains("x: cancel"), "{screen}");
    insta::assert_snapshot!(
        "scheduled_order_80x24",
        terminal(&app, View::default(), 80, 24).backend()
    );
}
