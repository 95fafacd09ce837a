//! How much the kitchen takes on (DESIGN §14 "Capacity" and "Scheduled
//! orders"): the capacity setting and its `capacity_set` checks, the
//! 15-minute slot rule that gives every order its `ready_at`, and the rules
//! of an order placed for later (`scheduled_for`, its fire time).
//!
//! All pure: the relay decides with these functions, and a program that
//! shows "ready about 18:40" or "PAUSED" reads the same ones.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{ErrorCode, ProtocolError};
use crate::limits::{MAX_EXTRA_MINUTES, MAX_ORDERS_PER_SLOT, SCHEDULE_AHEAD_DAYS, SLOT_SECS};
use crate::order::{FulfillmentKind, Order, OrderStatus};
use crate::time::{format_ms, parse_ms, Millis};
use crate::UserRef;

/// Length of a slot in milliseconds.
pub const SLOT_MS: Millis = SLOT_SECS * 1000;
/// How far ahead a slot is searched, and an order may be scheduled.
pub const AHEAD_MS: Millis = SCHEDULE_AHEAD_DAYS * 24 * 3600 * 1000;

/// The kitchen's capacity setting: every snapshot's `capacity` and the data
/// of `capacity_update`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capacity {
    /// Online ordering refused (`ordering_paused`) while set, until
    /// `paused_until` if given.
    pub paused: bool,
    /// When a pause ends by itself (RFC 3339); `None`: until resumed.
    #[serde(default)]
    pub paused_until: Option<String>,
    /// Orders per 15-minute slot; 0 is no limit.
    #[serde(default)]
    pub orders_per_slot: u32,
    /// Minutes added to every order's ready time.
    #[serde(default)]
    pub extra_minutes: u32,
    /// When it was last set (`None` before the first `capacity_set`).
    #[serde(default)]
    pub at: Option<String>,
    /// Who set it last.
    #[serde(default)]
    pub by: Option<UserRef>,
}

/// The capacity as `GET /api/menu` shows it: the setting without who made it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicCapacity {
    pub paused: bool,
    #[serde(default)]
    pub paused_until: Option<String>,
    #[serde(default)]
    pub orders_per_slot: u32,
    #[serde(default)]
    pub extra_minutes: u32,
}

/// `capacity_set`: each field absent leaves that setting as it is.
/// `paused_until: null` (present) clears the end of a pause.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacitySet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub paused_until: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orders_per_slot: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_minutes: Option<u32>,
}

/// A field that is present, even as `null`, is `Some`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

impl CapacitySet {
    /// The first field crew may not send (DESIGN §14: crew send only
    /// `paused` and `paused_until`).
    pub fn admin_only_field(&self) -> Option<&'static str> {
        if self.orders_per_slot.is_some() {
            Some("orders_per_slot")
        } else if self.extra_minutes.is_some() {
            Some("extra_minutes")
        } else {
            None
        }
    }
}

impl Capacity {
    /// Whether ordering is paused at `now`: a pause with a `paused_until`
    /// ends by itself once that time has come.
    pub fn is_paused_at(&self, now: Millis) -> bool {
        self.paused
            && self
                .paused_until
                .as_deref()
                .and_then(parse_ms)
                .is_none_or(|until| now < until)
    }

    /// The setting without who made it, for `GET /api/menu`.
    pub fn public(&self) -> PublicCapacity {
        PublicCapacity {
            paused: self.paused,
            paused_until: self.paused_until.clone(),
            orders_per_slot: self.orders_per_slot,
            extra_minutes: self.extra_minutes,
        }
    }

    /// Whether the settings (all but `at` and `by`) are the same.
    pub fn same_setting(&self, other: &Capacity) -> bool {
        self.public() == other.public()
    }

    /// The setting after `req` at `now`, or `invalid` naming the field:
    /// `orders_per_slot` 0–1000, `extra_minutes` 0–120, `paused_until` an
    /// RFC 3339 time after `now` (or null). Resuming (`paused: false`)
    /// clears `paused_until`. `at` and `by` are left for the caller.
    pub fn changed_by(&self, req: &CapacitySet, now: Millis) -> Result<Capacity, ProtocolError> {
        let mut next = self.clone();
        if let Some(n) = req.orders_per_slot {
            if n > MAX_ORDERS_PER_SLOT {
                return Err(ProtocolError::invalid(
                    "orders_per_slot",
                    format!("orders per slot are 0-{MAX_ORDERS_PER_SLOT} (0: no limit)"),
                ));
            }
            next.orders_per_slot = n;
        }
        if let Some(m) = req.extra_minutes {
            if m > MAX_EXTRA_MINUTES {
                return Err(ProtocolError::invalid(
                    "extra_minutes",
                    format!("extra minutes are 0-{MAX_EXTRA_MINUTES}"),
                ));
            }
            next.extra_minutes = m;
        }
        if let Some(until) = &req.paused_until {
            next.paused_until = match until.as_deref() {
                None => None,
                Some(raw) => {
                    let ms = parse_ms(raw).ok_or_else(|| {
                        ProtocolError::invalid("paused_until", "paused_until is an RFC 3339 time")
                    })?;
                    if ms <= now {
                        return Err(ProtocolError::invalid(
                            "paused_until",
                            "paused_until must be in the future",
                        ));
                    }
                    Some(format_ms(ms))
                }
            };
        }
        if let Some(p) = req.paused {
            next.paused = p;
        }
        if !next.paused {
            next.paused_until = None;
        }
        Ok(next)
    }
}

/// `ordering_paused`, for a quote or an order while paused.
pub fn ordering_paused() -> ProtocolError {
    ProtocolError::new(
        ErrorCode::OrderingPaused,
        "the restaurant has paused online ordering; please try again later",
    )
}

/// The slot a time falls in: `[k·900 s, (k+1)·900 s)` from the epoch.
pub fn slot_of(ms: Millis) -> i64 {
    ms.div_euclid(SLOT_MS)
}

/// How many orders each slot holds: the orders not cancelled, by the slot of
/// their `ready_at` (orders without one count nowhere).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlotCounts(BTreeMap<i64, u32>);

impl SlotCounts {
    /// Counts `orders`, keeping only the slots from `from_ms` on (the ones a
    /// new order can still land in).
    pub fn of<'a>(orders: impl IntoIterator<Item = &'a Order>, from_ms: Millis) -> SlotCounts {
        let first = slot_of(from_ms);
        let mut counts = BTreeMap::new();
        for o in orders {
            if o.status == OrderStatus::Cancelled {
                continue;
            }
            let Some(ready) = o.ready_at.as_deref().and_then(parse_ms) else {
                continue;
            };
            let slot = slot_of(ready);
            if slot >= first {
                *counts.entry(slot).or_insert(0u32) += 1;
            }
        }
        SlotCounts(counts)
    }

    pub fn count(&self, slot: i64) -> u32 {
        self.0.get(&slot).copied().unwrap_or(0)
    }

    fn has_room(&self, slot: i64, orders_per_slot: u32) -> bool {
        orders_per_slot == 0 || self.count(slot) < orders_per_slot
    }
}

/// `slot_full`: no slot has room.
fn slot_full(message: &str) -> ProtocolError {
    ProtocolError::new(ErrorCode::SlotFull, message)
}

/// The ready time of an order placed now whose kitchen time is done at `t`
/// (now + prep + extra minutes): `t` if its slot has room, else the start of
/// the next slot with room, searched [`SCHEDULE_AHEAD_DAYS`] ahead, then
/// `slot_full`.
pub fn ready_at_from(
    counts: &SlotCounts,
    orders_per_slot: u32,
    t: Millis,
) -> Result<Millis, ProtocolError> {
    let first = slot_of(t);
    if counts.has_room(first, orders_per_slot) {
        return Ok(t);
    }
    let last = slot_of(t + AHEAD_MS);
    (first + 1..=last)
        .find(|&k| counts.has_room(k, orders_per_slot))
        .map(|k| k * SLOT_MS)
        .ok_or_else(|| slot_full("the kitchen is fully booked for the next 7 days"))
}

/// Checks that the slot of a scheduled order's `ready_at` has room.
pub fn check_slot(
    counts: &SlotCounts,
    orders_per_slot: u32,
    ready_at: Millis,
) -> Result<(), ProtocolError> {
    if counts.has_room(slot_of(ready_at), orders_per_slot) {
        Ok(())
    } else {
        Err(slot_full(
            "that time is fully booked; please choose another time",
        ))
    }
}

/// The time the kitchen is done with an order placed now: `now` + its prep
/// minutes + the capacity's extra minutes (DESIGN §14 "T").
pub fn kitchen_done_ms(now: Millis, prep_minutes: u32, extra_minutes: u32) -> Millis {
    now + (i64::from(prep_minutes) + i64::from(extra_minutes)) * 60_000
}

/// Minutes of the ride, for a delivery.
pub fn ride_minutes(kind: FulfillmentKind, delivery_minutes: u32) -> u32 {
    match kind {
        FulfillmentKind::Delivery => delivery_minutes,
        FulfillmentKind::Pickup => 0,
    }
}

/// Parses `scheduled_for` (cheap checks, before anything else is looked at):
/// an RFC 3339 time at most [`SCHEDULE_AHEAD_DAYS`] after `now`.
pub fn parse_scheduled_for(raw: &str, now: Millis) -> Result<Millis, ProtocolError> {
    let invalid = |why: &str| ProtocolError::invalid("scheduled_for", why);
    let at = parse_ms(raw.trim()).ok_or_else(|| invalid("scheduled_for is an RFC 3339 time"))?;
    if at > now + AHEAD_MS {
        return Err(invalid("orders can be scheduled at most 7 days ahead"));
    }
    Ok(at)
}

/// The `ready_at` of an order scheduled for `scheduled_for`: that time less
/// the ride. It may not be sooner than the kitchen can make it: the time
/// must be at or after `t` (now + prep + extra) + the ride.
pub fn scheduled_ready_at(
    scheduled_for: Millis,
    t: Millis,
    ride_minutes: u32,
) -> Result<Millis, ProtocolError> {
    let ride = i64::from(ride_minutes) * 60_000;
    if scheduled_for < t + ride {
        return Err(ProtocolError::invalid(
            "scheduled_for",
            format!(
                "the earliest time for this order is {}",
                format_ms(t + ride)
            ),
        ));
    }
    Ok(scheduled_for - ride)
}

/// When a scheduled order goes to the kitchen: its `ready_at` less its prep
/// minutes as placed. `None` for an order that is not scheduled.
pub fn fire_ms(order: &Order) -> Option<Millis> {
    if order.status != OrderStatus::Scheduled {
        return None;
    }
    let ready = order.ready_at.as_deref().and_then(parse_ms)?;
    Some(ready - i64::from(order.prep_minutes) * 60_000)
}

/// Who moves a scheduled order to `pending` at its fire time: the relay.
pub fn relay_actor() -> UserRef {
    UserRef {
        id: "relay".into(),
        name: "relay".into(),
        role: crate::Role::System,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::tests_support::order;

    const NOW: Millis = 1_800_000_000_000;
    const MIN: Millis = 60_000;

    fn set(v: serde_json::Value) -> CapacitySet {
        serde_json::from_value(v).expect("capacity_set")
    }

    /// Ranges and the resume rule of `capacity_set`.
    #[test]
    fn capacity_set_checks_and_applies() {
        let c = Capacity::default();
        let field = |v| c.changed_by(&set(v), NOW).unwrap_err().field;
        assert_eq!(
            field(serde_json::json!({"orders_per_slot": 1001})).as_deref(),
            Some("orders_per_slot")
        );
        assert_eq!(
            field(serde_json::json!({"extra_minutes": 121})).as_deref(),
            Some("extra_minutes")
        );
        for bad in ["soon", "2020-01-01T00:00:00Z"] {
            assert_eq!(
                field(serde_json::json!({"paused_until": bad})).as_deref(),
                Some("paused_until")
            );
        }
        let until = format_ms(NOW + 30 * MIN);
        let paused = c
            .changed_by(
                &set(serde_json::json!({"paused": true, "paused_until": until, "orders_per_slot": 1000, "extra_minutes": 120})),
                NOW,
            )
            .unwrap();
        assert!(paused.is_paused_at(NOW));
        assert!(!paused.is_paused_at(NOW + 30 * MIN), "ends by itself");
        assert!(!paused.same_setting(&c));
        // The same values again change nothing.
        let again = paused
            .changed_by(&set(serde_json::json!({"paused": true})), NOW)
            .unwrap();
        assert!(again.same_setting(&paused));
        // Resuming clears the end; null clears it too.
        let resumed = paused
            .changed_by(&set(serde_json::json!({"paused": false})), NOW)
            .unwrap();
        assert_eq!((resumed.paused, resumed.paused_until), (false, None));
        let open_ended = paused
            .changed_by(&set(serde_json::json!({"paused_until": null})), NOW)
            .unwrap();
        assert!(open_ended.is_paused_at(NOW + 1000 * MIN));
        assert_eq!(set(serde_json::json!({})).paused_until, None);
        assert_eq!(
            set(serde_json::json!({"paused_until": null})).paused_until,
            Some(None)
        );
    }

    /// Crew may send only `paused` and `paused_until`.
    #[test]
    fn admin_only_fields() {
        assert_eq!(
            set(serde_json::json!({"paused": true, "paused_until": null})).admin_only_field(),
            None
        );
        assert_eq!(
            set(serde_json::json!({"extra_minutes": 5})).admin_only_field(),
            Some("extra_minutes")
        );
        assert_eq!(
            set(serde_json::json!({"orders_per_slot": 2})).admin_only_field(),
            Some("orders_per_slot")
        );
    }

    fn ready_in(id: u64, at: Millis, status: OrderStatus) -> Order {
        let mut o = order(id, "ann");
        o.status = status;
        o.ready_at = Some(format_ms(at));
        o
    }

    /// The slot rule: T if its slot has room, else the next slot's start;
    /// cancelled orders free their place.
    #[test]
    fn slot_rule() {
        let start = slot_of(NOW) * SLOT_MS;
        let t = start + 5 * MIN;
        let orders = [
            ready_in(1, start + MIN, OrderStatus::Pending),
            ready_in(2, start + 2 * MIN, OrderStatus::Delivered),
            ready_in(3, start + 3 * MIN, OrderStatus::Cancelled),
        ];
        let counts = SlotCounts::of(&orders, NOW);
        assert_eq!(counts.count(slot_of(t)), 2);
        assert_eq!(ready_at_from(&counts, 0, t), Ok(t));
        assert_eq!(ready_at_from(&counts, 3, t), Ok(t));
        assert_eq!(ready_at_from(&counts, 2, t), Ok(start + SLOT_MS));
        assert!(check_slot(&counts, 2, t).is_err());
        assert!(check_slot(&counts, 2, t + SLOT_MS).is_ok());
        // Every slot for 7 days full: slot_full.
        let full: Vec<Order> = (0..=(AHEAD_MS / SLOT_MS) + 1)
            .map(|k| ready_in(k as u64, start + k * SLOT_MS, OrderStatus::Pending))
            .collect();
        let e = ready_at_from(&SlotCounts::of(&full, NOW), 1, t).unwrap_err();
        assert_eq!(e.code, ErrorCode::SlotFull);
    }

    /// `scheduled_for`: unparseable, too soon or too far is `invalid`.
    #[test]
    fn scheduled_for_checks() {
        let field = |e: ProtocolError| (e.code, e.field);
        let want = (ErrorCode::Invalid, Some("scheduled_for".to_owned()));
        assert_eq!(
            field(parse_scheduled_for("tomorrow", NOW).unwrap_err()),
            want
        );
        let far = format_ms(NOW + AHEAD_MS + 1);
        assert_eq!(field(parse_scheduled_for(&far, NOW).unwrap_err()), want);
        let at = parse_scheduled_for(&format_ms(NOW + 60 * MIN), NOW).unwrap();
        let t = kitchen_done_ms(NOW, 12, 3);
        assert_eq!(t, NOW + 15 * MIN);
        assert_eq!(scheduled_ready_at(at, t, 25), Ok(at - 25 * MIN));
        let soon = NOW + 30 * MIN;
        assert_eq!(field(scheduled_ready_at(soon, t, 25).unwrap_err()), want);
        assert_eq!(scheduled_ready_at(t, t, 0), Ok(t));
    }

    /// The fire time is `ready_at` less the prep minutes, for scheduled orders only.
    #[test]
    fn fire_time() {
        let mut o = ready_in(1, NOW + 60 * MIN, OrderStatus::Scheduled);
        o.prep_minutes = 12;
        assert_eq!(fire_ms(&o), Some(NOW + 48 * MIN));
        o.status = OrderStatus::Pending;
        assert_eq!(fire_ms(&o), None);
    }
}
