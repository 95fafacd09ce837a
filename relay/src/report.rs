//! The day's report (DESIGN §14, `GET /api/report`): gathers what the
//! report reads and builds it with `kfood_protocol::report::build`, where
//! every rule lives.
//!
//! Where each figure comes from, and why:
//! * Orders come from the core's folded state. The relay never prunes it
//!   (only clients drop old closed orders), and every snapshot holds it
//!   whole, so it has every order of every day with its history — while
//!   the log is trimmed by `--log-retention` and would lose the orders of a
//!   busy week. The core picks the day's orders (a clone of them alone) and
//!   the report is built here, off the core's thread.
//! * `payment_failures` come from the log: a failed payment creates no
//!   order, so its `payment_failed` event is the only trace. The day's
//!   events are found by a binary search on seq (seqs and times rise
//!   together) and read on a blocking thread, never on the core's or the
//!   writer's. When retention has dropped the start of the day the report
//!   says `partial: true`.

use std::sync::atomic::Ordering;

use kfood_protocol::event::Event;
use kfood_protocol::report::{build, Day, DayOrders, DayReport, LogFacts};
use kfood_protocol::time::{now_ms, parse_ms, Millis};
use kfood_protocol::ProtocolError;
use tokio::sync::oneshot;

use crate::core::Command;
use crate::log::Logged;
use crate::shared::Shared;
use crate::store::{Store, StoreError};

/// Events decoded per read while counting a day's failed payments: large
/// enough that a busy day is a few hundred reads, small enough that one
/// read holds little memory.
pub const SCAN_PAGE: usize = 512;

/// The report of `date` (`YYYY-MM-DD`; today in the relay's `tz` when
/// absent). A bad date is `invalid` with `field: "date"`.
pub async fn day_report(shared: &Shared, date: Option<&str>) -> Result<DayReport, ProtocolError> {
    let tz = &shared.limits.tz;
    let day = match date {
        Some(d) => Day::parse(d, tz)?,
        None => Day::today(tz, now_ms()),
    };
    let (reply, answer) = oneshot::channel();
    let stopping = || ProtocolError::internal("the relay is stopping");
    shared
        .core
        .send(Command::Report {
            day: day.clone(),
            reply,
        })
        .await
        .map_err(|_| stopping())?;
    let orders = answer.await.map_err(|_| stopping())?;
    let store = shared.store.clone();
    let first = shared.first_seq.load(Ordering::SeqCst);
    let head = shared.head();
    let scan_day = day.clone();
    let facts = tokio::task::spawn_blocking(move || log_facts(&*store, first, head, &scan_day))
        .await
        .map_err(|e| ProtocolError::internal(e.to_string()))?
        .map_err(|e| ProtocolError::internal(e.to_string()))?;
    Ok(build(&day, &orders, facts, now_ms()))
}

/// The day's orders out of the core's state (the core's answer to
/// [`Command::Report`]).
pub fn day_orders(state: &crate::log::State, day: &Day) -> DayOrders {
    DayOrders::pick(
        day,
        state.model.orders.values(),
        state.model.alerts.values(),
    )
}

fn at(e: &Logged) -> Millis {
    parse_ms(&e.at).unwrap_or(0)
}

/// Counts the day's `payment_failed` events in the retained log
/// (`first..=head`) and says whether that log reaches back to its start.
pub fn log_facts(
    store: &dyn Store,
    first: u64,
    head: u64,
    day: &Day,
) -> Result<LogFacts, StoreError> {
    let oldest = store.events_from(first, 1)?.first().map(at);
    // Nothing was ever dropped when the log still begins at seq 1.
    let partial = first > 1 && oldest.is_none_or(|t| t > day.start_ms);
    // The first seq whose event is not before the day.
    let (mut lo, mut hi) = (first.max(1), head.saturating_add(1));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match store.events_from(mid, 1)?.first() {
            Some(e) if e.seq < hi && at(e) < day.start_ms => lo = e.seq + 1,
            _ => hi = mid,
        }
    }
    let mut payment_failures = 0;
    let mut from = lo;
    'scan: while from <= head {
        let page = store.events_from(from, SCAN_PAGE)?;
        if page.is_empty() {
            break;
        }
        for e in page {
            if e.seq > head || at(&e) >= day.end_ms {
                break 'scan;
            }
            from = e.seq + 1;
            if matches!(e.event, Event::PaymentFailed(_)) && day.contains(at(&e)) {
                payment_failures += 1;
            }
        }
    }
    Ok(LogFacts {
        payment_failures,
        partial,
    })
}
