//! The interactive program: one event loop over the keyboard, the network
//! task's events and a one-second tick; it redraws only after a change.

use std::time::Duration;

use anyhow::Context;
use futures_util::StreamExt;
use kfood_protocol::client::Credentials;
use ratatui::crossterm::event::{Event, EventStream};
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::{App, AppEvent, Look, NetCmd};
use crate::cli::{Cli, Endpoints};
use crate::{auth, keys, net, ui};

/// Events from the network task waiting for the loop. A busy relay sends a
/// few hundred a second at most; when the queue is full the network task
/// waits, and the socket's own buffer absorbs the rest.
pub const EVENT_QUEUE: usize = 1024;
/// Requests waiting for the network task. An admin types far slower than
/// this drains; when full, the request is refused with a message.
pub const CMD_QUEUE: usize = 64;
/// Network events handled between two redraws, so a burst is drawn once.
const EVENTS_PER_FRAME: usize = 512;

/// Whether colour is allowed: not when `NO_COLOR` is set and non-empty.
pub fn color_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub async fn run(cli: &Cli, endpoints: Endpoints, offset: time::UtcOffset) -> anyhow::Result<i32> {
    // Credentials first: a password prompt needs the terminal as it is, and
    // a wrong password is better said before the screen takes over.
    let (token, credentials) = match (&cli.token, &cli.user) {
        (Some(t), _) if !t.trim().is_empty() => {
            (t.trim().to_owned(), Credentials::Token(t.trim().to_owned()))
        }
        (_, Some(user)) => {
            let password = auth::password_for(user)?;
            let reply = auth::login(&endpoints.http, user, &password, Duration::from_secs(15))
                .await
                .map_err(anyhow::Error::new)
                .context("cannot sign in")?;
            // Kept so the connection manager can sign in again when the token expires.
            let creds = Credentials::Password {
                username: user.clone(),
                password,
            };
            (reply.token, creds)
        }
        _ => anyhow::bail!(
            "no credentials: give --user NAME (password prompt or KFOOD_PASSWORD) or --token TOKEN (KFOOD_TOKEN)"
        ),
    };
    auth::check_admin(&token)?;
    let look = Look {
        ascii: cli.ascii,
        color: color_allowed(),
    };
    let mut app = App::new(
        endpoints.ws.clone(),
        look,
        kfood_protocol::time::now_ms(),
        offset,
    );
    app.user = auth::peek_token(&token);

    let (ev_tx, ev_rx) = mpsc::channel(EVENT_QUEUE);
    let (cmd_tx, cmd_rx) = mpsc::channel(CMD_QUEUE);
    let shutdown = CancellationToken::new();
    let net_task = tokio::spawn(net::run(
        endpoints.clone(),
        credentials,
        ev_tx,
        cmd_rx,
        shutdown.clone(),
    ));
    tracing::info!(relay = %endpoints.ws, "starting");

    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, &mut app, ev_rx, cmd_tx).await;
    ratatui::restore();
    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(2), net_task).await;
    result.map(|()| 0)
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    mut net_rx: mpsc::Receiver<AppEvent>,
    cmd_tx: mpsc::Sender<NetCmd>,
) -> anyhow::Result<()> {
    let mut keys_in = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut dirty = true;
    let mut net_open = true;
    loop {
        if dirty {
            let size = terminal.size()?;
            // Header, table header, borders and the two bottom lines.
            app.page_rows = usize::from(size.height.saturating_sub(7)).max(1);
            terminal.draw(|f| ui::render(app, f))?;
            dirty = false;
        }
        tokio::select! {
            ev = keys_in.next() => match ev {
                Some(Ok(Event::Key(key))) => {
                    app.tick(kfood_protocol::time::now_ms());
                    if let Some(action) = keys::key_to_action(&app.mode(), key) {
                        app.update(action);
                        dirty = true;
                    }
                }
                Some(Ok(Event::Resize(..))) => dirty = true,
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e).context("reading the keyboard"),
                None => return Ok(()),
            },
            ev = net_rx.recv(), if net_open => {
                let Some(ev) = ev else {
                    // The network task is gone; keep the screen for reading.
                    app.handle(AppEvent::Conn(crate::app::Conn::Offline {
                        reason: "the network task stopped".into(),
                    }));
                    dirty = true;
                    net_open = false;
                    continue;
                };
                app.tick(kfood_protocol::time::now_ms());
                app.handle(ev);
                for _ in 0..EVENTS_PER_FRAME {
                    match net_rx.try_recv() {
                        Ok(ev) => app.handle(ev),
                        Err(_) => break,
                    }
                }
                dirty = true;
            }
            _ = tick.tick() => {
                app.tick(kfood_protocol::time::now_ms());
                dirty = true;
            }
        }
        for cmd in std::mem::take(&mut app.outbox) {
            if let Err(e) = cmd_tx.try_send(cmd) {
                let NetCmd::Request { id, .. } = e.into_inner();
                app.handle(AppEvent::Reply {
                    id,
                    result: Err(crate::app::RequestError {
                        code: "busy".into(),
                        message: "too many requests waiting; try again".into(),
                        field: None,
                    }),
                });
            }
        }
        if app.quit {
            return Ok(());
        }
    }
}
