//! What the admin changes: the actions that open a form or a
//! confirmation, and sending them. The relay's answers are handled in
//! [`super::network`].

use kfood_protocol::menu::{MenuItemPatch, MenuOp};
use kfood_protocol::messages::{AlertAck, MenuUpdate, PromoUpsert, SessionRevoke};
use kfood_protocol::order::PaymentStatus;
use kfood_protocol::{OrderStatus, Request};

use crate::form::{Field, Form};

use super::forms::{announce_form, form_request, item_form, promo_form, user_form};
use super::{clean, money, App, Confirm, ConfirmKind, FormKind, Overlay, Pending, Screen};

impl App {
    pub(super) fn new_thing(&mut self) {
        let form = match self.screen {
            Screen::Menu => item_form(
                FormKind::NewItem,
                "New menu item",
                None,
                self.selected_item(),
                &self.stations_in_use(),
            ),
            Screen::Announcements | Screen::Dashboard => announce_form(),
            Screen::Promos => promo_form(None),
            Screen::Users => user_form(),
            _ => return,
        };
        self.overlay = Overlay::Form(form);
    }

    pub(super) fn edit_thing(&mut self) {
        let form = match self.screen {
            Screen::Menu => match self.selected_item() {
                Some(item) => item_form(
                    FormKind::EditItem(item.id.clone()),
                    "Edit menu item",
                    Some(item),
                    None,
                    &self.stations_in_use(),
                ),
                None => return,
            },
            Screen::Promos => match self.selected_promo() {
                Some(p) => promo_form(Some(p)),
                None => return,
            },
            _ => return,
        };
        self.overlay = Overlay::Form(form);
    }

    /// The menu editor's `o`: the selected item's option groups, one per line.
    pub(super) fn edit_options(&mut self) {
        if self.screen != Screen::Menu {
            return;
        }
        if let Some(item) = self.selected_item() {
            self.overlay = Overlay::Form(super::options::options_form(item));
        }
    }

    pub(super) fn remove_thing(&mut self) {
        match self.screen {
            Screen::Menu => {
                let Some(item) = self.selected_item() else {
                    return;
                };
                self.overlay = Overlay::Confirm(Confirm {
                    kind: ConfirmKind::RemoveItem(item.id.clone()),
                    title: "Remove menu item".into(),
                    lines: vec![format!(
                        "Remove {} ({}) from the menu for everyone?",
                        clean(&item.name),
                        clean(&item.id)
                    )],
                    sending: None,
                });
            }
            Screen::Promos => self.toggle_thing(),
            _ => {}
        }
    }

    pub(super) fn toggle_thing(&mut self) {
        match self.screen {
            Screen::Menu => {
                let Some(item) = self.selected_item() else {
                    return;
                };
                let (id, available) = (item.id.clone(), !item.available);
                let patch = MenuItemPatch {
                    id: id.clone(),
                    available: Some(available),
                    ..MenuItemPatch::default()
                };
                self.request(
                    Request::MenuUpdate(MenuUpdate {
                        op: MenuOp::SetAvailable,
                        item: patch,
                    }),
                    Pending::SetAvailable(id),
                );
            }
            Screen::Promos => {
                let Some(p) = self.selected_promo() else {
                    return;
                };
                // Only `active` changes; the rest of the code is sent as it is.
                let upsert = PromoUpsert {
                    code: p.code.clone(),
                    percent_off: None,
                    amount_off_cents: None,
                    active: !p.active,
                    expires_at: p.expires_at.clone(),
                };
                let code = upsert.code.clone();
                self.request(Request::PromoUpsert(upsert), Pending::PromoActive(code));
            }
            _ => {}
        }
    }

    pub(super) fn ack_alert(&mut self) {
        if self.screen != Screen::Alerts {
            return;
        }
        let Some(a) = self.selected_alert() else {
            return;
        };
        if a.resolved {
            self.say(format!("alert {} is already resolved", a.id));
            return;
        }
        let id = a.id;
        self.request(
            Request::AlertAck(AlertAck { alert_id: id }),
            Pending::AlertAck(id),
        );
    }

    pub(super) fn start_cancel(&mut self) {
        let target = match &self.overlay {
            Overlay::Detail { order_id, .. } => self.model.orders.get(order_id),
            Overlay::None if self.screen == Screen::Orders => self.selected_order(),
            _ => None,
        };
        let Some(o) = target else {
            return;
        };
        if !matches!(o.status, OrderStatus::Pending | OrderStatus::Preparing) {
            let why = format!(
                "{} is {}: only pending or preparing orders can be cancelled",
                o.code, o.status
            );
            self.complain(why);
            return;
        }
        let refund = match o.payment.status {
            PaymentStatus::Paid => format!(
                "The card payment of {} is refunded.",
                money(o.payment.amount_cents.unwrap_or(o.total_cents))
            ),
            PaymentStatus::Due => "Cash was not taken yet: nothing to refund.".into(),
            _ => "Nothing to refund.".into(),
        };
        let form = Form::new(
            FormKind::CancelOrder(o.id),
            format!("Cancel {}", o.code),
            vec![Field::text(
                "reason",
                "Reason",
                "cancelled by admin",
                kfood_protocol::limits::MAX_SHORT_TEXT_CHARS,
            )],
        )
        .intro(vec![
            format!(
                "{} · {} · {} · {}",
                o.code,
                clean(&o.customer.name),
                o.status,
                money(o.total_cents)
            ),
            refund,
            "Enter cancels the order, Esc keeps it.".into(),
        ]);
        self.overlay = Overlay::Form(form);
    }

    pub(super) fn start_revoke(&mut self) {
        if self.screen != Screen::Users {
            return;
        }
        let Some(u) = self.selected_user() else {
            return;
        };
        self.overlay = Overlay::Confirm(Confirm {
            kind: ConfirmKind::Revoke(u.id.clone()),
            title: "Revoke sessions".into(),
            lines: vec![
                format!(
                    "Sign {} ({}, {}) out everywhere?",
                    clean(&u.name),
                    clean(&u.id),
                    u.role
                ),
                format!(
                    "{} open session(s) close now; tokens issued until now stop working.",
                    u.sessions
                ),
            ],
            sending: None,
        });
    }

    pub(super) fn submit(&mut self) {
        match std::mem::replace(&mut self.overlay, Overlay::None) {
            Overlay::Filter(input) => {
                self.set_filter(input.value);
            }
            Overlay::Form(mut form) => {
                if form.sending.is_none() {
                    match form_request(&form, self.now_ms) {
                        Ok(request) => {
                            form.error = None;
                            form.sending = Some(self.request(request, Pending::Form));
                        }
                        Err((field, why)) => {
                            form.error = Some(why);
                            if let Some(i) = form.fields.iter().position(|f| f.key == field) {
                                form.focus = i;
                            }
                        }
                    }
                }
                self.overlay = Overlay::Form(form);
            }
            Overlay::Confirm(mut c) => {
                if c.sending.is_none() {
                    let request = confirm_request(&c.kind);
                    let pending = Pending::Confirm(c.kind.clone());
                    c.sending = Some(self.request(request, pending));
                }
                self.overlay = Overlay::Confirm(c);
            }
            other => self.overlay = other,
        }
    }
}

/// The request a confirmation sends.
fn confirm_request(kind: &ConfirmKind) -> Request {
    match kind {
        ConfirmKind::RemoveItem(id) => Request::MenuUpdate(MenuUpdate {
            op: MenuOp::Remove,
            item: MenuItemPatch {
                id: id.clone(),
                ..MenuItemPatch::default()
            },
        }),
        ConfirmKind::Revoke(id) => Request::SessionRevoke(SessionRevoke {
            user_id: id.clone(),
        }),
    }
}
