//! The JetStream engine (DESIGN §15): several relays serve one restaurant
//! through a NATS JetStream server or cluster. The replicated stream
//! `KFOOD_<C>` is the log — one message per commit group, appended with
//! `Nats-Expected-Last-Sequence`, JetStream's only writer lock — the audit
//! stream keeps activity, an object store keeps snapshots of the folded
//! state and a KV bucket the relays alive.
//!
//! This module opens all of that (creating what is missing), checks the
//! cluster's first commit and loads the state; `store.rs` is the engine's
//! side of the [`crate::store::Store`] trait, `follow.rs` the tasks that
//! follow the streams, and `core/cluster.rs` the core's write loop.

pub mod follow;
pub mod store;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, consumer, kv, object_store, stream, Context};
use async_nats::{header, HeaderMap};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use crate::auth::UserRecord;
use crate::log::{Commit, LogRecord, Logged, Record, State};
use crate::store::StoreError;

/// Longest wait for JetStream's publish ack, and for a catch-up to the
/// stream's last sequence (DESIGN §15).
pub const PUBLISH_TIMEOUT: Duration = Duration::from_secs(2);
/// How long NATS may be unreachable before the relay closes its sockets
/// 1013 and answers `/healthz` 503, so clients move to a relay that has it.
pub const UNREACHABLE_GRACE: Duration = Duration::from_secs(5);
/// How long the audit stream keeps activity.
pub const AUDIT_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
/// Snapshots kept in the object store (the older one bounds retention).
pub const SNAPSHOTS_KEPT: usize = 2;
/// Header of every commit group: the seq its first event takes.
pub const FIRST_SEQ_HEADER: &str = "Kfood-First-Seq";
/// Object-store metadata of a snapshot: the stream sequence it reaches.
const STREAM_SEQ_META: &str = "stream-seq";
/// Object holding a copy of the first commit, for when retention has
/// purged the message itself.
const GENESIS_OBJECT: &str = "genesis";
/// Header marking the cluster's first commit.
pub const GENESIS_HEADER: &str = "Kfood-Genesis";
/// Longest `--cluster` name.
pub const CLUSTER_NAME_MAX: usize = 16;
/// Longest wait for the first connection to NATS at start.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

fn err(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError(format!("jetstream: {what}: {e}"))
}

/// Checks a `--cluster` name: `[a-z0-9-]{1,16}`.
pub fn check_cluster_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= CLUSTER_NAME_MAX
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--cluster `{name}` must be 1 to {CLUSTER_NAME_MAX} of a-z, 0-9 and -"
        ))
    }
}

/// The names of everything one cluster keeps in JetStream.
#[derive(Debug, Clone)]
pub struct Names {
    pub stream: String,
    pub subject: String,
    pub audit: String,
    pub audit_subject: String,
    pub snapshots: String,
    pub relays: String,
}

impl Names {
    pub fn new(cluster: &str) -> Names {
        let up = cluster.to_ascii_uppercase().replace('-', "_");
        Names {
            stream: format!("KFOOD_{up}"),
            subject: format!("kfood.{cluster}.log"),
            audit: format!("KFOOD_{up}_AUDIT"),
            audit_subject: format!("kfood.{cluster}.audit"),
            snapshots: format!("KFOOD_{up}_SNAP"),
            relays: format!("KFOOD_{up}_RELAYS"),
        }
    }
}

/// What `--engine jetstream` was given.
#[derive(Debug, Clone)]
pub struct Settings {
    /// One URL or a comma-separated list.
    pub urls: String,
    pub cluster: String,
    /// `None`: 1 on a lone server, else min(3, the servers its INFO lists).
    pub replicas: Option<usize>,
}

/// The cluster's first commit: what every relay of it must agree on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Genesis {
    pub log_id: String,
    /// SHA-256 of the JWT secret, hex: a token from one relay works on all.
    pub secret_sha256: String,
    pub auto_ready: bool,
    /// The demo seed of the first relay started with `--demo`.
    #[serde(default)]
    pub menu: Vec<kfood_protocol::menu::MenuItem>,
    #[serde(default)]
    pub users: Vec<UserRecord>,
}

/// An open connection to one cluster's streams.
pub struct Cluster {
    pub client: async_nats::Client,
    pub js: Context,
    pub names: Names,
    pub log: stream::Stream,
    pub snapshots: object_store::ObjectStore,
    pub relays: kv::Store,
    /// Fresh at every start: names this relay's commits (`<relay_id>-<n>`).
    pub relay_id: String,
    next_commit: AtomicU64,
    pub genesis: Genesis,
    /// Largest message the server takes.
    pub max_payload: usize,
}

/// How one publish of a commit group ended.
#[derive(Debug)]
pub enum Published {
    /// Written at this stream sequence (or found there: a duplicate ack).
    At(u64),
    /// Another relay wrote first: catch up and decide again. The server
    /// names the stream's last sequence when it can.
    Conflict(Option<u64>),
    /// No answer in time or a broken connection: it may or may not be written.
    Unknown(String),
    /// No connection to NATS: nothing was sent.
    Unreachable,
}

/// The last sequence a `wrong last sequence: N` refusal names.
fn last_in(e: &jetstream::context::PublishError) -> Option<u64> {
    let text = std::error::Error::source(e)?.to_string();
    let (_, n) = text.rsplit_once("wrong last sequence: ")?;
    let digits: String = n.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What the first commit keeps of the JWT secret: the SHA-256 of a token
/// it signs over fixed claims — equal for equal secrets, and (being an
/// HMAC) no shortcut to the secret itself for a reader of the stream.
pub fn secret_fingerprint(secret: &kfood_protocol::jwt::Secret) -> String {
    let mut fixed =
        kfood_protocol::jwt::Claims::new("kfood-cluster", "", kfood_protocol::Role::Admin, 0, 0);
    fixed.jti = "kfood-cluster-secret-check".into();
    sha256_hex(secret.sign(&fixed).as_bytes())
}

/// A commit group as one stream message: `{"commits":[{records, events}]}`.
pub fn encode_group(commits: &[&Commit]) -> Vec<u8> {
    let mut out = b"{\"commits\":[".to_vec();
    for (i, c) in commits.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"records\":");
        out.extend(crate::wire::json_bytes(&c.records));
        out.extend_from_slice(b",\"events\":[");
        for (j, e) in c.events.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            out.extend(e.encode());
        }
        out.extend_from_slice(b"]}");
    }
    out.extend_from_slice(b"]}");
    out
}

#[derive(Deserialize)]
struct InGroup {
    commits: Vec<InCommit>,
}

#[derive(Deserialize)]
struct InCommit {
    records: Vec<Record>,
    events: Vec<LogRecord>,
}

/// The commits of one stream message, numbered from `first_no`.
pub fn decode_group(bytes: &[u8], first_no: u64) -> Result<Vec<Commit>, StoreError> {
    let g: InGroup = serde_json::from_slice(bytes).map_err(|e| err("commit group", e))?;
    g.commits
        .into_iter()
        .zip(first_no..)
        .map(|(c, no)| {
            Ok(Commit {
                no,
                events: c
                    .events
                    .into_iter()
                    .map(Logged::from_record)
                    .collect::<Result<_, _>>()?,
                records: c.records,
            })
        })
        .collect()
}

/// Connects to NATS (reconnecting for ever afterwards).
pub async fn connect(urls: &str) -> Result<async_nats::Client, StoreError> {
    let urls: Vec<async_nats::ServerAddr> = urls
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| u.parse().map_err(|e| err(&format!("--nats-url {u}"), e)))
        .collect::<Result<_, _>>()?;
    if urls.is_empty() {
        return Err(StoreError("jetstream: --nats-url is empty".into()));
    }
    let opts = async_nats::ConnectOptions::new()
        .max_reconnects(None)
        .connection_timeout(CONNECT_TIMEOUT);
    tokio::time::timeout(CONNECT_TIMEOUT, opts.connect(urls))
        .await
        .map_err(|_| StoreError("jetstream: no NATS server answered in time".into()))?
        .map_err(|e| err("connect", e))
}

/// Creates the stream `cfg` names unless it exists; an existing one with
/// another subject or storage is refused with the reason.
async fn ensure_stream(js: &Context, cfg: stream::Config) -> Result<stream::Stream, StoreError> {
    let name = cfg.name.clone();
    let (subjects, storage) = (cfg.subjects.clone(), cfg.storage);
    let mut s = js
        .get_or_create_stream(cfg)
        .await
        .map_err(|e| err(&format!("stream {name}"), e))?;
    let info = s.info().await.map_err(|e| err(&name, e))?;
    if info.config.subjects != subjects || info.config.storage != storage {
        return Err(StoreError(format!(
            "jetstream: stream {name} exists with subjects {:?} and {:?} storage; \
             this relay needs {subjects:?} on {storage:?} storage (use another --cluster)",
            info.config.subjects, info.config.storage
        )));
    }
    Ok(s)
}

impl Cluster {
    /// Opens the cluster's streams, object store and bucket, creating what
    /// is missing, and agrees on (or makes) the first commit.
    pub async fn open(
        settings: &Settings,
        secret: &kfood_protocol::jwt::Secret,
        auto_ready: bool,
        seed: Option<(Vec<kfood_protocol::menu::MenuItem>, Vec<UserRecord>)>,
    ) -> Result<Cluster, StoreError> {
        check_cluster_name(&settings.cluster).map_err(StoreError)?;
        let client = connect(&settings.urls).await?;
        let info = client.server_info();
        let replicas = settings.replicas.unwrap_or(if info.cluster.is_some() {
            info.connect_urls.len().clamp(1, 3)
        } else {
            1
        });
        let js = jetstream::new(client.clone());
        let names = Names::new(&settings.cluster);
        let log = ensure_stream(
            &js,
            stream::Config {
                name: names.stream.clone(),
                subjects: vec![names.subject.clone()],
                storage: stream::StorageType::File,
                num_replicas: replicas,
                allow_direct: true,
                ..Default::default()
            },
        )
        .await?;
        ensure_stream(
            &js,
            stream::Config {
                name: names.audit.clone(),
                subjects: vec![names.audit_subject.clone()],
                storage: stream::StorageType::File,
                num_replicas: replicas,
                max_age: AUDIT_MAX_AGE,
                allow_direct: true,
                ..Default::default()
            },
        )
        .await?;
        let snapshots = match js.get_object_store(&names.snapshots).await {
            Ok(s) => s,
            Err(_) => js
                .create_object_store(object_store::Config {
                    bucket: names.snapshots.clone(),
                    storage: stream::StorageType::File,
                    num_replicas: replicas,
                    ..Default::default()
                })
                .await
                .map_err(|e| err(&names.snapshots, e))?,
        };
        let relays = match js.get_key_value(&names.relays).await {
            Ok(s) => s,
            Err(_) => js
                .create_key_value(kv::Config {
                    bucket: names.relays.clone(),
                    history: 1,
                    max_age: crate::presence::ALIVE_WITHIN * 4,
                    num_replicas: replicas,
                    ..Default::default()
                })
                .await
                .map_err(|e| err(&names.relays, e))?,
        };
        let genesis =
            agree_on_genesis(&js, &log, &snapshots, &names, secret, auto_ready, seed).await?;
        Ok(Cluster {
            max_payload: client.server_info().max_payload.max(64 * 1024),
            client,
            js,
            names,
            log,
            snapshots,
            relays,
            relay_id: crate::presence::new_relay_id(),
            next_commit: AtomicU64::new(1),
            genesis,
        })
    }

    /// A fresh commit id: `<relay_id>-<n>`.
    pub fn commit_id(&self) -> String {
        let n = self.next_commit.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n}", self.relay_id)
    }

    pub fn connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// Appends one commit group after stream sequence `expected`, waiting
    /// at most [`PUBLISH_TIMEOUT`] for JetStream's ack.
    pub async fn publish(
        &self,
        body: Vec<u8>,
        first_seq: u64,
        expected: u64,
        commit_id: &str,
    ) -> Published {
        if !self.connected() {
            return Published::Unreachable;
        }
        let mut h = HeaderMap::new();
        h.insert(header::NATS_EXPECTED_LAST_SEQUENCE, expected.to_string());
        h.insert(header::NATS_MESSAGE_ID, commit_id);
        h.insert(FIRST_SEQ_HEADER, first_seq.to_string());
        let send = async {
            self.js
                .publish_with_headers(self.names.subject.clone(), h, Bytes::from(body))
                .await?
                .await
        };
        match tokio::time::timeout(PUBLISH_TIMEOUT, send).await {
            Ok(Ok(ack)) => Published::At(ack.sequence),
            Ok(Err(e)) if e.kind() == jetstream::context::PublishErrorKind::WrongLastSequence => {
                Published::Conflict(last_in(&e))
            }
            Ok(Err(e)) => Published::Unknown(e.to_string()),
            Err(_) => Published::Unknown("no publish ack within 2 s".into()),
        }
    }

    /// The stream's last sequence.
    pub async fn last_seq(&self) -> Result<u64, StoreError> {
        let info = tokio::time::timeout(PUBLISH_TIMEOUT, self.log.get_info())
            .await
            .map_err(|_| StoreError("jetstream: the stream did not answer in time".into()))?
            .map_err(|e| err("stream info", e))?;
        Ok(info.state.last_sequence)
    }

    /// An ordered consumer of the log from stream sequence `from`.
    pub async fn follow_log(&self, from: u64) -> Result<consumer::OrderedPullConsumer, StoreError> {
        follow::ordered(&self.log, from).await
    }

    /// The newest snapshot in the object store (`snap-<head_seq>`), if any.
    pub async fn newest_snapshot(&self) -> Result<Option<State>, StoreError> {
        let Some(name) = self.snapshot_names().await?.pop() else {
            return Ok(None);
        };
        let mut obj = self
            .snapshots
            .get(&name.1)
            .await
            .map_err(|e| err(&name.1, e))?;
        let mut bytes = Vec::new();
        obj.read_to_end(&mut bytes)
            .await
            .map_err(|e| err(&name.1, e))?;
        let snap = crate::store::StoredSnapshot {
            commit_no: 0,
            head_seq: name.0,
            stream_seq: name.2,
            bytes,
        };
        State::from_snapshot(&snap).map(Some)
    }

    /// Snapshots in the object store, oldest first: head seq, name and the
    /// stream sequence they reach.
    async fn snapshot_names(&self) -> Result<Vec<(u64, String, u64)>, StoreError> {
        let mut list = self
            .snapshots
            .list()
            .await
            .map_err(|e| err("snapshots", e))?;
        let mut names = Vec::new();
        while let Some(o) = list.next().await {
            let o = o.map_err(|e| err("snapshots", e))?;
            if o.deleted {
                continue;
            }
            if let Some(n) = o
                .name
                .strip_prefix("snap-")
                .and_then(|n| n.parse::<u64>().ok())
            {
                let stream_seq = o
                    .metadata
                    .get(STREAM_SEQ_META)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                names.push((n, o.name, stream_seq));
            }
        }
        names.sort();
        Ok(names)
    }

    /// Writes a snapshot and drops all but the [`SNAPSHOTS_KEPT`] newest.
    pub async fn put_snapshot(&self, s: &crate::store::StoredSnapshot) -> Result<(), StoreError> {
        let name = format!("snap-{}", s.head_seq);
        let meta = object_store::ObjectMetadata {
            name: name.clone(),
            metadata: [(STREAM_SEQ_META.to_owned(), s.stream_seq.to_string())].into(),
            ..Default::default()
        };
        let mut reader = s.bytes.as_slice();
        self.snapshots
            .put(meta, &mut reader)
            .await
            .map_err(|e| err(&name, e))?;
        let names = self.snapshot_names().await?;
        let drop = names.len().saturating_sub(SNAPSHOTS_KEPT);
        for (_, old, _) in &names[..drop] {
            if let Err(e) = self.snapshots.delete(old).await {
                tracing::warn!(snapshot = %old, cause = %e, "cannot delete an old snapshot");
            }
        }
        Ok(())
    }
}

/// Makes the first commit (expected last sequence 0) or reads the one there,
/// and checks that this relay agrees with it.
async fn agree_on_genesis(
    js: &Context,
    log: &stream::Stream,
    snapshots: &object_store::ObjectStore,
    names: &Names,
    secret: &kfood_protocol::jwt::Secret,
    auto_ready: bool,
    seed: Option<(Vec<kfood_protocol::menu::MenuItem>, Vec<UserRecord>)>,
) -> Result<Genesis, StoreError> {
    let secret_sha256 = secret_fingerprint(secret);
    let (menu, users) = seed.unwrap_or_default();
    let ours = Genesis {
        log_id: uuid::Uuid::new_v4().simple().to_string(),
        secret_sha256: secret_sha256.clone(),
        auto_ready,
        menu,
        users,
    };
    let mut h = HeaderMap::new();
    h.insert(header::NATS_EXPECTED_LAST_SEQUENCE, "0");
    h.insert(GENESIS_HEADER, "1");
    let body = Bytes::from(crate::wire::json_bytes(&ours));
    let made = async {
        js.publish_with_headers(names.subject.clone(), h, body)
            .await?
            .await
    };
    match tokio::time::timeout(PUBLISH_TIMEOUT * 5, made).await {
        Ok(Ok(_)) => {
            keep_genesis(snapshots, &crate::wire::json_bytes(&ours)).await;
            return Ok(ours);
        }
        Ok(Err(e)) if e.kind() == jetstream::context::PublishErrorKind::WrongLastSequence => {}
        Ok(Err(e)) => return Err(err("first commit", e)),
        Err(_) => return Err(StoreError("jetstream: the first commit timed out".into())),
    }
    let payload = match log.get_raw_message(1).await {
        Ok(m) => {
            if snapshots.info(GENESIS_OBJECT).await.is_err() {
                keep_genesis(snapshots, &m.payload).await;
            }
            m.payload.to_vec()
        }
        // Purged by retention: the copy beside the snapshots.
        Err(_) => {
            let mut obj = snapshots
                .get(GENESIS_OBJECT)
                .await
                .map_err(|e| err("first commit", e))?;
            let mut bytes = Vec::new();
            obj.read_to_end(&mut bytes)
                .await
                .map_err(|e| err("first commit", e))?;
            bytes
        }
    };
    let g: Genesis = serde_json::from_slice(&payload).map_err(|e| err("first commit", e))?;
    if g.secret_sha256 != secret_sha256 {
        return Err(StoreError(format!(
            "jetstream: cluster {} was started with another JWT secret; give every relay the same KFOOD_JWT_SECRET",
            names.stream
        )));
    }
    if g.auto_ready != auto_ready {
        return Err(StoreError(format!(
            "jetstream: cluster {} runs with --auto-ready {}; start this relay with the same",
            names.stream, g.auto_ready
        )));
    }
    Ok(g)
}

impl Cluster {
    /// Log retention (`--log-retention`): drops the stream's messages below
    /// the older kept snapshot — only when every event they hold lies below
    /// `keep_from` — so a start always finds a snapshot and what follows it.
    pub async fn purge_below(&self, keep_from: u64) -> Result<(), StoreError> {
        let names = self.snapshot_names().await?;
        if names.len() < SNAPSHOTS_KEPT {
            return Ok(());
        }
        let (head_seq, _, stream_seq) = &names[names.len() - SNAPSHOTS_KEPT];
        if *stream_seq < 2 || *head_seq >= keep_from {
            return Ok(());
        }
        self.log
            .purge()
            .sequence(stream_seq + 1)
            .await
            .map_err(|e| err("retention", e))?;
        tracing::debug!(below = stream_seq + 1, "purged the log");
        Ok(())
    }
}

/// Keeps a copy of the first commit in the object store.
async fn keep_genesis(snapshots: &object_store::ObjectStore, bytes: &[u8]) {
    let mut reader = bytes;
    if let Err(e) = snapshots.put(GENESIS_OBJECT, &mut reader).await {
        tracing::warn!(cause = %e, "cannot keep a copy of the first commit");
    }
}

/// A message of the log as the core folds it.
#[derive(Debug)]
pub struct Incoming {
    pub stream_seq: u64,
    pub commit_id: Option<String>,
    pub payload: Bytes,
    pub genesis: bool,
}

impl Incoming {
    pub fn from_message(m: &jetstream::Message) -> Result<Incoming, StoreError> {
        let info = m.info().map_err(|e| err("message", e))?;
        let headers = m.headers.as_ref();
        Ok(Incoming {
            stream_seq: info.stream_sequence,
            commit_id: headers
                .and_then(|h| h.get(header::NATS_MESSAGE_ID))
                .map(|v| v.as_str().to_owned()),
            genesis: headers.and_then(|h| h.get(GENESIS_HEADER)).is_some(),
            payload: m.payload.clone(),
        })
    }
}

impl Incoming {
    /// A message read directly by its sequence.
    pub fn from_stream_message(m: &async_nats::jetstream::message::StreamMessage) -> Incoming {
        Incoming {
            stream_seq: m.sequence,
            commit_id: m
                .headers
                .get(header::NATS_MESSAGE_ID)
                .map(|v| v.as_str().to_owned()),
            genesis: m.headers.get(GENESIS_HEADER).is_some(),
            payload: m.payload.clone(),
        }
    }
}

impl Cluster {
    /// The message at stream sequence `seq`, read directly (when the
    /// follower is slow: its consumer may be moving to another server).
    pub async fn read_at(&self, seq: u64) -> Result<Incoming, StoreError> {
        let m = tokio::time::timeout(PUBLISH_TIMEOUT, self.log.get_raw_message(seq))
            .await
            .map_err(|_| StoreError("jetstream: reading the log timed out".into()))?
            .map_err(|e| err("read the log", e))?;
        Ok(Incoming::from_stream_message(&m))
    }
}

/// The state at start: the newest snapshot (or the first commit's seed),
/// then every later message of the log, read with `follower` up to the
/// stream's last sequence as it was at start.
pub async fn load(
    cluster: &Cluster,
) -> Result<(State, consumer::OrderedPullConsumer, Vec<Commit>), StoreError> {
    let mut st = match cluster.newest_snapshot().await? {
        Some(s) => s,
        None => {
            let mut st = State::default();
            st.model.menu = cluster.genesis.menu.clone();
            for u in &cluster.genesis.users {
                st.records.apply(&Record::User(u.clone()));
            }
            st.stream_seq = 1;
            st
        }
    };
    let last = cluster.last_seq().await?;
    let consumer = cluster.follow_log(st.stream_seq + 1).await?;
    let mut replayed = Vec::new();
    if last > st.stream_seq {
        let mut msgs = consumer
            .messages()
            .await
            .map_err(|e| err("read the log", e))?;
        while st.stream_seq < last {
            let m = tokio::time::timeout(PUBLISH_TIMEOUT * 5, msgs.next())
                .await
                .map_err(|_| StoreError("jetstream: reading the log stalled".into()))?
                .ok_or_else(|| StoreError("jetstream: the log ended early".into()))?
                .map_err(|e| err("read the log", e))?;
            let inc = Incoming::from_message(&m)?;
            replayed.extend(fold_message(&mut st, &inc)?);
        }
        // The follower starts after what was read here.
        let consumer = cluster.follow_log(st.stream_seq + 1).await?;
        return Ok((st, consumer, replayed));
    }
    Ok((st, consumer, replayed))
}

/// Folds one message of the log into `st`; returns its commits.
pub fn fold_message(st: &mut State, m: &Incoming) -> Result<Vec<Commit>, StoreError> {
    let commits = if m.genesis {
        Vec::new()
    } else {
        decode_group(&m.payload, st.commit_no + 1)?
    };
    for c in &commits {
        st.fold(c);
    }
    st.stream_seq = m.stream_seq;
    Ok(commits)
}

/// Appends one commit of records (the account subcommands), while relays
/// may be writing too: read the log, append after it, again on a conflict.
pub async fn append_records(cluster: &Cluster, records: Vec<Record>) -> Result<(), StoreError> {
    for _ in 0..crate::core::MAX_ATTEMPTS {
        let (st, _, _) = load(cluster).await?;
        let commit = Commit {
            no: st.commit_no + 1,
            events: Vec::new(),
            records: records.clone(),
        };
        let body = encode_group(&[&commit]);
        let id = cluster.commit_id();
        match cluster
            .publish(body, st.model.head_seq + 1, st.stream_seq, &id)
            .await
        {
            Published::At(_) => return Ok(()),
            Published::Conflict(_) => continue,
            Published::Unreachable => {
                return Err(StoreError("jetstream: NATS is unreachable".into()))
            }
            Published::Unknown(why) => return Err(StoreError(format!("jetstream: {why}"))),
        }
    }
    Err(StoreError(
        "jetstream: the log kept changing; try again".into(),
    ))
}
