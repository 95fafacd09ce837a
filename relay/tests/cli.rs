//! The `kfood-relay` binary's subcommands and flag checks.

use std::process::Command;

use kfood_protocol::jwt::Secret;
use kfood_protocol::Role;

const SECRET: &str = "cli-test-secret-0123456789abcdefgh";

fn relay() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kfood-relay"));
    c.env("KFOOD_JWT_SECRET", SECRET)
        .env_remove("KFOOD_DATA_DIR");
    c
}

/// `token issue` prints the token alone on stdout, signed with the relay's secret.
#[test]
fn token_issue_prints_only_a_valid_token() {
    let dir = tempfile::tempdir().unwrap();
    let out = relay()
        .args([
            "token",
            "issue",
            "--role",
            "crew",
            "--name",
            "station-1",
            "--ttl",
            "2h",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    let claims = Secret::new(SECRET.as_bytes())
        .unwrap()
        .verify(stdout.trim())
        .unwrap();
    assert_eq!(
        (claims.sub.as_str(), claims.role),
        ("station-1", Role::Crew)
    );
    assert_eq!(claims.exp - claims.iat, 2 * 3600);
}

/// A limit that would make the relay unusable is refused before it serves.
#[test]
fn unusable_limits_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = relay()
        .args(["--heartbeat-ms", "1", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--heartbeat-ms"));
}

/// Every limit of DESIGN §9 is a flag.
#[test]
fn help_lists_every_limit() {
    let out = relay().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--max-frame-bytes",
        "--max-batch",
        "--rate-per-sec",
        "--rate-burst",
        "--login-per-min",
        "--heartbeat-ms",
        "--outbound-queue",
        "--log-retention",
        "--cache-mb",
        "--tls-cert",
        "--tls-key",
        "--demo",
        "--bind",
        "--data-dir",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}
