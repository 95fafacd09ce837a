//! The option picker (DESIGN §14): choosing, required groups, the live line
//! price, and the choices in the cart, the checkout and the quote request.

use super::*;
use crate::app::AddFocus;

/// Bibimbap as the relay's menu_update gives it: a required size (choose
/// 1), a free spice level (at most 1) and priced extras (up to 2).
fn with_options(app: &mut App) {
    let mut item = menu().remove(0);
    item.options = serde_json::from_value(json!([
        {"id": "size", "name": "Size", "min": 1, "max": 1, "choices": [
            {"id": "regular", "name": "regular", "price_cents": 0},
            {"id": "large", "name": "large", "price_cents": 300}]},
        {"id": "spice", "name": "Spice level", "min": 0, "max": 1, "choices": [
            {"id": "mild", "name": "mild", "price_cents": 0},
            {"id": "hot", "name": "hot", "price_cents": 0}]},
        {"id": "extras", "name": "Extras", "min": 0, "max": 2, "choices": [
            {"id": "egg", "name": "egg", "price_cents": 150},
            {"id": "rice", "name": "rice", "price_cents": 100},
            {"id": "tofu", "name": "tofu", "price_cents": 200}]}
    ]))
    .unwrap();
    app.on_event(event("menu_update", json!({"op": "upsert", "item": item})));
}

fn picker() -> App {
    let mut app = app_with(vec![]);
    with_options(&mut app);
    act(&mut app, &[Action::Add]);
    app
}

fn focus(app: &App) -> AddFocus {
    match &app.overlay {
        Overlay::AddItem { focus, .. } => *focus,
        other => panic!("no picker: {other:?}"),
    }
}

fn problem(app: &App) -> Option<String> {
    match &app.overlay {
        Overlay::AddItem { problem, .. } => problem.clone(),
        other => panic!("no picker: {other:?}"),
    }
}

/// Moves to choice `n` from the first and toggles it.
fn choose(app: &mut App, n: usize) {
    while focus(app) != AddFocus::Choice(0) {
        act(app, &[Action::NextField]);
    }
    for _ in 0..n {
        act(app, &[Action::NextField]);
    }
    act(app, &[Action::Toggle]);
}

/// Choices: regular 0, large 1, mild 2, hot 3, egg 4, rice 5, tofu 6.
fn picked(app: &App) -> Vec<(String, String)> {
    match &app.overlay {
        Overlay::AddItem { chosen, .. } => chosen
            .iter()
            .map(|o| (o.group.clone(), o.choice.clone()))
            .collect(),
        _ => vec![],
    }
}

/// Enter on an item with options opens the picker on its first choice (the
/// menu says so); a required group must be answered before the line can be
/// added.
#[test]
fn required_groups_are_enforced() {
    let mut app = app_with(vec![]);
    with_options(&mut app);
    assert!(draw(&app, View::default(), 80, 24).contains("Enter: choose options and add"));
    act(&mut app, &[Action::Add]);
    assert_eq!(focus(&app), AddFocus::Choice(0));
    act(&mut app, &[Action::Submit]);
    assert!(app.cart.is_empty());
    assert_eq!(problem(&app).as_deref(), Some("Size: choose 1"));
    choose(&mut app, 1);
    act(&mut app, &[Action::Submit]);
    assert!(matches!(app.overlay, Overlay::None));
    assert_eq!(app.cart.len(), 1);
    assert_eq!(app.cart[0].options.len(), 1);
}

/// A group of at most one works like radio buttons; a full group refuses
/// another choice and says so; a second toggle takes a choice back.
#[test]
fn choosing_follows_each_groups_max() {
    let mut app = picker();
    choose(&mut app, 2);
    choose(&mut app, 3);
    assert_eq!(picked(&app), [("spice".into(), "hot".into())]);
    choose(&mut app, 4);
    choose(&mut app, 5);
    choose(&mut app, 6);
    assert_eq!(problem(&app).as_deref(), Some("Extras: at most 2"));
    assert_eq!(picked(&app).len(), 3);
    choose(&mut app, 5);
    assert_eq!(
        picked(&app),
        [
            ("spice".into(), "hot".into()),
            ("extras".into(), "egg".into())
        ]
    );
}

/// The line price follows the choices and the quantity, and the cart
/// prices the line the same way.
#[test]
fn the_line_price_follows_the_choices() {
    let mut app = picker();
    let price = |app: &App| match &app.overlay {
        Overlay::AddItem {
            item_id,
            chosen,
            qty,
            ..
        } => app.unit_price(item_id, chosen).unwrap() * i64::from(*qty),
        _ => panic!(),
    };
    assert_eq!(price(&app), 1350);
    choose(&mut app, 1);
    choose(&mut app, 4);
    assert_eq!(price(&app), 1350 + 300 + 150);
    act(&mut app, &[Action::NextField; 3]);
    assert_eq!(focus(&app), AddFocus::Qty);
    act(&mut app, &[Action::QtyUp]);
    assert_eq!(price(&app), 2 * 1800);
    assert!(draw(&app, View::default(), 80, 24).contains("Enter: add $36.00"));
    act(&mut app, &[Action::Submit]);
    assert_eq!(app.cart_subtotal(), Some(3600));
}

/// The same item with other choices is another cart line; the quote
/// request carries each line's choices.
#[test]
fn other_choices_are_other_lines_and_go_to_the_relay() {
    let mut app = picker();
    choose(&mut app, 0);
    choose(&mut app, 3);
    act(&mut app, &[Action::Submit, Action::Add]);
    choose(&mut app, 0);
    act(&mut app, &[Action::Submit, Action::Add]);
    choose(&mut app, 0);
    choose(&mut app, 3);
    act(&mut app, &[Action::Submit]);
    assert_eq!(app.cart.len(), 2);
    assert_eq!(app.cart[0].qty, 2);
    assert_eq!(
        app.cart_line_label(&app.cart[0]),
        "Bibimbap · regular · hot"
    );
    act(&mut app, &[Action::Go(Screen::Cart), Action::Checkout]);
    let reqs = sent(&mut app);
    assert_eq!(reqs[0].1, "order_quote");
    assert_eq!(
        reqs[0].2["items"][0]["options"],
        json!([{"group": "size", "choice": "regular"}, {"group": "spice", "choice": "hot"}])
    );
    assert!(reqs[0].2["items"][1].get("options").is_some());
}

/// `+` adds an item at once only when no group is required; otherwise it
/// opens the picker.
#[test]
fn quick_add_asks_when_a_choice_is_required() {
    let mut app = app_with(vec![]);
    with_options(&mut app);
    act(&mut app, &[Action::QuickAdd]);
    assert!(matches!(app.overlay, Overlay::AddItem { .. }));
    assert!(app.cart.is_empty());
    act(&mut app, &[Action::Back, Action::Down, Action::QuickAdd]);
    assert_eq!(app.cart.len(), 1);
}

/// The picker at 80×24: groups with what they ask, choices with prices,
/// the chosen marked, the line price; then the cart and the checkout show
/// the line with its choices.
#[test]
fn screen_picker_cart_and_checkout_80x24() {
    let mut app = picker();
    choose(&mut app, 1);
    choose(&mut app, 3);
    choose(&mut app, 4);
    let view = View::default();
    let t = terminal(&app, view, 80, 24);
    insta::assert_snapshot!("option_picker_80x24", t.backend());
    let s = t.backend().to_string();
    for want in [
        "Add Bibimbap",
        "Size  required: choose 1",
        "Spice level  choose one if you like",
        "Extras  up to 2",
        "(•) large",
        "+$3.00",
        "[x] egg",
        "+$1.50",
        "Enter: add $18.00",
    ] {
        assert!(s.contains(want), "{want:?} missing:\n{s}");
    }
    act(&mut app, &[Action::Submit, Action::Go(Screen::Cart)]);
    let s = draw(&app, view, 80, 24);
    insta::assert_snapshot!("option_cart_80x24", s);
    assert!(s.contains("Bibimbap · +large · hot · +egg"), "{s}");
    assert!(s.contains("$18.00"), "{s}");
    act(&mut app, &[Action::Checkout]);
    let s = draw(&app, view, 80, 24);
    assert!(s.contains("1 × Bibimbap · +large · hot · +egg"), "{s}");
}

/// With more choices than rows, the focused choice stays on screen.
#[test]
fn a_long_picker_scrolls_to_the_focus() {
    let mut app = app_with(vec![]);
    let mut item = menu().remove(0);
    item.options = serde_json::from_value(json!([
        {"id": "a", "name": "A", "min": 0, "max": 12, "choices":
            (0..12).map(|i| json!({"id": format!("a{i}"), "name": format!("alpha {i}"), "price_cents": 0})).collect::<Vec<_>>()},
        {"id": "b", "name": "B", "min": 0, "max": 12, "choices":
            (0..12).map(|i| json!({"id": format!("b{i}"), "name": format!("beta {i}"), "price_cents": 0})).collect::<Vec<_>>()}
    ]))
    .unwrap();
    app.on_event(event("menu_update", json!({"op": "upsert", "item": item})));
    act(&mut app, &[Action::Add]);
    act(&mut app, &[Action::NextField; 20]);
    let s = draw(&app, View::default(), 80, 24);
    assert!(s.contains("▶ [ ] beta 8"), "{s}");
    assert!(!s.contains("alpha 0"), "{s}");
}

/// A placed order's lines show the choices the relay stored, under the line.
#[test]
fn placed_orders_show_their_choices() {
    let mut o = order(1, OrderStatus::Pending);
    o.lines[0].options = serde_json::from_value(json!([
        {"group": "spice", "choice": "hot", "name": "hot", "price_cents": 0},
        {"group": "extras", "choice": "egg", "name": "egg", "price_cents": 150}
    ]))
    .unwrap();
    let mut app = app_with(vec![o]);
    act(&mut app, &[Action::Go(Screen::Orders)]);
    let s = draw(&app, View::default(), 80, 24);
    assert!(s.contains("2 × Bibimbap"), "{s}");
    assert!(s.contains("    hot · +egg"), "{s}");
}
