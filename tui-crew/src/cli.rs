//! Command-line flags (DESIGN §12) and the relay addresses derived from them.

use std::path::PathBuf;

use clap::Parser;

use kfood_protocol::client::RelayUrls;

use crate::app::Settings;

/// The kitchen queue of KfoodDelights: a live board of orders for the crew.
#[derive(Debug, Clone, Parser)]
#[command(name = "kfood-crew", version, about, long_about = None)]
pub struct Cli {
    /// Relay address; `/ws` is added unless present, and the HTTP address is
    /// derived from it.
    #[arg(long, env = "KFOOD_RELAY", default_value = "ws://127.0.0.1:8080")]
    pub relay: String,
    /// Log in as this user; the password is asked for (or read from
    /// KFOOD_PASSWORD). Takes precedence over a token.
    #[arg(long)]
    pub user: Option<String>,
    /// A device token, as printed by `kfood-relay token issue --role crew`.
    #[arg(long, env = "KFOOD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Trust this PEM certificate for a wss:// relay with a private certificate.
    #[arg(long, env = "KFOOD_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
    /// Write the log here (never onto the screen); default: a file in the
    /// user's cache directory, or the temporary directory.
    #[arg(long, env = "KFOOD_LOG")]
    pub log: Option<PathBuf>,
    /// Draw borders with ASCII characters only.
    #[arg(long)]
    pub ascii: bool,
    /// Do not ring the terminal bell on new orders (`b` toggles it).
    #[arg(long)]
    pub no_bell: bool,
    /// Do not keep the last known board on disk between runs.
    #[arg(long)]
    pub no_cache: bool,
    /// Seconds after which a board restored from the cache is drawn stale
    /// until the relay confirms it.
    #[arg(long, env = "KFOOD_CACHE_TTL", default_value_t = 300)]
    pub cache_ttl: u64,
    /// Minutes after which a pending or preparing ticket shows WARN.
    #[arg(long, env = "KFOOD_WARN_AFTER_MIN", default_value_t = 10)]
    pub warn_after: u32,
    /// Minutes after which a pending or preparing ticket shows LATE.
    #[arg(long, env = "KFOOD_LATE_AFTER_MIN", default_value_t = 20)]
    pub late_after: u32,
}

impl Cli {
    /// The settings the board is drawn with.
    pub fn settings(&self) -> Settings {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Settings {
            relay: RelayUrls::parse(&self.relay)
                .map(|u| u.ws)
                .unwrap_or_else(|_| self.relay.clone()),
            user_hint: self.user.clone().unwrap_or_else(|| "device token".into()),
            warn_after_min: self.warn_after,
            late_after_min: self.late_after.max(self.warn_after),
            bell: !self.no_bell,
            color: !no_color,
            ascii: self.ascii,
        }
    }

    /// Where the log goes when `--log` is not given.
    pub fn log_path(&self) -> PathBuf {
        if let Some(p) = &self.log {
            return p.clone();
        }
        let dir = kfood_protocol::client::default_cache_dir()
            .filter(|d| std::fs::create_dir_all(d).is_ok())
            .unwrap_or_else(std::env::temp_dir);
        dir.join("kfood-crew.log")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse() {
        let cli = Cli::try_parse_from([
            "kfood-crew",
            "--relay",
            "ws://10.0.0.5:8080",
            "--token",
            "abc",
            "--ascii",
            "--no-bell",
            "--warn-after",
            "5",
            "--late-after",
            "8",
        ])
        .unwrap();
        let s = cli.settings();
        assert_eq!(s.relay, "ws://10.0.0.5:8080/ws");
        assert!(s.ascii && !s.bell);
        assert_eq!((s.warn_after_min, s.late_after_min), (5, 8));
    }
}
