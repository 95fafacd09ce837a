//! One-line text inputs and the small forms built from them: a menu item,
//! an announcement, a promo code, an account, a cancellation reason.

/// A one-line text input with a cursor (counted in characters).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Input {
    pub value: String,
    pub cursor: usize,
}

/// An edit to a text input, as keys produce it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Char(char),
    Backspace,
    Delete,
    Left,
    Right,
    Home,
    End,
    Clear,
    /// The next of a field's suggestions (Ctrl-N).
    Next,
}

impl Input {
    pub fn new(value: impl Into<String>) -> Input {
        let value = value.into();
        let cursor = value.chars().count();
        Input { value, cursor }
    }

    fn byte_at(&self, char_idx: usize) -> usize {
        self.value
            .char_indices()
            .nth(char_idx)
            .map(|(b, _)| b)
            .unwrap_or(self.value.len())
    }

    pub fn len(&self) -> usize {
        self.value.chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// Applies `edit`; `max` caps the length in characters.
    pub fn apply(&mut self, edit: Edit, max: usize) {
        let len = self.len();
        self.cursor = self.cursor.min(len);
        match edit {
            Edit::Char(c) => {
                if len < max && !c.is_control() {
                    let b = self.byte_at(self.cursor);
                    self.value.insert(b, c);
                    self.cursor += 1;
                }
            }
            Edit::Backspace => {
                if self.cursor > 0 {
                    let b = self.byte_at(self.cursor - 1);
                    self.value.remove(b);
                    self.cursor -= 1;
                }
            }
            Edit::Delete => {
                if self.cursor < len {
                    let b = self.byte_at(self.cursor);
                    self.value.remove(b);
                }
            }
            Edit::Left => self.cursor = self.cursor.saturating_sub(1),
            Edit::Right => self.cursor = (self.cursor + 1).min(len),
            Edit::Home => self.cursor = 0,
            Edit::End => self.cursor = len,
            Edit::Clear => {
                self.value.clear();
                self.cursor = 0;
            }
            // Only a field with suggestions answers it.
            Edit::Next => {}
        }
    }
}

/// What a field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text {
        input: Input,
        /// Drawn as `*` (passwords).
        secret: bool,
        max: usize,
    },
    /// One of a few fixed words; Left/Right/Space cycle.
    Choice {
        options: &'static [&'static str],
        index: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    pub value: Value,
    /// A short example of what to type, drawn when the field is empty
    /// (or, for a field with suggestions, beside it).
    pub hint: String,
    /// Values Ctrl-N steps through (the stations in use).
    pub suggestions: Vec<String>,
    /// Shown but not editable (the id of an item being edited).
    pub locked: bool,
}

impl Field {
    pub fn text(key: &'static str, label: &'static str, value: &str, max: usize) -> Field {
        Field {
            key,
            label,
            value: Value::Text {
                input: Input::new(value),
                secret: false,
                max,
            },
            hint: String::new(),
            suggestions: Vec::new(),
            locked: false,
        }
    }

    pub fn secret(key: &'static str, label: &'static str, max: usize) -> Field {
        Field {
            value: Value::Text {
                input: Input::default(),
                secret: true,
                max,
            },
            ..Field::text(key, label, "", max)
        }
    }

    pub fn choice(
        key: &'static str,
        label: &'static str,
        options: &'static [&'static str],
        selected: &str,
    ) -> Field {
        Field {
            key,
            label,
            value: Value::Choice {
                options,
                index: options.iter().position(|o| *o == selected).unwrap_or(0),
            },
            hint: String::new(),
            suggestions: Vec::new(),
            locked: false,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Field {
        self.hint = hint.into();
        self
    }

    /// Values Ctrl-N offers in turn.
    pub fn suggest(mut self, suggestions: Vec<String>) -> Field {
        self.suggestions = suggestions;
        self
    }

    pub fn locked(mut self) -> Field {
        self.locked = true;
        self
    }

    /// The field's text, or the selected word of a choice.
    pub fn get(&self) -> &str {
        match &self.value {
            Value::Text { input, .. } => &input.value,
            Value::Choice { options, index } => options.get(*index).copied().unwrap_or(""),
        }
    }

    /// What a screen shows: secrets masked.
    pub fn display(&self) -> String {
        match &self.value {
            Value::Text {
                input,
                secret: true,
                ..
            } => "*".repeat(input.len()),
            _ => self.get().to_owned(),
        }
    }

    pub fn edit(&mut self, edit: Edit) {
        if self.locked {
            return;
        }
        match &mut self.value {
            Value::Text { input, .. } if edit == Edit::Next => {
                // The suggestion after the one shown, or the first.
                let next = self
                    .suggestions
                    .iter()
                    .position(|s| *s == input.value)
                    .map_or(0, |i| (i + 1) % self.suggestions.len().max(1));
                if let Some(s) = self.suggestions.get(next) {
                    *input = Input::new(s.clone());
                }
            }
            Value::Text { input, max, .. } => input.apply(edit, *max),
            Value::Choice { options, index } => {
                let n = options.len().max(1);
                match edit {
                    Edit::Right | Edit::Char(' ') => *index = (*index + 1) % n,
                    Edit::Left => *index = (*index + n - 1) % n,
                    Edit::Char(c) => {
                        // A typed first letter picks the option starting with it.
                        if let Some(i) = options.iter().position(|o| o.starts_with(c)) {
                            *index = i;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// A form: fields, the focused one, and the relay's last refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form<K> {
    pub kind: K,
    pub title: String,
    /// Lines above the fields (what the form acts on).
    pub intro: Vec<String>,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// Why the last submit was refused, by us or by the relay.
    pub error: Option<String>,
    /// The id of the request in flight, while the relay decides.
    pub sending: Option<String>,
}

impl<K> Form<K> {
    pub fn new(kind: K, title: impl Into<String>, fields: Vec<Field>) -> Form<K> {
        let focus = fields.iter().position(|f| !f.locked).unwrap_or(0);
        Form {
            kind,
            title: title.into(),
            intro: Vec::new(),
            fields,
            focus,
            error: None,
            sending: None,
        }
    }

    pub fn intro(mut self, lines: Vec<String>) -> Form<K> {
        self.intro = lines;
        self
    }

    pub fn get(&self, key: &str) -> &str {
        self.fields
            .iter()
            .find(|f| f.key == key)
            .map(Field::get)
            .unwrap_or("")
    }

    /// Moves the focus by `delta`, skipping locked fields.
    pub fn move_focus(&mut self, delta: isize) {
        let n = self.fields.len();
        if n == 0 {
            return;
        }
        let mut i = self.focus;
        for _ in 0..n {
            i = (i as isize + delta).rem_euclid(n as isize) as usize;
            if !self.fields[i].locked {
                break;
            }
        }
        self.focus = i;
    }

    pub fn edit(&mut self, edit: Edit) {
        if self.sending.is_some() {
            return;
        }
        if let Some(f) = self.fields.get_mut(self.focus) {
            f.edit(edit);
        }
    }

    /// Focuses the field the relay named in a refusal (`item.price_cents` →
    /// the price field), when there is one.
    pub fn focus_field(&mut self, wire_field: &str, map: &[(&str, &str)]) {
        let last = wire_field.rsplit('.').next().unwrap_or(wire_field);
        let key = map
            .iter()
            .find(|(w, _)| *w == last || *w == wire_field)
            .map(|(_, k)| *k)
            .unwrap_or(last);
        if let Some(i) = self.fields.iter().position(|f| f.key == key) {
            self.focus = i;
        }
    }
}

/// `13.50`, `13`, `$13.5` → cents.
pub fn parse_money(s: &str) -> Option<i64> {
    let s = s.trim().trim_start_matches('$').trim();
    if s.is_empty() || s.starts_with('-') {
        return None;
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 2 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_edits_by_character() {
        let mut i = Input::new("비빔");
        i.apply(Edit::Char('밥'), 10);
        assert_eq!(i.value, "비빔밥");
        i.apply(Edit::Left, 10);
        i.apply(Edit::Backspace, 10);
        assert_eq!((i.value.as_str(), i.cursor), ("비밥", 1));
        i.apply(Edit::Delete, 10);
        assert_eq!(i.value, "비");
        i.apply(Edit::Home, 10);
        i.apply(Edit::Char('x'), 2);
        i.apply(Edit::Char('y'), 2);
        assert_eq!(i.value, "x비", "capped at two characters");
        i.apply(Edit::Char('\x1b'), 10);
        assert_eq!(i.value, "x비", "control characters are never typed");
        i.apply(Edit::Clear, 10);
        assert!(i.is_empty());
    }

    #[test]
    fn choices_cycle_and_take_first_letters() {
        let mut f = Field::choice(
            "a",
            "Audience",
            &["all", "customer", "crew", "admin"],
            "crew",
        );
        assert_eq!(f.get(), "crew");
        f.edit(Edit::Right);
        assert_eq!(f.get(), "admin");
        f.edit(Edit::Right);
        assert_eq!(f.get(), "all");
        f.edit(Edit::Left);
        assert_eq!(f.get(), "admin");
        f.edit(Edit::Char('c'));
        assert_eq!(f.get(), "customer");
    }

    #[test]
    fn focus_skips_locked_fields() {
        let mut form = Form::new(
            (),
            "t",
            vec![
                Field::text("id", "Id", "x", 5).locked(),
                Field::text("name", "Name", "", 5),
                Field::secret("pw", "Password", 5),
            ],
        );
        assert_eq!(form.focus, 1);
        form.move_focus(1);
        assert_eq!(form.focus, 2);
        form.move_focus(1);
        assert_eq!(form.focus, 1);
        form.edit(Edit::Char('k'));
        form.move_focus(1);
        form.edit(Edit::Char('s'));
        assert_eq!(form.get("name"), "k");
        assert_eq!(form.fields[2].display(), "*");
        form.focus_field("item.name", &[]);
        assert_eq!(form.focus, 1);
        form.focus_field("password", &[("password", "pw")]);
        assert_eq!(form.focus, 2);
    }

    #[test]
    fn money() {
        assert_eq!(parse_money("13.50"), Some(1350));
        assert_eq!(parse_money("$13.5"), Some(1350));
        assert_eq!(parse_money("13"), Some(1300));
        assert_eq!(parse_money(".99"), Some(99));
        assert_eq!(parse_money("1.999"), None);
        assert_eq!(parse_money("-1"), None);
        assert_eq!(parse_money("abc"), None);
        assert_eq!(parse_money(""), None);
    }
}
