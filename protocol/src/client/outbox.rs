//! Requests waiting for their answer, and the batching writer (DESIGN §11).
//!
//! Every request carries an id (`c-<n>`) and stays in the outbox until
//! its `ack` or `error` arrives. When a socket dies, whatever was sent on it
//! without an answer has an unknown outcome; it is sent again, with the same
//! id, on the next connection or by HTTP. The relay's idempotency
//! (`client_order_id` in `order_place`, a repeated status being a no-op)
//! makes that safe.
//!
//! The writer sends a message at once when it is idle; messages that pile up
//! while a frame is being written leave together as one `batch` frame.

use std::collections::{BTreeMap, VecDeque};

use futures_util::{Sink, SinkExt};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::error::ClientError;
use crate::envelope::{join_batch, Envelope};
use crate::error::{ErrorCode, ProtocolError};

/// Bytes of messages joined into one frame at most: well under the relay's
/// 64 KiB frame limit (DESIGN §9), so a batch never gets the socket closed.
pub const MAX_BATCH_BYTES: usize = crate::limits::MAX_FRAME_BYTES / 2;
/// Times a request refused `rate_limited` is sent again (after the
/// `retry_after_ms` the relay asks for) before the refusal is handed back.
pub const RATE_LIMIT_RETRIES: u32 = 5;

/// The answer to a request: its `ack`, or why there is none.
pub type Reply = Result<Envelope, ClientError>;

/// A request on its way from a handle to the connection task.
#[derive(Debug)]
pub(crate) struct Request {
    /// Position in creation order; the id is `c-<n>`.
    pub n: u64,
    /// The whole envelope, serialised once.
    pub text: String,
    pub reply: oneshot::Sender<Reply>,
    /// Held until the request is answered: the queue's capacity.
    pub permit: OwnedSemaphorePermit,
}

pub(crate) fn request_id(n: u64) -> String {
    format!("c-{n}")
}

fn parse_request_id(id: &str) -> Option<u64> {
    id.strip_prefix("c-")?.parse().ok()
}

#[derive(Debug)]
struct Pending {
    text: String,
    reply: oneshot::Sender<Reply>,
    _permit: OwnedSemaphorePermit,
    /// Written on the current connection, answer not yet in.
    in_flight: bool,
    /// Not to be sent before this (the relay asked us to slow down).
    not_before: Option<Instant>,
    rate_retries: u32,
}

/// What an answer did to the outbox.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// Handed to the waiting caller.
    Answered,
    /// `rate_limited`: to be sent again at the given time.
    RetryAt(Instant),
    /// No such request waiting (a duplicate answer after a resend).
    Unknown,
}

/// Requests waiting for their answer, in creation order.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    items: BTreeMap<u64, Pending>,
}

impl Outbox {
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn push(&mut self, r: Request) {
        self.items.insert(
            r.n,
            Pending {
                text: r.text,
                reply: r.reply,
                _permit: r.permit,
                in_flight: false,
                not_before: None,
                rate_retries: 0,
            },
        );
    }

    /// Marks up to `limit` requests that may go now as in flight and returns
    /// them (id number and text), oldest first.
    pub fn take_unsent(&mut self, limit: usize, now: Instant) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        for (n, p) in self.items.iter_mut() {
            if out.len() >= limit {
                break;
            }
            if p.in_flight || p.not_before.is_some_and(|t| t > now) {
                continue;
            }
            p.in_flight = true;
            p.not_before = None;
            out.push((*n, p.text.clone()));
        }
        out
    }

    pub fn has_unsent(&self, now: Instant) -> bool {
        self.items
            .values()
            .any(|p| !p.in_flight && p.not_before.is_none_or(|t| t <= now))
    }

    /// The connection is gone: whatever was in flight has an unknown outcome
    /// and goes again.
    pub fn mark_all_unsent(&mut self) {
        for p in self.items.values_mut() {
            p.in_flight = false;
        }
    }

    pub fn mark_unsent(&mut self, ns: &[u64]) {
        for n in ns {
            if let Some(p) = self.items.get_mut(n) {
                p.in_flight = false;
            }
        }
    }

    /// Earliest time a rate-limited request may go again.
    pub fn next_retry(&self) -> Option<Instant> {
        self.items
            .values()
            .filter(|p| !p.in_flight)
            .filter_map(|p| p.not_before)
            .min()
    }

    /// Applies an `ack` or `error` whose `ref` is `reference`.
    pub fn resolve(&mut self, reference: &str, env: Envelope, now: Instant) -> Resolved {
        let Some(n) = parse_request_id(reference) else {
            return Resolved::Unknown;
        };
        let Some(p) = self.items.get_mut(&n) else {
            return Resolved::Unknown;
        };
        if env.kind == crate::messages::kind::ERROR {
            let err = refusal(&env);
            if err.code == ErrorCode::RateLimited && p.rate_retries < RATE_LIMIT_RETRIES {
                let wait = env
                    .data
                    .get("retry_after_ms")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(1000)
                    .clamp(10, 60_000);
                let at = now + std::time::Duration::from_millis(wait);
                p.rate_retries += 1;
                p.in_flight = false;
                p.not_before = Some(at);
                return Resolved::RetryAt(at);
            }
            if let Some(p) = self.items.remove(&n) {
                let _ = p.reply.send(Err(ClientError::Refused(err)));
            }
        } else if let Some(p) = self.items.remove(&n) {
            let _ = p.reply.send(Ok(env));
        }
        Resolved::Answered
    }

    /// Ends every request with `err` (the client is closing).
    pub fn fail_all(&mut self, err: &ClientError) {
        for (_, p) in std::mem::take(&mut self.items) {
            let _ = p.reply.send(Err(err.clone()));
        }
    }
}

/// The refusal in an `error` envelope.
pub(crate) fn refusal(env: &Envelope) -> ProtocolError {
    let code = env.error_code().unwrap_or(ErrorCode::Internal);
    let message = env
        .data
        .get("message")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("refused without a reason")
        .to_owned();
    let field = env
        .data
        .get("field")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    ProtocolError {
        code,
        message,
        field,
    }
}

/// The batching decision: the next frame to write from `queue` — the
/// message itself when it is alone, else a `batch` of at most `cap` messages
/// and about [`MAX_BATCH_BYTES`] — or `None` when there is nothing to write.
pub fn next_frame(queue: &mut VecDeque<String>, cap: usize) -> Option<String> {
    let first = queue.pop_front()?;
    if queue.is_empty() || cap <= 1 {
        return Some(first);
    }
    let mut bytes = first.len();
    let mut taken = vec![first];
    while taken.len() < cap {
        match queue.front() {
            Some(m) if bytes + m.len() <= MAX_BATCH_BYTES => {
                bytes += m.len();
                taken.extend(queue.pop_front());
            }
            _ => break,
        }
    }
    if taken.len() == 1 {
        return taken.pop();
    }
    Some(join_batch(&taken))
}

/// What the connection task hands its socket's writer.
#[derive(Debug)]
pub(crate) enum Outbound {
    /// One serialised message.
    Text(String),
    /// Write what is queued, then close with this code.
    Close(u16),
}

/// Writes what arrives on `rx` to `sink`, batching what piles up while a
/// write is in progress. Ends when `rx` closes, after a `Close`, or when the
/// sink fails.
pub(crate) async fn writer_loop<S>(mut sink: S, mut rx: mpsc::Receiver<Outbound>, cap: usize)
where
    S: Sink<Message> + Unpin,
    S::Error: std::fmt::Display,
{
    let mut queue: VecDeque<String> = VecDeque::new();
    let mut close: Option<u16> = None;
    let take = |o: Outbound, queue: &mut VecDeque<String>, close: &mut Option<u16>| match o {
        Outbound::Text(t) => queue.push_back(t),
        Outbound::Close(code) => *close = Some(code),
    };
    while let Some(first) = rx.recv().await {
        take(first, &mut queue, &mut close);
        loop {
            // Whatever piled up while the last frame was being written.
            while close.is_none() {
                match rx.try_recv() {
                    Ok(o) => take(o, &mut queue, &mut close),
                    Err(_) => break,
                }
            }
            let Some(frame) = next_frame(&mut queue, cap) else {
                break;
            };
            if let Err(e) = sink.send(Message::text(frame)).await {
                tracing::debug!(cause = %e, "socket write failed");
                return;
            }
        }
        if let Some(code) = close {
            let frame = CloseFrame {
                code: CloseCode::from(code),
                reason: "".into(),
            };
            let _ = sink.send(Message::Close(Some(frame))).await;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use std::sync::{Arc, Mutex};
    use tokio::sync::Semaphore;

    fn q(items: &[&str]) -> VecDeque<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_lone_message_goes_as_itself() {
        let mut queue = q(&[r#"{"type":"a"}"#]);
        assert_eq!(
            next_frame(&mut queue, 10).as_deref(),
            Some(r#"{"type":"a"}"#)
        );
        assert_eq!(next_frame(&mut queue, 10), None);
    }

    #[test]
    fn piled_up_messages_go_as_batches_of_at_most_cap() {
        let msgs: Vec<String> = (0..25).map(|i| format!(r#"{{"type":"m{i}"}}"#)).collect();
        let mut queue: VecDeque<String> = msgs.iter().cloned().collect();
        let mut sizes = Vec::new();
        let mut seen = Vec::new();
        while let Some(f) = next_frame(&mut queue, 10) {
            let v: Value = serde_json::from_str(&f).unwrap();
            if v["type"] == "batch" {
                let inner = v["data"].as_array().unwrap();
                sizes.push(inner.len());
                seen.extend(inner.iter().map(|m| m["type"].as_str().unwrap().to_owned()));
            } else {
                sizes.push(1);
                seen.push(v["type"].as_str().unwrap().to_owned());
            }
        }
        assert_eq!(sizes, [10, 10, 5]);
        let expected: Vec<String> = (0..25).map(|i| format!("m{i}")).collect();
        assert_eq!(seen, expected, "order is kept");
        // A cap of one never batches.
        let mut queue = q(&["a", "b"]);
        assert_eq!(next_frame(&mut queue, 1).as_deref(), Some("a"));
    }

    #[test]
    fn batches_stay_under_the_frame_limit() {
        let big = format!(r#"{{"type":"x","data":"{}"}}"#, "y".repeat(20_000));
        let mut queue: VecDeque<String> = std::iter::repeat_n(big, 4).collect();
        let first = next_frame(&mut queue, 10).unwrap();
        assert!(first.len() <= MAX_BATCH_BYTES + 64, "{}", first.len());
        assert_eq!(
            queue.len(),
            3,
            "two 20 kB messages would pass the limit: one goes alone"
        );
    }

    /// An idle writer sends a message at once, alone; what arrives while it
    /// writes leaves as one batch (at most `cap` per frame).
    #[tokio::test]
    async fn writer_batches_what_piles_up_during_a_write() {
        let frames = Arc::new(Mutex::new(Vec::<String>::new()));
        let gate = Arc::new(Semaphore::new(0));
        let sink = futures_util::sink::unfold(
            (frames.clone(), gate.clone()),
            |(frames, gate), msg: Message| async move {
                frames
                    .lock()
                    .unwrap()
                    .push(msg.to_text().unwrap().to_owned());
                // Each write completes only when the test lets it.
                gate.acquire().await.unwrap().forget();
                Ok::<_, std::convert::Infallible>((frames, gate))
            },
        );
        let (tx, rx) = mpsc::channel(64);
        let writer = tokio::spawn(writer_loop(Box::pin(sink), rx, 3));
        tx.send(Outbound::Text("A".into())).await.unwrap();
        wait_for(&frames, 1).await;
        assert_eq!(frames.lock().unwrap()[0], "A", "sent at once, alone");
        for m in ["B", "C", "D", "E"] {
            tx.send(Outbound::Text(m.into())).await.unwrap();
        }
        gate.add_permits(1);
        wait_for(&frames, 2).await;
        gate.add_permits(1);
        wait_for(&frames, 3).await;
        {
            let f = frames.lock().unwrap();
            assert_eq!(f[1], r#"{"type":"batch","data":[B,C,D]}"#);
            assert_eq!(f[2], "E");
        }
        gate.add_permits(10);
        tx.send(Outbound::Close(1000)).await.unwrap();
        writer.await.unwrap();
        // The close frame went last.
        assert_eq!(frames.lock().unwrap().len(), 4);
    }

    async fn wait_for(frames: &Arc<Mutex<Vec<String>>>, n: usize) {
        for _ in 0..200 {
            if frames.lock().unwrap().len() >= n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        panic!(
            "writer wrote {:?}, wanted {n} frames",
            frames.lock().unwrap()
        );
    }

    fn request(n: u64, sem: &Arc<Semaphore>) -> (Request, oneshot::Receiver<Reply>) {
        let (tx, rx) = oneshot::channel();
        let text = Envelope::new("x", json!({}))
            .with_id(request_id(n))
            .to_json();
        let permit = sem.clone().try_acquire_owned().unwrap();
        (
            Request {
                n,
                text,
                reply: tx,
                permit,
            },
            rx,
        )
    }

    #[test]
    fn outbox_resends_unknown_outcomes_with_the_same_id() {
        let sem = Arc::new(Semaphore::new(3));
        let mut ob = Outbox::default();
        let now = Instant::now();
        let (r1, mut rx1) = request(1, &sem);
        let (r2, mut rx2) = request(2, &sem);
        ob.push(r1);
        ob.push(r2);
        assert_eq!(sem.available_permits(), 1, "queued requests hold capacity");
        let sent: Vec<u64> = ob
            .take_unsent(10, now)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(sent, [1, 2]);
        assert!(ob.take_unsent(10, now).is_empty(), "in flight: not twice");
        // The socket dies; both are sent again, same text (same id).
        ob.mark_all_unsent();
        let again = ob.take_unsent(10, now);
        assert!(again[0].1.contains(r#""id":"c-1""#), "{}", again[0].1);
        // Answers resolve the callers and free capacity.
        let ack = Envelope::ack(Some("c-1"), json!({"order": 1}));
        assert_eq!(ob.resolve("c-1", ack, now), Resolved::Answered);
        assert_eq!(rx1.try_recv().unwrap().unwrap().data["order"], 1);
        // A duplicate answer after a resend is ignored.
        let ack = Envelope::ack(Some("c-1"), json!({}));
        assert_eq!(ob.resolve("c-1", ack, now), Resolved::Unknown);
        let err = Envelope::error(Some("c-2"), &ProtocolError::invalid("qty", "too many"));
        ob.resolve("c-2", err, now);
        match rx2.try_recv().unwrap() {
            Err(ClientError::Refused(e)) => {
                assert_eq!(
                    (e.code, e.field.as_deref()),
                    (ErrorCode::Invalid, Some("qty"))
                )
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(ob.len(), 0);
        assert_eq!(sem.available_permits(), 3);
    }

    #[test]
    fn rate_limited_requests_wait_then_go_again() {
        let sem = Arc::new(Semaphore::new(3));
        let mut ob = Outbox::default();
        let now = Instant::now();
        let (r, mut rx) = request(7, &sem);
        ob.push(r);
        ob.take_unsent(10, now);
        let mut err = Envelope::error(
            Some("c-7"),
            &ProtocolError::new(ErrorCode::RateLimited, "slow down"),
        );
        err.data["retry_after_ms"] = json!(300);
        let at = now + std::time::Duration::from_millis(300);
        assert_eq!(ob.resolve("c-7", err.clone(), now), Resolved::RetryAt(at));
        assert!(rx.try_recv().is_err(), "not answered yet");
        assert!(ob.take_unsent(10, now).is_empty(), "not before its time");
        assert!(!ob.has_unsent(now));
        assert_eq!(ob.next_retry(), Some(at));
        assert_eq!(ob.take_unsent(10, at).len(), 1);
        // After the retries run out, the refusal is handed back.
        for _ in 0..RATE_LIMIT_RETRIES {
            ob.resolve("c-7", err.clone(), now);
            ob.take_unsent(10, now + std::time::Duration::from_secs(60));
        }
        assert!(matches!(
            rx.try_recv().unwrap(),
            Err(ClientError::Refused(ProtocolError {
                code: ErrorCode::RateLimited,
                ..
            }))
        ));
    }

    #[test]
    fn fail_all_ends_every_request() {
        let sem = Arc::new(Semaphore::new(2));
        let mut ob = Outbox::default();
        let (r, mut rx) = request(1, &sem);
        ob.push(r);
        ob.fail_all(&ClientError::Closed);
        assert_eq!(rx.try_recv().unwrap(), Err(ClientError::Closed));
        assert_eq!(ob.len(), 0);
    }
}
