//! Cell text to typed values, and the schema readers convert against.

use crate::time::{TsFormat, parse_duration_ns, shorten};
use dalal::dalal_lang::typed::{TypeId, ValueType};
use dalal::{Program, Value};
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
    /// it beats hashing for them).
    pub(crate) fn type_by_bytes(&self, name: &[u8]) -> Option<TypeId> {
        self.types
            .iter()
            .position(|t| t.name.as_bytes() == name)
            .map(TypeId::from_index)
    }
}

/// Most distinct strings cached per field; beyond it a field is assumed to
/// hold free text (headlines, ids) and its values are no longer interned.
const INTERN_LIMIT: usize = 4096;
/// Longer strings are never interned.
const INTERN_MAX_LEN: usize = 64;

/// Shares the `Arc<str>` of repeated string values (symbols, sides), so a
/// stream of a few hundred symbols allocates a few hundred strings.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    map: HashMap<Box<[u8]>, Arc<str>>,
    full: bool,
}

impl Interner {
    fn get(&mut self, s: &str) -> Arc<str> {
        if s.len() > INTERN_MAX_LEN {
            return Arc::from(s);
        }
        if let Some(a) = self.map.get(s.as_bytes()) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        if !self.full {
            self.map.insert(s.as_bytes().into(), a.clone());
            self.full = self.map.len() >= INTERN_LIMIT;
        }
        a
    }
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
    fn interner_shares_and_stops_at_limit() {
        let mut i = Interner::default();
        let a = i.get("TCS");
        let b = i.get("TCS");
        assert!(Arc::ptr_eq(&a, &b));
        for n in 0..INTERN_LIMIT + 10 {
            i.get(&n.to_string());
        }
        assert!(i.map.len() <= INTERN_LIMIT);
        let long = "y".repeat(INTERN_MAX_LEN + 1);
        assert!(!Arc::ptr_eq(&i.get(&long), &i.get(&long)));
    }
}
