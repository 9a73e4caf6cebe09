//! Parsing event times and durations from text.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use dalal::EventTime;
use std::fmt;
use std::time::Duration;

/// How the event-time column is written (`--ts-format`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TsFormat {
    /// RFC 3339, e.g. `2024-01-02T09:15:00.123Z`; sub-millisecond digits are kept.
    Rfc3339,
    /// Seconds since the Unix epoch (a decimal fraction is accepted).
    EpochS,
    /// Milliseconds since the Unix epoch (a decimal fraction is accepted).
    EpochMs,
    /// Microseconds since the Unix epoch (a decimal fraction is accepted).
    EpochUs,
    /// Nanoseconds since the Unix epoch (an integer).
    EpochNs,
    /// A chrono `strftime` format such as `%Y%m%d%H%M`. Without an offset
    /// (`%z`) the time is UTC; without a time of day it is midnight; missing
    /// seconds are zero.
    Chrono(String),
}

impl TsFormat {
    /// Parses a `--ts-format` argument: `rfc3339`, `epoch_s`, `epoch_ms`,
    /// `epoch_us`, `epoch_ns`, or a chrono format string (anything holding a `%`).
    pub fn parse(s: &str) -> Result<TsFormat, String> {
        Ok(match s {
            "rfc3339" => TsFormat::Rfc3339,
            "epoch_s" => TsFormat::EpochS,
            "epoch_ms" => TsFormat::EpochMs,
            "epoch_us" => TsFormat::EpochUs,
            "epoch_ns" => TsFormat::EpochNs,
            f if f.contains('%') => {
                let bad = chrono::format::StrftimeItems::new(f)
                    .any(|i| matches!(i, chrono::format::Item::Error));
                if bad {
                    return Err(format!("invalid chrono format `{f}`"));
                }
                TsFormat::Chrono(f.to_string())
            }
            other => {
                return Err(format!(
                    "unknown timestamp format `{other}` (expected rfc3339, epoch_s, epoch_ms, \
                     epoch_us, epoch_ns or a chrono format such as %Y-%m-%d %H:%M:%S)"
                ));
            }
        })
    }

    /// Parses one timestamp written in this format. The error is the reason
    /// only (the caller adds file, line and column).
    pub fn parse_time(&self, text: &str) -> Result<EventTime, String> {
        let t = text.trim();
        let bad = || format!("expected a timestamp ({self}), found '{}'", shorten(text));
        match self {
            TsFormat::Rfc3339 => {
                let dt = DateTime::parse_from_rfc3339(t).map_err(|_| bad())?;
                dt.timestamp_nanos_opt()
                    .map(EventTime::from_nanos)
                    .ok_or_else(|| out_of_range(text))
            }
            TsFormat::EpochS => epoch(t, 1_000_000_000).ok_or_else(bad),
            TsFormat::EpochMs => epoch(t, 1_000_000).ok_or_else(bad),
            TsFormat::EpochUs => epoch(t, 1_000).ok_or_else(bad),
            TsFormat::EpochNs => t
                .parse::<i64>()
                .map(EventTime::from_nanos)
                .map_err(|_| bad()),
            TsFormat::Chrono(f) => {
                let has_offset = f.contains("%z")
                    || f.contains("%:z")
                    || f.contains("%::z")
                    || f.contains("%#z");
                let naive = if has_offset {
                    let dt = DateTime::parse_from_str(t, f).map_err(|_| bad())?;
                    return dt
                        .timestamp_nanos_opt()
                        .map(EventTime::from_nanos)
                        .ok_or_else(|| out_of_range(text));
                } else {
                    match NaiveDateTime::parse_from_str(t, f) {
                        Ok(n) => n,
                        Err(_) => NaiveDate::parse_from_str(t, f)
                            .map_err(|_| bad())?
                            .and_hms_opt(0, 0, 0)
                            .ok_or_else(bad)?,
                    }
                };
                naive
                    .and_utc()
                    .timestamp_nanos_opt()
                    .map(EventTime::from_nanos)
                    .ok_or_else(|| out_of_range(text))
            }
        }
    }
}

impl fmt::Display for TsFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TsFormat::Rfc3339 => f.write_str("rfc3339"),
            TsFormat::EpochS => f.write_str("epoch_s"),
            TsFormat::EpochMs => f.write_str("epoch_ms"),
            TsFormat::EpochUs => f.write_str("epoch_us"),
            TsFormat::EpochNs => f.write_str("epoch_ns"),
            TsFormat::Chrono(s) => f.write_str(s),
        }
    }
}

fn out_of_range(text: &str) -> String {
    format!(
        "timestamp '{}' is outside the representable range (years 1677 to 2262)",
        shorten(text)
    )
}

/// An integer, or a decimal number, times `unit` nanoseconds; `None` when it
/// is not a number or does not fit.
fn epoch(t: &str, unit: i64) -> Option<EventTime> {
    if let Ok(i) = t.parse::<i64>() {
        return i.checked_mul(unit).map(EventTime::from_nanos);
    }
    let x = t.parse::<f64>().ok()?;
    let ns = (x * unit as f64).round();
    // The cast saturates; reject values that needed it.
    if ns.is_finite() && ns.abs() < 9.2e18 {
        Some(EventTime::from_nanos(ns as i64))
    } else {
        None
    }
}

/// Cuts long cell text in error messages.
pub(crate) fn shorten(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push_str("...");
        out
    }
}

/// Parses a signed duration to nanoseconds: a number with a unit (`ns`, `us`,
/// `ms`, `s`, `m`, `h`, `d`), or a plain number of milliseconds. A decimal
/// fraction is accepted (`1.5s`).
pub fn parse_duration_ns(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let bad = || {
        format!(
            "expected a duration (milliseconds, or a number with a unit: 500ms, 2s, 5m, 1h), \
             found '{}'",
            shorten(text)
        )
    };
    let split = t
        .char_indices()
        .find(|(i, c)| c.is_ascii_alphabetic() && *i != 0)
        .map_or(t.len(), |(i, _)| i);
    let (num, unit) = t.split_at(split);
    let per: i64 = match unit {
        "" | "ms" => 1_000_000,
        "ns" => 1,
        "us" => 1_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        _ => return Err(bad()),
    };
    if let Ok(i) = num.parse::<i64>() {
        return i.checked_mul(per).ok_or_else(bad);
    }
    // Only plain decimals: `parse::<f64>` would also take `inf` and `1e400`.
    if num.is_empty()
        || !num
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+')
    {
        return Err(bad());
    }
    let x: f64 = num.parse().map_err(|_| bad())?;
    let ns = (x * per as f64).round();
    if ns.is_finite() && ns.abs() < 9.2e18 {
        Ok(ns as i64)
    } else {
        Err(bad())
    }
}

/// Parses a non-negative duration (`--max-delay`): see [`parse_duration_ns`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let ns = parse_duration_ns(text)?;
    u64::try_from(ns)
        .map(Duration::from_nanos)
        .map_err(|_| format!("a duration must not be negative, found '{}'", shorten(text)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ms(f: &TsFormat, s: &str) -> i64 {
        f.parse_time(s).unwrap().as_millis()
    }

    #[test]
    fn rfc3339_keeps_sub_millisecond_digits() {
        let f = TsFormat::Rfc3339;
        assert_eq!(ms(&f, "1970-01-01T00:00:01Z"), 1000);
        assert_eq!(
            f.parse_time("1970-01-01T00:00:00.000001234Z").unwrap(),
            EventTime::from_nanos(1234)
        );
        assert_eq!(ms(&f, "1970-01-01T01:00:00+01:00"), 0);
        assert!(f.parse_time("yesterday").is_err());
        assert!(
            f.parse_time("9999-01-01T00:00:00Z")
                .unwrap_err()
                .contains("range")
        );
    }

    #[test]
    fn epochs() {
        assert_eq!(ms(&TsFormat::EpochS, "2"), 2000);
        assert_eq!(ms(&TsFormat::EpochS, "1.5"), 1500);
        assert_eq!(ms(&TsFormat::EpochMs, "1500"), 1500);
        assert_eq!(
            TsFormat::EpochUs.parse_time("3").unwrap(),
            EventTime::from_nanos(3000)
        );
        assert_eq!(
            TsFormat::EpochNs.parse_time("7").unwrap(),
            EventTime::from_nanos(7)
        );
        assert!(TsFormat::EpochS.parse_time("99999999999999999").is_err());
        assert!(TsFormat::EpochMs.parse_time("abc").is_err());
        assert!(TsFormat::EpochMs.parse_time("1e300").is_err());
    }

    #[test]
    fn chrono_formats_without_seconds_or_time() {
        let f = TsFormat::parse("%Y%m%d%H%M").unwrap();
        let t = f.parse_time("200802010901").unwrap();
        assert_eq!(t.to_string(), "2008-02-01T09:01:00.000Z");
        let d = TsFormat::parse("%Y-%m-%d").unwrap();
        assert_eq!(
            d.parse_time("2024-01-02").unwrap().to_string(),
            "2024-01-02T00:00:00.000Z"
        );
        let z = TsFormat::parse("%Y-%m-%d %H:%M:%S %z").unwrap();
        assert_eq!(
            z.parse_time("2024-01-02 05:30:00 +0530")
                .unwrap()
                .to_string(),
            "2024-01-02T00:00:00.000Z"
        );
        assert!(f.parse_time("2008").is_err());
        assert!(TsFormat::parse("iso").is_err());
        assert!(TsFormat::parse("%Y-%Q").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("250").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("infs").is_err());
        assert!(parse_duration("99999999999999h").is_err());
        assert_eq!(parse_duration_ns("-3ms").unwrap(), -3_000_000);
    }
}
