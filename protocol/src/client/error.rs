//! What a request or the client itself can fail with.

use crate::error::ProtocolError;

/// Why a request got no `ack`, or why the client could not be set up.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClientError {
    /// The outbound queue already holds its configured number of requests
    /// (sent or waiting to be sent, without an answer yet). Nothing was queued.
    #[error("the outbound queue is full ({0} requests waiting); try again shortly")]
    QueueFull(usize),
    /// The relay answered the request with an `error`.
    #[error("refused: {0}")]
    Refused(ProtocolError),
    /// The client was closed (or its task ended) before the request was answered.
    #[error("the connection manager is closed")]
    Closed,
    /// The credentials were refused or have expired: the program must log in
    /// again ([`super::ClientHandle::set_credentials`]).
    #[error("the credentials were refused or have expired; log in again")]
    AuthExpired,
    /// An HTTP call failed. The connection task retries its own HTTP calls
    /// (login, polling) and reports them through [`super::ConnState`]; this
    /// is for one-shot callers.
    #[error("http: {0}")]
    Http(String),
    /// The configuration cannot work (bad relay URL, unreadable CA certificate,
    /// no tokio runtime).
    #[error("configuration: {0}")]
    Config(String),
    /// The local cache could not be read or written.
    #[error("cache: {0}")]
    Cache(String),
}

impl ClientError {
    /// The relay's refusal, when it is one.
    pub fn refusal(&self) -> Option<&ProtocolError> {
        match self {
            ClientError::Refused(e) => Some(e),
            _ => None,
        }
    }
}
