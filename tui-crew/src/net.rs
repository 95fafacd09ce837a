//! The network task: the shared connection manager
//! ([`kfood_protocol::client`]) turned into the board's [`AppEvent`]s, and
//! the board's [`NetCmd`]s turned into requests. The manager reconnects with
//! backoff, resumes with `since`, falls back to HTTP polling, keeps a local
//! cache, and holds the cook's requests in a bounded queue while the relay is
//! out of reach; every crew request is safe to resend (a bump to a status
//! the order already has is acked without a second change).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use kfood_protocol::client::{
    default_cache_dir, Client, ClientConfig, ClientError, ClientEvent, ConnState, Credentials,
    RelayUrls,
};
use kfood_protocol::messages::LoginReply;
use kfood_protocol::sanitize::clean_line;
use kfood_protocol::Role;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::app::{AppEvent, ConnStatus, NetCmd, ReplyError};
use crate::cli::Cli;

/// Requests that may wait for the relay (queued while offline, or in
/// flight). A cook bumps a few tickets a minute: 256 is an outage of hours.
/// Past it a request is refused at once and its ticket shows the relay's
/// last word again, rather than memory growing without end.
pub const QUEUE_CAP: usize = 256;

/// How the network task reaches the relay.
#[derive(Debug, Clone)]
pub struct NetOptions {
    pub relay: String,
    pub ca_cert: Option<PathBuf>,
    pub cache: bool,
    pub cache_ttl: Duration,
}

impl Cli {
    pub fn net_options(&self) -> NetOptions {
        NetOptions {
            relay: self.relay.clone(),
            ca_cert: self.ca_cert.clone(),
            cache: !self.no_cache,
            cache_ttl: Duration::from_secs(self.cache_ttl),
        }
    }
}

/// Who the terminal logs in as.
#[derive(Debug, Clone)]
pub struct Login {
    pub credentials: Credentials,
}

impl Login {
    /// Credentials from `--user` (the password prompted, or from
    /// `KFOOD_PASSWORD`; checked against the relay at once so that a typo
    /// is said plainly before the board takes the screen) or from `--token`
    /// / `KFOOD_TOKEN`.
    pub async fn resolve(cli: &Cli) -> anyhow::Result<Login> {
        if let Some(user) = &cli.user {
            let password = match std::env::var("KFOOD_PASSWORD") {
                Ok(p) if !p.is_empty() => p,
                _ => rpassword::prompt_password(format!("Password for {user}: "))
                    .context("reading the password")?,
            };
            let urls = RelayUrls::parse(&cli.relay).map_err(|e| anyhow::anyhow!("{e}"))?;
            let reply = login(&urls.http, user, &password).await?;
            if !reply.user.role.is_staff() {
                bail!(
                    "{user} is a {} account; kfood-crew needs a crew account",
                    reply.user.role
                );
            }
            return Ok(Login {
                credentials: Credentials::Password {
                    username: user.clone(),
                    password,
                },
            });
        }
        match &cli.token {
            Some(t) if !t.trim().is_empty() => Ok(Login {
                credentials: Credentials::Token(t.trim().to_owned()),
            }),
            _ => bail!(
                "give --user NAME (password prompted) or --token TOKEN / KFOOD_TOKEN \
                 (from `kfood-relay token issue --role crew --name station-1`)"
            ),
        }
    }
}

/// `POST /api/login`, to check a password before the board starts.
pub async fn login(http_base: &str, user: &str, password: &str) -> anyhow::Result<LoginReply> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let resp = client
        .post(format!("{http_base}/api/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .with_context(|| format!("cannot reach the relay at {http_base}"))?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let msg = body["error"]["message"]
            .as_str()
            .map(clean_line)
            .unwrap_or_else(|| status.to_string());
        bail!("login refused: {msg}");
    }
    serde_json::from_value(body).context("the relay's login answer")
}

/// The board's view of the manager's state.
pub fn conn_status(s: &ConnState) -> ConnStatus {
    match s {
        ConnState::Connecting => ConnStatus::Connecting,
        ConnState::Live { rtt_ms } => ConnStatus::Live { rtt_ms: *rtt_ms },
        ConnState::Reconnecting {
            attempt,
            next_try_in_ms,
        } => ConnStatus::Reconnecting {
            attempt: *attempt,
            next_in_ms: *next_try_in_ms,
        },
        ConnState::Polling => ConnStatus::Polling,
        ConnState::Offline | ConnState::Closed => ConnStatus::Offline,
        ConnState::AuthExpired => ConnStatus::AuthExpired,
    }
}

fn reply_error(e: &ClientError) -> ReplyError {
    match e.refusal() {
        Some(p) => ReplyError {
            code: p.code.as_str().to_owned(),
            message: p.message.clone(),
        },
        None => ReplyError {
            code: match e {
                ClientError::QueueFull(_) => "queue_full",
                ClientError::AuthExpired => "auth_expired",
                ClientError::Closed => "closed",
                _ => "network",
            }
            .to_owned(),
            message: e.to_string(),
        },
    }
}

/// Runs the connection until `shutdown`, or until the board stops listening.
pub async fn run(
    opts: NetOptions,
    login: Login,
    mut cmds: mpsc::Receiver<NetCmd>,
    app: mpsc::Sender<AppEvent>,
    shutdown: CancellationToken,
) {
    let mut config = match ClientConfig::new(&opts.relay, login.credentials, Role::Crew) {
        Ok(c) => c,
        Err(e) => {
            let _ = app.send(AppEvent::Fatal(e.to_string())).await;
            return;
        }
    };
    config.queue_cap = QUEUE_CAP;
    config.ca_cert = opts.ca_cert;
    config.cache_ttl = opts.cache_ttl;
    if opts.cache {
        config.cache_dir = default_cache_dir();
    }
    let (client, mut events, mut state) = match Client::connect(config) {
        Ok(c) => c,
        Err(e) => {
            let _ = app.send(AppEvent::Fatal(e.to_string())).await;
            return;
        }
    };
    let replies = tokio_util::task::TaskTracker::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            c = cmds.recv() => {
                let Some(NetCmd::Request { id, kind, data }) = c else { break };
                match client.submit(kind, data) {
                    Ok(pending) => {
                        let app = app.clone();
                        replies.spawn(async move {
                            let result = pending.await.map(|env| env.data).map_err(|e| reply_error(&e));
                            let _ = app.send(AppEvent::Reply { id, result }).await;
                        });
                    }
                    Err(e) => {
                        warn!(cause = %e, "request not queued");
                        let ev = AppEvent::Reply { id, result: Err(reply_error(&e)) };
                        if app.send(ev).await.is_err() {
                            break;
                        }
                    }
                }
            }
            ev = events.recv() => {
                let Some(ev) = ev else { break };
                let out = match ev {
                    ClientEvent::Cached(c) => AppEvent::Cached {
                        orders: c.entry.model.orders.into_values().collect(),
                        menu: c.entry.model.menu,
                    },
                    ClientEvent::Welcome(w) => {
                        info!(user = %w.user.id, head_seq = w.head_seq, "connected");
                        AppEvent::Welcome { user: w.user.name }
                    }
                    ClientEvent::Snapshot(env) | ClientEvent::Event(env) | ClientEvent::Notice(env) => AppEvent::Net(env),
                    ClientEvent::Synced { .. } => continue,
                    ClientEvent::Error(e) => AppEvent::Notice(format!("relay: {}", e.message)),
                };
                if app.send(out).await.is_err() {
                    break;
                }
            }
            r = state.changed() => {
                if r.is_err() {
                    break;
                }
                let s = conn_status(&state.borrow_and_update());
                if app.send(AppEvent::Conn(s)).await.is_err() {
                    break;
                }
            }
        }
    }
    // Writes the cache and says goodbye to the relay.
    let _ = tokio::time::timeout(Duration::from_secs(2), client.close()).await;
    replies.close();
}
