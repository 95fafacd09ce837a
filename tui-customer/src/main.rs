//! `kfood-customer`: flags, logging, then the program in the library.

use clap::Parser;
use kfood_customer::cli::Cli;
use kfood_customer::ui::View;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The reasons in one line, without a backtrace: this is for the customer.
            eprintln!("kfood-customer: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Read before any thread starts: the local offset cannot be read safely
    // once the runtime's threads exist.
    let utc_offset = time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC);
    let view = View {
        color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        ascii: cli.ascii,
        utc_offset,
    };
    let log_path = cli
        .log
        .clone()
        .unwrap_or_else(|| kfood_customer::cache_dir().join("kfood-customer.log"));
    let _guard = init_logging(&log_path);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(kfood_customer::run(cli, view))
}

/// Logs to a file, never onto the screen; without a writable file, no log.
fn init_logging(path: &std::path::Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    std::fs::create_dir_all(dir).ok()?;
    let name = path.file_name()?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(name))
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("KFOOD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .init();
    Some(guard)
}
