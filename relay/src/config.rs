//! Every setting of the relay: a flag and an environment variable each
//! (DESIGN §2, §9).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use kfood_protocol::limits;

/// Boolean environment variables accept 1/0, true/false, yes/no.
fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        other => Err(format!(
            "`{other}` is not a boolean (1/0, true/false, yes/no)"
        )),
    }
}

/// Settings shared by the server and the store subcommands.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory of the embedded store and the generated secret.
    #[arg(
        long,
        env = "KFOOD_DATA_DIR",
        default_value = "./kfood-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// File holding the JWT secret (raw bytes, at least 32). `KFOOD_JWT_SECRET` wins over it.
    #[arg(long, env = "KFOOD_JWT_SECRET_FILE", global = true)]
    pub jwt_secret_file: Option<PathBuf>,
    /// sled page cache in MiB.
    #[arg(long, env = "KFOOD_CACHE_MB", default_value_t = limits::CACHE_MB, global = true)]
    pub cache_mb: u64,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Where the log is kept (DESIGN §15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineKind {
    /// Embedded, one relay.
    Sled,
    /// A NATS JetStream server or cluster shared by any number of relays.
    Jetstream,
}

/// The storage engine and, for JetStream, where it is.
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    /// Storage engine.
    #[arg(
        long,
        env = "KFOOD_ENGINE",
        value_enum,
        default_value = "sled",
        global = true
    )]
    pub engine: EngineKind,
    /// NATS server URL, or a comma-separated list (JetStream engine).
    #[arg(
        long,
        env = "KFOOD_NATS_URL",
        default_value = "nats://127.0.0.1:4222",
        global = true
    )]
    pub nats_url: String,
    /// Name of the restaurant's cluster of relays: [a-z0-9-]{1,16}.
    #[arg(long, env = "KFOOD_CLUSTER", default_value = "main", global = true,
          value_parser = parse_cluster)]
    pub cluster: String,
    /// Stream replicas: 1, 3 or 5 (default: 1 on a lone server, else 3 or
    /// as many servers as there are).
    #[arg(long, env = "KFOOD_REPLICAS", global = true, value_parser = parse_replicas)]
    pub replicas: Option<usize>,
}

impl EngineArgs {
    pub fn settings(&self) -> crate::jetstream::Settings {
        crate::jetstream::Settings {
            urls: self.nats_url.clone(),
            cluster: self.cluster.clone(),
            replicas: self.replicas,
        }
    }
}

fn parse_cluster(s: &str) -> Result<String, String> {
    crate::jetstream::check_cluster_name(s).map(|()| s.to_owned())
}

fn parse_replicas(s: &str) -> Result<usize, String> {
    match s.trim() {
        "1" => Ok(1),
        "3" => Ok(3),
        "5" => Ok(5),
        other => Err(format!("--replicas must be 1, 3 or 5, not `{other}`")),
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "KFOOD_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// PEM certificate chain; with --tls-key the relay serves wss:// and https://.
    #[arg(long, env = "KFOOD_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "KFOOD_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Seed the demo menu and demo accounts (printing their passwords).
    #[arg(long, env = "KFOOD_DEMO", value_parser = parse_bool, default_value = "false",
          num_args = 0..=1, default_missing_value = "true")]
    pub demo: bool,
    #[command(flatten)]
    pub limits: Limits,
}

/// The limits of DESIGN §9.
#[derive(Debug, Clone, Args)]
pub struct Limits {
    /// Largest client frame in bytes; a larger one closes the socket 4009.
    #[arg(long, env = "KFOOD_MAX_FRAME_BYTES", default_value_t = limits::MAX_FRAME_BYTES)]
    pub max_frame_bytes: usize,
    /// Messages in one batch.
    #[arg(long, env = "KFOOD_MAX_BATCH", default_value_t = limits::MAX_BATCH)]
    pub max_batch: usize,
    /// Messages per second per connection.
    #[arg(long, env = "KFOOD_RATE_PER_SEC", default_value_t = limits::RATE_PER_SEC)]
    pub rate_per_sec: u32,
    /// Burst of messages per connection above the steady rate.
    #[arg(long, env = "KFOOD_RATE_BURST", default_value_t = limits::RATE_BURST)]
    pub rate_burst: u32,
    /// Login and register attempts per client address per minute.
    #[arg(long, env = "KFOOD_LOGIN_PER_MIN", default_value_t = limits::LOGIN_PER_MIN)]
    pub login_per_min: u32,
    /// Heartbeat interval announced to clients; silent sockets close after 2.5×.
    #[arg(long, env = "KFOOD_HEARTBEAT_MS", default_value_t = limits::HEARTBEAT_MS)]
    pub heartbeat_ms: u64,
    /// Frames queued per connection before a slow client is closed.
    #[arg(long, env = "KFOOD_OUTBOUND_QUEUE", default_value_t = limits::OUTBOUND_QUEUE)]
    pub outbound_queue: usize,
    /// Durable events kept in the log.
    #[arg(long, env = "KFOOD_LOG_RETENTION", default_value_t = limits::LOG_RETENTION)]
    pub log_retention: u64,
    /// Seconds orders may wait with no crew connected before a `no_crew` alert.
    #[arg(long, env = "KFOOD_NO_CREW_AFTER_SECS", default_value_t = 60)]
    pub no_crew_after_secs: u64,
    /// Failed payments within 5 minutes that raise a `payment_failures` alert.
    #[arg(long, env = "KFOOD_PAYMENT_FAILURE_BURST", default_value_t = 5)]
    pub payment_failure_burst: usize,
    /// Lifetime of tokens from `POST /api/login`, in hours.
    #[arg(long, env = "KFOOD_TOKEN_TTL_HOURS", default_value_t = 12)]
    pub token_ttl_hours: i64,
    /// The restaurant's time zone (IANA name, e.g. Asia/Seoul), sent in
    /// `authenticated` and `GET /api/menu` so every program shows local times.
    #[arg(long, env = "KFOOD_TZ", default_value_t = default_tz())]
    pub tz: String,
    /// The last line marked done moves its order to ready;
    /// without it the expo bumps each finished ticket.
    #[arg(long, env = "KFOOD_AUTO_READY", value_parser = parse_bool, default_value = "false",
          num_args = 0..=1, default_missing_value = "true")]
    pub auto_ready: bool,
}

/// The time zone of the machine: `TZ`, else /etc/timezone, else UTC.
pub fn default_tz() -> String {
    let from_env = std::env::var("TZ")
        .ok()
        .map(|v| v.trim_start_matches(':').trim().to_owned())
        .filter(|v| !v.is_empty() && !v.starts_with('/'));
    from_env
        .or_else(|| {
            std::fs::read_to_string("/etc/timezone")
                .ok()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        })
        .unwrap_or_else(|| "UTC".to_owned())
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_bytes: limits::MAX_FRAME_BYTES,
            max_batch: limits::MAX_BATCH,
            rate_per_sec: limits::RATE_PER_SEC,
            rate_burst: limits::RATE_BURST,
            login_per_min: limits::LOGIN_PER_MIN,
            heartbeat_ms: limits::HEARTBEAT_MS,
            outbound_queue: limits::OUTBOUND_QUEUE,
            log_retention: limits::LOG_RETENTION,
            no_crew_after_secs: 60,
            payment_failure_burst: 5,
            token_ttl_hours: 12,
            tz: default_tz(),
            auto_ready: false,
        }
    }
}

impl Limits {
    /// Rejects settings that would make the relay unusable.
    pub fn validate(&self) -> Result<(), String> {
        let checks = [
            (
                self.max_frame_bytes >= 1024,
                "--max-frame-bytes must be at least 1024",
            ),
            (self.max_batch >= 1, "--max-batch must be at least 1"),
            (self.rate_per_sec >= 1, "--rate-per-sec must be at least 1"),
            (self.rate_burst >= 1, "--rate-burst must be at least 1"),
            (
                self.login_per_min >= 1,
                "--login-per-min must be at least 1",
            ),
            (
                self.heartbeat_ms >= 100,
                "--heartbeat-ms must be at least 100",
            ),
            (
                self.outbound_queue >= 16,
                "--outbound-queue must be at least 16",
            ),
            (
                self.log_retention >= 100,
                "--log-retention must be at least 100",
            ),
            (
                self.token_ttl_hours >= 1,
                "--token-ttl-hours must be at least 1",
            ),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, msg)) => Err((*msg).to_owned()),
            None => Ok(()),
        }
    }

    /// What the transport reads before the relay's own size check (§9).
    pub fn transport_read_limit(&self) -> usize {
        limits::TRANSPORT_MIN_READ_BYTES.max(self.max_frame_bytes.saturating_mul(4))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        for t in ["1", "true", "YES"] {
            assert_eq!(parse_bool(t), Ok(true));
        }
        for f in ["0", "false", "no"] {
            assert_eq!(parse_bool(f), Ok(false));
        }
        assert!(parse_bool("maybe").is_err());
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(Limits::default().validate(), Ok(()));
        let bad = Limits {
            heartbeat_ms: 1,
            ..Limits::default()
        };
        assert!(bad.validate().is_err());
    }
}
