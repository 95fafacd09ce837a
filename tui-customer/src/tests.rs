//! The app driven as a customer would drive it: actions in, relay messages
//! in, then the state and the drawn screen checked.

use kfood_protocol::menu::MenuItem;
use kfood_protocol::messages::Snapshot;
use kfood_protocol::{Envelope, ErrorCode, Order, OrderStatus, ProtocolError};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use serde_json::{json, Value};

use crate::app::{Action, App, AppEvent, Level, NetCmd, Overlay, Screen};
use crate::checkout::Field;
use crate::ui::{self, View};
use kfood_protocol::client::ConnState;

/// 2026-11-23T10:00:00Z.
const NOW: i64 = 1_795_428_000_000;

fn at(minutes: i64) -> String {
    kfood_protocol::time::format_ms(NOW + minutes * 60_000)
}

fn item(id: &str, name: &str, category: &str, price: i64, prep: u32, available: bool) -> MenuItem {
    MenuItem {
        id: id.into(),
        name: name.into(),
        category: category.into(),
        description: format!("{name}, made to order"),
        price_cents: price,
        available,
        prep_minutes: prep,
        station: "kitchen".into(),
    }
}

fn menu() -> Vec<MenuItem> {
    vec![
        item("bibimbap", "Bibimbap", "Rice & Noodles", 1350, 12, true),
        item("japchae", "Japchae", "Rice & Noodles", 1250, 10, true),
        item(
            "naengmyeon",
            "Mul Naengmyeon",
            "Rice & Noodles",
            1300,
            8,
            false,
        ),
        item("bulgogi", "Bulgogi", "Grill", 1800, 15, true),
        item("tteokbokki", "Tteokbokki", "Street Food", 900, 8, true),
    ]
}

fn order(id: u64, status: OrderStatus) -> Order {
    let mut history = vec![
        json!({"status": "pending", "at": at(-5), "by": {"id": "kim", "name": "Kim", "type": "customer"}}),
    ];
    let steps = ["preparing", "ready", "delivered"];
    let n = match status {
        OrderStatus::Pending | OrderStatus::Cancelled => 0,
        OrderStatus::Preparing => 1,
        OrderStatus::Ready => 2,
        OrderStatus::Delivered => 3,
    };
    for (i, s) in steps.iter().take(n).enumerate() {
        history.push(json!({"status": s, "at": at(-4 + i as i64), "by": {"id": "crew", "name": "Crew", "type": "crew"}}));
    }
    if status == OrderStatus::Cancelled {
        history.push(json!({"status": "cancelled", "at": at(-1), "by": {"id": "kim", "name": "Kim", "type": "customer"}}));
    }
    let eta = if status.is_final() {
        Value::Null
    } else {
        json!(at(7))
    };
    serde_json::from_value(json!({
        "id": id, "code": format!("K-{id:04}"), "client_order_id": "00000000-0000-0000-0000-000000000000",
        "customer": {"id": "kim", "name": "Kim"},
        "lines": [
            {"item_id": "bibimbap", "name": "Bibimbap", "qty": 2, "unit_price_cents": 1350, "notes": "no egg"},
            {"item_id": "japchae", "name": "Japchae", "qty": 1, "unit_price_cents": 1250, "notes": ""}
        ],
        "instructions": "ring twice", "fulfillment": {"kind": "pickup"}, "status": status,
        "subtotal_cents": 3950, "discount_cents": 0, "total_cents": 3950,
        "payment": {"method": "card", "status": "paid", "id": "ch_1", "brand": "visa", "last4": "4242", "amount_cents": 3950},
        "prep_minutes": 12, "delivery_minutes": 0, "eta": eta,
        "created_at": at(-5), "updated_at": at(-1), "history": history, "modified": false
    }))
    .unwrap()
}

fn snapshot(orders: Vec<Order>) -> AppEvent {
    let s = Snapshot {
        menu: menu(),
        orders,
        announcements: vec![serde_json::from_value(json!({
            "id": 3, "audience": "all", "kind": "promotion", "text": "SAVE10 takes 10% off today",
            "expires_at": null, "created_at": at(-30), "by": {"id": "admin", "name": "Demo Admin"}
        }))
        .unwrap()],
        head_seq: 10,
        reset: false,
        alerts: None,
        promos: None,
    };
    AppEvent::Message(Envelope::new("snapshot", serde_json::to_value(s).unwrap()))
}

/// A connected app with the menu and `orders` from the relay.
fn app_with(orders: Vec<Order>) -> App {
    let mut app = App::new("ws://127.0.0.1:8080/ws", NOW);
    app.on_event(AppEvent::Message(Envelope::new(
        "authenticated",
        json!({"user": {"id": "kim", "name": "Kim", "type": "customer"}, "session": "s1",
               "heartbeat_ms": 15000, "head_seq": 10, "log_id": "log1"}),
    )));
    app.on_event(snapshot(orders));
    app.on_event(AppEvent::Conn(ConnState::Live { rtt_ms: Some(12) }));
    app
}

fn act(app: &mut App, actions: &[Action]) {
    for a in actions {
        app.update(*a);
    }
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(Action::Input(c));
    }
}

/// The requests the app left for the network: (id, kind, data).
fn sent(app: &mut App) -> Vec<(String, &'static str, Value)> {
    app.outbox
        .drain(..)
        .filter_map(|c| match c {
            NetCmd::Request { id, kind, data } => Some((id, kind, data)),
            NetCmd::SaveCart(_) => None,
        })
        .collect()
}

fn reply(app: &mut App, id: &str, result: Result<Value, ProtocolError>) {
    app.on_event(AppEvent::Reply {
        id: id.into(),
        result,
    });
}

fn order_event(kind: &str, o: &Order) -> AppEvent {
    AppEvent::Message(Envelope::new(
        kind,
        json!({"order_id": o.id, "status": o.status, "order": o}),
    ))
}

/// A cart of two bibimbap (one with a note) and one japchae, in checkout
/// with its quote answered.
fn in_checkout() -> (App, String) {
    let mut app = app_with(vec![]);
    act(&mut app, &[Action::Add, Action::QtyUp, Action::NextField]);
    type_text(&mut app, "no egg");
    act(&mut app, &[Action::Submit, Action::Down, Action::QuickAdd]);
    act(&mut app, &[Action::Go(Screen::Cart), Action::Checkout]);
    let reqs = sent(&mut app);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].1, "order_quote");
    let quote = reqs[0].0.clone();
    reply(
        &mut app,
        &quote,
        Ok(json!({"ref": quote, "subtotal_cents": 3950, "discount_cents": 0, "total_cents": 3950})),
    );
    (app, quote)
}

fn fill_card(app: &mut App, number: &str) {
    let Overlay::Checkout(form) = &mut app.overlay else {
        panic!("not in checkout")
    };
    form.field = Field::Number;
    form.number.clear();
    form.cvc.clear();
    form.exp.clear();
    type_text(app, number);
    act(app, &[Action::NextField]);
    type_text(app, "1230");
    act(app, &[Action::NextField]);
    type_text(app, "123");
}

fn form(app: &App) -> &crate::checkout::Checkout {
    match &app.overlay {
        Overlay::Checkout(f) => f,
        other => panic!("not in checkout: {other:?}"),
    }
}

// ------------------------------------------------------------------ state

/// The program opens on the menu with the first category's items.
#[test]
fn opens_on_the_menu_with_the_first_category() {
    let app = app_with(vec![]);
    assert_eq!(app.screen, Screen::Menu);
    assert_eq!(app.categories(), ["Rice & Noodles", "Grill", "Street Food"]);
    let names: Vec<_> = app.visible_items().iter().map(|i| i.id.as_str()).collect();
    assert_eq!(names, ["bibimbap", "japchae", "naengmyeon"]);
    assert!(!app.stale());
}

/// Numbers jump to a screen; Tab and Shift-Tab cycle through all four.
#[test]
fn screens_by_number_and_tab() {
    let mut app = app_with(vec![]);
    act(&mut app, &[Action::Go(Screen::Orders)]);
    assert_eq!(app.screen, Screen::Orders);
    let mut seen = vec![];
    for _ in 0..4 {
        act(&mut app, &[Action::NextScreen]);
        seen.push(app.screen);
    }
    assert_eq!(
        seen,
        [
            Screen::Notifications,
            Screen::Menu,
            Screen::Cart,
            Screen::Orders
        ]
    );
    act(&mut app, &[Action::PrevScreen]);
    assert_eq!(app.screen, Screen::Cart);
    act(&mut app, &[Action::Help]);
    assert!(matches!(app.overlay, Overlay::Help));
    act(&mut app, &[Action::Back]);
    assert!(matches!(app.overlay, Overlay::None));
    act(&mut app, &[Action::Quit]);
    assert!(app.quit);
}

/// Left/Right change category; the item list follows.
#[test]
fn categories_change_the_item_list() {
    let mut app = app_with(vec![]);
    act(&mut app, &[Action::Down, Action::Right]);
    assert_eq!(app.item_sel, 0);
    assert_eq!(app.selected_item().unwrap().id, "bulgogi");
    act(&mut app, &[Action::Left, Action::Left]);
    assert_eq!(app.selected_item().unwrap().id, "tteokbokki");
}

/// The add dialog takes a quantity and a note; the same item and note join a line.
#[test]
fn adding_with_quantity_and_note() {
    let mut app = app_with(vec![]);
    act(&mut app, &[Action::Add, Action::QtyUp, Action::QtyUp]);
    act(&mut app, &[Action::NextField]);
    type_text(&mut app, "no egg");
    act(&mut app, &[Action::Submit]);
    assert_eq!(app.cart.len(), 1);
    assert_eq!((app.cart[0].qty, app.cart[0].notes.as_str()), (3, "no egg"));
    act(&mut app, &[Action::QuickAdd, Action::QuickAdd]);
    assert_eq!(app.cart.len(), 2, "no note: a line of its own");
    assert_eq!(app.cart[1].qty, 2);
    assert_eq!(app.cart_count(), 5);
    assert_eq!(app.cart_subtotal(), Some(5 * 1350));
    assert!(app.dirty);
    // Typing a quantity.
    act(
        &mut app,
        &[Action::Add, Action::Input('1'), Action::Input('2')],
    );
    let Overlay::AddItem { qty, .. } = &app.overlay else {
        panic!()
    };
    assert_eq!(*qty, 12);
    act(&mut app, &[Action::Back]);
    assert_eq!(app.cart_count(), 5, "Esc adds nothing");
}

/// An 86'd item cannot be added, by the dialog or at once.
#[test]
fn unavailable_items_are_not_addable() {
    let mut app = app_with(vec![]);
    act(&mut app, &[Action::End]);
    assert_eq!(app.selected_item().unwrap().id, "naengmyeon");
    act(&mut app, &[Action::Add]);
    assert!(matches!(app.overlay, Overlay::None));
    act(&mut app, &[Action::QuickAdd]);
    assert!(app.cart.is_empty());
    let flash = app.flash.clone().unwrap();
    assert_eq!(flash.level, Level::Error);
    assert!(flash.text.contains("86"), "{}", flash.text);
}

/// `/` searches every category; Esc clears the search.
#[test]
fn search_across_categories() {
    let mut app = app_with(vec![]);
    act(&mut app, &[Action::Search]);
    type_text(&mut app, "bul");
    assert_eq!(app.visible_items().len(), 1);
    act(&mut app, &[Action::Submit]);
    assert!(matches!(app.overlay, Overlay::None));
    assert_eq!(app.selected_item().unwrap().id, "bulgogi");
    act(&mut app, &[Action::QuickAdd]);
    assert_eq!(app.cart[0].item_id, "bulgogi");
    act(&mut app, &[Action::Back]);
    assert!(app.search.is_empty());
    assert_eq!(app.visible_items().len(), 3);
}

/// Cart lines change quantity, take a note and go away.
#[test]
fn cart_editing() {
    let mut app = app_with(vec![]);
    act(
        &mut app,
        &[Action::QuickAdd, Action::Down, Action::QuickAdd],
    );
    act(
        &mut app,
        &[
            Action::Go(Screen::Cart),
            Action::Home,
            Action::QtyUp,
            Action::QtyUp,
        ],
    );
    assert_eq!(app.cart[0].qty, 3);
    act(&mut app, &[Action::EditNote]);
    type_text(&mut app, "extra gochujang");
    act(&mut app, &[Action::Submit]);
    assert_eq!(app.cart[0].notes, "extra gochujang");
    act(&mut app, &[Action::Down, Action::QtyDown]);
    assert_eq!(app.cart.len(), 1, "down from one removes the line");
    act(&mut app, &[Action::Remove]);
    assert!(app.cart.is_empty());
    act(&mut app, &[Action::Checkout]);
    assert!(
        matches!(app.overlay, Overlay::None),
        "no checkout of an empty cart"
    );
}

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
    assert_eq!(app.orders.len(), 1);
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

/// The kitchen's changes arrive live; ready rings the bell.
#[test]
fn order_moves_live_and_ready_rings() {
    let mut app = app_with(vec![order(1, OrderStatus::Pending)]);
    app.on_event(order_event(
        "order_update",
        &order(1, OrderStatus::Preparing),
    ));
    assert_eq!(app.orders[0].status, OrderStatus::Preparing);
    assert!(app.flash.as_ref().unwrap().text.contains("being prepared"));
    assert!(!app.bell);
    app.on_event(order_event("order_update", &order(1, OrderStatus::Ready)));
    assert!(app.bell);
    assert_eq!(app.flash.as_ref().unwrap().level, Level::Ready);
    app.bell = false;
    app.on_event(order_event("order_update", &order(1, OrderStatus::Ready)));
    assert!(!app.bell, "the same status again rings nothing");
    app.on_event(order_event(
        "order_update",
        &order(1, OrderStatus::Delivered),
    ));
    let (open, closed) = app.order_rows();
    assert!(open.is_empty());
    assert_eq!(closed.len(), 1);
}

/// Cancel and modify go to the relay; its refusal is shown plainly.
#[test]
fn cancel_and_modify_while_pending() {
    let mut app = app_with(vec![
        order(2, OrderStatus::Pending),
        order(1, OrderStatus::Delivered),
    ]);
    act(&mut app, &[Action::Go(Screen::Orders)]);
    assert_eq!(app.selected().unwrap().id, 2, "newest open order first");
    act(&mut app, &[Action::CancelOrder]);
    type_text(&mut app, "changed my mind");
    act(&mut app, &[Action::Submit]);
    let (id, kind, data) = sent(&mut app).remove(0);
    assert_eq!(kind, "order_cancel");
    assert_eq!(data, json!({"order_id": 2, "reason": "changed my mind"}));
    reply(
        &mut app,
        &id,
        Err(ProtocolError::new(
            ErrorCode::InvalidTransition,
            "cannot go from preparing to cancelled: the kitchen has started it",
        )),
    );
    let text = app.flash.clone().unwrap().text;
    assert!(text.contains("Too late to cancel K-0002"), "{text}");
    assert!(text.contains("the kitchen has started it"), "{text}");

    act(&mut app, &[Action::ModifyOrder]);
    let Overlay::Modify { instructions, .. } = &app.overlay else {
        panic!()
    };
    assert_eq!(
        instructions, "ring twice",
        "starts from the current instructions"
    );
    type_text(&mut app, ", leave at door");
    act(&mut app, &[Action::Submit]);
    let (id, kind, data) = sent(&mut app).remove(0);
    assert_eq!(kind, "order_modify");
    assert_eq!(
        data,
        json!({"order_id": 2, "instructions": "ring twice, leave at door"})
    );
    let mut changed = order(2, OrderStatus::Pending);
    changed.instructions = "ring twice, leave at door".into();
    reply(&mut app, &id, Ok(json!({"order": changed})));
    assert_eq!(
        app.orders.iter().find(|o| o.id == 2).unwrap().instructions,
        "ring twice, leave at door"
    );

    // A closed order is refused here without asking.
    act(&mut app, &[Action::Down, Action::CancelOrder]);
    assert!(matches!(app.overlay, Overlay::None));
    assert!(app
        .flash
        .clone()
        .unwrap()
        .text
        .contains("already delivered"));
    assert!(sent(&mut app).is_empty());
}

/// Menu changes from the admin or the kitchen show at once.
#[test]
fn menu_updates_live() {
    let mut app = app_with(vec![]);
    let mut b = menu()[0].clone();
    b.available = false;
    app.on_event(AppEvent::Message(Envelope::new(
        "menu_update",
        json!({"op": "set_available", "item": b}),
    )));
    assert!(!app.item("bibimbap").unwrap().available);
    let new = item(
        "dolsot",
        "Dolsot Bibimbap",
        "Rice & Noodles",
        1550,
        15,
        true,
    );
    app.on_event(AppEvent::Message(Envelope::new(
        "menu_update",
        json!({"op": "upsert", "item": new}),
    )));
    let ids: Vec<_> = app.visible_items().iter().map(|i| i.id.clone()).collect();
    assert_eq!(ids, ["bibimbap", "japchae", "naengmyeon", "dolsot"]);
    app.on_event(AppEvent::Message(Envelope::new(
        "menu_update",
        json!({"op": "remove", "item": {"id": "japchae"}}),
    )));
    assert!(app.item("japchae").is_none());
}

/// New announcements count as unread until the Notifications screen is seen.
#[test]
fn unread_announcements() {
    let mut app = app_with(vec![]);
    assert_eq!(app.unread(), 1);
    app.on_event(AppEvent::Message(Envelope::new(
        "announcement",
        json!({"id": 4, "audience": "all", "kind": "maintenance", "text": "Closing at 9pm",
               "expires_at": null, "created_at": at(0), "by": {"id": "admin", "name": "Demo Admin"}}),
    )));
    assert_eq!(app.unread(), 2);
    assert_eq!(app.notices[0].announcement.id, 4, "newest first");
    act(&mut app, &[Action::Go(Screen::Notifications)]);
    assert_eq!(app.unread(), 0);
    assert_eq!(app.read_upto, 4);
    // The relay's restart notice has no id of its own and still shows.
    app.on_event(AppEvent::Message(Envelope::new(
        "announcement",
        json!({"id": 0, "audience": "all", "kind": "maintenance", "text": "The relay is restarting.",
               "expires_at": null, "created_at": at(1), "by": {"id": "relay", "name": "KfoodDelights"}}),
    )));
    assert_eq!(app.notices.len(), 3);
}

/// The cache's cart, read marks, menu and orders are on screen at start,
/// marked stale until the relay confirms them; a saved cart goes back as saved.
#[test]
fn restored_from_the_cache() {
    let mut warm = app_with(vec![]);
    act(
        &mut warm,
        &[Action::QuickAdd, Action::Go(Screen::Notifications)],
    );
    let mut entry = kfood_protocol::client::CacheEntry::new("ws://127.0.0.1:8080/ws", "kim");
    entry.cart = warm.saved_cart();
    entry.model.menu = menu();
    entry
        .model
        .orders
        .insert(1, order(1, OrderStatus::Preparing));
    let cached = kfood_protocol::client::CachedState {
        entry,
        stale: true,
        age_ms: 600_000,
    };
    let mut app = App::new("ws://127.0.0.1:8080/ws", NOW);
    app.on_event(AppEvent::Cached(Box::new(cached)));
    assert_eq!(app.cart, warm.cart);
    assert_eq!(app.read_upto, 3);
    assert_eq!(app.notices.len(), 1, "announcements come back too");
    assert_eq!(app.unread(), 0);
    assert_eq!(app.visible_items().len(), 3);
    assert_eq!(app.orders.len(), 1);
    assert!(app.stale());
    assert!(draw(&app, View::default(), 80, 24).contains("[stale]"));
    app.on_event(AppEvent::Conn(ConnState::Live { rtt_ms: None }));
    app.on_event(AppEvent::Synced);
    assert!(!app.stale());
}

/// Messages fade after a while; READY stays.
#[test]
fn messages_fade() {
    let mut app = app_with(vec![order(1, OrderStatus::Preparing)]);
    act(&mut app, &[Action::QuickAdd]);
    act(&mut app, &[Action::Tick(NOW + 5_000)]);
    assert!(app.flash.is_some());
    act(&mut app, &[Action::Tick(NOW + 11_000)]);
    assert!(app.flash.is_none());
    app.on_event(order_event("order_update", &order(1, OrderStatus::Ready)));
    act(&mut app, &[Action::Tick(NOW + 3_600_000)]);
    assert_eq!(app.flash.as_ref().unwrap().level, Level::Ready);
}

/// A cancelled card order's refund is announced.
#[test]
fn refunds_are_announced() {
    let mut app = app_with(vec![order(1, OrderStatus::Cancelled)]);
    app.on_event(AppEvent::Message(Envelope::new(
        "payment_refunded",
        json!({"order_id": 1, "client_order_id": "x", "payment": {"method": "card", "status": "refunded",
               "id": "ch_1", "brand": "visa", "last4": "4242", "amount_cents": 3950}}),
    )));
    let text = app.flash.clone().unwrap().text;
    assert_eq!(text, "K-0001: $39.50 refunded to the card ending 4242.");
}

/// What is on screen is marked stale while the connection is down, and the
/// cart survives a snapshot.
#[test]
fn stale_while_offline_and_cart_kept() {
    let mut app = app_with(vec![]);
    act(&mut app, &[Action::QuickAdd]);
    app.on_event(AppEvent::Conn(ConnState::Offline));
    assert!(app.stale());
    app.on_event(AppEvent::Conn(ConnState::Connecting));
    app.on_event(snapshot(vec![]));
    app.on_event(AppEvent::Conn(ConnState::Live { rtt_ms: None }));
    assert!(!app.stale());
    assert_eq!(app.cart.len(), 1);
}

/// Control characters from the network never reach the screen.
#[test]
fn network_text_is_cleaned_before_drawing() {
    let mut app = app_with(vec![]);
    let mut evil = menu()[0].clone();
    evil.name = "Bibim\x1b[2Jbap\u{202e}".into();
    app.on_event(AppEvent::Message(Envelope::new(
        "menu_update",
        json!({"op": "upsert", "item": evil}),
    )));
    let text = draw(&app, View::default(), 80, 24);
    assert!(text.contains("Bibim[2Jbap"), "{text}");
    assert!(!text.contains('\x1b'));
    assert!(!text.contains('\u{202e}'));
}

// ---------------------------------------------------------------- screens

fn terminal(app: &App, view: View, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::render(app, &view, f)).unwrap();
    t
}

fn draw(app: &App, view: View, w: u16, h: u16) -> String {
    terminal(app, view, w, h).backend().to_string()
}

fn both_sizes(name: &str, app: &App) {
    let view = View::default();
    insta::assert_snapshot!(
        format!("{name}_80x24"),
        terminal(app, view, 80, 24).backend()
    );
    insta::assert_snapshot!(
        format!("{name}_120x40"),
        terminal(app, view, 120, 40).backend()
    );
}

#[test]
fn screen_menu() {
    let mut app = app_with(vec![]);
    act(&mut app, &[Action::QuickAdd, Action::QuickAdd]);
    both_sizes("menu", &app);
}

#[test]
fn screen_menu_search() {
    let mut app = app_with(vec![]);
    act(&mut app, &[Action::Search]);
    type_text(&mut app, "b");
    both_sizes("menu_search", &app);
}

#[test]
fn screen_add_dialog() {
    let mut app = app_with(vec![]);
    act(&mut app, &[Action::Add, Action::QtyUp, Action::NextField]);
    type_text(&mut app, "no egg");
    both_sizes("add_dialog", &app);
}

#[test]
fn screen_cart() {
    let (mut app, _) = in_checkout();
    act(&mut app, &[Action::Back]);
    both_sizes("cart", &app);
}

#[test]
fn screen_checkout() {
    let (mut app, _) = in_checkout();
    fill_card(&mut app, "4242424242424242");
    both_sizes("checkout", &app);
}

#[test]
fn screen_checkout_declined() {
    let (mut app, _) = in_checkout();
    fill_card(&mut app, "4000000000000002");
    act(&mut app, &[Action::Submit]);
    let (id, _, _) = sent(&mut app).remove(0);
    reply(
        &mut app,
        &id,
        Err(ProtocolError::new(
            ErrorCode::PaymentDeclined,
            "the card was declined",
        )),
    );
    both_sizes("checkout_declined", &app);
}

#[test]
fn screen_orders() {
    let mut app = app_with(vec![
        order(3, OrderStatus::Preparing),
        order(2, OrderStatus::Pending),
        order(1, OrderStatus::Delivered),
    ]);
    act(&mut app, &[Action::Go(Screen::Orders)]);
    both_sizes("orders", &app);
}

#[test]
fn screen_order_ready() {
    let mut app = app_with(vec![order(1, OrderStatus::Preparing)]);
    act(&mut app, &[Action::Go(Screen::Orders)]);
    app.on_event(order_event("order_update", &order(1, OrderStatus::Ready)));
    both_sizes("order_ready", &app);
}

#[test]
fn screen_order_cancelled() {
    let mut app = app_with(vec![order(1, OrderStatus::Cancelled)]);
    act(&mut app, &[Action::Go(Screen::Orders)]);
    both_sizes("order_cancelled", &app);
}

#[test]
fn screen_notifications() {
    let mut app = app_with(vec![]);
    app.on_event(AppEvent::Message(Envelope::new(
        "announcement",
        json!({"id": 4, "audience": "all", "kind": "maintenance", "text": "Closing at 9pm tonight\nfor a kitchen clean",
               "expires_at": null, "created_at": at(0), "by": {"id": "admin", "name": "Demo Admin"}}),
    )));
    both_sizes("notifications_unread", &app);
    act(&mut app, &[Action::Go(Screen::Notifications)]);
    both_sizes("notifications", &app);
}

#[test]
fn screen_help() {
    let mut app = app_with(vec![]);
    act(&mut app, &[Action::Help]);
    both_sizes("help", &app);
}

#[test]
fn screen_offline_is_marked_stale() {
    let mut app = app_with(vec![]);
    app.on_event(AppEvent::Conn(ConnState::Reconnecting {
        attempt: 3,
        next_try_in_ms: 1800,
    }));
    let text = draw(&app, View::default(), 80, 24);
    assert!(text.contains("[stale]"), "{text}");
    assert!(text.contains("reconnecting (3, 2s)"), "{text}");
    app.on_event(AppEvent::Conn(ConnState::Offline));
    assert!(draw(&app, View::default(), 80, 24).contains(" offline "));
}

/// `--ascii` draws no box glyphs; NO_COLOR draws no colour at all.
#[test]
fn ascii_and_no_color() {
    let mut app = app_with(vec![order(1, OrderStatus::Ready)]);
    act(&mut app, &[Action::QuickAdd]);
    let view = View {
        theme: kfood_protocol::term::Theme {
            color: false,
            ascii: true,
        },
        ..View::default()
    };
    for screen in Screen::ALL {
        act(&mut app, &[Action::Go(screen)]);
        let t = terminal(&app, view, 80, 24);
        let buf = t.backend().buffer();
        for cell in buf.content() {
            assert!(cell.symbol().is_ascii(), "{screen:?}: {:?}", cell.symbol());
            assert_eq!(cell.fg, ratatui::style::Color::Reset, "{screen:?}");
            assert_eq!(cell.bg, ratatui::style::Color::Reset, "{screen:?}");
        }
    }
    act(&mut app, &[Action::Go(Screen::Orders)]);
    insta::assert_snapshot!("orders_ascii_80x24", terminal(&app, view, 80, 24).backend());
}

/// Below 80×24 the program says the terminal is too small instead of a broken layout.
#[test]
fn small_terminal_says_so() {
    let app = app_with(vec![]);
    let text = draw(&app, View::default(), 79, 24);
    assert!(text.contains("terminal too small (need 80×24"), "{text}");
    assert!(!text.contains("Menu"), "{text}");
    assert!(!draw(&app, View::default(), 80, 24).contains("too small"));
}
