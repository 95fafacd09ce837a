//! `kfood-customer`: ordering from the terminal, from the menu to delivered.
//!
//! Keys become [`action::Action`]s ([`keys`]), actions and the relay's
//! messages change the [`app::App`] (the relay's data as a
//! `kfood_protocol::Model`, plus the customer's own state), and
//! [`ui::render`] draws it. The network lives in its own task ([`net`]) and
//! talks to the event loop through two bounded channels. [`checkout`] is the
//! one place an order is priced and placed.
//!
//! Dependencies run one way: `action` depends on nothing of the program;
//! `keys` and `net` on `action`; `app` (the state) on `action`, `cart` and
//! `checkout`; `ui` on `app`. No state module imports `ui`.

pub mod action;
pub mod app;
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
use kfood_protocol::client::login::DEFAULT_LOGIN_TIMEOUT;
use kfood_protocol::client::{Client, ClientConfig};
use kfood_protocol::term::auth::Registration;
use kfood_protocol::term::{self, Input, Inputs, Program, SignIn, SignInError, Stop};
use kfood_protocol::time::now_ms;
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;

use crate::action::{Action, AppEvent, NetCmd};
use crate::app::App;
use crate::cli::Cli;
use crate::ui::View;

/// How often the clock on screen (ETAs, reconnect countdowns) moves, and how
/// often a changed cart is handed to the cache.
const TICK: Duration = Duration::from_secs(1);

/// The directory for the local cache.
pub fn cache_dir() -> PathBuf {
    kfood_protocol::client::default_cache_dir()
        .unwrap_or_else(|| std::env::temp_dir().join("kfood"))
}

/// Settles who the customer is, before the terminal is taken over:
/// `--token`, or `--user` (and `--register`) with a password from
/// `KFOOD_PASSWORD` or a prompt. A refusal, or an account that is not a
/// customer's, reads as a plain message and exit status
/// [`term::auth::EXIT_SIGN_IN`]; the connection manager keeps the password
/// to log in again when the token expires.
pub async fn sign_in(cli: &Cli) -> Result<SignIn, SignInError> {
    let registration = cli.register.then(|| Registration {
        name: cli.name.clone(),
    });
    term::sign_in(
        &cli.common,
        Program::Customer,
        registration,
        DEFAULT_LOGIN_TIMEOUT,
    )
    .await
}

/// The connection manager's configuration: the relay that answered the
/// sign-in, the customer's role, `--ca-cert`, and the cache with `--cache-ttl`.
pub fn client_config(cli: &Cli, login: &SignIn) -> ClientConfig {
    let mut config = login
        .client_config()
        .with_cache_dir(cli.cache_dir.clone().unwrap_or_else(cache_dir));
    config.ca_cert = cli.common.ca_cert.clone();
    config.cache_ttl = cli.common.cache_ttl;
    config
}

/// The whole program after the flags are read, logging is set up and the
/// customer is signed in.
pub async fn run(cli: Cli, login: SignIn, view: View) -> anyhow::Result<()> {
    let (handle, client_events, state) = Client::connect(client_config(&cli, &login))?;

    let mut app = App::new(&login.relay.ws, now_ms());
    app.user = login.user;
    let (cmd_tx, cmd_rx) = mpsc::channel(net::CMD_QUEUE);
    let (ev_tx, ev_rx) = mpsc::channel(net::EVENT_QUEUE);
    let net_task = tokio::spawn(net::run(handle, client_events, state, cmd_rx, ev_tx));

    let inputs = Inputs::new(ev_rx, TICK, Stop::new()?);
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, &mut app, &view, inputs, &cmd_tx).await;
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
    mut inputs: Inputs<AppEvent>,
    commands: &mpsc::Sender<NetCmd>,
) -> anyhow::Result<()> {
    terminal.draw(|f| ui::render(app, view, f))?;
    loop {
        let redraw = match inputs.next().await.context("reading the terminal")? {
            Input::Key(k) => match keys::key_to_action(&app.mode(), k) {
                Some(a) => {
                    app.update(a);
                    true
                }
                None => false,
            },
            Input::Resize => true,
            Input::Net(ev) => {
                app.on_event(ev);
                true
            }
            // The screen stays for reading; quitting closes the rest.
            Input::NetClosed => false,
            Input::Tick => {
                app.update(Action::Tick(now_ms()));
                if app.dirty {
                    app.dirty = false;
                    app.outbox.push(NetCmd::SaveCart(app.saved_cart()));
                }
                true
            }
            Input::Stop(sig) => {
                tracing::info!(signal = sig, "stopping");
                break;
            }
            Input::Closed => break,
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
