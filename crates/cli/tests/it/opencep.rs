//! OpenCEP conformance: five OpenCEP test patterns, written in dalal's
//! language, run through `dalal run` on OpenCEP's NASDAQ inputs; the
//! matches must equal OpenCEP's expected output as a multiset of sets of
//! events (see shared/conformance/README.md).
//!
//! The cases live outside the repository, in `../shared` (beside the
//! checkout in CI) or `/work/shared`. When neither is there the test is
//! skipped with a message, unless `CI` is set: then it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::util;
use crate::util::shared_dir;

use std::path::{Path, PathBuf};
use util::Dir;

const CASES: [&str; 5] = [
    "KC_AllValues",
    "KC_Mixed",
    "MinMax_1",
    "OneNotBegin",
    "OneNotEnd",
];

/// One event as OpenCEP prints it, reduced to comparable text:
/// `ticker|yyyymmddhhmm|open|peak|low|close|volume` with numbers in Rust's
/// shortest form (so `530` and `530.0` agree).
fn num(s: &str) -> String {
    let x: f64 = s
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {s:?}"));
    format!("{x}")
}

/// Parses one expected line, a Python dict literal:
/// `{'Stock Ticker': 'GOOG', 'Date': 200802010900, 'Opening Price': 532.04, ...}`.
fn expected_event(line: &str) -> String {
    let body = line.trim().trim_start_matches('{').trim_end_matches('}');
    let get = |key: &str| -> String {
        let k = format!("'{key}': ");
        let start = body
            .find(&k)
            .unwrap_or_else(|| panic!("no {key} in {line}"))
            + k.len();
        let rest = &body[start..];
        let end = rest.find(", '").unwrap_or(rest.len());
        rest[..end].trim().trim_matches('\'').to_string()
    };
    format!(
        "{}|{}|{}|{}|{}|{}|{}",
        get("Stock Ticker"),
        get("Date"),
        num(&get("Opening Price")),
        num(&get("Peak Price")),
        num(&get("Lowest Price")),
        num(&get("Close Price")),
        num(&get("Volume")),
    )
}

fn expected_matches(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(expected_event(line));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    normalize(out)
}

fn normalize(mut matches: Vec<Vec<String>>) -> Vec<Vec<String>> {
    for m in &mut matches {
        m.sort();
    }
    matches.sort();
    matches
}

/// dalal's JSON Lines matches, every bound event reduced like the expected ones.
fn actual_matches(stdout: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let mut events = Vec::new();
        for (_, b) in v["events"].as_object().unwrap() {
            let list: Vec<&serde_json::Value> = match b {
                serde_json::Value::Array(a) => a.iter().collect(),
                serde_json::Value::Null => Vec::new(),
                e => vec![e],
            };
            for e in list {
                // 2008-02-01T09:00:00.000Z -> 200802010900
                let ts = e["ts"].as_str().unwrap();
                let date: String = ts[..16].chars().filter(char::is_ascii_digit).collect();
                let n = |k: &str| num(&e[k].to_string());
                events.push(format!(
                    "{}|{}|{}|{}|{}|{}|{}",
                    e["type"].as_str().unwrap(),
                    date,
                    n("open"),
                    n("peak"),
                    n("low"),
                    n("close"),
                    n("volume"),
                ));
            }
        }
        out.push(events);
    }
    normalize(out)
}

/// `-- OpenCEP test 'X': input ../../data/opencep/IN, expected ../../data/opencep/expected/OUT`
fn header_paths(case_dir: &Path, pattern: &str) -> (PathBuf, PathBuf) {
    let first = pattern.lines().next().unwrap();
    let input = first
        .split("input ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .unwrap()
        .trim();
    let expected = first.split("expected ").nth(1).unwrap().trim();
    (case_dir.join(input), case_dir.join(expected))
}

#[test]
fn opencep_cases_match_exactly() {
    let Some(shared) = shared_dir() else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "the shared conformance cases (../shared/conformance/opencep) are missing in CI"
            );
        }
        eprintln!("skipped: no shared/conformance/opencep here (set DALAL_SHARED to run it)");
        return;
    };
    let case_dir = shared.join("conformance/opencep");
    let work = Dir::new();
    let mut failures = Vec::new();
    for case in CASES {
        let pattern_path = case_dir.join(format!("{case}.pattern"));
        let pattern = std::fs::read_to_string(&pattern_path).unwrap();
        let (input, expected) = header_paths(&case_dir, &pattern);
        let done = work
            .command(&[
                "run",
                pattern_path.to_str().unwrap(),
                "--input",
                input.to_str().unwrap(),
                "--no-header",
                "--columns",
                "ticker,date,open,peak,low,close,volume",
                "--type-column",
                "ticker",
                "--ts-column",
                "date",
                "--ts-format",
                "%Y%m%d%H%M",
                "--quiet",
            ])
            .run();
        assert_eq!(done.code, 0, "{case}: {}", done.stderr);
        let want = expected_matches(&std::fs::read_to_string(&expected).unwrap());
        let got = actual_matches(&done.stdout);
        assert!(!want.is_empty(), "{case}: no expected matches parsed");
        eprintln!("{case}: {} expected, {} found", want.len(), got.len());
        if want != got {
            let missing = want.iter().filter(|m| !got.contains(m)).count();
            let extra = got.iter().filter(|m| !want.contains(m)).count();
            failures.push(format!(
                "{case}: expected {} matches, got {} ({missing} missing, {extra} unexpected)",
                want.len(),
                got.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
