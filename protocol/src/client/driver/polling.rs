//! The HTTP fallback (DESIGN §11): long-poll `/api/events`, post queued
//! requests to `/api/messages`, and probe the socket in the background,
//! moving back to it once it opens.

use tokio::time::Instant;

use super::{opt, sleep_until_opt, BoxFut, Driver, End, CACHE_FLUSH_EVERY};
use crate::client::transport::{HttpFail, WsStream};
use crate::client::{ConnState, Control};
use crate::envelope::{join_batch, Envelope};
use crate::messages::EventsPage;

/// A `POST /api/messages` in flight: the requests it carries and the replies.
type PostFut = BoxFut<(Vec<u64>, Result<Vec<Envelope>, HttpFail>)>;

/// What the fallback has in flight and when it next tries each thing.
struct Poller {
    token: String,
    poll: Option<BoxFut<Result<EventsPage, HttpFail>>>,
    post: Option<PostFut>,
    probe: Option<BoxFut<Result<WsStream, String>>>,
    /// A socket the probe opened, kept until a post in flight has its answer.
    reopened: Option<WsStream>,
    poll_at: Instant,
    post_at: Instant,
    probe_at: Instant,
    poll_failures: u32,
}

impl Poller {
    /// The earliest moment something is due, given what is in flight.
    fn wake(&self, driver: &Driver, now: Instant) -> Option<Instant> {
        let mut wake = driver.outbox.next_retry();
        let mut at = |t: Instant| wake = Some(wake.map_or(t, |w: Instant| w.min(t)));
        if self.post.is_none() && driver.outbox.has_unsent(now) {
            at(self.post_at);
        }
        if self.reopened.is_none() {
            if self.poll.is_none() {
                at(self.poll_at);
            }
            if self.probe.is_none() {
                at(self.probe_at);
            }
        }
        wake
    }
}

impl Driver {
    /// HTTP polling while the socket cannot be opened; probes the socket in
    /// the background and returns it once it opens.
    pub(super) async fn polling(&mut self, failures: &mut u32) -> Result<WsStream, End> {
        let Some(token) = self.token.clone() else {
            return Err(End::Restart);
        };
        tracing::warn!(
            failures = *failures,
            "the socket cannot be opened: falling back to HTTP polling"
        );
        self.set_state(ConnState::Polling);
        self.caught_up = false;
        let now = Instant::now();
        let mut p = Poller {
            token,
            poll: None,
            post: None,
            probe: None,
            reopened: None,
            poll_at: now,
            post_at: now,
            probe_at: now + self.cfg.backoff.next_delay(*failures),
            poll_failures: 0,
        };
        let mut flush = tokio::time::interval(CACHE_FLUSH_EVERY);
        loop {
            if let Some(ws) = p.reopened.take() {
                if p.post.is_none() {
                    tracing::info!("the socket opens again: leaving HTTP polling");
                    return Ok(ws);
                }
                // Let the post in flight finish: its outcome is then known.
                p.reopened = Some(ws);
            }
            self.start_due(&mut p);
            let wake = p.wake(self, Instant::now());
            tokio::select! {
                r = opt(&mut p.poll) => {
                    p.poll = None;
                    self.on_poll(&mut p, r).await?;
                }
                r = opt(&mut p.post) => {
                    p.post = None;
                    self.on_post(&mut p, r).await?;
                }
                r = opt(&mut p.probe) => {
                    p.probe = None;
                    match r {
                        Ok(ws) => {
                            // The long-poll in flight is dropped; the socket
                            // resumes from the last seq instead.
                            p.poll = None;
                            p.reopened = Some(ws);
                        }
                        Err(why) => {
                            *failures += 1;
                            tracing::debug!(why = %why, failures = *failures, "socket probe failed");
                            p.probe_at = Instant::now() + self.cfg.backoff.next_delay(*failures);
                        }
                    }
                }
                () = sleep_until_opt(wake) => {}
                r = self.requests.recv() => match r {
                    Some(r) => self.outbox.push(r),
                    None => return Err(End::Shutdown),
                },
                c = self.control.recv() => match c {
                    None | Some(Control::Close) => return Err(End::Shutdown),
                    Some(Control::ReconnectNow) => p.probe_at = Instant::now(),
                    Some(Control::SetCredentials(c)) => {
                        self.set_credentials(c);
                        return Err(End::Restart);
                    }
                },
                _ = flush.tick() => self.flush_cache(),
            }
        }
    }

    /// Starts whatever is due and not already in flight: the next long-poll,
    /// a post of the queued requests (as one batch), a socket probe.
    fn start_due(&mut self, p: &mut Poller) {
        let now = Instant::now();
        if p.reopened.is_none() && p.poll.is_none() && now >= p.poll_at {
            let t = self.transport.clone();
            p.poll = Some(Box::pin(t.poll(p.token.clone(), self.seq.last())));
        }
        if p.post.is_none() && now >= p.post_at && self.outbox.has_unsent(now) {
            let batch = self.outbox.take_unsent(self.cfg.effective_batch_cap(), now);
            let ns: Vec<u64> = batch.iter().map(|(n, _)| *n).collect();
            let texts: Vec<String> = batch.into_iter().map(|(_, t)| t).collect();
            let body = match texts.len() {
                1 => texts.into_iter().next().unwrap_or_default(),
                _ => join_batch(&texts),
            };
            let t = self.transport.clone();
            let tok = p.token.clone();
            p.post = Some(Box::pin(async move { (ns, t.post(tok, body).await) }));
        }
        if p.reopened.is_none() && p.probe.is_none() && now >= p.probe_at {
            p.probe = Some(Box::pin(self.transport.clone().open_socket()));
        }
    }

    /// A long-poll answered: hand its events over, then poll again at once;
    /// a failure backs off.
    async fn on_poll(
        &mut self,
        p: &mut Poller,
        r: Result<EventsPage, HttpFail>,
    ) -> Result<(), End> {
        let page = match r {
            Ok(page) => page,
            Err(HttpFail::Auth(e)) => return Err(End::AuthRejected(Some(e))),
            Err(HttpFail::Other(why)) => {
                tracing::debug!(why = %why, "poll failed");
                self.set_state(ConnState::Offline);
                // Polling goes on at the first relay that answers: the next
                // poll (and the socket probe) go to the next one.
                self.next_relay();
                p.probe = None;
                p.poll_at = Instant::now() + self.cfg.backoff.next_delay(p.poll_failures);
                p.poll_failures += 1;
                return Ok(());
            }
        };
        p.poll_failures = 0;
        self.set_state(ConnState::Polling);
        let full = page.events.len() >= crate::limits::POLL_MAX_EVENTS;
        for env in page.events {
            if let Some(end) = self.on_message(env).await {
                return Err(end);
            }
        }
        self.seq.advance_to(page.head_seq);
        let last = self.seq.last();
        self.with_cache(|c| {
            if c.entry.last_seq != last {
                c.entry.last_seq = last;
                c.dirty = true;
            }
        });
        self.publish_status();
        if !full && !self.caught_up {
            self.caught_up(page.head_seq).await;
        } else if self.caught_up {
            self.confirm_cache();
        }
        p.poll_at = Instant::now();
        Ok(())
    }

    /// A post answered: its replies resolve requests; whatever the relay did
    /// not answer goes again.
    async fn on_post(
        &mut self,
        p: &mut Poller,
        (ns, result): (Vec<u64>, Result<Vec<Envelope>, HttpFail>),
    ) -> Result<(), End> {
        match result {
            Ok(replies) => {
                for env in replies {
                    if let Some(end) = self.on_message(env).await {
                        self.outbox.mark_unsent(&ns);
                        return Err(end);
                    }
                }
                self.outbox.mark_unsent(&ns);
                Ok(())
            }
            Err(HttpFail::Auth(e)) => {
                self.outbox.mark_unsent(&ns);
                Err(End::AuthRejected(Some(e)))
            }
            Err(HttpFail::Other(why)) => {
                tracing::debug!(why = %why, "post failed; the messages go again");
                self.outbox.mark_unsent(&ns);
                p.post_at = Instant::now() + self.cfg.backoff.next_delay(p.poll_failures);
                Ok(())
            }
        }
    }
}
