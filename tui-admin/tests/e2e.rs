//! The real `kfood-admin` binary against a real relay: in a pseudo-terminal
//! (`kfood_tests::pty`) for the screens, as a plain process for `status` and
//! `announce`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use kfood_protocol::Role;
use kfood_relay::config::Limits;
use kfood_tests::pty::{fills_rows, Program, Term, SCREEN_WAIT};
use kfood_tests::{card_order, token, TestRelay, GOOD_CARD};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_kfood-admin");
/// What a program says below 80×24 (DESIGN §12).
const TOO_SMALL: &str = "terminal too small";

/// The program against `relay`, its home (so its cache) and its log in
/// `home`, never in the home directory of whoever runs the tests.
fn program(relay: &str, home: &Path) -> Program {
    Program::new(BIN)
        .args(["--relay", relay])
        .home(home)
        .log(&home.join("kfood-admin.log"))
}

/// An admin terminal at 80×24 logged in as `who`.
fn start(relay: &str, who: &str, home: &Path) -> Term {
    program(relay, home)
        .args(["--token", &token(who, Role::Admin)])
        .spawn()
}

/// Quits with `q` and checks the program exits cleanly.
async fn quit(mut t: Term) {
    t.send_keys(&["q"]);
    let status = t.wait_exit(SCREEN_WAIT).await;
    assert!(status.success(), "{status:?}");
}

/// An order placed by a customer client appears in Orders, live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_order_appears_in_orders() {
    let relay = TestRelay::start().await;
    let home = tempfile::tempdir().unwrap();
    let tui = start(&relay.ws_url(), "boss", home.path());
    tui.wait_for(&["live"], SCREEN_WAIT).await;
    tui.send_keys(&["2"]);
    tui.wait_for(&["No orders yet"], SCREEN_WAIT).await;

    let mut kim = relay.connect("kim", Role::Customer).await;
    let placed = kim
        .ok("order_place", card_order(&[("bibimbap", 2)], GOOD_CARD))
        .await;
    let code = placed["order"]["code"].as_str().unwrap().to_owned();

    let screen = tui
        .wait_until("the new order", SCREEN_WAIT, |s| {
            s.lines()
                .any(|l| l.contains(&code) && l.contains("pending") && l.contains("kim name"))
        })
        .await;
    assert!(screen.contains("card paid"), "{screen}");
    // Its detail shows the lines and the payment.
    tui.send_keys(&["Enter"]);
    let detail = tui.wait_for(&["visa ending 4242"], SCREEN_WAIT).await;
    assert!(detail.contains("2 × Bibimbap"), "{detail}");
    tui.send_keys(&["Escape"]);
    quit(tui).await;
    relay.stop().await;
}

/// An announcement written on the Announcements screen reaches a crew client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announcement_reaches_crew() {
    let relay = TestRelay::start().await;
    let mut crew = relay.connect("kim", Role::Crew).await;
    let home = tempfile::tempdir().unwrap();
    let tui = start(&relay.ws_url(), "boss", home.path());
    tui.wait_for(&["live"], SCREEN_WAIT).await;
    tui.send_keys(&["6"]);
    tui.wait_for(&["No active announcements"], SCREEN_WAIT)
        .await;
    tui.send_keys(&["n"]);
    tui.wait_for(&["New announcement"], SCREEN_WAIT).await;
    // Audience: all → customer → crew; then on to the text.
    tui.send_keys(&["Right", "Right", "Tab", "Tab"]);
    tui.type_text("Fryer is down, no tempura tonight");
    tui.send_keys(&["Enter"]);
    tui.wait_for(&["sent to crew"], SCREEN_WAIT).await;

    let got = crew.next_of("announcement").await;
    assert_eq!(got["data"]["text"], "Fryer is down, no tempura tonight");
    assert_eq!(got["data"]["audience"], "crew");
    assert_eq!(got["data"]["by"]["id"], "boss");
    let screen = tui.screen();
    assert!(screen.contains("Fryer is down"), "{screen}");
    quit(tui).await;
    relay.stop().await;
}

/// A menu price edited on the Menu screen reaches a customer client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn price_edit_reaches_customers() {
    let relay = TestRelay::start().await;
    let mut customer = relay.connect("lee", Role::Customer).await;
    let home = tempfile::tempdir().unwrap();
    let tui = start(&relay.ws_url(), "boss", home.path());
    tui.wait_for(&["live"], SCREEN_WAIT).await;
    tui.send_keys(&["5"]);
    tui.wait_for(&["$13.50"], SCREEN_WAIT).await;
    tui.send_keys(&["e"]);
    tui.wait_for(&["Edit menu item"], SCREEN_WAIT).await;
    tui.send_keys(&["Tab", "Tab", "Tab", "C-u"]);
    tui.type_text("14.25");
    tui.send_keys(&["Enter"]);
    tui.wait_for(&["$14.25"], SCREEN_WAIT).await;
    let ev = customer.next_of("menu_update").await;
    assert_eq!(ev["data"]["item"]["id"], "bibimbap");
    assert_eq!(ev["data"]["item"]["price_cents"], 1425);
    quit(tui).await;
    relay.stop().await;
}

/// `q` ends the program with status 0 and gives the terminal back: the
/// alternate screen left and line mode (no raw mode) restored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn q_quits_and_restores_the_terminal() {
    let relay = TestRelay::start().await;
    let home = tempfile::tempdir().unwrap();
    let mut tui = start(&relay.ws_url(), "boss", home.path());
    tui.wait_for(&["live"], SCREEN_WAIT).await;
    assert!(tui.alternate_screen());
    assert_eq!(tui.raw_mode(), Some(true));
    tui.send_keys(&["q"]);
    let status = tui.wait_exit(SCREEN_WAIT).await;
    assert!(status.success(), "{status:?}");
    assert!(!tui.alternate_screen(), "{}", tui.screen());
    assert_eq!(tui.raw_mode(), Some(false));
    relay.stop().await;
}

/// Below 80×24 the program keeps running, showing the dashboard or the
/// notice that the terminal is too small (DESIGN §12), and once the terminal
/// is 80×24 again it redraws the whole dashboard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_terminal_keeps_running_and_redraws() {
    let relay = TestRelay::start().await;
    let home = tempfile::tempdir().unwrap();
    let tui = program(&relay.ws_url(), home.path())
        .args(["--token", &token("boss", Role::Admin)])
        .size(70, 20)
        .spawn();
    tui.wait_until("the dashboard or the too-small notice", SCREEN_WAIT, |s| {
        s.contains(TOO_SMALL) || (fills_rows(s, 20) && s.contains("live"))
    })
    .await;
    tui.resize(80, 24);
    let screen = tui
        .wait_until("the dashboard redrawn at 80×24", SCREEN_WAIT, |s| {
            fills_rows(s, 24) && s.lines().any(|l| l.chars().count() == 80)
        })
        .await;
    assert!(screen.contains("live"), "{screen}");
    assert!(screen.contains("8 Users"), "the whole tab bar: {screen}");
    assert!(!screen.contains(TOO_SMALL), "{screen}");
    quit(tui).await;
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
