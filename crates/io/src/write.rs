//! Match writers: JSON Lines, CSV and an aligned table, plus event JSON for
//! the late-event side output.

use dalal::{Binding, BoundEvent, Event, Match, Program, Value};
use std::io::{self, Write};
use std::sync::Arc;

/// Where matches are written. Writers buffer; [`MatchWriter::flush`] is
/// called after each batch of matches so a terminal sees them promptly.
pub trait MatchWriter: Send {
    /// Writes one match.
    fn write_match(&mut self, m: &Match) -> io::Result<()>;
    /// Pushes buffered output out (end of a batch).
    fn flush(&mut self) -> io::Result<()>;
    /// End of the stream: writes anything held back and flushes.
    fn finish(&mut self) -> io::Result<()> {
        self.flush()
    }
}

impl<W: MatchWriter + ?Sized> MatchWriter for Box<W> {
    fn write_match(&mut self, m: &Match) -> io::Result<()> {
        (**self).write_match(m)
    }
    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }
    fn finish(&mut self) -> io::Result<()> {
        (**self).finish()
    }
}

/// Output formats for matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// One JSON object per match (the documented shape).
    Jsonl,
    /// `pattern,key,start,end,fields` with key and fields as JSON objects.
    Csv,
    /// Aligned columns for a terminal.
    Table,
}

/// Builds the writer for a format.
pub fn writer(
    format: OutputFormat,
    out: Box<dyn Write + Send>,
    program: &Program,
    with_events: bool,
) -> io::Result<Box<dyn MatchWriter>> {
    Ok(match format {
        OutputFormat::Jsonl => Box::new(JsonlWriter::new(out, program, with_events)),
        OutputFormat::Csv => Box::new(CsvWriter::new(out)?),
        OutputFormat::Table => Box::new(TableWriter::new(out)),
    })
}

/// Adapts a [`MatchWriter`] to the engine's infallible [`dalal::Sink`]:
/// the first write error is kept (see [`Latched::into_result`]) and later
/// matches are discarded.
#[derive(Debug)]
pub struct Latched<W> {
    writer: W,
    error: Option<io::Error>,
}

impl<W: MatchWriter> Latched<W> {
    /// Wraps a writer.
    pub fn new(writer: W) -> Self {
        Latched {
            writer,
            error: None,
        }
    }

    /// Finishes the writer; the first error met, if any.
    pub fn into_result(mut self) -> io::Result<W> {
        match self.error.take() {
            Some(e) => Err(e),
            None => {
                self.writer.finish()?;
                Ok(self.writer)
            }
        }
    }
}

impl<W: MatchWriter> dalal::Sink for Latched<W> {
    fn matched(&mut self, m: Match) {
        if self.error.is_none() {
            if let Err(e) = self.writer.write_match(&m) {
                self.error = Some(e);
            }
        }
    }
}

/// Names needed to print events: per type, its name and field names as
/// ready-escaped JSON strings.
#[derive(Clone, Debug)]
pub(crate) struct EventNames {
    types: Vec<(Vec<u8>, Vec<Vec<u8>>)>,
}

impl EventNames {
    pub(crate) fn of(program: &Program) -> EventNames {
        EventNames {
            types: program
                .checked()
                .types
                .iter()
                .map(|t| {
                    (
                        json_string(&t.name),
                        t.fields.iter().map(|f| json_string(&f.name)).collect(),
                    )
                })
                .collect(),
        }
    }

    /// `{"type":..,"ts":..,field:value,...}`.
    pub(crate) fn write_event(&self, out: &mut Vec<u8>, e: &Event) {
        let Some((name, fields)) = self.types.get(e.ty.index()) else {
            out.extend_from_slice(b"null");
            return;
        };
        out.extend_from_slice(b"{\"type\":");
        out.extend_from_slice(name);
        out.extend_from_slice(b",\"ts\":\"");
        let _ = write!(out, "{}", e.ts);
        out.push(b'"');
        for (f, v) in fields.iter().zip(e.fields.iter()) {
            out.push(b',');
            out.extend_from_slice(f);
            out.push(b':');
            write_value(out, v);
        }
        out.push(b'}');
    }
}

fn json_string(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 2);
    write_str(&mut out, s);
    out
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// A value as JSON: NULL `null`, numbers as numbers (non-finite floats
/// `null`), timestamps RFC 3339 strings, durations numbers of milliseconds.
pub fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(x) => {
            let _ = serde_json::to_writer(&mut *out, x);
        }
        Value::Str(s) => write_str(out, s),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Timestamp(t) => {
            out.push(b'"');
            let _ = write!(out, "{t}");
            out.push(b'"');
        }
        Value::Duration(d) => {
            if d % 1_000_000 == 0 {
                let _ = write!(out, "{}", d / 1_000_000);
            } else {
                let _ = serde_json::to_writer(&mut *out, &(*d as f64 / 1e6));
            }
        }
    }
}

fn write_pairs(out: &mut Vec<u8>, pairs: &[(Arc<str>, Value)]) {
    out.push(b'{');
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, k);
        out.push(b':');
        write_value(out, v);
    }
    out.push(b'}');
}

/// The JSON Lines writer: one object per match, keys in the order
/// `pattern, key, start, end, fields, events`.
pub struct JsonlWriter {
    out: io::BufWriter<Box<dyn Write + Send>>,
    names: EventNames,
    with_events: bool,
    line: Vec<u8>,
}

impl JsonlWriter {
    /// A writer; `with_events: false` leaves `events` out (`--no-events`).
    pub fn new(out: Box<dyn Write + Send>, program: &Program, with_events: bool) -> Self {
        JsonlWriter {
            out: io::BufWriter::with_capacity(1 << 16, out),
            names: EventNames::of(program),
            with_events,
            line: Vec::with_capacity(512),
        }
    }

    /// One match as a JSON line (without the newline).
    pub fn render(&self, m: &Match, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"pattern\":");
        write_str(out, &m.pattern);
        out.extend_from_slice(b",\"key\":");
        write_pairs(out, &m.key);
        let _ = write!(out, ",\"start\":\"{}\",\"end\":\"{}\"", m.start, m.end);
        out.extend_from_slice(b",\"fields\":");
        write_pairs(out, &m.fields);
        if self.with_events {
            out.extend_from_slice(b",\"events\":{");
            for (i, (var, b)) in m.events.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, var);
                out.push(b':');
                match b {
                    Binding::One(e) => self.names.write_event(out, &e.event),
                    Binding::Many(list) => {
                        out.push(b'[');
                        for (j, BoundEvent { event, .. }) in list.iter().enumerate() {
                            if j > 0 {
                                out.push(b',');
                            }
                            self.names.write_event(out, event);
                        }
                        out.push(b']');
                    }
                    Binding::None => out.extend_from_slice(b"null"),
                }
            }
            out.push(b'}');
        }
        out.push(b'}');
    }
}

impl MatchWriter for JsonlWriter {
    fn write_match(&mut self, m: &Match) -> io::Result<()> {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        self.render(m, &mut line);
        line.push(b'\n');
        let r = self.out.write_all(&line);
        self.line = line;
        r
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The CSV writer: a header `pattern,key,start,end,fields`, one row per
/// match; `key` and `fields` are JSON objects (unambiguous whatever the
/// values hold); events are not written (use JSON Lines for them).
pub struct CsvWriter {
    csv: csv::Writer<Box<dyn Write + Send>>,
    cell: Vec<u8>,
}

impl CsvWriter {
    /// A writer; the header is written at once.
    pub fn new(out: Box<dyn Write + Send>) -> io::Result<Self> {
        let mut csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(out);
        csv.write_record(["pattern", "key", "start", "end", "fields"])
            .map_err(csv_io)?;
        Ok(CsvWriter {
            csv,
            cell: Vec::new(),
        })
    }
}

fn csv_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

impl MatchWriter for CsvWriter {
    fn write_match(&mut self, m: &Match) -> io::Result<()> {
        self.csv.write_field(m.pattern.as_bytes()).map_err(csv_io)?;
        self.cell.clear();
        write_pairs(&mut self.cell, &m.key);
        self.csv.write_field(&self.cell).map_err(csv_io)?;
        self.csv.write_field(m.start.to_string()).map_err(csv_io)?;
        self.csv.write_field(m.end.to_string()).map_err(csv_io)?;
        self.cell.clear();
        write_pairs(&mut self.cell, &m.fields);
        self.csv.write_field(&self.cell).map_err(csv_io)?;
        self.csv.write_record(None::<&[u8]>).map_err(csv_io)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.csv.flush()
    }
}

/// Rows held before printing a block (widths only grow, so later blocks
/// stay aligned with earlier ones unless a wider value comes).
const TABLE_BLOCK: usize = 256;

/// The table writer: columns `PATTERN KEY START END FIELDS`, values as
/// `name=value` lists, aligned within what has been printed so far.
pub struct TableWriter {
    out: io::BufWriter<Box<dyn Write + Send>>,
    rows: Vec<[String; 5]>,
    widths: [usize; 4],
    header_done: bool,
}

impl TableWriter {
    /// A writer.
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        TableWriter {
            out: io::BufWriter::new(out),
            rows: Vec::new(),
            widths: [7, 3, 5, 3],
            header_done: false,
        }
    }

    fn print_block(&mut self) -> io::Result<()> {
        for r in &self.rows {
            for (w, cell) in self.widths.iter_mut().zip(r.iter()) {
                *w = (*w).max(cell.chars().count());
            }
        }
        if !self.header_done {
            self.header_done = true;
            let header = [
                "PATTERN".to_string(),
                "KEY".to_string(),
                "START".to_string(),
                "END".to_string(),
                "FIELDS".to_string(),
            ];
            print_row(&mut self.out, &self.widths, &header)?;
        }
        for r in &self.rows {
            print_row(&mut self.out, &self.widths, r)?;
        }
        self.rows.clear();
        Ok(())
    }
}

fn print_row(out: &mut impl Write, widths: &[usize; 4], row: &[String; 5]) -> io::Result<()> {
    for (w, cell) in widths.iter().zip(row.iter()) {
        let pad = w.saturating_sub(cell.chars().count());
        write!(out, "{cell}{:pad$}  ", "")?;
    }
    writeln!(out, "{}", row[4])
}

fn pairs_text(pairs: &[(Arc<str>, Value)]) -> String {
    let mut s = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(k);
        s.push('=');
        match v {
            Value::Str(t) => {
                s.push('\'');
                s.push_str(t);
                s.push('\'');
            }
            other => s.push_str(&other.to_string()),
        }
    }
    if s.is_empty() {
        s.push('-');
    }
    s
}

impl MatchWriter for TableWriter {
    fn write_match(&mut self, m: &Match) -> io::Result<()> {
        self.rows.push([
            m.pattern.to_string(),
            pairs_text(&m.key),
            m.start.to_string(),
            m.end.to_string(),
            pairs_text(&m.fields),
        ]);
        if self.rows.len() >= TABLE_BLOCK {
            self.print_block()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.rows.is_empty() {
            self.print_block()?;
        }
        self.out.flush()
    }
}

/// Writes events as JSON Lines in the input shape (`type`, `ts`, fields), so
/// a late-event file can be replayed with `--format jsonl`.
pub struct EventWriter {
    out: io::BufWriter<Box<dyn Write + Send>>,
    names: EventNames,
    line: Vec<u8>,
}

impl EventWriter {
    /// A writer.
    pub fn new(out: Box<dyn Write + Send>, program: &Program) -> Self {
        EventWriter {
            out: io::BufWriter::new(out),
            names: EventNames::of(program),
            line: Vec::new(),
        }
    }

    /// Writes one event.
    pub fn write(&mut self, e: &Event) -> io::Result<()> {
        self.line.clear();
        self.names.write_event(&mut self.line, e);
        self.line.push(b'\n');
        self.out.write_all(&self.line)
    }

    /// Flushes.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use dalal::EventTime;
    use dalal::dalal_lang::typed::PatternId;
    use std::sync::{Arc, Mutex};

    /// A `Write` whose bytes the test can read afterwards.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn program() -> Program {
        Program::compile("EVENT T (symbol STRING, price FLOAT, n INT);").unwrap()
    }

    fn sample(p: &Program) -> Match {
        let ev = |ms, price| BoundEvent {
            seq: 0,
            event: Event::new(
                p,
                "T",
                EventTime::from_millis(ms),
                vec![Value::str("TCS"), Value::Float(price), Value::Null],
            )
            .unwrap(),
        };
        Match {
            pattern: "up".into(),
            pattern_id: PatternId::from_index(0),
            key: vec![("symbol".into(), Value::str("TCS"))],
            start: EventTime::from_millis(1_704_186_900_000),
            end: EventTime::from_nanos(1_704_186_960_000_000_001),
            fields: vec![
                ("gain".into(), Value::Float(1.5)),
                ("lag".into(), Value::Duration(60_000_000_000)),
                ("frac".into(), Value::Duration(1_500_000)),
                ("note".into(), Value::str("a \"q\"")),
                ("none".into(), Value::Null),
            ],
            events: vec![
                ("a".into(), Binding::One(ev(1_704_186_900_000, 10.0))),
                ("b".into(), Binding::Many(vec![ev(1_704_186_960_000, 11.5)])),
                ("c".into(), Binding::None),
            ],
        }
    }

    #[test]
    fn jsonl_exact_shape() {
        let p = program();
        let buf = Shared::default();
        let mut w = JsonlWriter::new(Box::new(buf.clone()), &p, true);
        w.write_match(&sample(&p)).unwrap();
        w.finish().unwrap();
        assert_eq!(
            buf.text(),
            concat!(
                r#"{"pattern":"up","key":{"symbol":"TCS"},"start":"2024-01-02T09:15:00.000Z","#,
                r#""end":"2024-01-02T09:16:00.000000001Z","fields":{"gain":1.5,"lag":60000,"#,
                r#""frac":1.5,"note":"a \"q\"","none":null},"events":{"a":{"type":"T","#,
                r#""ts":"2024-01-02T09:15:00.000Z","symbol":"TCS","price":10.0,"n":null},"#,
                r#""b":[{"type":"T","ts":"2024-01-02T09:16:00.000Z","symbol":"TCS","#,
                r#""price":11.5,"n":null}],"c":null}}"#,
                "\n"
            )
        );
        let buf = Shared::default();
        let mut w = JsonlWriter::new(Box::new(buf.clone()), &p, false);
        w.write_match(&sample(&p)).unwrap();
        w.finish().unwrap();
        assert!(buf.text().ends_with("\"none\":null}}\n"));
        assert!(!buf.text().contains("events"));
    }

    #[test]
    fn csv_and_table() {
        let p = program();
        let buf = Shared::default();
        let mut w = CsvWriter::new(Box::new(buf.clone())).unwrap();
        w.write_match(&sample(&p)).unwrap();
        w.finish().unwrap();
        let text = buf.text();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("pattern,key,start,end,fields"));
        assert_eq!(
            lines.next(),
            Some(concat!(
                r#"up,"{""symbol"":""TCS""}",2024-01-02T09:15:00.000Z,2024-01-02T09:16:00.000000001Z,"#,
                r#""{""gain"":1.5,""lag"":60000,""frac"":1.5,""note"":""a \""q\"""",""none"":null}""#
            ))
        );
        let buf = Shared::default();
        let mut w = TableWriter::new(Box::new(buf.clone()));
        w.write_match(&sample(&p)).unwrap();
        w.finish().unwrap();
        let text = buf.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("PATTERN  KEY         "), "{text}");
        assert!(lines[1].starts_with("up       symbol='TCS'"), "{text}");
        assert!(lines[1].ends_with("gain=1.5, lag=60000, frac=1.5, note='a \"q\"', none=null"));
    }

    #[test]
    fn latched_sink_keeps_the_first_error() {
        struct Failing;
        impl MatchWriter for Failing {
            fn write_match(&mut self, _: &Match) -> io::Result<()> {
                Err(io::Error::new(io::ErrorKind::BrokenPipe, "gone"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let p = program();
        let mut l = Latched::new(Failing);
        dalal::Sink::matched(&mut l, sample(&p));
        dalal::Sink::matched(&mut l, sample(&p));
        assert_eq!(
            l.into_result().err().map(|e| e.kind()),
            Some(io::ErrorKind::BrokenPipe)
        );
    }

    #[test]
    fn late_events_round_trip_as_jsonl_input() {
        let p = program();
        let buf = Shared::default();
        let mut w = EventWriter::new(Box::new(buf.clone()), &p);
        let e = Event::new(
            &p,
            "T",
            EventTime::from_millis(5),
            vec![Value::str("X"), Value::Float(2.0), Value::Int(3)],
        )
        .unwrap();
        w.write(&e).unwrap();
        w.flush().unwrap();
        assert_eq!(
            buf.text(),
            "{\"type\":\"T\",\"ts\":\"1970-01-01T00:00:00.005Z\",\"symbol\":\"X\",\"price\":2.0,\"n\":3}\n"
        );
    }
}
