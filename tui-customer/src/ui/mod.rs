//! Drawing: a pure function of [`App`]. Every state shown by colour is also
//! written out (`86`, `stale`, `READY`, `offline`) so the screen reads
//! without colour and in a plain capture. Text from the relay is cleaned of
//! control characters here, right before it is drawn.
//!
//! This file draws the frame around the screens (tabs, message line,
//! status bar, help and prompts); each screen has its own file.

mod cart;
mod menu;
mod notices;
mod orders;
mod picker;

use kfood_protocol::sanitize::{clean_line, clean_text};
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;
use time::UtcOffset;

use kfood_protocol::term::status::{self, Tone};
use kfood_protocol::term::{fmt, small, Theme};

use crate::app::{App, Level, Overlay, Screen};
use crate::keys::{HELP, TEST_CARDS};

/// How to draw, fixed at start: colour and glyphs (the shared [`Theme`],
/// whose styles it lends), the local time zone.
#[derive(Debug, Clone, Copy)]
pub struct View {
    pub theme: Theme,
    pub utc_offset: UtcOffset,
}

impl Default for View {
    fn default() -> Self {
        View {
            theme: Theme::default(),
            utc_offset: UtcOffset::UTC,
        }
    }
}

impl std::ops::Deref for View {
    type Target = Theme;
    fn deref(&self) -> &Theme {
        &self.theme
    }
}

impl View {
    /// The selection mark and its space.
    pub(crate) fn sel(&self) -> &'static str {
        if self.ascii {
            "> "
        } else {
            "▶ "
        }
    }
}

/// Multi-line text from the network on one line.
pub fn one_line(s: &str) -> String {
    clean_text(s).replace(['\n', '\t'], " ")
}

pub use kfood_protocol::term::fmt::{clock, money};

pub(crate) fn clock_of(s: &str, view: &View) -> String {
    fmt::clock_of(s, view.utc_offset)
}

pub fn render(app: &App, view: &View, frame: &mut Frame) {
    if small::guard(frame) {
        return;
    }
    // A long message gets a second line rather than being cut off.
    let flash_rows = match &app.flash {
        Some(f) if f.text.chars().count() + 1 > usize::from(frame.area().width) => 2,
        _ => 1,
    };
    let paused = paused_banner(app, view);
    let [head, banner, body, flash, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(paused.is_some())),
        Constraint::Min(5),
        Constraint::Length(flash_rows),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    render_tabs(app, view, frame, head);
    if let Some(line) = paused {
        frame.render_widget(line, banner);
    }
    match &app.overlay {
        Overlay::Checkout(form) => cart::render_checkout(app, view, form, frame, body),
        _ => match app.screen {
            Screen::Menu => menu::render_menu(app, view, frame, body),
            Screen::Cart => cart::render_cart(app, view, frame, body),
            Screen::Orders => orders::render_orders(app, view, frame, body),
            Screen::Notifications => notices::render_notices(app, view, frame, body),
        },
    }
    render_flash(app, view, frame, flash);
    render_status(app, view, frame, status);
    match &app.overlay {
        Overlay::Help => render_help(view, frame, frame.area()),
        Overlay::AddItem {
            item_id,
            qty,
            note,
            focus,
            chosen,
            problem,
            ..
        } => {
            let form = picker::AddForm {
                item_id,
                qty: *qty,
                note,
                focus: *focus,
                chosen,
                problem: problem.as_deref(),
            };
            picker::render_add(app, view, frame, body, &form)
        }
        Overlay::EditNote { line, note } => {
            let name = app
                .cart
                .get(*line)
                .map(|l| clean_line(&app.line_name(&l.item_id)))
                .unwrap_or_default();
            let title = format!("Note for {name}");
            let help = "Enter: save  Esc: cancel";
            render_prompt(view, frame, body, &title, "Note", note, help);
        }
        Overlay::Cancel { order_id, reason } => {
            let title = format!("Cancel {}?", code_of(app, *order_id));
            let help = "Enter: cancel the order  Esc: keep it";
            render_prompt(view, frame, body, &title, "Reason", reason, help);
        }
        Overlay::Modify {
            order_id,
            instructions,
        } => {
            let title = format!("Instructions for {}", code_of(app, *order_id));
            let help = "Enter: send to the kitchen  Esc: cancel";
            render_prompt(view, frame, body, &title, "Text", instructions, help);
        }
        _ => {}
    }
}

fn code_of(app: &App, id: u64) -> String {
    clean_line(&app.code_of(id))
}

fn render_tabs(app: &App, view: &View, frame: &mut Frame, area: Rect) {
    let mut spans = vec![Span::styled(" KfoodDelights ", view.bold())];
    for (i, s) in Screen::ALL.iter().enumerate() {
        let count = match s {
            Screen::Cart if app.cart_count() > 0 => format!(" ({})", app.cart_count()),
            Screen::Orders if app.open_orders() > 0 => format!(" ({})", app.open_orders()),
            Screen::Notifications if app.unread() > 0 => format!(" ({} new)", app.unread()),
            _ => String::new(),
        };
        let label = format!("{} {}{}", i + 1, s.title(), count);
        if *s == app.screen {
            spans.push(Span::styled(format!("[{label}]"), view.selected()));
        } else {
            spans.push(Span::raw(format!(" {label} ")));
        }
    }
    let used: usize = spans.iter().map(|s| s.width()).sum();
    if used + 8 <= usize::from(area.width) {
        spans.push(Span::styled("  ? keys", view.dim()));
    }
    frame.render_widget(Line::from(spans), area);
}

/// The line shown while the restaurant has paused online ordering
/// (DESIGN §14): the cart stays usable, placing is refused by the relay.
fn paused_banner(app: &App, view: &View) -> Option<Line<'static>> {
    let cap = &app.model.capacity;
    if !cap.is_paused_at(app.now_ms) {
        return None;
    }
    let until = cap
        .paused_until
        .as_deref()
        .and_then(kfood_protocol::time::parse_ms)
        .map(|t| format!(" until {}", fmt::day_clock(t, app.now_ms, view.utc_offset)))
        .unwrap_or_default();
    Some(Line::styled(
        format!(" ORDERING PAUSED{until}: you can still browse and fill your cart "),
        view.warn()
            .add_modifier(Modifier::BOLD | Modifier::REVERSED),
    ))
}

pub(crate) fn stale_mark(app: &App) -> &'static str {
    if app.stale() {
        " [stale]"
    } else {
        ""
    }
}

fn render_flash(app: &App, view: &View, frame: &mut Frame, area: Rect) {
    let Some(f) = &app.flash else {
        return;
    };
    let style = match f.level {
        Level::Info => Style::new(),
        Level::Good => view.good(),
        Level::Error => view.bad(),
        Level::Ready => view
            .good()
            .add_modifier(Modifier::BOLD | Modifier::REVERSED),
    };
    frame.render_widget(
        Paragraph::new(format!(" {}", clean_line(&f.text)))
            .style(style)
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn render_status(app: &App, view: &View, frame: &mut Frame, area: Rect) {
    let conn = status::conn_text(&app.conn);
    let style = match status::conn_tone(&app.conn) {
        Tone::Good => view.good(),
        Tone::Warn => view.warn(),
        Tone::Bad => view.bad(),
    };
    let user = app
        .user
        .as_ref()
        .map(|u| clean_line(&u.name))
        .unwrap_or_else(|| "-".into());
    let mut spans = vec![
        Span::styled(format!(" {conn} "), style.add_modifier(Modifier::REVERSED)),
        Span::raw(format!(" {user} {} {}", view.dot(), clean_line(&app.relay))),
    ];
    if app.unread() > 0 {
        spans.push(Span::styled(
            format!(" {} {} unread", view.dot(), app.unread()),
            view.warn(),
        ));
    }
    frame.render_widget(Line::from(spans), area);
}

pub(crate) fn popup(area: Rect, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [h] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    h
}

fn render_help(view: &View, frame: &mut Frame, area: Rect) {
    let mut lines: Vec<Line> = Vec::new();
    for (keys, what) in HELP {
        if what.is_empty() {
            lines.push(Line::styled(keys.to_string(), view.bold()));
        } else {
            lines.push(Line::from(format!("  {keys:<16}{what}")));
        }
    }
    lines.push(Line::styled(
        "Test cards (any future expiry, any CVC)",
        view.bold(),
    ));
    for (card, result) in TEST_CARDS {
        lines.push(Line::from(format!("  {card}  {result}")));
    }
    let height = lines.len() as u16 + 2;
    let area = popup(area, 80, height);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(view.block("Keys (any key closes)")),
        area,
    );
}

fn render_prompt(
    view: &View,
    frame: &mut Frame,
    area: Rect,
    title: &str,
    label: &str,
    text: &str,
    help: &str,
) {
    let area = popup(area, 66, 6);
    frame.render_widget(Clear, area);
    let lines = vec![
        Line::from(""),
        Line::from(format!("{label}: {text}_")),
        Line::from(""),
        Line::styled(help.to_owned(), view.dim()),
    ];
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(view.block(title.to_owned())),
        area,
    );
}
