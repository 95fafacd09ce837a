//! The network task: the shared connection manager
//! ([`kfood_protocol::client`]) turned into the board's [`AppEvent`]s, and
//! the board's [`NetCmd`]s turned into requests. The manager reconnects with
//! backoff, resumes with `since`, falls back to HTTP polling, keeps a local
//! cache, and holds the cook's requests in a bounded queue while the relay is
//! out of reach; every crew request is safe to resend (a bump to a status
//! the order already has is acked without a second change).

use std::time::Duration;

use kfood_protocol::client::{
    default_cache_dir, Client, ClientConfig, ClientError, ClientEvent, ConnState,
};
use kfood_protocol::term::SignIn;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::app::{AppEvent, NetCmd, ReplyError};
use crate::cli::Cli;

/// Requests that may wait for the relay (queued while offline, or in
/// flight). A cook bumps a few tickets a minute: 256 is an outage of hours.
/// Past it a request is refused at once and its ticket shows the relay's
/// last word again, rather than memory growing without end.
pub const QUEUE_CAP: usize = 256;

/// How the network task reaches the relay, besides who signs in.
#[derive(Debug, Clone)]
pub struct NetOptions {
    pub ca_cert: Option<std::path::PathBuf>,
    pub cache: bool,
    pub cache_ttl: Duration,
}

impl Cli {
    pub fn net_options(&self) -> NetOptions {
        NetOptions {
            ca_cert: self.common.ca_cert.clone(),
            cache: !self.no_cache,
            cache_ttl: self.common.cache_ttl,
        }
    }
}

/// The manager's configuration: the relay that answered the sign-in, the
/// account's own role (an admin runs the board as admin), the cache.
pub fn client_config(opts: &NetOptions, login: &SignIn) -> ClientConfig {
    let mut config = login.client_config();
    config.queue_cap = QUEUE_CAP;
    config.ca_cert = opts.ca_cert.clone();
    config.cache_ttl = opts.cache_ttl;
    if opts.cache {
        config.cache_dir = default_cache_dir();
    }
    config
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
    config: ClientConfig,
    mut cmds: mpsc::Receiver<NetCmd>,
    app: mpsc::Sender<AppEvent>,
    shutdown: CancellationToken,
) {
    let (client, mut events, mut state) = match Client::connect(config) {
        Ok(c) => c,
        Err(e) => {
            let _ = app.send(AppEvent::Fatal(e.to_string())).await;
            return;
        }
    };
    let replies = tokio_util::task::TaskTracker::new();
    let mut relay = client.watch_relay();
    // The relay that answered the sign-in is named at once, then every move.
    relay.mark_changed();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            c = cmds.recv() => {
                let Some(NetCmd::Request { id, request }) = c else { break };
                match client.submit_request(&request) {
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
                    ClientEvent::Cached(c) => AppEvent::Cached(Box::new(c.entry.model)),
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
            Ok(()) = relay.changed() => {
                let ws = relay.borrow_and_update().ws.clone();
                if app.send(AppEvent::Relay(ws)).await.is_err() {
                    break;
                }
            }
            r = state.changed() => {
                if r.is_err() {
                    break;
                }
                let s: ConnState = state.borrow_and_update().clone();
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use kfood_protocol::client::{Credentials, RelayUrls};
    use kfood_protocol::Role;

    /// `--cache-ttl`, `--ca-cert` and the account's role reach the manager; `--no-cache` turns the cache off.
    #[test]
    fn flags_reach_the_manager() {
        let cli = Cli::try_parse_from(["kfood-crew", "--cache-ttl", "2m", "--ca-cert", "ca.pem"])
            .unwrap();
        let login = SignIn {
            relay: RelayUrls::parse("wss://h").unwrap(),
            other_relays: Vec::new(),
            credentials: Credentials::Token("t".into()),
            token: "t".into(),
            user: None,
            role: Role::Admin,
        };
        let c = client_config(&cli.net_options(), &login);
        assert_eq!(c.cache_ttl, Duration::from_secs(120));
        assert_eq!(c.ca_cert.as_deref(), Some("ca.pem".as_ref()));
        assert_eq!(c.role, Role::Admin, "an admin runs the board as admin");
        assert_eq!(c.cache_dir, default_cache_dir());
        let cli = Cli::try_parse_from(["kfood-crew", "--no-cache"]).unwrap();
        assert_eq!(client_config(&cli.net_options(), &login).cache_dir, None);
    }
}
