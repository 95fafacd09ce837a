//! The kitchen's capacity (DESIGN §14): `capacity_set`. The rules (ranges,
//! what crew may set, when a pause ends) are `kfood_protocol::capacity`'s;
//! this decides the request against the relay's state.

use kfood_protocol::capacity::CapacitySet;
use kfood_protocol::event::Event;
use kfood_protocol::messages::ActivityKind;
use kfood_protocol::time::{format_ms, Millis};
use kfood_protocol::ProtocolError;
use serde_json::{json, Value};

use super::{Caller, Decision};
use crate::log::State;

/// A `capacity_set`: values that change nothing are acked with no event;
/// otherwise one `capacity_update` to everyone. The ack carries the
/// setting as it now stands.
pub fn capacity_set(
    st: &State,
    caller: &Caller,
    req: CapacitySet,
    now: Millis,
    d: &mut Decision,
) -> Result<Value, ProtocolError> {
    let current = &st.model.capacity;
    let mut next = current.changed_by(&req, now)?;
    if next.same_setting(current) {
        return Ok(json!({ "capacity": current }));
    }
    next.at = Some(format_ms(now));
    next.by = Some(caller.user.clone());
    let text = describe(&next);
    d.emit(
        Event::CapacityUpdate(next.clone()),
        None,
        Some(caller.sender()),
    );
    d.note(&caller.user, ActivityKind::Admin, text, None);
    Ok(json!({ "capacity": next }))
}

/// The activity log's line for a new setting.
fn describe(c: &kfood_protocol::capacity::Capacity) -> String {
    let state = match (c.paused, c.paused_until.as_deref()) {
        (false, _) => "ordering open".to_owned(),
        (true, None) => "ordering paused".to_owned(),
        (true, Some(until)) => format!("ordering paused until {until}"),
    };
    let slots = match c.orders_per_slot {
        0 => "no slot limit".to_owned(),
        n => format!("{n} orders per 15 minutes"),
    };
    format!("capacity: {state}, {slots}, +{} min", c.extra_minutes)
}
