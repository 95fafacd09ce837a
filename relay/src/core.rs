//! The relay's single decision point. One task owns the restaurant's state
//! (menu, orders, promos, announcements, alerts, accounts) and handles every
//! request in arrival order, so no two requests race on an order or a seq.
//!
//! The core never touches a socket and never waits on the disk: each decision
//! becomes an [`Outcome`] (writes, events with their seqs, replies) handed to
//! the writer, which makes it durable and only then publishes it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use kfood_protocol::menu::{normalize_promo_code, MenuItem, MenuOp, Promo};
use kfood_protocol::messages::{
    self as m, kind, ActivityKind, AlertKind, Announcement, Severity, SystemAlert,
};
use kfood_protocol::order::{
    check_transition, order_code, Fulfillment, FulfillmentKind, HistoryEntry, Order, OrderLine,
    OrderStatus, Payment, PaymentMethod, PaymentStatus, Transition,
};
use kfood_protocol::time::{format_ms, now_ms, parse_ms, Millis};
use kfood_protocol::{
    card, limits, Envelope, ErrorCode, Party, ProtocolError, Role, Sender, UserRef,
};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

use crate::auth::{Auth, UserRecord};
use crate::config::Limits;
use crate::hub::{ConnEntry, Hub, LogRecord, Outgoing, Visibility};
use crate::payment::PaymentGateway;
use crate::store::{be, from_be, Put, Store, StoreError, Tree};

/// Minutes a delivery takes unless the kitchen says otherwise.
pub const DEFAULT_DELIVERY_MINUTES: u32 = 25;
/// Window in which failed payments are counted for the burst alert.
const PAYMENT_FAILURE_WINDOW_MS: Millis = 5 * 60_000;

/// Who may send each request (DESIGN §5, "allowed for"); `None` for a type
/// that is not a request. Ownership (a customer's own orders) is checked by
/// each handler.
pub fn allowed_roles(kind: &str) -> Option<&'static [Role]> {
    const ALL: &[Role] = &[Role::Customer, Role::Crew, Role::Admin];
    const CUSTOMER: &[Role] = &[Role::Customer];
    const STAFF: &[Role] = &[Role::Crew, Role::Admin];
    const ADMIN: &[Role] = &[Role::Admin];
    Some(match kind {
        kind::HEARTBEAT | kind::AUTHENTICATION | kind::SYNC | kind::ORDER_CANCEL => ALL,
        kind::ORDER_QUOTE | kind::ORDER_PLACE | kind::ORDER_MODIFY => CUSTOMER,
        // Crew may only toggle availability; `menu_update` checks the op.
        kind::ORDER_UPDATE | kind::MENU_UPDATE => STAFF,
        kind::ANNOUNCE
        | kind::PROMO_UPSERT
        | kind::ALERT_ACK
        | kind::SESSION_REVOKE
        | kind::USER_CREATE
        | kind::USER_LIST
        | kind::ACTIVITY_QUERY => ADMIN,
        _ => return None,
    })
}

/// The authenticated author of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: UserRef,
    pub session: String,
}

impl Caller {
    fn role(&self) -> Role {
        self.user.role
    }
    fn party(&self) -> Party {
        Party {
            id: self.user.id.clone(),
            name: self.user.name.clone(),
        }
    }
    fn sender(&self) -> Sender {
        Sender {
            id: self.user.id.clone(),
            role: self.user.role,
        }
    }
}

/// One message of a frame, in order. `Reply` keeps an answer decided before
/// the core (rate limit, malformed) in its place among the replies.
#[derive(Debug)]
pub enum Item {
    Msg {
        env: Envelope,
        password_hash: Option<String>,
    },
    Reply {
        reference: Option<String>,
        env: Envelope,
    },
}

pub enum Command {
    /// Messages from one frame; replies go to `reply` in the same order.
    Request {
        caller: Caller,
        items: Vec<Item>,
        reply: mpsc::Sender<Outgoing>,
    },
    /// A socket that authenticated: `authenticated`, then snapshot or replay,
    /// then it joins the broadcast at exactly that point of the log.
    Attach {
        caller: Caller,
        since: Option<u64>,
        entry: ConnEntry,
    },
    /// A snapshot for the polling fallback, after everything before it is durable.
    Snapshot {
        caller: Caller,
        reset: bool,
        reply: mpsc::Sender<Outgoing>,
    },
    /// A self-registered customer account (password already hashed).
    Register {
        record: UserRecord,
        reply: oneshot::Sender<Result<(), ProtocolError>>,
    },
    /// Something to write in the activity log (logins, connects).
    Activity {
        user: UserRef,
        kind: ActivityKind,
        text: String,
    },
    /// Periodic checks: alerts, log retention.
    Tick {
        crew_online: u64,
    },
    Stats {
        reply: oneshot::Sender<Stats>,
    },
    /// A write failed: raise a `store_error` alert.
    StoreFailed(String),
    /// Stop after everything queued so far is handed to the writer.
    Shutdown,
}

/// A reply and the request it answers, so a failed write can turn it into an error.
pub struct Reply {
    pub to: mpsc::Sender<Outgoing>,
    pub out: Outgoing,
    pub reference: Option<String>,
}

/// Everything one command decided, for the writer.
pub struct Outcome {
    pub puts: Vec<Put>,
    pub events: Vec<(u64, LogRecord)>,
    /// Non-durable messages for admins (activity), sent after the flush.
    pub admin_live: Vec<Envelope>,
    pub replies: Vec<Reply>,
    pub attach: Option<(ConnEntry, Vec<Outgoing>)>,
    pub close_user: Option<String>,
    pub done: Option<oneshot::Sender<Result<(), ProtocolError>>>,
    pub born: Instant,
}

impl Outcome {
    fn new() -> Self {
        Outcome {
            puts: Vec::new(),
            events: Vec::new(),
            admin_live: Vec::new(),
            replies: Vec::new(),
            attach: None,
            close_user: None,
            done: None,
            born: Instant::now(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.puts.is_empty()
            && self.events.is_empty()
            && self.admin_live.is_empty()
            && self.replies.is_empty()
            && self.attach.is_none()
            && self.close_user.is_none()
            && self.done.is_none()
    }
}

/// Figures for the `metrics` event and `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub orders_by_status: BTreeMap<String, u64>,
    pub orders_today: u64,
    pub revenue_today_cents: i64,
    pub prep_min_avg: f64,
    pub prep_min_p90: f64,
    pub late_orders: u64,
    pub payment_failures_today: u64,
    pub open_critical_alerts: u64,
    pub head_seq: u64,
}

/// The state the core owns. Loaded from the store at start.
pub struct Core {
    store: Arc<dyn Store>,
    hub: Arc<Hub>,
    auth: Arc<Auth>,
    gateway: Box<dyn PaymentGateway>,
    limits: Limits,
    heartbeat_ms: u64,
    pub log_id: String,
    last_seq: u64,
    first_seq: Arc<std::sync::atomic::AtomicU64>,
    menu: Vec<MenuItem>,
    orders: BTreeMap<u64, Order>,
    idempotency: HashMap<(String, String), u64>,
    promos: BTreeMap<String, Promo>,
    announcements: BTreeMap<u64, Announcement>,
    alerts: BTreeMap<u64, SystemAlert>,
    users: HashMap<String, UserRecord>,
    next_order: u64,
    next_announcement: u64,
    next_alert: u64,
    next_activity: u64,
    payment_failures: VecDeque<Millis>,
    payment_failures_today: (i64, u64),
    no_crew_since: Option<Millis>,
}

fn json_bytes<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn load_tree<T: serde::de::DeserializeOwned>(
    store: &dyn Store,
    tree: Tree,
) -> Result<Vec<(Vec<u8>, T)>, StoreError> {
    let mut out = Vec::new();
    for (k, v) in store.scan(tree)? {
        match serde_json::from_slice(&v) {
            Ok(t) => out.push((k, t)),
            Err(e) => tracing::error!(?tree, cause = %e, "skipping unreadable record"),
        }
    }
    Ok(out)
}

/// Day number (UTC) of a timestamp, for "today" figures.
fn day_of(ms: Millis) -> i64 {
    ms.div_euclid(86_400_000)
}

impl Core {
    pub fn load(
        store: Arc<dyn Store>,
        hub: Arc<Hub>,
        auth: Arc<Auth>,
        gateway: Box<dyn PaymentGateway>,
        limits: Limits,
        first_seq: Arc<std::sync::atomic::AtomicU64>,
    ) -> Result<Core, StoreError> {
        let log_id = match store.get(Tree::Meta, b"log_id")? {
            Some(v) => String::from_utf8_lossy(&v).into_owned(),
            None => {
                let id = uuid::Uuid::new_v4().simple().to_string();
                store.write(&[Put::set(
                    Tree::Meta,
                    b"log_id".to_vec(),
                    id.clone().into_bytes(),
                )])?;
                id
            }
        };
        let meta_seq = store
            .get(Tree::Meta, b"seq")?
            .map(|v| from_be(&v))
            .unwrap_or(0);
        let last_event = store
            .last(Tree::Events)?
            .map(|(k, _)| from_be(&k))
            .unwrap_or(0);
        let last_seq = meta_seq.max(last_event);
        let first = store
            .first(Tree::Events)?
            .map(|(k, _)| from_be(&k))
            .unwrap_or(last_seq + 1);
        first_seq.store(first, std::sync::atomic::Ordering::SeqCst);
        let menu: Vec<MenuItem> = match store.get(Tree::Menu, b"items")? {
            Some(v) => serde_json::from_slice(&v).map_err(|e| StoreError(format!("menu: {e}")))?,
            None => Vec::new(),
        };
        let orders: BTreeMap<u64, Order> = load_tree::<Order>(&*store, Tree::Orders)?
            .into_iter()
            .map(|(k, o)| (from_be(&k), o))
            .collect();
        let idempotency = orders
            .values()
            .map(|o| ((o.customer.id.clone(), o.client_order_id.clone()), o.id))
            .collect();
        let promos = load_tree::<Promo>(&*store, Tree::Promos)?
            .into_iter()
            .map(|(_, p)| (p.code.clone(), p))
            .collect();
        let announcements: BTreeMap<u64, Announcement> =
            load_tree::<Announcement>(&*store, Tree::Announcements)?
                .into_iter()
                .map(|(k, a)| (from_be(&k), a))
                .collect();
        let alerts: BTreeMap<u64, SystemAlert> = load_tree::<SystemAlert>(&*store, Tree::Alerts)?
            .into_iter()
            .map(|(k, a)| (from_be(&k), a))
            .collect();
        let users = load_tree::<UserRecord>(&*store, Tree::Users)?
            .into_iter()
            .map(|(_, u)| (u.id.clone(), u))
            .collect();
        let next_activity = store
            .last(Tree::Activity)?
            .map(|(k, _)| from_be(&k))
            .unwrap_or(0)
            + 1;
        Ok(Core {
            heartbeat_ms: limits.heartbeat_ms,
            next_order: orders.keys().next_back().copied().unwrap_or(0) + 1,
            next_announcement: announcements.keys().next_back().copied().unwrap_or(0) + 1,
            next_alert: alerts.keys().next_back().copied().unwrap_or(0) + 1,
            store,
            hub,
            auth,
            gateway,
            limits,
            log_id,
            last_seq,
            first_seq,
            menu,
            orders,
            idempotency,
            promos,
            announcements,
            alerts,
            users,
            next_activity,
            payment_failures: VecDeque::new(),
            payment_failures_today: (0, 0),
            no_crew_since: None,
        })
    }

    pub fn head_seq(&self) -> u64 {
        self.last_seq
    }

    /// Runs the core until `Shutdown` or until every sender is gone.
    pub async fn run(mut self, mut rx: mpsc::Receiver<Command>, writer: mpsc::Sender<Outcome>) {
        while let Some(cmd) = rx.recv().await {
            let stop = matches!(cmd, Command::Shutdown);
            let out = self.handle(cmd);
            if !out.is_empty() && writer.send(out).await.is_err() {
                break;
            }
            if stop {
                break;
            }
        }
    }

    pub fn handle(&mut self, cmd: Command) -> Outcome {
        let mut out = Outcome::new();
        let now = now_ms();
        match cmd {
            Command::Request {
                caller,
                items,
                reply,
            } => {
                for item in items {
                    self.request(&caller, item, &reply, now, &mut out);
                }
            }
            Command::Attach {
                caller,
                since,
                entry,
            } => {
                let mut first = vec![self.authenticated(&caller)];
                first.extend(self.catch_up(&caller, since));
                out.attach = Some((entry, first));
            }
            Command::Snapshot {
                caller,
                reset,
                reply,
            } => {
                let snap = self.snapshot(&caller, reset, now);
                out.replies.push(Reply {
                    to: reply,
                    out: frame(&snap),
                    reference: None,
                });
            }
            Command::Register { record, reply } => {
                if self.users.contains_key(&record.id) {
                    // The HTTP layer answers this one 409.
                    let _ = reply.send(Err(ProtocolError::invalid(
                        "username",
                        "that username is taken",
                    )));
                } else {
                    let user = UserRef {
                        id: record.id.clone(),
                        name: record.name.clone(),
                        role: record.role,
                    };
                    out.puts.push(Put::set(
                        Tree::Users,
                        record.id.as_bytes().to_vec(),
                        json_bytes(&record),
                    ));
                    self.users.insert(record.id.clone(), record);
                    self.activity(
                        &mut out,
                        now,
                        &user,
                        ActivityKind::Login,
                        "registered".into(),
                        None,
                    );
                    out.done = Some(reply);
                }
            }
            Command::Activity { user, kind, text } => {
                self.activity(&mut out, now, &user, kind, text, None)
            }
            Command::Tick { crew_online } => self.tick(now, crew_online, &mut out),
            Command::Stats { reply } => {
                let _ = reply.send(self.stats(now));
            }
            Command::StoreFailed(cause) => {
                if self.open_alert(AlertKind::StoreError, None).is_none() {
                    self.raise(
                        &mut out,
                        now,
                        AlertKind::StoreError,
                        Severity::Critical,
                        format!("the store refused a write: {cause}"),
                        None,
                    );
                }
            }
            Command::Shutdown => {}
        }
        if !out.events.is_empty() {
            out.puts.push(Put::set(
                Tree::Meta,
                b"seq".to_vec(),
                be(self.last_seq).to_vec(),
            ));
        }
        out
    }

    // ------------------------------------------------------------ plumbing

    fn emit(
        &mut self,
        out: &mut Outcome,
        now: Millis,
        kind: &str,
        data: Value,
        to: Visibility,
        sender: Option<Sender>,
    ) {
        self.last_seq += 1;
        let seq = self.last_seq;
        let mut event = Envelope::new(kind, data);
        event.seq = Some(seq);
        event.timestamp = Some(format_ms(now));
        event.sender = sender;
        let rec = LogRecord { to, event };
        out.puts
            .push(Put::set(Tree::Events, be(seq).to_vec(), json_bytes(&rec)));
        out.events.push((seq, rec));
    }

    fn activity(
        &mut self,
        out: &mut Outcome,
        now: Millis,
        user: &UserRef,
        kind: ActivityKind,
        text: String,
        order_id: Option<u64>,
    ) {
        let id = self.next_activity;
        self.next_activity += 1;
        let a = m::Activity {
            id,
            at: format_ms(now),
            user: user.clone(),
            kind,
            text,
            order_id,
        };
        out.puts
            .push(Put::set(Tree::Activity, be(id).to_vec(), json_bytes(&a)));
        let mut env = Envelope::new(kind::ACTIVITY, to_value(&a));
        env.timestamp = Some(format_ms(now));
        out.admin_live.push(env);
    }

    fn authenticated(&self, caller: &Caller) -> Outgoing {
        let data = m::Authenticated {
            user: caller.user.clone(),
            session: caller.session.clone(),
            heartbeat_ms: self.heartbeat_ms,
            head_seq: self.last_seq,
            log_id: self.log_id.clone(),
        };
        frame(&stamped(Envelope::new(
            kind::AUTHENTICATED,
            to_value(&data),
        )))
    }

    /// What follows `authenticated` (or answers `sync`): a replay of the log
    /// after `since`, or a snapshot when there is no usable `since`.
    fn catch_up(&self, caller: &Caller, since: Option<u64>) -> Option<Outgoing> {
        let first = self.first_seq.load(std::sync::atomic::Ordering::SeqCst);
        match since {
            None => Some(frame(&self.snapshot(caller, false, now_ms()))),
            Some(n) if n > self.last_seq || n.saturating_add(1) < first => {
                Some(frame(&self.snapshot(caller, true, now_ms())))
            }
            Some(n) if n == self.last_seq => None,
            Some(n) => Some(Outgoing::Replay {
                after: n,
                upto: self.last_seq,
            }),
        }
    }

    pub fn snapshot(&self, caller: &Caller, reset: bool, now: Millis) -> Envelope {
        let role = caller.role();
        let mine = |o: &&Order| role.is_staff() || o.customer.id == caller.user.id;
        let mut orders: Vec<Order> = self
            .orders
            .values()
            .filter(mine)
            .filter(|o| !o.status.is_final())
            .map(|o| o.view_for(role))
            .collect();
        let cutoff = now - limits::SNAPSHOT_CLOSED_WINDOW_SECS * 1000;
        let closed: Vec<Order> = self
            .orders
            .values()
            .rev()
            .filter(mine)
            .filter(|o| o.status.is_final() && parse_ms(&o.updated_at).unwrap_or(0) >= cutoff)
            .take(limits::SNAPSHOT_CLOSED_ORDERS)
            .map(|o| o.view_for(role))
            .collect();
        orders.extend(closed.into_iter().rev());
        orders.sort_by_key(|o| o.id);
        let announcements = self
            .announcements
            .values()
            .filter(|a| a.audience.includes(role))
            .filter(|a| {
                a.expires_at
                    .as_deref()
                    .and_then(parse_ms)
                    .is_none_or(|e| e > now)
            })
            .cloned()
            .collect();
        let open_alerts = |kitchen_only: bool| {
            self.alerts
                .values()
                .filter(|a| !a.resolved && (!kitchen_only || a.kind.is_kitchen()))
                .cloned()
                .collect::<Vec<_>>()
        };
        let snap = m::Snapshot {
            menu: self.menu.clone(),
            orders,
            announcements,
            head_seq: self.last_seq,
            reset,
            alerts: match role {
                Role::Admin => Some(open_alerts(false)),
                Role::Crew => Some(open_alerts(true)),
                Role::Customer => None,
            },
            promos: (role == Role::Admin).then(|| self.promos.values().cloned().collect()),
        };
        stamped(Envelope::new(kind::SNAPSHOT, to_value(&snap)))
    }

    // ------------------------------------------------------------ requests

    fn request(
        &mut self,
        caller: &Caller,
        item: Item,
        reply: &mpsc::Sender<Outgoing>,
        now: Millis,
        out: &mut Outcome,
    ) {
        let (env, password_hash) = match item {
            Item::Msg { env, password_hash } => (env, password_hash),
            Item::Reply { reference, env } => {
                out.replies.push(Reply {
                    to: reply.clone(),
                    out: frame(&stamped(env)),
                    reference,
                });
                return;
            }
        };
        let reference = env.id.clone();
        let result = self.dispatch(caller, &env, password_hash, reply, now, out);
        let reply_env = match result {
            // Only a message with an id is acknowledged; a refusal is always said.
            Ok(Some(_)) if reference.is_none() => return,
            Ok(Some(v)) => Envelope::ack(reference.as_deref(), v),
            Ok(None) => return,
            Err(e) => Envelope::error(reference.as_deref(), &e),
        };
        out.replies.push(Reply {
            to: reply.clone(),
            out: frame(&stamped(reply_env)),
            reference,
        });
    }

    /// Ok(Some(result)) acks, Ok(None) means the reply was already queued.
    fn dispatch(
        &mut self,
        caller: &Caller,
        env: &Envelope,
        password_hash: Option<String>,
        reply: &mpsc::Sender<Outgoing>,
        now: Millis,
        out: &mut Outcome,
    ) -> Result<Option<Value>, ProtocolError> {
        let role = caller.role();
        let Some(roles) = allowed_roles(&env.kind) else {
            return Err(ProtocolError::new(
                ErrorCode::UnknownType,
                format!("unknown message type `{}`", env.kind),
            )
            .with_field("type"));
        };
        if !roles.contains(&role) {
            return Err(ProtocolError::forbidden(format!(
                "{} is not allowed for {role}",
                env.kind
            )));
        }
        match env.kind.as_str() {
            kind::HEARTBEAT => {
                let hb: m::Heartbeat = env.parse_data()?;
                let hb = m::Heartbeat {
                    t: hb.t,
                    relay_ms: Some(now),
                };
                out.replies.push(Reply {
                    to: reply.clone(),
                    out: frame(&stamped(Envelope::new(kind::HEARTBEAT, to_value(&hb)))),
                    reference: env.id.clone(),
                });
                // With an id it is also acknowledged, like every message (§3).
                Ok(env.id.as_ref().map(|_| json!({})))
            }
            kind::AUTHENTICATION => Err(ProtocolError::invalid(
                "type",
                "this connection is already authenticated",
            )),
            kind::SYNC => {
                let s: m::Sync = env.parse_data()?;
                if let Some(o) = self.catch_up(caller, s.since) {
                    out.replies.push(Reply {
                        to: reply.clone(),
                        out: o,
                        reference: None,
                    });
                }
                Ok(Some(json!({ "head_seq": self.last_seq })))
            }
            kind::ORDER_QUOTE => {
                let req: m::OrderPlace = env.parse_data()?;
                let priced = self.price(&req, now)?;
                Ok(Some(json!({
                    "subtotal_cents": priced.subtotal,
                    "discount_cents": priced.discount,
                    "total_cents": priced.subtotal - priced.discount,
                })))
            }
            kind::ORDER_PLACE => self.place(caller, env, now, out).map(Some),
            kind::ORDER_MODIFY => self.modify(caller, env, now, out).map(Some),
            kind::ORDER_CANCEL => self.cancel(caller, env, now, out).map(Some),
            kind::ORDER_UPDATE => self.update(caller, env, now, out).map(Some),
            kind::MENU_UPDATE => self.menu_update(caller, env, now, out).map(Some),
            kind::ANNOUNCE => self.announce(caller, env, now, out).map(Some),
            kind::PROMO_UPSERT => self.promo_upsert(caller, env, now, out).map(Some),
            kind::ALERT_ACK => self.alert_ack(caller, env, now, out).map(Some),
            kind::SESSION_REVOKE => {
                let req: m::SessionRevoke = env.parse_data()?;
                let user_id = kfood_protocol::sanitize::clean_line(req.user_id.trim());
                if user_id.is_empty() {
                    return Err(ProtocolError::invalid(
                        "user_id",
                        "user_id must not be empty",
                    ));
                }
                let at = now / 1000;
                self.auth.revoke(&user_id, at);
                out.puts.push(Put::set(
                    Tree::Revoked,
                    user_id.as_bytes().to_vec(),
                    at.to_be_bytes().to_vec(),
                ));
                self.activity(
                    out,
                    now,
                    &caller.user,
                    ActivityKind::Admin,
                    format!("revoked the sessions of {user_id}"),
                    None,
                );
                out.close_user = Some(user_id);
                Ok(Some(json!({})))
            }
            kind::USER_CREATE => self
                .user_create(caller, env, password_hash, now, out)
                .map(Some),
            kind::USER_LIST => Ok(Some(json!({ "users": self.user_list() }))),
            kind::ACTIVITY_QUERY => {
                let q: m::ActivityQuery = env.parse_data()?;
                let limit = q.limit.unwrap_or(limits::ACTIVITY_DEFAULT_LIMIT);
                if limit == 0 || limit > limits::ACTIVITY_MAX_LIMIT {
                    return Err(ProtocolError::invalid(
                        "limit",
                        format!("limit must be 1..={}", limits::ACTIVITY_MAX_LIMIT),
                    ));
                }
                let before = q.before.unwrap_or(u64::MAX);
                let rows = self
                    .store
                    .range_before_rev(Tree::Activity, &be(before), limit)
                    .map_err(|e| ProtocolError::internal(e.to_string()))?;
                let activity: Vec<Value> = rows
                    .iter()
                    .filter_map(|(_, v)| serde_json::from_slice(v).ok())
                    .collect();
                Ok(Some(json!({ "activity": activity })))
            }
            // `allowed_roles` knows every request type.
            other => Err(ProtocolError::internal(format!("no handler for `{other}`"))),
        }
    }

    /// Prices an order from the relay's own menu and promos.
    fn price(&self, req: &m::OrderPlace, now: Millis) -> Result<Priced, ProtocolError> {
        if req.items.is_empty() {
            return Err(ProtocolError::invalid(
                "items",
                "an order needs at least one line",
            ));
        }
        if req.items.len() > limits::MAX_ORDER_LINES {
            return Err(ProtocolError::invalid(
                "items",
                format!("an order holds at most {} lines", limits::MAX_ORDER_LINES),
            ));
        }
        let mut lines = Vec::with_capacity(req.items.len());
        let mut subtotal = 0i64;
        let mut prep = 0u32;
        for (i, l) in req.items.iter().enumerate() {
            if !(limits::MIN_QTY..=limits::MAX_QTY).contains(&l.qty) {
                return Err(ProtocolError::invalid(
                    format!("items[{i}].qty"),
                    format!("quantity must be {}-{}", limits::MIN_QTY, limits::MAX_QTY),
                ));
            }
            let Some(item) = self.menu.iter().find(|it| it.id == l.item_id) else {
                return Err(ProtocolError::new(
                    ErrorCode::UnknownItem,
                    format!("no menu item `{}`", clean(&l.item_id)),
                )
                .with_field(format!("items[{i}].item_id")));
            };
            if !item.available {
                return Err(ProtocolError::new(
                    ErrorCode::ItemUnavailable,
                    format!("{} is not available right now", item.name),
                )
                .with_field(format!("items[{i}].item_id")));
            }
            let notes = kfood_protocol::menu::checked_text(
                &format!("items[{i}].notes"),
                l.notes.as_deref().unwrap_or(""),
                limits::MAX_NOTES_CHARS,
            )?;
            subtotal += item.price_cents * i64::from(l.qty);
            prep = prep.max(item.prep_minutes);
            lines.push(OrderLine {
                item_id: item.id.clone(),
                name: item.name.clone(),
                qty: l.qty,
                unit_price_cents: item.price_cents,
                notes,
                station: item.station.clone(),
                done: None,
            });
        }
        let instructions = kfood_protocol::menu::checked_text(
            "instructions",
            req.instructions.as_deref().unwrap_or(""),
            limits::MAX_NOTES_CHARS,
        )?;
        let fulfillment = match req.fulfillment.kind {
            FulfillmentKind::Pickup => Fulfillment {
                kind: FulfillmentKind::Pickup,
                address: None,
            },
            FulfillmentKind::Delivery => {
                let addr = kfood_protocol::menu::checked_name(
                    "fulfillment.address",
                    req.fulfillment.address.as_deref().unwrap_or(""),
                    limits::MAX_SHORT_TEXT_CHARS,
                )?;
                Fulfillment {
                    kind: FulfillmentKind::Delivery,
                    address: Some(addr),
                }
            }
        };
        let (promo_code, discount) = match req
            .promo_code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            None => (None, 0),
            Some(raw) => {
                let invalid = || {
                    ProtocolError::new(ErrorCode::InvalidPromo, "that promo code is not valid")
                        .with_field("promo_code")
                };
                let code = normalize_promo_code(raw).map_err(|_| invalid())?;
                let promo = self
                    .promos
                    .get(&code)
                    .filter(|p| p.usable(now))
                    .ok_or_else(invalid)?;
                (Some(code), promo.discount(subtotal))
            }
        };
        Ok(Priced {
            lines,
            subtotal,
            discount,
            prep,
            instructions,
            fulfillment,
            promo_code,
        })
    }

    fn place(
        &mut self,
        caller: &Caller,
        env: &Envelope,
        now: Millis,
        out: &mut Outcome,
    ) -> Result<Value, ProtocolError> {
        let req: m::OrderPlace = env.parse_data()?;
        let Some(coid) = req.client_order_id else {
            return Err(ProtocolError::invalid(
                "client_order_id",
                "client_order_id (a uuid) is required",
            ));
        };
        let coid = coid.to_string();
        let key = (caller.user.id.clone(), coid.clone());
        if let Some(id) = self.idempotency.get(&key) {
            if let Some(o) = self.orders.get(id) {
                return Ok(json!({ "order": o }));
            }
        }
        let priced = self.price(&req, now)?;
        let total = priced.subtotal - priced.discount;
        if let Some(expected) = req.expected_total_cents {
            if expected != total {
                return Err(ProtocolError::new(
                    ErrorCode::PriceChanged,
                    format!("the total is now {total} cents, not {expected}; review the order"),
                )
                .with_field("expected_total_cents"));
            }
        }
        let Some(pay) = req.payment else {
            return Err(ProtocolError::invalid("payment", "payment is required"));
        };
        let payment = match pay.method {
            PaymentMethod::Cash => Payment {
                method: PaymentMethod::Cash,
                status: PaymentStatus::Due,
                id: None,
                brand: None,
                last4: None,
                amount_cents: Some(total),
            },
            PaymentMethod::Card => {
                let Some(c) = pay.card else {
                    return Err(ProtocolError::new(
                        ErrorCode::InvalidCard,
                        "card details are required",
                    )
                    .with_field("payment.card"));
                };
                let digits = card::validate(&c.number, &c.exp, &c.cvc, now)?;
                match self.gateway.charge(&digits, total, &coid) {
                    Ok(ch) => Payment {
                        method: PaymentMethod::Card,
                        status: PaymentStatus::Paid,
                        id: Some(ch.id),
                        brand: Some(ch.brand),
                        last4: Some(ch.last4),
                        amount_cents: Some(total),
                    },
                    Err(decline) => {
                        let failed = m::PaymentFailed {
                            client_order_id: coid,
                            code: decline.code,
                            message: decline.message.clone(),
                            payment: m::FailedPayment {
                                method: PaymentMethod::Card,
                                brand: Some(card::brand(&digits).to_owned()),
                                last4: Some(digits[digits.len() - 4..].to_owned()),
                                amount_cents: total,
                            },
                        };
                        self.emit(
                            out,
                            now,
                            kind::PAYMENT_FAILED,
                            to_value(&failed),
                            Visibility::CustomerAndAdmins {
                                customer: caller.user.id.clone(),
                            },
                            Some(caller.sender()),
                        );
                        self.payment_failed(now, out);
                        return Err(ProtocolError::new(decline.code, decline.message)
                            .with_field("payment.card.number"));
                    }
                }
            }
        };
        let id = self.next_order;
        self.next_order += 1;
        let at = format_ms(now);
        let delivery_minutes = match priced.fulfillment.kind {
            FulfillmentKind::Delivery => DEFAULT_DELIVERY_MINUTES,
            FulfillmentKind::Pickup => 0,
        };
        let mut order = Order {
            id,
            code: order_code(id),
            client_order_id: coid.clone(),
            customer: caller.party(),
            lines: priced.lines,
            instructions: priced.instructions,
            fulfillment: priced.fulfillment,
            status: OrderStatus::Pending,
            subtotal_cents: priced.subtotal,
            discount_cents: priced.discount,
            total_cents: total,
            promo_code: priced.promo_code,
            payment,
            prep_minutes: priced.prep,
            delivery_minutes,
            eta: None,
            created_at: at.clone(),
            updated_at: at.clone(),
            history: vec![HistoryEntry {
                status: OrderStatus::Pending,
                at,
                by: caller.user.clone(),
                note: None,
            }],
            modified: false,
        };
        order.eta = order.compute_eta();
        out.puts.push(Put::set(
            Tree::Idempotency,
            format!("{}\u{0}{}", caller.user.id, coid).into_bytes(),
            be(id).to_vec(),
        ));
        self.idempotency.insert(key, id);
        let order_value = to_value(&order);
        self.save_order(order.clone(), out);
        self.emit(
            out,
            now,
            kind::ORDER_CREATED,
            json!({ "order_id": id, "status": "pending", "order": order_value }),
            Visibility::OrderParties {
                customer: caller.user.id.clone(),
            },
            Some(caller.sender()),
        );
        if order.payment.status == PaymentStatus::Paid {
            self.payment_event(out, now, kind::PAYMENT_CONFIRMED, &order, caller);
        }
        let text = format!("placed {} ({} cents)", order.code, order.total_cents);
        self.activity(out, now, &caller.user, ActivityKind::Order, text, Some(id));
        Ok(json!({ "order": order_value }))
    }

    fn payment_event(
        &mut self,
        out: &mut Outcome,
        now: Millis,
        kind: &str,
        order: &Order,
        caller: &Caller,
    ) {
        let p = &order.payment;
        let data = m::PaymentEvent {
            order_id: order.id,
            client_order_id: order.client_order_id.clone(),
            payment: m::PaymentInfo {
                method: p.method,
                status: p.status,
                id: p.id.clone().unwrap_or_default(),
                brand: p.brand.clone().unwrap_or_default(),
                last4: p.last4.clone().unwrap_or_default(),
                amount_cents: p.amount_cents.unwrap_or(order.total_cents),
            },
        };
        self.emit(
            out,
            now,
            kind,
            to_value(&data),
            Visibility::CustomerAndAdmins {
                customer: order.customer.id.clone(),
            },
            Some(caller.sender()),
        );
    }

    fn save_order(&mut self, order: Order, out: &mut Outcome) {
        out.puts.push(Put::set(
            Tree::Orders,
            be(order.id).to_vec(),
            json_bytes(&order),
        ));
        self.orders.insert(order.id, order);
    }

    fn order_event(
        &mut self,
        out: &mut Outcome,
        now: Millis,
        kind: &str,
        order: &Order,
        caller: &Caller,
    ) {
        self.emit(
            out,
            now,
            kind,
            json!({ "order_id": order.id, "status": order.status, "order": order }),
            Visibility::OrderParties {
                customer: order.customer.id.clone(),
            },
            Some(caller.sender()),
        );
    }

    /// The order `id` if `caller` may act on it (a customer only on their own).
    fn order_for(&self, caller: &Caller, id: u64) -> Result<&Order, ProtocolError> {
        let o = self.orders.get(&id).ok_or_else(|| {
            ProtocolError::not_found(format!("no order {id}")).with_field("order_id")
        })?;
        if caller.role() == Role::Customer && o.customer.id != caller.user.id {
            return Err(ProtocolError::forbidden("that order is not yours").with_field("order_id"));
        }
        Ok(o)
    }

    fn modify(
        &mut self,
        caller: &Caller,
        env: &Envelope,
        now: Millis,
        out: &mut Outcome,
    ) -> Result<Value, ProtocolError> {
        let req: m::OrderModify = env.parse_data()?;
        let instructions = kfood_protocol::menu::checked_text(
            "instructions",
            &req.instructions,
            limits::MAX_NOTES_CHARS,
        )?;
        let mut o = self.order_for(caller, req.order_id)?.clone();
        if o.status != OrderStatus::Pending {
            return Err(ProtocolError::new(
                ErrorCode::InvalidTransition,
                format!("{} is {} and can no longer be changed", o.code, o.status),
            ));
        }
        if o.instructions == instructions {
            return Ok(json!({ "order": o }));
        }
        o.instructions = instructions;
        o.modified = true;
        o.updated_at = format_ms(now);
        self.save_order(o.clone(), out);
        self.order_event(out, now, kind::ORDER_MODIFIED, &o, caller);
        self.activity(
            out,
            now,
            &caller.user,
            ActivityKind::Order,
            format!("changed the instructions of {}", o.code),
            Some(o.id),
        );
        Ok(json!({ "order": o }))
    }

    fn cancel(
        &mut self,
        caller: &Caller,
        env: &Envelope,
        now: Millis,
        out: &mut Outcome,
    ) -> Result<Value, ProtocolError> {
        let req: m::OrderCancel = env.parse_data()?;
        let reason = kfood_protocol::menu::checked_line(
            "reason",
            &req.reason,
            limits::MAX_SHORT_TEXT_CHARS,
        )?;
        let mut o = self.order_for(caller, req.order_id)?.clone();
        let t = check_transition(
            o.status,
            OrderStatus::Cancelled,
            caller.role(),
            o.entered_ms(),
            now,
        )?;
        if t == Transition::Same {
            return Ok(json!({ "order": o.view_for(caller.role()) }));
        }
        let at = format_ms(now);
        o.status = OrderStatus::Cancelled;
        o.updated_at = at.clone();
        o.eta = None;
        o.history.push(HistoryEntry {
            status: OrderStatus::Cancelled,
            at,
            by: caller.user.clone(),
            note: (!reason.is_empty()).then_some(reason),
        });
        let refund = o.payment.status == PaymentStatus::Paid;
        if refund {
            let charge = o.payment.id.clone().unwrap_or_default();
            if let Err(d) = self.gateway.refund(&charge, o.total_cents) {
                return Err(ProtocolError::internal(format!(
                    "the refund failed: {}",
                    d.message
                )));
            }
            o.payment.status = PaymentStatus::Refunded;
        } else if o.payment.status == PaymentStatus::Due {
            o.payment.status = PaymentStatus::Void;
        }
        self.save_order(o.clone(), out);
        self.order_event(out, now, kind::ORDER_CANCELLED, &o, caller);
        if refund {
            self.payment_event(out, now, kind::PAYMENT_REFUNDED, &o, caller);
        }
        self.activity(
            out,
            now,
            &caller.user,
            ActivityKind::Order,
            format!("cancelled {}", o.code),
            Some(o.id),
        );
        Ok(json!({ "order": o.view_for(caller.role()) }))
    }

    fn update(
        &mut self,
        caller: &Caller,
        env: &Envelope,
        now: Millis,
        out: &mut Outcome,
    ) -> Result<Value, ProtocolError> {
        let req: m::OrderUpdate = env.parse_data()?;
        let prep = req
            .prep_minutes
            .map(|v| kfood_protocol::menu::checked_minutes("prep_minutes", v))
            .transpose()?;
        let ride = req
            .delivery_minutes
            .map(|v| kfood_protocol::menu::checked_minutes("delivery_minutes", v))
            .transpose()?;
        let note = req
            .note
            .as_deref()
            .map(|n| kfood_protocol::menu::checked_text("note", n, limits::MAX_SHORT_TEXT_CHARS))
            .transpose()?
            .filter(|n| !n.is_empty());
        let mut o = self.order_for(caller, req.order_id)?.clone();
        let role = caller.role();
        let mut changed = false;
        let mut status_changed = false;
        if let Some(to) = req.status {
            if to == OrderStatus::Cancelled {
                return Err(ProtocolError::new(
                    ErrorCode::InvalidTransition,
                    "cancel an order with order_cancel",
                )
                .with_field("status"));
            }
            match check_transition(o.status, to, role, o.entered_ms(), now)? {
                Transition::Same => {}
                Transition::Bump | Transition::Recall | Transition::Cancel => {
                    o.status = to;
                    status_changed = true;
                    changed = true;
                }
            }
        }
        if o.status.is_final() && !status_changed && (prep.is_some() || ride.is_some()) {
            return Err(ProtocolError::new(
                ErrorCode::InvalidTransition,
                format!("{} is closed", o.code),
            ));
        }
        if let Some(p) = prep.filter(|p| *p != o.prep_minutes) {
            o.prep_minutes = p;
            changed = true;
        }
        if let Some(d) = ride.filter(|d| *d != o.delivery_minutes) {
            o.delivery_minutes = d;
            changed = true;
        }
        if status_changed || note.is_some() {
            o.history.push(HistoryEntry {
                status: o.status,
                at: format_ms(now),
                by: caller.user.clone(),
                note: note.clone(),
            });
            changed = true;
        }
        if !changed {
            return Ok(json!({ "order": o.view_for(role) }));
        }
        o.updated_at = format_ms(now);
        o.eta = o.compute_eta();
        self.save_order(o.clone(), out);
        self.order_event(out, now, kind::ORDER_UPDATE, &o, caller);
        let text = if status_changed {
            format!("moved {} to {}", o.code, o.status)
        } else {
            format!(
                "updated {} (prep {} min, delivery {} min)",
                o.code, o.prep_minutes, o.delivery_minutes
            )
        };
        self.activity(
            out,
            now,
            &caller.user,
            ActivityKind::Status,
            text,
            Some(o.id),
        );
        Ok(json!({ "order": o.view_for(role) }))
    }

    fn menu_update(
        &mut self,
        caller: &Caller,
        env: &Envelope,
        now: Millis,
        out: &mut Outcome,
    ) -> Result<Value, ProtocolError> {
        let req: m::MenuUpdate = env.parse_data()?;
        if caller.role() == Role::Crew && req.op != MenuOp::SetAvailable {
            return Err(ProtocolError::forbidden(
                "crew may only mark items available or unavailable",
            )
            .with_field("op"));
        }
        let id = req.item.id.clone();
        kfood_protocol::menu::validate_item_id(&id)?;
        let pos = self.menu.iter().position(|it| it.id == id);
        let (item_value, text) = match req.op {
            MenuOp::Upsert => {
                let item = match pos {
                    Some(p) => req.item.apply_to(&self.menu[p])?,
                    None => req.item.clone().into_new_item()?,
                };
                match pos {
                    Some(p) if self.menu[p].category == item.category => {
                        self.menu[p] = item.clone()
                    }
                    Some(p) => {
                        self.menu.remove(p);
                        insert_in_category(&mut self.menu, item.clone());
                    }
                    None => insert_in_category(&mut self.menu, item.clone()),
                }
                let verb = if pos.is_some() { "edited" } else { "added" };
                (
                    to_value(&item),
                    format!("{verb} {} ({} cents)", item.name, item.price_cents),
                )
            }
            MenuOp::Remove => {
                let p = pos.ok_or_else(|| {
                    ProtocolError::not_found(format!("no menu item `{id}`")).with_field("item.id")
                })?;
                let gone = self.menu.remove(p);
                (json!({ "id": id }), format!("removed {}", gone.name))
            }
            MenuOp::SetAvailable => {
                let p = pos.ok_or_else(|| {
                    ProtocolError::not_found(format!("no menu item `{id}`")).with_field("item.id")
                })?;
                let available = req.item.available.ok_or_else(|| {
                    ProtocolError::invalid("item.available", "set_available needs available")
                })?;
                if self.menu[p].available == available {
                    return Ok(json!({ "item": self.menu[p] }));
                }
                self.menu[p].available = available;
                let it = &self.menu[p];
                let text = if available {
                    format!("{} is back", it.name)
                } else {
                    format!("86'd {}", it.name)
                };
                (to_value(it), text)
            }
        };
        out.puts.push(Put::set(
            Tree::Menu,
            b"items".to_vec(),
            json_bytes(&self.menu),
        ));
        self.emit(
            out,
            now,
            kind::MENU_UPDATE,
            json!({ "op": req.op, "item": item_value }),
            Visibility::Everyone,
            Some(caller.sender()),
        );
        self.activity(out, now, &caller.user, ActivityKind::Menu, text, None);
        Ok(json!({ "item": item_value }))
    }

    fn announce(
        &mut self,
        caller: &Caller,
        env: &Envelope,
        now: Millis,
        out: &mut Outcome,
    ) -> Result<Value, ProtocolError> {
        let req: m::Announce = env.parse_data()?;
        let text =
            kfood_protocol::menu::checked_text("text", &req.text, limits::MAX_ANNOUNCEMENT_CHARS)?;
        if text.trim().is_empty() {
            return Err(ProtocolError::invalid("text", "an announcement needs text"));
        }
        let expires_at = checked_time("expires_at", req.expires_at.as_deref())?;
        let id = self.next_announcement;
        self.next_announcement += 1;
        let a = Announcement {
            id,
            audience: req.audience,
            kind: req.kind,
            text,
            expires_at,
            created_at: format_ms(now),
            by: caller.party(),
        };
        out.puts.push(Put::set(
            Tree::Announcements,
            be(id).to_vec(),
            json_bytes(&a),
        ));
        self.announcements.insert(id, a.clone());
        self.emit(
            out,
            now,
            kind::ANNOUNCEMENT,
            to_value(&a),
            Visibility::Audience {
                audience: a.audience,
            },
            Some(caller.sender()),
        );
        self.activity(
            out,
            now,
            &caller.user,
            ActivityKind::Admin,
            format!("announced to {:?}: {}", a.audience, a.text).to_lowercase(),
            None,
        );
        Ok(json!({ "announcement": a }))
    }

    fn promo_upsert(
        &mut self,
        caller: &Caller,
        env: &Envelope,
        now: Millis,
        out: &mut Outcome,
    ) -> Result<Value, ProtocolError> {
        let req: m::PromoUpsert = env.parse_data()?;
        let code = normalize_promo_code(&req.code)?;
        let existing = self.promos.get(&code);
        let (percent_off, amount_off_cents) = match (req.percent_off, req.amount_off_cents) {
            (Some(_), Some(_)) => {
                return Err(ProtocolError::invalid(
                    "percent_off",
                    "give percent_off or amount_off_cents, not both",
                ))
            }
            (Some(p), None) if (1..=100).contains(&p) => (Some(p), None),
            (Some(_), None) => {
                return Err(ProtocolError::invalid(
                    "percent_off",
                    "percent_off must be 1-100",
                ))
            }
            (None, Some(a)) if (1..=limits::MAX_PRICE_CENTS).contains(&a) => (None, Some(a)),
            (None, Some(_)) => {
                return Err(ProtocolError::invalid(
                    "amount_off_cents",
                    format!("amount_off_cents must be 1-{}", limits::MAX_PRICE_CENTS),
                ))
            }
            (None, None) => match existing {
                Some(p) => (p.percent_off, p.amount_off_cents),
                None => {
                    return Err(ProtocolError::invalid(
                        "percent_off",
                        "a new promo needs percent_off or amount_off_cents",
                    ))
                }
            },
        };
        let expires_at = checked_time("expires_at", req.expires_at.as_deref())?;
        let promo = Promo {
            code: code.clone(),
            percent_off,
            amount_off_cents,
            active: req.active,
            expires_at,
        };
        out.puts.push(Put::set(
            Tree::Promos,
            code.as_bytes().to_vec(),
            json_bytes(&promo),
        ));
        self.promos.insert(code.clone(), promo.clone());
        self.emit(
            out,
            now,
            kind::PROMO_UPDATE,
            to_value(&promo),
            Visibility::Admins,
            Some(caller.sender()),
        );
        let state = if promo.active { "active" } else { "inactive" };
        self.activity(
            out,
            now,
            &caller.user,
            ActivityKind::Admin,
            format!("set promo {code} ({state})"),
            None,
        );
        Ok(json!({ "promo": promo }))
    }

    fn alert_ack(
        &mut self,
        caller: &Caller,
        env: &Envelope,
        now: Millis,
        out: &mut Outcome,
    ) -> Result<Value, ProtocolError> {
        let req: m::AlertAck = env.parse_data()?;
        let alert = self.alerts.get(&req.alert_id).ok_or_else(|| {
            ProtocolError::not_found(format!("no alert {}", req.alert_id)).with_field("alert_id")
        })?;
        if alert.resolved {
            return Ok(json!({ "alert": alert }));
        }
        let mut a = alert.clone();
        a.resolved = true;
        a.resolved_by = Some(caller.party());
        self.save_alert(out, now, a.clone(), Some(caller.sender()));
        self.activity(
            out,
            now,
            &caller.user,
            ActivityKind::Admin,
            format!("acknowledged alert {}", a.id),
            a.order_id,
        );
        Ok(json!({ "alert": a }))
    }

    fn user_create(
        &mut self,
        caller: &Caller,
        env: &Envelope,
        password_hash: Option<String>,
        now: Millis,
        out: &mut Outcome,
    ) -> Result<Value, ProtocolError> {
        let req: m::UserCreate = env.parse_data()?;
        m::validate_username(&req.username)?;
        m::validate_password(&req.password)?;
        let name = kfood_protocol::menu::checked_name("name", &req.name, limits::MAX_NAME_CHARS)?;
        if self.users.contains_key(&req.username) {
            return Err(ProtocolError::invalid("username", "that username is taken"));
        }
        let hash = match password_hash {
            Some(h) => h,
            None => crate::auth::hash_password(&req.password)?,
        };
        let rec = UserRecord {
            id: req.username.clone(),
            name,
            role: req.role,
            password_hash: hash,
            created_at: format_ms(now),
        };
        let user = UserRef {
            id: rec.id.clone(),
            name: rec.name.clone(),
            role: rec.role,
        };
        out.puts.push(Put::set(
            Tree::Users,
            rec.id.as_bytes().to_vec(),
            json_bytes(&rec),
        ));
        self.users.insert(rec.id.clone(), rec);
        self.activity(
            out,
            now,
            &caller.user,
            ActivityKind::Admin,
            format!("created {} account {}", user.role, user.id),
            None,
        );
        Ok(json!({ "user": user }))
    }

    fn user_list(&self) -> Vec<m::UserInfo> {
        let online = self.hub.sessions_by_user();
        let mut rows: Vec<m::UserInfo> = self
            .users
            .values()
            .map(|u| {
                let sessions = online.get(&u.id).map(|(_, n)| *n).unwrap_or(0);
                m::UserInfo {
                    id: u.id.clone(),
                    name: u.name.clone(),
                    role: u.role,
                    online: sessions > 0,
                    sessions,
                }
            })
            .collect();
        // Device tokens and minted tokens have no stored account but are users all the same.
        for (id, (user, n)) in online {
            if !self.users.contains_key(&id) {
                rows.push(m::UserInfo {
                    id,
                    name: user.name,
                    role: user.role,
                    online: true,
                    sessions: n,
                });
            }
        }
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        rows
    }

    // ------------------------------------------------------------ alerts

    fn save_alert(
        &mut self,
        out: &mut Outcome,
        now: Millis,
        a: SystemAlert,
        sender: Option<Sender>,
    ) {
        out.puts
            .push(Put::set(Tree::Alerts, be(a.id).to_vec(), json_bytes(&a)));
        let to = if a.kind.is_kitchen() {
            Visibility::Staff
        } else {
            Visibility::Admins
        };
        self.emit(out, now, kind::SYSTEM_ALERT, to_value(&a), to, sender);
        self.alerts.insert(a.id, a);
    }

    fn raise(
        &mut self,
        out: &mut Outcome,
        now: Millis,
        kind: AlertKind,
        severity: Severity,
        text: String,
        order_id: Option<u64>,
    ) {
        let id = self.next_alert;
        self.next_alert += 1;
        let a = SystemAlert {
            id,
            kind,
            severity,
            text,
            order_id,
            at: format_ms(now),
            resolved: false,
            resolved_by: None,
        };
        tracing::warn!(alert = id, ?kind, "{}", a.text);
        self.save_alert(out, now, a, None);
    }

    fn open_alert(&self, kind: AlertKind, order_id: Option<u64>) -> Option<&SystemAlert> {
        self.alerts.values().find(|a| {
            !a.resolved && a.kind == kind && (order_id.is_none() || a.order_id == order_id)
        })
    }

    fn payment_failed(&mut self, now: Millis, out: &mut Outcome) {
        let today = day_of(now);
        if self.payment_failures_today.0 != today {
            self.payment_failures_today = (today, 0);
        }
        self.payment_failures_today.1 += 1;
        self.payment_failures.push_back(now);
        while self
            .payment_failures
            .front()
            .is_some_and(|t| now - t > PAYMENT_FAILURE_WINDOW_MS)
        {
            self.payment_failures.pop_front();
        }
        let n = self.payment_failures.len();
        if n >= self.limits.payment_failure_burst
            && self.open_alert(AlertKind::PaymentFailures, None).is_none()
        {
            self.raise(
                out,
                now,
                AlertKind::PaymentFailures,
                Severity::Warning,
                format!("{n} failed payments in the last 5 minutes"),
                None,
            );
        }
    }

    fn tick(&mut self, now: Millis, crew_online: u64, out: &mut Outcome) {
        let late_ms =
            i64::try_from(self.limits.late_after_min).unwrap_or(i64::MAX / 60_000) * 60_000;
        let late: Vec<(u64, String)> = self
            .orders
            .values()
            .filter(|o| o.status == OrderStatus::Pending)
            .filter(|o| now - parse_ms(&o.created_at).unwrap_or(now) > late_ms)
            .map(|o| (o.id, o.code.clone()))
            .collect();
        for (id, code) in late {
            if self
                .alerts
                .values()
                .any(|a| a.kind == AlertKind::OrderLate && a.order_id == Some(id))
            {
                continue;
            }
            let text = format!(
                "{code} has been pending for over {} minutes",
                self.limits.late_after_min
            );
            self.raise(
                out,
                now,
                AlertKind::OrderLate,
                Severity::Warning,
                text,
                Some(id),
            );
        }
        let waiting = self
            .orders
            .values()
            .any(|o| o.status == OrderStatus::Pending);
        if crew_online == 0 && waiting {
            let since = *self.no_crew_since.get_or_insert(now);
            let grace =
                i64::try_from(self.limits.no_crew_after_secs).unwrap_or(i64::MAX / 1000) * 1000;
            if now - since >= grace && self.open_alert(AlertKind::NoCrew, None).is_none() {
                self.raise(
                    out,
                    now,
                    AlertKind::NoCrew,
                    Severity::Critical,
                    "orders are waiting and no crew is connected".into(),
                    None,
                );
            }
        } else {
            self.no_crew_since = None;
            if crew_online > 0 {
                if let Some(a) = self.open_alert(AlertKind::NoCrew, None).cloned() {
                    let resolved = SystemAlert {
                        resolved: true,
                        ..a
                    };
                    self.save_alert(out, now, resolved, None);
                }
            }
        }
        // Log retention: the oldest events go once the log is over its size.
        let first = self.first_seq.load(std::sync::atomic::Ordering::SeqCst);
        let keep_from = self.last_seq.saturating_sub(self.limits.log_retention) + 1;
        if keep_from > first {
            match self.store.remove_below(Tree::Events, &be(keep_from)) {
                Ok(n) => {
                    self.first_seq
                        .store(keep_from, std::sync::atomic::Ordering::SeqCst);
                    tracing::debug!(removed = n, first = keep_from, "trimmed the event log");
                }
                Err(e) => tracing::error!(cause = %e, "cannot trim the event log"),
            }
        }
    }

    fn stats(&self, now: Millis) -> Stats {
        let today = day_of(now);
        let mut s = Stats {
            head_seq: self.last_seq,
            ..Stats::default()
        };
        for st in OrderStatus::ALL {
            s.orders_by_status.insert(st.as_str().to_owned(), 0);
        }
        let mut prep: Vec<f64> = Vec::new();
        for o in self.orders.values() {
            *s.orders_by_status
                .entry(o.status.as_str().to_owned())
                .or_default() += 1;
            let created = parse_ms(&o.created_at).unwrap_or(0);
            if o.is_late(now) {
                s.late_orders += 1;
            }
            if day_of(created) != today {
                continue;
            }
            s.orders_today += 1;
            if o.status != OrderStatus::Cancelled {
                s.revenue_today_cents += o.total_cents;
            }
            let started = o
                .history
                .iter()
                .find(|h| h.status == OrderStatus::Preparing)
                .and_then(|h| parse_ms(&h.at));
            let ready = o
                .history
                .iter()
                .rev()
                .find(|h| h.status == OrderStatus::Ready)
                .and_then(|h| parse_ms(&h.at));
            if let (Some(a), Some(b)) = (started, ready) {
                prep.push((b - a).max(0) as f64 / 60_000.0);
            }
        }
        if !prep.is_empty() {
            prep.sort_by(|a, b| a.total_cmp(b));
            s.prep_min_avg = prep.iter().sum::<f64>() / prep.len() as f64;
            s.prep_min_p90 = prep[((prep.len() as f64 * 0.9).ceil() as usize)
                .saturating_sub(1)
                .min(prep.len() - 1)];
        }
        if self.payment_failures_today.0 == today {
            s.payment_failures_today = self.payment_failures_today.1;
        }
        s.open_critical_alerts = self
            .alerts
            .values()
            .filter(|a| !a.resolved && a.severity == Severity::Critical)
            .count() as u64;
        s
    }

    // ------------------------------------------------------------ seeding

    /// Seeds the demo menu when the menu is empty (used by `--demo`).
    pub fn seed_menu(&mut self, items: Vec<MenuItem>) -> Vec<Put> {
        if !self.menu.is_empty() {
            return Vec::new();
        }
        self.menu = items;
        vec![Put::set(
            Tree::Menu,
            b"items".to_vec(),
            json_bytes(&self.menu),
        )]
    }

    pub fn has_user(&self, id: &str) -> bool {
        self.users.contains_key(id)
    }

    pub fn insert_user(&mut self, rec: UserRecord) -> Put {
        let put = Put::set(Tree::Users, rec.id.as_bytes().to_vec(), json_bytes(&rec));
        self.users.insert(rec.id.clone(), rec);
        put
    }
}

struct Priced {
    lines: Vec<OrderLine>,
    subtotal: i64,
    discount: i64,
    prep: u32,
    instructions: String,
    fulfillment: Fulfillment,
    promo_code: Option<String>,
}

/// New items go after the last item of their category; a new category goes last.
fn insert_in_category(menu: &mut Vec<MenuItem>, item: MenuItem) {
    match menu.iter().rposition(|it| it.category == item.category) {
        Some(p) => menu.insert(p + 1, item),
        None => menu.push(item),
    }
}

fn checked_time(field: &str, v: Option<&str>) -> Result<Option<String>, ProtocolError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_ms(s).map(|ms| Some(format_ms(ms))).ok_or_else(|| {
            ProtocolError::invalid(field, format!("{field} must be an RFC 3339 time"))
        }),
    }
}

fn clean(s: &str) -> String {
    let c = kfood_protocol::sanitize::clean_line(s);
    c.chars().take(limits::MAX_ITEM_ID_CHARS * 2).collect()
}

pub fn stamped(mut env: Envelope) -> Envelope {
    env.timestamp = Some(kfood_protocol::time::now());
    env
}

pub fn frame(env: &Envelope) -> Outgoing {
    Outgoing::Frame(env.to_json().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, cat: &str) -> MenuItem {
        MenuItem {
            id: id.into(),
            name: id.into(),
            category: cat.into(),
            description: String::new(),
            price_cents: 100,
            available: true,
            prep_minutes: 5,
            station: "kitchen".into(),
        }
    }

    #[test]
    fn menu_keeps_category_order() {
        let mut menu = vec![item("a", "Rice"), item("b", "Rice"), item("c", "Soup")];
        insert_in_category(&mut menu, item("d", "Rice"));
        insert_in_category(&mut menu, item("e", "Drinks"));
        let ids: Vec<&str> = menu.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "d", "c", "e"]);
    }

    #[test]
    fn times_are_checked() {
        assert_eq!(checked_time("t", None).unwrap(), None);
        assert_eq!(checked_time("t", Some("")).unwrap(), None);
        assert!(checked_time("t", Some("2030-01-01T00:00:00Z"))
            .unwrap()
            .is_some());
        assert_eq!(
            checked_time("t", Some("soon"))
                .unwrap_err()
                .field
                .as_deref(),
            Some("t")
        );
    }
}
