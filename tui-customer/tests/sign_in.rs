//! Signing in from the real binary: an account that is not a customer's is
//! refused in words with exit status 2 before any screen, and `KFOOD_LOG`
//! names the log file, as in every program.

use kfood_tests::TestRelay;

/// `kfood-customer --user crew` exits 2 with a sentence; the refusal is in the file `KFOOD_LOG` names.
#[tokio::test]
async fn other_roles_are_refused_and_logged_to_kfood_log() {
    let relay = TestRelay::start().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("logs/customer.log");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kfood-customer"))
        .args(["--relay", &relay.ws_url(), "--user", "crew"])
        .env("KFOOD_PASSWORD", "kfood-crew-demo")
        .env("KFOOD_LOG", &log)
        .env("KFOOD_LOG_LEVEL", "info")
        .env("XDG_CACHE_HOME", dir.path())
        .env_remove("KFOOD_TOKEN")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("crew: this is a crew account; kfood-customer needs a customer account"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing drawn");
    let logged = std::fs::read_to_string(&log).expect("KFOOD_LOG is the log file");
    assert!(logged.contains("sign-in failed"), "{logged}");
}
