//! The core against a real sled store: whatever valid requests it decides,
//! the state it built live is the fold of the log it wrote, before and after
//! a restart (DESIGN §10 "the log is the truth").

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use kfood_protocol::jwt::Secret;
use kfood_protocol::{Envelope, Role, UserRef};
use proptest::prelude::*;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::{Caller, Command, Core, Item, Outcome};
use crate::auth::Auth;
use crate::config::Limits;
use crate::hub::Hub;
use crate::log::{self, State};
use crate::store::{Batch, SledStore, Store};

const ITEMS: [&str; 4] = ["kimbap", "bibimbap", "japchae", "mandu"];
const STATUSES: [&str; 4] = ["pending", "preparing", "ready", "delivered"];
const GOOD_CARD: &str = "4242424242424242";
const DECLINED_CARD: &str = "4000000000000002";

/// One request some party sends, in terms the generator can pick.
#[derive(Debug, Clone)]
enum Action {
    Place {
        who: usize,
        item: usize,
        qty: u32,
        card: Option<bool>,
        promo: bool,
    },
    Update {
        order: usize,
        status: usize,
        admin: bool,
    },
    Mark {
        order: usize,
        done: bool,
    },
    Prep {
        order: usize,
        minutes: u32,
    },
    Cancel {
        order: usize,
        by_customer: bool,
    },
    Modify {
        order: usize,
        text: usize,
    },
    SetAvailable {
        item: usize,
        available: bool,
    },
    Upsert {
        item: usize,
        price: i64,
    },
    Promo {
        percent: u32,
        active: bool,
    },
    Announce {
        audience: usize,
    },
    /// An order for later: 0 fires about at once, else that many hours on.
    PlaceLater {
        who: usize,
        hours: i64,
    },
    Capacity {
        paused: bool,
        orders_per_slot: u32,
        extra_minutes: u32,
    },
    Tick,
    Fire,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (0..2usize, 0..4usize, 1..3u32, proptest::option::of(any::<bool>()), any::<bool>())
            .prop_map(|(who, item, qty, card, promo)| Action::Place { who, item, qty, card, promo }),
        4 => (0..8usize, 0..4usize, any::<bool>())
            .prop_map(|(order, status, admin)| Action::Update { order, status, admin }),
        1 => (0..8usize, 0..3u32).prop_map(|(order, minutes)| Action::Prep { order, minutes }),
        2 => (0..8usize, any::<bool>()).prop_map(|(order, done)| Action::Mark { order, done }),
        1 => (0..8usize, any::<bool>()).prop_map(|(order, by_customer)| Action::Cancel { order, by_customer }),
        1 => (0..8usize, 0..2usize).prop_map(|(order, text)| Action::Modify { order, text }),
        1 => (0..4usize, any::<bool>()).prop_map(|(item, available)| Action::SetAvailable { item, available }),
        1 => (0..4usize, 0..2i64).prop_map(|(item, p)| Action::Upsert { item, price: 900 + p * 100 }),
        1 => (1..3u32, any::<bool>()).prop_map(|(p, active)| Action::Promo { percent: p * 10, active }),
        1 => (0..4usize).prop_map(|audience| Action::Announce { audience }),
        1 => Just(Action::Tick),
        2 => (0..2usize, 0..3i64).prop_map(|(who, hours)| Action::PlaceLater { who, hours }),
        1 => (any::<bool>(), 0..3u32, 0..2u32).prop_map(|(paused, orders_per_slot, e)| {
            Action::Capacity { paused, orders_per_slot, extra_minutes: e * 5 }
        }),
        1 => Just(Action::Fire),
    ]
}

fn caller(id: &str, role: Role) -> Caller {
    Caller {
        user: UserRef {
            id: id.into(),
            name: format!("{id} name"),
            role,
        },
        session: format!("s-{id}"),
    }
}

/// The request `a` as (sender, kind, data), given the orders that exist.
fn request(a: &Action, orders: &[(u64, String)], n: u128) -> Option<(Caller, &'static str, Value)> {
    let customers = ["ann", "bob"];
    let pick = |i: usize| orders.get(i % orders.len().max(1)).cloned();
    Some(match a.clone() {
        Action::Place {
            who,
            item,
            qty,
            card,
            promo,
        } => {
            let payment = match card {
                None => json!({"method": "cash"}),
                Some(ok) => {
                    let number = if ok { GOOD_CARD } else { DECLINED_CARD };
                    json!({"method": "card", "card": {"number": number, "exp": "12/39", "cvc": "123"}})
                }
            };
            let mut data = json!({
                "client_order_id": uuid::Uuid::from_u128(n),
                "items": [{"item_id": ITEMS[item], "qty": qty}],
                "fulfillment": {"kind": if qty == 2 { "delivery" } else { "pickup" }, "address": "1 Main St"},
                "payment": payment,
            });
            if promo {
                data["promo_code"] = json!("SAVE");
            }
            (caller(customers[who], Role::Customer), "order_place", data)
        }
        Action::Update {
            order,
            status,
            admin,
        } => {
            let (id, _) = pick(order)?;
            let who = if admin {
                caller("boss", Role::Admin)
            } else {
                caller("kim", Role::Crew)
            };
            (
                who,
                "order_update",
                json!({"order_id": id, "status": STATUSES[status]}),
            )
        }
        Action::Mark { order, done } => {
            let (id, _) = pick(order)?;
            (
                caller("kim", Role::Crew),
                "line_done",
                json!({"order_id": id, "line": 0, "done": done}),
            )
        }
        Action::Prep { order, minutes } => {
            let (id, _) = pick(order)?;
            (
                caller("kim", Role::Crew),
                "order_update",
                json!({"order_id": id, "prep_minutes": minutes}),
            )
        }
        Action::Cancel { order, by_customer } => {
            let (id, owner) = pick(order)?;
            let who = if by_customer {
                caller(&owner, Role::Customer)
            } else {
                caller("kim", Role::Crew)
            };
            (
                who,
                "order_cancel",
                json!({"order_id": id, "reason": "changed plans"}),
            )
        }
        Action::Modify { order, text } => {
            let (id, owner) = pick(order)?;
            let text = ["no onions", "extra kimchi"][text];
            (
                caller(&owner, Role::Customer),
                "order_modify",
                json!({"order_id": id, "instructions": text}),
            )
        }
        Action::SetAvailable { item, available } => (
            caller("kim", Role::Crew),
            "menu_update",
            json!({"op": "set_available", "item": {"id": ITEMS[item], "available": available}}),
        ),
        Action::Upsert { item, price } => (
            caller("boss", Role::Admin),
            "menu_update",
            json!({"op": "upsert", "item": {"id": ITEMS[item], "price_cents": price}}),
        ),
        Action::Promo { percent, active } => (
            caller("boss", Role::Admin),
            "promo_upsert",
            json!({"code": "SAVE", "percent_off": percent, "active": active}),
        ),
        Action::Announce { audience } => {
            let audience = ["all", "customer", "crew", "admin"][audience];
            (
                caller("boss", Role::Admin),
                "announce",
                json!({"audience": audience, "kind": "announcement", "text": "hello"}),
            )
        }
        Action::PlaceLater { who, hours } => {
            // Bibimbap takes 12 minutes: its fire time is `hours` on (0: now).
            let at = kfood_protocol::time::now_ms() + 12 * 60_000 + 50 + hours * 3_600_000;
            let data = json!({
                "client_order_id": uuid::Uuid::from_u128(n),
                "items": [{"item_id": "bibimbap", "qty": 1}],
                "fulfillment": {"kind": "pickup"},
                "payment": {"method": "cash"},
                "scheduled_for": kfood_protocol::time::format_ms(at),
            });
            (caller(customers[who], Role::Customer), "order_place", data)
        }
        Action::Capacity {
            paused,
            orders_per_slot,
            extra_minutes,
        } => (
            caller("boss", Role::Admin),
            "capacity_set",
            json!({"paused": paused, "orders_per_slot": orders_per_slot, "extra_minutes": extra_minutes}),
        ),
        Action::Tick | Action::Fire => return None,
    })
}

/// What the writer does with an outcome, without the sockets.
fn write(store: &SledStore, out: &Outcome) {
    let batch = Batch {
        commits: out.commits.iter().collect(),
        activity: out.activity.iter().collect(),
        snapshot: out.snapshot.as_ref().map(|s| s.snapshot()),
    };
    store.append(&batch).expect("append");
    if let Some(keep_from) = out.trim {
        store.purge(keep_from).expect("purge");
    }
}

fn core_over(store: &SledStore, limits: Limits) -> Core {
    let (state, replayed) = log::load_counting(store).expect("load");
    let auth = Arc::new(Auth::new(
        Secret::new(&[7u8; 32]).expect("secret"),
        Default::default(),
    ));
    Core::new(
        state,
        replayed,
        "test-log".into(),
        Arc::new(Hub::default()),
        auth,
        Box::new(crate::payment::Simulated::default()),
        limits,
        Arc::new(AtomicU64::new(1)),
    )
}

fn run(actions: &[Action]) {
    let dir = tempfile::tempdir().expect("dir");
    let store = SledStore::open(dir.path(), 8).expect("open");
    let hash = |_: &str| Ok("not-a-hash".to_owned());
    log::seed_demo(&store, crate::demo::menu(), &crate::demo::ACCOUNTS, &hash).expect("seed");
    // A short retention makes the tick snapshot and trim now and then.
    let limits = Limits {
        log_retention: 6,
        payment_failure_burst: 2,
        ..Limits::default()
    };
    let mut core = core_over(&store, limits);
    let (tx, _rx) = mpsc::channel(1024);
    for (n, a) in actions.iter().enumerate() {
        let orders: Vec<(u64, String)> = core
            .state()
            .model
            .orders
            .values()
            .map(|o| (o.id, o.customer.id.clone()))
            .collect();
        let cmd = match request(a, &orders, n as u128 + 1) {
            None if matches!(a, Action::Fire) => Command::Fire,
            None => Command::Tick { crew_online: 1 },
            Some((caller, kind, data)) => Command::Request {
                caller,
                items: vec![Item::Msg {
                    env: Envelope::new(kind, data).with_id(format!("r{n}")),
                    password_hash: None,
                }],
                reply: tx.clone(),
            },
        };
        let out = core.handle(cmd);
        write(&store, &out);
        if n % 3 == 0 {
            let (kept, scanned) = core.figures_both_ways(kfood_protocol::time::now_ms());
            assert_eq!(kept, scanned, "figures kept order by order vs a full pass");
        }
    }
    let live: State = core.state().clone();
    assert_eq!(
        log::load(&store).expect("fold"),
        live,
        "live vs folded from the log"
    );
    drop(store);
    let reopened = reopen(dir.path());
    assert_eq!(
        log::load(&reopened).expect("fold"),
        live,
        "live vs after a restart"
    );
}

/// Opens the store again; sled's background flusher may hold its lock a
/// moment after the first handle is dropped.
fn reopen(dir: &std::path::Path) -> SledStore {
    for _ in 0..100 {
        if let Ok(s) = SledStore::open(dir, 8) {
            return s;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    SledStore::open(dir, 8).expect("reopen")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Random valid request sequences give the same state live, folded from
    /// the log, and after a restart.
    #[test]
    fn live_state_is_the_fold_of_the_log(actions in proptest::collection::vec(action(), 1..40)) {
        run(&actions);
    }
}

/// A request that changes nothing is acked and commits nothing.
#[test]
fn a_request_that_changes_nothing_commits_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let store = SledStore::open(dir.path(), 8).expect("open");
    let hash = |_: &str| Ok("h".to_owned());
    log::seed_demo(&store, crate::demo::menu(), &crate::demo::ACCOUNTS, &hash).expect("seed");
    let mut core = core_over(&store, Limits::default());
    let (tx, _rx) = mpsc::channel(16);
    let mut send = |who: Caller, kind: &str, data: Value| {
        let out = core.handle(Command::Request {
            caller: who,
            items: vec![Item::Msg {
                env: Envelope::new(kind, data).with_id("x"),
                password_hash: None,
            }],
            reply: tx.clone(),
        });
        out.commits.len()
    };
    let kim = || caller("kim", Role::Crew);
    let boss = || caller("boss", Role::Admin);
    let set = json!({"op": "set_available", "item": {"id": "kimbap", "available": true}});
    assert_eq!(send(kim(), "menu_update", set), 0);
    let same = json!({"op": "upsert", "item": {"id": "kimbap"}});
    assert_eq!(send(boss(), "menu_update", same), 0);
    let promo = json!({"code": "SAVE", "percent_off": 10, "active": true});
    assert_eq!(send(boss(), "promo_upsert", promo.clone()), 1);
    assert_eq!(send(boss(), "promo_upsert", promo), 0);
    let pause = json!({"paused": true, "orders_per_slot": 3});
    assert_eq!(send(boss(), "capacity_set", pause.clone()), 1);
    assert_eq!(send(boss(), "capacity_set", pause), 0);
    assert_eq!(send(kim(), "capacity_set", json!({"paused": true})), 0);
}
