//! The expo board: three columns of whole tickets (pending, preparing,
//! ready), each line marked `[x]` when done and `ALL DONE` on a ticket whose
//! lines are all done.

use kfood_protocol::order::FulfillmentKind;
use ratatui::layout::{Constraint, Layout, Margin, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use kfood_protocol::term::Theme;

use super::overlays::mark;
use super::text::{fmt_age, line_name_rows, trunc, with_ellipsis, wrap_rows};
use super::{urgency_style, MIN_COLUMN_WIDTH};
use crate::app::{App, Column, Flag, Ticket, Urgency};

/// Rows of a ticket's body on the board before it says "+N more"; the
/// detail shows everything.
const MAX_BODY_ROWS: usize = 9;

/// Before any state arrived: says so instead of an empty board. Returns
/// whether it drew.
pub(super) fn render_unsynced(app: &App, frame: &mut Frame, area: Rect) -> bool {
    if app.synced {
        return false;
    }
    let msg = match &app.fatal {
        Some(_) => "Not connected.".to_owned(),
        None => format!("Connecting to {} ...", app.settings.relay),
    };
    frame.render_widget(
        Paragraph::new(vec![Line::raw(""), Line::raw(msg)]).centered(),
        area,
    );
    true
}

pub fn render_board(app: &App, th: &Theme, frame: &mut Frame, area: Rect) {
    if render_unsynced(app, frame, area) {
        return;
    }
    let board = app.board();
    let sel_col = app
        .selected
        .and_then(|id| board.iter().position(|c| c.contains(&id)))
        .unwrap_or(0);
    // Columns collapse to what fits, keeping the selected one in view.
    let fit = (area.width / MIN_COLUMN_WIDTH).clamp(1, 3) as usize;
    let first = sel_col.saturating_sub(fit - 1).min(3 - fit);
    let shown: Vec<usize> = (first..first + fit).collect();
    let constraints = vec![Constraint::Ratio(1, fit as u32); fit];
    let rects = Layout::horizontal(constraints).spacing(1).split(area);
    for (i, &c) in shown.iter().enumerate() {
        let col = Column::ALL[c];
        let hidden_left: usize = (0..first).map(|k| board[k].len()).sum();
        let hidden_right: usize = (first + fit..3).map(|k| board[k].len()).sum();
        let mut extra = String::new();
        if i == 0 && hidden_left > 0 {
            extra = format!(" <{hidden_left}");
        }
        if i == fit - 1 && hidden_right > 0 {
            extra = format!(" {hidden_right}>");
        }
        render_column(app, th, frame, rects[i], col, &board[c], &extra);
    }
}

fn column_style(th: &Theme, col: Column) -> Style {
    match col {
        Column::Pending => th.fg(Color::Yellow),
        Column::Preparing => th.fg(Color::Cyan),
        Column::Ready => th.fg(Color::Green),
    }
}

/// The column's title row: `PENDING 3`, `stale` when offline, and how
/// many tickets the columns out of view hold.
fn render_column_head(
    app: &App,
    th: &Theme,
    frame: &mut Frame,
    area: Rect,
    col: Column,
    count: usize,
    extra: &str,
) {
    let stale = if app.conn.is_connected() {
        ""
    } else {
        " stale"
    };
    let head = format!(" {} {count}{stale}{extra} ", col.title());
    let head_style = column_style(th, col).add_modifier(Modifier::BOLD | Modifier::REVERSED);
    let pad = (area.width as usize).saturating_sub(head.width());
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(head, head_style),
            Span::styled(
                " ".repeat(pad),
                column_style(th, col).add_modifier(Modifier::REVERSED),
            ),
        ])),
        Rect { height: 1, ..area },
    );
}

fn render_column(
    app: &App,
    th: &Theme,
    frame: &mut Frame,
    area: Rect,
    col: Column,
    ids: &[u64],
    extra: &str,
) {
    if area.height == 0 {
        return;
    }
    render_column_head(app, th, frame, area, col, ids.len(), extra);
    let body = Rect {
        y: area.y + 1,
        height: area.height - 1,
        ..area
    };
    if ids.is_empty() {
        let msg = if !app.filter.is_empty() {
            "(none match the filter)"
        } else if col == Column::Pending && app.open_count() == 0 {
            "No open orders. New ones appear here."
        } else {
            ""
        };
        frame.render_widget(
            Paragraph::new(Line::styled(msg, th.dim())).wrap(Wrap { trim: true }),
            body.inner(Margin::new(1, 0)),
        );
        return;
    }
    let inner_w = (area.width as usize).saturating_sub(2);
    let tickets: Vec<(Ticket, Vec<Line<'static>>)> = ids
        .iter()
        .filter_map(|id| app.ticket(*id))
        .map(|t| (t, ticket_body(app, th, &t, inner_w)))
        .collect();
    let heights: Vec<u16> = tickets.iter().map(|(_, b)| b.len() as u16 + 2).collect();
    let sel = app.selected.and_then(|s| ids.iter().position(|&x| x == s));
    let start = first_visible(&heights, sel, body.height);
    let mut y = body.y;
    let bottom = body.y + body.height;
    if start > 0 {
        frame.render_widget(
            Paragraph::new(Line::styled(format!(" ^ {start} above"), th.bold())),
            Rect {
                y,
                height: 1,
                ..body
            },
        );
        y += 1;
    }
    let mut drawn = start;
    for (i, (t, lines)) in tickets.iter().enumerate().skip(start) {
        let h = heights[i];
        let more_after = i + 1 < tickets.len();
        let room = bottom.saturating_sub(y);
        let need = h + u16::from(more_after);
        if need > room && i > start {
            break;
        }
        let rect = Rect {
            x: body.x,
            y,
            width: body.width,
            height: h.min(room),
        };
        render_ticket(
            app,
            th,
            frame,
            rect,
            t,
            lines.clone(),
            Some(t.order.id) == app.selected,
        );
        y += rect.height;
        drawn = i + 1;
    }
    let below = tickets.len() - drawn;
    if below > 0 && y < bottom {
        frame.render_widget(
            Paragraph::new(Line::styled(format!(" v +{below} more"), th.bold())),
            Rect {
                y,
                height: 1,
                ..body
            },
        );
    }
}

/// The first ticket drawn: from the top when the selection fits, else so
/// that the selected ticket is the last one fully shown.
pub(super) fn first_visible(heights: &[u16], sel: Option<usize>, avail: u16) -> usize {
    let Some(sel) = sel else { return 0 };
    let fits = |k: usize| {
        let above = u16::from(k > 0);
        let below = u16::from(sel + 1 < heights.len());
        heights[k..=sel].iter().sum::<u16>() + above + below <= avail
    };
    (0..=sel).find(|&k| fits(k)).unwrap_or(sel)
}

fn ticket_body(app: &App, th: &Theme, t: &Ticket, w: usize) -> Vec<Line<'static>> {
    let mut rows: Vec<Line<'static>> = Vec::new();
    let kind = match (t.order.fulfillment.kind, w >= 20) {
        (FulfillmentKind::Pickup, _) => "PICKUP",
        (FulfillmentKind::Delivery, true) => "DELIVERY",
        (FulfillmentKind::Delivery, false) => "DELIV",
    };
    let est = if t.is_delivery() {
        format!("{}+{}m", t.prep_minutes(), t.delivery_minutes())
    } else {
        format!("{}m", t.prep_minutes())
    };
    let name_w = w.saturating_sub(kind.width() + est.width() + 2);
    let name = trunc(&t.order.customer.name, name_w, th);
    let pad = w.saturating_sub(kind.width() + 1 + name.width() + est.width());
    rows.push(Line::from(vec![
        Span::styled(kind, th.bold()),
        Span::raw(" "),
        Span::raw(name),
        Span::raw(" ".repeat(pad)),
        Span::styled(est, th.dim()),
    ]));
    match t.flag {
        Some(Flag::Cancelled) => {
            let why = t.cancel_note().unwrap_or("");
            rows.push(Line::styled(
                trunc(&format!("CANCELLED {why}"), w, th),
                th.fg(Color::Magenta)
                    .add_modifier(Modifier::BOLD | Modifier::REVERSED),
            ));
            rows.push(Line::styled(trunc("Enter clears", w, th), th.dim()));
        }
        Some(Flag::Modified) => rows.push(Line::styled(
            trunc("MODIFIED - Enter: seen", w, th),
            th.fg(Color::Yellow)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        )),
        None => {}
    }
    if t.is_unconfirmed() {
        let s = if app.conn.is_connected() {
            "sending..."
        } else {
            "QUEUED (offline)"
        };
        rows.push(Line::styled(trunc(s, w, th), th.fg(Color::Yellow)));
    }
    if t.all_done() && t.flag.is_none() {
        rows.push(Line::styled(
            trunc("ALL DONE", w, th),
            th.fg(Color::Green)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ));
    }
    let mut items = item_rows(th, t, w);
    let room = MAX_BODY_ROWS.saturating_sub(rows.len());
    if items.len() > room {
        let hidden = items.len() - (room - 1);
        items.truncate(room - 1);
        items.push(Line::styled(
            trunc(&format!("... +{hidden} more rows (Tab)"), w, th),
            th.dim(),
        ));
    }
    rows.extend(items);
    rows
}

/// The ticket's lines, `[x] 1x Bulgogi` when done, `[ ] ...` when not,
/// with their notes, the instructions and the latest kitchen note.
fn item_rows(th: &Theme, t: &Ticket, w: usize) -> Vec<Line<'static>> {
    let mut items: Vec<Line<'static>> = Vec::new();
    for (i, l) in t.order.lines.iter().enumerate() {
        let done = t.line_done(i);
        let head = format!("{} {}x ", mark(done), l.qty);
        let (name, choices) = line_name_rows(head.width(), &l.name, &l.options, 4, w, th);
        let style = if done { th.fg(Color::Green) } else { th.bold() };
        items.push(Line::from(vec![
            Span::styled(head, style),
            Span::styled(name, style),
        ]));
        if let Some(c) = choices {
            items.push(Line::styled(c, style));
        }
        let note = l.notes.trim();
        if !note.is_empty() {
            let one = note.replace(['\n', '\t'], " ");
            items.push(Line::styled(
                trunc(&format!("    > {one}"), w, th),
                th.fg(Color::Cyan),
            ));
        }
    }
    items.extend(ticket_tail(t, w, th));
    items
}

/// What closes every ticket, on the expo and on a station screen: the
/// order's instructions (two rows at most) and the latest kitchen note.
pub(super) fn ticket_tail(t: &Ticket, w: usize, th: &Theme) -> Vec<Line<'static>> {
    let mut rows = Vec::new();
    let instr = t.order.instructions.trim();
    if !instr.is_empty() {
        let mut r = wrap_rows(&format!("! {}", instr.replace('\n', " ")), w);
        if r.len() > 2 {
            r.truncate(2);
            r[1] = with_ellipsis(&r[1], w, th);
        }
        for row in r {
            rows.push(Line::styled(
                row,
                th.fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ));
        }
    }
    if let Some(n) = t.kitchen_note() {
        rows.push(Line::styled(
            trunc(&format!("Kitchen: {}", n.replace('\n', " ")), w, th),
            th.fg(Color::Magenta),
        ));
    }
    rows
}

pub(super) fn render_ticket(
    app: &App,
    th: &Theme,
    frame: &mut Frame,
    rect: Rect,
    t: &Ticket,
    lines: Vec<Line<'static>>,
    selected: bool,
) {
    let urgency = app.urgency(t);
    let col = t.column().unwrap_or(Column::Pending);
    let mut border_style = match (t.flag, urgency) {
        (Some(Flag::Cancelled), _) => th.fg(Color::Magenta),
        (_, Urgency::Late) => th.fg(Color::Red),
        (_, Urgency::Warn) => th.fg(Color::Yellow),
        _ if col == Column::Ready => th.fg(Color::Green),
        _ => Style::default(),
    };
    if !app.conn.is_connected() {
        border_style = th.dim();
    }
    if selected {
        border_style = border_style.add_modifier(Modifier::BOLD);
    }
    let inner_w = (rect.width as usize).saturating_sub(2);
    let code = if selected {
        format!("{}{}", th.pointer(), t.order.code)
    } else {
        t.order.code.clone()
    };
    let age_ms = t.age_ms(app.now);
    let age = fmt_age(age_ms);
    let mins = format!("{}m", age_ms / 60_000);
    // Narrow tickets give up the seconds first, then the age; the word
    // that says the ticket is late stays as long as anything does.
    let candidates = match urgency {
        Urgency::Late => vec![format!("LATE {age}"), format!("LATE {mins}"), "LATE".into()],
        Urgency::Warn => vec![format!("WARN {age}"), format!("WARN {mins}"), "WARN".into()],
        Urgency::Ok => vec![age, mins],
    };
    let right = candidates
        .iter()
        .find(|r| code.width() + r.width() < inner_w)
        .cloned()
        .unwrap_or_default();
    let code_style = if selected {
        th.bold().add_modifier(Modifier::REVERSED)
    } else {
        th.bold()
    };
    let fill = inner_w.saturating_sub(code.width() + right.width());
    let title = if fill >= 1 && !right.is_empty() {
        Line::from(vec![
            Span::styled(code, code_style),
            Span::styled(
                th.border(selected).horizontal_top.repeat(fill),
                border_style,
            ),
            Span::styled(right, urgency_style(th, urgency)),
        ])
    } else {
        Line::from(Span::styled(trunc(&code, inner_w, th), code_style))
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(th.border(selected))
        .border_style(border_style)
        .title(title);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
