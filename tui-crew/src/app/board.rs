//! The board's keys: the expo's and the station screen's shared ones, the
//! detail, the 86 list and the recall list, and moving the selection.

use super::types::{Action, Dir, Mode, Screen};
use super::App;

impl App {
    pub(super) fn on_board(&mut self, action: Action) {
        match action {
            Action::Quit => self.request_quit(),
            Action::Bump => self.bump(),
            Action::Recall => match self.selected {
                Some(id) => self.recall_order(id),
                None => self.say("no ticket to recall".into()),
            },
            Action::MarkLine => self.mark_selected_line(),
            Action::UndoMark => self.undo_mark(),
            Action::RecallList => self.mode = Mode::Recall { cursor: 0 },
            Action::LaterList => self.mode = Mode::Later { cursor: 0 },
            Action::Pause => self.mode = Mode::ConfirmPause,
            Action::Note => self.start_note(),
            Action::ToggleDetail => {
                if let Some(id) = self.selected {
                    self.mode = Mode::Detail {
                        order_id: id,
                        scroll: 0,
                    };
                }
            }
            Action::Back => {
                if !self.filter.is_empty() {
                    self.filter.clear();
                } else {
                    self.dismiss_banner();
                }
            }
            Action::Cancel => self.start_cancel(),
            Action::PrepUp => self.adjust_prep(1),
            Action::PrepDown => self.adjust_prep(-1),
            Action::Delivery => self.start_delivery(),
            Action::ToggleAllDay => self.show_all_day = !self.show_all_day,
            Action::ToggleMenu => {
                self.show_menu = true;
                self.mode = Mode::Menu { cursor: 0 };
            }
            Action::ToggleBell => {
                self.bell = !self.bell;
                let s = if self.bell { "on" } else { "off" };
                self.say(format!("bell {s}"));
            }
            Action::Filter => {
                self.mode = Mode::Filter {
                    input: self.filter.clone(),
                }
            }
            Action::Help => self.mode = Mode::Help,
            Action::Move(d) => match self.screen() {
                Screen::Expo => self.move_selection(d),
                Screen::Station => self.move_line(d),
            },
            Action::First | Action::Last => {
                let first = action == Action::First;
                match self.screen() {
                    Screen::Expo if first => self.select_in_column(|_| 0),
                    Screen::Expo => self.select_in_column(|len| len.saturating_sub(1)),
                    Screen::Station => self.select_line_end(first),
                }
            }
            Action::ToggleAvailable | Action::Input(_) | Action::Erase | Action::Submit => {}
        }
    }

    pub(super) fn on_detail(&mut self, order_id: u64, scroll: u16, action: Action) {
        if self.screen() == Screen::Expo {
            self.selected = Some(order_id);
        }
        let to = |scroll| Mode::Detail { order_id, scroll };
        match action {
            Action::Back | Action::ToggleDetail => self.mode = Mode::Board,
            Action::Move(Dir::Up) => self.mode = to(scroll.saturating_sub(1)),
            Action::Move(Dir::Down) => self.mode = to(scroll.saturating_add(1)),
            Action::First => self.mode = to(0),
            Action::Quit
            | Action::Bump
            | Action::Recall
            | Action::MarkLine
            | Action::UndoMark
            | Action::Note
            | Action::Cancel
            | Action::PrepUp
            | Action::PrepDown
            | Action::Delivery
            | Action::Help => self.on_board(action),
            _ => {}
        }
    }

    pub(super) fn on_menu(&mut self, cursor: usize, action: Action) {
        let last = self.model.menu.len().saturating_sub(1);
        match action {
            Action::Quit => self.request_quit(),
            Action::Back | Action::ToggleMenu => {
                self.show_menu = false;
                self.mode = Mode::Board;
            }
            Action::Move(Dir::Up) => {
                self.mode = Mode::Menu {
                    cursor: cursor.saturating_sub(1),
                }
            }
            Action::Move(Dir::Down) => {
                self.mode = Mode::Menu {
                    cursor: (cursor + 1).min(last),
                }
            }
            Action::First => self.mode = Mode::Menu { cursor: 0 },
            Action::Last => self.mode = Mode::Menu { cursor: last },
            Action::ToggleAvailable => self.toggle_available(cursor),
            Action::ToggleAllDay => self.show_all_day = !self.show_all_day,
            Action::Help => self.mode = Mode::Help,
            _ => {}
        }
    }

    /// The recall list: j/k move, Enter recalls the ticket a status back.
    pub(super) fn on_recall_list(&mut self, cursor: usize, action: Action) {
        let last = self.recall_list().len().saturating_sub(1);
        match action {
            Action::Quit => self.request_quit(),
            Action::Back | Action::RecallList => self.mode = Mode::Board,
            Action::Move(Dir::Up) => {
                self.mode = Mode::Recall {
                    cursor: cursor.saturating_sub(1),
                }
            }
            Action::Move(Dir::Down) => {
                self.mode = Mode::Recall {
                    cursor: (cursor + 1).min(last),
                }
            }
            Action::First => self.mode = Mode::Recall { cursor: 0 },
            Action::Last => self.mode = Mode::Recall { cursor: last },
            Action::Submit | Action::Bump | Action::MarkLine => {
                match self.recall_list().get(cursor) {
                    Some(&id) => {
                        self.recall_order(id);
                        self.mode = Mode::Board;
                    }
                    None => self.say("nothing bumped in the last 15 minutes".into()),
                }
            }
            Action::Help => self.mode = Mode::Help,
            _ => {}
        }
    }

    // ----------------------------------------------------------- selection

    pub(super) fn position_of(&self, id: u64) -> Option<(usize, usize)> {
        self.board()
            .iter()
            .enumerate()
            .find_map(|(c, col)| col.iter().position(|&x| x == id).map(|r| (c, r)))
    }

    fn move_selection(&mut self, d: Dir) {
        let board = self.board();
        let Some((col, row)) = self.selected.and_then(|id| self.position_of(id)) else {
            return;
        };
        match d {
            Dir::Up => {
                if row > 0 {
                    self.selected = Some(board[col][row - 1]);
                }
            }
            Dir::Down => {
                if let Some(&id) = board[col].get(row + 1) {
                    self.selected = Some(id);
                }
            }
            Dir::Left | Dir::Right => {
                let mut c = col;
                loop {
                    c = match d {
                        Dir::Left if c > 0 => c - 1,
                        Dir::Right if c < 2 => c + 1,
                        _ => return,
                    };
                    if let Some(&id) = board[c].get(row).or(board[c].last()) {
                        self.selected = Some(id);
                        return;
                    }
                }
            }
        }
    }

    fn select_in_column(&mut self, pick: impl Fn(usize) -> usize) {
        let board = self.board();
        if let Some((col, _)) = self.selected.and_then(|id| self.position_of(id)) {
            let v = &board[col];
            if let Some(&id) = v.get(pick(v.len())) {
                self.selected = Some(id);
            }
        }
    }
}
