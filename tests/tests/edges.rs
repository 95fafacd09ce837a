//! The relay's edges: every close it decides is a close frame sent after the
//! replies already decided (DESIGN §4, §9), and the HTTP answers of §2.

use futures_util::SinkExt;
use kfood_protocol::Role;
use kfood_tests::*;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// Every message until the relay closes the socket.
async fn until_close(c: &mut Client) -> Vec<Value> {
    let mut seen = Vec::new();
    while let Some(m) = c.try_next(WAIT).await {
        seen.push(m);
    }
    seen
}

/// A socket flooded past the rate gets, in order, a reply for every frame the relay read (acks, then `rate_limited` with `ref` and `retry_after_ms`), then a close frame 4008 — not a reset.
#[tokio::test]
async fn flood_gets_its_rate_limited_errors_then_close_4008() {
    let relay = TestRelay::start_with(tight_rate()).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let ids: Vec<String> = (0..200).map(|i| format!("f{i}")).collect();
    for id in &ids {
        if ann
            .ws
            .send(Message::text(quote_frame(id).to_string()))
            .await
            .is_err()
        {
            break;
        }
    }
    let seen = until_close(&mut ann).await;
    assert_eq!(
        ann.closed,
        Some(4008),
        "a close frame, not a drop: {seen:?}"
    );
    let replies: Vec<&Value> = seen
        .iter()
        .filter(|m| m["type"] == "ack" || m["type"] == "error")
        .collect();
    // Frames are answered in the order they were read, and nothing after the close.
    for (m, id) in replies.iter().zip(&ids) {
        assert_eq!(m["data"]["ref"], id.as_str(), "{seen:?}");
    }
    let limited: Vec<&&Value> = replies
        .iter()
        .filter(|m| m["data"]["code"] == "rate_limited")
        .collect();
    assert!(
        limited.len() > kfood_relay::limits::abuse_threshold(5) as usize,
        "persistent abuse is refused before it is closed: {seen:?}"
    );
    for m in &limited {
        assert_rate_limited(m, m["data"]["ref"].as_str().unwrap_or_default());
    }
    let last = replies.last().expect("replies before the close");
    assert_eq!(last["data"]["code"], "rate_limited", "{last}");
    relay.stop().await;
}

/// One batch far over the burst: each of its messages gets its reply (five acks, then `rate_limited`), then the close frame 4008.
#[tokio::test]
async fn abusive_batch_is_answered_whole_then_closed_4008() {
    let relay = TestRelay::start_with(tight_rate()).await;
    let mut bob = relay.connect("bob", Role::Customer).await;
    let ids: Vec<String> = (0..60).map(|i| format!("g{i}")).collect();
    let batch: Vec<Value> = ids.iter().map(|id| quote_frame(id)).collect();
    bob.send(json!({"type": "batch", "data": batch})).await;
    let seen = until_close(&mut bob).await;
    assert_eq!(bob.closed, Some(4008), "{seen:?}");
    let replies: Vec<&Value> = seen
        .iter()
        .filter(|m| m["type"] == "ack" || m["type"] == "error")
        .collect();
    assert_eq!(replies.len(), ids.len(), "{seen:?}");
    for (m, id) in replies[..5].iter().zip(&ids) {
        assert_eq!(m["type"], "ack", "{m}");
        assert_eq!(m["data"]["ref"], id.as_str(), "{m}");
    }
    for (m, id) in replies[5..].iter().zip(&ids[5..]) {
        assert_rate_limited(m, id);
    }
    // Other connections are unaffected.
    let mut carl = relay.connect("carl", Role::Customer).await;
    carl.ok("order_quote", cash_order(&[("kimbap", 1)])).await;
    relay.stop().await;
}

/// A binary frame right behind a request: the request's reply comes first, then the close frame 4000.
#[tokio::test]
async fn binary_frame_closes_4000_after_the_decided_reply() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    ann.send(quote_frame("q1")).await;
    ann.ws
        .send(Message::binary(vec![0u8, 1, 2, 3]))
        .await
        .expect("send");
    let seen = until_close(&mut ann).await;
    assert_eq!(ann.closed, Some(4000), "{seen:?}");
    assert!(
        seen.iter()
            .any(|m| m["type"] == "ack" && m["data"]["ref"] == "q1"),
        "the quote was decided before the binary frame: {seen:?}"
    );
    relay.stop().await;
}

/// A text frame over `max_frame_bytes` right behind a request: its reply, then the close frame 4009.
#[tokio::test]
async fn oversize_frame_closes_4009_after_the_decided_reply() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    ann.send(quote_frame("q1")).await;
    let big = format!(
        r#"{{"type":"order_quote","id":"big","data":{{"pad":"{}"}}}}"#,
        "x".repeat(100_000)
    );
    ann.send_text(&big).await;
    let seen = until_close(&mut ann).await;
    assert_eq!(ann.closed, Some(4009), "{seen:?}");
    assert!(
        seen.iter()
            .any(|m| m["type"] == "ack" && m["data"]["ref"] == "q1"),
        "{seen:?}"
    );
    assert!(
        !seen.iter().any(|m| m["data"]["ref"] == "big"),
        "the oversize frame is not processed: {seen:?}"
    );
    relay.stop().await;
}

/// A frame even over the transport's read limit (1 MiB) still ends in a close frame 4009, before and after authentication.
#[tokio::test]
async fn frame_over_the_transport_limit_closes_4009() {
    let relay = TestRelay::start().await;
    let huge = "y".repeat(2 * 1024 * 1024);
    let mut ann = relay.connect("ann", Role::Customer).await;
    // The relay may stop reading mid-frame; the close must arrive anyway.
    let _ = ann.ws.send(Message::text(huge.clone())).await;
    let seen = until_close(&mut ann).await;
    assert_eq!(ann.closed, Some(4009), "{seen:?}");

    let mut raw = Client::unauthenticated(&relay.ws_url()).await;
    let _ = raw.ws.send(Message::text(huge)).await;
    assert_eq!(raw.close_code().await, Some(4009));
    relay.stop().await;
}

/// `kfood-relay` with `--data-dir dir` and `args`, stdin from `stdin`.
async fn relay_cli(args: &[&str], dir: &std::path::Path, stdin: &str) -> std::process::Output {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(relay_bin())
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env("KFOOD_JWT_SECRET", SECRET)
        .env_remove("KFOOD_PASSWORD")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run kfood-relay");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.as_bytes())
        .await
        .expect("write stdin");
    drop(input);
    child.wait_with_output().await.expect("kfood-relay output")
}

/// `user add` with stdin that is not a terminal (a script) takes the password from its first line, and the account logs in with it.
#[tokio::test]
async fn user_add_reads_the_password_from_a_piped_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = relay_cli(
        &["user", "add", "--role", "crew", "linecook"],
        dir.path(),
        "line-cook-pass\nignored second line\n",
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stderr}");
    assert!(
        !stdout.contains("line-cook-pass") && !stderr.contains("line-cook-pass"),
        "the password is never printed: {stdout} {stderr}"
    );
    let relay = RelayProcess::spawn(dir.path(), &[]).await;
    let r = http_post(
        &format!("http://{}/api/login", relay.addr),
        None,
        &json!({"username": "linecook", "password": "line-cook-pass"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    relay.kill9();
}

/// The relay's log on a stderr that is not a terminal carries no ANSI colour codes.
#[tokio::test]
async fn relay_log_to_a_pipe_has_no_colours() {
    use tokio::io::AsyncReadExt;
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = tokio::process::Command::new(relay_bin())
        .args(["--demo", "--bind", &addr, "--data-dir"])
        .arg(dir.path())
        .env("KFOOD_JWT_SECRET", SECRET)
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn kfood-relay");
    let mut healthy = false;
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(format!("http://{addr}/healthz")).await {
            healthy = r.status().is_success();
            if healthy {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(healthy, "relay at {addr} did not become healthy");
    child.kill().await.expect("kill");
    let mut log = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut log)
        .await
        .expect("read log");
    assert!(log.contains("relay listening"), "{log}");
    assert!(!log.contains('\u{1b}'), "no escape codes: {log:?}");
}

/// One metric family of a Prometheus text: its TYPE and its samples.
#[derive(Default, Debug)]
struct Family {
    kind: String,
    samples: Vec<(String, String, f64)>,
}

/// Parses the Prometheus text format: every sample must follow its family's
/// `# TYPE` line (a histogram's `_bucket`, `_sum`, `_count` belong to it).
fn parse_prometheus(text: &str) -> std::collections::BTreeMap<String, Family> {
    let mut families: std::collections::BTreeMap<String, Family> = Default::default();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            let f = families.entry(name.to_owned()).or_default();
            assert!(f.kind.is_empty(), "TYPE twice for {name}");
            f.kind = kind.to_owned();
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("name value");
        let (name, labels) = match series.split_once('{') {
            Some((n, l)) => (n, l.trim_end_matches('}')),
            None => (series, ""),
        };
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("a number: {line}")),
        };
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .filter_map(|s| name.strip_suffix(s))
            .find(|base| families.get(*base).is_some_and(|f| f.kind == "histogram"))
            .unwrap_or(name);
        let f = families
            .get_mut(family)
            .unwrap_or_else(|| panic!("no TYPE before {line}"));
        f.samples.push((name.to_owned(), labels.to_owned(), value));
    }
    families
}

/// `GET /metrics` follows Prometheus conventions: every family has a TYPE, counters end in `_total`, `kfood_fanout_seconds` is a cumulative histogram whose `+Inf` bucket equals its count, resumes are counted, and the process series are there.
#[tokio::test]
async fn metrics_follow_prometheus_conventions() {
    let relay = TestRelay::start().await;
    let _kim = relay.connect("kim", Role::Crew).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    ann.ok("order_place", cash_order(&[("bibimbap", 1)])).await;
    let head = ann
        .settle()
        .await
        .iter()
        .filter_map(|m| m["seq"].as_u64())
        .max();
    // A client coming back with `since` resumes.
    let since = head.unwrap_or(ann.head_seq());
    let _again = Client::connect(
        &relay.ws_url(),
        &token("ann", Role::Customer),
        Role::Customer,
        Some(since),
    )
    .await;

    let r = http_get(&relay.http_url("/metrics"), None).await;
    assert_eq!(r.status, 200);
    let families = parse_prometheus(&r.text);
    for (name, f) in &families {
        assert!(!f.kind.is_empty(), "{name} has no TYPE");
        assert!(
            name.starts_with("kfood_") || name.starts_with("process_"),
            "{name}"
        );
        assert_eq!(
            f.kind == "counter",
            name.ends_with("_total"),
            "{name} is a {}: counters, and only counters, end in _total",
            f.kind
        );
    }
    assert!(!families.contains_key("kfood_fanout_ms"), "{}", r.text);
    for name in [
        "kfood_orders_today",
        "kfood_revenue_today_cents",
        "kfood_payment_failures_today",
    ] {
        assert_eq!(families[name].kind, "gauge", "{name}");
    }

    let fanout = &families["kfood_fanout_seconds"];
    assert_eq!(fanout.kind, "histogram");
    let buckets: Vec<&(String, String, f64)> = fanout
        .samples
        .iter()
        .filter(|(n, _, _)| n == "kfood_fanout_seconds_bucket")
        .collect();
    let value = |suffix: &str| {
        fanout
            .samples
            .iter()
            .find(|(n, _, _)| n == &format!("kfood_fanout_seconds{suffix}"))
            .map(|s| s.2)
            .unwrap_or_else(|| panic!("no {suffix}"))
    };
    let les: Vec<f64> = buckets
        .iter()
        .map(|(_, labels, _)| {
            let le = labels
                .strip_prefix("le=\"")
                .and_then(|l| l.strip_suffix('"'))
                .expect("le label");
            if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().expect("le is a number")
            }
        })
        .collect();
    assert!(les.windows(2).all(|w| w[0] < w[1]), "{les:?}");
    assert_eq!(les.last(), Some(&f64::INFINITY));
    let counts: Vec<f64> = buckets.iter().map(|b| b.2).collect();
    assert!(
        counts.windows(2).all(|w| w[0] <= w[1]),
        "cumulative: {counts:?}"
    );
    assert_eq!(counts.last().copied(), Some(value("_count")));
    assert!(value("_count") >= 1.0, "the order's events were fanned out");
    assert!(value("_sum") > 0.0 && value("_sum") < 60.0 * value("_count"));

    assert_eq!(
        families["kfood_resumes_total"].samples[0].2, 1.0,
        "{}",
        r.text
    );
    assert!(families["kfood_messages_in_total"].samples[0].2 >= 1.0);
    for (name, kind) in [
        ("process_resident_memory_bytes", "gauge"),
        ("process_cpu_seconds_total", "counter"),
        ("process_open_fds", "gauge"),
        ("process_start_time_seconds", "gauge"),
    ] {
        let f = &families[name];
        assert_eq!(f.kind, kind, "{name}");
        assert!(
            f.samples[0].2 > 0.0 || name == "process_cpu_seconds_total",
            "{name}"
        );
    }
    let now = kfood_protocol::time::now_ms() as f64 / 1000.0;
    let start = families["process_start_time_seconds"].samples[0].2;
    assert!(
        start <= now + 1.0 && start > now - 3600.0,
        "{start} vs {now}"
    );
    relay.stop().await;
}

/// Every `GET /api/events` answer (snapshot, events, reset) carries the log's `log_id`, the one `authenticated` names, and reads as `EventsPage`.
#[tokio::test]
async fn polled_events_carry_the_log_id() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let log_id = ann.authenticated["data"]["log_id"].clone();
    assert!(log_id.as_str().is_some_and(|l| !l.is_empty()), "{log_id}");
    ann.ok("order_place", cash_order(&[("bibimbap", 1)])).await;
    let bearer = token("ann", Role::Customer);
    for query in ["", "?since=0", "?since=999999"] {
        let r = http_get(
            &relay.http_url(&format!("/api/events{query}")),
            Some(&bearer),
        )
        .await;
        assert_eq!(r.status, 200, "{query}: {}", r.text);
        assert_eq!(r.body["log_id"], log_id, "{query}: {}", r.text);
        let page: kfood_protocol::messages::EventsPage =
            serde_json::from_value(r.body.clone()).expect("an EventsPage");
        assert_eq!(Some(page.log_id.as_str()), log_id.as_str());
        assert!(!page.events.is_empty(), "{query}: {}", r.text);
    }
    relay.stop().await;
}

/// Registering a taken username is 409 with exactly `{"error": {"code": "invalid", "message", "field": "username"}}`.
#[tokio::test]
async fn taken_username_is_409_invalid_username() {
    let relay = TestRelay::start().await;
    for username in ["crew", "ann-k"] {
        let body = json!({"username": username, "password": "long-enough-pw"});
        if username == "ann-k" {
            let r = http_post(&relay.http_url("/api/register"), None, &body).await;
            assert_eq!(r.status, 201, "{}", r.text);
        }
        let r = http_post(&relay.http_url("/api/register"), None, &body).await;
        assert_eq!(r.status, 409, "{username}: {}", r.text);
        let obj = r.body.as_object().expect("a JSON object");
        assert_eq!(obj.len(), 1, "{}", r.text);
        let err = r.body["error"].as_object().expect("error object");
        let mut keys: Vec<&str> = err.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["code", "field", "message"], "{}", r.text);
        assert_eq!(err["code"], "invalid");
        assert_eq!(err["field"], "username");
        assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    relay.stop().await;
}

/// The error for a frame that does not parse comes after the replies to the frames before it.
#[tokio::test]
async fn malformed_frame_error_follows_earlier_replies() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    for round in 0..5 {
        let id = format!("q{round}");
        ann.send(quote_frame(&id)).await;
        ann.send_text("{not json").await;
        let seen: Vec<Value> = ann
            .settle()
            .await
            .into_iter()
            .filter(|m| m["type"] == "ack" || m["type"] == "error")
            .collect();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(seen[0]["data"]["ref"], id.as_str(), "{seen:?}");
        assert_eq!(seen[1]["data"]["code"], "malformed", "{seen:?}");
    }
    relay.stop().await;
}
