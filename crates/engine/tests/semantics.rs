//! Conformance cases: each `.case` file (the shared ones of
//! `../shared/conformance/semantics` and ours in `tests/cases`) is run through
//! both the engine and the brute-force reference matcher of `reference/`, and
//! each must produce exactly the expected matches.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod reference;

use std::path::{Path, PathBuf};

use reference::case::{self, Case};

fn shared_dir() -> Option<PathBuf> {
    if let Ok(d) = std::env::var("DALAL_SHARED") {
        return Some(PathBuf::from(d).join("conformance/semantics"));
    }
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/semantics");
    d.is_dir().then_some(d)
}

fn own_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases")
}

fn load(dir: &Path) -> Vec<Case> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "case"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("case file is UTF-8 text");
            let name = p
                .file_stem()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            case::parse_case(&name, &text).unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
}

/// The shared cases, or `None` (skipped, with the reason printed) when the
/// folder is absent outside CI.
fn shared_cases() -> Option<Vec<Case>> {
    match shared_dir() {
        Some(d) if d.is_dir() => Some(load(&d)),
        _ if std::env::var_os("CI").is_some() => {
            panic!("../shared/conformance/semantics is missing (CI must provide it)")
        }
        _ => {
            eprintln!("skipped: ../shared/conformance/semantics not found (set DALAL_SHARED)");
            None
        }
    }
}

fn run_reference(c: &Case) -> Result<(), String> {
    let program = case::compile(&c.pattern)?;
    let events = case::events(&program, &c.header, &c.rows)?;
    let got: Vec<String> = reference::reference_lines(&program, &events)?
        .into_iter()
        .map(|(_, l, _)| l)
        .collect();
    reference::same_lines("reference", &c.expected, &got)
}

fn run_engine(c: &Case) -> Result<(), String> {
    let program = case::compile(&c.pattern)?;
    let events = case::events(&program, &c.header, &c.rows)?;
    let got = reference::engine::run(&c.pattern, &events, &reference::engine::Feed::All)?;
    let lines: Vec<String> = got.iter().map(|m| m.line.clone()).collect();
    reference::same_lines("engine", &c.expected, &lines)?;
    let reference = reference::reference_lines(&program, &events)?;
    let keyed: Vec<(String, String)> = got.into_iter().map(|m| (m.key, m.line)).collect();
    reference::same_order(&reference, &keyed)
}

fn check_all(cases: &[Case], which: &str, f: fn(&Case) -> Result<(), String>) {
    let mut failures = Vec::new();
    for c in cases {
        match f(c) {
            Ok(()) => eprintln!("ok    {which} {}", c.name),
            Err(e) => {
                eprintln!("FAIL  {which} {}: {e}", c.name);
                failures.push(format!("{} ({}): {e}", c.name, c.comment));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases fail on the {which}:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn reference_passes_shared_cases() {
    if let Some(cases) = shared_cases() {
        assert_eq!(cases.len(), 24, "the shared suite has 24 cases");
        check_all(&cases, "reference", run_reference);
    }
}

#[test]
fn engine_passes_shared_cases() {
    if let Some(cases) = shared_cases() {
        check_all(&cases, "engine", run_engine);
    }
}

#[test]
fn reference_passes_own_cases() {
    let cases = load(&own_dir());
    assert!(cases.len() >= 20, "own cases are missing");
    check_all(&cases, "reference", run_reference);
}

#[test]
fn engine_passes_own_cases() {
    check_all(&load(&own_dir()), "engine", run_engine);
}

#[test]
fn case_parser_reads_sections_and_normalizes_lines() {
    let c = case::parse_case(
        "t",
        "-- what it shows\n--- pattern\nEVENT A (id INT);\nPATTERN p SEQ(A a);\n--- events\ntype,ts,id\nA,5,0\n--- expected\nb=[1,2] a=0 n:3\n\n",
    )
    .unwrap();
    assert_eq!(c.comment, "what it shows");
    assert_eq!(c.header, vec!["type", "ts", "id"]);
    assert_eq!(c.rows, vec![vec!["A", "5", "0"]]);
    assert_eq!(c.expected, vec!["a=0 b=[1,2] n:3"]);
    assert!(case::parse_case("t", "--- pattern\n--- events\n").is_err());
}

/// `DALAL_CASE=path cargo test -p dalal --test semantics show_case -- --ignored --nocapture`
/// prints what the reference and the engine produce for one case file.
#[test]
#[ignore = "a debugging aid, run by hand"]
fn show_case() {
    let path = std::env::var("DALAL_CASE").expect("set DALAL_CASE to a .case file");
    let text = std::fs::read_to_string(&path).expect("readable case file");
    let c = case::parse_case(&path, &text).unwrap();
    let program = case::compile(&c.pattern).unwrap();
    let events = case::events(&program, &c.header, &c.rows).unwrap();
    eprintln!("expected:");
    for l in &c.expected {
        eprintln!("  {l}");
    }
    eprintln!("reference (emission order):");
    for (k, l, o) in reference::reference_lines(&program, &events).unwrap() {
        eprintln!("  [{k}] {l}   order {o:?}");
    }
    eprintln!("engine (emission order):");
    match reference::engine::run(&c.pattern, &events, &reference::engine::Feed::All) {
        Ok(ms) => ms
            .iter()
            .for_each(|m| eprintln!("  [{}] {}", m.key, m.line)),
        Err(e) => eprintln!("  error: {e}"),
    }
}

/// The reference's own evaluator: SQL three-valued logic and NULL arithmetic.
#[test]
fn reference_evaluator_is_three_valued() {
    use dalal_lang::ast::BinaryOp::*;
    use reference::RVal::{Bool, Float, Int, Null};
    use reference::eval::binary;
    let t = || Bool(true);
    let f = || Bool(false);
    assert_eq!(binary(And, f(), Null), f());
    assert_eq!(binary(And, t(), Null), Null);
    assert_eq!(binary(Or, t(), Null), t());
    assert_eq!(binary(Or, f(), Null), Null);
    assert_eq!(binary(Gt, Null, Int(1)), Null);
    assert_eq!(binary(Eq, Null, Null), Null);
    assert_eq!(binary(Add, Int(1), Null), Null);
    assert_eq!(binary(Div, Int(1), Int(0)), Null);
    assert_eq!(binary(Add, Int(i64::MAX), Int(1)), Null);
    assert_eq!(binary(Lt, Int(1), Float(1.5)), t());
    assert_eq!(reference::RVal::Float(4.0).render(), "4");
    assert_eq!(reference::RVal::Dur(3_000_000_000).render(), "3000");
}

/// The harness must fail a case whose expectation is wrong.
#[test]
fn a_wrong_expectation_fails() {
    let text = "-- x\n--- pattern\nEVENT A (id INT);\nEVENT B (id INT);\nPATTERN p SEQ(A a, B b) WITHIN 1s SKIP TILL ANY MATCH AFTER MATCH NO SKIP;\n--- events\ntype,ts,id\nA,0,0\nB,10,1\nB,20,2\n--- expected\na=0 b=1\n";
    let c = case::parse_case("wrong", text).unwrap();
    let err = run_reference(&c).unwrap_err();
    assert!(err.contains("a=0 b=2"), "{err}");
    assert!(run_engine(&c).is_err());
}
