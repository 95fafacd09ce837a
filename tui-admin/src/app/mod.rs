//! The admin program's state and every change to it. What the relay says is
//! one [`Model`], folded with `Model::apply` (the same rule the relay and
//! the client cache use); everything else here is the program's own: UI
//! state ([`state`]), metrics, activity and the user list, which are not
//! durable and stay outside the model.
//!
//! The shape is keys → [`Action`] → [`App::update`] → pure render. Reading
//! the model for the screens is [`view`]; moving about the screens is
//! [`screens`]; what the admin changes is [`changes`] with its forms in
//! [`forms`] (an item's option groups in [`options`]); what arrives from the relay is [`network`]; the activity log
//! is [`activity`]; the day's report over the Dashboard is [`report`]. Requests leave through `outbox` as typed
//! [`kfood_protocol::Request`]s, which the event loop hands to the network
//! task.

use std::collections::{HashMap, VecDeque};

use kfood_protocol::client::ConnState;
use kfood_protocol::messages::{Activity, ActivityKind, PaymentFailed, UserInfo};
use kfood_protocol::time::Millis;
use kfood_protocol::{Model, Request, UserRef};
use time::UtcOffset;

use crate::charts::Charts;

pub mod activity;
pub mod capacity;
pub mod changes;
pub mod forms;
pub mod network;
pub mod options;
pub mod report;
pub mod screens;
pub mod state;
pub mod view;

pub use activity::activity_kind_label;
pub use forms::promo_discount;
pub use state::*;

/// Activity entries kept in memory; older ones are dropped from the end and
/// can be fetched again with `activity_query` when scrolled to.
pub const ACTIVITY_KEEP: usize = 5_000;
/// Entries asked for per `activity_query` page.
pub const ACTIVITY_PAGE: usize = 100;
/// Recent failed payments kept for the dashboard.
pub const PAYMENT_FAILURES_KEEP: usize = 50;
/// How long a message stays in the message line.
pub const FLASH_MS: Millis = 8_000;
/// Least time between two automatic user-list refreshes while people come
/// and go (a busy restaurant connects many times a second).
pub const USER_REFRESH_MS: Millis = 2_000;

pub struct App {
    /// The clock, set by the event loop (and by tests) before each change.
    pub now_ms: Millis,
    /// The viewer's time zone, for clock times.
    pub offset: UtcOffset,
    pub relay: String,
    pub look: Look,
    pub screen: Screen,
    pub overlay: Overlay,
    pub quit: bool,
    pub conn: ConnState,
    pub user: Option<UserRef>,

    /// What the relay says: menu, orders, announcements, promos, alerts.
    pub model: Model,
    /// Newest first.
    pub activity: VecDeque<Activity>,
    /// The relay has no older entries than the last one here.
    pub activity_done: bool,
    pub users: Vec<UserInfo>,
    pub users_loaded: bool,
    /// Newest first: when, and what failed.
    pub payment_failures: VecDeque<(Millis, PaymentFailed)>,
    pub charts: Charts,
    pub chart_window: ChartWindow,

    pub order_sel: Option<u64>,
    pub order_filter: String,
    pub status_filter: StatusFilter,
    /// Only orders with a line for this station (DESIGN §13).
    pub station_filter: Option<String>,
    pub order_sort: OrderSort,
    pub alert_sel: Option<u64>,
    /// Index into the filtered activity list (0 = newest, which follows new entries).
    pub activity_sel: usize,
    pub activity_filter: String,
    pub activity_kind: Option<ActivityKind>,
    pub item_sel: Option<String>,
    pub ann_sel: Option<u64>,
    pub promo_sel: Option<String>,
    pub user_sel: Option<String>,
    /// Rows a page key moves; the event loop sets it from the terminal height.
    pub page_rows: usize,

    pub flash: Option<Flash>,
    pub outbox: Vec<NetCmd>,
    pending: HashMap<String, Pending>,
    next_req: u64,
    last_user_list_ms: Millis,
    /// Someone came or went while the list was refreshed too recently to ask again.
    users_stale: bool,
}

impl App {
    pub fn new(relay: impl Into<String>, look: Look, now_ms: Millis, offset: UtcOffset) -> App {
        App {
            now_ms,
            offset,
            relay: relay.into(),
            look,
            screen: Screen::Dashboard,
            overlay: Overlay::None,
            quit: false,
            conn: ConnState::Connecting,
            user: None,
            model: Model::default(),
            activity: VecDeque::new(),
            activity_done: false,
            users: Vec::new(),
            users_loaded: false,
            payment_failures: VecDeque::new(),
            charts: Charts::default(),
            chart_window: ChartWindow::FifteenMinutes,
            order_sel: None,
            order_filter: String::new(),
            status_filter: StatusFilter::All,
            station_filter: None,
            order_sort: OrderSort::NewestFirst,
            alert_sel: None,
            activity_sel: 0,
            activity_filter: String::new(),
            activity_kind: None,
            item_sel: None,
            ann_sel: None,
            promo_sel: None,
            user_sel: None,
            page_rows: 10,
            flash: None,
            outbox: Vec::new(),
            pending: HashMap::new(),
            next_req: 0,
            last_user_list_ms: Millis::MIN / 2,
            users_stale: false,
        }
    }

    pub fn mode(&self) -> Mode {
        match &self.overlay {
            Overlay::None => Mode::Browse(self.screen),
            Overlay::Help => Mode::Help,
            Overlay::Detail { .. } => Mode::Detail,
            Overlay::Report { .. } => Mode::Report,
            Overlay::Filter(_) | Overlay::Form(_) => Mode::Typing,
            Overlay::Confirm(_) => Mode::Confirm,
        }
    }

    pub fn tick(&mut self, now_ms: Millis) {
        self.now_ms = now_ms;
        if self.users_stale && self.screen == Screen::Users && self.conn.is_connected() {
            self.refresh_users(false);
        }
        if self
            .flash
            .as_ref()
            .is_some_and(|f| now_ms - f.at_ms > FLASH_MS)
        {
            self.flash = None;
        }
    }

    fn say(&mut self, text: impl Into<String>) {
        self.flash = Some(Flash {
            text: text.into(),
            error: false,
            at_ms: self.now_ms,
        });
    }

    fn complain(&mut self, text: impl Into<String>) {
        self.flash = Some(Flash {
            text: text.into(),
            error: true,
            at_ms: self.now_ms,
        });
    }

    /// Queues `request`; its answer is handled as `pending` says.
    fn request(&mut self, request: Request, pending: Pending) -> String {
        self.next_req += 1;
        let id = format!("adm-{}", self.next_req);
        self.pending.insert(id.clone(), pending);
        self.outbox.push(NetCmd::Request {
            id: id.clone(),
            request,
        });
        id
    }

    /// Requests the user list unless one was asked for very recently.
    fn refresh_users(&mut self, force: bool) {
        let busy = self.pending.values().any(|p| *p == Pending::UserList);
        if !force && (busy || self.now_ms - self.last_user_list_ms < USER_REFRESH_MS) {
            self.users_stale = true;
            return;
        }
        self.users_stale = false;
        self.last_user_list_ms = self.now_ms;
        self.request(Request::UserList, Pending::UserList);
    }

    /// Applies one action: the only way keys change the program.
    pub fn update(&mut self, action: Action) {
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.overlay = Overlay::Help,
            Action::Close => self.close(),
            Action::Go(s) => self.go(s),
            Action::NextScreen => self.go(self.screen.next()),
            Action::PrevScreen => self.go(self.screen.prev()),
            Action::Up => self.move_sel(-1),
            Action::Down => self.move_sel(1),
            Action::PageUp => self.move_sel(-(self.page_rows.max(1) as isize)),
            Action::PageDown => self.move_sel(self.page_rows.max(1) as isize),
            Action::Top => self.move_sel(isize::MIN / 2),
            Action::Bottom => self.move_sel(isize::MAX / 2),
            Action::Open => self.open(),
            Action::Filter => self.start_filter(),
            Action::CycleStatus => self.cycle_status(),
            Action::CycleStation => self.cycle_station(),
            Action::CycleKind => self.cycle_kind(),
            Action::ToggleSort => self.toggle_sort(),
            Action::ToggleWindow => {
                self.chart_window = match self.chart_window {
                    ChartWindow::FifteenMinutes => ChartWindow::TwoMinutes,
                    ChartWindow::TwoMinutes => ChartWindow::FifteenMinutes,
                };
            }
            Action::New => self.new_thing(),
            Action::Edit => self.edit_thing(),
            Action::Remove => self.remove_thing(),
            Action::Toggle => self.toggle_thing(),
            Action::Ack => self.ack_alert(),
            Action::CancelOrder => self.start_cancel(),
            Action::Revoke => self.start_revoke(),
            Action::Refresh => self.refresh(),
            Action::Capacity => self.open_capacity(),
            Action::Report => self.open_report(),
            Action::Options => self.edit_options(),
            Action::Input(e) => self.input(e),
            Action::NextField => self.with_form(|f| f.move_focus(1)),
            Action::PrevField => self.with_form(|f| f.move_focus(-1)),
            Action::Submit => self.submit(),
        }
    }
}

pub fn audience_label(a: kfood_protocol::messages::Audience) -> &'static str {
    use kfood_protocol::messages::Audience::*;
    match a {
        All => "everyone",
        Customer => "customers",
        Crew => "crew",
        Admin => "admins",
    }
}

/// Network text made safe to draw.
pub fn clean(s: &str) -> String {
    kfood_protocol::sanitize::clean_line(s)
}

/// `$1,234.50`: the one money format of the three programs.
pub use kfood_protocol::term::fmt::money;

#[cfg(test)]
mod tests {
    use super::*;

    /// Money is drawn with a dollar sign, thousands separators and cents.
    #[test]
    fn money_reads_like_money() {
        assert_eq!(money(0), "$0.00");
        assert_eq!(money(1350), "$13.50");
        assert_eq!(money(-135), "-$1.35");
        assert_eq!(money(444_550), "$4,445.50");
        assert_eq!(money(123_456_789), "$1,234,567.89");
    }
}
