//! `--demo`: a Korean menu and three demo accounts, nothing else.

use kfood_protocol::menu::MenuItem;
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

/// The station that makes each demo item (DESIGN §13: the demo menu spreads
/// over `grill`, `wok`, `cold` and `drinks`).
fn station_of(id: &str) -> &'static str {
    match id {
        "bulgogi" | "galbi" | "dakgalbi" | "mandu" | "haemul-pajeon" => "grill",
        "naengmyeon" | "kimbap" | "yakgwa" => "cold",
        "sikhye" | "barley-tea" => "drinks",
        _ => "wok",
    }
}

pub fn menu() -> Vec<MenuItem> {
    let item = |id: &str,
                name: &str,
                category: &str,
                description: &str,
                price_cents: i64,
                prep_minutes: u32| MenuItem {
        id: id.into(),
        name: name.into(),
        category: category.into(),
        description: description.into(),
        price_cents,
        available: true,
        prep_minutes,
        station: station_of(id).into(),
    };
    vec![
        item(
            "bibimbap",
            "Bibimbap",
            "Rice & Noodles",
            "Rice, seasoned vegetables, beef, fried egg, gochujang",
            1350,
            12,
        ),
        item(
            "dolsot-bibimbap",
            "Dolsot Bibimbap",
            "Rice & Noodles",
            "Bibimbap in a sizzling stone bowl",
            1550,
            15,
        ),
        item(
            "japchae",
            "Japchae",
            "Rice & Noodles",
            "Glass noodles stir-fried with vegetables and beef",
            1250,
            10,
        ),
        item(
            "naengmyeon",
            "Mul Naengmyeon",
            "Rice & Noodles",
            "Cold buckwheat noodles in chilled beef broth",
            1300,
            8,
        ),
        item(
            "bulgogi",
            "Bulgogi",
            "Grill",
            "Marinated grilled beef with rice and lettuce wraps",
            1800,
            15,
        ),
        item(
            "galbi",
            "LA Galbi",
            "Grill",
            "Grilled marinated short ribs",
            2400,
            18,
        ),
        item(
            "dakgalbi",
            "Dakgalbi",
            "Grill",
            "Spicy stir-fried chicken with rice cakes and cabbage",
            1600,
            14,
        ),
        item(
            "kimchi-jjigae",
            "Kimchi Jjigae",
            "Soups & Stews",
            "Kimchi stew with pork and tofu, served with rice",
            1200,
            12,
        ),
        item(
            "sundubu",
            "Sundubu Jjigae",
            "Soups & Stews",
            "Soft tofu stew with seafood and egg",
            1250,
            12,
        ),
        item(
            "doenjang-jjigae",
            "Doenjang Jjigae",
            "Soups & Stews",
            "Soybean paste stew with zucchini and tofu",
            1150,
            12,
        ),
        item(
            "tteokbokki",
            "Tteokbokki",
            "Street Food",
            "Rice cakes in sweet and spicy gochujang sauce",
            900,
            8,
        ),
        item(
            "kimbap",
            "Kimbap",
            "Street Food",
            "Seaweed rice rolls with vegetables and egg",
            800,
            6,
        ),
        item(
            "mandu",
            "Mandu (6)",
            "Street Food",
            "Pan-fried pork and vegetable dumplings",
            850,
            9,
        ),
        item(
            "haemul-pajeon",
            "Haemul Pajeon",
            "Street Food",
            "Seafood and scallion pancake",
            1400,
            12,
        ),
        item(
            "yakgwa",
            "Yakgwa",
            "Drinks & Dessert",
            "Honey cookies",
            500,
            1,
        ),
        item(
            "sikhye",
            "Sikhye",
            "Drinks & Dessert",
            "Sweet rice punch",
            400,
            1,
        ),
        item(
            "barley-tea",
            "Barley Tea",
            "Drinks & Dessert",
            "Roasted barley tea, hot or iced",
            250,
            1,
        ),
    ]
}
