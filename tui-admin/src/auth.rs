//! Getting a token: `POST /api/login` (DESIGN §8) with a password typed at a
//! prompt or taken from `KFOOD_PASSWORD`, or a token given on the command line.

use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use kfood_protocol::messages::{Credentials, LoginReply};
use kfood_protocol::{Role, UserRef};
use serde_json::Value;

/// Why there is no token: the difference decides `status`'s exit code.
#[derive(Debug)]
pub enum LoginError {
    /// The relay could not be reached.
    Unreachable(anyhow::Error),
    /// The relay said no (bad credentials, wrong role, too many attempts).
    Refused(anyhow::Error),
}

impl std::fmt::Display for LoginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoginError::Unreachable(e) | LoginError::Refused(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for LoginError {}

/// The password for `user`: `KFOOD_PASSWORD`, else asked for on the terminal.
pub fn password_for(user: &str) -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("KFOOD_PASSWORD") {
        return Ok(p);
    }
    rpassword::prompt_password(format!("Password for {user}: "))
        .context("cannot read the password (set KFOOD_PASSWORD to run without a terminal)")
}

/// Logs in and returns the token; refuses accounts that are not admins.
pub async fn login(
    http_base: &str,
    username: &str,
    password: &str,
    timeout: Duration,
) -> Result<LoginReply, LoginError> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| LoginError::Unreachable(e.into()))?;
    let body = Credentials {
        username: username.to_owned(),
        password: password.to_owned(),
        name: None,
    };
    let url = format!("{http_base}/api/login");
    let resp = client.post(&url).json(&body).send().await.map_err(|e| {
        LoginError::Unreachable(
            anyhow!(e).context(format!("cannot reach the relay at {http_base}")),
        )
    })?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if status.is_success() {
        let reply = serde_json::from_str::<LoginReply>(&text).map_err(|e| {
            LoginError::Unreachable(anyhow!(
                "the relay's answer to /api/login is not understood: {e}"
            ))
        })?;
        if reply.user.role != Role::Admin {
            return Err(LoginError::Refused(anyhow!(
                "{username} is a {} account; kfood-admin needs an admin",
                reply.user.role
            )));
        }
        return Ok(reply);
    }
    let why = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .and_then(Value::as_str)
                .map(kfood_protocol::sanitize::clean_line)
        })
        .unwrap_or_else(|| status.to_string());
    let err = match status.as_u16() {
        401 => anyhow!("login refused: {why}"),
        429 => anyhow!("too many login attempts: {why}"),
        _ => anyhow!("/api/login failed ({status}): {why}"),
    };
    if status.is_server_error() {
        Err(LoginError::Unreachable(err))
    } else {
        Err(LoginError::Refused(err))
    }
}

/// Who a token names, read from its claims without checking the signature
/// (the relay checks it), so the status bar has a name before the relay answers.
pub fn peek_token(token: &str) -> Option<UserRef> {
    kfood_protocol::jwt::peek(token).map(|c| c.user())
}

/// The token to connect with: `--token`, or a login as `--user`.
pub async fn token_from(
    token: Option<&str>,
    user: Option<&str>,
    http_base: &str,
    timeout: Duration,
) -> Result<String, LoginError> {
    if let Some(t) = token.filter(|t| !t.trim().is_empty()) {
        return Ok(t.trim().to_owned());
    }
    let Some(user) = user else {
        return Err(LoginError::Refused(anyhow!(
            "no credentials: give --user NAME (password prompt or KFOOD_PASSWORD) or --token TOKEN (KFOOD_TOKEN)"
        )));
    };
    let password = password_for(user).map_err(LoginError::Refused)?;
    login(http_base, user, &password, timeout)
        .await
        .map(|r| r.token)
}

/// Fails unless the token claims the admin role (the relay checks it too,
/// but this says why in words before a socket is opened).
pub fn check_admin(token: &str) -> anyhow::Result<()> {
    match peek_token(token) {
        Some(u) if u.role != Role::Admin => {
            bail!(
                "this token is for a {} ({}); kfood-admin needs an admin token",
                u.role,
                u.id
            )
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peeks_at_claims() {
        let t = kfood_tests::token("boss", Role::Admin);
        let u = peek_token(&t).unwrap();
        assert_eq!((u.id.as_str(), u.role), ("boss", Role::Admin));
        assert!(check_admin(&t).is_ok());
        let crew = kfood_tests::token("kim", Role::Crew);
        assert!(check_admin(&crew).is_err());
        assert!(peek_token("not-a-token").is_none());
        assert!(
            check_admin("garbage").is_ok(),
            "the relay decides about garbage"
        );
    }
}
