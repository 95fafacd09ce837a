//! The order state machine, lateness, eta, history and line marks.

use super::*;
use OrderStatus::*;

const NOW: Millis = 1_800_000_000_000;

#[track_caller]
fn check(
    from: OrderStatus,
    to: OrderStatus,
    role: Role,
    age_s: i64,
    expected: Result<Transition, ErrorCode>,
) {
    let got = check_transition(from, to, role, NOW - age_s * 1000, NOW).map_err(|e| e.code);
    assert_eq!(got, expected, "{from} -> {to} by {role} after {age_s}s");
}

#[test]
fn every_transition() {
    use Transition::*;
    let it = Err(ErrorCode::InvalidTransition);
    for role in [Role::Crew, Role::Admin] {
        check(Pending, Preparing, role, 0, Ok(Bump));
        check(Preparing, Ready, role, 0, Ok(Bump));
        check(Ready, Delivered, role, 0, Ok(Bump));
        check(Pending, Ready, role, 0, it);
        check(Pending, Delivered, role, 0, it);
        check(Preparing, Delivered, role, 0, it);
        check(Ready, Preparing, role, 899, Ok(Recall));
        check(Ready, Preparing, role, 900, Ok(Recall));
        check(Ready, Preparing, role, 901, it);
        check(Delivered, Ready, role, 900, Ok(Recall));
        check(Delivered, Ready, role, 901, it);
        check(Delivered, Preparing, role, 0, it);
        check(Preparing, Pending, role, 10, Ok(Recall));
        check(Ready, Pending, role, 0, it);
        check(Pending, Cancelled, role, 0, Ok(Cancel));
        check(Preparing, Cancelled, role, 0, Ok(Cancel));
        check(Ready, Cancelled, role, 0, it);
        check(Delivered, Cancelled, role, 0, it);
        check(Cancelled, Pending, role, 0, it);
        for s in OrderStatus::ALL {
            check(s, s, role, 0, Ok(Same));
        }
    }
    check(Pending, Cancelled, Role::Customer, 0, Ok(Cancel));
    check(Preparing, Cancelled, Role::Customer, 0, it);
    check(
        Pending,
        Preparing,
        Role::Customer,
        0,
        Err(ErrorCode::Forbidden),
    );
    check(Cancelled, Cancelled, Role::Customer, 0, Ok(Same));
    check(Delivered, Ready, Role::Customer, 0, it);
    // Scheduled orders (DESIGN §14): fired by the relay or early by the
    // kitchen, cancelled by anyone like a pending one, never gone back to.
    for role in [Role::Crew, Role::Admin, Role::System] {
        check(Scheduled, Pending, role, 0, Ok(Bump));
    }
    for role in [Role::Customer, Role::Crew, Role::Admin] {
        check(Scheduled, Cancelled, role, 0, Ok(Cancel));
    }
    check(
        Scheduled,
        Pending,
        Role::Customer,
        0,
        Err(ErrorCode::Forbidden),
    );
    check(Scheduled, Preparing, Role::Crew, 0, it);
    check(Pending, Scheduled, Role::Crew, 0, it);
    check(Preparing, Scheduled, Role::Admin, 0, it);
    check(Pending, Preparing, Role::System, 0, it);
    check(Scheduled, Cancelled, Role::System, 0, it);
}

#[test]
fn lateness() {
    let at = |ms: Millis| crate::time::format_ms(ms);
    let order = |status, kind, eta: Option<Millis>| Order {
        id: 1,
        code: order_code(1),
        client_order_id: String::new(),
        customer: Party {
            id: "ann".into(),
            name: "Ann".into(),
        },
        lines: vec![],
        instructions: String::new(),
        fulfillment: Fulfillment {
            kind,
            address: None,
        },
        status,
        subtotal_cents: 0,
        discount_cents: 0,
        total_cents: 0,
        promo_code: None,
        payment: Payment {
            method: PaymentMethod::Cash,
            status: PaymentStatus::Due,
            id: None,
            brand: None,
            last4: None,
            amount_cents: None,
        },
        prep_minutes: 10,
        delivery_minutes: 0,
        eta: eta.map(at),
        scheduled_for: None,
        ready_at: None,
        created_at: at(0),
        updated_at: at(0),
        history: vec![],
        modified: false,
    };
    use FulfillmentKind::*;
    assert!(order(Preparing, Pickup, Some(NOW - 1)).is_late(NOW));
    assert!(!order(Preparing, Pickup, Some(NOW + 1)).is_late(NOW));
    assert!(!order(Ready, Pickup, Some(NOW - 1)).is_late(NOW));
    assert!(order(Ready, Delivery, Some(NOW - 1)).is_late(NOW));
    assert!(!order(Delivered, Delivery, None).is_late(NOW));
    assert!(!order(Scheduled, Pickup, Some(NOW - 1)).is_late(NOW));
}

/// A recall does not restart the clock: the forward move into the status
/// counts, and `delivered → ready` restores the eta it had when ready.
#[test]
fn entered_ms_counts_from_the_forward_move() {
    let mut o = tests_support::order(1, "ann");
    let t0 = NOW;
    let step = |o: &mut Order, s: OrderStatus, at: Millis| {
        o.status = s;
        o.push_history(HistoryEntry {
            status: s,
            at: crate::time::format_ms(at),
            by: o.history[0].by.clone(),
            note: None,
        });
    };
    step(&mut o, Preparing, t0 + 60_000);
    step(&mut o, Ready, t0 + 120_000);
    let ready_eta = o.compute_eta();
    step(&mut o, Delivered, t0 + 180_000);
    step(&mut o, Ready, t0 + 240_000);
    assert_eq!(o.entered_ms(), t0 + 120_000);
    assert_eq!(o.compute_eta(), ready_eta);
    step(&mut o, Preparing, t0 + 300_000);
    assert_eq!(o.entered_ms(), t0 + 60_000);
}

/// Every `line_done` rule of DESIGN §13.
#[test]
fn line_marks() {
    let cook = UserRef {
        id: "kim".into(),
        name: "Kim".into(),
        role: Role::Crew,
    };
    let mut o = tests_support::order(1, "ann");
    let mut drink = o.lines[0].clone();
    drink.station = "drinks".into();
    o.lines.push(drink);
    let e = o.mark_line(2, true, &cook, NOW, false).unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Invalid, Some("line"))
    );
    // A mark on a pending order starts it, with a history entry by the cook.
    assert_eq!(o.mark_line(0, true, &cook, NOW, false), Ok(true));
    assert_eq!(o.status, Preparing);
    assert_eq!(
        o.history.last().map(|h| (h.status, h.by.id.as_str())),
        Some((Preparing, "kim"))
    );
    let entries = o.history.len();
    // A repeat changes nothing; undo is allowed and never moves the status.
    assert_eq!(o.mark_line(0, true, &cook, NOW, false), Ok(false));
    assert_eq!(o.mark_line(0, false, &cook, NOW, false), Ok(true));
    assert_eq!(
        (o.status, o.history.len(), o.lines_done()),
        (Preparing, entries, 0)
    );
    // All done stays preparing for the expo, unless auto-ready.
    o.mark_line(0, true, &cook, NOW, false).unwrap();
    o.mark_line(1, true, &cook, NOW, false).unwrap();
    assert!(o.all_done());
    assert_eq!(o.status, Preparing);
    o.mark_line(1, false, &cook, NOW, true).unwrap();
    o.mark_line(1, true, &cook, NOW, true).unwrap();
    assert_eq!(o.status, Ready);
    let e = o.mark_line(1, false, &cook, NOW, false).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidTransition);
    // A resend of the mark that made it ready is acked, not refused.
    assert_eq!(o.mark_line(1, true, &cook, NOW, true), Ok(false));
}

/// Kitchen notes are notes without a move; recall follows the window.
#[test]
fn kitchen_notes_and_recallable() {
    let mut o = tests_support::order(1, "ann");
    let by = o.history[0].by.clone();
    let entry = |status, at: Millis, note: Option<&str>| HistoryEntry {
        status,
        at: crate::time::format_ms(at),
        by: by.clone(),
        note: note.map(str::to_owned),
    };
    assert_eq!(o.kitchen_note(), None);
    o.push_history(entry(Pending, NOW, Some("no sesame")));
    assert_eq!(o.kitchen_note(), Some("no sesame"));
    o.status = Cancelled;
    o.push_history(entry(Cancelled, NOW, Some("changed my mind")));
    assert_eq!(o.kitchen_note(), Some("no sesame"));
    let mut r = tests_support::order(2, "ann");
    assert!(!r.recallable(NOW), "pending has nothing to go back to");
    r.status = Preparing;
    r.push_history(entry(Preparing, NOW, None));
    assert!(r.recallable(NOW + 900_000));
    assert!(!r.recallable(NOW + 900_001));
}

/// History keeps at most 100 entries, the placed one first.
#[test]
fn history_is_bounded() {
    let mut o = tests_support::order(1, "ann");
    for i in 0..150 {
        o.push_history(HistoryEntry {
            status: Pending,
            at: crate::time::format_ms(NOW + i),
            by: o.history[0].by.clone(),
            note: Some(format!("n{i}")),
        });
    }
    assert_eq!(o.history.len(), crate::limits::MAX_HISTORY);
    assert_eq!(o.history[0].note, None);
    assert_eq!(o.history[99].note.as_deref(), Some("n149"));
    // Notes go first: the move into the current status stays.
    let mut p = tests_support::order(2, "ann");
    p.status = Preparing;
    p.push_history(HistoryEntry {
        status: Preparing,
        at: crate::time::format_ms(NOW),
        by: p.history[0].by.clone(),
        note: None,
    });
    for i in 0..150 {
        p.push_history(HistoryEntry {
            status: Preparing,
            at: crate::time::format_ms(NOW + 1 + i),
            by: p.history[0].by.clone(),
            note: Some(format!("n{i}")),
        });
    }
    assert_eq!(p.history.len(), crate::limits::MAX_HISTORY);
    assert_eq!(p.entered_ms(), NOW);
}

/// A scheduled order: its eta is its slot; fired, its age and eta count
/// from the firing, never before the slot.
#[test]
fn scheduled_orders_count_from_firing() {
    let mut o = tests_support::order(1, "ann");
    let ready = NOW + 3_600_000;
    o.status = Scheduled;
    o.history[0].status = Scheduled;
    o.ready_at = Some(crate::time::format_ms(ready));
    assert_eq!(o.compute_eta(), o.ready_at);
    assert_eq!(o.kitchen_since_ms(), NOW);
    let fire = ready - 12 * 60_000;
    o.status = Pending;
    o.push_history(HistoryEntry {
        status: Pending,
        at: crate::time::format_ms(fire),
        by: crate::capacity::relay_actor(),
        note: None,
    });
    assert_eq!(o.entered_ms(), fire);
    assert_eq!(o.kitchen_since_ms(), fire);
    assert_eq!(o.compute_eta(), o.ready_at);
    // Fired early, the slot still holds; started late, the kitchen's time.
    o.history[1].at = crate::time::format_ms(NOW);
    assert_eq!(o.compute_eta(), o.ready_at);
    o.history[1].at = crate::time::format_ms(ready);
    assert_eq!(
        o.compute_eta(),
        Some(crate::time::format_ms(ready + 12 * 60_000))
    );
    // Started, the kitchen's own estimate.
    o.status = Preparing;
    o.push_history(HistoryEntry {
        status: Preparing,
        at: crate::time::format_ms(NOW),
        by: crate::capacity::relay_actor(),
        note: None,
    });
    assert_eq!(
        o.compute_eta(),
        Some(crate::time::format_ms(NOW + 12 * 60_000))
    );
}

#[test]
fn codes() {
    assert_eq!(order_code(42), "K-0042");
    assert_eq!(order_code(12345), "K-12345");
}
