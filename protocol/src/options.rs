//! Menu item options (DESIGN §14): the option groups an item carries, the
//! one check of an upsert's groups, the one pricing rule of a line's chosen
//! options, and the one compact label tickets and carts show them with.
//!
//! The relay prices every line with [`choose_options`] and [`unit_price`];
//! kfood-customer's picker shows the live line price with the same two, so
//! the price a customer sees while choosing is the price the relay charges.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::error::ProtocolError;
use crate::limits::{MAX_NAME_CHARS, MAX_OPTION_CHOICES, MAX_OPTION_GROUPS, MAX_OPTION_ID_CHARS};
use crate::menu::{checked_name, checked_price, MenuItem};
use crate::sanitize::clean_line;

/// The field an invalid upsert's option groups are reported under.
pub const ITEM_OPTIONS_FIELD: &str = "item.options";

/// One option group of a menu item: "Spice level" (choose 0–1), "Extras".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionGroup {
    pub id: String,
    pub name: String,
    /// Fewest choices a line must take from this group; ≥ 1 makes it required.
    pub min: u32,
    /// Most choices a line may take from this group.
    pub max: u32,
    pub choices: Vec<OptionChoice>,
}

/// One choice of a group and what it adds to the item's price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionChoice {
    pub id: String,
    pub name: String,
    pub price_cents: i64,
}

/// A choice as a request line names it: `{group, choice}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChosenOption {
    pub group: String,
    pub choice: String,
}

/// A choice as the stored line keeps it: its ids, the choice's name and the
/// price it added when the order was placed (the menu may change later).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineOption {
    pub group: String,
    pub choice: String,
    pub name: String,
    pub price_cents: i64,
}

impl OptionGroup {
    /// Whether a line must take at least one choice from this group.
    pub fn is_required(&self) -> bool {
        self.min >= 1
    }

    pub fn choice(&self, id: &str) -> Option<&OptionChoice> {
        self.choices.iter().find(|c| c.id == id)
    }
}

/// Option group and choice ids are `[a-z0-9_-]{1,24}`.
fn valid_option_id(id: &str) -> bool {
    (1..=MAX_OPTION_ID_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn bad_groups(message: impl Into<String>) -> ProtocolError {
    ProtocolError::invalid(ITEM_OPTIONS_FIELD, message)
}

/// Checks an upsert's option groups (DESIGN §14) and returns them with their
/// names cleaned: at most [`MAX_OPTION_GROUPS`] groups of at most
/// [`MAX_OPTION_CHOICES`] choices, ids `[a-z0-9_-]{1,24}` unique within the
/// item (groups and choices alike), `0 ≤ min ≤ max ≤ choices`, prices ≥ 0.
/// Every failure is `invalid` with `field: "item.options"`.
pub fn checked_groups(groups: &[OptionGroup]) -> Result<Vec<OptionGroup>, ProtocolError> {
    if groups.len() > MAX_OPTION_GROUPS {
        return Err(bad_groups(format!(
            "an item has at most {MAX_OPTION_GROUPS} option groups"
        )));
    }
    let mut ids = HashSet::new();
    let mut unique = |id: &str| -> Result<(), ProtocolError> {
        if !valid_option_id(id) {
            return Err(bad_groups(format!(
                "option ids are 1-{MAX_OPTION_ID_CHARS} characters of a-z, 0-9, - and _"
            )));
        }
        if !ids.insert(id.to_owned()) {
            return Err(bad_groups(format!(
                "option id `{id}` is used twice in this item"
            )));
        }
        Ok(())
    };
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        unique(&g.id)?;
        if g.choices.len() > MAX_OPTION_CHOICES {
            return Err(bad_groups(format!(
                "option group `{}` has more than {MAX_OPTION_CHOICES} choices",
                g.id
            )));
        }
        if g.min > g.max || g.max as usize > g.choices.len() {
            return Err(bad_groups(format!(
                "option group `{}` needs 0 <= min <= max <= its {} choices",
                g.id,
                g.choices.len()
            )));
        }
        let mut choices = Vec::with_capacity(g.choices.len());
        for c in &g.choices {
            unique(&c.id)?;
            choices.push(OptionChoice {
                id: c.id.clone(),
                name: checked_name(ITEM_OPTIONS_FIELD, &c.name, MAX_NAME_CHARS)?,
                price_cents: checked_price(ITEM_OPTIONS_FIELD, c.price_cents)?,
            });
        }
        out.push(OptionGroup {
            id: g.id.clone(),
            name: checked_name(ITEM_OPTIONS_FIELD, &g.name, MAX_NAME_CHARS)?,
            min: g.min,
            max: g.max,
            choices,
        });
    }
    Ok(out)
}

/// An id from a request, safe and short enough to quote in an error message.
fn quoted(id: &str) -> String {
    clean_line(id)
        .chars()
        .take(MAX_OPTION_ID_CHARS + 8)
        .collect()
}

/// The one rule for a line's chosen options (DESIGN §14): every group and
/// choice id known, no choice twice, each group's count within `[min, max]`
/// (so every required group answered), and none on an item without groups.
/// Returns the choices as the stored line keeps them, in menu order (groups,
/// then choices, as the item lists them), whatever order they were sent in.
/// Every failure is `invalid` with `field` (the relay passes `items[i].options`).
pub fn choose_options(
    item: &MenuItem,
    chosen: &[ChosenOption],
    field: &str,
) -> Result<Vec<LineOption>, ProtocolError> {
    let bad = |message: String| ProtocolError::invalid(field, message);
    if item.options.is_empty() && !chosen.is_empty() {
        return Err(bad(format!("{} has no options", item.name)));
    }
    let mut seen = HashSet::new();
    for c in chosen {
        let Some(group) = item.options.iter().find(|g| g.id == c.group) else {
            return Err(bad(format!(
                "{} has no option group `{}`",
                item.name,
                quoted(&c.group)
            )));
        };
        if group.choice(&c.choice).is_none() {
            return Err(bad(format!(
                "{} has no choice `{}`",
                group.name,
                quoted(&c.choice)
            )));
        }
        if !seen.insert(c) {
            return Err(bad(format!(
                "`{}` is chosen twice in {}",
                quoted(&c.choice),
                group.name
            )));
        }
    }
    for g in &item.options {
        let n = g
            .choices
            .iter()
            .filter(|c| chosen.iter().any(|o| o.group == g.id && o.choice == c.id))
            .count() as u32;
        if n < g.min || n > g.max {
            return Err(bad(count_message(g)));
        }
    }
    Ok(in_menu_order(item, chosen))
}

/// The chosen options the item knows, as a stored line keeps them, in menu
/// order; unknown ids are left out. The picker prices a choice in progress
/// with it (and [`unit_price`]) before [`choose_options`] checks it whole.
pub fn in_menu_order(item: &MenuItem, chosen: &[ChosenOption]) -> Vec<LineOption> {
    let mut out = Vec::with_capacity(chosen.len());
    for g in &item.options {
        for c in &g.choices {
            if chosen.iter().any(|o| o.group == g.id && o.choice == c.id) {
                out.push(LineOption {
                    group: g.id.clone(),
                    choice: c.id.clone(),
                    name: c.name.clone(),
                    price_cents: c.price_cents,
                });
            }
        }
    }
    out
}

/// What a group asks for, as a customer reads it.
pub fn count_message(g: &OptionGroup) -> String {
    match (g.min, g.max) {
        (0, max) => format!("{}: choose at most {max}", g.name),
        (min, max) if min == max => format!("{}: choose {min}", g.name),
        (min, max) => format!("{}: choose {min} to {max}", g.name),
    }
}

/// A line's unit price (DESIGN §14): the item's price plus its chosen prices.
pub fn unit_price(item_price_cents: i64, options: &[LineOption]) -> i64 {
    item_price_cents + options.iter().map(|o| o.price_cents).sum::<i64>()
}

/// Separator between a line's name and each of its choices on a ticket.
pub const LABEL_SEPARATOR: &str = " · ";

/// The compact label of a line's choices, as tickets, carts and the admin
/// show them: each choice's name in menu order, joined by " · "; a choice
/// that costs extra gets a leading "+" ("hot · +egg"): free choices describe
/// how the dish is made, priced ones what is added to it. Empty without
/// choices.
pub fn options_label(options: &[LineOption]) -> String {
    options_label_with(options, LABEL_SEPARATOR)
}

/// [`options_label`] with another separator (" - " on an ASCII terminal).
pub fn options_label_with(options: &[LineOption], separator: &str) -> String {
    let parts: Vec<String> = options
        .iter()
        .map(|o| {
            if o.price_cents > 0 {
                format!("+{}", o.name)
            } else {
                o.name.clone()
            }
        })
        .collect();
    parts.join(separator)
}

/// A line's name with its choices: "Bibimbap · hot · +egg".
pub fn line_label(name: &str, options: &[LineOption]) -> String {
    line_label_with(name, options, LABEL_SEPARATOR)
}

/// [`line_label`] with another separator.
pub fn line_label_with(name: &str, options: &[LineOption], separator: &str) -> String {
    if options.is_empty() {
        name.to_owned()
    } else {
        format!(
            "{name}{separator}{}",
            options_label_with(options, separator)
        )
    }
}

/// A malformed option (a wrong type deep inside `item.options` or
/// `items[i].options`) is reported at the options themselves, the one field
/// §14 names for every option fault: `item.options[0].min` → `item.options`.
pub fn options_field(mut e: ProtocolError) -> ProtocolError {
    if let Some(f) = e.field.as_deref() {
        if let Some(at) = f.find(".options") {
            let end = at + ".options".len();
            if f.len() > end && f[end..].starts_with('[') {
                e.field = Some(f[..end].to_owned());
            }
        }
    }
    e
}

#[cfg(test)]
mod tests;
