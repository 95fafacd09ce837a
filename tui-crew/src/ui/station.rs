//! A station screen (DESIGN §13): the tickets that still have an open line
//! for this terminal's stations, each showing those lines (`[ ] 1x Bulgogi`,
//! the selected one pointed at) and the rest of the order as "+N other".
//! Tickets flow left to right across the columns, a page at a time.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use kfood_protocol::term::Theme;

use super::expo::{render_ticket, render_unsynced, ticket_tail};
use super::overlays::mark;
use super::text::{line_name_rows, trunc};
use crate::app::{App, Flag, StationTicket, Ticket};

/// Narrowest ticket column of a station screen.
const STATION_COLUMN_WIDTH: u16 = 26;
/// Most ticket columns side by side.
const MAX_STATION_COLUMNS: u16 = 4;

pub fn render_station(app: &App, th: &Theme, frame: &mut Frame, area: Rect) {
    if render_unsynced(app, frame, area) || area.height < 2 {
        return;
    }
    let board = app.station_board();
    let open_lines = app.station_cursor_lines().len();
    let ncols = (area.width / STATION_COLUMN_WIDTH).clamp(1, MAX_STATION_COLUMNS);
    let rects = Layout::horizontal(vec![Constraint::Ratio(1, u32::from(ncols)); ncols.into()])
        .spacing(1)
        .split(Rect {
            y: area.y + 1,
            height: area.height - 1,
            ..area
        });
    let inner_w = usize::from(rects[0].width.saturating_sub(2));
    let cards: Vec<(Ticket, Vec<Line<'static>>)> = board
        .iter()
        .filter_map(|st| app.ticket(st.order_id).map(|t| (t, st)))
        .map(|(t, st)| (t, card_lines(app, th, &t, st, inner_w)))
        .collect();
    let body_h = rects[0].height;
    let pages = paginate(&cards, body_h, rects.len());
    let sel = app
        .selected
        .and_then(|id| cards.iter().position(|(t, _)| t.id() == id));
    let page = sel
        .and_then(|i| {
            pages
                .iter()
                .position(|p| p.iter().flatten().any(|&c| c == i))
        })
        .unwrap_or(0);
    let stale = if app.conn.is_connected() {
        ""
    } else {
        " stale"
    };
    let paging = if pages.len() > 1 {
        format!("  page {}/{} (j/k)", page + 1, pages.len())
    } else {
        String::new()
    };
    let head = format!(
        " {} {}  {open_lines} to do{stale}{paging} ",
        app.settings.stations.join(",").to_uppercase(),
        board.len()
    );
    let pad = usize::from(area.width).saturating_sub(head.width());
    let head_style = th.fg(Color::Cyan).add_modifier(Modifier::REVERSED);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(head, head_style.add_modifier(Modifier::BOLD)),
            Span::styled(" ".repeat(pad), head_style),
        ])),
        Rect { height: 1, ..area },
    );
    if cards.is_empty() {
        let msg = if app.filter.is_empty() {
            format!(
                "Nothing to make for {}. New lines appear here.",
                app.settings.stations.join(", ")
            )
        } else {
            "(none match the filter)".to_owned()
        };
        let body = Rect {
            y: area.y + 1,
            height: area.height - 1,
            ..area
        };
        frame.render_widget(
            Paragraph::new(Line::styled(msg, th.dim())).wrap(Wrap { trim: true }),
            body,
        );
        return;
    }
    for (c, col) in pages.get(page).into_iter().flatten().enumerate() {
        let mut y = rects[c].y;
        for &i in col {
            let (t, lines) = &cards[i];
            let h = (lines.len() as u16 + 2).min(rects[c].bottom().saturating_sub(y));
            let rect = Rect {
                y,
                height: h,
                ..rects[c]
            };
            render_ticket(app, th, frame, rect, t, lines.clone(), sel == Some(i));
            y += h;
        }
    }
}

/// Cards placed left to right, one per column, then below in the same
/// order; a card that no longer fits its column starts the next page. For
/// each page, for each column, the indexes of its cards.
fn paginate(
    cards: &[(Ticket, Vec<Line<'static>>)],
    height: u16,
    ncols: usize,
) -> Vec<Vec<Vec<usize>>> {
    let mut pages: Vec<Vec<Vec<usize>>> = vec![vec![Vec::new(); ncols]];
    let mut used = vec![0u16; ncols];
    let mut next = 0;
    for (i, (_, lines)) in cards.iter().enumerate() {
        let h = (lines.len() as u16 + 2).min(height);
        if used[next] > 0 && used[next] + h > height {
            pages.push(vec![Vec::new(); ncols]);
            used = vec![0; ncols];
            next = 0;
        }
        if let Some(page) = pages.last_mut() {
            page[next].push(i);
        }
        used[next] += h;
        next = (next + 1) % ncols;
    }
    pages
}

/// A card's rows: who and how, this station's lines (the selected one
/// pointed at), the rest as "+N other", instructions and kitchen note.
fn card_lines(
    app: &App,
    th: &Theme,
    t: &Ticket,
    st: &StationTicket,
    w: usize,
) -> Vec<Line<'static>> {
    let mut rows: Vec<Line<'static>> = Vec::new();
    let kind = if t.is_delivery() {
        "DELIVERY"
    } else {
        "PICKUP"
    };
    rows.push(Line::from(vec![
        Span::styled(format!("{kind} "), th.bold()),
        Span::raw(trunc(
            &t.order.customer.name,
            w.saturating_sub(kind.len() + 1),
            th,
        )),
    ]));
    if t.flag == Some(Flag::Modified) {
        rows.push(Line::styled(
            trunc("MODIFIED", w, th),
            th.fg(Color::Yellow)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ));
    }
    if t.is_unconfirmed() {
        let s = if app.conn.is_connected() {
            "sending..."
        } else {
            "QUEUED (offline)"
        };
        rows.push(Line::styled(trunc(s, w, th), th.fg(Color::Yellow)));
    }
    for &i in &st.lines {
        let l = &t.order.lines[i];
        let done = t.line_done(i);
        let selected = app.selected_line == Some((t.id(), i));
        let pointer = if selected { th.pointer() } else { " " };
        let head = format!("{pointer}{} {}x ", mark(done), l.qty);
        let (name, choices) = line_name_rows(head.width(), &l.name, &l.options, 5, w, th);
        let mut style = if done { th.fg(Color::Green) } else { th.bold() };
        if selected {
            style = style.add_modifier(Modifier::REVERSED);
        }
        rows.push(Line::styled(format!("{head}{name}"), style));
        if let Some(c) = choices {
            rows.push(Line::styled(c, style));
        }
        let note = l.notes.trim();
        if !note.is_empty() {
            let one = note.replace(['\n', '\t'], " ");
            rows.push(Line::styled(
                trunc(&format!("     > {one}"), w, th),
                th.fg(Color::Cyan),
            ));
        }
    }
    if st.others > 0 {
        rows.push(Line::styled(
            trunc(&format!("  +{} other", st.others), w, th),
            th.dim(),
        ));
    }
    rows.extend(ticket_tail(t, w, th));
    rows
}
