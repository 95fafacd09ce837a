//! `kfood-sim`: drives whole flows against a relay — `demo` at a human pace
//! for people watching the crew and admin programs, `load` to measure the
//! system, `idle` to measure what idle sockets cost the relay.

mod conn;
mod demo;
mod kitchen;
mod load;
mod procstat;
mod report;
mod rush;
mod tokens;
mod wire;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "kfood-sim",
    version,
    about = "KfoodDelights flow driver for demos and load"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

/// Where the relay is and how to get tokens for the simulated users.
#[derive(Args, Clone)]
pub struct Target {
    /// Relay address (adds /ws unless present).
    #[arg(
        long,
        env = "KFOOD_RELAY",
        default_value = "ws://127.0.0.1:8080",
        global = true
    )]
    pub relay: String,
    /// Relay data directory, for `kfood-relay token issue` when KFOOD_JWT_SECRET is not set.
    #[arg(
        long,
        env = "KFOOD_DATA_DIR",
        default_value = "./kfood-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// The kfood-relay binary used to issue tokens (default: next to kfood-sim, else PATH).
    #[arg(long, global = true)]
    pub relay_bin: Option<PathBuf>,
    /// Trust this PEM certificate for wss:// relays.
    #[arg(long, global = true)]
    pub ca_cert: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Bots at a human pace: customers ordering, crew (or station and expo bots) working the queue.
    Demo(demo::DemoArgs),
    /// Real sockets under load; reports throughput, latencies, errors and the relay's cost.
    Load(load::LoadArgs),
    /// Opens authenticated sockets that stay idle, and reports the relay's memory.
    Idle(load::IdleArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        match cli.command {
            Cmd::Demo(a) => demo::run(a).await,
            Cmd::Load(a) => load::run(a).await,
            Cmd::Idle(a) => load::idle(a).await,
        }
    })
}
