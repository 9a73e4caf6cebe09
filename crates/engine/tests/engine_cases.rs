//! The engine's own quick run of the `.case` files (the official harness with
//! the reference matcher is `tests/semantics.rs`): every case through
//! `Engine` with several feeds (one by one, batches, shuffled within a
//! delay, snapshot/restore midway), compared with the expected lines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dalal::{Binding, Config, Engine, Event, EventTime, Match, Program, Value};
use dalal_lang::ast::TypeName;
use std::path::{Path, PathBuf};

struct Case {
    name: String,
    pattern: String,
    rows: Vec<Vec<String>>,
    header: Vec<String>,
    expected: Vec<String>,
}

fn parse(name: &str, text: &str) -> Case {
    let mut section = "";
    let (mut pattern, mut events, mut expected) = (String::new(), Vec::new(), Vec::new());
    for line in text.lines() {
        if let Some(s) = line.strip_prefix("--- ") {
            section = match s.trim() {
                "pattern" => "p",
                "events" => "e",
                "expected" => "x",
                _ => "",
            };
            continue;
        }
        match section {
            "p" => {
                pattern.push_str(line);
                pattern.push('\n');
            }
            "e" if !line.trim().is_empty() => events.push(line.to_string()),
            "x" if !line.trim().is_empty() => expected.push(normalize(line)),
            _ => {}
        }
    }
    let mut rows: Vec<Vec<String>> = events
        .iter()
        .map(|l| l.split(',').map(|s| s.to_string()).collect())
        .collect();
    let header = if rows.is_empty() {
        Vec::new()
    } else {
        rows.remove(0)
    };
    expected.sort();
    Case {
        name: name.to_string(),
        pattern,
        rows,
        header,
        expected,
    }
}

fn normalize(line: &str) -> String {
    let mut toks: Vec<&str> = line.split_whitespace().collect();
    toks.sort();
    toks.join(" ")
}

fn events(program: &Program, c: &Case) -> Vec<Event> {
    let col = |n: &str| c.header.iter().position(|h| h == n).expect("column");
    let (ti, tsi) = (col("type"), col("ts"));
    c.rows
        .iter()
        .map(|r| {
            let ty = program.type_id(&r[ti]).expect("type");
            let decl = &program.checked().types[ty.index()];
            let fields = decl
                .fields
                .iter()
                .map(|f| {
                    let s = &r[col(&f.name)];
                    if s.is_empty() {
                        return Value::Null;
                    }
                    match f.ty {
                        TypeName::Int => Value::Int(s.parse().unwrap()),
                        TypeName::Float => Value::Float(s.parse().unwrap()),
                        TypeName::Bool => Value::Bool(s.eq_ignore_ascii_case("true")),
                        TypeName::String => Value::str(s),
                        TypeName::Duration => {
                            Value::Duration(s.parse::<i64>().unwrap() * 1_000_000)
                        }
                        TypeName::Timestamp => {
                            Value::Timestamp(EventTime::from_millis(s.parse().unwrap()))
                        }
                    }
                })
                .collect();
            let ts = EventTime::from_millis(r[tsi].parse().unwrap());
            Event::with_type(program, ty, ts, fields).unwrap()
        })
        .collect()
}

fn render_value(v: &Value) -> String {
    match v {
        Value::Float(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", *x as i64),
        other => other.to_string(),
    }
}

fn render(program: &Program, m: &Match) -> String {
    let id_of = |e: &Event| -> String {
        let decl = &program.checked().types[e.ty.index()];
        let i = decl
            .fields
            .iter()
            .position(|f| f.name == "id")
            .expect("id field");
        render_value(&e.fields[i])
    };
    let mut toks = Vec::new();
    for (name, b) in &m.events {
        match b {
            Binding::One(e) => toks.push(format!("{name}={}", id_of(&e.event))),
            Binding::Many(l) => toks.push(format!(
                "{name}=[{}]",
                l.iter()
                    .map(|e| id_of(&e.event))
                    .collect::<Vec<_>>()
                    .join(",")
            )),
            Binding::None => {}
        }
    }
    for (n, v) in &m.fields {
        toks.push(format!("{n}:{}", render_value(v)));
    }
    toks.sort();
    toks.join(" ")
}

fn run(
    program: &Program,
    evs: &[Event],
    config: Config,
    snapshot_at: Option<usize>,
) -> Vec<String> {
    let mut engine = Engine::new(program.clone(), config);
    let mut out = Vec::new();
    for (i, e) in evs.iter().enumerate() {
        if snapshot_at == Some(i) {
            let snap = engine.snapshot().unwrap();
            let json = serde_json::to_string(&snap).unwrap();
            engine =
                Engine::restore(program.clone(), serde_json::from_str(&json).unwrap()).unwrap();
        }
        engine.push(e.clone()).unwrap();
        out.extend(engine.drain_matches());
    }
    engine.finish();
    out.extend(engine.drain_matches());
    let mut lines: Vec<String> = out.iter().map(|m| render(program, m)).collect();
    lines.sort();
    lines
}

fn dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    vec![
        root.join("../../../shared/conformance/semantics"),
        root.join("tests/cases"),
    ]
}

#[test]
fn engine_cases_all_feeds() {
    let mut failures = Vec::new();
    let mut total = 0;
    for d in dirs() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = rd.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for p in paths
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "case"))
        {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let c = parse(&name, &std::fs::read_to_string(p).unwrap());
            total += 1;
            let program = match Program::compile(&c.pattern) {
                Ok(p) => p,
                Err(e) => {
                    failures.push(format!("{}: compile error {e}", c.name));
                    continue;
                }
            };
            let evs = events(&program, &c);
            let base = run(&program, &evs, Config::default(), None);
            if base != c.expected {
                failures.push(format!(
                    "{}:\n  expected {:?}\n  got      {:?}",
                    c.name, c.expected, base
                ));
                continue;
            }
            eprintln!("ok {} ({} matches)", c.name, base.len());
            for at in 1..evs.len() {
                if run(&program, &evs, Config::default(), Some(at)) != c.expected {
                    failures.push(format!("{}: differs with snapshot at {at}", c.name));
                }
            }
            // Reverse arrival within a delay large enough that nothing is late.
            let mut shuffled = evs.clone();
            shuffled.reverse();
            let span = evs.iter().map(|e| e.ts.0).max().unwrap_or(0)
                - evs.iter().map(|e| e.ts.0).min().unwrap_or(0);
            let cfg = Config {
                max_delay: std::time::Duration::from_nanos(span as u64),
                ..Config::default()
            };
            // Equal timestamps keep arrival order, so only cases without ties can be reversed.
            let mut tss: Vec<i64> = evs.iter().map(|e| e.ts.0).collect();
            tss.dedup();
            if tss.len() == evs.len() {
                let got = run(&program, &shuffled, cfg, None);
                if got != c.expected {
                    failures.push(format!("{}: differs when reversed: {got:?}", c.name));
                }
            }
        }
    }
    assert!(total >= 24, "cases not found");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
