//! The activity log (screen 4): pages fetched with `activity_query`, live
//! entries merged in newest first, and the kind filter. It is not durable
//! and lives outside the model.

use kfood_protocol::messages::{Activity, ActivityKind, ActivityQuery};
use kfood_protocol::Request;

use super::{App, Pending, ACTIVITY_KEEP, ACTIVITY_PAGE};

impl App {
    pub(super) fn query_activity(&mut self, older: bool) {
        if self
            .pending
            .values()
            .any(|p| matches!(p, Pending::Activity { .. }))
        {
            return;
        }
        let mut query = ActivityQuery {
            before: None,
            limit: Some(ACTIVITY_PAGE),
        };
        if older {
            match self.activity.back() {
                Some(a) => query.before = Some(a.id),
                None => return,
            }
        }
        self.request(Request::ActivityQuery(query), Pending::Activity { older });
    }

    pub fn activity_loading(&self) -> bool {
        self.pending
            .values()
            .any(|p| matches!(p, Pending::Activity { .. }))
    }

    /// Merges activity entries (newest first), dropping ones already known.
    pub(super) fn add_activity(&mut self, entries: Vec<Activity>, older: bool) {
        let needle = self.activity_filter.trim().to_lowercase();
        for a in entries {
            if self.activity.iter().any(|x| x.id == a.id) {
                continue;
            }
            // Entries keep newest first whatever order they arrive in.
            let pos = self
                .activity
                .iter()
                .position(|x| x.id < a.id)
                .unwrap_or(self.activity.len());
            if pos <= self.activity_sel_abs() && !older && self.activity_sel > 0 {
                // Keep the row the admin is reading under the cursor.
                if self.activity_admits(&a, &needle) {
                    self.activity_sel += 1;
                }
            }
            self.activity.insert(pos, a);
        }
        self.activity.truncate(ACTIVITY_KEEP);
    }

    /// Position in `activity` of the selected filtered row.
    fn activity_sel_abs(&self) -> usize {
        let needle = self.activity_filter.trim().to_lowercase();
        self.activity
            .iter()
            .enumerate()
            .filter(|(_, a)| self.activity_admits(a, &needle))
            .nth(self.activity_sel)
            .map(|(i, _)| i)
            .unwrap_or(self.activity.len())
    }
}

pub(super) fn next_kind(k: Option<ActivityKind>) -> Option<ActivityKind> {
    use ActivityKind::*;
    match k {
        None => Some(Login),
        Some(Login) => Some(Connect),
        Some(Connect) => Some(Disconnect),
        Some(Disconnect) => Some(Order),
        Some(Order) => Some(Status),
        Some(Status) => Some(Menu),
        Some(Menu) => Some(Admin),
        Some(Admin) => None,
    }
}

pub fn activity_kind_label(k: ActivityKind) -> &'static str {
    match k {
        ActivityKind::Login => "login",
        ActivityKind::Connect => "connect",
        ActivityKind::Disconnect => "disconnect",
        ActivityKind::Order => "order",
        ActivityKind::Status => "status",
        ActivityKind::Menu => "menu",
        ActivityKind::Admin => "admin",
    }
}
