//! Fixtures for the state and screen tests: a restaurant in mid-service at a
//! fixed time, fed to the program as the relay would send it.
#![allow(dead_code)]

use kfood_admin::app::{App, AppEvent, Look, NetCmd};
use kfood_protocol::client::ConnState;
use kfood_protocol::time::{format_ms, Millis};
use kfood_protocol::{Envelope, Role, UserRef};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use serde_json::{json, Value};

/// 2026-11-22T10:00:00Z.
pub const NOW: Millis = 1_795_341_600_000;

pub fn at(mins_ago: i64) -> String {
    format_ms(NOW - mins_ago * 60_000)
}

pub fn env(kind: &str, data: Value) -> AppEvent {
    AppEvent::Net(Envelope::new(kind, data))
}

pub fn order(id: u64, status: &str, customer: &str, mins_ago: i64) -> Value {
    let created = at(mins_ago);
    let mut history = vec![json!({"status": "pending", "at": created,
        "by": {"id": customer, "name": customer, "type": "customer"}})];
    if matches!(status, "preparing" | "ready" | "delivered") {
        history.push(json!({"status": "preparing", "at": at(mins_ago - 1),
            "by": {"id": "crew", "name": "Demo Crew", "type": "crew"}}));
    }
    if matches!(status, "ready" | "delivered") {
        history.push(json!({"status": "ready", "at": at(mins_ago - 2),
            "by": {"id": "crew", "name": "Demo Crew", "type": "crew"}, "note": "shelf 2"}));
    }
    if status == "delivered" {
        history.push(json!({"status": "delivered", "at": at(mins_ago - 3),
            "by": {"id": "crew", "name": "Demo Crew", "type": "crew"}}));
    }
    if status == "cancelled" {
        history.push(json!({"status": "cancelled", "at": at(mins_ago - 1),
            "by": {"id": "admin", "name": "Demo Admin", "type": "admin"}, "note": "out of rice"}));
    }
    let eta = match status {
        "delivered" | "cancelled" => Value::Null,
        _ => json!(at(mins_ago - 12)),
    };
    // The wok has made the bibimbap of every order it started; the japchae
    // waits. K-0043 also has kimchi from the cold station.
    let started = matches!(status, "preparing" | "ready" | "delivered");
    let wok_mark = started.then(
        || json!({"at": at(mins_ago - 1), "by": {"id": "kim.wok", "name": "Kim", "type": "crew"}}),
    );
    let mut lines = vec![
        json!({"item_id": "bibimbap", "name": "Bibimbap", "qty": 2, "unit_price_cents": 1350,
            "notes": "no egg", "station": "wok", "done": wok_mark}),
        json!({"item_id": "japchae", "name": "Japchae", "qty": 1, "unit_price_cents": 1250,
            "notes": "", "station": "wok", "done": null}),
    ];
    if id == 43 {
        lines.push(
            json!({"item_id": "kimchi", "name": "Kimchi", "qty": 1, "unit_price_cents": 400,
            "notes": "", "station": "cold", "done": null}),
        );
    }
    json!({
        "id": id,
        "code": format!("K-{id:04}"),
        "client_order_id": format!("00000000-0000-4000-8000-{id:012}"),
        "customer": {"id": customer, "name": format!("{customer} name")},
        "lines": lines,
        "instructions": "ring twice",
        "fulfillment": {"kind": "pickup"},
        "status": status,
        "subtotal_cents": 3950,
        "discount_cents": 0,
        "total_cents": 3950,
        "payment": {"method": "card", "status": if status == "cancelled" {"refunded"} else {"paid"},
            "id": format!("pay_{id}"), "brand": "visa", "last4": "4242", "amount_cents": 3950},
        "prep_minutes": 12,
        "delivery_minutes": 25,
        "eta": eta,
        "created_at": created,
        "updated_at": created,
        "history": history,
        "modified": false
    })
}

pub fn menu() -> Value {
    json!([
        {"id": "bibimbap", "name": "Bibimbap", "category": "Rice & Noodles", "description": "Rice, vegetables, egg", "price_cents": 1350, "available": true, "prep_minutes": 12, "station": "wok"},
        {"id": "japchae", "name": "Japchae", "category": "Rice & Noodles", "description": "Glass noodles", "price_cents": 1250, "available": true, "prep_minutes": 10, "station": "wok"},
        {"id": "bulgogi", "name": "Bulgogi", "category": "Grill", "description": "Grilled beef", "price_cents": 1800, "available": false, "prep_minutes": 15, "station": "grill"},
        {"id": "kimchi", "name": "Kimchi", "category": "Sides", "description": "Fermented cabbage", "price_cents": 400, "available": true, "prep_minutes": 1, "station": "cold"}
    ])
}

pub fn alert(id: u64, severity: &str, kind: &str, text: &str, resolved: bool) -> Value {
    let mut a = json!({"id": id, "kind": kind, "severity": severity, "text": text,
        "at": at(10 - id as i64), "resolved": resolved});
    if resolved {
        a["resolved_by"] = json!({"id": "admin", "name": "Demo Admin"});
    }
    a
}

pub fn snapshot() -> Value {
    json!({
        "menu": menu(),
        "orders": [
            order(40, "delivered", "lee", 50),
            order(41, "cancelled", "park", 40),
            order(42, "preparing", "kim", 20),
            order(43, "pending", "choi", 5),
            order(44, "ready", "kim", 14),
        ],
        "announcements": [
            {"id": 1, "audience": "all", "kind": "maintenance", "text": "Card payments pause at 23:00 for 5 minutes",
             "expires_at": at(-120), "created_at": at(30), "by": {"id": "admin", "name": "Demo Admin"}},
            {"id": 2, "audience": "all", "kind": "announcement", "text": "Expired notice",
             "expires_at": at(5), "created_at": at(60), "by": {"id": "admin", "name": "Demo Admin"}}
        ],
        "head_seq": 120,
        "reset": false,
        "alerts": [
            alert(3, "warning", "order_late", "K-0042 has waited 20 minutes", false),
            alert(4, "critical", "no_crew", "Orders are waiting and no crew is connected", false),
        ],
        "promos": [
            {"code": "WELCOME10", "percent_off": 10, "active": true, "expires_at": null},
            {"code": "FIVEOFF", "amount_off_cents": 500, "active": false, "expires_at": at(-1440)}
        ]
    })
}

pub fn metrics(uptime_s: u64, msgs: f64, orders_today: u64) -> Value {
    json!({
        "uptime_s": uptime_s,
        "connections": {"customer": 3, "crew": 1, "admin": 1},
        "msgs_in_per_s": msgs,
        "msgs_out_per_s": msgs * 3.0,
        "orders_by_status": {"pending": 1, "preparing": 1, "ready": 1, "delivered": 1, "cancelled": 1},
        "orders_today": orders_today,
        "revenue_today_cents": 15800,
        "prep_min_avg": 11.5,
        "prep_min_p90": 18.25,
        "late_orders": 1,
        "payment_failures_today": 2,
        "fanout_ms": {"p50": 0.4, "p99": 2.0 + msgs / 10.0},
        "store_bytes": 1_234_567
    })
}

pub fn activity(id: u64, user: &str, role: &str, kind: &str, text: &str) -> Value {
    json!({"id": id, "at": format_ms(NOW - (100 - id as i64) * 7_000),
        "user": {"id": user, "name": format!("{user} name"), "type": role},
        "kind": kind, "text": text})
}

/// A program that has connected, had its snapshot, a quarter hour of
/// metrics and some activity.
pub fn busy_app() -> App {
    let mut app = App::new(
        "ws://127.0.0.1:8080/ws",
        Look {
            ascii: false,
            color: true,
        },
        NOW,
        time::UtcOffset::UTC,
    );
    app.handle(AppEvent::Welcome(UserRef {
        id: "admin".into(),
        name: "Demo Admin".into(),
        role: Role::Admin,
    }));
    app.handle(AppEvent::Conn(ConnState::Live { rtt_ms: Some(3) }));
    // Connecting asks for the users and the newest activity; answer both.
    for cmd in std::mem::take(&mut app.outbox) {
        let NetCmd::Request { id, request } = cmd else {
            continue;
        };
        let data = match request.kind() {
            "user_list" => users(),
            _ => json!({"activity": []}),
        };
        app.handle(AppEvent::Reply {
            id,
            result: Ok(data),
        });
    }
    app.handle(env("snapshot", snapshot()));
    // The first sample carries fifteen minutes of one-minute history.
    let history: Vec<Value> = (0..15u64)
        .map(|m| metrics(1 + m * 60, (m % 5) as f64 * 2.0, m * 2 + (m % 3)))
        .collect();
    let start = NOW - 60_000;
    for s in 0..60u64 {
        app.now_ms = start + s as Millis * 1000;
        let mut m = metrics(901 + s, 5.0 + (s % 10) as f64, 33 + s / 20);
        if s == 0 {
            m["history"] = json!(history);
        }
        app.handle(env("metrics", m));
    }
    app.now_ms = NOW;
    for (i, (user, role, kind, text)) in [
        ("admin", "admin", "login", "logged in"),
        ("crew", "crew", "connect", "connected"),
        ("kim", "customer", "order", "placed K-0042 ($39.50)"),
        ("crew", "crew", "status", "K-0042 pending -> preparing"),
        ("admin", "admin", "menu", "set bulgogi unavailable"),
        ("choi", "customer", "order", "placed K-0043 ($39.50)"),
    ]
    .into_iter()
    .enumerate()
    {
        app.handle(env(
            "activity",
            activity(90 + i as u64, user, role, kind, text),
        ));
    }
    app
}

/// Users as `user_list` answers.
pub fn users() -> Value {
    json!({"users": [
        {"id": "admin", "name": "Demo Admin", "role": "admin", "online": true, "sessions": 1},
        {"id": "crew", "name": "Demo Crew", "role": "crew", "online": true, "sessions": 2},
        {"id": "customer", "name": "Demo Customer", "role": "customer", "online": false, "sessions": 0}
    ]})
}

pub fn draw(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    t.draw(|f| kfood_admin::ui::render(app, f)).expect("draw");
    t
}

/// The screen as plain lines.
pub fn text(t: &Terminal<TestBackend>) -> String {
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

/// A day's report as the relay sends it (`GET /api/report`).
pub fn day_report() -> kfood_protocol::report::DayReport {
    let mut hours: Vec<Value> = (0..24)
        .map(|h| json!({"hour": h, "orders": 0, "revenue_cents": 0}))
        .collect();
    hours[11] = json!({"hour": 11, "orders": 6, "revenue_cents": 9_450});
    hours[12] = json!({"hour": 12, "orders": 9, "revenue_cents": 13_720});
    hours[18] = json!({"hour": 18, "orders": 4, "revenue_cents": 5_400});
    serde_json::from_value(json!({
        "date": "2026-11-22", "tz": "Asia/Seoul",
        "orders_by_status": {"pending": 2, "preparing": 1, "ready": 1, "delivered": 14, "cancelled": 2},
        "gross_cents": 29_920, "discount_cents": 350, "refunded_cents": 1_350,
        "net_cents": 28_220, "cash_cents": 6_100, "card_cents": 22_120,
        "items": [
            {"item_id": "bibimbap", "name": "Bibimbap", "qty": 9, "revenue_cents": 12_150},
            {"item_id": "bulgogi", "name": "Bulgogi", "qty": 5, "revenue_cents": 8_250},
            {"item_id": "haemul-pajeon", "name": "Haemul Pajeon", "qty": 4, "revenue_cents": 5_600},
            {"item_id": "sikhye", "name": "Sikhye", "qty": 8, "revenue_cents": 3_200},
            {"item_id": "barley-tea", "name": "Barley Tea", "qty": 3, "revenue_cents": 720}
        ],
        "hours": hours,
        "prep_min_avg": 11.4, "prep_min_p90": 18.5, "late": 1,
        "cancellations": [
            {"code": "K-0007", "reason": "changed my mind", "at": "2026-11-22T03:12:00.000Z",
             "by": {"id": "kim", "name": "Kim", "type": "customer"}, "refunded_cents": 1350},
            {"code": "K-0012", "reason": "out of squid", "at": "2026-11-22T09:40:00.000Z",
             "by": {"id": "crew", "name": "Demo Crew", "type": "crew"}, "refunded_cents": 0}
        ],
        "payment_failures": 2, "partial": false
    }))
    .expect("a report")
}
