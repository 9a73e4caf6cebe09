//! The correctness oracle: a brute-force matcher written straight from
//! section 6 of LANGUAGE.md, plus the `.case` file format and the bridge to
//! the engine. Obviously correct rather than fast: it enumerates every
//! binding of a (small) stream.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod case;
pub mod engine;
pub mod eval;
pub mod matcher;

/// A value as the reference sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum RVal {
    Null,
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    /// Nanoseconds since the epoch.
    Ts(i64),
    /// Nanoseconds.
    Dur(i64),
    List(Vec<RVal>),
}

impl RVal {
    /// The expected-line format of the conformance README: durations and
    /// timestamps in milliseconds, `null`, floats with Rust's `{}`, strings bare.
    pub fn render(&self) -> String {
        fn ms(ns: i64) -> String {
            if ns % 1_000_000 == 0 {
                format!("{}", ns / 1_000_000)
            } else {
                format!("{}", ns as f64 / 1e6)
            }
        }
        match self {
            RVal::Null => "null".into(),
            RVal::Int(i) => i.to_string(),
            RVal::Float(f) => format!("{f}"),
            RVal::Str(s) => s.clone(),
            RVal::Bool(b) => b.to_string(),
            RVal::Ts(t) | RVal::Dur(t) => ms(*t),
            RVal::List(items) => format!(
                "({})",
                items.iter().map(RVal::render).collect::<Vec<_>>().join(",")
            ),
        }
    }
}

impl RVal {
    /// A partition key component: like [`RVal::render`] but NULL (its own
    /// partition, as in SQL GROUP BY) never collides with the string `null`.
    pub fn key_part(&self) -> String {
        match self {
            RVal::Null => "<NULL>".into(),
            RVal::Str(s) => format!("'{s}'"),
            v => v.render(),
        }
    }
}

/// One input event in arrival order.
#[derive(Clone, Debug)]
pub struct RefEvent {
    /// Arrival index in the whole input.
    pub arrival: usize,
    /// Its type.
    pub ty: dalal_lang::typed::TypeId,
    pub type_name: String,
    /// Event time in nanoseconds.
    pub ts: i64,
    /// Declared fields by slot (NULL when absent).
    pub fields: Vec<RVal>,
}

impl RefEvent {
    /// The `id` field when the type declares one, else the arrival index:
    /// what match lines name events by.
    pub fn label(&self, program: &dalal_lang::typed::Program) -> String {
        let et = program.event_type(self.ty);
        if let Some(dalal_lang::typed::FieldRef::Slot(s)) = et.field("id") {
            if let Some(v) = self.fields.get(s.index()) {
                if !matches!(v, RVal::Null) {
                    return v.render();
                }
            }
        }
        self.arrival.to_string()
    }
}

/// A variable's binding in a match.
#[derive(Clone, Debug, PartialEq)]
pub enum Bound {
    One(usize),
    List(Vec<usize>),
}

/// A match found by the reference.
#[derive(Clone, Debug)]
pub struct RefMatch {
    /// Pattern name and partition key, rendered (`up/'p'`, `up/'p'|3`; `up/`
    /// without PARTITION BY).
    pub key: String,
    /// Bound variables by name, in variable order; positions are arrival indices.
    pub vars: Vec<(String, Bound)>,
    /// EMIT values in projection order.
    pub emits: Vec<(String, RVal)>,
    /// (completion point, first event, bound positions) as positions in the
    /// partition's ordered stream S: the emission order. The completion
    /// point is `2 * position` for a match complete at its last event and
    /// `2 * position + 1` for a trailing NOT complete after that event.
    pub order: (usize, usize, Vec<usize>),
    /// When the match is known: `Ok(arrival index of its last bound event)`,
    /// or for a trailing NOT `Err(deadline)`: event time must pass
    /// ts(first) + WITHIN (nanoseconds).
    pub known: Result<usize, i64>,
}

/// Renders a match as a line of the expected section, tokens sorted so that
/// lines compare independently of token order.
pub fn render_line(
    program: &dalal_lang::typed::Program,
    events: &[RefEvent],
    vars: &[(String, Bound)],
    emits: &[(String, RVal)],
) -> String {
    let label = |a: usize| events[a].label(program);
    let mut toks: Vec<String> = vars
        .iter()
        .map(|(n, b)| match b {
            Bound::One(p) => format!("{n}={}", label(*p)),
            Bound::List(l) => format!(
                "{n}=[{}]",
                l.iter().map(|p| label(*p)).collect::<Vec<_>>().join(",")
            ),
        })
        .collect();
    toks.extend(emits.iter().map(|(n, v)| format!("{n}:{}", v.render())));
    normalize_line(&toks.join(" "))
}

/// Sorts the whitespace-separated tokens of a match line.
pub fn normalize_line(line: &str) -> String {
    let mut toks: Vec<&str> = line.split_whitespace().collect();
    toks.sort_unstable();
    toks.join(" ")
}

/// A match as (partition key, normalized line, order key).
pub type KeyedLine = (String, String, (usize, usize, Vec<usize>));

/// The reference's matches as (partition key, normalized line, order key).
pub fn reference_lines(
    program: &dalal_lang::typed::Program,
    events: &[RefEvent],
) -> Result<Vec<KeyedLine>, String> {
    let mut out = Vec::new();
    for pi in 0..program.patterns.len() {
        for m in matcher::run(program, pi, events)? {
            let line = render_line(program, events, &m.vars, &m.emits);
            out.push((m.key, line, m.order));
        }
    }
    Ok(out)
}

/// Compares two line multisets; `Err` lists what is missing and extra.
pub fn same_lines(what: &str, expected: &[String], got: &[String]) -> Result<(), String> {
    let mut e = expected.to_vec();
    let mut g = got.to_vec();
    e.sort();
    g.sort();
    if e == g {
        return Ok(());
    }
    let mut missing = Vec::new();
    let mut gi = g.clone();
    for l in &e {
        match gi.iter().position(|x| x == l) {
            Some(i) => {
                gi.remove(i);
            }
            None => missing.push(l.clone()),
        }
    }
    Err(format!(
        "{what}: missing {missing:?}, extra {gi:?}\n  expected {e:?}\n  got      {g:?}"
    ))
}

/// Checks that the engine emitted each partition's matches in the
/// reference's order (completion point, first event, positions); matches
/// with equal order keys may come in any order.
pub fn same_order(reference: &[KeyedLine], engine: &[(String, String)]) -> Result<(), String> {
    let mut last: std::collections::HashMap<&str, &(usize, usize, Vec<usize>)> = Default::default();
    for (key, line) in engine {
        let Some((_, _, order)) = reference.iter().find(|(k, l, _)| k == key && l == line) else {
            continue;
        };
        if let Some(prev) = last.get(key.as_str()) {
            if *prev > order {
                return Err(format!(
                    "partition `{key}`: `{line}` (completion, first, positions = {order:?}) emitted after a match with {prev:?}"
                ));
            }
        }
        last.insert(key.as_str(), order);
    }
    Ok(())
}
