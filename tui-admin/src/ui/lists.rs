//! Screens 2–8: one table each, the selected row reversed and marked `>`.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, HighlightSpacing, Paragraph, Row, Table, TableState};
use ratatui::Frame;

use kfood_protocol::messages::{AnnouncementKind, Severity};
use kfood_protocol::order::{PaymentMethod, PaymentStatus};
use kfood_protocol::time::parse_ms;
use kfood_protocol::{Order, OrderStatus};

use super::{age, block, clock, clock_hm, theme, Theme};
use crate::app::{activity_kind_label, audience_label, clean, money, App, OrderSort};

fn table<'a>(
    th: Theme,
    title: Line<'static>,
    header: &[&'static str],
    rows: Vec<Row<'a>>,
    widths: Vec<Constraint>,
) -> Table<'a> {
    Table::new(rows, widths)
        .header(Row::new(header.iter().map(|h| Cell::from(*h))).style(th.bold()))
        .block(block(title))
        .row_highlight_style(th.selected())
        .highlight_symbol("> ")
        .highlight_spacing(HighlightSpacing::Always)
}

fn draw(frame: &mut Frame, area: Rect, t: Table, selected: Option<usize>, empty: Option<&str>) {
    let inner = area.inner(ratatui::layout::Margin::new(1, 1));
    let mut state = TableState::default().with_selected(selected);
    frame.render_stateful_widget(t, area, &mut state);
    if let Some(msg) = empty {
        if inner.height > 1 {
            let r = Rect {
                y: inner.y + 1,
                height: 1,
                ..inner
            };
            frame.render_widget(Paragraph::new(format!("  {msg}")), r);
        }
    }
}

/// Rows of the pane under a list that shows the selected row in full.
const DETAIL_ROWS: u16 = 6;

/// Splits off a detail pane at the bottom when the screen has room for it.
fn with_detail(area: Rect) -> (Rect, Option<Rect>) {
    if area.height < DETAIL_ROWS + 6 {
        return (area, None);
    }
    let [list, detail] =
        ratatui::layout::Layout::vertical([Constraint::Min(4), Constraint::Length(DETAIL_ROWS)])
            .areas(area);
    (list, Some(detail))
}

fn detail(frame: &mut Frame, area: Rect, title: String, lines: Vec<Line<'static>>) {
    frame.render_widget(
        Paragraph::new(lines)
            .block(block(title))
            .wrap(ratatui::widgets::Wrap { trim: false }),
        area,
    );
}

pub fn alert_kind_label(k: kfood_protocol::messages::AlertKind) -> &'static str {
    use kfood_protocol::messages::AlertKind::*;
    match k {
        OrderLate => "late order",
        NoCrew => "no crew",
        PaymentFailures => "payment fails",
        StoreError => "store error",
    }
}

pub fn is_late(o: &Order, now: i64) -> bool {
    o.is_late(now)
}

pub fn status_style(th: Theme, s: OrderStatus) -> Style {
    match s {
        OrderStatus::Scheduled => th.dim(),
        OrderStatus::Pending => th.warn(),
        OrderStatus::Preparing => th.accent(),
        OrderStatus::Ready => th.good(),
        OrderStatus::Delivered => th.dim(),
        OrderStatus::Cancelled => th.dim(),
    }
}

pub fn payment_label(o: &Order) -> String {
    let method = match o.payment.method {
        PaymentMethod::Card => "card",
        PaymentMethod::Cash => "cash",
    };
    let status = match o.payment.status {
        PaymentStatus::Paid => "paid",
        PaymentStatus::Due => "due",
        PaymentStatus::Refunded => "refunded",
        PaymentStatus::Void => "void",
    };
    format!("{method} {status}")
}

/// `Orders · 1 of 5 · status all · station cold · newest first · 1 LATE`
fn orders_title(app: &App, th: Theme, shown: usize) -> Line<'static> {
    let late_total = app
        .model
        .orders
        .values()
        .filter(|o| is_late(o, app.now_ms))
        .count();
    let sort = match app.order_sort {
        OrderSort::NewestFirst => "newest first",
        OrderSort::OldestFirst => "oldest first",
    };
    let filter = if app.order_filter.is_empty() {
        String::new()
    } else {
        format!(" · filter \"{}\"", clean(&app.order_filter))
    };
    let station = match &app.station_filter {
        Some(s) => format!(" · station {}", clean(s)),
        None => String::new(),
    };
    Line::from(vec![
        Span::raw(format!(
            " Orders · {} of {} · status {}{station}{filter} · {sort} ",
            shown,
            app.model.orders.len(),
            app.status_filter.label()
        )),
        if late_total > 0 {
            Span::styled(format!("· {late_total} LATE "), th.bad())
        } else {
            Span::raw("")
        },
    ])
}

pub fn orders(app: &App, frame: &mut Frame, area: Rect) {
    let th = theme(app);
    let visible = app.visible_orders();
    let title = orders_title(app, th, visible.len());
    // A wide screen also lists what was ordered and when it is due.
    let wide = area.width >= 110;
    let rows: Vec<Row> = visible
        .iter()
        .map(|o| {
            let created = parse_ms(&o.created_at).unwrap_or(app.now_ms);
            let late = is_late(o, app.now_ms);
            let items: u32 = o.lines.iter().map(|l| l.qty).sum();
            let mut cells = vec![
                Cell::from(clean(&o.code)),
                Cell::from(age(app.now_ms - created)),
                Cell::from(Span::styled(o.status.as_str(), status_style(th, o.status))),
                Cell::from(if late {
                    Span::styled("LATE", th.bad())
                } else {
                    Span::raw("")
                }),
                Cell::from(clean(&o.customer.name)),
            ];
            if wide {
                let what: Vec<String> = o
                    .lines
                    .iter()
                    .map(|l| format!("{} {}", l.qty, clean(&l.name)))
                    .collect();
                cells.push(Cell::from(what.join(", ")));
                let eta = o
                    .eta
                    .as_deref()
                    .and_then(parse_ms)
                    .map(|e| clock_hm(e, app.offset))
                    .unwrap_or_default();
                cells.push(Cell::from(eta));
            }
            cells.extend([
                Cell::from(format!("{items:>3}")),
                Cell::from(format!("{:>8}", money(o.total_cents))),
                Cell::from(payment_label(o)),
            ]);
            Row::new(cells)
        })
        .collect();
    let keys: Vec<u64> = visible.iter().map(|o| o.id).collect();
    let selected = (!keys.is_empty()).then(|| App::index_of(&keys, &app.order_sel));
    let mut header = vec!["Code", "Age", "Status", "", "Customer"];
    let mut widths = vec![
        Constraint::Length(7),
        Constraint::Length(5),
        Constraint::Length(9),
        Constraint::Length(4),
        Constraint::Fill(1),
    ];
    if wide {
        header.extend(["Items", "ETA"]);
        widths.extend([Constraint::Fill(2), Constraint::Length(5)]);
    }
    header.extend(["Qty", "   Total", "Payment"]);
    widths.extend([
        Constraint::Length(3),
        Constraint::Length(8),
        Constraint::Length(13),
    ]);
    let t = table(th, title, &header, rows, widths);
    let empty = keys.is_empty().then_some(if app.model.orders.is_empty() {
        "No orders yet. New orders appear here as they are placed."
    } else {
        "No order matches the filters (s: status, t: station, /: text)."
    });
    draw(frame, area, t, selected, empty);
}

pub fn severity_style(th: Theme, s: Severity) -> Style {
    match s {
        Severity::Critical => th.bad(),
        Severity::Warning => th.warn(),
        Severity::Info => th.accent(),
    }
}

pub fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

pub fn alerts(app: &App, frame: &mut Frame, area: Rect) {
    let th = theme(app);
    let (list_area, detail_area) = with_detail(area);
    let visible = app.visible_alerts();
    let open = visible.iter().filter(|a| !a.resolved).count();
    let title = Line::from(format!(
        " Alerts · {open} open · {} seen · newest first ",
        visible.len()
    ));
    let rows: Vec<Row> = visible
        .iter()
        .map(|a| {
            let at = parse_ms(&a.at).unwrap_or(app.now_ms);
            let state = if a.resolved {
                Span::styled("resolved", th.dim())
            } else {
                Span::styled("OPEN", th.bold())
            };
            let row = Row::new(vec![
                Cell::from(format!("#{}", a.id)),
                Cell::from(Span::styled(
                    severity_label(a.severity),
                    severity_style(th, a.severity),
                )),
                Cell::from(alert_kind_label(a.kind)),
                Cell::from(clock_hm(at, app.offset)),
                Cell::from(state),
                Cell::from(clean(&a.text)),
            ]);
            if a.resolved {
                row.style(th.dim())
            } else {
                row
            }
        })
        .collect();
    let keys: Vec<u64> = visible.iter().map(|a| a.id).collect();
    let selected = (!keys.is_empty()).then(|| App::index_of(&keys, &app.alert_sel));
    let t = table(
        th,
        title,
        &["Id", "Severity", "Kind", "At", "State", "Text"],
        rows,
        vec![
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Length(13),
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Fill(1),
        ],
    );
    let empty = keys
        .is_empty()
        .then_some("No alerts: late orders, no crew, failed payments and store errors raise them.");
    draw(frame, list_area, t, selected, empty);
    if let (Some(d), Some(a)) = (detail_area, app.selected_alert()) {
        let at = parse_ms(&a.at).unwrap_or(app.now_ms);
        let mut head = vec![
            Span::styled(severity_label(a.severity), severity_style(th, a.severity)),
            Span::raw(format!(
                " · {} · raised {} ({} ago)",
                alert_kind_label(a.kind),
                clock(at, app.offset),
                age(app.now_ms - at)
            )),
        ];
        if let Some(o) = a.order_id {
            head.push(Span::raw(format!(
                " · order {}",
                kfood_protocol::order::order_code(o)
            )));
        }
        let state = if a.resolved {
            let by = a
                .resolved_by
                .as_ref()
                .map(|p| format!(" by {}", clean(&p.name)))
                .unwrap_or_default();
            Line::from(Span::styled(format!("resolved{by}"), th.dim()))
        } else {
            Line::from(Span::styled("OPEN · a or Enter acknowledges it", th.bold()))
        };
        let lines = vec![Line::from(head), Line::from(clean(&a.text)), state];
        detail(frame, d, format!(" Alert #{} ", a.id), lines);
    }
}

pub fn activity(app: &App, frame: &mut Frame, area: Rect) {
    let th = theme(app);
    let visible = app.visible_activity();
    let kind = app.activity_kind.map(activity_kind_label).unwrap_or("all");
    let filter = if app.activity_filter.is_empty() {
        String::new()
    } else {
        format!(" · user \"{}\"", clean(&app.activity_filter))
    };
    let more = if app.activity_loading() {
        "loading…"
    } else if app.activity_done {
        "all loaded"
    } else {
        "older on scroll"
    };
    let title = Line::from(format!(
        " Activity · kind {kind}{filter} · {} of {} · {more} ",
        visible.len(),
        app.activity.len()
    ));
    let rows: Vec<Row> = visible
        .iter()
        .map(|a| {
            let at = parse_ms(&a.at).unwrap_or(app.now_ms);
            Row::new(vec![
                Cell::from(clock(at, app.offset)),
                Cell::from(format!("{} ({})", clean(&a.user.name), a.user.role)),
                Cell::from(activity_kind_label(a.kind)),
                Cell::from(clean(&a.text)),
            ])
        })
        .collect();
    let selected = (!visible.is_empty()).then(|| app.activity_sel.min(visible.len() - 1));
    let t = table(
        th,
        title,
        &["Time", "User", "Kind", "What"],
        rows,
        vec![
            Constraint::Length(8),
            Constraint::Length(22),
            Constraint::Length(10),
            Constraint::Fill(1),
        ],
    );
    let empty = visible.is_empty().then_some(if app.activity.is_empty() {
        "No activity yet: logins, connections, orders and admin actions appear here."
    } else {
        "Nothing matches the filter (t: kind, /: user)."
    });
    draw(frame, area, t, selected, empty);
}

pub fn menu(app: &App, frame: &mut Frame, area: Rect) {
    let th = theme(app);
    let off = app.model.menu.iter().filter(|m| !m.available).count();
    let title = Line::from(format!(
        " Menu · {} items · {off} 86'd · changes reach every program live ",
        app.model.menu.len()
    ));
    let rows: Vec<Row> = app
        .model
        .menu
        .iter()
        .map(|m| {
            let state = if m.available {
                Span::styled("available", th.good())
            } else {
                Span::styled("86", th.bad())
            };
            let row = Row::new(vec![
                Cell::from(clean(&m.id)),
                Cell::from(clean(&m.name)),
                Cell::from(clean(&m.category)),
                Cell::from(clean(&m.station)),
                Cell::from(format!("{:>8}", money(m.price_cents))),
                Cell::from(format!("{:>3}m", m.prep_minutes)),
                Cell::from(state),
            ]);
            if m.available {
                row
            } else {
                row.style(th.dim())
            }
        })
        .collect();
    let keys: Vec<String> = app.model.menu.iter().map(|m| m.id.clone()).collect();
    let selected = (!keys.is_empty()).then(|| App::index_of(&keys, &app.item_sel));
    let t = table(
        th,
        title,
        &[
            "Id", "Name", "Category", "Station", "   Price", "Prep", "State",
        ],
        rows,
        vec![
            Constraint::Length(15),
            Constraint::Fill(1),
            Constraint::Fill(1),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(4),
            Constraint::Length(9),
        ],
    );
    let empty = keys
        .is_empty()
        .then_some("The menu is empty: n adds an item.");
    draw(frame, area, t, selected, empty);
}

pub fn announcements(app: &App, frame: &mut Frame, area: Rect) {
    let th = theme(app);
    let (list_area, detail_area) = with_detail(area);
    let visible = app.active_announcements();
    let title = Line::from(format!(
        " Announcements · {} active · newest first ",
        visible.len()
    ));
    let kind_span = |k: AnnouncementKind| match k {
        AnnouncementKind::Announcement => Span::raw("announcement"),
        AnnouncementKind::Maintenance => Span::styled("maintenance", th.warn()),
        AnnouncementKind::Promotion => Span::styled("promotion", th.good()),
    };
    let expires = |a: &kfood_protocol::messages::Announcement| match a
        .expires_at
        .as_deref()
        .and_then(parse_ms)
    {
        Some(e) => format!("in {}", age(e - app.now_ms)),
        None => "never".into(),
    };
    let rows: Vec<Row> = visible
        .iter()
        .map(|a| {
            let created = parse_ms(&a.created_at).unwrap_or(app.now_ms);
            Row::new(vec![
                Cell::from(format!("#{}", a.id)),
                Cell::from(clock_hm(created, app.offset)),
                Cell::from(audience_label(a.audience)),
                Cell::from(kind_span(a.kind)),
                Cell::from(expires(a)),
                Cell::from(clean(&a.text)),
            ])
        })
        .collect();
    let keys: Vec<u64> = visible.iter().map(|a| a.id).collect();
    let index = App::index_of(&keys, &app.ann_sel);
    let selected = (!keys.is_empty()).then_some(index);
    let t = table(
        th,
        title,
        &["Id", "At", "To", "Kind", "Expires", "Text"],
        rows,
        vec![
            Constraint::Length(4),
            Constraint::Length(5),
            Constraint::Length(9),
            Constraint::Length(12),
            Constraint::Length(9),
            Constraint::Fill(1),
        ],
    );
    let empty = keys
        .is_empty()
        .then_some("No active announcements: n writes one (all, customers, crew or admins).");
    draw(frame, list_area, t, selected, empty);
    if let (Some(d), Some(a)) = (detail_area, visible.get(index)) {
        let created = parse_ms(&a.created_at).unwrap_or(app.now_ms);
        let mut lines = vec![Line::from(vec![
            kind_span(a.kind),
            Span::raw(format!(
                " to {} · by {} at {} · expires {}",
                audience_label(a.audience),
                clean(&a.by.name),
                clock_hm(created, app.offset),
                expires(a)
            )),
        ])];
        for l in kfood_protocol::sanitize::clean_text(&a.text).lines() {
            lines.push(Line::from(clean(l)));
        }
        detail(frame, d, format!(" Announcement #{} ", a.id), lines);
    }
}

pub fn promos(app: &App, frame: &mut Frame, area: Rect) {
    let th = theme(app);
    let usable = app
        .model
        .promos
        .values()
        .filter(|p| p.usable(app.now_ms))
        .count();
    let title = Line::from(format!(
        " Promo codes · {} · {usable} usable now ",
        app.model.promos.len()
    ));
    let rows: Vec<Row> = app
        .model
        .promos
        .values()
        .map(|p| {
            let discount = match (p.percent_off, p.amount_off_cents) {
                (Some(pc), _) => format!("{pc}% off"),
                (None, Some(c)) => format!("{} off", money(c)),
                _ => "-".into(),
            };
            let expired = p
                .expires_at
                .as_deref()
                .and_then(parse_ms)
                .is_some_and(|e| e <= app.now_ms);
            let state = if expired {
                Span::styled("expired", th.dim())
            } else if p.active {
                Span::styled("active", th.good())
            } else {
                Span::styled("inactive", th.dim())
            };
            let expires = match p.expires_at.as_deref().and_then(parse_ms) {
                Some(e) if e > app.now_ms => format!("in {}", age(e - app.now_ms)),
                Some(e) => format!("{} ago", age(app.now_ms - e)),
                None => "never".into(),
            };
            Row::new(vec![
                Cell::from(clean(&p.code)),
                Cell::from(discount),
                Cell::from(state),
                Cell::from(expires),
            ])
        })
        .collect();
    let keys: Vec<String> = app.model.promos.keys().cloned().collect();
    let selected = (!keys.is_empty()).then(|| App::index_of(&keys, &app.promo_sel));
    let t = table(
        th,
        title,
        &["Code", "Discount", "State", "Expires"],
        rows,
        vec![
            Constraint::Fill(1),
            Constraint::Length(14),
            Constraint::Length(9),
            Constraint::Length(12),
        ],
    );
    let empty = keys
        .is_empty()
        .then_some("No promo codes: n creates one (percent or amount off).");
    draw(frame, area, t, selected, empty);
}

pub fn users(app: &App, frame: &mut Frame, area: Rect) {
    let th = theme(app);
    let online = app.users.iter().filter(|u| u.online).count();
    let title = Line::from(format!(
        " Users and sessions · {} · {online} online ",
        app.users.len()
    ));
    let rows: Vec<Row> = app
        .users
        .iter()
        .map(|u| {
            let state = if u.online {
                Span::styled("online", th.good())
            } else {
                Span::styled("offline", th.dim())
            };
            Row::new(vec![
                Cell::from(clean(&u.id)),
                Cell::from(clean(&u.name)),
                Cell::from(u.role.as_str()),
                Cell::from(state),
                Cell::from(format!("{:>8}", u.sessions)),
            ])
        })
        .collect();
    let keys: Vec<String> = app.users.iter().map(|u| u.id.clone()).collect();
    let selected = (!keys.is_empty()).then(|| App::index_of(&keys, &app.user_sel));
    let t = table(
        th,
        title,
        &["User", "Name", "Role", "State", "Sessions"],
        rows,
        vec![
            Constraint::Fill(1),
            Constraint::Fill(1),
            Constraint::Length(8),
            Constraint::Length(7),
            Constraint::Length(8),
        ],
    );
    let empty = keys.is_empty().then_some(if app.users_loaded {
        "No accounts: n creates one."
    } else {
        "Loading the user list…"
    });
    draw(frame, area, t, selected, empty);
}
