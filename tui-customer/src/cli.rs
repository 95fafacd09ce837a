//! Command-line flags: the common ones of every program (DESIGN §12,
//! [`CommonArgs`]) and the customer's own.

use std::path::PathBuf;

use clap::Parser;
use kfood_protocol::term::CommonArgs;

/// Order Korean food from the terminal: browse the menu, fill the cart, pay,
/// and watch the kitchen work your order live.
#[derive(Debug, Clone, Parser)]
#[command(name = "kfood-customer", version)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Create a customer account named by --user first, then log in with it.
    #[arg(long, requires = "user")]
    pub register: bool,

    /// Display name for --register (defaults to the user name).
    #[arg(long, value_name = "NAME", requires = "register")]
    pub name: Option<String>,

    /// Where the cart and the last known menu and orders are kept between runs.
    #[arg(long, env = "KFOOD_CACHE_DIR", value_name = "DIR", hide = true)]
    pub cache_dir: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--register` needs `--user`; `--ascii` and `--relay` are read.
    #[test]
    fn flags() {
        let cli = Cli::try_parse_from(["kfood-customer", "--user", "kim", "--register"]).unwrap();
        assert!(cli.register);
        assert!(Cli::try_parse_from(["kfood-customer", "--register"]).is_err());
        let cli =
            Cli::try_parse_from(["kfood-customer", "--ascii", "--relay", "ws://x:1"]).unwrap();
        assert!(cli.common.ascii);
        assert_eq!(cli.common.relay, "ws://x:1");
    }

    /// The customer program takes every common flag: `--ca-cert`, `--log FILE`, `--cache-ttl`.
    #[test]
    fn common_flags() {
        let cli = Cli::try_parse_from([
            "kfood-customer",
            "--ca-cert",
            "ca.pem",
            "--log",
            "c.log",
            "--cache-ttl",
            "30s",
        ])
        .unwrap();
        assert_eq!(cli.common.ca_cert, Some(PathBuf::from("ca.pem")));
        assert_eq!(cli.common.log, Some(PathBuf::from("c.log")));
        assert_eq!(cli.common.cache_ttl, std::time::Duration::from_secs(30));
    }
}
