//! The real `kfood-customer` binary in a pseudo-terminal
//! (`kfood_tests::pty`) against a real relay: what a customer types, and
//! what the screen then says.

use std::path::Path;

use kfood_protocol::Role;
use kfood_tests::pty::{fills_rows, Program, Term, SCREEN_WAIT};
use kfood_tests::{token, TestRelay};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_kfood-customer");
/// What a program says below 80×24 (DESIGN §12).
const TOO_SMALL: &str = "terminal too small";

/// The program against `relay`, its home (so its cache) and its log in
/// `home`, never in the home directory of whoever runs the tests.
fn program(relay: &str, home: &Path) -> Program {
    Program::new(BIN)
        .args(["--relay", relay])
        .home(home)
        .log(&home.join("kfood-customer.log"))
}

/// A customer terminal at 80×24 logged in as `who`.
fn start(relay: &str, who: &str, home: &Path) -> Term {
    program(relay, home)
        .args(["--token", &token(who, Role::Customer)])
        .spawn()
}

/// Quits with `q` and checks the program exits cleanly.
async fn quit(mut t: Term) {
    t.send_keys(&["q"]);
    let status = t.wait_exit(SCREEN_WAIT).await;
    assert!(status.success(), "{status:?}");
}

/// Two items in the cart, a declined card keeps the cart, the test card
/// places the order, and the crew's bump shows as preparing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_from_menu_to_preparing() {
    let relay = TestRelay::start().await;
    let cache = tempfile::tempdir().unwrap();
    let s = start(&relay.ws_url(), "e2e-kim", cache.path());

    s.wait_for(&["Rice & Noodles", "Bibimbap", "live"], SCREEN_WAIT)
        .await;
    // Bibimbap, then down past Dolsot Bibimbap to Japchae.
    s.send_keys(&["+", "j", "j", "+"]);
    s.wait_for(&["2 Cart (2)", "Added 1 x Japchae"], SCREEN_WAIT)
        .await;
    s.send_keys(&["2"]);
    s.wait_for(&["Cart (2 items)", "Bibimbap", "Japchae"], SCREEN_WAIT)
        .await;
    s.send_keys(&["c"]);
    s.wait_for(&["Checkout", "priced by the relay", "$26.00"], SCREEN_WAIT)
        .await;

    // A declined card: said plainly, nothing ordered, the cart kept.
    s.send_keys(&[
        // Past When, Instructions, Promo code and Payment to the card.
        "Tab",
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
    let screen = s
        .wait_for(&["Payment declined", "cart is kept"], SCREEN_WAIT)
        .await;
    assert!(screen.contains("Cart (2)"), "{screen}");

    // The approved test card, into the cleared number field; expiry stays.
    s.send_keys(&["4242424242424242", "Tab", "Tab", "123", "Enter"]);
    let screen = s
        .wait_for(
            &["Order K-0001 placed: pending", "[>] pending", "K-0001"],
            SCREEN_WAIT,
        )
        .await;
    assert!(!screen.contains("Cart ("), "the cart is emptied: {screen}");

    // The kitchen starts it.
    let mut crew = relay.connect("crew-1", Role::Crew).await;
    crew.ok(
        "order_update",
        json!({"order_id": 1, "status": "preparing"}),
    )
    .await;
    s.wait_for(&["[>] preparing", "K-0001 is being prepared"], SCREEN_WAIT)
        .await;
    crew.ok("order_update", json!({"order_id": 1, "status": "ready"}))
        .await;
    s.wait_for(&["READY for pickup!"], SCREEN_WAIT).await;

    quit(s).await;
}

/// The cart survives quitting and starting again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cart_survives_a_restart() {
    let relay = TestRelay::start().await;
    let cache = tempfile::tempdir().unwrap();
    {
        let s = start(&relay.ws_url(), "e2e-lee", cache.path());
        s.wait_for(&["Bibimbap", "live"], SCREEN_WAIT).await;
        s.send_keys(&["+", "+"]);
        s.wait_for(&["2 Cart (2)"], SCREEN_WAIT).await;
        quit(s).await;
    }
    let s = start(&relay.ws_url(), "e2e-lee", cache.path());
    s.wait_for(&["2 Cart (2)", "live"], SCREEN_WAIT).await;
    s.send_keys(&["2"]);
    s.wait_for(&["2 × Bibimbap"], SCREEN_WAIT).await;
}

/// A cancel the kitchen has overtaken is refused, and the screen says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_cancel_is_refused_plainly() {
    let relay = TestRelay::start().await;
    let cache = tempfile::tempdir().unwrap();
    let token = token("e2e-park", Role::Customer);
    let mut me = kfood_tests::Client::connect(&relay.ws_url(), &token, Role::Customer, None).await;
    me.ok("order_place", kfood_tests::cash_order(&[("bibimbap", 1)]))
        .await;
    let mut crew = relay.connect("crew-2", Role::Crew).await;
    crew.ok(
        "order_update",
        json!({"order_id": 1, "status": "preparing"}),
    )
    .await;

    let s = start(&relay.ws_url(), "e2e-park", cache.path());
    s.wait_for(&["live"], SCREEN_WAIT).await;
    s.send_keys(&["3"]);
    s.wait_for(&["K-0001", "preparing"], SCREEN_WAIT).await;
    s.send_keys(&["x"]);
    s.wait_for(&["Cancel K-0001?"], SCREEN_WAIT).await;
    s.send_keys(&["Enter"]);
    s.wait_for(
        &["Too late to cancel K-0001", "kitchen has started it"],
        SCREEN_WAIT,
    )
    .await;
}

/// A kitchen note (an `order_update` with a note and no status) reaches the
/// customer's order screen as "Kitchen: …" and the message line, live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kitchen_note_reaches_the_order_screen() {
    let relay = TestRelay::start().await;
    let cache = tempfile::tempdir().unwrap();
    let token = token("e2e-cho", Role::Customer);
    let mut me = kfood_tests::Client::connect(&relay.ws_url(), &token, Role::Customer, None).await;
    me.ok("order_place", kfood_tests::cash_order(&[("bibimbap", 1)]))
        .await;
    let mut crew = relay.connect("crew-3", Role::Crew).await;
    crew.ok(
        "order_update",
        json!({"order_id": 1, "status": "preparing"}),
    )
    .await;

    let s = start(&relay.ws_url(), "e2e-cho", cache.path());
    s.wait_for(&["live"], SCREEN_WAIT).await;
    s.send_keys(&["3"]);
    s.wait_for(&["K-0001", "[>] preparing"], SCREEN_WAIT).await;
    crew.ok(
        "order_update",
        json!({"order_id": 1, "note": "No egg left: extra namul instead"}),
    )
    .await;
    s.wait_for(
        &[
            "Kitchen: No egg left: extra namul instead",
            "K-0001 Kitchen: No egg left",
            "[>] preparing",
        ],
        SCREEN_WAIT,
    )
    .await;
    quit(s).await;
}

/// `--register` creates a customer account and logs straight in with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_and_log_in() {
    let relay = TestRelay::start().await;
    let cache = tempfile::tempdir().unwrap();
    let s = program(&relay.ws_url(), cache.path())
        .args(["--user", "new-kim", "--register", "--name", "Kim Ji-woo"])
        .env("KFOOD_PASSWORD", "correct-horse-battery")
        .spawn();
    s.wait_for(&["Kim Ji-woo", "live", "Bibimbap"], SCREEN_WAIT)
        .await;
    quit(s).await;

    // The account exists: logging in with it works.
    let reply = reqwest::Client::new()
        .post(relay.http_url("/api/login"))
        .json(&json!({"username": "new-kim", "password": "correct-horse-battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
}

/// `q` ends the program with status 0 and gives the terminal back: the
/// alternate screen left and line mode (no raw mode) restored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn q_quits_and_restores_the_terminal() {
    let relay = TestRelay::start().await;
    let cache = tempfile::tempdir().unwrap();
    let mut s = start(&relay.ws_url(), "e2e-kim", cache.path());
    s.wait_for(&["live", "Bibimbap"], SCREEN_WAIT).await;
    assert!(s.alternate_screen());
    assert_eq!(s.raw_mode(), Some(true));
    s.send_keys(&["q"]);
    let status = s.wait_exit(SCREEN_WAIT).await;
    assert!(status.success(), "{status:?}");
    assert!(!s.alternate_screen(), "{}", s.screen());
    assert_eq!(s.raw_mode(), Some(false));
}

/// Below 80×24 the program keeps running, showing the menu or the notice
/// that the terminal is too small (DESIGN §12), and once the terminal is
/// 80×24 again it redraws the whole menu.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_terminal_keeps_running_and_redraws() {
    let relay = TestRelay::start().await;
    let cache = tempfile::tempdir().unwrap();
    let s = program(&relay.ws_url(), cache.path())
        .args(["--token", &token("e2e-kim", Role::Customer)])
        .size(70, 20)
        .spawn();
    s.wait_until("the menu or the too-small notice", SCREEN_WAIT, |t| {
        t.contains(TOO_SMALL) || (fills_rows(t, 20) && t.contains("live"))
    })
    .await;
    s.resize(80, 24);
    let screen = s
        .wait_until("the menu redrawn at 80×24", SCREEN_WAIT, |t| {
            // The panes' right border in the last column: drawn at full width.
            fills_rows(t, 24) && t.lines().any(|l| l.chars().count() == 80)
        })
        .await;
    assert!(screen.contains("live"), "{screen}");
    assert!(screen.contains("Rice & Noodles"), "{screen}");
    assert!(screen.contains("Bibimbap"), "{screen}");
    assert!(!screen.contains(TOO_SMALL), "{screen}");
    quit(s).await;
}
