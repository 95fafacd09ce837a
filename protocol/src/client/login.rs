//! `POST /api/login` and `POST /api/register` (DESIGN §8): the one place a
//! username and password are exchanged for a token. The connection manager
//! logs in again through it when a token expires, and the programs call it
//! before they take over the screen, so that a refusal reads as a plain
//! sentence.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::config::{RelayUrls, DEFAULT_CONNECT_TIMEOUT};
use super::error::ClientError;
use crate::error::{ErrorCode, ProtocolError};
use crate::messages::{Credentials, LoginReply};
use crate::sanitize::clean_line;

/// Time a login may take in all, by default: connecting, the relay's
/// deliberately slow password check, and the answer.
pub const DEFAULT_LOGIN_TIMEOUT: Duration = Duration::from_secs(15);

/// Why there is no token.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoginError {
    /// The relay could not be reached, timed out, or failed (5xx, an answer
    /// that is not understood).
    #[error("cannot reach the relay at {relay}: {why}")]
    Unreachable { relay: String, why: String },
    /// The relay said no: unknown user or wrong password (401), malformed
    /// credentials (400), a taken username on registration (409).
    #[error("{}", refusal_text(.0))]
    Refused(ProtocolError),
    /// Too many attempts from this address (429).
    #[error("too many login attempts; wait a minute and try again")]
    RateLimited,
    /// The CA certificate cannot be read, or the HTTP client cannot be built.
    #[error("{0}")]
    Config(String),
}

fn refusal_text(e: &ProtocolError) -> String {
    match e.code {
        ErrorCode::AuthFailed => format!("login refused: {}", clean_line(&e.message)),
        _ => clean_line(&e.message),
    }
}

impl LoginError {
    /// The relay answered and said no: retrying with the same credentials
    /// will not help.
    pub fn is_refusal(&self) -> bool {
        matches!(self, LoginError::Refused(_))
    }
}

impl From<ClientError> for LoginError {
    fn from(e: ClientError) -> Self {
        LoginError::Config(e.to_string())
    }
}

/// An HTTP client for the relay's API: trusts the PEM certificates in
/// `ca_cert` (a relay with a private CA) on top of the usual web roots, and
/// gives up connecting after `connect_timeout`.
pub fn http_client(
    ca_cert: Option<&Path>,
    connect_timeout: Duration,
) -> Result<reqwest::Client, ClientError> {
    // rustls with the ring provider, as the socket uses.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut http = reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .user_agent(concat!("kfood-client/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = ca_cert {
        let pem = std::fs::read(ca).map_err(|e| {
            ClientError::Config(format!(
                "cannot read the CA certificate {}: {e}",
                ca.display()
            ))
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            ClientError::Config(format!("{} is not a PEM certificate: {e}", ca.display()))
        })?;
        if certs.is_empty() {
            return Err(ClientError::Config(format!(
                "{} holds no certificate",
                ca.display()
            )));
        }
        for c in certs {
            http = http.add_root_certificate(c);
        }
    }
    http.build()
        .map_err(|e| ClientError::Config(format!("cannot build the HTTP client: {e}")))
}

/// `POST /api/login` with a client from [`http_client`]; `timeout` bounds
/// the whole call.
pub async fn login_with(
    http: &reqwest::Client,
    relay: &RelayUrls,
    username: &str,
    password: &str,
    timeout: Duration,
) -> Result<LoginReply, LoginError> {
    post_credentials(http, relay, "/api/login", username, password, None, timeout).await
}

/// Logs in at `relay`, trusting `ca_cert` when given, and returns the token,
/// its expiry and the account (with its role).
pub async fn login(
    relay: &RelayUrls,
    ca_cert: Option<&Path>,
    username: &str,
    password: &str,
) -> Result<LoginReply, LoginError> {
    let http = http_client(ca_cert, DEFAULT_CONNECT_TIMEOUT)?;
    login_with(&http, relay, username, password, DEFAULT_LOGIN_TIMEOUT).await
}

/// `POST /api/register`: creates a customer account (display name `name`,
/// else the username) and logs it in.
pub async fn register(
    relay: &RelayUrls,
    ca_cert: Option<&Path>,
    username: &str,
    password: &str,
    name: Option<String>,
) -> Result<LoginReply, LoginError> {
    let http = http_client(ca_cert, DEFAULT_CONNECT_TIMEOUT)?;
    post_credentials(
        &http,
        relay,
        "/api/register",
        username,
        password,
        name,
        DEFAULT_LOGIN_TIMEOUT,
    )
    .await
}

async fn post_credentials(
    http: &reqwest::Client,
    relay: &RelayUrls,
    path: &str,
    username: &str,
    password: &str,
    name: Option<String>,
    timeout: Duration,
) -> Result<LoginReply, LoginError> {
    let unreachable = |why: String| LoginError::Unreachable {
        relay: relay.http.clone(),
        why,
    };
    let body = Credentials {
        username: username.to_owned(),
        password: password.to_owned(),
        name,
    };
    let resp = http
        .post(relay.api(path))
        .timeout(timeout)
        .json(&body)
        .send()
        .await
        .map_err(|e| unreachable(error_chain(&e)))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if status.is_success() {
        return serde_json::from_str::<LoginReply>(&text)
            .map_err(|e| unreachable(format!("its answer to {path} is not understood: {e}")));
    }
    match status.as_u16() {
        429 => Err(LoginError::RateLimited),
        400 | 401 | 403 | 409 => Err(LoginError::Refused(refusal_of(&text, status.as_u16()))),
        _ => Err(unreachable(format!("{path} failed ({status})"))),
    }
}

/// The relay's `{"error": {code, message}}`, or a plain one from the status.
pub(super) fn refusal_of(body: &str, status: u16) -> ProtocolError {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("error").cloned())
        .and_then(|e| serde_json::from_value::<ProtocolError>(e).ok())
        .unwrap_or_else(|| {
            let code = match status {
                401 | 403 => ErrorCode::AuthFailed,
                _ => ErrorCode::Invalid,
            };
            ProtocolError::new(code, format!("HTTP {status}"))
        })
}

/// An error with its causes, which name what actually failed (DNS, TLS…).
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let s = c.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A relay's error body keeps its code and message; a bare status still says no.
    #[test]
    fn refusals_read_the_error_body() {
        let body = r#"{"error":{"code":"auth_failed","message":"wrong username or password"}}"#;
        let e = refusal_of(body, 401);
        assert_eq!(e.code, ErrorCode::AuthFailed);
        assert_eq!(
            LoginError::Refused(e).to_string(),
            "login refused: wrong username or password"
        );
        assert_eq!(refusal_of("", 401).code, ErrorCode::AuthFailed);
        assert_eq!(refusal_of("<html>", 409).code, ErrorCode::Invalid);
    }

    /// A missing or empty CA file is a configuration error, said before any connection.
    #[test]
    fn bad_ca_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        assert!(matches!(
            http_client(Some(&missing), DEFAULT_CONNECT_TIMEOUT),
            Err(ClientError::Config(_))
        ));
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificates here\n").unwrap();
        assert!(http_client(Some(&empty), DEFAULT_CONNECT_TIMEOUT).is_err());
        assert!(http_client(None, DEFAULT_CONNECT_TIMEOUT).is_ok());
    }

    /// A relay that is not there is `Unreachable`, not a refusal.
    #[tokio::test]
    async fn nobody_listening_is_unreachable() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        let relay = RelayUrls::parse(&format!("ws://{addr}")).unwrap();
        let e = login(&relay, None, "kim", "password1").await.unwrap_err();
        assert!(matches!(e, LoginError::Unreachable { .. }), "{e:?}");
        assert!(!e.is_refusal());
    }
}
