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
    /// Minutes after which a pending or preparing ticket shows WARN
    /// (LATE is the order's own rule: past its ETA).
    #[arg(long, env = "KFOOD_WARN_AFTER_MIN", default_value_t = 10)]
    pub warn_after: u32,
    /// Run as a station screen for these stations (comma-separated, e.g.
    /// `grill,wok`); without it the board is the expo.
    #[arg(long, env = "KFOOD_STATION", value_delimiter = ',', value_parser = station)]
    pub station: Vec<String>,
}

/// A station name as DESIGN §13 spells them: `[a-z0-9_-]{1,24}`.
fn station(s: &str) -> Result<String, String> {
    let s = s.trim();
    kfood_protocol::menu::validate_station("station", s).map_err(|e| e.message)?;
    Ok(s.to_owned())
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
            stations: {
                // In the order given, each once (`grill,wok,grill`).
                let mut v = self.station.clone();
                let mut seen = std::collections::HashSet::new();
                v.retain(|s| seen.insert(s.clone()));
                v
            },
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
        ])
        .unwrap();
        let s = cli.settings();
        assert_eq!(s.relay, "ws://10.0.0.5:8080/ws");
        assert!(s.ascii && !s.bell);
        assert_eq!(s.warn_after_min, 5);
        assert!(s.stations.is_empty(), "no --station: the expo");
    }

    /// `--station grill,wok` names the stations; there is no second lateness flag.
    #[test]
    fn station_flag() {
        let cli = Cli::try_parse_from(["kfood-crew", "--station", "grill,wok"]).unwrap();
        assert_eq!(cli.settings().stations, ["grill", "wok"]);
        let cli = Cli::try_parse_from(["kfood-crew", "--station", "drinks"]).unwrap();
        assert_eq!(cli.settings().stations, ["drinks"]);
        assert!(Cli::try_parse_from(["kfood-crew", "--station", "Grill!"]).is_err());
        assert!(Cli::try_parse_from(["kfood-crew", "--late-after", "8"]).is_err());
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
