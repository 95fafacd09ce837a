//! What each key means on each screen and in each mode. Pure: the same
//! key, screen and mode always give the same action, so the whole key map is
//! tested without a terminal.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::app::{Action, Dir, Mode, Screen};

/// The action of `key` in `mode` on `screen` (the expo or a station), if
/// it has one.
pub fn key_to_action(screen: Screen, mode: &Mode, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('C')) {
        return Some(Action::Quit);
    }
    if ctrl {
        return None;
    }
    match mode {
        Mode::Filter { .. } | Mode::Cancel { .. } | Mode::Delivery { .. } | Mode::Note { .. } => {
            text_key(key)
        }
        Mode::Help => Some(match key.code {
            KeyCode::Char('q') => Action::Quit,
            _ => Action::Back,
        }),
        Mode::ConfirmQuit => Some(match key.code {
            KeyCode::Char('q') | KeyCode::Char('y') => Action::Quit,
            KeyCode::Enter => Action::Submit,
            _ => Action::Back,
        }),
        Mode::Menu { .. } => menu_key(key),
        Mode::Recall { .. } => recall_key(key),
        Mode::Later { .. } => later_key(key),
        Mode::ConfirmPause => Some(match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => Action::Submit,
            _ => Action::Back,
        }),
        Mode::Board | Mode::Detail { .. } => match screen {
            Screen::Expo => board_key(key),
            Screen::Station => station_key(key),
        },
    }
}

fn nav_key(code: KeyCode) -> Option<Action> {
    Some(match code {
        KeyCode::Up | KeyCode::Char('k') => Action::Move(Dir::Up),
        KeyCode::Down | KeyCode::Char('j') => Action::Move(Dir::Down),
        KeyCode::Left | KeyCode::Char('h') => Action::Move(Dir::Left),
        KeyCode::Right | KeyCode::Char('l') => Action::Move(Dir::Right),
        KeyCode::Home | KeyCode::Char('g') | KeyCode::PageUp => Action::First,
        KeyCode::End | KeyCode::Char('G') | KeyCode::PageDown => Action::Last,
        _ => return None,
    })
}

fn board_key(key: KeyEvent) -> Option<Action> {
    if let Some(a) = nav_key(key.code) {
        return Some(a);
    }
    Some(match key.code {
        KeyCode::Enter | KeyCode::Char(' ') => Action::Bump,
        KeyCode::Backspace | KeyCode::Char('u') => Action::Recall,
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Char('i') => Action::ToggleDetail,
        KeyCode::Esc => Action::Back,
        KeyCode::Char('x') => Action::Cancel,
        KeyCode::Char('+') | KeyCode::Char('=') => Action::PrepUp,
        KeyCode::Char('-') | KeyCode::Char('_') => Action::PrepDown,
        KeyCode::Char('d') => Action::Delivery,
        KeyCode::Char('a') => Action::ToggleAllDay,
        KeyCode::Char('m') => Action::ToggleMenu,
        KeyCode::Char('b') => Action::ToggleBell,
        KeyCode::Char('/') => Action::Filter,
        KeyCode::Char('r') => Action::RecallList,
        KeyCode::Char('L') => Action::LaterList,
        KeyCode::Char('p') => Action::Pause,
        KeyCode::Char('n') => Action::Note,
        KeyCode::Char('?') | KeyCode::F(1) => Action::Help,
        KeyCode::Char('q') => Action::Quit,
        _ => return None,
    })
}

/// A station screen: the board's keys, but Enter/Space mark the selected
/// line and `u` clears the last mark instead of recalling (DESIGN §12;
/// Backspace still recalls).
fn station_key(key: KeyEvent) -> Option<Action> {
    match key.code {
        KeyCode::Enter | KeyCode::Char(' ') => Some(Action::MarkLine),
        KeyCode::Char('u') => Some(Action::UndoMark),
        _ => board_key(key),
    }
}

fn recall_key(key: KeyEvent) -> Option<Action> {
    if let Some(a) = nav_key(key.code) {
        return Some(a);
    }
    Some(match key.code {
        KeyCode::Enter | KeyCode::Char(' ') => Action::Submit,
        KeyCode::Esc | KeyCode::Char('r') => Action::Back,
        KeyCode::Char('?') | KeyCode::F(1) => Action::Help,
        KeyCode::Char('q') => Action::Quit,
        _ => return None,
    })
}

/// The `L` list of scheduled orders: Enter or `f` sends one to the kitchen now.
fn later_key(key: KeyEvent) -> Option<Action> {
    if let Some(a) = nav_key(key.code) {
        return Some(a);
    }
    Some(match key.code {
        KeyCode::Enter | KeyCode::Char('f') => Action::Submit,
        KeyCode::Esc | KeyCode::Char('L') => Action::Back,
        KeyCode::Char('?') | KeyCode::F(1) => Action::Help,
        KeyCode::Char('q') => Action::Quit,
        _ => return None,
    })
}

fn menu_key(key: KeyEvent) -> Option<Action> {
    if let Some(a) = nav_key(key.code) {
        return Some(a);
    }
    Some(match key.code {
        KeyCode::Enter | KeyCode::Char(' ') => Action::ToggleAvailable,
        KeyCode::Esc | KeyCode::Char('m') | KeyCode::Tab => Action::Back,
        KeyCode::Char('a') => Action::ToggleAllDay,
        KeyCode::Char('?') | KeyCode::F(1) => Action::Help,
        KeyCode::Char('q') => Action::Quit,
        _ => return None,
    })
}

fn text_key(key: KeyEvent) -> Option<Action> {
    Some(match key.code {
        KeyCode::Enter => Action::Submit,
        KeyCode::Esc => Action::Back,
        KeyCode::Backspace => Action::Erase,
        KeyCode::Char(c) => Action::Input(c),
        _ => return None,
    })
}

/// The keys one terminal event stands for. Over a slow link, Esc and the
/// key typed right after it arrive together and read as Alt+key; a cook
/// never means Alt, so that is taken as the two keys it was.
pub fn split_alt(key: KeyEvent) -> Vec<KeyEvent> {
    if key.modifiers.contains(KeyModifiers::ALT) && matches!(key.code, KeyCode::Char(_)) {
        let mut plain = key;
        plain.modifiers.remove(KeyModifiers::ALT);
        let esc = KeyEvent::new_with_kind(KeyCode::Esc, KeyModifiers::NONE, key.kind);
        vec![esc, plain]
    } else {
        vec![key]
    }
}

/// The expo's key map as the help overlay and the README show it.
pub const HELP: &[(&str, &str)] = &[
    (
        "Enter / Space",
        "bump the selected ticket to its next status",
    ),
    ("Backspace / u", "recall: one status back (within 15 min)"),
    ("r", "recall list: tickets bumped in the last 15 min"),
    ("L", "orders for later; Enter fires one now"),
    ("p", "pause / resume online ordering (asks first)"),
    ("n", "kitchen note on the ticket (one line)"),
    ("Tab / i", "open or close the ticket's detail"),
    ("arrows / h j k l", "move between tickets and columns"),
    ("g / G", "first / last ticket of the column"),
    ("x", "cancel the order (asks for a reason first)"),
    ("+ / -", "prep estimate one minute more / less"),
    ("d", "set delivery minutes (delivery orders)"),
    ("a", "all-day counts: items still to cook"),
    ("m", "86 list: Enter marks an item out / back"),
    ("/", "filter by order code or item"),
    ("b", "bell on new orders on / off"),
    ("Esc", "close; on the board: clear filter, dismiss banner"),
    ("?", "this help"),
    ("q / Ctrl-C", "quit"),
];

/// The station screen's key map (the rest as on the expo).
pub const STATION_HELP: &[(&str, &str)] = &[
    ("Enter / Space", "mark the selected line done"),
    ("u", "clear the last line marked here"),
    ("Backspace", "recall the ticket one status back"),
    ("r", "recall list: tickets bumped in the last 15 min"),
    ("L", "orders for later; Enter fires one now"),
    ("p", "pause / resume online ordering (asks first)"),
    ("n", "kitchen note on the ticket (one line)"),
    ("Tab / i", "open or close the ticket's detail"),
    ("j k / arrows", "next / previous line; h l: ticket"),
    ("g / G", "first / last line"),
    ("x", "cancel the order (asks for a reason first)"),
    ("+ / -", "prep estimate one minute more / less"),
    ("a", "all-day counts: this station's items to cook"),
    ("m", "86 list: Enter marks an item out / back"),
    ("/", "filter by order code or item"),
    ("b", "bell on new orders on / off"),
    ("Esc", "close; on the board: clear filter, dismiss banner"),
    ("?", "this help"),
    ("q / Ctrl-C", "quit"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[track_caller]
    fn check(mode: &Mode, code: KeyCode, expected: Option<Action>) {
        assert_eq!(
            key_to_action(Screen::Expo, mode, key(code)),
            expected,
            "{code:?} in {mode:?}"
        );
    }

    #[track_caller]
    fn check_station(mode: &Mode, code: KeyCode, expected: Option<Action>) {
        assert_eq!(
            key_to_action(Screen::Station, mode, key(code)),
            expected,
            "{code:?} in {mode:?} on a station"
        );
    }

    /// On a station screen Enter/Space mark a line and `u` clears the last
    /// mark; the other keys (Backspace recalls) are the expo's.
    #[test]
    fn station_keys() {
        let m = Mode::Board;
        check_station(&m, KeyCode::Enter, Some(Action::MarkLine));
        check_station(&m, KeyCode::Char(' '), Some(Action::MarkLine));
        check_station(&m, KeyCode::Char('u'), Some(Action::UndoMark));
        check_station(&m, KeyCode::Backspace, Some(Action::Recall));
        check_station(&m, KeyCode::Char('r'), Some(Action::RecallList));
        check_station(&m, KeyCode::Char('n'), Some(Action::Note));
        check_station(&m, KeyCode::Char('a'), Some(Action::ToggleAllDay));
        check_station(&m, KeyCode::Tab, Some(Action::ToggleDetail));
        check_station(&m, KeyCode::Char('j'), Some(Action::Move(Dir::Down)));
        check_station(&m, KeyCode::Char('l'), Some(Action::Move(Dir::Right)));
        check_station(&m, KeyCode::Char('q'), Some(Action::Quit));
        let detail = Mode::Detail {
            order_id: 1,
            scroll: 0,
        };
        check_station(&detail, KeyCode::Enter, Some(Action::MarkLine));
        check_station(&detail, KeyCode::Esc, Some(Action::Back));
        // Prompts and lists read the same on a station.
        let note = Mode::Note {
            order_id: 1,
            input: String::new(),
        };
        check_station(&note, KeyCode::Char('u'), Some(Action::Input('u')));
        check_station(&note, KeyCode::Enter, Some(Action::Submit));
        check_station(
            &Mode::Recall { cursor: 0 },
            KeyCode::Enter,
            Some(Action::Submit),
        );
    }

    /// The recall list moves with j/k, recalls with Enter, closes with Esc or r.
    #[test]
    fn recall_list_keys() {
        let m = Mode::Recall { cursor: 0 };
        check(&m, KeyCode::Enter, Some(Action::Submit));
        check(&m, KeyCode::Char('j'), Some(Action::Move(Dir::Down)));
        check(&m, KeyCode::Char('k'), Some(Action::Move(Dir::Up)));
        check(&m, KeyCode::Esc, Some(Action::Back));
        check(&m, KeyCode::Char('r'), Some(Action::Back));
        check(&m, KeyCode::Char('q'), Some(Action::Quit));
        check(&Mode::Board, KeyCode::Char('r'), Some(Action::RecallList));
        check(&Mode::Board, KeyCode::Char('n'), Some(Action::Note));
    }

    #[test]
    fn board_keys() {
        let m = Mode::Board;
        check(&m, KeyCode::Enter, Some(Action::Bump));
        check(&m, KeyCode::Char(' '), Some(Action::Bump));
        check(&m, KeyCode::Backspace, Some(Action::Recall));
        check(&m, KeyCode::Char('u'), Some(Action::Recall));
        check(&m, KeyCode::Tab, Some(Action::ToggleDetail));
        check(&m, KeyCode::Char('i'), Some(Action::ToggleDetail));
        check(&m, KeyCode::Esc, Some(Action::Back));
        check(&m, KeyCode::Char('x'), Some(Action::Cancel));
        check(&m, KeyCode::Char('+'), Some(Action::PrepUp));
        check(&m, KeyCode::Char('='), Some(Action::PrepUp));
        check(&m, KeyCode::Char('-'), Some(Action::PrepDown));
        check(&m, KeyCode::Char('d'), Some(Action::Delivery));
        check(&m, KeyCode::Char('a'), Some(Action::ToggleAllDay));
        check(&m, KeyCode::Char('m'), Some(Action::ToggleMenu));
        check(&m, KeyCode::Char('b'), Some(Action::ToggleBell));
        check(&m, KeyCode::Char('/'), Some(Action::Filter));
        check(&m, KeyCode::Char('?'), Some(Action::Help));
        check(&m, KeyCode::Char('q'), Some(Action::Quit));
        check(&m, KeyCode::Up, Some(Action::Move(Dir::Up)));
        check(&m, KeyCode::Char('k'), Some(Action::Move(Dir::Up)));
        check(&m, KeyCode::Char('j'), Some(Action::Move(Dir::Down)));
        check(&m, KeyCode::Char('h'), Some(Action::Move(Dir::Left)));
        check(&m, KeyCode::Right, Some(Action::Move(Dir::Right)));
        check(&m, KeyCode::Char('l'), Some(Action::Move(Dir::Right)));
        check(&m, KeyCode::Char('g'), Some(Action::First));
        check(&m, KeyCode::Char('G'), Some(Action::Last));
        check(&m, KeyCode::Char('z'), None);
    }

    #[test]
    fn detail_keeps_the_ticket_keys() {
        let m = Mode::Detail {
            order_id: 1,
            scroll: 0,
        };
        check(&m, KeyCode::Esc, Some(Action::Back));
        check(&m, KeyCode::Tab, Some(Action::ToggleDetail));
        check(&m, KeyCode::Enter, Some(Action::Bump));
        check(&m, KeyCode::Char('u'), Some(Action::Recall));
    }

    #[test]
    fn prompts_take_text() {
        for m in [
            Mode::Filter {
                input: String::new(),
            },
            Mode::Cancel {
                order_id: 1,
                reason: String::new(),
            },
            Mode::Delivery {
                order_id: 1,
                input: String::new(),
            },
            Mode::Note {
                order_id: 1,
                input: String::new(),
            },
        ] {
            check(&m, KeyCode::Char('q'), Some(Action::Input('q')));
            check(&m, KeyCode::Char('x'), Some(Action::Input('x')));
            check(&m, KeyCode::Char(' '), Some(Action::Input(' ')));
            check(&m, KeyCode::Enter, Some(Action::Submit));
            check(&m, KeyCode::Esc, Some(Action::Back));
            check(&m, KeyCode::Backspace, Some(Action::Erase));
        }
    }

    #[test]
    fn menu_keys() {
        let m = Mode::Menu { cursor: 0 };
        check(&m, KeyCode::Enter, Some(Action::ToggleAvailable));
        check(&m, KeyCode::Char(' '), Some(Action::ToggleAvailable));
        check(&m, KeyCode::Char('j'), Some(Action::Move(Dir::Down)));
        check(&m, KeyCode::Char('m'), Some(Action::Back));
        check(&m, KeyCode::Esc, Some(Action::Back));
        check(&m, KeyCode::Char('q'), Some(Action::Quit));
    }

    #[test]
    fn ctrl_c_quits_everywhere_and_releases_do_nothing() {
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        for m in [
            Mode::Board,
            Mode::Help,
            Mode::Filter {
                input: String::new(),
            },
            Mode::Menu { cursor: 0 },
        ] {
            assert_eq!(key_to_action(Screen::Expo, &m, ctrl_c), Some(Action::Quit));
        }
        let mut release = key(KeyCode::Enter);
        release.kind = KeyEventKind::Release;
        assert_eq!(key_to_action(Screen::Station, &Mode::Board, release), None);
    }

    #[test]
    fn alt_key_is_esc_then_key() {
        let k = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::ALT);
        let keys = split_alt(k);
        assert_eq!(keys.len(), 2);
        let board = |k| key_to_action(Screen::Expo, &Mode::Board, k);
        assert_eq!(board(keys[0]), Some(Action::Back));
        assert_eq!(board(keys[1]), Some(Action::Cancel));
        assert_eq!(split_alt(key(KeyCode::Enter)), vec![key(KeyCode::Enter)]);
    }

    #[test]
    fn help_and_quit_confirm() {
        check(&Mode::Help, KeyCode::Char('x'), Some(Action::Back));
        check(&Mode::Help, KeyCode::Char('q'), Some(Action::Quit));
        check(&Mode::ConfirmQuit, KeyCode::Char('q'), Some(Action::Quit));
        check(&Mode::ConfirmQuit, KeyCode::Char('n'), Some(Action::Back));
    }
}
