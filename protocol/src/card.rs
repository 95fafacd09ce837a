//! Card checks made before any charge (DESIGN §7): Luhn, expiry, CVC. The
//! relay refuses a bad card with `invalid_card` and no charge attempted; the
//! customer program runs the same checks as the customer types.

use crate::error::{ErrorCode, ProtocolError};

/// Digits of a card number, spaces and dashes allowed between groups.
pub fn digits(number: &str) -> Option<String> {
    let d: String = number.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if (12..=19).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) {
        Some(d)
    } else {
        None
    }
}

pub fn luhn_ok(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// `visa`, `mastercard`, `amex`, `discover` or `card`.
pub fn brand(digits: &str) -> &'static str {
    let two: u32 = digits.get(..2).and_then(|s| s.parse().ok()).unwrap_or(0);
    if digits.starts_with('4') {
        "visa"
    } else if (51..=55).contains(&two) {
        "mastercard"
    } else if two == 34 || two == 37 {
        "amex"
    } else if digits.starts_with("6011") || two == 65 {
        "discover"
    } else {
        "card"
    }
}

/// `MM/YY` → (month, full year); the card is good through the month's end.
pub fn parse_exp(exp: &str) -> Option<(u32, i32)> {
    let (m, y) = exp.trim().split_once('/')?;
    let month: u32 = m.trim().parse().ok()?;
    let yy: i32 = y.trim().parse().ok()?;
    if !(1..=12).contains(&month) || !(0..=99).contains(&yy) || y.trim().len() != 2 {
        return None;
    }
    Some((month, 2000 + yy))
}

/// Checks number, expiry (against `now_ms`) and CVC; returns the digits.
pub fn validate(number: &str, exp: &str, cvc: &str, now_ms: i64) -> Result<String, ProtocolError> {
    let bad = |field: &str, msg: &str| {
        Err(ProtocolError::new(ErrorCode::InvalidCard, msg)
            .with_field(format!("payment.card.{field}")))
    };
    let Some(d) = digits(number) else {
        return bad("number", "the card number must be 12-19 digits");
    };
    if !luhn_ok(&d) {
        return bad("number", "the card number is not valid (check the digits)");
    }
    let Some((month, year)) = parse_exp(exp) else {
        return bad("exp", "the expiry must be MM/YY");
    };
    let now = time::OffsetDateTime::from_unix_timestamp(now_ms / 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let (ny, nm) = (now.year(), u32::from(u8::from(now.month())));
    if (year, month) < (ny, nm) {
        return bad("exp", "the card has expired");
    }
    let cvc_ok = (3..=4).contains(&cvc.len()) && cvc.bytes().all(|b| b.is_ascii_digit());
    if !cvc_ok {
        return bad("cvc", "the CVC must be 3 or 4 digits");
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-23
    const NOW: i64 = 1_795_392_000_000;

    #[track_caller]
    fn check(number: &str, exp: &str, cvc: &str, field: Option<&str>) {
        let got = validate(number, exp, cvc, NOW).err().and_then(|e| e.field);
        assert_eq!(
            got.as_deref(),
            field.map(|f| format!("payment.card.{f}")).as_deref(),
            "{number} {exp} {cvc}"
        );
    }

    #[test]
    fn cards() {
        check("4242424242424242", "12/30", "123", None);
        check("4242 4242 4242 4242", "11/26", "1234", None);
        check("4000000000000002", "01/27", "123", None);
        check("4000000000009995", "01/27", "123", None);
        check("4242424242424241", "12/30", "123", Some("number"));
        check("4242", "12/30", "123", Some("number"));
        check("abcd424242424242", "12/30", "123", Some("number"));
        check("4242424242424242", "10/26", "123", Some("exp"));
        check("4242424242424242", "13/30", "123", Some("exp"));
        check("4242424242424242", "1230", "123", Some("exp"));
        check("4242424242424242", "12/30", "12", Some("cvc"));
        check("4242424242424242", "12/30", "12a", Some("cvc"));
    }

    #[test]
    fn brands() {
        assert_eq!(brand("4242424242424242"), "visa");
        assert_eq!(brand("5555555555554444"), "mastercard");
        assert_eq!(brand("378282246310005"), "amex");
        assert_eq!(brand("6011111111111117"), "discover");
    }
}
