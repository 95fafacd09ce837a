//! The day's report: day bounds in a zone, and every figure's rule.

use super::*;
use crate::messages::Severity;
use crate::order::tests_support::order;
use crate::time::format_ms;
use crate::Role;

/// 2027-01-15T08:00:00Z: 17:00 in Seoul.
const NOW: Millis = 1_800_000_000_000;
const MIN: Millis = 60_000;

fn seoul_day() -> Day {
    Day::parse("2027-01-15", "Asia/Seoul").unwrap()
}

fn entry(status: OrderStatus, at: Millis, note: Option<&str>) -> HistoryEntry {
    HistoryEntry {
        status,
        at: format_ms(at),
        by: UserRef {
            id: "kim".into(),
            name: "Kim".into(),
            role: Role::Crew,
        },
        note: note.map(str::to_owned),
    }
}

/// An order placed at `at` and moved through `moves` (minutes after).
fn placed(id: u64, at: Millis, moves: &[(OrderStatus, Millis)]) -> Order {
    let mut o = order(id, "amy");
    o.created_at = format_ms(at);
    o.history[0].at = format_ms(at);
    for (s, after) in moves {
        o.status = *s;
        o.history.push(entry(*s, at + after * MIN, None));
    }
    o
}

fn cancel(o: &mut Order, at: Millis, reason: &str) {
    o.status = OrderStatus::Cancelled;
    o.history
        .push(entry(OrderStatus::Cancelled, at, Some(reason)));
    o.payment.status = match o.payment.status {
        PaymentStatus::Paid => PaymentStatus::Refunded,
        _ => PaymentStatus::Void,
    };
}

fn cash(mut o: Order) -> Order {
    o.payment.method = PaymentMethod::Cash;
    o.payment.status = PaymentStatus::Due;
    o.payment.amount_cents = None;
    o
}

#[track_caller]
fn check_date(input: &str, ok: bool) {
    assert_eq!(Day::parse(input, "Asia/Seoul").is_ok(), ok, "{input:?}");
}

/// Only a real calendar day as YYYY-MM-DD is a date; anything else names the field.
#[test]
fn dates() {
    check_date("2027-01-15", true);
    check_date("2024-02-29", true);
    check_date("2027-02-29", false);
    check_date("2027-13-01", false);
    check_date("2027-1-15", false);
    check_date("20270115", false);
    check_date("", false);
    check_date("2027-01-15T00:00", false);
    check_date("+027-01-15", false);
    let e = Day::parse("today", "UTC").unwrap_err();
    assert_eq!(e.field.as_deref(), Some("date"));
}

/// A day runs from local midnight to local midnight; a zone change day is 23 hours.
#[test]
fn day_bounds_follow_the_zone() {
    let d = seoul_day();
    assert_eq!(format_ms(d.start_ms), "2027-01-14T15:00:00.000Z");
    assert_eq!(d.end_ms - d.start_ms, 24 * 60 * MIN);
    assert_eq!(d.hour_of(NOW), 17);
    assert_eq!((d.date(), d.tz()), ("2027-01-15".to_owned(), "Asia/Seoul"));
    let spring = Day::parse("2026-03-08", "America/New_York").unwrap();
    assert_eq!(spring.end_ms - spring.start_ms, 23 * 60 * MIN);
    let unknown = Day::parse("2027-01-15", "Mars/Olympus").unwrap();
    assert_eq!(unknown.tz(), "UTC");
    assert_eq!(format_ms(unknown.start_ms), "2027-01-15T00:00:00.000Z");
    assert_eq!(
        local_clock("Asia/Seoul", &format_ms(NOW + 3 * MIN)),
        "17:03"
    );
    assert_eq!(local_clock("Asia/Seoul", "soon"), "--:--");
    let today = Day::today("Asia/Seoul", d.start_ms - 1);
    assert_eq!(today.date(), "2027-01-14");
}

/// Gross, discounts, refunds on their own date, net, and the split by method reconcile.
#[test]
fn money_reconciles() {
    let day = seoul_day();
    let mut served = placed(
        1,
        NOW,
        &[(OrderStatus::Preparing, 2), (OrderStatus::Ready, 12)],
    );
    served.discount_cents = 135;
    served.total_cents = 1215;
    served.promo_code = Some("WELCOME10".into());
    let waiting = cash(placed(2, NOW + 5 * MIN, &[]));
    let mut refunded = placed(3, NOW + 61 * MIN, &[]);
    cancel(&mut refunded, NOW + 63 * MIN, "changed my mind");
    let mut voided = cash(placed(4, NOW, &[]));
    cancel(&mut voided, NOW + MIN, "");
    // Placed the day before, refunded today.
    let mut yesterday = placed(5, day.start_ms - 30 * MIN, &[]);
    cancel(&mut yesterday, day.start_ms + 30 * MIN, "no rice");
    // Placed the day after: nothing of it counts.
    let tomorrow = placed(6, day.end_ms, &[]);
    let all = [served, waiting, refunded, voided, yesterday, tomorrow];
    let input = DayOrders::pick(&day, &all, &[]);
    assert_eq!(
        input.orders.iter().map(|o| o.id).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    let log = LogFacts {
        payment_failures: 2,
        partial: false,
    };
    let r = build(&day, &input, log, NOW + 70 * MIN);
    assert_eq!(
        (r.date.as_str(), r.tz.as_str()),
        ("2027-01-15", "Asia/Seoul")
    );
    assert_eq!(r.gross_cents, 3 * 1350, "the void cash order is not sales");
    assert_eq!(r.discount_cents, 135);
    assert_eq!(
        r.refunded_cents,
        2 * 1350,
        "today's refunds, whenever placed"
    );
    assert_eq!(r.net_cents, 3 * 1350 - 135 - 2 * 1350);
    assert_eq!(r.cash_cents, 1350);
    assert_eq!(r.cash_cents + r.card_cents, r.net_cents);
    assert_eq!(r.orders_by_status["ready"], 1);
    assert_eq!(r.orders_by_status["pending"], 1);
    assert_eq!(r.orders_by_status["cancelled"], 2);
    assert_eq!(r.orders_by_status["delivered"], 0);
    assert_eq!(r.hours.len(), 24);
    assert!(r
        .hours
        .iter()
        .enumerate()
        .all(|(i, h)| h.hour as usize == i));
    assert_eq!(
        (r.hours[17].orders, r.hours[17].revenue_cents),
        (2, 1215 + 1350)
    );
    assert_eq!((r.hours[18].orders, r.hours[18].revenue_cents), (1, 1350));
    let hours: i64 = r.hours.iter().map(|h| h.revenue_cents).sum();
    assert_eq!(hours, r.gross_cents - r.discount_cents);
    assert_eq!(r.items.len(), 1);
    assert_eq!(
        (r.items[0].qty, r.items[0].revenue_cents),
        (3, r.gross_cents)
    );
    let codes: Vec<_> = r.cancellations.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes, ["K-0005", "K-0004", "K-0003"], "oldest first");
    assert_eq!(r.cancellations[0].reason, "no rice");
    assert_eq!(r.cancellations[1].refunded_cents, 0);
    let back: i64 = r.cancellations.iter().map(|c| c.refunded_cents).sum();
    assert_eq!(back, r.refunded_cents);
    assert_eq!(r.cancellations[2].by.name, "Kim");
    assert_eq!((r.payment_failures, r.partial), (2, false));
}

/// Prep runs from the first pending entry to the last ready one, with one decimal; none gives null.
#[test]
fn prep_times() {
    let day = seoul_day();
    let empty = build(&day, &DayOrders::default(), LogFacts::default(), NOW);
    assert_eq!((empty.prep_min_avg, empty.prep_min_p90), (None, None));
    assert_eq!(empty.net_cents, 0);
    let mut orders: Vec<Order> = (1..=10)
        .map(|i| placed(i, NOW, &[(OrderStatus::Ready, i as Millis)]))
        .collect();
    // Recalled and bumped again: the last ready counts.
    orders[0]
        .history
        .push(entry(OrderStatus::Preparing, NOW + 3 * MIN, None));
    orders[0]
        .history
        .push(entry(OrderStatus::Ready, NOW + 20 * MIN + 20_000, None));
    // Still cooking: no prep time yet.
    orders.push(placed(11, NOW, &[(OrderStatus::Preparing, 1)]));
    let r = build(
        &day,
        &DayOrders::pick(&day, &orders, &[]),
        LogFacts::default(),
        NOW,
    );
    // 20.33 + 2 + … + 10 = 74.33 over 10.
    assert_eq!(r.prep_min_avg, Some(7.4));
    assert_eq!(r.prep_min_p90, Some(10.0));
}

/// Late: an order_late alert was raised for it, or it is late now; other days' alerts do not count.
#[test]
fn late_orders() {
    let day = seoul_day();
    let alerted = placed(1, NOW, &[(OrderStatus::Delivered, 40)]);
    let mut overdue = placed(2, NOW, &[]);
    overdue.eta = Some(format_ms(NOW + 10 * MIN));
    let on_time = placed(3, NOW, &[]);
    let alert = |id, order_id| SystemAlert {
        id,
        kind: AlertKind::OrderLate,
        severity: Severity::Warning,
        text: "late".into(),
        order_id: Some(order_id),
        at: format_ms(NOW),
        resolved: true,
        resolved_by: None,
    };
    let alerts = [alert(1, 1), alert(2, 99)];
    let input = DayOrders::pick(&day, &[alerted, overdue, on_time], &alerts);
    assert_eq!(input.late_alerted, BTreeSet::from([1]));
    assert_eq!(
        build(&day, &input, LogFacts::default(), NOW + 11 * MIN).late,
        2
    );
    assert_eq!(
        build(&day, &input, LogFacts::default(), NOW + 9 * MIN).late,
        1
    );
}

/// The report travels as the JSON of DESIGN §14 and reads back the same.
#[test]
fn wire_form() {
    let day = seoul_day();
    let r = build(
        &day,
        &DayOrders::default(),
        LogFacts {
            payment_failures: 0,
            partial: true,
        },
        NOW,
    );
    let v = serde_json::to_value(&r).unwrap();
    for k in [
        "date",
        "tz",
        "orders_by_status",
        "gross_cents",
        "discount_cents",
        "refunded_cents",
        "net_cents",
        "cash_cents",
        "card_cents",
        "items",
        "hours",
        "prep_min_avg",
        "prep_min_p90",
        "late",
        "cancellations",
        "payment_failures",
        "partial",
    ] {
        assert!(v.get(k).is_some(), "{k}");
    }
    assert_eq!(v["prep_min_avg"], serde_json::Value::Null);
    assert_eq!(v["partial"], true);
    assert_eq!(serde_json::from_value::<DayReport>(v).unwrap(), r);
}
