//! Screen 1: the restaurant's and the relay's figures, and charts of the
//! last minutes fed by the relay's `metrics` samples.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Sparkline};
use ratatui::Frame;

use super::{block, bytes, num, theme, uptime, Theme};
use crate::app::{money, App};
use crate::charts::{Agg, Point};

/// Rows of the two figure boxes.
const FIGURES_ROWS: u16 = 9;
/// Fewest rows for the three charts (a border and one row each); with less
/// room they are written as numbers.
const CHARTS_MIN_ROWS: u16 = 9;

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let th = theme(app);
    let figures_rows = FIGURES_ROWS.min(area.height);
    let [top, rest] =
        Layout::vertical([Constraint::Length(figures_rows), Constraint::Min(0)]).areas(area);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);
    frame.render_widget(kitchen(app, th), left);
    frame.render_widget(relay(app, th), right);
    let (list, rest) = super::relays::split(app, rest);
    if let Some(list) = list {
        super::relays::render(app, th, frame, list);
    }
    if rest.height == 0 {
        return;
    }
    if rest.height < CHARTS_MIN_ROWS || rest.width < 30 {
        frame.render_widget(chart_numbers(app, th), rest);
        return;
    }
    let [a, b, c] = Layout::vertical([
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
    ])
    .areas(rest);
    orders_chart(app, th, frame, a);
    line_chart(
        app,
        th,
        frame,
        b,
        ChartSpec {
            title: "Messages per second (in + out)",
            unit: "/s",
            agg: Agg::Mean,
            value: Point::msgs,
            color: Color::Cyan,
        },
    );
    line_chart(
        app,
        th,
        frame,
        c,
        ChartSpec {
            title: "Fan-out latency p99",
            unit: " ms",
            agg: Agg::Max,
            value: |p| p.fanout_p99,
            color: Color::Magenta,
        },
    );
}

fn label(s: &str) -> Span<'static> {
    Span::raw(format!(" {s:<10}"))
}

/// `Pending   1    Preparing  1`: two figures on one line.
fn pair(a: &str, av: String, b: &str, bv: Span<'static>) -> Line<'static> {
    Line::from(vec![
        label(a),
        Span::raw(format!("{av:<5}")),
        Span::raw(format!("{b:<11}")),
        bv,
    ])
}

fn kitchen(app: &App, th: Theme) -> Paragraph<'static> {
    let Some(m) = &app.charts.latest else {
        return waiting("Kitchen today", app);
    };
    let by = |s: &str| m.orders_by_status.get(s).copied().unwrap_or(0).to_string();
    let late = if m.late_orders > 0 {
        Span::styled(format!("{} LATE", m.late_orders), th.bad())
    } else {
        Span::styled("0", th.good())
    };
    let fails = if m.payment_failures_today > 0 {
        Span::styled(
            format!("{} failed today", m.payment_failures_today),
            th.warn(),
        )
    } else {
        Span::raw("0 failed today")
    };
    let (crit, warn, info) = app.open_alert_counts();
    let alerts = if crit + warn + info == 0 {
        Span::styled("none open", th.good())
    } else {
        let mut parts = Vec::new();
        if crit > 0 {
            parts.push(format!("{crit} CRITICAL"));
        }
        if warn > 0 {
            parts.push(format!("{warn} warning"));
        }
        if info > 0 {
            parts.push(format!("{info} info"));
        }
        let style = if crit > 0 { th.bad() } else { th.warn() };
        Span::styled(parts.join("  "), style)
    };
    let lines = vec![
        Line::from(vec![
            label("Today"),
            Span::styled(format!("{} orders", m.orders_today), th.bold()),
            Span::raw("  "),
            Span::styled(money(m.revenue_today_cents), th.bold()),
        ]),
        pair(
            "Pending",
            by("pending"),
            "Preparing",
            Span::raw(by("preparing")),
        ),
        pair(
            "Ready",
            by("ready"),
            "Delivered",
            Span::raw(by("delivered")),
        ),
        pair("Cancelled", by("cancelled"), "Late", late),
        Line::from(vec![
            label("Prep time"),
            Span::raw(format!(
                "avg {}  p90 {} min",
                num(m.prep_min_avg),
                num(m.prep_min_p90)
            )),
        ]),
        Line::from(vec![label("Payments"), fails]),
        Line::from(vec![label("Alerts"), alerts]),
    ];
    Paragraph::new(lines).block(block(" Kitchen today "))
}

fn relay(app: &App, th: Theme) -> Paragraph<'static> {
    let Some(m) = &app.charts.latest else {
        return waiting("Relay", app);
    };
    let c = &m.connections;
    let last_fail = match app.payment_failures.front() {
        Some((at, f)) => Line::from(vec![
            label("Last fail"),
            Span::styled(
                format!(
                    "{} {} {}",
                    super::clock_hm(*at, app.offset),
                    money(f.payment.amount_cents),
                    f.code
                ),
                th.warn(),
            ),
        ]),
        None => Line::from(vec![
            label("Last fail"),
            Span::styled("none seen", th.dim()),
        ]),
    };
    let crew = if c.crew == 0 {
        Span::styled("crew 0 (NO CREW)", th.bad())
    } else {
        Span::raw(format!("crew {}", c.crew))
    };
    let lines = vec![
        Line::from(vec![label("Uptime"), Span::raw(uptime(m.uptime_s))]),
        Line::from(vec![
            label("Customers"),
            Span::raw(format!("{} connected", c.customer)),
        ]),
        Line::from(vec![
            label("Staff"),
            crew,
            Span::raw(format!("  admin {}", c.admin)),
        ]),
        Line::from(vec![
            label("Msgs/s"),
            Span::raw(format!(
                "in {}  out {}",
                num(m.msgs_in_per_s),
                num(m.msgs_out_per_s)
            )),
        ]),
        Line::from(vec![
            label("Fan-out"),
            Span::raw(format!(
                "p50 {} ms  p99 {} ms",
                num(m.fanout_ms.p50),
                num(m.fanout_ms.p99)
            )),
        ]),
        Line::from(vec![label("Store"), Span::raw(bytes(m.store_bytes))]),
        last_fail,
    ];
    Paragraph::new(lines).block(block(" Relay "))
}

fn waiting(title: &str, app: &App) -> Paragraph<'static> {
    let why = if app.conn.is_connected() {
        "waiting for the relay's first figures…".to_owned()
    } else {
        format!(
            "no figures yet: {}",
            kfood_protocol::term::status::conn_text(&app.conn)
        )
    };
    Paragraph::new(Line::from(format!(" {why}"))).block(block(format!(" {title} ")))
}

/// The three series as numbers, when there is no room to draw them.
fn chart_numbers(app: &App, th: Theme) -> Paragraph<'static> {
    let opm = app.charts.orders_per_minute(15);
    let now = opm.last().copied().flatten().unwrap_or(0);
    let max = opm.iter().flatten().max().copied().unwrap_or(0);
    let window = app.chart_window.ms();
    let peak = |f: fn(&Point) -> f64| app.charts.peak(window, f).unwrap_or(0.0);
    let (msgs, p99) = app
        .charts
        .latest
        .as_ref()
        .map(|m| (m.msgs_in_per_s + m.msgs_out_per_s, m.fanout_ms.p99))
        .unwrap_or_default();
    let lines = vec![
        Line::from(vec![
            Span::styled(" Orders/min ", th.bold()),
            Span::raw(format!("now {now}, max {max} (15 min)")),
        ]),
        Line::from(vec![
            Span::styled(" Messages/s ", th.bold()),
            Span::raw(format!(
                "now {}, max {} ({})",
                num(msgs),
                num(peak(Point::msgs)),
                app.chart_window.label()
            )),
        ]),
        Line::from(vec![
            Span::styled(" Fan-out p99 ", th.bold()),
            Span::raw(format!(
                "now {} ms, max {} ms",
                num(p99),
                num(peak(|p| p.fanout_p99))
            )),
        ]),
    ];
    Paragraph::new(lines)
}

/// Sparkline glyphs, or ASCII ones for `--ascii` (the buffer pass would
/// do it too, but a bar set keeps eight heights apart better).
fn bar_set(app: &App) -> ratatui::symbols::bar::Set<'static> {
    if app.look.ascii {
        ratatui::symbols::bar::Set {
            full: "#",
            seven_eighths: "#",
            three_quarters: "=",
            five_eighths: "=",
            half: "-",
            three_eighths: "-",
            one_quarter: ".",
            one_eighth: ".",
            empty: " ",
        }
    } else {
        ratatui::symbols::bar::NINE_LEVELS
    }
}

fn orders_chart(app: &App, th: Theme, frame: &mut Frame, area: Rect) {
    let inner_w = area.width.saturating_sub(2) as usize;
    let minutes = 15usize.min(inner_w.max(1));
    let per = opm_columns(inner_w, minutes);
    let data = app.charts.orders_per_minute(minutes);
    let now = data.last().copied().flatten().unwrap_or(0);
    let max = data.iter().flatten().max().copied().unwrap_or(0);
    let total = app
        .charts
        .latest
        .as_ref()
        .map(|m| m.orders_today)
        .unwrap_or(0);
    let title = Line::from(vec![
        Span::raw(" Orders per minute · 15 min · "),
        Span::styled(format!("now {now}"), th.bold()),
        Span::raw(format!(" · max {max} · {total} today ")),
    ]);
    let mut bars: Vec<Option<u64>> = vec![None; inner_w.saturating_sub(per * minutes)];
    for v in &data {
        for i in 0..per {
            // A gap between minutes keeps the bars apart.
            bars.push(if i + 1 == per && per > 2 { None } else { *v });
        }
    }
    draw_spark(app, th, frame, area, title, bars, Color::Green);
}

/// Columns per minute bar.
fn opm_columns(width: usize, minutes: usize) -> usize {
    (width / minutes.max(1)).max(1)
}

struct ChartSpec {
    title: &'static str,
    unit: &'static str,
    agg: Agg,
    value: fn(&Point) -> f64,
    color: Color,
}

fn line_chart(app: &App, th: Theme, frame: &mut Frame, area: Rect, spec: ChartSpec) {
    let cols = area.width.saturating_sub(2) as usize;
    let window = app.chart_window.ms();
    let series = app.charts.series(window, cols, spec.agg, spec.value);
    let now = app.charts.last_point().map(spec.value).unwrap_or(0.0);
    let max = app.charts.peak(window, spec.value).unwrap_or(0.0);
    let title = Line::from(vec![
        Span::raw(format!(" {} · {} · ", spec.title, app.chart_window.label())),
        Span::styled(format!("now {}{}", num(now), spec.unit), th.bold()),
        Span::raw(format!(" · max {}{} ", num(max), spec.unit)),
    ]);
    // Hundredths keep small rates and latencies apart in whole-number bars.
    let bars: Vec<Option<u64>> = series
        .iter()
        .map(|v| v.map(|x| (x * 100.0).round().max(0.0) as u64))
        .collect();
    draw_spark(app, th, frame, area, title, bars, spec.color);
}

fn draw_spark(
    app: &App,
    th: Theme,
    frame: &mut Frame,
    area: Rect,
    title: Line<'static>,
    bars: Vec<Option<u64>>,
    color: Color,
) {
    let b: Block = block(title);
    if app.charts.is_empty() {
        let p = Paragraph::new(Line::from(Span::styled(
            " no samples yet: the relay sends one a second",
            th.dim(),
        )))
        .block(b);
        frame.render_widget(p, area);
        return;
    }
    let max = bars.iter().flatten().max().copied().unwrap_or(0).max(1);
    let spark = Sparkline::default()
        .block(b)
        .data(bars)
        .max(max)
        .bar_set(bar_set(app))
        .style(th.fg(color))
        .absent_value_style(Style::new())
        .absent_value_symbol(" ");
    frame.render_widget(spark, area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_bars_fill_the_width() {
        assert_eq!(opm_columns(76, 15), 5);
        assert_eq!(opm_columns(10, 10), 1);
        assert_eq!(opm_columns(0, 15), 1);
    }
}
