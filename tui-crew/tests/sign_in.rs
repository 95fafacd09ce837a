//! Signing in against a real relay: the board connects with the account's
//! own role, so an admin reaches LIVE (not 4003 and "login needed"), and a
//! customer account is refused in words with exit status 2 before the
//! screen is taken over.

use std::time::Duration;

use clap::Parser;
use kfood_crew::Cli;
use kfood_protocol::client::{Client, ClientEvent, ConnState};
use kfood_protocol::term::SignInError;
use kfood_protocol::Role;
use kfood_tests::TestRelay;

const WAIT: Duration = Duration::from_secs(15);

fn cli(relay: &TestRelay, user: &str) -> Cli {
    Cli::try_parse_from([
        "kfood-crew",
        "--relay",
        &relay.ws_url(),
        "--user",
        user,
        "--no-cache",
    ])
    .unwrap()
}

/// `kfood-crew --user admin` signs in as admin and goes live on the socket;
/// a customer account is refused by sign-in, and by the real binary with exit 2.
#[tokio::test]
async fn board_uses_the_accounts_own_role() {
    let relay = TestRelay::start().await;
    // The one test in this file: no other thread reads the environment.
    std::env::set_var("KFOOD_PASSWORD", "kfood-admin-demo");
    let c = cli(&relay, "admin");
    let login = kfood_crew::sign_in(&c).await.unwrap();
    assert_eq!(login.role, Role::Admin);

    let config = kfood_crew::net::client_config(&c.net_options(), &login);
    let (client, mut events, mut state) = Client::connect(config).unwrap();
    let live = tokio::time::timeout(WAIT, state.wait_for(|s| s.is_live()))
        .await
        .expect("the board goes live")
        .map(|s| s.clone());
    assert!(matches!(live, Ok(ConnState::Live { .. })), "{live:?}");
    let welcome = tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Some(ClientEvent::Welcome(w)) => return w,
                Some(_) => continue,
                None => panic!("events ended before the welcome"),
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(welcome.user.role, Role::Admin);
    client.close().await;

    std::env::set_var("KFOOD_PASSWORD", "kfood-customer-demo");
    let refused = kfood_crew::sign_in(&cli(&relay, "customer"))
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, SignInError::Refused(m) if m.contains("kfood-crew needs a crew or admin account")),
        "{refused:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kfood-crew"))
        .args(["--relay", &relay.ws_url(), "--user", "customer"])
        .arg("--log")
        .arg(dir.path().join("crew.log"))
        .env("KFOOD_PASSWORD", "kfood-customer-demo")
        .env("XDG_CACHE_HOME", dir.path())
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("customer account"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing drawn");
}
