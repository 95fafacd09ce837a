//! `kfood-sim`: drives whole flows against a relay — `demo` at a human pace
//! for people watching the crew and admin programs, `load` to measure the
//! system, `idle` to measure what idle sockets cost the relay.

mod conn;
mod demo;
mod failover;
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
    /// Relay address (adds /ws unless present), or a comma-separated list of
    /// the relays of one cluster: `load` and `idle` spread their users over
    /// them round robin, and every user fails over to the others in order.
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

impl Target {
    /// The relays of `--relay`, in order.
    pub fn relays(&self) -> Vec<String> {
        self.relay
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// `--relay` for the `k`-th simulated user: the list starting at relay
    /// `k` mod its length, so users are spread round robin over the relays
    /// and each still moves on to the others, in order, when its relay goes.
    pub fn relay_list_for(&self, k: usize) -> String {
        let relays = self.relays();
        if relays.is_empty() {
            return self.relay.clone();
        }
        let n = relays.len();
        (0..n)
            .map(|i| relays[(k + i) % n].as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn target(relay: &str) -> Target {
        Target {
            relay: relay.into(),
            data_dir: PathBuf::from("d"),
            relay_bin: None,
            ca_cert: None,
        }
    }

    /// Users are spread over the relays round robin, each keeping the others, in order, to fail over to.
    #[test]
    fn users_are_spread_round_robin() {
        let t = target("ws://a:1, ws://b:2,ws://c:3");
        assert_eq!(t.relays(), ["ws://a:1", "ws://b:2", "ws://c:3"]);
        assert_eq!(t.relay_list_for(0), "ws://a:1,ws://b:2,ws://c:3");
        assert_eq!(t.relay_list_for(1), "ws://b:2,ws://c:3,ws://a:1");
        assert_eq!(t.relay_list_for(5), "ws://c:3,ws://a:1,ws://b:2");
        assert_eq!(target("ws://x:9").relay_list_for(7), "ws://x:9");
    }
}
