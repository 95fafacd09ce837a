//! The checkout form: how the customer picks up or gets delivery, pays, and
//! what the relay quoted for it. Card fields are checked as they are typed
//! with the same rules the relay applies, so a typo is caught before paying.

use kfood_protocol::card;
use kfood_protocol::limits::{MAX_NOTES_CHARS, MAX_PROMO_CODE_CHARS, MAX_SHORT_TEXT_CHARS};
use kfood_protocol::time::Millis;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::cart::CartLine;

/// The form's fields in the order Tab visits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Fulfillment,
    Address,
    Instructions,
    Promo,
    Payment,
    Number,
    Expiry,
    Cvc,
}

impl Field {
    const ORDER: [Field; 8] = [
        Field::Fulfillment,
        Field::Address,
        Field::Instructions,
        Field::Promo,
        Field::Payment,
        Field::Number,
        Field::Expiry,
        Field::Cvc,
    ];

    /// Fields that switch between two choices rather than take text.
    pub fn is_toggle(self) -> bool {
        matches!(self, Field::Fulfillment | Field::Payment)
    }

    pub fn label(self) -> &'static str {
        match self {
            Field::Fulfillment => "Fulfillment",
            Field::Address => "Address",
            Field::Instructions => "Instructions",
            Field::Promo => "Promo code",
            Field::Payment => "Payment",
            Field::Number => "Card number",
            Field::Expiry => "Expiry MM/YY",
            Field::Cvc => "CVC",
        }
    }

    /// The form field a relay error's `field` names.
    pub fn from_wire(field: &str) -> Option<Field> {
        Some(match field {
            "fulfillment" | "fulfillment.kind" => Field::Fulfillment,
            "fulfillment.address" => Field::Address,
            "instructions" => Field::Instructions,
            "promo_code" => Field::Promo,
            "payment" | "payment.method" => Field::Payment,
            "payment.card" | "payment.card.number" => Field::Number,
            "payment.card.exp" => Field::Expiry,
            "payment.card.cvc" => Field::Cvc,
            _ => return None,
        })
    }
}

/// Prices for one shape of the order, as the relay computed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// What was priced (see [`Checkout::quote_key`]); a quote for another
    /// shape of the order is never used to pay.
    pub key: String,
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub total_cents: i64,
}

/// Something wrong with the form, and the field to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: Option<Field>,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Checkout {
    pub field: Field,
    pub delivery: bool,
    pub address: String,
    pub instructions: String,
    pub promo: String,
    pub cash: bool,
    /// Digits only.
    pub number: String,
    /// As typed, `MM/YY`.
    pub exp: String,
    pub cvc: String,
    /// One per checkout: a resend after a lost connection or a second Enter
    /// carries the same id, and the relay answers it with the order it
    /// already made instead of making another.
    pub client_order_id: Uuid,
    pub quote: Option<Quote>,
    /// The key of the quote request on its way.
    pub quoting: Option<String>,
    /// Set while an `order_place` is waiting for its answer.
    pub placing: bool,
    pub problem: Option<Problem>,
    pub notice: Option<String>,
}

impl Checkout {
    pub fn new(client_order_id: Uuid) -> Self {
        Checkout {
            field: Field::Fulfillment,
            delivery: false,
            address: String::new(),
            instructions: String::new(),
            promo: String::new(),
            cash: false,
            number: String::new(),
            exp: String::new(),
            cvc: String::new(),
            client_order_id,
            quote: None,
            quoting: None,
            placing: false,
            problem: None,
            notice: None,
        }
    }

    /// The fields shown for the current choices.
    pub fn fields(&self) -> Vec<Field> {
        Field::ORDER
            .into_iter()
            .filter(|f| match f {
                Field::Address => self.delivery,
                Field::Number | Field::Expiry | Field::Cvc => !self.cash,
                _ => true,
            })
            .collect()
    }

    pub fn next_field(&mut self) {
        self.step_field(1);
    }

    pub fn prev_field(&mut self) {
        self.step_field(-1);
    }

    fn step_field(&mut self, by: isize) {
        let fields = self.fields();
        let at = fields.iter().position(|f| *f == self.field).unwrap_or(0) as isize;
        let n = fields.len() as isize;
        self.field = fields[((at + by).rem_euclid(n)) as usize];
    }

    pub fn focus(&mut self, field: Field) {
        if self.fields().contains(&field) {
            self.field = field;
        }
    }

    /// Switches the focused two-way choice.
    pub fn toggle(&mut self) {
        match self.field {
            Field::Fulfillment => self.delivery = !self.delivery,
            Field::Payment => self.cash = !self.cash,
            _ => {}
        }
    }

    /// Types one character into the focused field, keeping only what fits it.
    pub fn input(&mut self, c: char) {
        if c.is_control() {
            return;
        }
        match self.field {
            Field::Fulfillment | Field::Payment => {
                if c == ' ' {
                    self.toggle();
                }
            }
            Field::Address => push_limited(&mut self.address, c, MAX_SHORT_TEXT_CHARS),
            Field::Instructions => push_limited(&mut self.instructions, c, MAX_NOTES_CHARS),
            Field::Promo => {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    push_limited(
                        &mut self.promo,
                        c.to_ascii_uppercase(),
                        MAX_PROMO_CODE_CHARS,
                    );
                }
            }
            Field::Number => {
                if c.is_ascii_digit() {
                    push_limited(&mut self.number, c, 19);
                }
            }
            Field::Expiry => {
                if c.is_ascii_digit() && self.exp.len() < 5 {
                    if self.exp.len() == 2 {
                        self.exp.push('/');
                    }
                    self.exp.push(c);
                } else if c == '/' && self.exp.len() == 1 {
                    // "1/" means January.
                    self.exp.insert(0, '0');
                    self.exp.push('/');
                } else if c == '/' && self.exp.len() == 2 {
                    self.exp.push('/');
                }
            }
            Field::Cvc => {
                if c.is_ascii_digit() {
                    push_limited(&mut self.cvc, c, 4);
                }
            }
        }
    }

    pub fn backspace(&mut self) {
        let text = match self.field {
            Field::Address => &mut self.address,
            Field::Instructions => &mut self.instructions,
            Field::Promo => &mut self.promo,
            Field::Number => &mut self.number,
            Field::Expiry => &mut self.exp,
            Field::Cvc => &mut self.cvc,
            Field::Fulfillment | Field::Payment => return,
        };
        text.pop();
        if self.field == Field::Expiry && self.exp.ends_with('/') {
            self.exp.pop();
        }
    }

    /// The card as the relay will check it; the digits when it passes.
    pub fn card_check(&self, now_ms: Millis) -> Result<String, Problem> {
        card::validate(&self.number, &self.exp, &self.cvc, now_ms).map_err(|e| Problem {
            field: e.field.as_deref().and_then(Field::from_wire),
            text: e.message,
        })
    }

    /// What to show beside a card field as the customer types: `Ok` with a
    /// confirmation, or `Err` with what is still wrong. Fields after the
    /// first wrong one are not judged yet.
    pub fn card_hint(&self, field: Field, now_ms: Millis) -> Option<Result<String, String>> {
        if self.cash || !matches!(field, Field::Number | Field::Expiry | Field::Cvc) {
            return None;
        }
        let rank = |f: Field| match f {
            Field::Number => 0,
            Field::Expiry => 1,
            _ => 2,
        };
        match self.card_check(now_ms) {
            Ok(digits) => Some(Ok(match field {
                Field::Number => card::brand(&digits).to_owned(),
                _ => String::new(),
            })),
            Err(p) => {
                let bad = p.field.unwrap_or(Field::Number);
                if bad == field {
                    Some(Err(p.text))
                } else if rank(field) < rank(bad) {
                    Some(Ok(match field {
                        Field::Number => card::digits(&self.number)
                            .map(|d| card::brand(&d).to_owned())
                            .unwrap_or_default(),
                        _ => String::new(),
                    }))
                } else {
                    None
                }
            }
        }
    }

    /// Everything the customer can fix before asking the relay.
    pub fn validate(&self, cart: &[CartLine], now_ms: Millis) -> Result<(), Problem> {
        if cart.is_empty() {
            return Err(Problem {
                field: None,
                text: "The cart is empty: add something from the menu first.".into(),
            });
        }
        if self.delivery && self.address.trim().is_empty() {
            return Err(Problem {
                field: Some(Field::Address),
                text: "Enter the delivery address.".into(),
            });
        }
        if !self.cash {
            self.card_check(now_ms)?;
        }
        Ok(())
    }

    /// The order's shape as far as price goes: lines, promo, fulfillment.
    pub fn quote_key(&self, cart: &[CartLine]) -> String {
        let items: Vec<_> = cart.iter().map(|l| (&l.item_id, l.qty)).collect();
        json!([items, self.promo.trim(), self.delivery]).to_string()
    }

    /// Whether the relay can price the order as it stands.
    pub fn quotable(&self, cart: &[CartLine]) -> bool {
        !cart.is_empty() && (!self.delivery || !self.address.trim().is_empty())
    }

    /// The quote for exactly the current shape of the order, if there is one.
    pub fn current_quote(&self, cart: &[CartLine]) -> Option<&Quote> {
        let key = self.quote_key(cart);
        self.quote.as_ref().filter(|q| q.key == key)
    }

    /// `order_quote`'s data, or `order_place`'s with payment and the total
    /// the customer saw.
    pub fn request_data(&self, cart: &[CartLine], place: Option<i64>) -> Value {
        let items: Vec<Value> = cart
            .iter()
            .map(|l| {
                let mut v = json!({"item_id": l.item_id, "qty": l.qty});
                if !l.notes.trim().is_empty() {
                    v["notes"] = json!(l.notes.trim());
                }
                v
            })
            .collect();
        let mut data = json!({
            "items": items,
            "fulfillment": if self.delivery {
                json!({"kind": "delivery", "address": self.address.trim()})
            } else {
                json!({"kind": "pickup"})
            },
        });
        if !self.instructions.trim().is_empty() {
            data["instructions"] = json!(self.instructions.trim());
        }
        if !self.promo.trim().is_empty() {
            data["promo_code"] = json!(self.promo.trim());
        }
        if let Some(total) = place {
            data["client_order_id"] = json!(self.client_order_id);
            data["expected_total_cents"] = json!(total);
            data["payment"] = if self.cash {
                json!({"method": "cash"})
            } else {
                json!({"method": "card", "card": {
                    "number": self.number, "exp": self.exp, "cvc": self.cvc,
                }})
            };
        }
        data
    }
}

fn push_limited(s: &mut String, c: char, max: usize) {
    if s.chars().count() < max {
        s.push(c);
    }
}

/// A card number as drawn: all but the last four digits hidden, in groups of four.
pub fn mask_number(digits: &str, hide: char) -> String {
    let n = digits.chars().count();
    let shown: String = digits
        .chars()
        .enumerate()
        .map(|(i, c)| if i + 4 < n { hide } else { c })
        .collect();
    let mut out = String::new();
    for (i, c) in shown.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-23
    const NOW: Millis = 1_795_392_000_000;

    fn form() -> Checkout {
        Checkout::new(Uuid::nil())
    }

    fn typed(field: Field, text: &str) -> Checkout {
        let mut f = form();
        f.field = field;
        text.chars().for_each(|c| f.input(c));
        f
    }

    fn cart() -> Vec<CartLine> {
        vec![CartLine::new("bibimbap", 2, "")]
    }

    #[track_caller]
    fn check_typed(field: Field, text: &str, expected: &str) {
        let f = typed(field, text);
        let got = match field {
            Field::Number => &f.number,
            Field::Expiry => &f.exp,
            Field::Cvc => &f.cvc,
            Field::Promo => &f.promo,
            Field::Address => &f.address,
            _ => &f.instructions,
        };
        assert_eq!(got, expected, "{field:?} typed {text:?}");
    }

    #[test]
    fn fields_take_only_what_fits() {
        check_typed(Field::Number, "4242 4242-4242a4242", "4242424242424242");
        check_typed(Field::Number, &"1".repeat(25), &"1".repeat(19));
        check_typed(Field::Expiry, "1230", "12/30");
        check_typed(Field::Expiry, "12/30", "12/30");
        check_typed(Field::Expiry, "1/30", "01/30");
        check_typed(Field::Expiry, "123099", "12/30");
        check_typed(Field::Cvc, "12345", "1234");
        check_typed(Field::Cvc, "1x2", "12");
        check_typed(Field::Promo, "save 10!", "SAVE10");
        check_typed(Field::Address, "1 Main St", "1 Main St");
    }

    #[test]
    fn expiry_backspace_drops_the_slash_too() {
        let mut f = typed(Field::Expiry, "123");
        f.backspace();
        assert_eq!(f.exp, "12");
    }

    #[test]
    fn tab_skips_hidden_fields() {
        let mut f = form();
        let mut seen = vec![f.field];
        for _ in 0..6 {
            f.next_field();
            seen.push(f.field);
        }
        use Field::*;
        assert_eq!(
            seen,
            [
                Fulfillment,
                Instructions,
                Promo,
                Payment,
                Number,
                Expiry,
                Cvc
            ]
        );
        f.next_field();
        assert_eq!(f.field, Fulfillment);
        f.prev_field();
        assert_eq!(f.field, Cvc);
        f.cash = true;
        f.delivery = true;
        assert_eq!(
            f.fields(),
            [Fulfillment, Address, Instructions, Promo, Payment]
        );
    }

    #[track_caller]
    fn check_card(number: &str, exp: &str, cvc: &str, expected: Result<(), Field>) {
        let mut f = form();
        f.number = number.into();
        f.exp = exp.into();
        f.cvc = cvc.into();
        let got = f
            .validate(&cart(), NOW)
            .map_err(|p| p.field.unwrap_or(Field::Fulfillment));
        assert_eq!(got, expected, "{number} {exp} {cvc}");
    }

    #[test]
    fn card_validation() {
        check_card("4242424242424242", "12/30", "123", Ok(()));
        check_card("4000000000000002", "01/27", "1234", Ok(()));
        check_card("4242424242424241", "12/30", "123", Err(Field::Number));
        check_card("4242", "12/30", "123", Err(Field::Number));
        check_card("", "12/30", "123", Err(Field::Number));
        check_card("4242424242424242", "10/26", "123", Err(Field::Expiry));
        check_card("4242424242424242", "13/30", "123", Err(Field::Expiry));
        check_card("4242424242424242", "12/3", "123", Err(Field::Expiry));
        check_card("4242424242424242", "12/30", "12", Err(Field::Cvc));
    }

    #[test]
    fn form_validation() {
        let mut f = form();
        f.cash = true;
        assert!(f.validate(&cart(), NOW).is_ok());
        assert_eq!(f.validate(&[], NOW).unwrap_err().field, None);
        f.delivery = true;
        assert_eq!(
            f.validate(&cart(), NOW).unwrap_err().field,
            Some(Field::Address)
        );
        f.address = "  ".into();
        assert!(!f.quotable(&cart()));
        f.address = "1 Main St".into();
        assert!(f.validate(&cart(), NOW).is_ok());
        assert!(f.quotable(&cart()));
    }

    #[test]
    fn hints_follow_the_first_wrong_field() {
        let mut f = form();
        f.number = "4242424242424242".into();
        f.exp = "10/26".into();
        assert_eq!(f.card_hint(Field::Number, NOW), Some(Ok("visa".into())));
        assert!(matches!(f.card_hint(Field::Expiry, NOW), Some(Err(_))));
        assert_eq!(f.card_hint(Field::Cvc, NOW), None);
        f.exp = "12/30".into();
        f.cvc = "123".into();
        assert_eq!(f.card_hint(Field::Cvc, NOW), Some(Ok(String::new())));
        f.cash = true;
        assert_eq!(f.card_hint(Field::Number, NOW), None);
    }

    #[test]
    fn request_shapes() {
        let mut f = form();
        let mut lines = cart();
        lines.push(CartLine::new("japchae", 1, "no onions"));
        f.promo = "SAVE10".into();
        f.instructions = "ring twice".into();
        let q = f.request_data(&lines, None);
        assert_eq!(
            q,
            json!({
                "items": [{"item_id": "bibimbap", "qty": 2},
                          {"item_id": "japchae", "qty": 1, "notes": "no onions"}],
                "fulfillment": {"kind": "pickup"},
                "instructions": "ring twice",
                "promo_code": "SAVE10",
            })
        );
        f.number = "4242424242424242".into();
        f.exp = "12/30".into();
        f.cvc = "123".into();
        let p = f.request_data(&lines, Some(3950));
        assert_eq!(p["client_order_id"], json!(Uuid::nil()));
        assert_eq!(p["expected_total_cents"], 3950);
        assert_eq!(p["payment"]["card"]["exp"], "12/30");
        f.cash = true;
        f.delivery = true;
        f.address = "1 Main St".into();
        let p = f.request_data(&lines, Some(3950));
        assert_eq!(p["payment"], json!({"method": "cash"}));
        assert_eq!(
            p["fulfillment"],
            json!({"kind": "delivery", "address": "1 Main St"})
        );
    }

    #[test]
    fn quotes_belong_to_one_shape() {
        let mut f = form();
        let lines = cart();
        f.quote = Some(Quote {
            key: f.quote_key(&lines),
            subtotal_cents: 2700,
            discount_cents: 0,
            total_cents: 2700,
        });
        assert!(f.current_quote(&lines).is_some());
        f.promo = "SAVE10".into();
        assert!(f.current_quote(&lines).is_none());
        f.promo.clear();
        assert!(f
            .current_quote(&[CartLine::new("bibimbap", 3, "")])
            .is_none());
    }

    #[test]
    fn masking() {
        assert_eq!(mask_number("4242424242424242", '*'), "**** **** **** 4242");
        assert_eq!(mask_number("42424", '*'), "*242 4");
        assert_eq!(mask_number("42", '*'), "42");
    }
}
