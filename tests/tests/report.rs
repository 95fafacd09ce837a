//! The day's report (DESIGN §14, `GET /api/report`) against a real relay:
//! its totals are the sums over the orders placed, a cancelled paid order
//! shows as refunded, only admins may read it, and `kfood-admin report`
//! prints the same figures.

use kfood_protocol::report::Day;
use kfood_protocol::time::parse_ms;
use kfood_protocol::Role;
use kfood_relay::config::Limits;
use kfood_tests::*;
use serde_json::{json, Value};

const TZ: &str = "Asia/Seoul";

async fn relay() -> TestRelay {
    TestRelay::start_with(Limits {
        tz: TZ.into(),
        ..Limits::default()
    })
    .await
}

/// The local date of an order's `created_at` in the relay's zone.
fn local_date(order: &Value) -> String {
    let at = parse_ms(order["created_at"].as_str().expect("created_at")).expect("RFC 3339");
    Day::today(TZ, at).date()
}

async fn report(relay: &TestRelay, date: &str) -> Value {
    let r = http_get(
        &relay.http_url(&format!("/api/report?date={date}")),
        Some(&token("boss", Role::Admin)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

fn sum(orders: &[&Value], f: impl Fn(&Value) -> i64) -> i64 {
    orders.iter().map(|o| f(o)).sum()
}

fn cents(v: &Value, k: &str) -> i64 {
    v[k].as_i64().unwrap_or_else(|| panic!("{k} in {v}"))
}

/// Gross, discounts, refunds, net, the split by method, items, hours and
/// statuses are the sums over the orders placed that day.
#[tokio::test]
async fn totals_are_the_sums_over_the_orders() {
    let relay = relay().await;
    let mut boss = relay.connect("boss", Role::Admin).await;
    boss.ok(
        "promo_upsert",
        json!({"code": "TENOFF", "percent_off": 10, "active": true}),
    )
    .await;
    let mut kim = relay.connect("kim", Role::Customer).await;
    let mut crew = relay.connect("kim-crew", Role::Crew).await;
    let mut placed = Vec::new();
    placed.push(
        kim.ok("order_place", card_order(&[("bibimbap", 2)], GOOD_CARD))
            .await,
    );
    let mut promo = card_order(&[("haemul-pajeon", 1), ("sikhye", 3)], GOOD_CARD);
    promo["promo_code"] = json!("TENOFF");
    placed.push(kim.ok("order_place", promo).await);
    placed.push(kim.ok("order_place", cash_order(&[("yakgwa", 4)])).await);
    let void = kim
        .ok("order_place", cash_order(&[("barley-tea", 2)]))
        .await;
    kim.refused(
        "order_place",
        card_order(&[("bibimbap", 1)], DECLINED_CARD),
        "payment_declined",
    )
    .await;
    let id = |o: &Value| o["order"]["id"].as_u64().expect("id");
    let void = kim
        .ok(
            "order_cancel",
            json!({"order_id": id(&void), "reason": "wrong table"}),
        )
        .await;
    placed.push(void);
    for status in ["preparing", "ready"] {
        crew.ok(
            "order_update",
            json!({"order_id": id(&placed[0]), "status": status}),
        )
        .await;
    }
    let orders: Vec<Value> = placed.iter().map(|o| o["order"].clone()).collect();
    let date = local_date(&orders[0]);
    let day: Vec<&Value> = orders.iter().filter(|o| local_date(o) == date).collect();
    let r = report(&relay, &date).await;

    let sold: Vec<&Value> = day
        .iter()
        .copied()
        .filter(|o| o["payment"]["status"] != "void")
        .collect();
    let gross = sum(&sold, |o| cents(o, "subtotal_cents"));
    let discount = sum(&sold, |o| cents(o, "discount_cents"));
    assert!(discount > 0, "the promo order is discounted");
    assert_eq!(
        (r["date"].as_str(), r["tz"].as_str()),
        (Some(date.as_str()), Some(TZ))
    );
    assert_eq!(cents(&r, "gross_cents"), gross);
    assert_eq!(cents(&r, "discount_cents"), discount);
    assert_eq!(cents(&r, "refunded_cents"), 0);
    assert_eq!(cents(&r, "net_cents"), gross - discount);
    let by_method = |m: &str| {
        let of: Vec<&Value> = sold
            .iter()
            .copied()
            .filter(|o| o["payment"]["method"] == m)
            .collect();
        sum(&of, |o| cents(o, "total_cents"))
    };
    assert_eq!(cents(&r, "cash_cents"), by_method("cash"));
    assert_eq!(cents(&r, "card_cents"), by_method("card"));
    let items: i64 = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| cents(i, "revenue_cents"))
        .sum();
    assert_eq!(items, gross);
    let hours = r["hours"].as_array().expect("hours");
    assert_eq!(hours.len(), 24);
    let placed_in_hours: u64 = hours.iter().map(|h| h["orders"].as_u64().unwrap()).sum();
    assert_eq!(placed_in_hours, sold.len() as u64);
    let hour_revenue: i64 = hours.iter().map(|h| cents(h, "revenue_cents")).sum();
    assert_eq!(hour_revenue, gross - discount);
    let by_status: u64 = r["orders_by_status"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(by_status, day.len() as u64);
    if day.len() == orders.len() {
        assert_eq!(r["orders_by_status"]["ready"], 1);
        assert_eq!(r["orders_by_status"]["cancelled"], 1);
        assert_eq!(r["payment_failures"], 1);
        assert!(r["prep_min_avg"].as_f64().is_some(), "{r}");
        let c = &r["cancellations"][0];
        assert_eq!(c["code"], orders[3]["code"]);
        assert_eq!(
            (c["reason"].as_str(), c["refunded_cents"].as_i64()),
            (Some("wrong table"), Some(0))
        );
        assert_eq!(c["by"]["id"], "kim");
    }
    assert_eq!(r["partial"], false);
    assert_eq!(r["late"], 0);
    relay.stop().await;
}

/// A paid order cancelled by the kitchen stays in gross, shows as refunded
/// in its cancellation, and net = gross − discount − refunded.
#[tokio::test]
async fn a_cancelled_paid_order_is_refunded() {
    let relay = relay().await;
    let mut kim = relay.connect("kim", Role::Customer).await;
    let mut crew = relay.connect("lee", Role::Crew).await;
    let kept = kim
        .ok("order_place", card_order(&[("bibimbap", 1)], GOOD_CARD))
        .await;
    let paid = kim
        .ok(
            "order_place",
            card_order(&[("haemul-pajeon", 2)], GOOD_CARD),
        )
        .await;
    let o = &paid["order"];
    crew.ok(
        "order_cancel",
        json!({"order_id": o["id"], "reason": "out of squid"}),
    )
    .await;
    let date = local_date(o);
    let r = report(&relay, &date).await;
    let total = cents(o, "total_cents");
    let c = r["cancellations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == o["code"])
        .unwrap_or_else(|| panic!("the cancellation of {} in {r}", o["code"]));
    assert_eq!(cents(c, "refunded_cents"), total);
    assert_eq!(c["reason"], "out of squid");
    assert_eq!(c["by"]["type"], "crew");
    assert_eq!(cents(&r, "refunded_cents"), total);
    let net = cents(&r, "gross_cents") - cents(&r, "discount_cents") - cents(&r, "refunded_cents");
    assert_eq!(cents(&r, "net_cents"), net);
    assert_eq!(cents(&r, "cash_cents") + cents(&r, "card_cents"), net);
    if local_date(&kept["order"]) == date {
        assert_eq!(
            cents(&r, "gross_cents"),
            cents(&kept["order"], "subtotal_cents") + cents(o, "subtotal_cents")
        );
        assert_eq!(cents(&r, "net_cents"), cents(&kept["order"], "total_cents"));
    }
    relay.stop().await;
}

/// Only an admin token reads the report: none is 401, a bad token 401,
/// crew and customers 403; a bad date is 400 `invalid` on `date`; no date
/// is today in the relay's zone.
#[tokio::test]
async fn admins_only_and_dates_checked() {
    let relay = relay().await;
    let url = relay.http_url("/api/report");
    assert_eq!(http_get(&url, None).await.status, 401);
    assert_eq!(http_get(&url, Some("not-a-token")).await.status, 401);
    for role in [Role::Crew, Role::Customer] {
        let r = http_get(&url, Some(&token("who", role))).await;
        assert_eq!(r.status, 403, "{role}: {}", r.text);
        assert_eq!(r.body["error"]["code"], "forbidden");
    }
    let boss = token("boss", Role::Admin);
    for bad in [
        "2027-02-30",
        "15-01-2027",
        "today",
        "2027-1-5",
        "2027-01-15T00:00:00Z",
    ] {
        let r = http_get(
            &relay.http_url(&format!("/api/report?date={bad}")),
            Some(&boss),
        )
        .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
        assert_eq!(r.body["error"]["code"], "invalid", "{bad}");
        assert_eq!(r.body["error"]["field"], "date", "{bad}");
    }
    let before = Day::today(TZ, kfood_protocol::time::now_ms()).date();
    let r = http_get(&url, Some(&boss)).await;
    let after = Day::today(TZ, kfood_protocol::time::now_ms()).date();
    assert_eq!(r.status, 200, "{}", r.text);
    let date = r.body["date"].as_str().unwrap();
    assert!(date == before || date == after, "{date}");
    assert_eq!(r.body["hours"].as_array().unwrap().len(), 24);
    assert_eq!(r.body["gross_cents"], 0);
    assert_eq!(r.body["prep_min_avg"], Value::Null);
    relay.stop().await;
}

/// Runs the real `kfood-admin` binary; returns its exit status, stdout and stderr.
fn admin(args: Vec<String>) -> (i32, String, String) {
    let out = std::process::Command::new(program_bin("kfood-admin"))
        .args(args)
        .args(["--log", "/dev/null"])
        .env_remove("KFOOD_TOKEN")
        .env_remove("KFOOD_RELAY")
        .output()
        .expect("run kfood-admin");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn run_admin(relay: &TestRelay, tok: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args: Vec<String> = vec!["report".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend([
        "--relay".into(),
        format!("ws://{}", relay.addr),
        "--token".into(),
        tok.into(),
    ]);
    tokio::task::spawn_blocking(move || admin(args))
        .await
        .expect("join")
}

/// `kfood-admin report --json` prints the relay's report alone; `--csv` one
/// section per part; the table fits 80 columns; refusals set the exit status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kfood_admin_report_prints_it() {
    let relay = relay().await;
    let mut kim = relay.connect("kim", Role::Customer).await;
    let placed = kim
        .ok("order_place", card_order(&[("bibimbap", 3)], GOOD_CARD))
        .await;
    let date = local_date(&placed["order"]);
    let boss = token("boss", Role::Admin);

    let (code, out, err) = run_admin(&relay, &boss, &["--json", "--date", &date]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let printed: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(printed, report(&relay, &date).await);
    assert_eq!(
        cents(&printed, "gross_cents"),
        cents(&placed["order"], "subtotal_cents")
    );

    let (code, csv, err) = run_admin(&relay, &boss, &["--csv", "--date", &date]).await;
    assert_eq!(code, 0, "{err}");
    let heads: Vec<&str> = csv.split("\n\n").filter_map(|s| s.lines().next()).collect();
    assert_eq!(
        heads,
        [
            "summary",
            "orders_by_status",
            "items",
            "hours",
            "cancellations"
        ]
    );
    assert!(csv.contains(&format!("date,{date}\n")), "{csv}");
    assert!(
        csv.contains(&format!(
            "bibimbap,Bibimbap,3,{}\n",
            3 * cents(&placed["order"]["lines"][0], "unit_price_cents")
        )),
        "{csv}"
    );

    let (code, table, _) = run_admin(&relay, &boss, &["--date", &date]).await;
    assert_eq!(code, 0);
    assert!(
        table.contains(&format!("Day's report {date} ({TZ})")),
        "{table}"
    );
    assert!(table.lines().all(|l| l.chars().count() <= 80), "{table}");

    let (code, _, err) = run_admin(&relay, &boss, &["--date", "someday"]).await;
    assert_eq!(code, 1, "a refused request: {err}");
    assert!(err.contains("YYYY-MM-DD"), "{err}");
    let (code, _, err) = run_admin(&relay, &token("lee", Role::Crew), &[]).await;
    assert_eq!(code, 2, "not an admin account: {err}");
    relay.stop().await;
}

/// Once retention has dropped the start of the day from the log, the
/// report says `partial`; its orders still come whole from the relay's state.
#[tokio::test]
async fn a_trimmed_log_makes_the_report_partial() {
    let relay = TestRelay::start_with(Limits {
        tz: TZ.into(),
        // The least the relay takes; 60 card orders make 120 events.
        log_retention: 100,
        rate_per_sec: 1000,
        rate_burst: 1000,
        ..Limits::default()
    })
    .await;
    let mut kim = relay.connect("kim", Role::Customer).await;
    let mut placed = Vec::new();
    for _ in 0..60 {
        placed.push(
            kim.ok("order_place", card_order(&[("sikhye", 1)], GOOD_CARD))
                .await,
        );
    }
    let date = local_date(&placed[0]["order"]);
    let deadline = tokio::time::Instant::now() + WAIT;
    let r = loop {
        let r = report(&relay, &date).await;
        if r["partial"] == true {
            break r;
        }
        assert!(tokio::time::Instant::now() < deadline, "never partial: {r}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let today: Vec<&Value> = placed
        .iter()
        .map(|p| &p["order"])
        .filter(|o| local_date(o) == date)
        .collect();
    assert_eq!(
        cents(&r, "gross_cents"),
        sum(&today, |o| cents(o, "subtotal_cents"))
    );
    relay.stop().await;
}
