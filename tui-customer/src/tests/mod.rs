//! The app driven as a customer would drive it: actions in, relay messages
//! in, then the state and the drawn screen checked. One file per part of
//! the program; the fixtures and drivers are here.

mod capacity;
mod checkout;
mod menu;
mod options;
mod orders;
mod progress;
mod screens;

use std::sync::atomic::{AtomicU64, Ordering};

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
        options: Vec::new(),
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
        OrderStatus::Scheduled | OrderStatus::Pending | OrderStatus::Cancelled => 0,
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
        capacity: Default::default(),
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
            NetCmd::Request { id, request } => Some((id, request.kind(), request.data())),
            NetCmd::SaveCart(_) => None,
        })
        .collect()
}

/// Seqs for the relay's events in tests: after every snapshot's `head_seq`.
static SEQ: AtomicU64 = AtomicU64::new(1000);

/// A durable event from the relay, with the next seq.
fn event(kind: &str, data: Value) -> AppEvent {
    let mut env = Envelope::new(kind, data);
    env.seq = Some(SEQ.fetch_add(1, Ordering::Relaxed));
    AppEvent::Message(env)
}

fn reply(app: &mut App, id: &str, result: Result<Value, ProtocolError>) {
    app.on_event(AppEvent::Reply {
        id: id.into(),
        result,
    });
}

fn order_event(kind: &str, o: &Order) -> AppEvent {
    event(
        kind,
        json!({"order_id": o.id, "status": o.status, "order": o}),
    )
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
