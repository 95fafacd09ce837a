//! The flags every program takes (DESIGN §12), as one clap struct that each
//! program puts in its own with `#[command(flatten)]`. They are global, so
//! they may stand before or after a subcommand.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::client::{ClientError, RelayUrls, DEFAULT_CACHE_TTL};

/// The relay a program talks to when told nothing.
pub const DEFAULT_RELAY: &str = "ws://127.0.0.1:8080";

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct CommonArgs {
    /// The relay: ws://HOST:PORT (wss:// with TLS); /ws is added when
    /// missing. A comma-separated list names the relays of one cluster.
    #[arg(
        long,
        env = "KFOOD_RELAY",
        default_value = DEFAULT_RELAY,
        value_name = "URL",
        global = true
    )]
    pub relay: String,

    /// Log in as this user; the password is asked for (or read from KFOOD_PASSWORD).
    #[arg(long, value_name = "NAME", global = true)]
    pub user: Option<String>,

    /// Connect with this token instead of logging in.
    #[arg(
        long,
        env = "KFOOD_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        global = true
    )]
    pub token: Option<String>,

    /// Trust this PEM certificate for a relay with a private TLS certificate.
    #[arg(long, env = "KFOOD_CA_CERT", value_name = "FILE", global = true)]
    pub ca_cert: Option<PathBuf>,

    /// Draw with plain ASCII for terminals without box-drawing glyphs.
    #[arg(long, global = true)]
    pub ascii: bool,

    /// Write the log here, never onto the screen (default: a file in the
    /// user's cache directory). The level comes from KFOOD_LOG_LEVEL or RUST_LOG.
    #[arg(long, env = "KFOOD_LOG", value_name = "FILE", global = true)]
    pub log: Option<PathBuf>,

    /// Age after which what is shown from the local cache is marked stale
    /// until the relay confirms it: seconds, or 90s, 5m, 1h.
    #[arg(
        long,
        env = "KFOOD_CACHE_TTL",
        value_name = "AGE",
        default_value = "5m",
        value_parser = parse_age,
        global = true
    )]
    pub cache_ttl: Duration,
}

impl Default for CommonArgs {
    fn default() -> Self {
        CommonArgs {
            relay: DEFAULT_RELAY.into(),
            user: None,
            token: None,
            ca_cert: None,
            ascii: false,
            log: None,
            cache_ttl: DEFAULT_CACHE_TTL,
        }
    }
}

impl CommonArgs {
    /// Every relay of `--relay`, in order.
    pub fn relays(&self) -> Result<Vec<RelayUrls>, ClientError> {
        RelayUrls::parse_list(&self.relay)
    }

    /// `--token`, when given and not blank.
    pub fn token(&self) -> Option<&str> {
        self.token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }
}

/// `300` (seconds), `90s`, `5m`, `1h`.
pub fn parse_age(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not an age: use seconds, or 90s, 5m, 1h"))?;
    let secs = match unit {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        _ => return Err(format!("`{s}` is not an age: use seconds, or 90s, 5m, 1h")),
    };
    n.checked_mul(secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{s}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Prog {
        #[command(flatten)]
        common: CommonArgs,
        #[command(subcommand)]
        cmd: Option<Cmd>,
    }

    #[derive(Debug, clap::Subcommand)]
    enum Cmd {
        Status,
    }

    /// The defaults are DESIGN §12's; the flags parse before or after a subcommand.
    #[test]
    fn flags_and_defaults() {
        let p = Prog::try_parse_from(["p"]).unwrap();
        assert_eq!(p.common.relay, DEFAULT_RELAY);
        assert_eq!(p.common.cache_ttl, Duration::from_secs(300));
        let p = Prog::try_parse_from([
            "p",
            "status",
            "--relay",
            "ws://a:1,ws://b:2",
            "--cache-ttl",
            "90",
            "--ascii",
            "--log",
            "/tmp/x.log",
            "--ca-cert",
            "ca.pem",
            "--token",
            "  ",
        ])
        .unwrap();
        assert!(matches!(p.cmd, Some(Cmd::Status)));
        assert_eq!(p.common.relays().unwrap().len(), 2);
        assert_eq!(p.common.cache_ttl, Duration::from_secs(90));
        assert!(p.common.ascii);
        assert_eq!(p.common.log, Some(PathBuf::from("/tmp/x.log")));
        assert_eq!(p.common.token(), None, "a blank token is no token");
    }

    /// Cache ages take seconds or a unit; anything else is refused.
    #[test]
    fn ages() {
        assert_eq!(parse_age("300"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_age("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_age("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_age("soon").is_err());
        assert!(parse_age("5d").is_err());
        assert!(parse_age("").is_err());
    }
}
