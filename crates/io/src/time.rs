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

impl TsFormat {
    /// The common spellings without UTF-8 validation, trimming or chrono:
    /// epoch integers, and RFC 3339 as `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)`.
    /// `None`: use [`TsFormat::parse_time`] (which also gives the error).
    #[inline]
    pub(crate) fn parse_time_fast(&self, b: &[u8], cache: &mut TimeCache) -> Option<EventTime> {
        // The commonest time, inlined into the reader: the general form was
        // a call that saved six registers and dispatched on the format
        // (~25 of its ~100 instructions a row).
        if let TsFormat::Rfc3339 = self {
            if let Some(ns) = rfc3339_cached_millis(b, cache) {
                return Some(EventTime::from_nanos(ns));
            }
        }
        self.parse_time_general(b, cache)
    }

    /// [`TsFormat::parse_time_fast`] for every format and spelling.
    #[inline(never)]
    fn parse_time_general(&self, b: &[u8], cache: &mut TimeCache) -> Option<EventTime> {
        let epoch = |unit: i64| {
            crate::convert::parse_int(b)?
                .checked_mul(unit)
                .map(EventTime::from_nanos)
        };
        match self {
            TsFormat::Rfc3339 => rfc3339_fast(b, cache).map(EventTime::from_nanos),
            TsFormat::EpochS => epoch(1_000_000_000),
            TsFormat::EpochMs => epoch(1_000_000),
            TsFormat::EpochUs => epoch(1_000),
            TsFormat::EpochNs => epoch(1),
            TsFormat::Chrono(_) => None,
        }
    }
}

/// The last `YYYY-MM-DDTHH:MM` seen and its seconds since the epoch: a
/// stream's times share it for a minute at a time.
#[derive(Debug, Default)]
pub(crate) struct TimeCache {
    prefix: [u8; 16],
    secs: i64,
    valid: bool,
}

/// Two ASCII digits, or `None`.
fn two(a: u8, b: u8) -> Option<i64> {
    let (a, b) = (a.wrapping_sub(b'0'), b.wrapping_sub(b'0'));
    (a <= 9 && b <= 9).then(|| i64::from(a * 10 + b))
}

/// Seconds since the epoch of `YYYY-MM-DDTHH:MM`, validated as chrono does.
fn date_minute(h: &[u8; 16]) -> Option<i64> {
    if h[4] != b'-' || h[7] != b'-' || h[10] != b'T' || h[13] != b':' {
        return None;
    }
    let year = two(h[0], h[1])? * 100 + two(h[2], h[3])?;
    let month = two(h[5], h[6])?;
    let day = two(h[8], h[9])?;
    let hour = two(h[11], h[12])?;
    let min = two(h[14], h[15])?;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > month_days || hour > 23 || min > 59 {
        return None;
    }
    // Days from the civil date (H. Hinnant's algorithm); years are 0..=9999 here.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + min * 60)
}

/// [`rfc3339_fast`] for `YYYY-MM-DDTHH:MM:SS.mmmZ` in the minute `cache`
/// holds, and `None` for anything else (which [`rfc3339_fast`] then reads).
#[inline(always)]
fn rfc3339_cached_millis(b: &[u8], cache: &TimeCache) -> Option<i64> {
    let (head, rest) = b.split_first_chunk::<16>()?;
    let [b':', s1, s2, b'.', m1, m2, m3, b'Z'] = rest else {
        return None;
    };
    if !(cache.valid && cache.prefix == *head) {
        return None;
    }
    let sec = two(*s1, *s2)?;
    if sec > 59 {
        return None;
    }
    at_millis(cache.secs + sec, *m1, *m2, *m3)
}

/// Nanoseconds of `secs` and three ASCII digits of milliseconds (the
/// `.mmmZ` spelling, inline or not); `None` for a non-digit or overflow.
#[inline(always)]
fn at_millis(secs: i64, m1: u8, m2: u8, m3: u8) -> Option<i64> {
    let (m1, m2, m3) = (
        m1.wrapping_sub(b'0'),
        m2.wrapping_sub(b'0'),
        m3.wrapping_sub(b'0'),
    );
    if m1 > 9 || m2 > 9 || m3 > 9 {
        return None;
    }
    let millis = i64::from(m1) * 100 + i64::from(m2) * 10 + i64::from(m3);
    secs.checked_mul(1_000_000_000)?
        .checked_add(millis * 1_000_000)
}

/// Nanoseconds since the epoch of the strict RFC 3339 form; `None` for
/// anything else, including values chrono would reject or that overflow.
fn rfc3339_fast(b: &[u8], cache: &mut TimeCache) -> Option<i64> {
    let (head, rest) = b.split_first_chunk::<16>()?;
    let base = if cache.valid && cache.prefix == *head {
        cache.secs
    } else {
        let secs = date_minute(head)?;
        *cache = TimeCache {
            prefix: *head,
            secs,
            valid: true,
        };
        secs
    };
    let [b':', s1, s2, rest @ ..] = rest else {
        return None;
    };
    let sec = two(*s1, *s2)?;
    // A leap second (`:60`) is left to chrono.
    if sec > 59 {
        return None;
    }
    // The commonest spelling, `.mmmZ`, without the general loop.
    if let [b'.', m1, m2, m3, b'Z'] = rest {
        return at_millis(base + sec, *m1, *m2, *m3);
    }
    let mut rest = rest;
    let mut nanos = 0i64;
    if let Some((b'.', r)) = rest.split_first() {
        let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        for &d in &r[..n] {
            nanos = nanos * 10 + i64::from(d - b'0');
        }
        nanos *= 10i64.pow(9 - n as u32);
        rest = &r[n..];
    }
    let offset = match rest {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = two(*h1, *h2)?;
            let m = two(*m1, *m2)?;
            if h > 23 || m > 59 {
                return None;
            }
            let secs = h * 3600 + m * 60;
            if *sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };
    (base + sec - offset)
        .checked_mul(1_000_000_000)?
        .checked_add(nanos)
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
    fn rfc3339_fast_path_agrees_with_chrono() {
        let mut x: u64 = 11;
        let mut next = |n: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % n
        };
        let mut texts: Vec<String> = [
            "2024-02-29T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-01-02T03:30:00.000Z",
            "2024-13-01T00:00:00Z",
            "2024-12-31T23:59:60Z",
            "2024-01-02t03:30:00Z",
            "2024-01-02 03:30:00Z",
            "2024-01-02T03:30:00z",
            "2024-01-02T03:30:00.Z",
            "2024-01-02T03:30:00.1234567891Z",
            "2024-01-02T03:30:00+05:30",
            "2024-01-02T03:30:00-23:59",
            "2024-01-02T03:30:00+24:00",
            "1677-09-21T00:12:43.145224191Z",
            "1677-09-21T00:12:43.145224192Z",
            "2262-04-11T23:47:16.854775807Z",
            "2262-04-11T23:47:16.854775808Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "1969-12-31T23:59:59.999Z",
            "1969-12-31T23:59:59.001Z",
            "2024-01-02T03:30:00.999Z",
            "2024-01-02T03:30:00.12aZ",
            "2024-01-02T03:30:00.1a3Z",
            "1677-09-21T00:12:43.145Z",
            "1677-09-21T00:12:43.146Z",
            "2262-04-11T23:47:16.854Z",
            "2262-04-11T23:47:16.855Z",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for _ in 0..20_000 {
            let frac = match next(4) {
                0 => String::new(),
                _ => format!(".{}", "123456789".get(..1 + next(9) as usize).unwrap()),
            };
            let off = match next(3) {
                0 => "Z".to_string(),
                _ => format!(
                    "{}{:02}:{:02}",
                    if next(2) == 0 { '+' } else { '-' },
                    next(25),
                    next(61)
                ),
            };
            texts.push(format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{frac}{off}",
                1600 + next(800),
                next(14),
                next(33),
                next(25),
                next(61),
                next(62)
            ));
        }
        for _ in 0..2_000 {
            texts.push(format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                1600 + next(800),
                1 + next(12),
                1 + next(28),
                next(24),
                next(60),
                next(60),
                next(1000)
            ));
        }
        let f = TsFormat::Rfc3339;
        let mut fast = 0;
        let mut cache = TimeCache::default();
        for (i, t) in texts.iter().enumerate() {
            // Runs of one minute exercise the cache.
            let t = if i % 3 == 1 {
                format!("{}{}", texts[i - 1].get(..17).unwrap_or(""), &t[17..])
            } else {
                t.clone()
            };
            if let Some(v) = f.parse_time_fast(t.as_bytes(), &mut cache) {
                fast += 1;
                assert_eq!(Ok(v), f.parse_time(&t), "{t}");
            }
        }
        assert!(fast > texts.len() / 4, "{fast}");
        assert_eq!(
            f.parse_time_fast(b"2024-01-02T03:30:00.613Z", &mut cache),
            Some(EventTime::from_nanos(1_704_166_200_613_000_000))
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
