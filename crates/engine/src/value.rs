//! Values, event time and events.

use crate::program::Program;
use dalal_lang::typed::{TypeId, ValueType};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

/// A point in event time: nanoseconds since the Unix epoch (UTC), totally ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EventTime(pub i64);

impl EventTime {
    /// The earliest representable time (the initial watermark).
    pub const MIN: EventTime = EventTime(i64::MIN);
    /// The latest representable time (the watermark after [`crate::Engine::finish`]).
    pub const MAX: EventTime = EventTime(i64::MAX);

    /// From nanoseconds since the epoch.
    pub const fn from_nanos(ns: i64) -> Self {
        EventTime(ns)
    }

    /// From milliseconds since the epoch (saturating).
    pub const fn from_millis(ms: i64) -> Self {
        EventTime(ms.saturating_mul(1_000_000))
    }

    /// From seconds since the epoch (saturating).
    pub const fn from_secs(s: i64) -> Self {
        EventTime(s.saturating_mul(1_000_000_000))
    }

    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// Milliseconds since the epoch (rounded towards negative infinity).
    pub const fn as_millis(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }
}

impl fmt::Display for EventTime {
    /// RFC 3339 UTC with milliseconds (more digits when the value has them).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(1_000_000_000);
        let nanos = self.0.rem_euclid(1_000_000_000) as u32;
        match chrono::DateTime::from_timestamp(secs, nanos) {
            Some(dt) => {
                let fmt = if nanos % 1_000_000 == 0 {
                    chrono::SecondsFormat::Millis
                } else if nanos % 1_000 == 0 {
                    chrono::SecondsFormat::Micros
                } else {
                    chrono::SecondsFormat::Nanos
                };
                f.write_str(&dt.to_rfc3339_opts(fmt, true))
            }
            None => write!(f, "{}ns", self.0),
        }
    }
}

/// A field value.
///
/// Equality is structural (`Float(NaN) != Float(NaN)`, as in IEEE 754); the
/// language's comparison operators are three-valued and live in the evaluator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// SQL NULL: a missing or unknown value.
    Null,
    /// 64-bit signed integer.
    Int(i64),
    /// 64-bit float.
    Float(#[serde(with = "float_serde")] f64),
    /// UTF-8 string (cheap to clone).
    Str(Arc<str>),
    /// Boolean.
    Bool(bool),
    /// A point in event time.
    Timestamp(EventTime),
    /// A length of time in nanoseconds.
    Duration(i64),
}

impl Value {
    /// A string value.
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    /// True for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The language type of this value ([`ValueType::Null`] for NULL).
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Null => ValueType::Null,
            Value::Int(_) => ValueType::Int,
            Value::Float(_) => ValueType::Float,
            Value::Str(_) => ValueType::String,
            Value::Bool(_) => ValueType::Bool,
            Value::Timestamp(_) => ValueType::Timestamp,
            Value::Duration(_) => ValueType::Duration,
        }
    }

    /// Converts to the declared type of a field: identity when it already has
    /// it, `INT` promoted to `FLOAT`, NULL always accepted; `None` otherwise.
    pub fn coerce(self, ty: ValueType) -> Option<Value> {
        match (self, ty) {
            (Value::Null, _) => Some(Value::Null),
            (Value::Int(i), ValueType::Float) => Some(Value::Float(i as f64)),
            (v, t) if v.value_type() == t => Some(v),
            _ => None,
        }
    }

    /// A total order used for sorting and grouping (not the language's `<`):
    /// NULL first, then by type, floats by IEEE total order.
    pub fn total_cmp(&self, other: &Value) -> Ordering {
        fn rank(v: &Value) -> u8 {
            match v {
                Value::Null => 0,
                Value::Bool(_) => 1,
                Value::Int(_) => 2,
                Value::Float(_) => 3,
                Value::Str(_) => 4,
                Value::Timestamp(_) => 5,
                Value::Duration(_) => 6,
            }
        }
        match (self, other) {
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Int(a), Value::Int(b)) => a.cmp(b),
            (Value::Float(a), Value::Float(b)) => a.total_cmp(b),
            (Value::Str(a), Value::Str(b)) => a.cmp(b),
            (Value::Timestamp(a), Value::Timestamp(b)) => a.cmp(b),
            (Value::Duration(a), Value::Duration(b)) => a.cmp(b),
            (a, b) => rank(a).cmp(&rank(b)),
        }
    }
}

impl Default for Value {
    /// NULL.
    fn default() -> Self {
        Value::Null
    }
}

impl fmt::Display for Value {
    /// NULL as `null`, strings unquoted, durations in milliseconds, timestamps RFC 3339.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => f.write_str(s),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Timestamp(t) => write!(f, "{t}"),
            Value::Duration(d) => {
                if d % 1_000_000 == 0 {
                    write!(f, "{}", d / 1_000_000)
                } else {
                    write!(f, "{}", *d as f64 / 1e6)
                }
            }
        }
    }
}

/// A partition key: the `PARTITION BY` values of one event, hashable.
///
/// Floats group by bit pattern (with `-0.0` folded into `0.0`), NULL is a
/// key value like any other (SQL `GROUP BY` behaviour).
///
/// Inline for one value (the common `PARTITION BY symbol`): a key is made
/// for every partition a key starts or wakes, and its allocation and free
/// showed in profiles over many keys. Serialized as a sequence, as before.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Key(pub(crate) smallvec::SmallVec<[Value; 1]>);

impl Key {
    /// The key of a borrowed key slice. One value (the common key) is
    /// moved into the inline buffer at once: collecting the slice, as
    /// `From<&[T]>` does, cost ~75 instructions per partition made or
    /// reset (a quarter of a million over 200,000 rows of the library over
    /// 5,000 symbols).
    pub(crate) fn of(key: &[Value]) -> Key {
        match key {
            [v] => Key(smallvec::SmallVec::from_buf([v.clone()])),
            _ => Key(key.iter().cloned().collect()),
        }
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.0.len() == other.0.len()
            && self.0.iter().zip(other.0.iter()).all(|(a, b)| key_eq(a, b))
    }
}

impl Eq for Key {}

/// Key equality (`Key`'s `Eq`): FLOATs by normalized bits, strings by
/// pointer first ([`key_eq_noting`]).
#[inline]
pub(crate) fn key_eq(a: &Value, b: &Value) -> bool {
    key_eq_noting(a, b, &mut false)
}

/// [`key_eq`], setting `by_value` when the values are equal but not the
/// same string allocation (the engine's partition probe then adopts the
/// event's string, see `adopt_key`). The pointer test is inlined (most
/// probes end there: the reader interns symbols), the rest is a call.
#[inline]
pub(crate) fn key_eq_noting(a: &Value, b: &Value, by_value: &mut bool) -> bool {
    if let (Value::Str(x), Value::Str(y)) = (a, b) {
        if Arc::ptr_eq(x, y) {
            return true;
        }
    }
    let eq = key_eq_by_value(a, b);
    *by_value |= eq;
    eq
}

#[inline(never)]
fn key_eq_by_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => norm_bits(*x) == norm_bits(*y),
        // Interned by the reader: the same string is mostly the same
        // allocation (tested above), and `Arc`'s `==` compared the bytes
        // (a `memcmp` per event); these are equal strings of two
        // allocations (another type's interner) or different strings.
        (Value::Str(x), Value::Str(y)) => x == y,
        _ => a == b,
    }
}

fn norm_bits(x: f64) -> u64 {
    if x == 0.0 { 0 } else { x.to_bits() }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_values(&self.0, state);
    }
}

fn hash_values<H: Hasher>(values: &[Value], state: &mut H) {
    for v in values {
        std::mem::discriminant(v).hash(state);
        match v {
            Value::Null => {}
            Value::Int(i) => i.hash(state),
            Value::Float(x) => norm_bits(*x).hash(state),
            Value::Str(s) => s.hash(state),
            Value::Bool(b) => b.hash(state),
            Value::Timestamp(t) => t.hash(state),
            Value::Duration(d) => d.hash(state),
        }
    }
}

/// The hash of a partition key as the engine's partition index keeps it
/// (every place that hashes a key for the index calls this, so they agree;
/// the io crate shards one-field keys by it too). Equal keys (floats by
/// bit pattern, `-0.0 == 0.0`) hash alike.
///
/// A key of one string of at most [`SHORT_KEY_LEN`] bytes (a symbol, a
/// customer id) is hashed as its [`short_key`], two words that hold its
/// bytes and length: hashing the bytes as a stream cost ~84 instructions a
/// key, 2% of the library. Other keys hash their values in order.
pub fn key_hash(hasher: &impl BuildHasher, key: &[Value]) -> u64 {
    if let [Value::Str(s)] = key {
        if let Some(words) = short_key(s.as_bytes()) {
            return hasher.hash_one(words);
        }
    }
    hasher.hash_one(KeyRef(key))
}

/// Longest string [`short_key`] packs: its bytes and its length fill two
/// words.
pub const SHORT_KEY_LEN: usize = 15;

/// `bytes` (at most [`SHORT_KEY_LEN`]) and their length as two words: equal
/// keys are equal strings (the length tells `"a"` from `"a\0"`). Byte `i`
/// of the string is byte `i % 8` of word `i / 8` (little-endian), the rest
/// is zero, and the length is the second word's top byte.
///
/// Read with fixed-size loads that may overlap (the overlapping bytes are
/// the same on both sides): copying a string of variable length into a
/// zeroed 16-byte buffer was a `memcpy` call per cell.
pub fn short_key(bytes: &[u8]) -> Option<(u64, u64)> {
    let n = bytes.len();
    let word = |at: usize| -> Option<u64> {
        Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
    };
    let half = |at: usize| -> Option<u64> {
        Some(u64::from(u32::from_le_bytes(
            bytes.get(at..at + 4)?.try_into().ok()?,
        )))
    };
    let (lo, hi) = match n {
        0..=3 => (
            bytes
                .iter()
                .enumerate()
                .fold(0u64, |v, (i, &b)| v | u64::from(b) << (8 * i)),
            0,
        ),
        4..=7 => (half(0)? | half(n - 4)? << (8 * (n - 4)), 0),
        8 => (word(0)?, 0),
        // The last eight bytes, shifted down past the ones the first word holds.
        9..=SHORT_KEY_LEN => (word(0)?, word(n - 8)? >> (8 * (16 - n))),
        _ => return None,
    };
    Some((lo, hi | (n as u64) << 56))
}

/// A borrowed partition key, to look a [`Key`] up without allocating.
pub(crate) struct KeyRef<'a>(pub(crate) &'a [Value]);

impl Hash for KeyRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_values(self.0, state);
    }
}

impl hashbrown::Equivalent<Key> for KeyRef<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        self.0.len() == key.0.len() && self.0.iter().zip(key.0.iter()).all(|(a, b)| key_eq(a, b))
    }
}

/// One input event: its type, event time and declared fields in slot order.
///
/// Cloning is cheap (the fields are shared).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The event type.
    pub ty: TypeId,
    /// Event time.
    pub ts: EventTime,
    /// Declared fields, in declaration (slot) order.
    pub fields: Arc<[Value]>,
}

/// Why an event does not fit the program's schema.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EventError {
    /// No `EVENT` declaration has this name.
    #[error("unknown event type `{0}`")]
    UnknownType(String),
    /// The type id is not one of the program's types.
    #[error("event type id {0} is not declared in the program")]
    BadTypeId(u32),
    /// Wrong number of fields.
    #[error("event type `{ty}` has {expected} fields, {found} given")]
    FieldCount {
        /// The event type.
        ty: String,
        /// Declared fields.
        expected: usize,
        /// Given values.
        found: usize,
    },
    /// A value of the wrong type.
    #[error("field `{field}` of `{ty}` is {expected}, found a {found} value")]
    FieldType {
        /// The event type.
        ty: String,
        /// The field.
        field: String,
        /// Its declared type.
        expected: ValueType,
        /// The type of the value given.
        found: ValueType,
    },
}

impl Event {
    /// Builds an event of the named type, checking the values against the
    /// declaration: the count must match, an `INT` given for a `FLOAT` field
    /// is promoted, NULL fits any field.
    ///
    /// ```
    /// use dalal::{Event, EventTime, Program, Value};
    /// let program = Program::compile("EVENT Trade (symbol STRING, price FLOAT);").unwrap();
    /// let e = Event::new(&program, "Trade", EventTime::from_millis(1_000),
    ///     vec![Value::str("TCS"), Value::Int(10)]).unwrap();
    /// assert_eq!(e.fields[1], Value::Float(10.0));
    /// assert!(Event::new(&program, "Trade", EventTime::from_millis(0),
    ///     vec![Value::Int(1), Value::Float(1.0)]).is_err());
    /// ```
    pub fn new(
        program: &Program,
        type_name: &str,
        ts: EventTime,
        fields: Vec<Value>,
    ) -> Result<Event, EventError> {
        let ty = program
            .type_id(type_name)
            .ok_or_else(|| EventError::UnknownType(type_name.to_string()))?;
        Event::with_type(program, ty, ts, fields)
    }

    /// Like [`Event::new`] with a type id.
    pub fn with_type(
        program: &Program,
        ty: TypeId,
        ts: EventTime,
        fields: Vec<Value>,
    ) -> Result<Event, EventError> {
        let decl = program
            .checked()
            .types
            .get(ty.index())
            .ok_or(EventError::BadTypeId(ty.0))?;
        if decl.fields.len() != fields.len() {
            return Err(EventError::FieldCount {
                ty: decl.name.clone(),
                expected: decl.fields.len(),
                found: fields.len(),
            });
        }
        let mut out = Vec::with_capacity(fields.len());
        for (v, f) in fields.into_iter().zip(decl.fields.iter()) {
            let want: ValueType = f.ty.into();
            let found = v.value_type();
            match v.coerce(want) {
                Some(v) => out.push(v),
                None => {
                    return Err(EventError::FieldType {
                        ty: decl.name.clone(),
                        field: f.name.clone(),
                        expected: want,
                        found,
                    });
                }
            }
        }
        Ok(Event {
            ty,
            ts,
            fields: out.into(),
        })
    }

    /// Builds an event without checking it against a schema.
    /// [`crate::Engine::push`] still rejects a type id or field count that
    /// does not fit its program; values of the wrong type evaluate as in SQL
    /// (comparisons between different types are unknown).
    pub fn from_parts(ty: TypeId, ts: EventTime, fields: Vec<Value>) -> Event {
        Event {
            ty,
            ts,
            fields: fields.into(),
        }
    }
}

/// An `f64` in a snapshot. JSON has no number for NaN or the infinities
/// (the readers accept them, FORMATS.md), and `serde_json` would write them
/// as `null`, which does not load back: in a human-readable format they
/// are the strings `"NaN"`, `"inf"` and `"-inf"`; every finite value stays
/// a number, so snapshots written before load as they did.
pub(crate) mod float_serde {
    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        if x.is_finite() || !s.is_human_readable() {
            s.serialize_f64(*x)
        } else if x.is_nan() {
            s.serialize_str("NaN")
        } else if *x > 0.0 {
            s.serialize_str("inf")
        } else {
            s.serialize_str("-inf")
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        struct F;
        impl Visitor<'_> for F {
            type Value = f64;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number, or \"NaN\", \"inf\" or \"-inf\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
                Ok(v)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
                Ok(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
                Ok(v as f64)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
                match v {
                    "NaN" => Ok(f64::NAN),
                    "inf" => Ok(f64::INFINITY),
                    "-inf" => Ok(f64::NEG_INFINITY),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        if d.is_human_readable() {
            d.deserialize_any(F)
        } else {
            d.deserialize_f64(F)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// What `short_key` computes, written the plain way: the bytes copied
    /// into a zeroed 16-byte buffer whose last byte is the length.
    fn short_key_by_copy(bytes: &[u8]) -> Option<(u64, u64)> {
        let mut b = [0u8; 16];
        b.get_mut(..bytes.len())?.copy_from_slice(bytes);
        b[15] = u8::try_from(bytes.len())
            .ok()
            .filter(|&n| usize::from(n) <= SHORT_KEY_LEN)?;
        let (lo, hi) = b.split_at(8);
        Some((
            u64::from_le_bytes(lo.try_into().ok()?),
            u64::from_le_bytes(hi.try_into().ok()?),
        ))
    }

    #[test]
    fn short_keys_are_the_bytes_and_the_length() {
        // Every length up to past the limit, with bytes that differ at
        // every position (a key that dropped or shifted one would collide).
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for n in 0..=SHORT_KEY_LEN + 2 {
            for _ in 0..50 {
                let bytes: Vec<u8> = (0..n)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        seed.to_le_bytes()[3]
                    })
                    .collect();
                assert_eq!(short_key(&bytes), short_key_by_copy(&bytes), "{bytes:?}");
            }
            for b in [0u8, 0xff] {
                let bytes = vec![b; n];
                assert_eq!(short_key(&bytes), short_key_by_copy(&bytes), "{bytes:?}");
            }
        }
    }

    /// Equal keys hash alike whatever their allocation, short or long, and
    /// a short string's hash is not its byte-stream hash (the fast path is
    /// taken).
    #[test]
    fn key_hash_follows_the_value() {
        let h = hashbrown::DefaultHashBuilder::default();
        for s in [
            "",
            "A",
            "SYM0060",
            "INDUSINDBK",
            "fifteen_bytes_x",
            "sixteen_bytes_xx",
        ] {
            let (a, b) = (Value::str(s), Value::str(s));
            let a = std::slice::from_ref(&a);
            assert_eq!(key_hash(&h, a), key_hash(&h, &[b]), "{s}");
            let stream = h.hash_one(KeyRef(a));
            assert_eq!(key_hash(&h, a) == stream, s.len() > SHORT_KEY_LEN, "{s}");
        }
        let two = [Value::str("A"), Value::Int(1)];
        assert_eq!(key_hash(&h, &two), h.hash_one(KeyRef(&two)));
    }
}
