//! The board's rules, driven as a cook and the relay would drive them.

use kfood_protocol::client::ConnState;
use kfood_protocol::order::{FulfillmentKind, OrderStatus::*};
use serde_json::json;

use crate::app::*;
use crate::testutil::*;

fn ack(id: &str, data: serde_json::Value) -> AppEvent {
    AppEvent::Reply {
        id: id.into(),
        result: Ok(data),
    }
}

fn refused(id: &str, code: &str, message: &str) -> AppEvent {
    AppEvent::Reply {
        id: id.into(),
        result: Err(ReplyError {
            code: code.into(),
            message: message.into(),
        }),
    }
}

fn code_of(app: &App) -> Option<String> {
    app.selected_ticket().map(|t| t.order.code.clone())
}

/// The snapshot seeds all three columns, oldest first, and the oldest ticket
/// of the leftmost non-empty column is selected.
#[test]
fn snapshot_seeds_the_board_and_selects_the_oldest_leftmost() {
    let app = app_with(&[
        order(3, Pending, T0 + 2 * MIN, &[("Japchae", 1, "")]),
        order(1, Preparing, T0, &[("Bibimbap", 2, "")]),
        order(2, Pending, T0 + MIN, &[("Bulgogi", 1, "")]),
        order(4, Ready, T0, &[("Bulgogi", 1, "")]),
        order(5, Delivered, T0, &[("Bulgogi", 1, "")]),
        order(6, Cancelled, T0, &[("Bulgogi", 1, "")]),
    ]);
    assert_eq!(app.board(), [vec![2, 3], vec![1], vec![4]]);
    assert_eq!(code_of(&app).as_deref(), Some("K-0002"));
    assert_eq!(app.open_count(), 4);
    assert_eq!(app.model.menu.len(), 5);
    assert_eq!(app.bells_due, 0, "the first snapshot does not ring");
}

/// The first order on an empty board is selected at once, and rings.
#[test]
fn first_ticket_on_an_empty_board_is_selected() {
    let mut app = app_with(&[]);
    assert_eq!(app.selected, None);
    let o = order(7, Pending, T0 + 4 * MIN, &[("Bibimbap", 1, "")]);
    app.handle(order_event("order_created", &o));
    assert_eq!(app.selected, Some(7));
    assert_eq!(app.bells_due, 1);
}

/// Enter sends `order_update {order_id, status: next}`, shows the move at
/// once, and hands the cursor to the next ticket of the column.
#[test]
fn bump_sends_the_next_status_and_moves_on() {
    let a = order(1, Pending, T0, &[("Bibimbap", 1, "")]);
    let b = order(2, Pending, T0 + MIN, &[("Japchae", 1, "")]);
    let mut app = app_with(&[a.clone(), b]);
    app.update(Action::Bump);
    let reqs = sent(&mut app);
    assert_eq!(reqs.len(), 1);
    let (id, kind, data) = &reqs[0];
    assert_eq!(*kind, "order_update");
    assert_eq!(data, &json!({"order_id": 1, "status": "preparing"}));
    assert_eq!(app.board(), [vec![2], vec![1], vec![]]);
    assert_eq!(app.selected, Some(2));
    assert!(app.ticket(1).unwrap().is_unconfirmed());

    // The relay's ack settles it.
    let done = changed(a, Preparing, T0 + 5 * MIN, cook(), None);
    app.handle(ack(id, json!({"ref": id, "order": done})));
    assert!(!app.ticket(1).unwrap().is_unconfirmed());
    assert_eq!(app.ticket(1).unwrap().order.status, Preparing);
    assert_eq!(app.unanswered(), 0);
}

/// A bump the relay refuses puts the ticket back and says why.
#[test]
fn refused_bump_reverts_with_a_message() {
    let mut app = app_with(&[order(1, Pending, T0, &[("Bibimbap", 1, "")])]);
    app.update(Action::Bump);
    let id = sent(&mut app)[0].0.clone();
    assert_eq!(app.board()[1], vec![1]);
    app.handle(refused(
        &id,
        "invalid_transition",
        "cannot go from cancelled to preparing",
    ));
    assert_eq!(app.board()[0], vec![1]);
    let f = app.flash.clone().unwrap();
    assert!(f.error);
    assert!(f.text.contains("K-0001 bump refused"), "{}", f.text);
}

/// A ticket bumped through every status leaves the board once delivered.
#[test]
fn single_ticket_follows_its_bumps_to_delivered() {
    let o = order(1, Pending, T0, &[("Bibimbap", 1, "")]);
    let mut app = app_with(std::slice::from_ref(&o));
    app.update(Action::Bump);
    assert_eq!(app.selected, Some(1));
    app.update(Action::Bump);
    app.update(Action::Bump);
    let reqs = sent(&mut app);
    let statuses: Vec<_> = reqs.iter().map(|r| r.2["status"].clone()).collect();
    assert_eq!(
        statuses,
        [json!("preparing"), json!("ready"), json!("delivered")]
    );
    assert!(
        app.board().iter().all(Vec::is_empty),
        "delivered leaves at once"
    );
    let delivered = changed(o, Delivered, T0 + 6 * MIN, cook(), None);
    for (id, ..) in &reqs {
        app.handle(ack(id, json!({"order": delivered})));
    }
    assert_eq!(app.open_count(), 0);
    assert_eq!(app.selected, None);
}

/// Backspace/u sends `order_update` with the previous status; nothing to
/// recall on a pending ticket.
#[test]
fn recall_steps_back_one_status() {
    let mut app = app_with(&[order(1, Ready, T0, &[("Bibimbap", 1, "")])]);
    app.update(Action::Recall);
    let reqs = sent(&mut app);
    assert_eq!(reqs[0].1, "order_update");
    assert_eq!(reqs[0].2, json!({"order_id": 1, "status": "preparing"}));
    assert_eq!(app.board()[1], vec![1]);

    let mut app = app_with(&[order(1, Pending, T0, &[("Bibimbap", 1, "")])]);
    app.update(Action::Recall);
    assert!(sent(&mut app).is_empty());
    assert!(app.flash.unwrap().text.contains("nothing to recall"));
}

/// `x` asks first; a quick reason is one digit; Esc sends nothing.
#[test]
fn cancel_confirms_with_a_reason() {
    let mut app = app_with(&[order(1, Preparing, T0, &[("Bibimbap", 1, "")])]);
    app.update(Action::Cancel);
    assert!(matches!(app.mode, Mode::Cancel { order_id: 1, .. }));
    app.update(Action::Back);
    assert_eq!(app.mode, Mode::Board);
    assert!(sent(&mut app).is_empty());

    app.update(Action::Cancel);
    app.update(Action::Input('1'));
    app.update(Action::Submit);
    let reqs = sent(&mut app);
    assert_eq!(reqs[0].1, "order_cancel");
    assert_eq!(reqs[0].2, json!({"order_id": 1, "reason": "out of stock"}));
    assert!(
        app.board().iter().all(Vec::is_empty),
        "our own cancel leaves"
    );

    // Typed reasons, and the default when none is given.
    let mut app = app_with(&[order(1, Pending, T0, &[("Bibimbap", 1, "")])]);
    app.update(Action::Cancel);
    for c in "no rice".chars() {
        app.update(Action::Input(c));
    }
    app.update(Action::Submit);
    assert_eq!(sent(&mut app)[0].2["reason"], "no rice");
    let mut app = app_with(&[order(1, Pending, T0, &[("Bibimbap", 1, "")])]);
    app.update(Action::Cancel);
    app.update(Action::Submit);
    assert_eq!(sent(&mut app)[0].2["reason"], DEFAULT_REASON);

    // Ready orders cannot be cancelled (DESIGN §6).
    let mut app = app_with(&[order(1, Ready, T0, &[("Bibimbap", 1, "")])]);
    app.update(Action::Cancel);
    assert_eq!(app.mode, Mode::Board);
    assert!(app.flash.unwrap().error);
}

/// `+`/`-` send absolute prep minutes that build on each other before the
/// relay answers.
#[test]
fn prep_minutes_step_by_one() {
    let mut app = app_with(&[order(1, Pending, T0, &[("Bibimbap", 1, "")])]);
    app.update(Action::PrepUp);
    app.update(Action::PrepUp);
    app.update(Action::PrepDown);
    let mins: Vec<_> = sent(&mut app)
        .into_iter()
        .map(|(_, k, d)| {
            assert_eq!(k, "order_update");
            d["prep_minutes"].clone()
        })
        .collect();
    assert_eq!(mins, [json!(13), json!(14), json!(13)]);
    assert_eq!(app.ticket(1).unwrap().prep_minutes(), 13);
}

/// `d` asks for delivery minutes on a delivery; a pickup has none.
#[test]
fn delivery_minutes_for_deliveries_only() {
    let mut deliv = order(2, Preparing, T0, &[("Bulgogi", 1, "")]);
    deliv.fulfillment.kind = FulfillmentKind::Delivery;
    deliv.fulfillment.address = Some("12 Main St".into());
    let mut app = app_with(&[order(1, Pending, T0, &[("Bibimbap", 1, "")]), deliv]);
    app.update(Action::Delivery);
    assert_eq!(app.mode, Mode::Board);
    assert!(app.flash.clone().unwrap().text.contains("pickup"));
    app.update(Action::Move(Dir::Right));
    assert_eq!(app.selected, Some(2));
    app.update(Action::Delivery);
    for c in "3x5".chars() {
        app.update(Action::Input(c));
    }
    app.update(Action::Submit);
    let reqs = sent(&mut app);
    assert_eq!(reqs[0].2, json!({"order_id": 2, "delivery_minutes": 35}));
    assert_eq!(app.ticket(2).unwrap().delivery_minutes(), 35);
}

/// The 86 list sends `menu_update set_available` and shows the change at once.
#[test]
fn eighty_six_toggles_availability() {
    let mut app = app_with(&[]);
    app.update(Action::ToggleMenu);
    assert_eq!(app.mode, Mode::Menu { cursor: 0 });
    app.update(Action::Move(Dir::Down));
    app.update(Action::ToggleAvailable);
    let reqs = sent(&mut app);
    assert_eq!(reqs[0].1, "menu_update");
    assert_eq!(
        reqs[0].2,
        json!({"op": "set_available", "item": {"id": "japchae", "available": false}})
    );
    let japchae = app.model.menu[1].clone();
    assert!(!app.item_available(&japchae));
    // The relay's event settles the menu; the ack clears the local change.
    let mut item = japchae.clone();
    item.available = false;
    app.handle(net(
        "menu_update",
        json!({"op": "set_available", "item": item}),
    ));
    app.handle(ack(&reqs[0].0, json!({"item": item})));
    assert!(app.local_available.is_empty());
    assert!(!app.model.menu[1].available);
    // An item already 86'd comes back.
    app.update(Action::Move(Dir::Down));
    app.update(Action::Move(Dir::Down));
    app.update(Action::ToggleAvailable);
    assert_eq!(
        sent(&mut app)[0].2["item"],
        json!({"id": "galbi", "available": true})
    );
    app.update(Action::Back);
    assert_eq!(app.mode, Mode::Board);
    assert!(!app.show_menu);
}

/// A customer's cancellation stays on the board, flagged, in the column it
/// was in, until the cook clears it with Enter.
#[test]
fn cancelled_by_the_customer_is_flagged_until_cleared() {
    let a = order(1, Pending, T0, &[("Bibimbap", 1, "")]);
    let mut app = app_with(&[
        a.clone(),
        order(2, Pending, T0 + MIN, &[("Japchae", 1, "")]),
    ]);
    let gone = changed(
        a,
        Cancelled,
        T0 + 4 * MIN,
        customer(),
        Some("changed my mind"),
    );
    app.handle(order_event("order_cancelled", &gone));
    let t = app.ticket(1).unwrap();
    assert_eq!(t.flag, Some(Flag::Cancelled));
    assert_eq!(t.cancel_note(), Some("changed my mind"));
    assert_eq!(app.board()[0], vec![1, 2]);
    assert_eq!(app.bells_due, 1);
    app.update(Action::Bump);
    assert!(sent(&mut app).is_empty(), "clearing sends nothing");
    assert_eq!(app.board()[0], vec![2]);
    assert_eq!(app.selected, Some(2));
}

/// A modification is flagged; the first Enter acknowledges, the next bumps.
#[test]
fn modified_order_is_acknowledged_before_bumping() {
    let mut a = order(1, Pending, T0, &[("Bibimbap", 1, "")]);
    let mut app = app_with(std::slice::from_ref(&a));
    a.instructions = "no onions".into();
    a.modified = true;
    a.updated_at = kfood_protocol::time::format_ms(T0 + 3 * MIN);
    app.handle(order_event("order_modified", &a));
    assert_eq!(app.ticket(1).unwrap().flag, Some(Flag::Modified));
    assert_eq!(app.ticket(1).unwrap().order.instructions, "no onions");
    app.update(Action::Bump);
    assert!(sent(&mut app).is_empty());
    assert_eq!(app.ticket(1).unwrap().flag, None);
    app.update(Action::Bump);
    assert_eq!(sent(&mut app)[0].2["status"], "preparing");
}

/// Another station's bumps show at once; when the selected ticket leaves,
/// the oldest ticket of the leftmost non-empty column is selected.
#[test]
fn other_stations_bumps_arrive_live() {
    let a = order(1, Ready, T0, &[("Bibimbap", 1, "")]);
    let b = order(2, Ready, T0 + MIN, &[("Japchae", 1, "")]);
    let c = order(3, Pending, T0 + MIN, &[("Japchae", 1, "")]);
    let mut app = app_with(&[a.clone(), b, c.clone()]);
    app.update(Action::Move(Dir::Right));
    assert_eq!(app.selected, Some(1));
    app.handle(order_event(
        "order_update",
        &changed(a, Delivered, T0 + 5 * MIN, cook(), None),
    ));
    assert_eq!(app.board()[2], vec![2]);
    assert_eq!(app.selected, Some(3));
    app.handle(order_event(
        "order_update",
        &changed(c, Preparing, T0 + 5 * MIN, cook(), None),
    ));
    assert_eq!(app.board(), [vec![], vec![3], vec![2]]);
    assert_eq!(app.selected, Some(3), "the selection stays with its ticket");
}

/// An ack that describes the order before a later event is not allowed to
/// roll the board back.
#[test]
fn older_descriptions_never_win() {
    let a = order(1, Pending, T0, &[("Bibimbap", 1, "")]);
    let mut app = app_with(std::slice::from_ref(&a));
    app.update(Action::Bump);
    let id = sent(&mut app)[0].0.clone();
    let prep = changed(a, Preparing, T0 + 5 * MIN, cook(), None);
    let ready = changed(prep.clone(), Ready, T0 + 6 * MIN, cook(), None);
    app.handle(order_event("order_update", &prep));
    app.handle(order_event("order_update", &ready));
    app.handle(ack(&id, json!({"order": prep})));
    assert_eq!(app.ticket(1).unwrap().status(), Ready);
}

/// WARN is the board's own age threshold (10 minutes, `--warn-after`),
/// pending and preparing only; LATE is the order's one rule: past its ETA
/// (DESIGN §6), whatever the ticket's age.
#[test]
fn warn_by_age_late_by_eta() {
    let mut slow = order(3, Pending, T0 - 20 * MIN, &[("A", 1, "")]);
    slow.prep_minutes = 30;
    slow.eta = slow.compute_eta();
    let mut app = app_with(&[
        order(1, Pending, T0, &[("A", 1, "")]),
        order(2, Preparing, T0 - 6 * MIN, &[("A", 1, "")]),
        slow,
        order(4, Ready, T0 - 60 * MIN, &[("A", 1, "")]),
        order(5, Preparing, T0 - 20 * MIN, &[("A", 1, "")]),
    ]);
    let u = |app: &App, id| app.urgency(&app.ticket(id).unwrap());
    assert_eq!(u(&app, 1), Urgency::Ok);
    assert_eq!(u(&app, 2), Urgency::Warn);
    assert_eq!(
        u(&app, 3),
        Urgency::Warn,
        "20 minutes old but within its ETA"
    );
    assert_eq!(
        u(&app, 4),
        Urgency::Ok,
        "a ready pickup waits for its customer"
    );
    assert_eq!(u(&app, 5), Urgency::Late, "past its ETA");
    app.settings.warn_after_min = 3;
    assert_eq!(u(&app, 1), Urgency::Warn);
    app.tick(T0 + 30 * MIN);
    assert_eq!(u(&app, 1), Urgency::Late, "placed at T0 with 12 min prep");
}

/// All-day counts sum each item over pending and preparing tickets.
#[test]
fn all_day_counts() {
    let app = app_with(&[
        order(1, Pending, T0, &[("Bibimbap", 2, ""), ("Japchae", 1, "")]),
        order(2, Preparing, T0, &[("Bibimbap", 1, "")]),
        order(3, Ready, T0, &[("Japchae", 5, "")]),
    ]);
    assert_eq!(
        app.all_day(),
        vec![("Bibimbap".to_owned(), 3), ("Japchae".to_owned(), 1)]
    );
}

/// `/` filters by order code or item, live while typing; Esc clears.
#[test]
fn filter_by_code_or_item() {
    let mut app = app_with(&[
        order(1, Pending, T0, &[("Bibimbap", 1, "")]),
        order(12, Pending, T0, &[("Japchae", 1, "")]),
        order(3, Ready, T0, &[("Japchae", 1, "")]),
    ]);
    app.update(Action::Filter);
    for c in "japch".chars() {
        app.update(Action::Input(c));
    }
    assert_eq!(app.board(), [vec![12], vec![], vec![3]]);
    assert_eq!(app.selected, Some(12));
    app.update(Action::Submit);
    assert_eq!(app.filtered_out(), 1);
    app.update(Action::Filter);
    for _ in 0..5 {
        app.update(Action::Erase);
    }
    for c in "K-0012".chars() {
        app.update(Action::Input(c));
    }
    assert_eq!(app.board(), [vec![12], vec![], vec![]]);
    app.update(Action::Back);
    assert_eq!(app.filter, "");
    assert_eq!(app.open_count(), 3);
}

/// Control characters from the network never reach the screen.
#[test]
fn network_text_is_cleaned() {
    let mut o = order(1, Pending, T0, &[("Bibimbap", 1, "\x1b[2Jno egg\x07")]);
    o.instructions = "spicy\x1b]0;pwned\x07\nplease".into();
    o.customer.name = "Kim\u{202e}evil".into();
    let app = app_with(&[o]);
    let t = app.ticket(1).unwrap();
    assert_eq!(t.order.lines[0].notes, "[2Jno egg");
    assert_eq!(t.order.instructions, "spicy]0;pwned\nplease");
    assert_eq!(t.order.customer.name, "Kimevil");
}

/// Offline, keys keep working and changes queue; quitting with unsent
/// changes asks first.
#[test]
fn offline_changes_queue_and_quit_asks() {
    let mut app = app_with(&[order(1, Pending, T0, &[("Bibimbap", 1, "")])]);
    app.handle(AppEvent::Conn(ConnState::Offline));
    app.update(Action::Bump);
    assert_eq!(
        sent(&mut app).len(),
        1,
        "handed to the network task's queue"
    );
    assert_eq!(app.board()[1], vec![1]);
    assert_eq!(app.unanswered(), 1);
    app.update(Action::Quit);
    assert_eq!(app.mode, Mode::ConfirmQuit);
    assert!(!app.quit);
    app.update(Action::Back);
    assert!(!app.quit);
    app.update(Action::Quit);
    app.update(Action::Quit);
    assert!(app.quit);
}

/// After a reconnect with a reset snapshot, the board reconciles: orders
/// cancelled meanwhile are flagged, delivered ones leave, new ones arrive.
#[test]
fn reset_snapshot_reconciles() {
    let a = order(1, Pending, T0, &[("Bibimbap", 1, "")]);
    let b = order(2, Preparing, T0, &[("Japchae", 1, "")]);
    let mut app = app_with(&[a.clone(), b.clone()]);
    app.handle(AppEvent::Conn(ConnState::Offline));
    app.handle(AppEvent::Conn(ConnState::Live { rtt_ms: None }));
    let c = order(3, Pending, T0 + 4 * MIN, &[("Bulgogi", 1, "")]);
    app.handle(snapshot(&[
        changed(a, Cancelled, T0 + 3 * MIN, customer(), None),
        changed(
            changed(b, Ready, T0 + 2 * MIN, cook(), None),
            Delivered,
            T0 + 3 * MIN,
            cook(),
            None,
        ),
        c,
    ]));
    assert_eq!(app.ticket(1).unwrap().flag, Some(Flag::Cancelled));
    assert_eq!(app.ticket(2).unwrap().column(), None);
    assert_eq!(app.board()[0], vec![1, 3]);
    assert_eq!(app.bells_due, 1);
}

/// Kitchen alerts and crew announcements show in the banner; Esc dismisses;
/// a resolved alert leaves by itself.
#[test]
fn banner_alerts_and_announcements() {
    let mut app = app_with(&[]);
    app.handle(net(
        "system_alert",
        json!({"id": 4, "kind": "order_late", "severity": "warning", "text": "K-0001 waiting 16 min", "order_id": 1, "at": "2026-11-22T10:00:00Z", "resolved": false}),
    ));
    app.handle(net(
        "announcement",
        json!({"id": 9, "audience": "crew", "kind": "announcement", "text": "Fresh kimchi\x1b[5m today", "expires_at": null, "created_at": "2026-11-22T10:00:00Z", "by": {"id": "admin", "name": "Demo Admin"}}),
    ));
    let b = app.banner();
    assert_eq!(b[0], "ALERT WARNING: K-0001 waiting 16 min");
    assert_eq!(b[1], "ANNOUNCEMENT: Fresh kimchi[5m today (Demo Admin)");
    app.handle(net(
        "system_alert",
        json!({"id": 4, "kind": "order_late", "severity": "warning", "text": "K-0001 waiting 16 min", "order_id": 1, "at": "2026-11-22T10:00:00Z", "resolved": true}),
    ));
    assert_eq!(app.banner().len(), 1);
    app.update(Action::Back);
    assert!(app.banner().is_empty());
}

/// Arrows and hjkl move within and across columns, skipping empty ones.
#[test]
fn navigation() {
    let mut app = app_with(&[
        order(1, Pending, T0, &[("A", 1, "")]),
        order(2, Pending, T0 + MIN, &[("A", 1, "")]),
        order(3, Pending, T0 + 2 * MIN, &[("A", 1, "")]),
        order(4, Ready, T0, &[("A", 1, "")]),
    ]);
    app.update(Action::Move(Dir::Down));
    app.update(Action::Move(Dir::Down));
    assert_eq!(app.selected, Some(3));
    app.update(Action::Move(Dir::Down));
    assert_eq!(app.selected, Some(3));
    app.update(Action::Move(Dir::Right));
    assert_eq!(app.selected, Some(4), "skips the empty column");
    app.update(Action::Move(Dir::Right));
    assert_eq!(app.selected, Some(4));
    app.update(Action::Move(Dir::Left));
    assert_eq!(app.selected, Some(1));
    app.update(Action::Last);
    assert_eq!(app.selected, Some(3));
    app.update(Action::First);
    assert_eq!(app.selected, Some(1));
    app.update(Action::ToggleDetail);
    assert_eq!(
        app.mode,
        Mode::Detail {
            order_id: 1,
            scroll: 0
        }
    );
    app.update(Action::Move(Dir::Down));
    assert_eq!(
        app.mode,
        Mode::Detail {
            order_id: 1,
            scroll: 1
        }
    );
    app.update(Action::ToggleDetail);
    assert_eq!(app.mode, Mode::Board);
}

/// Panels and the bell toggle; help closes on any key.
#[test]
fn toggles() {
    let mut app = app_with(&[]);
    app.update(Action::ToggleAllDay);
    assert!(app.show_all_day);
    app.update(Action::ToggleAllDay);
    assert!(!app.show_all_day);
    assert!(app.bell);
    app.update(Action::ToggleBell);
    assert!(!app.bell);
    app.update(Action::Help);
    assert_eq!(app.mode, Mode::Help);
    app.update(Action::Bump);
    assert_eq!(app.mode, Mode::Board);
}

/// The flash message goes away by itself.
#[test]
fn flash_expires() {
    let mut app = app_with(&[order(1, Pending, T0, &[("A", 1, "")])]);
    app.update(Action::ToggleBell);
    assert!(app.flash.is_some());
    let now = app.now;
    assert!(app.tick(now + FLASH_MS + 1));
    assert!(app.flash.is_none());
}

/// Requests refused because the relay cannot be reached revert too.
#[test]
fn parked_requests_revert() {
    let mut app = app_with(&[order(1, Pending, T0, &[("A", 1, "")])]);
    app.update(Action::PrepUp);
    let id = sent(&mut app)[0].0.clone();
    app.handle(refused(&id, "offline", "not connected to the relay"));
    assert_eq!(app.ticket(1).unwrap().prep_minutes(), 12);
    assert_eq!(app.unanswered(), 0);
}
