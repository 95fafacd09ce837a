//! The side panels: all-day counts (`a`) and the 86 list (`m`).

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use kfood_protocol::term::Theme;

use super::text::trunc;
use crate::app::{App, Mode};

pub fn render_panels(app: &App, th: &Theme, frame: &mut Frame, area: Rect) {
    let (a, m) = match (app.show_all_day, app.show_menu) {
        (true, true) => {
            let [a, m] = Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)])
                .areas(area);
            (Some(a), Some(m))
        }
        (true, false) => (Some(area), None),
        (false, _) => (None, Some(area)),
    };
    if let Some(a) = a {
        render_all_day(app, th, frame, a);
    }
    if let Some(m) = m {
        render_menu(app, th, frame, m);
    }
}

fn panel_block(th: &Theme, title: &str, focused: bool) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .border_set(th.border(focused))
        .title(Line::styled(format!(" {title} "), th.bold()))
}

fn render_all_day(app: &App, th: &Theme, frame: &mut Frame, area: Rect) {
    let w = (area.width as usize).saturating_sub(2);
    let counts = app.all_day();
    let title = if app.is_station() {
        format!("ALL DAY {} a", app.settings.stations.join(","))
    } else {
        "ALL DAY (to cook) a".to_owned()
    };
    let mut lines: Vec<Line> = Vec::new();
    if counts.is_empty() {
        lines.push(Line::styled("nothing to cook", th.dim()));
    }
    for (name, qty) in counts {
        let q = format!("{qty:>3} ");
        lines.push(Line::from(vec![
            Span::styled(q.clone(), th.bold()),
            Span::raw(trunc(&name, w.saturating_sub(q.width()), th)),
        ]));
    }
    frame.render_widget(
        Paragraph::new(lines).block(panel_block(th, &title, false)),
        area,
    );
}

fn render_menu(app: &App, th: &Theme, frame: &mut Frame, area: Rect) {
    let focused_cursor = match app.mode {
        Mode::Menu { cursor } => Some(cursor),
        _ => None,
    };
    let w = (area.width as usize).saturating_sub(2);
    let rows = area.height.saturating_sub(2) as usize;
    let cursor = focused_cursor.unwrap_or(0);
    let start = cursor.saturating_sub(rows.saturating_sub(1));
    let mut lines: Vec<Line> = Vec::new();
    for (i, item) in app.model.menu.iter().enumerate().skip(start).take(rows) {
        let avail = app.item_available(item);
        let pending = app.local_available.contains_key(&item.id);
        let cursor = if focused_cursor == Some(i) {
            th.pointer()
        } else {
            " "
        };
        let mark = if avail { "   " } else { "86 " };
        // `*`: the change is not confirmed by the relay yet.
        let tail = if pending { " *" } else { "" };
        let text = trunc(&format!("{cursor}{mark}{}{tail}", item.name), w, th);
        let mut style = if avail {
            Style::default()
        } else {
            th.fg(Color::Red).add_modifier(Modifier::BOLD)
        };
        if focused_cursor == Some(i) {
            style = style.add_modifier(Modifier::REVERSED);
        }
        lines.push(Line::styled(text, style));
    }
    frame.render_widget(
        Paragraph::new(lines).block(panel_block(
            th,
            "86 m: Enter toggles",
            focused_cursor.is_some(),
        )),
        area,
    );
}
