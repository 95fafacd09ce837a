//! Signing in before the screen is taken over (DESIGN §8, §12): `--token`,
//! or `--user` with a password from `KFOOD_PASSWORD` or a prompt, checked
//! against the relay at once, so that a typo or a wrong account reads as a
//! plain sentence and exit status 2 instead of a screen stuck on
//! "login needed". Each program connects with the account's own role: an
//! admin may run the kitchen board, and anything else is refused here.

use std::time::Duration;

use crate::client::login::{http_client, login_with, register, LoginError};
use crate::client::{Credentials, RelayUrls, DEFAULT_CONNECT_TIMEOUT};
use crate::messages::{validate_password, validate_username};
use crate::{Role, UserRef};

use super::args::CommonArgs;

/// Exit status of a program whose credentials are refused or whose relay
/// cannot be reached before it starts (as `kfood-admin status`, DESIGN §12).
pub const EXIT_SIGN_IN: u8 = 2;

/// The three terminal programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    Customer,
    Crew,
    Admin,
}

impl Program {
    pub fn name(self) -> &'static str {
        match self {
            Program::Customer => "kfood-customer",
            Program::Crew => "kfood-crew",
            Program::Admin => "kfood-admin",
        }
    }

    /// The role it connects with when the credentials do not say (a token
    /// whose claims cannot be read; the relay then decides).
    pub fn default_role(self) -> Role {
        match self {
            Program::Customer => Role::Customer,
            Program::Crew => Role::Crew,
            Program::Admin => Role::Admin,
        }
    }
}

/// The role `program` connects with for an account of role `account`, or
/// why that account cannot use it. The kitchen board takes crew and admins
/// (an admin connects as admin, the role the relay's token names); the
/// others take only their own role.
pub fn session_role(program: Program, account: Role) -> Result<Role, String> {
    let ok = match program {
        Program::Customer => account == Role::Customer,
        Program::Crew => account.is_staff(),
        Program::Admin => account == Role::Admin,
    };
    if ok {
        return Ok(account);
    }
    let needs = match program {
        Program::Customer => "a customer account",
        Program::Crew => "a crew or admin account",
        Program::Admin => "an admin account",
    };
    Err(format!(
        "this is a {account} account; {} needs {needs}",
        program.name()
    ))
}

/// Why a program cannot start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    /// Bad credentials, the wrong kind of account, or none given.
    #[error("{0}")]
    Refused(String),
    /// No relay answered.
    #[error("{0}")]
    Unreachable(String),
}

/// Who the program runs as, and where.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// The relay that answered (the first of `--relay` for a token).
    pub relay: RelayUrls,
    /// The rest of `--relay`, in the order the client moves on to them
    /// after `relay` (DESIGN §15).
    pub other_relays: Vec<RelayUrls>,
    /// For the connection manager: a password is kept so that it can log in
    /// again when the token expires.
    pub credentials: Credentials,
    /// A token for the socket now (from the login, or `--token` itself).
    pub token: String,
    /// The account, when known before the relay's welcome.
    pub user: Option<UserRef>,
    /// The role to connect with (`userType`).
    pub role: Role,
}

/// What `--register` asks for: a new customer account with this display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub name: Option<String>,
}

/// Settles the credentials of `args` for `program`: a token is read (not
/// verified: the relay does that) and its role checked; a password is
/// exchanged for a token at each relay of `--relay` in turn until one
/// answers, and the account's role checked. `timeout` bounds each login.
pub async fn sign_in(
    args: &CommonArgs,
    program: Program,
    registration: Option<Registration>,
    timeout: Duration,
) -> Result<SignIn, SignInError> {
    let relays = args
        .relays()
        .map_err(|e| SignInError::Refused(e.to_string()))?;
    let Some(user) = &args.user else {
        let Some(token) = args.token() else {
            return Err(SignInError::Refused(format!(
                "say who you are: --user NAME (password prompted, or KFOOD_PASSWORD) \
                 or --token TOKEN (KFOOD_TOKEN); see {} --help",
                program.name()
            )));
        };
        let user = crate::jwt::peek(token).map(|c| c.user());
        let role = match &user {
            Some(u) => session_role(program, u.role).map_err(SignInError::Refused)?,
            None => program.default_role(),
        };
        return Ok(SignIn {
            relay: relays[0].clone(),
            other_relays: others_after(&relays, 0),
            credentials: Credentials::Token(token.to_owned()),
            token: token.to_owned(),
            user,
            role,
        });
    };
    let password = password_for(user, registration.is_some())?;
    if registration.is_some() {
        let bad = |e: crate::ProtocolError| SignInError::Refused(e.message);
        validate_username(user).map_err(bad)?;
        validate_password(&password).map_err(bad)?;
    }
    let mut last = None;
    for (i, relay) in relays.iter().enumerate() {
        let answer = match &registration {
            Some(r) => {
                register(
                    relay,
                    args.ca_cert.as_deref(),
                    user,
                    &password,
                    r.name.clone(),
                )
                .await
            }
            None => {
                let http = http_client(args.ca_cert.as_deref(), DEFAULT_CONNECT_TIMEOUT)
                    .map_err(|e| SignInError::Refused(e.to_string()))?;
                login_with(&http, relay, user, &password, timeout).await
            }
        };
        match answer {
            Ok(reply) => {
                let role = session_role(program, reply.user.role)
                    .map_err(|why| SignInError::Refused(format!("{user}: {why}")))?;
                return Ok(SignIn {
                    relay: relay.clone(),
                    other_relays: others_after(&relays, i),
                    credentials: Credentials::Password {
                        username: user.clone(),
                        password,
                    },
                    token: reply.token,
                    user: Some(reply.user),
                    role,
                });
            }
            Err(e @ LoginError::Unreachable { .. }) => {
                tracing::warn!(relay = %relay, cause = %e, "login: relay unreachable");
                last = Some(e);
            }
            Err(e) => return Err(SignInError::Refused(e.to_string())),
        }
    }
    Err(SignInError::Unreachable(
        last.map(|e| e.to_string())
            .unwrap_or_else(|| "no relay to reach".into()),
    ))
}

/// The relays after the `i`-th, in the order a client moves on to them:
/// those after it, then those before it.
fn others_after(relays: &[RelayUrls], i: usize) -> Vec<RelayUrls> {
    let n = relays.len();
    (1..n).map(|k| relays[(i + k) % n].clone()).collect()
}

impl SignIn {
    /// The connection manager's configuration for this sign-in: the relay
    /// that answered first, then the rest of `--relay`.
    pub fn client_config(&self) -> crate::client::ClientConfig {
        crate::client::ClientConfig::for_relay(
            self.relay.clone(),
            self.credentials.clone(),
            self.role,
        )
        .with_other_relays(self.other_relays.iter().cloned())
    }
}

/// The password for `user`: `KFOOD_PASSWORD`, else asked for on the
/// terminal (twice for a new account).
fn password_for(user: &str, confirm: bool) -> Result<String, SignInError> {
    if let Ok(p) = std::env::var("KFOOD_PASSWORD") {
        if !p.is_empty() {
            return Ok(p);
        }
    }
    let unreadable = |e: std::io::Error| {
        SignInError::Refused(format!(
            "cannot read the password ({e}); set KFOOD_PASSWORD to run without a terminal"
        ))
    };
    let p = rpassword::prompt_password(format!("Password for {user}: ")).map_err(unreadable)?;
    if confirm {
        let again = rpassword::prompt_password("The same password again: ").map_err(unreadable)?;
        if p != again {
            return Err(SignInError::Refused("the two passwords differ".into()));
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// After the relay that answered, the client moves on to those after it, then those before it.
    #[test]
    fn the_other_relays_follow_the_one_that_answered() {
        let l = RelayUrls::parse_list("a:1,b:2,c:3").unwrap();
        let hosts = |v: Vec<RelayUrls>| v.into_iter().map(|u| u.http).collect::<Vec<_>>();
        assert_eq!(hosts(others_after(&l, 0)), ["http://b:2", "http://c:3"]);
        assert_eq!(hosts(others_after(&l, 1)), ["http://c:3", "http://a:1"]);
        assert!(others_after(&l[..1], 0).is_empty());
    }

    /// Each program takes its own role; the board also takes admins, as admin; the rest is refused in words.
    #[test]
    fn roles_per_program() {
        use Program::*;
        use Role::{Admin as A, Crew as C, Customer as U};
        assert_eq!(session_role(Crew, C), Ok(C));
        assert_eq!(session_role(Crew, A), Ok(A));
        let e = session_role(Crew, U).unwrap_err();
        assert_eq!(
            e,
            "this is a customer account; kfood-crew needs a crew or admin account"
        );
        assert_eq!(session_role(Customer, U), Ok(U));
        assert!(session_role(Customer, C).is_err());
        assert!(session_role(Customer, A)
            .unwrap_err()
            .contains("kfood-customer"));
        assert_eq!(session_role(Admin, A), Ok(A));
        assert!(session_role(Admin, C).is_err());
        assert!(session_role(Admin, U).is_err());
    }

    fn token(role: Role) -> String {
        let secret = crate::jwt::Secret::new(b"0123456789abcdef0123456789abcdef").unwrap();
        secret.sign(&crate::jwt::Claims::new(
            "boss", "The Boss", role, 1_000, 60,
        ))
    }

    /// A token is taken without a relay: its role decides, or is refused before anything starts.
    #[tokio::test]
    async fn tokens_are_checked_by_role() {
        let args = CommonArgs {
            token: Some(token(Role::Admin)),
            ..CommonArgs::default()
        };
        let s = sign_in(&args, Program::Crew, None, DEFAULT_CONNECT_TIMEOUT)
            .await
            .unwrap();
        assert_eq!(s.role, Role::Admin);
        assert_eq!(s.user.unwrap().name, "The Boss");
        let e = sign_in(&args, Program::Customer, None, DEFAULT_CONNECT_TIMEOUT)
            .await
            .unwrap_err();
        assert!(matches!(e, SignInError::Refused(_)), "{e:?}");
        // Claims that cannot be read: the program's own role, and the relay decides.
        let junk = CommonArgs {
            token: Some("junk".into()),
            ..CommonArgs::default()
        };
        let s = sign_in(&junk, Program::Admin, None, DEFAULT_CONNECT_TIMEOUT)
            .await
            .unwrap();
        assert_eq!((s.role, s.user), (Role::Admin, None));
        let none = sign_in(
            &CommonArgs::default(),
            Program::Crew,
            None,
            DEFAULT_CONNECT_TIMEOUT,
        )
        .await
        .unwrap_err();
        assert!(none.to_string().contains("--user NAME"), "{none}");
    }
}
