//! Cell text to typed values, and the schema readers convert against.

use crate::time::{TimeCache, TsFormat, parse_duration_ns, shorten};
use dalal::dalal_lang::typed::{TypeId, ValueType};
use dalal::{Program, Value, short_key};
use hashbrown::HashMap;
use std::sync::Arc;

/// The event types of a program as readers see them: names and the fields
/// of each type in slot order with their declared types.
#[derive(Clone, Debug)]
pub struct Schema {
    pub(crate) types: Vec<TypeSchema>,
}

#[derive(Clone, Debug)]
pub(crate) struct TypeSchema {
    pub name: String,
    pub fields: Vec<(String, ValueType)>,
}

impl Schema {
    /// The schema of a compiled program.
    pub fn of(program: &Program) -> Schema {
        Schema {
            types: program
                .checked()
                .types
                .iter()
                .map(|t| TypeSchema {
                    name: t.name.clone(),
                    fields: t
                        .fields
                        .iter()
                        .map(|f| (f.name.clone(), f.ty.into()))
                        .collect(),
                })
                .collect(),
        }
    }

    /// Looks a type name up (a linear scan: programs declare few types and
    /// it beats hashing for them; comparing two-word keys instead of bytes
    /// cost more than the `memcmp` calls it saved).
    pub(crate) fn type_by_bytes(&self, name: &[u8]) -> Option<TypeId> {
        self.types
            .iter()
            .position(|t| t.name.as_bytes() == name)
            .map(TypeId::from_index)
    }
}

/// Distinct strings cached per field before the field must show that its
/// values repeat; see [`Interner::keeps_new`].
const INTERN_LIMIT: usize = 4096;
/// Distinct strings cached per field at most.
const INTERN_MAX: usize = 1 << 16;
/// Longer strings are never interned.
const INTERN_MAX_LEN: usize = 64;

/// Shares the `Arc<str>` of repeated string values (symbols, sides), so a
/// stream of a few hundred symbols allocates a few hundred strings.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    /// Strings of at most [`dalal::SHORT_KEY_LEN`] bytes (symbols, sides, cities: most
    /// of them), keyed by their bytes packed in two words: a lookup hashes
    /// and compares two integers, where hashing and comparing a byte slice
    /// (a `memcmp` call) cost about twice as much per cell.
    short: HashMap<(u64, u64), Arc<str>>,
    map: HashMap<Box<[u8]>, Arc<str>>,
    /// Lookups that found their value.
    hits: u64,
}

impl Interner {
    /// The shared string for `bytes`; a repeated value is found by its
    /// bytes alone, so only a new value pays for UTF-8 validation.
    pub(crate) fn get_bytes(&mut self, bytes: &[u8]) -> Result<Arc<str>, std::str::Utf8Error> {
        let key = short_key(bytes);
        if let Some(k) = key {
            if let Some(a) = self.short.get(&k) {
                self.hits += 1;
                return Ok(a.clone());
            }
        } else if bytes.len() <= INTERN_MAX_LEN {
            if let Some(a) = self.map.get(bytes) {
                self.hits += 1;
                return Ok(a.clone());
            }
        }
        let a: Arc<str> = Arc::from(std::str::from_utf8(bytes)?);
        if self.keeps_new() {
            match key {
                Some(k) => {
                    self.short.insert(k, a.clone());
                }
                None if bytes.len() <= INTERN_MAX_LEN => {
                    self.map.insert(bytes.into(), a.clone());
                }
                // Longer strings are never kept.
                None => {}
            }
        }
        Ok(a)
    }

    /// Whether a new value is cached. Up to [`INTERN_LIMIT`] values always;
    /// beyond, only while the values found outnumber the ones cached four
    /// to one, so a field of symbols keeps interning past the limit (5,000
    /// symbols: a fifth of them were allocated anew at every event and
    /// compared byte by byte as partition keys) while free text (headlines,
    /// order ids) stops at it. At most [`INTERN_MAX`].
    fn keeps_new(&self) -> bool {
        let n = self.short.len() + self.map.len();
        n < INTERN_LIMIT || (n < INTERN_MAX && self.hits >= 4 * n as u64)
    }

    fn get(&mut self, s: &str) -> Arc<str> {
        self.get_bytes(s.as_bytes())
            .unwrap_or_else(|_| Arc::from(s))
    }
}

/// Converts the common spellings of one non-empty cell without UTF-8
/// validation or trimming: plain integers, plain decimals that convert
/// exactly, the strict form of the event-time format. `None`: take the
/// general path ([`convert`]), which also gives the error.
pub(crate) fn convert_fast(
    bytes: &[u8],
    ty: ValueType,
    ts_format: &TsFormat,
    interner: &mut Interner,
) -> Option<Value> {
    match ty {
        ValueType::String => interner.get_bytes(bytes).ok().map(Value::Str),
        ValueType::Int => parse_int(bytes).map(Value::Int),
        ValueType::Float => parse_float(bytes).map(Value::Float),
        ValueType::Timestamp => ts_format
            .parse_time_fast(bytes, &mut TimeCache::default())
            .map(Value::Timestamp),
        _ => None,
    }
}

/// An optionally signed run of at most 19 ASCII digits that fits an `i64`.
pub(crate) fn parse_int(bytes: &[u8]) -> Option<i64> {
    let (neg, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, bytes),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        let d = d.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        // 19 digits stay below u64::MAX.
        v = v * 10 + u64::from(d);
    }
    if neg {
        0i64.checked_sub_unsigned(v)
    } else {
        i64::try_from(v).ok()
    }
}

/// Exact powers of ten as `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `[+-]digits[.digits]` whose digits make an integer of at most 2^53 and
/// whose fraction has at most 22 digits: both are exact doubles, so one
/// division rounds correctly and the result equals `str::parse::<f64>`.
pub(crate) fn parse_float(bytes: &[u8]) -> Option<f64> {
    let (neg, rest) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, bytes),
    };
    let mut m: u64 = 0;
    let mut digits = 0usize;
    let mut frac: Option<usize> = None;
    for &b in rest {
        if b == b'.' {
            if frac.is_some() {
                return None;
            }
            frac = Some(digits);
            continue;
        }
        let d = b.wrapping_sub(b'0');
        if d > 9 || digits >= 19 {
            return None;
        }
        m = m * 10 + u64::from(d);
        digits += 1;
    }
    let scale = digits - frac.unwrap_or(digits);
    if digits == 0 || m > 1 << 53 || scale >= POW10.len() {
        return None;
    }
    let v = m as f64 / POW10[scale];
    Some(if neg { -v } else { v })
}

/// Converts one non-empty cell to a value of the declared type. The error is
/// the reason only (the reader adds file, line and column).
pub(crate) fn convert(
    text: &str,
    ty: ValueType,
    ts_format: &TsFormat,
    interner: &mut Interner,
) -> Result<Value, String> {
    let bad = || format!("expected {ty}, found '{}'", shorten(text));
    match ty {
        ValueType::String => Ok(Value::Str(interner.get(text))),
        ValueType::Int => text
            .trim()
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| bad()),
        ValueType::Float => text
            .trim()
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| bad()),
        ValueType::Bool => {
            let t = text.trim();
            if t.eq_ignore_ascii_case("true") || t == "1" {
                Ok(Value::Bool(true))
            } else if t.eq_ignore_ascii_case("false") || t == "0" {
                Ok(Value::Bool(false))
            } else {
                Err(bad())
            }
        }
        ValueType::Timestamp => ts_format.parse_time(text).map(Value::Timestamp),
        ValueType::Duration => parse_duration_ns(text)
            .map(Value::Duration)
            .map_err(|_| bad()),
        // Declared fields never have these types.
        ValueType::Null | ValueType::StringList | ValueType::List => Err(bad()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use dalal::SHORT_KEY_LEN;

    fn conv(text: &str, ty: ValueType) -> Result<Value, String> {
        convert(text, ty, &TsFormat::Rfc3339, &mut Interner::default())
    }

    #[test]
    fn conversions() {
        assert_eq!(conv("42", ValueType::Int), Ok(Value::Int(42)));
        assert_eq!(conv(" -7 ", ValueType::Int), Ok(Value::Int(-7)));
        assert_eq!(conv("3", ValueType::Float), Ok(Value::Float(3.0)));
        assert_eq!(conv("2.5e1", ValueType::Float), Ok(Value::Float(25.0)));
        assert_eq!(conv("TRUE", ValueType::Bool), Ok(Value::Bool(true)));
        assert_eq!(conv("0", ValueType::Bool), Ok(Value::Bool(false)));
        assert_eq!(conv("TCS", ValueType::String), Ok(Value::str("TCS")));
        assert_eq!(
            conv("1500", ValueType::Duration),
            Ok(Value::Duration(1_500_000_000))
        );
        assert_eq!(
            conv("2s", ValueType::Duration),
            Ok(Value::Duration(2_000_000_000))
        );
        assert_eq!(
            conv("1970-01-01T00:00:01Z", ValueType::Timestamp),
            Ok(Value::Timestamp(dalal::EventTime::from_millis(1000)))
        );
    }

    #[test]
    fn conversion_errors_name_type_and_text() {
        assert_eq!(
            conv("abc", ValueType::Float),
            Err("expected FLOAT, found 'abc'".to_string())
        );
        assert_eq!(
            conv("4.5", ValueType::Int),
            Err("expected INT, found '4.5'".to_string())
        );
        assert_eq!(
            conv("99999999999999999999", ValueType::Int),
            Err("expected INT, found '99999999999999999999'".to_string())
        );
        assert!(conv("yes", ValueType::Bool).unwrap_err().contains("BOOL"));
        assert!(
            conv("soon", ValueType::Duration)
                .unwrap_err()
                .contains("DURATION")
        );
        assert!(
            conv("x".repeat(100).as_str(), ValueType::Int)
                .unwrap_err()
                .ends_with("...'")
        );
    }

    #[test]
    fn fast_paths_agree_with_the_general_one() {
        let mut x: u64 = 3;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 11
        };
        let mut texts: Vec<String> = [
            "0",
            "-0",
            "+7",
            "-0.0",
            "5.",
            ".5",
            ".",
            "-",
            "+",
            "",
            "1.2.3",
            "1e5",
            " 1",
            "1 ",
            "007",
            "9007199254740992",
            "9007199254740993",
            "0.1",
            "2442.10",
            "-1503.45",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "99999999999999999999",
            "0.0000000000000000000001",
            "0.00000000000000000000001",
            "12345678901234567.8",
            "inf",
            "NaN",
            "1_000",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for _ in 0..20_000 {
            let r = next();
            let int = (r % 10_000_000_000) as i64 - 5_000_000_000;
            let scale = (r >> 40) % 12;
            let s = int.to_string();
            texts.push(s.clone());
            if scale > 0 && s.trim_start_matches('-').len() > scale as usize {
                let (a, b) = s.split_at(s.len() - scale as usize);
                texts.push(format!("{a}.{b}"));
            }
        }
        let ts = TsFormat::Rfc3339;
        for t in &texts {
            for ty in [ValueType::Int, ValueType::Float] {
                if let Some(v) = convert_fast(t.as_bytes(), ty, &ts, &mut Interner::default()) {
                    let want = conv(t, ty).unwrap();
                    // Bitwise, so -0.0 and 0.0 differ.
                    assert_eq!(format!("{v:?}"), format!("{want:?}"), "{t} as {ty}");
                    if let (Value::Float(a), Value::Float(b)) = (&v, &want) {
                        assert_eq!(a.to_bits(), b.to_bits(), "{t}");
                    }
                }
            }
        }
        assert_eq!(parse_float(b"2442.10"), Some(2442.1));
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int(b"9223372036854775808"), None);
        assert_eq!(parse_float(b"1e5"), None);
    }

    #[test]
    fn interned_bytes_give_equal_shared_values() {
        let mut i = Interner::default();
        let a = i.get_bytes(b"RELIANCE").unwrap();
        let b = i.get_bytes(b"RELIANCE").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*a, "RELIANCE");
        assert_eq!(i.get("RELIANCE"), a);
        assert!(i.get_bytes(b"\xffx").is_err());
        // Bad bytes are never cached.
        assert!(i.get_bytes(b"\xffx").is_err());
    }

    /// Strings that differ only in trailing NULs or in length, on both
    /// sides of the packed-key limit, stay apart; each is shared.
    #[test]
    fn short_keys_tell_strings_apart() {
        let mut i = Interner::default();
        let mut texts: Vec<String> = vec![String::new()];
        for n in 1..=SHORT_KEY_LEN + 2 {
            texts.push("a".repeat(n));
            texts.push(format!("a{}", "\0".repeat(n - 1)));
            texts.push(format!("{}\u{e9}", "z".repeat(n.saturating_sub(2))));
        }
        texts.sort();
        texts.dedup();
        let first: Vec<Arc<str>> = texts.iter().map(|t| i.get(t)).collect();
        for (t, a) in texts.iter().zip(&first) {
            assert_eq!(&**a, t.as_str());
            assert!(Arc::ptr_eq(a, &i.get(t)), "{t:?} is shared");
        }
        assert_eq!(i.short.len() + i.map.len(), texts.len());
        assert!(i.short.len() > texts.len() / 2);
        assert!(short_key(&[b'x'; SHORT_KEY_LEN + 1]).is_none());
    }

    #[test]
    fn interner_shares_and_stops_at_limit() {
        let mut i = Interner::default();
        let a = i.get("TCS");
        let b = i.get("TCS");
        assert!(Arc::ptr_eq(&a, &b));
        for n in 0..INTERN_LIMIT + 10 {
            i.get(&n.to_string());
        }
        assert!(i.short.len() + i.map.len() <= INTERN_LIMIT);
        let long = "y".repeat(INTERN_MAX_LEN + 1);
        assert!(!Arc::ptr_eq(&i.get(&long), &i.get(&long)));
    }

    /// Values that repeat (5,000 symbols, round after round) are all
    /// interned past `INTERN_LIMIT`; a field of new values stops there.
    #[test]
    fn repeated_values_are_interned_past_the_limit() {
        let mut i = Interner::default();
        let symbols: Vec<String> = (0..5000).map(|n| format!("SYM{n:04}")).collect();
        for _ in 0..6 {
            for s in &symbols {
                i.get(s);
            }
        }
        for s in &symbols {
            assert!(Arc::ptr_eq(&i.get(s), &i.get(s)), "{s} is not interned");
        }
        let mut ids = Interner::default();
        for n in 0..3 * INTERN_LIMIT {
            ids.get(&format!("ORD{n:010}"));
        }
        assert_eq!(ids.short.len() + ids.map.len(), INTERN_LIMIT);
    }
}
