//! Wire timestamps: RFC 3339 UTC with milliseconds, and unix-millisecond
//! arithmetic for timers.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Milliseconds since the unix epoch; all internal time is kept in this form.
pub type Millis = i64;

pub fn now_ms() -> Millis {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as Millis
}

/// `2026-11-22T10:00:00.123Z`: always three fraction digits, so timestamps
/// of the same era sort correctly as text.
pub fn format_ms(ms: Millis) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    let t = OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    t.format(&FORMAT).unwrap_or_default()
}

/// Parses any RFC 3339 timestamp into unix milliseconds.
pub fn parse_ms(s: &str) -> Option<Millis> {
    // The relay's own form is read on every pass over the orders (figures,
    // lateness), so it has a fast path; anything else takes the full parser.
    parse_own_form(s).or_else(|| {
        OffsetDateTime::parse(s, &Rfc3339)
            .ok()
            .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as Millis)
    })
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (what [`format_ms`] writes) as unix
/// milliseconds, or `None` when `s` is not exactly that form of a real
/// date and time (then the full RFC 3339 parser decides).
fn parse_own_form(s: &str) -> Option<Millis> {
    let b = s.as_bytes();
    if b.len() != 24
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[23] != b'Z'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        b[from..to].iter().try_fold(0i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second, milli) = (num(11, 13)?, num(14, 16)?, num(17, 19)?, num(20, 23)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day == 0 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days from the civil date (H. Hinnant's algorithm, proleptic Gregorian).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + milli)
}

pub fn now() -> String {
    format_ms(now_ms())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for ms in [0, 1_000, 1_700_000_000_123, 1_799_999_999_999] {
            let s = format_ms(ms);
            assert!(s.ends_with('Z'), "{s}");
            assert_eq!(parse_ms(&s), Some(ms), "{s}");
        }
        assert_eq!(format_ms(1_000), "1970-01-01T00:00:01.000Z");
        assert_eq!(format_ms(1_700_000_000_140), "2023-11-14T22:13:20.140Z");
        assert_eq!(format_ms(1_700_000_000_100), "2023-11-14T22:13:20.100Z");
        // Text order is time order.
        assert!(format_ms(1_700_000_000_089) < format_ms(1_700_000_000_140));
        assert_eq!(parse_ms("2026-11-22T10:00:00Z"), Some(1_795_341_600_000));
        assert_eq!(parse_ms("yesterday"), None);
    }

    /// The fast path for the relay's own form reads exactly what the full
    /// RFC 3339 parser reads, and leaves impossible dates to it (refused).
    #[test]
    fn own_form_agrees_with_the_full_parser() {
        let full = |s: &str| {
            OffsetDateTime::parse(s, &Rfc3339)
                .ok()
                .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as Millis)
        };
        let mut ms: Millis = -62_000_000_000_000;
        while ms < 253_000_000_000_000 {
            let s = format_ms(ms);
            assert_eq!(parse_own_form(&s), Some(ms), "{s}");
            assert_eq!(full(&s), Some(ms), "{s}");
            ms += 7_777_777_777_777 / 1000 + 123;
        }
        for s in [
            "2024-02-29T23:59:59.999Z",
            "2000-02-29T00:00:00.000Z",
            "1970-01-01T00:00:00.000Z",
        ] {
            assert_eq!(parse_own_form(s), full(s), "{s}");
        }
        for s in [
            "2023-02-29T00:00:00.000Z",
            "1900-02-29T00:00:00.000Z",
            "2026-13-01T00:00:00.000Z",
            "2026-04-31T00:00:00.000Z",
            "2026-01-01T24:00:00.000Z",
            "2026-01-01T00:60:00.000Z",
            "2026-01-01T00:00:00.00xZ",
            "2026-01-01T00:00:00.000+",
        ] {
            assert_eq!(parse_own_form(s), None, "{s}");
            assert_eq!(parse_ms(s), None, "{s}");
        }
        assert_eq!(
            parse_ms("2026-11-22T19:00:00.500+09:00"),
            full("2026-11-22T19:00:00.500+09:00")
        );
    }
}
