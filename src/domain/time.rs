//! Timestamps in the JSON shape Postgres gives them.
//!
//! The feed sends each row as Postgres encoded it (`to_jsonb`, session time zone UTC):
//! `2026-12-02T13:00:09.12345+00:00`, fractional seconds without trailing zeros and none at
//! all on a whole second. The REST API serialises typed rows in Rust; with this module on
//! every timestamp field the two agree byte for byte, so a client can compare or merge a
//! REST body with a feed event's `data` (the contract test checks they are equal).

use chrono::{DateTime, Timelike, Utc};
use serde::Serializer;

/// Formats like Postgres's JSON output of a `timestamptz` in UTC.
pub fn format(at: &DateTime<Utc>) -> String {
    let mut out = at.format("%Y-%m-%dT%H:%M:%S").to_string();
    let micros = at.nanosecond() / 1_000 % 1_000_000;
    if micros > 0 {
        let fraction = format!("{micros:06}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push_str("+00:00");
    out
}

/// `#[serde(serialize_with = "time::serialize")]`
pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(at))
}

/// `#[serde(serialize_with = "time::serialize_option")]`
pub fn serialize_option<S: Serializer>(
    at: &Option<DateTime<Utc>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serialize(at, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn fractions_lose_trailing_zeros_as_in_postgres() {
        assert_eq!(
            format(&at("2026-12-02T13:00:09.123456Z")),
            "2026-12-02T13:00:09.123456+00:00"
        );
        assert_eq!(
            format(&at("2026-12-02T13:00:09.120000Z")),
            "2026-12-02T13:00:09.12+00:00"
        );
        assert_eq!(
            format(&at("2026-12-02T13:00:09Z")),
            "2026-12-02T13:00:09+00:00"
        );
    }
}
