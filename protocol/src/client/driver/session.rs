//! One socket's life: authenticate, resume, then live until it ends.

use std::time::Duration;

use futures_util::stream::SplitStream;
use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;

use super::welcome::{close_end, read_welcome};
use super::{
    sleep_until_opt, AbortOnDrop, Driver, End, CACHE_FLUSH_EVERY, CLOSE_GRACE, MIN_HEARTBEAT,
    WRITE_SLACK,
};
use crate::client::outbox::{writer_loop, Outbound};
use crate::client::transport::WsStream;
use crate::client::{ClientEvent, ConnState, Control};
use crate::envelope::split_frame;
use crate::messages::{kind, Heartbeat};
use crate::request::Request;

/// The socket's read half.
type Reader = SplitStream<WsStream>;

/// The socket's writer task and the queue to it.
struct Writer {
    out: mpsc::Sender<Outbound>,
    task: AbortOnDrop,
}

impl Writer {
    /// Says goodbye (close 1000) and gives the writer a moment to send it.
    async fn close(&mut self) {
        let _ = self.out.try_send(Outbound::Close(1000));
        let _ = tokio::time::timeout(CLOSE_GRACE, &mut self.task.0).await;
    }
}

impl Driver {
    pub(super) fn send_unsent(&mut self, out: &mpsc::Sender<Outbound>) {
        for (n, text) in self.outbox.take_unsent(usize::MAX, Instant::now()) {
            if out.try_send(Outbound::Text(text)).is_err() {
                // The writer is stuck or gone; the silence check or the
                // writer's end will end this connection, and it goes again.
                self.outbox.mark_unsent(&[n]);
            }
        }
    }

    fn heartbeat(&self) -> String {
        let t = self.epoch.elapsed().as_millis() as u64;
        Request::Heartbeat(Heartbeat {
            t: json!(t),
            relay_ms: None,
            reference: None,
        })
        .to_envelope()
        .to_json()
    }

    /// One socket's life: authenticate, resume, then live until it ends.
    pub(super) async fn session(&mut self, ws: WsStream) -> End {
        self.caught_up = false;
        let (sink, mut stream) = ws.split();
        let (out, rx) = mpsc::channel(self.cfg.effective_queue_cap() + WRITE_SLACK);
        let task = tokio::spawn(writer_loop(sink, rx, self.cfg.effective_batch_cap()));
        let mut writer = Writer {
            out,
            task: AbortOnDrop(task),
        };
        let hb = match self.authenticate(&mut writer, &mut stream).await {
            Ok(hb) => hb,
            Err(end) => return end,
        };
        self.live(&mut writer, &mut stream, hb).await
    }

    /// Sends `authentication` (with `since` when we have one), reads the
    /// welcome and what came with it, and starts the resume. Returns the
    /// heartbeat interval the relay asked for.
    async fn authenticate(&mut self, w: &mut Writer, stream: &mut Reader) -> Result<Duration, End> {
        let since = self.seq.last();
        let mut auth = json!({
            "type": kind::AUTHENTICATION,
            "userType": self.cfg.role,
            "token": self.token.clone().unwrap_or_default(),
        });
        if let Some(s) = since {
            auth["since"] = json!(s);
        }
        if w.out.send(Outbound::Text(auth.to_string())).await.is_err() {
            return Err(End::Lost {
                welcomed: false,
                why: "socket writer ended".into(),
            });
        }
        let first = tokio::time::timeout(self.cfg.connect_timeout, read_welcome(stream)).await;
        let (welcome, rest) = match first {
            Err(_) => {
                return Err(End::Lost {
                    welcomed: false,
                    why: "no answer to authentication".into(),
                })
            }
            Ok(Err(end)) => {
                if let End::AuthRejected(Some(e)) = &end {
                    self.emit(ClientEvent::Error(e.clone())).await;
                }
                return Err(end);
            }
            Ok(Ok(w)) => w,
        };
        tracing::info!(user = %welcome.user.id, session = %welcome.session, head_seq = welcome.head_seq, since = ?since, "authenticated");
        if let Some(end) = self.welcome(&welcome, since.is_some()).await {
            w.close().await;
            return Err(end);
        }
        self.fresh_login_used = false;
        self.set_state(ConnState::Live { rtt_ms: None });
        self.emit(ClientEvent::Welcome(welcome.clone())).await;
        // A heartbeat at once, so the round trip shows without waiting.
        let _ = w.out.try_send(Outbound::Text(self.heartbeat()));
        // Answered after the replay: marks the moment we are caught up.
        self.syncs += 1;
        let sync = Request::Sync(crate::messages::Sync {
            since: Some(welcome.head_seq),
        })
        .to_envelope()
        .with_id(format!("s-{}", self.syncs))
        .to_json();
        let _ = w.out.try_send(Outbound::Text(sync));
        self.outbox.mark_all_unsent();
        self.send_unsent(&w.out);
        for env in rest {
            if let Some(end) = self.on_message(env).await {
                return Err(end);
            }
        }
        Ok(Duration::from_millis(welcome.heartbeat_ms).max(MIN_HEARTBEAT))
    }

    /// Live: frames in, heartbeats and requests out, until the socket ends,
    /// falls silent for two heartbeats, or the program says otherwise.
    async fn live(&mut self, w: &mut Writer, stream: &mut Reader, hb: Duration) -> End {
        let silence = tokio::time::sleep(hb * 2);
        tokio::pin!(silence);
        let mut beat = tokio::time::interval_at(Instant::now() + hb, hb);
        beat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut flush = tokio::time::interval(CACHE_FLUSH_EVERY);
        let lost = |why: String| End::Lost {
            welcomed: true,
            why,
        };
        loop {
            let retry_at = self.outbox.next_retry();
            tokio::select! {
                frame = stream.next() => {
                    let msg = match frame {
                        Some(Ok(msg)) => msg,
                        Some(Err(e)) => return lost(e.to_string()),
                        None => return lost("socket ended".into()),
                    };
                    // Anything at all proves the socket alive.
                    silence.as_mut().reset(Instant::now() + hb * 2);
                    if let Some(end) = self.on_frame(msg).await {
                        return end;
                    }
                }
                _ = beat.tick() => {
                    let _ = w.out.try_send(Outbound::Text(self.heartbeat()));
                }
                () = &mut silence => {
                    tracing::warn!(silent_ms = (hb * 2).as_millis() as u64, "nothing heard from the relay: reconnecting");
                    return lost("heartbeat timeout".into());
                }
                () = sleep_until_opt(retry_at) => self.send_unsent(&w.out),
                r = self.requests.recv() => match r {
                    Some(r) => {
                        self.outbox.push(r);
                        self.send_unsent(&w.out);
                    }
                    None => {
                        w.close().await;
                        return End::Shutdown;
                    }
                },
                c = self.control.recv() => {
                    let end = match c {
                        None | Some(Control::Close) => End::Shutdown,
                        Some(Control::ReconnectNow) => continue,
                        Some(Control::SetCredentials(c)) => {
                            self.set_credentials(c);
                            End::Restart
                        }
                    };
                    w.close().await;
                    return end;
                }
                _ = flush.tick() => self.flush_cache(),
                () = w.out.closed() => return lost("socket write failed".into()),
            }
        }
    }

    /// One frame from the relay: its messages in order, or how a close
    /// frame ends the connection.
    async fn on_frame(&mut self, msg: Message) -> Option<End> {
        match msg {
            Message::Text(t) => match split_frame(&t) {
                Ok(envs) => {
                    for env in envs {
                        if let Some(end) = self.on_message(env).await {
                            return Some(end);
                        }
                    }
                }
                Err(e) => tracing::warn!(cause = %e, "unreadable frame from the relay"),
            },
            Message::Close(frame) => return Some(close_end(frame, true)),
            _ => {}
        }
        None
    }
}
