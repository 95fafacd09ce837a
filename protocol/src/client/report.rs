//! `GET /api/report` (DESIGN §14): the day's report over the HTTP API, for
//! `kfood-admin report` and the admin's Dashboard. The report is a typed
//! [`DayReport`], decoded here once.

use std::time::Duration;

use super::config::RelayUrls;
use super::login::{error_chain, refusal_of, LoginError};
use crate::report::DayReport;

/// Time a report may take in all: the relay reads a day of its log for it.
pub const REPORT_TIMEOUT: Duration = Duration::from_secs(30);

/// The report of `date` (`YYYY-MM-DD`; the relay's today when `None`),
/// asked with an admin's `token`. A refusal (401, 403, a bad date's 400)
/// is [`LoginError::Refused`] with the relay's code and message.
pub async fn fetch_report(
    http: &reqwest::Client,
    relay: &RelayUrls,
    token: &str,
    date: Option<&str>,
    timeout: Duration,
) -> Result<DayReport, LoginError> {
    let unreachable = |why: String| LoginError::Unreachable {
        relay: relay.http.clone(),
        why,
    };
    let mut req = http
        .get(relay.api("/api/report"))
        .bearer_auth(token)
        .timeout(timeout);
    if let Some(d) = date {
        req = req.query(&[("date", d)]);
    }
    let resp = req.send().await.map_err(|e| unreachable(error_chain(&e)))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if status.is_success() {
        return serde_json::from_str::<DayReport>(&text)
            .map_err(|e| unreachable(format!("its report is not understood: {e}")));
    }
    match status.as_u16() {
        400 | 401 | 403 => Err(LoginError::Refused(refusal_of(&text, status.as_u16()))),
        _ => Err(unreachable(format!("/api/report failed ({status})"))),
    }
}
