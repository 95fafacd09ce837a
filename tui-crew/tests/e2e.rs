//! The real `kfood-crew` binary in a pseudo-terminal (tmux) against a real
//! relay: orders placed by customers appear on the board, and the cook's
//! keys reach the customer as `order_update`.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use kfood_protocol::Role;
use kfood_tests::{cash_order, token, Client, TestRelay};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Generous: a loaded CI machine draws slowly, and a reconnect waits for backoff.
const SCREEN_WAIT: Duration = Duration::from_secs(20);

/// A tmux session running one program on a tmux server of its own (so no
/// other tmux user is disturbed), killed when dropped (also on panic).
struct Tmux {
    name: String,
}

impl Tmux {
    fn start(tag: &str, cmd: &str) -> Tmux {
        let t = Tmux {
            name: format!("kfood-crew-{tag}-{}", std::process::id()),
        };
        let _ = t.tmux().arg("kill-server").output();
        let st = t
            .tmux()
            .args([
                "new-session",
                "-d",
                "-s",
                &t.name,
                "-x",
                "80",
                "-y",
                "24",
                cmd,
            ])
            .status()
            .expect("tmux is installed");
        assert!(st.success(), "tmux new-session failed");
        t
    }

    /// This session's own server socket.
    fn socket(&self) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("{}.tmux", self.name))
    }

    /// `tmux` on this session's own server.
    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(self.socket());
        c
    }

    fn capture(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let st = self
            .tmux()
            .args(["send-keys", "-t", &self.name])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(st.success());
    }

    /// Polls the screen until every one of `needles` is on it.
    async fn wait_for(&self, needles: &[&str]) -> String {
        let deadline = tokio::time::Instant::now() + SCREEN_WAIT;
        loop {
            let screen = self.capture();
            if needles.iter().all(|n| screen.contains(n)) {
                return screen;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("{needles:?} not on screen within {SCREEN_WAIT:?}:\n{screen}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls until `needle` is gone from the screen.
    async fn wait_gone(&self, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + SCREEN_WAIT;
        loop {
            let screen = self.capture();
            if !screen.contains(needle) {
                return screen;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("{needle:?} still on screen after {SCREEN_WAIT:?}:\n{screen}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").output();
        let _ = std::fs::remove_file(self.socket());
    }
}

/// The command line of a crew terminal, with its cache in `cache` (never
/// in the home directory of whoever runs the tests).
fn crew_cmd(relay: &str, who: &str, cache: &std::path::Path) -> String {
    let log = cache.join(format!("kfood-crew-{who}.log"));
    format!(
        "env XDG_CACHE_HOME={} {} --relay {relay} --token {} --log {} --no-bell",
        cache.display(),
        env!("CARGO_BIN_EXE_kfood-crew"),
        token(who, Role::Crew),
        log.display()
    )
}

/// The last `order_update` for `order_id` the customer receives, asserting its status.
async fn expect_update(customer: &mut Client, order_id: u64, status: &str) -> serde_json::Value {
    loop {
        let ev = customer.next_of("order_update").await;
        if ev["data"]["order_id"] == order_id {
            assert_eq!(ev["data"]["status"], status, "{ev}");
            assert_eq!(ev["data"]["order"]["status"], status, "{ev}");
            return ev;
        }
    }
}

/// A customer's order placed through the test client appears on the board;
/// Enter bumps it and the customer receives `order_update` for each step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_order_appears_and_bumps_reach_the_customer() {
    let relay = TestRelay::start().await;
    let mut customer = relay.connect("kim", Role::Customer).await;
    let cache = tempfile::tempdir().unwrap();
    let crew = Tmux::start(
        "bump",
        &crew_cmd(&relay.ws_url(), "station-1", cache.path()),
    );
    crew.wait_for(&["LIVE", "0 open", "No open orders"]).await;

    let mut data = cash_order(&[("bibimbap", 2), ("japchae", 1)]);
    data["instructions"] = json!("extra spicy");
    data["items"][0]["notes"] = json!("no egg");
    let placed = customer.ok("order_place", data).await;
    let code = placed["order"]["code"].as_str().unwrap().to_owned();
    let id = placed["order"]["id"].as_u64().unwrap();
    let screen = crew
        .wait_for(&[
            &format!("▶{code}"),
            "PENDING 1",
            "1 open",
            "2x Bibimbap",
            "> no egg",
            "! extra spicy",
        ])
        .await;
    println!("{screen}");

    crew.keys(&["Enter"]);
    let ev = expect_update(&mut customer, id, "preparing").await;
    let by = ev["data"]["order"]["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["by"]
        .clone();
    assert_eq!(by["id"], "station-1", "{ev}");
    crew.wait_for(&["PREPARING 1", &format!("▶{code}")]).await;

    crew.keys(&["Space"]);
    expect_update(&mut customer, id, "ready").await;
    crew.wait_for(&["READY 1"]).await;

    // Recall, then bump again, then deliver: the ticket leaves the board.
    crew.keys(&["u"]);
    expect_update(&mut customer, id, "preparing").await;
    crew.wait_for(&["PREPARING 1", "READY 0"]).await;
    crew.keys(&["Enter"]);
    expect_update(&mut customer, id, "ready").await;
    crew.keys(&["Enter"]);
    expect_update(&mut customer, id, "delivered").await;
    crew.wait_for(&["0 open", "READY 0"]).await;

    // Prep estimate and cancel with a reason, on a second order.
    let placed = customer
        .ok("order_place", cash_order(&[("bulgogi", 1)]))
        .await;
    let id2 = placed["order"]["id"].as_u64().unwrap();
    let code2 = placed["order"]["code"].as_str().unwrap().to_owned();
    crew.wait_for(&[&format!("▶{code2}")]).await;
    let prep = placed["order"]["prep_minutes"].as_u64().unwrap();
    crew.keys(&["+"]);
    let ev = expect_update(&mut customer, id2, "pending").await;
    assert_eq!(ev["data"]["order"]["prep_minutes"], prep + 1, "{ev}");
    crew.keys(&["x"]);
    crew.wait_for(&["Cancel order", "Reason:"]).await;
    crew.keys(&["1", "Enter"]);
    let ev = customer.next_of("order_cancelled").await;
    assert_eq!(ev["data"]["order_id"], id2);
    let last = ev["data"]["order"]["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["note"], "out of stock", "{ev}");
    crew.wait_for(&["0 open"]).await;

    crew.keys(&["q"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// Two crew terminals see each other's bumps; a customer's cancellation is
/// flagged on the board rather than vanishing; 86 reaches customers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_stations_and_customers_changes_show_live() {
    let relay = TestRelay::start().await;
    let mut customer = relay.connect("kim", Role::Customer).await;
    let mut other = relay.connect("station-2", Role::Crew).await;
    let cache = tempfile::tempdir().unwrap();
    let crew = Tmux::start(
        "live",
        &crew_cmd(&relay.ws_url(), "station-1", cache.path()),
    );
    crew.wait_for(&["LIVE", "0 open"]).await;

    let a = customer
        .ok("order_place", cash_order(&[("bibimbap", 1)]))
        .await;
    let b = customer
        .ok("order_place", cash_order(&[("japchae", 1)]))
        .await;
    let (a_id, b_id) = (
        a["order"]["id"].as_u64().unwrap(),
        b["order"]["id"].as_u64().unwrap(),
    );
    let b_code = b["order"]["code"].as_str().unwrap().to_owned();
    crew.wait_for(&["PENDING 2"]).await;

    other
        .ok(
            "order_update",
            json!({"order_id": a_id, "status": "preparing"}),
        )
        .await;
    crew.wait_for(&["PENDING 1", "PREPARING 1"]).await;

    customer
        .ok(
            "order_cancel",
            json!({"order_id": b_id, "reason": "changed my mind"}),
        )
        .await;
    let screen = crew.wait_for(&["CANCELLED changed my", &b_code]).await;
    assert!(screen.contains("PENDING 1"), "{screen}");
    // The selection stayed with A as it moved; B is one column left.
    crew.wait_for(&[&format!("▶{}", a["order"]["code"].as_str().unwrap())])
        .await;
    crew.keys(&["h"]);
    crew.wait_for(&[&format!("▶{b_code}")]).await;
    crew.keys(&["Enter"]);
    crew.wait_for(&["PENDING 0", "1 open"]).await;

    // 86 the first menu item: customers can no longer order it.
    crew.keys(&["m"]);
    crew.wait_for(&["86 m: Enter toggles"]).await;
    crew.keys(&["Enter"]);
    crew.wait_for(&["86 Bibimbap"]).await;
    let ev = customer.next_of("menu_update").await;
    assert_eq!(ev["data"]["item"]["id"], "bibimbap");
    assert_eq!(ev["data"]["item"]["available"], false);
    customer
        .refused(
            "order_place",
            cash_order(&[("bibimbap", 1)]),
            "item_unavailable",
        )
        .await;
    crew.keys(&["Escape", "q"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// A TCP forwarder in front of the relay that can drop every connection
/// and refuse new ones, as a flaky SSH-era network would.
struct Proxy {
    port: u16,
    up: watch::Sender<bool>,
}

impl Proxy {
    async fn start(target: std::net::SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, up_rx) = watch::channel(true);
        let up_rx = Arc::new(up_rx);
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if !*up_rx.borrow() {
                    drop(inbound);
                    continue;
                }
                let mut rx = (*up_rx).clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = rx.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Proxy { port, up }
    }

    fn set(&self, up: bool) {
        self.up.send_replace(up);
    }
}

/// A dropped connection leaves the board up, marked stale; a bump made
/// meanwhile waits as QUEUED and reaches the customer after the reconnect,
/// and what happened while away shows without the cook doing anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connection_queues_and_reconciles() {
    let relay = TestRelay::start().await;
    let proxy = Proxy::start(relay.addr).await;
    let mut customer = relay.connect("kim", Role::Customer).await;
    let mut other = relay.connect("station-2", Role::Crew).await;
    let a = customer
        .ok("order_place", cash_order(&[("bibimbap", 1)]))
        .await;
    let b = customer
        .ok("order_place", cash_order(&[("japchae", 1)]))
        .await;
    let (a_id, b_id) = (
        a["order"]["id"].as_u64().unwrap(),
        b["order"]["id"].as_u64().unwrap(),
    );
    let a_code = a["order"]["code"].as_str().unwrap().to_owned();

    let cache = tempfile::tempdir().unwrap();
    let crew = Tmux::start(
        "drop",
        &crew_cmd(
            &format!("ws://127.0.0.1:{}", proxy.port),
            "station-1",
            cache.path(),
        ),
    );
    crew.wait_for(&["LIVE", "PENDING 2", &format!("▶{a_code}")])
        .await;

    proxy.set(false);
    crew.wait_for(&["stale"]).await;
    crew.keys(&["Enter"]);
    crew.wait_for(&["QUEUED (offline)", "PREPARING 1 stale"])
        .await;

    // The world moves on meanwhile.
    other
        .ok(
            "order_update",
            json!({"order_id": b_id, "status": "preparing"}),
        )
        .await;
    let c = customer
        .ok("order_place", cash_order(&[("bulgogi", 1)]))
        .await;
    let c_code = c["order"]["code"].as_str().unwrap().to_owned();

    proxy.set(true);
    expect_update(&mut customer, a_id, "preparing").await;
    let screen = crew
        .wait_for(&["LIVE", "PREPARING 2", "PENDING 1", &c_code, "3 open"])
        .await;
    assert!(!screen.contains("stale"), "{screen}");
    crew.wait_gone("QUEUED").await;
    crew.keys(&["q"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// A restarted terminal shows the last known board at once from its cache,
/// marked stale while the relay is out of reach, and goes live when it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_shows_the_cached_board_while_offline() {
    let relay = TestRelay::start().await;
    let proxy = Proxy::start(relay.addr).await;
    let mut customer = relay.connect("kim", Role::Customer).await;
    let a = customer
        .ok("order_place", cash_order(&[("galbi", 2)]))
        .await;
    let a_code = a["order"]["code"].as_str().unwrap().to_owned();
    let cache = tempfile::tempdir().unwrap();
    let url = format!("ws://127.0.0.1:{}", proxy.port);
    {
        let crew = Tmux::start("cache1", &crew_cmd(&url, "station-1", cache.path()));
        crew.wait_for(&["LIVE", &a_code, "2x LA Galbi"]).await;
        crew.keys(&["q"]);
        crew.wait_gone("LIVE").await;
    }
    proxy.set(false);
    let crew = Tmux::start("cache2", &crew_cmd(&url, "station-1", cache.path()));
    let screen = crew.wait_for(&[&a_code, "2x LA Galbi", "stale"]).await;
    assert!(!screen.contains("LIVE"), "{screen}");
    proxy.set(true);
    crew.wait_for(&["LIVE", &a_code]).await;
    crew.wait_gone("stale").await;
    crew.keys(&["q"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
}
