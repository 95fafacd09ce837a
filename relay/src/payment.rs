//! The payment gateway of DESIGN §7: a trait, and the built-in `simulated`
//! gateway (no network) with the test cards of the design.

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
}

/// Approves every valid card except the design's decline test numbers.
pub struct Simulated;

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
            _ => Ok(Charge {
                id: format!("ch_sim_{}", idempotency_key.replace('-', "")),
                brand: card::brand(digits).to_owned(),
                last4: digits[digits.len().saturating_sub(4)..].to_owned(),
            }),
        }
    }

    fn refund(&self, _charge_id: &str, _amount_cents: i64) -> Result<(), Decline> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cards() {
        let g = Simulated;
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
