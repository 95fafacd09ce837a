//! Drawing: a pure function of the program's state. Every state drawn in
//! colour is also written out (`LATE`, `86`, `offline`, `CRITICAL`), so the
//! screen reads the same without colour and in a plain capture.

mod dashboard;
mod lists;
mod overlay;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;
use time::UtcOffset;

use crate::app::{App, Conn, Overlay, Screen};
use crate::keys;
use kfood_protocol::time::Millis;

/// Colours, or none at all under `NO_COLOR`.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    color: bool,
}

impl Theme {
    pub fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn bold(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }

    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn good(self) -> Style {
        self.fg(Color::Green)
    }

    pub fn warn(self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn bad(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn accent(self) -> Style {
        self.fg(Color::Cyan)
    }
}

pub fn theme(app: &App) -> Theme {
    Theme {
        color: app.look.color,
    }
}

pub fn block(title: impl Into<Line<'static>>) -> Block<'static> {
    Block::bordered().title(title.into())
}

pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    let [tabs, body, hints, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    render_tabs(app, frame, tabs);
    match app.screen {
        Screen::Dashboard => dashboard::render(app, frame, body),
        Screen::Orders => lists::orders(app, frame, body),
        Screen::Alerts => lists::alerts(app, frame, body),
        Screen::Activity => lists::activity(app, frame, body),
        Screen::Menu => lists::menu(app, frame, body),
        Screen::Announcements => lists::announcements(app, frame, body),
        Screen::Promos => lists::promos(app, frame, body),
        Screen::Users => lists::users(app, frame, body),
    }
    render_message_line(app, frame, hints);
    render_status(app, frame, status);
    match &app.overlay {
        Overlay::None | Overlay::Filter(_) => {}
        Overlay::Help => overlay::help(app, frame, body),
        Overlay::Detail { order_id, scroll } => {
            overlay::order_detail(app, frame, body, *order_id, *scroll)
        }
        Overlay::Form(form) => overlay::form(app, frame, body, form),
        Overlay::Confirm(c) => overlay::confirm(app, frame, body, c),
    }
    if app.look.ascii {
        asciify(frame.buffer_mut());
    }
}

fn render_tabs(app: &App, frame: &mut Frame, area: Rect) {
    let th = theme(app);
    let wide = area.width >= 110;
    let labels: Vec<String> = Screen::ALL
        .iter()
        .map(|s| {
            let title = if wide { s.title() } else { s.short_title() };
            format!("{} {}", s.number(), title)
        })
        .collect();
    // Two spaces between tabs when they fit, one when they do not.
    let total: usize = labels.iter().map(|l| l.len() + 2).sum();
    let gap = if total + 2 <= usize::from(area.width) {
        " "
    } else {
        ""
    };
    let mut spans = Vec::new();
    if wide {
        spans.push(Span::styled("KfoodDelights admin ", th.accent()));
    }
    for (s, label) in Screen::ALL.iter().zip(labels) {
        if *s == app.screen {
            spans.push(Span::styled(
                format!("[{label}]"),
                th.selected().add_modifier(Modifier::BOLD),
            ));
        } else {
            spans.push(Span::raw(format!("{gap}{label}{gap}")));
        }
        if gap.is_empty() {
            spans.push(Span::raw(" "));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn render_message_line(app: &App, frame: &mut Frame, area: Rect) {
    let th = theme(app);
    let line = if let Overlay::Filter(input) = &app.overlay {
        let prefix = "Filter: ";
        let x = area.x + prefix.len() as u16 + input.cursor as u16;
        frame.set_cursor_position((x.min(area.right().saturating_sub(1)), area.y));
        Line::from(vec![
            Span::styled(prefix, th.bold()),
            Span::raw(input.value.clone()),
            Span::styled("   Enter keep · Esc clear", th.dim()),
        ])
    } else if let Some(f) = &app.flash {
        let style = if f.error { th.bad() } else { th.good() };
        let mark = if f.error { "! " } else { "" };
        Line::from(Span::styled(format!("{mark}{}", f.text), style))
    } else {
        Line::from(Span::styled(keys::hints(&app.mode()), th.dim()))
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn render_status(app: &App, frame: &mut Frame, area: Rect) {
    let th = theme(app);
    let conn_style = match &app.conn {
        Conn::Live { .. } => th.good(),
        Conn::Polling | Conn::Connecting | Conn::Reconnecting { .. } => th.warn(),
        Conn::Offline { .. } | Conn::AuthExpired => th.bad(),
    };
    let user = match &app.user {
        Some(u) => format!("{} ({})", crate::app::clean(&u.name), u.role),
        None => "not signed in".into(),
    };
    let (crit, warn, info) = app.open_alert_counts();
    let open = crit + warn + info;
    let alerts = if open == 0 {
        Span::styled("no open alerts", th.dim())
    } else if crit > 0 {
        Span::styled(
            format!("{open} {}, {crit} CRITICAL", plural(open, "alert")),
            th.bad(),
        )
    } else {
        Span::styled(format!("{open} {}", plural(open, "alert")), th.warn())
    };
    let relay = app
        .relay
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(&app.relay);
    let relay = relay.strip_suffix("/ws").unwrap_or(relay);
    let sep = Span::styled(" │ ", th.dim());
    let line = Line::from(vec![
        Span::styled(
            format!(" {}", app.conn.label()),
            conn_style.add_modifier(Modifier::BOLD),
        ),
        sep.clone(),
        Span::raw(user),
        sep.clone(),
        alerts,
        sep,
        Span::raw(format!("relay {}", crate::app::clean(relay))),
    ]);
    let style = if app.look.color {
        Style::new().bg(Color::Black)
    } else {
        Style::new()
    };
    frame.render_widget(Paragraph::new(line).style(style), area);
}

/// A popup of `w`×`h` centred in `area`: clears it and a column either side
/// (so no stray glyph of the screen below touches its border); returns it.
pub fn popup(frame: &mut Frame, area: Rect, w: u16, h: u16) -> Rect {
    let r = centered(area, w, h);
    let margin = Rect {
        x: r.x.saturating_sub(1).max(area.x),
        width: (r.width + 2).min(area.width),
        ..r
    };
    frame.render_widget(ratatui::widgets::Clear, margin);
    r
}

/// A rectangle of `w`×`h` centred in `area`, clipped to it.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// `10:02:33` in the viewer's time zone.
pub fn clock(ms: Millis, offset: UtcOffset) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(offset);
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

/// `10:02` in the viewer's time zone.
pub fn clock_hm(ms: Millis, offset: UtcOffset) -> String {
    let mut s = clock(ms, offset);
    s.truncate(5);
    s
}

/// `alert` or `alerts`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
    }
}

/// `45s`, `12m`, `1h05m`, `3d`.
pub fn age(ms: Millis) -> String {
    let s = (ms / 1000).max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d", s / 86_400),
    }
}

/// `2h 05m`, `3d 4h`, `45s` for an uptime.
pub fn uptime(s: u64) -> String {
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// `812 B`, `1.2 KB`, `34.0 MB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// A rate or latency: one decimal below 100, whole above.
pub fn num(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// For `--ascii`: every drawing glyph replaced by a plain character.
fn asciify(buf: &mut Buffer) {
    for cell in buf.content.iter_mut() {
        let replacement = match cell.symbol() {
            "┌" | "┐" | "└" | "┘" | "├" | "┤" | "┬" | "┴" | "┼" | "╭" | "╮" | "╰" | "╯" => {
                "+"
            }
            "─" | "━" | "═" => "-",
            "│" | "┃" | "║" => "|",
            "█" | "▇" | "▆" => "#",
            "▅" | "▄" => "=",
            "▃" | "▂" => "-",
            "▁" => "_",
            "·" | "•" => ".",
            "…" => "~",
            "→" => ">",
            "↑" => "^",
            "↓" => "v",
            "×" => "x",
            _ => continue,
        };
        cell.set_symbol(replacement);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures() {
        assert_eq!(age(45_000), "45s");
        assert_eq!(age(12 * 60_000 + 5_000), "12m");
        assert_eq!(age(3_900_000), "1h05m");
        assert_eq!(age(3 * 86_400_000), "3d");
        assert_eq!(uptime(7500), "2h 05m");
        assert_eq!(bytes(812), "812 B");
        assert_eq!(bytes(1_234_567), "1.2 MB");
        assert_eq!(num(2.345), "2.3");
        assert_eq!(num(1234.0), "1234");
        assert_eq!(clock(1_800_000_000_000, UtcOffset::UTC), "08:00:00");
    }
}
