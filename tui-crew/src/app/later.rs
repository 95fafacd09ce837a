//! Orders placed for later and the pause of online ordering (DESIGN §14):
//! the board's "Later" summary, the `L` list with fire-now, and `p`, which
//! pauses or resumes online ordering after a confirmation.

use kfood_protocol::capacity::{fire_ms, CapacitySet};
use kfood_protocol::messages::OrderUpdate;
use kfood_protocol::order::OrderStatus;
use kfood_protocol::time::Millis;
use kfood_protocol::Request;

use super::types::{Action, Dir, Local, Mode};
use super::{App, Req, ReqKind};

impl App {
    /// Whether online ordering is paused now.
    pub fn paused(&self) -> bool {
        self.model.capacity.is_paused_at(self.now)
    }

    /// The scheduled orders by fire time, then id: the `L` list.
    pub fn later_list(&self) -> Vec<u64> {
        // One fired from here leaves the list at once, as it joins Pending.
        let mut v: Vec<(Millis, u64)> = self
            .tickets()
            .filter(|t| t.status() == OrderStatus::Scheduled)
            .map(|t| (fire_ms(t.order).unwrap_or(Millis::MAX), t.id()))
            .collect();
        v.sort_unstable();
        v.into_iter().map(|(_, id)| id).collect()
    }

    /// How many orders are scheduled and the earliest fire time: the
    /// board's "Later N · next 18:05" line. `None` when there are none.
    pub fn later_summary(&self) -> Option<(usize, Option<Millis>)> {
        let ids = self.later_list();
        let first = ids.first()?;
        let next = self.model.orders.get(first).and_then(fire_ms);
        Some((ids.len(), next))
    }

    /// The `L` list: j/k move, Enter (or `f`) sends the order to the
    /// kitchen now.
    pub(super) fn on_later_list(&mut self, cursor: usize, action: Action) {
        let last = self.later_list().len().saturating_sub(1);
        let to = |cursor| Mode::Later { cursor };
        match action {
            Action::Quit => self.request_quit(),
            Action::Back | Action::LaterList => self.mode = Mode::Board,
            Action::Move(Dir::Up) => self.mode = to(cursor.saturating_sub(1)),
            Action::Move(Dir::Down) => self.mode = to((cursor + 1).min(last)),
            Action::First => self.mode = to(0),
            Action::Last => self.mode = to(last),
            Action::Submit | Action::Bump | Action::MarkLine => {
                match self.later_list().get(cursor) {
                    Some(&id) => {
                        self.fire_now(id);
                        // The last one fired: back to the board, where it now is.
                        if self.later_list().is_empty() {
                            self.mode = Mode::Board;
                        }
                    }
                    None => self.say("no scheduled orders".into()),
                }
            }
            Action::Help => self.mode = Mode::Help,
            _ => {}
        }
    }

    /// Sends scheduled order `id` to the kitchen now: an `order_update` to
    /// `pending` (DESIGN §14 fire-now).
    fn fire_now(&mut self, id: u64) {
        let Some(code) = self.model.orders.get(&id).map(|o| o.code.clone()) else {
            return;
        };
        let update = OrderUpdate {
            order_id: id,
            status: Some(OrderStatus::Pending),
            prep_minutes: None,
            delivery_minutes: None,
            note: None,
        };
        let label = format!("{code} fire now");
        let req = self.send_for_order(id, ReqKind::Fire, Request::OrderUpdate(update), label);
        self.ui.entry(id).or_default().local_status = Some(Local {
            req,
            value: OrderStatus::Pending,
        });
        self.say(format!("{code} sent to the kitchen now"));
    }

    /// `y`/Enter pauses online ordering (or resumes it when paused); any
    /// other key keeps it as it is.
    pub(super) fn on_confirm_pause(&mut self, action: Action) {
        self.mode = Mode::Board;
        if action != Action::Submit {
            return;
        }
        let pause = !self.paused();
        let set = CapacitySet {
            paused: Some(pause),
            ..CapacitySet::default()
        };
        let req = Req {
            kind: ReqKind::Pause,
            order_id: None,
            item_id: None,
            label: if pause { "pause" } else { "resume" }.into(),
        };
        self.send(Request::CapacitySet(set), req);
        self.say(if pause {
            "pausing online ordering...".into()
        } else {
            "resuming online ordering...".into()
        });
    }
}
