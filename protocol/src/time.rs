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
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as Millis)
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
}
