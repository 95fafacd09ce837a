//! The admin program's state and every change to it: what the relay sends
//! (snapshot, live events, replies, connection state) and what the admin
//! does (actions from keys). Requests to the relay leave through `outbox`,
//! which the event loop hands to the network task.

use std::collections::{BTreeMap, HashMap, VecDeque};

use kfood_protocol::client::ConnState;
use kfood_protocol::menu::{MenuItem, MenuOp, Promo};
use kfood_protocol::messages::{
    kind, Activity, ActivityKind, Announcement, MenuUpdated, MetricsSample, OrderEvent,
    PaymentEvent, PaymentFailed, Severity, Snapshot, SystemAlert, UserInfo,
};
use kfood_protocol::order::PaymentStatus;
use kfood_protocol::time::{parse_ms, Millis};
use kfood_protocol::{Envelope, Order, OrderStatus, UserRef};
use serde_json::{json, Value};
use time::UtcOffset;

use crate::charts::Charts;
use crate::form::{parse_money, Edit, Field, Form, Input};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Screen {
    Dashboard,
    Orders,
    Alerts,
    Activity,
    Menu,
    Announcements,
    Promos,
    Users,
}

impl Screen {
    pub const ALL: [Screen; 8] = [
        Screen::Dashboard,
        Screen::Orders,
        Screen::Alerts,
        Screen::Activity,
        Screen::Menu,
        Screen::Announcements,
        Screen::Promos,
        Screen::Users,
    ];

    pub fn number(self) -> usize {
        Screen::ALL.iter().position(|s| *s == self).unwrap_or(0) + 1
    }

    pub fn from_number(n: usize) -> Option<Screen> {
        n.checked_sub(1).and_then(|i| Screen::ALL.get(i).copied())
    }

    pub fn title(self) -> &'static str {
        match self {
            Screen::Dashboard => "Dashboard",
            Screen::Orders => "Orders",
            Screen::Alerts => "Alerts",
            Screen::Activity => "Activity",
            Screen::Menu => "Menu",
            Screen::Announcements => "Announcements",
            Screen::Promos => "Promos",
            Screen::Users => "Users",
        }
    }

    /// The tab label on narrow terminals.
    pub fn short_title(self) -> &'static str {
        match self {
            Screen::Announcements => "Announce",
            other => other.title(),
        }
    }

    pub fn next(self) -> Screen {
        Screen::ALL[self.number() % Screen::ALL.len()]
    }

    pub fn prev(self) -> Screen {
        Screen::ALL[(self.number() + Screen::ALL.len() - 2) % Screen::ALL.len()]
    }
}

/// Why the relay refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

impl RequestError {
    pub fn from_data(data: &Value) -> RequestError {
        let s = |k: &str| data.get(k).and_then(Value::as_str).map(str::to_owned);
        RequestError {
            code: s("code").unwrap_or_else(|| "error".into()),
            message: s("message").unwrap_or_default(),
            field: s("field"),
        }
    }

    pub fn text(&self) -> String {
        let msg = kfood_protocol::sanitize::clean_line(&self.message);
        match &self.field {
            Some(f) => format!(
                "{} ({}): {msg}",
                self.code,
                kfood_protocol::sanitize::clean_line(f)
            ),
            None => format!("{}: {msg}", self.code),
        }
    }
}

/// What the network task tells the program.
#[derive(Debug, Clone)]
pub enum AppEvent {
    /// An event from the relay (snapshot, order_*, metrics, …).
    Net(Envelope),
    Conn(ConnState),
    /// Who the relay says we are.
    Welcome(UserRef),
    /// The relay's answer to the request with this id.
    Reply {
        id: String,
        result: Result<Value, RequestError>,
    },
}

/// What the program asks of the network task.
#[derive(Debug, Clone, PartialEq)]
pub enum NetCmd {
    Request {
        id: String,
        kind: String,
        data: Value,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormKind {
    NewItem,
    EditItem(String),
    Announce,
    NewPromo,
    EditPromo(String),
    NewUser,
    CancelOrder(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmKind {
    RemoveItem(String),
    Revoke(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub kind: ConfirmKind,
    pub title: String,
    pub lines: Vec<String>,
    pub sending: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    None,
    Help,
    Detail { order_id: u64, scroll: u16 },
    Filter(Input),
    Form(Form<FormKind>),
    Confirm(Confirm),
}

/// What keys mean right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Browse(Screen),
    Detail,
    Help,
    /// Typing a filter, or into a form.
    Typing,
    Confirm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    /// Esc: close what is open.
    Close,
    Go(Screen),
    NextScreen,
    PrevScreen,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Enter on a list: open the detail or edit the selected row.
    Open,
    Filter,
    CycleStatus,
    CycleKind,
    ToggleSort,
    ToggleWindow,
    New,
    Edit,
    Remove,
    Toggle,
    Ack,
    CancelOrder,
    Revoke,
    Refresh,
    Input(Edit),
    NextField,
    PrevField,
    /// Enter in a form, `y` in a confirmation.
    Submit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    All,
    Open,
    Is(OrderStatus),
}

impl StatusFilter {
    pub fn next(self) -> StatusFilter {
        use OrderStatus::*;
        match self {
            StatusFilter::All => StatusFilter::Open,
            StatusFilter::Open => StatusFilter::Is(Pending),
            StatusFilter::Is(Pending) => StatusFilter::Is(Preparing),
            StatusFilter::Is(Preparing) => StatusFilter::Is(Ready),
            StatusFilter::Is(Ready) => StatusFilter::Is(Delivered),
            StatusFilter::Is(Delivered) => StatusFilter::Is(Cancelled),
            StatusFilter::Is(Cancelled) => StatusFilter::All,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StatusFilter::All => "all",
            StatusFilter::Open => "open",
            StatusFilter::Is(s) => s.as_str(),
        }
    }

    fn admits(self, s: OrderStatus) -> bool {
        match self {
            StatusFilter::All => true,
            StatusFilter::Open => !s.is_final(),
            StatusFilter::Is(x) => x == s,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderSort {
    NewestFirst,
    OldestFirst,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartWindow {
    FifteenMinutes,
    TwoMinutes,
}

impl ChartWindow {
    pub fn ms(self) -> Millis {
        match self {
            ChartWindow::FifteenMinutes => crate::charts::WINDOW_LONG_MS,
            ChartWindow::TwoMinutes => crate::charts::WINDOW_SHORT_MS,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ChartWindow::FifteenMinutes => "15 min",
            ChartWindow::TwoMinutes => "2 min",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
    pub at_ms: Millis,
}

/// What to do with the answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    Form,
    Confirm(ConfirmKind),
    AlertAck(u64),
    SetAvailable(String),
    PromoActive(String),
    UserList,
    Activity { older: bool },
}

/// How the program draws: decided once at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    pub ascii: bool,
    pub color: bool,
}

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

    pub menu: Vec<MenuItem>,
    pub orders: BTreeMap<u64, Order>,
    pub announcements: BTreeMap<u64, Announcement>,
    pub alerts: BTreeMap<u64, SystemAlert>,
    pub promos: BTreeMap<String, Promo>,
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
            menu: Vec::new(),
            orders: BTreeMap::new(),
            announcements: BTreeMap::new(),
            alerts: BTreeMap::new(),
            promos: BTreeMap::new(),
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

    fn request(&mut self, kind: &str, data: Value, pending: Pending) -> String {
        self.next_req += 1;
        let id = format!("adm-{}", self.next_req);
        self.pending.insert(id.clone(), pending);
        self.outbox.push(NetCmd::Request {
            id: id.clone(),
            kind: kind.to_owned(),
            data,
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
        self.request(kind::USER_LIST, json!({}), Pending::UserList);
    }

    fn query_activity(&mut self, older: bool) {
        if self
            .pending
            .values()
            .any(|p| matches!(p, Pending::Activity { .. }))
        {
            return;
        }
        let mut data = json!({ "limit": ACTIVITY_PAGE });
        if older {
            match self.activity.back() {
                Some(a) => data["before"] = json!(a.id),
                None => return,
            }
        }
        self.request(kind::ACTIVITY_QUERY, data, Pending::Activity { older });
    }

    pub fn activity_loading(&self) -> bool {
        self.pending
            .values()
            .any(|p| matches!(p, Pending::Activity { .. }))
    }

    pub fn open_alerts(&self) -> impl Iterator<Item = &SystemAlert> {
        self.alerts.values().filter(|a| !a.resolved)
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

    // ------------------------------------------------------------ lists

    /// Orders after the status filter and the text filter, in the chosen order.
    pub fn visible_orders(&self) -> Vec<&Order> {
        let needle = self.order_filter.trim().to_lowercase();
        let mut v: Vec<&Order> = self
            .orders
            .values()
            .filter(|o| self.status_filter.admits(o.status))
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
        self.alerts.values().rev().collect()
    }

    pub fn visible_activity(&self) -> Vec<&Activity> {
        let needle = self.activity_filter.trim().to_lowercase();
        self.activity
            .iter()
            .filter(|a| self.activity_admits(a, &needle))
            .collect()
    }

    fn activity_admits(&self, a: &Activity, needle: &str) -> bool {
        self.activity_kind.is_none_or(|k| k == a.kind)
            && (needle.is_empty()
                || a.user.id.to_lowercase().contains(needle)
                || a.user.name.to_lowercase().contains(needle)
                || a.text.to_lowercase().contains(needle))
    }

    /// Unexpired announcements, newest first.
    pub fn active_announcements(&self) -> Vec<&Announcement> {
        self.announcements
            .values()
            .rev()
            .filter(|a| {
                a.expires_at
                    .as_deref()
                    .and_then(parse_ms)
                    .is_none_or(|e| e > self.now_ms)
            })
            .collect()
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
            .and_then(|id| self.orders.get(id))
    }

    pub fn selected_alert(&self) -> Option<&SystemAlert> {
        let keys: Vec<u64> = self.visible_alerts().iter().map(|a| a.id).collect();
        keys.get(Self::index_of(&keys, &self.alert_sel))
            .and_then(|id| self.alerts.get(id))
    }

    pub fn selected_item(&self) -> Option<&MenuItem> {
        let keys: Vec<String> = self.menu.iter().map(|m| m.id.clone()).collect();
        self.menu.get(Self::index_of(&keys, &self.item_sel))
    }

    pub fn selected_promo(&self) -> Option<&Promo> {
        let keys: Vec<String> = self.promos.keys().cloned().collect();
        keys.get(Self::index_of(&keys, &self.promo_sel))
            .and_then(|c| self.promos.get(c))
    }

    pub fn selected_user(&self) -> Option<&UserInfo> {
        let keys: Vec<String> = self.users.iter().map(|u| u.id.clone()).collect();
        self.users.get(Self::index_of(&keys, &self.user_sel))
    }

    // ---------------------------------------------------------- actions

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
            Action::CycleStatus => {
                if self.screen == Screen::Orders {
                    self.status_filter = self.status_filter.next();
                }
            }
            Action::CycleKind => {
                if self.screen == Screen::Activity {
                    self.activity_kind = next_kind(self.activity_kind);
                    self.activity_sel = 0;
                }
            }
            Action::ToggleSort => {
                if self.screen == Screen::Orders {
                    self.order_sort = match self.order_sort {
                        OrderSort::NewestFirst => OrderSort::OldestFirst,
                        OrderSort::OldestFirst => OrderSort::NewestFirst,
                    };
                }
            }
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
            Action::Input(e) => self.input(e),
            Action::NextField => self.with_form(|f| f.move_focus(1)),
            Action::PrevField => self.with_form(|f| f.move_focus(-1)),
            Action::Submit => self.submit(),
        }
    }

    fn go(&mut self, s: Screen) {
        self.screen = s;
        self.overlay = Overlay::None;
        if s == Screen::Users && self.conn.is_connected() {
            self.refresh_users(false);
        }
        if s == Screen::Activity && self.activity.is_empty() && self.conn.is_connected() {
            self.query_activity(false);
        }
    }

    fn close(&mut self) {
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

    fn move_sel(&mut self, delta: isize) {
        if let Overlay::Detail { scroll, .. } = &mut self.overlay {
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
                let keys: Vec<String> = self.menu.iter().map(|m| m.id.clone()).collect();
                self.item_sel = step(&keys, &self.item_sel, delta);
            }
            Screen::Announcements => {
                let keys: Vec<u64> = self.active_announcements().iter().map(|a| a.id).collect();
                self.ann_sel = step(&keys, &self.ann_sel, delta);
            }
            Screen::Promos => {
                let keys: Vec<String> = self.promos.keys().cloned().collect();
                self.promo_sel = step(&keys, &self.promo_sel, delta);
            }
            Screen::Users => {
                let keys: Vec<String> = self.users.iter().map(|u| u.id.clone()).collect();
                self.user_sel = step(&keys, &self.user_sel, delta);
            }
        }
    }

    fn open(&mut self) {
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

    fn start_filter(&mut self) {
        let current = match self.screen {
            Screen::Orders => self.order_filter.clone(),
            Screen::Activity => self.activity_filter.clone(),
            _ => return,
        };
        self.overlay = Overlay::Filter(Input::new(current));
    }

    fn set_filter(&mut self, value: String) {
        match self.screen {
            Screen::Orders => self.order_filter = value,
            Screen::Activity => {
                self.activity_filter = value;
                self.activity_sel = 0;
            }
            _ => {}
        }
    }

    fn input(&mut self, e: Edit) {
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

    fn with_form(&mut self, f: impl FnOnce(&mut Form<FormKind>)) {
        if let Overlay::Form(form) = &mut self.overlay {
            f(form);
        }
    }

    fn refresh(&mut self) {
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

    // ------------------------------------------------------- the forms

    fn new_thing(&mut self) {
        let form = match self.screen {
            Screen::Menu => {
                let category = self
                    .selected_item()
                    .map(|i| i.category.clone())
                    .unwrap_or_default();
                item_form(FormKind::NewItem, "New menu item", None, &category)
            }
            Screen::Announcements | Screen::Dashboard => announce_form(),
            Screen::Promos => promo_form(None),
            Screen::Users => user_form(),
            _ => return,
        };
        self.overlay = Overlay::Form(form);
    }

    fn edit_thing(&mut self) {
        let form = match self.screen {
            Screen::Menu => match self.selected_item() {
                Some(item) => item_form(
                    FormKind::EditItem(item.id.clone()),
                    "Edit menu item",
                    Some(item),
                    "",
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

    fn remove_thing(&mut self) {
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

    fn toggle_thing(&mut self) {
        match self.screen {
            Screen::Menu => {
                let Some(item) = self.selected_item() else {
                    return;
                };
                let (id, available) = (item.id.clone(), !item.available);
                self.request(
                    kind::MENU_UPDATE,
                    json!({"op": "set_available", "item": {"id": id, "available": available}}),
                    Pending::SetAvailable(id),
                );
            }
            Screen::Promos => {
                let Some(p) = self.selected_promo() else {
                    return;
                };
                let (code, active) = (p.code.clone(), !p.active);
                let mut data = json!({"code": code, "active": active});
                if let Some(e) = &p.expires_at {
                    data["expires_at"] = json!(e);
                }
                self.request(kind::PROMO_UPSERT, data, Pending::PromoActive(code));
            }
            _ => {}
        }
    }

    fn ack_alert(&mut self) {
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
            kind::ALERT_ACK,
            json!({"alert_id": id}),
            Pending::AlertAck(id),
        );
    }

    fn start_cancel(&mut self) {
        let target = match &self.overlay {
            Overlay::Detail { order_id, .. } => self.orders.get(order_id),
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

    fn start_revoke(&mut self) {
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

    fn submit(&mut self) {
        match std::mem::replace(&mut self.overlay, Overlay::None) {
            Overlay::Filter(input) => {
                self.set_filter(input.value);
            }
            Overlay::Form(mut form) => {
                if form.sending.is_none() {
                    match self.form_request(&form) {
                        Ok((kind, data)) => {
                            form.error = None;
                            form.sending = Some(self.request(&kind, data, Pending::Form));
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
                    let (kind, data) = match &c.kind {
                        ConfirmKind::RemoveItem(id) => (
                            kind::MENU_UPDATE,
                            json!({"op": "remove", "item": {"id": id}}),
                        ),
                        ConfirmKind::Revoke(id) => (kind::SESSION_REVOKE, json!({"user_id": id})),
                    };
                    let pending = Pending::Confirm(c.kind.clone());
                    c.sending = Some(self.request(kind, data, pending));
                }
                self.overlay = Overlay::Confirm(c);
            }
            other => self.overlay = other,
        }
    }

    /// The request a filled form makes, or the field at fault and why.
    fn form_request(&self, form: &Form<FormKind>) -> Result<(String, Value), (String, String)> {
        let bad = |field: &str, why: &str| Err((field.to_owned(), why.to_owned()));
        match &form.kind {
            FormKind::NewItem | FormKind::EditItem(_) => {
                let id = form.get("id").trim().to_owned();
                if let Err(e) = kfood_protocol::menu::validate_item_id(&id) {
                    return bad("id", &e.message);
                }
                let Some(price) = parse_money(form.get("price")) else {
                    return bad("price", "a price looks like 13.50");
                };
                let Ok(prep) = form.get("prep").trim().parse::<u32>() else {
                    return bad("prep", "prep time is whole minutes, like 12");
                };
                for (key, what) in [("name", "a name"), ("category", "a category")] {
                    if form.get(key).trim().is_empty() {
                        return bad(key, &format!("the item needs {what}"));
                    }
                }
                Ok((
                    kind::MENU_UPDATE.into(),
                    json!({"op": "upsert", "item": {
                        "id": id,
                        "name": form.get("name").trim(),
                        "category": form.get("category").trim(),
                        "description": form.get("description").trim(),
                        "price_cents": price,
                        "prep_minutes": prep,
                        "available": form.get("available") == "yes",
                    }}),
                ))
            }
            FormKind::Announce => {
                let text = form.get("text").trim();
                if text.is_empty() {
                    return bad("text", "write what to announce");
                }
                let mut data = json!({
                    "audience": form.get("audience"),
                    "kind": form.get("kind"),
                    "text": text,
                });
                match crate::cli::parse_expiry(form.get("expires"), self.now_ms) {
                    Ok(Some(e)) => data["expires_at"] = json!(e),
                    Ok(None) => {}
                    Err(why) => return bad("expires", &why),
                }
                Ok((kind::ANNOUNCE.into(), data))
            }
            FormKind::NewPromo | FormKind::EditPromo(_) => {
                let code = form.get("code").trim().to_ascii_uppercase();
                if let Err(e) = kfood_protocol::menu::normalize_promo_code(&code) {
                    return bad("code", &e.message);
                }
                let mut data = json!({"code": code, "active": form.get("active") == "yes"});
                let discount = form.get("discount").trim();
                if let Some(p) = discount.strip_suffix('%') {
                    match p.trim().parse::<u32>() {
                        Ok(p) if (1..=100).contains(&p) => data["percent_off"] = json!(p),
                        _ => return bad("discount", "a percentage is 1% to 100%"),
                    }
                } else if !discount.is_empty() {
                    match parse_money(discount) {
                        Some(c) if c > 0 => data["amount_off_cents"] = json!(c),
                        _ => return bad("discount", "write 10% or an amount like 5.00"),
                    }
                } else if form.kind == FormKind::NewPromo {
                    return bad("discount", "write 10% or an amount like 5.00");
                }
                match crate::cli::parse_expiry(form.get("expires"), self.now_ms) {
                    Ok(Some(e)) => data["expires_at"] = json!(e),
                    Ok(None) => {}
                    Err(why) => return bad("expires", &why),
                }
                Ok((kind::PROMO_UPSERT.into(), data))
            }
            FormKind::NewUser => {
                let username = form.get("username").trim();
                if let Err(e) = kfood_protocol::messages::validate_username(username) {
                    return bad("username", &e.message);
                }
                if let Err(e) = kfood_protocol::messages::validate_password(form.get("password")) {
                    return bad("password", &e.message);
                }
                let name = match form.get("name").trim() {
                    "" => username,
                    n => n,
                };
                Ok((
                    kind::USER_CREATE.into(),
                    json!({
                        "username": username,
                        "password": form.get("password"),
                        "name": name,
                        "role": form.get("role"),
                    }),
                ))
            }
            FormKind::CancelOrder(id) => Ok((
                kind::ORDER_CANCEL.into(),
                json!({"order_id": id, "reason": form.get("reason").trim()}),
            )),
        }
    }

    // ----------------------------------------------------- the network

    pub fn handle(&mut self, event: AppEvent) {
        match event {
            AppEvent::Net(env) => self.on_envelope(env),
            AppEvent::Conn(c) => self.on_conn(c),
            AppEvent::Welcome(u) => self.user = Some(u),
            AppEvent::Reply { id, result } => self.on_reply(id, result),
        }
    }

    fn on_conn(&mut self, c: ConnState) {
        let was_live = self.conn.is_connected();
        self.conn = c;
        if self.conn.is_connected() && !was_live {
            self.refresh_users(true);
            // Entries streamed while we were away are fetched again; ids dedupe.
            self.query_activity(false);
        }
        match self.conn {
            ConnState::Offline => {
                self.complain("offline: the relay cannot be reached; still trying")
            }
            ConnState::Closed => self.complain("offline: the connection is closed"),
            _ => {}
        }
        if self.conn == ConnState::AuthExpired {
            self.complain("the relay refused the login: restart with a fresh token or --user");
        }
    }

    fn on_envelope(&mut self, env: Envelope) {
        match env.kind.as_str() {
            kind::SNAPSHOT => {
                if let Ok(s) = env.parse_data::<Snapshot>() {
                    self.apply_snapshot(s);
                }
            }
            kind::ORDER_CREATED
            | kind::ORDER_UPDATE
            | kind::ORDER_MODIFIED
            | kind::ORDER_CANCELLED => {
                if let Ok(e) = env.parse_data::<OrderEvent>() {
                    self.orders.insert(e.order.id, e.order);
                }
            }
            kind::PAYMENT_CONFIRMED | kind::PAYMENT_REFUNDED => {
                if let Ok(p) = env.parse_data::<PaymentEvent>() {
                    if let Some(o) = self.orders.get_mut(&p.order_id) {
                        o.payment.status = p.payment.status;
                        o.payment.id = Some(p.payment.id);
                        o.payment.brand = Some(p.payment.brand);
                        o.payment.last4 = Some(p.payment.last4);
                        o.payment.amount_cents = Some(p.payment.amount_cents);
                    }
                }
            }
            kind::PAYMENT_FAILED => {
                if let Ok(p) = env.parse_data::<PaymentFailed>() {
                    let at = env
                        .timestamp
                        .as_deref()
                        .and_then(parse_ms)
                        .unwrap_or(self.now_ms);
                    self.payment_failures.push_front((at, p));
                    self.payment_failures.truncate(PAYMENT_FAILURES_KEEP);
                }
            }
            kind::MENU_UPDATE => {
                if let Ok(m) = env.parse_data::<MenuUpdated>() {
                    self.apply_menu(m.op, &m.item);
                }
            }
            kind::ANNOUNCEMENT => {
                if let Ok(a) = env.parse_data::<Announcement>() {
                    self.announcements.insert(a.id, a);
                }
            }
            kind::SYSTEM_ALERT => {
                if let Ok(a) = env.parse_data::<SystemAlert>() {
                    let fresh = !a.resolved && !self.alerts.contains_key(&a.id);
                    if fresh && a.severity == Severity::Critical {
                        let t = format!("CRITICAL alert: {}", clean(&a.text));
                        self.complain(t);
                    }
                    self.alerts.insert(a.id, a);
                }
            }
            kind::PROMO_UPDATE => {
                if let Ok(p) = env.parse_data::<Promo>() {
                    self.promos.insert(p.code.clone(), p);
                }
            }
            kind::ACTIVITY => {
                if let Ok(a) = env.parse_data::<Activity>() {
                    let people = matches!(
                        a.kind,
                        ActivityKind::Connect | ActivityKind::Disconnect | ActivityKind::Login
                    );
                    self.add_activity(vec![a], false);
                    if people && self.screen == Screen::Users && self.conn.is_connected() {
                        self.refresh_users(false);
                    }
                }
            }
            kind::METRICS => {
                if let Ok(m) = env.parse_data::<MetricsSample>() {
                    self.charts.push(m, self.now_ms);
                }
            }
            kind::ERROR => {
                // An error for no request of ours: say so rather than drop it.
                let e = RequestError::from_data(&env.data);
                self.complain(format!("relay: {}", e.text()));
            }
            kind::ANNOUNCE => {}
            _ => {}
        }
    }

    pub fn apply_snapshot(&mut self, s: Snapshot) {
        self.menu = s.menu;
        self.orders = s.orders.into_iter().map(|o| (o.id, o)).collect();
        // Announcements to other audiences are not in an admin's snapshot:
        // keep the ones this program sent that are still running.
        let now = self.now_ms;
        let mut anns: BTreeMap<u64, Announcement> =
            s.announcements.into_iter().map(|a| (a.id, a)).collect();
        for (id, a) in std::mem::take(&mut self.announcements) {
            let running = a
                .expires_at
                .as_deref()
                .and_then(parse_ms)
                .is_none_or(|e| e > now);
            if running {
                anns.entry(id).or_insert(a);
            }
        }
        self.announcements = anns;
        if let Some(alerts) = s.alerts {
            // The snapshot has the open alerts; resolved ones we saw stay listed.
            self.alerts.retain(|_, a| a.resolved);
            for a in alerts {
                self.alerts.insert(a.id, a);
            }
        }
        if let Some(promos) = s.promos {
            self.promos = promos.into_iter().map(|p| (p.code.clone(), p)).collect();
        }
    }

    fn apply_menu(&mut self, op: MenuOp, item: &Value) {
        match op {
            MenuOp::Remove => {
                if let Some(id) = item.get("id").and_then(Value::as_str) {
                    self.menu.retain(|m| m.id != id);
                }
            }
            MenuOp::Upsert | MenuOp::SetAvailable => {
                let Ok(item) = serde_json::from_value::<MenuItem>(item.clone()) else {
                    return;
                };
                if let Some(m) = self.menu.iter_mut().find(|m| m.id == item.id) {
                    *m = item;
                } else {
                    // A new item joins the end of its category, as the relay lists it.
                    let at = self
                        .menu
                        .iter()
                        .rposition(|m| m.category == item.category)
                        .map(|i| i + 1)
                        .unwrap_or(self.menu.len());
                    self.menu.insert(at, item);
                }
            }
        }
    }

    /// Merges activity entries (newest first), dropping ones already known.
    fn add_activity(&mut self, entries: Vec<Activity>, older: bool) {
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

    fn on_reply(&mut self, id: String, result: Result<Value, RequestError>) {
        let Some(p) = self.pending.remove(&id) else {
            return;
        };
        match p {
            Pending::Form => self.on_form_reply(&id, result, None),
            Pending::Confirm(k) => self.on_form_reply(&id, result, Some(k)),
            Pending::AlertAck(alert) => match result {
                Ok(v) => {
                    if let Some(a) = v
                        .get("alert")
                        .and_then(|a| serde_json::from_value::<SystemAlert>(a.clone()).ok())
                    {
                        self.alerts.insert(a.id, a);
                    }
                    self.say(format!("alert {alert} acknowledged"));
                }
                Err(e) => self.complain(format!("alert {alert} not acknowledged: {}", e.text())),
            },
            Pending::SetAvailable(item) => match result {
                Ok(v) => {
                    if let Some(i) = v.get("item") {
                        self.apply_menu(MenuOp::SetAvailable, i);
                    }
                    let state = self
                        .menu
                        .iter()
                        .find(|m| m.id == item)
                        .map(|m| {
                            if m.available {
                                "available"
                            } else {
                                "86 (unavailable)"
                            }
                        })
                        .unwrap_or("changed");
                    self.say(format!("{} is now {state}", clean(&item)));
                }
                Err(e) => self.complain(format!("{} not changed: {}", clean(&item), e.text())),
            },
            Pending::PromoActive(code) => match result {
                Ok(v) => {
                    if let Some(p) = v
                        .get("promo")
                        .and_then(|p| serde_json::from_value::<Promo>(p.clone()).ok())
                    {
                        let state = if p.active { "active" } else { "inactive" };
                        self.say(format!("promo {} is now {state}", clean(&p.code)));
                        self.promos.insert(p.code.clone(), p);
                    }
                }
                Err(e) => {
                    self.complain(format!("promo {} not changed: {}", clean(&code), e.text()))
                }
            },
            Pending::UserList => match result {
                Ok(v) => {
                    if let Some(users) = v
                        .get("users")
                        .and_then(|u| serde_json::from_value::<Vec<UserInfo>>(u.clone()).ok())
                    {
                        self.users = users;
                        self.users_loaded = true;
                    }
                }
                Err(e) => self.complain(format!("user list: {}", e.text())),
            },
            Pending::Activity { older } => match result {
                Ok(v) => {
                    let entries: Vec<Activity> = v
                        .get("activity")
                        .and_then(|a| serde_json::from_value(a.clone()).ok())
                        .unwrap_or_default();
                    if older && entries.len() < ACTIVITY_PAGE {
                        self.activity_done = true;
                    }
                    self.add_activity(entries, older);
                }
                Err(e) => self.complain(format!("activity: {}", e.text())),
            },
        }
    }

    /// The answer to a form or a confirmation: close it and say what
    /// happened, or keep it open with the relay's reason.
    fn on_form_reply(
        &mut self,
        id: &str,
        result: Result<Value, RequestError>,
        confirm: Option<ConfirmKind>,
    ) {
        let open = match &self.overlay {
            Overlay::Form(f) => f.sending.as_deref() == Some(id),
            Overlay::Confirm(c) => c.sending.as_deref() == Some(id),
            _ => false,
        };
        let what = match &self.overlay {
            Overlay::Form(f) if open => Some(f.title.clone()),
            Overlay::Confirm(c) if open => Some(c.title.clone()),
            _ => None,
        };
        match result {
            Ok(v) => {
                let done = match confirm {
                    Some(ConfirmKind::Revoke(user)) => {
                        self.refresh_users(true);
                        format!("sessions of {} revoked", clean(&user))
                    }
                    _ => self.apply_result(&v),
                };
                if open {
                    self.overlay = Overlay::None;
                }
                self.say(done);
            }
            Err(e) => {
                let text = e.text();
                match &mut self.overlay {
                    Overlay::Form(f) if open => {
                        f.sending = None;
                        f.error = Some(text);
                        if let Some(field) = &e.field {
                            f.focus_field(
                                field,
                                &[
                                    ("price_cents", "price"),
                                    ("prep_minutes", "prep"),
                                    ("percent_off", "discount"),
                                    ("amount_off_cents", "discount"),
                                    ("expires_at", "expires"),
                                ],
                            );
                        }
                    }
                    Overlay::Confirm(c) if open => {
                        c.sending = None;
                        c.lines.push(format!("Refused: {text}"));
                    }
                    _ => {
                        let what = what.unwrap_or_else(|| "request".into());
                        self.complain(format!("{what} refused: {text}"));
                    }
                }
            }
        }
    }

    /// Applies what an ack carries and says what happened.
    fn apply_result(&mut self, v: &Value) -> String {
        if let Some(a) = v
            .get("announcement")
            .and_then(|a| serde_json::from_value::<Announcement>(a.clone()).ok())
        {
            let text = format!(
                "announcement #{} sent to {}",
                a.id,
                audience_label(a.audience)
            );
            self.announcements.insert(a.id, a);
            return text;
        }
        if let Some(p) = v
            .get("promo")
            .and_then(|p| serde_json::from_value::<Promo>(p.clone()).ok())
        {
            let text = format!("promo {} saved", clean(&p.code));
            self.promos.insert(p.code.clone(), p);
            return text;
        }
        if let Some(o) = v
            .get("order")
            .and_then(|o| serde_json::from_value::<Order>(o.clone()).ok())
        {
            let text = format!("{} is {}", o.code, o.status);
            self.orders.insert(o.id, o);
            return text;
        }
        if let Some(item) = v.get("item") {
            let id = item
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if item.get("name").is_some() {
                self.apply_menu(MenuOp::Upsert, item);
                return format!("menu item {} saved", clean(&id));
            }
            self.apply_menu(MenuOp::Remove, item);
            return format!("menu item {} removed", clean(&id));
        }
        if let Some(u) = v.get("user") {
            let id = u.get("id").and_then(Value::as_str).unwrap_or_default();
            let text = format!("account {} created", clean(id));
            self.refresh_users(true);
            return text;
        }
        "done".into()
    }
}

fn next_kind(k: Option<ActivityKind>) -> Option<ActivityKind> {
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

fn item_form(
    kind: FormKind,
    title: &str,
    item: Option<&MenuItem>,
    category: &str,
) -> Form<FormKind> {
    use kfood_protocol::limits::*;
    let s = |f: fn(&MenuItem) -> String| item.map(f).unwrap_or_default();
    let mut id = Field::text("id", "Id", &s(|i| clean(&i.id)), MAX_ITEM_ID_CHARS)
        .hint("short id, like kimchi-jjigae");
    if item.is_some() {
        id = id.locked();
    }
    Form::new(
        kind,
        title,
        vec![
            id,
            Field::text("name", "Name", &s(|i| clean(&i.name)), MAX_NAME_CHARS),
            Field::text(
                "category",
                "Category",
                &item
                    .map(|i| clean(&i.category))
                    .unwrap_or_else(|| clean(category)),
                MAX_NAME_CHARS,
            ),
            Field::text(
                "description",
                "Description",
                &s(|i| clean(&i.description)),
                MAX_DESCRIPTION_CHARS,
            ),
            Field::text(
                "price",
                "Price",
                &s(|i| {
                    let c = i.price_cents;
                    format!("{}.{:02}", c / 100, c % 100)
                }),
                12,
            )
            .hint("13.50"),
            Field::text(
                "prep",
                "Prep minutes",
                &s(|i| i.prep_minutes.to_string()),
                4,
            )
            .hint("12"),
            Field::choice(
                "available",
                "Available",
                &["yes", "no"],
                if item.is_none_or(|i| i.available) {
                    "yes"
                } else {
                    "no"
                },
            ),
        ],
    )
}

fn announce_form() -> Form<FormKind> {
    Form::new(
        FormKind::Announce,
        "New announcement",
        vec![
            Field::choice(
                "audience",
                "Audience",
                &["all", "customer", "crew", "admin"],
                "all",
            ),
            Field::choice(
                "kind",
                "Kind",
                &["announcement", "maintenance", "promotion"],
                "announcement",
            ),
            Field::text(
                "text",
                "Text",
                "",
                kfood_protocol::limits::MAX_ANNOUNCEMENT_CHARS,
            )
            .hint("what they will read (up to 1000 characters)"),
            Field::text("expires", "Expires in", "", 40).hint("empty = never; 30m, 2h, 1d"),
        ],
    )
}

fn promo_form(promo: Option<&Promo>) -> Form<FormKind> {
    let (kind, title) = match promo {
        Some(p) => (FormKind::EditPromo(p.code.clone()), "Edit promo code"),
        None => (FormKind::NewPromo, "New promo code"),
    };
    let mut code = Field::text(
        "code",
        "Code",
        &promo.map(|p| clean(&p.code)).unwrap_or_default(),
        kfood_protocol::limits::MAX_PROMO_CODE_CHARS,
    )
    .hint("WELCOME10");
    if promo.is_some() {
        code = code.locked();
    }
    let discount = promo.map(promo_discount).unwrap_or_default();
    let active = if promo.is_none_or(|p| p.active) {
        "yes"
    } else {
        "no"
    };
    Form::new(
        kind,
        title,
        vec![
            code,
            Field::text("discount", "Discount", &discount, 12).hint("10% or 5.00"),
            Field::choice("active", "Active", &["yes", "no"], active),
            Field::text("expires", "Expires in", "", 40).hint("empty = never; 30m, 2h, 1d"),
        ],
    )
}

/// `10%` or `5.00`, as the promo form takes it.
pub fn promo_discount(p: &Promo) -> String {
    match (p.percent_off, p.amount_off_cents) {
        (Some(pc), _) => format!("{pc}%"),
        (None, Some(c)) => format!("{}.{:02}", c / 100, c % 100),
        _ => String::new(),
    }
}

fn user_form() -> Form<FormKind> {
    use kfood_protocol::limits::*;
    Form::new(
        FormKind::NewUser,
        "New account",
        vec![
            Field::text("username", "Username", "", USERNAME_MAX).hint("kim.station-2"),
            Field::text("name", "Name", "", MAX_NAME_CHARS).hint("display name"),
            Field::secret("password", "Password", PASSWORD_MAX),
            Field::choice("role", "Role", &["crew", "admin", "customer"], "crew"),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_like_money() {
        assert_eq!(money(0), "$0.00");
        assert_eq!(money(1350), "$13.50");
        assert_eq!(money(-135), "-$1.35");
        assert_eq!(money(444_550), "$4,445.50");
        assert_eq!(money(123_456_789), "$1,234,567.89");
    }
}
