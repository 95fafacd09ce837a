//! The non-interactive commands for shells and scripts: `kfood-admin status`
//! prints the dashboard figures once, `kfood-admin announce` sends one
//! announcement. Each signs in, opens one connection through the shared
//! connection manager (with `--ca-cert`), gives it a deadline, and exits.

use std::time::Duration;

use anyhow::anyhow;
use kfood_protocol::client::{
    Client, ClientConfig, ClientError, ClientEvent, ClientHandle, ConnState,
};
use kfood_protocol::messages::{
    kind, Announce, Announcement, AnnouncementKind, Audience, Authenticated, MetricsSample,
    Severity, Snapshot, SystemAlert,
};
use kfood_protocol::term::{self, CommonArgs, Program, SignInError};
use kfood_protocol::{Envelope, Request};
use serde::Serialize;
use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::app::{audience_label, money};
use crate::ui::{bytes, num, uptime};

/// `status` gives up after this long: one attempt, then a verdict.
pub const STATUS_TIMEOUT: Duration = Duration::from_secs(5);
/// `announce` waits this long for the relay to store the announcement.
pub const ANNOUNCE_TIMEOUT: Duration = Duration::from_secs(10);

/// Exit statuses of `status` (DESIGN §12).
pub const EXIT_OK: i32 = 0;
pub const EXIT_CRITICAL: i32 = 1;
pub const EXIT_UNREACHABLE: i32 = 2;

/// Why a one-shot command failed.
#[derive(Debug)]
pub enum Failure {
    /// Could not reach the relay, or it refused the credentials: exit 2.
    Unreachable(anyhow::Error),
    /// The relay refused the request itself: exit 1.
    Refused(anyhow::Error),
}

impl Failure {
    pub fn code(&self) -> i32 {
        match self {
            Failure::Unreachable(_) => EXIT_UNREACHABLE,
            Failure::Refused(_) => EXIT_CRITICAL,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Failure::Unreachable(e) | Failure::Refused(e) => format!("{e:#}"),
        }
    }
}

impl From<SignInError> for Failure {
    fn from(e: SignInError) -> Failure {
        Failure::Unreachable(anyhow!(e))
    }
}

/// One authenticated connection and what it has handed over so far.
struct Session {
    client: ClientHandle,
    events: mpsc::Receiver<ClientEvent>,
    state: watch::Receiver<ConnState>,
    welcome: Authenticated,
    relay: String,
    deadline: Instant,
}

impl Session {
    /// Signs in, connects, and waits for the relay's welcome.
    async fn open(args: &CommonArgs, deadline: Instant) -> Result<Session, Failure> {
        let left = deadline.saturating_duration_since(Instant::now());
        let login = term::sign_in(args, Program::Admin, None, left).await?;
        // The token from the sign-in: one login, and nothing retried after a refusal.
        let creds = kfood_protocol::client::Credentials::Token(login.token.clone());
        let mut config = ClientConfig::for_relay(login.relay.clone(), creds, login.role)
            .with_other_relays(login.other_relays.iter().cloned());
        config.ca_cert = args.ca_cert.clone();
        config.connect_timeout = left;
        let (client, events, state) =
            Client::connect(config).map_err(|e| Failure::Unreachable(anyhow!(e)))?;
        let mut s = Session {
            client,
            events,
            state,
            welcome: Authenticated {
                user: login.user.unwrap_or_else(|| kfood_protocol::UserRef {
                    id: String::new(),
                    name: String::new(),
                    role: login.role,
                }),
                session: String::new(),
                heartbeat_ms: 0,
                head_seq: 0,
                log_id: String::new(),
                tz: String::new(),
            },
            relay: login.relay.ws.clone(),
            deadline,
        };
        loop {
            if let ClientEvent::Welcome(w) = s.next().await? {
                s.welcome = w;
                return Ok(s);
            }
        }
    }

    /// The next event from the relay; fails at the deadline, or when the
    /// relay refuses the credentials.
    async fn next(&mut self) -> Result<ClientEvent, Failure> {
        let relay = self.relay.clone();
        let deadline = self.deadline;
        let wait = async {
            loop {
                tokio::select! {
                    ev = self.events.recv() => {
                        return ev.ok_or_else(|| anyhow!("the connection to {relay} ended"));
                    }
                    changed = self.state.changed() => {
                        if changed.is_err() {
                            return Err(anyhow!("the connection to {relay} ended"));
                        }
                        match *self.state.borrow_and_update() {
                            ConnState::AuthExpired => {
                                return Err(anyhow!("the relay refused the credentials"));
                            }
                            // One attempt: the manager would retry, a script wants a verdict.
                            ConnState::Reconnecting { .. } | ConnState::Offline | ConnState::Closed => {
                                return Err(anyhow!("cannot reach the relay at {relay}"));
                            }
                            _ => {}
                        }
                    }
                }
            }
        };
        tokio::time::timeout_at(deadline, wait)
            .await
            .map_err(|_| {
                let state = self.state.borrow().clone();
                Failure::Unreachable(if state.is_connected() {
                    anyhow!("the relay at {relay} did not answer in time")
                } else {
                    let state = term::status::conn_text(&state);
                    anyhow!("cannot reach the relay at {relay} in time ({state})")
                })
            })?
            .map_err(Failure::Unreachable)
    }

    async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_millis(500), self.client.close()).await;
    }
}

/// What `status` prints, and its JSON form.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub relay: String,
    pub user: kfood_protocol::UserRef,
    pub head_seq: u64,
    #[serde(flatten)]
    pub metrics: MetricsSample,
    pub alerts_open: AlertCounts,
    pub alerts: Vec<SystemAlert>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct AlertCounts {
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
}

impl Status {
    pub fn exit_code(&self) -> i32 {
        if self.alerts_open.critical > 0 {
            EXIT_CRITICAL
        } else {
            EXIT_OK
        }
    }

    pub fn text(&self) -> String {
        let m = &self.metrics;
        let by = |s: &str| m.orders_by_status.get(s).copied().unwrap_or(0);
        let a = &self.alerts_open;
        let mut out = format!(
            "KfoodDelights relay {}\n\
             Orders today      {}\n\
             Revenue today     {}\n\
             By status         pending {}  preparing {}  ready {}  delivered {}  cancelled {}\n\
             Prep time         avg {} min  p90 {} min\n\
             Late orders       {}{}\n\
             Payment failures  {} today\n\
             Connections       customer {}  crew {}  admin {}\n\
             Uptime            {}\n\
             Messages/s        in {}  out {}\n\
             Fan-out           p50 {} ms  p99 {} ms\n\
             Store             {}\n\
             Open alerts       critical {}  warning {}  info {}\n",
            crate::app::clean(&self.relay),
            m.orders_today,
            money(m.revenue_today_cents),
            by("pending"),
            by("preparing"),
            by("ready"),
            by("delivered"),
            by("cancelled"),
            num(m.prep_min_avg),
            num(m.prep_min_p90),
            m.late_orders,
            if m.late_orders > 0 { " LATE" } else { "" },
            m.payment_failures_today,
            m.connections.customer,
            m.connections.crew,
            m.connections.admin,
            uptime(m.uptime_s),
            num(m.msgs_in_per_s),
            num(m.msgs_out_per_s),
            num(m.fanout_ms.p50),
            num(m.fanout_ms.p99),
            bytes(m.store_bytes),
            a.critical,
            a.warning,
            a.info,
        );
        for al in &self.alerts {
            let sev = match al.severity {
                Severity::Critical => "CRITICAL",
                Severity::Warning => "warning",
                Severity::Info => "info",
            };
            out.push_str(&format!(
                "  #{} {sev}: {}\n",
                al.id,
                crate::app::clean(&al.text)
            ));
        }
        out
    }
}

pub fn count_alerts(alerts: &[SystemAlert]) -> AlertCounts {
    let mut c = AlertCounts::default();
    for a in alerts.iter().filter(|a| !a.resolved) {
        match a.severity {
            Severity::Critical => c.critical += 1,
            Severity::Warning => c.warning += 1,
            Severity::Info => c.info += 1,
        }
    }
    c
}

/// Connects, reads the snapshot and the first `metrics` sample.
pub async fn fetch_status(args: &CommonArgs) -> Result<Status, Failure> {
    let deadline = Instant::now() + STATUS_TIMEOUT;
    let mut s = Session::open(args, deadline).await?;
    let mut alerts: Option<Vec<SystemAlert>> = None;
    let mut metrics: Option<MetricsSample> = None;
    while alerts.is_none() || metrics.is_none() {
        let env = match s.next().await? {
            ClientEvent::Snapshot(env) | ClientEvent::Event(env) | ClientEvent::Notice(env) => env,
            _ => continue,
        };
        match env.kind.as_str() {
            kind::SNAPSHOT => {
                let snap: Snapshot = env.parse_data().map_err(|e| {
                    Failure::Unreachable(anyhow!("the relay's snapshot is not understood: {e}"))
                })?;
                alerts = Some(snap.alerts.unwrap_or_default());
            }
            kind::SYSTEM_ALERT => {
                if let (Some(list), Ok(a)) = (alerts.as_mut(), env.parse_data::<SystemAlert>()) {
                    list.retain(|x| x.id != a.id);
                    if !a.resolved {
                        list.push(a);
                    }
                }
            }
            kind::METRICS => {
                let mut m: MetricsSample = env.parse_data().map_err(|e| {
                    Failure::Unreachable(anyhow!("the relay's metrics are not understood: {e}"))
                })?;
                m.history = None;
                metrics = Some(m);
            }
            _ => {}
        }
    }
    let welcome = s.welcome.clone();
    let relay = s.relay.clone();
    s.close().await;
    let mut alerts: Vec<SystemAlert> = alerts.unwrap_or_default();
    alerts.retain(|a| !a.resolved);
    alerts.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.id.cmp(&a.id)));
    Ok(Status {
        relay,
        user: welcome.user,
        head_seq: welcome.head_seq,
        metrics: metrics.unwrap_or_default(),
        alerts_open: count_alerts(&alerts),
        alerts,
    })
}

/// `kfood-admin status [--json]`: prints and returns the exit status.
pub async fn status(args: &CommonArgs, as_json: bool) -> i32 {
    match fetch_status(args).await {
        Ok(s) => {
            if as_json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&s).unwrap_or_else(|_| "{}".into())
                );
            } else {
                print!("{}", s.text());
            }
            s.exit_code()
        }
        Err(f) => {
            if as_json {
                println!("{}", json!({"relay": args.relay, "error": f.message()}));
            }
            eprintln!("kfood-admin: {}", f.message());
            EXIT_UNREACHABLE
        }
    }
}

/// Sends one announcement and waits for the relay to store it.
pub async fn send_announcement(args: &CommonArgs, req: Announce) -> Result<Announcement, Failure> {
    let deadline = Instant::now() + ANNOUNCE_TIMEOUT;
    let s = Session::open(args, deadline).await?;
    let reply = tokio::time::timeout_at(deadline, s.client.send(&Request::Announce(req))).await;
    let result = match reply {
        Err(_) => Err(Failure::Unreachable(anyhow!(
            "the relay did not store the announcement in time"
        ))),
        Ok(Ok(ack)) => announcement_of(&ack)
            .ok_or_else(|| Failure::Refused(anyhow!("the relay's ack carries no announcement"))),
        Ok(Err(e @ ClientError::Refused(_))) => Err(Failure::Refused(anyhow!(
            "the relay refused the announcement: {}",
            crate::net::request_error(&e).text()
        ))),
        Ok(Err(e)) => Err(Failure::Unreachable(anyhow!(e))),
    };
    s.close().await;
    result
}

fn announcement_of(ack: &Envelope) -> Option<Announcement> {
    let a = ack.data.get("announcement")?;
    serde_json::from_value(a.clone()).ok()
}

/// `kfood-admin announce`: returns the exit status.
pub async fn announce(
    args: &CommonArgs,
    audience: Audience,
    kind: AnnouncementKind,
    text: String,
    expires_at: Option<String>,
) -> i32 {
    let expires_at = match crate::cli::parse_expiry(
        expires_at.as_deref().unwrap_or(""),
        kfood_protocol::time::now_ms(),
    ) {
        Ok(e) => e,
        Err(why) => {
            eprintln!("kfood-admin: --expires-at: {why}");
            return EXIT_CRITICAL;
        }
    };
    let req = Announce {
        audience,
        kind,
        text,
        expires_at,
    };
    match send_announcement(args, req).await {
        Ok(a) => {
            println!(
                "announcement #{} sent to {}",
                a.id,
                audience_label(a.audience)
            );
            EXIT_OK
        }
        Err(f) => {
            eprintln!("kfood-admin: {}", f.message());
            f.code()
        }
    }
}
