//! The Menu screen: categories, the item list (or the search's matches) and
//! the selected item (the add dialog is `picker`).

use kfood_protocol::menu::MenuItem;
use kfood_protocol::sanitize::clean_line;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, HighlightSpacing, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

use super::{money, stale_mark, View};
use crate::app::{App, Overlay};

pub(super) fn render_menu(app: &App, view: &View, frame: &mut Frame, area: Rect) {
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
    let title = list_title(app, &cats, items.len(), searching);
    let wide = right.width >= 90;
    let rows: Vec<Row> = items
        .iter()
        .map(|i| item_row(app, view, i, searching, wide))
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
        let text = if app.menu().is_empty() {
            "Waiting for the menu from the relay..."
        } else {
            "Nothing matches."
        };
        frame.render_widget(Paragraph::new(text).style(view.dim()), inner);
    }

    let mut lines = Vec::new();
    let mut keys = "Enter: add  +: add one  Left/Right: category  /: search";
    if let Some(item) = app.selected_item() {
        lines.push(item_summary(item, view));
        lines.push(Line::from(clean_line(&item.description)));
        if !item.options.is_empty() {
            keys = "Enter: choose options and add  +: add one  /: search";
        }
    }
    lines.push(Line::styled(keys, view.dim()));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(view.block("Item")),
        detail,
    );
}

pub(super) fn item_summary<'a>(item: &MenuItem, view: &View) -> Line<'a> {
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

/// One item of the list: name, `86` when unavailable, price, prep time,
/// how many are in the cart, and the description on wide terminals.
fn item_row<'a>(app: &App, view: &View, i: &MenuItem, searching: bool, wide: bool) -> Row<'a> {
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
}

/// The item list's title: the category, or the search and its matches.
fn list_title(app: &App, cats: &[&str], found: usize, searching: bool) -> String {
    if searching {
        let cursor = if matches!(app.overlay, Overlay::Search) {
            "_"
        } else {
            ""
        };
        format!(
            "Search: {}{cursor} ({} found){}",
            clean_line(&app.search),
            found,
            stale_mark(app)
        )
    } else {
        let cat = cats
            .get(app.category)
            .map(|c| clean_line(c))
            .unwrap_or_default();
        format!("{cat}{}", stale_mark(app))
    }
}
