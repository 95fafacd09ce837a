//! The program's state and the two ways it changes: the customer's actions
//! and what the relay sends. Nothing here does I/O; requests for the relay are
//! left in [`App::outbox`] for the network task.

use std::collections::HashMap;

use kfood_protocol::client::{CachedState, ConnState};
use kfood_protocol::menu::MenuItem;
use kfood_protocol::messages::{kind, Announcement, Authenticated, OrderEvent, Snapshot};
use kfood_protocol::time::Millis;
use kfood_protocol::{Envelope, ErrorCode, Order, OrderStatus, ProtocolError, UserRef};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::cart::{self, CartLine};
use crate::checkout::{Checkout, Field, Problem, Quote};
pub use crate::net::NetCmd;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Menu,
    Cart,
    Orders,
    Notifications,
}

impl Screen {
    pub const ALL: [Screen; 4] = [
        Screen::Menu,
        Screen::Cart,
        Screen::Orders,
        Screen::Notifications,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Screen::Menu => "Menu",
            Screen::Cart => "Cart",
            Screen::Orders => "Orders",
            Screen::Notifications => "Notifications",
        }
    }

    fn index(self) -> usize {
        Screen::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    fn step(self, by: isize) -> Screen {
        let n = Screen::ALL.len() as isize;
        Screen::ALL[(self.index() as isize + by).rem_euclid(n) as usize]
    }
}

/// What the network task hands the app.
#[derive(Debug, Clone)]
pub enum AppEvent {
    Conn(ConnState),
    /// What the local cache held at start: drawn until the relay speaks.
    Cached(Box<CachedState>),
    /// An event or a welcome from the relay (not a reply to a request).
    Message(Envelope),
    /// Everything the relay had was handed over: the screen is current.
    Synced,
    /// The answer to a request the app sent: the ack's data, or the refusal.
    Reply {
        id: String,
        result: Result<Value, ProtocolError>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    /// Esc: close what is open, or clear the search.
    Back,
    Go(Screen),
    NextScreen,
    PrevScreen,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Search,
    /// Open the add dialog for the selected menu item.
    Add,
    /// Add one of the selected menu item at once.
    QuickAdd,
    Input(char),
    Backspace,
    Submit,
    NextField,
    PrevField,
    Toggle,
    QtyUp,
    QtyDown,
    Remove,
    EditNote,
    Checkout,
    CancelOrder,
    ModifyOrder,
    /// The one-second clock tick.
    Tick(Millis),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddFocus {
    Qty,
    Note,
}

/// What has the keyboard, for [`crate::keys::key_to_action`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal(Screen),
    Help,
    Search,
    AddItem(AddFocus),
    /// A one-line text prompt (a note, a cancel reason, instructions).
    TextEntry,
    Checkout(Field),
}

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

/// How long a message stays: news fades, errors stay longer, READY stays
/// until something else is said.
const FLASH_INFO_MS: Millis = 10_000;
const FLASH_ERROR_MS: Millis = 30_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub announcement: Announcement,
    pub unread: bool,
}

/// Lines of the item list a page key moves.
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
    pub screen: Screen,
    pub overlay: Overlay,
    pub menu: Vec<MenuItem>,
    pub category: usize,
    pub item_sel: usize,
    /// Search text; non-empty means the item list shows matches of every category.
    pub search: String,
    pub cart: Vec<CartLine>,
    pub cart_sel: usize,
    pub orders: Vec<Order>,
    pub selected_order: Option<u64>,
    pub notices: Vec<Notice>,
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
    /// Something worth saving changed (cart, orders, menu, read marks).
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
            screen: Screen::Menu,
            overlay: Overlay::None,
            menu: Vec::new(),
            category: 0,
            item_sel: 0,
            search: String::new(),
            cart: Vec::new(),
            cart_sel: 0,
            orders: Vec::new(),
            selected_order: None,
            notices: Vec::new(),
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

    // ------------------------------------------------------------ queries

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

    /// Whether what is drawn may be out of date.
    pub fn stale(&self) -> bool {
        !self.synced || !self.conn.is_connected()
    }

    /// Categories in menu order.
    pub fn categories(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for item in &self.menu {
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
                .menu
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
        self.menu.iter().filter(|i| i.category == *cat).collect()
    }

    pub fn selected_item(&self) -> Option<&MenuItem> {
        self.visible_items().get(self.item_sel).copied()
    }

    pub fn item(&self, id: &str) -> Option<&MenuItem> {
        self.menu.iter().find(|i| i.id == id)
    }

    /// Cart subtotal at the menu prices on screen; `None` when a line's item
    /// is not on the menu. Only a guide: the relay prices the order.
    pub fn cart_subtotal(&self) -> Option<i64> {
        self.cart
            .iter()
            .map(|l| {
                self.item(&l.item_id)
                    .map(|i| i.price_cents * i64::from(l.qty))
            })
            .sum()
    }

    pub fn cart_count(&self) -> u32 {
        self.cart.iter().map(|l| l.qty).sum()
    }

    /// Open orders newest first, then closed ones newest first.
    pub fn order_rows(&self) -> (Vec<&Order>, Vec<&Order>) {
        let mut open: Vec<&Order> = self
            .orders
            .iter()
            .filter(|o| !o.status.is_final())
            .collect();
        let mut closed: Vec<&Order> = self.orders.iter().filter(|o| o.status.is_final()).collect();
        open.sort_by_key(|o| std::cmp::Reverse(o.id));
        closed.sort_by_key(|o| std::cmp::Reverse(o.id));
        (open, closed)
    }

    fn order_ids(&self) -> Vec<u64> {
        let (open, closed) = self.order_rows();
        open.iter().chain(closed.iter()).map(|o| o.id).collect()
    }

    pub fn selected(&self) -> Option<&Order> {
        let id = self
            .selected_order
            .or_else(|| self.order_ids().first().copied())?;
        self.orders.iter().find(|o| o.id == id)
    }

    pub fn unread(&self) -> usize {
        self.notices.iter().filter(|n| n.unread).count()
    }

    /// Orders still moving through the kitchen.
    pub fn open_orders(&self) -> usize {
        self.orders.iter().filter(|o| !o.status.is_final()).count()
    }

    fn say(&mut self, level: Level, text: impl Into<String>) {
        self.flash = Some(Flash {
            text: text.into(),
            level,
            at: self.now_ms,
        });
    }

    fn request(&mut self, kind: &'static str, data: Value, pending: Pending) -> String {
        self.next_request += 1;
        let id = format!(
            "c-{}-{}",
            kind.trim_start_matches("order_"),
            self.next_request
        );
        self.pending.insert(id.clone(), pending);
        self.outbox.push(NetCmd::Request {
            id: id.clone(),
            kind,
            data,
        });
        id
    }

    // ------------------------------------------------------------ actions

    pub fn update(&mut self, action: Action) {
        if let Action::Tick(now) = action {
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
            Overlay::EditNote { .. } | Overlay::Cancel { .. } | Overlay::Modify { .. } => {
                self.text_key(action)
            }
            Overlay::Checkout(_) => self.checkout_key(action),
        }
    }

    fn go(&mut self, screen: Screen) {
        self.screen = screen;
        if screen == Screen::Notifications {
            self.mark_read();
        }
    }

    fn mark_read(&mut self) {
        for n in &mut self.notices {
            if n.unread {
                n.unread = false;
                self.read_upto = self.read_upto.max(n.announcement.id);
                self.dirty = true;
            }
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

    fn menu_key(&mut self, action: Action) {
        let n = self.visible_items().len();
        let cats = self.categories().len();
        match action {
            Action::Up => self.item_sel = self.item_sel.saturating_sub(1),
            Action::Down => self.item_sel = (self.item_sel + 1).min(n.saturating_sub(1)),
            Action::PageUp => self.item_sel = self.item_sel.saturating_sub(PAGE),
            Action::PageDown => self.item_sel = (self.item_sel + PAGE).min(n.saturating_sub(1)),
            Action::Home => self.item_sel = 0,
            Action::End => self.item_sel = n.saturating_sub(1),
            Action::Left | Action::Right if cats > 0 => {
                self.search.clear();
                let by = if action == Action::Left { -1 } else { 1 };
                self.category = (self.category as isize + by).rem_euclid(cats as isize) as usize;
                self.item_sel = 0;
            }
            Action::Search => self.overlay = Overlay::Search,
            Action::Add => {
                let Some(item) = self.selected_item() else {
                    return;
                };
                if !item.available {
                    let text = format!("{} is 86'd (unavailable) right now.", item.name);
                    self.say(Level::Error, text);
                    return;
                }
                self.overlay = Overlay::AddItem {
                    item_id: item.id.clone(),
                    qty: 1,
                    typed: false,
                    note: String::new(),
                    focus: AddFocus::Qty,
                };
            }
            Action::QuickAdd => {
                if let Some(id) = self.selected_item().map(|i| i.id.clone()) {
                    self.add_to_cart(&id, 1, "");
                }
            }
            _ => {}
        }
    }

    fn add_to_cart(&mut self, item_id: &str, qty: u32, note: &str) {
        let Some(item) = self.item(item_id).cloned() else {
            self.say(Level::Error, "That item is no longer on the menu.");
            return;
        };
        if !item.available {
            self.say(
                Level::Error,
                format!("{} is 86'd (unavailable) right now.", item.name),
            );
            return;
        }
        match cart::add(&mut self.cart, item_id, qty, note) {
            Ok(i) => {
                self.cart_sel = i;
                self.dirty = true;
                let total = self.cart[i].qty;
                self.say(
                    Level::Good,
                    format!(
                        "Added {qty} x {} ({total} in the cart). 2: view the cart.",
                        item.name
                    ),
                );
            }
            Err(cart::CartError::Full) => self.say(
                Level::Error,
                "The cart is full (50 lines): check out or remove a line first.",
            ),
        }
    }

    fn search_key(&mut self, action: Action) {
        match action {
            Action::Input(c) => {
                if self.search.chars().count() < 40 {
                    self.search.push(c);
                }
                self.item_sel = 0;
            }
            Action::Backspace => {
                self.search.pop();
                self.item_sel = 0;
            }
            Action::Submit => self.overlay = Overlay::None,
            Action::Back => {
                self.search.clear();
                self.item_sel = 0;
                self.overlay = Overlay::None;
            }
            Action::Up | Action::Down => self.menu_key(action),
            _ => {}
        }
    }

    fn add_key(&mut self, action: Action) {
        let Overlay::AddItem {
            item_id,
            qty,
            typed,
            note,
            focus,
        } = &mut self.overlay
        else {
            return;
        };
        match (action, *focus) {
            (Action::Back, _) => self.overlay = Overlay::None,
            (Action::Submit, _) => {
                let (id, q, n) = (item_id.clone(), *qty, note.clone());
                self.overlay = Overlay::None;
                self.add_to_cart(&id, q, &n);
            }
            (Action::NextField | Action::PrevField | Action::Down | Action::Up, _) => {
                *focus = match focus {
                    AddFocus::Qty => AddFocus::Note,
                    AddFocus::Note => AddFocus::Qty,
                }
            }
            (Action::QtyUp | Action::Right, AddFocus::Qty) => *qty = (*qty + 1).min(99),
            (Action::QtyDown | Action::Left, AddFocus::Qty) => *qty = qty.saturating_sub(1).max(1),
            (Action::Input(c), AddFocus::Qty) => {
                if let Some(d) = c.to_digit(10) {
                    let longer = *qty * 10 + d;
                    // Past two digits, typing starts over rather than growing past 99.
                    *qty = if *typed && longer <= 99 {
                        longer.max(1)
                    } else {
                        d.max(1)
                    };
                    *typed = true;
                }
            }
            (Action::Backspace, AddFocus::Qty) => *qty = (*qty / 10).max(1),
            (Action::Input(c), AddFocus::Note)
                if note.chars().count() < kfood_protocol::limits::MAX_NOTES_CHARS =>
            {
                note.push(c);
            }
            (Action::Backspace, AddFocus::Note) => {
                note.pop();
            }
            _ => {}
        }
    }

    fn cart_key(&mut self, action: Action) {
        let n = self.cart.len();
        match action {
            Action::Up => self.cart_sel = self.cart_sel.saturating_sub(1),
            Action::Down => self.cart_sel = (self.cart_sel + 1).min(n.saturating_sub(1)),
            Action::Home => self.cart_sel = 0,
            Action::End => self.cart_sel = n.saturating_sub(1),
            Action::QtyUp | Action::Right => self.change_line(1),
            Action::QtyDown | Action::Left => self.change_line(-1),
            Action::Remove if self.cart_sel < n => {
                let line = self.cart.remove(self.cart_sel);
                let name = self.line_name(&line.item_id);
                self.say(Level::Info, format!("Removed {name} from the cart."));
                self.cart_sel = self.cart_sel.min(self.cart.len().saturating_sub(1));
                self.dirty = true;
            }
            Action::EditNote => {
                if let Some(line) = self.cart.get(self.cart_sel) {
                    self.overlay = Overlay::EditNote {
                        line: self.cart_sel,
                        note: line.notes.clone(),
                    };
                }
            }
            Action::Checkout | Action::Submit => self.open_checkout(),
            _ => {}
        }
    }

    fn change_line(&mut self, delta: i32) {
        if self.cart_sel < self.cart.len() {
            cart::change_qty(&mut self.cart, self.cart_sel, delta);
            self.cart_sel = self.cart_sel.min(self.cart.len().saturating_sub(1));
            self.dirty = true;
        }
    }

    pub fn line_name(&self, item_id: &str) -> String {
        self.item(item_id)
            .map(|i| i.name.clone())
            .unwrap_or_else(|| item_id.to_owned())
    }

    fn open_checkout(&mut self) {
        if self.cart.is_empty() {
            self.say(
                Level::Error,
                "The cart is empty: add something from the menu (1) first.",
            );
            return;
        }
        let mut form = Checkout::new(Uuid::new_v4());
        self.quote(&mut form);
        self.overlay = Overlay::Checkout(Box::new(form));
        self.flash = None;
    }

    /// Asks the relay to price the form's order unless it already has, or
    /// is already being asked.
    fn quote(&mut self, form: &mut Checkout) {
        if !form.quotable(&self.cart) {
            return;
        }
        let key = form.quote_key(&self.cart);
        if form.current_quote(&self.cart).is_some() || form.quoting.as_deref() == Some(&key) {
            return;
        }
        let data = form.request_data(&self.cart, None);
        form.quoting = Some(key.clone());
        self.request(kind::ORDER_QUOTE, data, Pending::Quote { key });
    }

    fn checkout_key(&mut self, action: Action) {
        let Overlay::Checkout(mut form) = std::mem::replace(&mut self.overlay, Overlay::None)
        else {
            return;
        };
        let mut keep = true;
        match action {
            Action::Back => {
                keep = false;
                if form.placing {
                    self.say(
                        Level::Info,
                        "Your order is still on its way to the relay; it shows in Orders (3) once placed.",
                    );
                }
            }
            Action::NextField | Action::Down => {
                form.next_field();
                self.quote(&mut form);
            }
            Action::PrevField | Action::Up => {
                form.prev_field();
                self.quote(&mut form);
            }
            Action::Toggle | Action::Left | Action::Right if form.field.is_toggle() => {
                form.toggle();
                form.problem = None;
                self.quote(&mut form);
            }
            Action::Input(c) => {
                form.input(c);
                if !form.field.is_toggle()
                    && form.problem.as_ref().and_then(|p| p.field) == Some(form.field)
                {
                    form.problem = None;
                }
                if form.field.is_toggle() {
                    self.quote(&mut form);
                }
            }
            Action::Backspace => form.backspace(),
            Action::Submit => self.place(&mut form),
            _ => {}
        }
        if keep {
            self.overlay = Overlay::Checkout(form);
        }
    }

    fn place(&mut self, form: &mut Checkout) {
        if form.placing {
            form.notice = Some("Already sent: waiting for the relay's answer.".into());
            return;
        }
        if let Err(p) = form.validate(&self.cart, self.now_ms) {
            if let Some(f) = p.field {
                form.focus(f);
            }
            form.problem = Some(p);
            return;
        }
        form.problem = None;
        let total = match form.current_quote(&self.cart) {
            Some(q) => q.total_cents,
            None => {
                self.quote(form);
                form.notice = Some(if self.conn.is_connected() {
                    "Getting the price from the relay; press Enter again to pay it.".into()
                } else {
                    "Offline: the relay has to price the order first; it will when the connection is back.".into()
                });
                return;
            }
        };
        let data = form.request_data(&self.cart, Some(total));
        form.placing = true;
        form.notice = Some(if self.conn.is_connected() {
            "Placing your order...".into()
        } else {
            "Offline: your order is queued and goes out once when the connection is back.".into()
        });
        self.request(kind::ORDER_PLACE, data, Pending::Place);
    }

    fn text_key(&mut self, action: Action) {
        let text = match &mut self.overlay {
            Overlay::EditNote { note, .. } => note,
            Overlay::Cancel { reason, .. } => reason,
            Overlay::Modify { instructions, .. } => instructions,
            _ => return,
        };
        match action {
            Action::Input(c) if text.chars().count() < kfood_protocol::limits::MAX_NOTES_CHARS => {
                text.push(c);
            }
            Action::Backspace => {
                text.pop();
            }
            Action::Back => self.overlay = Overlay::None,
            Action::Submit => match std::mem::replace(&mut self.overlay, Overlay::None) {
                Overlay::EditNote { line, note } => {
                    if let Some(l) = self.cart.get_mut(line) {
                        l.notes = cart::limit_note(note.trim());
                        self.dirty = true;
                    }
                }
                Overlay::Cancel { order_id, reason } => {
                    let data = json!({"order_id": order_id, "reason": reason.trim()});
                    self.request(kind::ORDER_CANCEL, data, Pending::Cancel { order_id });
                    self.say(Level::Info, "Asking the kitchen to cancel...");
                }
                Overlay::Modify {
                    order_id,
                    instructions,
                } => {
                    let data = json!({"order_id": order_id, "instructions": instructions.trim()});
                    self.request(kind::ORDER_MODIFY, data, Pending::Modify { order_id });
                    self.say(Level::Info, "Sending your instructions...");
                }
                other => self.overlay = other,
            },
            _ => {}
        }
    }

    fn orders_key(&mut self, action: Action) {
        let ids = self.order_ids();
        let at = self
            .selected()
            .and_then(|o| ids.iter().position(|id| *id == o.id))
            .unwrap_or(0);
        let pick = |i: usize| ids.get(i.min(ids.len().saturating_sub(1))).copied();
        match action {
            Action::Up => self.selected_order = pick(at.saturating_sub(1)),
            Action::Down => self.selected_order = pick(at + 1),
            Action::Home => self.selected_order = pick(0),
            Action::End => self.selected_order = pick(usize::MAX),
            Action::PageUp => self.selected_order = pick(at.saturating_sub(PAGE)),
            Action::PageDown => self.selected_order = pick(at + PAGE),
            Action::CancelOrder | Action::ModifyOrder => {
                let Some(o) = self.selected() else {
                    self.say(Level::Info, "No order selected.");
                    return;
                };
                if o.status.is_final() {
                    let text = format!("{} is already {}.", o.code, o.status);
                    self.say(Level::Error, text);
                    return;
                }
                // Anything not final goes to the relay, which decides: the
                // order may have moved on since this screen last heard.
                self.overlay = if action == Action::CancelOrder {
                    Overlay::Cancel {
                        order_id: o.id,
                        reason: String::new(),
                    }
                } else {
                    Overlay::Modify {
                        order_id: o.id,
                        instructions: o.instructions.clone(),
                    }
                };
            }
            _ => {}
        }
    }

    fn notices_key(&mut self, action: Action) {
        let n = self.notices.len();
        match action {
            Action::Up => self.notice_sel = self.notice_sel.saturating_sub(1),
            Action::Down => self.notice_sel = (self.notice_sel + 1).min(n.saturating_sub(1)),
            Action::Home => self.notice_sel = 0,
            Action::End => self.notice_sel = n.saturating_sub(1),
            _ => {}
        }
    }

    // ------------------------------------------------------ network events

    pub fn on_event(&mut self, event: AppEvent) {
        match event {
            AppEvent::Conn(c) => {
                if !c.is_connected() {
                    self.synced = self.synced && matches!(c, ConnState::Connecting);
                }
                if c == ConnState::AuthExpired {
                    self.say(
                        Level::Error,
                        "Your login has expired: quit (q) and log in again.",
                    );
                }
                self.conn = c;
            }
            AppEvent::Message(env) => self.on_message(env),
            AppEvent::Synced => self.synced = true,
            AppEvent::Cached(c) => self.restore(&c),
            AppEvent::Reply { id, result } => self.on_reply(&id, result),
        }
    }

    fn on_message(&mut self, env: Envelope) {
        match env.kind.as_str() {
            kind::AUTHENTICATED => {
                if let Ok(a) = env.parse_data::<Authenticated>() {
                    self.user = Some(a.user);
                }
                // A resume replays what was missed and sends no snapshot.
                self.synced = true;
            }
            kind::SNAPSHOT => match env.parse_data::<Snapshot>() {
                Ok(s) => self.apply_snapshot(s),
                Err(e) => tracing::warn!(cause = %e, "unreadable snapshot"),
            },
            kind::ORDER_CREATED
            | kind::ORDER_UPDATE
            | kind::ORDER_MODIFIED
            | kind::ORDER_CANCELLED => match env.parse_data::<OrderEvent>() {
                Ok(ev) => self.upsert_order(ev.order, true),
                Err(e) => tracing::warn!(cause = %e, kind = %env.kind, "unreadable order event"),
            },
            kind::MENU_UPDATE => self.apply_menu_update(&env.data),
            kind::ANNOUNCEMENT => match env.parse_data::<Announcement>() {
                Ok(a) => self.add_announcement(a),
                Err(e) => tracing::warn!(cause = %e, "unreadable announcement"),
            },
            kind::PAYMENT_REFUNDED => {
                if let Ok(p) = env.parse_data::<kfood_protocol::messages::PaymentEvent>() {
                    let code = kfood_protocol::order::order_code(p.order_id);
                    let text = format!(
                        "{code}: {} refunded to the card ending {}.",
                        crate::ui::money(p.payment.amount_cents),
                        kfood_protocol::sanitize::clean_line(&p.payment.last4)
                    );
                    self.say(Level::Info, text);
                }
            }
            kind::ERROR => {
                let msg = env
                    .data
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let code = env
                    .data
                    .get("code")
                    .and_then(Value::as_str)
                    .unwrap_or("error");
                if code == "token_expired" || code == "auth_failed" {
                    self.conn = ConnState::AuthExpired;
                }
                self.say(Level::Error, format!("Relay: {code}: {msg}"));
            }
            _ => {}
        }
    }

    /// The cart and read marks as the local cache keeps them.
    ///
    /// The announcements ride along: a program that resumes from the cache
    /// gets no snapshot, so the active ones would otherwise be lost.
    pub fn saved_cart(&self) -> Value {
        let announcements: Vec<&Announcement> = self
            .notices
            .iter()
            .map(|n| &n.announcement)
            .filter(|a| a.id != 0)
            .collect();
        json!({"lines": self.cart, "read_upto": self.read_upto, "announcements": announcements})
    }

    /// Puts the cached state on screen: the cart and read marks as saved,
    /// the menu and orders as last known (stale until the relay confirms).
    pub fn restore(&mut self, c: &CachedState) {
        let saved = &c.entry.cart;
        let lines = saved.get("lines").unwrap_or(saved);
        if let Ok(cart) = serde_json::from_value::<Vec<CartLine>>(lines.clone()) {
            self.cart = cart;
        }
        if let Some(n) = saved.get("read_upto").and_then(Value::as_u64) {
            self.read_upto = n;
        }
        if self.menu.is_empty() {
            self.menu = c.entry.model.menu.clone();
            self.clamp_menu();
        }
        if self.orders.is_empty() {
            self.orders = c.entry.model.orders.values().cloned().collect();
        }
        if self.notices.is_empty() {
            let saved: Vec<Announcement> = saved
                .get("announcements")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            let now = self.now_ms;
            self.notices = saved
                .into_iter()
                .filter(|a| {
                    a.expires_at
                        .as_deref()
                        .and_then(kfood_protocol::time::parse_ms)
                        .is_none_or(|t| t > now)
                })
                .map(|a| Notice {
                    unread: a.id > self.read_upto,
                    announcement: a,
                })
                .collect();
        }
    }

    pub fn apply_snapshot(&mut self, s: Snapshot) {
        self.menu = s.menu;
        self.clamp_menu();
        // The snapshot holds every open order of ours; later changes follow it.
        self.orders = s.orders;
        if self
            .selected_order
            .is_some_and(|id| !self.orders.iter().any(|o| o.id == id))
        {
            self.selected_order = None;
        }
        let keep: Vec<Notice> = self
            .notices
            .iter()
            .filter(|n| n.announcement.id == 0)
            .cloned()
            .collect();
        self.notices.clear();
        let mut anns = s.announcements;
        anns.sort_by_key(|a| std::cmp::Reverse(a.id));
        for a in anns {
            let unread = a.id > self.read_upto && self.screen != Screen::Notifications;
            self.notices.push(Notice {
                announcement: a,
                unread,
            });
        }
        self.notices.extend(keep);
        if self.screen == Screen::Notifications {
            self.mark_read();
        }
        self.synced = true;
        self.dirty = true;
    }

    fn clamp_menu(&mut self) {
        let cats = self.categories().len();
        if self.category >= cats {
            self.category = 0;
        }
        let n = self.visible_items().len();
        self.item_sel = self.item_sel.min(n.saturating_sub(1));
    }

    fn upsert_order(&mut self, order: Order, live: bool) {
        let before = self
            .orders
            .iter()
            .position(|o| o.id == order.id)
            .map(|i| (i, self.orders[i].status));
        let (code, status) = (order.code.clone(), order.status);
        match before {
            Some((i, _)) => self.orders[i] = order,
            None => self.orders.push(order),
        }
        self.dirty = true;
        let changed = before.map(|(_, s)| s) != Some(status);
        if !live || !changed || before.is_none() {
            return;
        }
        match status {
            OrderStatus::Ready => {
                self.bell = true;
                self.say(Level::Ready, format!("{code} is READY!"));
            }
            OrderStatus::Preparing => self.say(Level::Good, format!("{code} is being prepared.")),
            OrderStatus::Delivered => self.say(Level::Good, format!("{code} delivered. Enjoy!")),
            OrderStatus::Cancelled => self.say(Level::Info, format!("{code} was cancelled.")),
            OrderStatus::Pending => self.say(Level::Info, format!("{code} is pending again.")),
        }
    }

    fn apply_menu_update(&mut self, data: &Value) {
        let op = data.get("op").and_then(Value::as_str).unwrap_or("");
        let item = data.get("item").cloned().unwrap_or(Value::Null);
        if op == "remove" {
            if let Some(id) = item.get("id").and_then(Value::as_str) {
                self.menu.retain(|i| i.id != id);
            }
        } else {
            match serde_json::from_value::<MenuItem>(item) {
                Ok(new) => match self.menu.iter().position(|i| i.id == new.id) {
                    Some(i) => self.menu[i] = new,
                    None => {
                        // New items go after the last item of their category,
                        // as the relay's menu order has them.
                        let at = self
                            .menu
                            .iter()
                            .rposition(|i| i.category == new.category)
                            .map(|i| i + 1)
                            .unwrap_or(self.menu.len());
                        self.menu.insert(at, new);
                    }
                },
                Err(e) => tracing::warn!(cause = %e, "unreadable menu item"),
            }
        }
        self.clamp_menu();
        self.dirty = true;
    }

    fn add_announcement(&mut self, a: Announcement) {
        if a.id != 0 && self.notices.iter().any(|n| n.announcement.id == a.id) {
            return;
        }
        let text = crate::ui::one_line(&a.text);
        let unread = self.screen != Screen::Notifications;
        if !unread {
            self.read_upto = self.read_upto.max(a.id);
        }
        self.notices.insert(
            0,
            Notice {
                announcement: a,
                unread,
            },
        );
        self.dirty = true;
        self.say(Level::Info, format!("Notice: {text}"));
    }

    fn on_reply(&mut self, id: &str, result: Result<Value, ProtocolError>) {
        let Some(pending) = self.pending.remove(id) else {
            return;
        };
        match pending {
            Pending::Quote { key } => self.on_quote(key, result),
            Pending::Place => self.on_placed(result),
            Pending::Cancel { order_id } | Pending::Modify { order_id } => {
                let what = if id.contains("cancel") {
                    "cancel"
                } else {
                    "change"
                };
                let code = self
                    .orders
                    .iter()
                    .find(|o| o.id == order_id)
                    .map(|o| o.code.clone())
                    .unwrap_or_else(|| kfood_protocol::order::order_code(order_id));
                match result {
                    Ok(v) => {
                        if let Some(o) = v
                            .get("order")
                            .and_then(|o| serde_json::from_value(o.clone()).ok())
                        {
                            self.upsert_order(o, false);
                        }
                        let text = if what == "cancel" {
                            format!("{code} cancelled.")
                        } else {
                            format!("Instructions for {code} sent to the kitchen.")
                        };
                        self.say(Level::Good, text);
                    }
                    Err(e) => {
                        let text = match e.code {
                            ErrorCode::InvalidTransition => format!(
                                "Too late to {what} {code}: the relay says {}.",
                                kfood_protocol::sanitize::clean_line(&e.message)
                            ),
                            _ => format!("Could not {what} {code}: {}", describe(&e)),
                        };
                        self.say(Level::Error, text);
                    }
                }
            }
        }
    }

    fn on_quote(&mut self, key: String, result: Result<Value, ProtocolError>) {
        let Overlay::Checkout(form) = &mut self.overlay else {
            return;
        };
        if form.quoting.as_deref() == Some(&key) {
            form.quoting = None;
        }
        match result {
            Ok(v) => {
                let cents = |k: &str| v.get(k).and_then(Value::as_i64);
                if let (Some(s), Some(d), Some(t)) = (
                    cents("subtotal_cents"),
                    cents("discount_cents"),
                    cents("total_cents"),
                ) {
                    form.quote = Some(Quote {
                        key,
                        subtotal_cents: s,
                        discount_cents: d,
                        total_cents: t,
                    });
                    if form
                        .notice
                        .as_deref()
                        .is_some_and(|n| n.starts_with("Getting"))
                    {
                        form.notice = Some("Total from the relay: press Enter to pay it.".into());
                    }
                }
            }
            Err(e) => {
                let field = e.field.as_deref().and_then(Field::from_wire);
                form.problem = Some(Problem {
                    field,
                    text: describe(&e),
                });
                form.notice = None;
            }
        }
    }

    fn on_placed(&mut self, result: Result<Value, ProtocolError>) {
        match result {
            Ok(v) => {
                let order: Option<Order> = v
                    .get("order")
                    .and_then(|o| serde_json::from_value(o.clone()).ok());
                self.cart.clear();
                self.cart_sel = 0;
                self.dirty = true;
                if matches!(self.overlay, Overlay::Checkout(_)) {
                    self.overlay = Overlay::None;
                }
                match order {
                    Some(o) => {
                        let text =
                            format!("Order {} placed: {}. Follow it here.", o.code, o.status);
                        self.selected_order = Some(o.id);
                        self.upsert_order(o, false);
                        self.say(Level::Good, text);
                    }
                    None => self.say(Level::Good, "Order placed."),
                }
                self.go(Screen::Orders);
            }
            Err(e) => {
                let text = describe(&e);
                let Overlay::Checkout(form) = &mut self.overlay else {
                    // The form was closed while the order was on its way.
                    self.say(
                        Level::Error,
                        format!("Order not placed: {text} Your cart is kept."),
                    );
                    return;
                };
                form.placing = false;
                form.notice = None;
                let declined = matches!(
                    e.code,
                    ErrorCode::PaymentDeclined | ErrorCode::InsufficientFunds
                );
                let field = if declined {
                    Some(Field::Number)
                } else {
                    e.field.as_deref().and_then(Field::from_wire)
                };
                let text = if declined {
                    let skip = form.number.len().saturating_sub(4);
                    let last4: String = form.number.chars().skip(skip).collect();
                    // Ready for another card; the one that failed is named.
                    form.number.clear();
                    form.cvc.clear();
                    text.replacen(
                        "Payment declined:",
                        &format!("Payment declined (card ending {last4}):"),
                        1,
                    )
                } else {
                    text
                };
                if let Some(f) = field {
                    form.focus(f);
                }
                form.problem = Some(Problem { field, text });
                if e.code == ErrorCode::PriceChanged {
                    form.quote = None;
                    let mut f = std::mem::replace(form, Box::new(Checkout::new(Uuid::nil())));
                    self.quote(&mut f);
                    f.notice = Some(
                        "Prices changed: check the new total and press Enter to pay it.".into(),
                    );
                    self.overlay = Overlay::Checkout(f);
                }
            }
        }
    }
}

/// A refusal in words for the customer.
pub fn describe(e: &ProtocolError) -> String {
    let clean = kfood_protocol::sanitize::clean_line(&e.message);
    let msg = clean.trim().trim_end_matches('.');
    match e.code {
        ErrorCode::PaymentDeclined | ErrorCode::InsufficientFunds => format!(
            "Payment declined: {msg}. Nothing was charged and the cart is kept: try another card or cash."
        ),
        ErrorCode::InvalidCard => format!("Card not valid: {msg}."),
        ErrorCode::InvalidPromo => format!("Promo code not accepted: {msg}."),
        ErrorCode::PriceChanged => format!("The price changed: {msg}."),
        ErrorCode::ItemUnavailable => {
            format!("Not available now: {msg}. Remove it from the cart (2).")
        }
        ErrorCode::UnknownItem => {
            format!("No longer on the menu: {msg}. Remove it from the cart (2).")
        }
        ErrorCode::Invalid => match &e.field {
            Some(f) => format!("{}: {msg}.", kfood_protocol::sanitize::clean_line(f)),
            None => format!("{msg}."),
        },
        ErrorCode::RateLimited => "Too many requests: wait a moment and try again.".into(),
        other => format!("{other}: {msg}."),
    }
}
