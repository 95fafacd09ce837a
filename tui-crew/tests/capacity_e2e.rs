//! Capacity and orders for later (DESIGN §14) end to end, the programs real
//! and in a pseudo-terminal against a real relay: an order scheduled a few
//! seconds ahead waits on the crew's Later line and joins PENDING when the
//! relay fires it; the crew's `p` pauses online ordering and the customer's
//! screen says so, until resumed.

use std::path::Path;
use std::time::Duration;

use kfood_protocol::time::{format_ms, now_ms};
use kfood_protocol::Role;
use kfood_tests::pty::{Program, Term, SCREEN_WAIT};
use kfood_tests::{card_order, program_bin, token, TestRelay, GOOD_CARD};
use serde_json::json;

const CREW: &str = env!("CARGO_BIN_EXE_kfood-crew");
/// Bibimbap's prep minutes in the demo menu, in ms.
const BIBIMBAP_PREP: i64 = 12 * 60_000;
/// How far ahead of now the order fires: long enough for the board to show
/// it waiting first.
const FIRE_AHEAD_MS: i64 = 20_000;

fn crew(relay: &str, who: &str, home: &Path) -> Term {
    Program::new(CREW)
        .args([
            "--relay",
            relay,
            "--token",
            &token(who, Role::Crew),
            "--no-bell",
        ])
        .home(home)
        .log(&home.join("kfood-crew.log"))
        .spawn()
}

/// Quits with `q` and checks the program exits cleanly.
async fn quit(mut t: Term) {
    t.send_keys(&["q"]);
    let status = t.wait_exit(SCREEN_WAIT).await;
    assert!(status.success(), "{status:?}");
}

/// A Bibimbap placed for just past the soonest time allowed (its prep from
/// now): it shows on the Later line, not in PENDING, then joins PENDING
/// when the relay fires it at `ready_at` − prep.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_order_joins_pending_when_it_fires() {
    let relay = TestRelay::start().await;
    let home = tempfile::tempdir().unwrap();
    let expo = crew(&relay.ws_url(), "expo-1", home.path());
    expo.wait_for(&["LIVE", "EXPO", "PENDING 0"], SCREEN_WAIT)
        .await;

    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut order = card_order(&[("bibimbap", 1)], GOOD_CARD);
    order["scheduled_for"] = json!(format_ms(now_ms() + BIBIMBAP_PREP + FIRE_AHEAD_MS));
    let placed = ann.ok("order_place", order).await;
    assert_eq!(placed["order"]["status"], "scheduled");

    let waiting = expo
        .wait_for(&["Later 1 · next", "PENDING 0"], SCREEN_WAIT)
        .await;
    assert!(
        !waiting.contains("K-0001"),
        "not on the board yet: {waiting}"
    );
    let fired = expo
        .wait_for(
            &["PENDING 1", "K-0001", "1x Bibimbap"],
            Duration::from_millis(FIRE_AHEAD_MS as u64) + SCREEN_WAIT,
        )
        .await;
    assert!(!fired.contains("Later 1"), "off the Later line: {fired}");
    quit(expo).await;
}

/// The crew's `p` asks, then pauses: PAUSED on the crew's status bar and
/// the banner on the customer's screen; `p` again resumes and both clear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crew_pause_shows_on_the_customer_screen() {
    let relay = TestRelay::start().await;
    let url = relay.ws_url();
    let homes: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let customer = Program::new(program_bin("kfood-customer"))
        .args([
            "--relay",
            &url,
            "--token",
            &token("e2e-ann", Role::Customer),
        ])
        .home(homes[0].path())
        .log(&homes[0].path().join("kfood-customer.log"))
        .spawn();
    let expo = crew(&url, "expo-1", homes[1].path());
    expo.wait_for(&["LIVE", "EXPO"], SCREEN_WAIT).await;
    customer
        .wait_for(&["Rice & Noodles", "live"], SCREEN_WAIT)
        .await;

    expo.send_keys(&["p"]);
    expo.wait_for(&["Pause online ordering?"], SCREEN_WAIT)
        .await;
    expo.send_keys(&["y"]);
    expo.wait_for(&["PAUSED"], SCREEN_WAIT).await;
    customer.wait_for(&["ORDERING PAUSED"], SCREEN_WAIT).await;

    expo.send_keys(&["p"]);
    expo.wait_for(&["Resume online ordering?"], SCREEN_WAIT)
        .await;
    expo.send_keys(&["Enter"]);
    expo.wait_gone("PAUSED", SCREEN_WAIT).await;
    customer.wait_gone("ORDERING PAUSED", SCREEN_WAIT).await;

    for t in [expo, customer] {
        quit(t).await;
    }
}

/// The customer picks the soonest time at checkout ("scheduled for"), the
/// crew sees it on the Later line, `L` and Enter fire it now: it joins
/// PENDING and the customer's order moves on to pending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_schedules_and_the_crew_fires_it_now() {
    let relay = TestRelay::start().await;
    let url = relay.ws_url();
    let homes: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let customer = Program::new(program_bin("kfood-customer"))
        .args([
            "--relay",
            &url,
            "--token",
            &token("e2e-ann", Role::Customer),
        ])
        .home(homes[0].path())
        .log(&homes[0].path().join("kfood-customer.log"))
        .spawn();
    let expo = crew(&url, "expo-1", homes[1].path());
    expo.wait_for(&["LIVE", "EXPO"], SCREEN_WAIT).await;
    customer
        .wait_for(&["Rice & Noodles", "live"], SCREEN_WAIT)
        .await;

    // Bibimbap, checkout, When: the soonest slot, then the card.
    customer.send_keys(&["+"]);
    customer
        .wait_for(&["Added 1 x Bibimbap"], SCREEN_WAIT)
        .await;
    customer.send_keys(&["2", "c"]);
    customer
        .wait_for(&["Checkout", "Ready         about"], SCREEN_WAIT)
        .await;
    customer.send_keys(&["Tab", "Right"]);
    customer
        .wait_for(&["(*) ", "Pickup        scheduled for"], SCREEN_WAIT)
        .await;
    customer.send_keys(&[
        "Tab",
        "Tab",
        "Tab",
        "Tab",
        "4242424242424242",
        "Tab",
        "1230",
        "Tab",
        "123",
        "Enter",
    ]);
    customer
        .wait_for(&["K-0001 placed for later", "Scheduled for"], SCREEN_WAIT)
        .await;

    expo.wait_for(&["Later 1 · next", "PENDING 0"], SCREEN_WAIT)
        .await;
    expo.send_keys(&["L"]);
    expo.wait_for(&["Later: scheduled orders", "K-0001  fires"], SCREEN_WAIT)
        .await;
    expo.send_keys(&["Enter"]);
    let board = expo
        .wait_for(&["PENDING 1", "K-0001", "1x Bibimbap"], SCREEN_WAIT)
        .await;
    assert!(!board.contains("Later 1"), "{board}");
    customer
        .wait_for(&["K-0001 pending", "[>] pending"], SCREEN_WAIT)
        .await;

    for t in [expo, customer] {
        quit(t).await;
    }
}
