//! "terminal too small (need 80×24)" (DESIGN §12): below the size every
//! screen is laid out for, a program says so instead of drawing a broken
//! layout, and draws normally again as soon as the terminal grows.

use ratatui::layout::{Alignment, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

/// The smallest terminal the screens are laid out for.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Whether `area` is below 80×24.
pub fn is_too_small(area: Rect) -> bool {
    area.width < MIN_WIDTH || area.height < MIN_HEIGHT
}

/// The sentence shown instead of the screen.
pub fn too_small_text(area: Rect) -> String {
    format!(
        "terminal too small (need {MIN_WIDTH}×{MIN_HEIGHT}, have {}×{})",
        area.width, area.height
    )
}

/// Draws the sentence and returns true when the frame is below 80×24; a
/// program's `render` starts with `if term::small::guard(frame) { return; }`.
pub fn guard(frame: &mut Frame) -> bool {
    let area = frame.area();
    if !is_too_small(area) {
        return false;
    }
    let top = area.height.saturating_sub(1) / 2;
    let mut lines = vec![Line::raw(""); usize::from(top)];
    lines.push(Line::raw(too_small_text(area)));
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        area,
    );
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    fn screen(w: u16, h: u16) -> (bool, String) {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        let mut small = false;
        t.draw(|f| small = guard(f)).unwrap();
        let text: String = t
            .backend()
            .buffer()
            .content
            .iter()
            .map(|c| c.symbol())
            .collect();
        (small, text)
    }

    /// Below 80×24 in either direction the sentence is drawn; at 80×24 nothing is.
    #[test]
    fn below_80x24_says_so() {
        let (small, text) = screen(79, 24);
        assert!(small);
        assert!(
            text.contains("terminal too small (need 80×24, have 79×24)"),
            "{text}"
        );
        assert!(screen(100, 23).0);
        let (small, text) = screen(80, 24);
        assert!(!small);
        assert!(text.trim().is_empty());
        // Narrower than the sentence: it wraps rather than vanishing.
        let (_, text) = screen(20, 10);
        assert!(text.contains("terminal too"), "{text}");
    }
}
