//! Getting a token: `POST /api/login`, `POST /api/register` (DESIGN §8), or
//! a token given on the command line.

use anyhow::{anyhow, bail, Context};
use kfood_protocol::messages::{Credentials, LoginReply};
use kfood_protocol::UserRef;
use serde_json::Value;

/// Logs in (or registers first) and returns the token and who it is for.
pub async fn login(
    http_base: &str,
    ca_cert: Option<&std::path::Path>,
    username: &str,
    password: &str,
    register: Option<Option<String>>,
) -> anyhow::Result<LoginReply> {
    let mut client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(15));
    if let Some(path) = ca_cert {
        let pem = std::fs::read(path)
            .with_context(|| format!("cannot read the CA certificate {}", path.display()))?;
        let cert = reqwest::Certificate::from_pem(&pem)
            .with_context(|| format!("{} is not a PEM certificate", path.display()))?;
        client = client.add_root_certificate(cert);
    }
    let client = client.build()?;
    let (path, name) = match register {
        Some(name) => ("/api/register", name),
        None => ("/api/login", None),
    };
    let body = Credentials {
        username: username.to_owned(),
        password: password.to_owned(),
        name,
    };
    let url = format!("{http_base}{path}");
    let resp = client
        .post(&url)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("cannot reach the relay at {http_base}"))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if status.is_success() {
        return serde_json::from_str::<LoginReply>(&text)
            .map_err(|e| anyhow!("the relay's answer to {path} is not understood: {e}"));
    }
    let why = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .and_then(Value::as_str)
                .map(kfood_protocol::sanitize::clean_line)
        })
        .unwrap_or_else(|| status.to_string());
    match (path, status.as_u16()) {
        ("/api/register", 409) => bail!("the user name {username} is taken: {why}"),
        (_, 401) => bail!("login refused: {why}"),
        (_, 429) => bail!("too many login attempts: {why}"),
        _ => bail!("{path} failed ({status}): {why}"),
    }
}

/// Who a token names, read from its claims without checking the signature
/// (the relay checks it): lets the program find the user's saved cart and
/// show the name before the connection is up.
pub fn peek_token(token: &str) -> Option<UserRef> {
    kfood_protocol::jwt::peek(token).map(|c| c.user())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kfood_protocol::Role;

    #[test]
    fn token_claims_are_read() {
        let token = kfood_tests::token("kim", Role::Customer);
        let u = peek_token(&token).unwrap();
        assert_eq!(u.id, "kim");
        assert_eq!(u.name, "kim name");
        assert_eq!(u.role, Role::Customer);
        assert_eq!(peek_token("not-a-token"), None);
        assert_eq!(peek_token("a.!!!.c"), None);
    }
}
