//! A client given several relays (`--relay a,b`, DESIGN §15 Clients) against
//! real relays on loopback: it moves to the next relay when its relay goes,
//! starts on the second when the first is down, and falls back to polling
//! on the first relay that answers. Each relay here has its own store (so
//! its own `log_id`): a move starts from a full snapshot, as after a relay
//! whose data was replaced. And each relay says who it is: a `relay_id`
//! fresh at every start, in `/healthz`, `/metrics` and `metrics`.

use std::time::Duration;

use kfood_protocol::client::{
    Backoff, Client, ClientConfig, ClientEvent, ClientHandle, ConnState, Credentials, RelayUrls,
};
use kfood_protocol::Role;
use kfood_relay::config::Limits;
use kfood_tests::{cash_order, free_port, http_get, token, RelayProcess, TestRelay, WAIT};
use tokio::sync::{mpsc, watch};

/// A client of `relays` (comma-separated) with short waits between attempts.
fn config(relays: &str, id: &str, role: Role) -> ClientConfig {
    let mut c = ClientConfig::new(relays, Credentials::Token(token(id, role)), role).unwrap();
    c.backoff = Backoff {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(100),
    };
    c.connect_timeout = Duration::from_secs(5);
    c.poll_wait_secs = 1;
    c
}

struct Program {
    client: ClientHandle,
    events: mpsc::Receiver<ClientEvent>,
    state: watch::Receiver<ConnState>,
}

impl Program {
    fn start(cfg: ClientConfig) -> Program {
        let (client, events, state) = Client::connect(cfg).unwrap();
        Program {
            client,
            events,
            state,
        }
    }

    /// Waits until the client is in a state `want` accepts on the relay `ws`.
    async fn wait_on(&mut self, ws: &str, want: impl Fn(&ConnState) -> bool) {
        let mut relay = self.client.watch_relay();
        let reached = tokio::time::timeout(WAIT, async {
            loop {
                if want(&self.state.borrow_and_update()) && relay.borrow_and_update().ws == ws {
                    return;
                }
                tokio::select! {
                    _ = self.state.changed() => {}
                    _ = relay.changed() => {}
                }
            }
        })
        .await;
        assert!(
            reached.is_ok(),
            "still {:?} on {} (wanted {ws})",
            *self.state.borrow(),
            self.client.relay()
        );
    }

    /// Events until `stop` accepts one (included).
    async fn until(&mut self, stop: impl Fn(&ClientEvent) -> bool) -> Vec<ClientEvent> {
        let mut seen = Vec::new();
        loop {
            let ev = tokio::time::timeout(WAIT, self.events.recv())
                .await
                .expect("an event in time")
                .expect("client running");
            let done = stop(&ev);
            seen.push(ev);
            if done {
                return seen;
            }
        }
    }
}

fn created(ev: &ClientEvent, id: u64) -> bool {
    matches!(ev, ClientEvent::Event(env)
        if env.kind == "order_created" && env.data["order"]["id"].as_u64() == Some(id))
}

/// Places a cash order through `c`; its id.
async fn place(c: &ClientHandle) -> u64 {
    let ack = c
        .request("order_place", cash_order(&[("bibimbap", 1)]))
        .await
        .expect("order acked");
    ack.data["order"]["id"].as_u64().expect("order id")
}

/// A client listing A,B moves to B when A stops, and keeps working there: its
/// orders are acked by B, B's crew sees them, and the client names B.
#[tokio::test]
async fn a_client_moves_to_the_next_relay_when_its_relay_stops() {
    let a = TestRelay::start().await;
    let b = TestRelay::start().await;
    let list = format!("{},{}", a.ws_url(), b.ws_url());
    let mut kim = Program::start(config(&list, "kim", Role::Customer));
    kim.wait_on(&a.ws_url(), ConnState::is_live).await;
    kim.until(|e| matches!(e, ClientEvent::Synced { .. })).await;
    let on_a = place(&kim.client).await;
    kim.until(|e| created(e, on_a)).await;

    a.stop().await;
    kim.wait_on(&b.ws_url(), ConnState::is_live).await;
    // B serves another log: the client starts again from B's snapshot.
    let moved = kim.until(|e| matches!(e, ClientEvent::Synced { .. })).await;
    assert!(
        moved.iter().any(|e| matches!(e, ClientEvent::Snapshot(_))),
        "another log_id means a full snapshot: {moved:?}"
    );
    assert_ne!(kim.client.log_id(), None);

    let mut crew_b = b.connect("cook", Role::Crew).await;
    let on_b = place(&kim.client).await;
    kim.until(|e| created(e, on_b)).await;
    let seen = crew_b.next_of("order_created").await;
    assert_eq!(seen["data"]["order"]["id"].as_u64(), Some(on_b));
    assert_eq!(kim.client.relay().ws, b.ws_url());
    kim.client.close().await;
    b.stop().await;
}

/// `kill -9` of the relay in use (no goodbye on the socket): the client
/// moves to the next relay, and an order placed during the outage is
/// queued, sent there and acked.
#[tokio::test]
async fn a_client_moves_on_when_its_relay_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let a = RelayProcess::spawn(dir.path(), &[]).await;
    let b = TestRelay::start().await;
    let list = format!("{},{}", a.ws_url(), b.ws_url());
    let mut kim = Program::start(config(&list, "kim", Role::Customer));
    kim.wait_on(&a.ws_url(), ConnState::is_live).await;
    let on_a = place(&kim.client).await;
    kim.until(|e| created(e, on_a)).await;

    a.kill9();
    let during = kim
        .client
        .submit("order_place", cash_order(&[("bibimbap", 2)]))
        .unwrap();
    kim.wait_on(&b.ws_url(), ConnState::is_live).await;
    let ack = tokio::time::timeout(WAIT, during)
        .await
        .expect("acked in time")
        .expect("acked by the next relay");
    let id = ack.data["order"]["id"].as_u64().expect("order id");
    kim.until(|e| created(e, id)).await;
    assert_eq!(kim.client.relay().ws, b.ws_url());
    kim.client.close().await;
    b.stop().await;
}

/// With the first relay of the list down at start, the client goes live on
/// the second and works there.
#[tokio::test]
async fn the_first_relay_down_at_start() {
    let b = TestRelay::start().await;
    let dead = format!("ws://127.0.0.1:{}", free_port());
    let list = format!("{dead},{}", b.ws_url());
    let mut kim = Program::start(config(&list, "kim", Role::Customer));
    kim.wait_on(&b.ws_url(), ConnState::is_live).await;
    let id = place(&kim.client).await;
    kim.until(|e| created(e, id)).await;
    kim.client.close().await;
    b.stop().await;
}

/// When no socket opens anywhere, polling goes on at the first relay whose
/// HTTP answers, and requests work there.
#[tokio::test]
async fn polling_goes_on_at_the_first_relay_that_answers() {
    let b = TestRelay::start().await;
    // A: nothing at all; B: no socket, but its HTTP API answers.
    let nowhere = |port: u16| format!("127.0.0.1:{port}");
    let a_urls = RelayUrls {
        ws: format!("ws://{}/ws", nowhere(free_port())),
        http: format!("http://{}", nowhere(free_port())),
    };
    let b_urls = RelayUrls {
        ws: format!("ws://{}/ws", nowhere(free_port())),
        http: format!("http://{}", b.addr),
    };
    let mut cfg = config(&b.ws_url(), "kim", Role::Customer);
    cfg.relay = a_urls;
    cfg.other_relays = vec![b_urls.clone()];
    let mut kim = Program::start(cfg);
    kim.wait_on(&b_urls.ws, |s| *s == ConnState::Polling).await;
    kim.until(|e| matches!(e, ClientEvent::Synced { .. })).await;
    let id = place(&kim.client).await;
    kim.until(|e| created(e, id)).await;
    assert_eq!(kim.client.state(), ConnState::Polling);
    kim.client.close().await;
    b.stop().await;
}

/// `/healthz` is `{status, engine, relay_id, head_seq}`; two relays, and two
/// starts of one relay, never share a `relay_id`; `/metrics` names it.
#[tokio::test]
async fn every_start_of_a_relay_has_its_own_relay_id() {
    let dir = tempfile::tempdir().unwrap();
    let a = TestRelay::start_in(dir.path(), Limits::default()).await;
    let b = TestRelay::start().await;
    let ha = http_get(&a.http_url("/healthz"), None).await;
    assert_eq!(ha.status, 200, "{}", ha.text);
    assert_eq!(ha.body["status"], "ok");
    assert_eq!(ha.body["engine"], "sled");
    assert!(ha.body["head_seq"].is_u64());
    assert!(ha.body.get("reason").is_none(), "no reason when healthy");
    let id_a = ha.body["relay_id"].as_str().unwrap().to_owned();
    assert!(!id_a.is_empty() && id_a.chars().all(|c| c.is_ascii_hexdigit()));
    let id_b = http_get(&b.http_url("/healthz"), None).await.body["relay_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(id_a, id_b);

    let prom = http_get(&a.http_url("/metrics"), None).await.text;
    let info = format!("kfood_relay_info{{relay_id=\"{id_a}\"}} 1");
    assert!(prom.lines().any(|l| l == info), "{info} missing");

    a.stop().await;
    let again = TestRelay::start_in(dir.path(), Limits::default()).await;
    let id_again = http_get(&again.http_url("/healthz"), None).await.body["relay_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(id_again, id_a, "fresh at every start");
    again.stop().await;
    b.stop().await;
}

/// An admin's `metrics` names the relay it comes from and lists the relays
/// alive: with sled, the relay itself, with its address and sockets.
#[tokio::test]
async fn metrics_list_the_relays_alive() {
    let relay = TestRelay::start().await;
    let id = http_get(&relay.http_url("/healthz"), None).await.body["relay_id"].clone();
    let mut admin = relay.connect("boss", Role::Admin).await;
    let sample = loop {
        let m = admin.next_of("metrics").await;
        if m["data"]["relays"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
        {
            break m;
        }
    };
    assert_eq!(sample["data"]["relay_id"], id);
    let relays = sample["data"]["relays"].as_array().unwrap();
    assert_eq!(relays.len(), 1, "{relays:?}");
    let me = &relays[0];
    assert_eq!(me["relay_id"], id);
    assert_eq!(me["url"], format!("ws://{}", relay.addr));
    assert!(me["head_seq"].is_u64());
    assert!(me["at"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(me["connections"].is_u64());
    relay.stop().await;
}
