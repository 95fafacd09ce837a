//! kfood-admin: watch and steer the whole restaurant from a shell.
//!
//! `app` holds the state (what the relay says as one `kfood_protocol::Model`,
//! plus the program's own UI state) and every change to it, `keys` maps keys to
//! actions, `ui` draws the state, `net` talks to the relay in its own task,
//! `oneshot` holds the `status` and `announce` commands for scripts, and
//! `report` the day's report (`kfood-admin report`, and the Dashboard's `R`).

// Nothing the relay sends may take the program down.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod app;
pub mod charts;
pub mod cli;
pub mod form;
pub mod keys;
pub mod net;
pub mod oneshot;
pub mod report;
pub mod tui;
pub mod ui;

use cli::{Cli, Command};

/// Runs what the command line asks for; returns the exit status.
pub async fn run(cli: Cli, offset: time::UtcOffset) -> anyhow::Result<i32> {
    match cli.command.clone() {
        Some(Command::Status { json }) => Ok(oneshot::status(&cli.common, json).await),
        Some(Command::Announce {
            audience,
            kind,
            expires_at,
            text,
        }) => Ok(
            oneshot::announce(&cli.common, audience.into(), kind.into(), text, expires_at).await,
        ),
        Some(Command::Report { date, json, csv }) => {
            let format = match (json, csv) {
                (true, _) => report::Format::Json,
                (_, true) => report::Format::Csv,
                _ => report::Format::Table,
            };
            Ok(report::command(&cli.common, date, format).await)
        }
        None => tui::run(&cli, offset).await,
    }
}
