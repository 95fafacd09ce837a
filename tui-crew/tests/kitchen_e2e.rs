//! The kitchen of DESIGN §13 end to end, every program real and in a
//! pseudo-terminal against a real relay: a customer orders a grill dish and a
//! drink, each station marks its own line, the expo sees the ticket come
//! together and bumps it, and the customer sees it ready.

use std::path::Path;

use kfood_protocol::Role;
use kfood_tests::pty::{Program, Term, SCREEN_WAIT};
use kfood_tests::{program_bin, token, TestRelay};

const CREW: &str = env!("CARGO_BIN_EXE_kfood-crew");

/// A kitchen terminal for `who`, a station screen when `station` is given.
fn crew(relay: &str, who: &str, station: Option<&str>, home: &Path) -> Term {
    let mut p = Program::new(CREW)
        .args([
            "--relay",
            relay,
            "--token",
            &token(who, Role::Crew),
            "--no-bell",
        ])
        .home(home)
        .log(&home.join("kfood-crew.log"));
    if let Some(s) = station {
        p = p.args(["--station", s]);
    }
    p.spawn()
}

/// Quits with `q` and checks the program exits cleanly.
async fn quit(mut t: Term) {
    t.send_keys(&["q"]);
    let status = t.wait_exit(SCREEN_WAIT).await;
    assert!(status.success(), "{status:?}");
}

/// Bulgogi (grill) and Sikhye (drinks) ordered on the customer's screen;
/// the grill and drinks stations mark their lines; the expo shows each mark,
/// then ALL DONE, and bumps the order to ready, which the customer sees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stations_and_the_expo_bring_a_ticket_together() {
    let relay = TestRelay::start().await;
    let url = relay.ws_url();
    let homes: Vec<_> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
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
    let expo = crew(&url, "expo-1", None, homes[1].path());
    let grill = crew(&url, "grill-1", Some("grill"), homes[2].path());
    let drinks = crew(&url, "drinks-1", Some("drinks"), homes[3].path());
    expo.wait_for(&["LIVE", "EXPO"], SCREEN_WAIT).await;
    grill
        .wait_for(&["LIVE", "STATION grill"], SCREEN_WAIT)
        .await;
    drinks
        .wait_for(&["LIVE", "STATION drinks"], SCREEN_WAIT)
        .await;

    // The customer: Bulgogi from Grill, Sikhye from Drinks & Dessert, card.
    customer
        .wait_for(&["Rice & Noodles", "live"], SCREEN_WAIT)
        .await;
    customer.send_keys(&["Right", "+"]);
    customer.wait_for(&["Added 1 x Bulgogi"], SCREEN_WAIT).await;
    customer.send_keys(&["Right", "Right", "Right", "j", "+"]);
    customer
        .wait_for(&["Added 1 x Sikhye", "Cart (2)"], SCREEN_WAIT)
        .await;
    customer.send_keys(&["2", "c"]);
    customer
        .wait_for(&["Checkout", "priced by the relay"], SCREEN_WAIT)
        .await;
    customer.send_keys(&[
        // Past When, Instructions, Promo code and Payment to the card.
        "Tab",
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
    customer.wait_for(&["K-0001 placed"], SCREEN_WAIT).await;

    // Each station sees only its own line; the expo sees both open.
    let g = grill
        .wait_for(&["K-0001", "[ ] 1x Bulgogi"], SCREEN_WAIT)
        .await;
    assert!(!g.contains("Sikhye"), "{g}");
    drinks
        .wait_for(&["K-0001", "[ ] 1x Sikhye"], SCREEN_WAIT)
        .await;
    expo.wait_for(&["K-0001", "[ ] 1x Bulgogi", "[ ] 1x Sikhye"], SCREEN_WAIT)
        .await;

    // The grill marks its line: the expo shows it done, the drink still open.
    grill.send_keys(&["Enter"]);
    let e = expo
        .wait_for(
            &["[x] 1x Bulgogi", "[ ] 1x Sikhye", "PREPARING 1"],
            SCREEN_WAIT,
        )
        .await;
    assert!(!e.contains("ALL DONE"), "{e}");
    grill
        .wait_for(&["Nothing to make for grill"], SCREEN_WAIT)
        .await;

    // The drinks station marks the drink: the ticket is all done.
    drinks.send_keys(&["Enter"]);
    expo.wait_for(&["[x] 1x Sikhye", "ALL DONE"], SCREEN_WAIT)
        .await;

    // The expo bumps it out; the customer's screen says ready.
    expo.send_keys(&["Enter"]);
    expo.wait_for(&["READY 1"], SCREEN_WAIT).await;
    customer.send_keys(&["3"]);
    customer.wait_for(&["READY for pickup!"], SCREEN_WAIT).await;

    for t in [grill, drinks, expo, customer] {
        quit(t).await;
    }
}
