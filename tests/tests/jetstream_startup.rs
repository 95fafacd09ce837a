//! Start-up on a long JetStream log (DESIGN §15): snapshots bound the time a
//! relay needs before it serves. A first relay replays a stream of 100,000
//! commits and leaves a snapshot; the next one loads that snapshot and
//! replays only what follows. Both times are printed (`--nocapture`); the
//! test asserts that the second relay serves the whole log. Retention purges
//! the stream only below the older kept snapshot, and a relay still starts
//! on what is left.

use std::sync::Arc;
use std::time::Instant;

use kfood_protocol::event::{Event, Visibility};
use kfood_protocol::menu::Promo;
use kfood_protocol::Role;
use kfood_relay::config::Limits;
use kfood_relay::jetstream::{self, Cluster, Published, Settings};
use kfood_relay::log::{Commit, Logged};
use kfood_tests::nats::{self, NatsServer};
use kfood_tests::*;

/// Commits in the log before the relays start.
const COMMITS: u64 = 100_000;
/// Commits per stream message (one group commit each).
const PER_MESSAGE: u64 = 50;

async fn open(url: &str) -> Arc<Cluster> {
    let settings = Settings {
        urls: url.to_owned(),
        cluster: "startup".into(),
        replicas: None,
    };
    Arc::new(
        Cluster::open(
            &settings,
            &secret(),
            false,
            Some((kfood_relay::demo::menu(), Vec::new())),
        )
        .await
        .expect("open"),
    )
}

/// Appends `COMMITS` one-event commits (a promo switched on and off) after
/// the first commit, as group commits of `PER_MESSAGE`.
async fn fill(cluster: &Cluster) {
    let mut seq = 0;
    let mut stream_seq = cluster.last_seq().await.expect("last seq");
    for m in 0..COMMITS / PER_MESSAGE {
        let commits: Vec<Commit> = (0..PER_MESSAGE)
            .map(|i| {
                seq += 1;
                Commit {
                    no: m * PER_MESSAGE + i + 1,
                    events: vec![Logged {
                        seq,
                        at: "2026-01-01T12:00:00.000Z".into(),
                        sender: None,
                        to: Visibility::Admins,
                        event: Event::PromoUpdate(Promo {
                            code: "LUNCH".into(),
                            percent_off: Some(10),
                            amount_off_cents: None,
                            active: seq % 2 == 0,
                            expires_at: None,
                        }),
                    }],
                    records: Vec::new(),
                }
            })
            .collect();
        let refs: Vec<&Commit> = commits.iter().collect();
        let body = jetstream::encode_group(&refs);
        let first = commits[0].events[0].seq;
        match cluster
            .publish(body, first, stream_seq, &cluster.commit_id())
            .await
        {
            Published::At(s) => stream_seq = s,
            other => panic!("append failed: {other:?}"),
        }
    }
}

/// A relay started on a stream of 100,000 commits serves the whole log; the next start loads the snapshot the first one left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_log_starts_from_a_snapshot() {
    if !nats::available() {
        return;
    }
    let server = NatsServer::start().await;
    let seeder = open(&server.url()).await;
    fill(&seeder).await;

    let t = Instant::now();
    let first = TestRelay::start_on_cluster(open(&server.url()).await, Limits::default()).await;
    let replay_all = t.elapsed();
    // The first relay leaves a snapshot of the whole log behind.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let snap = seeder.newest_snapshot().await.expect("snapshots");
        if snap.is_some_and(|s| s.model.head_seq == COMMITS) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no snapshot written"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    first.stop().await;

    let t = Instant::now();
    let second = TestRelay::start_on_cluster(open(&server.url()).await, Limits::default()).await;
    let from_snapshot = t.elapsed();
    println!(
        "start-up on {COMMITS} commits: {replay_all:?} replaying them all, {from_snapshot:?} from the snapshot"
    );
    let boss = second.connect("boss", Role::Admin).await;
    assert_eq!(boss.head_seq(), COMMITS, "serves the whole log");
    second.stop().await;
}

/// With a small `--log-retention` the stream is purged below the older kept snapshot, and a relay started afterwards serves the whole state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_purges_only_below_a_kept_snapshot() {
    if !nats::available() {
        return;
    }
    let server = NatsServer::start().await;
    let limits = Limits {
        log_retention: 100,
        rate_per_sec: 10_000,
        rate_burst: 10_000,
        ..Limits::default()
    };
    let settings = Settings {
        urls: server.url(),
        cluster: "retention".into(),
        replicas: None,
    };
    let seed = Some((kfood_relay::demo::menu(), Vec::new()));
    let cluster = Arc::new(
        Cluster::open(&settings, &secret(), false, seed)
            .await
            .expect("open"),
    );
    let relay = TestRelay::start_on_cluster(cluster.clone(), limits.clone()).await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    let mut head = 0;
    // Each round writes events and waits for a tick (every 5 s) to trim.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        for i in 0..60 {
            let text = format!("note {i}");
            boss.ok(
                "announce",
                serde_json::json!({"audience": "all", "kind": "announcement", "text": text}),
            )
            .await;
        }
        head = head.max(
            boss.settle()
                .await
                .iter()
                .filter_map(|m| m["seq"].as_u64())
                .max()
                .unwrap_or(head),
        );
        let first = cluster
            .log
            .get_info()
            .await
            .expect("info")
            .state
            .first_sequence;
        if first > 2 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stream was never purged"
        );
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    relay.stop().await;
    let reopened = open_named(&server.url(), "retention").await;
    jetstream::load(&reopened)
        .await
        .expect("the state after a purge");
    let again = TestRelay::start_on_cluster(reopened, limits).await;
    let boss = again.connect("boss", Role::Admin).await;
    assert_eq!(boss.head_seq(), head, "the whole state after a purge");
    again.stop().await;
}

async fn open_named(url: &str, cluster: &str) -> Arc<Cluster> {
    let settings = Settings {
        urls: url.to_owned(),
        cluster: cluster.into(),
        replicas: None,
    };
    Arc::new(
        Cluster::open(&settings, &secret(), false, None)
            .await
            .expect("open"),
    )
}
