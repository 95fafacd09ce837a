//! The cart: what the customer means to order. Lines name menu items by id;
//! names and prices are looked up in the relay's menu when drawn, and the
//! relay prices the order at checkout.

use kfood_protocol::limits::{MAX_NOTES_CHARS, MAX_ORDER_LINES, MAX_QTY, MIN_QTY};
use kfood_protocol::options::ChosenOption;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub item_id: String,
    pub qty: u32,
    #[serde(default)]
    pub notes: String,
    /// The chosen options (DESIGN §14); the relay prices and names them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ChosenOption>,
}

impl CartLine {
    pub fn new(item_id: &str, qty: u32, notes: &str) -> Self {
        CartLine {
            item_id: item_id.to_owned(),
            qty: qty.clamp(MIN_QTY, MAX_QTY),
            notes: limit_note(notes),
            options: Vec::new(),
        }
    }

    /// The same line with these options.
    pub fn with_options(mut self, options: Vec<ChosenOption>) -> Self {
        self.options = options;
        self
    }

    /// Whether `other` orders the same thing: same item, note and choices
    /// (a Bibimbap "hot" and a plain Bibimbap are two lines).
    pub fn same_as(&self, other: &CartLine) -> bool {
        self.item_id == other.item_id
            && self.notes.trim() == other.notes.trim()
            && same_choices(&self.options, &other.options)
    }
}

/// Two sets of chosen options, whatever their order.
fn same_choices(a: &[ChosenOption], b: &[ChosenOption]) -> bool {
    a.len() == b.len() && a.iter().all(|o| b.contains(o))
}

/// Why a line could not be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CartError {
    Full,
}

/// Adds `qty` of an item; the same item with the same note joins its line.
/// Returns the index of the line.
pub fn add(
    cart: &mut Vec<CartLine>,
    item_id: &str,
    qty: u32,
    notes: &str,
) -> Result<usize, CartError> {
    add_line(cart, CartLine::new(item_id, qty, notes))
}

/// Adds a line; one ordering the same thing (item, note, choices) joins it.
pub fn add_line(cart: &mut Vec<CartLine>, line: CartLine) -> Result<usize, CartError> {
    if let Some(i) = cart.iter().position(|l| l.same_as(&line)) {
        cart[i].qty = (cart[i].qty + line.qty).min(MAX_QTY);
        return Ok(i);
    }
    if cart.len() >= MAX_ORDER_LINES {
        return Err(CartError::Full);
    }
    cart.push(line);
    Ok(cart.len() - 1)
}

/// Changes a line's quantity by `delta`; a line brought below one is removed.
pub fn change_qty(cart: &mut Vec<CartLine>, index: usize, delta: i32) {
    let Some(line) = cart.get_mut(index) else {
        return;
    };
    let qty = line.qty as i64 + i64::from(delta);
    if qty < i64::from(MIN_QTY) {
        cart.remove(index);
    } else {
        line.qty = qty.min(i64::from(MAX_QTY)) as u32;
    }
}

pub fn limit_note(notes: &str) -> String {
    notes.chars().take(MAX_NOTES_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same item with the same note joins its line, up to 99.
    #[test]
    fn same_item_and_note_join() {
        let mut c = Vec::new();
        assert_eq!(add(&mut c, "bibimbap", 1, ""), Ok(0));
        assert_eq!(add(&mut c, "bibimbap", 2, ""), Ok(0));
        assert_eq!(add(&mut c, "bibimbap", 1, "no egg"), Ok(1));
        assert_eq!(c[0].qty, 3);
        assert_eq!(add(&mut c, "bibimbap", 99, ""), Ok(0));
        assert_eq!(c[0].qty, 99);
    }

    /// The same item with other choices is a line of its own; the same
    /// choices in another order join.
    #[test]
    fn other_choices_make_another_line() {
        let pick = |pairs: &[(&str, &str)]| -> Vec<ChosenOption> {
            pairs
                .iter()
                .map(|(g, c)| ChosenOption {
                    group: (*g).into(),
                    choice: (*c).into(),
                })
                .collect()
        };
        let mut c = Vec::new();
        let hot_egg = pick(&[("spice", "hot"), ("extras", "egg")]);
        let egg_hot = pick(&[("extras", "egg"), ("spice", "hot")]);
        let line = |o: Vec<ChosenOption>| CartLine::new("bibimbap", 1, "").with_options(o);
        assert_eq!(add_line(&mut c, line(hot_egg)), Ok(0));
        assert_eq!(add_line(&mut c, line(vec![])), Ok(1));
        assert_eq!(add_line(&mut c, line(egg_hot)), Ok(0));
        assert_eq!(add_line(&mut c, line(pick(&[("spice", "hot")]))), Ok(2));
        assert_eq!(c[0].qty, 2);
    }

    /// Quantities stay within 1 to 99; below one removes the line.
    #[test]
    fn quantities_stay_in_range() {
        let mut c = vec![CartLine::new("japchae", 0, "")];
        assert_eq!(c[0].qty, 1);
        change_qty(&mut c, 0, 120);
        assert_eq!(c[0].qty, 99);
        change_qty(&mut c, 0, -98);
        assert_eq!(c[0].qty, 1);
        change_qty(&mut c, 0, -1);
        assert!(c.is_empty());
        change_qty(&mut c, 3, 1);
    }

    /// A cart holds at most fifty lines; an existing line still grows.
    #[test]
    fn at_most_fifty_lines() {
        let mut c = Vec::new();
        for i in 0..MAX_ORDER_LINES {
            add(&mut c, &format!("item-{i}"), 1, "").unwrap();
        }
        assert_eq!(add(&mut c, "one-more", 1, ""), Err(CartError::Full));
        assert!(add(&mut c, "item-3", 1, "").is_ok());
    }
}
