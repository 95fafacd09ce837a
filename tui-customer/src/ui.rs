//! Drawing: a pure function of [`App`]. Every state shown by colour is also
//! written out (`86`, `stale`, `READY`, `offline`) so the screen reads
//! without colour and in a plain capture. Text from the relay is cleaned of
//! control characters here, right before it is drawn.

use kfood_protocol::menu::MenuItem;
use kfood_protocol::order::{FulfillmentKind, PaymentMethod, PaymentStatus};
use kfood_protocol::sanitize::{clean_line, clean_text};
use kfood_protocol::time::{parse_ms, Millis};
use kfood_protocol::{Order, OrderStatus};
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Cell, Clear, HighlightSpacing, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;
use time::UtcOffset;

use kfood_protocol::term::status::{self, Tone};
use kfood_protocol::term::{fmt, small, Theme};

use crate::app::{AddFocus, App, Level, Overlay, Screen};
use crate::checkout::{mask_number, Checkout, Field};
use crate::keys::{HELP, TEST_CARDS};

/// How to draw, fixed at start: colour and glyphs (the shared [`Theme`],
/// whose styles it lends), the local time zone.
#[derive(Debug, Clone, Copy)]
pub struct View {
    pub theme: Theme,
    pub utc_offset: UtcOffset,
}

impl Default for View {
    fn default() -> Self {
        View {
            theme: Theme::default(),
            utc_offset: UtcOffset::UTC,
        }
    }
}

impl std::ops::Deref for View {
    type Target = Theme;
    fn deref(&self) -> &Theme {
        &self.theme
    }
}

impl View {
    /// The selection mark and its space.
    fn sel(&self) -> &'static str {
        if self.ascii {
            "> "
        } else {
            "▶ "
        }
    }
}

/// Multi-line text from the network on one line.
pub fn one_line(s: &str) -> String {
    clean_text(s).replace(['\n', '\t'], " ")
}

pub use kfood_protocol::term::fmt::{clock, money};

fn clock_of(s: &str, view: &View) -> String {
    fmt::clock_of(s, view.utc_offset)
}

pub fn render(app: &App, view: &View, frame: &mut Frame) {
    if small::guard(frame) {
        return;
    }
    // A long message gets a second line rather than being cut off.
    let flash_rows = match &app.flash {
        Some(f) if f.text.chars().count() + 1 > usize::from(frame.area().width) => 2,
        _ => 1,
    };
    let [head, body, flash, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(5),
        Constraint::Length(flash_rows),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    render_tabs(app, view, frame, head);
    match &app.overlay {
        Overlay::Checkout(form) => render_checkout(app, view, form, frame, body),
        _ => match app.screen {
            Screen::Menu => render_menu(app, view, frame, body),
            Screen::Cart => render_cart(app, view, frame, body),
            Screen::Orders => render_orders(app, view, frame, body),
            Screen::Notifications => render_notices(app, view, frame, body),
        },
    }
    render_flash(app, view, frame, flash);
    render_status(app, view, frame, status);
    match &app.overlay {
        Overlay::Help => render_help(view, frame, frame.area()),
        Overlay::AddItem {
            item_id,
            qty,
            note,
            focus,
            ..
        } => render_add(app, view, frame, body, item_id, *qty, note, *focus),
        Overlay::EditNote { line, note } => {
            let name = app
                .cart
                .get(*line)
                .map(|l| clean_line(&app.line_name(&l.item_id)))
                .unwrap_or_default();
            let title = format!("Note for {name}");
            let help = "Enter: save  Esc: cancel";
            render_prompt(view, frame, body, &title, "Note", note, help);
        }
        Overlay::Cancel { order_id, reason } => {
            let title = format!("Cancel {}?", code_of(app, *order_id));
            let help = "Enter: cancel the order  Esc: keep it";
            render_prompt(view, frame, body, &title, "Reason", reason, help);
        }
        Overlay::Modify {
            order_id,
            instructions,
        } => {
            let title = format!("Instructions for {}", code_of(app, *order_id));
            let help = "Enter: send to the kitchen  Esc: cancel";
            render_prompt(view, frame, body, &title, "Text", instructions, help);
        }
        _ => {}
    }
}

fn code_of(app: &App, id: u64) -> String {
    app.orders
        .iter()
        .find(|o| o.id == id)
        .map(|o| clean_line(&o.code))
        .unwrap_or_else(|| kfood_protocol::order::order_code(id))
}

fn render_tabs(app: &App, view: &View, frame: &mut Frame, area: Rect) {
    let mut spans = vec![Span::styled(" KfoodDelights ", view.bold())];
    for (i, s) in Screen::ALL.iter().enumerate() {
        let count = match s {
            Screen::Cart if app.cart_count() > 0 => format!(" ({})", app.cart_count()),
            Screen::Orders if app.open_orders() > 0 => format!(" ({})", app.open_orders()),
            Screen::Notifications if app.unread() > 0 => format!(" ({} new)", app.unread()),
            _ => String::new(),
        };
        let label = format!("{} {}{}", i + 1, s.title(), count);
        if *s == app.screen {
            spans.push(Span::styled(format!("[{label}]"), view.selected()));
        } else {
            spans.push(Span::raw(format!(" {label} ")));
        }
    }
    let used: usize = spans.iter().map(|s| s.width()).sum();
    if used + 8 <= usize::from(area.width) {
        spans.push(Span::styled("  ? keys", view.dim()));
    }
    frame.render_widget(Line::from(spans), area);
}

fn stale_mark(app: &App) -> &'static str {
    if app.stale() {
        " [stale]"
    } else {
        ""
    }
}

fn render_menu(app: &App, view: &View, frame: &mut Frame, area: Rect) {
    let cat_width = if area.width >= 100 { 26 } else { 23 };
    let [left, right] =
        Layout::horizontal([Constraint::Length(cat_width), Constraint::Min(30)]).areas(area);
    let cats = app.categories();
    let searching = !app.search.is_empty() || matches!(app.overlay, Overlay::Search);
    let rows: Vec<Row> = cats
        .iter()
        .map(|c| Row::new(vec![Cell::from(clean_line(c))]))
        .collect();
    let table = Table::new(rows, [Constraint::Min(5)])
        .column_spacing(0)
        .block(view.block("Categories"))
        .row_highlight_style(if searching {
            Style::new()
        } else {
            view.selected()
        })
        .highlight_symbol(view.sel())
        .highlight_spacing(HighlightSpacing::Always);
    let mut st = TableState::default()
        .with_selected((!searching && !cats.is_empty()).then_some(app.category));
    frame.render_stateful_widget(table, left, &mut st);

    let [list, detail] = Layout::vertical([Constraint::Min(3), Constraint::Length(5)]).areas(right);
    let items = app.visible_items();
    let title = if searching {
        let cursor = if matches!(app.overlay, Overlay::Search) {
            "_"
        } else {
            ""
        };
        format!(
            "Search: {}{cursor} ({} found){}",
            clean_line(&app.search),
            items.len(),
            stale_mark(app)
        )
    } else {
        let cat = cats
            .get(app.category)
            .map(|c| clean_line(c))
            .unwrap_or_default();
        format!("{cat}{}", stale_mark(app))
    };
    let wide = right.width >= 90;
    let rows: Vec<Row> = items
        .iter()
        .map(|i| {
            let in_cart: u32 = app
                .cart
                .iter()
                .filter(|l| l.item_id == i.id)
                .map(|l| l.qty)
                .sum();
            let mut name = clean_line(&i.name);
            if searching {
                name = format!("{name} ({})", clean_line(&i.category));
            }
            let avail = if i.available {
                Cell::from("")
            } else {
                Cell::from(Span::styled("86", view.bad()))
            };
            let style = if i.available {
                Style::new()
            } else {
                view.dim()
            };
            Row::new(vec![
                Cell::from(name),
                avail,
                Cell::from(Line::from(money(i.price_cents)).right_aligned()),
                Cell::from(Line::from(format!("{} min", i.prep_minutes)).right_aligned()),
                Cell::from(if in_cart > 0 {
                    format!("{}{in_cart}", view.times())
                } else {
                    String::new()
                }),
                Cell::from(Span::styled(
                    if wide {
                        clean_line(&i.description)
                    } else {
                        String::new()
                    },
                    view.dim(),
                )),
            ])
            .style(style)
        })
        .collect();
    let empty = rows.is_empty();
    let table = Table::new(
        rows,
        [
            if wide {
                Constraint::Length(32)
            } else {
                Constraint::Min(10)
            },
            Constraint::Length(2),
            Constraint::Length(8),
            Constraint::Length(7),
            Constraint::Length(4),
            if wide {
                Constraint::Fill(1)
            } else {
                Constraint::Length(0)
            },
        ],
    )
    .block(view.block(title))
    .row_highlight_style(view.selected())
    .highlight_symbol(view.sel())
    .highlight_spacing(HighlightSpacing::Always);
    let mut st = TableState::default().with_selected((!empty).then_some(app.item_sel));
    frame.render_stateful_widget(table, list, &mut st);
    if empty {
        let inner = list.inner(ratatui::layout::Margin::new(2, 1));
        let text = if app.menu.is_empty() {
            "Waiting for the menu from the relay..."
        } else {
            "Nothing matches."
        };
        frame.render_widget(Paragraph::new(text).style(view.dim()), inner);
    }

    let mut lines = Vec::new();
    if let Some(item) = app.selected_item() {
        lines.push(item_summary(item, view));
        lines.push(Line::from(clean_line(&item.description)));
    }
    lines.push(Line::styled(
        "Enter: add  +: add one  Left/Right: category  /: search",
        view.dim(),
    ));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(view.block("Item")),
        detail,
    );
}

fn item_summary<'a>(item: &MenuItem, view: &View) -> Line<'a> {
    let mut spans = vec![
        Span::styled(clean_line(&item.name), view.bold()),
        Span::raw(format!(
            "  {}  {} {} min",
            money(item.price_cents),
            view.dot(),
            item.prep_minutes
        )),
    ];
    if !item.available {
        spans.push(Span::styled("  86 - unavailable", view.bad()));
    }
    Line::from(spans)
}

fn render_cart(app: &App, view: &View, frame: &mut Frame, area: Rect) {
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
            let mut name = Line::from(clean_line(&app.line_name(&l.item_id)));
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
                Cell::from(
                    Line::from(item.map(|i| money(i.price_cents)).unwrap_or_default())
                        .right_aligned(),
                ),
                Cell::from(
                    Line::from(
                        item.map(|i| money(i.price_cents * i64::from(l.qty)))
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

fn render_checkout(app: &App, view: &View, form: &Checkout, frame: &mut Frame, area: Rect) {
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
                clean_line(&app.line_name(&l.item_id))
            )
        })
        .collect();
    lines.push(Line::from(vec![
        Span::styled("Order: ", view.bold()),
        Span::raw(summary.join(", ")),
    ]));
    lines.push(Line::from(""));
    let choice = |on: bool, label: &str| {
        let mark = if on { "(*) " } else { "( ) " };
        Span::styled(
            format!("{mark}{label}  "),
            if on { view.bold() } else { view.dim() },
        )
    };
    for field in form.fields() {
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
        lines.push(Line::from(spans));
    }
    lines.push(Line::from(""));
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
        }
    }
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

fn render_cart_lines(app: &App, view: &View, frame: &mut Frame, area: Rect) {
    let mut lines = Vec::new();
    for l in &app.cart {
        let name = clean_line(&app.line_name(&l.item_id));
        let price = app
            .item(&l.item_id)
            .map(|i| money(i.price_cents * i64::from(l.qty)))
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

fn render_orders(app: &App, view: &View, frame: &mut Frame, area: Rect) {
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

fn render_order(app: &App, view: &View, o: &Order, frame: &mut Frame, area: Rect) {
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
    let pay = &o.payment;
    let pay_text = match pay.method {
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
    };
    lines.push(Line::from(format!(
        "Placed {}  {} {}  {}",
        clock_of(&o.created_at, view),
        view.dot(),
        money(o.total_cents),
        pay_text
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
    if let Some(eta) = eta_text(o, app.now_ms, view) {
        lines.push(Line::styled(eta, view.bold()));
    }
    lines.push(Line::from(""));
    // The timeline: each step with the time it was reached.
    let reached = |s: OrderStatus| {
        o.history
            .iter()
            .rev()
            .find(|h| h.status == s)
            .map(|h| clock_of(&h.at, view))
    };
    let steps = [
        OrderStatus::Pending,
        OrderStatus::Preparing,
        OrderStatus::Ready,
        OrderStatus::Delivered,
    ];
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
    lines.push(Line::from(""));
    let name_width = o
        .lines
        .iter()
        .map(|l| clean_line(&l.name).chars().count())
        .max()
        .unwrap_or(0)
        .min(28);
    for l in &o.lines {
        lines.push(Line::from(format!(
            "{:>2} {} {:<name_width$} {:>8}",
            l.qty,
            view.times(),
            clean_line(&l.name),
            money(l.unit_price_cents * i64::from(l.qty))
        )));
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
    if let Some(note) = o.history.iter().rev().find_map(|h| h.note.as_deref()) {
        lines.push(Line::styled(
            format!("Kitchen: {}", clean_line(note)),
            view.dim(),
        ));
    }
    let keys = if o.status == OrderStatus::Pending {
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

fn render_notices(app: &App, view: &View, frame: &mut Frame, area: Rect) {
    let [list, detail] = Layout::vertical([Constraint::Min(3), Constraint::Length(7)]).areas(area);
    let rows: Vec<Row> = app
        .notices
        .iter()
        .map(|n| {
            let a = &n.announcement;
            let kind = format!("{:?}", a.kind).to_lowercase();
            Row::new(vec![
                Cell::from(Span::styled(
                    if n.unread { "new" } else { "" },
                    view.warn().add_modifier(Modifier::BOLD),
                )),
                Cell::from(clock_of(&a.created_at, view)),
                Cell::from(kind),
                Cell::from(one_line(&a.text)),
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
            Paragraph::new("No announcements. News, maintenance notices and promotions show here.")
                .style(view.dim())
                .wrap(Wrap { trim: true }),
            inner,
        );
    }
    let text = app
        .notices
        .get(app.notice_sel)
        .map(|n| {
            let a = &n.announcement;
            let mut t = Text::from(Line::styled(
                format!("From {}", clean_line(&a.by.name)),
                view.dim(),
            ));
            for l in clean_text(&a.text).lines() {
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

fn render_flash(app: &App, view: &View, frame: &mut Frame, area: Rect) {
    let Some(f) = &app.flash else {
        return;
    };
    let style = match f.level {
        Level::Info => Style::new(),
        Level::Good => view.good(),
        Level::Error => view.bad(),
        Level::Ready => view
            .good()
            .add_modifier(Modifier::BOLD | Modifier::REVERSED),
    };
    frame.render_widget(
        Paragraph::new(format!(" {}", clean_line(&f.text)))
            .style(style)
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn render_status(app: &App, view: &View, frame: &mut Frame, area: Rect) {
    let conn = status::conn_text(&app.conn);
    let style = match status::conn_tone(&app.conn) {
        Tone::Good => view.good(),
        Tone::Warn => view.warn(),
        Tone::Bad => view.bad(),
    };
    let user = app
        .user
        .as_ref()
        .map(|u| clean_line(&u.name))
        .unwrap_or_else(|| "-".into());
    let mut spans = vec![
        Span::styled(format!(" {conn} "), style.add_modifier(Modifier::REVERSED)),
        Span::raw(format!(" {user} {} {}", view.dot(), clean_line(&app.relay))),
    ];
    if app.unread() > 0 {
        spans.push(Span::styled(
            format!(" {} {} unread", view.dot(), app.unread()),
            view.warn(),
        ));
    }
    frame.render_widget(Line::from(spans), area);
}

fn popup(area: Rect, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [h] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    h
}

fn render_help(view: &View, frame: &mut Frame, area: Rect) {
    let mut lines: Vec<Line> = Vec::new();
    for (keys, what) in HELP {
        if what.is_empty() {
            lines.push(Line::styled(keys.to_string(), view.bold()));
        } else {
            lines.push(Line::from(format!("  {keys:<16}{what}")));
        }
    }
    lines.push(Line::styled(
        "Test cards (any future expiry, any CVC)",
        view.bold(),
    ));
    for (card, result) in TEST_CARDS {
        lines.push(Line::from(format!("  {card}  {result}")));
    }
    let height = lines.len() as u16 + 2;
    let area = popup(area, 80, height);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(view.block("Keys (any key closes)")),
        area,
    );
}

#[allow(clippy::too_many_arguments)]
fn render_add(
    app: &App,
    view: &View,
    frame: &mut Frame,
    area: Rect,
    item_id: &str,
    qty: u32,
    note: &str,
    focus: AddFocus,
) {
    let Some(item) = app.item(item_id) else {
        return;
    };
    let area = popup(area, 60, 8);
    frame.render_widget(Clear, area);
    let mark = |f: AddFocus| if f == focus { view.sel() } else { "  " };
    let cursor = if focus == AddFocus::Note { "_" } else { "" };
    let lines = vec![
        item_summary(item, view),
        Line::from(""),
        Line::from(format!("{}Quantity  - {qty} +", mark(AddFocus::Qty))),
        Line::from(format!(
            "{}Note      {}{cursor}",
            mark(AddFocus::Note),
            note
        )),
        Line::from(""),
        Line::styled(
            format!(
                "Enter: add {}  Tab: note/quantity  Esc: cancel",
                money(item.price_cents * i64::from(qty))
            ),
            view.dim(),
        ),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(view.block(format!("Add {}", clean_line(&item.name)))),
        area,
    );
}

fn render_prompt(
    view: &View,
    frame: &mut Frame,
    area: Rect,
    title: &str,
    label: &str,
    text: &str,
    help: &str,
) {
    let area = popup(area, 66, 6);
    frame.render_widget(Clear, area);
    let lines = vec![
        Line::from(""),
        Line::from(format!("{label}: {text}_")),
        Line::from(""),
        Line::styled(help.to_owned(), view.dim()),
    ];
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(view.block(title.to_owned())),
        area,
    );
}
