//! The board's state and every change to it: keys arrive as [`Action`]s,
//! the relay's messages as [`AppEvent`]s, and requests for the relay leave
//! through [`App::outbox`]. Nothing here touches the terminal or a socket, so
//! every rule of the kitchen queue is testable with plain data.
//!
//! What the restaurant is lives in a [`Model`] folded by the protocol's one
//! `apply` ([`fold`]); the rest is this terminal's own: the selection, the
//! overlays, changes sent and not answered yet ([`TicketUi`]). The modules:
//! [`types`] the vocabulary, [`ticket`] a ticket as the cook sees it,
//! [`view`] read-only views (expo columns, station lines, recall list),
//! [`board`] the board's and the station screen's keys, [`prompts`] the
//! typed prompts, [`requests`] the requests sent, [`later`] scheduled
//! orders and the pause of online ordering.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kfood_protocol::client::ConnState;
use kfood_protocol::time::Millis;
use kfood_protocol::Model;

mod board;
mod fold;
mod later;
mod prompts;
mod requests;
mod station;
pub mod ticket;
pub mod types;
pub mod view;

pub use ticket::{Ticket, TicketUi};
pub use types::*;
pub use view::{StationTicket, RECALL_LIST_MAX};

/// How long a message in the flash line stays, in ms.
pub const FLASH_MS: Millis = 6_000;
/// How often closed orders beyond what a fresh snapshot would hold leave
/// the model, so a terminal left running for days stays small.
const PRUNE_EVERY_MS: Millis = 60_000;
/// Longest reason for a cancellation (DESIGN §9 short text).
pub const MAX_REASON_CHARS: usize = kfood_protocol::limits::MAX_SHORT_TEXT_CHARS;
/// Longest kitchen note (DESIGN §13).
pub const MAX_NOTE_CHARS: usize = kfood_protocol::limits::MAX_KITCHEN_NOTE_CHARS;
/// Reasons offered with `1`–`3` in the cancel prompt, so a cook rarely types.
pub const QUICK_REASONS: [&str; 3] = ["out of stock", "kitchen closing", "customer asked"];
/// The reason sent when the cook confirms without choosing one.
pub const DEFAULT_REASON: &str = "cancelled by the kitchen";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReqKind {
    Bump,
    Recall,
    Prep,
    Delivery,
    Cancel,
    Available,
    Line {
        line: usize,
        done: bool,
    },
    Note,
    /// A scheduled order sent to the kitchen now.
    Fire,
    /// Online ordering paused or resumed.
    Pause,
}

/// A request in flight, for its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Req {
    kind: ReqKind,
    order_id: Option<u64>,
    item_id: Option<String>,
    label: String,
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
    /// What this terminal knows of the restaurant, folded from the relay.
    pub model: Model,
    /// This terminal's own state of some orders, by order id.
    pub ui: BTreeMap<u64, TicketUi>,
    /// The cook's own unanswered 86 changes, by item id.
    pub local_available: HashMap<String, Local<bool>>,
    /// Banner entries the cook dismissed with Esc (announcement and alert ids).
    pub dismissed_announcements: BTreeSet<u64>,
    pub dismissed_alerts: BTreeSet<u64>,
    pub conn: ConnState,
    /// When `conn` last changed, for the reconnect countdown.
    pub conn_since: Millis,
    pub user: Option<String>,
    /// Whether any state (snapshot) arrived yet; before it the board says so.
    pub synced: bool,
    /// The selected ticket (on a station screen, the selected line's).
    pub selected: Option<u64>,
    /// Station screen: the selected line, as (order id, line index).
    pub selected_line: Option<(u64, usize)>,
    /// Station screen: lines marked done from this terminal, oldest first;
    /// `u` clears the last.
    pub marked: Vec<(u64, usize)>,
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
    /// When closed orders were last pruned from the model.
    pruned_at: Millis,
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
            model: Model::default(),
            ui: BTreeMap::new(),
            local_available: HashMap::new(),
            dismissed_announcements: BTreeSet::new(),
            dismissed_alerts: BTreeSet::new(),
            conn: ConnState::Connecting,
            conn_since: now,
            user: None,
            synced: false,
            selected: None,
            selected_line: None,
            marked: Vec::new(),
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
            pruned_at: now,
        }
    }

    /// Applies one action of the cook.
    pub fn update(&mut self, action: Action) {
        match self.mode.clone() {
            Mode::Board => self.on_board(action),
            Mode::Detail { order_id, scroll } => self.on_detail(order_id, scroll, action),
            Mode::Menu { cursor } => self.on_menu(cursor, action),
            Mode::Recall { cursor } => self.on_recall_list(cursor, action),
            Mode::Later { cursor } => self.on_later_list(cursor, action),
            Mode::ConfirmPause => self.on_confirm_pause(action),
            Mode::Filter { input } => self.on_filter(input, action),
            Mode::Cancel { order_id, reason } => self.on_cancel(order_id, reason, action),
            Mode::Delivery { order_id, input } => self.on_delivery(order_id, input, action),
            Mode::Note { order_id, input } => self.on_note(order_id, input, action),
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

    /// Keeps the invariants after any change: a ticket (on a station
    /// screen, a line) is selected whenever one is on the board, overlays
    /// point at things that exist, the flash expires.
    fn settle(&mut self) {
        match self.screen() {
            Screen::Expo => self.settle_expo(),
            Screen::Station => self.settle_station(),
        }
        match &self.mode {
            Mode::Detail { order_id, .. }
            | Mode::Cancel { order_id, .. }
            | Mode::Delivery { order_id, .. }
            | Mode::Note { order_id, .. }
                if self.ticket(*order_id).is_none() =>
            {
                self.mode = Mode::Board;
            }
            Mode::Menu { cursor } if *cursor >= self.model.menu.len() => {
                self.mode = Mode::Menu {
                    cursor: self.model.menu.len().saturating_sub(1),
                };
            }
            Mode::Recall { cursor } => {
                let len = self.recall_list().len();
                if *cursor >= len {
                    self.mode = Mode::Recall {
                        cursor: len.saturating_sub(1),
                    };
                }
            }
            Mode::Later { cursor } => {
                let len = self.later_list().len();
                if *cursor >= len {
                    self.mode = Mode::Later {
                        cursor: len.saturating_sub(1),
                    };
                }
            }
            _ => {}
        }
        self.ui.retain(|_, u| !u.is_empty());
        if self.flash.as_ref().is_some_and(|f| f.until <= self.now) {
            self.flash = None;
        }
    }

    fn settle_expo(&mut self) {
        let board = self.board();
        let on_board = |id: u64| board.iter().any(|c| c.contains(&id));
        // DESIGN §12: whenever a ticket exists one is selected, the oldest
        // of the leftmost non-empty column when the selection must be made
        // afresh.
        match self.selected {
            Some(id) if on_board(id) => {}
            _ => self.selected = board.iter().find_map(|c| c.first().copied()),
        }
    }

    fn settle_station(&mut self) {
        let lines = self.station_cursor_lines();
        match self.selected_line {
            Some(l) if lines.contains(&l) => {}
            _ => self.selected_line = lines.first().copied(),
        }
        self.selected = self.selected_line.map(|(id, _)| id);
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
        if now - self.pruned_at >= PRUNE_EVERY_MS {
            self.pruned_at = now;
            self.model.prune_closed_orders(now);
            let orders = &self.model.orders;
            self.ui.retain(|id, _| orders.contains_key(id));
        }
        let had_flash = self.flash.is_some();
        self.settle();
        had_flash != self.flash.is_some()
            || self.open_count() > 0
            || matches!(self.conn, ConnState::Reconnecting { .. })
    }

    fn request_quit(&mut self) {
        if self.unanswered() > 0 && !self.conn.is_connected() && self.mode != Mode::ConfirmQuit {
            self.mode = Mode::ConfirmQuit;
        } else {
            self.quit = true;
        }
    }

    fn dismiss_banner(&mut self) {
        self.dismissed_alerts
            .extend(self.model.alerts.keys().copied());
        self.dismissed_announcements
            .extend(self.model.announcements.keys().copied());
        self.flash = None;
    }
}
