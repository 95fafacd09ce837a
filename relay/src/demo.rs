//! `--demo`: a Korean menu and three demo accounts, nothing else.

use kfood_protocol::menu::MenuItem;
use kfood_protocol::options::{OptionChoice, OptionGroup};
use kfood_protocol::Role;

/// Demo accounts: username, display name, role, password. Printed at start.
pub const ACCOUNTS: [(&str, &str, Role, &str); 3] = [
    ("admin", "Demo Admin", Role::Admin, "kfood-admin-demo"),
    ("crew", "Demo Crew", Role::Crew, "kfood-crew-demo"),
    (
        "customer",
        "Demo Customer",
        Role::Customer,
        "kfood-customer-demo",
    ),
];

/// The demo menu in display order: id, name, category, description, price
/// in cents, prep minutes, and the station that makes it (DESIGN §13: the
/// demo menu spreads over `grill`, `wok`, `cold` and `drinks`).
type DemoItem = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    u32,
    &'static str,
);

const MENU: &[DemoItem] = &[
    (
        "bibimbap",
        "Bibimbap",
        "Rice & Noodles",
        "Rice, seasoned vegetables, beef, fried egg, gochujang",
        1350,
        12,
        "wok",
    ),
    (
        "dolsot-bibimbap",
        "Dolsot Bibimbap",
        "Rice & Noodles",
        "Bibimbap in a sizzling stone bowl",
        1550,
        15,
        "wok",
    ),
    (
        "japchae",
        "Japchae",
        "Rice & Noodles",
        "Glass noodles stir-fried with vegetables and beef",
        1250,
        10,
        "wok",
    ),
    (
        "naengmyeon",
        "Mul Naengmyeon",
        "Rice & Noodles",
        "Cold buckwheat noodles in chilled beef broth",
        1300,
        8,
        "cold",
    ),
    (
        "bulgogi",
        "Bulgogi",
        "Grill",
        "Marinated grilled beef with rice and lettuce wraps",
        1800,
        15,
        "grill",
    ),
    (
        "galbi",
        "LA Galbi",
        "Grill",
        "Grilled marinated short ribs",
        2400,
        18,
        "grill",
    ),
    (
        "dakgalbi",
        "Dakgalbi",
        "Grill",
        "Spicy stir-fried chicken with rice cakes and cabbage",
        1600,
        14,
        "grill",
    ),
    (
        "kimchi-jjigae",
        "Kimchi Jjigae",
        "Soups & Stews",
        "Kimchi stew with pork and tofu, served with rice",
        1200,
        12,
        "wok",
    ),
    (
        "sundubu",
        "Sundubu Jjigae",
        "Soups & Stews",
        "Soft tofu stew with seafood and egg",
        1250,
        12,
        "wok",
    ),
    (
        "doenjang-jjigae",
        "Doenjang Jjigae",
        "Soups & Stews",
        "Soybean paste stew with zucchini and tofu",
        1150,
        12,
        "wok",
    ),
    (
        "tteokbokki",
        "Tteokbokki",
        "Street Food",
        "Rice cakes in sweet and spicy gochujang sauce",
        900,
        8,
        "wok",
    ),
    (
        "kimbap",
        "Kimbap",
        "Street Food",
        "Seaweed rice rolls with vegetables and egg",
        800,
        6,
        "cold",
    ),
    (
        "mandu",
        "Mandu (6)",
        "Street Food",
        "Pan-fried pork and vegetable dumplings",
        850,
        9,
        "grill",
    ),
    (
        "haemul-pajeon",
        "Haemul Pajeon",
        "Street Food",
        "Seafood and scallion pancake",
        1400,
        12,
        "grill",
    ),
    (
        "yakgwa",
        "Yakgwa",
        "Drinks & Dessert",
        "Honey cookies",
        500,
        1,
        "cold",
    ),
    (
        "sikhye",
        "Sikhye",
        "Drinks & Dessert",
        "Sweet rice punch",
        400,
        1,
        "drinks",
    ),
    (
        "barley-tea",
        "Barley Tea",
        "Drinks & Dessert",
        "Roasted barley tea, hot or iced",
        250,
        1,
        "drinks",
    ),
];

pub fn menu() -> Vec<MenuItem> {
    MENU.iter()
        .map(
            |&(id, name, category, description, price_cents, prep_minutes, station)| MenuItem {
                id: id.into(),
                name: name.into(),
                category: category.into(),
                description: description.into(),
                price_cents,
                available: true,
                prep_minutes,
                station: station.into(),
                options: options_for(id),
            },
        )
        .collect()
}

/// Items with a spice level to choose (DESIGN §14: `min` 0, `max` 1, free).
const SPICED: &[&str] = &[
    "bibimbap",
    "dolsot-bibimbap",
    "dakgalbi",
    "kimchi-jjigae",
    "sundubu",
    "tteokbokki",
];

/// A priced extra: its id (also its name, as tickets print it) and price in
/// cents.
type Extra = (&'static str, i64);

/// Priced extras per item. Any number of them may be added; none is
/// required.
const EXTRAS: &[(&str, &[Extra])] = &[
    ("bibimbap", &[("egg", 150), ("rice", 100), ("tofu", 200)]),
    ("dolsot-bibimbap", &[("egg", 150), ("rice", 100)]),
    ("bulgogi", &[("rice", 100), ("kimchi", 150)]),
    ("galbi", &[("rice", 100)]),
    ("dakgalbi", &[("cheese", 250), ("noodles", 200)]),
    ("tteokbokki", &[("cheese", 200), ("egg", 150)]),
];

/// The demo's option groups of item `id`: a spice level and/or extras.
fn options_for(id: &str) -> Vec<OptionGroup> {
    let mut groups = Vec::new();
    if SPICED.contains(&id) {
        groups.push(OptionGroup {
            id: "spice".into(),
            name: "Spice level".into(),
            min: 0,
            max: 1,
            choices: ["mild", "medium", "hot"]
                .iter()
                .map(|c| OptionChoice {
                    id: (*c).into(),
                    name: (*c).into(),
                    price_cents: 0,
                })
                .collect(),
        });
    }
    if let Some((_, extras)) = EXTRAS.iter().find(|(item, _)| *item == id) {
        groups.push(OptionGroup {
            id: "extras".into(),
            name: "Extras".into(),
            min: 0,
            max: extras.len() as u32,
            choices: extras
                .iter()
                .map(|&(id, price_cents)| OptionChoice {
                    id: id.into(),
                    name: id.into(),
                    price_cents,
                })
                .collect(),
        });
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use kfood_protocol::options::checked_groups;

    /// Every demo item's option groups pass the upsert check, none is
    /// required, and both kinds of group are there (DESIGN §14).
    #[test]
    fn demo_options_are_valid_and_optional() {
        let menu = menu();
        for item in &menu {
            assert_eq!(
                checked_groups(&item.options).unwrap(),
                item.options,
                "{}",
                item.id
            );
            assert!(item.options.iter().all(|g| !g.is_required()), "{}", item.id);
        }
        let bibimbap = menu.iter().find(|i| i.id == "bibimbap").unwrap();
        let ids: Vec<&str> = bibimbap.options.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(ids, ["spice", "extras"]);
    }
}
