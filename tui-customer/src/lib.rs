//! `kfood-customer`: ordering from the terminal, from the menu to delivered.
//!
//! Keys become [`app::Action`]s, actions and the relay's messages change the
//! [`app::App`], and [`ui::render`] draws it. The network lives in its own
//! task ([`net`]) and talks to the event loop through two bounded channels.

pub mod app;
pub mod auth;
pub mod cart;
pub mod checkout;
pub mod cli;
pub mod keys;
pub mod net;
pub mod ui;

#[cfg(test)]
mod tests;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use futures_util::StreamExt;
use kfood_protocol::client::{Client, ClientConfig, Credentials, RelayUrls};
use kfood_protocol::time::now_ms;
use kfood_protocol::{Role, UserRef};
use ratatui::crossterm::event::{Event, EventStream, KeyEventKind};
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;

use crate::app::{Action, App, AppEvent};
use crate::cli::Cli;
use crate::net::NetCmd;
use crate::ui::View;

/// How often the clock on screen (ETAs, reconnect countdowns) moves, and how
/// often a changed cart is handed to the cache.
const TICK: Duration = Duration::from_secs(1);

/// Who is connecting, with what.
pub struct Login {
    pub credentials: Credentials,
    pub user: Option<UserRef>,
}

/// The directory for the local cache and the default log file.
pub fn cache_dir() -> PathBuf {
    kfood_protocol::client::default_cache_dir()
        .unwrap_or_else(|| std::env::temp_dir().join("kfood"))
}

/// Gets credentials from the flags: `--token`, or `--user` (and
/// `--register`) with a password from `KFOOD_PASSWORD` or a prompt. A
/// password is tried here, before the terminal is taken over, so that a
/// refusal reads as a plain message; the connection manager then keeps the
/// password to log in again when the token expires.
pub async fn login(cli: &Cli, urls: &RelayUrls) -> anyhow::Result<Login> {
    if let Some(user) = &cli.user {
        let password = match std::env::var("KFOOD_PASSWORD") {
            Ok(p) if !p.is_empty() => p,
            _ => {
                let p = rpassword::prompt_password(format!("Password for {user}: "))
                    .context("cannot read the password")?;
                if cli.register {
                    let again = rpassword::prompt_password("The same password again: ")
                        .context("cannot read the password")?;
                    anyhow::ensure!(p == again, "the two passwords differ");
                }
                p
            }
        };
        if cli.register {
            kfood_protocol::messages::validate_username(user)
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            kfood_protocol::messages::validate_password(&password)
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        }
        let register = cli.register.then(|| cli.name.clone());
        let reply = auth::login(
            &urls.http,
            cli.ca_cert.as_deref(),
            user,
            &password,
            register,
        )
        .await?;
        anyhow::ensure!(
            reply.user.role == Role::Customer,
            "{user} is a {} account: kfood-customer is for customers",
            reply.user.role
        );
        return Ok(Login {
            credentials: Credentials::Password {
                username: user.clone(),
                password,
            },
            user: Some(reply.user),
        });
    }
    match &cli.token {
        Some(token) if !token.trim().is_empty() => Ok(Login {
            credentials: Credentials::Token(token.trim().to_owned()),
            user: auth::peek_token(token.trim()),
        }),
        _ => anyhow::bail!(
            "say who you are: --user NAME (add --register for a new account) or --token TOKEN"
        ),
    }
}

/// The whole program after the flags are read and logging is set up.
pub async fn run(cli: Cli, view: View) -> anyhow::Result<()> {
    let urls = RelayUrls::parse(&cli.relay)?;
    let login = login(&cli, &urls).await?;

    let mut config = ClientConfig::new(&cli.relay, login.credentials, Role::Customer)?
        .with_cache_dir(cli.cache_dir.clone().unwrap_or_else(cache_dir));
    config.ca_cert = cli.ca_cert.clone();
    let (handle, client_events, state) = Client::connect(config)?;

    let mut app = App::new(&urls.ws, now_ms());
    app.user = login.user;
    let (cmd_tx, cmd_rx) = mpsc::channel(net::CMD_QUEUE);
    let (ev_tx, ev_rx) = mpsc::channel(net::EVENT_QUEUE);
    let net_task = tokio::spawn(net::run(handle, client_events, state, cmd_rx, ev_tx));

    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, &mut app, &view, ev_rx, &cmd_tx).await;
    ratatui::restore();

    // The cart as it stands goes to the cache; closing the command channel
    // then lets the network task close the connection and write the cache.
    let _ = cmd_tx.send(NetCmd::SaveCart(app.saved_cart())).await;
    drop(cmd_tx);
    let _ = tokio::time::timeout(Duration::from_secs(3), net_task).await;
    result
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    view: &View,
    mut net_events: mpsc::Receiver<AppEvent>,
    commands: &mpsc::Sender<NetCmd>,
) -> anyhow::Result<()> {
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    terminal.draw(|f| ui::render(app, view, f))?;
    loop {
        let redraw = tokio::select! {
            ev = keys.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => {
                    match keys::key_to_action(&app.mode(), k) {
                        Some(a) => {
                            app.update(a);
                            true
                        }
                        None => false,
                    }
                }
                Some(Ok(Event::Resize(..))) => true,
                Some(Ok(_)) => false,
                Some(Err(e)) => return Err(e).context("reading the terminal"),
                None => break,
            },
            Some(ev) = net_events.recv() => {
                app.on_event(ev);
                true
            }
            _ = tick.tick() => {
                app.update(Action::Tick(now_ms()));
                if app.dirty {
                    app.dirty = false;
                    app.outbox.push(NetCmd::SaveCart(app.saved_cart()));
                }
                true
            }
        };
        for cmd in app.outbox.drain(..) {
            if commands.send(cmd).await.is_err() {
                anyhow::bail!("the network task stopped");
            }
        }
        if app.quit {
            break;
        }
        if app.bell {
            app.bell = false;
            let mut out = std::io::stdout();
            let _ = out.write_all(b"\x07").and_then(|_| out.flush());
        }
        if redraw {
            terminal.draw(|f| ui::render(app, view, f))?;
        }
    }
    Ok(())
}
