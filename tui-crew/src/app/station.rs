//! The station screen's own keys (DESIGN §13): the selection is a line of
//! this terminal's stations; Enter marks it done, `u` clears the last line
//! marked from here.

use super::types::Dir;
use super::App;

impl App {
    /// Up/Down step through the lines; Left/Right jump to the previous or
    /// next ticket's first open line.
    pub(super) fn move_line(&mut self, d: Dir) {
        let lines = self.station_cursor_lines();
        let Some(pos) = self
            .selected_line
            .and_then(|l| lines.iter().position(|x| *x == l))
        else {
            return;
        };
        let order = lines[pos].0;
        let next = match d {
            Dir::Up => pos.checked_sub(1),
            Dir::Down => (pos + 1 < lines.len()).then_some(pos + 1),
            Dir::Right => lines[pos + 1..]
                .iter()
                .position(|l| l.0 != order)
                .map(|p| p + pos + 1),
            Dir::Left => {
                let prev = lines[..pos]
                    .iter()
                    .rev()
                    .find(|l| l.0 != order)
                    .map(|l| l.0);
                prev.and_then(|o| lines.iter().position(|l| l.0 == o))
            }
        };
        if let Some(p) = next {
            self.selected_line = Some(lines[p]);
        }
    }

    pub(super) fn select_line_end(&mut self, first: bool) {
        let lines = self.station_cursor_lines();
        let pick = if first { lines.first() } else { lines.last() };
        if let Some(&l) = pick {
            self.selected_line = Some(l);
        }
    }

    /// Enter/Space on a station screen: the selected line is done.
    pub(super) fn mark_selected_line(&mut self) {
        let Some((id, line)) = self.selected_line else {
            self.say("no line to mark".into());
            return;
        };
        let lines = self.station_cursor_lines();
        let pos = lines.iter().position(|l| *l == (id, line)).unwrap_or(0);
        self.send_line_done(id, line, true);
        self.marked.push((id, line));
        // Making the line is seeing the ticket as it is now.
        if let Some(ui) = self.ui.get_mut(&id) {
            if ui.flag == Some(super::Flag::Modified) {
                ui.flag = None;
            }
        }
        // The next open line takes the cursor, so a run of Enter works down
        // the screen.
        let after = self.station_cursor_lines();
        self.selected_line = after.get(pos).or(after.last()).copied();
    }

    /// `u` on a station screen: the last line marked here is open again.
    pub(super) fn undo_mark(&mut self) {
        let Some((id, line)) = self.marked.pop() else {
            self.say("no line marked here to clear".into());
            return;
        };
        self.send_line_done(id, line, false);
        self.selected_line = Some((id, line));
    }
}
