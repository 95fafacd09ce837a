//! Drawing: a pure function of the program's state. Every state drawn in
//! colour is also written out (`LATE`, `86`, `offline`, `CRITICAL`), so the
//! screen reads the same without colour and in a plain capture.

mod dashboard;
mod detail;
mod lists;
mod overlay;
mod relays;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use kfood_protocol::term::status::{self, Tone};
use kfood_protocol::term::{small, Theme};

use crate::app::{App, Overlay, Screen};
use crate::keys;

/// The shared theme: colours (none under `NO_COLOR`) and `--ascii` glyphs.
pub fn theme(app: &App) -> Theme {
    Theme {
        color: app.look.color,
        ascii: app.look.ascii,
    }
}

pub fn block(title: impl Into<Line<'static>>) -> Block<'static> {
    Block::bordered().title(title.into())
}

pub fn render(app: &App, frame: &mut Frame) {
    if small::guard(frame) {
        return;
    }
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
            detail::order_detail(app, frame, body, *order_id, *scroll)
        }
        Overlay::Form(form) => overlay::form(app, frame, body, form),
        Overlay::Confirm(c) => overlay::confirm(app, frame, body, c),
        Overlay::Report { view, scroll } => overlay::report(app, frame, body, view, *scroll),
    }
    // Tables and sparklines take no border set: their glyphs are swapped here.
    theme(app).asciify(frame.buffer_mut());
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
    let conn_style = match status::conn_tone(&app.conn) {
        Tone::Good => th.good(),
        Tone::Warn => th.warn(),
        Tone::Bad => th.bad(),
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
    let relay = status::relay_label(&app.relay);
    // Orders on screen while nothing arrives came from the cache or an
    // earlier connection: say so in words.
    let stale = if !app.conn.is_connected() && !app.model.orders.is_empty() {
        " stale"
    } else {
        ""
    };
    let sep = Span::styled(th.sep(), th.dim());
    let line = Line::from(vec![
        Span::styled(
            format!(" {}{stale}", status::conn_text(&app.conn)),
            conn_style.add_modifier(Modifier::BOLD),
        ),
        sep.clone(),
        Span::raw(user),
        sep.clone(),
        alerts,
        sep.clone(),
        Span::raw(format!("relay {}", crate::app::clean(&relay))),
    ]);
    let mut line = line;
    if app.model.capacity.is_paused_at(app.now_ms) {
        // Online ordering is off: said on every screen until resumed.
        line.spans.insert(1, sep);
        line.spans.insert(
            2,
            Span::styled("PAUSED", th.bad().add_modifier(Modifier::BOLD)),
        );
    }
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

/// Times as every program writes them: `clock` is `10:02:33`, `clock_hm`
/// `10:02`, `age` `12m`, `uptime` `2h 05m`.
pub use kfood_protocol::term::fmt::{
    age, clock as clock_hm, clock_secs as clock, duration_s as uptime,
};

/// `alert` or `alerts`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
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

#[cfg(test)]
mod tests {
    use super::*;
    use time::UtcOffset;

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
