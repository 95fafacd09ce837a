//! Every screen drawn at 80×24 and 120×40 (insta snapshots), `--ascii`,
//! `NO_COLOR`, and a terminal below 80×24.

use super::*;

/// The menu with two items in the cart.
#[test]
fn screen_menu() {
    let mut app = app_with(vec![]);
    act(&mut app, &[Action::QuickAdd, Action::QuickAdd]);
    both_sizes("menu", &app);
}

/// The menu searching every category.
#[test]
fn screen_menu_search() {
    let mut app = app_with(vec![]);
    act(&mut app, &[Action::Search]);
    type_text(&mut app, "b");
    both_sizes("menu_search", &app);
}

/// The add dialog with a quantity and a note.
#[test]
fn screen_add_dialog() {
    let mut app = app_with(vec![]);
    act(&mut app, &[Action::Add, Action::QtyUp, Action::NextField]);
    type_text(&mut app, "no egg");
    both_sizes("add_dialog", &app);
}

/// The cart with a note on a line.
#[test]
fn screen_cart() {
    let (mut app, _) = in_checkout();
    act(&mut app, &[Action::Back]);
    both_sizes("cart", &app);
}

/// The checkout form with a valid card and the relay's total.
#[test]
fn screen_checkout() {
    let (mut app, _) = in_checkout();
    fill_card(&mut app, "4242424242424242");
    both_sizes("checkout", &app);
}

/// A declined card at checkout, said on the card number.
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

/// My orders: open ones first, then history.
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

/// An order that became ready: READY, the bell's message.
#[test]
fn screen_order_ready() {
    let mut app = app_with(vec![order(1, OrderStatus::Preparing)]);
    act(&mut app, &[Action::Go(Screen::Orders)]);
    app.on_event(order_event("order_update", &order(1, OrderStatus::Ready)));
    both_sizes("order_ready", &app);
}

/// A cancelled order's timeline.
#[test]
fn screen_order_cancelled() {
    let mut app = app_with(vec![order(1, OrderStatus::Cancelled)]);
    act(&mut app, &[Action::Go(Screen::Orders)]);
    both_sizes("order_cancelled", &app);
}

/// Notifications unread, then read on their screen.
#[test]
fn screen_notifications() {
    let mut app = app_with(vec![]);
    app.on_event(event(
        "announcement",
        json!({"id": 4, "audience": "all", "kind": "maintenance", "text": "Closing at 9pm tonight\nfor a kitchen clean",
               "expires_at": null, "created_at": at(0), "by": {"id": "admin", "name": "Demo Admin"}}),
    ));
    both_sizes("notifications_unread", &app);
    act(&mut app, &[Action::Go(Screen::Notifications)]);
    both_sizes("notifications", &app);
}

/// The help screen lists every key.
#[test]
fn screen_help() {
    let mut app = app_with(vec![]);
    act(&mut app, &[Action::Help]);
    both_sizes("help", &app);
}

/// Reconnecting or offline marks the screen stale and says so.
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

/// When the client moves to another relay of `--relay`, the status bar names the new one.
#[test]
fn status_bar_names_the_relay_in_use() {
    let mut app = app_with(vec![]);
    app.on_event(AppEvent::Relay("ws://10.0.0.6:8080/ws".into()));
    let text = draw(&app, View::default(), 80, 24);
    assert!(text.contains("10.0.0.6:8080"), "{text}");
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
