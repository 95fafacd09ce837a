//! The board's state and every change to it: keys arrive as [`Action`]s,
//! the relay's messages as [`AppEvent`]s, and requests for the relay leave
//! through [`App::outbox`]. Nothing here touches the terminal or a socket, so
//! every rule of the kitchen queue is testable with plain data.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kfood_protocol::client::ConnState;
use kfood_protocol::menu::{MenuItem, MenuItemPatch, MenuOp};
use kfood_protocol::messages::{
    kind, Announcement, Authenticated, MenuUpdated, OrderEvent, Snapshot, SystemAlert,
};
use kfood_protocol::order::{FulfillmentKind, Order, OrderStatus};
use kfood_protocol::sanitize::{clean_line, clean_text};
use kfood_protocol::term::status;
use kfood_protocol::time::{parse_ms, Millis};
use kfood_protocol::Envelope;
use serde_json::{json, Value};

/// How long a message in the flash line stays, in ms.
pub const FLASH_MS: Millis = 6_000;
/// Longest reason for a cancellation (DESIGN §9 short text).
pub const MAX_REASON_CHARS: usize = kfood_protocol::limits::MAX_SHORT_TEXT_CHARS;
/// Reasons offered with `1`–`3` in the cancel prompt, so a cook rarely types.
pub const QUICK_REASONS: [&str; 3] = ["out of stock", "kitchen closing", "customer asked"];
/// The reason sent when the cook confirms without choosing one.
pub const DEFAULT_REASON: &str = "cancelled by the kitchen";

/// The three columns of the board, left to right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    Pending,
    Preparing,
    Ready,
}

impl Column {
    pub const ALL: [Column; 3] = [Column::Pending, Column::Preparing, Column::Ready];

    pub fn index(self) -> usize {
        match self {
            Column::Pending => 0,
            Column::Preparing => 1,
            Column::Ready => 2,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Column::Pending => "PENDING",
            Column::Preparing => "PREPARING",
            Column::Ready => "READY",
        }
    }

    fn of(status: OrderStatus) -> Option<Column> {
        match status {
            OrderStatus::Pending => Some(Column::Pending),
            OrderStatus::Preparing => Some(Column::Preparing),
            OrderStatus::Ready => Some(Column::Ready),
            OrderStatus::Delivered | OrderStatus::Cancelled => None,
        }
    }
}

/// Something the cook has to see before the ticket behaves normally again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// The customer changed the instructions after placing the order.
    Modified,
    /// Someone else cancelled the order; it stays until the cook clears it.
    Cancelled,
}

/// A change sent to the relay and not yet answered: the board shows it at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Local<T> {
    pub req: String,
    pub value: T,
}

/// One order on the board.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    /// The order as the relay last described it (text already cleaned).
    pub order: Order,
    pub created_ms: Millis,
    pub flag: Option<Flag>,
    pub local_status: Option<Local<OrderStatus>>,
    pub local_prep: Option<Local<u32>>,
    pub local_delivery: Option<Local<u32>>,
}

impl Ticket {
    fn new(mut order: Order) -> Ticket {
        clean_order(&mut order);
        Ticket {
            created_ms: parse_ms(&order.created_at).unwrap_or(0),
            order,
            flag: None,
            local_status: None,
            local_prep: None,
            local_delivery: None,
        }
    }

    /// The status the cook sees: their own unanswered change, or the relay's.
    pub fn status(&self) -> OrderStatus {
        self.local_status
            .as_ref()
            .map_or(self.order.status, |l| l.value)
    }

    pub fn prep_minutes(&self) -> u32 {
        self.local_prep
            .as_ref()
            .map_or(self.order.prep_minutes, |l| l.value)
    }

    pub fn delivery_minutes(&self) -> u32 {
        self.local_delivery
            .as_ref()
            .map_or(self.order.delivery_minutes, |l| l.value)
    }

    /// Whether a change of this terminal waits for the relay's answer.
    pub fn is_unconfirmed(&self) -> bool {
        self.local_status.is_some() || self.local_prep.is_some() || self.local_delivery.is_some()
    }

    pub fn is_delivery(&self) -> bool {
        self.order.fulfillment.kind == FulfillmentKind::Delivery
    }

    /// The column the ticket stands in; a cancelled ticket stays where it was.
    pub fn column(&self) -> Option<Column> {
        match self.status() {
            OrderStatus::Cancelled if self.flag == Some(Flag::Cancelled) => Some(
                self.order
                    .history
                    .iter()
                    .rev()
                    .find_map(|h| Column::of(h.status))
                    .unwrap_or(Column::Pending),
            ),
            s => Column::of(s),
        }
    }

    /// Minutes since the order was placed, for the warning thresholds.
    pub fn age_ms(&self, now: Millis) -> Millis {
        (now - self.created_ms).max(0)
    }

    /// The reason given with the cancellation, if any.
    pub fn cancel_note(&self) -> Option<&str> {
        self.order
            .history
            .iter()
            .rev()
            .find(|h| h.status == OrderStatus::Cancelled)
            .and_then(|h| h.note.as_deref())
    }

    fn matches(&self, filter: &str) -> bool {
        if filter.is_empty() {
            return true;
        }
        let f = filter.to_lowercase();
        self.order.code.to_lowercase().contains(&f)
            || self.order.lines.iter().any(|l| {
                l.name.to_lowercase().contains(&f) || l.item_id.to_lowercase().contains(&f)
            })
    }

    /// Takes a newer description of the order; an older one (an ack that
    /// arrives after the event of a later change) is ignored.
    fn replace(&mut self, mut order: Order) -> bool {
        // Compared as instants: the text of a timestamp does not sort (its
        // fraction has no fixed width).
        let newer = match (
            parse_ms(&order.updated_at),
            parse_ms(&self.order.updated_at),
        ) {
            (Some(a), Some(b)) => a >= b,
            _ => true,
        };
        if !newer {
            return false;
        }
        clean_order(&mut order);
        self.created_ms = parse_ms(&order.created_at).unwrap_or(self.created_ms);
        self.order = order;
        true
    }

    fn clear_local(&mut self, req: &str) {
        if self.local_status.as_ref().is_some_and(|l| l.req == req) {
            self.local_status = None;
        }
        if self.local_prep.as_ref().is_some_and(|l| l.req == req) {
            self.local_prep = None;
        }
        if self.local_delivery.as_ref().is_some_and(|l| l.req == req) {
            self.local_delivery = None;
        }
    }
}

/// Control characters out of everything the relay sent, once, on arrival.
fn clean_order(o: &mut Order) {
    o.code = clean_line(&o.code);
    o.customer.name = clean_line(&o.customer.name);
    o.instructions = clean_text(&o.instructions);
    if let Some(a) = &mut o.fulfillment.address {
        *a = clean_line(a);
    }
    for l in &mut o.lines {
        l.name = clean_line(&l.name);
        l.item_id = clean_line(&l.item_id);
        l.notes = clean_text(&l.notes);
    }
    for h in &mut o.history {
        h.by.name = clean_line(&h.by.name);
        h.by.id = clean_line(&h.by.id);
        if let Some(n) = &mut h.note {
            *n = clean_text(n);
        }
    }
}

fn clean_item(i: &mut MenuItem) {
    i.id = clean_line(&i.id);
    i.name = clean_line(&i.name);
    i.category = clean_line(&i.category);
    i.description = clean_text(&i.description);
}

/// What the cook is doing: the board, or one of the overlays on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Board,
    /// The full ticket of `order_id`, scrolled by `scroll` rows.
    Detail {
        order_id: u64,
        scroll: u16,
    },
    /// The 86 list has the keys; `cursor` indexes the menu.
    Menu {
        cursor: usize,
    },
    /// Typing a filter (by code or item).
    Filter {
        input: String,
    },
    /// Confirming a cancellation, with the reason being typed.
    Cancel {
        order_id: u64,
        reason: String,
    },
    /// Typing delivery minutes.
    Delivery {
        order_id: u64,
        input: String,
    },
    Help,
    /// Quitting while changes are still unsent.
    ConfirmQuit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Up,
    Down,
    Left,
    Right,
}

/// What a key means, whatever key it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Quit,
    Bump,
    Recall,
    /// Open the selected ticket's detail, or close it.
    ToggleDetail,
    /// Close the overlay (or, on the board, dismiss the banner and filter).
    Back,
    Cancel,
    PrepUp,
    PrepDown,
    Delivery,
    ToggleAllDay,
    ToggleMenu,
    ToggleBell,
    Filter,
    Help,
    Move(Dir),
    First,
    Last,
    /// 86 or un-86 the item under the cursor of the menu list.
    ToggleAvailable,
    /// Text typed into the prompt that is open.
    Input(char),
    Erase,
    Submit,
}

/// Where a request for the relay goes: the network task sends it (or queues
/// it while offline) and answers with [`AppEvent::Reply`] carrying `id`.
#[derive(Debug, Clone, PartialEq)]
pub enum NetCmd {
    Request {
        id: String,
        kind: &'static str,
        data: Value,
    },
}

/// The relay's refusal of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyError {
    pub code: String,
    pub message: String,
}

/// What the network task tells the app.
#[derive(Debug, Clone, PartialEq)]
pub enum AppEvent {
    /// A message from the relay: events, `snapshot`, `authenticated`.
    Net(Envelope),
    Conn(ConnState),
    /// The answer to the request `id` of [`NetCmd::Request`]: the ack's data.
    Reply {
        id: String,
        result: Result<Value, ReplyError>,
    },
    /// The board as the local cache last knew it, before the relay speaks.
    Cached {
        orders: Vec<Order>,
        menu: Vec<MenuItem>,
    },
    /// The relay accepted the credentials; `user` is the name it knows us by.
    Welcome {
        user: String,
    },
    /// Something the relay said that answers no request: shown briefly.
    Notice(String),
    /// The connection cannot go on (a configuration that cannot work).
    Fatal(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReqKind {
    Bump,
    Recall,
    Prep,
    Delivery,
    Cancel,
    Available,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Req {
    kind: ReqKind,
    order_id: Option<u64>,
    item_id: Option<String>,
    label: String,
}

/// A line of feedback under the board for a few seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
    pub until: Millis,
}

/// Fixed settings from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub relay: String,
    /// Who we log in as, until the relay says.
    pub user_hint: String,
    pub warn_after_min: u32,
    pub late_after_min: u32,
    pub bell: bool,
    pub color: bool,
    pub ascii: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            relay: "ws://127.0.0.1:8080/ws".into(),
            user_hint: String::new(),
            warn_after_min: 10,
            late_after_min: 20,
            bell: true,
            color: true,
            ascii: false,
        }
    }
}

/// How urgent a ticket's age is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Urgency {
    Ok,
    Warn,
    Late,
}

/// The whole program state.
#[derive(Debug, Clone)]
pub struct App {
    pub settings: Settings,
    /// The clock everything is drawn against, set by the event loop; tests fix it.
    pub now: Millis,
    /// Offset of the wall clock shown in the detail.
    pub utc_offset: time::UtcOffset,
    pub mode: Mode,
    pub tickets: BTreeMap<u64, Ticket>,
    pub menu: Vec<MenuItem>,
    /// The cook's own unanswered 86 changes, by item id.
    pub local_available: HashMap<String, Local<bool>>,
    pub announcements: Vec<Announcement>,
    pub alerts: Vec<SystemAlert>,
    /// Banner entries the cook dismissed with Esc (announcement and alert ids).
    pub dismissed_announcements: BTreeSet<u64>,
    pub dismissed_alerts: BTreeSet<u64>,
    pub conn: ConnState,
    /// When `conn` last changed, for the reconnect countdown.
    pub conn_since: Millis,
    pub user: Option<String>,
    /// Whether any state (snapshot) arrived yet; before it the board says so.
    pub synced: bool,
    pub selected: Option<u64>,
    pub filter: String,
    pub show_all_day: bool,
    pub show_menu: bool,
    pub bell: bool,
    /// Rings owed to the terminal (new orders since the last draw).
    pub bells_due: u32,
    pub flash: Option<Flash>,
    pub fatal: Option<String>,
    pub quit: bool,
    /// Requests for the network task, drained by the event loop.
    pub outbox: Vec<NetCmd>,
    requests: HashMap<String, Req>,
    /// Orders this terminal cancelled: their cancellation needs no flag.
    self_cancelled: BTreeSet<u64>,
    next_req: u64,
    session: String,
}

impl App {
    pub fn new(settings: Settings, now: Millis) -> App {
        let session = uuid::Uuid::new_v4().simple().to_string();
        App {
            bell: settings.bell,
            settings,
            now,
            utc_offset: time::UtcOffset::UTC,
            mode: Mode::Board,
            tickets: BTreeMap::new(),
            menu: Vec::new(),
            local_available: HashMap::new(),
            announcements: Vec::new(),
            alerts: Vec::new(),
            dismissed_announcements: BTreeSet::new(),
            dismissed_alerts: BTreeSet::new(),
            conn: ConnState::Connecting,
            conn_since: now,
            user: None,
            synced: false,
            selected: None,
            filter: String::new(),
            show_all_day: false,
            show_menu: false,
            bells_due: 0,
            flash: None,
            fatal: None,
            quit: false,
            outbox: Vec::new(),
            requests: HashMap::new(),
            self_cancelled: BTreeSet::new(),
            next_req: 0,
            session: session[..6].to_owned(),
        }
    }

    // ------------------------------------------------------------ queries

    /// The ticket ids of each column, oldest first, after the filter.
    pub fn board(&self) -> [Vec<u64>; 3] {
        let mut cols: [Vec<&Ticket>; 3] = Default::default();
        for t in self.tickets.values() {
            if let Some(c) = t.column() {
                if t.matches(&self.filter) {
                    cols[c.index()].push(t);
                }
            }
        }
        cols.map(|mut v| {
            v.sort_by_key(|t| (t.created_ms, t.order.id));
            v.into_iter().map(|t| t.order.id).collect()
        })
    }

    /// Tickets on the board (open or flagged), before the filter.
    pub fn open_count(&self) -> usize {
        self.tickets
            .values()
            .filter(|t| t.column().is_some())
            .count()
    }

    /// Tickets the filter hides.
    pub fn filtered_out(&self) -> usize {
        self.open_count() - self.board().iter().map(Vec::len).sum::<usize>()
    }

    pub fn selected_ticket(&self) -> Option<&Ticket> {
        self.selected.and_then(|id| self.tickets.get(&id))
    }

    pub fn urgency(&self, t: &Ticket) -> Urgency {
        if !matches!(t.status(), OrderStatus::Pending | OrderStatus::Preparing) {
            return Urgency::Ok;
        }
        let mins = t.age_ms(self.now) / 60_000;
        if mins >= i64::from(self.settings.late_after_min) {
            Urgency::Late
        } else if mins >= i64::from(self.settings.warn_after_min) {
            Urgency::Warn
        } else {
            Urgency::Ok
        }
    }

    /// Each item still to cook (pending and preparing tickets), most first.
    pub fn all_day(&self) -> Vec<(String, u32)> {
        let mut sums: BTreeMap<String, u32> = BTreeMap::new();
        for t in self.tickets.values() {
            if !matches!(t.status(), OrderStatus::Pending | OrderStatus::Preparing) {
                continue;
            }
            for l in &t.order.lines {
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

    /// Open alerts and unexpired announcements the cook has not dismissed, newest first.
    pub fn banner(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut alerts: Vec<&SystemAlert> = self
            .alerts
            .iter()
            .filter(|a| !a.resolved && !self.dismissed_alerts.contains(&a.id))
            .collect();
        alerts.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.id.cmp(&a.id)));
        for a in alerts {
            let sev = match a.severity {
                kfood_protocol::messages::Severity::Info => "INFO",
                kfood_protocol::messages::Severity::Warning => "WARNING",
                kfood_protocol::messages::Severity::Critical => "CRITICAL",
            };
            out.push(format!("ALERT {sev}: {}", a.text));
        }
        let mut anns: Vec<&Announcement> = self
            .announcements
            .iter()
            .filter(|a| {
                !self.dismissed_announcements.contains(&a.id)
                    && a.expires_at
                        .as_deref()
                        .and_then(parse_ms)
                        .is_none_or(|exp| exp > self.now)
            })
            .collect();
        anns.sort_by_key(|a| std::cmp::Reverse(a.id));
        for a in anns {
            let k = match a.kind {
                kfood_protocol::messages::AnnouncementKind::Announcement => "ANNOUNCEMENT",
                kfood_protocol::messages::AnnouncementKind::Maintenance => "MAINTENANCE",
                kfood_protocol::messages::AnnouncementKind::Promotion => "PROMOTION",
            };
            out.push(format!(
                "{k}: {} ({})",
                a.text.replace('\n', " "),
                a.by.name
            ));
        }
        out
    }

    // ------------------------------------------------------------- actions

    /// Applies one action of the cook.
    pub fn update(&mut self, action: Action) {
        match self.mode.clone() {
            Mode::Board => self.on_board(action),
            Mode::Detail { order_id, scroll } => self.on_detail(order_id, scroll, action),
            Mode::Menu { cursor } => self.on_menu(cursor, action),
            Mode::Filter { input } => self.on_filter(input, action),
            Mode::Cancel { order_id, reason } => self.on_cancel(order_id, reason, action),
            Mode::Delivery { order_id, input } => self.on_delivery(order_id, input, action),
            Mode::Help => match action {
                Action::Quit => self.request_quit(),
                _ => self.mode = Mode::Board,
            },
            Mode::ConfirmQuit => match action {
                Action::Quit | Action::Submit => self.quit = true,
                _ => self.mode = Mode::Board,
            },
        }
        self.settle();
    }

    fn on_board(&mut self, action: Action) {
        match action {
            Action::Quit => self.request_quit(),
            Action::Bump => self.bump(),
            Action::Recall => self.recall(),
            Action::ToggleDetail => {
                if let Some(id) = self.selected {
                    self.mode = Mode::Detail {
                        order_id: id,
                        scroll: 0,
                    };
                }
            }
            Action::Back => {
                if !self.filter.is_empty() {
                    self.filter.clear();
                } else {
                    self.dismiss_banner();
                }
            }
            Action::Cancel => self.start_cancel(),
            Action::PrepUp => self.adjust_prep(1),
            Action::PrepDown => self.adjust_prep(-1),
            Action::Delivery => self.start_delivery(),
            Action::ToggleAllDay => self.show_all_day = !self.show_all_day,
            Action::ToggleMenu => {
                self.show_menu = true;
                self.mode = Mode::Menu { cursor: 0 };
            }
            Action::ToggleBell => {
                self.bell = !self.bell;
                let s = if self.bell { "on" } else { "off" };
                self.say(format!("bell {s}"));
            }
            Action::Filter => {
                self.mode = Mode::Filter {
                    input: self.filter.clone(),
                }
            }
            Action::Help => self.mode = Mode::Help,
            Action::Move(d) => self.move_selection(d),
            Action::First => self.select_in_column(|_| 0),
            Action::Last => self.select_in_column(|len| len.saturating_sub(1)),
            Action::ToggleAvailable | Action::Input(_) | Action::Erase | Action::Submit => {}
        }
    }

    fn on_detail(&mut self, order_id: u64, scroll: u16, action: Action) {
        self.selected = Some(order_id);
        match action {
            Action::Back | Action::ToggleDetail => self.mode = Mode::Board,
            Action::Move(Dir::Up) => {
                self.mode = Mode::Detail {
                    order_id,
                    scroll: scroll.saturating_sub(1),
                }
            }
            Action::Move(Dir::Down) => {
                self.mode = Mode::Detail {
                    order_id,
                    scroll: scroll.saturating_add(1),
                }
            }
            Action::First => {
                self.mode = Mode::Detail {
                    order_id,
                    scroll: 0,
                }
            }
            Action::Quit
            | Action::Bump
            | Action::Recall
            | Action::Cancel
            | Action::PrepUp
            | Action::PrepDown
            | Action::Delivery
            | Action::Help => self.on_board(action),
            _ => {}
        }
    }

    fn on_menu(&mut self, cursor: usize, action: Action) {
        let last = self.menu.len().saturating_sub(1);
        match action {
            Action::Quit => self.request_quit(),
            Action::Back | Action::ToggleMenu => {
                self.show_menu = false;
                self.mode = Mode::Board;
            }
            Action::Move(Dir::Up) => {
                self.mode = Mode::Menu {
                    cursor: cursor.saturating_sub(1),
                }
            }
            Action::Move(Dir::Down) => {
                self.mode = Mode::Menu {
                    cursor: (cursor + 1).min(last),
                }
            }
            Action::First => self.mode = Mode::Menu { cursor: 0 },
            Action::Last => self.mode = Mode::Menu { cursor: last },
            Action::ToggleAvailable => self.toggle_available(cursor),
            Action::ToggleAllDay => self.show_all_day = !self.show_all_day,
            Action::Help => self.mode = Mode::Help,
            _ => {}
        }
    }

    fn on_filter(&mut self, mut input: String, action: Action) {
        match action {
            Action::Input(c) => {
                input.push(c);
                self.filter = input.clone();
                self.mode = Mode::Filter { input };
            }
            Action::Erase => {
                input.pop();
                self.filter = input.clone();
                self.mode = Mode::Filter { input };
            }
            Action::Submit => {
                self.filter = input.trim().to_owned();
                self.mode = Mode::Board;
            }
            Action::Back => {
                self.filter.clear();
                self.mode = Mode::Board;
            }
            Action::Quit => self.request_quit(),
            _ => {}
        }
    }

    fn on_cancel(&mut self, order_id: u64, mut reason: String, action: Action) {
        match action {
            Action::Input(c) => {
                match c {
                    '1'..='3' if reason.is_empty() => {
                        let i = (c as usize) - ('1' as usize);
                        reason = QUICK_REASONS[i].to_owned();
                    }
                    _ if reason.chars().count() < MAX_REASON_CHARS => reason.push(c),
                    _ => {}
                }
                self.mode = Mode::Cancel { order_id, reason };
            }
            Action::Erase => {
                reason.pop();
                self.mode = Mode::Cancel { order_id, reason };
            }
            Action::Submit => {
                self.mode = Mode::Board;
                let reason = match reason.trim() {
                    "" => DEFAULT_REASON.to_owned(),
                    r => r.to_owned(),
                };
                self.send_cancel(order_id, reason);
            }
            Action::Back => {
                self.mode = Mode::Board;
                self.say("not cancelled".into());
            }
            Action::Quit => self.request_quit(),
            _ => {}
        }
    }

    fn on_delivery(&mut self, order_id: u64, mut input: String, action: Action) {
        match action {
            Action::Input(c) if c.is_ascii_digit() && input.len() < 3 => {
                input.push(c);
                self.mode = Mode::Delivery { order_id, input };
            }
            Action::Erase => {
                input.pop();
                self.mode = Mode::Delivery { order_id, input };
            }
            Action::Submit => {
                self.mode = Mode::Board;
                match input.parse::<u32>() {
                    Ok(m) if m <= kfood_protocol::limits::MAX_MINUTES => {
                        self.send_delivery(order_id, m)
                    }
                    _ => self.warn("delivery minutes: type a number of minutes".into()),
                }
            }
            Action::Back => self.mode = Mode::Board,
            Action::Quit => self.request_quit(),
            _ => {}
        }
    }

    fn request_quit(&mut self) {
        if self.unanswered() > 0 && !self.conn.is_connected() && self.mode != Mode::ConfirmQuit {
            self.mode = Mode::ConfirmQuit;
        } else {
            self.quit = true;
        }
    }

    fn dismiss_banner(&mut self) {
        for a in &self.alerts {
            self.dismissed_alerts.insert(a.id);
        }
        for a in &self.announcements {
            self.dismissed_announcements.insert(a.id);
        }
        self.flash = None;
    }

    fn new_req(&mut self) -> String {
        self.next_req += 1;
        format!("crew-{}-{}", self.session, self.next_req)
    }

    fn send(&mut self, kind: &'static str, data: Value, req: Req) -> String {
        let id = self.new_req();
        self.requests.insert(id.clone(), req);
        self.outbox.push(NetCmd::Request {
            id: id.clone(),
            kind,
            data,
        });
        id
    }

    fn bump(&mut self) {
        let Some(id) = self.selected else {
            self.say("no ticket to bump".into());
            return;
        };
        let Some(t) = self.tickets.get_mut(&id) else {
            return;
        };
        match t.flag {
            Some(Flag::Cancelled) => {
                let code = t.order.code.clone();
                self.remove_ticket(id);
                self.say(format!("{code} cleared"));
                return;
            }
            Some(Flag::Modified) => {
                t.flag = None;
                let code = t.order.code.clone();
                self.say(format!("{code}: change seen; Enter again bumps"));
                return;
            }
            None => {}
        }
        let from = t.status();
        let Some(next) = from.next() else {
            return;
        };
        let code = t.order.code.clone();
        let pos = self.position_of(id);
        let req = self.send(
            kind::ORDER_UPDATE,
            json!({"order_id": id, "status": next}),
            Req {
                kind: ReqKind::Bump,
                order_id: Some(id),
                item_id: None,
                label: format!("{code} bump to {next}"),
            },
        );
        if let Some(t) = self.tickets.get_mut(&id) {
            t.local_status = Some(Local { req, value: next });
        }
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

    fn recall(&mut self) {
        let Some(t) = self.selected_ticket() else {
            self.say("no ticket to recall".into());
            return;
        };
        let id = t.order.id;
        let code = t.order.code.clone();
        let from = t.status();
        let Some(prev) = (if t.flag == Some(Flag::Cancelled) {
            None
        } else {
            from.previous()
        }) else {
            self.warn(format!("{code} is {from}: nothing to recall"));
            return;
        };
        let req = self.send(
            kind::ORDER_UPDATE,
            json!({"order_id": id, "status": prev}),
            Req {
                kind: ReqKind::Recall,
                order_id: Some(id),
                item_id: None,
                label: format!("{code} recall to {prev}"),
            },
        );
        if let Some(t) = self.tickets.get_mut(&id) {
            t.local_status = Some(Local { req, value: prev });
        }
        self.say(format!(
            "{code} recalled to {}",
            prev.as_str().to_uppercase()
        ));
    }

    fn start_cancel(&mut self) {
        let Some(t) = self.selected_ticket() else {
            return;
        };
        let (id, code, status) = (t.order.id, t.order.code.clone(), t.status());
        if !matches!(status, OrderStatus::Pending | OrderStatus::Preparing) {
            self.warn(format!(
                "{code} is {status}: only pending or preparing orders can be cancelled"
            ));
            return;
        }
        self.mode = Mode::Cancel {
            order_id: id,
            reason: String::new(),
        };
    }

    fn send_cancel(&mut self, id: u64, reason: String) {
        let Some(code) = self.tickets.get(&id).map(|t| t.order.code.clone()) else {
            return;
        };
        self.self_cancelled.insert(id);
        let req = self.send(
            kind::ORDER_CANCEL,
            json!({"order_id": id, "reason": reason}),
            Req {
                kind: ReqKind::Cancel,
                order_id: Some(id),
                item_id: None,
                label: format!("{code} cancel"),
            },
        );
        if let Some(t) = self.tickets.get_mut(&id) {
            t.local_status = Some(Local {
                req,
                value: OrderStatus::Cancelled,
            });
        }
        self.say(format!("{code} cancelled ({reason})"));
    }

    fn adjust_prep(&mut self, delta: i64) {
        let Some(t) = self.selected_ticket() else {
            return;
        };
        let (id, code) = (t.order.id, t.order.code.clone());
        if t.status().is_final() {
            return;
        }
        let max = i64::from(kfood_protocol::limits::MAX_MINUTES);
        let m = (i64::from(t.prep_minutes()) + delta).clamp(0, max);
        let m = u32::try_from(m).unwrap_or(0);
        let req = self.send(
            kind::ORDER_UPDATE,
            json!({"order_id": id, "prep_minutes": m}),
            Req {
                kind: ReqKind::Prep,
                order_id: Some(id),
                item_id: None,
                label: format!("{code} prep {m} min"),
            },
        );
        if let Some(t) = self.tickets.get_mut(&id) {
            t.local_prep = Some(Local { req, value: m });
        }
        self.say(format!("{code} prep {m} min"));
    }

    fn start_delivery(&mut self) {
        let Some(t) = self.selected_ticket() else {
            return;
        };
        if !t.is_delivery() {
            let code = t.order.code.clone();
            self.warn(format!("{code} is a pickup: no delivery time"));
            return;
        }
        if t.status().is_final() {
            return;
        }
        self.mode = Mode::Delivery {
            order_id: t.order.id,
            input: String::new(),
        };
    }

    fn send_delivery(&mut self, id: u64, m: u32) {
        let Some(code) = self.tickets.get(&id).map(|t| t.order.code.clone()) else {
            return;
        };
        let req = self.send(
            kind::ORDER_UPDATE,
            json!({"order_id": id, "delivery_minutes": m}),
            Req {
                kind: ReqKind::Delivery,
                order_id: Some(id),
                item_id: None,
                label: format!("{code} delivery {m} min"),
            },
        );
        if let Some(t) = self.tickets.get_mut(&id) {
            t.local_delivery = Some(Local { req, value: m });
        }
        self.say(format!("{code} delivery {m} min"));
    }

    fn toggle_available(&mut self, cursor: usize) {
        let Some(item) = self.menu.get(cursor) else {
            return;
        };
        let (id, name) = (item.id.clone(), item.name.clone());
        let to = !self.item_available(item);
        let req = self.send(
            kind::MENU_UPDATE,
            json!({"op": "set_available", "item": {"id": id, "available": to}}),
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

    // ----------------------------------------------------------- selection

    fn position_of(&self, id: u64) -> Option<(usize, usize)> {
        self.board()
            .iter()
            .enumerate()
            .find_map(|(c, col)| col.iter().position(|&x| x == id).map(|r| (c, r)))
    }

    fn move_selection(&mut self, d: Dir) {
        let board = self.board();
        let Some((col, row)) = self.selected.and_then(|id| self.position_of(id)) else {
            return;
        };
        match d {
            Dir::Up => {
                if row > 0 {
                    self.selected = Some(board[col][row - 1]);
                }
            }
            Dir::Down => {
                if let Some(&id) = board[col].get(row + 1) {
                    self.selected = Some(id);
                }
            }
            Dir::Left | Dir::Right => {
                let mut c = col;
                loop {
                    c = match d {
                        Dir::Left if c > 0 => c - 1,
                        Dir::Right if c < 2 => c + 1,
                        _ => return,
                    };
                    if let Some(&id) = board[c].get(row).or(board[c].last()) {
                        self.selected = Some(id);
                        return;
                    }
                }
            }
        }
    }

    fn remove_ticket(&mut self, id: u64) {
        self.tickets.remove(&id);
    }

    fn select_in_column(&mut self, pick: impl Fn(usize) -> usize) {
        let board = self.board();
        if let Some((col, _)) = self.selected.and_then(|id| self.position_of(id)) {
            let v = &board[col];
            if let Some(&id) = v.get(pick(v.len())) {
                self.selected = Some(id);
            }
        }
    }

    /// Keeps the invariants after any change: a ticket is selected whenever
    /// one is on the board, overlays point at things that exist, the flash
    /// expires.
    fn settle(&mut self) {
        let board = self.board();
        let on_board = |id: u64| board.iter().any(|c| c.contains(&id));
        // DESIGN §12: whenever a ticket exists one is selected, the oldest
        // of the leftmost non-empty column when the selection must be made
        // afresh.
        match self.selected {
            Some(id) if on_board(id) => {}
            _ => self.selected = board.iter().find_map(|c| c.first().copied()),
        }
        match &self.mode {
            Mode::Detail { order_id, .. }
            | Mode::Cancel { order_id, .. }
            | Mode::Delivery { order_id, .. }
                if !self.tickets.contains_key(order_id) =>
            {
                self.mode = Mode::Board;
            }
            Mode::Menu { cursor } if *cursor >= self.menu.len() && !self.menu.is_empty() => {
                self.mode = Mode::Menu {
                    cursor: self.menu.len() - 1,
                };
            }
            _ => {}
        }
        if self.flash.as_ref().is_some_and(|f| f.until <= self.now) {
            self.flash = None;
        }
    }

    fn say(&mut self, text: String) {
        self.flash = Some(Flash {
            text,
            error: false,
            until: self.now + FLASH_MS,
        });
    }

    fn warn(&mut self, text: String) {
        self.flash = Some(Flash {
            text,
            error: true,
            until: self.now + FLASH_MS,
        });
    }

    /// The clock moved on (timer tick). Returns whether the screen shows
    /// anything that changes with time (ticket ages, a countdown, a message
    /// that just expired); an empty board is not redrawn at all.
    pub fn tick(&mut self, now: Millis) -> bool {
        self.now = now;
        let had_flash = self.flash.is_some();
        self.settle();
        had_flash != self.flash.is_some()
            || self.open_count() > 0
            || matches!(self.conn, ConnState::Reconnecting { .. })
    }

    // -------------------------------------------------------------- events

    /// Applies one message from the network task.
    pub fn handle(&mut self, ev: AppEvent) {
        match ev {
            AppEvent::Net(env) => self.on_envelope(env),
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
            AppEvent::Cached { orders, menu } => self.apply_cache(orders, menu),
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
            kind::BATCH => {
                if let Some(items) = env.data.as_array() {
                    for v in items.clone() {
                        if let Ok(e) = serde_json::from_value::<Envelope>(v) {
                            self.on_envelope(e);
                        }
                    }
                }
            }
            kind::ORDER_CREATED
            | kind::ORDER_UPDATE
            | kind::ORDER_MODIFIED
            | kind::ORDER_CANCELLED => {
                if let Ok(e) = env.parse_data::<OrderEvent>() {
                    self.on_order_event(&env.kind, e.order);
                }
            }
            kind::MENU_UPDATE => {
                if let Ok(m) = env.parse_data::<MenuUpdated>() {
                    self.on_menu_update(m);
                }
            }
            kind::ANNOUNCEMENT => {
                if let Ok(mut a) = env.parse_data::<Announcement>() {
                    a.text = clean_text(&a.text);
                    a.by.name = clean_line(&a.by.name);
                    self.announcements.retain(|x| x.id != a.id);
                    self.announcements.push(a);
                }
            }
            kind::SYSTEM_ALERT => {
                if let Ok(mut a) = env.parse_data::<SystemAlert>() {
                    a.text = clean_line(&a.text);
                    self.alerts.retain(|x| x.id != a.id);
                    if !a.resolved {
                        self.alerts.push(a);
                    }
                }
            }
            _ => {}
        }
    }

    /// The last known board from disk: drawn at once, marked stale by the
    /// connection state until the relay confirms or replaces it.
    fn apply_cache(&mut self, orders: Vec<Order>, menu: Vec<MenuItem>) {
        if self.synced {
            return;
        }
        self.synced = true;
        self.menu = menu;
        for i in &mut self.menu {
            clean_item(i);
        }
        for o in orders {
            if !o.status.is_final() {
                self.tickets.insert(o.id, Ticket::new(o));
            }
        }
    }

    /// The connection's state in words; a reconnect counts down.
    pub fn conn_label(&self) -> String {
        let elapsed = u64::try_from(self.now - self.conn_since).unwrap_or(0);
        status::conn_text_caps(&status::conn_after(&self.conn, elapsed))
    }

    fn apply_snapshot(&mut self, s: Snapshot) {
        let first = !self.synced;
        self.synced = true;
        self.menu = s.menu;
        for i in &mut self.menu {
            clean_item(i);
        }
        self.local_available
            .retain(|id, _| self.menu.iter().any(|i| &i.id == id));
        self.announcements = s.announcements;
        for a in &mut self.announcements {
            a.text = clean_text(&a.text);
            a.by.name = clean_line(&a.by.name);
        }
        self.alerts = s.alerts.unwrap_or_default();
        self.alerts.retain(|a| !a.resolved);
        for a in &mut self.alerts {
            a.text = clean_line(&a.text);
        }
        let mut next: BTreeMap<u64, Ticket> = BTreeMap::new();
        for order in s.orders {
            let id = order.id;
            match self.tickets.remove(&id) {
                Some(mut t) => {
                    let was_open = !t.order.status.is_final();
                    t.order = order;
                    clean_order(&mut t.order);
                    t.created_ms = parse_ms(&t.order.created_at).unwrap_or(t.created_ms);
                    match t.order.status {
                        OrderStatus::Delivered => continue,
                        OrderStatus::Cancelled => {
                            // A cancellation that happened while we were away
                            // is news to the cook, unless this terminal sent it.
                            if was_open && !self.self_cancelled.contains(&id) {
                                t.flag = Some(Flag::Cancelled);
                            }
                            if t.flag != Some(Flag::Cancelled) {
                                continue;
                            }
                        }
                        _ => {}
                    }
                    next.insert(id, t);
                }
                None if !order.status.is_final() => {
                    if !first {
                        self.bells_due += 1;
                    }
                    next.insert(id, Ticket::new(order));
                }
                None => {}
            }
        }
        // An open ticket missing from a full snapshot is gone from the relay
        // (closed long ago); a flagged one stays until the cook clears it.
        for (id, t) in std::mem::take(&mut self.tickets) {
            if t.flag == Some(Flag::Cancelled) {
                next.insert(id, t);
            }
        }
        self.tickets = next;
    }

    fn on_order_event(&mut self, kind_: &str, order: Order) {
        let id = order.id;
        let status = order.status;
        match self.tickets.get_mut(&id) {
            Some(t) => {
                if !t.replace(order) {
                    return;
                }
                match kind_ {
                    kind::ORDER_MODIFIED => {
                        t.flag = Some(Flag::Modified);
                        self.bells_due += 1;
                    }
                    kind::ORDER_CANCELLED => {
                        t.local_status = None;
                        if self.self_cancelled.contains(&id) {
                            self.remove_ticket(id);
                        } else {
                            t.flag = Some(Flag::Cancelled);
                            self.bells_due += 1;
                        }
                    }
                    _ => {
                        if status == OrderStatus::Delivered && t.local_status.is_none() {
                            self.remove_ticket(id);
                        }
                    }
                }
            }
            None => {
                if status.is_final() {
                    return;
                }
                if kind_ == kind::ORDER_CREATED {
                    self.bells_due += 1;
                }
                self.tickets.insert(id, Ticket::new(order));
            }
        }
    }

    fn on_menu_update(&mut self, m: MenuUpdated) {
        let Some(id) = m.item.get("id").and_then(Value::as_str).map(clean_line) else {
            return;
        };
        if m.op == MenuOp::Remove {
            self.menu.retain(|i| i.id != id);
            return;
        }
        let pos = self.menu.iter().position(|i| i.id == id);
        match serde_json::from_value::<MenuItem>(m.item.clone()) {
            Ok(mut item) => {
                clean_item(&mut item);
                match pos {
                    Some(p) => self.menu[p] = item,
                    None => self.menu.push(item),
                }
            }
            Err(_) => {
                if let (Some(p), Ok(patch)) = (pos, serde_json::from_value::<MenuItemPatch>(m.item))
                {
                    if let Ok(mut item) = patch.apply_to(&self.menu[p]) {
                        clean_item(&mut item);
                        self.menu[p] = item;
                    }
                }
            }
        }
    }

    fn on_reply(&mut self, id: String, result: Result<Value, ReplyError>) {
        let Some(req) = self.requests.remove(&id) else {
            return;
        };
        if let Some(item) = &req.item_id {
            if self.local_available.get(item).is_some_and(|l| l.req == id) {
                let wanted = self.local_available.remove(item).map(|l| l.value);
                if let (Ok(_), Some(v)) = (&result, wanted) {
                    if let Some(i) = self.menu.iter_mut().find(|i| &i.id == item) {
                        i.available = v;
                    }
                }
            }
        }
        if let Ok(data) = &result {
            if let Some(item) = data.get("item").cloned() {
                self.on_menu_update(MenuUpdated {
                    op: MenuOp::Upsert,
                    item,
                });
            }
        }
        let Some(order_id) = req.order_id else {
            if let Err(e) = result {
                self.warn(format!("{} refused: {}", req.label, clean_line(&e.message)));
            }
            return;
        };
        match result {
            Ok(data) => {
                let order = data
                    .get("order")
                    .cloned()
                    .and_then(|o| serde_json::from_value::<Order>(o).ok());
                let mut gone = false;
                if let Some(t) = self.tickets.get_mut(&order_id) {
                    t.clear_local(&id);
                    if let Some(o) = order {
                        t.replace(o);
                    }
                    gone =
                        t.flag.is_none() && t.local_status.is_none() && t.order.status.is_final();
                }
                if gone {
                    self.remove_ticket(order_id);
                }
            }
            Err(e) => {
                if req.kind == ReqKind::Cancel {
                    self.self_cancelled.remove(&order_id);
                }
                if let Some(t) = self.tickets.get_mut(&order_id) {
                    t.clear_local(&id);
                }
                let what = match req.kind {
                    ReqKind::Bump => "bump",
                    ReqKind::Recall => "recall",
                    ReqKind::Prep => "prep time",
                    ReqKind::Delivery => "delivery time",
                    ReqKind::Cancel => "cancel",
                    ReqKind::Available => "86",
                };
                let code = self
                    .tickets
                    .get(&order_id)
                    .map_or_else(|| format!("#{order_id}"), |t| t.order.code.clone());
                self.warn(format!("{code} {what} refused: {}", clean_line(&e.message)));
            }
        }
    }
}
