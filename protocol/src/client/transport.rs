//! The wires: opening the WebSocket (plain or TLS) and the HTTP calls of
//! DESIGN §2 (login, long-poll, posting messages).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use super::config::{ClientConfig, RelayUrls};
use super::error::ClientError;
use super::login::LoginError;
use crate::envelope::Envelope;
use crate::error::{ErrorCode, ProtocolError};
use crate::messages::{EventsPage, LoginReply};

pub(crate) type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Extra time an HTTP call gets beyond what it asked the relay to wait.
const HTTP_SLACK: Duration = Duration::from_secs(15);

/// Why an HTTP call failed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum HttpFail {
    /// The relay refused the credentials (401/403, or bad login data): trying
    /// again with the same ones will not help.
    Auth(ProtocolError),
    /// Anything else: unreachable, timed out, 5xx, 429.
    Other(String),
}

/// Cheap to clone: the HTTP client and the TLS configuration are shared.
#[derive(Clone)]
pub(crate) struct Transport {
    pub urls: RelayUrls,
    tls: Option<Arc<rustls::ClientConfig>>,
    http: reqwest::Client,
    connect_timeout: Duration,
    poll_wait_secs: u64,
}

impl Transport {
    pub fn new(cfg: &ClientConfig) -> Result<Self, ClientError> {
        // tokio-tungstenite builds its default TLS configuration from the
        // process-wide provider; make sure there is one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let tls = match &cfg.ca_cert {
            Some(ca) => Some(tls_config(ca)?),
            None => None,
        };
        let http = super::login::http_client(cfg.ca_cert.as_deref(), cfg.connect_timeout)?;
        Ok(Transport {
            urls: cfg.relay.clone(),
            tls,
            http,
            connect_timeout: cfg.connect_timeout,
            poll_wait_secs: cfg.poll_wait_secs.min(crate::limits::POLL_MAX_WAIT_SECS),
        })
    }

    /// Opens the socket (TCP, TLS, WebSocket handshake) within the connect timeout.
    pub async fn open_socket(self) -> Result<WsStream, String> {
        let connector = self.tls.clone().map(Connector::Rustls);
        let attempt = tokio_tungstenite::connect_async_tls_with_config(
            self.urls.ws.as_str(),
            None,
            true,
            connector,
        );
        match tokio::time::timeout(self.connect_timeout, attempt).await {
            Ok(Ok((ws, _))) => Ok(ws),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!(
                "no WebSocket within {} ms",
                self.connect_timeout.as_millis()
            )),
        }
    }

    /// `POST /api/login`, through the one login of [`super::login`].
    pub async fn login(self, username: String, password: String) -> Result<LoginReply, HttpFail> {
        let timeout = self.connect_timeout + HTTP_SLACK;
        super::login::login_with(&self.http, &self.urls, &username, &password, timeout)
            .await
            .map_err(|e| match e {
                // A malformed username or password will not get better by retrying.
                LoginError::Refused(p) => HttpFail::Auth(p),
                other => HttpFail::Other(other.to_string()),
            })
    }

    /// `GET /api/events?since=N&wait=S`.
    pub async fn poll(self, token: String, since: Option<u64>) -> Result<EventsPage, HttpFail> {
        let mut url = format!(
            "{}?wait={}",
            self.urls.api("/api/events"),
            self.poll_wait_secs
        );
        if let Some(s) = since {
            url.push_str(&format!("&since={s}"));
        }
        let req =
            self.http.get(url).bearer_auth(token).timeout(
                Duration::from_secs(self.poll_wait_secs) + self.connect_timeout + HTTP_SLACK,
            );
        let resp = req
            .send()
            .await
            .map_err(|e| HttpFail::Other(e.to_string()))?;
        checked(resp)
            .await?
            .json::<EventsPage>()
            .await
            .map_err(|e| HttpFail::Other(format!("unreadable events page: {e}")))
    }

    /// `POST /api/messages` with one message or a batch; the replies in order.
    pub async fn post(self, token: String, body: String) -> Result<Vec<Envelope>, HttpFail> {
        let req = self
            .http
            .post(self.urls.api("/api/messages"))
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .timeout(self.connect_timeout + HTTP_SLACK)
            .body(body);
        let resp = req
            .send()
            .await
            .map_err(|e| HttpFail::Other(e.to_string()))?;
        let v: Value = checked(resp)
            .await?
            .json()
            .await
            .map_err(|e| HttpFail::Other(format!("unreadable replies: {e}")))?;
        let replies = v
            .get("replies")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok(replies
            .into_iter()
            .filter_map(|r| serde_json::from_value(r).ok())
            .collect())
    }
}

/// The response if it succeeded; a refusal of the token is `Auth`.
async fn checked(resp: reqwest::Response) -> Result<reqwest::Response, HttpFail> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let err = error_of(resp).await;
    if matches!(status.as_u16(), 401 | 403) {
        Err(HttpFail::Auth(err))
    } else {
        Err(HttpFail::Other(format!("{status}: {}", err.message)))
    }
}

/// The `{"error": {code, message, field?}}` body of a refused HTTP call.
async fn error_of(resp: reqwest::Response) -> ProtocolError {
    let status = resp.status();
    let body: Option<Value> = resp.json().await.ok();
    body.and_then(|b| b.get("error").cloned())
        .and_then(|e| serde_json::from_value::<ProtocolError>(e).ok())
        .unwrap_or_else(|| {
            let code = if status.as_u16() == 401 {
                ErrorCode::AuthFailed
            } else {
                ErrorCode::Internal
            };
            ProtocolError::new(code, format!("HTTP {status}"))
        })
}

/// A TLS configuration trusting only the certificates in the PEM file `ca`.
fn tls_config(ca: &Path) -> Result<Arc<rustls::ClientConfig>, ClientError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let bad = |e: &dyn std::fmt::Display| ClientError::Config(format!("{}: {e}", ca.display()));
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|e| bad(&e))? {
        roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
    }
    if roots.is_empty() {
        return Err(bad(&"no certificate in the file"));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(&e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_file_errors_are_configuration_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        assert!(matches!(tls_config(&missing), Err(ClientError::Config(_))));
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificates here\n").unwrap();
        assert!(matches!(tls_config(&empty), Err(ClientError::Config(_))));
    }
}
