//! `Model::apply` per event kind, snapshots per viewer.

use super::*;
use crate::event::{MenuChange, MenuChangeItem};
use crate::messages::{self as m, AlertKind, AnnouncementKind, Audience, Severity};
use crate::order::tests_support::order;
use crate::order::{OrderStatus, PaymentStatus};
use crate::Party;

const NOW: Millis = 1_800_000_000_000;

fn item(id: &str, cat: &str) -> MenuItem {
    MenuItem {
        id: id.into(),
        name: id.into(),
        category: cat.into(),
        description: String::new(),
        price_cents: 1000,
        available: true,
        prep_minutes: 10,
        station: "kitchen".into(),
        options: Vec::new(),
    }
}

fn upsert(i: MenuItem) -> Event {
    Event::MenuUpdate(MenuChange {
        op: MenuOp::Upsert,
        item: MenuChangeItem::Item(i),
    })
}

fn ids(model: &Model) -> Vec<&str> {
    model.menu.iter().map(|i| i.id.as_str()).collect()
}

/// A new item goes after the last of its category, not at the end.
#[test]
fn menu_updates_keep_display_order() {
    let mut model = Model::default();
    for (id, cat) in [("a1", "A"), ("b1", "B"), ("a2", "A")] {
        model.apply(&upsert(item(id, cat)));
    }
    assert_eq!(ids(&model), ["a1", "a2", "b1"]);
    let mut off = item("a1", "A");
    off.available = false;
    model.apply(&Event::MenuUpdate(MenuChange {
        op: MenuOp::SetAvailable,
        item: MenuChangeItem::Item(off),
    }));
    assert_eq!(ids(&model), ["a1", "a2", "b1"]);
    assert!(!model.menu[0].available);
    model.apply(&upsert(item("a1", "B")));
    assert_eq!(ids(&model), ["a2", "b1", "a1"]);
    model.apply(&Event::MenuUpdate(MenuChange {
        op: MenuOp::Remove,
        item: MenuChangeItem::Removed { id: "b1".into() },
    }));
    assert_eq!(ids(&model), ["a2", "a1"]);
}

fn order_event(o: &Order) -> m::OrderEvent {
    m::OrderEvent {
        order_id: o.id,
        status: o.status,
        order: o.clone(),
    }
}

/// Order events replace the order; a refund updates its payment.
#[test]
fn orders_and_payments() {
    let mut model = Model::default();
    let mut o = order(1, "ann");
    model.apply(&Event::OrderCreated(order_event(&o)));
    o.status = OrderStatus::Cancelled;
    model.apply(&Event::OrderCancelled(order_event(&o)));
    assert_eq!(model.orders[&1].status, OrderStatus::Cancelled);
    model.apply(&Event::PaymentRefunded(m::PaymentEvent {
        order_id: 1,
        client_order_id: o.client_order_id.clone(),
        payment: m::PaymentInfo {
            method: o.payment.method,
            status: PaymentStatus::Refunded,
            id: "ch_1".into(),
            brand: "visa".into(),
            last4: "4242".into(),
            amount_cents: 1350,
        },
    }));
    assert_eq!(model.orders[&1].payment.status, PaymentStatus::Refunded);
    assert_eq!(model.orders[&1].payment.last4.as_deref(), Some("4242"));
}

/// Events at or below the head are skipped, so an overlapping replay is harmless.
#[test]
fn apply_at_skips_what_is_known() {
    let mut model = Model::default();
    assert!(model.apply_at(3, &upsert(item("a", "A"))));
    assert!(!model.apply_at(3, &upsert(item("b", "A"))));
    assert_eq!(ids(&model), ["a"]);
    assert_eq!(model.head_seq, 3);
}

fn announcement(id: u64, audience: Audience, expires: Option<Millis>) -> Announcement {
    Announcement {
        id,
        audience,
        kind: AnnouncementKind::Announcement,
        text: format!("a{id}"),
        expires_at: expires.map(crate::time::format_ms),
        created_at: crate::time::format_ms(NOW),
        by: Party {
            id: "boss".into(),
            name: "Boss".into(),
        },
    }
}

fn alert(id: u64, kind: AlertKind, resolved: bool) -> SystemAlert {
    SystemAlert {
        id,
        kind,
        severity: Severity::Warning,
        text: String::new(),
        order_id: None,
        at: crate::time::format_ms(NOW),
        resolved,
        resolved_by: None,
    }
}

fn full_model() -> Model {
    let mut model = Model::default();
    for (i, who) in [(1, "ann"), (2, "bob")] {
        model.apply(&Event::OrderCreated(order_event(&order(i, who))));
    }
    model.apply(&Event::Announcement(announcement(1, Audience::Crew, None)));
    model.apply(&Event::Announcement(announcement(
        2,
        Audience::All,
        Some(NOW - 1),
    )));
    model.apply(&Event::Announcement(announcement(
        3,
        Audience::Customer,
        None,
    )));
    model.apply(&Event::SystemAlert(alert(1, AlertKind::NoCrew, false)));
    model.apply(&Event::SystemAlert(alert(
        2,
        AlertKind::PaymentFailures,
        false,
    )));
    model.apply(&Event::SystemAlert(alert(3, AlertKind::OrderLate, true)));
    model.head_seq = 40;
    model
}

/// Each role's snapshot holds what DESIGN §4 says and nothing more.
#[test]
fn snapshots_per_viewer() {
    let model = full_model();
    let snap = |role, user_id| model.snapshot_for(Viewer { role, user_id }, false, NOW);
    let ann = snap(Role::Customer, "ann");
    assert_eq!(ann.orders.iter().map(|o| o.id).collect::<Vec<_>>(), [1]);
    assert_eq!(
        ann.announcements.iter().map(|a| a.id).collect::<Vec<_>>(),
        [3]
    );
    assert!(ann.alerts.is_none() && ann.promos.is_none());
    let crew = snap(Role::Crew, "kim");
    assert_eq!(crew.orders.len(), 2);
    assert!(crew.orders.iter().all(|o| o.payment.last4.is_none()));
    assert_eq!(crew.alerts.as_ref().map(Vec::len), Some(1));
    assert_eq!(
        crew.announcements.iter().map(|a| a.id).collect::<Vec<_>>(),
        [1]
    );
    let admin = snap(Role::Admin, "boss");
    assert_eq!(
        admin.announcements.iter().map(|a| a.id).collect::<Vec<_>>(),
        [1, 3]
    );
    assert_eq!(admin.alerts.as_ref().map(Vec::len), Some(2));
    assert_eq!(admin.orders[0].payment.last4.as_deref(), Some("4242"));
    assert_eq!(admin.head_seq, 40);
}

/// A snapshot loaded into an empty model gives the same view back.
#[test]
fn snapshot_round_trip() {
    let model = full_model();
    let viewer = Viewer {
        role: Role::Admin,
        user_id: "boss",
    };
    let snap = model.snapshot_for(viewer, false, NOW);
    let mut copy = Model::default();
    copy.load_snapshot(&snap);
    assert_eq!(copy.snapshot_for(viewer, false, NOW), snap);
}

/// Closed orders beyond what a snapshot holds are pruned; open ones stay.
#[test]
fn pruning_keeps_open_orders() {
    let mut model = Model::default();
    let mut old = order(1, "ann");
    old.status = OrderStatus::Delivered;
    old.updated_at = crate::time::format_ms(NOW - 2 * 86_400_000);
    model.apply(&Event::OrderUpdate(order_event(&old)));
    model.apply(&Event::OrderCreated(order_event(&order(2, "ann"))));
    model.prune_closed_orders(NOW);
    assert_eq!(model.orders.keys().copied().collect::<Vec<_>>(), [2]);
}

/// `capacity_update` replaces the setting; every snapshot carries it.
#[test]
fn capacity_is_folded_and_in_every_snapshot() {
    let mut model = Model::default();
    let c = crate::capacity::Capacity {
        paused: true,
        orders_per_slot: 4,
        at: Some("2026-11-22T10:00:00.000Z".into()),
        ..Default::default()
    };
    model.apply(&Event::CapacityUpdate(c.clone()));
    assert_eq!(model.capacity, c);
    for role in crate::Role::ALL {
        let snap = model.snapshot_for(
            Viewer {
                role,
                user_id: "ann",
            },
            false,
            NOW,
        );
        assert_eq!(snap.capacity, c, "{role}");
        let mut other = Model::default();
        other.load_snapshot(&snap);
        assert_eq!(other.capacity, c);
    }
}
