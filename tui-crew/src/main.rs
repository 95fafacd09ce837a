//! `kfood-crew`: flags, logging to a file, signing in, then the board.

use std::process::ExitCode;

use clap::Parser;
use kfood_crew::{Cli, EXIT_SIGN_IN};
use kfood_protocol::term;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The local offset can only be read safely before other threads exist.
    let offset = term::fmt::local_offset();
    let _log = match term::log::init("kfood-crew", "kfood_crew", cli.common.log.as_deref()) {
        Ok(guard) => Some(guard),
        Err(e) => {
            eprintln!("kfood-crew: no log file: {e}");
            None
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kfood-crew: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Credentials are settled before the screen is taken over, so a
    // password prompt and a refusal read like any other.
    let login = match runtime.block_on(kfood_crew::sign_in(&cli)) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(cause = %e, "sign-in failed");
            eprintln!("kfood-crew: {e}");
            return ExitCode::from(EXIT_SIGN_IN);
        }
    };
    match runtime.block_on(kfood_crew::run(cli, login, offset)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The terminal is already restored: a plain sentence for the cook.
            tracing::error!(cause = %format!("{e:#}"), "exiting");
            eprintln!("kfood-crew: {e:#}");
            ExitCode::FAILURE
        }
    }
}
