//! The questions the screens ask: views over the model (menu, orders,
//! announcements) and the customer's own state. Nothing here changes
//! anything but the read marks.

use kfood_protocol::menu::MenuItem;
use kfood_protocol::options::{in_menu_order, line_label, unit_price, ChosenOption, LineOption};
use kfood_protocol::time::parse_ms;
use kfood_protocol::{Order, OrderStatus};

use super::App;
use crate::cart::CartLine;

/// One row of the Notifications screen: an announcement from the model, or
/// one the program keeps itself (the relay's restart notice, a kitchen note).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The announcement's id; 0 for a notice the relay does not keep.
    pub id: u64,
    /// `announcement`, `maintenance`, `promotion`, or `kitchen`.
    pub kind: String,
    pub text: String,
    pub created_at: String,
    /// Who it is from.
    pub from: String,
    pub unread: bool,
}

/// The newest kitchen note on an order (DESIGN §13): a history entry with a
/// note whose status is the one before it, so a note rather than a move.
/// (A cancel's reason rides on the move to `cancelled` and is not one.)
pub fn kitchen_note(o: &Order) -> Option<&str> {
    o.kitchen_note()
}

/// The kitchen's progress on a `preparing` order from its line marks:
/// "2 of 3 items done". Nothing before the first mark: a kitchen that bumps
/// whole tickets never marks lines, and "0 of 3" would only mislead.
pub fn progress(o: &Order) -> Option<String> {
    let done = o.lines_done();
    (o.status == OrderStatus::Preparing && done > 0)
        .then(|| format!("{done} of {} items done", o.lines.len()))
}

impl App {
    /// The menu in display order.
    pub fn menu(&self) -> &[MenuItem] {
        &self.model.menu
    }

    /// Whether what is drawn may be out of date.
    pub fn stale(&self) -> bool {
        !self.synced || !self.conn.is_connected()
    }

    /// Categories in menu order.
    pub fn categories(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for item in self.menu() {
            if !out.contains(&item.category.as_str()) {
                out.push(&item.category);
            }
        }
        out
    }

    /// The items the menu list shows: the search's matches, or the category's.
    pub fn visible_items(&self) -> Vec<&MenuItem> {
        let q = self.search.trim().to_lowercase();
        if !q.is_empty() {
            return self
                .menu()
                .iter()
                .filter(|i| {
                    i.name.to_lowercase().contains(&q)
                        || i.description.to_lowercase().contains(&q)
                        || i.category.to_lowercase().contains(&q)
                        || i.id.contains(&q)
                })
                .collect();
        }
        let cats = self.categories();
        let Some(cat) = cats.get(self.category) else {
            return Vec::new();
        };
        self.menu().iter().filter(|i| i.category == *cat).collect()
    }

    pub fn selected_item(&self) -> Option<&MenuItem> {
        self.visible_items().get(self.item_sel).copied()
    }

    pub fn item(&self, id: &str) -> Option<&MenuItem> {
        self.model.item(id)
    }

    /// A cart line's name: the menu's, or its id when it left the menu.
    pub fn line_name(&self, item_id: &str) -> String {
        self.item(item_id)
            .map(|i| i.name.clone())
            .unwrap_or_else(|| item_id.to_owned())
    }

    /// A cart line's choices as the menu on screen names and prices them,
    /// in menu order (DESIGN §14).
    pub fn line_options(&self, item_id: &str, chosen: &[ChosenOption]) -> Vec<LineOption> {
        self.item(item_id)
            .map(|i| in_menu_order(i, chosen))
            .unwrap_or_default()
    }

    /// A cart line's name with its choices: "Bibimbap · hot · +egg".
    pub fn cart_line_label(&self, l: &CartLine) -> String {
        line_label(
            &self.line_name(&l.item_id),
            &self.line_options(&l.item_id, &l.options),
        )
    }

    /// A line's unit price at the menu prices on screen, its choices
    /// included (the relay's rule); `None` when the item left the menu.
    pub fn unit_price(&self, item_id: &str, chosen: &[ChosenOption]) -> Option<i64> {
        self.item(item_id)
            .map(|i| unit_price(i.price_cents, &in_menu_order(i, chosen)))
    }

    /// Cart subtotal at the menu prices on screen; `None` when a line's item
    /// is not on the menu. Only a guide: the relay prices the order.
    pub fn cart_subtotal(&self) -> Option<i64> {
        self.cart
            .iter()
            .map(|l| {
                self.unit_price(&l.item_id, &l.options)
                    .map(|p| p * i64::from(l.qty))
            })
            .sum()
    }

    pub fn cart_count(&self) -> u32 {
        self.cart.iter().map(|l| l.qty).sum()
    }

    pub fn order(&self, id: u64) -> Option<&Order> {
        self.model.orders.get(&id)
    }

    /// The order's code, also for an order no longer known.
    pub fn code_of(&self, id: u64) -> String {
        self.order(id)
            .map(|o| o.code.clone())
            .unwrap_or_else(|| kfood_protocol::order::order_code(id))
    }

    /// Open orders newest first, then closed ones newest first.
    pub fn order_rows(&self) -> (Vec<&Order>, Vec<&Order>) {
        let newest_first = self.model.orders.values().rev();
        let (open, closed) = newest_first.partition(|o| !o.status.is_final());
        (open, closed)
    }

    pub(super) fn order_ids(&self) -> Vec<u64> {
        let (open, closed) = self.order_rows();
        open.iter().chain(closed.iter()).map(|o| o.id).collect()
    }

    /// The order the Orders screen shows: the one picked, else the first.
    pub fn selected(&self) -> Option<&Order> {
        let id = self
            .selected_order
            .filter(|id| self.model.orders.contains_key(id))
            .or_else(|| self.order_ids().first().copied())?;
        self.order(id)
    }

    /// Orders still moving through the kitchen.
    pub fn open_orders(&self) -> usize {
        self.model
            .orders
            .values()
            .filter(|o| !o.status.is_final())
            .count()
    }

    /// The Notifications screen's rows, newest first: the active
    /// announcements and the program's own notices.
    pub fn notices(&self) -> Vec<Notice> {
        let mut out: Vec<Notice> = self
            .model
            .active_announcements(self.now_ms)
            .map(|a| Notice {
                id: a.id,
                kind: format!("{:?}", a.kind).to_lowercase(),
                text: a.text.clone(),
                created_at: a.created_at.clone(),
                from: a.by.name.clone(),
                unread: a.id > self.read_upto,
            })
            .chain(self.local_notices.iter().cloned())
            .collect();
        out.sort_by_key(|n| std::cmp::Reverse((parse_ms(&n.created_at).unwrap_or(0), n.id)));
        out
    }

    pub fn unread(&self) -> usize {
        self.notices().iter().filter(|n| n.unread).count()
    }

    /// Everything on the Notifications screen counts as seen.
    pub(super) fn mark_read(&mut self) {
        let newest = self.model.announcements.keys().next_back().copied();
        if let Some(id) = newest.filter(|id| *id > self.read_upto) {
            self.read_upto = id;
            self.dirty = true;
        }
        for n in &mut self.local_notices {
            n.unread = false;
        }
    }

    /// Keeps the category and item selection inside the menu after it changed.
    pub(super) fn clamp_menu(&mut self) {
        let cats = self.categories().len();
        if self.category >= cats {
            self.category = 0;
        }
        let n = self.visible_items().len();
        self.item_sel = self.item_sel.min(n.saturating_sub(1));
    }
}
