//! Message values to events, with the file readers' conversion code.
//!
//! A JSON value goes through one long-lived `dalal-io` JSON Lines reader fed
//! one line per message (so interning and the per-type field tables are
//! built once); a CSV value is one headerless record read with `--columns`.

use dalal::Event;
use dalal_io::{EventReader, Format, ReadError, ReaderOptions, Schema};
use std::io::Read;
use std::sync::{Arc, Mutex};

/// Message value formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueFormat {
    /// One JSON object per message (the JSON Lines mapping).
    Json,
    /// One CSV record per message, columns named by [`ReaderOptions::columns`].
    Csv,
}

/// Why a message is not an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// The field at fault, when one is.
    pub column: Option<String>,
    /// What is wrong (the same text as `dalal run` prints for a bad row).
    pub reason: String,
}

impl Malformed {
    fn new(reason: impl Into<String>) -> Self {
        Malformed {
            column: None,
            reason: reason.into(),
        }
    }

    /// `column 'price': expected FLOAT, found 'abc'`.
    pub fn describe(&self) -> String {
        match &self.column {
            Some(c) => format!("column '{c}': {}", self.reason),
            None => self.reason.clone(),
        }
    }
}

/// Bytes handed to the JSON reader one message at a time. Reading past
/// them returns 0 (end of input), which the reader treats as "no more rows
/// for now"; the next message is appended before the next read.
#[derive(Clone, Default)]
struct Feed(Arc<Mutex<(Vec<u8>, usize)>>);

impl Feed {
    fn set(&self, bytes: &[u8]) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        g.0.clear();
        g.0.extend_from_slice(bytes);
        g.0.push(b'\n');
        g.1 = 0;
    }
}

impl Read for Feed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (data, pos) = &mut *g;
        let n = buf.len().min(data.len() - *pos);
        buf[..n].copy_from_slice(&data[*pos..*pos + n]);
        *pos += n;
        Ok(n)
    }
}

enum Kind {
    Json {
        feed: Feed,
        reader: Box<dyn EventReader>,
    },
    Csv {
        schema: Schema,
        options: ReaderOptions,
    },
}

/// Decodes message values against the schema of a program.
pub struct Decoder {
    kind: Kind,
    unknown: u64,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("unknown", &self.unknown)
            .finish_non_exhaustive()
    }
}

impl Decoder {
    /// A decoder; the options are checked against the schema at once (a CSV
    /// decoder needs `columns` holding the type and time columns).
    pub fn new(
        format: ValueFormat,
        schema: &Schema,
        options: &ReaderOptions,
    ) -> Result<Decoder, String> {
        let kind = match format {
            ValueFormat::Json => {
                let feed = Feed::default();
                let reader =
                    dalal_io::reader(Box::new(feed.clone()), Format::Jsonl, schema, options)
                        .map_err(|e| e.to_string())?;
                Kind::Json { feed, reader }
            }
            ValueFormat::Csv => {
                if options.columns.is_none() {
                    return Err(
                        "CSV message values have no header: name the columns with --columns"
                            .to_string(),
                    );
                }
                // Opening a reader over nothing checks the columns.
                dalal_io::reader(Box::new(std::io::empty()), Format::Csv, schema, options)
                    .map_err(|e| e.to_string())?;
                Kind::Csv {
                    schema: schema.clone(),
                    options: options.clone(),
                }
            }
        };
        Ok(Decoder { kind, unknown: 0 })
    }

    /// Messages skipped because their event type is not declared.
    pub fn unknown_types(&self) -> u64 {
        self.unknown
    }

    /// One message value: `Ok(Some)` an event, `Ok(None)` a message of an
    /// undeclared type (counted, not an error), `Err` a malformed message.
    pub fn decode(&mut self, value: Option<&[u8]>) -> Result<Option<Event>, Malformed> {
        let value = match value {
            Some(v) if !v.iter().all(u8::is_ascii_whitespace) => v,
            _ => return Err(Malformed::new("empty message")),
        };
        let got = match &mut self.kind {
            Kind::Json { feed, reader } => {
                if value.contains(&b'\n') || value.contains(&b'\r') {
                    // Pretty-printed JSON: one line for the line reader.
                    let v: serde_json::Value = serde_json::from_slice(value)
                        .map_err(|e| Malformed::new(format!("invalid JSON: {e}")))?;
                    feed.set(v.to_string().as_bytes());
                } else {
                    feed.set(value);
                }
                reader.next_event()
            }
            Kind::Csv { schema, options } => {
                let mut r = dalal_io::reader(
                    Box::new(std::io::Cursor::new(value.to_vec())),
                    Format::Csv,
                    schema,
                    options,
                )
                .map_err(|e| Malformed::new(e.to_string()))?;
                let first = r.next_event();
                if matches!(first, Ok(Some(_))) && !matches!(r.next_event(), Ok(None)) {
                    return Err(Malformed::new("more than one CSV record in the message"));
                }
                if matches!(first, Ok(None)) && r.unknown_types().is_empty() {
                    return Err(Malformed::new("no CSV record in the message"));
                }
                first
            }
        };
        match got {
            Ok(Some((_, event))) => Ok(Some(event)),
            Ok(None) => {
                self.unknown += 1;
                Ok(None)
            }
            Err(ReadError::Row(r)) => Err(Malformed {
                column: r.column,
                reason: r.reason,
            }),
            Err(e) => Err(Malformed::new(e.to_string())),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use dalal::{EventTime, Program, Value};
    use dalal_io::TsFormat;

    fn program() -> Program {
        Program::compile("EVENT Trade (symbol STRING, price FLOAT, volume INT);").unwrap()
    }

    fn opts() -> ReaderOptions {
        ReaderOptions {
            ts_format: TsFormat::EpochMs,
            ..ReaderOptions::default()
        }
    }

    #[test]
    fn json_messages_one_at_a_time() {
        let p = program();
        let mut d = Decoder::new(ValueFormat::Json, &Schema::of(&p), &opts()).unwrap();
        let e = d
            .decode(Some(
                br#"{"type":"Trade","ts":1000,"symbol":"TCS","price":10.5}"#,
            ))
            .unwrap()
            .unwrap();
        assert_eq!(e.ts, EventTime::from_millis(1000));
        assert_eq!(
            &*e.fields,
            &[Value::str("TCS"), Value::Float(10.5), Value::Null]
        );
        let pretty = b"{\n  \"type\": \"Trade\",\n  \"ts\": 2000,\n  \"volume\": 7\n}";
        let e = d.decode(Some(pretty)).unwrap().unwrap();
        assert_eq!(e.fields[2], Value::Int(7));
        assert_eq!(d.decode(Some(br#"{"type":"Quote","ts":1}"#)), Ok(None));
        assert_eq!(d.unknown_types(), 1);
        let bad = d
            .decode(Some(br#"{"type":"Trade","ts":1,"price":"abc"}"#))
            .unwrap_err();
        assert_eq!(bad.column.as_deref(), Some("price"));
        assert_eq!(
            bad.describe(),
            "column 'price': expected FLOAT, found 'abc'"
        );
        assert!(
            d.decode(Some(b"{not json"))
                .unwrap_err()
                .reason
                .starts_with("invalid JSON")
        );
        assert!(d.decode(Some(b"{\n]")).is_err());
        assert_eq!(d.decode(None).unwrap_err().reason, "empty message");
        assert_eq!(d.decode(Some(b"  ")).unwrap_err().reason, "empty message");
        // Still in step after errors.
        assert!(
            d.decode(Some(br#"{"type":"Trade","ts":3}"#))
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn csv_messages_need_columns() {
        let p = program();
        let schema = Schema::of(&p);
        assert!(Decoder::new(ValueFormat::Csv, &schema, &opts()).is_err());
        let o = ReaderOptions {
            columns: Some(vec![
                "type".into(),
                "ts".into(),
                "symbol".into(),
                "price".into(),
            ]),
            ..opts()
        };
        let mut d = Decoder::new(ValueFormat::Csv, &schema, &o).unwrap();
        let e = d.decode(Some(b"Trade,5,INFY,3.5")).unwrap().unwrap();
        assert_eq!(e.fields[1], Value::Float(3.5));
        assert_eq!(d.decode(Some(b"Quote,5,INFY,3.5")), Ok(None));
        assert!(d.decode(Some(b"Trade,5,INFY")).is_err());
        assert!(d.decode(Some(b"Trade,5,INFY,1\nTrade,6,INFY,2")).is_err());
        assert_eq!(
            d.decode(Some(b"Trade,5,INFY,x"))
                .unwrap_err()
                .column
                .as_deref(),
            Some("price")
        );
        assert!(d.decode(Some(b"\"Trade,5")).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let p = program();
        let mut d = Decoder::new(ValueFormat::Json, &Schema::of(&p), &opts()).unwrap();
        let mut x: u64 = 7;
        for len in 0..300 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                    let alphabet = b"{}[]\",:\n\r\\ typeTrade0123456789\xff";
                    alphabet[(x >> 33) as usize % alphabet.len()]
                })
                .collect();
            let _ = d.decode(Some(&bytes));
        }
        assert!(
            d.decode(Some(br#"{"type":"Trade","ts":3}"#))
                .unwrap()
                .is_some()
        );
    }
}
