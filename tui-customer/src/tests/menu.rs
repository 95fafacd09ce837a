//! The Menu and Cart screens' updates, and the menu as the relay changes it.

use super::*;

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

/// Menu changes from the admin or the kitchen show at once.
#[test]
fn menu_updates_live() {
    let mut app = app_with(vec![]);
    let mut b = menu()[0].clone();
    b.available = false;
    app.on_event(event(
        "menu_update",
        json!({"op": "set_available", "item": b}),
    ));
    assert!(!app.item("bibimbap").unwrap().available);
    let new = item(
        "dolsot",
        "Dolsot Bibimbap",
        "Rice & Noodles",
        1550,
        15,
        true,
    );
    app.on_event(event("menu_update", json!({"op": "upsert", "item": new})));
    let ids: Vec<_> = app.visible_items().iter().map(|i| i.id.clone()).collect();
    assert_eq!(ids, ["bibimbap", "japchae", "naengmyeon", "dolsot"]);
    app.on_event(event(
        "menu_update",
        json!({"op": "remove", "item": {"id": "japchae"}}),
    ));
    assert!(app.item("japchae").is_none());
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
    app.on_event(event("menu_update", json!({"op": "upsert", "item": evil})));
    let text = draw(&app, View::default(), 80, 24);
    assert!(text.contains("Bibim[2Jbap"), "{text}");
    assert!(!text.contains('\x1b'));
    assert!(!text.contains('\u{202e}'));
}
