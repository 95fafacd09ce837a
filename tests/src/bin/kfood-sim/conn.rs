//! One simulated user's connection, through the same connection manager the
//! terminal programs use (`kfood_protocol::client`): requests with their
//! replies, a stream of the events the relay sends, and reconnects counted.
//! Requests go out as typed [`Request`] values; replies are read typed with
//! [`Ack::get`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kfood_protocol::client::{
    Client, ClientConfig, ClientError, ClientEvent, ClientHandle, ConnState, Credentials,
};
use kfood_protocol::{Envelope, Request, Role};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::failover::Probe;
use crate::Target;

/// Events a simulated user may have unread; the simulator drains promptly.
const EVENT_QUEUE: usize = 4096;
/// How long a user may take to become live before it counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a request may wait for its reply before it counts as `timeout`.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// The `data` of an `ack`.
pub struct Ack(Value);

impl Ack {
    /// The ack's `field`, read as `T` (an [`kfood_protocol::Order`], a quote's
    /// total, an announcement); `None` when it is missing or not a `T`.
    pub fn get<T: DeserializeOwned>(&self, field: &str) -> Option<T> {
        let v = self.0.get(field)?.clone();
        kfood_protocol::envelope::parse_value(v).ok()
    }
}

#[derive(Clone)]
pub struct SimConn {
    handle: ClientHandle,
    reconnects: Arc<AtomicU64>,
    /// What this user saw of a relay killed mid-load (`--kill-pid`).
    pub probe: Arc<Probe>,
}

impl SimConn {
    /// Connects to the relays of `--relay` and waits until the client is live.
    pub async fn connect(
        target: &Target,
        token: String,
        role: Role,
    ) -> anyhow::Result<(SimConn, mpsc::Receiver<Envelope>)> {
        Self::connect_via(target, &target.relay, token, role).await
    }

    /// Connects to `relays` (one address or a comma-separated list, tried in
    /// that order) and waits until the client is live.
    pub async fn connect_via(
        target: &Target,
        relays: &str,
        token: String,
        role: Role,
    ) -> anyhow::Result<(SimConn, mpsc::Receiver<Envelope>)> {
        let mut config = ClientConfig::new(relays, Credentials::Token(token), role)?;
        config.ca_cert = target.ca_cert.clone();
        let (handle, mut events, mut state) = Client::connect(config)?;
        let reached: Option<ConnState> = match tokio::time::timeout(
            CONNECT_TIMEOUT,
            state.wait_for(|s| s.is_live() || *s == ConnState::AuthExpired),
        )
        .await
        {
            Ok(Ok(s)) => Some(s.clone()),
            _ => None,
        };
        let Some(reached) = reached else {
            anyhow::bail!("not live within {CONNECT_TIMEOUT:?}");
        };
        if !reached.is_live() {
            anyhow::bail!("not connected: {reached}");
        }
        let reconnects = Arc::new(AtomicU64::new(0));
        let counter = reconnects.clone();
        tokio::spawn(async move {
            let mut was_live = true;
            while state.changed().await.is_ok() {
                let live = state.borrow().is_live();
                if was_live && !live {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                was_live = live;
            }
        });
        let (tx, rx) = mpsc::channel(EVENT_QUEUE);
        let probe = Arc::new(Probe::default());
        let (seen, on) = (probe.clone(), handle.clone());
        tokio::spawn(async move {
            while let Some(ev) = events.recv().await {
                seen.saw(&ev, &on.relay().ws);
                let env = match ev {
                    ClientEvent::Event(e) | ClientEvent::Notice(e) | ClientEvent::Snapshot(e) => e,
                    _ => continue,
                };
                // A full queue means the simulated user stopped reading: drop rather than stall the client.
                let _ = tx.try_send(env);
            }
        });
        Ok((
            SimConn {
                handle,
                reconnects,
                probe,
            },
            rx,
        ))
    }

    /// Sends `req` and waits for its reply: the ack, or the error code.
    pub async fn request(&self, req: &Request) -> Result<Ack, String> {
        match tokio::time::timeout(REPLY_TIMEOUT, self.handle.send(req)).await {
            Ok(Ok(ack)) => Ok(Ack(ack.data)),
            Ok(Err(ClientError::Refused(e))) => Err(e.code.as_str().to_owned()),
            Ok(Err(ClientError::QueueFull(_))) => Err("queue_full".into()),
            Ok(Err(ClientError::AuthExpired)) => Err("auth_expired".into()),
            Ok(Err(_)) => Err("disconnected".into()),
            Err(_) => Err("timeout".into()),
        }
    }

    /// The relay this user is on now (its WebSocket URL).
    pub fn relay(&self) -> String {
        self.handle.relay().ws
    }

    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed)
    }

    pub async fn close(self) {
        self.handle.close().await;
    }
}
