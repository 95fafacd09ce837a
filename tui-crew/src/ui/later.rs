//! Orders placed for later (DESIGN §14): the board's "Later N · next 18:05"
//! line, the `L` list (by fire time, Enter fires now) and the confirmation
//! before `p` pauses or resumes online ordering.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use kfood_protocol::capacity::fire_ms;
use kfood_protocol::order::FulfillmentKind;
use kfood_protocol::term::{fmt, Theme};
use kfood_protocol::time::parse_ms;

use super::overlays::popup;
use super::text::trunc;
use crate::app::App;

/// "Later 3 · next 18:05 (in 12m)  L: list", or nothing when no order is
/// scheduled.
pub fn later_line(app: &App, th: &Theme) -> Option<Line<'static>> {
    let (n, next) = app.later_summary()?;
    let mut text = format!("Later {n}");
    if let Some(at) = next {
        let wait = if at > app.now {
            format!(" (in {})", fmt::age(at - app.now))
        } else {
            " (due)".to_owned()
        };
        text.push_str(&format!(
            " {} next {}{wait}",
            th.dot(),
            fmt::clock(at, app.utc_offset)
        ));
    }
    Some(Line::from(vec![
        Span::styled(text, th.fg(Color::Magenta).add_modifier(Modifier::BOLD)),
        Span::styled("   L: list, fire now", th.dim()),
    ]))
}

/// The `L` list: each scheduled order with its fire time, when it is
/// wanted, how it goes and what it holds.
pub fn render_later(app: &App, th: &Theme, frame: &mut Frame, rect: Rect, cursor: usize) {
    let ids = app.later_list();
    let w = usize::from(rect.width.saturating_sub(2));
    let rows = usize::from(rect.height.saturating_sub(2));
    let start = cursor.saturating_sub(rows.saturating_sub(1));
    let mut lines: Vec<Line<'static>> = Vec::new();
    if ids.is_empty() {
        lines.push(Line::styled("No orders scheduled for later.", th.dim()));
    }
    let clock = |ms: i64| fmt::day_clock(ms, app.now, app.utc_offset);
    for (i, id) in ids.iter().enumerate().skip(start).take(rows) {
        let Some(o) = app.model.orders.get(id) else {
            continue;
        };
        let fire = fire_ms(o).map(clock).unwrap_or_else(|| "--:--".into());
        let wanted = o
            .scheduled_for
            .as_deref()
            .and_then(parse_ms)
            .map(clock)
            .unwrap_or_default();
        let how = match o.fulfillment.kind {
            FulfillmentKind::Pickup => "pickup",
            FulfillmentKind::Delivery => "delivery",
        };
        let items = o
            .lines
            .iter()
            .map(|l| format!("{}x {}", l.qty, l.name))
            .collect::<Vec<_>>()
            .join(", ");
        let pointer = if i == cursor { th.pointer() } else { " " };
        let text = format!(
            "{pointer}{:<7} fires {fire:<5}  for {wanted:<5} {how:<8} {:<10} {items}",
            o.code,
            trunc(&o.customer.name, 10, th),
        );
        let style = if i == cursor {
            th.bold().add_modifier(Modifier::REVERSED)
        } else {
            th.status(o.status)
        };
        lines.push(Line::styled(trunc(&text, w, th), style));
    }
    let title = format!(" Later: scheduled orders by fire time ({}) ", ids.len());
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(th.border(true))
        .title(Line::from(Span::styled(title, th.bold())))
        .title_bottom(Line::styled(
            " Enter/f fire now (to PENDING)  j/k move  Esc close ",
            th.dim(),
        ));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

/// `p`: are you sure? Pausing stops new online orders; scheduled ones still fire.
pub fn render_confirm_pause(app: &App, th: &Theme, frame: &mut Frame, area: Rect) {
    let rect = popup(area, 60, 5);
    let (title, lines) = if app.paused() {
        (
            " Resume online ordering? ",
            vec![
                Line::from("Customers can place orders again."),
                Line::raw(""),
                Line::styled("y or Enter: resume   Esc: keep paused", th.bold()),
            ],
        )
    } else {
        (
            " Pause online ordering? ",
            vec![
                Line::from("New orders are refused until you resume (p)."),
                Line::from("Orders already placed and scheduled ones go on."),
                Line::styled("y or Enter: pause   Esc: keep taking orders", th.bold()),
            ],
        )
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(th.border(true))
        .title(Line::styled(title, th.bold()));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
