//! The catalogue (DESIGN §5): menu changes, promos and announcements. Each
//! is a function of the state and the request; a change that changes
//! nothing is acked with no event.

use kfood_protocol::event::{Event, MenuChange, MenuChangeItem};
use kfood_protocol::menu::{checked_text, normalize_promo_code, validate_item_id, MenuOp, Promo};
use kfood_protocol::messages::{self as m, ActivityKind, Announcement};
use kfood_protocol::time::{format_ms, parse_ms, Millis};
use kfood_protocol::{limits, ProtocolError};
use serde_json::{json, Value};

use super::{Caller, Decision};
use crate::log::State;
use crate::wire::to_value;

pub fn menu_update(
    st: &State,
    caller: &Caller,
    req: m::MenuUpdate,
    d: &mut Decision,
) -> Result<Value, ProtocolError> {
    let id = req.item.id.clone();
    validate_item_id(&id)?;
    let current = st.model.item(&id);
    let not_found =
        || ProtocolError::not_found(format!("no menu item `{id}`")).with_field("item.id");
    let (item, text) = match req.op {
        MenuOp::Upsert => {
            let item = match current {
                Some(c) => req.item.apply_to(c)?,
                None => req.item.clone().into_new_item()?,
            };
            let verb = if current.is_some() { "edited" } else { "added" };
            let text = format!("{verb} {} ({} cents)", item.name, item.price_cents);
            (MenuChangeItem::Item(item), text)
        }
        MenuOp::Remove => {
            let gone = current.ok_or_else(not_found)?;
            let text = format!("removed {}", gone.name);
            (MenuChangeItem::Removed { id: id.clone() }, text)
        }
        MenuOp::SetAvailable => {
            let mut item = current.ok_or_else(not_found)?.clone();
            item.available = req.item.available.ok_or_else(|| {
                ProtocolError::invalid("item.available", "set_available needs available")
            })?;
            let text = if item.available {
                format!("{} is back", item.name)
            } else {
                format!("86'd {}", item.name)
            };
            (MenuChangeItem::Item(item), text)
        }
    };
    let result = match &item {
        MenuChangeItem::Item(i) => to_value(i),
        MenuChangeItem::Removed { id } => json!({ "id": id }),
    };
    if let (MenuChangeItem::Item(new), Some(old)) = (&item, current) {
        if new == old {
            // Identical fields: acked with the item, no event (§6).
            return Ok(json!({ "item": result }));
        }
    }
    d.emit(
        Event::MenuUpdate(MenuChange { op: req.op, item }),
        None,
        Some(caller.sender()),
    );
    d.note(&caller.user, ActivityKind::Menu, text, None);
    Ok(json!({ "item": result }))
}

pub fn announce(
    st: &State,
    caller: &Caller,
    req: m::Announce,
    now: Millis,
    d: &mut Decision,
) -> Result<Value, ProtocolError> {
    let text = checked_text("text", &req.text, limits::MAX_ANNOUNCEMENT_CHARS)?;
    if text.trim().is_empty() {
        return Err(ProtocolError::invalid("text", "an announcement needs text"));
    }
    let expires_at = checked_time("expires_at", req.expires_at.as_deref())?;
    let id = st
        .model
        .announcements
        .keys()
        .next_back()
        .copied()
        .unwrap_or(0)
        + 1;
    let a = Announcement {
        id,
        audience: req.audience,
        kind: req.kind,
        text,
        expires_at,
        created_at: format_ms(now),
        by: caller.party(),
    };
    let note = format!("announced to {:?}: {}", a.audience, a.text).to_lowercase();
    d.emit(Event::Announcement(a.clone()), None, Some(caller.sender()));
    d.note(&caller.user, ActivityKind::Admin, note, None);
    Ok(json!({ "announcement": a }))
}

/// `percent_off` or `amount_off_cents`, checked; an existing promo keeps
/// its discount when neither is given.
fn discount(
    req: &m::PromoUpsert,
    existing: Option<&Promo>,
) -> Result<(Option<u32>, Option<i64>), ProtocolError> {
    match (req.percent_off, req.amount_off_cents) {
        (Some(_), Some(_)) => Err(ProtocolError::invalid(
            "percent_off",
            "give percent_off or amount_off_cents, not both",
        )),
        (Some(p), None) if (1..=100).contains(&p) => Ok((Some(p), None)),
        (Some(_), None) => Err(ProtocolError::invalid(
            "percent_off",
            "percent_off must be 1-100",
        )),
        (None, Some(a)) if (1..=limits::MAX_PRICE_CENTS).contains(&a) => Ok((None, Some(a))),
        (None, Some(_)) => Err(ProtocolError::invalid(
            "amount_off_cents",
            format!("amount_off_cents must be 1-{}", limits::MAX_PRICE_CENTS),
        )),
        (None, None) => existing
            .map(|p| (p.percent_off, p.amount_off_cents))
            .ok_or_else(|| {
                ProtocolError::invalid(
                    "percent_off",
                    "a new promo needs percent_off or amount_off_cents",
                )
            }),
    }
}

pub fn promo_upsert(
    st: &State,
    caller: &Caller,
    req: m::PromoUpsert,
    d: &mut Decision,
) -> Result<Value, ProtocolError> {
    let code = normalize_promo_code(&req.code)?;
    let existing = st.model.promos.get(&code);
    let (percent_off, amount_off_cents) = discount(&req, existing)?;
    let promo = Promo {
        code: code.clone(),
        percent_off,
        amount_off_cents,
        active: req.active,
        expires_at: checked_time("expires_at", req.expires_at.as_deref())?,
    };
    if existing == Some(&promo) {
        return Ok(json!({ "promo": promo }));
    }
    let state = if promo.active { "active" } else { "inactive" };
    d.emit(
        Event::PromoUpdate(promo.clone()),
        None,
        Some(caller.sender()),
    );
    d.note(
        &caller.user,
        ActivityKind::Admin,
        format!("set promo {code} ({state})"),
        None,
    );
    Ok(json!({ "promo": promo }))
}

/// An optional RFC 3339 time, normalised; `invalid` naming `field` else.
fn checked_time(field: &str, v: Option<&str>) -> Result<Option<String>, ProtocolError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_ms(s).map(|ms| Some(format_ms(ms))).ok_or_else(|| {
            ProtocolError::invalid(field, format!("{field} must be an RFC 3339 time"))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Times are normalised, and a bad one names its field.
    #[test]
    fn times_are_checked() {
        assert_eq!(checked_time("t", None).unwrap(), None);
        assert_eq!(checked_time("t", Some("")).unwrap(), None);
        assert!(checked_time("t", Some("2030-01-01T00:00:00Z"))
            .unwrap()
            .is_some());
        assert_eq!(
            checked_time("t", Some("soon"))
                .unwrap_err()
                .field
                .as_deref(),
            Some("t")
        );
    }
}
