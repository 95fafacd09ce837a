//! The core's loop on the JetStream engine (DESIGN §15). Several relays
//! write one stream, so a decision stands only once JetStream has taken it
//! after the stream sequence it was decided at (`Nats-Expected-Last-
//! Sequence`). The core keeps two states: `confirmed`, folded from the
//! stream alone, and its working state, on which it decides a group. When
//! the append succeeds both hold the same; on a conflict (or an unknown
//! outcome) the working state goes back to a clone of `confirmed`, the core
//! folds what the others wrote, finds out whether its own commit landed, and
//! otherwise decides the group's commands again on the new state.
//!
//! Every message of the stream, whoever wrote it, is folded here in stream
//! order and handed to the writer, which keeps its events and publishes
//! them to this relay's sockets in seq order.

use std::collections::HashSet;
use std::sync::Arc;

use kfood_protocol::event::Event;
use kfood_protocol::{Envelope, ErrorCode, ProtocolError};
use tokio::sync::mpsc;

use super::{Command, Core, Item, Outcome, ReplyBody};
use crate::hub::Outgoing;
use crate::jetstream::{self, Cluster, Incoming, Published};
use crate::log::{Commit, Record, State};
use crate::wire::{frame, stamped};

/// Most times a group is decided again after conflicts; with
/// [`RETRY_BUDGET`], what bounds a busy cluster's retries before the group
/// is refused `unavailable` (the clients resend).
pub const MAX_ATTEMPTS: usize = 64;
/// How long a group may keep losing to other relays' appends.
pub const RETRY_BUDGET: std::time::Duration = std::time::Duration::from_secs(2);
/// Longest pause before deciding again after a lost append, so two busy
/// relays do not keep meeting in lockstep.
const RETRY_JITTER_US: u64 = 1_000;
/// How long a catch-up waits for the follower before reading the next
/// message of the log directly.
const FOLLOWER_PATIENCE: std::time::Duration = std::time::Duration::from_millis(200);

impl Command {
    /// A copy to decide again after a conflict, for commands that can be.
    /// A self-registration's one-shot answer cannot be copied: after a
    /// conflict it is answered `unavailable` and the client tries again.
    fn retry_copy(&self) -> Option<Command> {
        Some(match self {
            Command::Request {
                caller,
                items,
                reply,
            } => Command::Request {
                caller: caller.clone(),
                items: items.clone(),
                reply: reply.clone(),
            },
            Command::Attach {
                caller,
                since,
                entry,
            } => Command::Attach {
                caller: caller.clone(),
                since: *since,
                entry: entry.clone(),
            },
            Command::Snapshot {
                caller,
                reset,
                reply,
            } => Command::Snapshot {
                caller: caller.clone(),
                reset: *reset,
                reply: reply.clone(),
            },
            Command::Activity { user, kind, text } => Command::Activity {
                user: user.clone(),
                kind: *kind,
                text: text.clone(),
            },
            Command::Tick { crew_online } => Command::Tick {
                crew_online: *crew_online,
            },
            Command::StoreFailed(c) => Command::StoreFailed(c.clone()),
            // Decided again on the newer state: what another relay fired
            // meanwhile is no longer due, so only one fire commit lands.
            Command::Fire => Command::Fire,
            _ => return None,
        })
    }

    /// Whether answering it needs the stream's newest commits first.
    fn needs_fresh(&self) -> bool {
        match self {
            Command::Attach { .. } | Command::Snapshot { .. } => true,
            Command::Request { items, .. } => items.iter().any(|i| {
                matches!(i, Item::Msg { env, .. } if env.kind == kfood_protocol::messages::kind::SYNC)
            }),
            _ => false,
        }
    }
}

/// What the loop keeps besides the core.
struct Loop {
    cluster: Arc<Cluster>,
    follow: mpsc::Receiver<Incoming>,
    writer: mpsc::Sender<Outcome>,
    confirmed: State,
    /// Commands decided after the current group, in arrival order.
    carry: std::collections::VecDeque<Command>,
}

/// How a catch-up ended.
enum CaughtUp {
    /// At the stream's last sequence; `true` when our pending commit was in it.
    Done(bool),
    Failed(String),
}

impl Core {
    /// Runs the core on the JetStream engine until `Shutdown` or until
    /// every sender is gone.
    pub async fn run_cluster(
        mut self,
        mut rx: mpsc::Receiver<Command>,
        writer: mpsc::Sender<Outcome>,
        cluster: Arc<Cluster>,
        follow: mpsc::Receiver<Incoming>,
    ) {
        let mut lp = Loop {
            cluster,
            follow,
            writer,
            confirmed: self.state.clone(),
            carry: std::collections::VecDeque::new(),
        };
        loop {
            if !lp.carry.is_empty() {
                let cmds: Vec<Command> = lp.carry.drain(..).collect();
                let stop = cmds.iter().any(|c| matches!(c, Command::Shutdown));
                self.group(&mut lp, cmds).await;
                if stop && lp.carry.is_empty() {
                    break;
                }
                continue;
            }
            tokio::select! {
                biased;
                m = lp.follow.recv() => {
                    let Some(m) = m else { break };
                    if self.fold_incoming(&mut lp, m, None).await.is_err() {
                        break;
                    }
                }
                cmd = rx.recv() => {
                    let Some(cmd) = cmd else { break };
                    let mut cmds = vec![cmd];
                    while cmds.len() < crate::writer::MAX_GROUP {
                        match rx.try_recv() {
                            Ok(c) => cmds.push(c),
                            Err(_) => break,
                        }
                    }
                    let stop = cmds.iter().any(|c| matches!(c, Command::Shutdown));
                    self.group(&mut lp, cmds).await;
                    if stop && lp.carry.is_empty() {
                        break;
                    }
                }
            }
        }
    }

    /// Folds one message of the stream (skipping what is already folded)
    /// and hands its commits to the writer. Returns whether it was the
    /// commit `pending`.
    async fn fold_incoming(
        &mut self,
        lp: &mut Loop,
        m: Incoming,
        pending: Option<&str>,
    ) -> Result<bool, ()> {
        if m.stream_seq <= self.state.stream_seq {
            return Ok(false);
        }
        let ours = pending.is_some() && m.commit_id.as_deref() == pending;
        let commits = match jetstream::fold_message(&mut self.state, &m) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(cause = %e, seq = m.stream_seq, "cannot fold a message of the log");
                self.state.stream_seq = m.stream_seq;
                lp.confirmed.stream_seq = m.stream_seq;
                return Ok(false);
            }
        };
        for c in &commits {
            lp.confirmed.fold(c);
            for o in c.events.iter().filter_map(|e| e.event.order()) {
                self.schedule.observe(o);
            }
        }
        lp.confirmed.stream_seq = m.stream_seq;
        self.tell_next_fire();
        let mut out = Outcome::new();
        for c in &commits {
            for r in &c.records {
                if let Record::Revoked { user_id, at } = r {
                    self.auth.revoke(user_id, *at);
                    // Every relay closes that user's sockets.
                    out.close_user = Some(user_id.clone());
                }
            }
        }
        self.since_snapshot += commits.len() as u64;
        out.commits = commits;
        if self.state.snapshot_due(self.since_snapshot) {
            out.snapshot = Some(Box::new(self.state.clone()));
            self.since_snapshot = 0;
        }
        if !out.is_empty() && lp.writer.send(out).await.is_err() {
            return Err(());
        }
        Ok(ours)
    }

    /// Folds the stream up to its last sequence (at most 2 s).
    async fn catch_up_stream(
        &mut self,
        lp: &mut Loop,
        pending: Option<&str>,
        known_last: Option<u64>,
    ) -> CaughtUp {
        let last = match known_last {
            Some(l) => l,
            None => match lp.cluster.last_seq().await {
                Ok(l) => l,
                Err(e) => return CaughtUp::Failed(e.0),
            },
        };
        let deadline = tokio::time::Instant::now() + jetstream::PUBLISH_TIMEOUT;
        let mut landed = false;
        while self.state.stream_seq < last {
            if tokio::time::Instant::now() >= deadline {
                return CaughtUp::Failed("catching up took over 2 s".into());
            }
            let next = match tokio::time::timeout(FOLLOWER_PATIENCE, lp.follow.recv()).await {
                Ok(Some(m)) => m,
                Ok(None) => return CaughtUp::Failed("the log follower stopped".into()),
                // The follower is slow (its consumer may be moving to another
                // server): read the next message directly.
                Err(_) => match lp.cluster.read_at(self.state.stream_seq + 1).await {
                    Ok(m) => m,
                    Err(e) => return CaughtUp::Failed(e.0),
                },
            };
            match self.fold_incoming(lp, next, pending).await {
                Ok(ours) => landed |= ours,
                Err(()) => return CaughtUp::Failed("the relay is stopping".into()),
            }
        }
        CaughtUp::Done(landed)
    }

    /// Decides a group of commands, appends its commits as one message and
    /// hands the outcomes to the writer once JetStream has them.
    async fn group(&mut self, lp: &mut Loop, mut cmds: Vec<Command>) {
        let started = tokio::time::Instant::now();
        for attempt in 0..MAX_ATTEMPTS {
            if started.elapsed() > RETRY_BUDGET {
                tracing::debug!(attempt, "a group kept losing to other relays' appends");
                break;
            }
            if cmds.iter().any(Command::needs_fresh) {
                if let CaughtUp::Failed(why) = self.catch_up_stream(lp, None, None).await {
                    tracing::warn!(cause = %why, "cannot catch up with the log");
                    let outs = cmds.into_iter().map(|c| self.handle(c)).collect();
                    self.roll_back(lp);
                    self.settle_payments(&[]);
                    refuse_all(outs);
                    return;
                }
            }
            let copies: Vec<Option<Command>> = cmds.iter().map(Command::retry_copy).collect();
            let outs = self.decide(lp, cmds);
            let commits: Vec<&Commit> = outs.iter().flat_map(|o| &o.commits).collect();
            if commits.is_empty() {
                self.settle_payments(&outs);
                self.send(lp, outs).await;
                return;
            }
            let first_seq = commits
                .iter()
                .flat_map(|c| c.events.first())
                .map(|e| e.seq)
                .next()
                .unwrap_or(lp.confirmed.model.head_seq + 1);
            let body = jetstream::encode_group(&commits);
            let id = lp.cluster.commit_id();
            let expected = lp.confirmed.stream_seq;
            let outcome = lp.cluster.publish(body, first_seq, expected, &id).await;
            match &outcome {
                Published::At(seq) => {
                    self.confirm(lp, &outs, *seq);
                    self.settle_payments(&outs);
                    self.send(lp, outs).await;
                    return;
                }
                Published::Unreachable => {
                    self.roll_back(lp);
                    self.settle_payments(&[]);
                    refuse_all(outs);
                    return;
                }
                Published::Conflict(_) | Published::Unknown(_) => {
                    let t = std::time::Instant::now();
                    self.roll_back(lp);
                    tracing::debug!(attempt, outcome = ?outcome, clone_us = t.elapsed().as_micros() as u64, commands = copies.len(), "append lost");
                    let known = match outcome {
                        Published::Conflict(last) => last,
                        _ => None,
                    };
                    match self.catch_up_stream(lp, Some(&id), known).await {
                        CaughtUp::Done(true) => {
                            // Ours landed (and was folded and published as read).
                            self.settle_payments(&outs);
                            let outs = outs.into_iter().map(without_commits).collect();
                            self.send(lp, outs).await;
                            return;
                        }
                        CaughtUp::Done(false) => {
                            cmds = retry(copies, outs);
                            let pause = rand::random::<u64>() % RETRY_JITTER_US;
                            tokio::time::sleep(std::time::Duration::from_micros(pause)).await;
                        }
                        CaughtUp::Failed(why) => {
                            tracing::warn!(cause = %why, "cannot tell whether a commit was written");
                            // It may stand: its charges are kept (a resend
                            // with the same client_order_id finds the order).
                            self.settle_payments(&outs);
                            refuse_all(outs);
                            return;
                        }
                    }
                }
            }
        }
        // Every attempt lost: nothing of the group was written.
        let outs = cmds.into_iter().map(|c| self.handle(c)).collect();
        self.roll_back(lp);
        self.settle_payments(&[]);
        refuse_all(outs);
    }

    /// Decides every command on the working state, within the server's
    /// largest message: commands past it wait for the next group.
    fn decide(&mut self, lp: &mut Loop, cmds: Vec<Command>) -> Vec<Outcome> {
        let budget = lp.cluster.max_payload / 2;
        let mut size = 0;
        let mut outs = Vec::with_capacity(cmds.len());
        let mut rest = cmds.into_iter().peekable();
        while let Some(c) = rest.next() {
            let mut o = self.handle(c);
            // A snapshot is taken once the whole group is in the stream.
            if o.snapshot.take().is_some() {
                o.trim = o.trim.or(Some(0));
            }
            size += o
                .commits
                .iter()
                .map(|c| 256 + c.events.len() * 1024)
                .sum::<usize>();
            outs.push(o);
            if size > budget && rest.peek().is_some() {
                // The rest waits for the next message (group commit within
                // the server's largest message).
                let rest: Vec<Command> = rest.collect();
                for c in rest.into_iter().rev() {
                    lp.carry.push_front(c);
                }
                break;
            }
        }
        outs
    }

    /// Goes back to the state folded from the stream alone: what was
    /// decided on the working state did not land. The scheduled orders are
    /// rebuilt from it (an order placed or fired there may not exist).
    fn roll_back(&mut self, lp: &Loop) {
        self.state = lp.confirmed.clone();
        self.schedule = super::schedule::Schedule::of(&self.state.model);
        self.tell_next_fire();
    }

    /// The group is in the stream at `seq`: fold it into the confirmed state.
    fn confirm(&mut self, lp: &mut Loop, outs: &[Outcome], seq: u64) {
        for c in outs.iter().flat_map(|o| &o.commits) {
            lp.confirmed.fold(c);
        }
        lp.confirmed.stream_seq = seq;
        self.state.stream_seq = seq;
    }

    /// Voids the charges of this group whose orders were not written by it
    /// (the order existed already, or the commit is known not written).
    fn settle_payments(&self, written: &[Outcome]) {
        let keys: HashSet<String> = written
            .iter()
            .flat_map(|o| &o.commits)
            .flat_map(|c| &c.events)
            .filter_map(|e| match &e.event {
                Event::OrderCreated(d) => Some(d.order.client_order_id.clone()),
                _ => None,
            })
            .collect();
        self.gateway.settle(&keys);
    }

    /// Hands the outcomes to the writer; a snapshot asked for during the
    /// group is taken now, of the state with the whole group in it.
    async fn send(&mut self, lp: &mut Loop, mut outs: Vec<Outcome>) {
        let wanted = outs.iter_mut().filter_map(|o| o.trim.take()).max();
        if let (Some(trim), Some(last)) = (wanted, outs.last_mut()) {
            last.snapshot = Some(Box::new(self.state.clone()));
            last.trim = (trim > 0).then_some(trim);
        }
        for o in outs {
            if !o.is_empty() && lp.writer.send(o).await.is_err() {
                return;
            }
        }
    }
}

fn without_commits(mut o: Outcome) -> Outcome {
    o.commits.clear();
    o
}

/// The commands to decide again: the copies, and `unavailable` for what
/// cannot be copied but waited for an answer.
fn retry(copies: Vec<Option<Command>>, outs: Vec<Outcome>) -> Vec<Command> {
    let mut cmds = Vec::new();
    for (copy, out) in copies.into_iter().zip(outs) {
        match copy {
            Some(c) => cmds.push(c),
            None => {
                if let Some(done) = out.done {
                    let _ = done.send(Err(unavailable()));
                }
            }
        }
    }
    cmds
}

fn unavailable() -> ProtocolError {
    ProtocolError::new(
        ErrorCode::Unavailable,
        "the store is unreachable; try again in a moment",
    )
}

/// Answers every request of the outcomes `unavailable`; nothing of them
/// happened. A socket waiting to attach is closed 1013.
fn refuse_all(outs: Vec<Outcome>) {
    let err = unavailable();
    for o in outs {
        for r in o.replies {
            if let (Some(reference), ReplyBody::Frame(_)) = (&r.reference, &r.body) {
                let f = frame(&stamped(Envelope::error(Some(reference), &err)));
                let _ = r.to.try_send(f);
            }
        }
        if let Some((entry, _)) = o.attach {
            let _ = entry
                .tx
                .try_send(Outgoing::Close(1013, "the store is unreachable".into()));
        }
        if let Some(done) = o.done {
            let _ = done.send(Err(err.clone()));
        }
    }
}
