//! Command-line flags (DESIGN §12).

use std::path::PathBuf;

use clap::Parser;

/// Order Korean food from the terminal: browse the menu, fill the cart, pay,
/// and watch the kitchen work your order live.
#[derive(Debug, Clone, Parser)]
#[command(name = "kfood-customer", version)]
pub struct Cli {
    /// The relay: ws://HOST:PORT (wss:// with TLS); /ws is added when missing.
    #[arg(long, env = "KFOOD_RELAY", default_value = "ws://127.0.0.1:8080")]
    pub relay: String,

    /// Log in as this user; the password is asked for (or read from KFOOD_PASSWORD).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Create a customer account named by --user first, then log in with it.
    #[arg(long, requires = "user")]
    pub register: bool,

    /// Display name for --register (defaults to the user name).
    #[arg(long, value_name = "NAME", requires = "register")]
    pub name: Option<String>,

    /// Connect with this token instead of logging in.
    #[arg(long, env = "KFOOD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Write the program's log here (never onto the screen).
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,

    /// Trust this PEM certificate for a relay with a private TLS certificate.
    #[arg(long, env = "KFOOD_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// Draw with plain ASCII for terminals without box-drawing glyphs.
    #[arg(long)]
    pub ascii: bool,

    /// Where the cart and the last known menu and orders are kept between runs.
    #[arg(long, env = "KFOOD_CACHE_DIR", value_name = "DIR", hide = true)]
    pub cache_dir: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        let cli = Cli::try_parse_from(["kfood-customer", "--user", "kim", "--register"]).unwrap();
        assert!(cli.register);
        assert!(Cli::try_parse_from(["kfood-customer", "--register"]).is_err());
        let cli =
            Cli::try_parse_from(["kfood-customer", "--ascii", "--relay", "ws://x:1"]).unwrap();
        assert!(cli.ascii);
        assert_eq!(cli.relay, "ws://x:1");
    }
}
