//! The Notifications screen: announcements and the kitchen's notes, newest
//! first, and the selected one in full.

use kfood_protocol::sanitize::{clean_line, clean_text};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Cell, HighlightSpacing, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

use super::{clock_of, one_line, stale_mark, View};
use crate::app::App;

pub(super) fn render_notices(app: &App, view: &View, frame: &mut Frame, area: Rect) {
    let [list, detail] = Layout::vertical([Constraint::Min(3), Constraint::Length(7)]).areas(area);
    let notices = app.notices();
    let rows: Vec<Row> = notices
        .iter()
        .map(|n| {
            Row::new(vec![
                Cell::from(Span::styled(
                    if n.unread { "new" } else { "" },
                    view.warn().add_modifier(Modifier::BOLD),
                )),
                Cell::from(clock_of(&n.created_at, view)),
                Cell::from(clean_line(&n.kind)),
                Cell::from(one_line(&n.text)),
            ])
            .style(if n.unread { view.bold() } else { Style::new() })
        })
        .collect();
    let empty = rows.is_empty();
    let title = format!("Notifications ({} new){}", app.unread(), stale_mark(app));
    let table = Table::new(
        rows,
        [
            Constraint::Length(3),
            Constraint::Length(5),
            Constraint::Length(12),
            Constraint::Min(10),
        ],
    )
    .block(view.block(title))
    .row_highlight_style(view.selected())
    .highlight_symbol(view.sel())
    .highlight_spacing(HighlightSpacing::Always);
    let mut st = TableState::default().with_selected((!empty).then_some(app.notice_sel));
    frame.render_stateful_widget(table, list, &mut st);
    if empty {
        let inner = list.inner(ratatui::layout::Margin::new(2, 1));
        frame.render_widget(
            Paragraph::new("No announcements. News, maintenance notices, promotions and notes from the kitchen show here.")
                .style(view.dim())
                .wrap(Wrap { trim: true }),
            inner,
        );
    }
    let text = notices
        .get(app.notice_sel)
        .map(|n| {
            let mut t = Text::from(Line::styled(
                format!("From {}", clean_line(&n.from)),
                view.dim(),
            ));
            for l in clean_text(&n.text).lines() {
                t.push_line(Line::from(l.replace('\t', " ")));
            }
            t
        })
        .unwrap_or_default();
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .block(view.block("Message")),
        detail,
    );
}
