//! Orders for later and the pause (DESIGN §14) on the crew board: the
//! "Later" line, the `L` list with fire-now, `p` with its confirmation and
//! `PAUSED` in the status bar; screens at 80×24 with a fixed clock.

use kfood_protocol::order::OrderStatus::{self, *};
use kfood_protocol::time::format_ms;
use kfood_protocol::Envelope;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use serde_json::json;

use crate::app::*;
use crate::testutil::*;
use crate::ui::render;

fn draw(app: &App) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| render(app, f)).unwrap();
    t
}

fn screen(app: &App) -> String {
    format!("{}", draw(app).backend())
}

/// An order placed at T0 for `ready` (12 minutes' prep): it fires at `ready` − 12 min.
fn scheduled(id: u64, ready: i64, lines: &[(&str, u32, &str)]) -> kfood_protocol::Order {
    let mut o = order(id, Pending, T0, lines);
    o.status = OrderStatus::Scheduled;
    o.history[0].status = OrderStatus::Scheduled;
    o.prep_minutes = 12;
    o.scheduled_for = Some(format_ms(ready));
    o.ready_at = Some(format_ms(ready));
    o.eta = Some(format_ms(ready));
    o
}

/// A board with one pending order and two for later (firing in 7 and 20 min).
fn kitchen_with_later() -> App {
    let now = T0 + 5 * MIN;
    let pending = order(1, Pending, now - 2 * MIN, &[("Japchae", 1, "")]);
    let soon = scheduled(2, now + 19 * MIN, &[("Bibimbap", 2, "")]);
    let later = scheduled(3, now + 32 * MIN, &[("Bulgogi", 1, "")]);
    app_with(&[later, pending, soon])
}

/// A `capacity_update` from the relay with its own seq.
fn capacity(app: &mut App, seq: u64, paused: bool) {
    let mut env = Envelope::new(
        "capacity_update",
        json!({"paused": paused, "paused_until": null, "orders_per_slot": 0, "extra_minutes": 0,
               "at": format_ms(T0), "by": {"id": "sam", "name": "Sam", "type": "crew"}}),
    );
    env.seq = Some(seq);
    app.handle(AppEvent::Net(env));
}

/// Scheduled orders stay off the columns; the line counts them and names
/// the earliest fire time.
#[test]
fn later_line_counts_scheduled_orders() {
    let app = kitchen_with_later();
    assert_eq!(
        app.board()[0],
        vec![1],
        "only the pending order is in PENDING"
    );
    assert_eq!(app.later_list(), vec![2, 3], "by fire time");
    let fire = T0 + 5 * MIN + 7 * MIN;
    assert_eq!(app.later_summary(), Some((2, Some(fire))));
    let s = screen(&app);
    assert!(s.contains("Later 2 · next 10:12 (in 7m)"), "{s}");
    assert!(s.contains("1 open"), "{s}");
    insta::assert_snapshot!("later_line_80x24", draw(&app).backend());
}

/// `L` lists them; Enter fires the selected one: an `order_update` to
/// pending, shown in PENDING at once and gone from the list.
#[test]
fn later_list_fires_now() {
    let mut app = kitchen_with_later();
    app.update(Action::LaterList);
    assert_eq!(app.mode, Mode::Later { cursor: 0 });
    insta::assert_snapshot!("later_list_80x24", draw(&app).backend());
    app.update(Action::Move(Dir::Down));
    app.update(Action::Submit);
    let reqs = sent(&mut app);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].1, "order_update");
    assert_eq!(reqs[0].2, json!({"order_id": 3, "status": "pending"}));
    assert_eq!(app.later_list(), vec![2]);
    assert!(app.board()[0].contains(&3), "fired: in PENDING at once");
    assert_eq!(
        app.mode,
        Mode::Later { cursor: 0 },
        "the cursor follows the shorter list"
    );
    app.update(Action::Back);
    assert_eq!(app.mode, Mode::Board);
}

/// `p` asks first; `y` sends `capacity_set {paused: true}`; the relay's
/// `capacity_update` puts PAUSED in the status bar; `p` again offers resume.
#[test]
fn pause_asks_then_shows_paused() {
    let mut app = kitchen_with_later();
    app.update(Action::Pause);
    assert_eq!(app.mode, Mode::ConfirmPause);
    assert!(screen(&app).contains("Pause online ordering?"));
    app.update(Action::Back);
    assert!(sent(&mut app).is_empty(), "Esc keeps taking orders");
    app.update(Action::Pause);
    app.update(Action::Submit);
    let reqs = sent(&mut app);
    assert_eq!(
        (reqs[0].1, &reqs[0].2),
        ("capacity_set", &json!({"paused": true}))
    );
    assert!(
        !screen(&app).contains("PAUSED"),
        "not before the relay says so"
    );
    app.handle(AppEvent::Reply {
        id: reqs[0].0.clone(),
        result: Ok(json!({"ref": reqs[0].0})),
    });
    capacity(&mut app, 12, true);
    assert!(app.paused());
    insta::assert_snapshot!("paused_status_80x24", draw(&app).backend());
    app.update(Action::Pause);
    assert!(screen(&app).contains("Resume online ordering?"));
    app.update(Action::Submit);
    let reqs = sent(&mut app);
    assert_eq!(reqs[0].2, json!({"paused": false}));
    capacity(&mut app, 13, false);
    assert!(!screen(&app).contains("PAUSED"));
}

/// The bell rings when a scheduled order fires into PENDING, not when it is placed.
#[test]
fn bell_rings_when_an_order_fires() {
    let mut app = kitchen_with_later();
    let before = app.bells_due;
    let mut o = scheduled(4, T0 + 40 * MIN, &[("Japchae", 1, "")]);
    let mut env = Envelope::new(
        "order_created",
        json!({"order_id": 4, "status": "scheduled", "order": o}),
    );
    env.seq = Some(20);
    app.handle(AppEvent::Net(env));
    assert_eq!(app.bells_due, before, "placed for later: no bell");
    o.status = Pending;
    o.updated_at = format_ms(T0 + 6 * MIN);
    let mut env = Envelope::new(
        "order_update",
        json!({"order_id": 4, "status": "pending", "order": o}),
    );
    env.seq = Some(21);
    app.handle(AppEvent::Net(env));
    assert_eq!(app.bells_due, before + 1, "fired: the bell");
    assert!(app.board()[0].contains(&4));
}
