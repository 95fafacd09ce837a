//! The Dashboard's list of the relays alive (DESIGN §15), from the latest
//! `metrics` sample: each relay's id, address, sockets and last seq, the
//! one this program talks to marked. Several relays serve one restaurant
//! through NATS JetStream; with the embedded store the list is the relay
//! itself.

use kfood_protocol::messages::RelayPresence;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{block, Theme};
use crate::app::{clean, App};

/// Rows left below the list at the least: the charts written as numbers.
const ROWS_BELOW: u16 = 3;
/// Columns of a relay id (ids are 8 characters; longer ones are cut).
const ID_COLS: usize = 8;

/// Splits `area` into the list's box (none without relays or room) and
/// what is left below it.
pub fn split(app: &App, area: Rect) -> (Option<Rect>, Rect) {
    let n = app.charts.latest.as_ref().map_or(0, |m| m.relays.len()) as u16;
    let room = area.height.saturating_sub(ROWS_BELOW);
    if n == 0 || room < 3 {
        return (None, area);
    }
    let h = (n + 2).min(room);
    let list = Rect { height: h, ..area };
    let rest = Rect {
        y: area.y + h,
        height: area.height - h,
        ..area
    };
    (Some(list), rest)
}

/// Draws the list in `area`; relays beyond its rows are counted on the last.
pub fn render(app: &App, th: Theme, frame: &mut Frame, area: Rect) {
    let Some(m) = &app.charts.latest else { return };
    let rows = area.height.saturating_sub(2) as usize;
    let width = area.width.saturating_sub(2) as usize;
    let shown = if m.relays.len() > rows {
        rows.saturating_sub(1)
    } else {
        rows
    };
    let mut lines: Vec<Line> = m
        .relays
        .iter()
        .take(shown)
        .map(|r| row(r, r.relay_id == m.relay_id, width, th))
        .collect();
    if m.relays.len() > shown {
        let more = m.relays.len() - shown;
        lines.push(Line::from(Span::styled(
            format!(" … {more} more"),
            th.dim(),
        )));
    }
    let title = format!(" Relays alive · {} ", m.relays.len());
    frame.render_widget(Paragraph::new(lines).block(block(title)), area);
}

/// ` a1b2c3d4  ws://10.0.0.5:8080   12 sockets  head 345     in use`.
fn row(r: &RelayPresence, this: bool, width: usize, th: Theme) -> Line<'static> {
    let id: String = clean(&r.relay_id).chars().take(ID_COLS).collect();
    let figures = format!("{:>5} sockets  head {:<8}", r.connections, r.head_seq);
    let mark = if this { "   in use" } else { "" };
    // What the id, figures and mark leave for the address.
    let url_cols = width.saturating_sub(1 + ID_COLS + 2 + 1 + figures.len() + 9);
    let url: String = clean(&r.url).chars().take(url_cols).collect();
    let mut spans = vec![
        Span::styled(format!(" {id:<ID_COLS$}"), th.bold()),
        Span::raw(format!("  {url:<url_cols$} ")),
        Span::raw(figures),
    ];
    if this {
        spans.push(Span::styled(mark, th.good()));
    }
    Line::from(spans)
}
