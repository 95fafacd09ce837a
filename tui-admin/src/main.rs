//! kfood-admin: flags, logging to a file, then the library's `run`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use kfood_admin::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The local offset can only be read safely while the process has one thread.
    let offset = time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC);
    let _log_guard = match logging(cli.log.as_deref()) {
        Ok(g) => Some(g),
        Err(e) => {
            eprintln!("kfood-admin: cannot open the log file: {e:#}");
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

/// Logs go to a file, never onto the screen: `--log`, else the user's cache
/// directory, else the temporary directory.
fn logging(path: Option<&Path>) -> anyhow::Result<tracing_appender::non_blocking::WorkerGuard> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => default_log_path(),
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&dir)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("KFOOD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .init();
    Ok(guard)
}

fn default_log_path() -> PathBuf {
    dirs::cache_dir()
        .map(|d| d.join("kfood"))
        .unwrap_or_else(std::env::temp_dir)
        .join("kfood-admin.log")
}
