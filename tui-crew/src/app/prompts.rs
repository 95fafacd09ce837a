//! The typed prompts: the filter, a cancellation's reason, delivery
//! minutes and a kitchen note. Each opens from the board, takes text, and
//! on Enter sends (or keeps) what was typed.

use kfood_protocol::order::OrderStatus;

use super::types::{Action, Mode};
use super::{App, DEFAULT_REASON, MAX_NOTE_CHARS, MAX_REASON_CHARS, QUICK_REASONS};

impl App {
    pub(super) fn on_filter(&mut self, mut input: String, action: Action) {
        match action {
            Action::Input(c) => {
                input.push(c);
                self.filter = input.clone();
                self.mode = Mode::Filter { input };
            }
            Action::Erase => {
                input.pop();
                self.filter = input.clone();
                self.mode = Mode::Filter { input };
            }
            Action::Submit => {
                self.filter = input.trim().to_owned();
                self.mode = Mode::Board;
            }
            Action::Back => {
                self.filter.clear();
                self.mode = Mode::Board;
            }
            Action::Quit => self.request_quit(),
            _ => {}
        }
    }

    pub(super) fn start_cancel(&mut self) {
        let Some(t) = self.selected_ticket() else {
            return;
        };
        let (id, code, status) = (t.id(), t.order.code.clone(), t.status());
        if !matches!(status, OrderStatus::Pending | OrderStatus::Preparing) {
            self.warn(format!(
                "{code} is {status}: only pending or preparing orders can be cancelled"
            ));
            return;
        }
        self.mode = Mode::Cancel {
            order_id: id,
            reason: String::new(),
        };
    }

    pub(super) fn on_cancel(&mut self, order_id: u64, mut reason: String, action: Action) {
        match action {
            Action::Input(c) => {
                match c {
                    '1'..='3' if reason.is_empty() => {
                        let i = (c as usize) - ('1' as usize);
                        reason = QUICK_REASONS[i].to_owned();
                    }
                    _ if reason.chars().count() < MAX_REASON_CHARS => reason.push(c),
                    _ => {}
                }
                self.mode = Mode::Cancel { order_id, reason };
            }
            Action::Erase => {
                reason.pop();
                self.mode = Mode::Cancel { order_id, reason };
            }
            Action::Submit => {
                self.mode = Mode::Board;
                let reason = match reason.trim() {
                    "" => DEFAULT_REASON.to_owned(),
                    r => r.to_owned(),
                };
                self.send_cancel(order_id, reason);
            }
            Action::Back => {
                self.mode = Mode::Board;
                self.say("not cancelled".into());
            }
            Action::Quit => self.request_quit(),
            _ => {}
        }
    }

    pub(super) fn start_delivery(&mut self) {
        let Some(t) = self.selected_ticket() else {
            return;
        };
        if !t.is_delivery() {
            let code = t.order.code.clone();
            self.warn(format!("{code} is a pickup: no delivery time"));
            return;
        }
        if t.status().is_final() {
            return;
        }
        self.mode = Mode::Delivery {
            order_id: t.id(),
            input: String::new(),
        };
    }

    pub(super) fn on_delivery(&mut self, order_id: u64, mut input: String, action: Action) {
        match action {
            Action::Input(c) if c.is_ascii_digit() && input.len() < 3 => {
                input.push(c);
                self.mode = Mode::Delivery { order_id, input };
            }
            Action::Erase => {
                input.pop();
                self.mode = Mode::Delivery { order_id, input };
            }
            Action::Submit => {
                self.mode = Mode::Board;
                match input.parse::<u32>() {
                    Ok(m) if m <= kfood_protocol::limits::MAX_MINUTES => {
                        self.send_delivery(order_id, m)
                    }
                    _ => self.warn("delivery minutes: type a number of minutes".into()),
                }
            }
            Action::Back => self.mode = Mode::Board,
            Action::Quit => self.request_quit(),
            _ => {}
        }
    }

    /// `n`: a kitchen note on the selected ticket (not on a cancelled one:
    /// the relay refuses those).
    pub(super) fn start_note(&mut self) {
        let Some(t) = self.selected_ticket() else {
            self.say("no ticket for a note".into());
            return;
        };
        if t.status() == OrderStatus::Cancelled {
            let code = t.order.code.clone();
            self.warn(format!("{code} is cancelled: no note"));
            return;
        }
        self.mode = Mode::Note {
            order_id: t.id(),
            input: String::new(),
        };
    }

    /// One line, at most [`MAX_NOTE_CHARS`]; Enter sends, Esc keeps nothing.
    pub(super) fn on_note(&mut self, order_id: u64, mut input: String, action: Action) {
        match action {
            Action::Input(c) => {
                if !c.is_control() && input.chars().count() < MAX_NOTE_CHARS {
                    input.push(c);
                }
                self.mode = Mode::Note { order_id, input };
            }
            Action::Erase => {
                input.pop();
                self.mode = Mode::Note { order_id, input };
            }
            Action::Submit => {
                self.mode = Mode::Board;
                match input.trim() {
                    "" => self.say("no note sent".into()),
                    n => self.send_note(order_id, n.to_owned()),
                }
            }
            Action::Back => {
                self.mode = Mode::Board;
                self.say("no note sent".into());
            }
            Action::Quit => self.request_quit(),
            _ => {}
        }
    }
}
