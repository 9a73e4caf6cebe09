//! The OpenCEP conformance cases (`../shared/conformance/opencep`), run
//! straight through the engine: each pattern over its NASDAQ input must give
//! OpenCEP's expected matches, compared as a multiset of sets of events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dalal::{Binding, Config, Engine, Event, EventTime, Program, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/opencep")
}

/// An event's identity in both files: ticker and minute.
type Id = (String, String);

fn epoch(date: &str) -> i64 {
    let dt = chrono::NaiveDateTime::parse_from_str(date, "%Y%m%d%H%M").expect("date");
    dt.and_utc().timestamp()
}

fn expected(path: &Path) -> Vec<Vec<Id>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let mut ids: Vec<Id> = block
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let get = |key: &str| -> String {
                    let at = l.find(key).expect("key") + key.len();
                    l[at..]
                        .trim_start_matches([':', ' ', '\''])
                        .split([',', '\'', '}'])
                        .next()
                        .unwrap()
                        .trim()
                        .to_string()
                };
                (get("'Stock Ticker'"), get("'Date'"))
            })
            .collect();
        if !ids.is_empty() {
            ids.sort();
            out.push(ids);
        }
    }
    out.sort();
    out
}

fn run(pattern_file: &Path) -> Result<usize, String> {
    let text = std::fs::read_to_string(pattern_file).unwrap();
    let first = text.lines().next().unwrap();
    let input = first
        .split("input ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    let exp = first.split("expected ").nth(1).unwrap().trim();
    let base = pattern_file.parent().unwrap();
    let program = Program::compile(&text).map_err(|e| e.to_string())?;
    let mut engine = Engine::new(program.clone(), Config::default());
    let mut ids: BTreeMap<u64, Id> = BTreeMap::new();
    let data = std::fs::read_to_string(base.join(input)).unwrap();
    let mut seq = 0u64;
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        let c: Vec<&str> = line.split(',').collect();
        let Some(ty) = program.type_id(c[0]) else {
            continue;
        };
        let num = |i: usize| Value::Float(c[i].parse().unwrap());
        let e = Event::with_type(
            &program,
            ty,
            EventTime::from_secs(epoch(c[1])),
            vec![
                num(2),
                num(3),
                num(4),
                num(5),
                Value::Int(c[6].parse().unwrap()),
            ],
        )
        .unwrap();
        ids.insert(seq, (c[0].to_string(), c[1].to_string()));
        seq += 1;
        engine.push(e).map_err(|e| e.to_string())?;
    }
    engine.finish();
    let mut got: Vec<Vec<Id>> = engine
        .drain_matches()
        .map(|m| {
            let mut v: Vec<Id> = m
                .events
                .iter()
                .flat_map(|(_, b)| match b {
                    Binding::One(e) => vec![e.seq],
                    Binding::Many(l) => l.iter().map(|e| e.seq).collect(),
                    Binding::None => vec![],
                })
                .map(|s| ids[&s].clone())
                .collect();
            v.sort();
            v
        })
        .collect();
    got.sort();
    let want = expected(&base.join(exp));
    if got == want {
        Ok(got.len())
    } else {
        let missing: Vec<_> = want.iter().filter(|w| !got.contains(w)).take(3).collect();
        let extra: Vec<_> = got.iter().filter(|g| !want.contains(g)).take(3).collect();
        Err(format!(
            "expected {} matches, got {}; missing e.g. {missing:?}; extra e.g. {extra:?}",
            want.len(),
            got.len()
        ))
    }
}

#[test]
fn opencep_cases() {
    let Ok(rd) = std::fs::read_dir(dir()) else {
        eprintln!("skipped: ../shared/conformance/opencep not found");
        return;
    };
    let mut paths: Vec<PathBuf> = rd.map(|e| e.unwrap().path()).collect();
    paths.sort();
    let mut failures = Vec::new();
    let mut total = 0;
    for p in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pattern"))
    {
        match run(p) {
            Ok(n) => {
                total += n;
                eprintln!("ok   {} ({n} matches)", p.display());
            }
            Err(e) => failures.push(format!("{}: {e}", p.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(total > 100, "the expected files hold many matches: {total}");
}
