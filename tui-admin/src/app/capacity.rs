//! The capacity panel (DESIGN §14): pause and resume online ordering (for
//! good or for a while), orders per 15-minute slot and extra minutes on
//! every ready time, as one form sending one `capacity_set`.

use kfood_protocol::capacity::{Capacity, CapacitySet};
use kfood_protocol::limits::{MAX_EXTRA_MINUTES, MAX_ORDERS_PER_SLOT};
use kfood_protocol::term::fmt;
use kfood_protocol::time::{parse_ms, Millis};
use kfood_protocol::Request;
use time::UtcOffset;

use crate::form::{Field, Form};

use super::forms::FormError;
use super::{clean, App, FormKind, Overlay};

/// The setting in words: "PAUSED until 19:00 · 4 per slot · +10 min".
pub fn capacity_summary(c: &Capacity, now: Millis, offset: UtcOffset) -> String {
    let state = if c.is_paused_at(now) {
        match c.paused_until.as_deref().and_then(parse_ms) {
            Some(t) => format!("PAUSED until {}", fmt::day_clock(t, now, offset)),
            None => "PAUSED until resumed".into(),
        }
    } else {
        "taking orders".into()
    };
    let slots = match c.orders_per_slot {
        0 => "no slot limit".to_owned(),
        n => format!("{n} per 15-min slot"),
    };
    format!("{state} · {slots} · +{} min", c.extra_minutes)
}

/// The panel, filled with the current setting; a pause that ends by itself
/// shows the minutes it has left.
pub(super) fn capacity_form(c: &Capacity, now: Millis, offset: UtcOffset) -> Form<FormKind> {
    let paused = c.is_paused_at(now);
    let left = c
        .paused_until
        .as_deref()
        .and_then(parse_ms)
        .filter(|_| paused)
        .map(|t| format!("{}m", (t - now + 59_999) / 60_000))
        .unwrap_or_default();
    let mut intro = vec![format!("Now: {}", capacity_summary(c, now, offset))];
    if let (Some(by), Some(at)) = (&c.by, c.at.as_deref()) {
        intro.push(format!(
            "Set by {} at {}",
            clean(&by.name),
            fmt::clock_of(at, offset)
        ));
    }
    Form::new(
        FormKind::Capacity,
        "Capacity",
        vec![
            Field::choice(
                "paused",
                "Paused",
                &["no", "yes"],
                if paused { "yes" } else { "no" },
            ),
            Field::text("until", "Paused for", &left, 40).hint("empty = until resumed; 30m, 2h"),
            Field::text("slot", "Orders per slot", &c.orders_per_slot.to_string(), 4)
                .hint("per 15 minutes; 0 = no limit"),
            Field::text("extra", "Extra minutes", &c.extra_minutes.to_string(), 3)
                .hint("added to every ready time"),
        ],
    )
    .intro(intro)
}

/// The `capacity_set` the filled panel makes.
pub(super) fn capacity_request(form: &Form<FormKind>, now: Millis) -> Result<Request, FormError> {
    let number = |key: &str, max: u32, why: &str| match form.get(key).trim().parse::<u32>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err((key.to_owned(), why.to_owned())),
    };
    let orders_per_slot = number(
        "slot",
        MAX_ORDERS_PER_SLOT,
        &format!("0 to {MAX_ORDERS_PER_SLOT} orders (0: no limit)"),
    )?;
    let extra_minutes = number(
        "extra",
        MAX_EXTRA_MINUTES,
        &format!("0 to {MAX_EXTRA_MINUTES} minutes"),
    )?;
    let paused = form.get("paused") == "yes";
    let paused_until = if paused {
        match crate::cli::parse_expiry(form.get("until"), now) {
            Ok(until) => Some(until),
            Err(why) => return Err(("until".into(), why)),
        }
    } else {
        None
    };
    Ok(Request::CapacitySet(CapacitySet {
        paused: Some(paused),
        paused_until,
        orders_per_slot: Some(orders_per_slot),
        extra_minutes: Some(extra_minutes),
    }))
}

impl App {
    /// `p` on the Dashboard: the capacity panel.
    pub(super) fn open_capacity(&mut self) {
        let form = capacity_form(&self.model.capacity, self.now_ms, self.offset);
        self.overlay = Overlay::Form(form);
    }
}
