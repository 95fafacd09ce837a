//! Signing in from the real binary: `--ca-cert` carries both the login and
//! the socket to a relay with a private certificate, and an account that is
//! not an admin's is refused in words with exit status 2, before any screen.

use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use kfood_relay::config::Limits;
use kfood_relay::store::SledStore;
use kfood_tests::TestRelay;

const BIN: &str = env!("CARGO_BIN_EXE_kfood-admin");

async fn admin(args: &[&str], password: &str, dir: &Path) -> Output {
    tokio::process::Command::new(BIN)
        .args(args)
        .arg("--log")
        .arg(dir.join("admin.log"))
        .env("KFOOD_PASSWORD", password)
        .env("XDG_CACHE_HOME", dir)
        .env_remove("KFOOD_TOKEN")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap()
}

/// `kfood-admin status --ca-cert` logs in and reads the figures over https and wss.
#[tokio::test]
async fn status_over_tls_with_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let store = SledStore::open(&dir.path().join("data"), 16).unwrap();
    kfood_relay::seed_demo(&store).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let opts = kfood_relay::Options {
        limits: Limits::default(),
        secret: kfood_tests::secret(),
        demo: true,
        tls: Some(kfood_relay::server::tls_acceptor(&cert_path, &key_path).unwrap()),
    };
    let relay = tokio::spawn(kfood_relay::run(
        listener,
        Arc::new(store),
        opts,
        shutdown.clone(),
    ));

    let url = format!("wss://localhost:{port}");
    let ca = cert_path.to_str().unwrap();
    let out = admin(
        &[
            "status",
            "--relay",
            &url,
            "--user",
            "admin",
            "--ca-cert",
            ca,
        ],
        "kfood-admin-demo",
        dir.path(),
    )
    .await;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(matches!(out.status.code(), Some(0 | 1)), "{stderr}");
    assert!(stdout.contains("Orders today"), "{stdout}\n{stderr}");

    // Without the certificate the relay cannot be trusted: unreachable, exit 2.
    let out = admin(
        &["status", "--relay", &url, "--user", "admin"],
        "kfood-admin-demo",
        dir.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(2));

    shutdown.cancel();
    relay.await.unwrap().unwrap();
}

/// A crew account is refused by `status` and by the screens alike: exit 2, a sentence, nothing drawn.
#[tokio::test]
async fn non_admins_are_refused_plainly() {
    let relay = TestRelay::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = relay.ws_url();
    for args in [
        vec!["status", "--relay", &url, "--user", "crew"],
        vec!["--relay", &url, "--user", "crew"],
    ] {
        let out = admin(&args, "kfood-crew-demo", dir.path()).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("kfood-admin needs an admin account"),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: nothing drawn");
    }
}
