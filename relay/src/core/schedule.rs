//! When an order is ready, and orders placed for later (DESIGN §14).
//!
//! Placing: after pricing, [`timing`] applies the capacity checks in the
//! order DESIGN §14 gives (`ordering_paused`, then `slot_full`) and gives
//! the order its `ready_at` by the slot rule; a `scheduled_for` is read
//! first by [`requested_time`]. The rules are `kfood_protocol::capacity`'s.
//!
//! Firing: [`Schedule`] keeps the scheduled orders by fire time (`ready_at`
//! − prep minutes), rebuilt from the state at start and kept up to date
//! from every commit; [`fire`] moves one to `pending` as the relay. The
//! relay's fire timer (`lib.rs`) sleeps until [`Schedule::next`] and sends
//! `Command::Fire`; the periodic tick fires too, as a safety net. Firing is
//! a commit like any other, so after a `kill -9` an order fired before the
//! crash stays fired, and one whose time passed while the relay was down
//! fires at start, once.

use std::collections::{BTreeSet, HashMap};

use kfood_protocol::capacity::{
    check_slot, fire_ms, kitchen_done_ms, ordering_paused, parse_scheduled_for, ready_at_from,
    relay_actor, ride_minutes, scheduled_ready_at, SlotCounts,
};
use kfood_protocol::event::Event;
use kfood_protocol::messages::{self as m, ActivityKind};
use kfood_protocol::order::{FulfillmentKind, HistoryEntry, Order, OrderStatus};
use kfood_protocol::time::{format_ms, Millis};
use kfood_protocol::{Model, ProtocolError, Sender};

use super::Decision;
use crate::log::State;

/// When an order placed now is to be ready, and for when it was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub ready_at: Millis,
    /// Set for an order placed for later: it starts `scheduled`.
    pub scheduled_for: Option<Millis>,
}

impl Timing {
    /// The status a new order starts in.
    pub fn status(&self) -> OrderStatus {
        if self.scheduled_for.is_some() {
            OrderStatus::Scheduled
        } else {
            OrderStatus::Pending
        }
    }
}

/// The `scheduled_for` of a quote or an order, read before anything else
/// (unparseable or more than 7 days ahead is `invalid`).
pub fn requested_time(req: &m::OrderPlace, now: Millis) -> Result<Option<Millis>, ProtocolError> {
    req.scheduled_for
        .as_deref()
        .map(|raw| parse_scheduled_for(raw, now))
        .transpose()
}

/// The capacity checks of a quote or an order, after pricing: a scheduled
/// time sooner than the kitchen can make it (`invalid`), then
/// `ordering_paused`, then `slot_full`; else its `ready_at`.
pub fn timing(
    st: &State,
    scheduled_for: Option<Millis>,
    prep_minutes: u32,
    kind: FulfillmentKind,
    delivery_minutes: u32,
    now: Millis,
) -> Result<Timing, ProtocolError> {
    let cap = &st.model.capacity;
    let t = kitchen_done_ms(now, prep_minutes, cap.extra_minutes);
    let ride = ride_minutes(kind, delivery_minutes);
    let scheduled_ready = scheduled_for
        .map(|at| scheduled_ready_at(at, t, ride))
        .transpose()?;
    if cap.is_paused_at(now) {
        return Err(ordering_paused());
    }
    // Counting is only needed when slots are limited: the usual case costs nothing.
    let counts = if cap.orders_per_slot == 0 {
        SlotCounts::default()
    } else {
        SlotCounts::of(
            st.model.orders.values(),
            t.min(scheduled_ready.unwrap_or(t)),
        )
    };
    let ready_at = match scheduled_ready {
        Some(ready) => {
            check_slot(&counts, cap.orders_per_slot, ready)?;
            ready
        }
        None => ready_at_from(&counts, cap.orders_per_slot, t)?,
    };
    Ok(Timing {
        ready_at,
        scheduled_for,
    })
}

/// Sets a new order's status, times and eta from its [`Timing`].
pub fn stamp(order: &mut Order, timing: Timing) {
    order.status = timing.status();
    if let Some(first) = order.history.first_mut() {
        first.status = order.status;
    }
    order.ready_at = Some(format_ms(timing.ready_at));
    order.scheduled_for = timing.scheduled_for.map(format_ms);
    order.eta = order.compute_eta();
}

/// The scheduled orders by fire time, then id: what the fire timer waits for.
#[derive(Debug, Default)]
pub struct Schedule {
    due: BTreeSet<(Millis, u64)>,
    by_id: HashMap<u64, Millis>,
}

impl Schedule {
    /// The scheduled orders of `model` (at start).
    pub fn of(model: &Model) -> Schedule {
        let mut s = Schedule::default();
        for o in model.orders.values() {
            s.observe(o);
        }
        s
    }

    /// Keeps the schedule in step with an order as a commit left it.
    pub fn observe(&mut self, order: &Order) {
        if let Some(old) = self.by_id.remove(&order.id) {
            self.due.remove(&(old, order.id));
        }
        if let Some(at) = fire_ms(order) {
            self.due.insert((at, order.id));
            self.by_id.insert(order.id, at);
        }
    }

    /// The earliest fire time.
    pub fn next(&self) -> Option<Millis> {
        self.due.first().map(|(at, _)| *at)
    }

    /// The orders due at `now`, in fire time order then by id.
    pub fn due(&self, now: Millis) -> Vec<u64> {
        self.due
            .iter()
            .take_while(|(at, _)| *at <= now)
            .map(|(_, id)| *id)
            .collect()
    }
}

/// Moves scheduled order `id` to `pending` as the relay, at `now` (the real
/// time, also when it fires late after a restart).
pub fn fire(st: &State, id: u64, now: Millis) -> Option<Decision> {
    let mut o = st.model.orders.get(&id)?.clone();
    if o.status != OrderStatus::Scheduled {
        return None;
    }
    let relay = relay_actor();
    let at = format_ms(now);
    o.status = OrderStatus::Pending;
    o.updated_at = at.clone();
    o.push_history(HistoryEntry {
        status: OrderStatus::Pending,
        at,
        by: relay.clone(),
        note: None,
    });
    o.eta = o.compute_eta();
    let mut d = Decision::default();
    let sender = Sender {
        id: relay.id.clone(),
        role: relay.role,
    };
    let text = format!("sent scheduled order {} to the kitchen", o.code);
    d.note(&relay, ActivityKind::Status, text, Some(o.id));
    d.emit(
        Event::OrderUpdate(m::OrderEvent {
            order_id: o.id,
            status: o.status,
            order: o,
        }),
        None,
        Some(sender),
    );
    tracing::info!(order = id, "fired a scheduled order");
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A scheduled order `id` ready at `ready` with `prep` minutes.
    fn scheduled(id: u64, ready: Millis, prep: u32) -> Order {
        let at = format_ms(0);
        serde_json::from_value(json!({
            "id": id, "code": format!("K-{id:04}"), "client_order_id": format!("c{id}"),
            "customer": {"id": "ann", "name": "Ann"}, "lines": [], "instructions": "",
            "fulfillment": {"kind": "pickup"}, "status": "scheduled",
            "subtotal_cents": 0, "discount_cents": 0, "total_cents": 0,
            "payment": {"method": "cash", "status": "due"},
            "prep_minutes": prep, "delivery_minutes": 0, "eta": null,
            "scheduled_for": format_ms(ready), "ready_at": format_ms(ready),
            "created_at": at, "updated_at": at, "history": [],
        }))
        .expect("order")
    }

    /// Due orders come in fire time order, then by id; an order that is no
    /// longer scheduled leaves the schedule.
    #[test]
    fn due_in_fire_time_order_then_by_id() {
        let mut model = Model::default();
        for o in [
            scheduled(3, 20 * 60_000, 10), // fires at 10 min
            scheduled(2, 20 * 60_000, 10), // fires at 10 min
            scheduled(1, 30 * 60_000, 5),  // fires at 25 min
            scheduled(4, 15 * 60_000, 10), // fires at 5 min
        ] {
            model.orders.insert(o.id, o);
        }
        let mut s = Schedule::of(&model);
        assert_eq!(s.next(), Some(5 * 60_000));
        assert_eq!(s.due(10 * 60_000), [4, 2, 3]);
        assert_eq!(s.due(60 * 60_000), [4, 2, 3, 1]);
        let mut fired = model.orders[&4].clone();
        fired.status = OrderStatus::Pending;
        s.observe(&fired);
        assert_eq!(s.next(), Some(10 * 60_000));
        assert_eq!(s.due(4 * 60_000), Vec::<u64>::new());
    }
}
