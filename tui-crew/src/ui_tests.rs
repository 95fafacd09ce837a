//! Screens as the cook sees them, at 80×24 and 120×40, with a fixed clock.

use kfood_protocol::client::ConnState;
use kfood_protocol::order::{FulfillmentKind, OrderStatus::*};
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui::Terminal;
use serde_json::json;

use crate::app::*;
use crate::testutil::*;
use crate::ui::render;

fn draw(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(app, f)).unwrap();
    t
}

fn text(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// A kitchen mid-service: late, warning, modified, cancelled, delivery,
/// notes and instructions, an alert in the banner.
fn busy_kitchen() -> App {
    let now = T0 + 5 * MIN;
    let mut late = order(
        1,
        Pending,
        now - 23 * MIN,
        &[("Bibimbap", 2, "no egg"), ("Japchae", 1, "")],
    );
    late.instructions = "Extra spicy please, allergic to peanuts - no peanuts anywhere".into();
    let modified = order(2, Pending, now - 4 * MIN, &[("Kimchi Jjigae", 1, "")]);
    let mut warn = order(3, Preparing, now - 12 * MIN - 30_000, &[("Bulgogi", 1, "")]);
    warn.fulfillment.kind = FulfillmentKind::Delivery;
    warn.fulfillment.address = Some("12 Main St, apt 4".into());
    let cancelled = order(4, Preparing, now - 6 * MIN, &[("LA Galbi", 3, "")]);
    let ready = order(
        5,
        Ready,
        now - 9 * MIN,
        &[("Tteokbokki", 2, "extra cheese")],
    );
    let mut app = app_with(&[late, modified.clone(), warn, cancelled.clone(), ready]);
    let mut m = modified;
    m.instructions = "No onions".into();
    m.updated_at = kfood_protocol::time::format_ms(now - MIN);
    app.handle(order_event("order_modified", &m));
    app.handle(order_event(
        "order_cancelled",
        &changed(
            cancelled,
            Cancelled,
            now - MIN,
            customer(),
            Some("too slow"),
        ),
    ));
    app.handle(net(
        "system_alert",
        json!({"id": 4, "kind": "order_late", "severity": "warning", "text": "K-0001 pending for 16 minutes", "order_id": 1, "at": "2026-11-22T10:00:00Z", "resolved": false}),
    ));
    app.bells_due = 0;
    app
}

/// The board at 80×24: three columns, every state in words.
#[test]
fn board_80x24() {
    let app = busy_kitchen();
    let t = draw(&app, 80, 24);
    insta::assert_snapshot!(t.backend());
    let s = text(&t);
    for word in [
        "LATE 23:00",
        "WARN 12:30",
        "MODIFIED",
        "CANCELLED too slow",
        "ALERT WARNING",
        "LIVE 3ms",
        "5 open",
        "station-1",
        "│ 127.0.0.1:8080 │",
    ] {
        assert!(s.contains(word), "{word} missing:\n{s}");
    }
}

/// At 120×40 with the all-day and 86 panels open.
#[test]
fn board_120x40_with_panels() {
    let mut app = busy_kitchen();
    app.update(Action::ToggleAllDay);
    app.update(Action::ToggleMenu);
    app.update(Action::Move(Dir::Down));
    let t = draw(&app, 120, 40);
    insta::assert_snapshot!(t.backend());
    let s = text(&t);
    assert!(s.contains(" 86 LA Galbi"), "{s}");
    assert!(s.contains("▶   Japchae"), "{s}");
    assert!(s.contains("  2 Bibimbap"), "{s}");
}

/// The detail of a ticket: lines, notes, instructions, history with who and when.
#[test]
fn detail_80x24() {
    let mut app = busy_kitchen();
    app.update(Action::ToggleDetail);
    let t = draw(&app, 80, 24);
    insta::assert_snapshot!(t.backend());
    let s = text(&t);
    assert!(
        s.contains("09:42:00  pending    Kim Minji (customer)"),
        "{s}"
    );
}

/// The detail of a delivery the kitchen has started.
#[test]
fn detail_of_a_delivery_120x40() {
    let mut app = busy_kitchen();
    app.update(Action::Move(Dir::Right));
    app.update(Action::ToggleDetail);
    let t = draw(&app, 120, 40);
    insta::assert_snapshot!(t.backend());
    let s = text(&t);
    assert!(s.contains("delivery to 12 Main St, apt 4"), "{s}");
    assert!(s.contains("preparing  Line cook 2 (crew)"), "{s}");
}

#[test]
fn help_80x24() {
    let mut app = busy_kitchen();
    app.update(Action::Help);
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn cancel_prompt_80x24() {
    let mut app = busy_kitchen();
    app.update(Action::Cancel);
    app.update(Action::Input('2'));
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

/// Offline: the board stays, says `stale`, and the bump waits as `QUEUED`.
#[test]
fn offline_board_is_stale_80x24() {
    let mut app = busy_kitchen();
    app.handle(AppEvent::Conn(ConnState::Reconnecting {
        attempt: 3,
        next_try_in_ms: 2_400,
    }));
    app.update(Action::Move(Dir::Right));
    app.update(Action::PrepUp);
    let t = draw(&app, 80, 24);
    insta::assert_snapshot!(t.backend());
    let s = text(&t);
    assert!(s.contains("RECONNECTING (3, 3s) stale"), "{s}");
    assert!(s.contains("QUEUED (offline)"), "{s}");
    assert!(s.contains("PENDING 2 stale"), "{s}");
}

/// When the client moves to another relay of `--relay`, the status bar names the new one.
#[test]
fn status_bar_names_the_relay_in_use() {
    let mut app = busy_kitchen();
    let before = text(&draw(&app, 80, 24));
    assert!(before.contains("127.0.0.1:8080"), "{before}");
    app.handle(AppEvent::Relay("ws://10.0.0.6:8080/ws".into()));
    let after = text(&draw(&app, 80, 24));
    assert!(after.contains("10.0.0.6:8080"), "{after}");
    assert!(!after.contains("127.0.0.1:8080"), "{after}");
}

/// More tickets than fit: the column says how many are hidden, and keeps
/// the selected one in view.
#[test]
fn overflowing_column_counts_hidden_tickets() {
    let orders: Vec<_> = (1..=9)
        .map(|i| {
            order(
                i,
                Pending,
                T0 + i as i64 * 1000,
                &[("Bibimbap", 1, ""), ("Japchae", 2, "")],
            )
        })
        .collect();
    let mut app = app_with(&orders);
    let s = text(&draw(&app, 80, 24));
    assert!(s.contains("v +5 more"), "{s}");
    for _ in 0..8 {
        app.update(Action::Move(Dir::Down));
    }
    let t = draw(&app, 80, 24);
    insta::assert_snapshot!(t.backend());
    let s = text(&t);
    assert!(s.contains("^ 5 above"), "{s}");
    assert!(s.contains("▶K-0009"), "{s}");
}

/// `NO_COLOR` draws no colour at all, and `--ascii` no box-drawing glyph.
#[test]
fn no_color_and_ascii() {
    let mut app = busy_kitchen();
    app.settings.color = false;
    app.settings.ascii = true;
    app.update(Action::ToggleAllDay);
    let t = draw(&app, 80, 24);
    insta::assert_snapshot!(t.backend());
    let buf = t.backend().buffer();
    for cell in buf.content() {
        assert_eq!(cell.fg, Color::Reset, "colour at {cell:?}");
        assert_eq!(cell.bg, Color::Reset, "colour at {cell:?}");
    }
    let s = text(&t);
    assert!(s.is_ascii(), "non-ASCII glyph:\n{s}");
    assert!(s.contains("LATE"));
}

/// Before the first snapshot, and an empty board after it.
#[test]
fn connecting_and_empty() {
    let app = App::new(Settings::default(), T0);
    let s = text(&draw(&app, 80, 24));
    assert!(s.contains("Connecting to ws://127.0.0.1:8080/ws"), "{s}");
    assert!(s.contains("CONNECTING"), "{s}");
    let app = app_with(&[]);
    let s = text(&draw(&app, 80, 24));
    assert!(s.contains("No open orders."), "{s}");
    assert!(s.contains("0 open"), "{s}");
}

/// Below 80×24 the board says the terminal is too small instead of a broken layout.
#[test]
fn small_terminal_says_so() {
    let app = busy_kitchen();
    let s = text(&draw(&app, 40, 24));
    assert!(s.contains("terminal too small"), "{s}");
    assert!(!s.contains("PENDING"), "{s}");
    let s = text(&draw(&app, 80, 24));
    assert!(!s.contains("terminal too small"), "{s}");
}

/// The filter prompt, live.
#[test]
fn filter_prompt() {
    let mut app = busy_kitchen();
    app.update(Action::Filter);
    for c in "bulg".chars() {
        app.update(Action::Input(c));
    }
    let s = text(&draw(&app, 80, 24));
    assert!(s.contains("Filter (code or item): bulg_"), "{s}");
    assert!(s.contains("▶K-0003"), "{s}");
    assert!(!s.contains("K-0005"), "{s}");
}

/// Rendering never changes the state.
#[test]
fn rendering_is_pure() {
    let app = busy_kitchen();
    let before = format!("{app:?}");
    draw(&app, 80, 24);
    draw(&app, 20, 5);
    draw(&app, 1, 1);
    assert_eq!(before, format!("{app:?}"));
}
