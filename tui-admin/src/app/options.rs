//! The menu editor's option groups (DESIGN §14), one group per line in a
//! compact text form:
//!
//! ```text
//! spice (Spice level) 0-1: mild 0, medium 0, hot 0
//! extras 0-3: egg (+egg) 1.50, cheese 1.00
//! ```
//!
//! A line is `id (Name) min-max: choice, choice, …` and a choice is
//! `id (Name) price`. A name in brackets is optional (without one the id
//! reads as the name: `extra-egg` is "Extra egg"); a price is optional
//! (0). An empty line drops its group. The lines are read here and then
//! checked by the protocol's own rule (`options::checked_groups`), so the
//! form refuses exactly what the relay would, next to the line at fault.

use kfood_protocol::limits::MAX_OPTION_GROUPS;
use kfood_protocol::menu::{MenuItem, MenuItemPatch, MenuOp};
use kfood_protocol::messages::MenuUpdate;
use kfood_protocol::options::{checked_groups, OptionChoice, OptionGroup};
use kfood_protocol::Request;

use crate::form::{parse_money, Field, Form};

use super::forms::FormError;
use super::{clean, FormKind};

/// One field per group an item may have.
const KEYS: [&str; MAX_OPTION_GROUPS] = ["g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8"];
const LABELS: [&str; MAX_OPTION_GROUPS] = [
    "Group 1", "Group 2", "Group 3", "Group 4", "Group 5", "Group 6", "Group 7", "Group 8",
];
/// Longest line a group field takes: twelve choices with names and prices.
pub const GROUP_LINE_CHARS: usize = 800;

/// The name an id reads as: `extra-egg` → "Extra egg".
fn default_name(id: &str) -> String {
    let spaced = id.replace(['-', '_'], " ");
    let mut c = spaced.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `1.50`, or `0`.
fn price(cents: i64) -> String {
    if cents == 0 {
        "0".into()
    } else {
        format!("{}.{:02}", cents / 100, cents % 100)
    }
}

/// `id` or `id (Name)` when the name is not the one the id reads as.
fn id_and_name(id: &str, name: &str) -> String {
    if name == default_name(id) {
        clean(id)
    } else {
        format!("{} ({})", clean(id), clean(name))
    }
}

/// A group as one line of the form.
pub fn format_group(g: &OptionGroup) -> String {
    let choices: Vec<String> = g
        .choices
        .iter()
        .map(|c| format!("{} {}", id_and_name(&c.id, &c.name), price(c.price_cents)))
        .collect();
    format!(
        "{} {}-{}: {}",
        id_and_name(&g.id, &g.name),
        g.min,
        g.max,
        choices.join(", ")
    )
}

/// Splits `s` at each `sep` outside brackets.
fn split_outside(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, ch) in s.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            c if c == sep && depth == 0 => {
                out.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// `id (Name) rest` → (id, name, rest).
fn id_name_rest(s: &str) -> Result<(String, String, &str), String> {
    let s = s.trim();
    let end = s
        .find(|c: char| c.is_whitespace() || c == '(')
        .unwrap_or(s.len());
    let (id, rest) = s.split_at(end);
    if id.is_empty() {
        return Err(format!("`{s}` needs an id first"));
    }
    let rest = rest.trim_start();
    if let Some(inner) = rest.strip_prefix('(') {
        let close = inner
            .rfind(')')
            .ok_or_else(|| format!("`{id}`: a name in brackets needs its `)`"))?;
        let name = inner[..close].trim().to_owned();
        return Ok((id.to_owned(), name, inner[close + 1..].trim()));
    }
    Ok((id.to_owned(), default_name(id), rest))
}

fn parse_choice(s: &str) -> Result<OptionChoice, String> {
    let (id, name, rest) = id_name_rest(s)?;
    let price_cents = match rest.trim_start_matches('+').trim() {
        "" => 0,
        p => parse_money(p).ok_or_else(|| format!("`{id}`: a price looks like 1.50"))?,
    };
    Ok(OptionChoice {
        id,
        name,
        price_cents,
    })
}

/// One line of the form as a group (before the protocol's checks).
pub fn parse_group(line: &str) -> Result<OptionGroup, String> {
    let parts = split_outside(line, ':');
    let [head, choices] = parts.as_slice() else {
        return Err("write `id (Name) min-max: choice price, …`".into());
    };
    let (id, name, range) = id_name_rest(head)?;
    let (min, max) = range
        .split_once('-')
        .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
        .ok_or_else(|| format!("`{id}`: how many to choose, as min-max (0-1, 1-1, 0-3)"))?;
    let choices = split_outside(choices, ',')
        .into_iter()
        .filter(|c| !c.trim().is_empty())
        .map(parse_choice)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(OptionGroup {
        id,
        name,
        min,
        max,
        choices,
    })
}

/// The option groups form of `item`: one line per group, and empty lines
/// up to the most an item may have.
pub(super) fn options_form(item: &MenuItem) -> Form<FormKind> {
    let fields = KEYS
        .iter()
        .zip(LABELS)
        .enumerate()
        .map(|(i, (key, label))| {
            let line = item.options.get(i).map(format_group).unwrap_or_default();
            let f = Field::text(key, label, &line, GROUP_LINE_CHARS);
            if i == 0 {
                f.hint("spice (Spice level) 0-1: mild 0, medium 0, hot 0")
            } else {
                f.hint("empty: no group")
            }
        })
        .collect();
    let mut form = Form::new(
        FormKind::ItemOptions(item.id.clone()),
        format!("Options of {}", clean(&item.name)),
        fields,
    );
    form.intro = vec![
        "One group per line: id (Name) min-max: choice (Name) price, …".into(),
        "Names in brackets are optional; min 1 or more makes a group required.".into(),
    ];
    form
}

/// The upsert a filled options form makes: the item's groups replaced by
/// the lines, each read and checked by the protocol's rule first.
pub(super) fn options_request(form: &Form<FormKind>, item_id: &str) -> Result<Request, FormError> {
    let mut groups = Vec::new();
    let mut keys = Vec::new();
    for key in KEYS {
        let line = form.get(key).trim();
        if line.is_empty() {
            continue;
        }
        let group = parse_group(line).map_err(|why| (key.to_owned(), why))?;
        checked_groups(std::slice::from_ref(&group)).map_err(|e| (key.to_owned(), e.message))?;
        groups.push(group);
        keys.push(key);
    }
    // Ids must also be unique across the groups.
    let groups = checked_groups(&groups).map_err(|e| {
        let at = keys
            .iter()
            .zip(&groups)
            .find(|(_, g)| e.message.contains(&format!("`{}`", g.id)))
            .map_or(KEYS[0], |(k, _)| k);
        (at.to_owned(), e.message)
    })?;
    Ok(Request::MenuUpdate(MenuUpdate {
        op: MenuOp::Upsert,
        item: MenuItemPatch {
            id: item_id.to_owned(),
            options: Some(groups),
            ..MenuItemPatch::default()
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(line: &str, expected: Result<&str, &str>) {
        let got = parse_group(line).map(|g| format_group(&g));
        match expected {
            Ok(round) => assert_eq!(got.as_deref(), Ok(round), "{line}"),
            Err(part) => {
                let e = got.expect_err(line);
                assert!(e.contains(part), "{line}: {e}");
            }
        }
    }

    /// Lines read back as they are written; names and prices are optional.
    #[test]
    fn group_lines() {
        check(
            "spice (Spice level) 0-1: mild 0, medium 0, hot 0",
            Ok("spice (Spice level) 0-1: mild 0, medium 0, hot 0"),
        );
        check(
            "extras 0-3: egg (+egg) +1.50, cheese 1, extra-rice",
            Ok("extras 0-3: egg (+egg) 1.50, cheese 1.00, extra-rice 0"),
        );
        check(
            "size (Size (bowl)) 1-1: s (Small, light) 0, l 2.5",
            Ok("size (Size (bowl)) 1-1: s (Small, light) 0, l 2.50"),
        );
        check("spice 0-1", Err("min-max: choice"));
        check("spice one: mild", Err("min-max"));
        check("spice 0-1: mild cheap", Err("price"));
        check(" (x) 0-1: a", Err("needs an id"));
        check("spice (Spice 0-1: a", Err("min-max: choice"));
        check("spice (Spice 0-1): a", Err("min-max"));
    }

    /// The field keys cover every group an item may have.
    #[test]
    fn one_field_per_group() {
        assert_eq!(KEYS.len(), MAX_OPTION_GROUPS);
        assert_eq!(default_name("extra-egg"), "Extra egg");
    }
}
