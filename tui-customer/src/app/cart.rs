//! The Cart screen's updates: quantities, notes, removing lines, and what
//! the cache keeps of the cart between runs.

use kfood_protocol::limits::MAX_NOTES_CHARS;
use serde::{Deserialize, Serialize};

use super::{Action, App, Level, Overlay};
use crate::cart::{self, CartLine};

/// The cart and read marks as the local cache keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedCart {
    pub lines: Vec<CartLine>,
    #[serde(default)]
    pub read_upto: u64,
}

impl App {
    pub(super) fn cart_key(&mut self, action: Action) {
        let n = self.cart.len();
        match action {
            Action::Up => self.cart_sel = self.cart_sel.saturating_sub(1),
            Action::Down => self.cart_sel = (self.cart_sel + 1).min(n.saturating_sub(1)),
            Action::Home => self.cart_sel = 0,
            Action::End => self.cart_sel = n.saturating_sub(1),
            Action::QtyUp | Action::Right => self.change_line(1),
            Action::QtyDown | Action::Left => self.change_line(-1),
            Action::Remove if self.cart_sel < n => {
                let line = self.cart.remove(self.cart_sel);
                let name = self.line_name(&line.item_id);
                self.say(Level::Info, format!("Removed {name} from the cart."));
                self.cart_sel = self.cart_sel.min(self.cart.len().saturating_sub(1));
                self.dirty = true;
            }
            Action::EditNote => {
                if let Some(line) = self.cart.get(self.cart_sel) {
                    self.overlay = Overlay::EditNote {
                        line: self.cart_sel,
                        note: line.notes.clone(),
                    };
                }
            }
            Action::Checkout | Action::Submit => self.open_checkout(),
            _ => {}
        }
    }

    fn change_line(&mut self, delta: i32) {
        if self.cart_sel < self.cart.len() {
            cart::change_qty(&mut self.cart, self.cart_sel, delta);
            self.cart_sel = self.cart_sel.min(self.cart.len().saturating_sub(1));
            self.dirty = true;
        }
    }

    /// The note prompt of a cart line.
    pub(super) fn note_key(&mut self, action: Action) {
        let Overlay::EditNote { line, note } = &mut self.overlay else {
            return;
        };
        match action {
            Action::Submit => {
                let (line, note) = (*line, note.trim().to_owned());
                self.overlay = Overlay::None;
                if let Some(l) = self.cart.get_mut(line) {
                    l.notes = cart::limit_note(&note);
                    self.dirty = true;
                }
            }
            other => {
                if edit_text(note, other) {
                    self.overlay = Overlay::None;
                }
            }
        }
    }

    /// The cart and read marks for the local cache.
    pub fn saved_cart(&self) -> serde_json::Value {
        let saved = SavedCart {
            lines: self.cart.clone(),
            read_upto: self.read_upto,
        };
        // Plain data with string keys always serialises.
        serde_json::to_value(saved).unwrap_or_default()
    }
}

/// Typing into a one-line prompt; `true` when Esc closes it.
pub(super) fn edit_text(text: &mut String, action: Action) -> bool {
    match action {
        Action::Input(c) if text.chars().count() < MAX_NOTES_CHARS => text.push(c),
        Action::Backspace => {
            text.pop();
        }
        Action::Back => return true,
        _ => {}
    }
    false
}
