//! Money and time as the programs write them: `$1,234.50`, `10:02` in the
//! viewer's zone, ages such as `12m` or `03:15`. Prices are whole cents on
//! the wire (DESIGN §6); times are RFC 3339 or milliseconds since the epoch.

use time::{OffsetDateTime, UtcOffset};

use crate::time::{parse_ms, Millis};

/// The terminal's time zone. Read it before any thread starts: the local
/// offset cannot be read safely once other threads exist, and the answer is
/// UTC then.
pub fn local_offset() -> UtcOffset {
    UtcOffset::current_local_offset().unwrap_or(UtcOffset::UTC)
}

/// `$13.50`, `-$1.35`, `$1,234.00`.
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    let digits = (c / 100).to_string();
    let mut whole = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            whole.push(',');
        }
        whole.push(d);
    }
    format!("{sign}${whole}.{:02}", c % 100)
}

fn local(ms: Millis, offset: UtcOffset) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(offset)
}

/// `10:02` in the viewer's time zone.
pub fn clock(ms: Millis, offset: UtcOffset) -> String {
    let t = local(ms, offset);
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// `18:30` on the viewer's day of `now`, `tomorrow 18:30`, else
/// `Fri 4 Dec 18:30`: a time that may be days ahead (a scheduled order).
pub fn day_clock(ms: Millis, now: Millis, offset: UtcOffset) -> String {
    let (t, today) = (local(ms, offset), local(now, offset).date());
    let hm = format!("{:02}:{:02}", t.hour(), t.minute());
    if t.date() == today {
        hm
    } else if today.next_day() == Some(t.date()) {
        format!("tomorrow {hm}")
    } else {
        let wd = t.weekday().to_string();
        let month = t.month().to_string();
        format!("{} {} {} {hm}", &wd[..3], t.day(), &month[..3])
    }
}

/// `10:02:33` in the viewer's time zone.
pub fn clock_secs(ms: Millis, offset: UtcOffset) -> String {
    let t = local(ms, offset);
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

/// [`clock`] of an RFC 3339 time; `--:--` when it is not one.
pub fn clock_of(rfc3339: &str, offset: UtcOffset) -> String {
    parse_ms(rfc3339)
        .map(|ms| clock(ms, offset))
        .unwrap_or_else(|| "--:--".into())
}

/// [`clock_secs`] of an RFC 3339 time; `--:--:--` when it is not one.
pub fn clock_secs_of(rfc3339: &str, offset: UtcOffset) -> String {
    parse_ms(rfc3339)
        .map(|ms| clock_secs(ms, offset))
        .unwrap_or_else(|| "--:--:--".into())
}

/// How long ago, coarsely: `45s`, `12m`, `1h05m`, `3d`.
pub fn age(ms: Millis) -> String {
    let s = (ms / 1000).max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d", s / 86_400),
    }
}

/// A running timer, as a kitchen ticket shows it: `MM:SS` under an hour,
/// then `1h05`.
pub fn timer(ms: Millis) -> String {
    let s = ms.max(0) / 1000;
    if s < 3600 {
        format!("{:02}:{:02}", s / 60, s % 60)
    } else {
        format!("{}h{:02}", s / 3600, (s % 3600) / 60)
    }
}

/// `2h 05m`, `3d 4h`, `45s`: a duration in seconds, such as an uptime.
pub fn duration_s(s: u64) -> String {
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cents read as dollars with a sign and thousands separators.
    #[test]
    fn money_reads_like_money() {
        assert_eq!(money(1350), "$13.50");
        assert_eq!(money(5), "$0.05");
        assert_eq!(money(-135), "-$1.35");
        assert_eq!(money(123_400), "$1,234.00");
        assert_eq!(money(100_000_000), "$1,000,000.00");
    }

    /// Clock times follow the viewer's zone; bad input says so instead of a time.
    #[test]
    fn clocks_use_the_offset() {
        let t = 1_800_000_000_000; // 08:00:00 UTC
        assert_eq!(clock(t, UtcOffset::UTC), "08:00");
        assert_eq!(clock_secs(t + 33_000, UtcOffset::UTC), "08:00:33");
        let kst = UtcOffset::from_hms(9, 0, 0).unwrap();
        assert_eq!(clock(t, kst), "17:00");
        assert_eq!(clock_of("2027-01-15T08:00:00Z", UtcOffset::UTC), "08:00");
        assert_eq!(clock_of("soon", UtcOffset::UTC), "--:--");
        assert_eq!(clock_secs_of("soon", UtcOffset::UTC), "--:--:--");
    }

    /// A time today reads as a clock, tomorrow says so, later days name the day.
    #[test]
    fn day_clocks_name_other_days() {
        let now = 1_800_000_000_000; // Fri 15 Jan 2027, 08:00 UTC
        assert_eq!(day_clock(now + 3_600_000, now, UtcOffset::UTC), "09:00");
        let day = 24 * 3_600_000;
        assert_eq!(day_clock(now + day, now, UtcOffset::UTC), "tomorrow 08:00");
        assert_eq!(
            day_clock(now + 2 * day, now, UtcOffset::UTC),
            "Sun 17 Jan 08:00"
        );
    }

    /// Ages and timers at their unit boundaries.
    #[test]
    fn ages_and_timers() {
        assert_eq!(age(45_000), "45s");
        assert_eq!(age(12 * 60_000 + 5_000), "12m");
        assert_eq!(age(3_900_000), "1h05m");
        assert_eq!(age(3 * 86_400_000), "3d");
        assert_eq!(age(-5), "0s");
        assert_eq!(timer(65_000), "01:05");
        assert_eq!(timer(3_900_000), "1h05");
        assert_eq!(duration_s(7500), "2h 05m");
        assert_eq!(duration_s(90_000), "1d 1h");
    }
}
