//! The real `kfood-customer` binary in a pseudo-terminal (tmux) against a
//! real relay: what a customer types, and what the screen then says.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use kfood_protocol::Role;
use kfood_tests::TestRelay;
use serde_json::json;

/// How long a screen may take to show what is expected.
const SCREEN_WAIT: Duration = Duration::from_secs(15);

/// One tmux session running the program; killed when dropped.
struct Screen {
    name: String,
}

impl Screen {
    fn start(name: &str, relay: &TestRelay, token: &str, cache: &Path) -> Screen {
        Self::start_with(name, relay, &format!("--token '{token}'"), "", cache)
    }

    /// `flags` and `env` go into the shell command as they are.
    fn start_with(name: &str, relay: &TestRelay, flags: &str, env: &str, cache: &Path) -> Screen {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", name])
            .output();
        let bin = env!("CARGO_BIN_EXE_kfood-customer");
        let log = cache.join("customer.log");
        let cmd = format!(
            "env {env} KFOOD_CACHE_DIR='{}' '{bin}' --relay ws://{} {flags} --log '{}'",
            cache.display(),
            relay.addr,
            log.display()
        );
        let out = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                name,
                "-x",
                "80",
                "-y",
                "24",
                &cmd,
            ])
            .output()
            .expect("tmux is installed");
        assert!(out.status.success(), "tmux: {out:?}");
        Screen { name: name.into() }
    }

    fn capture(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Keys by tmux name (`Enter`, `Tab`) or literal text with `-l`.
    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let named = matches!(*k, "Enter" | "Tab" | "BTab" | "Escape" | "Up" | "Down");
            let mut cmd = Command::new("tmux");
            cmd.args(["send-keys", "-t", &self.name]);
            if !named {
                cmd.arg("-l");
            }
            let out = cmd.arg(k).output().expect("tmux send-keys");
            assert!(out.status.success(), "send-keys {k}: {out:?}");
        }
    }

    /// Waits until every one of `texts` is on screen; returns the screen.
    async fn wait_for(&self, texts: &[&str]) -> String {
        let deadline = tokio::time::Instant::now() + SCREEN_WAIT;
        loop {
            let screen = self.capture();
            if texts.iter().all(|t| screen.contains(t)) {
                return screen;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("{texts:?} not on screen within {SCREEN_WAIT:?}:\n{screen}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for the program to exit (the session ends with it).
    async fn wait_exit(&self) {
        let deadline = tokio::time::Instant::now() + SCREEN_WAIT;
        while Command::new("tmux")
            .args(["has-session", "-t", &self.name])
            .output()
            .is_ok_and(|o| o.status.success())
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the program did not quit"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .output();
    }
}

fn session_name(test: &str) -> String {
    format!("kfood-customer-{test}-{}", std::process::id())
}

/// Two items in the cart, a declined card keeps the cart, the test card
/// places the order, and the crew's bump shows as preparing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_from_menu_to_preparing() {
    let relay = TestRelay::start().await;
    let cache = tempfile::tempdir().unwrap();
    let token = kfood_tests::token("e2e-kim", Role::Customer);
    let s = Screen::start(&session_name("order"), &relay, &token, cache.path());

    s.wait_for(&["Rice & Noodles", "Bibimbap", "live"]).await;
    // Bibimbap, then down past Dolsot Bibimbap to Japchae.
    s.keys(&["+", "j", "j", "+"]);
    s.wait_for(&["2 Cart (2)", "Added 1 x Japchae"]).await;
    s.keys(&["2"]);
    s.wait_for(&["Cart (2 items)", "Bibimbap", "Japchae"]).await;
    s.keys(&["c"]);
    s.wait_for(&["Checkout", "priced by the relay", "$26.00"])
        .await;

    // A declined card: said plainly, nothing ordered, the cart kept.
    s.keys(&[
        "Tab",
        "Tab",
        "Tab",
        "Tab",
        "4000000000000002",
        "Tab",
        "1230",
        "Tab",
        "123",
        "Enter",
    ]);
    let screen = s.wait_for(&["Payment declined", "cart is kept"]).await;
    assert!(screen.contains("Cart (2)"), "{screen}");

    // The approved test card, into the cleared number field; expiry stays.
    s.keys(&["4242424242424242", "Tab", "Tab", "123", "Enter"]);
    let screen = s
        .wait_for(&["Order K-0001 placed: pending", "[>] pending", "K-0001"])
        .await;
    assert!(!screen.contains("Cart ("), "the cart is emptied: {screen}");

    // The kitchen starts it.
    let mut crew = relay.connect("crew-1", Role::Crew).await;
    crew.ok(
        "order_update",
        json!({"order_id": 1, "status": "preparing"}),
    )
    .await;
    s.wait_for(&["[>] preparing", "K-0001 is being prepared"])
        .await;
    crew.ok("order_update", json!({"order_id": 1, "status": "ready"}))
        .await;
    s.wait_for(&["READY for pickup!"]).await;

    s.keys(&["q"]);
    s.wait_exit().await;
}

/// The cart survives quitting and starting again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cart_survives_a_restart() {
    let relay = TestRelay::start().await;
    let cache = tempfile::tempdir().unwrap();
    let token = kfood_tests::token("e2e-lee", Role::Customer);
    let name = session_name("restart");
    {
        let s = Screen::start(&name, &relay, &token, cache.path());
        s.wait_for(&["Bibimbap", "live"]).await;
        s.keys(&["+", "+"]);
        s.wait_for(&["2 Cart (2)"]).await;
        s.keys(&["q"]);
        s.wait_exit().await;
    }
    let s = Screen::start(&name, &relay, &token, cache.path());
    s.wait_for(&["2 Cart (2)", "live"]).await;
    s.keys(&["2"]);
    s.wait_for(&["2 × Bibimbap"]).await;
}

/// A cancel the kitchen has overtaken is refused, and the screen says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_cancel_is_refused_plainly() {
    let relay = TestRelay::start().await;
    let cache = tempfile::tempdir().unwrap();
    let token = kfood_tests::token("e2e-park", Role::Customer);
    let mut me = kfood_tests::Client::connect(&relay.ws_url(), &token, Role::Customer, None).await;
    me.ok("order_place", kfood_tests::cash_order(&[("bibimbap", 1)]))
        .await;
    let mut crew = relay.connect("crew-2", Role::Crew).await;
    crew.ok(
        "order_update",
        json!({"order_id": 1, "status": "preparing"}),
    )
    .await;

    let s = Screen::start(&session_name("cancel"), &relay, &token, cache.path());
    s.wait_for(&["live"]).await;
    s.keys(&["3"]);
    s.wait_for(&["K-0001", "preparing"]).await;
    s.keys(&["x"]);
    s.wait_for(&["Cancel K-0001?"]).await;
    s.keys(&["Enter"]);
    s.wait_for(&["Too late to cancel K-0001", "kitchen has started it"])
        .await;
}

/// `--register` creates a customer account and logs straight in with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_and_log_in() {
    let relay = TestRelay::start().await;
    let cache = tempfile::tempdir().unwrap();
    let s = Screen::start_with(
        &session_name("register"),
        &relay,
        "--user new-kim --register --name 'Kim Ji-woo'",
        "KFOOD_PASSWORD=correct-horse-battery",
        cache.path(),
    );
    s.wait_for(&["Kim Ji-woo", "live", "Bibimbap"]).await;
    s.keys(&["q"]);
    s.wait_exit().await;

    // The account exists: logging in with it works.
    let reply = reqwest::Client::new()
        .post(relay.http_url("/api/login"))
        .json(&json!({"username": "new-kim", "password": "correct-horse-battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
}
