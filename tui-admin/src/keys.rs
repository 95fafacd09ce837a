//! Keys to actions: one pure function per mode, and the key lists `?` shows.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::app::{Action, Mode, Screen};
use crate::form::Edit;

pub fn key_to_action(mode: &Mode, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    match mode {
        Mode::Typing => typing(key, ctrl),
        Mode::Confirm => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => Some(Action::Submit),
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                Some(Action::Close)
            }
            _ => None,
        },
        Mode::Help => match key.code {
            KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter => {
                Some(Action::Close)
            }
            _ => None,
        },
        Mode::Detail => match key.code {
            KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => Some(Action::Close),
            KeyCode::Char('c') => Some(Action::CancelOrder),
            KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
            KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
            KeyCode::PageUp => Some(Action::PageUp),
            KeyCode::PageDown => Some(Action::PageDown),
            KeyCode::Home | KeyCode::Char('g') => Some(Action::Top),
            KeyCode::Char('?') => Some(Action::Help),
            _ => None,
        },
        Mode::Report => match key.code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('R') | KeyCode::Enter => {
                Some(Action::Close)
            }
            KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
            KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
            KeyCode::PageUp => Some(Action::PageUp),
            KeyCode::PageDown => Some(Action::PageDown),
            KeyCode::Home | KeyCode::Char('g') => Some(Action::Top),
            KeyCode::Char('?') => Some(Action::Help),
            _ => None,
        },
        Mode::Browse(screen) => browse(*screen, key),
    }
}

fn typing(key: KeyEvent, ctrl: bool) -> Option<Action> {
    Some(match key.code {
        KeyCode::Esc => Action::Close,
        KeyCode::Enter => Action::Submit,
        KeyCode::Tab | KeyCode::Down => Action::NextField,
        KeyCode::BackTab | KeyCode::Up => Action::PrevField,
        KeyCode::Left => Action::Input(Edit::Left),
        KeyCode::Right => Action::Input(Edit::Right),
        KeyCode::Home => Action::Input(Edit::Home),
        KeyCode::End => Action::Input(Edit::End),
        KeyCode::Backspace => Action::Input(Edit::Backspace),
        KeyCode::Delete => Action::Input(Edit::Delete),
        KeyCode::Char('u') if ctrl => Action::Input(Edit::Clear),
        KeyCode::Char('a') if ctrl => Action::Input(Edit::Home),
        KeyCode::Char('e') if ctrl => Action::Input(Edit::End),
        KeyCode::Char('n') if ctrl => Action::Input(Edit::Next),
        KeyCode::Char(c) if !ctrl => Action::Input(Edit::Char(c)),
        _ => return None,
    })
}

fn browse(screen: Screen, key: KeyEvent) -> Option<Action> {
    let common = match key.code {
        KeyCode::Char('q') => Some(Action::Quit),
        KeyCode::Char('?') => Some(Action::Help),
        KeyCode::Esc => Some(Action::Close),
        KeyCode::Tab => Some(Action::NextScreen),
        KeyCode::BackTab => Some(Action::PrevScreen),
        KeyCode::Char(c @ '1'..='8') => {
            Screen::from_number(c as usize - '0' as usize).map(Action::Go)
        }
        KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
        KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
        KeyCode::PageUp => Some(Action::PageUp),
        KeyCode::PageDown => Some(Action::PageDown),
        KeyCode::Home | KeyCode::Char('g') => Some(Action::Top),
        KeyCode::End | KeyCode::Char('G') => Some(Action::Bottom),
        KeyCode::Enter => Some(Action::Open),
        _ => None,
    };
    if common.is_some() {
        return common;
    }
    let c = match key.code {
        KeyCode::Char(c) => c,
        KeyCode::Delete => 'd',
        _ => return None,
    };
    Some(match (screen, c) {
        (Screen::Dashboard, 'z') => Action::ToggleWindow,
        (Screen::Dashboard, 'a') => Action::New,
        (Screen::Dashboard, 'p') => Action::Capacity,
        (Screen::Dashboard, 'R') => Action::Report,
        (Screen::Orders, '/') => Action::Filter,
        (Screen::Orders, 's') => Action::CycleStatus,
        (Screen::Orders, 't') => Action::CycleStation,
        (Screen::Orders, 'o') => Action::ToggleSort,
        (Screen::Orders, 'c') => Action::CancelOrder,
        (Screen::Alerts, 'a') => Action::Ack,
        (Screen::Activity, '/') => Action::Filter,
        (Screen::Activity, 't') => Action::CycleKind,
        (Screen::Activity, 'r') => Action::Refresh,
        (Screen::Menu, 'n') => Action::New,
        (Screen::Menu, 'e') => Action::Edit,
        (Screen::Menu, 'o') => Action::Options,
        (Screen::Menu, ' ') => Action::Toggle,
        (Screen::Menu, 'd') => Action::Remove,
        (Screen::Announcements, 'n') => Action::New,
        (Screen::Promos, 'n') => Action::New,
        (Screen::Promos, 'e') => Action::Edit,
        (Screen::Promos, ' ') | (Screen::Promos, 'd') => Action::Toggle,
        (Screen::Users, 'n') => Action::New,
        (Screen::Users, 'x') => Action::Revoke,
        (Screen::Users, 'r') => Action::Refresh,
        _ => return None,
    })
}

/// Every key of a screen, for `?`.
pub fn help(screen: Screen) -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<(&str, &str)> = match screen {
        Screen::Dashboard => vec![
            ("z", "charts: 15 minutes / 2 minutes"),
            ("a", "write an announcement"),
            (
                "p",
                "capacity: pause / resume, orders per slot, extra minutes",
            ),
            (
                "R",
                "today's report: sales, refunds, items, hours, prep times",
            ),
        ],
        Screen::Orders => vec![
            ("Enter", "order detail: lines, history, payment"),
            ("c", "cancel the order (refunds a card), asks first"),
            ("/", "filter by customer, code or status text"),
            ("s", "status filter: all, open, scheduled … cancelled"),
            ("t", "station filter: each station in use, then all"),
            ("o", "sort: newest first / oldest first"),
        ],
        Screen::Alerts => vec![("a  Enter", "acknowledge the selected alert")],
        Screen::Activity => vec![
            ("/", "filter by user (or text)"),
            (
                "t",
                "kind: login, connect, disconnect, order, status, menu, admin",
            ),
            ("r", "reload the newest entries"),
            ("End  G", "older entries load as you reach the end"),
        ],
        Screen::Menu => vec![
            ("n", "add an item"),
            (
                "e  Enter",
                "edit name, category, description, price, prep, station",
            ),
            ("Ctrl-N", "in the station field: the next station in use"),
            (
                "o",
                "option groups, one per line: id (Name) min-max: choice (Name) price, …",
            ),
            ("Space", "toggle available / 86"),
            ("d  Del", "remove the item, asks first"),
        ],
        Screen::Announcements => vec![("n  Enter", "write an announcement")],
        Screen::Promos => vec![
            ("n", "new promo code"),
            ("e  Enter", "edit the code's discount, expiry, state"),
            ("Space  d", "activate / deactivate"),
        ],
        Screen::Users => vec![
            ("n", "create an account (crew, admin, customer)"),
            ("x", "revoke the user's sessions, asks first"),
            ("r", "reload the list"),
        ],
    };
    v.extend([
        ("1-8", "go to a screen (numbered in the top line)"),
        ("Tab  S-Tab", "next / previous screen"),
        ("Up Down j k", "move"),
        ("PgUp PgDn Home End", "move by a page / to either end"),
        (
            "In forms",
            "Tab field · Left/Right choose · Enter send · Esc",
        ),
        ("?", "this help"),
        ("q  Ctrl-C", "quit"),
    ]);
    v
}

/// The one-line reminder under each screen.
pub fn hints(mode: &Mode) -> &'static str {
    match mode {
        Mode::Typing => "Enter send · Tab next field · Left/Right choose · Esc cancel",
        Mode::Confirm => "y / Enter confirm · n / Esc keep",
        Mode::Help => "Esc close",
        Mode::Detail => "c cancel order · Up/Down scroll · Esc close",
        Mode::Report => "Up/Down scroll · Esc close",
        Mode::Browse(s) => match s {
            Screen::Dashboard => "z chart window · a announce · R report · Tab screens · ? keys",
            Screen::Orders => "Enter detail · c cancel · / filter · s status · t station · o sort",
            Screen::Alerts => "a / Enter acknowledge · ? keys · q quit",
            Screen::Activity => "/ filter user · t kind · r reload · End older · ? keys",
            Screen::Menu => "n add · e edit · o options · Space 86 · d remove · ? keys",
            Screen::Announcements => "n write · ? keys · q quit",
            Screen::Promos => "n new · e edit · Space on/off · ? keys",
            Screen::Users => "n new account · x revoke sessions · r reload · ? keys",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[track_caller]
    fn check(mode: Mode, code: KeyCode, expected: Option<Action>) {
        assert_eq!(
            key_to_action(&mode, key(code)),
            expected,
            "{mode:?} {code:?}"
        );
    }

    #[test]
    fn global_keys() {
        let b = Mode::Browse(Screen::Dashboard);
        check(b, KeyCode::Char('q'), Some(Action::Quit));
        check(b, KeyCode::Char('?'), Some(Action::Help));
        check(b, KeyCode::Tab, Some(Action::NextScreen));
        check(b, KeyCode::BackTab, Some(Action::PrevScreen));
        check(b, KeyCode::Char('1'), Some(Action::Go(Screen::Dashboard)));
        check(b, KeyCode::Char('8'), Some(Action::Go(Screen::Users)));
        check(b, KeyCode::Char('9'), None);
        check(b, KeyCode::Down, Some(Action::Down));
        check(b, KeyCode::Char('k'), Some(Action::Up));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        for mode in [b, Mode::Typing, Mode::Confirm, Mode::Help, Mode::Detail] {
            assert_eq!(key_to_action(&mode, ctrl_c), Some(Action::Quit), "{mode:?}");
        }
    }

    #[test]
    fn screen_keys() {
        use Screen::*;
        check(
            Mode::Browse(Orders),
            KeyCode::Char('c'),
            Some(Action::CancelOrder),
        );
        check(
            Mode::Browse(Orders),
            KeyCode::Char('/'),
            Some(Action::Filter),
        );
        check(
            Mode::Browse(Orders),
            KeyCode::Char('s'),
            Some(Action::CycleStatus),
        );
        check(
            Mode::Browse(Orders),
            KeyCode::Char('o'),
            Some(Action::ToggleSort),
        );
        check(
            Mode::Browse(Orders),
            KeyCode::Char('t'),
            Some(Action::CycleStation),
        );
        check(Mode::Browse(Orders), KeyCode::Enter, Some(Action::Open));
        check(Mode::Browse(Alerts), KeyCode::Char('a'), Some(Action::Ack));
        check(
            Mode::Browse(Activity),
            KeyCode::Char('t'),
            Some(Action::CycleKind),
        );
        check(Mode::Browse(Menu), KeyCode::Char(' '), Some(Action::Toggle));
        check(Mode::Browse(Menu), KeyCode::Delete, Some(Action::Remove));
        check(Mode::Browse(Menu), KeyCode::Char('n'), Some(Action::New));
        check(
            Mode::Browse(Menu),
            KeyCode::Char('o'),
            Some(Action::Options),
        );
        check(
            Mode::Browse(Orders),
            KeyCode::Char('o'),
            Some(Action::ToggleSort),
        );
        check(
            Mode::Browse(Promos),
            KeyCode::Char('d'),
            Some(Action::Toggle),
        );
        check(
            Mode::Browse(Users),
            KeyCode::Char('x'),
            Some(Action::Revoke),
        );
        check(
            Mode::Browse(Dashboard),
            KeyCode::Char('z'),
            Some(Action::ToggleWindow),
        );
        check(
            Mode::Browse(Dashboard),
            KeyCode::Char('R'),
            Some(Action::Report),
        );
        check(Mode::Report, KeyCode::Esc, Some(Action::Close));
        check(Mode::Report, KeyCode::Down, Some(Action::Down));
        check(Mode::Report, KeyCode::Char('c'), None);
        // A key belongs to its screen only.
        check(Mode::Browse(Dashboard), KeyCode::Char('c'), None);
        check(Mode::Browse(Menu), KeyCode::Char('x'), None);
    }

    #[test]
    fn typing_takes_letters() {
        check(
            Mode::Typing,
            KeyCode::Char('q'),
            Some(Action::Input(Edit::Char('q'))),
        );
        check(
            Mode::Typing,
            KeyCode::Char('1'),
            Some(Action::Input(Edit::Char('1'))),
        );
        check(Mode::Typing, KeyCode::Enter, Some(Action::Submit));
        check(Mode::Typing, KeyCode::Esc, Some(Action::Close));
        check(Mode::Typing, KeyCode::Tab, Some(Action::NextField));
        check(
            Mode::Typing,
            KeyCode::Backspace,
            Some(Action::Input(Edit::Backspace)),
        );
        let ctrl_n = KeyEvent::new(KeyCode::Char('n'), KeyModifiers::CONTROL);
        assert_eq!(
            key_to_action(&Mode::Typing, ctrl_n),
            Some(Action::Input(Edit::Next))
        );
        let ctrl_u = KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL);
        assert_eq!(
            key_to_action(&Mode::Typing, ctrl_u),
            Some(Action::Input(Edit::Clear))
        );
    }

    #[test]
    fn confirm_help_detail() {
        check(Mode::Confirm, KeyCode::Char('y'), Some(Action::Submit));
        check(Mode::Confirm, KeyCode::Char('n'), Some(Action::Close));
        check(Mode::Confirm, KeyCode::Char('x'), None);
        check(Mode::Help, KeyCode::Char('q'), Some(Action::Close));
        check(Mode::Detail, KeyCode::Char('c'), Some(Action::CancelOrder));
        check(Mode::Detail, KeyCode::Esc, Some(Action::Close));
    }

    #[test]
    fn releases_are_ignored() {
        let mut k = key(KeyCode::Char('q'));
        k.kind = KeyEventKind::Release;
        assert_eq!(key_to_action(&Mode::Browse(Screen::Orders), k), None);
    }
}
