//! The `.case` format of /work/shared/conformance/README.md: a comment, then
//! `--- pattern`, `--- events` (CSV with a header, `ts` in epoch ms) and
//! `--- expected` (one match per line, order-insensitive).

use dalal_lang::ast::TypeName;
use dalal_lang::typed::{FieldRef, Program};

use super::{RVal, RefEvent, normalize_line};

/// A parsed case file.
#[derive(Clone, Debug)]
pub struct Case {
    /// File stem.
    pub name: String,
    /// The `--` comment lines before the first section.
    pub comment: String,
    pub pattern: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Normalized expected lines (tokens sorted), sorted.
    pub expected: Vec<String>,
}

pub fn parse_case(name: &str, text: &str) -> Result<Case, String> {
    let mut section = "";
    let mut comment = Vec::new();
    let mut pattern = String::new();
    let mut csv = Vec::new();
    let mut expected = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("--- ") {
            section = match rest.trim() {
                "pattern" => "pattern",
                "events" => "events",
                "expected" => "expected",
                other => return Err(format!("{name}: unknown section `{other}`")),
            };
            continue;
        }
        match section {
            "" => comment.push(t.trim_start_matches('-').trim().to_string()),
            "pattern" => {
                pattern.push_str(line);
                pattern.push('\n');
            }
            "events" if !t.is_empty() => csv.push(t.to_string()),
            "expected" if !t.is_empty() && !t.starts_with("--") => expected.push(normalize_line(t)),
            _ => {}
        }
    }
    if pattern.trim().is_empty() || csv.is_empty() {
        return Err(format!("{name}: missing pattern or events section"));
    }
    let header: Vec<String> = csv[0].split(',').map(|s| s.trim().to_string()).collect();
    let rows: Vec<Vec<String>> = csv[1..]
        .iter()
        .map(|l| l.split(',').map(|s| s.trim().to_string()).collect())
        .collect();
    expected.sort();
    Ok(Case {
        name: name.to_string(),
        comment: comment.join(" "),
        pattern,
        header,
        rows,
        expected,
    })
}

/// Converts one CSV cell to a declared type; an empty cell is NULL.
pub fn cell(ty: TypeName, text: &str) -> Result<RVal, String> {
    if text.is_empty() {
        return Ok(RVal::Null);
    }
    let bad = |_| format!("cannot read `{text}` as {ty:?}");
    Ok(match ty {
        TypeName::Int => RVal::Int(
            text.parse()
                .map_err(|e: std::num::ParseIntError| bad(e.to_string()))?,
        ),
        TypeName::Float => RVal::Float(
            text.parse()
                .map_err(|e: std::num::ParseFloatError| bad(e.to_string()))?,
        ),
        TypeName::String => RVal::Str(text.to_string()),
        TypeName::Bool => match text.to_ascii_lowercase().as_str() {
            "true" => RVal::Bool(true),
            "false" => RVal::Bool(false),
            _ => return Err(format!("cannot read `{text}` as BOOL")),
        },
        TypeName::Timestamp => RVal::Ts(
            text.parse::<i64>()
                .map_err(|e| bad(e.to_string()))?
                .checked_mul(1_000_000)
                .ok_or("timestamp overflow")?,
        ),
        TypeName::Duration => RVal::Dur(
            text.parse::<i64>()
                .map_err(|e| bad(e.to_string()))?
                .checked_mul(1_000_000)
                .ok_or("duration overflow")?,
        ),
    })
}

/// The events of a case (arrival order), typed by the program's declarations.
pub fn events(
    program: &Program,
    header: &[String],
    rows: &[Vec<String>],
) -> Result<Vec<RefEvent>, String> {
    let col = |n: &str| header.iter().position(|h| h == n);
    let tcol = col("type").ok_or("no `type` column")?;
    let tscol = col("ts").ok_or("no `ts` column")?;
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let get = |c: usize| row.get(c).map_or("", String::as_str);
        let type_name = get(tcol).to_string();
        let ty = program
            .type_id(&type_name)
            .ok_or_else(|| format!("row {i}: unknown type `{type_name}`"))?;
        let ts_ms: i64 = get(tscol)
            .parse()
            .map_err(|e| format!("row {i}: bad ts: {e}"))?;
        let et = program.event_type(ty);
        let mut fields = Vec::new();
        for f in &et.fields {
            let v = match col(&f.name) {
                Some(c) => cell(f.ty, get(c)).map_err(|e| format!("row {i}: {e}"))?,
                None => RVal::Null,
            };
            fields.push(v);
        }
        out.push(RefEvent {
            arrival: i,
            ty,
            type_name,
            ts: ts_ms.checked_mul(1_000_000).ok_or("ts overflow")?,
            fields,
        });
    }
    Ok(out)
}

/// Renders events back to CSV (for reproducing a failing property case).
pub fn to_csv(program: &Program, events: &[RefEvent]) -> String {
    let mut names: Vec<String> = Vec::new();
    for e in events {
        for f in &program.event_type(e.ty).fields {
            if !names.contains(&f.name) {
                names.push(f.name.clone());
            }
        }
    }
    let mut s = format!("type,ts,{}\n", names.join(","));
    for e in events {
        let et = program.event_type(e.ty);
        let cells: Vec<String> = names
            .iter()
            .map(|n| match et.field(n) {
                Some(FieldRef::Slot(sl)) => match &e.fields[sl.index()] {
                    RVal::Null => String::new(),
                    v => v.render(),
                },
                _ => String::new(),
            })
            .collect();
        s.push_str(&format!(
            "{},{},{}\n",
            e.type_name,
            e.ts / 1_000_000,
            cells.join(",")
        ));
    }
    s
}

/// Compiles pattern text with the language crate.
pub fn compile(text: &str) -> Result<Program, String> {
    let mut sources = dalal_lang::Sources::new();
    sources.add("case.pattern", text);
    dalal_lang::compile(&sources, &[]).map_err(|d| d.render(false))
}
