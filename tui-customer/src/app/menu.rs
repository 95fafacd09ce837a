//! The Menu screen's updates: moving through categories and items, the
//! search, and the add dialog that puts items in the cart.

use super::{Action, AddFocus, App, Level, Overlay, PAGE};
use crate::cart;

impl App {
    pub(super) fn menu_key(&mut self, action: Action) {
        let n = self.visible_items().len();
        let cats = self.categories().len();
        match action {
            Action::Up => self.item_sel = self.item_sel.saturating_sub(1),
            Action::Down => self.item_sel = (self.item_sel + 1).min(n.saturating_sub(1)),
            Action::PageUp => self.item_sel = self.item_sel.saturating_sub(PAGE),
            Action::PageDown => self.item_sel = (self.item_sel + PAGE).min(n.saturating_sub(1)),
            Action::Home => self.item_sel = 0,
            Action::End => self.item_sel = n.saturating_sub(1),
            Action::Left | Action::Right if cats > 0 => {
                self.search.clear();
                let by = if action == Action::Left { -1 } else { 1 };
                self.category = (self.category as isize + by).rem_euclid(cats as isize) as usize;
                self.item_sel = 0;
            }
            Action::Search => self.overlay = Overlay::Search,
            Action::Add => {
                let Some(item) = self.selected_item() else {
                    return;
                };
                if !item.available {
                    let text = format!("{} is 86'd (unavailable) right now.", item.name);
                    self.say(Level::Error, text);
                    return;
                }
                self.overlay = Overlay::AddItem {
                    item_id: item.id.clone(),
                    qty: 1,
                    typed: false,
                    note: String::new(),
                    focus: AddFocus::Qty,
                };
            }
            Action::QuickAdd => {
                if let Some(id) = self.selected_item().map(|i| i.id.clone()) {
                    self.add_to_cart(&id, 1, "");
                }
            }
            _ => {}
        }
    }

    fn add_to_cart(&mut self, item_id: &str, qty: u32, note: &str) {
        let Some(item) = self.item(item_id).cloned() else {
            self.say(Level::Error, "That item is no longer on the menu.");
            return;
        };
        if !item.available {
            self.say(
                Level::Error,
                format!("{} is 86'd (unavailable) right now.", item.name),
            );
            return;
        }
        match cart::add(&mut self.cart, item_id, qty, note) {
            Ok(i) => {
                self.cart_sel = i;
                self.dirty = true;
                let total = self.cart[i].qty;
                self.say(
                    Level::Good,
                    format!(
                        "Added {qty} x {} ({total} in the cart). 2: view the cart.",
                        item.name
                    ),
                );
            }
            Err(cart::CartError::Full) => self.say(
                Level::Error,
                "The cart is full (50 lines): check out or remove a line first.",
            ),
        }
    }

    pub(super) fn search_key(&mut self, action: Action) {
        match action {
            Action::Input(c) => {
                if self.search.chars().count() < 40 {
                    self.search.push(c);
                }
                self.item_sel = 0;
            }
            Action::Backspace => {
                self.search.pop();
                self.item_sel = 0;
            }
            Action::Submit => self.overlay = Overlay::None,
            Action::Back => {
                self.search.clear();
                self.item_sel = 0;
                self.overlay = Overlay::None;
            }
            Action::Up | Action::Down => self.menu_key(action),
            _ => {}
        }
    }

    pub(super) fn add_key(&mut self, action: Action) {
        let Overlay::AddItem {
            item_id,
            qty,
            typed,
            note,
            focus,
        } = &mut self.overlay
        else {
            return;
        };
        match (action, *focus) {
            (Action::Back, _) => self.overlay = Overlay::None,
            (Action::Submit, _) => {
                let (id, q, n) = (item_id.clone(), *qty, note.clone());
                self.overlay = Overlay::None;
                self.add_to_cart(&id, q, &n);
            }
            (Action::NextField | Action::PrevField | Action::Down | Action::Up, _) => {
                *focus = match focus {
                    AddFocus::Qty => AddFocus::Note,
                    AddFocus::Note => AddFocus::Qty,
                }
            }
            (Action::QtyUp | Action::Right, AddFocus::Qty) => *qty = (*qty + 1).min(99),
            (Action::QtyDown | Action::Left, AddFocus::Qty) => *qty = qty.saturating_sub(1).max(1),
            (Action::Input(c), AddFocus::Qty) => {
                if let Some(d) = c.to_digit(10) {
                    let longer = *qty * 10 + d;
                    // Past two digits, typing starts over rather than growing past 99.
                    *qty = if *typed && longer <= 99 {
                        longer.max(1)
                    } else {
                        d.max(1)
                    };
                    *typed = true;
                }
            }
            (Action::Backspace, AddFocus::Qty) => *qty = (*qty / 10).max(1),
            (Action::Input(c), AddFocus::Note)
                if note.chars().count() < kfood_protocol::limits::MAX_NOTES_CHARS =>
            {
                note.push(c);
            }
            (Action::Backspace, AddFocus::Note) => {
                note.pop();
            }
            _ => {}
        }
    }
}
