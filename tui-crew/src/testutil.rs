//! Orders, menus and relay messages for the unit and screen tests, at fixed
//! times so that rendered ages are stable.

use kfood_protocol::menu::MenuItem;
use kfood_protocol::order::OrderStatus::{Pending, Preparing, Ready};
use kfood_protocol::order::{
    Fulfillment, FulfillmentKind, HistoryEntry, Order, OrderLine, OrderStatus, Payment,
    PaymentMethod, PaymentStatus,
};
use kfood_protocol::time::{format_ms, Millis};
use kfood_protocol::{Envelope, Party, Role, UserRef};
use serde_json::json;

use crate::app::{App, AppEvent, NetCmd, Settings};
use kfood_protocol::client::ConnState;

/// 2026-11-22T10:00:00Z.
pub const T0: Millis = 1_795_341_600_000;
pub const MIN: Millis = 60_000;

pub fn customer() -> UserRef {
    UserRef {
        id: "kim".into(),
        name: "Kim Minji".into(),
        role: Role::Customer,
    }
}

pub fn cook() -> UserRef {
    UserRef {
        id: "station-2".into(),
        name: "Line cook 2".into(),
        role: Role::Crew,
    }
}

/// An order placed at `created`, having passed through every status up to
/// `status` one minute apart.
pub fn order(id: u64, status: OrderStatus, created: Millis, lines: &[(&str, u32, &str)]) -> Order {
    let mut history = vec![HistoryEntry {
        status: OrderStatus::Pending,
        at: format_ms(created),
        by: customer(),
        note: None,
    }];
    let path = [
        OrderStatus::Preparing,
        OrderStatus::Ready,
        OrderStatus::Delivered,
    ];
    let mut at = created;
    for s in path {
        if status == OrderStatus::Pending || status == OrderStatus::Cancelled {
            break;
        }
        at += MIN;
        history.push(HistoryEntry {
            status: s,
            at: format_ms(at),
            by: cook(),
            note: None,
        });
        if s == status {
            break;
        }
    }
    let mut o = Order {
        id,
        code: kfood_protocol::order::order_code(id),
        client_order_id: format!("c-{id}"),
        customer: Party {
            id: "kim".into(),
            name: "Kim Minji".into(),
        },
        lines: lines
            .iter()
            .map(|(name, qty, notes)| OrderLine {
                item_id: name.to_lowercase().replace(' ', "-"),
                name: (*name).into(),
                qty: *qty,
                unit_price_cents: 1200,
                notes: (*notes).into(),
                station: "kitchen".into(),
                options: Vec::new(),
                done: None,
            })
            .collect(),
        instructions: String::new(),
        fulfillment: Fulfillment {
            kind: FulfillmentKind::Pickup,
            address: None,
        },
        status,
        subtotal_cents: 1200,
        discount_cents: 0,
        total_cents: 1200,
        promo_code: None,
        payment: Payment {
            method: PaymentMethod::Cash,
            status: PaymentStatus::Due,
            id: None,
            brand: None,
            last4: None,
            amount_cents: None,
        },
        prep_minutes: 12,
        delivery_minutes: 25,
        eta: None,
        scheduled_for: None,
        ready_at: None,
        created_at: format_ms(created),
        updated_at: format_ms(at),
        history,
        modified: false,
    };
    o.eta = o.compute_eta();
    o
}

/// The order after a change at `at` by `by`.
pub fn changed(
    mut o: Order,
    status: OrderStatus,
    at: Millis,
    by: UserRef,
    note: Option<&str>,
) -> Order {
    o.status = status;
    o.updated_at = format_ms(at);
    o.history.push(HistoryEntry {
        status,
        at: format_ms(at),
        by,
        note: note.map(str::to_owned),
    });
    o
}

pub fn menu() -> Vec<MenuItem> {
    let item = |id: &str, name: &str, available: bool| MenuItem {
        id: id.into(),
        name: name.into(),
        category: "Rice & Noodles".into(),
        description: String::new(),
        price_cents: 1350,
        available,
        prep_minutes: 12,
        station: "kitchen".into(),
        options: Vec::new(),
    };
    vec![
        item("bibimbap", "Bibimbap", true),
        item("japchae", "Japchae", true),
        item("bulgogi", "Bulgogi", true),
        item("galbi", "LA Galbi", false),
        item("tteokbokki", "Tteokbokki", true),
    ]
}

/// A message from the relay; durable events carry a `seq`, as live.
pub fn net(kind: &str, data: serde_json::Value) -> AppEvent {
    let mut env = Envelope::new(kind, data);
    if kfood_protocol::Event::is_durable_kind(kind) {
        env.seq = Some(11);
    }
    AppEvent::Net(env)
}

pub fn order_event(kind: &str, o: &Order) -> AppEvent {
    net(
        kind,
        json!({"order_id": o.id, "status": o.status, "order": o}),
    )
}

pub fn snapshot(orders: &[Order]) -> AppEvent {
    net(
        "snapshot",
        json!({"menu": menu(), "orders": orders, "announcements": [], "alerts": [], "head_seq": 10, "reset": false}),
    )
}

/// A live app at `T0 + 5 min` seeded with `orders`.
pub fn app_with(orders: &[Order]) -> App {
    let mut app = App::new(
        Settings {
            relay: "ws://127.0.0.1:8080/ws".into(),
            user_hint: "station-1".into(),
            ..Settings::default()
        },
        T0 + 5 * MIN,
    );
    app.handle(AppEvent::Conn(ConnState::Live { rtt_ms: Some(3) }));
    app.handle(net(
        "authenticated",
        json!({"user": {"id": "station-1", "name": "station-1", "type": "crew"}, "session": "s", "heartbeat_ms": 15000, "head_seq": 10, "log_id": "l"}),
    ));
    app.handle(snapshot(orders));
    app
}

/// The requests the app asked for since the last call, as (id, kind, data).
pub fn sent(app: &mut App) -> Vec<(String, &'static str, serde_json::Value)> {
    app.outbox
        .drain(..)
        .map(|NetCmd::Request { id, request }| (id, request.kind(), request.data()))
        .collect()
}

/// `o` with its lines at these stations, in order.
pub fn at_stations(mut o: Order, stations: &[&str]) -> Order {
    for (l, s) in o.lines.iter_mut().zip(stations) {
        l.station = (*s).to_owned();
    }
    o
}

/// `o` with line `line` marked done at `at` by the cook.
pub fn line_marked(mut o: Order, line: usize, at: Millis) -> Order {
    o.lines[line].done = Some(kfood_protocol::order::LineMark {
        at: format_ms(at),
        by: cook(),
    });
    o.updated_at = format_ms(at);
    o
}

/// A kitchen with stations at `T0 + 5 min`: K-0001 pending (grill Bulgogi,
/// drinks Soju); K-0002 preparing (wok Japchae done, grill LA Galbi, drinks
/// Cider); K-0003 preparing (grill Bulgogi done, cold Kimchi open);
/// K-0004 preparing with every line done; K-0005 ready.
pub fn stations_kitchen(stations: &[&str]) -> App {
    let now = T0 + 5 * MIN;
    let one = at_stations(
        order(
            1,
            Pending,
            now - 3 * MIN,
            &[("Bulgogi", 1, ""), ("Soju", 2, "")],
        ),
        &["grill", "drinks"],
    );
    let two = at_stations(
        order(
            2,
            Preparing,
            now - 8 * MIN,
            &[
                ("Japchae", 1, ""),
                ("LA Galbi", 2, "well done"),
                ("Cider", 1, ""),
            ],
        ),
        &["wok", "grill", "drinks"],
    );
    let two = line_marked(two, 0, now - 2 * MIN);
    let three = at_stations(
        order(
            3,
            Preparing,
            now - 12 * MIN,
            &[("Bulgogi", 1, ""), ("Kimchi", 1, "")],
        ),
        &["grill", "cold"],
    );
    let three = line_marked(three, 0, now - 4 * MIN);
    let four = at_stations(
        order(
            4,
            Preparing,
            now - 9 * MIN,
            &[("Bulgogi", 2, ""), ("Soju", 1, "")],
        ),
        &["grill", "drinks"],
    );
    let four = line_marked(line_marked(four, 0, now - 3 * MIN), 1, now - MIN);
    let five = at_stations(
        order(5, Ready, now - 15 * MIN, &[("Bibimbap", 1, "")]),
        &["wok"],
    );
    let mut app = App::new(
        Settings {
            relay: "ws://127.0.0.1:8080/ws".into(),
            user_hint: "station-1".into(),
            stations: stations.iter().map(|s| (*s).to_owned()).collect(),
            ..Settings::default()
        },
        now,
    );
    app.handle(AppEvent::Conn(ConnState::Live { rtt_ms: Some(3) }));
    app.handle(snapshot(&[one, two, three, four, five]));
    app
}
