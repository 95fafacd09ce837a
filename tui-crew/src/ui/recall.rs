//! The recall list (`r`, DESIGN §13): tickets bumped in the last 15
//! minutes, newest first, delivered ones included; Enter sends the selected
//! one a status back.

use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use kfood_protocol::options::line_label_with;
use kfood_protocol::term::{fmt, Theme};

use super::text::{choice_sep, trunc};
use crate::app::App;

pub fn render_recall(app: &App, th: &Theme, frame: &mut Frame, rect: Rect, cursor: usize) {
    let ids = app.recall_list();
    let w = usize::from(rect.width.saturating_sub(2));
    let rows = usize::from(rect.height.saturating_sub(2));
    let start = cursor.saturating_sub(rows.saturating_sub(1));
    let mut lines: Vec<Line<'static>> = Vec::new();
    let sep = choice_sep(th);
    if ids.is_empty() {
        lines.push(Line::styled(
            "Nothing bumped in the last 15 minutes.",
            th.dim(),
        ));
    }
    for (i, id) in ids.iter().enumerate().skip(start).take(rows) {
        let Some(t) = app.ticket(*id) else { continue };
        let o = t.order;
        let back = o
            .status
            .previous()
            .map(|p| format!("-> {}", p.as_str().to_uppercase()))
            .unwrap_or_default();
        let ago = fmt::age(app.now - o.entered_ms());
        let items = o
            .lines
            .iter()
            .map(|l| format!("{}x {}", l.qty, line_label_with(&l.name, &l.options, &sep)))
            .collect::<Vec<_>>()
            .join(", ");
        let pointer = if i == cursor { th.pointer() } else { " " };
        let text = format!(
            "{pointer}{:<7} {:<10} {:>4} ago  {:<13} {:<12} {items}",
            o.code,
            o.status.as_str().to_uppercase(),
            ago,
            back,
            trunc(&o.customer.name, 12, th),
        );
        let style = if i == cursor {
            th.bold().add_modifier(Modifier::REVERSED)
        } else {
            th.status(o.status)
        };
        lines.push(Line::styled(trunc(&text, w, th), style));
    }
    let title = format!(
        " Recall: bumped in the last 15 min, newest first ({}) ",
        ids.len()
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(th.border(true))
        .title(Line::from(Span::styled(title, th.bold())))
        .title_bottom(Line::styled(
            " Enter recall one status back  j/k move  Esc close ",
            th.dim(),
        ));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
