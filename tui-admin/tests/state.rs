//! The program's state as the relay's messages and the admin's actions change it.

mod common;

use common::*;
use kfood_admin::app::{
    Action, AppEvent, FormKind, Mode, NetCmd, Overlay, RequestError, Screen, StatusFilter,
};
use kfood_admin::form::Edit;
use kfood_protocol::client::ConnState;
use kfood_protocol::term::status::conn_text;
use kfood_protocol::OrderStatus;
use serde_json::{json, Value};

/// The requests waiting in the outbox, as (kind, data), emptying it.
fn sent(app: &mut kfood_admin::app::App) -> Vec<(String, String, Value)> {
    std::mem::take(&mut app.outbox)
        .into_iter()
        .filter_map(|cmd| match cmd {
            NetCmd::Request { id, request } => {
                Some((id, request.kind().to_owned(), request.data()))
            }
            NetCmd::Report { .. } => None,
        })
        .collect()
}

fn type_text(app: &mut kfood_admin::app::App, s: &str) {
    for c in s.chars() {
        app.update(Action::Input(Edit::Char(c)));
    }
}

fn clear_field(app: &mut kfood_admin::app::App) {
    app.update(Action::Input(Edit::Clear));
}

fn ok(app: &mut kfood_admin::app::App, id: &str, data: Value) {
    app.handle(AppEvent::Reply {
        id: id.into(),
        result: Ok(data),
    });
}

fn refuse(app: &mut kfood_admin::app::App, id: &str, code: &str, field: Option<&str>) {
    app.handle(AppEvent::Reply {
        id: id.into(),
        result: Err(RequestError {
            code: code.into(),
            message: "no".into(),
            field: field.map(str::to_owned),
        }),
    });
}

/// The snapshot fills every list; events after it change them.
#[test]
fn snapshot_and_events() {
    let mut app = busy_app();
    assert_eq!(app.model.menu.len(), 4);
    assert_eq!(app.model.orders.len(), 5);
    assert_eq!(app.open_alert_counts(), (1, 1, 0));
    assert_eq!(app.model.promos.len(), 2);
    assert_eq!(
        app.active_announcements().len(),
        1,
        "the expired one is hidden"
    );

    app.handle(env(
        "order_created",
        json!({"order_id": 45, "status": "pending", "order": order(45, "pending", "jung", 0)}),
    ));
    assert_eq!(app.model.orders[&45].status, OrderStatus::Pending);
    app.handle(env(
        "order_update",
        json!({"order_id": 45, "status": "preparing", "order": order(45, "preparing", "jung", 0)}),
    ));
    assert_eq!(app.model.orders[&45].status, OrderStatus::Preparing);

    // A new item joins the end of its category; a removal drops it.
    app.handle(env("menu_update", json!({"op": "upsert", "item": {"id": "galbi", "name": "LA Galbi", "category": "Grill", "description": "Short ribs", "price_cents": 2400, "available": true, "prep_minutes": 18}})));
    let ids: Vec<&str> = app.model.menu.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["bibimbap", "japchae", "bulgogi", "galbi", "kimchi"]);
    app.handle(env("menu_update", json!({"op": "set_available", "item": {"id": "bulgogi", "name": "Bulgogi", "category": "Grill", "description": "Grilled beef", "price_cents": 1800, "available": true, "prep_minutes": 15}})));
    assert!(app.model.menu[2].available);
    app.handle(env(
        "menu_update",
        json!({"op": "remove", "item": {"id": "galbi"}}),
    ));
    assert_eq!(app.model.menu.len(), 4);

    app.handle(env(
        "system_alert",
        alert(4, "critical", "no_crew", "resolved", true),
    ));
    assert_eq!(app.open_alert_counts(), (0, 1, 0));
    app.handle(env(
        "promo_update",
        json!({"code": "SUMMER", "percent_off": 15, "active": true, "expires_at": null}),
    ));
    assert!(app.model.promos.contains_key("SUMMER"));
    app.handle(env("payment_failed", json!({"client_order_id": "x", "code": "payment_declined", "message": "declined", "payment": {"method": "card", "brand": "visa", "last4": "0002", "amount_cents": 1350}})));
    assert_eq!(app.payment_failures.len(), 1);

    // A snapshot with reset replaces orders but keeps resolved alerts listed.
    let mut snap = snapshot();
    snap["orders"] = json!([order(50, "pending", "new", 1)]);
    snap["alerts"] = json!([]);
    app.handle(env("snapshot", snap));
    assert_eq!(app.model.orders.keys().copied().collect::<Vec<_>>(), [50]);
    assert_eq!(app.open_alert_counts(), (0, 0, 0));
    assert_eq!(
        app.model.alerts.len(),
        1,
        "the resolved alert stays in the list"
    );
}

/// Metrics feed the dashboard's figures and the rolling chart buffer.
#[test]
fn metrics_feed_the_charts() {
    let app = busy_app();
    let m = app.charts.latest.as_ref().unwrap();
    assert_eq!(m.uptime_s, 960);
    assert_eq!(m.orders_today, 35);
    let per_minute = app.charts.orders_per_minute(15);
    assert_eq!(per_minute.len(), 15);
    assert!(per_minute.iter().all(Option::is_some), "{per_minute:?}");
}

/// Tab and the numbers switch screens; Shift-Tab goes back.
#[test]
fn screens_cycle() {
    let mut app = busy_app();
    assert_eq!(app.screen, Screen::Dashboard);
    for expected in [
        Screen::Orders,
        Screen::Alerts,
        Screen::Activity,
        Screen::Menu,
        Screen::Announcements,
        Screen::Promos,
        Screen::Users,
        Screen::Dashboard,
    ] {
        app.update(Action::NextScreen);
        assert_eq!(app.screen, expected);
    }
    app.update(Action::PrevScreen);
    assert_eq!(app.screen, Screen::Users);
    app.update(Action::Go(Screen::Menu));
    assert_eq!(app.mode(), Mode::Browse(Screen::Menu));
    app.update(Action::Help);
    assert_eq!(app.mode(), Mode::Help);
    app.update(Action::Close);
    app.update(Action::Quit);
    assert!(app.quit);
}

/// Orders filter by status and text, sort by age, and open a detail.
#[test]
fn orders_filter_sort_detail() {
    let mut app = busy_app();
    app.update(Action::Go(Screen::Orders));
    let ids = |app: &kfood_admin::app::App| -> Vec<u64> {
        app.visible_orders().iter().map(|o| o.id).collect()
    };
    assert_eq!(ids(&app), [44, 43, 42, 41, 40], "newest first");
    app.update(Action::ToggleSort);
    assert_eq!(ids(&app), [40, 41, 42, 43, 44]);
    app.update(Action::CycleStatus);
    assert_eq!(app.status_filter, StatusFilter::Open);
    assert_eq!(ids(&app), [42, 43, 44]);
    app.update(Action::CycleStatus);
    assert_eq!(app.status_filter, StatusFilter::Is(OrderStatus::Scheduled));
    assert!(ids(&app).is_empty(), "none scheduled");
    app.update(Action::CycleStatus);
    assert_eq!(ids(&app), [43], "pending only");
    for _ in 0..5 {
        app.update(Action::CycleStatus);
    }
    assert_eq!(app.status_filter, StatusFilter::All);
    app.update(Action::Filter);
    assert_eq!(app.mode(), Mode::Typing);
    type_text(&mut app, "kim");
    assert_eq!(ids(&app), [42, 44], "filters while typing");
    app.update(Action::Submit);
    assert_eq!(app.order_filter, "kim");
    app.update(Action::Filter);
    app.update(Action::Close);
    assert_eq!(app.order_filter, "", "Esc clears the filter");
    app.update(Action::Filter);
    type_text(&mut app, "K-0043");
    app.update(Action::Submit);
    assert_eq!(ids(&app), [43]);
    app.update(Action::Filter);
    app.update(Action::Close);

    app.update(Action::Down);
    app.update(Action::Down);
    assert_eq!(app.selected_order().unwrap().id, 42);
    app.update(Action::Open);
    assert!(matches!(app.overlay, Overlay::Detail { order_id: 42, .. }));
    // The selection follows the order, not the row, when another arrives.
    app.update(Action::Close);
    app.handle(env(
        "order_created",
        json!({"order_id": 45, "status": "pending", "order": order(45, "pending", "jung", 0)}),
    ));
    assert_eq!(app.selected_order().unwrap().id, 42);
}

/// Cancelling asks first, sends `order_cancel`, and takes the answer.
#[test]
fn cancel_order_with_confirmation() {
    let mut app = busy_app();
    app.update(Action::Go(Screen::Orders));
    app.update(Action::Down);
    app.update(Action::Down);
    app.update(Action::CancelOrder);
    let Overlay::Form(form) = &app.overlay else {
        panic!("expected the confirmation form, got {:?}", app.overlay)
    };
    assert_eq!(form.kind, FormKind::CancelOrder(42));
    assert!(
        form.intro.iter().any(|l| l.contains("refunded")),
        "{:?}",
        form.intro
    );
    assert!(
        app.outbox.is_empty(),
        "nothing is sent before the confirmation"
    );
    app.update(Action::Submit);
    let reqs = sent(&mut app);
    assert_eq!(reqs.len(), 1);
    let (id, kind, data) = &reqs[0];
    assert_eq!(kind, "order_cancel");
    assert_eq!(data["order_id"], 42);
    assert_eq!(data["reason"], "cancelled by admin");
    let mut cancelled = order(42, "cancelled", "kim", 20);
    cancelled["status"] = json!("cancelled");
    ok(&mut app, id, json!({"order": cancelled}));
    assert_eq!(app.overlay, Overlay::None);
    assert_eq!(app.model.orders[&42].status, OrderStatus::Cancelled);
    assert!(app
        .flash
        .as_ref()
        .unwrap()
        .text
        .contains("K-0042 is cancelled"));

    // A delivered order cannot be cancelled: no form, a message.
    app.update(Action::Bottom);
    assert_eq!(app.selected_order().unwrap().id, 40);
    app.update(Action::CancelOrder);
    assert_eq!(app.overlay, Overlay::None);
    assert!(app.flash.as_ref().unwrap().error);
}

/// Alerts are acknowledged with `alert_ack`; the answer resolves them.
#[test]
fn acknowledge_alert() {
    let mut app = busy_app();
    app.update(Action::Go(Screen::Alerts));
    assert_eq!(app.selected_alert().unwrap().id, 4, "newest first");
    app.update(Action::Ack);
    let reqs = sent(&mut app);
    assert_eq!(reqs[0].1, "alert_ack");
    assert_eq!(reqs[0].2, json!({"alert_id": 4}));
    ok(
        &mut app,
        &reqs[0].0,
        json!({"alert": alert(4, "critical", "no_crew", "x", true)}),
    );
    assert_eq!(app.open_alert_counts(), (0, 1, 0));
    app.update(Action::Ack);
    assert!(
        app.outbox.is_empty(),
        "a resolved alert is not acknowledged twice"
    );
}

/// The menu editor: add, edit, 86, remove, with local and relay refusals.
#[test]
fn menu_editor() {
    let mut app = busy_app();
    app.update(Action::Go(Screen::Menu));
    app.update(Action::New);
    let Overlay::Form(f) = &app.overlay else {
        panic!()
    };
    assert_eq!(
        f.get("category"),
        "Rice & Noodles",
        "new items start in the selected category"
    );
    type_text(&mut app, "tteokbokki");
    app.update(Action::NextField);
    type_text(&mut app, "Tteokbokki");
    app.update(Action::NextField);
    clear_field(&mut app);
    type_text(&mut app, "Street food");
    app.update(Action::NextField);
    type_text(&mut app, "Rice cakes in gochujang");
    app.update(Action::NextField);
    type_text(&mut app, "9.5x");
    app.update(Action::Submit);
    let Overlay::Form(f) = &app.overlay else {
        panic!()
    };
    assert!(
        f.error.as_deref().unwrap().contains("price"),
        "{:?}",
        f.error
    );
    assert_eq!(f.fields[f.focus].key, "price");
    assert!(app.outbox.is_empty());
    app.update(Action::Input(Edit::Backspace));
    app.update(Action::NextField);
    type_text(&mut app, "9");
    app.update(Action::Submit);
    let reqs = sent(&mut app);
    assert_eq!(reqs[0].1, "menu_update");
    assert_eq!(
        reqs[0].2,
        json!({"op": "upsert", "item": {"id": "tteokbokki", "name": "Tteokbokki", "category": "Street food",
            "description": "Rice cakes in gochujang", "price_cents": 950, "prep_minutes": 9, "available": true, "station": "wok"}})
    );
    // The relay refuses: the form stays, at the field it names.
    refuse(&mut app, &reqs[0].0, "invalid", Some("item.prep_minutes"));
    let Overlay::Form(f) = &app.overlay else {
        panic!()
    };
    assert_eq!(f.fields[f.focus].key, "prep");
    assert!(f.sending.is_none());
    app.update(Action::Submit);
    let reqs = sent(&mut app);
    let item = reqs[0].2["item"].clone();
    ok(&mut app, &reqs[0].0, json!({"item": item}));
    assert_eq!(app.overlay, Overlay::None);
    assert!(app.model.menu.iter().any(|m| m.id == "tteokbokki"));

    // Edit the price of the first item.
    app.update(Action::Top);
    app.update(Action::Edit);
    let Overlay::Form(f) = &app.overlay else {
        panic!()
    };
    assert_eq!(f.kind, FormKind::EditItem("bibimbap".into()));
    assert_eq!(f.get("price"), "13.50");
    for _ in 0..3 {
        app.update(Action::NextField);
    }
    clear_field(&mut app);
    type_text(&mut app, "14");
    app.update(Action::Submit);
    let reqs = sent(&mut app);
    assert_eq!(reqs[0].2["item"]["price_cents"], 1400);
    assert_eq!(reqs[0].2["item"]["id"], "bibimbap");
    app.update(Action::Close);

    // Space 86es the selected item; d asks before removing.
    app.update(Action::Toggle);
    let reqs = sent(&mut app);
    assert_eq!(
        reqs[0].2,
        json!({"op": "set_available", "item": {"id": "bibimbap", "available": false}})
    );
    app.update(Action::Remove);
    assert_eq!(app.mode(), Mode::Confirm);
    assert!(app.outbox.is_empty());
    app.update(Action::Submit);
    let reqs = sent(&mut app);
    assert_eq!(
        reqs[0].2,
        json!({"op": "remove", "item": {"id": "bibimbap"}})
    );
    ok(&mut app, &reqs[0].0, json!({"item": {"id": "bibimbap"}}));
    assert!(!app.model.menu.iter().any(|m| m.id == "bibimbap"));
    assert_eq!(app.overlay, Overlay::None);
}

/// An announcement to crew with an expiry; the ack lists it.
#[test]
fn announcements() {
    let mut app = busy_app();
    app.update(Action::Go(Screen::Announcements));
    app.update(Action::New);
    app.update(Action::Input(Edit::Right));
    app.update(Action::Input(Edit::Right));
    app.update(Action::NextField);
    app.update(Action::Input(Edit::Char('m')));
    app.update(Action::NextField);
    app.update(Action::Submit);
    let Overlay::Form(f) = &app.overlay else {
        panic!()
    };
    assert!(f.error.is_some(), "empty text is refused before sending");
    type_text(&mut app, "Fryer down, no tempura tonight");
    app.update(Action::NextField);
    type_text(&mut app, "2h");
    app.update(Action::Submit);
    let reqs = sent(&mut app);
    assert_eq!(reqs[0].1, "announce");
    assert_eq!(
        reqs[0].2,
        json!({"audience": "crew", "kind": "maintenance", "text": "Fryer down, no tempura tonight",
            "expires_at": kfood_protocol::time::format_ms(NOW + 7_200_000)})
    );
    ok(
        &mut app,
        &reqs[0].0,
        json!({"announcement": {"id": 9, "audience": "crew", "kind": "maintenance",
        "text": "Fryer down, no tempura tonight", "expires_at": kfood_protocol::time::format_ms(NOW + 7_200_000),
        "created_at": at(0), "by": {"id": "admin", "name": "Demo Admin"}}}),
    );
    assert_eq!(app.active_announcements()[0].id, 9);
    assert_eq!(
        app.flash.as_ref().unwrap().text,
        "announcement #9 sent to crew"
    );
}

/// Promo codes: create with a percentage, deactivate with one key.
#[test]
fn promos() {
    let mut app = busy_app();
    app.update(Action::Go(Screen::Promos));
    app.update(Action::New);
    type_text(&mut app, "spring15");
    app.update(Action::NextField);
    type_text(&mut app, "15%");
    app.update(Action::Submit);
    let reqs = sent(&mut app);
    assert_eq!(
        reqs[0].2,
        json!({"code": "SPRING15", "active": true, "percent_off": 15})
    );
    app.update(Action::Close);
    // FIVEOFF sorts first; toggle it.
    app.update(Action::Toggle);
    let reqs = sent(&mut app);
    assert_eq!(reqs[0].1, "promo_upsert");
    assert_eq!(reqs[0].2["code"], "FIVEOFF");
    assert_eq!(reqs[0].2["active"], true);
    app.update(Action::Down);
    app.update(Action::Toggle);
    let reqs = sent(&mut app);
    assert_eq!(reqs[0].2, json!({"code": "WELCOME10", "active": false}));
    ok(
        &mut app,
        &reqs[0].0,
        json!({"promo": {"code": "WELCOME10", "percent_off": 10, "active": false, "expires_at": null}}),
    );
    assert!(!app.model.promos["WELCOME10"].active);
}

/// Users: listed on connect, created, their sessions revoked after a confirmation.
#[test]
fn users_and_sessions() {
    let mut app = busy_app();
    app.handle(AppEvent::Conn(ConnState::Reconnecting {
        attempt: 1,
        next_try_in_ms: 500,
    }));
    app.handle(AppEvent::Conn(ConnState::Live { rtt_ms: None }));
    let reqs = sent(&mut app);
    let kinds: Vec<&str> = reqs.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        kinds,
        ["user_list", "activity_query"],
        "asked again on every connect"
    );
    ok(&mut app, &reqs[0].0, users());
    ok(&mut app, &reqs[1].0, json!({"activity": []}));
    assert_eq!(app.users.len(), 3);
    app.update(Action::Go(Screen::Users));
    app.update(Action::Down);
    app.update(Action::Revoke);
    assert_eq!(app.mode(), Mode::Confirm);
    app.update(Action::Submit);
    let reqs = sent(&mut app);
    let revoke = reqs.iter().find(|r| r.1 == "session_revoke").unwrap();
    assert_eq!(revoke.2, json!({"user_id": "crew"}));
    ok(&mut app, &revoke.0.clone(), json!({}));
    assert_eq!(app.flash.as_ref().unwrap().text, "sessions of crew revoked");
    assert!(
        sent(&mut app).iter().any(|r| r.1 == "user_list"),
        "the list is reloaded"
    );

    app.update(Action::New);
    type_text(&mut app, "station-2");
    app.update(Action::NextField);
    type_text(&mut app, "Station Two");
    app.update(Action::NextField);
    type_text(&mut app, "short");
    app.update(Action::Submit);
    let Overlay::Form(f) = &app.overlay else {
        panic!()
    };
    assert_eq!(
        f.fields[f.focus].key, "password",
        "too short a password is caught here"
    );
    type_text(&mut app, "-enough");
    app.update(Action::Submit);
    let reqs = sent(&mut app);
    assert_eq!(
        reqs[0].2,
        json!({"username": "station-2", "password": "short-enough", "name": "Station Two", "role": "crew"})
    );
}

/// People coming and going refresh the Users screen, at most every two seconds.
#[test]
fn users_follow_connections() {
    let t = NOW + 10_000;
    let mut app = busy_app();
    app.tick(t);
    app.update(Action::Go(Screen::Users));
    let first = sent(&mut app);
    assert_eq!(first[0].1, "user_list");
    ok(&mut app, &first[0].0, users());
    app.tick(t + 500);
    app.handle(env(
        "activity",
        activity(120, "lee", "customer", "connect", "connected"),
    ));
    assert!(sent(&mut app).is_empty(), "asked a moment ago");
    app.tick(t + 1_000);
    assert!(sent(&mut app).is_empty());
    app.tick(t + 2_500);
    let later = sent(&mut app);
    assert_eq!(later.len(), 1, "the missed change is fetched once");
    assert_eq!(later[0].1, "user_list");
    ok(&mut app, &later[0].0, users());
    app.tick(t + 6_000);
    assert!(sent(&mut app).is_empty(), "nothing new, nothing asked");
}

/// The activity log streams newest first, keeps the row being read, and
/// fetches older pages at its end.
#[test]
fn activity_log() {
    let mut app = busy_app();
    app.update(Action::Go(Screen::Activity));
    let ids = |app: &kfood_admin::app::App| -> Vec<u64> {
        app.visible_activity().iter().map(|a| a.id).collect()
    };
    assert_eq!(ids(&app), [95, 94, 93, 92, 91, 90]);
    app.update(Action::Down);
    app.update(Action::Down);
    assert_eq!(app.visible_activity()[app.activity_sel].id, 93);
    app.handle(env(
        "activity",
        activity(96, "lee", "customer", "login", "logged in"),
    ));
    app.handle(env(
        "activity",
        activity(96, "lee", "customer", "login", "logged in"),
    ));
    assert_eq!(ids(&app)[..2], [96, 95], "deduplicated");
    assert_eq!(
        app.visible_activity()[app.activity_sel].id,
        93,
        "the row stays put"
    );

    app.update(Action::CycleKind);
    assert_eq!(ids(&app), [96, 90], "logins");
    app.update(Action::CycleKind);
    app.update(Action::CycleKind);
    app.update(Action::CycleKind);
    assert_eq!(ids(&app), [95, 92], "orders");
    for _ in 0..4 {
        app.update(Action::CycleKind);
    }
    assert_eq!(app.activity_kind, None);
    app.update(Action::Filter);
    type_text(&mut app, "crew");
    app.update(Action::Submit);
    assert_eq!(ids(&app), [93, 91]);
    app.update(Action::Filter);
    app.update(Action::Close);

    app.outbox.clear();
    app.update(Action::Bottom);
    let reqs = sent(&mut app);
    assert_eq!(reqs[0].1, "activity_query");
    assert_eq!(reqs[0].2, json!({"limit": 100, "before": 90}));
    let older: Vec<Value> = (80..90)
        .rev()
        .map(|i| activity(i, "kim", "customer", "connect", "connected"))
        .collect();
    ok(&mut app, &reqs[0].0, json!({"activity": older}));
    assert_eq!(app.activity.len(), 17);
    assert!(app.activity_done, "a short page is the last");
    assert_eq!(app.activity.back().unwrap().id, 80);
}

/// The connection state drives the status bar and what is asked on connect.
#[test]
fn connection_states() {
    let mut app = busy_app();
    app.handle(AppEvent::Conn(ConnState::Offline));
    assert_eq!(conn_text(&app.conn), "offline");
    assert!(app.flash.as_ref().unwrap().error);
    app.handle(AppEvent::Conn(ConnState::Reconnecting {
        attempt: 3,
        next_try_in_ms: 1500,
    }));
    assert_eq!(conn_text(&app.conn), "reconnecting (3, 2s)");
    app.handle(AppEvent::Conn(ConnState::AuthExpired));
    assert_eq!(conn_text(&app.conn), "login needed");
    // An error meant for no request is shown, not dropped.
    app.handle(env(
        "error",
        json!({"code": "token_expired", "message": "expired"}),
    ));
    assert!(app.flash.as_ref().unwrap().text.contains("token_expired"));
}

/// Text from the network never carries control characters to the screen.
#[test]
fn network_text_is_cleaned_before_drawing() {
    let mut app = busy_app();
    app.handle(env(
        "system_alert",
        alert(9, "warning", "order_late", "evil \u{1b}[2J text", false),
    ));
    app.update(Action::Go(Screen::Alerts));
    let t = draw(&app, 100, 24);
    let screen = text(&t);
    assert!(!screen.contains('\u{1b}'));
    assert!(screen.contains("evil [2J text"));
}

/// Resuming from the cache: its whole model (alerts and promos included) is
/// drawn at once, and the events replayed after it (a resolved alert, a
/// changed promo) bring it up to date without a snapshot.
#[test]
fn resume_from_the_cache_replays_alerts_and_promos() {
    let cached = busy_app().model;
    let mut app = kfood_admin::app::App::new(
        "ws://127.0.0.1:8080/ws",
        kfood_admin::app::Look {
            ascii: false,
            color: true,
        },
        NOW,
        time::UtcOffset::UTC,
    );
    app.handle(AppEvent::Cached(Box::new(cached)));
    assert_eq!(app.open_alert_counts(), (1, 1, 0));
    assert_eq!(app.model.promos.len(), 2);
    assert_eq!(app.model.head_seq, 120);

    let replayed = |kind: &str, seq: u64, data: Value| {
        let mut e = kfood_protocol::Envelope::new(kind, data);
        e.seq = Some(seq);
        AppEvent::Net(e)
    };
    app.handle(replayed(
        "system_alert",
        121,
        alert(4, "critical", "no_crew", "resolved", true),
    ));
    app.handle(replayed(
        "promo_update",
        122,
        json!({"code": "FIVEOFF", "amount_off_cents": 500, "active": true, "expires_at": null}),
    ));
    assert_eq!(app.open_alert_counts(), (0, 1, 0));
    assert!(app.model.promos["FIVEOFF"].active);
    assert_eq!(app.model.head_seq, 122);
}

/// The menu editor checks a station locally (`[a-z0-9_-]{1,24}`), names the
/// field, and sends a good one as the upsert's `item.station`.
#[test]
fn menu_editor_sends_the_station() {
    let mut app = busy_app();
    app.update(Action::Go(Screen::Menu));
    app.update(Action::Edit);
    let focus = |app: &kfood_admin::app::App| match &app.overlay {
        Overlay::Form(f) => f.fields[f.focus].key,
        _ => panic!("no form"),
    };
    while focus(&app) != "station" {
        app.update(Action::NextField);
    }
    clear_field(&mut app);
    type_text(&mut app, "Grill!");
    app.update(Action::Submit);
    let Overlay::Form(f) = &app.overlay else {
        panic!()
    };
    assert!(f.error.as_deref().unwrap().contains("a-z"), "{:?}", f.error);
    assert_eq!(f.fields[f.focus].key, "station");
    assert!(app.outbox.is_empty(), "nothing is sent");

    clear_field(&mut app);
    type_text(&mut app, "grill");
    app.update(Action::Submit);
    let reqs = sent(&mut app);
    assert_eq!(reqs[0].1, "menu_update");
    assert_eq!(reqs[0].2["op"], "upsert");
    assert_eq!(reqs[0].2["item"]["id"], "bibimbap");
    assert_eq!(reqs[0].2["item"]["station"], "grill");

    // A new item starts at the station of the selected row.
    app.update(Action::Close);
    app.update(Action::Down);
    app.update(Action::Down);
    app.update(Action::New);
    let Overlay::Form(f) = &app.overlay else {
        panic!()
    };
    assert_eq!(f.get("station"), "grill");
    assert_eq!(f.get("category"), "Grill");
}

/// The station filter follows the stations in use, including one that only
/// a new menu item brings.
#[test]
fn station_filter_follows_the_stations_in_use() {
    let mut app = busy_app();
    assert_eq!(app.stations_in_use(), ["cold", "grill", "wok"]);
    app.handle(env(
        "menu_update",
        json!({"op": "upsert", "item": {"id": "soju", "name": "Soju",
        "category": "Drinks", "description": "", "price_cents": 900, "available": true,
        "prep_minutes": 1, "station": "drinks"}}),
    ));
    assert_eq!(app.stations_in_use(), ["cold", "drinks", "grill", "wok"]);
    app.update(Action::CycleStation);
    assert_eq!(app.station_filter, None, "only on the orders screen");
    app.update(Action::Go(Screen::Orders));
    app.update(Action::CycleStation);
    app.update(Action::CycleStation);
    assert_eq!(app.station_filter.as_deref(), Some("drinks"));
    assert!(app.visible_orders().is_empty());
    assert!(app.selected_order().is_none());
}
