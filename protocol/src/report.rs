//! The day's report (DESIGN §14): what a restaurant's day came to, as one
//! typed value that the relay builds (`GET /api/report`) and `kfood-admin`
//! decodes and prints. Pure: the relay hands in the orders that concern the
//! day and the two facts only its log knows; everything else is a rule here.
//!
//! The rules, and the decisions DESIGN leaves open:
//! * An order belongs to the local date (in the relay's `tz`) of its
//!   `created_at`. `orders_by_status`, `items`, `hours`, prep times and
//!   `late` cover those orders.
//! * gross = Σ `subtotal_cents` of the day's orders that are not cancelled
//!   unpaid (a cancelled cash order, payment `void`); `discount_cents` the
//!   same orders' discounts. A paid order that was cancelled stays in gross
//!   and its refund is counted in `refunded_cents`.
//! * A refund counts on its own date: it happens with the cancellation, so
//!   its time is the `cancelled` history entry's. `net = gross − discount −
//!   refunded`.
//! * `cash_cents` + `card_cents` = `net`: each method's totals of the day's
//!   orders in gross (cash still due counts: it is collected at the
//!   counter), less that method's refunds made that day.
//! * `items`: quantity and `qty × unit_price_cents` per item over the orders
//!   in gross, so Σ `revenue_cents` = gross. `hours`: orders placed in each
//!   local hour (0–23, every hour) and their totals (subtotal − discount) —
//!   the same orders, so Σ `revenue_cents` = gross − discount.
//! * Prep: from the first `pending` history entry (a scheduled order's
//!   firing) to the last `ready` one, for the day's orders that reached
//!   `ready` or `delivered`; minutes with one decimal; p90 by nearest rank;
//!   `null` when no order qualifies.
//! * `late`: the day's orders for which the relay raised an `order_late`
//!   alert (the one lateness rule, [`Order::is_late`], checked as the day
//!   went), or that are late now.
//! * `cancellations`: the cancellations made that day, oldest first: `code`
//!   is the order's code (`K-0042`), `reason` what the canceller wrote, `by`
//!   who, `at` when, `refunded_cents` what was given back (0 for cash). Their
//!   refunds add up to `refunded_cents`.
//! * `payment_failures`: `payment_failed` events of that day (no order
//!   exists for them, so only the log has them).
//! * `partial`: the retained log no longer reaches back to the day's start,
//!   so `payment_failures` may be short (orders come from the relay's
//!   folded state, which keeps every order).

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::ProtocolError;
use crate::messages::{AlertKind, SystemAlert};
use crate::order::{HistoryEntry, PaymentMethod, PaymentStatus};
use crate::time::{parse_ms, Millis};
use crate::{Order, OrderStatus, UserRef};

/// The report of one local day (DESIGN §14).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayReport {
    /// `YYYY-MM-DD`, local to `tz`.
    pub date: String,
    /// The time zone the day is counted in (IANA name).
    pub tz: String,
    /// Every status, with zeros.
    pub orders_by_status: BTreeMap<String, u64>,
    pub gross_cents: i64,
    pub discount_cents: i64,
    pub refunded_cents: i64,
    pub net_cents: i64,
    pub cash_cents: i64,
    pub card_cents: i64,
    /// Best sellers first (quantity, then revenue, then id).
    pub items: Vec<ItemSales>,
    /// Every local hour 0–23, in order.
    pub hours: Vec<HourSales>,
    pub prep_min_avg: Option<f64>,
    pub prep_min_p90: Option<f64>,
    pub late: u64,
    pub cancellations: Vec<Cancellation>,
    pub payment_failures: u64,
    pub partial: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemSales {
    pub item_id: String,
    pub name: String,
    pub qty: u64,
    pub revenue_cents: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourSales {
    pub hour: u8,
    pub orders: u64,
    pub revenue_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancellation {
    /// The order's code, `K-0042`.
    pub code: String,
    pub reason: String,
    pub by: UserRef,
    pub at: String,
    pub refunded_cents: i64,
}

/// One local day in a time zone: its bounds and its clock.
#[derive(Debug, Clone)]
pub struct Day {
    date: Date,
    tz_name: String,
    tz: TimeZone,
    /// `[start_ms, end_ms)`: 23, 24 or 25 hours as the zone's clocks change.
    pub start_ms: Millis,
    pub end_ms: Millis,
}

impl Day {
    /// The day `date` (`YYYY-MM-DD`) in `tz`; anything else is `invalid`
    /// with `field: "date"`. A zone this build does not know counts in UTC
    /// (the report's `tz` says so).
    pub fn parse(date: &str, tz: &str) -> Result<Day, ProtocolError> {
        let bad = || ProtocolError::invalid("date", "date must be a day as YYYY-MM-DD");
        let b = date.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) {
            return Err(bad());
        }
        if !digits(5..7) || !digits(8..10) {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| date[r].parse::<i16>().map_err(|_| bad());
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let date = Date::new(y, m as i8, d as i8).map_err(|_| bad())?;
        Day::of(date, tz).ok_or_else(bad)
    }

    /// The local day in `tz` that holds `now`.
    pub fn today(tz: &str, now: Millis) -> Day {
        let (name, zone) = zone(tz);
        let date = Timestamp::from_millisecond(now)
            .map(|t| zone.to_datetime(t).date())
            .unwrap_or(Date::constant(1970, 1, 1));
        Day::of(date, &name).unwrap_or_else(Day::utc_epoch)
    }

    fn of(date: Date, tz: &str) -> Option<Day> {
        let (tz_name, tz) = zone(tz);
        let start = date.to_zoned_datetime(tz.clone()).ok()?;
        let end = date.tomorrow().ok()?.to_zoned_datetime(tz.clone()).ok()?;
        Some(Day {
            date,
            tz_name,
            tz,
            start_ms: start.timestamp().as_millisecond(),
            end_ms: end.timestamp().as_millisecond(),
        })
    }

    fn utc_epoch() -> Day {
        Day {
            date: Date::constant(1970, 1, 1),
            tz_name: "UTC".into(),
            tz: TimeZone::UTC,
            start_ms: 0,
            end_ms: 86_400_000,
        }
    }

    /// `YYYY-MM-DD`.
    pub fn date(&self) -> String {
        self.date.to_string()
    }

    pub fn tz(&self) -> &str {
        &self.tz_name
    }

    pub fn contains(&self, ms: Millis) -> bool {
        (self.start_ms..self.end_ms).contains(&ms)
    }

    /// Whether the RFC 3339 time `at` falls on this day.
    pub fn holds(&self, at: &str) -> bool {
        parse_ms(at).is_some_and(|ms| self.contains(ms))
    }

    /// The local hour (0–23) of `ms`.
    pub fn hour_of(&self, ms: Millis) -> u8 {
        Timestamp::from_millisecond(ms)
            .map(|t| self.tz.to_datetime(t).hour() as u8)
            .unwrap_or(0)
    }
}

/// `18:03`: the RFC 3339 time `at` on the clock of zone `tz` (UTC when
/// unknown), as the report's readers see the restaurant's day.
pub fn local_clock(tz: &str, at: &str) -> String {
    let (_, zone) = zone(tz);
    parse_ms(at)
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .map(|t| {
            let dt = zone.to_datetime(t);
            format!("{:02}:{:02}", dt.hour(), dt.minute())
        })
        .unwrap_or_else(|| "--:--".into())
}

/// The zone called `name`, or UTC when this build does not know it.
fn zone(name: &str) -> (String, TimeZone) {
    match TimeZone::get(name) {
        Ok(tz) => (name.to_owned(), tz),
        Err(_) => ("UTC".to_owned(), TimeZone::UTC),
    }
}

/// What only the relay's log knows of a day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogFacts {
    /// `payment_failed` events of the day in the retained log.
    pub payment_failures: u64,
    /// The retained log begins after the day's start.
    pub partial: bool,
}

/// The orders a report of `day` reads: those placed that day and those
/// cancelled that day (a refund counts on its own date), with the ids of
/// those for which an `order_late` alert was raised.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayOrders {
    pub orders: Vec<Order>,
    pub late_alerted: BTreeSet<u64>,
}

impl DayOrders {
    /// Picks the day's orders out of everything known (the relay's folded
    /// state keeps every order and every alert).
    pub fn pick<'a>(
        day: &Day,
        orders: impl IntoIterator<Item = &'a Order>,
        alerts: impl IntoIterator<Item = &'a SystemAlert>,
    ) -> DayOrders {
        let orders: Vec<Order> = orders
            .into_iter()
            .filter(|o| day.holds(&o.created_at) || cancelled(o).is_some_and(|h| day.holds(&h.at)))
            .cloned()
            .collect();
        let ids: BTreeSet<u64> = orders.iter().map(|o| o.id).collect();
        let late_alerted = alerts
            .into_iter()
            .filter(|a| a.kind == AlertKind::OrderLate)
            .filter_map(|a| a.order_id)
            .filter(|id| ids.contains(id))
            .collect();
        DayOrders {
            orders,
            late_alerted,
        }
    }
}

/// The history entry that cancelled `o`, if it is cancelled.
fn cancelled(o: &Order) -> Option<&HistoryEntry> {
    if o.status != OrderStatus::Cancelled {
        return None;
    }
    o.history
        .iter()
        .rev()
        .find(|h| h.status == OrderStatus::Cancelled)
}

/// Whether `o` counts in gross: anything but a cancelled order that was
/// never paid.
fn in_gross(o: &Order) -> bool {
    !(o.status == OrderStatus::Cancelled && o.payment.status != PaymentStatus::Refunded)
}

/// What was given back for `o` (a refunded card payment).
fn refund_of(o: &Order) -> i64 {
    if o.payment.status == PaymentStatus::Refunded {
        o.payment.amount_cents.unwrap_or(o.total_cents)
    } else {
        0
    }
}

/// Builds the report of `day` from its orders and the log's facts, as of `now`.
pub fn build(day: &Day, input: &DayOrders, log: LogFacts, now: Millis) -> DayReport {
    let mut r = DayReport {
        date: day.date(),
        tz: day.tz().to_owned(),
        orders_by_status: OrderStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), 0))
            .collect(),
        gross_cents: 0,
        discount_cents: 0,
        refunded_cents: 0,
        net_cents: 0,
        cash_cents: 0,
        card_cents: 0,
        items: Vec::new(),
        hours: (0..24)
            .map(|hour| HourSales {
                hour,
                orders: 0,
                revenue_cents: 0,
            })
            .collect(),
        prep_min_avg: None,
        prep_min_p90: None,
        late: 0,
        cancellations: Vec::new(),
        payment_failures: log.payment_failures,
        partial: log.partial,
    };
    let mut items: BTreeMap<&str, ItemSales> = BTreeMap::new();
    let mut prep = Vec::new();
    for o in &input.orders {
        if let Some(placed) = parse_ms(&o.created_at).filter(|ms| day.contains(*ms)) {
            placed_that_day(&mut r, day, &mut items, &mut prep, o, placed);
            if input.late_alerted.contains(&o.id) || o.is_late(now) {
                r.late += 1;
            }
        }
        if let Some(h) = cancelled(o).filter(|h| day.holds(&h.at)) {
            let refunded = refund_of(o);
            r.refunded_cents += refunded;
            if o.payment.method == PaymentMethod::Card {
                r.card_cents -= refunded;
            } else {
                r.cash_cents -= refunded;
            }
            r.cancellations.push(Cancellation {
                code: o.code.clone(),
                reason: h.note.clone().unwrap_or_default(),
                by: h.by.clone(),
                at: h.at.clone(),
                refunded_cents: refunded,
            });
        }
    }
    r.net_cents = r.gross_cents - r.discount_cents - r.refunded_cents;
    r.cancellations
        .sort_by_key(|c| (parse_ms(&c.at).unwrap_or(0), c.code.clone()));
    r.items = items.into_values().collect();
    r.items.sort_by(|a, b| {
        (b.qty, b.revenue_cents)
            .cmp(&(a.qty, a.revenue_cents))
            .then_with(|| a.item_id.cmp(&b.item_id))
    });
    (r.prep_min_avg, r.prep_min_p90) = prep_figures(prep);
    r
}

/// Adds an order placed on the day to the counts, sales and prep times.
fn placed_that_day<'o>(
    r: &mut DayReport,
    day: &Day,
    items: &mut BTreeMap<&'o str, ItemSales>,
    prep: &mut Vec<f64>,
    o: &'o Order,
    placed: Millis,
) {
    *r.orders_by_status
        .entry(o.status.as_str().to_owned())
        .or_default() += 1;
    if let Some(m) = prep_minutes(o) {
        prep.push(m);
    }
    if !in_gross(o) {
        return;
    }
    r.gross_cents += o.subtotal_cents;
    r.discount_cents += o.discount_cents;
    match o.payment.method {
        PaymentMethod::Card => r.card_cents += o.total_cents,
        PaymentMethod::Cash => r.cash_cents += o.total_cents,
    }
    if let Some(h) = r.hours.get_mut(usize::from(day.hour_of(placed))) {
        h.orders += 1;
        h.revenue_cents += o.total_cents;
    }
    for l in &o.lines {
        let e = items.entry(&l.item_id).or_insert_with(|| ItemSales {
            item_id: l.item_id.clone(),
            name: l.name.clone(),
            qty: 0,
            revenue_cents: 0,
        });
        e.qty += u64::from(l.qty);
        e.revenue_cents += i64::from(l.qty) * l.unit_price_cents;
    }
}

/// Minutes from the first `pending` entry to the last `ready` one, for an
/// order that reached `ready`.
fn prep_minutes(o: &Order) -> Option<f64> {
    if !matches!(o.status, OrderStatus::Ready | OrderStatus::Delivered) {
        return None;
    }
    let at = |h: &HistoryEntry| parse_ms(&h.at);
    let start = o
        .history
        .iter()
        .find(|h| h.status == OrderStatus::Pending)
        .and_then(at)
        .or_else(|| parse_ms(&o.created_at))?;
    let ready = o
        .history
        .iter()
        .rev()
        .find(|h| h.status == OrderStatus::Ready)
        .and_then(at)?;
    Some((ready - start).max(0) as f64 / 60_000.0)
}

/// Average and p90 (nearest rank), each with one decimal; `None` when empty.
fn prep_figures(mut prep: Vec<f64>) -> (Option<f64>, Option<f64>) {
    if prep.is_empty() {
        return (None, None);
    }
    prep.sort_by(f64::total_cmp);
    let avg = prep.iter().sum::<f64>() / prep.len() as f64;
    let rank = ((prep.len() as f64 * 0.9).ceil() as usize).clamp(1, prep.len());
    (Some(one_decimal(avg)), Some(one_decimal(prep[rank - 1])))
}

fn one_decimal(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests;
