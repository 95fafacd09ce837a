//! Overlays on the board: the ticket's detail, the keys, and the prompts
//! (cancel, delivery minutes, kitchen note, quit with unsent changes).

use kfood_protocol::order::{FulfillmentKind, OrderStatus};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use kfood_protocol::options::line_label_with;
use kfood_protocol::term::Theme;

use super::text::{choice_sep, fmt_age, fmt_wall};
use super::urgency_style;
use crate::app::{App, Flag, Ticket, Urgency, QUICK_REASONS};
use crate::keys::{HELP, STATION_HELP};

pub(super) fn popup(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// The detail's first row: code, status and every mark in words.
fn detail_head(app: &App, th: &Theme, t: &Ticket) -> Line<'static> {
    let o = t.order;
    let u = app.urgency(t);
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
    if t.all_done() {
        head.push(Span::styled(
            "  ALL DONE",
            th.fg(Color::Green).add_modifier(Modifier::BOLD),
        ));
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
    Line::from(head)
}

/// The detail's rows: the whole ticket, each line with its station and
/// done mark (who and when), instructions, kitchen notes, the history.
fn detail_lines(app: &App, th: &Theme, t: &Ticket) -> Vec<Line<'static>> {
    let o = t.order;
    let mut lines: Vec<Line<'static>> = vec![detail_head(app, th, t)];
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
    lines.push(Line::styled(
        format!("Items ({} of {} done)", t.lines_done(), o.lines.len()),
        th.bold(),
    ));
    item_lines(app, th, t, &mut lines);
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
    lines
}

/// Each line: `[x] 1x Bulgogi  grill  done 10:03:12 Line cook 2`, its notes under it.
fn item_lines(app: &App, th: &Theme, t: &Ticket, lines: &mut Vec<Line<'static>>) {
    for (i, l) in t.order.lines.iter().enumerate() {
        let done = t.line_done(i);
        let mut row = vec![
            Span::styled(format!("  {} ", mark(done)), th.bold()),
            Span::styled(format!("{}x ", l.qty), th.bold()),
            Span::styled(
                line_label_with(&l.name, &l.options, &choice_sep(th)),
                th.bold(),
            ),
            Span::styled(format!("  {}", l.station), th.dim()),
        ];
        match &l.done {
            Some(m) if done => row.push(Span::styled(
                format!("  done {} {}", fmt_wall(&m.at, app.utc_offset), m.by.name),
                th.fg(Color::Green),
            )),
            _ if done => row.push(Span::styled("  done (sending)", th.fg(Color::Yellow))),
            _ => {}
        }
        lines.push(Line::from(row));
        for n in l.notes.trim().split('\n').filter(|n| !n.trim().is_empty()) {
            lines.push(Line::styled(format!("       > {n}"), th.fg(Color::Cyan)));
        }
    }
}

/// A line's done mark in text: `[x]` done, `[ ]` not yet.
pub fn mark(done: bool) -> &'static str {
    if done {
        "[x]"
    } else {
        "[ ]"
    }
}

pub fn render_detail(
    app: &App,
    th: &Theme,
    frame: &mut Frame,
    rect: Rect,
    t: &Ticket,
    scroll: u16,
) {
    let lines = detail_lines(app, th, t);
    let recallable = matches!(t.status(), OrderStatus::Preparing | OrderStatus::Ready);
    let keys = match t.flag {
        Some(Flag::Cancelled) => "Enter clear from the board  j/k scroll  Esc close",
        Some(Flag::Modified) => "Enter change seen  +/- prep  x cancel  j/k scroll  Esc close",
        None if app.is_station() => "Enter mark line  u undo  n note  j/k scroll  Esc close",
        None if recallable => {
            "Enter bump  u recall  n note  +/- prep  d deliv  x cancel  j/k scroll  Esc close"
        }
        None => "Enter bump  n note  +/- prep  d deliv  x cancel  j/k scroll  Esc close",
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(th.border(true))
        .title(Line::styled(format!(" Order {} ", t.order.code), th.bold()))
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

pub fn render_help(app: &App, th: &Theme, frame: &mut Frame, area: Rect) {
    let help = if app.is_station() { STATION_HELP } else { HELP };
    let h = help.len() as u16 + 4;
    let rect = popup(area, 72, h);
    let mut lines: Vec<Line> = help
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

pub fn render_cancel(th: &Theme, frame: &mut Frame, area: Rect, t: &Ticket, reason: &str) {
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

pub fn render_delivery(th: &Theme, frame: &mut Frame, area: Rect, t: &Ticket, input: &str) {
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

pub fn render_confirm_quit(app: &App, th: &Theme, frame: &mut Frame, area: Rect) {
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

/// `n`: one line of note for the kitchen's history and the customer.
pub fn render_note(th: &Theme, frame: &mut Frame, area: Rect, t: &Ticket, input: &str) {
    let rect = popup(area, 70, 5);
    let room = usize::from(rect.width.saturating_sub(4));
    // The end of a long note stays in view while it is typed.
    let shown: String = {
        let n = input.chars().count();
        input.chars().skip((n + 1).saturating_sub(room)).collect()
    };
    let lines = vec![
        Line::from(vec![
            Span::styled(format!("Kitchen note for {} ", t.order.code), th.bold()),
            Span::raw(format!("({})", t.order.customer.name)),
        ]),
        Line::styled(format!("{shown}_"), th.bold()),
        Line::styled(
            format!(
                "{}/{} characters   Enter: send   Esc: back",
                input.chars().count(),
                crate::app::MAX_NOTE_CHARS
            ),
            th.dim(),
        ),
    ];
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(th.border(true))
        .title(Line::styled(" Kitchen note ", th.bold()));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
