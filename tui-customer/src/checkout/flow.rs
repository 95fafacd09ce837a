//! Pricing and placing: the `order_quote` and `order_place` requests (with
//! `expected_total_cents`, the total the customer saw), and what their
//! answers do to the form, the price-changed path included. No other part
//! of the program builds these requests.

use kfood_protocol::messages::{Card, LineRequest, OrderPlace, PaymentRequest};
use kfood_protocol::order::{Fulfillment, FulfillmentKind, PaymentMethod};
use kfood_protocol::time::Millis;
use kfood_protocol::{ErrorCode, ProtocolError, Request};
use serde::Deserialize;

use super::{Checkout, Field, Problem};
use crate::cart::CartLine;

/// Prices for one shape of the order, as the relay computed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// What was priced (see [`Checkout::quote_key`]); a quote for another
    /// shape of the order is never used to pay.
    pub key: String,
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub total_cents: i64,
    /// When the kitchen expects to have it ready (DESIGN §14).
    pub ready_at: Option<String>,
}

/// `order_quote`'s ack.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct QuoteAck {
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub total_cents: i64,
    #[serde(default)]
    pub ready_at: Option<String>,
}

/// What Enter on the form asks the relay, if anything.
#[derive(Debug, Clone, PartialEq)]
pub enum Submit {
    /// Nothing to send: the form says why (a problem, or a notice).
    Nothing,
    /// Price the order first; the answer is for the quote `key`.
    Quote { key: String, request: Request },
    /// Place the order at the quoted total.
    Place(Request),
}

impl Checkout {
    /// The order's shape as far as the quote goes: lines (with their chosen
    /// options, which change the price), promo, fulfillment, the time chosen.
    pub fn quote_key(&self, cart: &[CartLine]) -> String {
        let items: Vec<_> = cart
            .iter()
            .map(|l| {
                let mut opts: Vec<_> = l.options.iter().map(|o| (&o.group, &o.choice)).collect();
                opts.sort();
                (&l.item_id, l.qty, opts)
            })
            .collect();
        format!(
            "{items:?}|{}|{}|{:?}",
            self.promo.trim(),
            self.delivery,
            self.when
        )
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

    /// The order as the relay prices it: lines, fulfillment, instructions,
    /// promo; no payment.
    fn order(&self, cart: &[CartLine]) -> OrderPlace {
        let text = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        OrderPlace {
            client_order_id: None,
            scheduled_for: self.when.map(kfood_protocol::time::format_ms),
            items: cart
                .iter()
                .map(|l| LineRequest {
                    item_id: l.item_id.clone(),
                    qty: l.qty,
                    notes: text(&l.notes),
                    options: l.options.clone(),
                })
                .collect(),
            instructions: text(&self.instructions),
            fulfillment: if self.delivery {
                Fulfillment {
                    kind: FulfillmentKind::Delivery,
                    address: Some(self.address.trim().to_owned()),
                }
            } else {
                Fulfillment {
                    kind: FulfillmentKind::Pickup,
                    address: None,
                }
            },
            payment: None,
            promo_code: text(&self.promo),
            expected_total_cents: None,
        }
    }

    /// `order_quote` for the order as it stands.
    pub fn quote_request(&self, cart: &[CartLine]) -> Request {
        Request::OrderQuote(self.order(cart))
    }

    /// `order_place` with the payment, this checkout's `client_order_id`
    /// and the total the customer saw.
    pub fn place_request(&self, cart: &[CartLine], expected_total_cents: i64) -> Request {
        let payment = if self.cash {
            PaymentRequest {
                method: PaymentMethod::Cash,
                card: None,
            }
        } else {
            PaymentRequest {
                method: PaymentMethod::Card,
                card: Some(Card {
                    number: self.number.clone(),
                    exp: self.exp.clone(),
                    cvc: self.cvc.clone(),
                }),
            }
        };
        Request::OrderPlace(OrderPlace {
            client_order_id: Some(self.client_order_id),
            payment: Some(payment),
            expected_total_cents: Some(expected_total_cents),
            ..self.order(cart)
        })
    }

    /// The `order_quote` to send, unless the relay has priced this shape
    /// already or is being asked; the form then waits for that key.
    pub fn quote(&mut self, cart: &[CartLine]) -> Option<(String, Request)> {
        if !self.quotable(cart) {
            return None;
        }
        let key = self.quote_key(cart);
        if self.current_quote(cart).is_some() || self.quoting.as_deref() == Some(&key) {
            return None;
        }
        self.quoting = Some(key.clone());
        Some((key, self.quote_request(cart)))
    }

    /// Enter on the form: check what the customer can fix, have the order
    /// priced if it is not, then place it at the quoted total, once.
    pub fn submit(&mut self, cart: &[CartLine], now: Millis, connected: bool) -> Submit {
        if self.placing {
            self.notice = Some("Already sent: waiting for the relay's answer.".into());
            return Submit::Nothing;
        }
        if let Err(p) = self.validate(cart, now) {
            if let Some(f) = p.field {
                self.focus(f);
            }
            self.problem = Some(p);
            return Submit::Nothing;
        }
        self.problem = None;
        let Some(total) = self.current_quote(cart).map(|q| q.total_cents) else {
            let ask = self.quote(cart);
            self.notice = Some(if connected {
                "Getting the price from the relay; press Enter again to pay it.".into()
            } else {
                "Offline: the relay has to price the order first; it will when the connection is back.".into()
            });
            return match ask {
                Some((key, request)) => Submit::Quote { key, request },
                None => Submit::Nothing,
            };
        };
        self.placing = true;
        self.notice = Some(if connected {
            "Placing your order...".into()
        } else {
            "Offline: your order is queued and goes out once when the connection is back.".into()
        });
        Submit::Place(self.place_request(cart, total))
    }

    /// The relay's answer to the quote for `key`.
    pub fn on_quote(&mut self, key: String, result: Result<QuoteAck, ProtocolError>) {
        if self.quoting.as_deref() == Some(&key) {
            self.quoting = None;
        }
        match result {
            Ok(q) => {
                self.quote = Some(Quote {
                    key,
                    subtotal_cents: q.subtotal_cents,
                    discount_cents: q.discount_cents,
                    total_cents: q.total_cents,
                    ready_at: q.ready_at,
                });
                if self
                    .notice
                    .as_deref()
                    .is_some_and(|n| n.starts_with("Getting"))
                {
                    self.notice = Some("Total from the relay: press Enter to pay it.".into());
                }
            }
            Err(e) => {
                self.problem = Some(Problem {
                    field: e.field.as_deref().and_then(Field::from_wire),
                    text: describe(&e),
                });
                self.notice = None;
            }
        }
    }

    /// The relay refused the order: say why on the field to fix. A declined
    /// card is cleared for another one; a changed price asks for a new
    /// quote (returned, to send) that the customer then accepts with Enter.
    pub fn on_place_refused(
        &mut self,
        e: &ProtocolError,
        cart: &[CartLine],
    ) -> Option<(String, Request)> {
        self.placing = false;
        self.notice = None;
        let declined = matches!(
            e.code,
            ErrorCode::PaymentDeclined | ErrorCode::InsufficientFunds
        );
        let field = if declined {
            Some(Field::Number)
        } else if e.code == ErrorCode::SlotFull {
            Some(Field::When)
        } else {
            e.field.as_deref().and_then(Field::from_wire)
        };
        let mut text = describe(e);
        if declined {
            let skip = self.number.len().saturating_sub(4);
            let last4: String = self.number.chars().skip(skip).collect();
            // Ready for another card; the one that failed is named.
            self.number.clear();
            self.cvc.clear();
            text = text.replacen(
                "Payment declined:",
                &format!("Payment declined (card ending {last4}):"),
                1,
            );
        }
        if let Some(f) = field {
            self.focus(f);
        }
        self.problem = Some(Problem { field, text });
        if e.code != ErrorCode::PriceChanged {
            return None;
        }
        self.quote = None;
        let ask = self.quote(cart);
        self.notice = Some("Prices changed: check the new total and press Enter to pay it.".into());
        ask
    }
}

/// A refusal in words for the customer.
pub fn describe(e: &ProtocolError) -> String {
    let clean = kfood_protocol::sanitize::clean_line(&e.message);
    let msg = clean.trim().trim_end_matches('.');
    match e.code {
        ErrorCode::PaymentDeclined | ErrorCode::InsufficientFunds => format!(
            "Payment declined: {msg}. Nothing was charged and the cart is kept: try another card or cash."
        ),
        ErrorCode::InvalidCard => format!("Card not valid: {msg}."),
        ErrorCode::InvalidPromo => format!("Promo code not accepted: {msg}."),
        ErrorCode::PriceChanged => format!("The price changed: {msg}."),
        ErrorCode::ItemUnavailable => {
            format!("Not available now: {msg}. Remove it from the cart (2).")
        }
        ErrorCode::UnknownItem => {
            format!("No longer on the menu: {msg}. Remove it from the cart (2).")
        }
        ErrorCode::Invalid => match &e.field {
            Some(f) => format!("{}: {msg}.", kfood_protocol::sanitize::clean_line(f)),
            None => format!("{msg}."),
        },
        ErrorCode::OrderingPaused => {
            "Ordering is paused: the restaurant is not taking online orders right now. Nothing was charged and your cart is kept; try again later.".into()
        }
        ErrorCode::SlotFull => {
            format!("Fully booked: {msg}. Choose another time (When); nothing was charged.")
        }
        ErrorCode::RateLimited => "Too many requests: wait a moment and try again.".into(),
        other => format!("{other}: {msg}."),
    }
}
