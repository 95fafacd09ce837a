//! The checkout: the form (how the customer picks up or gets delivery, and
//! pays) and, in [`flow`], the only place an `order_quote` or an
//! `order_place` is built and its answer read. Card fields are checked as
//! they are typed with the same rules the relay applies, so a typo is caught
//! before paying.

use kfood_protocol::capacity::{AHEAD_MS, SLOT_MS};
use kfood_protocol::card;
use kfood_protocol::limits::{MAX_NOTES_CHARS, MAX_PROMO_CODE_CHARS, MAX_SHORT_TEXT_CHARS};
use kfood_protocol::time::Millis;
use uuid::Uuid;

use crate::cart::CartLine;

mod flow;
#[cfg(test)]
mod tests;

pub use flow::{describe, Quote, QuoteAck, Submit};

/// The form's fields in the order Tab visits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Fulfillment,
    /// As soon as possible, or a 15-minute slot today or a later day.
    When,
    Address,
    Instructions,
    Promo,
    Payment,
    Number,
    Expiry,
    Cvc,
}

impl Field {
    const ORDER: [Field; 9] = [
        Field::Fulfillment,
        Field::When,
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
        matches!(self, Field::Fulfillment | Field::When | Field::Payment)
    }

    pub fn label(self) -> &'static str {
        match self {
            Field::Fulfillment => "Fulfillment",
            Field::When => "When",
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
            "scheduled_for" => Field::When,
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
    /// The time chosen for an order placed for later (the start of a
    /// 15-minute slot); `None`: as soon as possible.
    pub when: Option<Millis>,
    /// The soonest slot the kitchen can make it for, as the program last
    /// worked it out ([`earliest_slot`]).
    pub earliest: Millis,
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
            when: None,
            earliest: 0,
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

    /// Moves the chosen time by `slots` 15-minute slots (a day is
    /// [`SLOTS_PER_DAY`]): "as soon as possible" sits before the earliest
    /// slot, and nothing goes past the 7 days the kitchen books ahead.
    pub fn step_when(&mut self, slots: i64, now: Millis) {
        let latest = (now + AHEAD_MS).div_euclid(SLOT_MS) * SLOT_MS;
        self.when = match self.when {
            None if slots <= 0 => None,
            None if slots >= SLOTS_PER_DAY => Some((self.earliest + DAY_MS).min(latest)),
            None => Some(self.earliest),
            Some(at) => {
                let next = at + slots * SLOT_MS;
                (next >= self.earliest).then_some(next.min(latest))
            }
        };
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
            Field::When => {}
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
            Field::Fulfillment | Field::When | Field::Payment => return,
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
        if self.when.is_some_and(|at| at < self.earliest) {
            return Err(Problem {
                field: Some(Field::When),
                text: "That time is too soon now: choose a later one (Left/Right).".into(),
            });
        }
        if !self.cash {
            self.card_check(now_ms)?;
        }
        Ok(())
    }
}

/// Slots in a day: PgUp/PgDn on the time move by this many.
pub const SLOTS_PER_DAY: i64 = 96;
const DAY_MS: Millis = 24 * 3_600_000;
/// Minutes of the ride of a delivery, as the relay counts them when it
/// checks a `scheduled_for` (DESIGN §14: no sooner than T + delivery
/// minutes). Only narrows the times offered; the relay has the last word.
pub use kfood_protocol::limits::DEFAULT_DELIVERY_MINUTES as DELIVERY_RIDE_MINUTES;
/// Minutes kept in hand when offering the soonest slot, for filling in the
/// rest of the form before the relay checks the time.
pub const SCHEDULE_MARGIN_MINUTES: u32 = 5;

/// The soonest slot start an order can be scheduled for at `now`: after
/// its prep minutes, the kitchen's extra minutes, the ride of a delivery
/// and [`SCHEDULE_MARGIN_MINUTES`].
pub fn earliest_slot(now: Millis, prep: u32, extra: u32, delivery: bool) -> Millis {
    let ride = if delivery { DELIVERY_RIDE_MINUTES } else { 0 };
    let lead = i64::from(prep + extra + ride + SCHEDULE_MARGIN_MINUTES) * 60_000;
    (now + lead + SLOT_MS - 1).div_euclid(SLOT_MS) * SLOT_MS
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
