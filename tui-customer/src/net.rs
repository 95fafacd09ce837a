//! The network task: the shared connection manager (`kfood_protocol::client`,
//! DESIGN §11) on one side, the app's two channels on the other. The manager
//! authenticates, heartbeats, reconnects, falls back to polling, resumes
//! with `since`, resends unanswered requests with their ids and keeps the
//! local cache; this task only translates.

use kfood_protocol::client::{ClientError, ClientEvent, ClientHandle, ConnState};
use kfood_protocol::{Envelope, ErrorCode, ProtocolError};
use tokio::sync::{mpsc, watch};

use crate::action::{AppEvent, NetCmd};

/// Commands from the app. The app sends at most a few per key press and the
/// task hands them to the manager at once (which queues them itself while
/// offline); when full, the event loop waits a moment.
pub const CMD_QUEUE: usize = 64;
/// Events for the app: room for a snapshot and a burst of replayed events
/// after a reconnect. When full this task waits, and so does the manager
/// behind it; the relay holds its own queue for us meanwhile.
pub const EVENT_QUEUE: usize = 1024;

/// Runs until the app drops its command sender; then closes the
/// connection, which writes the cache.
pub async fn run(
    handle: ClientHandle,
    mut events: mpsc::Receiver<ClientEvent>,
    mut state: watch::Receiver<ConnState>,
    mut cmds: mpsc::Receiver<NetCmd>,
    out: mpsc::Sender<AppEvent>,
) {
    let mut events_open = true;
    let mut state_open = true;
    let mut relay = handle.watch_relay();
    // The relay that answered the sign-in is named at once, then every move.
    relay.mark_changed();
    loop {
        tokio::select! {
            cmd = cmds.recv() => match cmd {
                Some(NetCmd::Request { id, request }) => {
                    match handle.submit_request(&request) {
                        Ok(pending) => {
                            let out = out.clone();
                            // The manager answers each request once, even across
                            // reconnects; waiting for it must not hold up events.
                            tokio::spawn(async move {
                                let result = match pending.await {
                                    Ok(ack) => Ok(ack.data),
                                    Err(e) => Err(refusal(e)),
                                };
                                let _ = out.send(AppEvent::Reply { id, result }).await;
                            });
                        }
                        Err(e) => {
                            let _ = out.send(AppEvent::Reply { id, result: Err(refusal(e)) }).await;
                        }
                    }
                }
                Some(NetCmd::SaveCart(cart)) => handle.set_cart(cart),
                None => break,
            },
            ev = events.recv(), if events_open => match ev {
                Some(ev) => {
                    if let Some(ev) = translate(ev) {
                        if out.send(ev).await.is_err() {
                            break;
                        }
                    }
                }
                None => events_open = false,
            },
            Ok(()) = relay.changed() => {
                let ws = relay.borrow_and_update().ws.clone();
                if out.send(AppEvent::Relay(ws)).await.is_err() {
                    break;
                }
            }
            changed = state.changed(), if state_open => match changed {
                Ok(()) => {
                    let conn = state.borrow_and_update().clone();
                    if out.send(AppEvent::Conn(conn)).await.is_err() {
                        break;
                    }
                }
                Err(_) => state_open = false,
            },
        }
    }
    handle.close().await;
}

/// A manager event as the app takes it.
pub fn translate(ev: ClientEvent) -> Option<AppEvent> {
    Some(match ev {
        ClientEvent::Cached(c) => AppEvent::Cached(Box::new(c)),
        ClientEvent::Welcome(w) => AppEvent::Message(Envelope::new(
            kfood_protocol::messages::kind::AUTHENTICATED,
            serde_json::to_value(w).ok()?,
        )),
        ClientEvent::Snapshot(env) | ClientEvent::Event(env) | ClientEvent::Notice(env) => {
            AppEvent::Message(env)
        }
        ClientEvent::Synced { .. } => AppEvent::Synced,
        ClientEvent::Error(e) => AppEvent::Message(Envelope::error(None, &e)),
    })
}

/// Why a request got no ack, as a refusal the app can show.
fn refusal(e: ClientError) -> ProtocolError {
    match e {
        ClientError::Refused(p) => p,
        ClientError::QueueFull(_) => ProtocolError::new(ErrorCode::RateLimited, e.to_string()),
        ClientError::AuthExpired => ProtocolError::new(ErrorCode::AuthFailed, e.to_string()),
        other => ProtocolError::internal(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refusal keeps its code; a full queue reads as rate limited.
    #[test]
    fn refusals_keep_their_code() {
        let declined = ProtocolError::new(ErrorCode::PaymentDeclined, "the card was declined");
        assert_eq!(refusal(ClientError::Refused(declined.clone())), declined);
        assert_eq!(
            refusal(ClientError::QueueFull(3)).code,
            ErrorCode::RateLimited
        );
        assert_eq!(refusal(ClientError::Closed).code, ErrorCode::Internal);
    }
}
