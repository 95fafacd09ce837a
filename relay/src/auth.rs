//! Secrets, passwords, tokens and revocations (DESIGN §8).

use std::collections::HashMap;
use std::path::Path;
use std::sync::RwLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use kfood_protocol::jwt::{Claims, Secret, TokenError};
use kfood_protocol::{ErrorCode, ProtocolError, Role};
use serde::{Deserialize, Serialize};

/// File name of the generated secret inside the data directory.
pub const SECRET_FILE: &str = "jwt-secret";

/// Where the secret came from, for the start-up log line.
#[derive(Debug, PartialEq, Eq)]
pub enum SecretSource {
    Env,
    File,
    Generated,
}

/// `KFOOD_JWT_SECRET` if set, else the secret file, else a new random secret
/// written to the data directory with mode 0600.
pub fn load_secret(
    env: Option<String>,
    file: Option<&Path>,
    data_dir: &Path,
) -> anyhow::Result<(Secret, SecretSource)> {
    if let Some(v) = env.filter(|v| !v.is_empty()) {
        return Ok((
            Secret::new(v.as_bytes()).map_err(anyhow::Error::msg)?,
            SecretSource::Env,
        ));
    }
    if let Some(f) = file {
        let bytes =
            std::fs::read(f).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?;
        let trimmed = trim_newline(&bytes);
        return Ok((
            Secret::new(trimmed).map_err(anyhow::Error::msg)?,
            SecretSource::File,
        ));
    }
    let path = data_dir.join(SECRET_FILE);
    if let Ok(bytes) = std::fs::read(&path) {
        return Ok((
            Secret::new(trim_newline(&bytes)).map_err(anyhow::Error::msg)?,
            SecretSource::File,
        ));
    }
    std::fs::create_dir_all(data_dir)?;
    let value: String = {
        use rand::distributions::{Alphanumeric, DistString};
        Alphanumeric.sample_string(&mut rand::thread_rng(), 48)
    };
    write_private(&path, value.as_bytes())?;
    Ok((
        Secret::new(value.as_bytes()).map_err(anyhow::Error::msg)?,
        SecretSource::Generated,
    ))
}

fn trim_newline(b: &[u8]) -> &[u8] {
    let mut end = b.len();
    while end > 0 && (b[end - 1] == b'\n' || b[end - 1] == b'\r') {
        end -= 1;
    }
    &b[..end]
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// An account as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub created_at: String,
}

/// Argon2id with the crate's default (OWASP-recommended) parameters.
pub fn hash_password(password: &str) -> Result<String, ProtocolError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ProtocolError::internal(format!("cannot hash password: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Argon2 takes tens of milliseconds: a `user_create`'s password is hashed
/// before the request reaches the core, so one new account never stalls
/// everyone's orders. `None` when there is nothing (valid) to hash.
pub async fn pre_hash(env: &kfood_protocol::Envelope) -> Option<String> {
    if env.kind != kfood_protocol::messages::kind::USER_CREATE {
        return None;
    }
    let pw = env.data.get("password")?.as_str()?.to_owned();
    kfood_protocol::messages::validate_password(&pw).ok()?;
    tokio::task::spawn_blocking(move || hash_password(&pw).ok())
        .await
        .ok()
        .flatten()
}

/// A hash to verify against when the user does not exist, so an unknown user
/// costs as much time as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

fn clean_name(s: &str) -> String {
    kfood_protocol::sanitize::clean_line(s)
        .chars()
        .take(kfood_protocol::limits::MAX_NAME_CHARS)
        .collect()
}

/// Token checks shared by the socket and the HTTP API.
pub struct Auth {
    pub secret: Secret,
    /// user id → unix seconds of the last `session_revoke`.
    revoked: RwLock<HashMap<String, i64>>,
}

impl Auth {
    pub fn new(secret: Secret, revoked: HashMap<String, i64>) -> Self {
        Auth {
            secret,
            revoked: RwLock::new(revoked),
        }
    }

    /// Verifies a token: signature, expiry, and revocation.
    pub fn check(&self, token: &str) -> Result<Claims, ProtocolError> {
        let claims = self.secret.verify(token).map_err(|e| match e {
            TokenError::Expired => ProtocolError::new(
                ErrorCode::TokenExpired,
                "the token has expired; log in again",
            ),
            TokenError::Invalid(_) => {
                ProtocolError::new(ErrorCode::AuthFailed, "the token is not valid")
            }
        })?;
        if self.is_revoked(&claims) {
            return Err(ProtocolError::new(
                ErrorCode::AuthFailed,
                "the token has been revoked; log in again",
            ));
        }
        // A minted token's names reach every screen: clean them like any client text.
        let mut claims = claims;
        claims.name = clean_name(&claims.name);
        claims.sub = clean_name(&claims.sub);
        if claims.sub.is_empty() {
            return Err(ProtocolError::new(
                ErrorCode::AuthFailed,
                "the token has no subject",
            ));
        }
        Ok(claims)
    }

    pub fn is_revoked(&self, claims: &Claims) -> bool {
        let map = self.revoked.read().unwrap_or_else(|p| p.into_inner());
        map.get(&claims.sub).is_some_and(|at| claims.iat <= *at)
    }

    pub fn revoke(&self, user_id: &str, at_secs: i64) {
        let mut map = self.revoked.write().unwrap_or_else(|p| p.into_inner());
        map.insert(user_id.to_owned(), at_secs);
    }

    /// Signs a token for `user` valid `ttl_secs` from now.
    /// Never issued at or before the user's revocation second (DESIGN §5
    /// `session_revoke`): a login in that same second gets the next one.
    pub fn issue(&self, id: &str, name: &str, role: Role, ttl_secs: i64) -> (String, Claims) {
        let now = kfood_protocol::time::now_ms() / 1000;
        let revoked = self.revoked.read().unwrap_or_else(|p| p.into_inner());
        let iat = revoked.get(id).map_or(now, |at| now.max(at + 1));
        drop(revoked);
        let claims = Claims::new(id, name, role, iat, ttl_secs);
        (self.secret.sign(&claims), claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "garbage"));
    }

    #[test]
    fn revocation_covers_tokens_issued_at_or_before() {
        let auth = Auth::new(Secret::new(&[7u8; 32]).unwrap(), HashMap::new());
        let (tok, claims) = auth.issue("kim", "Kim", Role::Crew, 60);
        assert!(auth.check(&tok).is_ok());
        auth.revoke("kim", claims.iat);
        assert_eq!(auth.check(&tok).unwrap_err().code, ErrorCode::AuthFailed);
        auth.revoke("kim", claims.iat - 1);
        assert!(auth.check(&tok).is_ok());
    }

    #[test]
    fn secret_generated_once_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let (_, src) = load_secret(None, None, dir.path()).unwrap();
        assert_eq!(src, SecretSource::Generated);
        let (_, src) = load_secret(None, None, dir.path()).unwrap();
        assert_eq!(src, SecretSource::File);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SECRET_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(load_secret(Some("short".into()), None, dir.path()).is_err());
    }
}
