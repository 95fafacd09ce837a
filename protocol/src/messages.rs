//! Typed `data` of every request and event of DESIGN §5.
//!
//! Requests derive `Deserialize` (the relay parses them with
//! [`crate::Envelope::parse_data`]); events derive both ways so clients can read
//! what the relay writes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::menu::{MenuItem, MenuItemPatch, MenuOp, Promo};
use crate::options::ChosenOption;
use crate::order::{Fulfillment, Order, OrderStatus, PaymentMethod};
use crate::{Party, Role, UserRef};

/// Request and event type names, as they stand in `type`.
pub mod kind {
    pub const AUTHENTICATION: &str = "authentication";
    pub const AUTHENTICATED: &str = "authenticated";
    pub const HEARTBEAT: &str = "heartbeat";
    pub const SYNC: &str = "sync";
    pub const BATCH: &str = "batch";
    pub const ACK: &str = "ack";
    pub const ERROR: &str = "error";
    pub const SNAPSHOT: &str = "snapshot";
    pub const ORDER_QUOTE: &str = "order_quote";
    pub const ORDER_PLACE: &str = "order_place";
    pub const ORDER_MODIFY: &str = "order_modify";
    pub const ORDER_CANCEL: &str = "order_cancel";
    pub const ORDER_UPDATE: &str = "order_update";
    pub const ORDER_CREATED: &str = "order_created";
    pub const ORDER_MODIFIED: &str = "order_modified";
    pub const ORDER_CANCELLED: &str = "order_cancelled";
    pub const MENU_UPDATE: &str = "menu_update";
    pub const ANNOUNCE: &str = "announce";
    pub const ANNOUNCEMENT: &str = "announcement";
    pub const PROMO_UPSERT: &str = "promo_upsert";
    pub const PROMO_UPDATE: &str = "promo_update";
    pub const ALERT_ACK: &str = "alert_ack";
    pub const SYSTEM_ALERT: &str = "system_alert";
    pub const SESSION_REVOKE: &str = "session_revoke";
    pub const USER_CREATE: &str = "user_create";
    pub const USER_LIST: &str = "user_list";
    pub const ACTIVITY_QUERY: &str = "activity_query";
    pub const ACTIVITY: &str = "activity";
    pub const METRICS: &str = "metrics";
    pub const PAYMENT_CONFIRMED: &str = "payment_confirmed";
    pub const PAYMENT_FAILED: &str = "payment_failed";
    pub const PAYMENT_REFUNDED: &str = "payment_refunded";
    pub const LINE_DONE: &str = "line_done";
    pub const CAPACITY_SET: &str = "capacity_set";
    pub const CAPACITY_UPDATE: &str = "capacity_update";
}

// ---------------------------------------------------------------- requests

/// `authentication`, from the top level of the frame or from `data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Authentication {
    #[serde(rename = "userType")]
    pub user_type: Role,
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    #[serde(default)]
    pub t: Value,
    /// Set by the relay: its own time, unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay_ms: Option<i64>,
    /// Set by the relay: the `id` of the client's heartbeat, which gets no
    /// `ack` (DESIGN §3: this reply is its one answer).
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sync {
    #[serde(default)]
    pub since: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRequest {
    pub item_id: String,
    pub qty: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// The chosen options (DESIGN §14): `[{group, choice}]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ChosenOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    pub number: String,
    /// `MM/YY`.
    pub exp: String,
    pub cvc: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRequest {
    pub method: PaymentMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<Card>,
}

/// `order_place`, and `order_quote` (which ignores `payment`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPlace {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_order_id: Option<uuid::Uuid>,
    pub items: Vec<LineRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    pub fulfillment: Fulfillment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promo_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_total_cents: Option<i64>,
    /// For later (DESIGN §14): RFC 3339, checked by the relay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_for: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderModify {
    pub order_id: u64,
    pub instructions: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCancel {
    pub order_id: u64,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderUpdate {
    pub order_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prep_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `line_done` (DESIGN §13): mark line `line` (index from 0) done or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineDone {
    pub order_id: u64,
    pub line: usize,
    pub done: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuUpdate {
    pub op: MenuOp,
    pub item: MenuItemPatch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    All,
    Customer,
    Crew,
    Admin,
}

impl Audience {
    pub fn includes(self, role: Role) -> bool {
        match self {
            Audience::All => true,
            Audience::Customer => role == Role::Customer,
            Audience::Crew => role == Role::Crew,
            Audience::Admin => role == Role::Admin,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnnouncementKind {
    Announcement,
    Maintenance,
    Promotion,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announce {
    pub audience: Audience,
    pub kind: AnnouncementKind,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromoUpsert {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_off: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_off_cents: Option<i64>,
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertAck {
    pub alert_id: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRevoke {
    pub user_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCreate {
    pub username: String,
    pub password: String,
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

// ------------------------------------------------------------------ events

/// `authenticated`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Authenticated {
    pub user: UserRef,
    pub session: String,
    pub heartbeat_ms: u64,
    pub head_seq: u64,
    pub log_id: String,
    /// The restaurant's time zone (IANA name) for showing times.
    #[serde(default)]
    pub tz: String,
}

/// `order_created`, `order_update`, `order_modified`, `order_cancelled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderEvent {
    pub order_id: u64,
    pub status: OrderStatus,
    pub order: Order,
}

/// The payment of `payment_confirmed` and `payment_refunded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentInfo {
    pub method: PaymentMethod,
    pub status: crate::order::PaymentStatus,
    pub id: String,
    pub brand: String,
    pub last4: String,
    pub amount_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentEvent {
    pub order_id: u64,
    pub client_order_id: String,
    pub payment: PaymentInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedPayment {
    pub method: PaymentMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last4: Option<String>,
    pub amount_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFailed {
    pub client_order_id: String,
    pub code: crate::ErrorCode,
    pub message: String,
    pub payment: FailedPayment,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub id: u64,
    pub audience: Audience,
    pub kind: AnnouncementKind,
    pub text: String,
    pub expires_at: Option<String>,
    pub created_at: String,
    pub by: Party,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    OrderLate,
    NoCrew,
    PaymentFailures,
    StoreError,
}

impl AlertKind {
    /// Kitchen alerts go to crew as well as admins.
    pub fn is_kitchen(self) -> bool {
        matches!(self, AlertKind::OrderLate | AlertKind::NoCrew)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemAlert {
    pub id: u64,
    pub kind: AlertKind,
    pub severity: Severity,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<u64>,
    pub at: String,
    pub resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<Party>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivityKind {
    Login,
    Connect,
    Disconnect,
    Order,
    Status,
    Menu,
    Admin,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub id: u64,
    pub at: String,
    pub user: UserRef,
    pub kind: ActivityKind,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<u64>,
}

/// `menu_update` event: the whole item after the change (`{id}` after `remove`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MenuUpdated {
    pub op: MenuOp,
    pub item: Value,
}

/// `snapshot`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub menu: Vec<MenuItem>,
    pub orders: Vec<Order>,
    pub announcements: Vec<Announcement>,
    pub head_seq: u64,
    pub reset: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts: Option<Vec<SystemAlert>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promos: Option<Vec<Promo>>,
    /// The kitchen's capacity setting (DESIGN §14), in every snapshot.
    #[serde(default)]
    pub capacity: crate::capacity::Capacity,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleCounts {
    pub customer: u64,
    pub crew: u64,
    pub admin: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p99: f64,
}

/// One `metrics` sample (DESIGN §5).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsSample {
    pub uptime_s: u64,
    pub connections: RoleCounts,
    pub msgs_in_per_s: f64,
    pub msgs_out_per_s: f64,
    pub orders_by_status: std::collections::BTreeMap<String, u64>,
    pub orders_today: u64,
    pub revenue_today_cents: i64,
    pub prep_min_avg: f64,
    pub prep_min_p90: f64,
    pub late_orders: u64,
    pub payment_failures_today: u64,
    pub fanout_ms: Percentiles,
    pub store_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<MetricsSample>>,
    /// The relay that sent this sample (fresh at every start, DESIGN §15).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub relay_id: String,
    /// The relays of the restaurant seen alive within the last 15 s, this
    /// one included (DESIGN §15).
    #[serde(default)]
    pub relays: Vec<RelayPresence>,
}

/// One relay as it says it is alive (DESIGN §15): written every 5 s, and
/// listed in `metrics.relays` while seen within the last 15 s.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayPresence {
    pub relay_id: String,
    /// Where clients reach it (`ws://host:port`).
    pub url: String,
    /// Its open authenticated sockets, every role.
    pub connections: u64,
    /// Of them, crew sockets: the `no_crew` alert counts the crew on every
    /// live relay, not only on the one raising it.
    #[serde(default)]
    pub crew: u64,
    /// The last seq it published.
    pub head_seq: u64,
    /// When it said so (RFC 3339, UTC).
    pub at: String,
}

/// A row of `user_list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub online: bool,
    pub sessions: u64,
}

/// Body of `POST /api/login` and `POST /api/register`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Answer of a successful login or registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginReply {
    pub token: String,
    pub expires_at: String,
    pub user: UserRef,
}

/// `GET /api/events` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsPage {
    pub events: Vec<crate::Envelope>,
    pub head_seq: u64,
    /// The log these seqs belong to (DESIGN §4); empty from a relay that
    /// predates it.
    #[serde(default)]
    pub log_id: String,
}

/// Usernames are 3–32 characters of `[a-z0-9._-]`.
pub fn validate_username(u: &str) -> Result<(), crate::ProtocolError> {
    use crate::limits::{USERNAME_MAX, USERNAME_MIN};
    let ok = (USERNAME_MIN..=USERNAME_MAX).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(crate::ProtocolError::invalid(
            "username",
            format!("usernames are {USERNAME_MIN}-{USERNAME_MAX} characters of a-z, 0-9, '.', '_' and '-'"),
        ))
    }
}

/// Passwords are 8–128 characters.
pub fn validate_password(p: &str) -> Result<(), crate::ProtocolError> {
    use crate::limits::{PASSWORD_MAX, PASSWORD_MIN};
    if (PASSWORD_MIN..=PASSWORD_MAX).contains(&p.chars().count()) {
        Ok(())
    } else {
        Err(crate::ProtocolError::invalid(
            "password",
            format!("passwords are {PASSWORD_MIN}-{PASSWORD_MAX} characters"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_passwords() {
        for ok in ["kim", "park.ji-woo_2", &"a".repeat(32)] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "Kim", "kim lee", &"a".repeat(33), "kim\x1b"] {
            assert!(validate_username(bad).is_err(), "{bad:?}");
        }
        assert!(validate_password("12345678").is_ok());
        assert!(validate_password("1234567").is_err());
        assert!(validate_password(&"p".repeat(129)).is_err());
    }

    #[test]
    fn audiences() {
        assert!(Audience::All.includes(Role::Crew));
        assert!(Audience::Crew.includes(Role::Crew));
        assert!(!Audience::Crew.includes(Role::Customer));
        assert!(!Audience::Admin.includes(Role::Crew));
    }
}
