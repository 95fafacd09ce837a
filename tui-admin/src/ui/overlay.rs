//! What opens over a screen: the key list, an order's detail, a form, a
//! confirmation, the day's report.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{block, popup, theme};
use crate::app::{clean, App, Confirm, FormKind, ReportView};
use crate::form::{Form, Value};
use crate::keys;

pub fn help(app: &App, frame: &mut Frame, area: Rect) {
    let th = theme(app);
    let entries = keys::help(app.screen);
    let key_w = entries.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let lines: Vec<Line> = entries
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:<key_w$}  "), th.bold()),
                Span::raw(*what),
            ])
        })
        .collect();
    let h = lines.len() as u16 + 2;
    let r = popup(frame, area, area.width.saturating_sub(2).min(96), h);
    let title = format!(" Keys · {} · Esc closes ", app.screen.title());
    frame.render_widget(
        Paragraph::new(lines)
            .block(block(title))
            .wrap(Wrap { trim: false }),
        r,
    );
}

pub fn form(app: &App, frame: &mut Frame, area: Rect, form: &Form<FormKind>) {
    let th = theme(app);
    let label_w = form
        .fields
        .iter()
        .map(|f| f.label.chars().count())
        .max()
        .unwrap_or(0)
        + 2;
    let w = area.width.saturating_sub(2).min(90);
    let h = (form.intro.len() + form.fields.len() + 4) as u16;
    let r = popup(frame, area, w, h);
    let inner_w = r.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = form
        .intro
        .iter()
        .map(|l| Line::from(format!(" {l}")))
        .collect();
    let mut cursor = None;
    for (i, f) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        let marker = if focused { ">" } else { " " };
        let prefix = format!("{marker}{:<label_w$}", f.label);
        let value_w = inner_w.saturating_sub(prefix.chars().count() + 1);
        let (shown, style) = match &f.value {
            Value::Choice { options, index } => {
                let choices: Vec<Span> = options
                    .iter()
                    .enumerate()
                    .map(|(j, o)| {
                        if j == *index {
                            Span::styled(format!("[{o}]"), th.selected())
                        } else {
                            Span::styled(format!(" {o} "), th.dim())
                        }
                    })
                    .collect();
                let mut spans = vec![Span::styled(prefix, th.bold())];
                spans.extend(choices);
                lines.push(Line::from(spans));
                continue;
            }
            Value::Text { input, .. } => {
                let text = f.display();
                if text.is_empty() && !f.hint.is_empty() {
                    (f.hint.to_owned(), th.dim())
                } else {
                    // Long text scrolls so the cursor stays in view.
                    let chars: Vec<char> = text.chars().collect();
                    let start = input.cursor.saturating_sub(value_w.saturating_sub(1));
                    let visible: String = chars.iter().skip(start).take(value_w).collect();
                    if focused {
                        cursor = Some((input.cursor - start) as u16);
                    }
                    let style = if f.locked {
                        th.dim()
                    } else {
                        ratatui::style::Style::new()
                    };
                    (visible, style)
                }
            }
        };
        if focused && cursor.is_none() {
            cursor = Some(0);
        }
        if focused {
            let x = r.x + 1 + prefix.chars().count() as u16 + cursor.unwrap_or(0);
            let y = r.y + 1 + lines.len() as u16;
            if x < r.right().saturating_sub(1) && y < r.bottom().saturating_sub(1) {
                frame.set_cursor_position((x, y));
            }
        }
        // A field with suggestions keeps them in sight beside its value.
        let aside = if f.locked {
            "  (fixed)".to_owned()
        } else if !f.suggestions.is_empty() && !f.get().is_empty() {
            format!("  {}", f.hint)
        } else {
            String::new()
        };
        lines.push(Line::from(vec![
            Span::styled(prefix, th.bold()),
            Span::styled(shown, style),
            Span::styled(aside, th.dim()),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(form_footer(th, form));
    frame.render_widget(
        Paragraph::new(lines).block(block(format!(" {} ", form.title))),
        r,
    );
}

/// The form's last line: the refusal, the wait, or the keys.
fn form_footer(th: kfood_protocol::term::Theme, form: &Form<FormKind>) -> Line<'static> {
    if let Some(e) = &form.error {
        Line::from(Span::styled(format!(" ! {e}"), th.bad()))
    } else if form.sending.is_some() {
        Line::from(Span::styled(" sending… waiting for the relay", th.warn()))
    } else {
        Line::from(Span::styled(
            " Enter send · Tab next field · Left/Right choose · Esc cancel",
            th.dim(),
        ))
    }
}

pub fn confirm(app: &App, frame: &mut Frame, area: Rect, c: &Confirm) {
    let th = theme(app);
    let w = area.width.saturating_sub(2).min(80);
    let h = c.lines.len() as u16 + 4;
    let r = popup(frame, area, w, h);
    let mut lines: Vec<Line> = c
        .lines
        .iter()
        .map(|l| Line::from(format!(" {l}")))
        .collect();
    lines.push(Line::from(""));
    lines.push(if c.sending.is_some() {
        Line::from(Span::styled(" sending… waiting for the relay", th.warn()))
    } else {
        Line::from(Span::styled(" y / Enter confirm · n / Esc keep", th.bold()))
    });
    frame.render_widget(
        Paragraph::new(lines)
            .block(block(format!(" {} ", c.title)))
            .wrap(Wrap { trim: false }),
        r,
    );
}

/// The day's report (the Dashboard's `R`): the same table `kfood-admin
/// report` prints, scrolled with Up/Down.
pub fn report(app: &App, frame: &mut Frame, area: Rect, view: &ReportView, scroll: u16) {
    let th = theme(app);
    let w = area
        .width
        .saturating_sub(2)
        .min(crate::report::TABLE_WIDTH as u16 + 2);
    let r = popup(frame, area, w, area.height);
    let (title, lines): (String, Vec<Line>) = match view {
        ReportView::Loading => (
            " Today's report ".into(),
            vec![Line::styled(" asking the relay…", th.warn())],
        ),
        ReportView::Failed(why) => (
            " Today's report ".into(),
            vec![Line::styled(format!(" ! {}", clean(why)), th.bad())],
        ),
        ReportView::Ready(rep) => (
            format!(" Report {} ({}) · Esc closes ", rep.date, clean(&rep.tz)),
            crate::report::table(rep)
                .into_iter()
                .skip(1)
                .map(|l| {
                    if l.starts_with("PARTIAL") {
                        Line::styled(l, th.warn())
                    } else {
                        Line::raw(l)
                    }
                })
                .collect(),
        ),
    };
    let rows = r.height.saturating_sub(2);
    let top = scroll.min((lines.len() as u16).saturating_sub(rows));
    frame.render_widget(
        Paragraph::new(lines).block(block(title)).scroll((top, 0)),
        r,
    );
}
