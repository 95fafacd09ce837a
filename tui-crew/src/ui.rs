//! Drawing the board: a pure function of [`App`]. Every state shown by
//! colour is also written in words (`LATE`, `WARN`, `86`, `stale`,
//! `CANCELLED`), so the screen reads the same with `NO_COLOR` and in a plain
//! capture.

use kfood_protocol::order::{FulfillmentKind, OrderStatus};
use kfood_protocol::time::Millis;
use ratatui::layout::{Constraint, Layout, Margin, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use kfood_protocol::term::status::{self, Tone};
use kfood_protocol::term::{fmt, small, Theme};

use crate::app::{App, Column, Flag, Mode, Ticket, Urgency, QUICK_REASONS};
use crate::keys::HELP;

/// Rows of a ticket's body on the board before it says "+N more"; the
/// detail shows everything.
const MAX_BODY_ROWS: usize = 9;
/// Narrowest column worth drawing; narrower boards show fewer columns.
const MIN_COLUMN_WIDTH: u16 = 16;

/// Styles and glyphs, honouring `NO_COLOR` and `--ascii`.
fn theme(app: &App) -> Theme {
    Theme {
        color: app.settings.color,
        ascii: app.settings.ascii,
    }
}

/// A ticket's timer: `MM:SS` under an hour, then `1h05`.
pub fn fmt_age(ms: Millis) -> String {
    fmt::timer(ms)
}

/// Wall-clock `HH:MM:SS` of an RFC 3339 time in the terminal's zone.
fn fmt_wall(at: &str, offset: time::UtcOffset) -> String {
    fmt::clock_secs_of(at, offset)
}

/// `s` cut to `width` columns, marked with an ellipsis when cut.
fn trunc(s: &str, width: usize, th: &Theme) -> String {
    if s.width() <= width {
        return s.to_owned();
    }
    let ell = th.ellipsis();
    let room = width.saturating_sub(ell.width());
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw > room {
            break;
        }
        out.push(c);
        w += cw;
    }
    if width >= ell.width() {
        out.push_str(ell);
    }
    out
}

/// `s` marked as cut, within `width` columns.
fn with_ellipsis(s: &str, width: usize, th: &Theme) -> String {
    if s.width() + th.ellipsis().width() <= width {
        format!("{s}{}", th.ellipsis())
    } else {
        // One column more than fits forces `trunc` to cut and mark.
        trunc(&format!("{s}{}", " ".repeat(width)), width, th)
    }
}

/// Splits `s` into rows of at most `width` columns, breaking at spaces
/// where it can and inside a word only when the word is longer than a row.
fn wrap_rows(s: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut rows = Vec::new();
    for para in s.split('\n') {
        let mut row = String::new();
        let mut w = 0;
        for word in para.replace('\t', " ").split(' ') {
            let ww = word.width();
            let gap = usize::from(!row.is_empty());
            if w + gap + ww <= width {
                if gap == 1 {
                    row.push(' ');
                }
                row.push_str(word);
                w += gap + ww;
                continue;
            }
            if !row.is_empty() {
                rows.push(std::mem::take(&mut row));
                w = 0;
            }
            for c in word.chars() {
                let cw = c.width().unwrap_or(0);
                if w + cw > width {
                    rows.push(std::mem::take(&mut row));
                    w = 0;
                }
                row.push(c);
                w += cw;
            }
        }
        rows.push(row);
    }
    rows
}

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame) {
    if small::guard(frame) {
        return;
    }
    let th = theme(app);
    let area = frame.area();
    let banner = banner_lines(app, &th, area.width as usize);
    let [top, main, hint, status] = Layout::vertical([
        Constraint::Length(banner.len() as u16),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(banner), top);

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
    render_board(app, &th, frame, board_area);
    if let Some(p) = panel_area {
        render_panels(app, &th, frame, p);
    }
    frame.render_widget(Paragraph::new(hint_line(app, &th)), hint);
    frame.render_widget(Paragraph::new(status_line(app, &th)), status);

    match &app.mode {
        Mode::Detail { order_id, scroll } => {
            if let Some(t) = app.tickets.get(order_id) {
                // Everything but the status bar: the detail is read from a step away.
                let rect = Rect {
                    height: area.height.saturating_sub(1),
                    ..area
                };
                render_detail(app, &th, frame, rect, t, *scroll);
            }
        }
        Mode::Help => render_help(&th, frame, area),
        Mode::Cancel { order_id, reason } => {
            if let Some(t) = app.tickets.get(order_id) {
                render_cancel(&th, frame, area, t, reason);
            }
        }
        Mode::Delivery { order_id, input } => {
            if let Some(t) = app.tickets.get(order_id) {
                render_delivery(&th, frame, area, t, input);
            }
        }
        Mode::ConfirmQuit => render_confirm_quit(app, &th, frame, area),
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

fn render_board(app: &App, th: &Theme, frame: &mut Frame, area: Rect) {
    if !app.synced {
        let msg = match &app.fatal {
            Some(_) => "Not connected.".to_owned(),
            None => format!("Connecting to {} ...", app.settings.relay),
        };
        frame.render_widget(
            Paragraph::new(vec![Line::raw(""), Line::raw(msg)]).centered(),
            area,
        );
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
    let stale = if app.conn.is_connected() {
        ""
    } else {
        " stale"
    };
    let head = format!(" {} {}{stale}{extra} ", col.title(), ids.len());
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
    let tickets: Vec<(&Ticket, Vec<Line<'static>>)> = ids
        .iter()
        .filter_map(|id| app.tickets.get(id))
        .map(|t| (t, ticket_body(app, th, t, inner_w)))
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
fn first_visible(heights: &[u16], sel: Option<usize>, avail: u16) -> usize {
    let Some(sel) = sel else { return 0 };
    let fits = |k: usize| {
        let above = u16::from(k > 0);
        let below = u16::from(sel + 1 < heights.len());
        heights[k..=sel].iter().sum::<u16>() + above + below <= avail
    };
    (0..=sel).find(|&k| fits(k)).unwrap_or(sel)
}

fn urgency_style(th: &Theme, u: Urgency) -> Style {
    match u {
        Urgency::Ok => Style::default(),
        Urgency::Warn => th.fg(Color::Yellow).add_modifier(Modifier::BOLD),
        Urgency::Late => th.fg(Color::Red).add_modifier(Modifier::BOLD),
    }
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
    let mut items: Vec<Line<'static>> = Vec::new();
    for l in &t.order.lines {
        let qty = format!("{}x ", l.qty);
        let name = trunc(&l.name, w.saturating_sub(qty.width()), th);
        items.push(Line::from(vec![
            Span::styled(qty, th.bold()),
            Span::styled(name, th.bold()),
        ]));
        let note = l.notes.trim();
        if !note.is_empty() {
            let one = note.replace(['\n', '\t'], " ");
            items.push(Line::styled(
                trunc(&format!("  > {one}"), w, th),
                th.fg(Color::Cyan),
            ));
        }
    }
    let instr = t.order.instructions.trim();
    if !instr.is_empty() {
        let mut r = wrap_rows(&format!("! {}", instr.replace('\n', " ")), w);
        if r.len() > 2 {
            r.truncate(2);
            r[1] = with_ellipsis(&r[1], w, th);
        }
        for row in r {
            items.push(Line::styled(
                row,
                th.fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ));
        }
    }
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

fn render_ticket(
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

fn render_panels(app: &App, th: &Theme, frame: &mut Frame, area: Rect) {
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
        Paragraph::new(lines).block(panel_block(th, "ALL DAY (to cook) a", false)),
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
    for (i, item) in app.menu.iter().enumerate().skip(start).take(rows) {
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

fn popup(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn render_detail(app: &App, th: &Theme, frame: &mut Frame, rect: Rect, t: &Ticket, scroll: u16) {
    let o = &t.order;
    let u = app.urgency(t);
    let mut lines: Vec<Line> = Vec::new();
    let state = match t.flag {
        Some(Flag::Cancelled) => "CANCELLED".to_owned(),
        _ => t.status().as_str().to_uppercase(),
    };
    let mut head = vec![
        Span::styled(format!("{}  ", o.code), th.bold()),
        Span::styled(state, th.bold().add_modifier(Modifier::REVERSED)),
        Span::raw(format!("  age {}", fmt_age(t.age_ms(app.now)))),
    ];
    match u {
        Urgency::Late => head.push(Span::styled("  LATE", urgency_style(th, u))),
        Urgency::Warn => head.push(Span::styled("  WARN", urgency_style(th, u))),
        Urgency::Ok => {}
    }
    if t.flag == Some(Flag::Modified) {
        head.push(Span::styled(
            "  MODIFIED",
            th.fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ));
    }
    if t.is_unconfirmed() {
        head.push(Span::styled(
            "  (change not confirmed yet)",
            th.fg(Color::Yellow),
        ));
    }
    lines.push(Line::from(head));
    lines.push(Line::from(format!("Customer: {}", o.customer.name)));
    let kind = match o.fulfillment.kind {
        FulfillmentKind::Pickup => "pickup".to_owned(),
        FulfillmentKind::Delivery => format!(
            "delivery to {}",
            o.fulfillment.address.as_deref().unwrap_or("(no address)")
        ),
    };
    lines.push(Line::from(format!("Fulfillment: {kind}")));
    let mut est = format!(
        "Placed {}   prep {} min",
        fmt_wall(&o.created_at, app.utc_offset),
        t.prep_minutes()
    );
    if t.is_delivery() {
        est.push_str(&format!("   delivery {} min", t.delivery_minutes()));
    }
    if let Some(eta) = &o.eta {
        est.push_str(&format!("   ETA {}", fmt_wall(eta, app.utc_offset)));
    }
    lines.push(Line::from(est));
    let pay = format!(
        "Payment: {} {}",
        serde_json::to_value(o.payment.method)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        serde_json::to_value(o.payment.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    );
    lines.push(Line::from(pay));
    lines.push(Line::raw(""));
    lines.push(Line::styled("Items", th.bold()));
    for l in &o.lines {
        lines.push(Line::from(vec![
            Span::styled(format!("  {}x ", l.qty), th.bold()),
            Span::styled(l.name.clone(), th.bold()),
        ]));
        for n in l.notes.trim().split('\n').filter(|n| !n.trim().is_empty()) {
            lines.push(Line::styled(format!("     > {n}"), th.fg(Color::Cyan)));
        }
    }
    if !o.instructions.trim().is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("Special instructions", th.bold()));
        for row in o.instructions.trim().split('\n') {
            lines.push(Line::styled(format!("  {row}"), th.fg(Color::Yellow)));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("History", th.bold()));
    for h in &o.history {
        let role = h.by.role.as_str();
        let note = h
            .note
            .as_deref()
            .map(|n| format!("  \"{n}\""))
            .unwrap_or_default();
        lines.push(Line::from(format!(
            "  {}  {:<10} {} ({role}){note}",
            fmt_wall(&h.at, app.utc_offset),
            h.status.as_str(),
            h.by.name
        )));
    }
    let recallable = matches!(t.status(), OrderStatus::Preparing | OrderStatus::Ready);
    let keys = match t.flag {
        Some(Flag::Cancelled) => "Enter clear from the board  j/k scroll  Esc close",
        Some(Flag::Modified) => "Enter change seen  +/- prep  x cancel  j/k scroll  Esc close",
        None if recallable => {
            "Enter bump  u recall  +/- prep  d deliv  x cancel  j/k scroll  Esc close"
        }
        None => "Enter bump  +/- prep  d deliv  x cancel  j/k scroll  Esc close",
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(th.border(true))
        .title(Line::styled(format!(" Order {} ", o.code), th.bold()))
        .title_bottom(Line::styled(format!(" {keys} "), th.dim()));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        rect,
    );
}

fn render_help(th: &Theme, frame: &mut Frame, area: Rect) {
    let h = HELP.len() as u16 + 4;
    let rect = popup(area, 72, h);
    let mut lines: Vec<Line> = HELP
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:<18}"), th.bold()),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::styled(" any key closes", th.dim()));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(th.border(true))
        .title(Line::styled(" Keys ", th.bold()));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

fn render_cancel(th: &Theme, frame: &mut Frame, area: Rect, t: &Ticket, reason: &str) {
    let rect = popup(area, 60, 8);
    let quick = QUICK_REASONS
        .iter()
        .enumerate()
        .map(|(i, r)| format!("{} {r}", i + 1))
        .collect::<Vec<_>>()
        .join("  ");
    let lines = vec![
        Line::from(vec![
            Span::styled(format!("Cancel {} ", t.order.code), th.bold()),
            Span::raw(format!("for {}?", t.order.customer.name)),
        ]),
        Line::from(vec![
            Span::raw("Reason: "),
            Span::styled(format!("{reason}_"), th.bold()),
        ]),
        Line::styled(quick, th.dim()),
        Line::raw(""),
        Line::styled(
            "Enter: cancel the order   Esc: keep it",
            th.fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
    ];
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(th.border(true))
        .title(Line::styled(" Cancel order ", th.bold()));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}

fn render_delivery(th: &Theme, frame: &mut Frame, area: Rect, t: &Ticket, input: &str) {
    let rect = popup(area, 50, 6);
    let lines = vec![
        Line::from(format!(
            "Delivery minutes for {} (now {}):",
            t.order.code,
            t.delivery_minutes()
        )),
        Line::styled(format!("{input}_"), th.bold()),
        Line::styled("Enter: set   Esc: back", th.dim()),
    ];
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(th.border(true))
        .title(Line::styled(" Delivery time ", th.bold()));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

fn render_confirm_quit(app: &App, th: &Theme, frame: &mut Frame, area: Rect) {
    let rect = popup(area, 56, 5);
    let lines = vec![
        Line::from(format!(
            "{} change(s) not sent yet ({}).",
            app.unanswered(),
            app.conn_label()
        )),
        Line::styled("q or Enter: quit anyway   Esc: stay", th.bold()),
    ];
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(th.border(true))
        .title(Line::styled(" Quit? ", th.bold()));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
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
        _ => "Enter bump u recall Tab detail x cancel +/- prep d deliv a all-day m 86 ? keys",
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
    let mut spans = vec![
        Span::styled(format!(" {conn}"), conn_style),
        Span::raw(sep),
        Span::styled(format!("{} open", app.open_count()), th.bold()),
    ];
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
