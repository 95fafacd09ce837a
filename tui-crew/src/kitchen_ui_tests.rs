//! The kitchen's screens (DESIGN §13) as the cooks see them: a station
//! screen and the expo at 80×24 and 120×40, the recall list and the note
//! prompt, with colour and without.

use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui::Terminal;

use crate::app::*;
use crate::testutil::*;
use crate::ui::render;

fn draw(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(app, f)).unwrap();
    t
}

fn text(t: &Terminal<TestBackend>) -> String {
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

#[track_caller]
fn lacks(s: &str, words: &[&str]) {
    for w in words {
        assert!(!s.contains(w), "{w:?} should not show:\n{s}");
    }
}

/// The grill screen at 80×24: its lines only (`[ ] 1x Bulgogi`), the rest
/// as "+N other", the selected line pointed at, the station in the status
/// bar; tickets without an open grill line are not there.
#[test]
fn station_80x24() {
    let app = stations_kitchen(&["grill"]);
    let t = draw(&app, 80, 24);
    insta::assert_snapshot!(t.backend());
    let s = text(&t);
    has(
        &s,
        &[
            "GRILL 2  2 to do",
            "K-0002",
            "▶[ ] 2x LA Galbi",
            "> well done",
            "+2 other",
            "K-0001",
            "[ ] 1x Bulgogi",
            "+1 other",
            "STATION grill",
            "Enter line done",
        ],
    );
    lacks(&s, &["K-0003", "K-0004", "K-0005", "Soju", "Japchae"]);
}

/// Two stations on one screen at 120×40, after marking a line: the marked
/// line reads `[x]` until the ticket has no open line left; the all-day
/// panel counts the two stations' open lines.
#[test]
fn station_120x40_two_stations() {
    let mut app = stations_kitchen(&["grill", "drinks"]);
    app.update(Action::MarkLine);
    app.update(Action::ToggleAllDay);
    let t = draw(&app, 120, 40);
    insta::assert_snapshot!(t.backend());
    let s = text(&t);
    has(
        &s,
        &[
            "GRILL,DRINKS 2",
            "[x] 2x LA Galbi",
            "▶[ ] 1x Cider",
            "+1 other",
            "[ ] 1x Bulgogi",
            "[ ] 2x Soju",
            "STATION grill,drinks",
            "sending...",
            "ALL DAY grill,drinks",
            "  2 Soju",
            "  1 Cider",
        ],
    );
}

/// The expo at 80×24: whole tickets, each line `[x]` or `[ ]`, `ALL DONE`
/// on the ticket whose lines are all done.
#[test]
fn expo_80x24() {
    let app = stations_kitchen(&[]);
    let t = draw(&app, 80, 24);
    insta::assert_snapshot!(t.backend());
    let s = text(&t);
    has(
        &s,
        &[
            "[ ] 1x Bulgogi",
            "[x] 1x Japchae",
            "[ ] 2x LA Galbi",
            "[x] 1x Bulgogi",
            "ALL DONE",
            "EXPO",
        ],
    );
}

/// The expo at 120×40, and the detail: each line's station, and who marked
/// it done and when.
#[test]
fn expo_120x40_and_detail() {
    let mut app = stations_kitchen(&[]);
    let t = draw(&app, 120, 40);
    insta::assert_snapshot!("expo_120x40", t.backend());
    has(&text(&t), &["ALL DONE", "[x] 2x Bulgogi", "[x] 1x Soju"]);
    app.selected = Some(2);
    app.update(Action::ToggleDetail);
    let t = draw(&app, 120, 40);
    insta::assert_snapshot!("expo_detail_120x40", t.backend());
    has(
        &text(&t),
        &[
            "Items (1 of 3 done)",
            "[x] 1x Japchae  wok  done 10:03:00 Line cook 2",
            "[ ] 2x LA Galbi  grill",
            "[ ] 1x Cider  drinks",
        ],
    );
}

/// The recall list at 80×24: newest first, what each goes back to.
#[test]
fn recall_list_80x24() {
    let now = T0 + 20 * MIN;
    let mut app = app_with(&[
        order(
            1,
            kfood_protocol::OrderStatus::Delivered,
            now - 8 * MIN,
            &[("Bibimbap", 2, "")],
        ),
        order(
            2,
            kfood_protocol::OrderStatus::Ready,
            now - 4 * MIN,
            &[("Japchae", 1, "")],
        ),
        order(
            3,
            kfood_protocol::OrderStatus::Ready,
            now - 30 * MIN,
            &[("Bulgogi", 1, "")],
        ),
    ]);
    app.now = now;
    app.update(Action::RecallList);
    let t = draw(&app, 80, 24);
    insta::assert_snapshot!(t.backend());
    let s = text(&t);
    has(
        &s,
        &[
            "Recall: bumped in the last 15 min",
            "▶K-0002  READY",
            "-> PREPARING",
            "K-0001  DELIVERED",
            "-> READY",
            "Enter recall one status back",
        ],
    );
    lacks(&s, &["K-0003  READY"]);
    let empty = {
        let mut a = app_with(&[]);
        a.update(Action::RecallList);
        text(&draw(&a, 80, 24))
    };
    has(&empty, &["Nothing bumped in the last 15 minutes."]);
}

/// The note prompt at 80×24, with what was typed and the count.
#[test]
fn note_prompt_80x24() {
    let mut app = stations_kitchen(&[]);
    app.update(Action::Note);
    for c in "out of soju".chars() {
        app.update(Action::Input(c));
    }
    let t = draw(&app, 80, 24);
    insta::assert_snapshot!(t.backend());
    has(
        &text(&t),
        &[
            "Kitchen note for K-0001",
            "out of soju_",
            "11/200 characters",
            "Enter: send",
        ],
    );
}

/// With `NO_COLOR` and `--ascii` a station screen and the expo still say
/// everything in plain ASCII text.
#[test]
fn kitchen_no_color_and_ascii() {
    for stations in [&["grill"][..], &[][..]] {
        let mut app = stations_kitchen(stations);
        app.settings.color = false;
        app.settings.ascii = true;
        let t = draw(&app, 80, 24);
        let buf = t.backend().buffer();
        for cell in buf.content() {
            assert_eq!(cell.fg, Color::Reset, "colour at {cell:?}");
            assert_eq!(cell.bg, Color::Reset, "colour at {cell:?}");
        }
        let s = text(&t);
        assert!(s.is_ascii(), "non-ASCII glyph:\n{s}");
        if stations.is_empty() {
            has(&s, &["ALL DONE", "[x] 1x Japchae", "EXPO"]);
        } else {
            has(&s, &[">[ ] 2x LA Galbi", "STATION grill"]);
        }
    }
}

/// A station with nothing to make says so.
#[test]
fn empty_station() {
    let app = stations_kitchen(&["cold", "bar"]);
    let s = text(&draw(&app, 80, 24));
    has(&s, &["[ ] 1x Kimchi"]);
    let app = stations_kitchen(&["bar"]);
    let s = text(&draw(&app, 80, 24));
    has(&s, &["Nothing to make for bar. New lines appear here."]);
}

/// More tickets than fit go on pages: the header says which, and the page
/// with the selected line is the one shown.
#[test]
fn station_pages_follow_the_selection() {
    let now = T0 + 5 * MIN;
    let orders: Vec<_> = (1..=12)
        .map(|i| {
            at_stations(
                order(
                    i,
                    kfood_protocol::OrderStatus::Pending,
                    now - 30 * MIN + i as i64 * MIN,
                    &[("Bulgogi", 1, "extra"), ("Mandu", 2, ""), ("Soju", 1, "")],
                ),
                &["grill", "grill", "drinks"],
            )
        })
        .collect();
    let mut app = app_with(&orders);
    app.settings.stations = vec!["grill".into()];
    app.update(Action::First);
    let s = text(&draw(&app, 80, 24));
    has(&s, &["GRILL 12  24 to do  page 1/", "▶K-0001", "K-0003"]);
    lacks(&s, &["K-0012"]);
    app.update(Action::Last);
    let s = text(&draw(&app, 80, 24));
    has(&s, &["▶K-0012", "▶[ ] 2x Mandu"]);
    lacks(&s, &["K-0001─", "K-0001━", "page 1/"]);
}

/// `?` on a station screen lists its own keys, whole, at 80×24.
#[test]
fn station_help_80x24() {
    let mut app = stations_kitchen(&["grill"]);
    app.update(Action::Help);
    let s = text(&draw(&app, 80, 24));
    has(
        &s,
        &[
            "mark the selected line done",
            "clear the last line marked here",
            "recall the ticket one status back",
            "recall list",
            "kitchen note",
            "this station's items",
            "q / Ctrl-C",
            "any key closes",
        ],
    );
}
