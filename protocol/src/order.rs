//! Orders and their state machine (DESIGN §6).

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, ProtocolError};
use crate::limits::{MAX_HISTORY, RECALL_WINDOW_SECS};
use crate::options::LineOption;
use crate::time::Millis;
use crate::{Party, Role, UserRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    /// Placed for later (DESIGN §14): goes to the kitchen at its fire time.
    Scheduled,
    Pending,
    Preparing,
    Ready,
    Delivered,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::Scheduled,
        OrderStatus::Pending,
        OrderStatus::Preparing,
        OrderStatus::Ready,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Scheduled => "scheduled",
            OrderStatus::Pending => "pending",
            OrderStatus::Preparing => "preparing",
            OrderStatus::Ready => "ready",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// `delivered` and `cancelled` never change again.
    pub fn is_final(self) -> bool {
        matches!(self, OrderStatus::Delivered | OrderStatus::Cancelled)
    }

    /// Whether the owning customer may still cancel the order or change its
    /// instructions: before the kitchen starts it (DESIGN §5, §14).
    pub fn customer_may_change(self) -> bool {
        matches!(self, OrderStatus::Scheduled | OrderStatus::Pending)
    }

    /// The status a bump moves to (a scheduled order's is firing it).
    pub fn next(self) -> Option<OrderStatus> {
        match self {
            OrderStatus::Scheduled => Some(OrderStatus::Pending),
            OrderStatus::Pending => Some(OrderStatus::Preparing),
            OrderStatus::Preparing => Some(OrderStatus::Ready),
            OrderStatus::Ready => Some(OrderStatus::Delivered),
            _ => None,
        }
    }

    /// The status a recall moves back to (DESIGN §6: `delivered → ready`,
    /// `ready → preparing`, `preparing → pending`; never back to `scheduled`).
    pub fn previous(self) -> Option<OrderStatus> {
        match self {
            OrderStatus::Preparing => Some(OrderStatus::Pending),
            OrderStatus::Ready => Some(OrderStatus::Preparing),
            OrderStatus::Delivered => Some(OrderStatus::Ready),
            _ => None,
        }
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a requested status change amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The order already has that status: ack, no event.
    Same,
    /// One step forward.
    Bump,
    /// One step back within the recall window.
    Recall,
    /// To `cancelled`.
    Cancel,
}

/// Decides whether `role` (the owner, when a customer) may move an order from
/// `from` to `to`. `last_change_ms` is when the order was moved forward into
/// `from` ([`Order::entered_ms`]): a recall must come within
/// [`RECALL_WINDOW_SECS`] of it. A scheduled order goes to `pending` by the
/// relay ([`Role::System`]) at its fire time, or earlier by crew or admin;
/// the relay itself does nothing else.
pub fn check_transition(
    from: OrderStatus,
    to: OrderStatus,
    role: Role,
    last_change_ms: Millis,
    now_ms: Millis,
) -> Result<Transition, ProtocolError> {
    let refuse = |why: &str| {
        Err(ProtocolError::new(
            ErrorCode::InvalidTransition,
            format!("cannot go from {from} to {to}: {why}"),
        ))
    };
    if from == to {
        return Ok(Transition::Same);
    }
    // `delivered` is final but for a recall by the kitchen.
    let recall_of_delivered = from == OrderStatus::Delivered && to == OrderStatus::Ready;
    if from.is_final() && !(recall_of_delivered && role.is_staff()) {
        return refuse("the order is closed");
    }
    if role == Role::System && !(from == OrderStatus::Scheduled && to == OrderStatus::Pending) {
        return refuse("the relay only fires scheduled orders");
    }
    if to == OrderStatus::Cancelled {
        return match (role, from) {
            (_, OrderStatus::Scheduled | OrderStatus::Pending) => Ok(Transition::Cancel),
            (Role::Crew | Role::Admin, OrderStatus::Preparing) => Ok(Transition::Cancel),
            (Role::Customer, _) => refuse("the kitchen has started it"),
            _ => refuse("only scheduled, pending or preparing orders can be cancelled"),
        };
    }
    if role == Role::Customer {
        return Err(ProtocolError::forbidden(
            "only crew and admins change an order's status",
        ));
    }
    if from.next() == Some(to) {
        return Ok(Transition::Bump);
    }
    if to == OrderStatus::Scheduled {
        return refuse("an order never goes back to scheduled");
    }
    if from.previous() == Some(to) {
        if now_ms - last_change_ms <= RECALL_WINDOW_SECS * 1000 {
            return Ok(Transition::Recall);
        }
        return refuse("a recall is only possible within 15 minutes of the bump");
    }
    refuse("statuses move one step at a time")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FulfillmentKind {
    Pickup,
    Delivery,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fulfillment {
    pub kind: FulfillmentKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentMethod {
    Card,
    Cash,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    /// Card charged.
    Paid,
    /// Cash, to be paid on pickup or delivery.
    Due,
    /// Charged, then refunded on cancellation.
    Refunded,
    /// Cash order cancelled before payment.
    Void,
}

/// An order's payment. Crew see only `method` and `status` (the rest `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub method: PaymentMethod,
    pub status: PaymentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last4: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_cents: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub item_id: String,
    pub name: String,
    pub qty: u32,
    pub unit_price_cents: i64,
    #[serde(default)]
    pub notes: String,
    /// Copied from the item when the order is placed (DESIGN §13).
    #[serde(default = "crate::menu::default_station")]
    pub station: String,
    /// The chosen options, in menu order, with the names and prices they
    /// had when the order was placed (DESIGN §14); always sent.
    #[serde(default)]
    pub options: Vec<LineOption>,
    /// Who marked the line done at its station, and when (DESIGN §13).
    #[serde(default)]
    pub done: Option<LineMark>,
}

/// A line's done mark: `{at, by}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineMark {
    pub at: String,
    pub by: UserRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub status: OrderStatus,
    pub at: String,
    pub by: UserRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: u64,
    pub code: String,
    pub client_order_id: String,
    pub customer: Party,
    pub lines: Vec<OrderLine>,
    pub instructions: String,
    pub fulfillment: Fulfillment,
    pub status: OrderStatus,
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub total_cents: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promo_code: Option<String>,
    pub payment: Payment,
    pub prep_minutes: u32,
    pub delivery_minutes: u32,
    pub eta: Option<String>,
    /// When the customer wants it (DESIGN §14); `None` unless placed for later.
    #[serde(default)]
    pub scheduled_for: Option<String>,
    /// When the kitchen is to have it ready: its 15-minute slot (DESIGN
    /// §14). `None` only on orders placed before capacity existed.
    #[serde(default)]
    pub ready_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub history: Vec<HistoryEntry>,
    /// Set when the customer changed the instructions after placing.
    #[serde(default)]
    pub modified: bool,
}

/// `K-0042`: the id zero-padded to at least four digits.
pub fn order_code(id: u64) -> String {
    format!("K-{id:04}")
}

impl Order {
    /// The order as `role` may see it: crew see payment method and status only.
    pub fn view_for(&self, role: Role) -> Order {
        let mut o = self.clone();
        if role == Role::Crew {
            o.payment = Payment {
                method: o.payment.method,
                status: o.payment.status,
                id: None,
                brand: None,
                last4: None,
                amount_cents: None,
            };
        }
        o
    }

    /// When the order was moved forward into its current status: the
    /// latest history entry that bumped it there (or placed it). A recall
    /// does not restart the clock, so a ticket recalled to a status comes
    /// back with its timer going on and `delivered → ready` restores its
    /// last `eta`; a note added later does not restart it either.
    pub fn entered_ms(&self) -> Millis {
        let s = self.status;
        let forward_into = |i: usize| {
            let h = &self.history[i];
            h.status == s
                && (i == 0 || {
                    let before = self.history[i - 1].status;
                    before != s && (before.next() == Some(s) || s == OrderStatus::Cancelled)
                })
        };
        (0..self.history.len())
            .rev()
            .find(|&i| forward_into(i))
            .and_then(|i| crate::time::parse_ms(&self.history[i].at))
            .or_else(|| crate::time::parse_ms(&self.created_at))
            .unwrap_or(0)
    }

    /// When the order reached the kitchen: its move to `pending` (a
    /// scheduled order's firing), else when it was placed. The crew's
    /// ticket age (`WARN`) counts from here (DESIGN §14).
    pub fn kitchen_since_ms(&self) -> Millis {
        let placed = crate::time::parse_ms(&self.created_at).unwrap_or(0);
        if self.history.first().map(|h| h.status) != Some(OrderStatus::Scheduled) {
            return placed;
        }
        self.history
            .iter()
            .find(|h| h.status == OrderStatus::Pending)
            .and_then(|h| crate::time::parse_ms(&h.at))
            .unwrap_or(placed)
    }

    /// Appends a history entry, keeping at most [`MAX_HISTORY`] (DESIGN §6):
    /// the first entry (placed) stays, the oldest after it go.
    pub fn push_history(&mut self, entry: HistoryEntry) {
        self.history.push(entry);
        while self.history.len() > MAX_HISTORY {
            // Notes go before moves, so the entry that moved the order into
            // its status (its clock, its recall window) stays.
            let h = &self.history;
            let oldest_note = (1..h.len()).find(|&i| h[i].status == h[i - 1].status);
            self.history.remove(oldest_note.unwrap_or(1));
        }
    }

    /// The newest kitchen note (DESIGN §13): a history entry with a note
    /// and the status of the entry before it, so a note rather than a move
    /// (a cancel's reason rides on the move to `cancelled` and is not one).
    pub fn kitchen_note(&self) -> Option<&str> {
        self.history
            .windows(2)
            .rev()
            .find(|w| w[1].status == w[0].status && w[1].note.is_some())
            .and_then(|w| w[1].note.as_deref())
    }

    /// Whether crew may still recall the order one status back at `now`
    /// (DESIGN §6): it has a status to go back to, and was moved forward
    /// into its own within [`RECALL_WINDOW_SECS`].
    pub fn recallable(&self, now_ms: Millis) -> bool {
        self.status.previous().is_some() && now_ms - self.entered_ms() <= RECALL_WINDOW_SECS * 1000
    }

    /// Sets or clears the done mark of line `line` (DESIGN §13
    /// `line_done`), by `by` at `now`. Returns whether anything changed: a
    /// mark the line already has changes nothing (acked, no event).
    ///
    /// Allowed while the order is `pending` or `preparing`, else
    /// `invalid_transition`. A mark adds no history entry; marking a line
    /// of a pending order also moves it to `preparing` (a history entry by
    /// who marked); clearing never moves the status. With `auto_ready`, the
    /// last mark moves the order to `ready` in the same change.
    pub fn mark_line(
        &mut self,
        line: usize,
        done: bool,
        by: &UserRef,
        now: Millis,
        auto_ready: bool,
    ) -> Result<bool, ProtocolError> {
        if line >= self.lines.len() {
            return Err(ProtocolError::invalid(
                "line",
                format!(
                    "{} has lines 0 to {}",
                    self.code,
                    self.lines.len().saturating_sub(1)
                ),
            ));
        }
        // A mark the line already has changes nothing, whatever the status
        // now (DESIGN §6: so a retry after a lost ack, or after the expo
        // bumped the ticket, is safe).
        if self.lines[line].done.is_some() == done {
            return Ok(false);
        }
        if !matches!(self.status, OrderStatus::Pending | OrderStatus::Preparing) {
            return Err(ProtocolError::new(
                ErrorCode::InvalidTransition,
                format!(
                    "{} is {}: lines are marked while it is made",
                    self.code, self.status
                ),
            ));
        }
        let at = crate::time::format_ms(now);
        self.lines[line].done = done.then(|| LineMark {
            at: at.clone(),
            by: by.clone(),
        });
        let step = |o: &mut Order, to: OrderStatus| {
            o.status = to;
            o.push_history(HistoryEntry {
                status: to,
                at: at.clone(),
                by: by.clone(),
                note: None,
            });
        };
        if done && self.status == OrderStatus::Pending {
            step(self, OrderStatus::Preparing);
        }
        if done && auto_ready && self.lines_done() == self.lines.len() {
            step(self, OrderStatus::Ready);
        }
        self.updated_at = at;
        self.eta = self.compute_eta();
        Ok(true)
    }

    /// Lines marked done (DESIGN §13): "2 of 3 items done".
    pub fn lines_done(&self) -> usize {
        self.lines.iter().filter(|l| l.done.is_some()).count()
    }

    /// Whether every line is marked done: the expo's `ALL DONE`.
    pub fn all_done(&self) -> bool {
        !self.lines.is_empty() && self.lines_done() == self.lines.len()
    }

    /// Open and past its ETA. A pickup order that is ready waits for its
    /// customer, not the kitchen, so it is never late; a scheduled one has
    /// not reached the kitchen yet.
    pub fn is_late(&self, now_ms: Millis) -> bool {
        let waiting_for_pickup =
            self.status == OrderStatus::Ready && self.fulfillment.kind == FulfillmentKind::Pickup;
        !self.status.is_final()
            && self.status != OrderStatus::Scheduled
            && !waiting_for_pickup
            && self
                .eta
                .as_deref()
                .and_then(crate::time::parse_ms)
                .is_some_and(|eta| eta < now_ms)
    }

    /// The promised time, from when the order entered its status: the prep
    /// still to do and, for a delivery, the ride. A scheduled or pending
    /// order waits for its slot, so its eta is never before its `ready_at`
    /// (DESIGN §14); once preparing, it is the kitchen's own estimate.
    /// `None` once final.
    pub fn compute_eta(&self) -> Option<String> {
        let since = self.entered_ms();
        let ride = match self.fulfillment.kind {
            FulfillmentKind::Delivery => i64::from(self.delivery_minutes) * 60_000,
            FulfillmentKind::Pickup => 0,
        };
        let slot = self.ready_at.as_deref().and_then(crate::time::parse_ms);
        let ready = match self.status {
            OrderStatus::Scheduled => slot.unwrap_or(since),
            OrderStatus::Pending => {
                let kitchen = since + i64::from(self.prep_minutes) * 60_000;
                slot.map_or(kitchen, |s| s.max(kitchen))
            }
            OrderStatus::Preparing => since + i64::from(self.prep_minutes) * 60_000,
            OrderStatus::Ready => since,
            OrderStatus::Delivered | OrderStatus::Cancelled => return None,
        };
        Some(crate::time::format_ms(ready + ride))
    }
}

/// Orders for the protocol's own unit tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// A pending pickup card order of one Bibimbap by `customer`.
    pub fn order(id: u64, customer: &str) -> Order {
        let at = crate::time::format_ms(1_800_000_000_000);
        Order {
            id,
            code: order_code(id),
            client_order_id: format!("coid-{id}"),
            customer: Party {
                id: customer.into(),
                name: customer.into(),
            },
            lines: vec![OrderLine {
                item_id: "bibimbap".into(),
                name: "Bibimbap".into(),
                qty: 1,
                unit_price_cents: 1350,
                notes: String::new(),
                station: "grill".into(),
                options: Vec::new(),
                done: None,
            }],
            instructions: String::new(),
            fulfillment: Fulfillment {
                kind: FulfillmentKind::Pickup,
                address: None,
            },
            status: OrderStatus::Pending,
            subtotal_cents: 1350,
            discount_cents: 0,
            total_cents: 1350,
            promo_code: None,
            payment: Payment {
                method: PaymentMethod::Card,
                status: PaymentStatus::Paid,
                id: Some("ch_1".into()),
                brand: Some("visa".into()),
                last4: Some("4242".into()),
                amount_cents: Some(1350),
            },
            prep_minutes: 12,
            delivery_minutes: 0,
            eta: None,
            scheduled_for: None,
            ready_at: None,
            created_at: at.clone(),
            updated_at: at.clone(),
            history: vec![HistoryEntry {
                status: OrderStatus::Pending,
                at,
                by: UserRef {
                    id: customer.into(),
                    name: customer.into(),
                    role: Role::Customer,
                },
                note: None,
            }],
            modified: false,
        }
    }
}

#[cfg(test)]
mod tests;
