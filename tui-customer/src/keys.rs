//! Which key does what, in each mode. Pure, so the whole key map is tested
//! without a terminal; [`HELP`] is the same map in words.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::action::{Action, AddFocus, Mode, Screen};
use crate::checkout::Field;

pub fn key_to_action(mode: &Mode, key: KeyEvent) -> Option<Action> {
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
        Mode::Normal(screen) => normal(*screen, key.code),
        Mode::Help => Some(Action::Back),
        Mode::Search => match key.code {
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Backspace => Some(Action::Backspace),
            KeyCode::Up => Some(Action::Up),
            KeyCode::Down => Some(Action::Down),
            KeyCode::Char(c) => Some(Action::Input(c)),
            _ => None,
        },
        Mode::AddItem(focus) => match (key.code, focus) {
            (KeyCode::Esc, _) => Some(Action::Back),
            (KeyCode::Enter, _) => Some(Action::Submit),
            (KeyCode::Tab | KeyCode::Down, _) => Some(Action::NextField),
            (KeyCode::BackTab | KeyCode::Up, _) => Some(Action::PrevField),
            (KeyCode::Backspace, _) => Some(Action::Backspace),
            (KeyCode::Char(' '), AddFocus::Choice(_)) => Some(Action::Toggle),
            (KeyCode::Char('+' | '=') | KeyCode::Right, AddFocus::Qty) => Some(Action::QtyUp),
            (KeyCode::Char('-') | KeyCode::Left, AddFocus::Qty) => Some(Action::QtyDown),
            (KeyCode::Char(c), _) => Some(Action::Input(c)),
            _ => None,
        },
        Mode::TextEntry => text(key.code),
        Mode::Checkout(field) => match key.code {
            KeyCode::Tab | KeyCode::Down => Some(Action::NextField),
            KeyCode::BackTab | KeyCode::Up => Some(Action::PrevField),
            KeyCode::Left if field.is_toggle() => Some(Action::Left),
            KeyCode::Right if field.is_toggle() => Some(Action::Right),
            KeyCode::Char(' ') if field.is_toggle() => Some(Action::Toggle),
            KeyCode::PageUp if *field == Field::When => Some(Action::PageUp),
            KeyCode::PageDown if *field == Field::When => Some(Action::PageDown),
            _ => text(key.code),
        },
    }
}

fn text(code: KeyCode) -> Option<Action> {
    match code {
        KeyCode::Esc => Some(Action::Back),
        KeyCode::Enter => Some(Action::Submit),
        KeyCode::Backspace => Some(Action::Backspace),
        KeyCode::Char(c) => Some(Action::Input(c)),
        _ => None,
    }
}

fn normal(screen: Screen, code: KeyCode) -> Option<Action> {
    let common = match code {
        KeyCode::Char('q') => Some(Action::Quit),
        KeyCode::Char('?') => Some(Action::Help),
        KeyCode::Char('1') => Some(Action::Go(Screen::Menu)),
        KeyCode::Char('2') => Some(Action::Go(Screen::Cart)),
        KeyCode::Char('3') => Some(Action::Go(Screen::Orders)),
        KeyCode::Char('4') => Some(Action::Go(Screen::Notifications)),
        KeyCode::Tab => Some(Action::NextScreen),
        KeyCode::BackTab => Some(Action::PrevScreen),
        KeyCode::Esc => Some(Action::Back),
        KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
        KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
        KeyCode::Left | KeyCode::Char('h') => Some(Action::Left),
        KeyCode::Right | KeyCode::Char('l') => Some(Action::Right),
        KeyCode::PageUp => Some(Action::PageUp),
        KeyCode::PageDown => Some(Action::PageDown),
        KeyCode::Home | KeyCode::Char('g') => Some(Action::Home),
        KeyCode::End | KeyCode::Char('G') => Some(Action::End),
        _ => None,
    };
    if common.is_some() {
        return common;
    }
    match (screen, code) {
        (Screen::Menu, KeyCode::Char('/')) => Some(Action::Search),
        (Screen::Menu, KeyCode::Enter | KeyCode::Char('a')) => Some(Action::Add),
        (Screen::Menu, KeyCode::Char('+' | '=')) => Some(Action::QuickAdd),
        (Screen::Cart, KeyCode::Char('+' | '=')) => Some(Action::QtyUp),
        (Screen::Cart, KeyCode::Char('-')) => Some(Action::QtyDown),
        (Screen::Cart, KeyCode::Char('d') | KeyCode::Delete) => Some(Action::Remove),
        (Screen::Cart, KeyCode::Char('n')) => Some(Action::EditNote),
        (Screen::Cart, KeyCode::Char('c') | KeyCode::Enter) => Some(Action::Checkout),
        (Screen::Orders, KeyCode::Char('x')) => Some(Action::CancelOrder),
        (Screen::Orders, KeyCode::Char('m')) => Some(Action::ModifyOrder),
        _ => None,
    }
}

/// The key map as the help screen lists it: (keys, what they do).
pub const HELP: &[(&str, &str)] = &[
    (
        "1 2 3 4, Tab",
        "Menu, Cart, Orders, Notifications; Tab/Shift-Tab cycle",
    ),
    ("Up/Down, j/k", "move; PgUp/PgDn, g/G: page, first, last"),
    ("?  q  Ctrl-C", "these keys; quit"),
    ("Menu", ""),
    ("Left/Right, h/l", "previous / next category"),
    ("Enter, a", "add the item: quantity (+/-) and a note"),
    ("+", "add one at once"),
    ("/", "search every category; Esc clears"),
    ("Cart", ""),
    ("+ / -", "more / fewer (down to none)"),
    ("d, Del", "remove the line;  n: the line's note"),
    ("c, Enter", "check out"),
    ("Checkout", ""),
    (
        "Tab/Up/Down",
        "next / previous field; Space or Left/Right: choose",
    ),
    (
        "When: Left/Right",
        "as soon as possible, or a time: 15 min; PgUp/PgDn a day",
    ),
    ("Enter", "pay the total the relay quoted;  Esc: back"),
    ("Orders", ""),
    ("x", "cancel the order (while pending)"),
    ("m", "change its instructions (while pending)"),
];

/// The simulated gateway's cards (DESIGN §7), for trying the checkout.
pub const TEST_CARDS: &[(&str, &str)] = &[
    ("4242 4242 4242 4242", "approved"),
    ("4000 0000 0000 0002", "declined"),
    ("4000 0000 0000 9995", "declined: insufficient funds"),
];

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

    /// Numbers, Tab, ?, q and Ctrl-C work on every screen; Ctrl-C in every mode.
    #[test]
    fn screens_and_global_keys() {
        let menu = Mode::Normal(Screen::Menu);
        check(menu, KeyCode::Char('1'), Some(Action::Go(Screen::Menu)));
        check(
            menu,
            KeyCode::Char('4'),
            Some(Action::Go(Screen::Notifications)),
        );
        check(menu, KeyCode::Tab, Some(Action::NextScreen));
        check(menu, KeyCode::BackTab, Some(Action::PrevScreen));
        check(menu, KeyCode::Char('?'), Some(Action::Help));
        check(menu, KeyCode::Char('q'), Some(Action::Quit));
        check(menu, KeyCode::Char('j'), Some(Action::Down));
        check(menu, KeyCode::Char('z'), None);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        for mode in [
            menu,
            Mode::Search,
            Mode::TextEntry,
            Mode::Checkout(Field::Number),
        ] {
            assert_eq!(key_to_action(&mode, ctrl_c), Some(Action::Quit));
        }
    }

    /// Each screen's own keys, and nothing for a key another screen owns.
    #[test]
    fn per_screen_keys() {
        let menu = Mode::Normal(Screen::Menu);
        check(menu, KeyCode::Enter, Some(Action::Add));
        check(menu, KeyCode::Char('a'), Some(Action::Add));
        check(menu, KeyCode::Char('+'), Some(Action::QuickAdd));
        check(menu, KeyCode::Char('/'), Some(Action::Search));
        check(menu, KeyCode::Char('x'), None);
        let cart = Mode::Normal(Screen::Cart);
        check(cart, KeyCode::Char('+'), Some(Action::QtyUp));
        check(cart, KeyCode::Char('-'), Some(Action::QtyDown));
        check(cart, KeyCode::Char('d'), Some(Action::Remove));
        check(cart, KeyCode::Delete, Some(Action::Remove));
        check(cart, KeyCode::Char('n'), Some(Action::EditNote));
        check(cart, KeyCode::Char('c'), Some(Action::Checkout));
        check(cart, KeyCode::Enter, Some(Action::Checkout));
        let orders = Mode::Normal(Screen::Orders);
        check(orders, KeyCode::Char('x'), Some(Action::CancelOrder));
        check(orders, KeyCode::Char('m'), Some(Action::ModifyOrder));
        check(orders, KeyCode::Enter, None);
        check(
            Mode::Normal(Screen::Notifications),
            KeyCode::Char('x'),
            None,
        );
    }

    /// Prompts and form fields take letters that are commands elsewhere.
    #[test]
    fn typing_modes_take_letters() {
        check(Mode::Search, KeyCode::Char('q'), Some(Action::Input('q')));
        check(Mode::Search, KeyCode::Esc, Some(Action::Back));
        check(
            Mode::TextEntry,
            KeyCode::Char('1'),
            Some(Action::Input('1')),
        );
        check(Mode::TextEntry, KeyCode::Enter, Some(Action::Submit));
        check(
            Mode::Checkout(Field::Promo),
            KeyCode::Char('q'),
            Some(Action::Input('q')),
        );
        check(
            Mode::Checkout(Field::Promo),
            KeyCode::Char(' '),
            Some(Action::Input(' ')),
        );
        check(
            Mode::Checkout(Field::Payment),
            KeyCode::Char(' '),
            Some(Action::Toggle),
        );
        check(
            Mode::Checkout(Field::Payment),
            KeyCode::Right,
            Some(Action::Right),
        );
        check(Mode::Checkout(Field::Number), KeyCode::Right, None);
        check(
            Mode::Checkout(Field::Cvc),
            KeyCode::Tab,
            Some(Action::NextField),
        );
        check(
            Mode::Checkout(Field::Cvc),
            KeyCode::BackTab,
            Some(Action::PrevField),
        );
        check(
            Mode::Checkout(Field::Cvc),
            KeyCode::Enter,
            Some(Action::Submit),
        );
        check(Mode::Checkout(Field::Cvc), KeyCode::Esc, Some(Action::Back));
        check(
            Mode::AddItem(AddFocus::Qty),
            KeyCode::Char('+'),
            Some(Action::QtyUp),
        );
        check(
            Mode::AddItem(AddFocus::Note),
            KeyCode::Char('+'),
            Some(Action::Input('+')),
        );
        check(
            Mode::AddItem(AddFocus::Qty),
            KeyCode::Char('3'),
            Some(Action::Input('3')),
        );
        check(
            Mode::AddItem(AddFocus::Choice(2)),
            KeyCode::Char(' '),
            Some(Action::Toggle),
        );
        check(
            Mode::AddItem(AddFocus::Note),
            KeyCode::Char(' '),
            Some(Action::Input(' ')),
        );
        check(Mode::Help, KeyCode::Char('x'), Some(Action::Back));
    }

    /// A key release does nothing.
    #[test]
    fn releases_are_ignored() {
        let mut k = key(KeyCode::Char('q'));
        k.kind = KeyEventKind::Release;
        assert_eq!(key_to_action(&Mode::Normal(Screen::Menu), k), None);
    }
}
