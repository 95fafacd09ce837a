//! System alerts (DESIGN §5 `system_alert`): raised by the relay itself on
//! its periodic tick (late orders, no crew), after failed payments and on a
//! store error; resolved by `alert_ack` or when the cause goes away.

use std::collections::VecDeque;

use kfood_protocol::event::Event;
use kfood_protocol::messages::{self as m, ActivityKind, AlertKind, Severity, SystemAlert};
use kfood_protocol::order::OrderStatus;
use kfood_protocol::time::{format_ms, Millis};
use kfood_protocol::ProtocolError;
use serde_json::{json, Value};

use super::{Caller, Decision};
use crate::config::Limits;
use crate::log::State;

/// Window in which failed payments are counted for the burst alert.
const PAYMENT_FAILURE_WINDOW_MS: Millis = 5 * 60_000;

/// What the alerts watch between ticks. Not part of the log: after a
/// restart the counting starts again.
#[derive(Debug, Default)]
pub struct Watch {
    payment_failures: VecDeque<Millis>,
    /// (day number, failed payments that day).
    pub(super) failures_today: (i64, u64),
    no_crew_since: Option<Millis>,
}

/// Day number (UTC) of a timestamp, for "today" figures.
pub fn day_of(ms: Millis) -> i64 {
    ms.div_euclid(86_400_000)
}

fn open_alert(st: &State, kind: AlertKind) -> Option<&SystemAlert> {
    st.model.open_alerts().find(|a| a.kind == kind)
}

/// A new alert, as a decision of its own (the relay is its sender).
fn raise(
    st: &State,
    now: Millis,
    kind: AlertKind,
    severity: Severity,
    text: String,
    order_id: Option<u64>,
) -> Decision {
    let id = st.model.alerts.keys().next_back().copied().unwrap_or(0) + 1;
    tracing::warn!(alert = id, ?kind, "{text}");
    let mut d = Decision::default();
    let a = SystemAlert {
        id,
        kind,
        severity,
        text,
        order_id,
        at: format_ms(now),
        resolved: false,
        resolved_by: None,
    };
    d.emit(Event::SystemAlert(a), None, None);
    d
}

pub fn ack(
    st: &State,
    caller: &Caller,
    req: m::AlertAck,
    d: &mut Decision,
) -> Result<Value, ProtocolError> {
    let alert = st.model.alerts.get(&req.alert_id).ok_or_else(|| {
        ProtocolError::not_found(format!("no alert {}", req.alert_id)).with_field("alert_id")
    })?;
    if alert.resolved {
        return Ok(json!({ "alert": alert }));
    }
    let mut a = alert.clone();
    a.resolved = true;
    a.resolved_by = Some(caller.party());
    d.emit(Event::SystemAlert(a.clone()), None, Some(caller.sender()));
    d.note(
        &caller.user,
        ActivityKind::Admin,
        format!("acknowledged alert {}", a.id),
        a.order_id,
    );
    Ok(json!({ "alert": a }))
}

/// Counts a failed payment; a burst of them raises one alert.
pub fn payment_failed(st: &State, w: &mut Watch, limits: &Limits, now: Millis) -> Option<Decision> {
    let today = day_of(now);
    if w.failures_today.0 != today {
        w.failures_today = (today, 0);
    }
    w.failures_today.1 += 1;
    w.payment_failures.push_back(now);
    while w
        .payment_failures
        .front()
        .is_some_and(|t| now - t > PAYMENT_FAILURE_WINDOW_MS)
    {
        w.payment_failures.pop_front();
    }
    let n = w.payment_failures.len();
    (n >= limits.payment_failure_burst && open_alert(st, AlertKind::PaymentFailures).is_none())
        .then(|| {
            raise(
                st,
                now,
                AlertKind::PaymentFailures,
                Severity::Warning,
                format!("{n} failed payments in the last 5 minutes"),
                None,
            )
        })
}

pub fn store_failed(st: &State, cause: &str, now: Millis) -> Option<Decision> {
    open_alert(st, AlertKind::StoreError).is_none().then(|| {
        raise(
            st,
            now,
            AlertKind::StoreError,
            Severity::Critical,
            format!("the store refused a write: {cause}"),
            None,
        )
    })
}

/// The periodic checks; each alert raised or resolved is a decision of its
/// own, committed in order; alerts raised together take consecutive ids.
pub fn tick(
    st: &State,
    w: &mut Watch,
    limits: &Limits,
    now: Millis,
    crew_online: u64,
) -> Vec<Decision> {
    let mut out = Vec::new();
    // One lateness rule (DESIGN §6): `Order::is_late`.
    // Looked up per late order: a set, not a scan of every alert each time.
    let alerted: std::collections::HashSet<u64> = st
        .model
        .alerts
        .values()
        .filter(|a| a.kind == AlertKind::OrderLate)
        .filter_map(|a| a.order_id)
        .collect();
    let late: Vec<_> = st
        .model
        .orders
        .values()
        .filter(|o| o.is_late(now))
        .filter(|o| !alerted.contains(&o.id))
        .collect();
    let first_id = st.model.alerts.keys().next_back().copied().unwrap_or(0) + 1;
    for (i, o) in late.into_iter().enumerate() {
        let mut d = raise(
            st,
            now,
            AlertKind::OrderLate,
            Severity::Warning,
            format!(
                "{} is late (promised {})",
                o.code,
                o.eta.as_deref().unwrap_or("?")
            ),
            Some(o.id),
        );
        // Raised together: each takes the next alert id.
        if let Some((Event::SystemAlert(a), _, _)) = d.events.first_mut() {
            a.id = first_id + i as u64;
        }
        out.push(d);
    }
    let next_id = first_id + out.len() as u64;
    let waiting = st
        .model
        .orders
        .values()
        .any(|o| o.status == OrderStatus::Pending);
    if crew_online == 0 && waiting {
        let since = *w.no_crew_since.get_or_insert(now);
        let grace = i64::try_from(limits.no_crew_after_secs).unwrap_or(i64::MAX / 1000) * 1000;
        if now - since >= grace && open_alert(st, AlertKind::NoCrew).is_none() {
            let mut d = raise(
                st,
                now,
                AlertKind::NoCrew,
                Severity::Critical,
                "orders are waiting and no crew is connected".into(),
                None,
            );
            if let Some((Event::SystemAlert(a), _, _)) = d.events.first_mut() {
                a.id = next_id;
            }
            out.push(d);
        }
    } else {
        w.no_crew_since = None;
        if let Some(a) = open_alert(st, AlertKind::NoCrew).filter(|_| crew_online > 0) {
            let mut d = Decision::default();
            let resolved = SystemAlert {
                resolved: true,
                ..a.clone()
            };
            d.emit(Event::SystemAlert(resolved), None, None);
            out.push(d);
        }
    }
    out
}
