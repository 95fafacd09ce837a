//! What the connection manager is told: where the relay is, who we are, and
//! its limits (DESIGN §11, §12 `--relay`, `--user`, `--token`, `--ca-cert`).

use std::path::PathBuf;
use std::time::Duration;

use super::backoff::Backoff;
use super::error::ClientError;
use crate::Role;

/// Messages joined into one outbound `batch` frame by default (DESIGN §11).
pub const DEFAULT_BATCH_CAP: usize = 10;
/// Requests waiting for an answer (queued while offline or in flight) by
/// default. A terminal rarely has more than a handful; 256 absorbs a long
/// outage of a busy kitchen screen. Past it a request fails `QueueFull` at
/// once rather than growing memory without bound.
pub const DEFAULT_QUEUE_CAP: usize = 256;
/// Age after which a cache entry is drawn stale (DESIGN §11, `--cache-ttl`).
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(5 * 60);
/// Consecutive failed socket attempts before falling back to HTTP polling.
pub const DEFAULT_FALLBACK_AFTER: u32 = 5;
/// Seconds a long-poll is held open by the relay (≤ its 30 s limit).
pub const DEFAULT_POLL_WAIT_SECS: u64 = 25;
/// Time allowed to open a socket (TCP, TLS and the WebSocket handshake) or to
/// make a short HTTP call.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The relay's addresses: the WebSocket endpoint and the base of the HTTP API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayUrls {
    /// `ws://127.0.0.1:8080/ws`.
    pub ws: String,
    /// `http://127.0.0.1:8080` (no trailing slash; API paths are appended).
    pub http: String,
}

impl RelayUrls {
    /// Derives both addresses from what a user types after `--relay`:
    /// `ws://host:port`, `wss://host`, `ws://host:port/ws`, `http(s)://host`
    /// or a bare `host:port` (taken as `ws://`). `/ws` is added unless the
    /// path already ends in it; a path prefix (a reverse proxy) is kept.
    pub fn parse(relay: &str) -> Result<RelayUrls, ClientError> {
        let relay = relay.trim();
        if relay.is_empty() {
            return Err(ClientError::Config("the relay URL is empty".into()));
        }
        if relay.contains(['?', '#']) || relay.chars().any(char::is_whitespace) {
            return Err(ClientError::Config(format!(
                "the relay URL `{relay}` may not hold a query, a fragment or spaces"
            )));
        }
        let (secure, rest) = match relay.split_once("://") {
            None => (false, relay),
            Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
                "ws" | "http" => (false, rest),
                "wss" | "https" => (true, rest),
                other => {
                    return Err(ClientError::Config(format!(
                        "the relay URL has scheme `{other}`; use ws://, wss://, http:// or https://"
                    )))
                }
            },
        };
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if host.is_empty() {
            return Err(ClientError::Config(format!(
                "the relay URL `{relay}` names no host"
            )));
        }
        let path = path.trim_end_matches('/');
        let base_path = path.strip_suffix("/ws").unwrap_or(path);
        let (ws_scheme, http_scheme) = if secure {
            ("wss", "https")
        } else {
            ("ws", "http")
        };
        Ok(RelayUrls {
            ws: format!("{ws_scheme}://{host}{base_path}/ws"),
            http: format!("{http_scheme}://{host}{base_path}"),
        })
    }

    /// Every address of a comma-separated `--relay` (the relays of one
    /// cluster, DESIGN §15), in order; a single address gives one.
    pub fn parse_list(relays: &str) -> Result<Vec<RelayUrls>, ClientError> {
        let list = relays
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(RelayUrls::parse)
            .collect::<Result<Vec<_>, _>>()?;
        if list.is_empty() {
            return Err(ClientError::Config("the relay URL is empty".into()));
        }
        Ok(list)
    }

    /// `http` joined with an API path such as `/api/events`.
    pub fn api(&self, path: &str) -> String {
        format!("{}{path}", self.http)
    }

    pub fn is_tls(&self) -> bool {
        self.ws.starts_with("wss://")
    }
}

impl std::fmt::Display for RelayUrls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.ws)
    }
}

/// Who the client is: a token (`--token`, a device token), or a username and
/// password exchanged for a token at `POST /api/login`.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Token(String),
    Password { username: String, password: String },
}

impl std::fmt::Debug for Credentials {
    // Never print secrets into a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Token(_) => f.write_str("Token(..)"),
            Credentials::Password { username, .. } => f
                .debug_struct("Password")
                .field("username", username)
                .finish_non_exhaustive(),
        }
    }
}

impl Credentials {
    /// The user id the credentials stand for, as far as can be told without
    /// the relay: a token's `sub` (read, not verified), or the username
    /// (accounts are keyed by username). Used to find the cache at start.
    pub fn presumed_user_id(&self) -> Option<String> {
        match self {
            Credentials::Token(t) => crate::jwt::peek(t).map(|c| c.sub),
            Credentials::Password { username, .. } => Some(username.clone()),
        }
    }
}

/// Everything [`super::Client::connect`] needs. Build it with
/// [`ClientConfig::new`] and change the public fields as needed.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The relay tried first.
    pub relay: RelayUrls,
    /// The other relays of the same cluster (`--relay a,b,c`, DESIGN §15),
    /// tried in turn after `relay`: each reconnect attempt goes to the next.
    pub other_relays: Vec<RelayUrls>,
    pub credentials: Credentials,
    /// Sent as `userType`; must match the token's role.
    pub role: Role,
    /// Messages per outbound `batch` frame, clamped to `1..=` the relay's limit.
    pub batch_cap: usize,
    /// Requests waiting for an answer before [`ClientError::QueueFull`].
    pub queue_cap: usize,
    /// Where the cache lives; `None` turns the cache off.
    /// [`super::cache::default_cache_dir`] gives the platform's.
    pub cache_dir: Option<PathBuf>,
    /// Age after which a cache entry is drawn stale.
    pub cache_ttl: Duration,
    /// Resume from the cache's last seq (the default). A program whose state
    /// holds more than the cache keeps (an admin's open alerts and promos)
    /// turns it off: the cache is still handed over at start, and the
    /// relay's snapshot then replaces it.
    pub resume_from_cache: bool,
    /// A PEM certificate (chain) to trust for `wss://`/`https://`, for a
    /// relay with a private certificate. Without it the usual web roots apply.
    pub ca_cert: Option<PathBuf>,
    pub backoff: Backoff,
    /// Consecutive failed socket attempts before HTTP polling takes over.
    pub fallback_after: u32,
    /// Seconds each long-poll asks the relay to wait.
    pub poll_wait_secs: u64,
    pub connect_timeout: Duration,
}

impl ClientConfig {
    /// A configuration with the defaults of DESIGN §11 and no cache.
    /// `relay` is one address or a comma-separated list of the relays of
    /// one cluster, tried in that order.
    pub fn new(relay: &str, credentials: Credentials, role: Role) -> Result<Self, ClientError> {
        let mut list = RelayUrls::parse_list(relay)?.into_iter();
        let first = list
            .next()
            .ok_or_else(|| ClientError::Config("the relay URL is empty".into()))?;
        let mut config = ClientConfig::for_relay(first, credentials, role);
        config.other_relays = list.collect();
        Ok(config)
    }

    /// [`ClientConfig::new`] for addresses already parsed.
    pub fn for_relay(relay: RelayUrls, credentials: Credentials, role: Role) -> Self {
        ClientConfig {
            relay,
            other_relays: Vec::new(),
            credentials,
            role,
            batch_cap: DEFAULT_BATCH_CAP,
            queue_cap: DEFAULT_QUEUE_CAP,
            cache_dir: None,
            cache_ttl: DEFAULT_CACHE_TTL,
            resume_from_cache: true,
            ca_cert: None,
            backoff: Backoff::default(),
            fallback_after: DEFAULT_FALLBACK_AFTER,
            poll_wait_secs: DEFAULT_POLL_WAIT_SECS,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// Adds the other relays of the cluster, tried after `relay` in order.
    pub fn with_other_relays(mut self, others: impl IntoIterator<Item = RelayUrls>) -> Self {
        self.other_relays.extend(others);
        self
    }

    /// Turns the cache on in `dir`.
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    pub(crate) fn effective_batch_cap(&self) -> usize {
        self.batch_cap.clamp(1, crate::limits::MAX_BATCH)
    }

    pub(crate) fn effective_queue_cap(&self) -> usize {
        self.queue_cap.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, ws: &str, http: &str) {
        let u = RelayUrls::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!((u.ws.as_str(), u.http.as_str()), (ws, http), "{input}");
    }

    #[track_caller]
    fn check_err(input: &str) {
        assert!(
            matches!(RelayUrls::parse(input), Err(ClientError::Config(_))),
            "{input} should be refused"
        );
    }

    #[test]
    fn urls_are_derived() {
        check(
            "ws://127.0.0.1:8080",
            "ws://127.0.0.1:8080/ws",
            "http://127.0.0.1:8080",
        );
        check(
            "ws://127.0.0.1:8080/",
            "ws://127.0.0.1:8080/ws",
            "http://127.0.0.1:8080",
        );
        check(
            "ws://127.0.0.1:8080/ws",
            "ws://127.0.0.1:8080/ws",
            "http://127.0.0.1:8080",
        );
        check(
            "ws://127.0.0.1:8080/ws/",
            "ws://127.0.0.1:8080/ws",
            "http://127.0.0.1:8080",
        );
        check(
            "wss://kfood.example",
            "wss://kfood.example/ws",
            "https://kfood.example",
        );
        check(
            "WSS://kfood.example/ws",
            "wss://kfood.example/ws",
            "https://kfood.example",
        );
        check(
            "http://localhost:8080",
            "ws://localhost:8080/ws",
            "http://localhost:8080",
        );
        check(
            "https://kfood.example/relay",
            "wss://kfood.example/relay/ws",
            "https://kfood.example/relay",
        );
        check(
            "localhost:8080",
            "ws://localhost:8080/ws",
            "http://localhost:8080",
        );
        check("ws://[::1]:8080", "ws://[::1]:8080/ws", "http://[::1]:8080");
        check(
            " ws://10.0.0.2:9000/wsx ",
            "ws://10.0.0.2:9000/wsx/ws",
            "http://10.0.0.2:9000/wsx",
        );
    }

    #[test]
    fn bad_urls_are_refused() {
        check_err("");
        check_err("ftp://host");
        check_err("ws://");
        check_err("ws:///ws");
        check_err("ws://host/ws?x=1");
        check_err("ws://host#frag");
        check_err("ws://ho st");
    }

    /// A comma-separated `--relay` gives every relay in order; one bad entry refuses the list.
    #[test]
    fn relay_lists() {
        let l = RelayUrls::parse_list("ws://a:1, wss://b ,").unwrap();
        let ws: Vec<&str> = l.iter().map(|u| u.ws.as_str()).collect();
        assert_eq!(ws, ["ws://a:1/ws", "wss://b/ws"]);
        assert_eq!(RelayUrls::parse_list("h:2").unwrap().len(), 1);
        assert!(RelayUrls::parse_list(" , ").is_err());
        assert!(RelayUrls::parse_list("ws://a,ftp://b").is_err());
    }

    /// A configuration takes a list: the first relay is tried first, the rest follow in order.
    #[test]
    fn configurations_take_lists() {
        let c = ClientConfig::new(
            "ws://a:1, ws://b:2,ws://c:3",
            Credentials::Token("t".into()),
            Role::Crew,
        )
        .unwrap();
        assert_eq!(c.relay.ws, "ws://a:1/ws");
        let others: Vec<&str> = c.other_relays.iter().map(|u| u.ws.as_str()).collect();
        assert_eq!(others, ["ws://b:2/ws", "ws://c:3/ws"]);
        let one = ClientConfig::new("h:1", Credentials::Token("t".into()), Role::Crew).unwrap();
        assert!(one.other_relays.is_empty());
        assert!(ClientConfig::new(",", Credentials::Token("t".into()), Role::Crew).is_err());
    }

    #[test]
    fn api_paths_and_tls() {
        let u = RelayUrls::parse("wss://h:1").unwrap();
        assert_eq!(u.api("/api/events"), "https://h:1/api/events");
        assert!(u.is_tls());
        assert!(!RelayUrls::parse("ws://h").unwrap().is_tls());
    }

    #[test]
    fn credentials_hide_secrets_and_name_the_user() {
        let p = Credentials::Password {
            username: "kim".into(),
            password: "hunter22".into(),
        };
        assert!(!format!("{p:?}").contains("hunter22"));
        assert_eq!(p.presumed_user_id().as_deref(), Some("kim"));
        let secret = crate::jwt::Secret::new(b"0123456789abcdef0123456789abcdef").unwrap();
        let claims = crate::jwt::Claims::new("station-1", "Station", Role::Crew, 1_000, 60);
        let t = Credentials::Token(secret.sign(&claims));
        assert_eq!(format!("{t:?}"), "Token(..)");
        assert_eq!(t.presumed_user_id().as_deref(), Some("station-1"));
        assert_eq!(Credentials::Token("junk".into()).presumed_user_id(), None);
    }

    #[test]
    fn caps_are_clamped() {
        let mut c =
            ClientConfig::new("ws://h", Credentials::Token("t".into()), Role::Crew).unwrap();
        assert_eq!(c.effective_batch_cap(), 10);
        c.batch_cap = 0;
        assert_eq!(c.effective_batch_cap(), 1);
        c.batch_cap = 1000;
        assert_eq!(c.effective_batch_cap(), crate::limits::MAX_BATCH);
    }
}
