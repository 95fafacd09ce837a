//! The non-interactive commands for shells and scripts: `kfood-admin status`
//! prints the dashboard figures once, `kfood-admin announce` sends one
//! announcement. Each makes one attempt over one socket and exits.

use std::time::Duration;

use anyhow::anyhow;
use futures_util::{SinkExt, StreamExt};
use kfood_protocol::envelope::split_frame;
use kfood_protocol::messages::{
    kind, Announce, Announcement, AnnouncementKind, Audience, Authenticated, MetricsSample,
    Severity, Snapshot, SystemAlert,
};
use kfood_protocol::{Envelope, Role};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::app::{audience_label, money};
use crate::auth::{self, LoginError};
use crate::cli::Endpoints;
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

impl From<LoginError> for Failure {
    fn from(e: LoginError) -> Failure {
        match e {
            LoginError::Unreachable(e) | LoginError::Refused(e) => Failure::Unreachable(e),
        }
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One authenticated socket and the messages read past `authenticated`.
struct Session {
    ws: Ws,
    welcome: Authenticated,
    inbox: std::collections::VecDeque<Envelope>,
    deadline: Instant,
}

impl Session {
    async fn open(
        endpoints: &Endpoints,
        token: &str,
        deadline: Instant,
    ) -> Result<Session, Failure> {
        let unreachable = |e: anyhow::Error| Failure::Unreachable(e);
        let (ws, _) =
            tokio::time::timeout_at(deadline, tokio_tungstenite::connect_async(&endpoints.ws))
                .await
                .map_err(|_| unreachable(anyhow!("no answer from {} in time", endpoints.ws)))?
                .map_err(|e| {
                    unreachable(anyhow!("cannot reach the relay at {}: {e}", endpoints.ws))
                })?;
        let mut s = Session {
            ws,
            welcome: Authenticated {
                user: kfood_protocol::UserRef {
                    id: String::new(),
                    name: String::new(),
                    role: Role::Admin,
                },
                session: String::new(),
                heartbeat_ms: 0,
                head_seq: 0,
                log_id: String::new(),
                tz: String::new(),
            },
            inbox: Default::default(),
            deadline,
        };
        let auth = json!({"type": kind::AUTHENTICATION, "userType": "admin", "token": token});
        s.ws.send(Message::text(auth.to_string()))
            .await
            .map_err(|e| unreachable(anyhow!("the relay closed the socket: {e}")))?;
        let first = s.next().await?;
        match first.kind.as_str() {
            kind::AUTHENTICATED => {
                s.welcome = first.parse_data().map_err(|e| {
                    unreachable(anyhow!("the relay's welcome is not understood: {e}"))
                })?;
                Ok(s)
            }
            kind::ERROR => {
                let e = crate::app::RequestError::from_data(&first.data);
                Err(unreachable(anyhow!(
                    "the relay refused the credentials: {}",
                    e.text()
                )))
            }
            other => Err(unreachable(anyhow!(
                "the relay answered the login with `{}`",
                crate::app::clean(other)
            ))),
        }
    }

    /// The next message, batches split; fails at the deadline or on close.
    async fn next(&mut self) -> Result<Envelope, Failure> {
        loop {
            if let Some(e) = self.inbox.pop_front() {
                return Ok(e);
            }
            let msg = tokio::time::timeout_at(self.deadline, self.ws.next())
                .await
                .map_err(|_| Failure::Unreachable(anyhow!("the relay did not answer in time")))?;
            match msg {
                Some(Ok(Message::Text(t))) => match split_frame(&t) {
                    Ok(v) => self.inbox.extend(v),
                    Err(e) => tracing::warn!(cause = %e, "unreadable frame from the relay"),
                },
                Some(Ok(Message::Close(f))) => {
                    let why = f
                        .map(|f| format!("{} {}", u16::from(f.code), f.reason))
                        .unwrap_or_else(|| "without a reason".into());
                    return Err(Failure::Unreachable(anyhow!(
                        "the relay closed the connection ({why})"
                    )));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    return Err(Failure::Unreachable(anyhow!("the connection broke: {e}")))
                }
                None => {
                    return Err(Failure::Unreachable(anyhow!(
                        "the relay closed the connection"
                    )))
                }
            }
        }
    }

    async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_millis(500), self.ws.close(None)).await;
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
pub async fn fetch_status(
    endpoints: &Endpoints,
    token: Option<&str>,
    user: Option<&str>,
) -> Result<Status, Failure> {
    let deadline = Instant::now() + STATUS_TIMEOUT;
    let left = deadline.saturating_duration_since(Instant::now());
    let token = auth::token_from(token, user, &endpoints.http, left).await?;
    let mut s = Session::open(endpoints, &token, deadline).await?;
    let mut alerts: Option<Vec<SystemAlert>> = None;
    let mut metrics: Option<MetricsSample> = None;
    while alerts.is_none() || metrics.is_none() {
        let env = s.next().await?;
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
    s.close().await;
    let mut alerts: Vec<SystemAlert> = alerts.unwrap_or_default();
    alerts.retain(|a| !a.resolved);
    alerts.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.id.cmp(&a.id)));
    Ok(Status {
        relay: endpoints.ws.clone(),
        user: welcome.user,
        head_seq: welcome.head_seq,
        metrics: metrics.unwrap_or_default(),
        alerts_open: count_alerts(&alerts),
        alerts,
    })
}

/// `kfood-admin status [--json]`: prints and returns the exit status.
pub async fn status(
    endpoints: &Endpoints,
    token: Option<&str>,
    user: Option<&str>,
    as_json: bool,
) -> i32 {
    match fetch_status(endpoints, token, user).await {
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
                println!("{}", json!({"relay": endpoints.ws, "error": f.message()}));
            }
            eprintln!("kfood-admin: {}", f.message());
            EXIT_UNREACHABLE
        }
    }
}

/// Sends one announcement and waits for the relay to store it.
pub async fn send_announcement(
    endpoints: &Endpoints,
    token: Option<&str>,
    user: Option<&str>,
    req: Announce,
) -> Result<Announcement, Failure> {
    let deadline = Instant::now() + ANNOUNCE_TIMEOUT;
    let left = deadline.saturating_duration_since(Instant::now());
    let token = auth::token_from(token, user, &endpoints.http, left).await?;
    let mut s = Session::open(endpoints, &token, deadline).await?;
    let id = format!("announce-{}", uuid::Uuid::new_v4());
    let data = serde_json::to_value(&req).unwrap_or(Value::Null);
    let env = Envelope::new(kind::ANNOUNCE, data).with_id(id.clone());
    s.ws.send(Message::text(env.to_json()))
        .await
        .map_err(|e| Failure::Unreachable(anyhow!("the relay closed the socket: {e}")))?;
    loop {
        let reply = s.next().await?;
        if reply.reference() != Some(id.as_str()) {
            continue;
        }
        let result = if reply.kind == kind::ACK {
            reply
                .data
                .get("announcement")
                .and_then(|a| serde_json::from_value::<Announcement>(a.clone()).ok())
                .ok_or_else(|| Failure::Refused(anyhow!("the relay's ack carries no announcement")))
        } else {
            let e = crate::app::RequestError::from_data(&reply.data);
            Err(Failure::Refused(anyhow!(
                "the relay refused the announcement: {}",
                e.text()
            )))
        };
        s.close().await;
        return result;
    }
}

/// `kfood-admin announce`: returns the exit status.
pub async fn announce(
    endpoints: &Endpoints,
    token: Option<&str>,
    user: Option<&str>,
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
    match send_announcement(endpoints, token, user, req).await {
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
