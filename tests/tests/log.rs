//! The log is the truth (DESIGN §10): the relay's state is a snapshot plus
//! the commits after it, so a restart — graceful or `kill -9` — past a
//! snapshot gives back the same state and the seq continues; accounts
//! changed by the store subcommands are commits folded like any other.
//!
//! Needs `target/debug/kfood-relay`: `cargo build -p kfood-relay` (or
//! `cargo test --workspace`) first.

use kfood_protocol::Role;
use kfood_tests::*;
use serde_json::{json, Value};

/// More commits than the relay writes between two snapshots, so a restart
/// loads a snapshot and replays the commits after it.
const PAST_A_SNAPSHOT: usize = 1_030;

fn toggle(n: usize) -> Value {
    json!({"op": "set_available", "item": {"id": "kimbap", "available": n % 2 == 1}})
}

/// Sends `n` menu toggles in batches and waits for the last ack.
async fn toggles(boss: &mut Client, n: usize) {
    for start in (0..n).step_by(100) {
        let batch: Vec<Value> = (start..(start + 100).min(n))
            .map(|i| json!({"type": "menu_update", "id": format!("m{i}"), "data": toggle(i)}))
            .collect();
        boss.send(json!({"type": "batch", "data": batch})).await;
        let last = format!("m{}", (start + 100).min(n) - 1);
        let r = boss.reply_to(&last).await;
        assert_eq!(r["type"], "ack", "{r}");
    }
}

fn kimbap_available(c: &Client) -> bool {
    c.snapshot.as_ref().unwrap()["data"]["menu"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "kimbap")
        .and_then(|i| i["available"].as_bool())
        .expect("kimbap")
}

async fn connect(relay: &RelayProcess, id: &str, role: Role) -> Client {
    Client::connect(&relay.ws_url(), &token(id, role), role, None).await
}

/// After `kill -9` past a snapshot, the orders and the menu are as they were, the head is the last acked seq and the next event takes the next seq.
#[tokio::test]
async fn kill9_after_a_snapshot_gives_back_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let fast = ["--rate-per-sec", "10000", "--rate-burst", "10000"];
    let relay = RelayProcess::spawn(dir.path(), &fast).await;
    let mut ann = connect(&relay, "ann", Role::Customer).await;
    let mut boss = connect(&relay, "boss", Role::Admin).await;
    let first = ann.ok("order_place", cash_order(&[("japchae", 2)])).await;
    toggles(&mut boss, PAST_A_SNAPSHOT).await;
    let last = ann.ok("order_place", cash_order(&[("mandu", 1)])).await;
    let head = PAST_A_SNAPSHOT as u64 + 2;
    drop((ann, boss));
    relay.kill9();

    let relay = RelayProcess::spawn(dir.path(), &fast).await;
    let mut boss = connect(&relay, "boss", Role::Admin).await;
    assert_eq!(boss.head_seq(), head);
    assert!(
        kimbap_available(&boss),
        "the last toggle (index 1029, odd) left it available"
    );
    let orders = boss.snapshot.as_ref().unwrap()["data"]["orders"].clone();
    assert_eq!(orders[0], first["order"]);
    assert_eq!(orders[1], last["order"]);
    boss.ok("menu_update", toggle(0)).await;
    let ev = boss.next_of("menu_update").await;
    assert_eq!(ev["seq"], head + 1, "seq continues");
}

/// A graceful restart past a snapshot resumes a client from a `since` inside the log with exactly what it missed.
#[tokio::test]
async fn restart_past_a_snapshot_still_replays_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let limits = kfood_relay::config::Limits {
        rate_per_sec: 10_000,
        rate_burst: 10_000,
        ..Default::default()
    };
    let relay = TestRelay::start_in(dir.path(), limits.clone()).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    toggles(&mut boss, PAST_A_SNAPSHOT).await;
    drop(boss);
    relay.stop().await;

    let relay = TestRelay::start_in(dir.path(), limits).await;
    let since = PAST_A_SNAPSHOT as u64 - 3;
    let mut kim = Client::connect(
        &relay.ws_url(),
        &token("kim", Role::Crew),
        Role::Crew,
        Some(since),
    )
    .await;
    assert!(kim.snapshot.is_none(), "a since inside the log replays");
    let replayed = kim
        .collect("menu_update", std::time::Duration::from_millis(500))
        .await;
    assert_eq!(seqs(&replayed), [since + 1, since + 2, since + 3]);
    relay.stop().await;
}

/// `kfood-relay user add` on a stopped relay appends the account to the log; the relay started afterwards knows it.
#[tokio::test]
async fn accounts_added_offline_are_part_of_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_args(dir.path()).await;
    let run = |args: &[&str]| {
        std::process::Command::new(relay_bin())
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .args(&engine)
            .env("KFOOD_JWT_SECRET", SECRET)
            .env("KFOOD_PASSWORD", "cook-password-1")
            .output()
            .expect("run kfood-relay")
    };
    let added = run(&[
        "user",
        "add",
        "--role",
        "crew",
        "--name",
        "Line Cook",
        "cook",
    ]);
    assert!(added.status.success(), "{added:?}");
    let listed = run(&["user", "list"]);
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed.contains("cook") && listed.contains("Line Cook"),
        "{listed}"
    );
    let again = run(&["user", "add", "--role", "crew", "cook"]);
    assert!(!again.status.success(), "an account is added once");

    let relay = RelayProcess::spawn(dir.path(), &[]).await;
    let r = http_post(
        &format!("http://{}/api/login", relay.addr),
        None,
        &json!({"username": "cook", "password": "cook-password-1"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["user"]["type"], "crew");
}
