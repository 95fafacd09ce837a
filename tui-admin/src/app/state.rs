//! The program's own UI state, apart from what the relay says: which
//! screen, what is open over it, what keys mean, the list filters, and the
//! messages between the program and its network task.

use kfood_protocol::client::ConnState;
use kfood_protocol::report::DayReport;
use kfood_protocol::time::Millis;
use kfood_protocol::{Envelope, Model, OrderStatus, Request, UserRef};
use serde_json::Value;

use crate::form::{Edit, Form, Input};

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
    /// What the client cache held at start: drawn until the relay's
    /// replay or snapshot brings it up to date.
    Cached(Box<Model>),
    Conn(ConnState),
    /// The relay in use changed (one of `--relay`'s list): its WebSocket URL.
    Relay(String),
    /// Who the relay says we are.
    Welcome(UserRef),
    /// The relay's answer to the request with this id.
    Reply {
        id: String,
        result: Result<Value, RequestError>,
    },
    /// The day's report asked for with [`NetCmd::Report`], or why there is none.
    Report(Result<Box<DayReport>, String>),
}

/// What the program asks of the network task: one typed request, answered
/// under the program's own id.
// A few commands a second at most, at an admin's typing pace: their size
// does not matter, and a boxed request would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum NetCmd {
    Request {
        id: String,
        request: Request,
    },
    /// `GET /api/report` (DESIGN §14) for `date` (today when `None`),
    /// answered with [`AppEvent::Report`].
    Report {
        date: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormKind {
    NewItem,
    EditItem(String),
    /// The option groups of this item (DESIGN §14).
    ItemOptions(String),
    Announce,
    NewPromo,
    EditPromo(String),
    NewUser,
    CancelOrder(u64),
    /// The capacity panel (DESIGN §14).
    Capacity,
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

/// The Dashboard's `R`: the day's report as the relay last said it.
#[derive(Debug, Clone, PartialEq)]
pub enum ReportView {
    Loading,
    Ready(Box<DayReport>),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    None,
    Help,
    Detail { order_id: u64, scroll: u16 },
    Report { view: ReportView, scroll: u16 },
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
    /// The day's report over the Dashboard.
    Report,
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
    /// The orders screen's station filter: every station in use, then all.
    CycleStation,
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
    /// Open the capacity panel.
    Capacity,
    /// The Dashboard's `R`: today's report.
    Report,
    /// The menu editor's `o`: the selected item's option groups.
    Options,
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
            StatusFilter::Open => StatusFilter::Is(Scheduled),
            StatusFilter::Is(Scheduled) => StatusFilter::Is(Pending),
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

    pub(crate) fn admits(self, s: OrderStatus) -> bool {
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
pub(crate) enum Pending {
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
