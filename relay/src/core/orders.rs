//! Orders (DESIGN §5, §6, §7): pricing, quote, place, modify, cancel and
//! the kitchen's updates. Each is a function of the state and the request;
//! what it changes goes into the [`Decision`].

use kfood_protocol::event::Event;
use kfood_protocol::menu::{checked_line, checked_minutes, checked_name, checked_text};
use kfood_protocol::menu::{normalize_promo_code, MenuItem};
use kfood_protocol::messages::LineDone;
use kfood_protocol::messages::{self as m, ActivityKind};
use kfood_protocol::options::{choose_options, unit_price};
use kfood_protocol::order::{
    check_transition, order_code, Fulfillment, FulfillmentKind, HistoryEntry, Order, OrderLine,
    OrderStatus, Payment, PaymentMethod, PaymentStatus, Transition,
};
use kfood_protocol::time::{format_ms, Millis};
use kfood_protocol::{card, limits, ErrorCode, ProtocolError, Role};
use serde_json::{json, Value};

use super::schedule::{self, Timing};
use super::{Ack, Caller, Decision};
use crate::log::State;
use crate::payment::PaymentGateway;

use kfood_protocol::limits::DEFAULT_DELIVERY_MINUTES;

/// An order priced from the relay's own menu and promos.
struct Priced {
    lines: Vec<OrderLine>,
    subtotal: i64,
    discount: i64,
    prep: u32,
    instructions: String,
    fulfillment: Fulfillment,
    promo_code: Option<String>,
}

pub fn quote(st: &State, req: &m::OrderPlace, now: Millis) -> Result<Value, ProtocolError> {
    let when = schedule::requested_time(req, now)?;
    let p = price(st, req, now)?;
    let timing = timing_of(st, when, &p, now)?;
    Ok(json!({
        "subtotal_cents": p.subtotal,
        "discount_cents": p.discount,
        "total_cents": p.subtotal - p.discount,
        "ready_at": format_ms(timing.ready_at),
    }))
}

/// The capacity checks and ready time of a priced order (DESIGN §14).
fn timing_of(
    st: &State,
    when: Option<Millis>,
    p: &Priced,
    now: Millis,
) -> Result<Timing, ProtocolError> {
    let kind = p.fulfillment.kind;
    schedule::timing(st, when, p.prep, kind, DEFAULT_DELIVERY_MINUTES, now)
}

fn price(st: &State, req: &m::OrderPlace, now: Millis) -> Result<Priced, ProtocolError> {
    if req.items.is_empty() {
        return Err(ProtocolError::invalid(
            "items",
            "an order needs at least one line",
        ));
    }
    if req.items.len() > limits::MAX_ORDER_LINES {
        return Err(ProtocolError::invalid(
            "items",
            format!("an order holds at most {} lines", limits::MAX_ORDER_LINES),
        ));
    }
    // DESIGN §14's check order: every `invalid` first (the fields, then each
    // known item's options), then `unknown_item`, `item_unavailable` and
    // `invalid_promo`, so a request with several faults always gets the same
    // answer.
    let mut notes = Vec::with_capacity(req.items.len());
    for (i, l) in req.items.iter().enumerate() {
        notes.push(line_notes(i, l)?);
    }
    let instructions = checked_text(
        "instructions",
        req.instructions.as_deref().unwrap_or(""),
        limits::MAX_NOTES_CHARS,
    )?;
    let fulfillment = checked_fulfillment(&req.fulfillment)?;
    let mut chosen = Vec::with_capacity(req.items.len());
    for (i, l) in req.items.iter().enumerate() {
        chosen.push(match st.model.item(&l.item_id) {
            Some(item) => choose_options(item, &l.options, &format!("items[{i}].options"))?,
            None => Vec::new(),
        });
    }
    let items = menu_items(st, req)?;
    let mut lines = Vec::with_capacity(req.items.len());
    let (mut subtotal, mut prep) = (0i64, 0u32);
    for (((item, l), notes), options) in items.into_iter().zip(&req.items).zip(notes).zip(chosen) {
        let line = OrderLine {
            item_id: item.id.clone(),
            name: item.name.clone(),
            qty: l.qty,
            unit_price_cents: unit_price(item.price_cents, &options),
            notes,
            station: item.station.clone(),
            options,
            done: None,
        };
        subtotal += line.unit_price_cents * i64::from(line.qty);
        prep = prep.max(item.prep_minutes);
        lines.push(line);
    }
    let (promo_code, discount) = promo(st, req.promo_code.as_deref(), subtotal, now)?;
    Ok(Priced {
        lines,
        subtotal,
        discount,
        prep,
        instructions,
        fulfillment,
        promo_code,
    })
}

/// Line `i`'s quantity checked and its notes cleaned.
fn line_notes(i: usize, l: &m::LineRequest) -> Result<String, ProtocolError> {
    if !(limits::MIN_QTY..=limits::MAX_QTY).contains(&l.qty) {
        return Err(ProtocolError::invalid(
            format!("items[{i}].qty"),
            format!("quantity must be {}-{}", limits::MIN_QTY, limits::MAX_QTY),
        ));
    }
    checked_text(
        &format!("items[{i}].notes"),
        l.notes.as_deref().unwrap_or(""),
        limits::MAX_NOTES_CHARS,
    )
}

fn checked_fulfillment(f: &Fulfillment) -> Result<Fulfillment, ProtocolError> {
    Ok(match f.kind {
        FulfillmentKind::Pickup => Fulfillment {
            kind: FulfillmentKind::Pickup,
            address: None,
        },
        FulfillmentKind::Delivery => Fulfillment {
            kind: FulfillmentKind::Delivery,
            address: Some(checked_name(
                "fulfillment.address",
                f.address.as_deref().unwrap_or(""),
                limits::MAX_SHORT_TEXT_CHARS,
            )?),
        },
    })
}

/// Every line's menu item: `unknown_item` for the first line naming none,
/// then `item_unavailable` for the first whose item is off the menu now.
fn menu_items<'s>(st: &'s State, req: &m::OrderPlace) -> Result<Vec<&'s MenuItem>, ProtocolError> {
    let mut items = Vec::with_capacity(req.items.len());
    for (i, l) in req.items.iter().enumerate() {
        let Some(item) = st.model.item(&l.item_id) else {
            return Err(ProtocolError::new(
                ErrorCode::UnknownItem,
                format!("no menu item `{}`", clean(&l.item_id)),
            )
            .with_field(format!("items[{i}].item_id")));
        };
        items.push(item);
    }
    if let Some((i, item)) = items.iter().enumerate().find(|(_, it)| !it.available) {
        return Err(ProtocolError::new(
            ErrorCode::ItemUnavailable,
            format!("{} is not available right now", item.name),
        )
        .with_field(format!("items[{i}].item_id")));
    }
    Ok(items)
}

/// The promo code (normalised) and its discount, or `invalid_promo`.
fn promo(
    st: &State,
    raw: Option<&str>,
    subtotal: i64,
    now: Millis,
) -> Result<(Option<String>, i64), ProtocolError> {
    let Some(raw) = raw.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok((None, 0));
    };
    let invalid = || {
        ProtocolError::new(ErrorCode::InvalidPromo, "that promo code is not valid")
            .with_field("promo_code")
    };
    let code = normalize_promo_code(raw).map_err(|_| invalid())?;
    let promo = st
        .model
        .promos
        .get(&code)
        .filter(|p| p.usable(now))
        .ok_or_else(invalid)?;
    let discount = promo.discount(subtotal);
    Ok((Some(code), discount))
}

pub fn place(
    st: &State,
    gateway: &dyn PaymentGateway,
    caller: &Caller,
    req: m::OrderPlace,
    now: Millis,
    d: &mut Decision,
) -> Result<Ack, ProtocolError> {
    let Some(coid) = req.client_order_id else {
        return Err(ProtocolError::invalid(
            "client_order_id",
            "client_order_id (a uuid) is required",
        ));
    };
    let coid = coid.to_string();
    let key = (caller.user.id.clone(), coid.clone());
    if let Some(o) = st
        .idempotency
        .get(&key)
        .and_then(|id| st.model.orders.get(id))
    {
        return Ok(Ack::order(o));
    }
    let when = schedule::requested_time(&req, now)?;
    let priced = price(st, &req, now)?;
    let timing = timing_of(st, when, &priced, now)?;
    let total = priced.subtotal - priced.discount;
    if let Some(expected) = req.expected_total_cents.filter(|e| *e != total) {
        return Err(ProtocolError::new(
            ErrorCode::PriceChanged,
            format!("the total is now {total} cents, not {expected}; review the order"),
        )
        .with_field("expected_total_cents"));
    }
    let Some(pay) = req.payment else {
        return Err(ProtocolError::invalid("payment", "payment is required"));
    };
    let payment = pay_for(gateway, caller, pay, total, &coid, now, d)?;
    let id = st.model.orders.keys().next_back().copied().unwrap_or(0) + 1;
    let at = format_ms(now);
    let mut order = Order {
        id,
        code: order_code(id),
        client_order_id: coid,
        customer: caller.party(),
        lines: priced.lines,
        instructions: priced.instructions,
        delivery_minutes: match priced.fulfillment.kind {
            FulfillmentKind::Delivery => DEFAULT_DELIVERY_MINUTES,
            FulfillmentKind::Pickup => 0,
        },
        fulfillment: priced.fulfillment,
        status: OrderStatus::Pending,
        subtotal_cents: priced.subtotal,
        discount_cents: priced.discount,
        total_cents: total,
        promo_code: priced.promo_code,
        payment,
        prep_minutes: priced.prep,
        eta: None,
        scheduled_for: None,
        ready_at: None,
        created_at: at.clone(),
        updated_at: at.clone(),
        history: vec![HistoryEntry {
            status: OrderStatus::Pending,
            at,
            by: caller.user.clone(),
            note: None,
        }],
        modified: false,
    };
    schedule::stamp(&mut order, timing);
    d.emit(
        Event::OrderCreated(order_event(&order)),
        None,
        Some(caller.sender()),
    );
    if order.payment.status == PaymentStatus::Paid {
        d.emit(
            Event::PaymentConfirmed(payment_event(&order)),
            Some(&order.customer.id),
            Some(caller.sender()),
        );
    }
    let mut text = format!("placed {} ({} cents)", order.code, order.total_cents);
    if let Some(at) = &order.scheduled_for {
        text = format!("{text} for {at}");
    }
    d.note(&caller.user, ActivityKind::Order, text, Some(id));
    Ok(Ack::order(&order))
}

/// The order's payment: cash is due; a card is charged now. A decline
/// refuses the order but its `payment_failed` event stands.
fn pay_for(
    gateway: &dyn PaymentGateway,
    caller: &Caller,
    pay: m::PaymentRequest,
    total: i64,
    coid: &str,
    now: Millis,
    d: &mut Decision,
) -> Result<Payment, ProtocolError> {
    let mut payment = Payment {
        method: pay.method,
        status: PaymentStatus::Due,
        id: None,
        brand: None,
        last4: None,
        amount_cents: Some(total),
    };
    if pay.method == PaymentMethod::Cash {
        return Ok(payment);
    }
    let Some(c) = pay.card else {
        return Err(
            ProtocolError::new(ErrorCode::InvalidCard, "card details are required")
                .with_field("payment.card"),
        );
    };
    let digits = card::validate(&c.number, &c.exp, &c.cvc, now)?;
    match gateway.charge(&digits, total, coid) {
        Ok(ch) => {
            payment.status = PaymentStatus::Paid;
            payment.id = Some(ch.id);
            payment.brand = Some(ch.brand);
            payment.last4 = Some(ch.last4);
            Ok(payment)
        }
        Err(decline) => {
            let failed = m::PaymentFailed {
                client_order_id: coid.to_owned(),
                code: decline.code,
                message: decline.message.clone(),
                payment: m::FailedPayment {
                    method: PaymentMethod::Card,
                    brand: Some(card::brand(&digits).to_owned()),
                    last4: Some(digits[digits.len().saturating_sub(4)..].to_owned()),
                    amount_cents: total,
                },
            };
            d.emit(
                Event::PaymentFailed(failed),
                Some(&caller.user.id),
                Some(caller.sender()),
            );
            Err(ProtocolError::new(decline.code, decline.message).with_field("payment.card.number"))
        }
    }
}

fn order_event(o: &Order) -> m::OrderEvent {
    m::OrderEvent {
        order_id: o.id,
        status: o.status,
        order: o.clone(),
    }
}

fn payment_event(order: &Order) -> m::PaymentEvent {
    let p = &order.payment;
    m::PaymentEvent {
        order_id: order.id,
        client_order_id: order.client_order_id.clone(),
        payment: m::PaymentInfo {
            method: p.method,
            status: p.status,
            id: p.id.clone().unwrap_or_default(),
            brand: p.brand.clone().unwrap_or_default(),
            last4: p.last4.clone().unwrap_or_default(),
            amount_cents: p.amount_cents.unwrap_or(order.total_cents),
        },
    }
}

/// The order `id` if `caller` may act on it (a customer only on their own).
fn order_for<'s>(st: &'s State, caller: &Caller, id: u64) -> Result<&'s Order, ProtocolError> {
    let o =
        st.model.orders.get(&id).ok_or_else(|| {
            ProtocolError::not_found(format!("no order {id}")).with_field("order_id")
        })?;
    if caller.role() == Role::Customer && o.customer.id != caller.user.id {
        return Err(ProtocolError::forbidden("that order is not yours").with_field("order_id"));
    }
    Ok(o)
}

pub fn modify(
    st: &State,
    caller: &Caller,
    req: m::OrderModify,
    now: Millis,
    d: &mut Decision,
) -> Result<Ack, ProtocolError> {
    let instructions = checked_text("instructions", &req.instructions, limits::MAX_NOTES_CHARS)?;
    let mut o = order_for(st, caller, req.order_id)?.clone();
    if !o.status.customer_may_change() {
        return Err(ProtocolError::new(
            ErrorCode::InvalidTransition,
            format!("{} is {} and can no longer be changed", o.code, o.status),
        ));
    }
    if o.instructions == instructions {
        // Nothing changes: acked with the order, no event.
        return Ok(Ack::order(&o));
    }
    o.instructions = instructions;
    o.modified = true;
    o.updated_at = format_ms(now);
    d.emit(
        Event::OrderModified(order_event(&o)),
        None,
        Some(caller.sender()),
    );
    let text = format!("changed the instructions of {}", o.code);
    d.note(&caller.user, ActivityKind::Order, text, Some(o.id));
    Ok(Ack::order(&o))
}

pub fn cancel(
    st: &State,
    gateway: &dyn PaymentGateway,
    caller: &Caller,
    req: m::OrderCancel,
    now: Millis,
    d: &mut Decision,
) -> Result<Ack, ProtocolError> {
    let reason = checked_line("reason", &req.reason, limits::MAX_SHORT_TEXT_CHARS)?;
    let role = caller.role();
    let mut o = order_for(st, caller, req.order_id)?.clone();
    let t = check_transition(o.status, OrderStatus::Cancelled, role, o.entered_ms(), now)?;
    if t == Transition::Same {
        return Ok(Ack::order(&o.view_for(role)));
    }
    let at = format_ms(now);
    o.status = OrderStatus::Cancelled;
    o.updated_at = at.clone();
    o.eta = None;
    o.push_history(HistoryEntry {
        status: OrderStatus::Cancelled,
        at,
        by: caller.user.clone(),
        note: (!reason.is_empty()).then_some(reason),
    });
    let refund = o.payment.status == PaymentStatus::Paid;
    if refund {
        let charge = o.payment.id.clone().unwrap_or_default();
        if let Err(e) = gateway.refund(&charge, o.total_cents) {
            let why = format!("the refund failed: {}", e.message);
            return Err(ProtocolError::internal(why));
        }
        o.payment.status = PaymentStatus::Refunded;
    } else if o.payment.status == PaymentStatus::Due {
        o.payment.status = PaymentStatus::Void;
    }
    d.emit(
        Event::OrderCancelled(order_event(&o)),
        None,
        Some(caller.sender()),
    );
    if refund {
        d.emit(
            Event::PaymentRefunded(payment_event(&o)),
            Some(&o.customer.id),
            Some(caller.sender()),
        );
    }
    d.note(
        &caller.user,
        ActivityKind::Order,
        format!("cancelled {}", o.code),
        Some(o.id),
    );
    Ok(Ack::order(&o.view_for(role)))
}

/// The checked fields of an `order_update`.
struct UpdateFields {
    status: Option<OrderStatus>,
    prep: Option<u32>,
    ride: Option<u32>,
    note: Option<String>,
}

fn update_fields(req: &m::OrderUpdate) -> Result<UpdateFields, ProtocolError> {
    let f = UpdateFields {
        status: req.status,
        prep: req
            .prep_minutes
            .map(|v| checked_minutes("prep_minutes", v))
            .transpose()?,
        ride: req
            .delivery_minutes
            .map(|v| checked_minutes("delivery_minutes", v))
            .transpose()?,
        note: req
            .note
            .as_deref()
            .map(|n| checked_line("note", n, limits::MAX_KITCHEN_NOTE_CHARS))
            .transpose()?
            .filter(|n| !n.is_empty()),
    };
    if f.status.is_none() && f.prep.is_none() && f.ride.is_none() && f.note.is_none() {
        return Err(ProtocolError::invalid(
            "status",
            "give status, prep_minutes, delivery_minutes or note",
        ));
    }
    if f.status == Some(OrderStatus::Cancelled) {
        return Err(ProtocolError::new(
            ErrorCode::InvalidTransition,
            "cancel an order with order_cancel",
        )
        .with_field("status"));
    }
    Ok(f)
}

pub fn update(
    st: &State,
    caller: &Caller,
    req: m::OrderUpdate,
    now: Millis,
    d: &mut Decision,
) -> Result<Ack, ProtocolError> {
    let f = update_fields(&req)?;
    let role = caller.role();
    let mut o = order_for(st, caller, req.order_id)?.clone();
    let mut status_changed = false;
    if let Some(to) = f.status {
        match check_transition(o.status, to, role, o.entered_ms(), now)? {
            Transition::Same => {}
            Transition::Bump | Transition::Recall | Transition::Cancel => {
                o.status = to;
                status_changed = true;
            }
        }
    }
    // A scheduled order's fire time is its ready time less its prep as
    // placed (DESIGN §14): its minutes change once it is in the kitchen.
    if o.status == OrderStatus::Scheduled && (f.prep.is_some() || f.ride.is_some()) {
        return Err(ProtocolError::new(
            ErrorCode::InvalidTransition,
            format!(
                "{} is scheduled: fire it before changing its minutes",
                o.code
            ),
        ));
    }
    let note_on_cancelled = o.status == OrderStatus::Cancelled && f.note.is_some();
    if note_on_cancelled
        || (o.status.is_final() && !status_changed && (f.prep.is_some() || f.ride.is_some()))
    {
        return Err(ProtocolError::new(
            ErrorCode::InvalidTransition,
            format!("{} is closed", o.code),
        ));
    }
    let mut changed = status_changed;
    if let Some(p) = f.prep.filter(|p| *p != o.prep_minutes) {
        o.prep_minutes = p;
        changed = true;
    }
    if let Some(r) = f.ride.filter(|r| *r != o.delivery_minutes) {
        o.delivery_minutes = r;
        changed = true;
    }
    if status_changed || f.note.is_some() {
        o.push_history(HistoryEntry {
            status: o.status,
            at: format_ms(now),
            by: caller.user.clone(),
            note: f.note.clone(),
        });
        changed = true;
    }
    if !changed {
        // The same status again, the same minutes: acked, no event (§6).
        return Ok(Ack::order(&o.view_for(role)));
    }
    o.updated_at = format_ms(now);
    // A recall keeps the clock of the status it returns to (`entered_ms`),
    // so `delivered → ready` restores the eta it had while ready.
    o.eta = o.compute_eta();
    d.emit(
        Event::OrderUpdate(order_event(&o)),
        None,
        Some(caller.sender()),
    );
    let text = if status_changed {
        format!("moved {} to {}", o.code, o.status)
    } else {
        format!(
            "updated {} (prep {} min, delivery {} min)",
            o.code, o.prep_minutes, o.delivery_minutes
        )
    };
    d.note(&caller.user, ActivityKind::Status, text, Some(o.id));
    Ok(Ack::order(&o.view_for(role)))
}

/// A line marked done or not (DESIGN §13, [`Order::mark_line`]); a mark the
/// line already has is acked with no event.
pub fn line_done(
    st: &State,
    caller: &Caller,
    req: LineDone,
    auto_ready: bool,
    now: Millis,
    d: &mut Decision,
) -> Result<Ack, ProtocolError> {
    let role = caller.role();
    let mut o = order_for(st, caller, req.order_id)?.clone();
    let before = o.status;
    if !o.mark_line(req.line, req.done, &caller.user, now, auto_ready)? {
        return Ok(Ack::order(&o.view_for(role)));
    }
    d.emit(
        Event::OrderUpdate(order_event(&o)),
        None,
        Some(caller.sender()),
    );
    let verb = if req.done { "marked" } else { "unmarked" };
    let mut text = format!("{verb} line {} of {}", req.line, o.code);
    if o.status != before {
        text = format!("{text} ({})", o.status);
    }
    d.note(&caller.user, ActivityKind::Status, text, Some(o.id));
    Ok(Ack::order(&o.view_for(role)))
}

/// An id as it may be echoed in a message: one line, bounded.
fn clean(s: &str) -> String {
    let c = kfood_protocol::sanitize::clean_line(s);
    c.chars().take(limits::MAX_ITEM_ID_CHARS * 2).collect()
}
