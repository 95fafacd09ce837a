//! The real `kfood-crew` binary in a pseudo-terminal (`kfood_tests::pty`)
//! against a real relay: orders placed by customers appear on the board, and
//! the cook's keys reach the customer as `order_update`.

use std::path::Path;
use std::sync::Arc;

use kfood_protocol::Role;
use kfood_tests::pty::{fills_rows, Program, Term, SCREEN_WAIT};
use kfood_tests::{cash_order, token, Client, TestRelay};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const BIN: &str = env!("CARGO_BIN_EXE_kfood-crew");
/// What a program says below 80×24 (DESIGN §12).
const TOO_SMALL: &str = "terminal too small";

/// The program against `relay`, its home (so its cache) and its log in
/// `home`, never in the home directory of whoever runs the tests.
fn program(relay: &str, home: &Path) -> Program {
    Program::new(BIN)
        .args(["--relay", relay])
        .home(home)
        .log(&home.join("kfood-crew.log"))
}

/// A crew terminal at 80×24 for station `who`.
fn start(relay: &str, who: &str, home: &Path) -> Term {
    program(relay, home)
        .args(["--token", &token(who, Role::Crew), "--no-bell"])
        .spawn()
}

/// Quits with `q` and checks the program exits cleanly.
async fn quit(mut t: Term) {
    t.send_keys(&["q"]);
    let status = t.wait_exit(SCREEN_WAIT).await;
    assert!(status.success(), "{status:?}");
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
    let crew = start(&relay.ws_url(), "station-1", cache.path());
    crew.wait_for(&["LIVE", "0 open", "No open orders"], SCREEN_WAIT)
        .await;

    let mut data = cash_order(&[("bibimbap", 2), ("japchae", 1)]);
    data["instructions"] = json!("extra spicy");
    data["items"][0]["notes"] = json!("no egg");
    let placed = customer.ok("order_place", data).await;
    let code = placed["order"]["code"].as_str().unwrap().to_owned();
    let id = placed["order"]["id"].as_u64().unwrap();
    let screen = crew
        .wait_for(
            &[
                &format!("▶{code}"),
                "PENDING 1",
                "1 open",
                "2x Bibimbap",
                "> no egg",
                "! extra spicy",
            ],
            SCREEN_WAIT,
        )
        .await;
    println!("{screen}");

    crew.send_keys(&["Enter"]);
    let ev = expect_update(&mut customer, id, "preparing").await;
    let by = ev["data"]["order"]["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["by"]
        .clone();
    assert_eq!(by["id"], "station-1", "{ev}");
    crew.wait_for(&["PREPARING 1", &format!("▶{code}")], SCREEN_WAIT)
        .await;

    crew.send_keys(&["Space"]);
    expect_update(&mut customer, id, "ready").await;
    crew.wait_for(&["READY 1"], SCREEN_WAIT).await;

    // Recall, then bump again, then deliver: the ticket leaves the board.
    crew.send_keys(&["u"]);
    expect_update(&mut customer, id, "preparing").await;
    crew.wait_for(&["PREPARING 1", "READY 0"], SCREEN_WAIT)
        .await;
    crew.send_keys(&["Enter"]);
    expect_update(&mut customer, id, "ready").await;
    crew.send_keys(&["Enter"]);
    expect_update(&mut customer, id, "delivered").await;
    crew.wait_for(&["0 open", "READY 0"], SCREEN_WAIT).await;

    // Prep estimate and cancel with a reason, on a second order.
    let placed = customer
        .ok("order_place", cash_order(&[("bulgogi", 1)]))
        .await;
    let id2 = placed["order"]["id"].as_u64().unwrap();
    let code2 = placed["order"]["code"].as_str().unwrap().to_owned();
    crew.wait_for(&[&format!("▶{code2}")], SCREEN_WAIT).await;
    let prep = placed["order"]["prep_minutes"].as_u64().unwrap();
    crew.send_keys(&["+"]);
    let ev = expect_update(&mut customer, id2, "pending").await;
    assert_eq!(ev["data"]["order"]["prep_minutes"], prep + 1, "{ev}");
    crew.send_keys(&["x"]);
    crew.wait_for(&["Cancel order", "Reason:"], SCREEN_WAIT)
        .await;
    crew.send_keys(&["1", "Enter"]);
    let ev = customer.next_of("order_cancelled").await;
    assert_eq!(ev["data"]["order_id"], id2);
    let last = ev["data"]["order"]["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["note"], "out of stock", "{ev}");
    crew.wait_for(&["0 open"], SCREEN_WAIT).await;

    quit(crew).await;
}

/// Two crew terminals see each other's bumps; a customer's cancellation is
/// flagged on the board rather than vanishing; 86 reaches customers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_stations_and_customers_changes_show_live() {
    let relay = TestRelay::start().await;
    let mut customer = relay.connect("kim", Role::Customer).await;
    let mut other = relay.connect("station-2", Role::Crew).await;
    let cache = tempfile::tempdir().unwrap();
    let crew = start(&relay.ws_url(), "station-1", cache.path());
    crew.wait_for(&["LIVE", "0 open"], SCREEN_WAIT).await;

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
    crew.wait_for(&["PENDING 2"], SCREEN_WAIT).await;

    other
        .ok(
            "order_update",
            json!({"order_id": a_id, "status": "preparing"}),
        )
        .await;
    crew.wait_for(&["PENDING 1", "PREPARING 1"], SCREEN_WAIT)
        .await;

    customer
        .ok(
            "order_cancel",
            json!({"order_id": b_id, "reason": "changed my mind"}),
        )
        .await;
    let screen = crew
        .wait_for(&["CANCELLED changed my", &b_code], SCREEN_WAIT)
        .await;
    assert!(screen.contains("PENDING 1"), "{screen}");
    // The selection stayed with A as it moved; B is one column left.
    crew.wait_for(
        &[&format!("▶{}", a["order"]["code"].as_str().unwrap())],
        SCREEN_WAIT,
    )
    .await;
    crew.send_keys(&["h"]);
    crew.wait_for(&[&format!("▶{b_code}")], SCREEN_WAIT).await;
    crew.send_keys(&["Enter"]);
    crew.wait_for(&["PENDING 0", "1 open"], SCREEN_WAIT).await;

    // 86 the first menu item: customers can no longer order it.
    crew.send_keys(&["m"]);
    crew.wait_for(&["86 m: Enter toggles"], SCREEN_WAIT).await;
    crew.send_keys(&["Enter"]);
    crew.wait_for(&["86 Bibimbap"], SCREEN_WAIT).await;
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
    crew.send_keys(&["Escape"]);
    quit(crew).await;
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
    let crew = start(
        &format!("ws://127.0.0.1:{}", proxy.port),
        "station-1",
        cache.path(),
    );
    crew.wait_for(&["LIVE", "PENDING 2", &format!("▶{a_code}")], SCREEN_WAIT)
        .await;

    proxy.set(false);
    crew.wait_for(&["stale"], SCREEN_WAIT).await;
    crew.send_keys(&["Enter"]);
    crew.wait_for(&["QUEUED (offline)", "PREPARING 1 stale"], SCREEN_WAIT)
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
        .wait_for(
            &["LIVE", "PREPARING 2", "PENDING 1", &c_code, "3 open"],
            SCREEN_WAIT,
        )
        .await;
    assert!(!screen.contains("stale"), "{screen}");
    crew.wait_gone("QUEUED", SCREEN_WAIT).await;
    quit(crew).await;
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
        let crew = start(&url, "station-1", cache.path());
        crew.wait_for(&["LIVE", &a_code, "2x LA Galbi"], SCREEN_WAIT)
            .await;
        quit(crew).await;
    }
    proxy.set(false);
    let crew = start(&url, "station-1", cache.path());
    let screen = crew
        .wait_for(&[&a_code, "2x LA Galbi", "stale"], SCREEN_WAIT)
        .await;
    assert!(!screen.contains("LIVE"), "{screen}");
    proxy.set(true);
    crew.wait_for(&["LIVE", &a_code], SCREEN_WAIT).await;
    crew.wait_gone("stale", SCREEN_WAIT).await;
    quit(crew).await;
}

/// `q` ends the program with status 0 and gives the terminal back: the
/// alternate screen left and line mode (no raw mode) restored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn q_quits_and_restores_the_terminal() {
    let relay = TestRelay::start().await;
    let cache = tempfile::tempdir().unwrap();
    let mut crew = start(&relay.ws_url(), "station-1", cache.path());
    crew.wait_for(&["LIVE", "No open orders"], SCREEN_WAIT)
        .await;
    assert!(crew.alternate_screen());
    assert_eq!(crew.raw_mode(), Some(true));
    crew.send_keys(&["q"]);
    let status = crew.wait_exit(SCREEN_WAIT).await;
    assert!(status.success(), "{status:?}");
    assert!(!crew.alternate_screen(), "{}", crew.screen());
    assert_eq!(crew.raw_mode(), Some(false));
}

/// Below 80×24 the program keeps running, showing the board or the notice
/// that the terminal is too small (DESIGN §12), and once the terminal is
/// 80×24 again it redraws the whole board, key line included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_terminal_keeps_running_and_redraws() {
    let relay = TestRelay::start().await;
    let mut customer = relay.connect("kim", Role::Customer).await;
    let placed = customer
        .ok("order_place", cash_order(&[("bibimbap", 1)]))
        .await;
    let code = placed["order"]["code"].as_str().unwrap().to_owned();
    let cache = tempfile::tempdir().unwrap();
    let crew = program(&relay.ws_url(), cache.path())
        .args(["--token", &token("station-1", Role::Crew), "--no-bell"])
        .size(70, 20)
        .spawn();
    crew.wait_until("the board or the too-small notice", SCREEN_WAIT, |s| {
        s.contains(TOO_SMALL) || (fills_rows(s, 20) && s.contains(&code))
    })
    .await;
    crew.resize(80, 24);
    let screen = crew
        .wait_until("the board redrawn at 80×24", SCREEN_WAIT, |s| {
            fills_rows(s, 24) && s.contains("? keys")
        })
        .await;
    for needle in ["LIVE", "PENDING 1", &code, "1x Bibimbap"] {
        assert!(screen.contains(needle), "{needle:?} missing:\n{screen}");
    }
    assert!(!screen.contains(TOO_SMALL), "{screen}");
    quit(crew).await;
}

/// A grill station screen and the expo side by side against a real relay:
/// the grill sees only its line (`1x Bulgogi`, the drink as `+1 other`), the
/// expo the whole ticket with open marks; a kitchen note (`n`) reaches the
/// customer; the recall list (`r`) sends a bumped ticket back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn station_screen_expo_note_and_recall_list() {
    let relay = TestRelay::start().await;
    let mut customer = relay.connect("kim", Role::Customer).await;
    let home = tempfile::tempdir().unwrap();
    let grill_home = tempfile::tempdir().unwrap();
    let expo = start(&relay.ws_url(), "expo-1", home.path());
    let grill = program(&relay.ws_url(), grill_home.path())
        .args(["--token", &token("grill-1", Role::Crew), "--no-bell"])
        .args(["--station", "grill"])
        .spawn();
    expo.wait_for(&["LIVE", "EXPO"], SCREEN_WAIT).await;
    grill
        .wait_for(
            &["LIVE", "STATION grill", "Nothing to make for grill"],
            SCREEN_WAIT,
        )
        .await;

    let placed = customer
        .ok("order_place", cash_order(&[("bulgogi", 1), ("sikhye", 1)]))
        .await;
    let id = placed["order"]["id"].as_u64().unwrap();
    let code = placed["order"]["code"].as_str().unwrap().to_owned();
    let screen = grill
        .wait_for(&[&code, "[ ] 1x Bulgogi", "+1 other"], SCREEN_WAIT)
        .await;
    assert!(!screen.contains("Sikhye"), "{screen}");
    expo.wait_for(
        &[&format!("▶{code}"), "[ ] 1x Bulgogi", "[ ] 1x Sikhye"],
        SCREEN_WAIT,
    )
    .await;

    expo.send_keys(&["n"]);
    expo.wait_for(&["Kitchen note for"], SCREEN_WAIT).await;
    expo.type_text("no sesame today");
    expo.send_keys(&["Enter"]);
    let ev = expect_update(&mut customer, id, "pending").await;
    let last = ev["data"]["order"]["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["note"], "no sesame today", "{ev}");
    expo.wait_for(&["Kitchen: no sesame today"], SCREEN_WAIT)
        .await;

    expo.send_keys(&["Enter"]);
    expect_update(&mut customer, id, "preparing").await;
    expo.send_keys(&["Enter"]);
    expect_update(&mut customer, id, "ready").await;
    grill
        .wait_for(&["Nothing to make for grill"], SCREEN_WAIT)
        .await;
    expo.send_keys(&["r"]);
    expo.wait_for(
        &["Recall:", &format!("▶{code}"), "-> PREPARING"],
        SCREEN_WAIT,
    )
    .await;
    expo.send_keys(&["Enter"]);
    expect_update(&mut customer, id, "preparing").await;
    expo.wait_for(&["PREPARING 1", "READY 0"], SCREEN_WAIT)
        .await;
    grill.wait_for(&["[ ] 1x Bulgogi"], SCREEN_WAIT).await;

    quit(grill).await;
    quit(expo).await;
}
