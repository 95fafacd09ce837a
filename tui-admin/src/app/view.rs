//! The screens' reading of the model: what each list shows, in which order,
//! after the admin's filters, and which row is selected. Nothing here
//! changes anything.

use std::collections::BTreeSet;

use kfood_protocol::menu::{MenuItem, Promo};
use kfood_protocol::messages::{Activity, Announcement, Severity, SystemAlert, UserInfo};
use kfood_protocol::Order;

use super::{App, OrderSort};

impl App {
    pub fn open_alerts(&self) -> impl Iterator<Item = &SystemAlert> {
        self.model.open_alerts()
    }

    /// Open alerts by severity: (critical, warning, info).
    pub fn open_alert_counts(&self) -> (usize, usize, usize) {
        self.open_alerts()
            .fold((0, 0, 0), |(c, w, i), a| match a.severity {
                Severity::Critical => (c + 1, w, i),
                Severity::Warning => (c, w + 1, i),
                Severity::Info => (c, w, i + 1),
            })
    }

    /// The stations in use, sorted: those of the menu's items and of the
    /// lines of the orders known (an item since moved still counts).
    pub fn stations_in_use(&self) -> Vec<String> {
        let menu = self.model.menu.iter().map(|i| i.station.as_str());
        let lines = self
            .model
            .orders
            .values()
            .flat_map(|o| o.lines.iter().map(|l| l.station.as_str()));
        let set: BTreeSet<&str> = menu.chain(lines).collect();
        set.into_iter().map(str::to_owned).collect()
    }

    /// Orders after the status, station and text filters, in the chosen order.
    pub fn visible_orders(&self) -> Vec<&Order> {
        let needle = self.order_filter.trim().to_lowercase();
        let station = self.station_filter.as_deref();
        let mut v: Vec<&Order> = self
            .model
            .orders
            .values()
            .filter(|o| self.status_filter.admits(o.status))
            .filter(|o| station.is_none_or(|s| o.lines.iter().any(|l| l.station == s)))
            .filter(|o| {
                needle.is_empty()
                    || o.code.to_lowercase().contains(&needle)
                    || o.status.as_str().contains(&needle)
                    || o.customer.name.to_lowercase().contains(&needle)
                    || o.customer.id.to_lowercase().contains(&needle)
            })
            .collect();
        // Ids grow with time, so they order by age.
        match self.order_sort {
            OrderSort::NewestFirst => v.sort_by_key(|o| std::cmp::Reverse(o.id)),
            OrderSort::OldestFirst => v.sort_by_key(|o| o.id),
        }
        v
    }

    /// Every alert seen, newest first.
    pub fn visible_alerts(&self) -> Vec<&SystemAlert> {
        self.model.alerts.values().rev().collect()
    }

    pub fn visible_activity(&self) -> Vec<&Activity> {
        let needle = self.activity_filter.trim().to_lowercase();
        self.activity
            .iter()
            .filter(|a| self.activity_admits(a, &needle))
            .collect()
    }

    pub(super) fn activity_admits(&self, a: &Activity, needle: &str) -> bool {
        self.activity_kind.is_none_or(|k| k == a.kind)
            && (needle.is_empty()
                || a.user.id.to_lowercase().contains(needle)
                || a.user.name.to_lowercase().contains(needle)
                || a.text.to_lowercase().contains(needle))
    }

    /// Unexpired announcements, newest first.
    pub fn active_announcements(&self) -> Vec<&Announcement> {
        let mut v: Vec<&Announcement> = self.model.active_announcements(self.now_ms).collect();
        v.reverse();
        v
    }

    /// Index of the selection in a keyed list: the selected key, or the first row.
    pub fn index_of<K: PartialEq>(keys: &[K], sel: &Option<K>) -> usize {
        sel.as_ref()
            .and_then(|s| keys.iter().position(|k| k == s))
            .unwrap_or(0)
    }

    pub fn selected_order(&self) -> Option<&Order> {
        let keys: Vec<u64> = self.visible_orders().iter().map(|o| o.id).collect();
        keys.get(Self::index_of(&keys, &self.order_sel))
            .and_then(|id| self.model.orders.get(id))
    }

    pub fn selected_alert(&self) -> Option<&SystemAlert> {
        let keys: Vec<u64> = self.visible_alerts().iter().map(|a| a.id).collect();
        keys.get(Self::index_of(&keys, &self.alert_sel))
            .and_then(|id| self.model.alerts.get(id))
    }

    pub fn selected_item(&self) -> Option<&MenuItem> {
        let keys: Vec<String> = self.model.menu.iter().map(|m| m.id.clone()).collect();
        self.model.menu.get(Self::index_of(&keys, &self.item_sel))
    }

    pub fn selected_promo(&self) -> Option<&Promo> {
        let keys: Vec<String> = self.model.promos.keys().cloned().collect();
        keys.get(Self::index_of(&keys, &self.promo_sel))
            .and_then(|c| self.model.promos.get(c))
    }

    pub fn selected_user(&self) -> Option<&UserInfo> {
        let keys: Vec<String> = self.users.iter().map(|u| u.id.clone()).collect();
        self.users.get(Self::index_of(&keys, &self.user_sel))
    }
}
