//! kfood-admin: flags, logging to a file, then the library's `run`.

use std::process::ExitCode;

use clap::Parser;
use kfood_admin::cli::Cli;
use kfood_protocol::term;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The local offset can only be read safely while the process has one thread.
    let offset = term::fmt::local_offset();
    let _log = match term::log::init("kfood-admin", "kfood_admin", cli.common.log.as_deref()) {
        Ok(guard) => Some(guard),
        Err(e) => {
            eprintln!("kfood-admin: no log file: {e}");
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
            eprintln!("kfood-admin: cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(kfood_admin::run(cli, offset)) {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(e) => {
            tracing::error!(cause = %format!("{e:#}"), "stopped");
            eprintln!("kfood-admin: {e:#}");
            ExitCode::from(2)
        }
    }
}
