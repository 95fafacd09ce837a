//! The add dialog: quantity, a note and, for an item with option groups
//! (DESIGN §14), the option picker. Choices are toggled one by one; a group
//! of at most one choice works like radio buttons; Enter adds the line only
//! when every group's count is right (protocol's `choose_options`, the rule
//! the relay prices with).

use kfood_protocol::limits::{MAX_NOTES_CHARS, MAX_QTY};
use kfood_protocol::menu::MenuItem;
use kfood_protocol::options::{choose_options, ChosenOption, OptionChoice, OptionGroup};

use super::{Action, AddFocus, App, Overlay};
use crate::cart::CartLine;

/// The `n`-th choice of `item`, counted over all its groups in menu order.
pub fn choice_at(item: &MenuItem, n: usize) -> Option<(&OptionGroup, &OptionChoice)> {
    item.options
        .iter()
        .flat_map(|g| g.choices.iter().map(move |c| (g, c)))
        .nth(n)
}

/// How many choices `item` offers over all its groups.
pub fn choice_count(item: &MenuItem) -> usize {
    item.options.iter().map(|g| g.choices.len()).sum()
}

/// Whether `chosen` holds this group's choice.
pub fn is_chosen(chosen: &[ChosenOption], group: &str, choice: &str) -> bool {
    chosen
        .iter()
        .any(|o| o.group == group && o.choice == choice)
}

/// Toggles choice `n` of `item`: on or off; in a group of at most one the
/// new choice replaces the old; a full group says so.
fn toggle(item: &MenuItem, chosen: &mut Vec<ChosenOption>, n: usize) -> Result<(), String> {
    let Some((g, c)) = choice_at(item, n) else {
        return Ok(());
    };
    if let Some(i) = chosen
        .iter()
        .position(|o| o.group == g.id && o.choice == c.id)
    {
        chosen.remove(i);
        return Ok(());
    }
    let taken = chosen.iter().filter(|o| o.group == g.id).count();
    if g.max == 1 {
        chosen.retain(|o| o.group != g.id);
    } else if taken as u32 >= g.max {
        return Err(format!("{}: at most {}", g.name, g.max));
    }
    chosen.push(ChosenOption {
        group: g.id.clone(),
        choice: c.id.clone(),
    });
    Ok(())
}

/// The field after `focus` (or before it, going back), the choices first.
fn step(focus: AddFocus, choices: usize, forward: bool) -> AddFocus {
    let n = choices + 2;
    let at = match focus {
        AddFocus::Choice(i) => i.min(choices.saturating_sub(1)),
        AddFocus::Qty => choices,
        AddFocus::Note => choices + 1,
    };
    let next = if forward {
        (at + 1) % n
    } else {
        (at + n - 1) % n
    };
    match next {
        i if i < choices => AddFocus::Choice(i),
        i if i == choices => AddFocus::Qty,
        _ => AddFocus::Note,
    }
}

impl App {
    /// Opens the add dialog for `item_id`: on its first choice when it has
    /// options, else on the quantity.
    pub(super) fn open_picker(&mut self, item_id: &str) {
        let has_choices = self.item(item_id).is_some_and(|i| choice_count(i) > 0);
        self.overlay = Overlay::AddItem {
            item_id: item_id.to_owned(),
            qty: 1,
            typed: false,
            note: String::new(),
            focus: if has_choices {
                AddFocus::Choice(0)
            } else {
                AddFocus::Qty
            },
            chosen: Vec::new(),
            problem: None,
        };
    }

    pub(super) fn add_key(&mut self, action: Action) {
        let item = match &self.overlay {
            Overlay::AddItem { item_id, .. } => self.item(item_id).cloned(),
            _ => return,
        };
        let Overlay::AddItem {
            item_id,
            qty,
            typed,
            note,
            focus,
            chosen,
            problem,
        } = &mut self.overlay
        else {
            return;
        };
        let choices = item.as_ref().map_or(0, choice_count);
        match (action, *focus) {
            (Action::Back, _) => self.overlay = Overlay::None,
            (Action::Submit, _) => {
                let checked = match &item {
                    Some(it) => choose_options(it, chosen, "options").map(|_| ()),
                    None => Ok(()),
                };
                if let Err(e) = checked {
                    *problem = Some(e.message);
                    return;
                }
                let line = CartLine::new(item_id, *qty, &note.clone()).with_options(chosen.clone());
                self.overlay = Overlay::None;
                self.add_to_cart(line);
            }
            (Action::NextField | Action::Down, f) => *focus = step(f, choices, true),
            (Action::PrevField | Action::Up, f) => *focus = step(f, choices, false),
            (Action::Toggle, AddFocus::Choice(n)) => {
                if let Some(it) = &item {
                    *problem = toggle(it, chosen, n).err();
                }
            }
            (Action::QtyUp | Action::Right, AddFocus::Qty) => *qty = (*qty + 1).min(MAX_QTY),
            (Action::QtyDown | Action::Left, AddFocus::Qty) => *qty = qty.saturating_sub(1).max(1),
            (Action::Input(c), AddFocus::Qty) => {
                if let Some(d) = c.to_digit(10) {
                    let longer = *qty * 10 + d;
                    // Past two digits, typing starts over rather than growing past 99.
                    *qty = if *typed && longer <= MAX_QTY {
                        longer.max(1)
                    } else {
                        d.max(1)
                    };
                    *typed = true;
                }
            }
            (Action::Backspace, AddFocus::Qty) => *qty = (*qty / 10).max(1),
            (Action::Input(c), AddFocus::Note) if note.chars().count() < MAX_NOTES_CHARS => {
                note.push(c);
            }
            (Action::Backspace, AddFocus::Note) => {
                note.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tab goes through every choice, then quantity and note, and around.
    #[test]
    fn focus_steps_through_choices_then_fields() {
        let mut f = AddFocus::Choice(0);
        let mut seen = vec![];
        for _ in 0..5 {
            f = step(f, 3, true);
            seen.push(f);
        }
        assert_eq!(
            seen,
            [
                AddFocus::Choice(1),
                AddFocus::Choice(2),
                AddFocus::Qty,
                AddFocus::Note,
                AddFocus::Choice(0)
            ]
        );
        assert_eq!(step(AddFocus::Choice(0), 3, false), AddFocus::Note);
        assert_eq!(step(AddFocus::Qty, 0, true), AddFocus::Note);
        assert_eq!(step(AddFocus::Note, 0, true), AddFocus::Qty);
    }
}
