//! Logging for a terminal program (DESIGN §12): to a file, never onto the
//! screen it draws. `--log FILE` / `KFOOD_LOG` names the file (else
//! `<cache dir>/kfood/<program>.log`); the level is `KFOOD_LOG_LEVEL`, else
//! `RUST_LOG`, else `info` for our crates and `warn` for the rest.

use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// The log file when `--log` is not given: in the user's cache directory
/// (next to the local cache), else the temporary directory.
pub fn default_log_path(program: &str) -> PathBuf {
    crate::client::default_cache_dir()
        .unwrap_or_else(|| std::env::temp_dir().join("kfood"))
        .join(format!("{program}.log"))
}

/// The filter: `KFOOD_LOG_LEVEL`, else `RUST_LOG`, else `info` for the
/// program's crate (`target`) and this one, `warn` for the rest.
pub fn filter(target: &str) -> EnvFilter {
    for var in ["KFOOD_LOG_LEVEL", "RUST_LOG"] {
        if let Ok(v) = std::env::var(var) {
            if let Ok(f) = EnvFilter::try_new(v.trim()) {
                if !v.trim().is_empty() {
                    return f;
                }
            }
        }
    }
    EnvFilter::new(format!("warn,kfood_protocol=info,{target}=info"))
}

/// Sends `tracing` to `path` (or the default file of `program`), appending.
/// Keep the guard until the program ends: dropping it flushes the log.
/// `target` is the program crate's name in log targets (`kfood_crew`).
pub fn init(program: &str, target: &str, path: Option<&Path>) -> std::io::Result<WorkerGuard> {
    let path = path
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_log_path(program));
    let file = open_append(&path)?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter(target))
        .try_init()
        .map_err(std::io::Error::other)?;
    Ok(guard)
}

/// Opens `path` for appending, creating it and its directory.
pub fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The log file and its directory are created, and appended to, not truncated.
    #[test]
    fn log_files_are_created_and_appended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deep/er/kfood-crew.log");
        std::io::Write::write_all(&mut open_append(&path).unwrap(), b"one\n").unwrap();
        std::io::Write::write_all(&mut open_append(&path).unwrap(), b"two\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\n");
        assert!(default_log_path("kfood-admin").ends_with("kfood-admin.log"));
    }
}
