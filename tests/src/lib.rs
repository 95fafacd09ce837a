//! Shared helpers for the integration and end-to-end tests: a real relay on
//! a real socket (port 0) over a real sled store in a temporary directory,
//! and a small WebSocket client that speaks the envelope of DESIGN §3.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use kfood_protocol::jwt::{Claims, Secret};
use kfood_protocol::Role;
use kfood_relay::config::Limits;
use kfood_relay::store::SledStore;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

/// The JWT secret every test relay uses, so tests mint their own tokens.
pub const SECRET: &str = "kfood-test-secret-0123456789abcdef";
/// How long a test waits for a message before failing.
pub const WAIT: Duration = Duration::from_secs(10);

pub fn secret() -> Secret {
    Secret::new(SECRET.as_bytes()).expect("test secret is long enough")
}

/// A token for `id` with `role`, valid for an hour.
pub fn token(id: &str, role: Role) -> String {
    token_ttl(id, role, 3600)
}

pub fn token_ttl(id: &str, role: Role, ttl_secs: i64) -> String {
    let now = kfood_protocol::time::now_ms() / 1000;
    secret().sign(&Claims::new(id, &format!("{id} name"), role, now, ttl_secs))
}

/// A relay served in this process by `kfood_relay::run`.
pub struct TestRelay {
    pub addr: SocketAddr,
    pub dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl TestRelay {
    /// A relay with the demo menu and default limits.
    pub async fn start() -> TestRelay {
        Self::start_with(Limits::default()).await
    }

    pub async fn start_with(limits: Limits) -> TestRelay {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().to_path_buf();
        let mut r = Self::start_in(&dir, limits).await;
        r._tmp = Some(tmp);
        r
    }

    /// A relay over the store in `dir` (which outlives it, for restarts).
    pub async fn start_in(dir: &Path, limits: Limits) -> TestRelay {
        if nats::jetstream_engine() {
            let url = nats::shared_url().await;
            let mut r = Self::start_jetstream(&url, &nats::cluster_for(dir), limits).await;
            r.dir = dir.to_path_buf();
            return r;
        }
        let store = SledStore::open(dir, 16).expect("open store");
        kfood_relay::seed_demo(&store).expect("seed demo");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        let opts = kfood_relay::Options {
            limits,
            secret: secret(),
            demo: true,
            tls: None,
        };
        let task = tokio::spawn(kfood_relay::run(
            listener,
            Arc::new(store),
            opts,
            shutdown.clone(),
        ));
        TestRelay {
            addr,
            dir: dir.to_path_buf(),
            _tmp: None,
            shutdown,
            task,
        }
    }

    /// A relay on the JetStream engine (DESIGN §15) over `nats_url`, in
    /// cluster `cluster`; the first relay of a cluster seeds the demo.
    pub async fn start_jetstream(nats_url: &str, cluster: &str, limits: Limits) -> TestRelay {
        Self::start_jetstream_replicas(nats_url, cluster, None, limits).await
    }

    /// [`TestRelay::start_jetstream`] with `--replicas`.
    pub async fn start_jetstream_replicas(
        nats_url: &str,
        cluster: &str,
        replicas: Option<usize>,
        limits: Limits,
    ) -> TestRelay {
        let settings = kfood_relay::jetstream::Settings {
            urls: nats_url.to_owned(),
            cluster: cluster.to_owned(),
            replicas,
        };
        let users = kfood_relay::demo::ACCOUNTS
            .iter()
            .map(|(id, name, role, pw)| kfood_relay::auth::UserRecord {
                id: (*id).into(),
                name: (*name).into(),
                role: *role,
                password_hash: kfood_relay::auth::hash_password(pw).expect("hash"),
                created_at: kfood_protocol::time::now(),
            })
            .collect();
        let seed = Some((kfood_relay::demo::menu(), users));
        let c =
            kfood_relay::jetstream::Cluster::open(&settings, &secret(), limits.auto_ready, seed)
                .await
                .expect("open the JetStream cluster");
        Self::start_on_cluster(Arc::new(c), limits).await
    }

    /// A relay serving an opened JetStream cluster.
    pub async fn start_on_cluster(
        cluster: Arc<kfood_relay::jetstream::Cluster>,
        limits: Limits,
    ) -> TestRelay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        let opts = kfood_relay::Options {
            limits,
            secret: secret(),
            demo: true,
            tls: None,
        };
        let task = tokio::spawn(kfood_relay::run_jetstream(
            listener,
            cluster,
            opts,
            shutdown.clone(),
        ));
        let mut task = task;
        let health = format!("http://{addr}/healthz");
        tokio::select! {
            () = wait_ok(&health) => {}
            ended = &mut task => panic!("the relay stopped while starting: {ended:?}"),
        }
        TestRelay {
            addr,
            dir: PathBuf::new(),
            _tmp: None,
            shutdown,
            task,
        }
    }

    /// Waits until `/healthz` answers 200.
    pub async fn wait_healthy(&self) {
        wait_ok(&self.http_url("/healthz")).await;
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Connects and authenticates as `id` with `role`, reading `authenticated`
    /// and the snapshot.
    pub async fn connect(&self, id: &str, role: Role) -> Client {
        Client::connect(&self.ws_url(), &token(id, role), role, None).await
    }

    /// Stops gracefully and waits for the store to be released.
    pub async fn stop(self) -> Option<tempfile::TempDir> {
        self.shutdown.cancel();
        let r = tokio::time::timeout(Duration::from_secs(20), self.task).await;
        assert!(
            matches!(r, Ok(Ok(Ok(())))),
            "relay did not stop cleanly: {r:?}"
        );
        self._tmp
    }
}

/// Waits (up to a minute) until `url` answers 200.
async fn wait_ok(url: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while tokio::time::Instant::now() < deadline {
        if let Ok(r) = reqwest::get(url).await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} did not answer 200");
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A raw protocol client for tests.
pub struct Client {
    pub ws: Ws,
    pub authenticated: Value,
    pub snapshot: Option<Value>,
    inbox: VecDeque<Value>,
    next_id: u64,
    /// Set when the relay closed the socket: the close code.
    pub closed: Option<u16>,
}

/// Opens a socket without authenticating.
pub async fn open(url: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    ws
}

impl Client {
    /// Authenticates with `token` (and `since`), expecting success.
    pub async fn connect(url: &str, token: &str, role: Role, since: Option<u64>) -> Client {
        let ws = open(url).await;
        let mut c = Client {
            ws,
            authenticated: Value::Null,
            snapshot: None,
            inbox: VecDeque::new(),
            next_id: 0,
            closed: None,
        };
        let mut auth = json!({"type": "authentication", "userType": role, "token": token});
        if let Some(s) = since {
            auth["since"] = json!(s);
        }
        c.send(auth).await;
        let first = c.next().await;
        assert_eq!(
            first["type"], "authenticated",
            "expected authenticated, got {first}"
        );
        c.authenticated = first;
        if since.is_none() {
            let snap = c.next_of("snapshot").await;
            c.snapshot = Some(snap);
        }
        c
    }

    pub fn head_seq(&self) -> u64 {
        self.authenticated["data"]["head_seq"].as_u64().unwrap_or(0)
    }

    pub async fn send(&mut self, v: Value) {
        self.ws
            .send(Message::text(v.to_string()))
            .await
            .expect("send");
    }

    pub async fn send_text(&mut self, s: &str) {
        self.ws
            .send(Message::text(s.to_owned()))
            .await
            .expect("send");
    }

    /// The next message (batches are split), or panics after [`WAIT`].
    pub async fn next(&mut self) -> Value {
        match self.try_next(WAIT).await {
            Some(v) => v,
            None => panic!("no message within {WAIT:?} (closed: {:?})", self.closed),
        }
    }

    /// The next message within `wait`, or `None` (also when the socket closed).
    pub async fn try_next(&mut self, wait: Duration) -> Option<Value> {
        if let Some(v) = self.inbox.pop_front() {
            return Some(v);
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()??;
            match msg {
                Ok(Message::Text(t)) => {
                    let v: Value = serde_json::from_str(&t).expect("relay sent JSON");
                    if v["type"] == "batch" {
                        for inner in v["data"].as_array().cloned().unwrap_or_default() {
                            self.inbox.push_back(inner);
                        }
                    } else {
                        self.inbox.push_back(v);
                    }
                    if let Some(v) = self.inbox.pop_front() {
                        return Some(v);
                    }
                }
                Ok(Message::Close(f)) => {
                    self.closed = Some(f.map(|f| u16::from(f.code)).unwrap_or(1005));
                    return None;
                }
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    /// The next message of type `kind`, skipping the live noise in between
    /// (metrics, activity) and any other type.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.try_next(left).await {
                Some(v) if v["type"] == kind => return v,
                Some(_) => {}
                None => panic!("no {kind} within {WAIT:?} (closed: {:?})", self.closed),
            }
        }
    }

    /// Every message of type `kind` that arrives within `wait`.
    pub async fn collect(&mut self, kind: &str, wait: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut out = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.try_next(left).await {
                Some(v) if v["type"] == kind => out.push(v),
                Some(_) => {}
                None => return out,
            }
        }
    }

    /// Sends `kind` with `data` and an id; returns the `ack` or `error` for it.
    /// Other messages that arrive meanwhile stay queued for `next`.
    pub async fn request(&mut self, kind: &str, data: Value) -> Value {
        self.next_id += 1;
        let id = format!("t-{}", self.next_id);
        self.send(json!({"type": kind, "id": id, "data": data}))
            .await;
        self.reply_to(&id).await
    }

    /// Waits for the `ack`/`error` whose `ref` is `id` (for a heartbeat: the
    /// relay's `heartbeat` carrying it, DESIGN §3), keeping the rest queued.
    pub async fn reply_to(&mut self, id: &str) -> Value {
        let mut held = VecDeque::new();
        let deadline = tokio::time::Instant::now() + WAIT;
        let found = loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.try_next(left).await {
                Some(v)
                    if (v["type"] == "ack" || v["type"] == "error" || v["type"] == "heartbeat")
                        && v["data"]["ref"] == id =>
                {
                    break v
                }
                Some(v) => held.push_back(v),
                None => panic!(
                    "no reply to {id} within {WAIT:?} (closed: {:?}); got {held:?}",
                    self.closed
                ),
            }
        };
        held.extend(self.inbox.drain(..));
        self.inbox = held;
        found
    }

    /// Like [`request`], asserting an ack; returns its data.
    pub async fn ok(&mut self, kind: &str, data: Value) -> Value {
        let r = self.request(kind, data).await;
        let answered = if kind == "heartbeat" {
            "heartbeat"
        } else {
            "ack"
        };
        assert_eq!(r["type"], answered, "{kind} refused: {r}");
        r["data"].clone()
    }

    /// Like [`request`], asserting an error with `code`; returns its data.
    pub async fn refused(&mut self, kind: &str, data: Value, code: &str) -> Value {
        let r = self.request(kind, data).await;
        assert_eq!(
            r["type"], "error",
            "{kind} should be refused with {code}: {r}"
        );
        assert_eq!(r["data"]["code"], code, "{kind}: {r}");
        r["data"].clone()
    }

    /// Waits for the relay to close the socket; returns the close code.
    pub async fn close_code(&mut self) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.closed.is_none() {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                break;
            }
            if self.try_next(left).await.is_none() && self.closed.is_none() {
                break;
            }
        }
        self.closed
    }
}

/// Limits of one message a second with a burst of five, for the rate tests.
pub fn tight_rate() -> Limits {
    Limits {
        rate_per_sec: 1,
        rate_burst: 5,
        ..Limits::default()
    }
}

/// An `order_quote` frame with `id`: a cheap request that still counts.
pub fn quote_frame(id: &str) -> Value {
    json!({"type": "order_quote", "id": id, "data": cash_order(&[("bibimbap", 1)])})
}

/// `reply` is the `rate_limited` error for the message `id`, with a
/// `retry_after_ms` of at most a second (one token a second).
#[track_caller]
pub fn assert_rate_limited(reply: &Value, id: &str) {
    assert_eq!(reply["type"], "error", "{id}: {reply}");
    assert_eq!(reply["data"]["code"], "rate_limited", "{id}: {reply}");
    assert_eq!(reply["data"]["ref"], id, "{reply}");
    let wait = reply["data"]["retry_after_ms"]
        .as_u64()
        .expect("retry_after_ms");
    assert!((1..=1000).contains(&wait), "one token a second: {reply}");
}

/// A card order's data for `order_place`.
pub fn card_order(items: &[(&str, u32)], card: &str) -> Value {
    json!({
        "client_order_id": uuid::Uuid::new_v4(),
        "items": items.iter().map(|(id, qty)| json!({"item_id": id, "qty": qty})).collect::<Vec<_>>(),
        "fulfillment": {"kind": "pickup"},
        "payment": {"method": "card", "card": {"number": card, "exp": "12/30", "cvc": "123"}},
    })
}

/// A cash pickup order's data for `order_place`.
pub fn cash_order(items: &[(&str, u32)]) -> Value {
    json!({
        "client_order_id": uuid::Uuid::new_v4(),
        "items": items.iter().map(|(id, qty)| json!({"item_id": id, "qty": qty})).collect::<Vec<_>>(),
        "fulfillment": {"kind": "pickup"},
        "payment": {"method": "cash"},
    })
}

pub const GOOD_CARD: &str = "4242424242424242";
pub const DECLINED_CARD: &str = "4000000000000002";
pub const NO_FUNDS_CARD: &str = "4000000000009995";

/// The `kfood-relay` binary built next to the test binary.
pub fn relay_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join(format!("kfood-relay{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p kfood-relay` (cargo test --workspace builds it)",
        bin.display()
    );
    bin
}

/// A program of the workspace (`kfood-customer`, ...) built next to the
/// test binary, for end-to-end tests that run two programs together.
pub fn program_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build --bin {name}` (cargo test --workspace builds it)",
        bin.display()
    );
    bin
}

/// A free port on loopback (bound and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The engine flags of a relay binary over `dir` ([`nats::jetstream_engine`]).
pub async fn engine_args(dir: &Path) -> Vec<String> {
    if !nats::jetstream_engine() {
        return Vec::new();
    }
    vec![
        "--engine".into(),
        "jetstream".into(),
        "--nats-url".into(),
        nats::shared_url().await,
        "--cluster".into(),
        nats::cluster_for(dir),
    ]
}

/// The relay binary as a child process, for kill -9 and signal tests.
pub struct RelayProcess {
    pub child: std::process::Child,
    pub addr: SocketAddr,
}

impl RelayProcess {
    pub async fn spawn(dir: &Path, extra: &[&str]) -> RelayProcess {
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        let engine = engine_args(dir).await;
        let child = std::process::Command::new(relay_bin())
            .args(["--demo", "--bind", &addr.to_string(), "--data-dir"])
            .arg(dir)
            .args(&engine)
            .args(extra)
            .env("KFOOD_JWT_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn kfood-relay");
        let p = RelayProcess { child, addr };
        p.wait_healthy().await;
        p
    }

    pub async fn wait_healthy(&self) {
        let url = format!("http://{}/healthz", self.addr);
        for _ in 0..200 {
            if let Ok(r) = reqwest::get(&url).await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("relay at {} did not become healthy", self.addr);
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Client {
    /// Every message that arrives within `wait`, whatever its type (to
    /// assert that something did *not* arrive).
    pub async fn drain(&mut self, wait: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut out = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.try_next(left).await {
                Some(v) => out.push(v),
                None => return out,
            }
        }
    }
}

/// Authenticates with `token` expecting a refusal: returns the `error` the
/// relay sent first and the close code that followed.
pub async fn refused_auth(url: &str, token: &str, role: Role) -> (Value, Option<u16>) {
    let mut c = Client {
        ws: open(url).await,
        authenticated: Value::Null,
        snapshot: None,
        inbox: VecDeque::new(),
        next_id: 0,
        closed: None,
    };
    c.send(json!({"type": "authentication", "userType": role, "token": token}))
        .await;
    let first = c.next().await;
    assert_eq!(first["type"], "error", "expected a refusal, got {first}");
    (first, c.close_code().await)
}

/// A token for `id` whose display name is `name` (anything a token may carry).
pub fn token_named(id: &str, name: &str, role: Role, ttl_secs: i64) -> String {
    let now = kfood_protocol::time::now_ms() / 1000;
    secret().sign(&Claims::new(id, name, role, now, ttl_secs))
}

/// The seqs of the durable events among `msgs`, in order.
pub fn seqs(msgs: &[Value]) -> Vec<u64> {
    msgs.iter().filter_map(|m| m["seq"].as_u64()).collect()
}

impl Client {
    /// A socket that has not authenticated yet, for tests of the handshake:
    /// send the first frame yourself, then use `next` and `close_code`.
    pub async fn unauthenticated(url: &str) -> Client {
        Client {
            ws: open(url).await,
            authenticated: Value::Null,
            snapshot: None,
            inbox: VecDeque::new(),
            next_id: 0,
            closed: None,
        }
    }

    /// Every message queued for this client by the relay before now, in order:
    /// sends a request the relay's core answers in turn (an unknown type, so
    /// it changes nothing) and returns what arrived before its answer.
    pub async fn settle(&mut self) -> Vec<Value> {
        self.next_id += 1;
        let id = format!("settle-{}", self.next_id);
        self.send(json!({"type": "test_barrier", "id": id})).await;
        let mut before = Vec::new();
        loop {
            let v = self.next().await;
            if v["type"] == "error" && v["data"]["ref"] == id.as_str() {
                return before;
            }
            before.push(v);
        }
    }
}

/// An HTTP answer: status, headers and the body (JSON `Null` when not JSON).
#[derive(Debug)]
pub struct HttpReply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub body: Value,
}

async fn http_reply(r: reqwest::Response) -> HttpReply {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.expect("read body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    HttpReply {
        status,
        headers,
        text,
        body,
    }
}

/// `GET url`, with `Authorization: Bearer` when a token is given.
pub async fn http_get(url: &str, bearer: Option<&str>) -> HttpReply {
    let mut req = reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(60));
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    http_reply(req.send().await.expect("GET")).await
}

/// `POST url` with a JSON body, with `Authorization: Bearer` when a token is given.
pub async fn http_post(url: &str, bearer: Option<&str>, body: &Value) -> HttpReply {
    let mut req = reqwest::Client::new()
        .post(url)
        .timeout(Duration::from_secs(60))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    http_reply(req.send().await.expect("POST")).await
}

pub mod nats;
pub mod proxy;
pub mod pty;

impl RelayProcess {
    /// The relay binary on `addr` — e.g. where one was just killed, to
    /// restart it in place over the same data directory.
    pub async fn spawn_on(dir: &Path, addr: SocketAddr, extra: &[&str]) -> RelayProcess {
        let engine = engine_args(dir).await;
        let child = std::process::Command::new(relay_bin())
            .args(["--demo", "--bind", &addr.to_string(), "--data-dir"])
            .arg(dir)
            .args(&engine)
            .args(extra)
            .env("KFOOD_JWT_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn kfood-relay");
        let p = RelayProcess { child, addr };
        p.wait_healthy().await;
        p
    }
}
