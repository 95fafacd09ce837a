//! Tokens for the simulated users: minted with `KFOOD_JWT_SECRET` when it is
//! set, otherwise issued by `kfood-relay token issue --data-dir`.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context};
use kfood_protocol::jwt::{Claims, Secret};
use kfood_protocol::Role;

pub enum Minter {
    Secret(Secret),
    Cli {
        relay_bin: PathBuf,
        data_dir: PathBuf,
    },
}

impl Minter {
    pub fn from_env(relay_bin: Option<PathBuf>, data_dir: PathBuf) -> anyhow::Result<Minter> {
        if let Ok(s) = std::env::var("KFOOD_JWT_SECRET") {
            if !s.is_empty() {
                return Ok(Minter::Secret(
                    Secret::new(s.as_bytes()).map_err(anyhow::Error::msg)?,
                ));
            }
        }
        let relay_bin = match relay_bin {
            Some(b) => b,
            None => sibling_relay_bin(),
        };
        Ok(Minter::Cli {
            relay_bin,
            data_dir,
        })
    }

    /// A token for `id`, valid for a day.
    pub fn token(&self, id: &str, name: &str, role: Role) -> anyhow::Result<String> {
        match self {
            Minter::Secret(s) => {
                let now = kfood_protocol::time::now_ms() / 1000;
                Ok(s.sign(&Claims::new(id, name, role, now, 24 * 3600)))
            }
            Minter::Cli {
                relay_bin,
                data_dir,
            } => {
                let out = Command::new(relay_bin)
                    .args([
                        "token",
                        "issue",
                        "--role",
                        role.as_str(),
                        "--name",
                        name,
                        "--sub",
                        id,
                        "--ttl",
                        "1d",
                    ])
                    .arg("--data-dir")
                    .arg(data_dir)
                    .output()
                    .with_context(|| format!("cannot run {}", relay_bin.display()))?;
                if !out.status.success() {
                    bail!(
                        "kfood-relay token issue failed: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    );
                }
                Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
            }
        }
    }
}

/// `kfood-relay` next to this binary (a cargo build puts them side by side),
/// else from `PATH`.
fn sibling_relay_bin() -> PathBuf {
    let name = format!("kfood-relay{}", std::env::consts::EXE_SUFFIX);
    std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join(&name)))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}
