//! Moving about the screens: switching, selecting, scrolling, opening a
//! row, and the list filters. Nothing here talks to the relay except to
//! load a screen's own data (users, activity) when it is first shown.

use crate::form::{Edit, Form, Input};

use super::activity::next_kind;
use super::{App, FormKind, OrderSort, Overlay, Screen};

impl App {
    pub(super) fn go(&mut self, s: Screen) {
        self.screen = s;
        self.overlay = Overlay::None;
        if s == Screen::Users && self.conn.is_connected() {
            self.refresh_users(false);
        }
        if s == Screen::Activity && self.activity.is_empty() && self.conn.is_connected() {
            self.query_activity(false);
        }
    }

    pub(super) fn close(&mut self) {
        match &self.overlay {
            Overlay::Filter(_) => {
                // Esc drops the filter being typed; Enter keeps it.
                self.set_filter(String::new());
            }
            Overlay::Form(f) if f.sending.is_some() => {
                self.say("still waiting for the relay; its answer will show here");
            }
            _ => {}
        }
        self.overlay = Overlay::None;
    }

    pub(super) fn move_sel(&mut self, delta: isize) {
        if let Overlay::Detail { scroll, .. } | Overlay::Report { scroll, .. } = &mut self.overlay {
            *scroll = (*scroll as isize + delta).clamp(0, 500) as u16;
            return;
        }
        fn step<K: Clone + PartialEq>(keys: &[K], sel: &Option<K>, delta: isize) -> Option<K> {
            if keys.is_empty() {
                return sel.clone();
            }
            let i = App::index_of(keys, sel) as isize;
            let j = i.saturating_add(delta).clamp(0, keys.len() as isize - 1) as usize;
            Some(keys[j].clone())
        }
        match self.screen {
            Screen::Dashboard => {}
            Screen::Orders => {
                let keys: Vec<u64> = self.visible_orders().iter().map(|o| o.id).collect();
                self.order_sel = step(&keys, &self.order_sel, delta);
            }
            Screen::Alerts => {
                let keys: Vec<u64> = self.visible_alerts().iter().map(|a| a.id).collect();
                self.alert_sel = step(&keys, &self.alert_sel, delta);
            }
            Screen::Activity => {
                let n = self.visible_activity().len();
                let j = (self.activity_sel as isize)
                    .saturating_add(delta)
                    .clamp(0, n.saturating_sub(1) as isize) as usize;
                self.activity_sel = j;
                // Scrolling to the end of what is loaded fetches older entries.
                if n > 0
                    && j + 1 >= n
                    && delta > 0
                    && !self.activity_done
                    && self.conn.is_connected()
                {
                    self.query_activity(true);
                }
            }
            Screen::Menu => {
                let keys: Vec<String> = self.model.menu.iter().map(|m| m.id.clone()).collect();
                self.item_sel = step(&keys, &self.item_sel, delta);
            }
            Screen::Announcements => {
                let keys: Vec<u64> = self.active_announcements().iter().map(|a| a.id).collect();
                self.ann_sel = step(&keys, &self.ann_sel, delta);
            }
            Screen::Promos => {
                let keys: Vec<String> = self.model.promos.keys().cloned().collect();
                self.promo_sel = step(&keys, &self.promo_sel, delta);
            }
            Screen::Users => {
                let keys: Vec<String> = self.users.iter().map(|u| u.id.clone()).collect();
                self.user_sel = step(&keys, &self.user_sel, delta);
            }
        }
    }

    pub(super) fn open(&mut self) {
        match self.screen {
            Screen::Orders => {
                if let Some(o) = self.selected_order() {
                    self.overlay = Overlay::Detail {
                        order_id: o.id,
                        scroll: 0,
                    };
                }
            }
            Screen::Alerts => self.ack_alert(),
            Screen::Menu | Screen::Promos => self.edit_thing(),
            Screen::Announcements => self.new_thing(),
            _ => {}
        }
    }

    pub(super) fn start_filter(&mut self) {
        let current = match self.screen {
            Screen::Orders => self.order_filter.clone(),
            Screen::Activity => self.activity_filter.clone(),
            _ => return,
        };
        self.overlay = Overlay::Filter(Input::new(current));
    }

    pub(super) fn set_filter(&mut self, value: String) {
        match self.screen {
            Screen::Orders => self.order_filter = value,
            Screen::Activity => {
                self.activity_filter = value;
                self.activity_sel = 0;
            }
            _ => {}
        }
    }

    pub(super) fn input(&mut self, e: Edit) {
        match &mut self.overlay {
            Overlay::Filter(input) => {
                input.apply(e, 64);
                let v = input.value.clone();
                self.set_filter(v);
            }
            Overlay::Form(f) => {
                f.edit(e);
                f.error = None;
            }
            _ => {}
        }
    }

    pub(super) fn with_form(&mut self, f: impl FnOnce(&mut Form<FormKind>)) {
        if let Overlay::Form(form) = &mut self.overlay {
            f(form);
        }
    }

    pub(super) fn refresh(&mut self) {
        if !self.conn.is_connected() {
            self.complain("not connected: nothing to refresh");
            return;
        }
        match self.screen {
            Screen::Users => self.refresh_users(true),
            Screen::Activity => self.query_activity(false),
            _ => {}
        }
    }

    pub(super) fn cycle_status(&mut self) {
        if self.screen == Screen::Orders {
            self.status_filter = self.status_filter.next();
        }
    }

    /// The next station in use after the one filtered on; after the last,
    /// every station again.
    pub(super) fn cycle_station(&mut self) {
        if self.screen != Screen::Orders {
            return;
        }
        let stations = self.stations_in_use();
        self.station_filter = match &self.station_filter {
            None => stations.first().cloned(),
            Some(s) => stations.iter().find(|x| *x > s).cloned(),
        };
    }

    pub(super) fn cycle_kind(&mut self) {
        if self.screen == Screen::Activity {
            self.activity_kind = next_kind(self.activity_kind);
            self.activity_sel = 0;
        }
    }

    pub(super) fn toggle_sort(&mut self) {
        if self.screen == Screen::Orders {
            self.order_sort = match self.order_sort {
                OrderSort::NewestFirst => OrderSort::OldestFirst,
                OrderSort::OldestFirst => OrderSort::NewestFirst,
            };
        }
    }
}
