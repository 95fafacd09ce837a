//! Drawing the board: a pure function of [`App`]. Every state shown by
//! colour is also written in words (`LATE`, `WARN`, `86`, `stale`,
//! `CANCELLED`, `[x]`, `ALL DONE`), so the screen reads the same with
//! `NO_COLOR` and in a plain capture.
//!
//! [`expo`] draws the expo's columns, [`station`] a station screen's lines,
//! [`panels`] the side panels, [`overlays`] the detail and prompts,
//! [`recall`] the recall list, [`later`] orders for later and the pause;
//! [`text`] fits text into narrow columns.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use text::trunc;

use kfood_protocol::term::status::{self, Tone};
use kfood_protocol::term::{small, Theme};

use crate::app::{App, Mode, Screen, Urgency};

mod expo;
mod later;
mod overlays;
mod panels;
mod recall;
mod station;
pub mod text;

pub use text::fmt_age;

/// Narrowest column worth drawing; narrower boards show fewer columns.
const MIN_COLUMN_WIDTH: u16 = 16;

/// Styles and glyphs, honouring `NO_COLOR` and `--ascii`.
fn theme(app: &App) -> Theme {
    Theme {
        color: app.settings.color,
        ascii: app.settings.ascii,
    }
}

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame) {
    if small::guard(frame) {
        return;
    }
    let th = theme(app);
    let area = frame.area();
    let banner = banner_lines(app, &th, area.width as usize);
    let later = if app.synced {
        later::later_line(app, &th)
    } else {
        None
    };
    let [top, main, later_row, hint, status] = Layout::vertical([
        Constraint::Length(banner.len() as u16),
        Constraint::Min(3),
        Constraint::Length(u16::from(later.is_some())),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(banner), top);
    if let Some(line) = later {
        frame.render_widget(Paragraph::new(line), later_row);
    }

    let panel_w = if area.width >= 120 { 32 } else { 26 };
    let side = app.show_all_day || app.show_menu;
    let (board_area, panel_area) = if side && main.width >= panel_w + MIN_COLUMN_WIDTH {
        let [b, p] = Layout::horizontal([
            Constraint::Min(MIN_COLUMN_WIDTH),
            Constraint::Length(panel_w),
        ])
        .areas(main);
        (b, Some(p))
    } else {
        (main, None)
    };
    match app.screen() {
        Screen::Expo => expo::render_board(app, &th, frame, board_area),
        Screen::Station => station::render_station(app, &th, frame, board_area),
    }
    if let Some(p) = panel_area {
        panels::render_panels(app, &th, frame, p);
    }
    frame.render_widget(Paragraph::new(hint_line(app, &th)), hint);
    frame.render_widget(Paragraph::new(status_line(app, &th)), status);
    render_overlay(app, &th, frame, area);
}

/// The overlay of the mode, over the board.
fn render_overlay(app: &App, th: &Theme, frame: &mut Frame, area: Rect) {
    let ticket = |id: &u64| app.ticket(*id);
    match &app.mode {
        Mode::Detail { order_id, scroll } => {
            if let Some(t) = ticket(order_id) {
                // Everything but the status bar: the detail is read from a step away.
                let rect = Rect {
                    height: area.height.saturating_sub(1),
                    ..area
                };
                overlays::render_detail(app, th, frame, rect, &t, *scroll);
            }
        }
        Mode::Help => overlays::render_help(app, th, frame, area),
        Mode::Cancel { order_id, reason } => {
            if let Some(t) = ticket(order_id) {
                overlays::render_cancel(th, frame, area, &t, reason);
            }
        }
        Mode::Delivery { order_id, input } => {
            if let Some(t) = ticket(order_id) {
                overlays::render_delivery(th, frame, area, &t, input);
            }
        }
        Mode::Note { order_id, input } => {
            if let Some(t) = ticket(order_id) {
                overlays::render_note(th, frame, area, &t, input);
            }
        }
        Mode::Recall { cursor } => {
            let rect = Rect {
                height: area.height.saturating_sub(1),
                ..area
            };
            recall::render_recall(app, th, frame, rect, *cursor);
        }
        Mode::Later { cursor } => {
            let rect = Rect {
                height: area.height.saturating_sub(1),
                ..area
            };
            later::render_later(app, th, frame, rect, *cursor);
        }
        Mode::ConfirmPause => later::render_confirm_pause(app, th, frame, area),
        Mode::ConfirmQuit => overlays::render_confirm_quit(app, th, frame, area),
        Mode::Board | Mode::Menu { .. } | Mode::Filter { .. } => {}
    }
}

fn banner_lines(app: &App, th: &Theme, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    if let Some(f) = &app.fatal {
        out.push(Line::styled(
            trunc(f, width, th),
            th.fg(Color::Red)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ));
    } else if app.synced && !app.conn.is_connected() {
        let queued = app.unanswered();
        let q = if queued > 0 {
            format!("{queued} queued, sent on reconnect")
        } else {
            "changes wait for the reconnect".into()
        };
        out.push(Line::styled(
            trunc(
                &format!("{}: board is stale; {q}", app.conn_label()),
                width,
                th,
            ),
            th.fg(Color::Yellow).add_modifier(Modifier::REVERSED),
        ));
    }
    let b = app.banner();
    if let Some(first) = b.first() {
        let more = if b.len() > 1 {
            format!("  (+{} more; Esc dismisses)", b.len() - 1)
        } else {
            "  (Esc dismisses)".into()
        };
        let style = if first.starts_with("ALERT") {
            th.fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            th.fg(Color::Cyan).add_modifier(Modifier::BOLD)
        };
        let room = width.saturating_sub(more.width());
        out.push(Line::from(vec![
            Span::styled(trunc(first, room, th), style),
            Span::styled(more, th.dim()),
        ]));
    }
    out
}

fn urgency_style(th: &Theme, u: Urgency) -> Style {
    match u {
        Urgency::Ok => Style::default(),
        Urgency::Warn => th.fg(Color::Yellow).add_modifier(Modifier::BOLD),
        Urgency::Late => th.fg(Color::Red).add_modifier(Modifier::BOLD),
    }
}

fn hint_line(app: &App, th: &Theme) -> Line<'static> {
    if let Mode::Filter { input } = &app.mode {
        return Line::from(vec![
            Span::styled("Filter (code or item): ", th.bold()),
            Span::raw(format!("{input}_")),
            Span::styled("   Enter keep  Esc clear", th.dim()),
        ]);
    }
    if let Some(f) = &app.flash {
        let style = if f.error {
            th.fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            th.fg(Color::Green)
        };
        return Line::styled(f.text.clone(), style);
    }
    if !app.filter.is_empty() {
        return Line::from(vec![
            Span::styled(format!("filter \"{}\"", app.filter), th.bold()),
            Span::raw(format!(" ({} hidden)", app.filtered_out())),
            Span::styled("  / change  Esc clear", th.dim()),
        ]);
    }
    let text = match app.mode {
        Mode::Menu { .. } => "86 list: j/k move  Enter toggle 86  m/Esc close  ? keys",
        Mode::Recall { .. } => "recall list: j/k move  Enter recall one status back  Esc close",
        Mode::Later { .. } => "later: j/k move  Enter/f fire now (to PENDING)  Esc close",
        _ if app.is_station() => {
            "Enter line done  u undo  Tab detail  n note  r recall  a all-day  m 86  ? keys"
        }
        _ => "Enter bump u recall r list n note Tab detail x cancel +/- prep a all-day ? keys",
    };
    Line::styled(text, th.dim())
}

fn status_line(app: &App, th: &Theme) -> Line<'static> {
    let sep = th.sep();
    let conn_style = match status::conn_tone(&app.conn) {
        _ if app.fatal.is_some() => th.fg(Color::Red),
        Tone::Good => th.fg(Color::Green),
        Tone::Warn => th.fg(Color::Yellow),
        Tone::Bad => th.fg(Color::Red),
    }
    .add_modifier(Modifier::BOLD);
    let mut conn = app.conn_label();
    if app.synced && !app.conn.is_connected() {
        conn.push_str(" stale");
    }
    let user = app
        .user
        .clone()
        .unwrap_or_else(|| app.settings.user_hint.clone());
    let screen = if app.is_station() {
        format!("STATION {}", app.settings.stations.join(","))
    } else {
        "EXPO".to_owned()
    };
    let mut spans = vec![
        Span::styled(format!(" {conn}"), conn_style),
        Span::raw(sep),
        Span::styled(screen, th.bold()),
        Span::raw(sep),
    ];
    if app.paused() {
        // Online ordering is off: said on every screen until resumed.
        spans.push(Span::styled(
            "PAUSED",
            th.fg(Color::Red).add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::raw(sep));
    }
    spans.extend([Span::styled(
        format!("{} open", app.open_count()),
        th.bold(),
    )]);
    let queued = app.unanswered();
    if queued > 0 {
        let what = if app.conn.is_connected() {
            "sending"
        } else {
            "queued"
        };
        spans.push(Span::raw(sep));
        spans.push(Span::styled(
            format!("{queued} {what}"),
            th.fg(Color::Yellow),
        ));
    }
    spans.extend([
        Span::raw(sep),
        Span::raw(user),
        Span::raw(sep),
        Span::raw(status::relay_label(&app.settings.relay)),
        Span::raw(sep),
    ]);
    spans.push(Span::raw(if app.bell { "bell" } else { "no bell" }));
    Line::from(spans).style(th.reversed())
}
