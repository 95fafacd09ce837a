//! The interactive program: one event loop over the keyboard, the network
//! task's events and a one-second tick; it redraws only after a change.

use std::time::Duration;

use anyhow::Context;
use std::sync::Arc;

use kfood_protocol::client::login::{http_client, DEFAULT_LOGIN_TIMEOUT};
use kfood_protocol::client::{
    default_cache_dir, Client, ClientConfig, ConnState, DEFAULT_CONNECT_TIMEOUT,
};
use kfood_protocol::term::{self, CommonArgs, Input, Inputs, Program, SignIn, Stop, Theme};
use ratatui::DefaultTerminal;
use tokio::sync::{mpsc, Mutex};
use tokio_util::sync::CancellationToken;

use crate::app::{App, AppEvent, Look, NetCmd};
use crate::cli::Cli;
use crate::report::ReportSource;
use crate::{keys, net, ui};

/// Events from the network task waiting for the loop. A busy relay sends a
/// few hundred a second at most; when the queue is full the network task
/// waits, and the socket's own buffer absorbs the rest.
pub const EVENT_QUEUE: usize = 1024;
/// Requests waiting for the network task. An admin types far slower than
/// this drains; when full, the request is refused with a message.
pub const CMD_QUEUE: usize = 64;
/// How often the clocks and ages on screen move.
const TICK: Duration = Duration::from_secs(1);
/// Network events handled between two redraws, so a burst is drawn once.
const EVENTS_PER_FRAME: usize = 512;

/// The connection manager's configuration: the relay that answered the
/// sign-in, the admin role, `--ca-cert`, and the local cache with `--cache-ttl`.
pub fn client_config(args: &CommonArgs, login: &SignIn) -> ClientConfig {
    let mut config = login.client_config();
    config.ca_cert = args.ca_cert.clone();
    config.cache_dir = default_cache_dir();
    config.cache_ttl = args.cache_ttl;
    // The cache holds the whole model, alerts and promos included, and a
    // resume replays every durable event missed (system_alert and
    // promo_update among them): resuming from it is as good as a snapshot.
    // Metrics, activity and the user list are not durable and are fetched
    // afresh on every connection. One thing only a snapshot brings: an
    // announcement another admin wrote for customers or crew (§5 sends an
    // `announcement` to its audience); a resume misses it whether it
    // follows a restart or a dropped connection, so starting from a
    // snapshot would not close that gap.
    config.resume_from_cache = true;
    config
}

/// Signs in (a refusal is said before the screen takes over), connects
/// with the account's role and the local cache, and runs the screens until
/// `q`, a hang-up or SIGTERM.
pub async fn run(cli: &Cli, offset: time::UtcOffset) -> anyhow::Result<i32> {
    let args = &cli.common;
    let login = match term::sign_in(args, Program::Admin, None, DEFAULT_LOGIN_TIMEOUT).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(cause = %e, "sign-in failed");
            eprintln!("kfood-admin: {e}");
            return Ok(i32::from(term::auth::EXIT_SIGN_IN));
        }
    };
    let (client, events, state) = Client::connect(client_config(args, &login))?;
    let report = ReportSource {
        http: http_client(args.ca_cert.as_deref(), DEFAULT_CONNECT_TIMEOUT)?,
        relay: login.relay.clone(),
        credentials: login.credentials.clone(),
        token: login.token.clone(),
    };

    let theme = Theme::from_env(args.ascii);
    let look = Look {
        ascii: theme.ascii,
        color: theme.color,
    };
    let mut app = App::new(
        login.relay.ws.clone(),
        look,
        kfood_protocol::time::now_ms(),
        offset,
    );
    app.user = login.user.clone();

    let (ev_tx, ev_rx) = mpsc::channel(EVENT_QUEUE);
    let (cmd_tx, cmd_rx) = mpsc::channel(CMD_QUEUE);
    let shutdown = CancellationToken::new();
    let net_task = tokio::spawn(net::run(
        client,
        events,
        state,
        ev_tx,
        cmd_rx,
        Arc::new(Mutex::new(report)),
        shutdown.clone(),
    ));
    tracing::info!(relay = %login.relay, role = %login.role, "starting");

    let inputs = Inputs::new(ev_rx, TICK, Stop::new()?);
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, &mut app, inputs, cmd_tx).await;
    ratatui::restore();
    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(2), net_task).await;
    result.map(|()| 0)
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    mut inputs: Inputs<AppEvent>,
    cmd_tx: mpsc::Sender<NetCmd>,
) -> anyhow::Result<()> {
    let mut dirty = true;
    loop {
        if dirty {
            let size = terminal.size()?;
            // Header, table header, borders and the two bottom lines.
            app.page_rows = usize::from(size.height.saturating_sub(7)).max(1);
            terminal.draw(|f| ui::render(app, f))?;
            dirty = false;
        }
        match inputs.next().await.context("reading the keyboard")? {
            Input::Key(key) => {
                app.tick(kfood_protocol::time::now_ms());
                if let Some(action) = keys::key_to_action(&app.mode(), key) {
                    app.update(action);
                    dirty = true;
                }
            }
            Input::Resize => dirty = true,
            Input::Net(ev) => {
                app.tick(kfood_protocol::time::now_ms());
                app.handle(ev);
                for _ in 0..EVENTS_PER_FRAME {
                    match inputs.try_net() {
                        Some(ev) => app.handle(ev),
                        None => break,
                    }
                }
                dirty = true;
            }
            Input::NetClosed => {
                // The network task is gone; keep the screen for reading.
                app.handle(AppEvent::Conn(ConnState::Closed));
                dirty = true;
            }
            Input::Tick => {
                app.tick(kfood_protocol::time::now_ms());
                dirty = true;
            }
            Input::Stop(sig) => {
                tracing::info!(signal = sig, "stopping");
                return Ok(());
            }
            Input::Closed => return Ok(()),
        }
        for cmd in std::mem::take(&mut app.outbox) {
            if let Err(e) = cmd_tx.try_send(cmd) {
                let busy = "too many requests waiting; try again";
                app.handle(match e.into_inner() {
                    NetCmd::Request { id, .. } => AppEvent::Reply {
                        id,
                        result: Err(crate::app::RequestError {
                            code: "busy".into(),
                            message: busy.into(),
                            field: None,
                        }),
                    },
                    NetCmd::Report { .. } => AppEvent::Report(Err(busy.into())),
                });
            }
        }
        if app.quit {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use kfood_protocol::client::{Credentials, RelayUrls};
    use kfood_protocol::Role;

    /// The admin keeps the client cache like the other programs, aged by `--cache-ttl`, and trusts `--ca-cert`.
    #[test]
    fn the_cache_and_the_ca_reach_the_manager() {
        let cli = Cli::try_parse_from(["kfood-admin", "--cache-ttl", "90s", "--ca-cert", "ca.pem"])
            .unwrap();
        let login = SignIn {
            relay: RelayUrls::parse("ws://h:1").unwrap(),
            other_relays: Vec::new(),
            credentials: Credentials::Token("t".into()),
            token: "t".into(),
            user: None,
            role: Role::Admin,
        };
        let c = client_config(&cli.common, &login);
        assert_eq!(c.cache_ttl, Duration::from_secs(90));
        assert_eq!(c.cache_dir, default_cache_dir());
        assert_eq!(c.ca_cert.as_deref(), Some("ca.pem".as_ref()));
        assert_eq!((c.role, c.relay.ws.as_str()), (Role::Admin, "ws://h:1/ws"));
        assert!(
            c.resume_from_cache,
            "the cache's model is whole: resume from it"
        );
    }
}
