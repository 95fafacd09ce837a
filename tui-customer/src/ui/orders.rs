//! My orders: the list (open ones first) and the selected order live, with
//! its timeline, the kitchen's progress and notes.

use kfood_protocol::capacity::fire_ms;
use kfood_protocol::options::options_label;
use kfood_protocol::order::{FulfillmentKind, PaymentMethod, PaymentStatus};
use kfood_protocol::sanitize::{clean_line, clean_text};
use kfood_protocol::term::fmt;
use kfood_protocol::time::{parse_ms, Millis};
use kfood_protocol::{Order, OrderStatus};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, HighlightSpacing, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

use super::{clock, clock_of, money, stale_mark, View};
use crate::app::view::{kitchen_note, progress};
use crate::app::App;

pub(super) fn render_orders(app: &App, view: &View, frame: &mut Frame, area: Rect) {
    let list_width = if area.width >= 100 { 36 } else { 29 };
    let [left, right] =
        Layout::horizontal([Constraint::Length(list_width), Constraint::Min(30)]).areas(area);
    let (open, closed) = app.order_rows();
    let selected = app.selected().map(|o| o.id);
    let mut rows = Vec::new();
    let mut sel_row = None;
    let mut push = |rows: &mut Vec<Row>, o: &Order| {
        if Some(o.id) == selected {
            sel_row = Some(rows.len());
        }
        rows.push(Row::new(vec![
            Cell::from(clean_line(&o.code)),
            Cell::from(Span::styled(status_word(o.status), view.status(o.status))),
            Cell::from(Line::from(money(o.total_cents)).right_aligned()),
        ]));
    };
    if !open.is_empty() {
        rows.push(Row::new(vec![Cell::from(Span::styled(
            "Open",
            view.bold(),
        ))]));
        for o in &open {
            push(&mut rows, o);
        }
    }
    if !closed.is_empty() {
        rows.push(Row::new(vec![Cell::from(Span::styled(
            "History",
            view.bold(),
        ))]));
        for o in &closed {
            push(&mut rows, o);
        }
    }
    let empty = rows.is_empty();
    let table = Table::new(
        rows,
        [
            Constraint::Length(7),
            Constraint::Length(9),
            Constraint::Min(7),
        ],
    )
    .block(view.block(format!("My orders{}", stale_mark(app))))
    .row_highlight_style(view.selected())
    .highlight_symbol(view.sel())
    .highlight_spacing(HighlightSpacing::Always);
    let mut st = TableState::default().with_selected(sel_row);
    frame.render_stateful_widget(table, left, &mut st);
    if empty {
        let inner = left.inner(ratatui::layout::Margin::new(2, 1));
        frame.render_widget(Paragraph::new("No orders yet.").style(view.dim()), inner);
    }
    match app.selected() {
        Some(o) => render_order(app, view, o, frame, right),
        None => frame.render_widget(
            Paragraph::new("Your orders show here, live, as the kitchen works them.")
                .style(view.dim())
                .wrap(Wrap { trim: true })
                .block(view.block("Order")),
            right,
        ),
    }
}

fn status_word(s: OrderStatus) -> String {
    match s {
        OrderStatus::Ready => "READY".into(),
        other => other.as_str().into(),
    }
}

/// The kitchen's estimate against now: `ETA 10:14 (in 12 min)`.
fn eta_text(o: &Order, now: Millis, view: &View) -> Option<String> {
    if o.status.is_final() {
        return None;
    }
    let eta = parse_ms(o.eta.as_deref()?)?;
    let left = eta - now;
    let when = if left <= 0 {
        "any minute now".to_owned()
    } else {
        format!("in {} min", (left + 59_999) / 60_000)
    };
    let what = match (o.status, o.fulfillment.kind) {
        (OrderStatus::Ready, FulfillmentKind::Pickup) => return None,
        (OrderStatus::Ready, FulfillmentKind::Delivery) => "Arrives",
        (_, FulfillmentKind::Delivery) => "Delivery ETA",
        (_, FulfillmentKind::Pickup) => "Ready ETA",
    };
    Some(format!("{what} {} ({when})", clock(eta, view.utc_offset)))
}

pub(super) fn render_order(app: &App, view: &View, o: &Order, frame: &mut Frame, area: Rect) {
    let mut lines = order_head(app, view, o);
    lines.push(Line::from(""));
    lines.extend(timeline(view, o));
    lines.push(Line::from(""));
    lines.extend(order_lines(view, o));
    let keys = if matches!(o.status, OrderStatus::Scheduled | OrderStatus::Pending) {
        "x: cancel  m: change instructions"
    } else if o.status.is_final() {
        ""
    } else {
        "the kitchen has it: x/m are refused now"
    };
    let [body, foot] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)])
        .areas(view.block("").inner(area));
    frame.render_widget(view.block(format!("Order {}", clean_line(&o.code))), area);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
    frame.render_widget(Line::styled(keys, view.dim()), foot);
}

/// The order's payment in words: `visa ****4242 paid`, `cash, due on collection`.
fn payment_text(view: &View, o: &Order) -> String {
    let pay = &o.payment;
    match pay.method {
        PaymentMethod::Cash => format!(
            "cash, {}",
            match pay.status {
                PaymentStatus::Due => "due on collection",
                PaymentStatus::Void => "void",
                PaymentStatus::Paid => "paid",
                PaymentStatus::Refunded => "refunded",
            }
        ),
        PaymentMethod::Card => format!(
            "{} {}{} {}",
            clean_line(pay.brand.as_deref().unwrap_or("card")),
            view.hide().to_string().repeat(4),
            clean_line(pay.last4.as_deref().unwrap_or("")),
            match pay.status {
                PaymentStatus::Paid => "paid",
                PaymentStatus::Refunded => "refunded",
                PaymentStatus::Due => "due",
                PaymentStatus::Void => "void",
            }
        ),
    }
}

/// Code, status, how it comes, when placed, what it cost; READY, the ETA,
/// the kitchen's progress while it is made, and its newest note.
fn order_head<'a>(app: &App, view: &View, o: &Order) -> Vec<Line<'a>> {
    let mut lines: Vec<Line> = Vec::new();
    let how = match o.fulfillment.kind {
        FulfillmentKind::Pickup => "pickup".to_owned(),
        FulfillmentKind::Delivery => format!(
            "delivery to {}",
            clean_line(o.fulfillment.address.as_deref().unwrap_or(""))
        ),
    };
    lines.push(Line::from(vec![
        Span::styled(format!("{} ", clean_line(&o.code)), view.bold()),
        Span::styled(status_word(o.status), view.status(o.status)),
        Span::raw(format!("  {} {how}", view.dot())),
    ]));
    lines.push(Line::from(format!(
        "Placed {}  {} {}  {}",
        clock_of(&o.created_at, view),
        view.dot(),
        money(o.total_cents),
        payment_text(view, o)
    )));
    if o.status == OrderStatus::Ready {
        let text = match o.fulfillment.kind {
            FulfillmentKind::Pickup => "READY for pickup!",
            FulfillmentKind::Delivery => "READY: on its way to you!",
        };
        lines.push(Line::styled(
            text,
            view.good()
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ));
    }
    if let Some(at) = o.scheduled_for.as_deref().and_then(parse_ms) {
        if o.status == OrderStatus::Scheduled {
            let mut text = format!(
                "Scheduled for {}",
                fmt::day_clock(at, app.now_ms, view.utc_offset)
            );
            if let Some(fire) = fire_ms(o) {
                text.push_str(&format!(
                    " {} to the kitchen at {}",
                    view.dot(),
                    fmt::day_clock(fire, app.now_ms, view.utc_offset)
                ));
            }
            lines.push(Line::styled(text, view.bold()));
        } else if !o.status.is_final() {
            lines.push(Line::from(format!(
                "Scheduled for {}",
                fmt::day_clock(at, app.now_ms, view.utc_offset)
            )));
        }
    }
    let eta = eta_text(o, app.now_ms, view).filter(|_| o.status != OrderStatus::Scheduled);
    if let Some(eta) = eta {
        lines.push(Line::styled(eta, view.bold()));
    }
    if let Some(p) = progress(o) {
        lines.push(Line::styled(p, view.good()));
    }
    if let Some(note) = kitchen_note(o) {
        lines.push(Line::styled(
            format!("Kitchen: {}", clean_line(note)),
            view.bold(),
        ));
    }
    lines
}

/// Each step with the time it was reached, and where the order is now.
fn timeline<'a>(view: &View, o: &Order) -> Vec<Line<'a>> {
    // When the order last moved into `s`: a kitchen note later in the same
    // status does not move the time.
    let reached = |s: OrderStatus| {
        let h = &o.history;
        (0..h.len())
            .rev()
            .find(|&i| h[i].status == s && (i == 0 || h[i - 1].status != s))
            .map(|i| clock_of(&h[i].at, view))
    };
    // An order placed for later starts `scheduled` (DESIGN §14).
    let scheduled = o.history.first().map(|h| h.status) == Some(OrderStatus::Scheduled);
    let steps: &[OrderStatus] = if scheduled {
        &[
            OrderStatus::Scheduled,
            OrderStatus::Pending,
            OrderStatus::Preparing,
            OrderStatus::Ready,
            OrderStatus::Delivered,
        ]
    } else {
        &[
            OrderStatus::Pending,
            OrderStatus::Preparing,
            OrderStatus::Ready,
            OrderStatus::Delivered,
        ]
    };
    let current = steps.iter().position(|s| *s == o.status);
    let cancelled = o.status == OrderStatus::Cancelled;
    let cancelled_from = if cancelled {
        o.history
            .iter()
            .rev()
            .find(|h| h.status != OrderStatus::Cancelled)
            .and_then(|h| steps.iter().position(|s| *s == h.status))
            .unwrap_or(0)
    } else {
        0
    };
    let mut lines = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let (mark, style) = match current {
            Some(c) if i < c => ("[x]", view.dim()),
            Some(c) if i == c => ("[>]", view.status(*s).add_modifier(Modifier::BOLD)),
            None if cancelled && i <= cancelled_from => ("[x]", view.dim()),
            _ => ("[ ]", view.dim()),
        };
        let at = match (current, cancelled) {
            (Some(c), _) if i <= c => reached(*s).unwrap_or_default(),
            (None, true) if i <= cancelled_from => reached(*s).unwrap_or_default(),
            _ => String::new(),
        };
        let now = if current == Some(i) && !s.is_final() {
            "  <- now"
        } else {
            ""
        };
        lines.push(Line::styled(
            format!("{mark} {:<10} {at}{now}", s.as_str()),
            style,
        ));
    }
    if cancelled {
        let at = reached(OrderStatus::Cancelled).unwrap_or_default();
        lines.push(Line::styled(
            format!("[!] {:<10} {at}", "cancelled"),
            view.bad(),
        ));
    }
    lines
}

/// The lines (each marked `done` once the kitchen has made it, while it is
/// made), totals and the customer's instructions.
fn order_lines<'a>(view: &View, o: &Order) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    let name_width = o
        .lines
        .iter()
        .map(|l| clean_line(&l.name).chars().count())
        .max()
        .unwrap_or(0)
        .min(28);
    let making = o.status == OrderStatus::Preparing;
    for l in &o.lines {
        let done = if making && l.done.is_some() {
            "  done"
        } else {
            ""
        };
        lines.push(Line::from(format!(
            "{:>2} {} {:<name_width$} {:>8}{done}",
            l.qty,
            view.times(),
            clean_line(&l.name),
            money(l.unit_price_cents * i64::from(l.qty))
        )));
        if !l.options.is_empty() {
            lines.push(Line::from(format!(
                "    {}",
                clean_line(&options_label(&l.options))
            )));
        }
        if !l.notes.is_empty() {
            lines.push(Line::styled(
                format!("    note: {}", clean_line(&l.notes)),
                view.dim(),
            ));
        }
    }
    let mut totals = format!("Subtotal {}", money(o.subtotal_cents));
    if o.discount_cents != 0 {
        totals.push_str(&format!(
            "  discount {} ({})",
            money(-o.discount_cents),
            clean_line(o.promo_code.as_deref().unwrap_or("promo"))
        ));
    }
    totals.push_str(&format!("  total {}", money(o.total_cents)));
    lines.push(Line::from(totals));
    if !o.instructions.is_empty() {
        let modified = if o.modified { " (changed)" } else { "" };
        lines.push(Line::from(format!(
            "Instructions{modified}: {}",
            clean_text(&o.instructions).replace(['\n', '\t'], " ")
        )));
    }
    lines
}
