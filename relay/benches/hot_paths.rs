//! The relay's hot paths (README "Performance"): deciding an order, folding
//! a commit into the state, and encoding a durable event once per view; and
//! the core's steps whose cost grows with the day's orders (the admins'
//! figures every second, the state copy a snapshot takes), which stall every
//! request behind them. `cargo bench -p kfood-relay` runs them.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use kfood_protocol::jwt::Secret;
use kfood_protocol::{Envelope, Role, UserRef};
use kfood_relay::auth::Auth;
use kfood_relay::config::Limits;
use kfood_relay::core::{Caller, Command, Core, Item, Outcome};
use kfood_relay::hub::Hub;
use kfood_relay::log::{self, Commit};
use kfood_relay::store::SledStore;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

fn main() {
    divan::main();
}

/// A core over the demo menu in a temporary store.
fn demo_core() -> (tempfile::TempDir, Core) {
    let dir = tempfile::tempdir().expect("dir");
    let store = SledStore::open(dir.path(), 16).expect("store");
    let hash = |_: &str| Ok("not-a-hash".to_owned());
    log::seed_demo(
        &store,
        kfood_relay::demo::menu(),
        &kfood_relay::demo::ACCOUNTS,
        &hash,
    )
    .expect("seed");
    let (state, replayed) = log::load_counting(&store).expect("load");
    let auth = Auth::new(Secret::new(&[7u8; 32]).expect("secret"), Default::default());
    let core = Core::new(
        state,
        replayed,
        "bench".into(),
        Arc::new(Hub::default()),
        Arc::new(auth),
        Box::new(kfood_relay::payment::Simulated::default()),
        Limits::default(),
        Arc::new(AtomicU64::new(1)),
    );
    (dir, core)
}

fn customer() -> Caller {
    Caller {
        user: UserRef {
            id: "ann".into(),
            name: "Ann".into(),
            role: Role::Customer,
        },
        session: "s".into(),
    }
}

/// One `order_place` (cash, two lines) as the core receives it.
fn place_command(reply: &mpsc::Sender<kfood_relay::hub::Outgoing>) -> Command {
    let data = json!({
        "client_order_id": uuid::Uuid::new_v4(),
        "items": [{"item_id": "bulgogi", "qty": 1}, {"item_id": "sikhye", "qty": 2}],
        "fulfillment": {"kind": "pickup"},
        "payment": {"method": "cash"},
    });
    Command::Request {
        caller: customer(),
        items: vec![Item::Msg {
            env: Envelope::new("order_place", data).with_id("o"),
            password_hash: None,
        }],
        reply: reply.clone(),
    }
}

/// Decide one order: parse, check, price, build the commit and fold it.
#[divan::bench]
fn decide_an_order(bencher: divan::Bencher) {
    let (_dir, mut core) = demo_core();
    let (tx, mut rx) = mpsc::channel(1 << 16);
    bencher.bench_local(|| {
        let out: Outcome = core.handle(place_command(&tx));
        while rx.try_recv().is_ok() {}
        out
    });
}

/// The commit of one order, decided once.
fn one_commit() -> (tempfile::TempDir, Core, Commit) {
    let (dir, mut core) = demo_core();
    let (tx, _rx) = mpsc::channel(16);
    let mut out = core.handle(place_command(&tx));
    let commit = out.commits.pop().expect("a commit");
    (dir, core, commit)
}

/// Fold one order's commit into the state (what a start replays).
#[divan::bench]
fn apply_a_commit(bencher: divan::Bencher) {
    let (_dir, core, commit) = one_commit();
    // The state from before the commit: a fold skips what it already has.
    let mut before = core.state().clone();
    before.commit_no = commit.no - 1;
    before.model.head_seq = commit.events.first().map_or(0, |e| e.seq - 1);
    bencher
        .with_inputs(|| before.clone())
        .bench_local_values(|mut state| {
            state.fold(&commit);
            state
        });
}

/// Encode one `order_created` for each view (whole, and as crew see it),
/// as a broadcast does once per event.
#[divan::bench(args = [Role::Admin, Role::Crew])]
fn encode_an_event(bencher: divan::Bencher, role: Role) {
    let (_dir, _core, commit) = one_commit();
    let event = commit.events.first().expect("order_created").clone();
    bencher.bench_local(|| event.json_for(role));
}

/// A core whose state holds `n` orders.
fn core_with_orders(n: usize) -> (tempfile::TempDir, Core) {
    let (dir, mut core) = demo_core();
    let (tx, mut rx) = mpsc::channel(1 << 16);
    for _ in 0..n {
        core.handle(place_command(&tx));
        while rx.try_recv().is_ok() {}
    }
    (dir, core)
}

/// The admins' figures (`metrics`, once a second) over a day of `n` orders.
#[divan::bench(args = [1_000, 10_000])]
fn metrics_figures(bencher: divan::Bencher, n: usize) {
    let (_dir, mut core) = core_with_orders(n);
    bencher.bench_local(|| {
        let (reply, mut rx) = oneshot::channel();
        core.handle(Command::Stats { reply });
        rx.try_recv().ok()
    });
}

/// The copy of the state a snapshot takes on the core, with `n` orders.
#[divan::bench(args = [1_000, 10_000])]
fn copy_the_state(bencher: divan::Bencher, n: usize) {
    let (_dir, core) = core_with_orders(n);
    bencher.bench_local(|| core.state().clone());
}
