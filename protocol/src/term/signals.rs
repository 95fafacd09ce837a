//! A hang-up (SIGHUP: the SSH session gone) or SIGTERM ends a program like
//! `q` (DESIGN §12): the event loop selects on [`Stop::recv`] and leaves
//! normally, so the terminal is restored and the cache written.

/// The signals that stop a program, registered once at start.
pub struct Stop {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

impl Stop {
    /// Registers the handlers (needs a tokio runtime). From here on the
    /// signals no longer kill the process outright: [`Stop::recv`] reports them.
    pub fn new() -> std::io::Result<Stop> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Stop {
                term: signal(SignalKind::terminate())?,
                hup: signal(SignalKind::hangup())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Stop {})
    }

    /// Completes when SIGTERM or SIGHUP arrives; returns its name for the log.
    pub async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => "SIGTERM",
                _ = self.hup.recv() => "SIGHUP",
            }
        }
        #[cfg(not(unix))]
        std::future::pending::<&'static str>().await
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A SIGHUP sent to the process is reported, not fatal.
    #[tokio::test]
    async fn hangup_is_reported() {
        let mut stop = Stop::new().unwrap();
        let pid = std::process::id().to_string();
        let status = std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap();
        assert!(status.success());
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), stop.recv())
            .await
            .unwrap();
        assert_eq!(got, "SIGHUP");
    }
}
