//! The order detail (Enter on the orders screen): who, when, each line with
//! its station and done mark, the payment and the history.

use kfood_protocol::options::options_label;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use kfood_protocol::order::{FulfillmentKind, OrderLine};
use kfood_protocol::term::Theme;
use kfood_protocol::time::parse_ms;
use kfood_protocol::{Order, OrderStatus};

use super::lists::{is_late, payment_label, status_style};
use super::{age, block, clock, clock_hm, popup, theme};
use crate::app::{clean, money, App};

/// A labelled line: `Customer     kim name (kim)`.
fn field(th: Theme, name: &str, value: String) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{name:<13}"), th.bold()),
        Span::raw(value),
    ])
}

pub fn order_detail(app: &App, frame: &mut Frame, area: Rect, order_id: u64, scroll: u16) {
    let th = theme(app);
    let r = popup(frame, area, area.width.min(100), area.height);
    let Some(o) = app.model.orders.get(&order_id) else {
        frame.render_widget(
            Paragraph::new(" This order is no longer listed.").block(block(" Order ")),
            r,
        );
        return;
    };
    let mut lines = head(app, th, o);
    lines.extend(order_lines(app, th, o));
    lines.extend(money_and_history(app, th, o));
    let cancellable = matches!(o.status, OrderStatus::Pending | OrderStatus::Preparing);
    let title = if cancellable {
        format!(" Order {} · c cancel · Esc close ", clean(&o.code))
    } else {
        format!(" Order {} · Esc close ", clean(&o.code))
    };
    frame.render_widget(
        Paragraph::new(lines)
            .block(block(title))
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        r,
    );
}

/// Code, status, customer, times and fulfilment.
fn head(app: &App, th: Theme, o: &Order) -> Vec<Line<'static>> {
    let created = parse_ms(&o.created_at).unwrap_or(app.now_ms);
    let mut head = vec![
        Span::styled(clean(&o.code), th.bold()),
        Span::raw("  "),
        Span::styled(o.status.as_str(), status_style(th, o.status)),
    ];
    if is_late(o, app.now_ms) {
        head.push(Span::raw("  "));
        head.push(Span::styled("LATE", th.bad()));
    }
    if o.modified {
        head.push(Span::styled("  modified by the customer", th.warn()));
    }
    let eta = match o.eta.as_deref().and_then(parse_ms) {
        Some(e) => format!("   eta {}", clock_hm(e, app.offset)),
        None => String::new(),
    };
    vec![
        Line::from(head),
        field(
            th,
            "Customer",
            format!("{} ({})", clean(&o.customer.name), clean(&o.customer.id)),
        ),
        field(
            th,
            "Placed",
            format!(
                "{} ({} ago){eta}   prep {} min",
                clock(created, app.offset),
                age(app.now_ms - created),
                o.prep_minutes
            ),
        ),
        field(
            th,
            "Fulfilment",
            match o.fulfillment.kind {
                FulfillmentKind::Pickup => "pickup".into(),
                FulfillmentKind::Delivery => format!(
                    "delivery to {} ({} min ride)",
                    clean(o.fulfillment.address.as_deref().unwrap_or("?")),
                    o.delivery_minutes
                ),
            },
        ),
    ]
}

/// Each line with its station and done mark (`[x] by Kim 18:05`, `[ ]`),
/// its notes, then the order's instructions.
fn order_lines(app: &App, th: Theme, o: &Order) -> Vec<Line<'static>> {
    let done = o.lines_done();
    let mut lines = vec![Line::from(vec![
        Span::styled("Lines", th.bold()),
        Span::styled(format!("  {done} of {} done", o.lines.len()), th.dim()),
    ])];
    for l in &o.lines {
        lines.push(line_row(app, th, l));
        if !l.options.is_empty() {
            // The chosen options under the line, as the kitchen's tickets read them.
            let label = options_label(&l.options);
            lines.push(Line::styled(
                format!("        · {}", clean(&label)),
                th.dim(),
            ));
        }
        for note in kfood_protocol::sanitize::clean_text(&l.notes).lines() {
            if !note.trim().is_empty() {
                lines.push(Line::from(Span::styled(
                    format!("           note: {}", clean(note)),
                    th.warn(),
                )));
            }
        }
    }
    let instructions = kfood_protocol::sanitize::clean_text(&o.instructions);
    if !instructions.trim().is_empty() {
        lines.push(Line::from(Span::styled("Instructions", th.bold())));
        for l in instructions.lines() {
            lines.push(Line::from(format!("  {}", clean(l))));
        }
    }
    lines
}

/// `  [x]  2 × Bibimbap   wok      $13.50    $27.00  by Kim 09:41`
fn line_row(app: &App, th: Theme, l: &OrderLine) -> Line<'static> {
    let (mark, by, style) = match &l.done {
        Some(m) => {
            let when = parse_ms(&m.at)
                .map(|ms| clock_hm(ms, app.offset))
                .unwrap_or_default();
            let by = format!("  by {} {when}", clean(&m.by.name));
            ("[x]", by, th.good())
        }
        None => ("[ ]", String::new(), Style::new()),
    };
    Line::from(vec![
        Span::styled(format!("  {mark} "), style),
        Span::raw(format!(
            "{:>2} × {:<20} {:<8} {:>8} {:>9}",
            l.qty,
            clean(&l.name),
            clean(&l.station),
            money(l.unit_price_cents),
            money(l.unit_price_cents * i64::from(l.qty))
        )),
        Span::styled(by, th.dim()),
    ])
}

/// Total, payment and the status history.
fn money_and_history(app: &App, th: Theme, o: &Order) -> Vec<Line<'static>> {
    let promo = o
        .promo_code
        .as_deref()
        .map(|c| format!(" ({})", clean(c)))
        .unwrap_or_default();
    let mut lines = vec![field(
        th,
        "Total",
        format!(
            "{}  (subtotal {}, discount {}{promo})",
            money(o.total_cents),
            money(o.subtotal_cents),
            money(o.discount_cents)
        ),
    )];
    let p = &o.payment;
    let mut pay = payment_label(o);
    if let (Some(brand), Some(last4)) = (&p.brand, &p.last4) {
        pay.push_str(&format!(" · {} ending {}", clean(brand), clean(last4)));
    }
    if let Some(a) = p.amount_cents {
        pay.push_str(&format!(" · {}", money(a)));
    }
    if let Some(id) = &p.id {
        pay.push_str(&format!(" · {}", clean(id)));
    }
    lines.push(field(th, "Payment", pay));
    lines.push(Line::from(Span::styled("History", th.bold())));
    for h in &o.history {
        let at = parse_ms(&h.at)
            .map(|ms| clock(ms, app.offset))
            .unwrap_or_else(|| "?".into());
        let note = h
            .note
            .as_deref()
            .map(|n| format!(" · {}", clean(n)))
            .unwrap_or_default();
        lines.push(Line::from(vec![
            Span::raw(format!("  {at}  ")),
            Span::styled(
                format!("{:<10}", h.status.as_str()),
                status_style(th, h.status),
            ),
            Span::raw(format!(" by {} ({}){note}", clean(&h.by.name), h.by.role)),
        ]));
    }
    lines
}
