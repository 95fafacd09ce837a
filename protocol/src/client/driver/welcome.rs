//! The pure decisions on the relay's first answers: what a welcome means
//! for the cache, which close codes mean the credentials are refused, and
//! reading a socket up to `authenticated`.

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::End;
use crate::client::outbox::refusal;
use crate::envelope::{split_frame, Envelope};
use crate::error::{ErrorCode, ProtocolError};
use crate::messages::{kind, Authenticated};

/// What the welcome means for what we hold.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WelcomeAction {
    /// Same log and user: resume.
    Continue,
    /// Another log or user, and no `since` was sent: drop the cache; the
    /// snapshot that follows replaces it.
    ResetCache,
    /// Another log or user after a `since` was sent: that `since` meant
    /// nothing here. Drop the cache and reconnect without it.
    ResetAndReconnect,
}

/// The pure decision on `authenticated`.
pub(crate) fn welcome_action(
    since_sent: bool,
    known_log: Option<&str>,
    known_user: Option<&str>,
    log_id: &str,
    user_id: &str,
) -> WelcomeAction {
    let same_log = known_log.is_none_or(|l| l == log_id);
    let same_user = known_user.is_none_or(|u| u == user_id);
    match (same_log && same_user, since_sent) {
        (true, _) => WelcomeAction::Continue,
        (false, false) => WelcomeAction::ResetCache,
        (false, true) => WelcomeAction::ResetAndReconnect,
    }
}

/// Close codes after which the same credentials will not work (DESIGN §4):
/// 4001 unauthenticated or expired, 4003 wrong role, 4011 revoked.
pub(crate) fn close_means_auth(code: u16) -> bool {
    matches!(code, 4001 | 4003 | 4011)
}

/// Reads up to `authenticated`: the welcome and whatever came in the same
/// frame after it, or how the relay refused.
pub(super) async fn read_welcome<S>(stream: &mut S) -> Result<(Authenticated, Vec<Envelope>), End>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let mut refusal_seen: Option<ProtocolError> = None;
    while let Some(msg) = stream.next().await {
        let msg = msg.map_err(|e| End::Lost {
            welcomed: false,
            why: e.to_string(),
        })?;
        match msg {
            Message::Text(t) => {
                let envs = split_frame(&t).map_err(|e| End::Lost {
                    welcomed: false,
                    why: format!("unreadable welcome: {e}"),
                })?;
                let mut envs = envs.into_iter();
                while let Some(env) = envs.next() {
                    match env.kind.as_str() {
                        kind::AUTHENTICATED => {
                            let w = env.parse_data::<Authenticated>().map_err(|e| End::Lost {
                                welcomed: false,
                                why: format!("unreadable authenticated: {e}"),
                            })?;
                            return Ok((w, envs.collect()));
                        }
                        kind::ERROR => {
                            let e = refusal(&env);
                            if matches!(
                                e.code,
                                ErrorCode::AuthFailed
                                    | ErrorCode::TokenExpired
                                    | ErrorCode::Forbidden
                            ) {
                                refusal_seen = Some(e);
                            } else {
                                tracing::warn!(code = %e.code, message = %e.message, "error before authenticated");
                            }
                        }
                        other => tracing::debug!(kind = other, "ignored before authenticated"),
                    }
                }
            }
            Message::Close(frame) => {
                // The `error` before the close says more than its code.
                return Err(match (close_end(frame, false), refusal_seen) {
                    (End::AuthRejected(_), Some(e)) => End::AuthRejected(Some(e)),
                    (end, _) => end,
                });
            }
            _ => {}
        }
    }
    Err(match refusal_seen {
        Some(e) => End::AuthRejected(Some(e)),
        None => End::Lost {
            welcomed: false,
            why: "socket ended before authenticated".into(),
        },
    })
}

/// How a close frame ends the connection.
pub(super) fn close_end(frame: Option<CloseFrame>, welcomed: bool) -> End {
    let (code, reason) = frame
        .map(|f| (u16::from(f.code), f.reason.to_string()))
        .unwrap_or((1005, String::new()));
    if close_means_auth(code) {
        let code_kind = if code == 4003 {
            ErrorCode::Forbidden
        } else {
            ErrorCode::AuthFailed
        };
        tracing::warn!(code, reason = %reason, "relay refused the credentials");
        return End::AuthRejected(Some(ProtocolError::new(
            code_kind,
            format!("closed {code}: {reason}"),
        )));
    }
    End::Lost {
        welcomed,
        why: format!("closed {code} {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    #[test]
    fn welcome_decisions() {
        use WelcomeAction::*;
        // First contact: nothing known.
        assert_eq!(welcome_action(false, None, None, "L1", "kim"), Continue);
        // Resume on the same log.
        assert_eq!(
            welcome_action(true, Some("L1"), Some("kim"), "L1", "kim"),
            Continue
        );
        // The relay's data was replaced: the since we sent meant nothing.
        assert_eq!(
            welcome_action(true, Some("L1"), Some("kim"), "L2", "kim"),
            ResetAndReconnect
        );
        assert_eq!(
            welcome_action(false, Some("L1"), Some("kim"), "L2", "kim"),
            ResetCache
        );
        // A token for another user than the cache we presumed.
        assert_eq!(
            welcome_action(true, Some("L1"), Some("kim"), "L1", "lee"),
            ResetAndReconnect
        );
        assert_eq!(
            welcome_action(false, None, Some("kim"), "L1", "lee"),
            ResetCache
        );
    }

    fn close(code: u16) -> Option<CloseFrame> {
        Some(CloseFrame {
            code: CloseCode::from(code),
            reason: "why".into(),
        })
    }

    #[test]
    fn close_codes() {
        for code in [4001, 4003, 4011] {
            assert!(close_means_auth(code));
            assert!(
                matches!(close_end(close(code), true), End::AuthRejected(Some(_))),
                "{code}"
            );
        }
        for code in [1000, 1001, 1006, 1011, 1013, 4000, 4008, 4009, 4010] {
            assert!(!close_means_auth(code));
            assert!(
                matches!(
                    close_end(close(code), true),
                    End::Lost { welcomed: true, .. }
                ),
                "{code}"
            );
        }
        assert!(matches!(
            close_end(None, false),
            End::Lost {
                welcomed: false,
                ..
            }
        ));
    }
}
