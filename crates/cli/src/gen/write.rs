//! Event values and their fast CSV / JSON Lines formatting.
//!
//! Everything is appended to one reusable byte buffer that is handed to the output
//! in large chunks: no allocation per event, integers through `itoa`, money and
//! percentages as fixed-point integers (paise, basis points) printed with two
//! decimals, timestamps from a cache that rebuilds the `YYYY-MM-DDTHH:MM:SS.` prefix
//! only when the second changes.

use super::names::{CATEGORIES, CITIES, HEADLINES, PAYMENTS};
use std::io::{self, Write};

/// The CSV header: the union of the fields of every event type.
pub const CSV_HEADER: &str = "type,ts,symbol,price,volume,side,size,headline,change_pct,\
order_id,customer,category,city,amount,items,payment\n";

/// Bytes buffered before they are written out.
const CHUNK: usize = 1 << 20;

/// Order side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
}

/// A purchase of the e-commerce stream. Money in paise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purchase {
    /// Sequence number of the order id, assigned when the event is written.
    pub order: u64,
    pub customer: u32,
    pub category: u8,
    pub city: u8,
    pub amount: i64,
    pub items: u16,
    pub payment: u8,
}

/// One generated event (without its timestamp). Prices in paise, `sym` indexes the
/// symbol table, `headline` indexes [`HEADLINES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Trade {
        sym: u32,
        price: i64,
        volume: u32,
    },
    Order {
        sym: u32,
        side: Side,
        size: u32,
        price: i64,
    },
    News {
        sym: u32,
        headline: u16,
    },
    Spike {
        sym: u32,
        volume: u32,
    },
    Alert {
        sym: u32,
        price: i64,
        change_bp: i32,
    },
    Purchase(Purchase),
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// CSV with one header holding every column; unused cells are empty.
    Csv,
    /// One JSON object per line with `type`, `ts` and the event's own fields.
    Jsonl,
}

/// Caches the formatted date and time of the current second.
pub struct TsCache {
    sec: i64,
    day: i64,
    prefix: [u8; 20],
}

impl Default for TsCache {
    fn default() -> Self {
        Self::new()
    }
}

impl TsCache {
    /// An empty cache.
    pub fn new() -> Self {
        let mut c = TsCache {
            sec: 0,
            day: i64::MIN,
            prefix: [0; 20],
        };
        c.refill(0);
        c
    }

    fn refill(&mut self, sec: i64) {
        self.sec = sec;
        let day = sec.div_euclid(86_400);
        let p = &mut self.prefix;
        // The date changes once a day; only the time is rebuilt within one.
        if day != self.day {
            self.day = day;
            let (y, m, d) = civil_from_days(day);
            // Years outside 0..=9999 are rejected before generation starts.
            put_digits(&mut p[0..4], y.clamp(0, 9999));
            p[4] = b'-';
            put_digits(&mut p[5..7], m);
            p[7] = b'-';
            put_digits(&mut p[8..10], d);
            p[10] = b'T';
        }
        let s = sec.rem_euclid(86_400);
        let (hh, mm, ss) = (s / 3600, s / 60 % 60, s % 60);
        put_digits(&mut p[11..13], hh);
        p[13] = b':';
        put_digits(&mut p[14..16], mm);
        p[16] = b':';
        put_digits(&mut p[17..19], ss);
        p[19] = b'.';
    }

    /// Appends `ms` (milliseconds since the Unix epoch) as RFC 3339 UTC with three
    /// fractional digits: `2024-01-02T03:30:00.123Z`.
    #[inline]
    pub fn push(&mut self, ms: i64, buf: &mut Vec<u8>) {
        let sec = ms.div_euclid(1000);
        if sec != self.sec {
            self.refill(sec);
        }
        let milli = ms.rem_euclid(1000);
        buf.extend_from_slice(&self.prefix);
        buf.extend_from_slice(&[
            b'0' + (milli / 100) as u8,
            b'0' + (milli / 10 % 10) as u8,
            b'0' + (milli % 10) as u8,
            b'Z',
        ]);
    }

    /// `ms` formatted as a string (for the truth file and tests).
    pub fn format(&mut self, ms: i64) -> String {
        let mut buf = Vec::with_capacity(24);
        self.push(ms, &mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }
}

/// Writes `v` as zero-padded decimal filling `out`.
fn put_digits(out: &mut [u8], mut v: i64) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Appends `v / 100` with exactly two decimals (`-0.05`, `2500.00`).
#[inline]
pub fn push_fixed2(buf: &mut Vec<u8>, v: i64) {
    if v < 0 {
        buf.push(b'-');
    }
    let a = v.unsigned_abs();
    let mut ib = itoa::Buffer::new();
    buf.extend_from_slice(ib.format(a / 100).as_bytes());
    let f = (a % 100) as u8;
    buf.extend_from_slice(&[b'.', b'0' + f / 10, b'0' + f % 10]);
}

/// Appends an integer.
#[inline]
pub fn push_int<I: itoa::Integer>(buf: &mut Vec<u8>, v: I) {
    let mut ib = itoa::Buffer::new();
    buf.extend_from_slice(ib.format(v).as_bytes());
}

/// Appends `prefix` and `v` zero-padded to `width` digits (order and customer ids).
fn push_id(buf: &mut Vec<u8>, prefix: &[u8], v: u64, width: usize) {
    buf.extend_from_slice(prefix);
    let mut ib = itoa::Buffer::new();
    let s = ib.format(v);
    for _ in s.len()..width {
        buf.push(b'0');
    }
    buf.extend_from_slice(s.as_bytes());
}

/// Appends a CSV cell, quoted only when it must be.
fn push_csv_str(buf: &mut Vec<u8>, s: &[u8]) {
    if s.iter().any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        buf.push(b'"');
        for &b in s {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(s);
    }
}

/// Appends the body of a JSON string (without the quotes).
fn push_json_body(buf: &mut Vec<u8>, s: &[u8]) {
    for &b in s {
        match b {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            0..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                buf.extend_from_slice(b"\\u00");
                buf.push(HEX[usize::from(b >> 4)]);
                buf.push(HEX[usize::from(b & 15)]);
            }
            _ => buf.push(b),
        }
    }
}

/// Appends a JSON string with its quotes.
pub fn push_json_str(buf: &mut Vec<u8>, s: &[u8]) {
    buf.push(b'"');
    push_json_body(buf, s);
    buf.push(b'"');
}

/// Formats events into a buffer and writes it out in large chunks.
pub struct Writer<W: Write> {
    out: W,
    buf: Vec<u8>,
    ts: TsCache,
    format: Format,
}

impl<W: Write> Writer<W> {
    /// A writer in `format` over `out`.
    pub fn new(out: W, format: Format) -> Self {
        Writer {
            out,
            buf: Vec::with_capacity(CHUNK + 4096),
            ts: TsCache::new(),
            format,
        }
    }

    /// Writes the CSV header (nothing for JSON Lines).
    pub fn header(&mut self) -> io::Result<()> {
        if self.format == Format::Csv {
            self.buf.extend_from_slice(CSV_HEADER.as_bytes());
        }
        Ok(())
    }

    /// Appends one event; writes the buffer out when it is full.
    #[inline]
    pub fn event(&mut self, ts: i64, ev: &Event, symbols: &[String]) -> io::Result<()> {
        match self.format {
            Format::Csv => self.csv(ts, ev, symbols),
            Format::Jsonl => self.json(ts, ev, symbols),
        }
        if self.buf.len() >= CHUNK {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Writes what is buffered and flushes the output.
    pub fn finish(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.out.flush()
    }

    fn csv(&mut self, ts: i64, ev: &Event, symbols: &[String]) {
        let b = &mut self.buf;
        let sym = |s: u32| {
            symbols
                .get(s as usize)
                .map_or("", String::as_str)
                .as_bytes()
        };
        // Columns: type,ts,symbol,price,volume,side,size,headline,change_pct,
        //          order_id,customer,category,city,amount,items,payment
        match *ev {
            Event::Trade {
                sym: s,
                price,
                volume,
            } => {
                b.extend_from_slice(b"Trade,");
                self.ts.push(ts, b);
                b.push(b',');
                b.extend_from_slice(sym(s));
                b.push(b',');
                push_fixed2(b, price);
                b.push(b',');
                push_int(b, volume);
                b.extend_from_slice(b",,,,,,,,,,,\n");
            }
            Event::Order {
                sym: s,
                side,
                size,
                price,
            } => {
                b.extend_from_slice(b"Order,");
                self.ts.push(ts, b);
                b.push(b',');
                b.extend_from_slice(sym(s));
                b.push(b',');
                push_fixed2(b, price);
                b.extend_from_slice(b",,");
                b.extend_from_slice(side.as_str().as_bytes());
                b.push(b',');
                push_int(b, size);
                b.extend_from_slice(b",,,,,,,,,\n");
            }
            Event::News { sym: s, headline } => {
                b.extend_from_slice(b"News,");
                self.ts.push(ts, b);
                b.push(b',');
                b.extend_from_slice(sym(s));
                b.extend_from_slice(b",,,,,");
                if let Some(hl) = HEADLINES.get(usize::from(headline)) {
                    let name = sym(s);
                    let quote =
                        |t: &[u8]| t.iter().any(|c| matches!(c, b',' | b'"' | b'\n' | b'\r'));
                    if quote(hl.before.as_bytes()) || quote(hl.after.as_bytes()) || quote(name) {
                        let mut text = hl.before.as_bytes().to_vec();
                        text.extend_from_slice(name);
                        text.extend_from_slice(hl.after.as_bytes());
                        push_csv_str(b, &text);
                    } else {
                        b.extend_from_slice(hl.before.as_bytes());
                        b.extend_from_slice(name);
                        b.extend_from_slice(hl.after.as_bytes());
                    }
                }
                b.extend_from_slice(b",,,,,,,,\n");
            }
            Event::Spike { sym: s, volume } => {
                b.extend_from_slice(b"VolumeSpike,");
                self.ts.push(ts, b);
                b.push(b',');
                b.extend_from_slice(sym(s));
                b.extend_from_slice(b",,");
                push_int(b, volume);
                b.extend_from_slice(b",,,,,,,,,,,\n");
            }
            Event::Alert {
                sym: s,
                price,
                change_bp,
            } => {
                b.extend_from_slice(b"PriceAlert,");
                self.ts.push(ts, b);
                b.push(b',');
                b.extend_from_slice(sym(s));
                b.push(b',');
                push_fixed2(b, price);
                b.extend_from_slice(b",,,,,");
                push_fixed2(b, i64::from(change_bp));
                b.extend_from_slice(b",,,,,,,\n");
            }
            Event::Purchase(p) => {
                b.extend_from_slice(b"Purchase,");
                self.ts.push(ts, b);
                b.extend_from_slice(b",,,,,,,,");
                push_id(b, b"ORD", p.order, 10);
                b.push(b',');
                push_id(b, b"C", u64::from(p.customer), 7);
                b.push(b',');
                b.extend_from_slice(category_name(p.category).as_bytes());
                b.push(b',');
                b.extend_from_slice(city_name(p.city).as_bytes());
                b.push(b',');
                push_fixed2(b, p.amount);
                b.push(b',');
                push_int(b, p.items);
                b.push(b',');
                b.extend_from_slice(payment_name(p.payment).as_bytes());
                b.push(b'\n');
            }
        }
    }

    fn json(&mut self, ts: i64, ev: &Event, symbols: &[String]) {
        let b = &mut self.buf;
        let sym = |s: u32| {
            symbols
                .get(s as usize)
                .map_or("", String::as_str)
                .as_bytes()
        };
        let (ty, s) = match *ev {
            Event::Trade { sym, .. } => ("Trade", Some(sym)),
            Event::Order { sym, .. } => ("Order", Some(sym)),
            Event::News { sym, .. } => ("News", Some(sym)),
            Event::Spike { sym, .. } => ("VolumeSpike", Some(sym)),
            Event::Alert { sym, .. } => ("PriceAlert", Some(sym)),
            Event::Purchase(_) => ("Purchase", None),
        };
        b.extend_from_slice(b"{\"type\":\"");
        b.extend_from_slice(ty.as_bytes());
        b.extend_from_slice(b"\",\"ts\":\"");
        self.ts.push(ts, b);
        b.push(b'"');
        if let Some(s) = s {
            b.extend_from_slice(b",\"symbol\":");
            push_json_str(b, sym(s));
        }
        match *ev {
            Event::Trade { price, volume, .. } => {
                b.extend_from_slice(b",\"price\":");
                push_fixed2(b, price);
                b.extend_from_slice(b",\"volume\":");
                push_int(b, volume);
            }
            Event::Order {
                side, size, price, ..
            } => {
                b.extend_from_slice(b",\"side\":\"");
                b.extend_from_slice(side.as_str().as_bytes());
                b.extend_from_slice(b"\",\"size\":");
                push_int(b, size);
                b.extend_from_slice(b",\"price\":");
                push_fixed2(b, price);
            }
            Event::News { sym: s, headline } => {
                b.extend_from_slice(b",\"headline\":\"");
                if let Some(hl) = HEADLINES.get(usize::from(headline)) {
                    push_json_body(b, hl.before.as_bytes());
                    push_json_body(b, sym(s));
                    push_json_body(b, hl.after.as_bytes());
                }
                b.push(b'"');
            }
            Event::Spike { volume, .. } => {
                b.extend_from_slice(b",\"volume\":");
                push_int(b, volume);
            }
            Event::Alert {
                price, change_bp, ..
            } => {
                b.extend_from_slice(b",\"price\":");
                push_fixed2(b, price);
                b.extend_from_slice(b",\"change_pct\":");
                push_fixed2(b, i64::from(change_bp));
            }
            Event::Purchase(p) => {
                b.extend_from_slice(b",\"order_id\":\"");
                push_id(b, b"ORD", p.order, 10);
                b.extend_from_slice(b"\",\"customer\":\"");
                push_id(b, b"C", u64::from(p.customer), 7);
                b.extend_from_slice(b"\",\"category\":\"");
                b.extend_from_slice(category_name(p.category).as_bytes());
                b.extend_from_slice(b"\",\"city\":\"");
                b.extend_from_slice(city_name(p.city).as_bytes());
                b.extend_from_slice(b"\",\"amount\":");
                push_fixed2(b, p.amount);
                b.extend_from_slice(b",\"items\":");
                push_int(b, p.items);
                b.extend_from_slice(b",\"payment\":\"");
                b.extend_from_slice(payment_name(p.payment).as_bytes());
                b.push(b'"');
            }
        }
        b.extend_from_slice(b"}\n");
    }
}

/// The name of category `c`.
pub fn category_name(c: u8) -> &'static str {
    CATEGORIES.get(usize::from(c)).map_or("other", |c| c.0)
}

fn city_name(c: u8) -> &'static str {
    CITIES.get(usize::from(c)).copied().unwrap_or("Mumbai")
}

fn payment_name(p: u8) -> &'static str {
    PAYMENTS.get(usize::from(p)).copied().unwrap_or("upi")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut b = Vec::new();
        f(&mut b);
        String::from_utf8(b).expect("ascii")
    }

    #[test]
    fn fixed2_formats_money() {
        assert_eq!(text(|b| push_fixed2(b, 0)), "0.00");
        assert_eq!(text(|b| push_fixed2(b, 5)), "0.05");
        assert_eq!(text(|b| push_fixed2(b, -5)), "-0.05");
        assert_eq!(text(|b| push_fixed2(b, 250_005)), "2500.05");
        assert_eq!(text(|b| push_fixed2(b, -123_456)), "-1234.56");
        assert_eq!(text(|b| push_fixed2(b, 500_000)), "5000.00");
        assert_eq!(text(|b| push_fixed2(b, i64::MIN)), "-92233720368547758.08");
    }

    #[test]
    fn ids_are_zero_padded() {
        assert_eq!(text(|b| push_id(b, b"ORD", 42, 10)), "ORD0000000042");
        assert_eq!(text(|b| push_id(b, b"C", 1_234_567, 7)), "C1234567");
        assert_eq!(text(|b| push_id(b, b"C", 12_345_678, 7)), "C12345678");
    }

    #[test]
    fn timestamps_match_chrono() {
        let mut c = TsCache::new();
        let samples = [
            0i64,
            1,
            999,
            1_704_166_200_000,
            1_704_166_200_123,
            1_709_164_799_999, // 2024-02-28T23:59:59.999
            1_709_251_200_000, // 2024-03-01 (after the leap day)
            -1,
            -86_400_001,
            253_402_300_799_999, // 9999-12-31T23:59:59.999
            -62_167_219_200_000, // 0000-01-01T00:00:00.000
        ];
        let mut probe = 1_600_000_000_000i64;
        let mut all = samples.to_vec();
        for _ in 0..2000 {
            probe += 86_399_937;
            all.push(probe);
        }
        // Second by second across midnights, and back and forth between days.
        let mut t = 1_704_153_590_000i64; // 2024-01-01T23:59:50Z
        for _ in 0..200_000 {
            t += 777;
            all.push(t);
        }
        all.extend([t, 0, t, t - 86_400_000, t]);
        for ms in all {
            let want = DateTime::<Utc>::from_timestamp_millis(ms)
                .expect("in range")
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string();
            assert_eq!(c.format(ms), want, "{ms}");
        }
    }

    #[test]
    fn csv_rows_have_sixteen_columns_and_json_parses() {
        let symbols = vec!["TCS".to_owned()];
        let events = [
            Event::Trade {
                sym: 0,
                price: 384_105,
                volume: 120,
            },
            Event::Order {
                sym: 0,
                side: Side::Sell,
                size: 15_000,
                price: 384_100,
            },
            Event::News {
                sym: 0,
                headline: 15,
            },
            Event::Spike {
                sym: 0,
                volume: 900_000,
            },
            Event::Alert {
                sym: 0,
                price: 384_100,
                change_bp: -125,
            },
            Event::Purchase(Purchase {
                order: 7,
                customer: 42,
                category: 3,
                city: 5,
                amount: 49_900,
                items: 2,
                payment: 0,
            }),
        ];
        let mut w = Writer::new(Vec::new(), Format::Csv);
        w.header().expect("vec");
        for e in &events {
            w.event(1_704_166_200_123, e, &symbols).expect("vec");
        }
        w.finish().expect("vec");
        let out = String::from_utf8(w.out.clone()).expect("ascii");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 7);
        for l in &lines {
            assert_eq!(l.split(',').count(), 16, "{l}");
        }
        assert_eq!(
            lines[1],
            "Trade,2024-01-02T03:30:00.123Z,TCS,3841.05,120,,,,,,,,,,,"
        );
        assert_eq!(
            lines[2],
            "Order,2024-01-02T03:30:00.123Z,TCS,3841.00,,sell,15000,,,,,,,,,"
        );
        assert_eq!(
            lines[3],
            "News,2024-01-02T03:30:00.123Z,TCS,,,,,Record profit surge at TCS,,,,,,,,"
        );
        assert_eq!(
            lines[5],
            "PriceAlert,2024-01-02T03:30:00.123Z,TCS,3841.00,,,,,-1.25,,,,,,,"
        );
        assert_eq!(
            lines[6],
            "Purchase,2024-01-02T03:30:00.123Z,,,,,,,,ORD0000000007,C0000042,mobiles,Pune,499.00,2,upi"
        );

        let mut w = Writer::new(Vec::new(), Format::Jsonl);
        w.header().expect("vec");
        for e in &events {
            w.event(5, e, &symbols).expect("vec");
        }
        w.finish().expect("vec");
        let out = String::from_utf8(w.out.clone()).expect("ascii");
        let first = out.lines().next().expect("a line");
        assert_eq!(
            first,
            r#"{"type":"Trade","ts":"1970-01-01T00:00:00.005Z","symbol":"TCS","price":3841.05,"volume":120}"#
        );
        for l in out.lines() {
            let v: serde_json::Value = serde_json::from_str(l).expect("valid json");
            assert!(v["type"].is_string() && v["ts"].is_string(), "{l}");
        }
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(text(|b| push_csv_str(b, b"a,b")), "\"a,b\"");
        assert_eq!(
            text(|b| push_csv_str(b, b"say \"hi\"")),
            "\"say \"\"hi\"\"\""
        );
        assert_eq!(text(|b| push_csv_str(b, b"plain")), "plain");
        assert_eq!(
            text(|b| push_json_str(b, b"a\"b\\c\nd")),
            r#""a\"b\\c\u000ad""#
        );
    }
}
