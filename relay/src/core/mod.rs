//! The relay's single decision point. One task owns the relay's [`State`]
//! and handles every request in arrival order, so no two requests race on
//! an order or a seq.
//!
//! Each request is parsed once into a [`Request`], checked against
//! [`Request::allowed_for`], and decided by a function of the state and the
//! request (one file per family: `orders`, `schedule`, `capacity`,
//! `catalog`, `accounts`, `alerts`, `stats`). A decision becomes one [`Commit`]; the core folds it into its
//! state with [`State::fold`] — the same fold a start uses — and hands it to
//! the writer in an [`Outcome`]. The core never touches a socket or the
//! store: the writer makes the commit durable and only then publishes it,
//! and answers what must be read from the store (activity) or done to it
//! (log retention, snapshots).

mod accounts;
mod alerts;
mod capacity;
mod catalog;
mod cluster;
mod orders;
mod schedule;
mod stats;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use kfood_protocol::capacity::PublicCapacity;
use kfood_protocol::envelope::message_text;
use kfood_protocol::event::{Event, Visibility};
use kfood_protocol::menu::MenuItem;
use kfood_protocol::messages::{self as m, kind, ActivityKind};
use kfood_protocol::model::Viewer;
use kfood_protocol::order::Order;
use kfood_protocol::time::{format_ms, now, now_ms, Millis};
use kfood_protocol::{limits, Envelope, Party, ProtocolError, Request, Role, Sender, UserRef};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, watch};

use crate::auth::{Auth, UserRecord};
use crate::config::Limits;
use crate::hub::{ConnEntry, Hub, Outgoing};
use crate::log::{Commit, Logged, Record, State};
use crate::payment::PaymentGateway;
use crate::wire::{frame, stamped, to_value};

pub use alerts::Watch;
pub use cluster::MAX_ATTEMPTS;
pub use stats::Stats;

/// The authenticated author of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: UserRef,
    pub session: String,
}

impl Caller {
    pub fn role(&self) -> Role {
        self.user.role
    }
    pub fn party(&self) -> Party {
        Party {
            id: self.user.id.clone(),
            name: self.user.name.clone(),
        }
    }
    pub fn sender(&self) -> Sender {
        Sender {
            id: self.user.id.clone(),
            role: self.user.role,
        }
    }
}

/// One message of a frame, in order. `Reply` keeps an answer decided before
/// the core (rate limit, malformed) in its place among the replies.
#[derive(Debug, Clone)]
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
    /// The stored account `username`, for a login.
    Account {
        username: String,
        reply: oneshot::Sender<Option<UserRecord>>,
    },
    /// The menu in display order and the capacity, for `GET /api/menu`.
    Menu {
        reply: oneshot::Sender<(Vec<MenuItem>, PublicCapacity)>,
    },
    /// Fire the scheduled orders whose time has come (DESIGN §14); sent by
    /// the fire timer.
    Fire,
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
    /// The orders a day's report reads (`GET /api/report`, DESIGN §14).
    Report {
        day: kfood_protocol::report::Day,
        reply: oneshot::Sender<kfood_protocol::report::DayOrders>,
    },
    /// A write failed: raise a `store_error` alert.
    StoreFailed(String),
    /// Stop after everything queued so far is handed to the writer.
    Shutdown,
}

/// A core step longer than this is logged at debug level (target
/// `kfood_relay::slow`), with what it was.
pub const SLOW_STEP: std::time::Duration = std::time::Duration::from_millis(2);

impl Command {
    /// The command's name, for the slow-step log.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Request { .. } => "request",
            Command::Attach { .. } => "attach",
            Command::Snapshot { .. } => "snapshot",
            Command::Register { .. } => "register",
            Command::Account { .. } => "account",
            Command::Menu { .. } => "menu",
            Command::Activity { .. } => "activity",
            Command::Tick { .. } => "tick",
            Command::Stats { .. } => "stats",
            Command::Fire => "fire",
            Command::Report { .. } => "report",
            Command::StoreFailed(_) => "store_failed",
            Command::Shutdown => "shutdown",
        }
    }
}

/// What a reply is: a frame decided now, or an `activity_query` ack the
/// writer reads from the store (the core never does).
pub enum ReplyBody {
    Frame(Outgoing),
    Activity { before: u64, limit: usize },
}

/// A reply and the request it answers, so a failed write can turn it into an error.
pub struct Reply {
    pub to: mpsc::Sender<Outgoing>,
    pub body: ReplyBody,
    pub reference: Option<String>,
}

/// Everything one command decided, for the writer.
pub struct Outcome {
    /// One per decided request that changed something, in order.
    pub commits: Vec<Commit>,
    /// Activity entries (ids are given by the writer, which keeps them).
    pub activity: Vec<m::Activity>,
    pub replies: Vec<Reply>,
    pub attach: Option<(ConnEntry, Vec<Outgoing>)>,
    pub close_user: Option<String>,
    pub done: Option<oneshot::Sender<Result<(), ProtocolError>>>,
    /// The folded state to keep as a snapshot. The writer serialises and
    /// writes it in the background once this group is durable, so a large
    /// state never holds up the core or a group's flush.
    pub snapshot: Option<Box<State>>,
    /// Log retention: drop what lies below this seq (and below the newest snapshot).
    pub trim: Option<u64>,
    pub born: Instant,
}

impl Outcome {
    fn new() -> Self {
        Outcome {
            commits: Vec::new(),
            activity: Vec::new(),
            replies: Vec::new(),
            attach: None,
            close_user: None,
            done: None,
            snapshot: None,
            trim: None,
            born: Instant::now(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.commits.is_empty()
            && self.activity.is_empty()
            && self.replies.is_empty()
            && self.attach.is_none()
            && self.close_user.is_none()
            && self.done.is_none()
            && self.snapshot.is_none()
            && self.trim.is_none()
    }
}

/// An activity entry to write, decided with a request.
pub struct Note {
    pub user: UserRef,
    pub kind: ActivityKind,
    pub text: String,
    pub order_id: Option<u64>,
}

/// What deciding one request produced, before it is committed. A handler
/// that refuses a request leaves it empty, except for events that stand
/// although the request is refused (a declined card's `payment_failed`).
#[derive(Default)]
pub struct Decision {
    events: Vec<(Event, Visibility, Option<Sender>)>,
    records: Vec<Record>,
    notes: Vec<Note>,
    close_user: Option<String>,
}

impl Decision {
    /// A durable event; `customer` is who it concerns ([`Visibility::of`]).
    pub fn emit(&mut self, event: Event, customer: Option<&str>, sender: Option<Sender>) {
        let to = Visibility::of(&event, customer);
        self.events.push((event, to, sender));
    }

    pub fn record(&mut self, r: Record) {
        self.records.push(r);
    }

    pub fn note(
        &mut self,
        user: &UserRef,
        kind: ActivityKind,
        text: String,
        order_id: Option<u64>,
    ) {
        self.notes.push(Note {
            user: user.clone(),
            kind,
            text,
            order_id,
        });
    }
}

/// The core: the folded state and what it needs to decide.
pub struct Core {
    state: State,
    hub: Arc<Hub>,
    auth: Arc<Auth>,
    gateway: Box<dyn PaymentGateway>,
    limits: Limits,
    pub log_id: String,
    first_seq: Arc<AtomicU64>,
    /// Commits since the last snapshot was handed to the writer.
    since_snapshot: u64,
    /// What the alerts watch between ticks (not part of the log).
    watch: Watch,
    /// The scheduled orders by fire time (derived from the state).
    schedule: schedule::Schedule,
    /// The next fire time, for the fire timer.
    next_fire: watch::Sender<Option<Millis>>,
    /// The admins' figures, kept up to date order by order.
    figures: stats::Figures,
}

impl Core {
    /// A core over `state`, the fold of the log (`log::load_counting`),
    /// `replayed` commits after its snapshot.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        state: State,
        replayed: u64,
        log_id: String,
        hub: Arc<Hub>,
        auth: Arc<Auth>,
        gateway: Box<dyn PaymentGateway>,
        limits: Limits,
        first_seq: Arc<AtomicU64>,
    ) -> Core {
        let schedule = schedule::Schedule::of(&state.model);
        let (next_fire, _) = watch::channel(schedule.next());
        Core {
            state,
            hub,
            auth,
            gateway,
            limits,
            log_id,
            first_seq,
            since_snapshot: replayed,
            watch: Watch::default(),
            schedule,
            next_fire,
            figures: stats::Figures::default(),
        }
    }

    /// The next fire time of a scheduled order, as it changes: what the
    /// fire timer sleeps until (an overdue one at start: at once).
    pub fn next_fire(&self) -> watch::Receiver<Option<Millis>> {
        self.next_fire.subscribe()
    }

    /// Fires every scheduled order due at `now`, each as a commit of its
    /// own, in fire time order then by id.
    fn fire_due(&mut self, now: Millis, out: &mut Outcome) {
        for id in self.schedule.due(now) {
            if let Some(d) = schedule::fire(&self.state, id, now) {
                self.commit(d, now, out);
            }
        }
    }

    pub fn head_seq(&self) -> u64 {
        self.state.model.head_seq
    }

    /// The admins' figures kept order by order, and from a pass over every
    /// order (for the property test: the two must agree).
    #[cfg(test)]
    pub(crate) fn figures_both_ways(&mut self, now: Millis) -> (Stats, Stats) {
        let kept = self.figures.stats(&self.state, &self.watch, now);
        (kept, stats::stats(&self.state, &self.watch, now))
    }

    /// The folded state (for tests and the property test).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Runs the core until `Shutdown` or until every sender is gone.
    pub async fn run(mut self, mut rx: mpsc::Receiver<Command>, writer: mpsc::Sender<Outcome>) {
        while let Some(cmd) = rx.recv().await {
            let stop = matches!(cmd, Command::Shutdown);
            let what = cmd.name();
            let t0 = Instant::now();
            let out = self.handle(cmd);
            let took = t0.elapsed();
            if took > SLOW_STEP {
                // Every request waits behind a long step: the first place to
                // look for a latency tail (`RUST_LOG=kfood_relay::slow=debug`).
                tracing::debug!(target: "kfood_relay::slow", what, took_us = took.as_micros() as u64, "slow core step");
            }
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
            } => out.replies.push(Reply {
                to: reply,
                body: ReplyBody::Frame(self.snapshot_frame(&caller, reset, now)),
                reference: None,
            }),
            Command::Register { record, reply } => {
                match accounts::register(&self.state, record, now) {
                    Ok(d) => {
                        self.commit(d, now, &mut out);
                        out.done = Some(reply);
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Command::Account { username, reply } => {
                let _ = reply.send(self.state.records.users.get(&username).cloned());
            }
            Command::Menu { reply } => {
                let m = &self.state.model;
                let _ = reply.send((m.menu.clone(), m.capacity.public()));
            }
            Command::Fire => self.fire_due(now, &mut out),
            Command::Activity { user, kind, text } => {
                let mut d = Decision::default();
                d.note(&user, kind, text, None);
                self.commit(d, now, &mut out);
            }
            Command::Tick { crew_online } => {
                // A safety net under the fire timer.
                self.fire_due(now, &mut out);
                for d in alerts::tick(&self.state, &mut self.watch, &self.limits, now, crew_online)
                {
                    self.commit(d, now, &mut out);
                }
                self.retention(&mut out);
            }
            Command::Stats { reply } => {
                let _ = reply.send(self.figures.stats(&self.state, &self.watch, now));
            }
            Command::Report { day, reply } => {
                let _ = reply.send(crate::report::day_orders(&self.state, &day));
            }
            Command::StoreFailed(cause) => {
                if let Some(d) = alerts::store_failed(&self.state, &cause, now) {
                    self.commit(d, now, &mut out);
                }
            }
            Command::Shutdown => {}
        }
        self.tell_next_fire();
        out
    }

    /// Tells the fire timer the next fire time, when it changed.
    fn tell_next_fire(&self) {
        let next = self.schedule.next();
        self.next_fire
            .send_if_modified(|v| std::mem::replace(v, next) != next);
    }

    /// Turns a decision into one commit (events get the next seqs), folds it
    /// into the state exactly as a start would, and queues it for the writer.
    fn commit(&mut self, d: Decision, now: Millis, out: &mut Outcome) {
        let at = format_ms(now);
        for n in d.notes {
            out.activity.push(m::Activity {
                id: 0,
                at: at.clone(),
                user: n.user,
                kind: n.kind,
                text: n.text,
                order_id: n.order_id,
            });
        }
        if d.close_user.is_some() {
            out.close_user = d.close_user;
        }
        if d.events.is_empty() && d.records.is_empty() {
            return;
        }
        let head = self.state.model.head_seq;
        let events: Vec<Logged> = d
            .events
            .into_iter()
            .zip(head + 1..)
            .map(|((event, to, sender), seq)| Logged {
                seq,
                at: at.clone(),
                sender,
                to,
                event,
            })
            .collect();
        let failed_payments = events
            .iter()
            .filter(|e| matches!(e.event, Event::PaymentFailed(_)))
            .count();
        let commit = Commit {
            no: self.state.commit_no + 1,
            events,
            records: d.records,
        };
        self.state.fold(&commit);
        for o in commit.events.iter().filter_map(|e| e.event.order()) {
            self.schedule.observe(o);
        }
        self.figures.touch(&commit);
        for r in &commit.records {
            if let Record::Revoked { user_id, at } = r {
                self.auth.revoke(user_id, *at);
            }
        }
        out.commits.push(commit);
        self.since_snapshot += 1;
        if self.state.snapshot_due(self.since_snapshot) {
            out.snapshot = Some(Box::new(self.state.clone()));
            self.since_snapshot = 0;
        }
        for _ in 0..failed_payments {
            if let Some(alert) =
                alerts::payment_failed(&self.state, &mut self.watch, &self.limits, now)
            {
                self.commit(alert, now, out);
            }
        }
    }

    /// Log retention (`--log-retention`): once the log holds a tenth more
    /// events than it may, the writer drops the oldest — after a snapshot of
    /// the state, since only what a snapshot covers may go. The slack keeps
    /// a busy relay from writing a snapshot on every tick.
    fn retention(&mut self, out: &mut Outcome) {
        let first = self.first_seq.load(Ordering::SeqCst);
        let keep_from = self
            .head_seq()
            .saturating_sub(self.limits.log_retention)
            .saturating_add(1);
        let slack = self.limits.log_retention / 10;
        if keep_from > first.saturating_add(slack) {
            out.snapshot = Some(Box::new(self.state.clone()));
            self.since_snapshot = 0;
            out.trim = Some(keep_from);
        }
    }

    fn authenticated(&self, caller: &Caller) -> Outgoing {
        let data = m::Authenticated {
            user: caller.user.clone(),
            session: caller.session.clone(),
            heartbeat_ms: self.limits.heartbeat_ms,
            head_seq: self.head_seq(),
            log_id: self.log_id.clone(),
            tz: self.limits.tz.clone(),
        };
        Outgoing::Frame(message_text(kind::AUTHENTICATED, &data, &now()).into())
    }

    /// What follows `authenticated` (or answers `sync`): a replay of the log
    /// after `since`, or a snapshot when there is no usable `since`.
    fn catch_up(&self, caller: &Caller, since: Option<u64>) -> Option<Outgoing> {
        let first = self.first_seq.load(Ordering::SeqCst);
        let head = self.head_seq();
        match since {
            None => Some(self.snapshot_frame(caller, false, now_ms())),
            Some(n) if n > head || n.saturating_add(1) < first => {
                Some(self.snapshot_frame(caller, true, now_ms()))
            }
            Some(n) if n == head => None,
            Some(n) => Some(Outgoing::Replay {
                after: n,
                upto: head,
            }),
        }
    }

    /// The snapshot `caller` is sent ([`kfood_protocol::Model::snapshot_for`]).
    pub fn snapshot(&self, caller: &Caller, reset: bool, now: Millis) -> Envelope {
        let viewer = Viewer {
            role: caller.role(),
            user_id: &caller.user.id,
        };
        let snap = self.state.model.snapshot_for(viewer, reset, now);
        stamped(Envelope::new(kind::SNAPSHOT, to_value(&snap)))
    }

    /// The snapshot `caller` is sent, serialised straight from the model's
    /// view (a connection's setup cost is mostly this).
    fn snapshot_frame(&self, caller: &Caller, reset: bool, now: Millis) -> Outgoing {
        let viewer = Viewer {
            role: caller.role(),
            user_id: &caller.user.id,
        };
        let snap = self.state.model.snapshot_for(viewer, reset, now);
        Outgoing::Frame(message_text(kind::SNAPSHOT, &snap, &format_ms(now_ms())).into())
    }

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
                    body: ReplyBody::Frame(frame(&stamped(env))),
                    reference,
                });
                return;
            }
        };
        let reference = env.id.clone();
        let role = caller.role();
        let result = Request::from_envelope(&env).and_then(|req| {
            if req.allowed_for(role) {
                self.dispatch(caller, req, password_hash, reply, &reference, now, out)
            } else {
                Err(req.forbidden_for(role))
            }
        });
        let body = match result {
            // Only a message with an id is acknowledged; a refusal is always said.
            Ok(Answer::Ack(_)) if reference.is_none() => return,
            Ok(Answer::Ack(a)) => ReplyBody::Frame(a.frame(reference.as_deref())),
            Ok(Answer::Deferred(body)) => body,
            Ok(Answer::Sent) => return,
            Err(e) => ReplyBody::Frame(frame(&stamped(Envelope::error(reference.as_deref(), &e)))),
        };
        out.replies.push(Reply {
            to: reply.clone(),
            body,
            reference,
        });
    }

    /// Decides one request and commits what it changed.
    #[allow(clippy::too_many_arguments)]
    fn dispatch(
        &mut self,
        caller: &Caller,
        req: Request,
        password_hash: Option<String>,
        reply: &mpsc::Sender<Outgoing>,
        reference: &Option<String>,
        now: Millis,
        out: &mut Outcome,
    ) -> Result<Answer, ProtocolError> {
        let mut d = Decision::default();
        let st = &self.state;
        let gw = &*self.gateway;
        let result = match req {
            Request::Heartbeat(hb) => {
                // Its one answer is the relay's heartbeat, with `ref` (§3).
                let hb = m::Heartbeat {
                    t: hb.t,
                    relay_ms: Some(now),
                    reference: reference.clone(),
                };
                let env = stamped(Envelope::new(kind::HEARTBEAT, to_value(&hb)));
                out.replies.push(Reply {
                    to: reply.clone(),
                    body: ReplyBody::Frame(frame(&env)),
                    reference: None,
                });
                return Ok(Answer::Sent);
            }
            Request::Authentication(_) => Err(ProtocolError::invalid(
                "type",
                "this connection is already authenticated",
            )),
            Request::Sync(s) => {
                if let Some(o) = self.catch_up(caller, s.since) {
                    out.replies.push(Reply {
                        to: reply.clone(),
                        body: ReplyBody::Frame(o),
                        reference: None,
                    });
                }
                Ok(json!({ "head_seq": self.head_seq() }).into())
            }
            Request::OrderQuote(q) => orders::quote(st, &q, now).map(Ack::from),
            Request::OrderPlace(p) => orders::place(st, gw, caller, p, now, &mut d),
            Request::OrderModify(r) => orders::modify(st, caller, r, now, &mut d),
            Request::OrderCancel(r) => orders::cancel(st, gw, caller, r, now, &mut d),
            Request::OrderUpdate(r) => orders::update(st, caller, r, now, &mut d),
            Request::LineDone(r) => {
                orders::line_done(st, caller, r, self.limits.auto_ready, now, &mut d)
            }
            Request::MenuUpdate(r) => catalog::menu_update(st, caller, r, &mut d).map(Ack::from),
            Request::Announce(r) => catalog::announce(st, caller, r, now, &mut d).map(Ack::from),
            Request::PromoUpsert(r) => catalog::promo_upsert(st, caller, r, &mut d).map(Ack::from),
            Request::AlertAck(r) => alerts::ack(st, caller, r, &mut d).map(Ack::from),
            Request::CapacitySet(r) => {
                capacity::capacity_set(st, caller, r, now, &mut d).map(Ack::from)
            }
            Request::SessionRevoke(r) => accounts::revoke(caller, r, now, &mut d).map(Ack::from),
            Request::UserCreate(r) => {
                accounts::user_create(st, caller, r, password_hash, now, &mut d).map(Ack::from)
            }
            Request::UserList => Ok(json!({
                "users": accounts::user_list(st, self.hub.sessions_by_user())
            })
            .into()),
            Request::ActivityQuery(q) => {
                let limit = q.limit.unwrap_or(limits::ACTIVITY_DEFAULT_LIMIT);
                if limit == 0 || limit > limits::ACTIVITY_MAX_LIMIT {
                    return Err(ProtocolError::invalid(
                        "limit",
                        format!("limit must be 1..={}", limits::ACTIVITY_MAX_LIMIT),
                    ));
                }
                let before = q.before.unwrap_or(u64::MAX);
                return Ok(Answer::Deferred(ReplyBody::Activity { before, limit }));
            }
        };
        self.commit(d, now, out);
        result.map(Answer::Ack)
    }
}

/// What an ack says besides its `ref`.
pub enum Ack {
    /// Built as a JSON value (the rarer requests).
    Value(Value),
    /// Already serialised from typed data: a JSON object's text.
    Text(String),
}

impl From<Value> for Ack {
    fn from(v: Value) -> Ack {
        Ack::Value(v)
    }
}

impl Ack {
    /// `{"order": order}`, the ack of every order request, serialised
    /// straight from the order (no JSON value tree on the hot path).
    pub fn order(order: &Order) -> Ack {
        #[derive(serde::Serialize)]
        struct OrderAck<'a> {
            order: &'a Order,
        }
        Ack::Text(serde_json::to_string(&OrderAck { order }).unwrap_or_default())
    }

    /// The stamped `ack` frame for `reference`.
    fn frame(self, reference: Option<&str>) -> Outgoing {
        match self {
            Ack::Value(v) => frame(&stamped(Envelope::ack(reference, v))),
            Ack::Text(fields) => Outgoing::Frame(
                kfood_protocol::envelope::ack_text(reference, &fields, &now()).into(),
            ),
        }
    }
}

/// How a request is answered.
enum Answer {
    Ack(Ack),
    /// The writer builds the ack (it reads the store).
    Deferred(ReplyBody),
    /// The answer is already queued.
    Sent,
}

#[cfg(test)]
mod tests;
