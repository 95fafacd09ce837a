//! The connection state in the status bar (DESIGN §11, §12): one wording for
//! the three programs, readable without colour (`live 12ms`, `offline`), and
//! the tone each program colours it with.

use crate::client::ConnState;

/// How a state should look: fine, worth a glance, or wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Warn,
    Bad,
}

/// `live 12ms`, `connecting`, `reconnecting (3, 2s)`, `polling`,
/// `offline`, `login needed`, `closed`.
pub fn conn_text(state: &ConnState) -> String {
    text(state, false)
}

/// [`conn_text`] with the state in capitals (`LIVE 12ms`, `RECONNECTING
/// (3, 2s)`), for a screen read from a step away: the kitchen board.
pub fn conn_text_caps(state: &ConnState) -> String {
    text(state, true)
}

fn text(state: &ConnState, caps: bool) -> String {
    let word = if caps {
        state.label().to_uppercase()
    } else {
        state.label().to_owned()
    };
    match state {
        ConnState::Live { rtt_ms: Some(ms) } => format!("{word} {ms}ms"),
        ConnState::Reconnecting {
            attempt,
            next_try_in_ms,
        } => format!("{word} ({attempt}, {}s)", next_try_in_ms.div_ceil(1000)),
        _ => word,
    }
}

/// The tone of a state: live is good; connecting, reconnecting and
/// polling are on their way; offline and refused credentials are bad.
pub fn conn_tone(state: &ConnState) -> Tone {
    match state {
        ConnState::Live { .. } => Tone::Good,
        ConnState::Connecting | ConnState::Reconnecting { .. } | ConnState::Polling => Tone::Warn,
        ConnState::Offline | ConnState::AuthExpired | ConnState::Closed => Tone::Bad,
    }
}

/// The state `elapsed_ms` after it was reported: a reconnect's wait counts
/// down, everything else stays.
pub fn conn_after(state: &ConnState, elapsed_ms: u64) -> ConnState {
    match state {
        ConnState::Reconnecting {
            attempt,
            next_try_in_ms,
        } => ConnState::Reconnecting {
            attempt: *attempt,
            next_try_in_ms: next_try_in_ms.saturating_sub(elapsed_ms),
        },
        other => other.clone(),
    }
}

/// The relay as a status bar names it: `host:port`, with `wss://` kept so
/// that an unencrypted link is never taken for an encrypted one.
pub fn relay_label(ws_url: &str) -> String {
    let u = ws_url.strip_suffix("/ws").unwrap_or(ws_url);
    u.strip_prefix("ws://").unwrap_or(u).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every state reads in words, with the round trip and the reconnect wait.
    #[test]
    fn states_in_words() {
        assert_eq!(
            conn_text(&ConnState::Live { rtt_ms: Some(12) }),
            "live 12ms"
        );
        assert_eq!(conn_text(&ConnState::Live { rtt_ms: None }), "live");
        assert_eq!(conn_text(&ConnState::Connecting), "connecting");
        let r = ConnState::Reconnecting {
            attempt: 3,
            next_try_in_ms: 1_500,
        };
        assert_eq!(conn_text(&r), "reconnecting (3, 2s)");
        assert_eq!(conn_text(&conn_after(&r, 1_000)), "reconnecting (3, 1s)");
        assert_eq!(conn_text(&conn_after(&r, 9_000)), "reconnecting (3, 0s)");
        assert_eq!(conn_text(&ConnState::Polling), "polling");
        assert_eq!(conn_text(&ConnState::Offline), "offline");
        assert_eq!(conn_text(&ConnState::AuthExpired), "login needed");
        assert_eq!(
            conn_text_caps(&ConnState::Live { rtt_ms: Some(12) }),
            "LIVE 12ms"
        );
        assert_eq!(conn_text_caps(&r), "RECONNECTING (3, 2s)");
        assert_eq!(conn_text_caps(&ConnState::AuthExpired), "LOGIN NEEDED");
        assert_eq!(conn_tone(&ConnState::Polling), Tone::Warn);
        assert_eq!(conn_tone(&ConnState::AuthExpired), Tone::Bad);
    }

    /// Plain sockets show host and port; TLS keeps its scheme.
    #[test]
    fn relay_labels() {
        assert_eq!(relay_label("ws://127.0.0.1:8080/ws"), "127.0.0.1:8080");
        assert_eq!(relay_label("wss://kfood.example/ws"), "wss://kfood.example");
    }
}
