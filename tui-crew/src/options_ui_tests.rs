//! Ticket lines with their chosen options (DESIGN §14) on every screen that
//! shows lines: the expo, a station screen, the detail and the recall list,
//! at 80×24.

use kfood_protocol::options::LineOption;
use kfood_protocol::order::Order;
use kfood_protocol::OrderStatus::{Pending, Ready};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use crate::app::*;
use crate::testutil::*;
use crate::ui::render;

fn terminal(app: &App) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| render(app, f)).unwrap();
    t
}

fn draw(app: &App) -> String {
    let t = terminal(app);
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

#[track_caller]
fn has(s: &str, words: &[&str]) {
    for w in words {
        assert!(s.contains(w), "{w:?} missing:\n{s}");
    }
}

fn opt(group: &str, name: &str, price_cents: i64) -> LineOption {
    LineOption {
        group: group.into(),
        choice: name.into(),
        name: name.into(),
        price_cents,
    }
}

/// K-0001 pending: a Bibimbap "hot" with an extra egg at the wok, and a
/// plain Japchae; K-0002 ready: a Tteokbokki "mild" with extra cheese.
fn orders() -> Vec<Order> {
    let now = T0 + 5 * MIN;
    let mut one = at_stations(
        order(
            1,
            Pending,
            now - 2 * MIN,
            &[("Bibimbap", 1, ""), ("Japchae", 1, "")],
        ),
        &["wok", "wok"],
    );
    one.lines[0].options = vec![opt("spice", "hot", 0), opt("extras", "egg", 150)];
    let mut two = at_stations(
        order(2, Ready, now - 6 * MIN, &[("Tteokbokki", 2, "")]),
        &["wok"],
    );
    two.lines[0].options = vec![opt("spice", "mild", 0), opt("extras", "cheese", 200)];
    vec![one, two]
}

/// The expo's narrow columns keep every choice: the name on its row, the
/// choices under it (free by name, priced with "+").
#[test]
fn expo_lines_show_choices() {
    let app = app_with(&orders());
    insta::assert_snapshot!("expo_with_options_80x24", terminal(&app).backend());
    let s = draw(&app);
    has(
        &s,
        &[
            "1x Bibimbap",
            "· hot · +egg",
            "1x Japchae",
            "· mild · +cheese",
        ],
    );
}

/// A station screen shows its lines' choices too.
#[test]
fn station_lines_show_choices() {
    let mut app = app_with(&[]);
    app.settings.stations = vec!["wok".into()];
    app.handle(snapshot(&orders()));
    insta::assert_snapshot!("station_with_options_80x24", terminal(&app).backend());
    let s = draw(&app);
    has(&s, &["1x Bibimbap", "hot · +egg"]);
}

/// The detail reads each line whole: "1x Bibimbap · hot · +egg".
#[test]
fn detail_shows_the_whole_label() {
    let mut app = app_with(&orders());
    app.selected = Some(1);
    app.update(Action::ToggleDetail);
    let s = draw(&app);
    has(&s, &["1x Bibimbap · hot · +egg", "1x Japchae"]);
}

/// The recall list names a bumped order's lines with their choices, as far
/// as its one row per order goes.
#[test]
fn recall_list_shows_choices() {
    let mut app = app_with(&orders());
    app.update(Action::RecallList);
    let s = draw(&app);
    has(&s, &["2x Tteokbokki · mild"]);
}
