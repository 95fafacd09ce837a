//! The Menu screen's updates: moving through categories and items, the
//! search, and putting items in the cart (the add dialog is `picker`).

use super::{Action, App, Level, Overlay, PAGE};
use crate::cart::{self, CartLine};

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
                let id = item.id.clone();
                self.open_picker(&id);
            }
            Action::QuickAdd => {
                let Some(item) = self.selected_item() else {
                    return;
                };
                // An item that needs a choice cannot go in plain: ask for it.
                let id = item.id.clone();
                if item.options.iter().any(|g| g.is_required()) {
                    self.open_picker(&id);
                } else {
                    self.add_to_cart(CartLine::new(&id, 1, ""));
                }
            }
            _ => {}
        }
    }

    /// Adds a line; one ordering the same thing (item, note, choices) grows.
    pub(super) fn add_to_cart(&mut self, line: CartLine) {
        let (qty, label) = (line.qty, self.cart_line_label(&line));
        let Some(item) = self.item(&line.item_id).cloned() else {
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
        match cart::add_line(&mut self.cart, line) {
            Ok(i) => {
                self.cart_sel = i;
                self.dirty = true;
                let total = self.cart[i].qty;
                self.say(
                    Level::Good,
                    format!("Added {qty} x {label} ({total} in the cart). 2: view the cart.",),
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
}
