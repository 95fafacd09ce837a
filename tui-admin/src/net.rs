//! The network task: the shared connection manager (`kfood_protocol::client`,
//! DESIGN §11) turned into the program's [`AppEvent`]s, and the program's
//! [`NetCmd`]s into its requests. Reconnects, resume from the last seq,
//! heartbeats and the polling fallback are the manager's. The day's report
//! comes over the HTTP API ([`ReportSource`]) in a task of its own.

use kfood_protocol::client::{ClientError, ClientEvent, ClientHandle, ConnState};
use std::sync::Arc;

use kfood_protocol::Envelope;
use tokio::sync::{mpsc, watch, Mutex};
use tokio_util::sync::CancellationToken;

use crate::app::{AppEvent, NetCmd, RequestError};
use crate::report::ReportSource;

/// Relays between the connection manager and the program until `shutdown`.
pub async fn run(
    client: ClientHandle,
    mut events: mpsc::Receiver<ClientEvent>,
    mut state: watch::Receiver<ConnState>,
    tx: mpsc::Sender<AppEvent>,
    mut cmds: mpsc::Receiver<NetCmd>,
    report: Arc<Mutex<ReportSource>>,
    shutdown: CancellationToken,
) {
    let first = state.borrow_and_update().clone();
    let _ = tx.send(AppEvent::Conn(first)).await;
    let mut relay = client.watch_relay();
    // The relay that answered the sign-in is named at once, then every move.
    relay.mark_changed();
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
                    let _ = tx.send(AppEvent::Conn(ConnState::Closed)).await;
                    break;
                }
                let c = state.borrow_and_update().clone();
                if tx.send(AppEvent::Conn(c)).await.is_err() {
                    break;
                }
            }
            Ok(()) = relay.changed() => {
                let ws = relay.borrow_and_update().ws.clone();
                if tx.send(AppEvent::Relay(ws)).await.is_err() {
                    break;
                }
            }
            cmd = cmds.recv() => match cmd {
                Some(NetCmd::Report { date }) => fetch_report(&report, date, &tx),
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
    let NetCmd::Request { id, request } = cmd else {
        return;
    };
    let tx = tx.clone();
    match client.submit_request(&request) {
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

/// Fetches the day's report in a task of its own (the loop never waits on
/// HTTP); it comes back as [`AppEvent::Report`]. Fetches take turns, so a
/// renewed token is kept for the next.
fn fetch_report(
    source: &Arc<Mutex<ReportSource>>,
    date: Option<String>,
    tx: &mpsc::Sender<AppEvent>,
) {
    let source = source.clone();
    let tx = tx.clone();
    tokio::spawn(async move {
        let result = source.lock().await.fetch(date.as_deref()).await;
        let _ = tx
            .send(AppEvent::Report(
                result.map(Box::new).map_err(|e| e.to_string()),
            ))
            .await;
    });
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

/// What a manager event means for the program, if anything.
pub fn app_event(ev: ClientEvent) -> Option<AppEvent> {
    match ev {
        ClientEvent::Welcome(w) => Some(AppEvent::Welcome(w.user)),
        ClientEvent::Snapshot(env) | ClientEvent::Event(env) | ClientEvent::Notice(env) => {
            Some(AppEvent::Net(env))
        }
        ClientEvent::Error(e) => Some(AppEvent::Net(Envelope::error(None, &e))),
        // What the cache held at start is drawn until the relay's replay
        // (or snapshot) updates it; the status bar says `stale` meanwhile.
        ClientEvent::Cached(c) => Some(AppEvent::Cached(Box::new(c.entry.model))),
        ClientEvent::Synced { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kfood_protocol::client::CachedState;
    use kfood_protocol::{ErrorCode, ProtocolError};

    /// The cache reaches the program as its whole model, alerts and promos included.
    #[test]
    fn the_cache_is_drawn_whole() {
        let mut entry = kfood_protocol::client::CacheEntry::new("ws://h/ws", "boss");
        entry.last_seq = Some(7);
        entry.model.head_seq = 7;
        entry.model.promos.insert(
            "WELCOME10".into(),
            kfood_protocol::menu::Promo {
                code: "WELCOME10".into(),
                percent_off: Some(10),
                amount_off_cents: None,
                active: true,
                expires_at: None,
            },
        );
        let ev = app_event(ClientEvent::Cached(CachedState {
            entry,
            stale: true,
            age_ms: 600_000,
        }));
        let Some(AppEvent::Cached(model)) = ev else {
            panic!("{ev:?}")
        };
        assert_eq!(model.head_seq, 7);
        assert!(model.promos.contains_key("WELCOME10"));
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
