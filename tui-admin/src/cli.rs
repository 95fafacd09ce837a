//! Command-line flags (DESIGN §12), the relay's two addresses, and the
//! expiry shorthand (`30m`, `2h`, `1d`) the announcement and promo forms share.

use clap::{Parser, Subcommand, ValueEnum};
use kfood_protocol::messages::{AnnouncementKind, Audience};
use kfood_protocol::term::CommonArgs;
use kfood_protocol::time::Millis;

/// Watch and steer the whole restaurant from a shell: live dashboard and
/// charts, every order, system alerts, the activity log, the menu,
/// announcements, promo codes, users and sessions.
#[derive(Debug, Clone, Parser)]
#[command(name = "kfood-admin", version)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Print the dashboard figures once. Exit status: 0 healthy, 1 a
    /// critical alert is open, 2 the relay cannot be reached or refuses the
    /// credentials.
    Status {
        /// Print JSON alone on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Print the day's report: orders, sales, refunds, items,
    /// hours, prep times, cancellations. Exit status: 0 printed, 1 the relay
    /// refused the request (a bad date), 2 the relay cannot be reached or
    /// refuses the credentials.
    Report {
        /// The day, YYYY-MM-DD in the restaurant's time zone (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<String>,
        /// Print the report's JSON alone on stdout.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Print CSV: one section per part (summary, orders_by_status,
        /// items, hours, cancellations), separated by blank lines.
        #[arg(long)]
        csv: bool,
    },
    /// Send one announcement and exit when the relay has stored it.
    Announce {
        /// Who sees it.
        #[arg(long, value_enum, default_value_t = AudienceArg::All)]
        audience: AudienceArg,
        /// What it is.
        #[arg(long, value_enum, default_value_t = KindArg::Announcement)]
        kind: KindArg,
        /// When it stops showing: RFC 3339, or from now as 30m, 2h, 1d.
        #[arg(long, value_name = "WHEN")]
        expires_at: Option<String>,
        /// The text (at most 1000 characters).
        text: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AudienceArg {
    All,
    Customer,
    Crew,
    Admin,
}

impl From<AudienceArg> for Audience {
    fn from(a: AudienceArg) -> Audience {
        match a {
            AudienceArg::All => Audience::All,
            AudienceArg::Customer => Audience::Customer,
            AudienceArg::Crew => Audience::Crew,
            AudienceArg::Admin => Audience::Admin,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Announcement,
    Maintenance,
    Promotion,
}

impl From<KindArg> for AnnouncementKind {
    fn from(k: KindArg) -> AnnouncementKind {
        match k {
            KindArg::Announcement => AnnouncementKind::Announcement,
            KindArg::Maintenance => AnnouncementKind::Maintenance,
            KindArg::Promotion => AnnouncementKind::Promotion,
        }
    }
}

/// The relay's socket and API addresses, derived from `--relay` by the
/// shared connection manager.
pub use kfood_protocol::client::RelayUrls as Endpoints;

/// An expiry as typed by a person: empty (never), `30m`, `2h`, `1d`, `90s`,
/// or an RFC 3339 timestamp. Returns the RFC 3339 form the relay takes.
pub fn parse_expiry(input: &str, now: Millis) -> Result<Option<String>, String> {
    let s = input.trim();
    if s.is_empty() || s == "never" {
        return Ok(None);
    }
    if let Some(ms) = kfood_protocol::time::parse_ms(s) {
        if ms <= now {
            return Err("that time has already passed".into());
        }
        return Ok(Some(kfood_protocol::time::format_ms(ms)));
    }
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: i64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a time: use 30m, 2h, 1d or RFC 3339"))?;
    let unit_ms = match unit.trim() {
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("`{s}` is not a time: use 30m, 2h, 1d or RFC 3339")),
    };
    if n <= 0 || n > 3650 * 86_400 {
        return Err(format!("`{s}` is out of range"));
    }
    Ok(Some(kfood_protocol::time::format_ms(now + n * unit_ms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, ws: &str, http: &str) {
        let e = Endpoints::parse(input).unwrap();
        assert_eq!((e.ws.as_str(), e.http.as_str()), (ws, http), "{input}");
    }

    #[test]
    fn relay_addresses() {
        check(
            "ws://127.0.0.1:8080",
            "ws://127.0.0.1:8080/ws",
            "http://127.0.0.1:8080",
        );
        check(
            "ws://127.0.0.1:8080/ws",
            "ws://127.0.0.1:8080/ws",
            "http://127.0.0.1:8080",
        );
        check("ws://h:1/ws/", "ws://h:1/ws", "http://h:1");
        check(
            "wss://kfood.example",
            "wss://kfood.example/ws",
            "https://kfood.example",
        );
        check(
            "localhost:8080",
            "ws://localhost:8080/ws",
            "http://localhost:8080",
        );
        assert!(Endpoints::parse("ftp://x").is_err());
        assert!(Endpoints::parse("ws://").is_err());
    }

    /// Connection flags may stand before or after the subcommand.
    #[test]
    fn flags_before_or_after_subcommand() {
        let a = Cli::try_parse_from(["kfood-admin", "--relay", "ws://x:1", "status", "--json"])
            .unwrap();
        let b = Cli::try_parse_from(["kfood-admin", "status", "--json", "--relay", "ws://x:1"])
            .unwrap();
        for cli in [a, b] {
            assert_eq!(cli.common.relay, "ws://x:1");
            assert!(matches!(cli.command, Some(Command::Status { json: true })));
        }
        let c = Cli::try_parse_from([
            "kfood-admin",
            "announce",
            "--audience",
            "crew",
            "Fryer is down",
            "--token",
            "t",
        ])
        .unwrap();
        assert_eq!(c.common.token.as_deref(), Some("t"));
        match c.command {
            Some(Command::Announce {
                audience,
                kind,
                text,
                expires_at,
            }) => {
                assert_eq!(audience, AudienceArg::Crew);
                assert_eq!(kind, KindArg::Announcement);
                assert_eq!(text, "Fryer is down");
                assert_eq!(expires_at, None);
            }
            other => panic!("{other:?}"),
        }
        let d = Cli::try_parse_from(["kfood-admin", "--ascii"]).unwrap();
        assert!(d.common.ascii && d.command.is_none());
    }

    /// `--ca-cert`, `--log FILE` and `--cache-ttl` exist here too, before or after a subcommand.
    #[test]
    fn common_flags() {
        let c = Cli::try_parse_from([
            "kfood-admin",
            "--ca-cert",
            "ca.pem",
            "status",
            "--log",
            "a.log",
            "--cache-ttl",
            "1m",
        ])
        .unwrap();
        assert_eq!(c.common.ca_cert.as_deref(), Some("ca.pem".as_ref()));
        assert_eq!(c.common.log.as_deref(), Some("a.log".as_ref()));
        assert_eq!(c.common.cache_ttl, std::time::Duration::from_secs(60));
    }

    /// `report` takes a date and one of --json or --csv, not both.
    #[test]
    fn report_flags() {
        let c = Cli::try_parse_from(["kfood-admin", "report", "--date", "2027-01-15", "--csv"])
            .unwrap();
        assert!(matches!(
            c.command,
            Some(Command::Report { date: Some(d), json: false, csv: true }) if d == "2027-01-15"
        ));
        let plain = Cli::try_parse_from(["kfood-admin", "report"]).unwrap();
        assert!(matches!(
            plain.command,
            Some(Command::Report {
                date: None,
                json: false,
                csv: false
            })
        ));
        assert!(Cli::try_parse_from(["kfood-admin", "report", "--json", "--csv"]).is_err());
    }

    #[test]
    fn expiries() {
        let now = 1_800_000_000_000;
        assert_eq!(parse_expiry("", now), Ok(None));
        assert_eq!(
            parse_expiry("30m", now),
            Ok(Some(kfood_protocol::time::format_ms(now + 1_800_000)))
        );
        assert_eq!(
            parse_expiry("2h", now),
            Ok(Some(kfood_protocol::time::format_ms(now + 7_200_000)))
        );
        assert_eq!(
            parse_expiry("2030-01-01T00:00:00Z", now),
            Ok(Some("2030-01-01T00:00:00.000Z".into()))
        );
        assert!(parse_expiry("2000-01-01T00:00:00Z", now).is_err());
        assert!(parse_expiry("soon", now).is_err());
        assert!(parse_expiry("0m", now).is_err());
        assert!(parse_expiry("5y", now).is_err());
    }
}
