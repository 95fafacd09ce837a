//! Command-line flags: the common ones of every program (DESIGN §12,
//! [`CommonArgs`]) and the board's own.

use clap::Parser;

use kfood_protocol::client::RelayUrls;
use kfood_protocol::term::{CommonArgs, Theme};

use crate::app::Settings;

/// The kitchen queue of KfoodDelights: a live board of orders for the crew.
#[derive(Debug, Clone, Parser)]
#[command(name = "kfood-crew", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Do not ring the terminal bell on new orders (`b` toggles it).
    #[arg(long)]
    pub no_bell: bool,
    /// Do not keep the last known board on disk between runs.
    #[arg(long)]
    pub no_cache: bool,
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
        let theme = Theme::from_env(self.common.ascii);
        Settings {
            relay: RelayUrls::parse_list(&self.common.relay)
                .ok()
                .and_then(|l| l.into_iter().next())
                .map(|u| u.ws)
                .unwrap_or_else(|| self.common.relay.clone()),
            user_hint: self
                .common
                .user
                .clone()
                .unwrap_or_else(|| "device token".into()),
            warn_after_min: self.warn_after,
            late_after_min: self.late_after.max(self.warn_after),
            bell: !self.no_bell,
            color: theme.color,
            ascii: theme.ascii,
        }
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

    /// `--log` names a file and `--cache-ttl` takes an age, as in every program.
    #[test]
    fn common_flags() {
        let cli =
            Cli::try_parse_from(["kfood-crew", "--log", "/tmp/crew.log", "--cache-ttl", "2m"])
                .unwrap();
        assert_eq!(cli.common.log.as_deref(), Some("/tmp/crew.log".as_ref()));
        assert_eq!(cli.common.cache_ttl, std::time::Duration::from_secs(120));
    }
}
