//! Menu items (DESIGN §2 `GET /api/menu`, §5 `menu_update`) and promo codes.

use serde::{Deserialize, Serialize};

use crate::error::ProtocolError;
use crate::limits::*;
use crate::options::{checked_groups, OptionGroup};
use crate::sanitize::{clean_line, clean_text};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuItem {
    pub id: String,
    pub name: String,
    pub category: String,
    pub description: String,
    pub price_cents: i64,
    pub available: bool,
    pub prep_minutes: u32,
    /// The kitchen station that makes it (DESIGN §13): `grill`, `wok`, ...
    #[serde(default = "default_station")]
    pub station: String,
    /// Option groups (DESIGN §14), in the order the picker shows them;
    /// always sent, empty when the item has none.
    #[serde(default)]
    pub options: Vec<OptionGroup>,
}

/// The station of an item that names none (DESIGN §13).
pub const DEFAULT_STATION: &str = "kitchen";

pub fn default_station() -> String {
    DEFAULT_STATION.to_owned()
}

/// Stations are `[a-z0-9_-]{1,24}` (DESIGN §13).
pub fn validate_station(field: &str, s: &str) -> Result<(), ProtocolError> {
    let ok = (1..=MAX_STATION_CHARS).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ProtocolError::invalid(
            field,
            format!("stations are 1-{MAX_STATION_CHARS} characters of a-z, 0-9, - and _"),
        ))
    }
}

/// `menu_update`'s `item`: every field but `id` optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuItemPatch {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_cents: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prep_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub station: Option<String>,
    /// When given, replaces all the item's option groups (DESIGN §14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<OptionGroup>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MenuOp {
    Upsert,
    Remove,
    SetAvailable,
}

/// Item ids are short slugs: `bibimbap`, `kimchi-jjigae`.
pub fn validate_item_id(id: &str) -> Result<(), ProtocolError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ITEM_ID_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ProtocolError::invalid(
            "item.id",
            format!("item ids are 1-{MAX_ITEM_ID_CHARS} characters of a-z, 0-9, - and _"),
        ))
    }
}

/// A cleaned one-line name of 1..=max characters.
pub fn checked_name(field: &str, raw: &str, max: usize) -> Result<String, ProtocolError> {
    let s = clean_line(raw).trim().to_owned();
    if s.is_empty() {
        return Err(ProtocolError::invalid(
            field,
            format!("{field} must not be empty"),
        ));
    }
    at_most(field, s, max)
}

/// Cleaned one-line text of at most `max` characters (may be empty): menu
/// descriptions, addresses, reasons (DESIGN §9: newline and tab too go).
pub fn checked_line(field: &str, raw: &str, max: usize) -> Result<String, ProtocolError> {
    at_most(field, clean_line(raw), max)
}

/// Cleaned multi-line text of at most `max` characters (may be empty).
pub fn checked_text(field: &str, raw: &str, max: usize) -> Result<String, ProtocolError> {
    at_most(field, clean_text(raw), max)
}

/// `s` if it has at most `max` characters (counted after cleaning, §9).
fn at_most(field: &str, s: String, max: usize) -> Result<String, ProtocolError> {
    if s.chars().count() > max {
        return Err(ProtocolError::invalid(
            field,
            format!("{field} is longer than {max} characters"),
        ));
    }
    Ok(s)
}

pub fn checked_price(field: &str, cents: i64) -> Result<i64, ProtocolError> {
    if (0..=MAX_PRICE_CENTS).contains(&cents) {
        Ok(cents)
    } else {
        Err(ProtocolError::invalid(
            field,
            format!("{field} must be 0..={MAX_PRICE_CENTS} cents"),
        ))
    }
}

pub fn checked_minutes(field: &str, m: u32) -> Result<u32, ProtocolError> {
    if m <= MAX_MINUTES {
        Ok(m)
    } else {
        Err(ProtocolError::invalid(
            field,
            format!("{field} must be 0..={MAX_MINUTES} minutes"),
        ))
    }
}

impl MenuItemPatch {
    /// A whole new item from an upsert: every field is required.
    pub fn into_new_item(self) -> Result<MenuItem, ProtocolError> {
        validate_item_id(&self.id)?;
        let need = |name: &str| {
            ProtocolError::invalid(format!("item.{name}"), format!("a new item needs {name}"))
        };
        let item = MenuItem {
            name: checked_name(
                "item.name",
                &self.name.ok_or_else(|| need("name"))?,
                MAX_NAME_CHARS,
            )?,
            category: checked_name(
                "item.category",
                &self.category.ok_or_else(|| need("category"))?,
                MAX_NAME_CHARS,
            )?,
            description: checked_line(
                "item.description",
                &self.description.ok_or_else(|| need("description"))?,
                MAX_DESCRIPTION_CHARS,
            )?,
            price_cents: checked_price(
                "item.price_cents",
                self.price_cents.ok_or_else(|| need("price_cents"))?,
            )?,
            prep_minutes: checked_minutes(
                "item.prep_minutes",
                self.prep_minutes.ok_or_else(|| need("prep_minutes"))?,
            )?,
            available: self.available.ok_or_else(|| need("available"))?,
            // A new item may omit its station (DESIGN §13).
            station: match self.station {
                Some(st) => {
                    validate_station("item.station", &st)?;
                    st
                }
                None => default_station(),
            },
            // A new item may omit its options: it then has none.
            options: match &self.options {
                Some(groups) => checked_groups(groups)?,
                None => Vec::new(),
            },
            id: self.id,
        };
        Ok(item)
    }

    /// Applies the given fields to an existing item, validating each.
    pub fn apply_to(&self, item: &MenuItem) -> Result<MenuItem, ProtocolError> {
        let mut out = item.clone();
        if let Some(v) = &self.name {
            out.name = checked_name("item.name", v, MAX_NAME_CHARS)?;
        }
        if let Some(v) = &self.category {
            out.category = checked_name("item.category", v, MAX_NAME_CHARS)?;
        }
        if let Some(v) = &self.description {
            out.description = checked_line("item.description", v, MAX_DESCRIPTION_CHARS)?;
        }
        if let Some(v) = self.price_cents {
            out.price_cents = checked_price("item.price_cents", v)?;
        }
        if let Some(v) = self.prep_minutes {
            out.prep_minutes = checked_minutes("item.prep_minutes", v)?;
        }
        if let Some(v) = self.available {
            out.available = v;
        }
        if let Some(v) = &self.station {
            validate_station("item.station", v)?;
            out.station = v.clone();
        }
        if let Some(groups) = &self.options {
            out.options = checked_groups(groups)?;
        }
        Ok(out)
    }
}

/// A promo code: percent or amount off the subtotal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promo {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_off: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_off_cents: Option<i64>,
    pub active: bool,
    pub expires_at: Option<String>,
}

impl Promo {
    /// Whether the code can be used at `now_ms`.
    pub fn usable(&self, now_ms: i64) -> bool {
        self.active
            && self
                .expires_at
                .as_deref()
                .and_then(crate::time::parse_ms)
                .is_none_or(|exp| exp > now_ms)
    }

    /// Discount on `subtotal_cents`, never more than the subtotal.
    pub fn discount(&self, subtotal_cents: i64) -> i64 {
        let d = match (self.percent_off, self.amount_off_cents) {
            (Some(p), _) => subtotal_cents * i64::from(p.min(100)) / 100,
            (None, Some(a)) => a,
            (None, None) => 0,
        };
        d.clamp(0, subtotal_cents)
    }
}

/// Promo codes are case-insensitive on input and stored upper case.
pub fn normalize_promo_code(raw: &str) -> Result<String, ProtocolError> {
    let code = raw.trim().to_ascii_uppercase();
    let ok = !code.is_empty()
        && code.len() <= MAX_PROMO_CODE_CHARS
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(code)
    } else {
        Err(ProtocolError::invalid(
            "code",
            format!("promo codes are 1-{MAX_PROMO_CODE_CHARS} characters of A-Z, 0-9, - and _"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> MenuItem {
        MenuItem {
            id: "bibimbap".into(),
            name: "Bibimbap".into(),
            category: "Rice".into(),
            description: "Rice with vegetables".into(),
            price_cents: 1200,
            available: true,
            prep_minutes: 12,
            station: "kitchen".into(),
            options: Vec::new(),
        }
    }

    #[test]
    fn item_ids() {
        for ok in ["bibimbap", "kimchi-jjigae", "a_1"] {
            assert!(validate_item_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Bibimbap", "a b", "x\x1b", &"a".repeat(33)] {
            assert!(validate_item_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn new_item_needs_every_field() {
        let p = MenuItemPatch {
            id: "x".into(),
            name: Some("X".into()),
            ..Default::default()
        };
        assert_eq!(
            p.into_new_item().unwrap_err().field.as_deref(),
            Some("item.category")
        );
        let full = MenuItemPatch {
            id: "bibimbap".into(),
            name: Some("Bibimbap".into()),
            category: Some("Rice".into()),
            description: Some("Rice with vegetables".into()),
            price_cents: Some(1200),
            prep_minutes: Some(12),
            available: Some(true),
            station: None,
            options: None,
        };
        assert_eq!(full.into_new_item().unwrap(), item());
        let bad = MenuItemPatch {
            station: Some("Grill!".into()),
            ..full_patch()
        };
        assert_eq!(
            bad.into_new_item().unwrap_err().field.as_deref(),
            Some("item.station")
        );
    }

    fn full_patch() -> MenuItemPatch {
        MenuItemPatch {
            id: "bibimbap".into(),
            name: Some("Bibimbap".into()),
            category: Some("Rice".into()),
            description: Some("Rice with vegetables".into()),
            price_cents: Some(1200),
            prep_minutes: Some(12),
            available: Some(true),
            station: Some("wok".into()),
            options: None,
        }
    }

    #[test]
    fn patch_validates_each_field() {
        let p = MenuItemPatch {
            id: "bibimbap".into(),
            price_cents: Some(-1),
            ..Default::default()
        };
        assert_eq!(
            p.apply_to(&item()).unwrap_err().field.as_deref(),
            Some("item.price_cents")
        );
        let p = MenuItemPatch {
            id: "bibimbap".into(),
            name: Some("\x1b[31mRed".into()),
            ..Default::default()
        };
        assert_eq!(p.apply_to(&item()).unwrap().name, "[31mRed");
        let p = MenuItemPatch {
            id: "bibimbap".into(),
            name: Some("n".repeat(65)),
            ..Default::default()
        };
        assert!(p.apply_to(&item()).is_err());
    }

    /// Descriptions are one line (DESIGN §9): newline and tab go, on a new
    /// item and on a change.
    #[test]
    fn descriptions_are_one_line() {
        let p = MenuItemPatch {
            description: Some("Rice,\nvegetables\tand egg\r".into()),
            ..full_patch()
        };
        assert_eq!(
            p.clone().into_new_item().unwrap().description,
            "Rice,vegetablesand egg"
        );
        assert_eq!(
            p.apply_to(&item()).unwrap().description,
            "Rice,vegetablesand egg"
        );
    }

    #[test]
    fn promo_discounts() {
        let pct = Promo {
            code: "TEN".into(),
            percent_off: Some(10),
            amount_off_cents: None,
            active: true,
            expires_at: None,
        };
        assert_eq!(pct.discount(1999), 199);
        let amt = Promo {
            code: "FIVE".into(),
            percent_off: None,
            amount_off_cents: Some(500),
            active: true,
            expires_at: None,
        };
        assert_eq!(amt.discount(300), 300);
        assert_eq!(amt.discount(1300), 500);
        let expired = Promo {
            expires_at: Some("2000-01-01T00:00:00Z".into()),
            ..amt.clone()
        };
        assert!(!expired.usable(crate::time::now_ms()));
        assert!(amt.usable(crate::time::now_ms()));
        assert_eq!(normalize_promo_code(" welcome10 ").unwrap(), "WELCOME10");
        assert!(normalize_promo_code("no spaces").is_err());
    }
}
