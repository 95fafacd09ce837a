//! The day's report (DESIGN §14) as kfood-admin shows it:
//! `kfood-admin report [--date D] [--json | --csv]` for shells and scripts,
//! and the lines the Dashboard's `R` draws. The report itself is the relay's
//! (`GET /api/report`, decoded into `kfood_protocol::report::DayReport`);
//! this module only lays it out.

use std::time::Duration;

use anyhow::anyhow;
use kfood_protocol::client::login::{http_client, LoginError};
use kfood_protocol::client::report::{fetch_report, REPORT_TIMEOUT};
use kfood_protocol::client::{Credentials, RelayUrls, DEFAULT_CONNECT_TIMEOUT};
use kfood_protocol::report::{local_clock, DayReport};
use kfood_protocol::term::{self, CommonArgs, Program};
use kfood_protocol::{ErrorCode, OrderStatus};

use crate::app::{clean, money};
use crate::oneshot::{Failure, EXIT_OK};

/// Widest line of the table: it fits an 80-column terminal, and the
/// Dashboard's overlay inside its borders.
pub const TABLE_WIDTH: usize = 76;
/// Sign-in for `kfood-admin report` gives up after this long.
pub const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(15);

/// How `kfood-admin report` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// Where and as whom reports are asked for: the relay that answered the
/// sign-in and its credentials. A password is kept so that an expired
/// token is renewed, as the connection manager does.
#[derive(Debug, Clone)]
pub struct ReportSource {
    pub http: reqwest::Client,
    pub relay: RelayUrls,
    pub credentials: Credentials,
    pub token: String,
}

impl ReportSource {
    /// The report of `date` (today when `None`); on a 401 with a password,
    /// logs in again once and keeps the new token.
    pub async fn fetch(&mut self, date: Option<&str>) -> Result<DayReport, LoginError> {
        let first = fetch_report(&self.http, &self.relay, &self.token, date, REPORT_TIMEOUT).await;
        let expired = matches!(&first, Err(LoginError::Refused(e))
            if matches!(e.code, ErrorCode::AuthFailed | ErrorCode::TokenExpired));
        let Credentials::Password { username, password } = &self.credentials else {
            return first;
        };
        if !expired {
            return first;
        }
        let reply = kfood_protocol::client::login::login_with(
            &self.http,
            &self.relay,
            username,
            password,
            SIGN_IN_TIMEOUT,
        )
        .await?;
        self.token = reply.token;
        fetch_report(&self.http, &self.relay, &self.token, date, REPORT_TIMEOUT).await
    }
}

/// What a refused or failed report fetch means for `kfood-admin report`'s
/// exit status: credentials and reachability are 2, a refused request 1.
fn failure(e: LoginError) -> Failure {
    match &e {
        LoginError::Refused(p)
            if !matches!(p.code, ErrorCode::AuthFailed | ErrorCode::TokenExpired) =>
        {
            Failure::Refused(anyhow!("the relay refused the report: {e}"))
        }
        _ => Failure::Unreachable(anyhow!(e)),
    }
}

/// Signs in like the program does and fetches the report of `date`.
pub async fn fetch(args: &CommonArgs, date: Option<&str>) -> Result<DayReport, Failure> {
    let login = term::sign_in(args, Program::Admin, None, SIGN_IN_TIMEOUT).await?;
    let http = http_client(args.ca_cert.as_deref(), DEFAULT_CONNECT_TIMEOUT)
        .map_err(|e| Failure::Unreachable(anyhow!(e)))?;
    let mut source = ReportSource {
        http,
        relay: login.relay,
        credentials: login.credentials,
        token: login.token,
    };
    source.fetch(date).await.map_err(failure)
}

/// `kfood-admin report`: prints the report as asked; returns the exit status.
pub async fn command(args: &CommonArgs, date: Option<String>, format: Format) -> i32 {
    match fetch(args, date.as_deref()).await {
        Ok(r) => {
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&r).unwrap_or_else(|_| "{}".into())
                ),
                Format::Csv => print!("{}", csv(&r)),
                Format::Table => {
                    for l in table(&r) {
                        println!("{l}");
                    }
                }
            }
            EXIT_OK
        }
        Err(f) => {
            eprintln!("kfood-admin: {}", f.message());
            f.code()
        }
    }
}

/// `label` in a column of 18, then `value`.
fn row(label: &str, value: impl AsRef<str>) -> String {
    format!("{label:<18}{}", value.as_ref())
}

/// At most `w` characters of `s`, with `…` when cut.
fn fit(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(w.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn minutes(m: Option<f64>) -> String {
    m.map_or_else(|| "-".to_owned(), |v| format!("{v:.1} min"))
}

/// The report as a table, one string per line, none wider than [`TABLE_WIDTH`].
pub fn table(r: &DayReport) -> Vec<String> {
    let mut out = vec![fit(
        &format!("Day's report {} ({})", r.date, clean(&r.tz)),
        TABLE_WIDTH,
    )];
    if r.partial {
        out.push("PARTIAL: the kept log starts after this day began; failures may be short".into());
    }
    let total: u64 = r.orders_by_status.values().sum();
    out.push(row("Orders", total.to_string()));
    let mut by = String::new();
    for (status, n) in by_status(r) {
        let part = format!("{} {n}", clean(status));
        if !by.is_empty() && 18 + by.len() + 2 + part.len() > TABLE_WIDTH {
            out.push(row("", &by));
            by.clear();
        }
        if !by.is_empty() {
            by.push_str("  ");
        }
        by.push_str(&part);
    }
    out.push(row("", &by));
    out.push(row("Gross sales", money(r.gross_cents)));
    out.push(row("Discounts", money(-r.discount_cents)));
    out.push(row("Refunds", money(-r.refunded_cents)));
    out.push(row(
        "Net",
        format!(
            "{}   (cash {} · card {})",
            money(r.net_cents),
            money(r.cash_cents),
            money(r.card_cents)
        ),
    ));
    out.push(row(
        "Prep time",
        format!(
            "avg {} · p90 {}",
            minutes(r.prep_min_avg),
            minutes(r.prep_min_p90)
        ),
    ));
    out.push(row("Late orders", r.late.to_string()));
    out.push(row("Payment failures", r.payment_failures.to_string()));
    out.push(String::new());
    items_table(r, &mut out);
    out.push(String::new());
    hours_table(r, &mut out);
    out.push(String::new());
    cancellations_table(r, &mut out);
    out
}

/// The status counts in the order an order lives them, then any other.
fn by_status(r: &DayReport) -> Vec<(&str, u64)> {
    let known: Vec<&str> = OrderStatus::ALL.iter().map(|s| s.as_str()).collect();
    let mut out: Vec<(&str, u64)> = known
        .iter()
        .filter_map(|k| r.orders_by_status.get_key_value(*k))
        .map(|(k, n)| (k.as_str(), *n))
        .collect();
    out.extend(
        r.orders_by_status
            .iter()
            .filter(|(k, _)| !known.contains(&k.as_str()))
            .map(|(k, n)| (k.as_str(), *n)),
    );
    out
}

fn items_table(r: &DayReport, out: &mut Vec<String>) {
    out.push(format!("{:<50}{:>8}{:>18}", "Item", "Qty", "Revenue"));
    if r.items.is_empty() {
        out.push("  no items sold".into());
    }
    for i in &r.items {
        out.push(format!(
            "{:<50}{:>8}{:>18}",
            fit(&clean(&i.name), 48),
            i.qty,
            money(i.revenue_cents)
        ));
    }
}

fn hours_table(r: &DayReport, out: &mut Vec<String>) {
    out.push(format!("{:<8}{:>8}{:>14}", "Hour", "Orders", "Revenue"));
    let busy: Vec<_> = r.hours.iter().filter(|h| h.orders > 0).collect();
    if busy.is_empty() {
        out.push("  no orders".into());
    }
    let most = busy.iter().map(|h| h.orders).max().unwrap_or(1).max(1);
    for h in busy {
        // A bar of at most 40 marks, scaled to the busiest hour.
        let bar = "#".repeat(((h.orders * 40).div_ceil(most)) as usize);
        out.push(format!(
            "{:<8}{:>8}{:>14}  {bar}",
            format!("{:02}:00", h.hour),
            h.orders,
            money(h.revenue_cents)
        ));
    }
}

fn cancellations_table(r: &DayReport, out: &mut Vec<String>) {
    out.push(format!("Cancellations ({})", r.cancellations.len()));
    for c in &r.cancellations {
        let head = format!(
            "{:<8}{:<7}{:>10}  {} ({})",
            clean(&c.code),
            local_clock(&r.tz, &c.at),
            if c.refunded_cents > 0 {
                money(c.refunded_cents)
            } else {
                "-".into()
            },
            clean(&c.by.name),
            c.by.role
        );
        let reason = clean(&c.reason);
        let line = if reason.is_empty() {
            head
        } else {
            format!("{head}: {reason}")
        };
        out.push(fit(&line, TABLE_WIDTH));
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The report as CSV: one section per part (`summary`, `orders_by_status`,
/// `items`, `hours`, `cancellations`), each its name on a line, a header
/// row and its rows, with a blank line between sections.
pub fn csv(r: &DayReport) -> String {
    let opt = |m: Option<f64>| m.map(|v| format!("{v:.1}")).unwrap_or_default();
    let mut s = String::from("summary\nfield,value\n");
    let summary = [
        ("date", r.date.clone()),
        ("tz", r.tz.clone()),
        ("gross_cents", r.gross_cents.to_string()),
        ("discount_cents", r.discount_cents.to_string()),
        ("refunded_cents", r.refunded_cents.to_string()),
        ("net_cents", r.net_cents.to_string()),
        ("cash_cents", r.cash_cents.to_string()),
        ("card_cents", r.card_cents.to_string()),
        ("prep_min_avg", opt(r.prep_min_avg)),
        ("prep_min_p90", opt(r.prep_min_p90)),
        ("late", r.late.to_string()),
        ("payment_failures", r.payment_failures.to_string()),
        ("partial", r.partial.to_string()),
    ];
    for (k, v) in summary {
        s.push_str(&format!("{k},{}\n", field(&v)));
    }
    s.push_str("\norders_by_status\nstatus,orders\n");
    for (k, n) in by_status(r) {
        s.push_str(&format!("{},{n}\n", field(k)));
    }
    s.push_str("\nitems\nitem_id,name,qty,revenue_cents\n");
    for i in &r.items {
        s.push_str(&format!(
            "{},{},{},{}\n",
            field(&i.item_id),
            field(&clean(&i.name)),
            i.qty,
            i.revenue_cents
        ));
    }
    s.push_str("\nhours\nhour,orders,revenue_cents\n");
    for h in &r.hours {
        s.push_str(&format!("{},{},{}\n", h.hour, h.orders, h.revenue_cents));
    }
    s.push_str("\ncancellations\ncode,reason,by,at,refunded_cents\n");
    for c in &r.cancellations {
        s.push_str(&format!(
            "{},{},{},{},{}\n",
            field(&c.code),
            field(&clean(&c.reason)),
            field(&c.by.id),
            field(&c.at),
            c.refunded_cents
        ));
    }
    s
}

#[cfg(test)]
mod tests;
