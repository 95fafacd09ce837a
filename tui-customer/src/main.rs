//! `kfood-customer`: flags, logging, signing in, then the program in the library.

use std::process::ExitCode;

use clap::Parser;
use kfood_customer::cli::Cli;
use kfood_customer::ui::View;
use kfood_protocol::term::{self, Theme};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Read before any thread starts: the local offset cannot be read safely
    // once other threads exist.
    let view = View {
        theme: Theme::from_env(cli.common.ascii),
        utc_offset: term::fmt::local_offset(),
    };
    let _log = match term::log::init(
        "kfood-customer",
        "kfood_customer",
        cli.common.log.as_deref(),
    ) {
        Ok(guard) => Some(guard),
        Err(e) => {
            eprintln!("kfood-customer: no log file: {e}");
            None
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kfood-customer: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let login = match runtime.block_on(kfood_customer::sign_in(&cli)) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(cause = %e, "sign-in failed");
            eprintln!("kfood-customer: {e}");
            return ExitCode::from(term::auth::EXIT_SIGN_IN);
        }
    };
    match runtime.block_on(kfood_customer::run(cli, login, view)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The reasons in one line, without a backtrace: this is for the customer.
            tracing::error!(cause = %format!("{e:#}"), "exiting");
            eprintln!("kfood-customer: {e:#}");
            ExitCode::FAILURE
        }
    }
}
