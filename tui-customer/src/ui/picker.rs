//! The add dialog drawn over the menu: the item, its option groups and
//! choices with their prices (DESIGN §14), quantity, note, and the line's
//! price as it stands, which follows every choice.

use kfood_protocol::options::{ChosenOption, OptionGroup};
use kfood_protocol::sanitize::clean_line;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use super::menu::item_summary;
use super::{money, popup, View};
use crate::app::picker::is_chosen;
use crate::app::{AddFocus, App};

/// Width of the dialog; it is as tall as its content allows.
const WIDTH: u16 = 60;

/// What the dialog shows: the add overlay's state.
pub(super) struct AddForm<'a> {
    pub item_id: &'a str,
    pub qty: u32,
    pub note: &'a str,
    pub focus: AddFocus,
    pub chosen: &'a [ChosenOption],
    pub problem: Option<&'a str>,
}

/// What a group asks of the customer, after its name.
fn asks(g: &OptionGroup) -> String {
    match (g.min, g.max) {
        (0, 1) => "choose one if you like".into(),
        (0, max) => format!("up to {max}"),
        (min, max) if min == max => format!("required: choose {min}"),
        (min, max) => format!("required: {min} to {max}"),
    }
}

/// The option rows: each group's head, then its choices; the index of the
/// row that has the focus, if a choice has it.
fn option_rows<'a>(
    app: &App,
    view: &View,
    form: &AddForm,
    width: usize,
) -> (Vec<Line<'a>>, Option<usize>) {
    let Some(item) = app.item(form.item_id) else {
        return (Vec::new(), None);
    };
    let (mut rows, mut focus_row, mut n) = (Vec::new(), None, 0);
    for g in &item.options {
        rows.push(Line::from(vec![
            Span::styled(clean_line(&g.name), view.bold()),
            Span::styled(format!("  {}", asks(g)), view.dim()),
        ]));
        for c in &g.choices {
            let on = is_chosen(form.chosen, &g.id, &c.id);
            let mark = match (g.max == 1, on) {
                (true, true) => format!("({})", view.hide()),
                (true, false) => "( )".to_owned(),
                (false, true) => "[x]".to_owned(),
                (false, false) => "[ ]".to_owned(),
            };
            let focused = form.focus == AddFocus::Choice(n);
            if focused {
                focus_row = Some(rows.len());
            }
            let price = if c.price_cents > 0 {
                format!("+{}", money(c.price_cents))
            } else {
                String::new()
            };
            let head = format!("{}{mark} ", if focused { view.sel() } else { "  " });
            let room = width.saturating_sub(head.chars().count() + 10);
            let name: String = clean_line(&c.name).chars().take(room).collect();
            let style = if on { view.bold() } else { Style::new() };
            rows.push(Line::styled(
                format!("{head}{name:<room$}{price:>10}"),
                style,
            ));
            n += 1;
        }
    }
    (rows, focus_row)
}

/// The rows of `rows` that fit in `room`, keeping the focused one in sight.
fn window<T>(mut rows: Vec<T>, focus: Option<usize>, room: usize) -> Vec<T> {
    if rows.len() <= room {
        return rows;
    }
    let start = focus
        .map_or(0, |f| f.saturating_sub(room / 2))
        .min(rows.len() - room);
    rows.drain(..start);
    rows.truncate(room);
    rows
}

pub(super) fn render_add(app: &App, view: &View, frame: &mut Frame, area: Rect, form: &AddForm) {
    let Some(item) = app.item(form.item_id) else {
        return;
    };
    let inner_w = usize::from(WIDTH - 2);
    let (mut options, focus_row) = option_rows(app, view, form, inner_w);
    if !options.is_empty() {
        options.push(Line::from(""));
    }
    let mut head = vec![item_summary(item, view), Line::from("")];
    let mark = |f: AddFocus| if f == form.focus { view.sel() } else { "  " };
    let cursor = if form.focus == AddFocus::Note {
        "_"
    } else {
        ""
    };
    let mut tail = vec![
        Line::from(format!("{}Quantity  - {} +", mark(AddFocus::Qty), form.qty)),
        Line::from(format!(
            "{}Note      {}{cursor}",
            mark(AddFocus::Note),
            clean_line(form.note)
        )),
        match form.problem {
            Some(p) => Line::styled(format!("! {}", clean_line(p)), view.bad()),
            None => Line::from(""),
        },
    ];
    let line_price = app
        .unit_price(form.item_id, form.chosen)
        .map(|p| money(p * i64::from(form.qty)))
        .unwrap_or_default();
    let keys = if options.is_empty() {
        "Tab: note/quantity  Esc: cancel"
    } else {
        "Space: choose  Tab: next  Esc: cancel"
    };
    tail.push(Line::from(vec![
        Span::styled(format!("Enter: add {line_price}"), view.bold()),
        Span::styled(format!("  {keys}"), view.dim()),
    ]));
    let fixed = head.len() + tail.len();
    let height = (fixed + options.len() + 2).min(usize::from(area.height));
    let room = height.saturating_sub(fixed + 2);
    head.extend(window(options, focus_row, room));
    head.extend(tail);
    let rect = popup(area, WIDTH, height as u16);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(head).block(view.block(format!("Add {}", clean_line(&item.name)))),
        rect,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A long list keeps the focused row in sight and never overflows.
    #[test]
    fn window_keeps_the_focus_in_sight() {
        let rows: Vec<usize> = (0..20).collect();
        assert_eq!(window(rows.clone(), None, 5), [0, 1, 2, 3, 4]);
        assert_eq!(window(rows.clone(), Some(10), 5), [8, 9, 10, 11, 12]);
        assert_eq!(window(rows.clone(), Some(19), 5), [15, 16, 17, 18, 19]);
        assert_eq!(window(rows, Some(3), 30).len(), 20);
    }
}
