//! The requests a cook's keys send, each a typed [`Request`]: shown on the
//! board at once as this terminal's unanswered change, settled by the
//! relay's answer ([`super::fold`]).

use kfood_protocol::menu::{MenuItemPatch, MenuOp};
use kfood_protocol::messages::{LineDone, MenuUpdate, OrderCancel, OrderUpdate};
use kfood_protocol::order::OrderStatus;
use kfood_protocol::Request;

use super::types::{Flag, Local, NetCmd};
use super::{App, Req, ReqKind};

/// An `order_update` of `order_id` that changes nothing yet.
fn order_update(order_id: u64) -> OrderUpdate {
    OrderUpdate {
        order_id,
        status: None,
        prep_minutes: None,
        delivery_minutes: None,
        note: None,
    }
}

impl App {
    fn new_req(&mut self) -> String {
        self.next_req += 1;
        format!("crew-{}-{}", self.session, self.next_req)
    }

    /// Hands `request` to the network task; returns its id.
    pub(super) fn send(&mut self, request: Request, req: Req) -> String {
        let id = self.new_req();
        self.requests.insert(id.clone(), req);
        self.outbox.push(NetCmd::Request {
            id: id.clone(),
            request,
        });
        id
    }

    pub(super) fn send_for_order(
        &mut self,
        id: u64,
        kind: ReqKind,
        request: Request,
        label: String,
    ) -> String {
        let req = Req {
            kind,
            order_id: Some(id),
            item_id: None,
            label,
        };
        self.send(request, req)
    }

    /// Enter on the expo: clears a flag the cook has seen, or moves the
    /// order one status on.
    pub(super) fn bump(&mut self) {
        let Some(t) = self.selected_ticket() else {
            self.say("no ticket to bump".into());
            return;
        };
        let (id, code, from, flag) = (t.id(), t.order.code.clone(), t.status(), t.flag);
        match flag {
            Some(Flag::Cancelled) => {
                self.ui.entry(id).or_default().flag = None;
                self.say(format!("{code} cleared"));
                return;
            }
            Some(Flag::Modified) => {
                self.ui.entry(id).or_default().flag = None;
                self.say(format!("{code}: change seen; Enter again bumps"));
                return;
            }
            None => {}
        }
        let Some(next) = from.next() else {
            return;
        };
        let pos = self.position_of(id);
        let mut u = order_update(id);
        u.status = Some(next);
        let label = format!("{code} bump to {next}");
        let req = self.send_for_order(id, ReqKind::Bump, Request::OrderUpdate(u), label);
        self.ui.entry(id).or_default().local_status = Some(Local { req, value: next });
        self.say(format!("{code} -> {}", next.as_str().to_uppercase()));
        // The next ticket of the column takes the cursor, so a run of
        // bumps works down the column; an emptied column lets it follow.
        if let Some((col, row)) = pos {
            let board = self.board();
            if let Some(&next_id) = board[col].get(row).or(board[col].last()) {
                self.selected = Some(next_id);
            }
        }
    }

    /// Sends order `id` one status back (DESIGN §6 recall).
    pub(super) fn recall_order(&mut self, id: u64) {
        let Some(t) = self.ticket(id) else {
            return;
        };
        let (code, from) = (t.order.code.clone(), t.status());
        let prev = if t.flag == Some(Flag::Cancelled) {
            None
        } else {
            from.previous()
        };
        let Some(prev) = prev else {
            self.warn(format!("{code} is {from}: nothing to recall"));
            return;
        };
        let mut u = order_update(id);
        u.status = Some(prev);
        let label = format!("{code} recall to {prev}");
        let req = self.send_for_order(id, ReqKind::Recall, Request::OrderUpdate(u), label);
        self.ui.entry(id).or_default().local_status = Some(Local { req, value: prev });
        self.say(format!(
            "{code} recalled to {}",
            prev.as_str().to_uppercase()
        ));
    }

    pub(super) fn send_cancel(&mut self, id: u64, reason: String) {
        let Some(code) = self.ticket(id).map(|t| t.order.code.clone()) else {
            return;
        };
        self.self_cancelled.insert(id);
        let request = Request::OrderCancel(OrderCancel {
            order_id: id,
            reason: reason.clone(),
        });
        let req = self.send_for_order(id, ReqKind::Cancel, request, format!("{code} cancel"));
        self.ui.entry(id).or_default().local_status = Some(Local {
            req,
            value: OrderStatus::Cancelled,
        });
        self.say(format!("{code} cancelled ({reason})"));
    }

    pub(super) fn adjust_prep(&mut self, delta: i64) {
        let Some(t) = self.selected_ticket() else {
            return;
        };
        let (id, code) = (t.id(), t.order.code.clone());
        if t.status().is_final() {
            return;
        }
        let max = i64::from(kfood_protocol::limits::MAX_MINUTES);
        let m = (i64::from(t.prep_minutes()) + delta).clamp(0, max);
        let m = u32::try_from(m).unwrap_or(0);
        let mut u = order_update(id);
        u.prep_minutes = Some(m);
        let label = format!("{code} prep {m} min");
        let req = self.send_for_order(id, ReqKind::Prep, Request::OrderUpdate(u), label);
        self.ui.entry(id).or_default().local_prep = Some(Local { req, value: m });
        self.say(format!("{code} prep {m} min"));
    }

    pub(super) fn send_delivery(&mut self, id: u64, m: u32) {
        let Some(code) = self.ticket(id).map(|t| t.order.code.clone()) else {
            return;
        };
        let mut u = order_update(id);
        u.delivery_minutes = Some(m);
        let label = format!("{code} delivery {m} min");
        let req = self.send_for_order(id, ReqKind::Delivery, Request::OrderUpdate(u), label);
        self.ui.entry(id).or_default().local_delivery = Some(Local { req, value: m });
        self.say(format!("{code} delivery {m} min"));
    }

    /// A kitchen note: `order_update {order_id, note}` with no status.
    pub(super) fn send_note(&mut self, id: u64, note: String) {
        let Some(code) = self.ticket(id).map(|t| t.order.code.clone()) else {
            return;
        };
        let mut u = order_update(id);
        u.note = Some(note);
        self.send_for_order(
            id,
            ReqKind::Note,
            Request::OrderUpdate(u),
            format!("{code} note"),
        );
        self.say(format!("{code}: note sent"));
    }

    /// `line_done` for line `line` of order `id`, shown at once.
    pub(super) fn send_line_done(&mut self, id: u64, line: usize, done: bool) {
        let Some(t) = self.ticket(id) else {
            return;
        };
        let code = t.order.code.clone();
        let name = t
            .order
            .lines
            .get(line)
            .map(|l| l.name.clone())
            .unwrap_or_default();
        let request = Request::LineDone(LineDone {
            order_id: id,
            line,
            done,
        });
        let word = if done { "done" } else { "not done" };
        let label = format!("{code} {name} {word}");
        let req = self.send_for_order(id, ReqKind::Line { line, done }, request, label.clone());
        self.ui
            .entry(id)
            .or_default()
            .local_lines
            .insert(line, Local { req, value: done });
        self.say(label);
    }

    pub(super) fn toggle_available(&mut self, cursor: usize) {
        let Some(item) = self.model.menu.get(cursor) else {
            return;
        };
        let (id, name) = (item.id.clone(), item.name.clone());
        let to = !self.item_available(item);
        let request = Request::MenuUpdate(MenuUpdate {
            op: MenuOp::SetAvailable,
            item: MenuItemPatch {
                id: id.clone(),
                available: Some(to),
                ..MenuItemPatch::default()
            },
        });
        let req = self.send(
            request,
            Req {
                kind: ReqKind::Available,
                order_id: None,
                item_id: Some(id.clone()),
                label: format!("86 {name}"),
            },
        );
        self.local_available.insert(id, Local { req, value: to });
        if to {
            self.say(format!("{name} back on"));
        } else {
            self.say(format!("{name} 86'd"));
        }
    }
}
