//! DESIGN §13 on My orders: the kitchen's progress from line marks, and
//! kitchen notes.

use kfood_protocol::order::{HistoryEntry, LineMark};
use kfood_protocol::{Role, UserRef};

use super::*;
use crate::app::view::{kitchen_note, progress};

fn cook() -> UserRef {
    UserRef {
        id: "crew".into(),
        name: "Crew".into(),
        role: Role::Crew,
    }
}

/// `o` with line `line` marked done by the grill a minute ago.
fn marked(mut o: Order, line: usize) -> Order {
    o.lines[line].done = Some(LineMark {
        at: at(-1),
        by: cook(),
    });
    o
}

/// `o` with a kitchen note: a history entry with the status it already has.
fn noted(mut o: Order, note: &str) -> Order {
    o.history.push(HistoryEntry {
        status: o.status,
        at: at(0),
        by: cook(),
        note: Some(note.into()),
    });
    o
}

/// My orders at 80×24 with order 1 selected.
fn orders_screen(app: &mut App) -> String {
    act(app, &[Action::Go(Screen::Orders)]);
    draw(app, View::default(), 80, 24)
}

/// A line marked done changes the progress drawn on a preparing order, and
/// says nothing on the message line, rings nothing, and adds no notification.
#[test]
fn line_marks_show_progress_without_a_message() {
    let mut app = app_with(vec![order(1, OrderStatus::Preparing)]);
    assert_eq!(
        progress(app.order(1).unwrap()),
        None,
        "nothing before a mark"
    );
    let one = marked(order(1, OrderStatus::Preparing), 1);
    app.on_event(order_event("order_update", &one));
    assert_eq!(
        progress(app.order(1).unwrap()).as_deref(),
        Some("1 of 2 items done")
    );
    assert!(app.flash.is_none(), "{:?}", app.flash);
    assert!(!app.bell);
    assert_eq!(app.unread(), 1, "only the announcement");
    let screen = orders_screen(&mut app);
    assert!(screen.contains("1 of 2 items done"), "{screen}");
    assert!(screen.contains("Japchae    $12.50  done"), "{screen}");
    let both = marked(one, 0);
    app.on_event(order_event("order_update", &both));
    let screen = draw(&app, View::default(), 80, 24);
    assert!(screen.contains("2 of 2 items done"), "{screen}");
    assert!(app.flash.is_none());
}

/// Once ready the progress gives way to READY; the marks stay on the order.
#[test]
fn ready_replaces_the_progress() {
    let done = marked(marked(order(1, OrderStatus::Ready), 0), 1);
    let mut app = app_with(vec![done]);
    let screen = orders_screen(&mut app);
    assert!(!screen.contains("items done"), "{screen}");
    assert!(screen.contains("READY for pickup!"), "{screen}");
}

/// A kitchen note shows as "Kitchen: <note>" on the order, says so once on
/// the message line, and adds one notification; the same event again adds
/// nothing, and a newer note replaces the older on the order.
#[test]
fn kitchen_note_shows_on_the_order_and_once_in_notifications() {
    let mut app = app_with(vec![order(1, OrderStatus::Preparing)]);
    let first = noted(
        order(1, OrderStatus::Preparing),
        "Out of japchae noodles: glass noodles instead",
    );
    app.on_event(order_event("order_update", &first));
    let flash = app.flash.clone().unwrap();
    assert_eq!(flash.level, Level::Info);
    assert!(
        flash.text.starts_with("K-0001 Kitchen: Out of japchae"),
        "{}",
        flash.text
    );
    let kitchen: Vec<_> = app
        .notices()
        .into_iter()
        .filter(|n| n.kind == "kitchen")
        .collect();
    assert_eq!(kitchen.len(), 1);
    assert!(kitchen[0].unread);
    assert_eq!(kitchen[0].from, "Crew");
    assert_eq!(app.unread(), 2);
    let screen = orders_screen(&mut app);
    assert!(
        screen.contains("Kitchen: Out of japchae noodles: glass noodles"),
        "{screen}"
    );

    app.on_event(order_event("order_update", &first));
    assert_eq!(
        app.notices().iter().filter(|n| n.kind == "kitchen").count(),
        1
    );

    let second = noted(first, "Ready in 5 minutes");
    app.on_event(order_event("order_update", &second));
    assert_eq!(
        kitchen_note(app.order(1).unwrap()),
        Some("Ready in 5 minutes")
    );
    let screen = draw(&app, View::default(), 80, 24);
    assert!(screen.contains("Kitchen: Ready in 5 minutes"), "{screen}");
    assert!(!screen.contains("glass noodles"), "{screen}");
    act(&mut app, &[Action::Go(Screen::Notifications)]);
    assert_eq!(app.unread(), 0);
    let screen = draw(&app, View::default(), 80, 24);
    assert!(screen.contains("kitchen"), "{screen}");
    assert!(screen.contains("K-0001: Ready in 5 minutes"), "{screen}");
}

/// A note that rides on a move (a cancel's reason) is not a kitchen note.
#[test]
fn a_cancel_reason_is_not_a_kitchen_note() {
    let mut cancelled = order(1, OrderStatus::Cancelled);
    cancelled.history.last_mut().unwrap().note = Some("changed my mind".into());
    assert_eq!(kitchen_note(&cancelled), None);
    let mut app = app_with(vec![order(1, OrderStatus::Pending)]);
    app.on_event(order_event("order_cancelled", &cancelled));
    assert!(app.notices().iter().all(|n| n.kind != "kitchen"));
    assert!(!orders_screen(&mut app).contains("Kitchen:"));
}

/// My orders at 80×24: a preparing order with one line of two done and a
/// kitchen note, in colour and in `--ascii` without colour.
#[test]
fn screen_order_progress_and_note() {
    let o = noted(
        marked(order(1, OrderStatus::Preparing), 0),
        "Extra kimchi on the side",
    );
    let mut app = app_with(vec![o, order(2, OrderStatus::Pending)]);
    act(&mut app, &[Action::Go(Screen::Orders), Action::Down]);
    insta::assert_snapshot!(
        "order_progress_80x24",
        terminal(&app, View::default(), 80, 24).backend()
    );
    let plain = View {
        theme: kfood_protocol::term::Theme {
            color: false,
            ascii: true,
        },
        ..View::default()
    };
    let text = draw(&app, plain, 80, 24);
    assert!(text.contains("1 of 2 items done"), "{text}");
    assert!(text.contains("Kitchen: Extra kimchi on the side"), "{text}");
}
