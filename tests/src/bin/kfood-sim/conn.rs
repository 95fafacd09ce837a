//! One simulated user's connection: send a request and await its reply, and
//! a stream of the events the relay sends.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use kfood_protocol::envelope::split_frame;
use kfood_protocol::messages::kind;
use kfood_protocol::{Envelope, Role};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use crate::Target;

/// Events a user may have unread before the oldest are dropped by the relay's
/// own slow-client rule; generous, since the simulator drains promptly.
const EVENT_QUEUE: usize = 4096;

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Envelope>>>>;

#[derive(Clone)]
pub struct SimConn {
    out: mpsc::Sender<Message>,
    pending: Pending,
    next: Arc<AtomicU64>,
    reconnects: Arc<AtomicU64>,
}

fn ws_url(relay: &str) -> String {
    let base = relay.trim_end_matches('/');
    if base.ends_with("/ws") {
        base.to_owned()
    } else {
        format!("{base}/ws")
    }
}

impl SimConn {
    pub async fn connect(
        target: &Target,
        token: String,
        role: Role,
    ) -> anyhow::Result<(SimConn, mpsc::Receiver<Envelope>)> {
        let (ws, _) = tokio_tungstenite::connect_async(ws_url(&target.relay)).await?;
        let (mut sink, mut stream) = ws.split();
        let auth = json!({"type": "authentication", "userType": role, "token": token});
        sink.send(Message::text(auth.to_string())).await?;
        let first = stream
            .next()
            .await
            .ok_or_else(|| anyhow::anyhow!("closed before authenticated"))??;
        let text = first.into_text()?;
        let mut envs = split_frame(&text)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .into_iter();
        let env = envs
            .next()
            .ok_or_else(|| anyhow::anyhow!("empty first frame"))?;
        if env.kind != kind::AUTHENTICATED {
            anyhow::bail!("not authenticated: {}", env.to_json());
        }
        let early: Vec<Envelope> = envs.collect();
        let heartbeat_ms = env.data["heartbeat_ms"].as_u64().unwrap_or(15_000).max(100);
        let (out_tx, mut out_rx) = mpsc::channel::<Message>(256);
        let (ev_tx, ev_rx) = mpsc::channel(EVENT_QUEUE);
        for e in early {
            let _ = ev_tx.try_send(e);
        }
        let pending: Pending = Arc::default();
        tokio::spawn(async move {
            let mut beat = tokio::time::interval(std::time::Duration::from_millis(heartbeat_ms));
            loop {
                tokio::select! {
                    m = out_rx.recv() => match m {
                        Some(m) => if sink.send(m).await.is_err() { break },
                        None => { let _ = sink.close().await; break }
                    },
                    _ = beat.tick() => {
                        let hb = json!({"type": "heartbeat", "data": {"t": kfood_protocol::time::now_ms()}});
                        if sink.send(Message::text(hb.to_string())).await.is_err() { break }
                    }
                }
            }
        });
        let reader_pending = pending.clone();
        tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                let Message::Text(t) = msg else { continue };
                let Ok(envs) = split_frame(&t) else { continue };
                for e in envs {
                    if e.kind == kind::ACK || e.kind == kind::ERROR {
                        if let Some(r) = e.reference() {
                            let waiter = reader_pending
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .remove(r);
                            if let Some(w) = waiter {
                                let _ = w.send(e);
                                continue;
                            }
                        }
                    }
                    if e.kind == kind::HEARTBEAT {
                        continue;
                    }
                    // A full event queue means the program stopped reading: drop, never block the socket.
                    let _ = ev_tx.try_send(e);
                }
            }
            // The socket is gone: every request still waiting fails now, not at its timeout.
            reader_pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clear();
        });
        let conn = SimConn {
            out: out_tx,
            pending,
            next: Arc::default(),
            reconnects: Arc::default(),
        };
        Ok((conn, ev_rx))
    }

    /// Sends `kind` and waits for its reply: the ack's data, or the error code.
    pub async fn request(&self, kind: &str, data: Value) -> Result<Value, String> {
        let id = format!("s-{}", self.next.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), tx);
        let msg = json!({"type": kind, "id": id, "data": data});
        if self.out.send(Message::text(msg.to_string())).await.is_err() {
            return Err("disconnected".into());
        }
        match tokio::time::timeout(std::time::Duration::from_secs(30), rx).await {
            Ok(Ok(e)) if e.kind == "ack" => Ok(e.data),
            Ok(Ok(e)) => Err(e.data["code"].as_str().unwrap_or("error").to_owned()),
            Ok(Err(_)) => Err("disconnected".into()),
            Err(_) => Err("timeout".into()),
        }
    }

    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed)
    }

    pub async fn close(self) {
        drop(self.out);
    }
}
