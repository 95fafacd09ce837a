//! A ticket: an order of the model seen through this terminal's own state
//! of it (a flag the cook must see, changes sent and not answered yet), and
//! the cleaning of the relay's text before any of it is kept.

use std::collections::BTreeMap;

use kfood_protocol::menu::MenuItem;
use kfood_protocol::messages::{Announcement, Snapshot, SystemAlert};
use kfood_protocol::order::{FulfillmentKind, Order, OrderStatus};
use kfood_protocol::sanitize::{clean_line, clean_text};
use kfood_protocol::time::{parse_ms, Millis};
use kfood_protocol::{Event, Model};

use super::types::{Column, Flag, Local};

/// This terminal's state of one order, beside the model's order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketUi {
    pub flag: Option<Flag>,
    pub local_status: Option<Local<OrderStatus>>,
    pub local_prep: Option<Local<u32>>,
    pub local_delivery: Option<Local<u32>>,
    /// Line marks sent from this terminal and not answered yet, by line.
    pub local_lines: BTreeMap<usize, Local<bool>>,
}

impl TicketUi {
    pub fn is_empty(&self) -> bool {
        *self == TicketUi::default()
    }

    /// Forgets the unanswered changes of request `req`.
    pub fn clear_local(&mut self, req: &str) {
        if self.local_status.as_ref().is_some_and(|l| l.req == req) {
            self.local_status = None;
        }
        if self.local_prep.as_ref().is_some_and(|l| l.req == req) {
            self.local_prep = None;
        }
        if self.local_delivery.as_ref().is_some_and(|l| l.req == req) {
            self.local_delivery = None;
        }
        self.local_lines.retain(|_, l| l.req != req);
    }
}

/// One order on the board, as the cook sees it.
#[derive(Debug, Clone, Copy)]
pub struct Ticket<'a> {
    /// The order as the relay last described it (text already cleaned).
    pub order: &'a Order,
    pub flag: Option<Flag>,
    ui: Option<&'a TicketUi>,
}

impl<'a> Ticket<'a> {
    pub fn new(order: &'a Order, ui: Option<&'a TicketUi>) -> Ticket<'a> {
        Ticket {
            order,
            flag: ui.and_then(|u| u.flag),
            ui,
        }
    }

    pub fn id(&self) -> u64 {
        self.order.id
    }

    pub fn created_ms(&self) -> Millis {
        parse_ms(&self.order.created_at).unwrap_or(0)
    }

    /// The status the cook sees: their own unanswered change, or the relay's.
    pub fn status(&self) -> OrderStatus {
        self.ui
            .and_then(|u| u.local_status.as_ref())
            .map_or(self.order.status, |l| l.value)
    }

    pub fn prep_minutes(&self) -> u32 {
        self.ui
            .and_then(|u| u.local_prep.as_ref())
            .map_or(self.order.prep_minutes, |l| l.value)
    }

    pub fn delivery_minutes(&self) -> u32 {
        self.ui
            .and_then(|u| u.local_delivery.as_ref())
            .map_or(self.order.delivery_minutes, |l| l.value)
    }

    /// Whether line `i` is done as the cook sees it (their mark first).
    pub fn line_done(&self, i: usize) -> bool {
        match self.ui.and_then(|u| u.local_lines.get(&i)) {
            Some(l) => l.value,
            None => self.order.lines.get(i).is_some_and(|l| l.done.is_some()),
        }
    }

    /// Lines done, as the cook sees them.
    pub fn lines_done(&self) -> usize {
        (0..self.order.lines.len())
            .filter(|&i| self.line_done(i))
            .count()
    }

    /// Every line done: the expo's `ALL DONE`.
    pub fn all_done(&self) -> bool {
        !self.order.lines.is_empty() && self.lines_done() == self.order.lines.len()
    }

    /// Whether a change of this terminal waits for the relay's answer.
    pub fn is_unconfirmed(&self) -> bool {
        self.ui.is_some_and(|u| {
            u.local_status.is_some()
                || u.local_prep.is_some()
                || u.local_delivery.is_some()
                || !u.local_lines.is_empty()
        })
    }

    pub fn is_delivery(&self) -> bool {
        self.order.fulfillment.kind == FulfillmentKind::Delivery
    }

    /// The column the ticket stands in; a cancelled ticket the cook has not
    /// cleared stays where it was.
    pub fn column(&self) -> Option<Column> {
        match self.status() {
            OrderStatus::Cancelled if self.flag == Some(Flag::Cancelled) => Some(
                self.order
                    .history
                    .iter()
                    .rev()
                    .find_map(|h| Column::of(h.status))
                    .unwrap_or(Column::Pending),
            ),
            s => Column::of(s),
        }
    }

    /// Time since the order reached the kitchen (placed, or a scheduled
    /// one fired), for the `WARN` threshold.
    pub fn age_ms(&self, now: Millis) -> Millis {
        (now - self.order.kitchen_since_ms()).max(0)
    }

    /// The reason given with the cancellation, if any.
    pub fn cancel_note(&self) -> Option<&'a str> {
        self.order
            .history
            .iter()
            .rev()
            .find(|h| h.status == OrderStatus::Cancelled)
            .and_then(|h| h.note.as_deref())
    }

    /// The latest kitchen note: a history entry with a note that changed no
    /// status (DESIGN §13).
    pub fn kitchen_note(&self) -> Option<&'a str> {
        self.order.kitchen_note()
    }

    pub fn matches(&self, filter: &str) -> bool {
        if filter.is_empty() {
            return true;
        }
        let f = filter.to_lowercase();
        self.order.code.to_lowercase().contains(&f)
            || self.order.lines.iter().any(|l| {
                l.name.to_lowercase().contains(&f) || l.item_id.to_lowercase().contains(&f)
            })
    }
}

/// Whether `new` describes the order at least as late as `old`. Compared as
/// instants: the text of a timestamp does not sort (its fraction has no
/// fixed width).
pub fn is_newer(new: &Order, old: Option<&Order>) -> bool {
    match old.map(|o| (parse_ms(&new.updated_at), parse_ms(&o.updated_at))) {
        Some((Some(a), Some(b))) => a >= b,
        _ => true,
    }
}

/// Control characters out of everything the relay sent, once, on arrival.
pub fn clean_order(o: &mut Order) {
    o.code = clean_line(&o.code);
    o.customer.name = clean_line(&o.customer.name);
    o.instructions = clean_text(&o.instructions);
    if let Some(a) = &mut o.fulfillment.address {
        *a = clean_line(a);
    }
    for l in &mut o.lines {
        l.name = clean_line(&l.name);
        l.item_id = clean_line(&l.item_id);
        l.notes = clean_text(&l.notes);
        l.station = clean_line(&l.station);
        if let Some(d) = &mut l.done {
            d.by.name = clean_line(&d.by.name);
        }
    }
    for h in &mut o.history {
        h.by.name = clean_line(&h.by.name);
        h.by.id = clean_line(&h.by.id);
        if let Some(n) = &mut h.note {
            *n = clean_text(n);
        }
    }
}

pub fn clean_item(i: &mut MenuItem) {
    i.id = clean_line(&i.id);
    i.name = clean_line(&i.name);
    i.category = clean_line(&i.category);
    i.description = clean_text(&i.description);
    i.station = clean_line(&i.station);
}

fn clean_announcement(a: &mut Announcement) {
    a.text = clean_text(&a.text);
    a.by.name = clean_line(&a.by.name);
}

fn clean_alert(a: &mut SystemAlert) {
    a.text = clean_line(&a.text);
}

/// A durable event with its text cleaned, ready for [`Model::apply`].
pub fn clean_event(ev: &mut Event) {
    match ev {
        Event::OrderCreated(d)
        | Event::OrderUpdate(d)
        | Event::OrderModified(d)
        | Event::OrderCancelled(d) => clean_order(&mut d.order),
        Event::MenuUpdate(c) => {
            if let kfood_protocol::event::MenuChangeItem::Item(i) = &mut c.item {
                clean_item(i);
            }
        }
        Event::Announcement(a) => clean_announcement(a),
        Event::SystemAlert(a) => clean_alert(a),
        Event::CapacityUpdate(c) => {
            if let Some(by) = &mut c.by {
                by.name = clean_line(&by.name);
            }
        }
        Event::PaymentConfirmed(_)
        | Event::PaymentFailed(_)
        | Event::PaymentRefunded(_)
        | Event::PromoUpdate(_) => {}
    }
}

/// A snapshot with its text cleaned, ready for [`Model::load_snapshot`].
pub fn clean_snapshot(s: &mut Snapshot) {
    s.menu.iter_mut().for_each(clean_item);
    s.orders.iter_mut().for_each(clean_order);
    s.announcements.iter_mut().for_each(clean_announcement);
    s.alerts.iter_mut().flatten().for_each(clean_alert);
}

/// A cached model with its text cleaned (the cache is a file anyone with
/// the account could have written).
pub fn clean_model(m: &mut Model) {
    m.menu.iter_mut().for_each(clean_item);
    m.orders.values_mut().for_each(clean_order);
    m.announcements.values_mut().for_each(clean_announcement);
    m.alerts.values_mut().for_each(clean_alert);
}
