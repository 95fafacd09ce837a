//! Views over the model and the board's own state: the columns of the expo,
//! the station screen's lines, the recall list, all-day counts, the banner.
//! Read-only: nothing here changes the app.

use std::collections::BTreeMap;

use kfood_protocol::menu::MenuItem;
use kfood_protocol::messages::{AnnouncementKind, Severity, SystemAlert};
use kfood_protocol::order::OrderStatus;
use kfood_protocol::term::status;

use super::ticket::Ticket;
use super::types::{Screen, Urgency};
use super::App;

/// Most tickets the recall list shows (DESIGN §13).
pub const RECALL_LIST_MAX: usize = 50;

/// A ticket of the station screen: the lines of this terminal's stations
/// (indexes into the order's lines), and how many lines belong elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationTicket {
    pub order_id: u64,
    pub lines: Vec<usize>,
    pub others: usize,
}

impl App {
    /// Which board this terminal is.
    pub fn screen(&self) -> Screen {
        if self.settings.stations.is_empty() {
            Screen::Expo
        } else {
            Screen::Station
        }
    }

    /// Whether this terminal is a station screen.
    pub fn is_station(&self) -> bool {
        self.screen() == Screen::Station
    }

    /// The ticket of order `id`, if the model knows the order.
    pub fn ticket(&self, id: u64) -> Option<Ticket<'_>> {
        self.model
            .orders
            .get(&id)
            .map(|o| Ticket::new(o, self.ui.get(&id)))
    }

    /// Every order of the model as a ticket.
    pub fn tickets(&self) -> impl Iterator<Item = Ticket<'_>> {
        self.model
            .orders
            .values()
            .map(|o| Ticket::new(o, self.ui.get(&o.id)))
    }

    pub fn selected_ticket(&self) -> Option<Ticket<'_>> {
        self.selected.and_then(|id| self.ticket(id))
    }

    /// The ticket ids of each column, oldest first, after the filter.
    pub fn board(&self) -> [Vec<u64>; 3] {
        let mut cols: [Vec<Ticket<'_>>; 3] = Default::default();
        for t in self.tickets() {
            if let Some(c) = t.column() {
                if t.matches(&self.filter) {
                    cols[c.index()].push(t);
                }
            }
        }
        cols.map(|mut v| {
            // A scheduled order joins the queue when it fires (DESIGN §14).
            v.sort_by_key(|t| (t.order.kitchen_since_ms(), t.id()));
            v.into_iter().map(|t| t.id()).collect()
        })
    }

    /// Tickets on the board (open or flagged), before the filter.
    pub fn open_count(&self) -> usize {
        self.tickets().filter(|t| t.column().is_some()).count()
    }

    /// Tickets the filter hides.
    pub fn filtered_out(&self) -> usize {
        self.open_count() - self.board().iter().map(Vec::len).sum::<usize>()
    }

    /// Whether a line of that station belongs to this terminal.
    pub fn serves(&self, station: &str) -> bool {
        self.settings.stations.iter().any(|s| s == station)
    }

    /// The station screen: pending and preparing tickets that still have
    /// an unmarked line for this terminal's stations, oldest first.
    pub fn station_board(&self) -> Vec<StationTicket> {
        let mut v: Vec<(Ticket<'_>, StationTicket)> = self
            .tickets()
            .filter(|t| matches!(t.status(), OrderStatus::Pending | OrderStatus::Preparing))
            .filter(|t| t.flag != Some(super::Flag::Cancelled) && t.matches(&self.filter))
            .filter_map(|t| {
                let lines: Vec<usize> = (0..t.order.lines.len())
                    .filter(|&i| self.serves(&t.order.lines[i].station))
                    .collect();
                let open = lines.iter().any(|&i| !t.line_done(i));
                open.then(|| {
                    let st = StationTicket {
                        order_id: t.id(),
                        others: t.order.lines.len() - lines.len(),
                        lines,
                    };
                    (t, st)
                })
            })
            .collect();
        v.sort_by_key(|(t, _)| (t.created_ms(), t.id()));
        v.into_iter().map(|(_, s)| s).collect()
    }

    /// The lines the station screen's cursor moves over: the unmarked lines
    /// of its tickets, in screen order, as (order id, line index).
    pub fn station_cursor_lines(&self) -> Vec<(u64, usize)> {
        self.station_board()
            .iter()
            .flat_map(|st| {
                let t = self.ticket(st.order_id);
                st.lines
                    .iter()
                    .filter(move |&&i| t.is_some_and(|t| !t.line_done(i)))
                    .map(move |&i| (st.order_id, i))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The recall list (DESIGN §13): orders moved forward into their status
    /// within the recall window, newest first, at most [`RECALL_LIST_MAX`].
    pub fn recall_list(&self) -> Vec<u64> {
        let mut v: Vec<(i64, u64)> = self
            .model
            .orders
            .values()
            .filter(|o| o.recallable(self.now))
            .map(|o| (o.entered_ms(), o.id))
            .collect();
        v.sort_by(|a, b| b.cmp(a));
        v.into_iter()
            .take(RECALL_LIST_MAX)
            .map(|(_, id)| id)
            .collect()
    }

    /// `Late` is the order's own rule (past its ETA, DESIGN §6); `Warn` is
    /// the board's threshold on the ticket's age, pending and preparing only.
    pub fn urgency(&self, t: &Ticket<'_>) -> Urgency {
        if t.flag == Some(super::Flag::Cancelled) {
            return Urgency::Ok;
        }
        if t.order.is_late(self.now) {
            return Urgency::Late;
        }
        let cooking = matches!(t.status(), OrderStatus::Pending | OrderStatus::Preparing);
        let mins = t.age_ms(self.now) / 60_000;
        if cooking && mins >= i64::from(self.settings.warn_after_min) {
            Urgency::Warn
        } else {
            Urgency::Ok
        }
    }

    /// Each item still to cook (lines not done on pending and preparing
    /// tickets; on a station screen only its stations' lines), most first.
    pub fn all_day(&self) -> Vec<(String, u32)> {
        let station = self.screen() == Screen::Station;
        let mut sums: BTreeMap<String, u32> = BTreeMap::new();
        for t in self.tickets() {
            if !matches!(t.status(), OrderStatus::Pending | OrderStatus::Preparing) {
                continue;
            }
            for (i, l) in t.order.lines.iter().enumerate() {
                if t.line_done(i) || (station && !self.serves(&l.station)) {
                    continue;
                }
                *sums.entry(l.name.clone()).or_default() += l.qty;
            }
        }
        let mut v: Vec<_> = sums.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }

    /// Whether the item is available as the cook sees it (their change first).
    pub fn item_available(&self, item: &MenuItem) -> bool {
        self.local_available
            .get(&item.id)
            .map_or(item.available, |l| l.value)
    }

    /// Requests not answered yet.
    pub fn unanswered(&self) -> usize {
        self.requests.len()
    }

    /// The connection's state in words; a reconnect counts down.
    pub fn conn_label(&self) -> String {
        let elapsed = u64::try_from(self.now - self.conn_since).unwrap_or(0);
        status::conn_text_caps(&status::conn_after(&self.conn, elapsed))
    }

    /// Open alerts and unexpired announcements the cook has not dismissed, newest first.
    pub fn banner(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut alerts: Vec<&SystemAlert> = self
            .model
            .open_alerts()
            .filter(|a| !self.dismissed_alerts.contains(&a.id))
            .collect();
        alerts.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.id.cmp(&a.id)));
        for a in alerts {
            let sev = match a.severity {
                Severity::Info => "INFO",
                Severity::Warning => "WARNING",
                Severity::Critical => "CRITICAL",
            };
            out.push(format!("ALERT {sev}: {}", a.text));
        }
        let mut anns: Vec<_> = self
            .model
            .active_announcements(self.now)
            .filter(|a| !self.dismissed_announcements.contains(&a.id))
            .collect();
        anns.sort_by_key(|a| std::cmp::Reverse(a.id));
        for a in anns {
            let k = match a.kind {
                AnnouncementKind::Announcement => "ANNOUNCEMENT",
                AnnouncementKind::Maintenance => "MAINTENANCE",
                AnnouncementKind::Promotion => "PROMOTION",
            };
            out.push(format!(
                "{k}: {} ({})",
                a.text.replace('\n', " "),
                a.by.name
            ));
        }
        out
    }
}
