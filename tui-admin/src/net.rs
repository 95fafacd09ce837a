//! The network task: the shared connection manager (`kfood_protocol::client`,
//! DESIGN §11) turned into the program's [`AppEvent`]s, and the program's
//! [`NetCmd`]s into its requests. Reconnects, resume from the last seq,
//! heartbeats and the polling fallback are the manager's.

use kfood_protocol::client::{
    Client, ClientConfig, ClientError, ClientEvent, ClientHandle, ConnState, Credentials,
};
use kfood_protocol::{Envelope, Role};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::{AppEvent, Conn, NetCmd, RequestError};
use crate::cli::Endpoints;

/// Starts the connection manager and relays between it and the program
/// until `shutdown`.
pub async fn run(
    endpoints: Endpoints,
    credentials: Credentials,
    tx: mpsc::Sender<AppEvent>,
    mut cmds: mpsc::Receiver<NetCmd>,
    shutdown: CancellationToken,
) {
    let config = match ClientConfig::new(&endpoints.ws, credentials, Role::Admin) {
        Ok(c) => c,
        Err(e) => {
            let _ = tx
                .send(AppEvent::Conn(Conn::Offline {
                    reason: e.to_string(),
                }))
                .await;
            return;
        }
    };
    let (client, mut events, mut state) = match Client::connect(config) {
        Ok(c) => c,
        Err(e) => {
            let _ = tx
                .send(AppEvent::Conn(Conn::Offline {
                    reason: e.to_string(),
                }))
                .await;
            return;
        }
    };
    let first = conn_of(&state.borrow_and_update());
    let _ = tx.send(AppEvent::Conn(first)).await;
    let mut events_open = true;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            ev = events.recv(), if events_open => match ev {
                Some(ev) => {
                    if let Some(ev) = app_event(ev) {
                        if tx.send(ev).await.is_err() {
                            break;
                        }
                    }
                }
                None => events_open = false,
            },
            changed = state.changed() => {
                if changed.is_err() {
                    let _ = tx.send(AppEvent::Conn(Conn::Offline { reason: "the connection manager stopped".into() })).await;
                    break;
                }
                let c = conn_of(&state.borrow_and_update());
                if tx.send(AppEvent::Conn(c)).await.is_err() {
                    break;
                }
            }
            cmd = cmds.recv() => match cmd {
                Some(cmd) => submit(&client, cmd, &tx),
                None => break,
            },
        }
    }
    client.close().await;
}

/// Sends one request; its answer comes back as [`AppEvent::Reply`] under the
/// program's own id.
fn submit(client: &ClientHandle, cmd: NetCmd, tx: &mpsc::Sender<AppEvent>) {
    let NetCmd::Request { id, kind, data } = cmd;
    let tx = tx.clone();
    match client.submit(&kind, data) {
        Ok(pending) => {
            tokio::spawn(async move {
                let result = pending
                    .await
                    .map(|env| env.data)
                    .map_err(|e| request_error(&e));
                let _ = tx.send(AppEvent::Reply { id, result }).await;
            });
        }
        Err(e) => {
            // The loop must not wait on its own queue: answer from a task.
            tokio::spawn(async move {
                let _ = tx
                    .send(AppEvent::Reply {
                        id,
                        result: Err(request_error(&e)),
                    })
                    .await;
            });
        }
    }
}

pub fn request_error(e: &ClientError) -> RequestError {
    match e {
        ClientError::Refused(p) => RequestError {
            code: p.code.as_str().into(),
            message: p.message.clone(),
            field: p.field.clone(),
        },
        ClientError::QueueFull(_) => RequestError {
            code: "busy".into(),
            message: e.to_string(),
            field: None,
        },
        ClientError::AuthExpired => RequestError {
            code: "auth_failed".into(),
            message: e.to_string(),
            field: None,
        },
        other => RequestError {
            code: "network".into(),
            message: other.to_string(),
            field: None,
        },
    }
}

pub fn conn_of(s: &ConnState) -> Conn {
    match s {
        ConnState::Connecting => Conn::Connecting,
        ConnState::Live { rtt_ms } => Conn::Live { rtt_ms: *rtt_ms },
        ConnState::Reconnecting {
            attempt,
            next_try_in_ms,
        } => Conn::Reconnecting {
            attempt: *attempt,
            retry_in_ms: *next_try_in_ms,
        },
        ConnState::Polling => Conn::Polling,
        ConnState::Offline => Conn::Offline {
            reason: "the relay cannot be reached; still trying".into(),
        },
        ConnState::AuthExpired => Conn::AuthExpired,
        ConnState::Closed => Conn::Offline {
            reason: "the connection is closed".into(),
        },
    }
}

/// What a manager event means for the program, if anything.
pub fn app_event(ev: ClientEvent) -> Option<AppEvent> {
    match ev {
        ClientEvent::Welcome(w) => Some(AppEvent::Welcome(w.user)),
        ClientEvent::Snapshot(env) | ClientEvent::Event(env) | ClientEvent::Notice(env) => {
            Some(AppEvent::Net(env))
        }
        ClientEvent::Error(e) => Some(AppEvent::Net(Envelope::error(None, &e))),
        // The admin keeps no cache: it starts from the relay's snapshot.
        ClientEvent::Cached(_) | ClientEvent::Synced { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kfood_protocol::{ErrorCode, ProtocolError};

    #[test]
    fn states_map_to_the_status_bar() {
        assert_eq!(
            conn_of(&ConnState::Live { rtt_ms: Some(4) }).label(),
            "live 4 ms"
        );
        assert_eq!(
            conn_of(&ConnState::Reconnecting {
                attempt: 2,
                next_try_in_ms: 900
            })
            .label(),
            "reconnecting #2 in 1s"
        );
        assert_eq!(conn_of(&ConnState::Polling).label(), "polling");
        assert_eq!(conn_of(&ConnState::Offline).label(), "offline");
        assert_eq!(conn_of(&ConnState::AuthExpired).label(), "login expired");
    }

    #[test]
    fn refusals_keep_code_and_field() {
        let e = ClientError::Refused(ProtocolError::invalid("item.price_cents", "too much"));
        let r = request_error(&e);
        assert_eq!(r.code, "invalid");
        assert_eq!(r.field.as_deref(), Some("item.price_cents"));
        let e = ClientError::Refused(ProtocolError::new(ErrorCode::Forbidden, "no"));
        assert_eq!(request_error(&e).code, "forbidden");
        assert_eq!(request_error(&ClientError::Closed).code, "network");
    }
}
