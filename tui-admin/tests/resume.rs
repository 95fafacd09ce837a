//! kfood-admin's connection resumes from its local cache against a real
//! relay: a restart draws the cached model (promo codes and announcements
//! included) at once, and the relay replays what was missed instead of
//! sending a snapshot.

use std::path::Path;
use std::time::Duration;

use clap::Parser;
use kfood_admin::app::{App, Look};
use kfood_admin::cli::Cli;
use kfood_protocol::client::{Client, ClientEvent, ClientHandle, Credentials, RelayUrls};
use kfood_protocol::term::SignIn;
use kfood_protocol::Role;
use kfood_tests::{token, TestRelay};
use serde_json::json;
use tokio::sync::mpsc;

/// How long a step may take before the test fails.
const WAIT: Duration = Duration::from_secs(10);

/// The admin program's own connection settings, with the cache in `cache`.
fn connect(relay: &str, cache: &Path) -> (ClientHandle, mpsc::Receiver<ClientEvent>) {
    let cli = Cli::try_parse_from(["kfood-admin"]).unwrap();
    let login = SignIn {
        relay: RelayUrls::parse(relay).unwrap(),
        other_relays: Vec::new(),
        credentials: Credentials::Token(token("boss", Role::Admin)),
        token: token("boss", Role::Admin),
        user: None,
        role: Role::Admin,
    };
    let mut config = kfood_admin::tui::client_config(&cli.common, &login);
    config.cache_dir = Some(cache.to_owned());
    let (client, events, _state) = Client::connect(config).unwrap();
    (client, events)
}

/// What a program saw from start until the relay said it was caught up.
struct Run {
    app: App,
    /// The cache came first, before anything from the relay.
    cached: bool,
    /// The relay sent a snapshot (it did not resume).
    snapshot: bool,
}

/// Feeds the manager's events to a fresh program until the relay says it
/// is caught up.
async fn until_synced(events: &mut mpsc::Receiver<ClientEvent>) -> Run {
    let look = Look {
        ascii: false,
        color: false,
    };
    let now = kfood_protocol::time::now_ms();
    let mut run = Run {
        app: App::new("ws://relay", look, now, time::UtcOffset::UTC),
        cached: false,
        snapshot: false,
    };
    loop {
        let ev = tokio::time::timeout(WAIT, events.recv())
            .await
            .expect("the relay answers")
            .expect("the manager runs");
        match &ev {
            ClientEvent::Synced { .. } => return run,
            ClientEvent::Snapshot(_) => run.snapshot = true,
            ClientEvent::Cached(_) => run.cached = true,
            _ => {}
        }
        if let Some(ev) = kfood_admin::net::app_event(ev) {
            run.app.handle(ev);
        }
    }
}

/// A restarted admin draws its cache (promos included) and resumes: the
/// promo code and the announcement made while it was away are replayed
/// into the model, and no snapshot is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_from_the_cache() {
    let relay = TestRelay::start().await;
    let cache = tempfile::tempdir().unwrap();
    let mut other = relay.connect("ann", Role::Admin).await;
    other
        .ok(
            "promo_upsert",
            json!({"code": "WELCOME10", "percent_off": 10, "active": true}),
        )
        .await;

    let (client, mut events) = connect(&relay.ws_url(), cache.path());
    let first = until_synced(&mut events).await;
    assert!(first.snapshot, "a first start has no cache: a snapshot");
    assert!(first.app.model.promos.contains_key("WELCOME10"));
    client.close().await;

    // While the program is away: a new code and an announcement.
    other
        .ok(
            "promo_upsert",
            json!({"code": "SPRING15", "percent_off": 15, "active": true}),
        )
        .await;
    other
        .ok(
            "announce",
            json!({"audience": "all", "kind": "maintenance", "text": "Card payments pause at 23:00"}),
        )
        .await;

    let (client, mut events) = connect(&relay.ws_url(), cache.path());
    let second = until_synced(&mut events).await;
    assert!(second.cached, "the cache is drawn first");
    assert!(!second.snapshot, "resumed from the cached seq");
    let model = &second.app.model;
    assert!(model.promos.contains_key("WELCOME10"), "from the cache");
    assert!(model.promos.contains_key("SPRING15"), "replayed");
    assert!(
        model
            .announcements
            .values()
            .any(|a| a.text == "Card payments pause at 23:00"),
        "replayed"
    );
    client.close().await;
    relay.stop().await;
}
