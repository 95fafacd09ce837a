//! Every screen drawn at 80×24 (and the busiest at 120×40) from a fixed
//! restaurant at a fixed time, compared with the accepted snapshots.

mod common;

use common::*;
use kfood_admin::app::{Action, App, AppEvent, NetCmd, Screen};
use kfood_admin::form::Edit;

#[track_caller]
fn snap(name: &str, app: &App, w: u16, h: u16) {
    let t = draw(app, w, h);
    insta::assert_snapshot!(name, t.backend());
}

fn on(screen: Screen) -> App {
    let mut app = busy_app();
    app.update(Action::Go(screen));
    app
}

/// The dashboard: figures, minute bars and two time series.
#[test]
fn dashboard() {
    let app = busy_app();
    snap("dashboard_80x24", &app, 80, 24);
    snap("dashboard_120x40", &app, 120, 40);
}

/// The dashboard with the relays alive listed under the figures: with the
/// embedded store the relay itself; with several, each with its address,
/// sockets and head, the one this program talks to marked.
#[test]
fn dashboard_relays() {
    let relay = |id: &str, url: &str, conns: u64, head: u64| {
        serde_json::json!({"relay_id": id, "url": url, "connections": conns,
            "head_seq": head, "at": "2027-01-15T18:30:00.000Z"})
    };
    let with = |relays: Vec<serde_json::Value>| {
        let mut app = busy_app();
        let mut m = metrics(961, 5.0, 36);
        m["relay_id"] = serde_json::json!("a1b2c3d4");
        m["relays"] = serde_json::json!(relays);
        app.handle(env("metrics", m));
        app
    };
    let one = with(vec![relay("a1b2c3d4", "ws://127.0.0.1:8080", 5, 812)]);
    snap("dashboard_one_relay_80x24", &one, 80, 24);
    let three = with(vec![
        relay("0f9e8d7c", "ws://10.0.0.6:8080", 41, 812),
        relay("a1b2c3d4", "ws://10.0.0.5:8080", 5, 812),
        relay("c3d4e5f6", "wss://relay-3.kfood.example", 38, 811),
    ]);
    snap("dashboard_three_relays_80x24", &three, 80, 24);
}

/// When the client moves to another relay of `--relay`, the status bar names the new one.
#[test]
fn status_bar_names_the_relay_in_use() {
    let mut app = busy_app();
    app.handle(kfood_admin::app::AppEvent::Relay(
        "ws://10.0.0.6:8080/ws".into(),
    ));
    let t = draw(&app, 80, 24);
    let bottom: String = (0..80)
        .map(|x| t.backend().buffer()[(x, 23)].symbol().to_owned())
        .collect();
    assert!(bottom.contains("relay 10.0.0.6:8080"), "{bottom}");
}

/// Every order, its lateness and payment, newest first.
#[test]
fn orders() {
    let app = on(Screen::Orders);
    snap("orders_80x24", &app, 80, 24);
    snap("orders_120x40", &app, 120, 40);
}

#[test]
fn order_detail() {
    let mut app = on(Screen::Orders);
    app.update(Action::Down);
    app.update(Action::Down);
    app.update(Action::Open);
    snap("order_detail_80x24", &app, 80, 24);
}

#[test]
fn cancel_confirmation() {
    let mut app = on(Screen::Orders);
    app.update(Action::Down);
    app.update(Action::Down);
    app.update(Action::CancelOrder);
    snap("cancel_80x24", &app, 80, 24);
}

#[test]
fn alerts() {
    snap("alerts_80x24", &on(Screen::Alerts), 80, 24);
}

#[test]
fn activity() {
    snap("activity_80x24", &on(Screen::Activity), 80, 24);
}

#[test]
fn menu() {
    snap("menu_80x24", &on(Screen::Menu), 80, 24);
}

#[test]
fn menu_edit_form() {
    let mut app = on(Screen::Menu);
    app.update(Action::Edit);
    app.update(Action::Input(Edit::Char('!')));
    snap("menu_edit_80x24", &app, 80, 24);
}

#[test]
fn announcements() {
    let mut app = on(Screen::Announcements);
    snap("announcements_80x24", &app, 80, 24);
    app.update(Action::New);
    snap("announce_form_80x24", &app, 80, 24);
}

#[test]
fn promos() {
    snap("promos_80x24", &on(Screen::Promos), 80, 24);
}

#[test]
fn users() {
    snap("users_80x24", &on(Screen::Users), 80, 24);
}

#[test]
fn help() {
    let mut app = on(Screen::Orders);
    app.update(Action::Help);
    snap("help_orders_80x24", &app, 80, 24);
}

/// Before the relay answers: no figures, no charts, the state in words.
#[test]
fn empty_program() {
    let app = App::new(
        "ws://127.0.0.1:8080/ws",
        kfood_admin::app::Look {
            ascii: false,
            color: false,
        },
        NOW,
        time::UtcOffset::UTC,
    );
    snap("connecting_80x24", &app, 80, 24);
}

/// Below 80×24 the program says the terminal is too small instead of a broken layout.
#[test]
fn small_terminal_says_so() {
    let app = busy_app();
    let s = text(&draw(&app, 80, 16));
    assert!(s.contains("terminal too small (need 80×24"), "{s}");
    assert!(!s.contains("Orders/min"), "{s}");
}

/// `--ascii` draws no box-drawing or block glyphs anywhere.
#[test]
fn ascii_mode_has_no_drawing_glyphs() {
    for screen in Screen::ALL {
        let mut app = busy_app();
        app.look.ascii = true;
        app.update(Action::Go(screen));
        let s = text(&draw(&app, 80, 24));
        for bad in ['─', '│', '┌', '┐', '└', '┘', '█', '▄', '▁', '·', '…'] {
            assert!(!s.contains(bad), "{screen:?} draws {bad:?}:\n{s}");
        }
    }
    let mut app = busy_app();
    app.look.ascii = true;
    snap("dashboard_ascii_80x24", &app, 80, 24);
}

/// Without colour every state still reads as a word.
#[test]
fn states_read_as_text() {
    let app = on(Screen::Orders);
    let s = text(&draw(&app, 80, 24));
    assert!(s.contains("LATE"), "{s}");
    let s = text(&draw(&on(Screen::Menu), 80, 24));
    assert!(s.contains("86"), "{s}");
    let s = text(&draw(&on(Screen::Alerts), 80, 24));
    assert!(s.contains("CRITICAL") && s.contains("OPEN"), "{s}");
    let s = text(&draw(&on(Screen::Users), 80, 24));
    assert!(s.contains("offline") && s.contains("online"), "{s}");
}

/// The menu editor's station field: the item's station, the stations in
/// use beside it, and Ctrl-N stepping to the next one.
#[test]
fn menu_editor_sets_the_station() {
    let mut app = on(Screen::Menu);
    let s = text(&draw(&app, 80, 24));
    assert!(s.contains("Station") && s.contains("grill"), "{s}");
    app.update(Action::Edit);
    while app_focus(&app) != "station" {
        app.update(Action::NextField);
    }
    let s = text(&draw(&app, 80, 24));
    assert!(
        s.contains("Station       wok  Ctrl-N: cold, grill, wok"),
        "{s}"
    );
    app.update(Action::Input(Edit::Next));
    let s = text(&draw(&app, 80, 24));
    assert!(s.contains("Station       cold  Ctrl-N"), "{s}");
    snap("menu_edit_station_80x24", &app, 80, 24);
}

fn app_focus(app: &App) -> &'static str {
    match &app.overlay {
        kfood_admin::app::Overlay::Form(f) => f.fields[f.focus].key,
        other => panic!("no form: {other:?}"),
    }
}

/// The order detail marks each line done (`[x] by Kim 09:41`) or not
/// (`[ ]`) and names its station.
#[test]
fn order_detail_shows_stations_and_marks() {
    let mut app = on(Screen::Orders);
    app.update(Action::Down);
    app.update(Action::Down);
    app.update(Action::Open);
    let s = text(&draw(&app, 80, 24));
    assert!(s.contains("1 of 2 done"), "{s}");
    assert!(
        s.contains("[x]  2 × Bibimbap             wok") && s.contains("by Kim 09:41"),
        "{s}"
    );
    assert!(s.contains("[ ]  1 × Japchae              wok"), "{s}");
}

/// `t` on the orders screen keeps the orders with a line for one station,
/// cycling through the stations in use, and says so in the title.
#[test]
fn orders_filter_by_station() {
    let mut app = on(Screen::Orders);
    app.update(Action::CycleStation);
    assert_eq!(app.station_filter.as_deref(), Some("cold"));
    let s = text(&draw(&app, 80, 24));
    assert!(
        s.contains("Orders · 1 of 5 · status all · station cold"),
        "{s}"
    );
    assert!(s.contains("K-0043") && !s.contains("K-0042"), "{s}");
    snap("orders_station_80x24", &app, 80, 24);
    app.update(Action::CycleStation);
    assert_eq!(app.station_filter.as_deref(), Some("grill"));
    let s = text(&draw(&app, 80, 24));
    assert!(s.contains("No order matches the filters"), "{s}");
    app.update(Action::CycleStation);
    assert_eq!(app.station_filter.as_deref(), Some("wok"));
    assert_eq!(app.visible_orders().len(), 5);
    app.update(Action::CycleStation);
    assert_eq!(app.station_filter, None, "after the last, every station");
}

/// `R` on the Dashboard asks the network task for today's report, says it
/// is waiting, then draws the report over the Dashboard; Esc closes it.
#[test]
fn day_report() {
    let mut app = busy_app();
    app.update(Action::Report);
    assert_eq!(
        std::mem::take(&mut app.outbox),
        [NetCmd::Report { date: None }]
    );
    assert!(text(&draw(&app, 80, 24)).contains("asking the relay"));
    app.handle(AppEvent::Report(Ok(Box::new(common::day_report()))));
    snap("report_80x24", &app, 80, 24);
    app.update(Action::Down);
    app.update(Action::Down);
    snap("report_scrolled_80x24", &app, 80, 24);
    app.update(Action::Close);
    assert!(!text(&draw(&app, 80, 24)).contains("Report 2026-11-22"));
    // A report that arrives after the overlay closed is not drawn.
    app.handle(AppEvent::Report(Err("cannot reach the relay".into())));
    assert!(!text(&draw(&app, 80, 24)).contains("cannot reach"));
}

/// `o` in the menu editor edits the selected item's option groups, one per
/// line; a line the protocol's rule refuses is refused at that line, and a
/// good form sends the item's groups.
#[test]
fn option_groups_editor() {
    let mut app = on(Screen::Menu);
    let mut item = common::menu()[0].clone();
    item["options"] = serde_json::json!([
        {"id": "spice", "name": "Spice level", "min": 0, "max": 1, "choices": [
            {"id": "mild", "name": "Mild", "price_cents": 0},
            {"id": "medium", "name": "Medium", "price_cents": 0},
            {"id": "hot", "name": "Hot", "price_cents": 0}]},
        {"id": "extras", "name": "Extras", "min": 0, "max": 2, "choices": [
            {"id": "egg", "name": "+egg", "price_cents": 150},
            {"id": "cheese", "name": "Cheese", "price_cents": 100}]}
    ]);
    app.handle(env(
        "menu_update",
        serde_json::json!({"op": "upsert", "item": item}),
    ));
    app.update(Action::Options);
    snap("menu_options_80x24", &app, 80, 24);
    app.update(Action::NextField);
    app.update(Action::NextField);
    for c in "side 0-2: kimchi 0".chars() {
        app.update(Action::Input(Edit::Char(c)));
    }
    app.update(Action::Submit);
    assert!(app.outbox.is_empty(), "refused before sending");
    snap("menu_options_refused_80x24", &app, 80, 24);
    app.update(Action::Input(Edit::Clear));
    for c in "side 0-1: kimchi 0".chars() {
        app.update(Action::Input(Edit::Char(c)));
    }
    app.update(Action::Submit);
    let sent = std::mem::take(&mut app.outbox);
    let [NetCmd::Request { request, .. }] = sent.as_slice() else {
        panic!("one request: {sent:?}")
    };
    let data = request.data();
    assert_eq!(data["op"], "upsert");
    assert_eq!(data["item"]["id"], "bibimbap");
    let groups = data["item"]["options"].as_array().unwrap();
    let ids: Vec<_> = groups.iter().map(|g| g["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["spice", "extras", "side"]);
    assert_eq!(groups[1]["choices"][0]["price_cents"], 150);
    assert_eq!(groups[1]["choices"][0]["name"], "+egg");
}
