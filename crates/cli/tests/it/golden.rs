//! The golden replay: `dalal gen --seed 1` is the shipped sample, and replaying
//! it through the shipped library gives the committed matches, which are
//! exactly the episodes the generator planted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::util::{in_workspace, workspace_root};
use std::collections::BTreeSet;

fn golden(name: &str) -> String {
    let p = workspace_root()
        .join("crates/cli/tests/it/golden")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn shipped_sample_is_gen_seed_1() {
    let generated = in_workspace(&["gen", "--seed", "1"]).ok();
    let sample = std::fs::read_to_string(workspace_root().join("data/sample.csv")).unwrap();
    assert!(
        generated == sample,
        "data/sample.csv is not the output of `dalal gen --seed 1`; regenerate it with \
         `dalal gen --seed 1 --output data/sample.csv` and update the golden files"
    );
}

#[test]
fn default_run_gives_the_committed_matches() {
    let out = in_workspace(&["run"]).ok();
    let expected = golden("sample.matches.jsonl");
    if out != expected {
        let first = out
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(out.lines().count().min(expected.lines().count()));
        panic!(
            "`dalal run` differs from golden/sample.matches.jsonl at line {}:\n got: {:?}\nwant: {:?}",
            first + 1,
            out.lines().nth(first),
            expected.lines().nth(first)
        );
    }
}

#[test]
fn every_shipped_pattern_matches_in_the_sample() {
    let mut sources = dalal_lang::Sources::new();
    sources
        .load_path(&workspace_root().join("patterns"))
        .unwrap();
    let program = dalal_lang::compile(&sources, &[]).unwrap();
    let matched: BTreeSet<String> = golden("sample.matches.jsonl")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["pattern"].as_str().unwrap().to_string()
        })
        .collect();
    for p in &program.patterns {
        assert!(matched.contains(&p.name), "{} never matches", p.name);
    }
}

/// (pattern, key value, start, end) of a match or of a planted episode.
type Episode = (String, String, String, String);

#[test]
fn matches_are_exactly_the_planted_episodes() {
    let key_value = |v: &serde_json::Value| match v {
        serde_json::Value::Object(m) => m.values().next().map_or(String::new(), |x| {
            x.as_str().unwrap_or_default().to_string()
        }),
        serde_json::Value::String(s) => s.clone(),
        _ => String::new(),
    };
    let parse = |text: &str, only_episodes: bool| -> BTreeSet<Episode> {
        text.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| !only_episodes || v["kind"] == "episode")
            .map(|v| {
                (
                    v["pattern"].as_str().unwrap().to_string(),
                    key_value(&v["key"]),
                    v["start"].as_str().unwrap().to_string(),
                    v["end"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let truth = parse(&golden("sample.truth.jsonl"), true);
    let found = parse(&golden("sample.matches.jsonl"), false);
    assert!(!truth.is_empty());
    let missing: Vec<_> = truth.difference(&found).collect();
    let extra: Vec<_> = found.difference(&truth).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "planted but not found: {missing:#?}\nfound but not planted: {extra:#?}"
    );
}

#[test]
fn committed_truth_is_gen_seed_1() {
    let dir = crate::util::Dir::new();
    dir.command(&[
        "gen", "--seed", "1", "--output", "s.csv", "--truth", "t.jsonl",
    ])
    .ok();
    assert_eq!(dir.read("t.jsonl"), golden("sample.truth.jsonl"));
}
