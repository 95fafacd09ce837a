//! The kitchen of DESIGN §13 as the cooks drive it: station screens and
//! their line marks, the expo's view of them, the recall list, kitchen notes.

use kfood_protocol::order::OrderStatus::*;
use serde_json::json;

use crate::app::*;
use crate::testutil::*;

fn ack(id: &str, data: serde_json::Value) -> AppEvent {
    AppEvent::Reply {
        id: id.into(),
        result: Ok(data),
    }
}

/// The grill screen holds the pending and preparing tickets with an open
/// grill line, oldest first, each with its grill lines and the rest counted;
/// the oldest open line is selected.
#[test]
fn station_screen_shows_its_open_lines() {
    let app = stations_kitchen(&["grill"]);
    assert_eq!(app.screen(), Screen::Station);
    let board = app.station_board();
    assert_eq!(
        board,
        vec![
            StationTicket {
                order_id: 2,
                lines: vec![1],
                others: 2
            },
            StationTicket {
                order_id: 1,
                lines: vec![0],
                others: 1
            },
        ],
        "K-0003's grill line is done, K-0004 is all done, K-0005 is ready"
    );
    assert_eq!(app.selected_line, Some((2, 1)));
    assert_eq!(app.selected, Some(2));
    let two = stations_kitchen(&["grill", "wok"]);
    assert_eq!(
        two.station_board()[0].lines,
        vec![0, 1],
        "both stations' lines"
    );
    assert_eq!(two.station_cursor_lines(), vec![(2, 1), (1, 0)]);
}

/// Enter sends `line_done` with the line's index in the order, shows it
/// done at once, and the cursor goes on to the next open line; a ticket
/// whose station lines are all marked leaves the screen.
#[test]
fn enter_marks_the_selected_line() {
    let mut app = stations_kitchen(&["grill"]);
    app.update(Action::MarkLine);
    let reqs = sent(&mut app);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].1, "line_done");
    assert_eq!(reqs[0].2, json!({"order_id": 2, "line": 1, "done": true}));
    assert!(app.ticket(2).unwrap().line_done(1));
    assert!(app.ticket(2).unwrap().is_unconfirmed());
    assert_eq!(
        app.station_board().len(),
        1,
        "K-0002 has no open grill line left"
    );
    assert_eq!(app.selected_line, Some((1, 0)));
    assert_eq!(app.marked, vec![(2, 1)]);

    // The relay's answer settles it.
    let o = app.model.orders[&2].clone();
    let done = line_marked(o, 1, app.now);
    app.handle(ack(&reqs[0].0, json!({"order": done})));
    assert!(!app.ticket(2).unwrap().is_unconfirmed());
    assert!(app.ticket(2).unwrap().line_done(1));
}

/// `u` clears the last line marked from this screen (`done: false`), and
/// the ticket comes back with that line selected; with nothing marked, it
/// says so and sends nothing.
#[test]
fn u_clears_the_last_mark() {
    let mut app = stations_kitchen(&["grill"]);
    app.update(Action::MarkLine);
    app.update(Action::MarkLine);
    let reqs = sent(&mut app);
    assert_eq!(reqs[1].2, json!({"order_id": 1, "line": 0, "done": true}));
    assert!(app.station_board().is_empty());
    app.update(Action::UndoMark);
    let undo = sent(&mut app);
    assert_eq!(undo[0].2, json!({"order_id": 1, "line": 0, "done": false}));
    assert_eq!(app.selected_line, Some((1, 0)));
    assert_eq!(app.station_board().len(), 1);
    app.update(Action::UndoMark);
    assert_eq!(
        sent(&mut app)[0].2,
        json!({"order_id": 2, "line": 1, "done": false})
    );
    app.update(Action::UndoMark);
    assert!(sent(&mut app).is_empty());
    assert!(app.flash.clone().unwrap().text.contains("no line marked"));
}

/// A refused mark puts the line back, says why, and is not undone later.
#[test]
fn refused_mark_reverts() {
    let mut app = stations_kitchen(&["grill"]);
    app.update(Action::MarkLine);
    let id = sent(&mut app)[0].0.clone();
    app.handle(AppEvent::Reply {
        id,
        result: Err(ReplyError {
            code: "invalid_transition".into(),
            message: "K-0002 is ready: lines are marked while it is made".into(),
        }),
    });
    assert!(!app.ticket(2).unwrap().line_done(1));
    assert!(app.marked.is_empty());
    let f = app.flash.clone().unwrap();
    assert!(
        f.error && f.text.contains("K-0002 line mark refused"),
        "{}",
        f.text
    );
}

/// j/k step through lines, h/l jump between tickets, g/G to the ends.
#[test]
fn station_navigation() {
    let mut app = stations_kitchen(&["grill", "wok", "drinks"]);
    let lines = app.station_cursor_lines();
    assert_eq!(lines, vec![(2, 1), (2, 2), (1, 0), (1, 1)]);
    app.update(Action::Move(Dir::Down));
    assert_eq!(app.selected_line, Some((2, 2)));
    app.update(Action::Move(Dir::Right));
    assert_eq!(app.selected_line, Some((1, 0)));
    app.update(Action::Move(Dir::Left));
    assert_eq!(app.selected_line, Some((2, 1)));
    app.update(Action::Last);
    assert_eq!(app.selected_line, Some((1, 1)));
    app.update(Action::Move(Dir::Down));
    assert_eq!(app.selected_line, Some((1, 1)));
    app.update(Action::First);
    assert_eq!(app.selected_line, Some((2, 1)));
    app.update(Action::ToggleDetail);
    assert_eq!(
        app.mode,
        Mode::Detail {
            order_id: 2,
            scroll: 0
        }
    );
}

/// All-day counts on a station cover its own open lines only; on the expo,
/// every open line.
#[test]
fn all_day_counts_the_stations_items() {
    let grill = stations_kitchen(&["grill"]);
    assert_eq!(
        grill.all_day(),
        vec![("LA Galbi".to_owned(), 2), ("Bulgogi".to_owned(), 1)]
    );
    let expo = stations_kitchen(&[]);
    assert_eq!(
        expo.all_day(),
        vec![
            ("LA Galbi".to_owned(), 2),
            ("Soju".to_owned(), 2),
            ("Bulgogi".to_owned(), 1),
            ("Cider".to_owned(), 1),
            ("Kimchi".to_owned(), 1),
        ]
    );
}

/// Another station's mark reaches the expo live: the line is done, and the
/// ticket is ALL DONE once every line is; Enter still bumps the order.
#[test]
fn expo_sees_marks_come_together() {
    let mut app = stations_kitchen(&[]);
    assert_eq!(app.screen(), Screen::Expo);
    let one = app.model.orders[&1].clone();
    assert!(!app.ticket(1).unwrap().all_done());
    let marked = line_marked(one, 0, app.now);
    let mut marked = changed(marked, Preparing, app.now, cook(), None);
    marked.history.pop();
    marked.status = Preparing;
    app.handle(order_event("order_update", &marked));
    let t = app.ticket(1).unwrap();
    assert!(t.line_done(0) && !t.line_done(1));
    assert_eq!(t.lines_done(), 1);
    let both = line_marked(marked, 1, app.now + 1_000);
    app.handle(order_event("order_update", &both));
    assert!(app.ticket(1).unwrap().all_done());
    assert!(app.ticket(4).unwrap().all_done());
    app.selected = Some(4);
    app.update(Action::Bump);
    assert_eq!(
        sent(&mut app)[0].2,
        json!({"order_id": 4, "status": "ready"})
    );
}

/// The recall list: orders moved forward into their status in the last 15
/// minutes, newest first, delivered ones included; older ones and pending
/// ones are not there. Enter recalls the selected one a status back.
#[test]
fn recall_list_and_recall() {
    let now = T0 + 20 * MIN;
    // Each order's last step came one minute after it was placed.
    let fresh_delivered = order(1, Delivered, now - 8 * MIN, &[("A", 1, "")]);
    let ready = order(2, Ready, now - 4 * MIN, &[("A", 1, "")]);
    let old_ready = order(3, Ready, now - 30 * MIN, &[("A", 1, "")]);
    let pending = order(4, Pending, now - MIN, &[("A", 1, "")]);
    let preparing = order(5, Preparing, now - 10 * MIN, &[("A", 1, "")]);
    let mut app = app_with(&[fresh_delivered, ready, old_ready, pending, preparing]);
    app.now = now;
    assert_eq!(app.recall_list(), vec![2, 1, 5]);
    app.update(Action::RecallList);
    assert_eq!(app.mode, Mode::Recall { cursor: 0 });
    app.update(Action::Move(Dir::Down));
    app.update(Action::Submit);
    let reqs = sent(&mut app);
    assert_eq!(reqs[0].1, "order_update");
    assert_eq!(reqs[0].2, json!({"order_id": 1, "status": "ready"}));
    assert_eq!(app.mode, Mode::Board);
    assert_eq!(
        app.board()[2],
        vec![3, 1, 2],
        "the delivered order is back as ready"
    );
    app.update(Action::RecallList);
    app.update(Action::Back);
    assert_eq!(app.mode, Mode::Board);
    assert!(sent(&mut app).is_empty());
}

/// The recall list holds at most 50, the newest.
#[test]
fn recall_list_is_bounded() {
    let now = T0 + 20 * MIN;
    let orders: Vec<_> = (1..=60)
        .map(|i| order(i, Ready, now - 14 * MIN + i as i64 * 1_000, &[("A", 1, "")]))
        .collect();
    let mut app = app_with(&orders);
    app.now = now;
    let list = app.recall_list();
    assert_eq!(list.len(), RECALL_LIST_MAX);
    assert_eq!(list[0], 60);
    assert_eq!(*list.last().unwrap(), 11);
}

/// `n` asks for a note; Enter sends `order_update {order_id, note}` with no
/// status; the note stops at 200 characters; Esc sends nothing.
#[test]
fn kitchen_note() {
    let mut app = stations_kitchen(&[]);
    app.update(Action::Note);
    assert_eq!(
        app.mode,
        Mode::Note {
            order_id: 1,
            input: String::new()
        }
    );
    for c in "out of soju, cider instead?".chars() {
        app.update(Action::Input(c));
    }
    app.update(Action::Submit);
    let reqs = sent(&mut app);
    assert_eq!(reqs[0].1, "order_update");
    assert_eq!(
        reqs[0].2,
        json!({"order_id": 1, "note": "out of soju, cider instead?"})
    );
    app.update(Action::Note);
    for _ in 0..250 {
        app.update(Action::Input('x'));
    }
    let Mode::Note { input, .. } = &app.mode else {
        panic!("{:?}", app.mode)
    };
    assert_eq!(input.chars().count(), MAX_NOTE_CHARS);
    app.update(Action::Back);
    assert!(sent(&mut app).is_empty());
    // A station screen notes the selected line's ticket.
    let mut station = stations_kitchen(&["grill"]);
    station.update(Action::Note);
    assert!(matches!(station.mode, Mode::Note { order_id: 2, .. }));
}

/// The latest kitchen note (a history entry that changed no status) is the
/// ticket's note.
#[test]
fn kitchen_note_is_read_from_history() {
    let now = T0 + 5 * MIN;
    let o = order(1, Preparing, T0, &[("A", 1, "")]);
    let noted = changed(o, Preparing, now, cook(), Some("no sesame left"));
    let app = app_with(&[noted]);
    assert_eq!(
        app.ticket(1).unwrap().kitchen_note(),
        Some("no sesame left")
    );
    assert_eq!(
        app.ticket(1).unwrap().cancel_note(),
        None,
        "a note is not a cancellation"
    );
}

/// A station screen rings for new orders with a line of its own only, and
/// says so when one of its tickets is cancelled elsewhere.
#[test]
fn station_bells_and_cancellations() {
    let mut app = stations_kitchen(&["grill"]);
    let now = app.now;
    let drinks_only = at_stations(order(8, Pending, now, &[("Soju", 1, "")]), &["drinks"]);
    app.handle(order_event("order_created", &drinks_only));
    assert_eq!(app.bells_due, 0);
    let grill = at_stations(order(9, Pending, now, &[("Bulgogi", 1, "")]), &["grill"]);
    app.handle(order_event("order_created", &grill));
    assert_eq!(app.bells_due, 1);
    let one = app.model.orders[&1].clone();
    let gone = changed(
        one,
        Cancelled,
        now + 1_000,
        customer(),
        Some("changed my mind"),
    );
    app.handle(order_event("order_cancelled", &gone));
    assert_eq!(app.bells_due, 2);
    assert!(app.station_board().iter().all(|t| t.order_id != 1));
    let f = app.flash.clone().unwrap();
    assert_eq!(f.text, "K-0001 CANCELLED: changed my mind");
}

/// Marking a line of a MODIFIED ticket acknowledges the change.
#[test]
fn marking_a_line_sees_a_modification() {
    let mut app = stations_kitchen(&["grill"]);
    let mut two = app.model.orders[&2].clone();
    two.instructions = "no sauce".into();
    two.updated_at = kfood_protocol::time::format_ms(app.now);
    app.handle(order_event("order_modified", &two));
    assert_eq!(app.ticket(2).unwrap().flag, Some(Flag::Modified));
    app.update(Action::MarkLine);
    assert_eq!(app.ticket(2).unwrap().flag, None);
}

/// A terminal left running forgets closed orders a fresh snapshot would no
/// longer hold (older than a day); open ones stay.
#[test]
fn closed_orders_are_pruned_over_time() {
    let mut app = app_with(&[
        order(1, Delivered, T0, &[("A", 1, "")]),
        order(2, Pending, T0, &[("A", 1, "")]),
    ]);
    assert!(app.model.orders.contains_key(&1));
    app.tick(T0 + 25 * 60 * MIN);
    assert!(!app.model.orders.contains_key(&1));
    assert!(app.model.orders.contains_key(&2));
}
