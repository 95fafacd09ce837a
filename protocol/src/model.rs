//! What a party knows of the restaurant, and the one definition of how each
//! durable event changes it ([`Model::apply`]).
//!
//! The relay's own state is a `Model` folded from its log (it sees every
//! event whole); each client folds the events it receives into its own
//! `Model` (the client cache, and every program's screens, are views over
//! it). Because both fold with the same `apply`, nothing has to be kept in
//! step by hand. The snapshot a party is sent is [`Model::snapshot_for`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::capacity::Capacity;
use crate::event::{Event, MenuChangeItem};
use crate::limits::{SNAPSHOT_CLOSED_ORDERS, SNAPSHOT_CLOSED_WINDOW_SECS};
use crate::menu::{MenuItem, MenuOp, Promo};
use crate::messages::{Announcement, PaymentInfo, Snapshot, SystemAlert};
use crate::order::Payment;
use crate::time::{parse_ms, Millis};
use crate::{Order, Role};

/// The client-visible state of the restaurant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// In display order: categories in menu order, items in order within them.
    pub menu: Vec<MenuItem>,
    pub orders: BTreeMap<u64, Order>,
    pub announcements: BTreeMap<u64, Announcement>,
    pub promos: BTreeMap<String, Promo>,
    /// Every alert seen, resolved ones included; views show the open ones.
    pub alerts: BTreeMap<u64, SystemAlert>,
    /// The seq of the last event folded in (or of the snapshot).
    pub head_seq: u64,
    /// The kitchen's capacity setting (DESIGN §14).
    #[serde(default)]
    pub capacity: Capacity,
}

/// Who is looking: what a snapshot holds depends on it.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub role: Role,
    pub user_id: &'a str,
}

impl Model {
    /// Folds one durable event in: the only code that changes a `Model`.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::OrderCreated(d)
            | Event::OrderUpdate(d)
            | Event::OrderModified(d)
            | Event::OrderCancelled(d) => {
                self.orders.insert(d.order.id, d.order.clone());
            }
            Event::PaymentConfirmed(d) | Event::PaymentRefunded(d) => {
                if let Some(o) = self.orders.get_mut(&d.order_id) {
                    o.payment = payment_from(&d.payment);
                }
            }
            // No order exists for a failed payment.
            Event::PaymentFailed(_) => {}
            Event::MenuUpdate(change) => match (&change.op, &change.item) {
                (MenuOp::Remove, _) => self.menu.retain(|i| i.id != change.id()),
                (_, MenuChangeItem::Item(item)) => upsert_menu_item(&mut self.menu, item.clone()),
                (_, MenuChangeItem::Removed { .. }) => {}
            },
            Event::Announcement(a) => {
                self.announcements.insert(a.id, a.clone());
            }
            Event::SystemAlert(a) => {
                self.alerts.insert(a.id, a.clone());
            }
            Event::PromoUpdate(p) => {
                self.promos.insert(p.code.clone(), p.clone());
            }
            Event::CapacityUpdate(c) => self.capacity = c.clone(),
        }
    }

    /// Folds an event that arrived with `seq`; events at or below the
    /// model's head are already in it and are skipped, so a replay that
    /// overlaps what is known changes nothing.
    pub fn apply_at(&mut self, seq: u64, event: &Event) -> bool {
        if seq <= self.head_seq {
            return false;
        }
        self.apply(event);
        self.head_seq = seq;
        true
    }

    /// Replaces everything the snapshot speaks for. Promos and alerts are
    /// kept as they are when the snapshot does not carry them (they are not
    /// this party's to see).
    pub fn load_snapshot(&mut self, snap: &Snapshot) {
        self.menu = snap.menu.clone();
        self.orders = snap.orders.iter().map(|o| (o.id, o.clone())).collect();
        self.announcements = snap
            .announcements
            .iter()
            .map(|a| (a.id, a.clone()))
            .collect();
        self.alerts = snap
            .alerts
            .iter()
            .flatten()
            .map(|a| (a.id, a.clone()))
            .collect();
        self.promos = snap
            .promos
            .iter()
            .flatten()
            .map(|p| (p.code.clone(), p.clone()))
            .collect();
        self.capacity = snap.capacity.clone();
        self.head_seq = snap.head_seq;
    }

    /// The snapshot `viewer` is sent (DESIGN §4): the whole menu; their
    /// orders (a customer: their own; crew and admins: all) that are open,
    /// plus at most the 200 most recent closed within the last 24 h; the
    /// active announcements for their audience (an admin: every active
    /// one); open alerts (crew: kitchen ones) and promos for admins; the
    /// capacity setting for everyone (DESIGN §14).
    pub fn snapshot_for(&self, viewer: Viewer<'_>, reset: bool, now: Millis) -> Snapshot {
        let role = viewer.role;
        let orders = self
            .visible_orders(viewer, now)
            .map(|o| o.view_for(role))
            .collect();
        let announcements = self
            .announcements
            .values()
            .filter(|a| role == Role::Admin || a.audience.includes(role))
            .filter(|a| is_active(a, now))
            .cloned()
            .collect();
        let open_alerts = |kitchen_only: bool| {
            self.alerts
                .values()
                .filter(|a| !a.resolved && (!kitchen_only || a.kind.is_kitchen()))
                .cloned()
                .collect::<Vec<_>>()
        };
        Snapshot {
            menu: self.menu.clone(),
            orders,
            announcements,
            head_seq: self.head_seq,
            reset,
            alerts: match role {
                Role::Admin => Some(open_alerts(false)),
                Role::Crew => Some(open_alerts(true)),
                Role::Customer | Role::System => None,
            },
            promos: (role == Role::Admin).then(|| self.promos.values().cloned().collect()),
            capacity: self.capacity.clone(),
        }
    }

    /// The orders a snapshot for `viewer` holds, by id.
    fn visible_orders<'s>(
        &'s self,
        viewer: Viewer<'s>,
        now: Millis,
    ) -> impl Iterator<Item = &'s Order> + 's {
        let mine = move |o: &Order| viewer.role.is_staff() || o.customer.id == viewer.user_id;
        kept_orders(&self.orders, mine, now)
    }

    /// Drops closed orders a fresh snapshot would no longer hold (all open
    /// ones stay), so a client's model stays as small as its snapshot.
    pub fn prune_closed_orders(&mut self, now: Millis) {
        let keep: std::collections::BTreeSet<u64> = kept_orders(&self.orders, |_| true, now)
            .map(|o| o.id)
            .collect();
        self.orders.retain(|id, _| keep.contains(id));
    }

    /// The menu item `id`.
    pub fn item(&self, id: &str) -> Option<&MenuItem> {
        self.menu.iter().find(|i| i.id == id)
    }

    /// Unresolved alerts, oldest first.
    pub fn open_alerts(&self) -> impl Iterator<Item = &SystemAlert> {
        self.alerts.values().filter(|a| !a.resolved)
    }

    /// Announcements not yet expired at `now`, oldest first.
    pub fn active_announcements(&self, now: Millis) -> impl Iterator<Item = &Announcement> {
        self.announcements
            .values()
            .filter(move |a| is_active(a, now))
    }
}

/// The orders of `orders` for which `mine` holds that a snapshot keeps:
/// every open one, and the most recent closed ones of the last 24 h.
fn kept_orders<'s>(
    orders: &'s BTreeMap<u64, Order>,
    mine: impl Fn(&Order) -> bool + Copy + 's,
    now: Millis,
) -> impl Iterator<Item = &'s Order> + 's {
    let cutoff = now - SNAPSHOT_CLOSED_WINDOW_SECS * 1000;
    let recent_closed: std::collections::BTreeSet<u64> = orders
        .values()
        .rev()
        .filter(|o| mine(o))
        .filter(|o| o.status.is_final() && parse_ms(&o.updated_at).unwrap_or(0) >= cutoff)
        .take(SNAPSHOT_CLOSED_ORDERS)
        .map(|o| o.id)
        .collect();
    orders
        .values()
        .filter(move |o| mine(o))
        .filter(move |o| !o.status.is_final() || recent_closed.contains(&o.id))
}

fn is_active(a: &Announcement, now: Millis) -> bool {
    a.expires_at
        .as_deref()
        .and_then(parse_ms)
        .is_none_or(|e| e > now)
}

/// An order's payment from a payment event.
fn payment_from(p: &PaymentInfo) -> Payment {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    Payment {
        method: p.method,
        status: p.status,
        id: some(&p.id),
        brand: some(&p.brand),
        last4: some(&p.last4),
        amount_cents: Some(p.amount_cents),
    }
}

/// Puts `item` in place: an existing item keeps its position unless its
/// category changed; a new one (or a moved one) goes after the last item of
/// its category, or at the end under a new category.
pub fn upsert_menu_item(menu: &mut Vec<MenuItem>, item: MenuItem) {
    if let Some(pos) = menu.iter().position(|i| i.id == item.id) {
        if menu[pos].category == item.category {
            menu[pos] = item;
            return;
        }
        menu.remove(pos);
    }
    let at = menu
        .iter()
        .rposition(|i| i.category == item.category)
        .map_or(menu.len(), |p| p + 1);
    menu.insert(at, item);
}

#[cfg(test)]
mod tests;
