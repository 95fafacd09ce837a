//! `kfood-crew`: the kitchen screens of KfoodDelights, made for small
//! ruggedized terminals over SSH. The expo is one board of whole tickets in
//! three columns (pending, preparing, ready); a station screen
//! (`--station grill`) shows only its stations' lines, marked done one by
//! one. Every action is one or two keys; a dropped connection leaves the
//! board up, marked stale, and the cook's changes are queued and sent when
//! it comes back.
//!
//! Keys become [`app::Action`]s ([`keys`]), actions and the relay's messages
//! change [`app::App`], and [`ui::render`] draws it; the network lives in its
//! own task ([`net`]) and talks to the event loop through bounded channels.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod app;
pub mod cli;
pub mod keys;
pub mod net;
pub mod ui;

#[cfg(test)]
mod app_tests;
#[cfg(test)]
mod kitchen_tests;
#[cfg(test)]
mod kitchen_ui_tests;
#[cfg(test)]
mod later_tests;
#[cfg(test)]
mod options_ui_tests;
#[cfg(test)]
mod testutil;
#[cfg(test)]
mod ui_tests;

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::mpsc;

use kfood_protocol::client::login::DEFAULT_LOGIN_TIMEOUT;
use kfood_protocol::term::{self, Input, Inputs, Program, SignIn, SignInError, Stop};

use crate::app::{App, AppEvent, NetCmd};
pub use crate::cli::Cli;
pub use kfood_protocol::term::auth::EXIT_SIGN_IN;

/// Capacity of the channel from the network task to the event loop. A burst
/// of events larger than this waits in the network task (which holds the
/// socket's own buffers) until the loop has drawn; nothing is dropped.
pub const APP_EVENTS: usize = 256;
/// Capacity of the channel of requests to the network task. A cook presses
/// keys far slower than the task drains this; when full (the task stuck),
/// the loop waits rather than lose a bump.
pub const NET_COMMANDS: usize = 64;
/// How often the ages on the tickets tick.
const TICK: Duration = Duration::from_secs(1);

/// Settles who the board runs as, before the screen is taken over: a
/// refused password or a customer account is said plainly, and the program
/// exits with [`EXIT_SIGN_IN`].
pub async fn sign_in(cli: &Cli) -> Result<SignIn, SignInError> {
    term::sign_in(&cli.common, Program::Crew, None, DEFAULT_LOGIN_TIMEOUT).await
}

/// Runs the board until the cook quits (or a hang-up or SIGTERM).
pub async fn run(cli: Cli, login: SignIn, utc_offset: time::UtcOffset) -> anyhow::Result<()> {
    let settings = cli.settings();
    let config = net::client_config(&cli.net_options(), &login);
    let (app_tx, app_rx) = mpsc::channel(APP_EVENTS);
    let (cmd_tx, cmd_rx) = mpsc::channel(NET_COMMANDS);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let net_task = tokio::spawn(net::run(config, cmd_rx, app_tx, shutdown.clone()));

    let mut app = App::new(settings, kfood_protocol::time::now_ms());
    app.utc_offset = utc_offset;
    if let Some(u) = &login.user {
        app.user = Some(kfood_protocol::sanitize::clean_line(&u.name));
    }
    let inputs = Inputs::new(app_rx, TICK, Stop::new()?);
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, &mut app, inputs, cmd_tx).await;
    ratatui::restore();
    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(2), net_task).await;
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    mut inputs: Inputs<AppEvent>,
    cmd_tx: mpsc::Sender<NetCmd>,
) -> anyhow::Result<()> {
    let mut dirty = true;
    loop {
        for cmd in app.outbox.drain(..) {
            cmd_tx.send(cmd).await.context("the network task stopped")?;
        }
        if app.quit {
            return Ok(());
        }
        if dirty {
            terminal.draw(|f| ui::render(app, f))?;
            dirty = false;
        }
        if app.bells_due > 0 {
            if app.bell {
                let out = terminal.backend_mut();
                out.write_all(b"\x07")?;
                out.flush()?;
            }
            app.bells_due = 0;
        }
        match inputs.next().await.context("reading the terminal")? {
            Input::Key(k) => {
                app.now = kfood_protocol::time::now_ms();
                for k in keys::split_alt(k) {
                    if let Some(a) = keys::key_to_action(app.screen(), &app.mode, k) {
                        app.update(a);
                        dirty = true;
                    }
                }
            }
            Input::Resize => dirty = true,
            Input::Net(ev) => {
                app.now = kfood_protocol::time::now_ms();
                app.handle(ev);
                // Take whatever else is waiting before drawing once.
                while let Some(ev) = inputs.try_net() {
                    app.handle(ev);
                }
                dirty = true;
            }
            Input::NetClosed => anyhow::bail!("the network task stopped"),
            Input::Stop(sig) => {
                tracing::info!(signal = sig, "stopping");
                return Ok(());
            }
            Input::Closed => return Ok(()),
            Input::Tick => dirty |= app.tick(kfood_protocol::time::now_ms()),
        }
    }
}
