//! `kfood-crew`: flags, logging to a file, then the board.

use std::process::ExitCode;

use clap::Parser;
use kfood_crew::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The local offset can only be read safely before other threads exist.
    let offset = time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC);
    let log_path = cli.log_path();
    let dir = log_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| ".".into());
    let file = log_path
        .file_name()
        .map(std::ffi::OsStr::to_os_string)
        .unwrap_or_else(|| "kfood-crew.log".into());
    let appender = tracing_appender::rolling::never(dir, file);
    let (writer, _guard) = tracing_appender::non_blocking(appender);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KFOOD_LOG_LEVEL")
                .unwrap_or_else(|_| "kfood_crew=info,kfood_protocol=info,warn".into()),
        )
        .with_writer(writer)
        .with_ansi(false)
        .init();
    let result = tokio::runtime::Runtime::new()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(kfood_crew::run(cli, offset)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The terminal is already restored: a plain sentence for the cook.
            tracing::error!(cause = %format!("{e:#}"), "exiting");
            eprintln!("kfood-crew: {e:#}");
            ExitCode::FAILURE
        }
    }
}
