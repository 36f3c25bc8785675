//! Timestamps as stored: one fixed UTC text form in every timestamp column
//! (`2026-11-26T05:30:00.000000Z`). These functions format and parse given instants; none
//! reads the clock.

use chrono::{DateTime, Utc};

/// An instant in the fixed text form of every timestamp column.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Parses a timestamp written by [`timestamp`] (or any RFC 3339 instant).
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A stored timestamp as Beijing time (UTC+8) to the second, `2026-11-26 13:30:00`; text
/// that is not a timestamp as it is.
pub fn beijing(ts: &str) -> String {
    match parse_timestamp(ts) {
        Some(t) => (t + chrono::Duration::hours(8))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        None => ts.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_time_is_eight_hours_ahead() {
        assert_eq!(
            beijing("2026-11-26T17:30:00.000000Z"),
            "2026-11-27 01:30:00"
        );
        assert_eq!(beijing("昨天"), "昨天");
    }

    #[test]
    fn round_trips() {
        let t = parse_timestamp("2026-11-26T05:30:00.000000Z").unwrap();
        assert_eq!(timestamp(t), "2026-11-26T05:30:00.000000Z");
        assert!(parse_timestamp("不是时间").is_none());
    }
}
