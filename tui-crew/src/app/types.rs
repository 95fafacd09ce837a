//! The board's vocabulary: what a key means ([`Action`]), which overlay has
//! the keys ([`Mode`]), what the network task says ([`AppEvent`]) and is
//! asked ([`NetCmd`]), and the fixed settings from the command line.

use kfood_protocol::client::ConnState;
use kfood_protocol::order::OrderStatus;
use kfood_protocol::time::Millis;
use kfood_protocol::{Envelope, Model, Request};
use serde_json::Value;

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

    pub fn of(status: OrderStatus) -> Option<Column> {
        match status {
            OrderStatus::Pending => Some(Column::Pending),
            OrderStatus::Preparing => Some(Column::Preparing),
            OrderStatus::Ready => Some(Column::Ready),
            // A scheduled order is not on the board until it fires.
            OrderStatus::Scheduled | OrderStatus::Delivered | OrderStatus::Cancelled => None,
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

/// Which board this terminal is: the expo (whole tickets, bumps) or a
/// station screen (its own lines, line marks). Keys depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Expo,
    Station,
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
    /// Typing a kitchen note for the order.
    Note {
        order_id: u64,
        input: String,
    },
    /// The tickets bumped in the last 15 minutes; `cursor` indexes the list.
    Recall {
        cursor: usize,
    },
    /// The scheduled orders, by fire time (`L`, DESIGN §14); `cursor`
    /// indexes the list.
    Later {
        cursor: usize,
    },
    /// Confirming a pause (or a resume) of online ordering (`p`).
    ConfirmPause,
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
    /// Station screen: mark the selected line done.
    MarkLine,
    /// Station screen: clear the last line marked from this terminal.
    UndoMark,
    /// Open the recall list.
    RecallList,
    /// Open the list of scheduled orders.
    LaterList,
    /// Pause or resume online ordering (asks first).
    Pause,
    /// Ask for a kitchen note on the selected ticket.
    Note,
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
    Request { id: String, request: Request },
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
    /// The relay in use changed (one of `--relay`'s list): its WebSocket URL.
    Relay(String),
    /// The answer to the request `id` of [`NetCmd::Request`]: the ack's data.
    Reply {
        id: String,
        result: Result<Value, ReplyError>,
    },
    /// The board as the local cache last knew it, before the relay speaks.
    Cached(Box<Model>),
    /// The relay accepted the credentials; `user` is the name it knows us by.
    Welcome {
        user: String,
    },
    /// Something the relay said that answers no request: shown briefly.
    Notice(String),
    /// The connection cannot go on (a configuration that cannot work).
    Fatal(String),
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
    /// Minutes after which a pending or preparing ticket shows `WARN`: the
    /// board's own age threshold. `LATE` is the order's rule (DESIGN §6).
    pub warn_after_min: u32,
    /// The stations this terminal serves; empty for the expo (DESIGN §13).
    pub stations: Vec<String>,
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
            stations: Vec::new(),
            bell: true,
            color: true,
            ascii: false,
        }
    }
}

/// How urgent a ticket is: `Late` past its ETA ([`kfood_protocol::Order::is_late`]),
/// `Warn` older than the board's own threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Urgency {
    Ok,
    Warn,
    Late,
}
