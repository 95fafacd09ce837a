//! The payment gateway of DESIGN §7: a trait, and the built-in `simulated`
//! gateway (no network) with the test cards of the design.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use kfood_protocol::card;
use kfood_protocol::ErrorCode;

/// A successful charge. Only the brand and last four digits are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub id: String,
    pub brand: String,
    pub last4: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decline {
    pub code: ErrorCode,
    pub message: String,
}

pub trait PaymentGateway: Send + Sync + 'static {
    /// Charges an already-validated card number (digits only).
    fn charge(
        &self,
        digits: &str,
        amount_cents: i64,
        idempotency_key: &str,
    ) -> Result<Charge, Decline>;
    /// Refunds a charge in full.
    fn refund(&self, charge_id: &str, amount_cents: i64) -> Result<(), Decline>;
    /// Voids a charge whose order was not written.
    fn void(&self, _charge_id: &str) {}
    /// After a group of decisions: voids every charge made since the last
    /// call whose `client_order_id` is not in `written` ([`OnceCharged`]).
    fn settle(&self, _written: &HashSet<String>) {}
}

/// What the simulated gateway did, for `/metrics`.
#[derive(Debug, Default)]
pub struct PaymentCounts {
    pub charges: AtomicU64,
    pub voids: AtomicU64,
}

/// Approves every valid card except the design's decline test numbers.
#[derive(Default)]
pub struct Simulated {
    pub counts: Arc<PaymentCounts>,
}

pub const CARD_DECLINED: &str = "4000000000000002";
pub const CARD_INSUFFICIENT_FUNDS: &str = "4000000000009995";

impl PaymentGateway for Simulated {
    fn charge(
        &self,
        digits: &str,
        _amount_cents: i64,
        idempotency_key: &str,
    ) -> Result<Charge, Decline> {
        match digits {
            CARD_DECLINED => Err(Decline {
                code: ErrorCode::PaymentDeclined,
                message: "the card was declined".into(),
            }),
            CARD_INSUFFICIENT_FUNDS => Err(Decline {
                code: ErrorCode::InsufficientFunds,
                message: "the card was declined: insufficient funds".into(),
            }),
            _ => {
                self.counts.charges.fetch_add(1, Ordering::Relaxed);
                Ok(Charge {
                    id: format!("ch_sim_{}", idempotency_key.replace('-', "")),
                    brand: card::brand(digits).to_owned(),
                    last4: digits[digits.len().saturating_sub(4)..].to_owned(),
                })
            }
        }
    }

    fn refund(&self, _charge_id: &str, _amount_cents: i64) -> Result<(), Decline> {
        Ok(())
    }

    fn void(&self, _charge_id: &str) {
        self.counts.voids.fetch_add(1, Ordering::Relaxed);
    }
}

/// A gateway that charges once per `client_order_id` (its idempotency key)
/// between two [`PaymentGateway::settle`] calls, for an engine that may
/// decide an order again after a conflict (DESIGN §15): the second decision
/// gets the first charge, and `settle` voids the charges whose order was not
/// written by this relay.
pub struct OnceCharged<G> {
    inner: G,
    open: Mutex<HashMap<String, Charge>>,
}

impl<G: PaymentGateway> OnceCharged<G> {
    pub fn new(inner: G) -> Self {
        OnceCharged {
            inner,
            open: Mutex::new(HashMap::new()),
        }
    }

    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<String, Charge>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<G: PaymentGateway> PaymentGateway for OnceCharged<G> {
    fn charge(
        &self,
        digits: &str,
        amount_cents: i64,
        idempotency_key: &str,
    ) -> Result<Charge, Decline> {
        if let Some(c) = self.open().get(idempotency_key) {
            return Ok(c.clone());
        }
        let c = self.inner.charge(digits, amount_cents, idempotency_key)?;
        self.open().insert(idempotency_key.to_owned(), c.clone());
        Ok(c)
    }

    fn refund(&self, charge_id: &str, amount_cents: i64) -> Result<(), Decline> {
        self.inner.refund(charge_id, amount_cents)
    }

    fn void(&self, charge_id: &str) {
        self.inner.void(charge_id)
    }

    fn settle(&self, written: &HashSet<String>) {
        let open = std::mem::take(&mut *self.open());
        for (key, c) in open {
            if !written.contains(&key) {
                self.inner.void(&c.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cards() {
        let g = Simulated::default();
        let ok = g.charge("4242424242424242", 100, "k").unwrap();
        assert_eq!((ok.brand.as_str(), ok.last4.as_str()), ("visa", "4242"));
        assert_eq!(
            g.charge(CARD_DECLINED, 100, "k").unwrap_err().code,
            ErrorCode::PaymentDeclined
        );
        assert_eq!(
            g.charge(CARD_INSUFFICIENT_FUNDS, 100, "k")
                .unwrap_err()
                .code,
            ErrorCode::InsufficientFunds
        );
    }
}
