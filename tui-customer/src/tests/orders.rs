//! Orders and notifications as the relay changes them, refunds, the cache.

use super::*;

/// The kitchen's changes arrive live; ready rings the bell.
#[test]
fn order_moves_live_and_ready_rings() {
    let mut app = app_with(vec![order(1, OrderStatus::Pending)]);
    app.on_event(order_event(
        "order_update",
        &order(1, OrderStatus::Preparing),
    ));
    assert_eq!(app.order(1).unwrap().status, OrderStatus::Preparing);
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
        app.order(2).unwrap().instructions,
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

/// New announcements count as unread until the Notifications screen is seen.
#[test]
fn unread_announcements() {
    let mut app = app_with(vec![]);
    assert_eq!(app.unread(), 1);
    app.on_event(event(
        "announcement",
        json!({"id": 4, "audience": "all", "kind": "maintenance", "text": "Closing at 9pm",
               "expires_at": null, "created_at": at(0), "by": {"id": "admin", "name": "Demo Admin"}}),
    ));
    assert_eq!(app.unread(), 2);
    assert_eq!(app.notices()[0].id, 4, "newest first");
    act(&mut app, &[Action::Go(Screen::Notifications)]);
    assert_eq!(app.unread(), 0);
    assert_eq!(app.read_upto, 4);
    // The relay's restart notice has no id of its own and still shows.
    app.on_event(AppEvent::Message(Envelope::new(
        "announcement",
        json!({"id": 0, "audience": "all", "kind": "maintenance", "text": "The relay is restarting.",
               "expires_at": null, "created_at": at(1), "by": {"id": "relay", "name": "KfoodDelights"}}),
    )));
    assert_eq!(app.notices().len(), 3);
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
    // The cache folds announcements into its model as they come.
    let ann = warm.model.announcements.get(&3).unwrap().clone();
    entry.model.announcements.insert(3, ann);
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
    assert_eq!(app.notices().len(), 1, "announcements come back too");
    assert_eq!(app.unread(), 0);
    assert_eq!(app.visible_items().len(), 3);
    assert_eq!(app.model.orders.len(), 1);
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
    app.on_event(event(
        "payment_refunded",
        json!({"order_id": 1, "client_order_id": "x", "payment": {"method": "card", "status": "refunded",
               "id": "ch_1", "brand": "visa", "last4": "4242", "amount_cents": 3950}}),
    ));
    let text = app.flash.clone().unwrap().text;
    assert_eq!(text, "K-0001: $39.50 refunded to the card ending 4242.");
}
