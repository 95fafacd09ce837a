//! The KfoodDelights wire protocol: the contract between the relay, the
//! terminal programs, the flow driver and the tests (DESIGN.md §3–§9).
//!
//! Every module but `client` is pure: no sockets, no files, no clocks except
//! where a function is explicitly handed the time. That keeps the rules
//! testable with plain data and lets every program share one copy of them.
//! `client` (feature `client`, on by default) is the connection manager of
//! DESIGN §11 that all the programs share; the relay builds without it.
//! `term` (feature `term`, off by default) is what the three terminal
//! programs share besides: theme, formatting, flags, logging, sign-in.

// Nothing a client sends may panic the relay: no unwrap/expect outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod capacity;
pub mod card;
#[cfg(feature = "client")]
pub mod client;
pub mod envelope;
pub mod error;
pub mod event;
pub mod jwt;
pub mod limits;
pub mod menu;
pub mod messages;
pub mod model;
pub mod options;
pub mod order;
pub mod report;
pub mod request;
pub mod sanitize;
#[cfg(feature = "term")]
pub mod term;
pub mod time;

pub use envelope::{Envelope, Frame, Sender};
pub use error::{ErrorCode, ProtocolError};
pub use event::{Event, Visibility};
pub use model::Model;
pub use order::{Order, OrderStatus};
pub use request::Request;

/// The three kinds of user. A token's `role` and a socket's `userType` are one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Crew,
    Admin,
    /// The relay itself, in what it does on its own (firing a scheduled
    /// order, DESIGN §3, §14). Never a user's role: no token carries it.
    System,
}

impl Role {
    /// The roles of users (not [`Role::System`]).
    pub const ALL: [Role; 3] = [Role::Customer, Role::Crew, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Crew => "crew",
            Role::Admin => "admin",
            Role::System => "system",
        }
    }

    /// Crew and admins run the kitchen; customers only see their own orders.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Crew | Role::Admin)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "customer" => Ok(Role::Customer),
            "crew" => Ok(Role::Crew),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role `{other}` (customer, crew or admin)")),
        }
    }
}

/// A person as messages name them: `{id, name, type}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserRef {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub role: Role,
}

/// A person without a role: an order's customer, an announcement's author.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Party {
    pub id: String,
    pub name: String,
}
