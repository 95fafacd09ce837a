//! The words the parts of the program speak to each other: what a key asks
//! for ([`Action`]), what has the keyboard ([`Mode`]), what the network task
//! hands the app ([`AppEvent`]) and what the app asks of it ([`NetCmd`]).
//!
//! This module imports nothing else of the program, so keys, the network
//! task, the state and the drawing all depend on it and never on each other
//! in a circle.

use kfood_protocol::client::{CachedState, ConnState};
use kfood_protocol::time::Millis;
use kfood_protocol::{Envelope, ProtocolError, Request};
use serde_json::Value;

use crate::checkout::Field;

/// The four screens, in tab order.
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

    /// The screen `by` tabs away, wrapping around.
    pub fn step(self, by: isize) -> Screen {
        let n = Screen::ALL.len() as isize;
        Screen::ALL[(self.index() as isize + by).rem_euclid(n) as usize]
    }
}

/// What a key asks for; [`crate::keys::key_to_action`] maps keys to these.
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

/// Which field of the add dialog has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddFocus {
    /// The n-th choice of the item's options, counted over all its groups.
    Choice(usize),
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

/// What the network task hands the app.
#[derive(Debug, Clone)]
pub enum AppEvent {
    Conn(ConnState),
    /// The relay in use changed (one of `--relay`'s list): its WebSocket URL.
    Relay(String),
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

/// What the app asks of the network.
#[derive(Debug, Clone, PartialEq)]
pub enum NetCmd {
    /// A request; its answer comes back as [`AppEvent::Reply`] with this `id`.
    Request { id: String, request: Box<Request> },
    /// Keep this in the local cache as the customer's cart.
    SaveCart(Value),
}
