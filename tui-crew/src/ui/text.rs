//! Text fitting for the board's narrow columns: cutting with an ellipsis,
//! wrapping at spaces, timers and wall-clock times.

use kfood_protocol::options::{line_label_with, options_label_with, LineOption};
use kfood_protocol::term::{fmt, Theme};
use kfood_protocol::time::Millis;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// A ticket's timer: `MM:SS` under an hour, then `1h05`.
pub fn fmt_age(ms: Millis) -> String {
    fmt::timer(ms)
}

/// Wall-clock `HH:MM:SS` of an RFC 3339 time in the terminal's zone.
pub fn fmt_wall(at: &str, offset: time::UtcOffset) -> String {
    fmt::clock_secs_of(at, offset)
}

/// `s` cut to `width` columns, marked with an ellipsis when cut.
pub fn trunc(s: &str, width: usize, th: &Theme) -> String {
    if s.width() <= width {
        return s.to_owned();
    }
    let ell = th.ellipsis();
    let room = width.saturating_sub(ell.width());
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw > room {
            break;
        }
        out.push(c);
        w += cw;
    }
    if width >= ell.width() {
        out.push_str(ell);
    }
    out
}

/// The separator of a line's choices on this terminal: " · " or " - ".
pub fn choice_sep(th: &Theme) -> String {
    format!(" {} ", th.dot())
}

/// A ticket line's name with its choices ("Bibimbap · hot · +egg", DESIGN
/// §14) after a head `head_w` columns wide: on one row when it fits in `w`;
/// else the name on that row and the choices on a row of their own,
/// indented by `indent` columns, so a narrow column never hides a choice
/// the cook must see.
pub fn line_name_rows(
    head_w: usize,
    name: &str,
    options: &[LineOption],
    indent: usize,
    w: usize,
    th: &Theme,
) -> (String, Option<String>) {
    let sep = choice_sep(th);
    let full = line_label_with(name, options, &sep);
    let room = w.saturating_sub(head_w);
    if options.is_empty() || full.width() <= room {
        return (trunc(&full, room, th), None);
    }
    let choices = format!(
        "{}{} {}",
        " ".repeat(indent),
        th.dot(),
        options_label_with(options, &sep)
    );
    (trunc(name, room, th), Some(trunc(&choices, w, th)))
}

/// `s` marked as cut, within `width` columns.
pub fn with_ellipsis(s: &str, width: usize, th: &Theme) -> String {
    if s.width() + th.ellipsis().width() <= width {
        format!("{s}{}", th.ellipsis())
    } else {
        // One column more than fits forces `trunc` to cut and mark.
        trunc(&format!("{s}{}", " ".repeat(width)), width, th)
    }
}

/// Splits `s` into rows of at most `width` columns, breaking at spaces
/// where it can and inside a word only when the word is longer than a row.
pub fn wrap_rows(s: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut rows = Vec::new();
    for para in s.split('\n') {
        let mut row = String::new();
        let mut w = 0;
        for word in para.replace('\t', " ").split(' ') {
            let ww = word.width();
            let gap = usize::from(!row.is_empty());
            if w + gap + ww <= width {
                if gap == 1 {
                    row.push(' ');
                }
                row.push_str(word);
                w += gap + ww;
                continue;
            }
            if !row.is_empty() {
                rows.push(std::mem::take(&mut row));
                w = 0;
            }
            for c in word.chars() {
                let cw = c.width().unwrap_or(0);
                if w + cw > width {
                    rows.push(std::mem::take(&mut row));
                    w = 0;
                }
                row.push(c);
                w += cw;
            }
        }
        rows.push(row);
    }
    rows
}
