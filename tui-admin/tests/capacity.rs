//! The capacity panel (DESIGN §14): `p` on the Dashboard opens it filled
//! with the current setting, it sends one `capacity_set`, the relay's
//! `capacity_update` shows as ORDERING PAUSED; and the orders filter's
//! `scheduled` step. Screens at 80×24 with a fixed clock.

mod common;

use common::*;
use kfood_admin::app::{Action, App, AppEvent, NetCmd, Overlay, Screen, StatusFilter};
use kfood_admin::form::Edit;
use kfood_protocol::Envelope;
use serde_json::json;

fn sent(app: &mut App) -> Vec<(String, String, serde_json::Value)> {
    std::mem::take(&mut app.outbox)
        .into_iter()
        .filter_map(|c| match c {
            NetCmd::Request { id, request } => {
                Some((id, request.kind().to_owned(), request.data()))
            }
            NetCmd::Report { .. } => None,
        })
        .collect()
}

fn type_in(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(Action::Input(Edit::Char(c)));
    }
}

fn clear(app: &mut App) {
    app.update(Action::Input(Edit::Clear));
}

/// The relay's `capacity_update`, with a seq after the snapshot's.
fn capacity_update(app: &mut App, data: serde_json::Value) {
    let mut env = Envelope::new("capacity_update", data);
    env.seq = Some(5000);
    app.handle(AppEvent::Net(env));
}

/// The panel shows the setting; a pause for 30 minutes with 4 orders per
/// slot and 10 extra minutes is one `capacity_set`; the update it brings
/// marks the status bar.
#[test]
fn capacity_panel_pauses_and_limits() {
    let mut app = busy_app();
    app.update(Action::Capacity);
    assert!(matches!(app.overlay, Overlay::Form(_)));
    let screen = text(&draw(&app, 80, 24));
    assert!(
        screen.contains("Now: taking orders · no slot limit · +0 min"),
        "{screen}"
    );
    // Paused: yes; for 30m; 4 per slot; 10 extra minutes.
    app.update(Action::Input(Edit::Right));
    app.update(Action::NextField);
    type_in(&mut app, "30m");
    app.update(Action::NextField);
    clear(&mut app);
    type_in(&mut app, "4");
    app.update(Action::NextField);
    clear(&mut app);
    type_in(&mut app, "10");
    insta::assert_snapshot!("capacity_panel_80x24", draw(&app, 80, 24).backend());
    app.update(Action::Submit);
    let reqs = sent(&mut app);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].1, "capacity_set");
    assert_eq!(
        reqs[0].2,
        json!({"paused": true, "paused_until": at(-30), "orders_per_slot": 4, "extra_minutes": 10})
    );
    app.handle(AppEvent::Reply {
        id: reqs[0].0.clone(),
        result: Ok(json!({"ref": reqs[0].0})),
    });
    assert!(
        matches!(app.overlay, Overlay::None),
        "closed once the relay took it"
    );
    assert_eq!(
        app.flash.as_ref().map(|f| f.text.as_str()),
        Some("capacity saved")
    );
    capacity_update(
        &mut app,
        json!({"paused": true, "paused_until": at(-30), "orders_per_slot": 4, "extra_minutes": 10,
               "at": at(0), "by": {"id": "admin", "name": "Demo Admin", "type": "admin"}}),
    );
    let screen = text(&draw(&app, 80, 24));
    assert!(screen.contains("live 3ms │ PAUSED │"), "{screen}");
    // Opened again, it shows the pause and the minutes it has left.
    app.update(Action::Capacity);
    let screen = text(&draw(&app, 80, 24));
    assert!(
        screen.contains("Now: PAUSED until 10:30 · 4 per 15-min slot · +10 min"),
        "{screen}"
    );
    assert!(screen.contains("30m"), "{screen}");
}

/// Out-of-range numbers are said on their field and nothing is sent.
#[test]
fn capacity_panel_checks_ranges() {
    let mut app = busy_app();
    app.update(Action::Capacity);
    app.update(Action::NextField);
    app.update(Action::NextField);
    clear(&mut app);
    type_in(&mut app, "1001");
    app.update(Action::Submit);
    assert!(sent(&mut app).is_empty());
    let Overlay::Form(f) = &app.overlay else {
        panic!("the form stays open")
    };
    assert!(
        f.error.as_deref().unwrap_or("").contains("0 to 1000"),
        "{:?}",
        f.error
    );
}

/// The orders filter steps from open to scheduled, then pending.
#[test]
fn orders_filter_has_scheduled() {
    let open = StatusFilter::Open;
    assert_eq!(open.next().label(), "scheduled");
    assert_eq!(open.next().next().label(), "pending");
    let mut app = busy_app();
    app.update(Action::Go(Screen::Orders));
    app.update(Action::CycleStatus);
    app.update(Action::CycleStatus);
    let screen = text(&draw(&app, 80, 24));
    assert!(screen.contains("scheduled"), "{screen}");
}
