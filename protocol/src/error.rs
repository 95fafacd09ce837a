//! Error codes of DESIGN §5 and the error every validation step returns.

use serde::{Deserialize, Serialize};

/// `error.data.code` on the wire, and `error.code` in HTTP error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Malformed,
    UnknownType,
    Invalid,
    Forbidden,
    NotFound,
    UnknownItem,
    ItemUnavailable,
    InvalidCard,
    PaymentDeclined,
    InsufficientFunds,
    InvalidPromo,
    PriceChanged,
    InvalidTransition,
    RateLimited,
    /// Online ordering is paused (DESIGN §14).
    OrderingPaused,
    /// No 15-minute slot has room (DESIGN §14).
    SlotFull,
    AuthFailed,
    TokenExpired,
    /// The relay's store is unreachable: nothing happened; try again (§15).
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Malformed => "malformed",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::Invalid => "invalid",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::UnknownItem => "unknown_item",
            ErrorCode::ItemUnavailable => "item_unavailable",
            ErrorCode::InvalidCard => "invalid_card",
            ErrorCode::PaymentDeclined => "payment_declined",
            ErrorCode::InsufficientFunds => "insufficient_funds",
            ErrorCode::InvalidPromo => "invalid_promo",
            ErrorCode::PriceChanged => "price_changed",
            ErrorCode::InvalidTransition => "invalid_transition",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::OrderingPaused => "ordering_paused",
            ErrorCode::SlotFull => "slot_full",
            ErrorCode::AuthFailed => "auth_failed",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal: the code, a sentence for a person, and the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{code}: {message}")]
pub struct ProtocolError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ProtocolError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ProtocolError {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// `invalid` with the field at fault named.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ProtocolError {
            code: ErrorCode::Invalid,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }
}
