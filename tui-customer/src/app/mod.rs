//! The program's state: what the relay told us (a [`Model`], folded with
//! [`Model::apply`]) and the customer's own (cart, selections, forms). It
//! changes in two ways: the customer's actions ([`App::update`]) and what
//! the relay sends ([`App::on_event`]). Nothing here does I/O; requests for
//! the relay are left in [`App::outbox`] for the network task.
//!
//! One file per job: [`view`] (questions the screens ask of the model),
//! `menu`, `cart`, `checkout`, `orders` (each screen's updates and forms),
//! `relay` (what the relay's messages do).

mod cart;
mod checkout;
mod menu;
mod orders;
pub mod picker;
mod relay;
pub mod view;

use std::collections::HashMap;

use kfood_protocol::client::ConnState;
use kfood_protocol::options::ChosenOption;
use kfood_protocol::time::Millis;
use kfood_protocol::{Model, Request, UserRef};

pub use crate::action::{Action, AddFocus, AppEvent, Mode, NetCmd, Screen};
use crate::checkout::Checkout;
pub use view::Notice;

/// What is open over the screen, with its own state.
#[derive(Debug, Clone)]
pub enum Overlay {
    None,
    Help,
    Search,
    AddItem {
        item_id: String,
        qty: u32,
        /// Set once a digit was typed: the first digit replaces the initial 1.
        typed: bool,
        note: String,
        focus: AddFocus,
        /// The options picked so far (DESIGN §14).
        chosen: Vec<ChosenOption>,
        /// Why the last Enter could not add the line (a required group).
        problem: Option<String>,
    },
    EditNote {
        line: usize,
        note: String,
    },
    Checkout(Box<Checkout>),
    Cancel {
        order_id: u64,
        reason: String,
    },
    Modify {
        order_id: u64,
        instructions: String,
    },
}

/// What a request on its way is for, so its answer goes to the right place.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    Quote { key: String },
    Place,
    Cancel { order_id: u64 },
    Modify { order_id: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Good,
    Error,
    /// An order is ready: drawn loudest.
    Ready,
}

/// The one-line message above the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub level: Level,
    pub at: Millis,
}

/// How long news stays on the message line before it fades.
const FLASH_INFO_MS: Millis = 10_000;
/// Errors stay longer; READY stays until something else is said.
const FLASH_ERROR_MS: Millis = 30_000;

/// Lines of a list a page key moves.
const PAGE: usize = 10;

#[derive(Debug)]
pub struct App {
    /// The clock everything on screen is drawn against; set by ticks so
    /// that tests can draw at a fixed moment.
    pub now_ms: Millis,
    pub relay: String,
    pub user: Option<UserRef>,
    pub conn: ConnState,
    /// Set once the relay has confirmed the data on screen since start.
    pub synced: bool,
    /// What the relay told us: menu, our orders, announcements.
    pub model: Model,
    pub screen: Screen,
    pub overlay: Overlay,
    pub category: usize,
    pub item_sel: usize,
    /// Search text; non-empty means the item list shows matches of every category.
    pub search: String,
    pub cart: Vec<crate::cart::CartLine>,
    pub cart_sel: usize,
    pub selected_order: Option<u64>,
    /// Notifications the relay does not keep: its restart notice, kitchen
    /// notes. The announcements themselves are in the model.
    pub local_notices: Vec<Notice>,
    pub notice_sel: usize,
    /// Highest announcement id the customer has seen.
    pub read_upto: u64,
    pub flash: Option<Flash>,
    /// Requests for the network task, drained by the event loop.
    pub outbox: Vec<NetCmd>,
    pending: HashMap<String, Pending>,
    next_request: u64,
    /// Ring the terminal bell at the next draw (an order became ready).
    pub bell: bool,
    pub quit: bool,
    /// The cart or the read marks changed: hand them to the cache.
    pub dirty: bool,
}

impl App {
    pub fn new(relay: &str, now_ms: Millis) -> Self {
        App {
            now_ms,
            relay: relay.to_owned(),
            user: None,
            conn: ConnState::Connecting,
            synced: false,
            model: Model::default(),
            screen: Screen::Menu,
            overlay: Overlay::None,
            category: 0,
            item_sel: 0,
            search: String::new(),
            cart: Vec::new(),
            cart_sel: 0,
            selected_order: None,
            local_notices: Vec::new(),
            notice_sel: 0,
            read_upto: 0,
            flash: None,
            outbox: Vec::new(),
            pending: HashMap::new(),
            next_request: 0,
            bell: false,
            quit: false,
            dirty: false,
        }
    }

    pub fn mode(&self) -> Mode {
        match &self.overlay {
            Overlay::None => Mode::Normal(self.screen),
            Overlay::Help => Mode::Help,
            Overlay::Search => Mode::Search,
            Overlay::AddItem { focus, .. } => Mode::AddItem(*focus),
            Overlay::EditNote { .. } | Overlay::Cancel { .. } | Overlay::Modify { .. } => {
                Mode::TextEntry
            }
            Overlay::Checkout(c) => Mode::Checkout(c.field),
        }
    }

    fn say(&mut self, level: Level, text: impl Into<String>) {
        self.flash = Some(Flash {
            text: text.into(),
            level,
            at: self.now_ms,
        });
    }

    /// Leaves `request` for the network task; its answer is for `pending`.
    fn request(&mut self, request: Request, pending: Pending) -> String {
        self.next_request += 1;
        let id = format!(
            "c-{}-{}",
            request.kind().trim_start_matches("order_"),
            self.next_request
        );
        self.pending.insert(id.clone(), pending);
        self.outbox.push(NetCmd::Request {
            id: id.clone(),
            request: Box::new(request),
        });
        id
    }

    pub fn update(&mut self, action: Action) {
        if let Action::Tick(now) = action {
            self.tick(now);
            return;
        }
        if action == Action::Quit {
            self.quit = true;
            return;
        }
        match self.overlay {
            Overlay::None => self.normal(action),
            Overlay::Help => self.overlay = Overlay::None,
            Overlay::Search => self.search_key(action),
            Overlay::AddItem { .. } => self.add_key(action),
            Overlay::EditNote { .. } => self.note_key(action),
            Overlay::Cancel { .. } | Overlay::Modify { .. } => self.order_prompt_key(action),
            Overlay::Checkout(_) => self.checkout_key(action),
        }
    }

    /// The clock moved: messages fade.
    fn tick(&mut self, now: Millis) {
        self.now_ms = now;
        let expired = self.flash.as_ref().is_some_and(|f| {
            let age = now - f.at;
            match f.level {
                Level::Info | Level::Good => age > FLASH_INFO_MS,
                Level::Error => age > FLASH_ERROR_MS,
                Level::Ready => false,
            }
        });
        if expired {
            self.flash = None;
        }
    }

    fn go(&mut self, screen: Screen) {
        self.screen = screen;
        if screen == Screen::Notifications {
            self.mark_read();
        }
    }

    fn normal(&mut self, action: Action) {
        match action {
            Action::Help => self.overlay = Overlay::Help,
            Action::Go(s) => self.go(s),
            Action::NextScreen => self.go(self.screen.step(1)),
            Action::PrevScreen => self.go(self.screen.step(-1)),
            Action::Back => {
                if !self.search.is_empty() {
                    self.search.clear();
                    self.item_sel = 0;
                }
                self.flash = None;
            }
            _ => match self.screen {
                Screen::Menu => self.menu_key(action),
                Screen::Cart => self.cart_key(action),
                Screen::Orders => self.orders_key(action),
                Screen::Notifications => self.notices_key(action),
            },
        }
    }

    /// Where a request's answer goes.
    fn on_reply(
        &mut self,
        id: &str,
        result: Result<serde_json::Value, kfood_protocol::ProtocolError>,
    ) {
        let Some(pending) = self.pending.remove(id) else {
            return;
        };
        match pending {
            Pending::Quote { key } => self.on_quote(key, result),
            Pending::Place => self.on_placed(result),
            Pending::Cancel { order_id } => self.on_order_change(order_id, true, result),
            Pending::Modify { order_id } => self.on_order_change(order_id, false, result),
        }
    }
}
