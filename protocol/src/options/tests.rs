//! Option groups, chosen options, pricing and labels (DESIGN §14).

use super::*;
use crate::menu::MenuItemPatch;

fn choice(id: &str, price_cents: i64) -> OptionChoice {
    OptionChoice {
        id: id.into(),
        name: id.into(),
        price_cents,
    }
}

fn group(id: &str, min: u32, max: u32, choices: Vec<OptionChoice>) -> OptionGroup {
    OptionGroup {
        id: id.into(),
        name: id.into(),
        min,
        max,
        choices,
    }
}

/// Bibimbap with a free spice level (0–1) and priced extras (0–2).
fn bibimbap() -> MenuItem {
    MenuItem {
        id: "bibimbap".into(),
        name: "Bibimbap".into(),
        category: "Rice".into(),
        description: String::new(),
        price_cents: 1350,
        available: true,
        prep_minutes: 12,
        station: "wok".into(),
        options: vec![
            group(
                "spice",
                0,
                1,
                vec![choice("mild", 0), choice("medium", 0), choice("hot", 0)],
            ),
            group(
                "extras",
                0,
                2,
                vec![choice("egg", 150), choice("rice", 100)],
            ),
        ],
    }
}

fn pick(pairs: &[(&str, &str)]) -> Vec<ChosenOption> {
    pairs
        .iter()
        .map(|(g, c)| ChosenOption {
            group: (*g).into(),
            choice: (*c).into(),
        })
        .collect()
}

fn field_of(r: Result<Vec<LineOption>, ProtocolError>) -> Option<String> {
    r.unwrap_err().field
}

/// Chosen options come back in menu order with names and prices, and the
/// unit price is the item's price plus theirs.
#[test]
fn choices_are_stored_in_menu_order_and_priced() {
    let item = bibimbap();
    let got = choose_options(
        &item,
        &pick(&[("extras", "rice"), ("extras", "egg"), ("spice", "hot")]),
        "items[0].options",
    )
    .unwrap();
    let ids: Vec<(&str, &str)> = got
        .iter()
        .map(|o| (o.group.as_str(), o.choice.as_str()))
        .collect();
    assert_eq!(
        ids,
        [("spice", "hot"), ("extras", "egg"), ("extras", "rice")]
    );
    assert_eq!(got[1].name, "egg");
    assert_eq!(got[1].price_cents, 150);
    assert_eq!(unit_price(item.price_cents, &got), 1350 + 150 + 100);
    assert_eq!(choose_options(&item, &[], "f").unwrap(), vec![]);
}

/// A required group (min ≥ 1) left out, or too many from one group, is
/// `invalid` on the line's field.
#[test]
fn group_counts_must_be_within_min_and_max() {
    let mut item = bibimbap();
    item.options[0].min = 1;
    let e = choose_options(&item, &pick(&[("extras", "egg")]), "items[2].options").unwrap_err();
    assert_eq!(e.code, crate::ErrorCode::Invalid);
    assert_eq!(e.field.as_deref(), Some("items[2].options"));
    assert!(e.message.contains("spice"), "{}", e.message);
    let too_many = pick(&[("spice", "hot"), ("spice", "mild")]);
    assert_eq!(
        field_of(choose_options(&item, &too_many, "items[0].options")).as_deref(),
        Some("items[0].options")
    );
    assert!(choose_options(&item, &pick(&[("spice", "mild")]), "f").is_ok());
}

/// Unknown group or choice ids, a choice twice, and any option on an item
/// without groups are all refused.
#[test]
fn unknown_ids_repeats_and_options_on_plain_items_are_refused() {
    let item = bibimbap();
    for bad in [
        pick(&[("sauce", "hot")]),
        pick(&[("spice", "volcanic")]),
        pick(&[("spice", "egg")]),
        pick(&[("extras", "egg"), ("extras", "egg")]),
    ] {
        assert_eq!(
            field_of(choose_options(&item, &bad, "items[0].options")).as_deref(),
            Some("items[0].options"),
            "{bad:?}"
        );
    }
    let plain = MenuItem {
        options: vec![],
        ..bibimbap()
    };
    assert!(choose_options(&plain, &pick(&[("spice", "hot")]), "f").is_err());
    assert!(choose_options(&plain, &[], "f").is_ok());
}

/// An id in an error message is cleaned of control characters and cut short.
#[test]
fn errors_quote_ids_safely() {
    let e = choose_options(
        &bibimbap(),
        &pick(&[("\x1b[31m".repeat(40).as_str(), "x")]),
        "f",
    )
    .unwrap_err();
    assert!(!e.message.contains('\x1b'));
    assert!(e.message.len() < 120, "{}", e.message);
}

fn groups_field(groups: &[OptionGroup]) -> Option<String> {
    checked_groups(groups).unwrap_err().field
}

/// Every upsert rule of §14 reports `item.options`: group and choice counts,
/// id shape and uniqueness, min/max bounds, prices and names.
#[test]
fn upsert_groups_are_validated() {
    assert!(checked_groups(&bibimbap().options).is_ok());
    let nine: Vec<OptionGroup> = (0..9)
        .map(|i| group(&format!("g{i}"), 0, 0, vec![]))
        .collect();
    let thirteen = group(
        "g",
        0,
        1,
        (0..13).map(|i| choice(&format!("c{i}"), 0)).collect(),
    );
    let cases: Vec<Vec<OptionGroup>> = vec![
        nine,
        vec![thirteen],
        vec![group("Spice", 0, 1, vec![choice("a", 0)])],
        vec![group(&"g".repeat(25), 0, 1, vec![choice("a", 0)])],
        vec![group("g", 0, 1, vec![choice("a b", 0)])],
        vec![group("g", 0, 1, vec![choice("a", 0), choice("a", 0)])],
        vec![group("g", 0, 1, vec![choice("g", 0)])],
        vec![
            group("g", 0, 1, vec![choice("a", 0)]),
            group("h", 0, 1, vec![choice("a", 0)]),
        ],
        vec![group("g", 2, 1, vec![choice("a", 0), choice("b", 0)])],
        vec![group("g", 0, 2, vec![choice("a", 0)])],
        vec![group("g", 0, 1, vec![choice("a", -1)])],
        vec![OptionGroup {
            name: "  ".into(),
            ..group("g", 0, 1, vec![choice("a", 0)])
        }],
        vec![group(
            "g",
            0,
            1,
            vec![OptionChoice {
                name: "n".repeat(65),
                ..choice("a", 0)
            }],
        )],
    ];
    for (i, c) in cases.iter().enumerate() {
        assert_eq!(
            groups_field(c).as_deref(),
            Some(ITEM_OPTIONS_FIELD),
            "case {i}"
        );
    }
    let max = group(
        "g",
        12,
        12,
        (0..12).map(|i| choice(&format!("c{i}"), 0)).collect(),
    );
    assert!(checked_groups(&[max]).is_ok());
}

/// Names are cleaned like other names, and an upsert's `options` replaces
/// every group while a patch without it keeps them.
#[test]
fn upsert_replaces_all_groups() {
    let named = OptionGroup {
        name: "Spice\x1b level".into(),
        ..group("spice", 0, 1, vec![choice("hot", 0)])
    };
    let patch = MenuItemPatch {
        id: "bibimbap".into(),
        options: Some(vec![named]),
        ..Default::default()
    };
    let out = patch.apply_to(&bibimbap()).unwrap();
    assert_eq!(out.options.len(), 1);
    assert_eq!(out.options[0].name, "Spice level");
    let keep = MenuItemPatch {
        id: "bibimbap".into(),
        price_cents: Some(1400),
        ..Default::default()
    };
    assert_eq!(
        keep.apply_to(&bibimbap()).unwrap().options,
        bibimbap().options
    );
    let clear = MenuItemPatch {
        id: "bibimbap".into(),
        options: Some(vec![]),
        ..Default::default()
    };
    assert!(clear.apply_to(&bibimbap()).unwrap().options.is_empty());
}

/// Items and lines always carry `options` on the wire, and older data
/// without it reads as none.
#[test]
fn options_are_always_serialised() {
    let mut item = bibimbap();
    item.options.clear();
    let v = serde_json::to_value(&item).unwrap();
    assert_eq!(v["options"], serde_json::json!([]));
    let mut old = v.clone();
    old.as_object_mut().unwrap().remove("options");
    let back: MenuItem = serde_json::from_value(old).unwrap();
    assert!(back.options.is_empty());
    let line = crate::order::tests_support::order(1, "c").lines[0].clone();
    assert_eq!(
        serde_json::to_value(&line).unwrap()["options"],
        serde_json::json!([])
    );
}

/// Free choices read by name, priced ones with "+", joined by " · ".
#[test]
fn labels_are_compact() {
    let item = bibimbap();
    let opts = choose_options(&item, &pick(&[("spice", "hot"), ("extras", "egg")]), "f").unwrap();
    assert_eq!(options_label(&opts), "hot · +egg");
    assert_eq!(line_label("Bibimbap", &opts), "Bibimbap · hot · +egg");
    assert_eq!(line_label("Bibimbap", &[]), "Bibimbap");
    assert_eq!(options_label(&[]), "");
    assert_eq!(
        line_label_with("Bibimbap", &opts, " - "),
        "Bibimbap - hot - +egg"
    );
}

/// Group requirements read plainly for the picker.
#[test]
fn count_messages() {
    assert_eq!(
        count_message(&group("Size", 1, 1, vec![])),
        "Size: choose 1"
    );
    assert_eq!(
        count_message(&group("Extras", 0, 2, vec![])),
        "Extras: choose at most 2"
    );
    assert_eq!(
        count_message(&group("Sides", 1, 3, vec![])),
        "Sides: choose 1 to 3"
    );
}

/// A wrong type inside the options names the options field itself.
#[test]
fn malformed_options_name_the_options_field() {
    use crate::{Envelope, Request};
    let env = Envelope::new(
        "menu_update",
        serde_json::json!({"op": "upsert", "item": {"id": "x", "options": [{"id": "g",
            "name": "G", "min": -1, "max": 1, "choices": []}]}}),
    );
    let e = Request::from_envelope(&env).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("item.options"));
    let env = Envelope::new(
        "order_quote",
        serde_json::json!({"items": [{"item_id": "x", "qty": 1, "options": [{"group": 3}]}],
            "fulfillment": {"kind": "pickup"}}),
    );
    let e = Request::from_envelope(&env).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("items[0].options"));
    let env = Envelope::new(
        "order_quote",
        serde_json::json!({"items": [{"item_id": "x", "qty": 1, "options": "hot"}],
            "fulfillment": {"kind": "pickup"}}),
    );
    let e = Request::from_envelope(&env).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("items[0].options"));
}
