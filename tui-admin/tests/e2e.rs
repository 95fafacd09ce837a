//! The real `kfood-admin` binary against a real relay: in a pseudo-terminal
//! (tmux) for the screens, as a plain process for `status` and `announce`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use kfood_protocol::Role;
use kfood_relay::config::Limits;
use kfood_tests::{card_order, token, TestRelay, GOOD_CARD};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_kfood-admin");
/// How long a screen may take to show what a test waits for.
const SCREEN_WAIT: Duration = Duration::from_secs(15);

/// A tmux session running the program; killed when dropped.
struct Tmux {
    name: String,
    log: PathBuf,
}

impl Tmux {
    fn start(test: &str, relay: &TestRelay, w: u16, h: u16) -> Tmux {
        let name = format!("kfood-admin-{test}-{}", std::process::id());
        let log = std::env::temp_dir().join(format!("{name}.log"));
        let _ = std::fs::remove_file(&log);
        let cmd = format!(
            "{BIN} --relay ws://{} --token {} --log {}",
            relay.addr,
            token("boss", Role::Admin),
            log.display()
        );
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &name])
            .output();
        let out = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                &w.to_string(),
                "-y",
                &h.to_string(),
            ])
            .arg(cmd)
            .output()
            .expect("tmux is installed");
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmux { name, log }
    }

    fn capture(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let out = Command::new("tmux")
            .args(["send-keys", "-t", &self.name])
            .args(keys)
            .output()
            .expect("tmux send-keys");
        assert!(out.status.success());
    }

    /// Typed as literal text (no key names).
    fn text(&self, s: &str) {
        let out = Command::new("tmux")
            .args(["send-keys", "-l", "-t", &self.name, s])
            .output()
            .expect("tmux send-keys");
        assert!(out.status.success());
    }

    /// Polls the screen until `f` holds; fails with the screen and the log.
    async fn wait_for(&self, what: &str, f: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + SCREEN_WAIT;
        loop {
            let screen = self.capture();
            if f(&screen) {
                return screen;
            }
            if tokio::time::Instant::now() > deadline {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                panic!("the screen never showed {what}:\n{screen}\n--- log ---\n{log}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    async fn wait_text(&self, needle: &str) -> String {
        self.wait_for(needle, |s| s.contains(needle)).await
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .output();
    }
}

/// An order placed by a customer client appears in Orders, live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_order_appears_in_orders() {
    let relay = TestRelay::start().await;
    let tui = Tmux::start("orders", &relay, 80, 24);
    tui.wait_text("live").await;
    tui.keys(&["2"]);
    tui.wait_text("No orders yet").await;

    let mut kim = relay.connect("kim", Role::Customer).await;
    let placed = kim
        .ok("order_place", card_order(&[("bibimbap", 2)], GOOD_CARD))
        .await;
    let code = placed["order"]["code"].as_str().unwrap().to_owned();

    let screen = tui
        .wait_for("the new order", |s| {
            s.lines()
                .any(|l| l.contains(&code) && l.contains("pending") && l.contains("kim name"))
        })
        .await;
    assert!(screen.contains("card paid"), "{screen}");
    // Its detail shows the lines and the payment.
    tui.keys(&["Enter"]);
    let detail = tui.wait_text("visa ending 4242").await;
    assert!(detail.contains("2 × Bibimbap"), "{detail}");
    tui.keys(&["Escape", "q"]);
    drop(tui);
    relay.stop().await;
}

/// An announcement written on the Announcements screen reaches a crew client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announcement_reaches_crew() {
    let relay = TestRelay::start().await;
    let mut crew = relay.connect("kim", Role::Crew).await;
    let tui = Tmux::start("announce", &relay, 80, 24);
    tui.wait_text("live").await;
    tui.keys(&["6"]);
    tui.wait_text("No active announcements").await;
    tui.keys(&["n"]);
    tui.wait_text("New announcement").await;
    // Audience: all → customer → crew; then on to the text.
    tui.keys(&["Right", "Right", "Tab", "Tab"]);
    tui.text("Fryer is down, no tempura tonight");
    tui.keys(&["Enter"]);
    tui.wait_text("sent to crew").await;

    let got = crew.next_of("announcement").await;
    assert_eq!(got["data"]["text"], "Fryer is down, no tempura tonight");
    assert_eq!(got["data"]["audience"], "crew");
    assert_eq!(got["data"]["by"]["id"], "boss");
    let screen = tui.capture();
    assert!(screen.contains("Fryer is down"), "{screen}");
    tui.keys(&["q"]);
    drop(tui);
    relay.stop().await;
}

/// A menu price edited on the Menu screen reaches a customer client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn price_edit_reaches_customers() {
    let relay = TestRelay::start().await;
    let mut customer = relay.connect("lee", Role::Customer).await;
    let tui = Tmux::start("menu", &relay, 80, 24);
    tui.wait_text("live").await;
    tui.keys(&["5"]);
    tui.wait_text("$13.50").await;
    tui.keys(&["e"]);
    tui.wait_text("Edit menu item").await;
    tui.keys(&["Tab", "Tab", "Tab", "C-u"]);
    tui.text("14.25");
    tui.keys(&["Enter"]);
    tui.wait_text("$14.25").await;
    let ev = customer.next_of("menu_update").await;
    assert_eq!(ev["data"]["item"]["id"], "bibimbap");
    assert_eq!(ev["data"]["item"]["price_cents"], 1425);
    tui.keys(&["q"]);
    drop(tui);
    relay.stop().await;
}

fn status(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .args(["--log", "/dev/null"])
        .env_remove("KFOOD_TOKEN")
        .env_remove("KFOOD_RELAY")
        .output()
        .expect("run kfood-admin");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `kfood-admin status --json` against a live relay: the figures, alone on
/// stdout, exit 0; flags before or after the subcommand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_json_against_live_relay() {
    let relay = TestRelay::start().await;
    let mut kim = relay.connect("kim", Role::Customer).await;
    kim.ok("order_place", card_order(&[("bibimbap", 2)], GOOD_CARD))
        .await;
    let _crew = relay.connect("crew-1", Role::Crew).await;
    let url = format!("ws://{}", relay.addr);
    let tok = token("boss", Role::Admin);
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        status(&["status", "--json", "--relay", &url, "--token", &tok])
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["orders_today"], 1);
    assert_eq!(v["revenue_today_cents"], 2700);
    assert_eq!(v["orders_by_status"]["pending"], 1);
    assert_eq!(v["connections"]["crew"], 1);
    assert!(v["connections"]["admin"].as_u64().unwrap() >= 1);
    for field in [
        "uptime_s",
        "msgs_in_per_s",
        "msgs_out_per_s",
        "prep_min_avg",
        "prep_min_p90",
        "late_orders",
        "payment_failures_today",
        "fanout_ms",
        "store_bytes",
    ] {
        assert!(!v[field].is_null(), "{field} missing: {out}");
    }
    assert_eq!(v["alerts_open"]["critical"], 0);
    assert!(v.get("history").is_none());

    // Plain text, flags before the subcommand.
    let url = format!("ws://{}", relay.addr);
    let tok = token("boss", Role::Admin);
    let (code, out, _) =
        tokio::task::spawn_blocking(move || status(&["--relay", &url, "--token", &tok, "status"]))
            .await
            .unwrap();
    assert_eq!(code, 0);
    assert!(out.contains("Orders today      1"), "{out}");
    assert!(out.contains("Revenue today     $27.00"), "{out}");
    relay.stop().await;
}

/// `status` exits 1 with a critical alert open, 2 when the relay is
/// unreachable or refuses the credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_exit_codes() {
    let relay = TestRelay::start_with(Limits {
        no_crew_after_secs: 1,
        ..Limits::default()
    })
    .await;
    let mut kim = relay.connect("kim", Role::Customer).await;
    kim.ok("order_place", card_order(&[("bibimbap", 1)], GOOD_CARD))
        .await;
    let mut admin = relay.connect("watcher", Role::Admin).await;
    // The relay checks for a missing kitchen every few seconds.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let alert = loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match admin.try_next(left).await {
            Some(v) if v["type"] == "system_alert" => break v,
            Some(_) => {}
            None => panic!("no system_alert within 30 s"),
        }
    };
    assert_eq!(alert["data"]["severity"], "critical", "{alert}");

    let url = format!("ws://{}", relay.addr);
    let tok = token("boss", Role::Admin);
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        status(&["status", "--json", "--relay", &url, "--token", &tok])
    })
    .await
    .unwrap();
    assert_eq!(code, 1, "stdout: {out}\nstderr: {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["alerts_open"]["critical"], 1);
    assert_eq!(v["alerts"][0]["kind"], "no_crew");

    let url = format!("ws://{}", relay.addr);
    let crew_token = token("kim", Role::Crew);
    let (code, _, err) = tokio::task::spawn_blocking(move || {
        status(&["status", "--relay", &url, "--token", &crew_token])
    })
    .await
    .unwrap();
    assert_eq!(code, 2, "a crew token is refused: {err}");
    relay.stop().await;

    let port = kfood_tests::free_port();
    let (code, out, _) = tokio::task::spawn_blocking(move || {
        status(&[
            "status",
            "--json",
            "--relay",
            &format!("ws://127.0.0.1:{port}"),
            "--token",
            "x",
        ])
    })
    .await
    .unwrap();
    assert_eq!(code, 2);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["error"].as_str().unwrap().contains("cannot reach"),
        "{out}"
    );
}

/// `kfood-admin announce --audience crew "text"` sends one announcement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announce_command_reaches_crew() {
    let relay = TestRelay::start().await;
    let mut crew = relay.connect("kim", Role::Crew).await;
    let mut customer = relay.connect("lee", Role::Customer).await;
    let url = format!("ws://{}", relay.addr);
    let tok = token("boss", Role::Admin);
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        status(&[
            "announce",
            "--audience",
            "crew",
            "--kind",
            "maintenance",
            "--expires-at",
            "1h",
            "Walk-in freezer check at 15:00",
            "--relay",
            &url,
            "--token",
            &tok,
        ])
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(out.contains("sent to crew"), "{out}");
    let got = crew.next_of("announcement").await;
    assert_eq!(got["data"]["text"], "Walk-in freezer check at 15:00");
    assert_eq!(got["data"]["kind"], "maintenance");
    assert!(got["data"]["expires_at"].is_string());
    // Customers are not its audience.
    assert!(customer
        .collect("announcement", Duration::from_millis(500))
        .await
        .is_empty());
    relay.stop().await;
}
