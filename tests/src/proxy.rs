//! A small TCP proxy for fault injection: it listens on 127.0.0.1:0 and
//! forwards every connection to a target (the relay), and the test can cut,
//! stall and delay what passes through, or refuse the WebSocket path while
//! plain HTTP still goes through.
//!
//! * [`Proxy::cut`] drops both sides of every current connection.
//! * [`Proxy::stall`] stops forwarding bytes on every current connection in
//!   both directions while keeping the sockets open: TCP does not close, only
//!   a heartbeat can tell. Connections opened afterwards are not stalled.
//! * [`Proxy::set_delay`] adds latency to every chunk, in each direction
//!   (a pipeline: latency, not a throughput cap).
//! * [`Proxy::refuse_ws`] answers `503` to new `GET /ws` requests and
//!   forwards everything else.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

const REFUSAL: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

struct Conn {
    cancel: CancellationToken,
    stalled: watch::Sender<bool>,
}

struct Shared {
    target: Mutex<SocketAddr>,
    delay_ms: AtomicU64,
    refuse_ws: AtomicBool,
    conns: Mutex<Vec<Arc<Conn>>>,
    accepted: AtomicU64,
    refused: AtomicU64,
    root: CancellationToken,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A fault-injecting TCP proxy; dropping it closes every connection.
pub struct Proxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Listens on 127.0.0.1:0 and forwards to `target`.
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let shared = Arc::new(Shared {
            target: Mutex::new(target),
            delay_ms: AtomicU64::new(0),
            refuse_ws: AtomicBool::new(false),
            conns: Mutex::new(Vec::new()),
            accepted: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            root: CancellationToken::new(),
        });
        let s = shared.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    r = listener.accept() => r,
                    () = s.root.cancelled() => return,
                };
                let Ok((inbound, _)) = accepted else { continue };
                s.accepted.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(serve(s.clone(), inbound));
            }
        });
        Proxy { addr, shared }
    }

    /// The relay URL as seen through the proxy (`ws://addr`).
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Where new connections go.
    pub fn set_target(&self, to: SocketAddr) {
        *lock(&self.shared.target) = to;
    }

    /// Drops both sides of every current connection.
    pub fn cut(&self) {
        let conns = std::mem::take(&mut *lock(&self.shared.conns));
        for c in conns {
            c.cancel.cancel();
        }
    }

    /// Stops forwarding on every current connection, keeping it open.
    pub fn stall(&self) {
        for c in lock(&self.shared.conns).iter() {
            c.stalled.send_replace(true);
        }
    }

    /// Lets stalled connections flow again.
    pub fn unstall(&self) {
        for c in lock(&self.shared.conns).iter() {
            c.stalled.send_replace(false);
        }
    }

    /// Latency added to every chunk in each direction (0 for none).
    pub fn set_delay(&self, d: Duration) {
        self.shared
            .delay_ms
            .store(d.as_millis() as u64, Ordering::Relaxed);
    }

    /// Refuses (503) new `GET /ws` requests while `on`.
    pub fn refuse_ws(&self, on: bool) {
        self.shared.refuse_ws.store(on, Ordering::Relaxed);
    }

    /// Back to plain forwarding: no delay, no refusal, nothing stalled.
    pub fn resume(&self) {
        self.set_delay(Duration::ZERO);
        self.refuse_ws(false);
        self.unstall();
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::Relaxed)
    }

    /// `GET /ws` requests refused so far.
    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::Relaxed)
    }

    /// Connections currently open through the proxy.
    pub fn open_connections(&self) -> usize {
        lock(&self.shared.conns).len()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.root.cancel();
    }
}

async fn serve(shared: Arc<Shared>, inbound: TcpStream) {
    let conn = Arc::new(Conn {
        cancel: shared.root.child_token(),
        stalled: watch::channel(false).0,
    });
    lock(&shared.conns).push(conn.clone());
    let cancel = conn.cancel.clone();
    tokio::select! {
        () = forward(&shared, &conn, inbound) => {}
        () = cancel.cancelled() => {}
    }
    lock(&shared.conns).retain(|c| !Arc::ptr_eq(c, &conn));
}

async fn forward(shared: &Arc<Shared>, conn: &Conn, mut inbound: TcpStream) {
    let _ = inbound.set_nodelay(true);
    let mut head = Vec::new();
    if shared.refuse_ws.load(Ordering::Relaxed) {
        // Peek the request line: enough to tell the WebSocket path apart.
        let mut buf = [0u8; 4096];
        while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 8192 {
            match inbound.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        if head.starts_with(b"GET /ws ") || head.starts_with(b"GET /ws?") {
            shared.refused.fetch_add(1, Ordering::Relaxed);
            let _ = inbound.write_all(REFUSAL).await;
            let _ = inbound.shutdown().await;
            return;
        }
    }
    let target = *lock(&shared.target);
    let Ok(mut outbound) = TcpStream::connect(target).await else {
        return;
    };
    let _ = outbound.set_nodelay(true);
    if !head.is_empty() && outbound.write_all(&head).await.is_err() {
        return;
    }
    let (ir, iw) = inbound.into_split();
    let (or, ow) = outbound.into_split();
    tokio::join!(
        pump(ir, ow, shared.clone(), conn.stalled.subscribe()),
        pump(or, iw, shared.clone(), conn.stalled.subscribe()),
    );
}

/// Copies `r` to `w`, each chunk held for the current delay and while the
/// connection is stalled; shuts `w` down when `r` ends.
async fn pump(
    mut r: OwnedReadHalf,
    mut w: OwnedWriteHalf,
    shared: Arc<Shared>,
    stalled: watch::Receiver<bool>,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let mut read_stall = stalled.clone();
    let reader = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            if read_stall.wait_for(|s| !*s).await.is_err() {
                return;
            }
            match r.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    let delay = Duration::from_millis(shared.delay_ms.load(Ordering::Relaxed));
                    if tx
                        .send((Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    };
    let mut write_stall = stalled;
    let writer = async move {
        while let Some((due, bytes)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if write_stall.wait_for(|s| !*s).await.is_err() {
                return;
            }
            if w.write_all(&bytes).await.is_err() {
                return;
            }
        }
        let _ = w.shutdown().await;
    };
    tokio::join!(reader, writer);
}
