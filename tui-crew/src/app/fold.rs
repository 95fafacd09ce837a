//! The relay's messages folded into the app: durable events and snapshots
//! go into the [`Model`](kfood_protocol::Model) through its one `apply` and
//! `load_snapshot`; what only this terminal cares about (a flag the cook must
//! see, a bell, the answer to its own request) is decided beside it.

use std::collections::BTreeMap;

use kfood_protocol::client::ConnState;
use kfood_protocol::event::{MenuChange, MenuChangeItem};
use kfood_protocol::menu::{MenuItem, MenuOp};
use kfood_protocol::messages::{kind, Announcement, Authenticated, OrderEvent, Snapshot};
use kfood_protocol::order::{Order, OrderStatus};
use kfood_protocol::sanitize::clean_line;
use kfood_protocol::{Envelope, Event, Model};
use serde::Deserialize;
use serde_json::Value;

use super::ticket::{clean_event, clean_model, clean_snapshot, is_newer};
use super::types::{AppEvent, Flag, ReplyError};
use super::{App, ReqKind};

/// The parts of an ack the board reads (DESIGN §5 results).
#[derive(Debug, Default, Deserialize)]
struct Ack {
    #[serde(default)]
    order: Option<Order>,
    #[serde(default)]
    item: Option<MenuItem>,
}

impl App {
    /// Applies one message from the network task.
    pub fn handle(&mut self, ev: AppEvent) {
        match ev {
            AppEvent::Net(env) => self.on_envelope(env),
            AppEvent::Relay(ws) => self.settings.relay = ws,
            AppEvent::Conn(c) => {
                if c == ConnState::AuthExpired {
                    self.fatal = Some(
                        "LOGIN REFUSED: restart kfood-crew with a valid token or password".into(),
                    );
                } else if c.is_connected() {
                    self.fatal = None;
                }
                self.conn = c;
                self.conn_since = self.now;
            }
            AppEvent::Cached(model) => self.apply_cache(*model),
            AppEvent::Welcome { user } => self.user = Some(clean_line(&user)),
            AppEvent::Notice(text) => self.warn(clean_line(&text)),
            AppEvent::Reply { id, result } => self.on_reply(id, result),
            AppEvent::Fatal(msg) => {
                self.fatal = Some(format!("CANNOT CONNECT: {}", clean_line(&msg)));
                self.conn = ConnState::Offline;
            }
        }
        self.settle();
    }

    fn on_envelope(&mut self, env: Envelope) {
        match env.kind.as_str() {
            kind::AUTHENTICATED => {
                if let Ok(a) = env.parse_data::<Authenticated>() {
                    self.user = Some(clean_line(&a.user.name));
                }
            }
            kind::SNAPSHOT => {
                if let Ok(s) = env.parse_data::<Snapshot>() {
                    self.apply_snapshot(s);
                }
            }
            // The relay's notice before it restarts: said, not kept.
            kind::ANNOUNCEMENT if env.seq.is_none() => {
                if let Ok(a) = env.parse_data::<Announcement>() {
                    self.warn(clean_line(&a.text));
                }
            }
            _ => match Event::from_envelope(&env) {
                Ok(Some(ev)) => self.on_event(ev),
                Ok(None) => {}
                Err(e) => tracing::warn!(kind = %env.kind, cause = %e, "unreadable event"),
            },
        }
    }

    /// One durable event: folded into the model, and the ticket flagged or
    /// the bell rung when the cook must notice.
    pub(super) fn on_event(&mut self, mut ev: Event) {
        clean_event(&mut ev);
        let Some(order) = ev.order() else {
            self.model.apply(&ev);
            return;
        };
        let id = order.id;
        let known = self.model.orders.get(&id);
        if !is_newer(order, known) {
            return;
        }
        let was_open = known.is_some_and(|o| !o.status.is_final());
        let is_new = known.is_none() && !order.status.is_final();
        // An order for later rings when it reaches the kitchen (fired),
        // not when it is placed (DESIGN §14).
        let scheduled = order.status == OrderStatus::Scheduled;
        let fired = known.is_some_and(|o| o.status == OrderStatus::Scheduled)
            && order.status == OrderStatus::Pending;
        // A station screen rings only for orders with a line of its own.
        let concerns_us = !self.is_station() || order.lines.iter().any(|l| self.serves(&l.station));
        self.model.apply(&ev);
        match ev {
            Event::OrderCreated(_) if is_new && concerns_us && !scheduled => self.bells_due += 1,
            Event::OrderUpdate(_) if fired && concerns_us => self.bells_due += 1,
            Event::OrderModified(_) if was_open => {
                self.ui.entry(id).or_default().flag = Some(Flag::Modified);
                self.bells_due += u32::from(concerns_us);
            }
            Event::OrderCancelled(_) => {
                let ui = self.ui.entry(id).or_default();
                ui.local_status = None;
                if was_open && !self.self_cancelled.contains(&id) {
                    ui.flag = Some(Flag::Cancelled);
                    if concerns_us {
                        self.bells_due += 1;
                        self.tell_station_cancelled(id);
                    }
                }
            }
            _ => {}
        }
    }

    /// A station screen drops a cancelled ticket at once (it has nothing
    /// left to make), so it says so in the message line.
    fn tell_station_cancelled(&mut self, id: u64) {
        if !self.is_station() {
            return;
        }
        if let Some(t) = self.ticket(id) {
            let why = t
                .cancel_note()
                .map(|n| format!(": {n}"))
                .unwrap_or_default();
            let text = format!("{} CANCELLED{why}", t.order.code);
            self.warn(text);
        }
    }

    /// The last known board from disk: drawn at once, marked stale by the
    /// connection state until the relay confirms or replaces it.
    fn apply_cache(&mut self, mut model: Model) {
        if self.synced {
            return;
        }
        self.synced = true;
        clean_model(&mut model);
        self.model = model;
    }

    fn apply_snapshot(&mut self, mut s: Snapshot) {
        clean_snapshot(&mut s);
        let first = !self.synced;
        self.synced = true;
        let was_open: BTreeMap<u64, bool> = self
            .model
            .orders
            .values()
            .map(|o| (o.id, !o.status.is_final()))
            .collect();
        // A cancelled ticket the cook has not cleared stays, even when the
        // snapshot no longer holds its order.
        let flagged: Vec<Order> = self
            .model
            .orders
            .values()
            .filter(|o| self.ui.get(&o.id).and_then(|u| u.flag) == Some(Flag::Cancelled))
            .cloned()
            .collect();
        self.model.load_snapshot(&s);
        for o in flagged {
            self.model.orders.entry(o.id).or_insert(o);
        }
        for o in self.model.orders.values() {
            match was_open.get(&o.id) {
                // A cancellation that happened while we were away is news
                // to the cook, unless this terminal sent it.
                Some(true)
                    if o.status == OrderStatus::Cancelled
                        && !self.self_cancelled.contains(&o.id) =>
                {
                    self.ui.entry(o.id).or_default().flag = Some(Flag::Cancelled);
                }
                None if !first && !o.status.is_final() => self.bells_due += 1,
                _ => {}
            }
        }
        let menu = &self.model.menu;
        self.local_available
            .retain(|id, _| menu.iter().any(|i| &i.id == id));
        let orders = &self.model.orders;
        self.ui.retain(|id, _| orders.contains_key(id));
    }

    fn on_reply(&mut self, id: String, result: Result<Value, ReplyError>) {
        let Some(req) = self.requests.remove(&id) else {
            return;
        };
        if let Some(item) = &req.item_id {
            if self.local_available.get(item).is_some_and(|l| l.req == id) {
                self.local_available.remove(item);
            }
        }
        let ack = match &result {
            Ok(data) => Ack::deserialize(data).unwrap_or_default(),
            Err(_) => Ack::default(),
        };
        if let Some(item) = ack.item {
            self.on_event(Event::MenuUpdate(MenuChange {
                op: MenuOp::Upsert,
                item: MenuChangeItem::Item(item),
            }));
        }
        let Some(order_id) = req.order_id else {
            if let Err(e) = result {
                self.warn(format!("{} refused: {}", req.label, clean_line(&e.message)));
            }
            return;
        };
        if let Some(ui) = self.ui.get_mut(&order_id) {
            ui.clear_local(&id);
        }
        match result {
            Ok(_) => {
                if let Some(order) = ack.order {
                    self.on_event(Event::OrderUpdate(OrderEvent {
                        order_id: order.id,
                        status: order.status,
                        order,
                    }));
                }
            }
            Err(e) => self.refused(&req, order_id, &e),
        }
    }

    fn refused(&mut self, req: &super::Req, order_id: u64, e: &ReplyError) {
        let what = match req.kind {
            ReqKind::Bump => "bump",
            ReqKind::Recall => "recall",
            ReqKind::Prep => "prep time",
            ReqKind::Delivery => "delivery time",
            ReqKind::Cancel => {
                self.self_cancelled.remove(&order_id);
                "cancel"
            }
            ReqKind::Available => "86",
            ReqKind::Line { line, done } => {
                if done {
                    if let Some(p) = self.marked.iter().rposition(|m| *m == (order_id, line)) {
                        self.marked.remove(p);
                    }
                }
                "line mark"
            }
            ReqKind::Note => "note",
            ReqKind::Fire => "fire now",
            ReqKind::Pause => "pause",
        };
        let code = self
            .ticket(order_id)
            .map_or_else(|| format!("#{order_id}"), |t| t.order.code.clone());
        self.warn(format!("{code} {what} refused: {}", clean_line(&e.message)));
    }
}
