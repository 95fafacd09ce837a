//! JWT claims of DESIGN §8 and HS256 signing with the relay's secret.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::{Role, UserRef};

/// Shortest secret the relay accepts, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub name: String,
    pub role: Role,
    /// Issued at, unix seconds.
    pub iat: i64,
    /// Expires at, unix seconds.
    pub exp: i64,
    pub jti: String,
}

impl Claims {
    /// Claims for `ttl_secs` from `now_secs`, with a fresh `jti`.
    pub fn new(sub: &str, name: &str, role: Role, now_secs: i64, ttl_secs: i64) -> Self {
        Claims {
            sub: sub.to_owned(),
            name: name.to_owned(),
            role,
            iat: now_secs,
            exp: now_secs.saturating_add(ttl_secs),
            jti: uuid::Uuid::new_v4().to_string(),
        }
    }

    pub fn user(&self) -> UserRef {
        UserRef {
            id: self.sub.clone(),
            name: self.name.clone(),
            role: self.role,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    #[error("invalid token: {0}")]
    Invalid(String),
}

/// The relay's signing secret: raw bytes, at least [`MIN_SECRET_BYTES`].
#[derive(Clone)]
pub struct Secret {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    pub fn new(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "the JWT secret has {} bytes; it needs at least {MIN_SECRET_BYTES}",
                bytes.len()
            ));
        }
        Ok(Secret {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
        })
    }

    pub fn sign(&self, claims: &Claims) -> String {
        // HS256 over serialisable claims cannot fail with a valid key.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .unwrap_or_default()
    }

    /// Checks signature and expiry (no leeway: an expired token is expired).
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 0;
        v.set_required_spec_claims(&["exp", "iat", "sub"]);
        match jsonwebtoken::decode::<Claims>(token, &self.decoding, &v) {
            // The relay's own role is never a user's (DESIGN §3).
            Ok(data) if data.claims.role == Role::System => {
                Err(TokenError::Invalid("no user has the system role".into()))
            }
            Ok(data) => Ok(data.claims),
            Err(e) => match e.kind() {
                ErrorKind::ExpiredSignature => Err(TokenError::Expired),
                _ => Err(TokenError::Invalid(e.to_string())),
            },
        }
    }
}

/// The claims of a token read without checking its signature or expiry:
/// for showing a name or finding a cache before the relay, which does check,
/// has answered. Never a basis for trusting anyone.
pub fn peek(token: &str) -> Option<Claims> {
    jsonwebtoken::dangerous::insecure_decode::<Claims>(token)
        .ok()
        .map(|d| d.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn signs_and_verifies() {
        let s = Secret::new(SECRET).unwrap();
        let now = crate::time::now_ms() / 1000;
        let c = Claims::new("kim", "Kim", Role::Crew, now, 60);
        assert_eq!(s.verify(&s.sign(&c)), Ok(c));
    }

    #[test]
    fn refuses_expired_foreign_and_garbage() {
        let s = Secret::new(SECRET).unwrap();
        let other = Secret::new(b"another-secret-another-secret-xx").unwrap();
        let now = crate::time::now_ms() / 1000;
        let old = Claims::new("kim", "Kim", Role::Crew, now - 100, 10);
        assert_eq!(s.verify(&s.sign(&old)), Err(TokenError::Expired));
        let c = Claims::new("kim", "Kim", Role::Crew, now, 60);
        assert!(matches!(
            s.verify(&other.sign(&c)),
            Err(TokenError::Invalid(_))
        ));
        assert!(matches!(s.verify("not.a.jwt"), Err(TokenError::Invalid(_))));
    }

    #[test]
    fn peek_reads_any_token_without_trusting_it() {
        let other = Secret::new(b"another-secret-another-secret-xx").unwrap();
        let c = Claims::new("kim", "Kim", Role::Crew, 0, 1);
        assert_eq!(peek(&other.sign(&c)), Some(c));
        assert_eq!(peek("not.a.jwt"), None);
    }

    #[test]
    fn short_secret_refused() {
        assert!(Secret::new(b"short").is_err());
    }
}
