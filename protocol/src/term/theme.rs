//! Colours, attributes and glyphs of the three programs (DESIGN §12):
//! `NO_COLOR` drops every colour but keeps bold and reverse (which carry no
//! hue), and `--ascii` swaps box-drawing and other non-ASCII glyphs for
//! plain characters. Every state drawn in colour is also written in words by
//! the caller, so nothing here carries meaning on its own.

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;
use ratatui::text::Line;
use ratatui::widgets::Block;

use crate::OrderStatus;

/// Borders for terminals without box-drawing glyphs.
pub const ASCII_BORDER: border::Set = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

/// A selected box without box-drawing glyphs: heavier than [`ASCII_BORDER`].
pub const ASCII_SELECTED_BORDER: border::Set = border::Set {
    top_left: "#",
    top_right: "#",
    bottom_left: "#",
    bottom_right: "#",
    vertical_left: "#",
    vertical_right: "#",
    horizontal_top: "=",
    horizontal_bottom: "=",
};

/// Whether colour is allowed: not when `NO_COLOR` is set to anything but
/// the empty string (<https://no-color.org>).
pub fn color_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// How to draw, fixed at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
    pub ascii: bool,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            color: true,
            ascii: false,
        }
    }
}

impl Theme {
    /// `--ascii` as given, colour unless `NO_COLOR` says no.
    pub fn from_env(ascii: bool) -> Theme {
        Theme {
            color: color_allowed(),
            ascii,
        }
    }

    /// The colour as foreground, or nothing under `NO_COLOR`.
    pub fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn bold(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn reversed(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// Secondary text: hints, separators, finished orders.
    pub fn dim(self) -> Style {
        self.fg(Color::DarkGray)
    }

    pub fn good(self) -> Style {
        self.fg(Color::Green)
    }

    pub fn warn(self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn bad(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn accent(self) -> Style {
        self.fg(Color::Cyan)
    }

    /// The selected tab or row: blue with colour, reversed without.
    pub fn selected(self) -> Style {
        if self.color {
            Style::new().bg(Color::Blue).fg(Color::White)
        } else {
            self.reversed()
        }
    }

    /// An order's status: waiting yellow, cooking cyan, ready green, done
    /// (and not yet due: scheduled) dim.
    pub fn status(self, s: OrderStatus) -> Style {
        match s {
            OrderStatus::Scheduled => self.dim(),
            OrderStatus::Pending => self.warn(),
            OrderStatus::Preparing => self.accent(),
            OrderStatus::Ready => self.good().add_modifier(Modifier::BOLD),
            OrderStatus::Delivered | OrderStatus::Cancelled => self.dim(),
        }
    }

    /// A box's border; a selected box gets a heavier one.
    pub fn border(self, selected: bool) -> border::Set<'static> {
        match (self.ascii, selected) {
            (true, true) => ASCII_SELECTED_BORDER,
            (true, false) => ASCII_BORDER,
            (false, true) => border::THICK,
            (false, false) => border::PLAIN,
        }
    }

    /// A bordered box with a bold title.
    pub fn block<'a>(self, title: impl Into<Line<'a>>) -> Block<'a> {
        Block::bordered()
            .border_set(self.border(false))
            .title(title.into())
            .title_style(self.bold())
    }

    /// Marks the selected line: `▶` or `>`.
    pub fn pointer(self) -> &'static str {
        self.pick("▶", ">")
    }

    /// Marks cut text: `…` or `~`.
    pub fn ellipsis(self) -> &'static str {
        self.pick("…", "~")
    }

    /// Separates items on one line: `·` or `-`.
    pub fn dot(self) -> &'static str {
        self.pick("·", "-")
    }

    /// A quantity: `×` or `x`.
    pub fn times(self) -> &'static str {
        self.pick("×", "x")
    }

    /// Separates status-bar fields: ` │ ` or ` | `.
    pub fn sep(self) -> &'static str {
        self.pick(" │ ", " | ")
    }

    /// Stands for a hidden character (a card number): `•` or `*`.
    pub fn hide(self) -> char {
        if self.ascii {
            '*'
        } else {
            '•'
        }
    }

    fn pick(self, fancy: &'static str, plain: &'static str) -> &'static str {
        if self.ascii {
            plain
        } else {
            fancy
        }
    }

    /// Under `--ascii`, replaces every drawing glyph left in `buf` (from
    /// widgets that take no border set: tables, sparklines, scrollbars).
    pub fn asciify(self, buf: &mut Buffer) {
        if self.ascii {
            asciify(buf);
        }
    }
}

/// Every box-drawing, block and arrow glyph replaced by a plain character.
pub fn asciify(buf: &mut Buffer) {
    for cell in buf.content.iter_mut() {
        if let Some(r) = ascii_of(cell.symbol()) {
            cell.set_symbol(r);
        }
    }
}

/// The plain stand-in for one glyph, if it needs one.
pub fn ascii_of(symbol: &str) -> Option<&'static str> {
    Some(match symbol {
        "┌" | "┐" | "└" | "┘" | "├" | "┤" | "┬" | "┴" | "┼" | "╭" | "╮" | "╰" | "╯" | "┏" | "┓"
        | "┗" | "┛" => "+",
        "─" | "━" | "═" => "-",
        "│" | "┃" | "║" => "|",
        "█" | "▇" | "▆" => "#",
        "▅" | "▄" => "=",
        "▃" | "▂" => "-",
        "▁" => "_",
        "·" | "•" => ".",
        "…" => "~",
        "→" => ">",
        "▶" => ">",
        "↑" => "^",
        "↓" => "v",
        "×" => "x",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without colour no style carries a hue, but bold and reverse remain.
    #[test]
    fn no_color_keeps_attributes_only() {
        let th = Theme {
            color: false,
            ascii: false,
        };
        for s in [th.good(), th.warn(), th.dim(), th.accent(), th.selected()] {
            assert_eq!((s.fg, s.bg), (None, None));
        }
        assert!(th.bad().add_modifier.contains(Modifier::BOLD));
        assert!(th.selected().add_modifier.contains(Modifier::REVERSED));
        assert_eq!(Theme::default().good().fg, Some(Color::Green));
    }

    /// `--ascii` borders and glyphs are plain ASCII.
    #[test]
    fn ascii_glyphs_are_ascii() {
        let th = Theme {
            color: true,
            ascii: true,
        };
        let b = th.border(true);
        for g in [
            b.top_left,
            b.horizontal_top,
            b.vertical_left,
            th.pointer(),
            th.ellipsis(),
            th.dot(),
            th.times(),
            th.sep(),
        ] {
            assert!(g.is_ascii(), "{g}");
        }
        assert!(th.hide().is_ascii());
        assert_eq!(ascii_of("┼"), Some("+"));
        assert_eq!(ascii_of("a"), None);
        let mut buf = Buffer::with_lines(["┌─┐", "│×│"]);
        asciify(&mut buf);
        assert_eq!(buf, Buffer::with_lines(["+-+", "|x|"]));
    }
}
