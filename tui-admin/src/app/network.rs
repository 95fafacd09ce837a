//! What arrives from the relay: the connection's state, the snapshot and
//! durable events (folded into the model with `Model::apply`), the
//! non-durable ones (metrics, activity), and the answers to our requests.

use kfood_protocol::client::ConnState;
use kfood_protocol::event::{Event, MenuChange, MenuChangeItem};
use kfood_protocol::menu::{MenuOp, Promo};
use kfood_protocol::messages::{
    kind, Activity, ActivityKind, Announcement, MetricsSample, OrderEvent, Severity, Snapshot,
    SystemAlert, UserInfo,
};
use kfood_protocol::time::parse_ms;
use kfood_protocol::{Envelope, Order};
use serde_json::Value;

use super::{
    audience_label, clean, App, AppEvent, ConfirmKind, FormKind, Overlay, Pending, RequestError,
    Screen, ACTIVITY_PAGE, PAYMENT_FAILURES_KEEP,
};

impl App {
    pub fn handle(&mut self, event: AppEvent) {
        match event {
            AppEvent::Net(env) => self.on_envelope(env),
            AppEvent::Cached(model) => self.model = *model,
            AppEvent::Conn(c) => self.on_conn(c),
            AppEvent::Relay(ws) => self.relay = ws,
            AppEvent::Welcome(u) => self.user = Some(u),
            AppEvent::Reply { id, result } => self.on_reply(id, result),
            AppEvent::Report(r) => self.on_report(r),
        }
    }

    fn on_conn(&mut self, c: ConnState) {
        let was_live = self.conn.is_connected();
        self.conn = c;
        if self.conn.is_connected() && !was_live {
            self.refresh_users(true);
            // Entries streamed while we were away are fetched again; ids dedupe.
            self.query_activity(false);
        }
        match self.conn {
            ConnState::Offline => {
                self.complain("offline: the relay cannot be reached; still trying")
            }
            ConnState::Closed => self.complain("offline: the connection is closed"),
            _ => {}
        }
        if self.conn == ConnState::AuthExpired {
            self.complain("the relay refused the login: restart with a fresh token or --user");
        }
    }

    fn on_envelope(&mut self, env: Envelope) {
        match Event::from_envelope(&env) {
            Ok(Some(ev)) => return self.on_event(&env, &ev),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(kind = %env.kind, cause = %e, "unreadable event");
                return;
            }
        }
        match env.kind.as_str() {
            kind::SNAPSHOT => match env.parse_data::<Snapshot>() {
                Ok(s) => self.apply_snapshot(&s),
                Err(e) => tracing::warn!(cause = %e, "unreadable snapshot"),
            },
            kind::ACTIVITY => {
                if let Ok(a) = env.parse_data::<Activity>() {
                    let people = matches!(
                        a.kind,
                        ActivityKind::Connect | ActivityKind::Disconnect | ActivityKind::Login
                    );
                    self.add_activity(vec![a], false);
                    if people && self.screen == Screen::Users && self.conn.is_connected() {
                        self.refresh_users(false);
                    }
                }
            }
            kind::METRICS => {
                if let Ok(m) = env.parse_data::<MetricsSample>() {
                    self.charts.push(m, self.now_ms);
                }
            }
            // The relay's notice before it restarts: not durable, said once.
            kind::ANNOUNCEMENT => {
                if let Ok(a) = env.parse_data::<Announcement>() {
                    self.say(format!("relay: {}", clean(&a.text)));
                }
            }
            kind::ERROR => {
                // An error for no request of ours: say so rather than drop it.
                let e = RequestError::from_data(&env.data);
                self.complain(format!("relay: {}", e.text()));
            }
            _ => {}
        }
    }

    /// A durable event: folded into the model by the one rule; a failed
    /// payment also joins the dashboard's list, and a new critical alert is
    /// said at once.
    fn on_event(&mut self, env: &Envelope, ev: &Event) {
        match ev {
            Event::PaymentFailed(p) => {
                let at = env
                    .timestamp
                    .as_deref()
                    .and_then(parse_ms)
                    .unwrap_or(self.now_ms);
                self.payment_failures.push_front((at, p.clone()));
                self.payment_failures.truncate(PAYMENT_FAILURES_KEEP);
            }
            Event::SystemAlert(a) => {
                let fresh = !a.resolved && !self.model.alerts.contains_key(&a.id);
                if fresh && a.severity == Severity::Critical {
                    self.complain(format!("CRITICAL alert: {}", clean(&a.text)));
                }
            }
            _ => {}
        }
        self.model.apply(ev);
        if let Some(seq) = env.seq {
            self.model.head_seq = seq;
        }
    }

    /// The relay's snapshot replaces the model. It holds the open alerts
    /// only: the resolved ones already seen stay listed on the alerts screen.
    pub fn apply_snapshot(&mut self, s: &Snapshot) {
        let resolved: Vec<SystemAlert> = self
            .model
            .alerts
            .values()
            .filter(|a| a.resolved)
            .cloned()
            .collect();
        self.model.load_snapshot(s);
        for a in resolved {
            self.model.alerts.entry(a.id).or_insert(a);
        }
    }

    pub(super) fn on_reply(&mut self, id: String, result: Result<Value, RequestError>) {
        let Some(p) = self.pending.remove(&id) else {
            return;
        };
        match p {
            Pending::Form => self.on_form_reply(&id, result, None),
            Pending::Confirm(k) => self.on_form_reply(&id, result, Some(k)),
            Pending::AlertAck(alert) => match result {
                Ok(v) => {
                    if let Some(a) = v
                        .get("alert")
                        .and_then(|a| serde_json::from_value::<SystemAlert>(a.clone()).ok())
                    {
                        self.model.apply(&Event::SystemAlert(a));
                    }
                    self.say(format!("alert {alert} acknowledged"));
                }
                Err(e) => self.complain(format!("alert {alert} not acknowledged: {}", e.text())),
            },
            Pending::SetAvailable(item) => match result {
                Ok(v) => {
                    self.apply_item_ack(MenuOp::SetAvailable, &v);
                    let state = self
                        .model
                        .menu
                        .iter()
                        .find(|m| m.id == item)
                        .map(|m| {
                            if m.available {
                                "available"
                            } else {
                                "86 (unavailable)"
                            }
                        })
                        .unwrap_or("changed");
                    self.say(format!("{} is now {state}", clean(&item)));
                }
                Err(e) => self.complain(format!("{} not changed: {}", clean(&item), e.text())),
            },
            Pending::PromoActive(code) => match result {
                Ok(v) => {
                    if let Some(p) = v
                        .get("promo")
                        .and_then(|p| serde_json::from_value::<Promo>(p.clone()).ok())
                    {
                        let state = if p.active { "active" } else { "inactive" };
                        self.say(format!("promo {} is now {state}", clean(&p.code)));
                        self.model.apply(&Event::PromoUpdate(p));
                    }
                }
                Err(e) => {
                    self.complain(format!("promo {} not changed: {}", clean(&code), e.text()))
                }
            },
            Pending::UserList => match result {
                Ok(v) => {
                    if let Some(users) = v
                        .get("users")
                        .and_then(|u| serde_json::from_value::<Vec<UserInfo>>(u.clone()).ok())
                    {
                        self.users = users;
                        self.users_loaded = true;
                    }
                }
                Err(e) => self.complain(format!("user list: {}", e.text())),
            },
            Pending::Activity { older } => match result {
                Ok(v) => {
                    let entries: Vec<Activity> = v
                        .get("activity")
                        .and_then(|a| serde_json::from_value(a.clone()).ok())
                        .unwrap_or_default();
                    if older && entries.len() < ACTIVITY_PAGE {
                        self.activity_done = true;
                    }
                    self.add_activity(entries, older);
                }
                Err(e) => self.complain(format!("activity: {}", e.text())),
            },
        }
    }

    /// The answer to a form or a confirmation: close it and say what
    /// happened, or keep it open with the relay's reason.
    fn on_form_reply(
        &mut self,
        id: &str,
        result: Result<Value, RequestError>,
        confirm: Option<ConfirmKind>,
    ) {
        let open = match &self.overlay {
            Overlay::Form(f) => f.sending.as_deref() == Some(id),
            Overlay::Confirm(c) => c.sending.as_deref() == Some(id),
            _ => false,
        };
        let what = match &self.overlay {
            Overlay::Form(f) if open => Some(f.title.clone()),
            Overlay::Confirm(c) if open => Some(c.title.clone()),
            _ => None,
        };
        match result {
            Ok(v) => {
                let capacity = matches!(&self.overlay, Overlay::Form(f) if open && f.kind == FormKind::Capacity);
                let done = match confirm {
                    None if capacity => "capacity saved".into(),
                    Some(ConfirmKind::Revoke(user)) => {
                        self.refresh_users(true);
                        format!("sessions of {} revoked", clean(&user))
                    }
                    _ => self.apply_result(&v),
                };
                if open {
                    self.overlay = Overlay::None;
                }
                self.say(done);
            }
            Err(e) => {
                let text = e.text();
                match &mut self.overlay {
                    Overlay::Form(f) if open => {
                        f.sending = None;
                        f.error = Some(text);
                        if let Some(field) = &e.field {
                            f.focus_field(
                                field,
                                &[
                                    ("price_cents", "price"),
                                    ("prep_minutes", "prep"),
                                    ("percent_off", "discount"),
                                    ("amount_off_cents", "discount"),
                                    ("expires_at", "expires"),
                                    ("orders_per_slot", "slot"),
                                    ("extra_minutes", "extra"),
                                    ("paused_until", "until"),
                                ],
                            );
                        }
                    }
                    Overlay::Confirm(c) if open => {
                        c.sending = None;
                        c.lines.push(format!("Refused: {text}"));
                    }
                    _ => {
                        let what = what.unwrap_or_else(|| "request".into());
                        self.complain(format!("{what} refused: {text}"));
                    }
                }
            }
        }
    }

    /// Folds what an ack carries into the model (the event follows and
    /// changes nothing more) and says what happened.
    fn apply_result(&mut self, v: &Value) -> String {
        if let Some(a) = typed::<Announcement>(v, "announcement") {
            let text = format!(
                "announcement #{} sent to {}",
                a.id,
                audience_label(a.audience)
            );
            self.model.apply(&Event::Announcement(a));
            return text;
        }
        if let Some(p) = typed::<Promo>(v, "promo") {
            let text = format!("promo {} saved", clean(&p.code));
            self.model.apply(&Event::PromoUpdate(p));
            return text;
        }
        if let Some(o) = typed::<Order>(v, "order") {
            let text = format!("{} is {}", o.code, o.status);
            self.model.apply(&Event::OrderUpdate(OrderEvent {
                order_id: o.id,
                status: o.status,
                order: o,
            }));
            return text;
        }
        if let Some(item) = v.get("item") {
            let id = clean(item.get("id").and_then(Value::as_str).unwrap_or_default());
            if item.get("name").is_some() {
                self.apply_item_ack(MenuOp::Upsert, v);
                return format!("menu item {id} saved");
            }
            self.apply_item_ack(MenuOp::Remove, v);
            return format!("menu item {id} removed");
        }
        if let Some(u) = v.get("user") {
            let id = u.get("id").and_then(Value::as_str).unwrap_or_default();
            let text = format!("account {} created", clean(id));
            self.refresh_users(true);
            return text;
        }
        "done".into()
    }

    /// A `menu_update` ack's `item` (the whole item, or `{id}` after a
    /// remove) folded in as the event it announces.
    fn apply_item_ack(&mut self, op: MenuOp, v: &Value) {
        if let Some(item) = typed::<MenuChangeItem>(v, "item") {
            self.model
                .apply(&Event::MenuUpdate(MenuChange { op, item }));
        }
    }
}

/// The field `key` of an ack, read as `T`.
fn typed<T: serde::de::DeserializeOwned>(v: &Value, key: &str) -> Option<T> {
    v.get(key)
        .and_then(|x| serde_json::from_value::<T>(x.clone()).ok())
}
