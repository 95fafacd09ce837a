//! The Orders and Notifications screens' updates: moving through them, and
//! the cancel and change-instructions prompts with the relay's answers.

use kfood_protocol::messages::{OrderCancel, OrderEvent, OrderModify};
use kfood_protocol::{ErrorCode, Event, ProtocolError, Request};
use serde_json::Value;

use super::cart::edit_text;
use super::checkout::{typed, OrderAck};
use super::{Action, App, Level, Overlay, Pending, PAGE};
use crate::checkout::describe;

impl App {
    pub(super) fn orders_key(&mut self, action: Action) {
        let ids = self.order_ids();
        let at = self
            .selected()
            .and_then(|o| ids.iter().position(|id| *id == o.id))
            .unwrap_or(0);
        let pick = |i: usize| ids.get(i.min(ids.len().saturating_sub(1))).copied();
        match action {
            Action::Up => self.selected_order = pick(at.saturating_sub(1)),
            Action::Down => self.selected_order = pick(at + 1),
            Action::Home => self.selected_order = pick(0),
            Action::End => self.selected_order = pick(usize::MAX),
            Action::PageUp => self.selected_order = pick(at.saturating_sub(PAGE)),
            Action::PageDown => self.selected_order = pick(at + PAGE),
            Action::CancelOrder | Action::ModifyOrder => {
                let Some(o) = self.selected() else {
                    self.say(Level::Info, "No order selected.");
                    return;
                };
                if o.status.is_final() {
                    let text = format!("{} is already {}.", o.code, o.status);
                    self.say(Level::Error, text);
                    return;
                }
                // Anything not final goes to the relay, which decides: the
                // order may have moved on since this screen last heard.
                self.overlay = if action == Action::CancelOrder {
                    Overlay::Cancel {
                        order_id: o.id,
                        reason: String::new(),
                    }
                } else {
                    Overlay::Modify {
                        order_id: o.id,
                        instructions: o.instructions.clone(),
                    }
                };
            }
            _ => {}
        }
    }

    pub(super) fn notices_key(&mut self, action: Action) {
        let n = self.notices().len();
        match action {
            Action::Up => self.notice_sel = self.notice_sel.saturating_sub(1),
            Action::Down => self.notice_sel = (self.notice_sel + 1).min(n.saturating_sub(1)),
            Action::Home => self.notice_sel = 0,
            Action::End => self.notice_sel = n.saturating_sub(1),
            _ => {}
        }
    }

    /// The cancel and change-instructions prompts.
    pub(super) fn order_prompt_key(&mut self, action: Action) {
        let text = match &mut self.overlay {
            Overlay::Cancel { reason, .. } => reason,
            Overlay::Modify { instructions, .. } => instructions,
            _ => return,
        };
        if action != Action::Submit {
            if edit_text(text, action) {
                self.overlay = Overlay::None;
            }
            return;
        }
        match std::mem::replace(&mut self.overlay, Overlay::None) {
            Overlay::Cancel { order_id, reason } => {
                let request = Request::OrderCancel(OrderCancel {
                    order_id,
                    reason: reason.trim().to_owned(),
                });
                self.request(request, Pending::Cancel { order_id });
                self.say(Level::Info, "Asking the kitchen to cancel...");
            }
            Overlay::Modify {
                order_id,
                instructions,
            } => {
                let request = Request::OrderModify(OrderModify {
                    order_id,
                    instructions: instructions.trim().to_owned(),
                });
                self.request(request, Pending::Modify { order_id });
                self.say(Level::Info, "Sending your instructions...");
            }
            other => self.overlay = other,
        }
    }

    /// The relay's answer to a cancel (`cancel`) or a change of instructions.
    pub(super) fn on_order_change(
        &mut self,
        order_id: u64,
        cancel: bool,
        result: Result<Value, ProtocolError>,
    ) {
        let what = if cancel { "cancel" } else { "change" };
        let code = self.code_of(order_id);
        match typed::<OrderAck>(result) {
            Ok(OrderAck { order }) => {
                // The relay's event follows; the change shows at once.
                let ev = OrderEvent {
                    order_id: order.id,
                    status: order.status,
                    order,
                };
                self.model.apply(&if cancel {
                    Event::OrderCancelled(ev)
                } else {
                    Event::OrderModified(ev)
                });
                let text = if cancel {
                    format!("{code} cancelled.")
                } else {
                    format!("Instructions for {code} sent to the kitchen.")
                };
                self.say(Level::Good, text);
            }
            Err(e) => {
                let text = match e.code {
                    ErrorCode::InvalidTransition => format!(
                        "Too late to {what} {code}: the relay says {}.",
                        kfood_protocol::sanitize::clean_line(&e.message)
                    ),
                    _ => format!("Could not {what} {code}: {}", describe(&e)),
                };
                self.say(Level::Error, text);
            }
        }
    }
}
