//! The Cart screen and the checkout form drawn over it.

use kfood_protocol::sanitize::clean_line;
use kfood_protocol::term::fmt;
use kfood_protocol::time::parse_ms;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Cell, HighlightSpacing, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

use super::{money, stale_mark, View};
use crate::app::App;
use crate::checkout::{mask_number, Checkout, Field};
use crate::keys::TEST_CARDS;

pub(super) fn render_cart(app: &App, view: &View, frame: &mut Frame, area: Rect) {
    let [list, foot] = Layout::vertical([Constraint::Min(3), Constraint::Length(5)]).areas(area);
    let n = app.cart_count();
    let title = format!(
        "Cart ({n} item{}){}",
        if n == 1 { "" } else { "s" },
        stale_mark(app)
    );
    let rows: Vec<Row> = app
        .cart
        .iter()
        .map(|l| {
            let item = app.item(&l.item_id);
            let unit = app.unit_price(&l.item_id, &l.options);
            let mut name = Line::from(clean_line(&app.cart_line_label(l)));
            match item {
                None => name.push_span(Span::styled("  not on the menu", view.bad())),
                Some(i) if !i.available => {
                    name.push_span(Span::styled("  86 - unavailable", view.bad()))
                }
                _ => {}
            }
            let note = if l.notes.is_empty() {
                Line::from("")
            } else {
                Line::styled(format!("note: {}", clean_line(&l.notes)), view.dim())
            };
            let height = if l.notes.is_empty() { 1 } else { 2 };
            Row::new(vec![
                Cell::from(Line::from(format!("{} {}", l.qty, view.times())).right_aligned()),
                Cell::from(Text::from(vec![name, note])),
                Cell::from(Line::from(unit.map(money).unwrap_or_default()).right_aligned()),
                Cell::from(
                    Line::from(
                        unit.map(|p| money(p * i64::from(l.qty)))
                            .unwrap_or_default(),
                    )
                    .right_aligned(),
                ),
            ])
            .height(height)
        })
        .collect();
    let empty = rows.is_empty();
    let table = Table::new(
        rows,
        [
            Constraint::Length(5),
            Constraint::Min(10),
            Constraint::Length(9),
            Constraint::Length(10),
        ],
    )
    .block(view.block(title))
    .row_highlight_style(view.selected())
    .highlight_symbol(view.sel())
    .highlight_spacing(HighlightSpacing::Always);
    let mut st = TableState::default().with_selected((!empty).then_some(app.cart_sel));
    frame.render_stateful_widget(table, list, &mut st);
    if empty {
        let inner = list.inner(ratatui::layout::Margin::new(2, 1));
        frame.render_widget(
            Paragraph::new("The cart is empty. Press 1 for the menu, Enter to add an item.")
                .style(view.dim()),
            inner,
        );
    }
    let subtotal = match app.cart_subtotal() {
        Some(s) => money(s),
        None => "-".into(),
    };
    let lines = vec![
        Line::from(vec![
            Span::raw("Subtotal at menu prices "),
            Span::styled(subtotal, view.bold()),
        ]),
        Line::styled(
            "The relay prices the order (promo, total) at checkout.",
            view.dim(),
        ),
        Line::styled(
            "+/-: quantity  n: note  d: remove  c or Enter: check out",
            view.dim(),
        ),
    ];
    frame.render_widget(Paragraph::new(lines).block(view.block("Total")), foot);
}

pub(super) fn render_checkout(
    app: &App,
    view: &View,
    form: &Checkout,
    frame: &mut Frame,
    area: Rect,
) {
    let block = view.block(format!("Checkout{}", stale_mark(app)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // Wide terminals get the order's lines beside the form.
    let inner = if inner.width >= 100 {
        let [form_area, side] =
            Layout::horizontal([Constraint::Min(60), Constraint::Length(46)]).areas(inner);
        render_cart_lines(app, view, frame, side);
        form_area
    } else {
        inner
    };
    let mut lines: Vec<Line> = Vec::new();
    let summary: Vec<String> = app
        .cart
        .iter()
        .map(|l| {
            format!(
                "{} {} {}",
                l.qty,
                view.times(),
                clean_line(&app.cart_line_label(l))
            )
        })
        .collect();
    lines.push(Line::from(vec![
        Span::styled("Order: ", view.bold()),
        Span::raw(summary.join(", ")),
    ]));
    lines.push(Line::from(""));
    for field in form.fields() {
        lines.push(checkout_field(app, view, form, field));
    }
    lines.push(Line::from(""));
    lines.extend(checkout_total(app, view, form));
    if let Some(p) = &form.problem {
        lines.push(Line::styled(format!("! {}", p.text), view.bad()));
    }
    if let Some(n) = &form.notice {
        lines.push(Line::styled(n.clone(), view.warn()));
    }
    let pay = match form.current_quote(&app.cart) {
        Some(q) if !form.placing => format!("Enter: pay {}  ", money(q.total_cents)),
        _ => String::new(),
    };
    lines.push(Line::styled(
        format!("{pay}Tab: next field  Esc: back to the cart"),
        view.dim(),
    ));
    if !form.cash {
        let cards: Vec<String> = TEST_CARDS
            .iter()
            .map(|(n, r)| format!("{} {r}", n.replace(' ', "")))
            .collect();
        lines.push(Line::styled(
            format!("Test cards: {}", cards.join(", ")),
            view.dim(),
        ));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

pub(super) fn render_cart_lines(app: &App, view: &View, frame: &mut Frame, area: Rect) {
    let mut lines = Vec::new();
    for l in &app.cart {
        let name = clean_line(&app.cart_line_label(l));
        let price = app
            .unit_price(&l.item_id, &l.options)
            .map(|p| money(p * i64::from(l.qty)))
            .unwrap_or_default();
        lines.push(Line::from(format!(
            "{:>2} {} {:<26} {:>9}",
            l.qty,
            view.times(),
            name,
            price
        )));
        if !l.notes.is_empty() {
            lines.push(Line::styled(
                format!("     note: {}", clean_line(&l.notes)),
                view.dim(),
            ));
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(view.block("Your order (menu prices)")),
        area,
    );
}

/// One field of the checkout form, with its hint (card fields are checked
/// as they are typed).
fn checkout_field<'a>(app: &App, view: &View, form: &Checkout, field: Field) -> Line<'a> {
    let choice = |on: bool, label: &str| {
        let mark = if on { "(*) " } else { "( ) " };
        Span::styled(
            format!("{mark}{label}  "),
            if on { view.bold() } else { view.dim() },
        )
    };
    let focused = field == form.field;
    let mut spans = vec![
        Span::raw(if focused { view.sel() } else { "  " }),
        Span::styled(
            format!("{:<14}", field.label()),
            if focused { view.bold() } else { Style::new() },
        ),
    ];
    let cursor = if focused { "_" } else { "" };
    match field {
        Field::Fulfillment => {
            spans.push(choice(!form.delivery, "pickup"));
            spans.push(choice(form.delivery, "delivery"));
        }
        Field::When => {
            spans.push(choice(form.when.is_none(), "as soon as possible"));
            match form.when {
                Some(at) => {
                    let day = fmt::day_clock(at, app.now_ms, view.utc_offset);
                    spans.push(choice(true, &day));
                    if at < form.earliest {
                        spans.push(Span::styled("too soon now", view.warn()));
                    }
                }
                None => spans.push(choice(false, "later")),
            }
            if focused {
                spans.push(Span::styled("<-/-> PgUp/PgDn", view.dim()));
            }
        }
        Field::Payment => {
            spans.push(choice(!form.cash, "card"));
            spans.push(choice(form.cash, "cash"));
        }
        Field::Address => spans.push(Span::raw(format!("{}{cursor}", form.address))),
        Field::Instructions => spans.push(Span::raw(format!("{}{cursor}", form.instructions))),
        Field::Promo => spans.push(Span::raw(format!("{}{cursor}", form.promo))),
        Field::Number => spans.push(Span::raw(format!(
            "{:<20}",
            format!("{}{cursor}", mask_number(&form.number, view.hide()))
        ))),
        Field::Expiry => spans.push(Span::raw(format!(
            "{:<20}",
            format!("{}{cursor}", form.exp)
        ))),
        Field::Cvc => spans.push(Span::raw(format!(
            "{:<20}",
            format!(
                "{}{cursor}",
                std::iter::repeat_n(view.hide(), form.cvc.len()).collect::<String>()
            )
        ))),
    }
    let typed = match field {
        Field::Number => !form.number.is_empty(),
        Field::Expiry => !form.exp.is_empty(),
        Field::Cvc => !form.cvc.is_empty(),
        _ => false,
    };
    match form.card_hint(field, app.now_ms) {
        Some(Ok(text)) => spans.push(Span::styled(
            format!(" ok {text}").trim_end().to_owned(),
            view.good(),
        )),
        Some(Err(text)) if typed => spans.push(Span::styled(format!(" {text}"), view.warn())),
        _ => {}
    }
    if field == Field::Address && form.delivery && form.address.trim().is_empty() && !focused {
        spans.push(Span::styled("needed for delivery", view.warn()));
    }
    Line::from(spans)
}

/// The total as the relay priced it, or why there is none yet.
fn checkout_total<'a>(app: &App, view: &View, form: &Checkout) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    match form.current_quote(&app.cart) {
        Some(q) => {
            lines.push(Line::from(format!(
                "  {:<14}{}",
                "Subtotal",
                money(q.subtotal_cents)
            )));
            let promo = if form.promo.is_empty() {
                String::new()
            } else {
                format!("  ({})", form.promo)
            };
            lines.push(Line::from(format!(
                "  {:<14}{}{promo}",
                "Discount",
                money(-q.discount_cents)
            )));
            lines.push(Line::from(vec![
                Span::styled(
                    format!("  {:<14}{}", "Total", money(q.total_cents)),
                    view.bold(),
                ),
                Span::styled("  priced by the relay", view.dim()),
            ]));
            lines.push(ready_line(app, view, form, q.ready_at.as_deref()));
        }
        None => {
            let why = if form.quoting.is_some() {
                "asking the relay for the price..."
            } else if !form.quotable(&app.cart) {
                "priced once the delivery address is in"
            } else {
                "not priced yet: press Enter to get the price"
            };
            lines.push(Line::from(format!("  {:<14}{why}", "Total")));
            lines.push(Line::from(""));
            lines.push(Line::from(""));
            lines.push(Line::from(""));
        }
    }
    lines
}

/// When the order will be ready, as the relay quoted it (DESIGN §14):
/// "ready about 18:40" as soon as possible, "scheduled for 18:30" for later.
fn ready_line<'a>(app: &App, view: &View, form: &Checkout, ready_at: Option<&str>) -> Line<'a> {
    let ready = ready_at.and_then(parse_ms);
    let text = match (form.when, ready) {
        (Some(at), _) => format!(
            "scheduled for {}",
            fmt::day_clock(at, app.now_ms, view.utc_offset)
        ),
        (None, Some(r)) => format!("about {}", fmt::day_clock(r, app.now_ms, view.utc_offset)),
        (None, None) => "as soon as the kitchen can".into(),
    };
    let label = match (form.when.is_some(), form.delivery) {
        (false, _) => "Ready",
        (true, false) => "Pickup",
        (true, true) => "Delivery",
    };
    Line::from(vec![
        Span::raw(format!("  {label:<14}")),
        Span::styled(text, view.bold()),
    ])
}
