//! Menu item options end to end (DESIGN §14): every rule a line's chosen
//! options are checked by, their pricing (quote == place), the names stored
//! on the line in menu order, the check order, the upsert's validation of
//! option groups; and, with the real programs in pseudo-terminals, a
//! customer's choices reaching the kitchen's ticket.

use kfood_protocol::Role;
use kfood_tests::pty::{Program, Term, SCREEN_WAIT};
use kfood_tests::*;
use serde_json::{json, Value};

/// Asserts that `reply` is an `error` with `code` and `field`.
#[track_caller]
fn check_refused(reply: &Value, code: &str, field: &str) {
    assert_eq!(reply["type"], "error", "expected {code}, got {reply}");
    assert_eq!(reply["data"]["code"], code, "{reply}");
    assert_eq!(reply["data"]["field"], field, "{reply}");
}

/// A line of `item` with these `(group, choice)` options.
fn line(item: &str, qty: u32, options: &[(&str, &str)]) -> Value {
    json!({
        "item_id": item,
        "qty": qty,
        "options": options
            .iter()
            .map(|(g, c)| json!({"group": g, "choice": c}))
            .collect::<Vec<_>>(),
    })
}

/// A card pickup order of `lines`.
fn order(lines: Vec<Value>) -> Value {
    let mut d = card_order(&[], GOOD_CARD);
    d["items"] = json!(lines);
    d
}

/// The bibimbap of the demo menu: a free spice level (0–1) and priced
/// extras; the demo makes no group required.
#[tokio::test]
async fn chosen_options_are_priced_and_stored_in_menu_order() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut crew = relay.connect("crew", Role::Crew).await;
    let lines = vec![
        line("bibimbap", 2, &[("extras", "egg"), ("spice", "hot")]),
        line("japchae", 1, &[]),
    ];
    let q = ann.ok("order_quote", order(lines.clone())).await;
    assert_eq!(q["subtotal_cents"], 2 * (1350 + 150) + 1250);
    assert_eq!(q["total_cents"], q["subtotal_cents"]);
    let mut place = order(lines);
    place["expected_total_cents"] = q["total_cents"].clone();
    let ack = ann.ok("order_place", place).await;
    let o = &ack["order"];
    assert_eq!(o["total_cents"], q["total_cents"], "quote == place");
    assert_eq!(o["payment"]["amount_cents"], q["total_cents"]);
    assert_eq!(o["lines"][0]["unit_price_cents"], 1350 + 150);
    assert_eq!(
        o["lines"][0]["options"],
        json!([
            {"group": "spice", "choice": "hot", "name": "hot", "price_cents": 0},
            {"group": "extras", "choice": "egg", "name": "egg", "price_cents": 150}
        ]),
        "names and prices in menu order, whatever the request's order"
    );
    assert_eq!(o["lines"][1]["options"], json!([]), "always a list");
    let e = crew.next_of("order_created").await;
    assert_eq!(e["data"]["order"]["lines"][0]["options"][1]["name"], "egg");
    relay.stop().await;
}

/// Unknown group or choice ids, a choice twice, two spice levels where one
/// is the most, and options on an item without groups are each `invalid`
/// on `items[i].options`, for a quote and a place alike, and create nothing.
#[tokio::test]
async fn bad_choices_are_invalid_with_the_lines_field() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let plain = line("kimbap", 1, &[]);
    let cases: Vec<Value> = vec![
        line("bibimbap", 1, &[("sauce", "hot")]),
        line("bibimbap", 1, &[("spice", "volcanic")]),
        line("bibimbap", 1, &[("spice", "egg")]),
        line("bibimbap", 1, &[("extras", "egg"), ("extras", "egg")]),
        line("bibimbap", 1, &[("spice", "hot"), ("spice", "mild")]),
        line("japchae", 1, &[("spice", "hot")]),
        json!({"item_id": "bibimbap", "qty": 1, "options": [{"group": "spice"}]}),
        json!({"item_id": "bibimbap", "qty": 1, "options": "hot"}),
    ];
    for bad in cases {
        for kind in ["order_quote", "order_place"] {
            let r = ann
                .request(kind, order(vec![plain.clone(), bad.clone()]))
                .await;
            check_refused(&r, "invalid", "items[1].options");
        }
    }
    let fresh = relay.connect("ann", Role::Customer).await;
    assert_eq!(fresh.snapshot.unwrap()["data"]["orders"], json!([]));
    relay.stop().await;
}

/// A group with `min` 1 is required: a line without it is refused; with
/// it, the order goes through. Too many from a group of at most two too.
#[tokio::test]
async fn required_groups_and_group_maximums() {
    let relay = TestRelay::start().await;
    let mut admin = relay.connect("boss", Role::Admin).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    admin
        .ok(
            "menu_update",
            json!({"op": "upsert", "item": {"id": "ramyeon", "name": "Ramyeon",
                "category": "Soups & Stews", "description": "Instant noodles, made right",
                "price_cents": 900, "prep_minutes": 6, "available": true, "station": "wok",
                "options": [
                    {"id": "size", "name": "Size", "min": 1, "max": 1, "choices": [
                        {"id": "regular", "name": "regular", "price_cents": 0},
                        {"id": "large", "name": "large", "price_cents": 300}]},
                    {"id": "toppings", "name": "Toppings", "min": 0, "max": 2, "choices": [
                        {"id": "egg", "name": "egg", "price_cents": 150},
                        {"id": "cheese", "name": "cheese", "price_cents": 200},
                        {"id": "scallion", "name": "scallion", "price_cents": 0}]}]}}),
        )
        .await;
    let r = ann
        .request(
            "order_quote",
            order(vec![line("ramyeon", 1, &[("toppings", "egg")])]),
        )
        .await;
    check_refused(&r, "invalid", "items[0].options");
    let three = [
        ("size", "large"),
        ("toppings", "egg"),
        ("toppings", "cheese"),
        ("toppings", "scallion"),
    ];
    let r = ann
        .request("order_quote", order(vec![line("ramyeon", 1, &three)]))
        .await;
    check_refused(&r, "invalid", "items[0].options");
    let ok = [
        ("toppings", "scallion"),
        ("size", "large"),
        ("toppings", "egg"),
    ];
    let ack = ann
        .ok("order_place", order(vec![line("ramyeon", 3, &ok)]))
        .await;
    let l = &ack["order"]["lines"][0];
    assert_eq!(l["unit_price_cents"], 900 + 300 + 150);
    assert_eq!(ack["order"]["subtotal_cents"], 3 * (900 + 300 + 150));
    let names: Vec<&str> = l["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["large", "egg", "scallion"], "menu order");
    relay.stop().await;
}

/// DESIGN §14's check order: `invalid` (options included) before
/// `unknown_item`, which comes before `item_unavailable`.
#[tokio::test]
async fn option_faults_come_before_unknown_and_unavailable_items() {
    let relay = TestRelay::start().await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let mut crew = relay.connect("crew", Role::Crew).await;
    let bad_options = line("bibimbap", 1, &[("spice", "volcanic")]);
    let r = ann
        .request(
            "order_quote",
            order(vec![line("pizza", 1, &[]), bad_options.clone()]),
        )
        .await;
    check_refused(&r, "invalid", "items[1].options");
    crew.ok(
        "menu_update",
        json!({"op": "set_available", "item": {"id": "bibimbap", "available": false}}),
    )
    .await;
    let r = ann.request("order_quote", order(vec![bad_options])).await;
    check_refused(&r, "invalid", "items[0].options");
    let r = ann
        .request(
            "order_quote",
            order(vec![
                line("bibimbap", 1, &[("spice", "hot")]),
                line("pizza", 1, &[]),
            ]),
        )
        .await;
    check_refused(&r, "unknown_item", "items[1].item_id");
    let r = ann
        .request(
            "order_quote",
            order(vec![line("bibimbap", 1, &[("spice", "hot")])]),
        )
        .await;
    check_refused(&r, "item_unavailable", "items[0].item_id");
    relay.stop().await;
}

/// An upsert's option groups are checked (counts, ids, min/max, prices,
/// names, types), each fault `invalid` on `item.options` with no change;
/// a good one replaces every group, reaches everyone and `GET /api/menu`;
/// a patch without `options` keeps them; an empty list clears them.
#[tokio::test]
async fn upsert_validates_and_replaces_option_groups() {
    let relay = TestRelay::start().await;
    let mut admin = relay.connect("boss", Role::Admin).await;
    let mut ann = relay.connect("ann", Role::Customer).await;
    let choice = |id: &str, price: i64| json!({"id": id, "name": id, "price_cents": price});
    let group = |id: &str, min: i64, max: i64, choices: Vec<Value>| json!({"id": id, "name": id, "min": min, "max": max, "choices": choices});
    let nine: Vec<Value> = (0..9)
        .map(|i| group(&format!("g{i}"), 0, 0, vec![]))
        .collect();
    let thirteen: Vec<Value> = (0..13).map(|i| choice(&format!("c{i}"), 0)).collect();
    let bad: Vec<Value> = vec![
        json!(nine),
        json!([group("g", 0, 1, thirteen)]),
        json!([group("Spice", 0, 1, vec![choice("a", 0)])]),
        json!([group(&"g".repeat(25), 0, 1, vec![choice("a", 0)])]),
        json!([group("g", 0, 1, vec![choice("a", 0), choice("a", 0)])]),
        json!([
            group("g", 0, 1, vec![choice("a", 0)]),
            group("g", 0, 1, vec![choice("b", 0)])
        ]),
        json!([group("g", 2, 1, vec![choice("a", 0), choice("b", 0)])]),
        json!([group("g", 0, 2, vec![choice("a", 0)])]),
        json!([group("g", -1, 1, vec![choice("a", 0)])]),
        json!([group("g", 0, 1, vec![choice("a", -5)])]),
        json!([{"id": "g", "name": " ", "min": 0, "max": 1, "choices": [choice("a", 0)]}]),
        json!([{"id": "g", "name": "G", "min": 0, "max": 1}]),
        json!("spicy"),
    ];
    for options in bad {
        let r = admin
            .request(
                "menu_update",
                json!({"op": "upsert", "item": {"id": "bibimbap", "options": options}}),
            )
            .await;
        check_refused(&r, "invalid", "item.options");
    }
    let sauce = json!([group(
        "sauce",
        0,
        1,
        vec![choice("gochujang", 0), choice("soy", 50)]
    )]);
    let ack = admin
        .ok(
            "menu_update",
            json!({"op": "upsert", "item": {"id": "bibimbap", "options": sauce}}),
        )
        .await;
    assert_eq!(ack["item"]["options"], sauce, "replaces every group");
    let e = ann.next_of("menu_update").await;
    assert_eq!(e["data"]["item"]["options"], sauce);
    let menu = http_get(&relay.http_url("/api/menu"), None).await;
    let bibimbap = menu.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "bibimbap")
        .cloned()
        .unwrap();
    assert_eq!(bibimbap["options"], sauce);
    let r = ann
        .request(
            "order_quote",
            order(vec![line("bibimbap", 1, &[("spice", "hot")])]),
        )
        .await;
    check_refused(&r, "invalid", "items[0].options");
    let ack = admin
        .ok(
            "menu_update",
            json!({"op": "upsert", "item": {"id": "bibimbap", "price_cents": 1400}}),
        )
        .await;
    assert_eq!(
        ack["item"]["options"], sauce,
        "a patch without options keeps them"
    );
    let ack = admin
        .ok(
            "menu_update",
            json!({"op": "upsert", "item": {"id": "bibimbap", "options": []}}),
        )
        .await;
    assert_eq!(ack["item"]["options"], json!([]));
    relay.stop().await;
}

/// Quits with `q` and checks the program exits cleanly.
async fn quit(mut t: Term) {
    t.send_keys(&["q"]);
    let status = t.wait_exit(SCREEN_WAIT).await;
    assert!(status.success(), "{status:?}");
}

/// On the customer's screen: Bibimbap, "hot" and an extra egg in the
/// picker (the line price follows), paid by card at the quoted total; the
/// relay charged exactly that, and the crew's ticket shows both choices.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customers_choices_reach_the_crew_ticket() {
    let relay = TestRelay::start().await;
    let url = relay.ws_url();
    let homes: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
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
    let expo = Program::new(program_bin("kfood-crew"))
        .args([
            "--relay",
            &url,
            "--token",
            &token("expo-1", Role::Crew),
            "--no-bell",
        ])
        .home(homes[1].path())
        .log(&homes[1].path().join("kfood-crew.log"))
        .spawn();
    expo.wait_for(&["LIVE", "EXPO"], SCREEN_WAIT).await;
    customer
        .wait_for(&["Rice & Noodles", "Bibimbap", "live"], SCREEN_WAIT)
        .await;

    // The picker opens on the first spice level; hot, then the egg.
    customer.send_keys(&["Enter"]);
    customer
        .wait_for(
            &["Add Bibimbap", "Spice level", "Extras", "Enter: add $13.50"],
            SCREEN_WAIT,
        )
        .await;
    customer.send_keys(&["Down", "Down", "Space", "Down", "Space"]);
    customer
        .wait_for(&["(•) hot", "[x] egg", "Enter: add $15.00"], SCREEN_WAIT)
        .await;
    customer.send_keys(&["Enter"]);
    customer
        .wait_for(&["Added 1 x Bibimbap · hot · +egg"], SCREEN_WAIT)
        .await;
    customer.send_keys(&["2"]);
    customer
        .wait_for(&["Bibimbap · hot · +egg", "$15.00"], SCREEN_WAIT)
        .await;

    // The relay's quote is the total the card is charged.
    customer.send_keys(&["c"]);
    customer
        .wait_for(&["Checkout", "$15.00  priced by the relay"], SCREEN_WAIT)
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
    ]);
    customer.wait_for(&["Enter: pay $15.00"], SCREEN_WAIT).await;
    customer.send_keys(&["Enter"]);
    customer.wait_for(&["K-0001 placed"], SCREEN_WAIT).await;

    let admin = relay.connect("boss", Role::Admin).await;
    let order = &admin.snapshot.as_ref().unwrap()["data"]["orders"][0];
    assert_eq!(order["total_cents"], 1500, "{order}");
    assert_eq!(order["payment"]["amount_cents"], 1500, "{order}");
    assert_eq!(order["payment"]["status"], "paid", "{order}");

    expo.wait_for(&["K-0001", "1x Bibimbap", "hot · +egg"], SCREEN_WAIT)
        .await;
    for t in [expo, customer] {
        quit(t).await;
    }
    relay.stop().await;
}
