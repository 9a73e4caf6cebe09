//! Property tests: random patterns (as text) over random small streams; the
//! engine must produce exactly the matches of the brute-force reference
//! matcher in `reference/`, in the reference's order within each partition,
//! however the stream is fed (batches, reordered within max_delay, through a
//! snapshot). A failure prints the pattern text and the stream as CSV; add
//! each bug found as a case file in `tests/cases/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod reference;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use reference::engine::{self as eng, Feed};
use reference::{RVal, RefEvent, case};

const TYPES: [&str; 4] = ["A", "B", "C", "D"];
const SCHEMA: &str = "EVENT A (id INT, k STRING, x INT, y FLOAT, s STRING);
EVENT B (id INT, k STRING, x INT, y FLOAT, s STRING);
EVENT C (id INT, k STRING, x INT, y FLOAT, s STRING);
EVENT D (id INT, k STRING, x INT, y FLOAT, s STRING);
";
const QUANTS: [(&str, u32, Option<u32>); 6] = [
    ("+", 1, None),
    ("*", 0, None),
    ("{2}", 2, Some(2)),
    ("{1,}", 1, None),
    ("{0,2}", 0, Some(2)),
    ("{2,3}", 2, Some(3)),
];

/// One element before it becomes text: (kind, type, quantifier choice).
type ElemSeed = (u8, u8, u8);
/// One condition: (template, variable choice, variable choice, constant).
type CondSeed = (u8, u8, u8, u8);

#[derive(Clone, Debug)]
struct PatSeed {
    elems: Vec<ElemSeed>,
    conds: Vec<CondSeed>,
    emits: Vec<(u8, u8)>,
    within: u8,
    partition: u8,
    strategy: u8,
    after: u8,
}

/// One event: (type choice, ts step in seconds, k, x, y in halves, s).
type EvSeed = (u8, u8, Option<bool>, Option<u8>, Option<u8>, Option<u8>);

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Single,
    Kleene(u32, Option<u32>),
    Negated,
}

#[derive(Clone, Debug)]
struct V {
    name: String,
    kind: Kind,
    /// Top-level element index.
    pos: usize,
}

fn pat_seed() -> impl Strategy<Value = PatSeed> {
    (
        prop::collection::vec((0u8..10, ty(), 0u8..6), 1..=4),
        prop::collection::vec((0u8..24, any::<u8>(), any::<u8>(), 0u8..4), 0..=4),
        prop::collection::vec((0u8..13, any::<u8>()), 0..=3),
        0u8..4,
        0u8..4,
        0u8..3,
        0u8..3,
    )
        .prop_map(
            |(elems, conds, emits, within, partition, strategy, after)| PatSeed {
                elems,
                conds,
                emits,
                within,
                partition,
                strategy,
                after,
            },
        )
}

/// Patterns whose elements are all singletons (no Kleene, `NOT`, `OR` or
/// `AND`): the engine steps these plain sequences directly instead of
/// through the general exploration, so they get a property of their own.
fn plain_pat_seed() -> impl Strategy<Value = PatSeed> {
    pat_seed().prop_map(|mut p| {
        for e in &mut p.elems {
            e.0 %= 4;
        }
        p
    })
}

/// Patterns of singletons and Kleene variables with a minimum of at least
/// one (`+`, `{2}`, `{1,}`, `{2,3}`): the engine's linear step.
fn linear_pat_seed() -> impl Strategy<Value = PatSeed> {
    pat_seed().prop_map(|mut p| {
        for e in &mut p.elems {
            // Kinds 0..=5 are singletons and Kleene members; quantifiers
            // 1 (`*`) and 4 (`{0,2}`) may be empty, so they are moved on.
            e.0 %= 6;
            if e.2 == 1 || e.2 == 4 {
                e.2 += 1;
            }
        }
        p
    })
}

/// One Kleene element (never empty) under conditions that read only the
/// event being bound (`v0[i].x >= 2`, ...) and sometimes `v0[i-1]`, or
/// none: the engine's counting step under skip till next match and strict
/// contiguity (`v0[i-1]` under strict contiguity only).
fn counting_pattern() -> impl Strategy<Value = String> {
    (
        pat_seed(),
        prop::collection::vec((0u8..6, 0u8..4), 0..=2),
        0usize..4,
    )
        .prop_filter_map("no pattern", |(mut p, local, q)| {
            let ty = p.elems.first().map_or(0, |e| e.1);
            // `+`, `{2}`, `{1,}`, `{2,3}`.
            p.elems = vec![(4, ty, [0u8, 2, 3, 5][q])];
            p.conds.clear();
            let text = build(&p)?;
            let conds: Vec<String> = local
                .iter()
                .map(|&(t, c)| match t {
                    0 => format!("v0[i].x >= {c}"),
                    1 => format!("v0[i].y < {c}.5"),
                    2 => "v0[i].s = 'u'".to_string(),
                    3 => format!("v0[i].x % 2 = {}", c % 2),
                    // On `v0[i-1]` too: counted under strict contiguity.
                    4 => "v0[i].x >= v0[i-1].x".to_string(),
                    _ => format!("v0[i].y > v0[i-1].y - {c}.0"),
                })
                .collect();
            if conds.is_empty() {
                return Some(text);
            }
            let where_ = format!(")\n  WHERE {}\n", conds.join(" AND "));
            Some(text.replacen(")\n", &where_, 1))
        })
}

/// Event types, weighted so that patterns and streams often share types
/// (D is mostly the type no pattern element uses).
fn ty() -> impl Strategy<Value = u8> {
    prop_oneof![4 => Just(0u8), 3 => Just(1u8), 2 => Just(2u8), 1 => Just(3u8)]
}

fn stream_seed() -> impl Strategy<Value = Vec<EvSeed>> {
    let cell = |n: u8| prop_oneof![1 => Just(None), 7 => (0..n).prop_map(Some)];
    prop::collection::vec(
        (
            0u8..8,
            prop_oneof![2 => Just(0u8), 3 => Just(1u8), 1 => Just(2u8)],
            prop_oneof![1 => Just(None), 12 => any::<bool>().prop_map(Some)],
            cell(4),
            cell(5),
            cell(2),
        ),
        2..=12,
    )
}

/// Builds the pattern text; `None` when the seed gives no sensible pattern.
fn build(seed: &PatSeed) -> Option<String> {
    Some(format!("{SCHEMA}{}", build_pattern(seed, "prop")?))
}

/// One `PATTERN` item named `name`.
fn build_pattern(seed: &PatSeed, name: &str) -> Option<String> {
    let mut vars: Vec<V> = Vec::new();
    let mut parts: Vec<String> = Vec::new();
    let mut kleenes = 0;
    for (pos, &(kind, ty, q)) in seed.elems.iter().enumerate() {
        let var = |kind: Kind, vars: &mut Vec<V>| -> String {
            let name = format!("v{}", vars.len());
            vars.push(V {
                name: name.clone(),
                kind,
                pos,
            });
            name
        };
        let t = TYPES[ty as usize];
        let t2 = TYPES[(ty as usize + 1) % 4];
        let quant = QUANTS[q as usize];
        let mut member = |t: &str, kleene: bool, vars: &mut Vec<V>| -> String {
            if kleene && kleenes < 2 {
                kleenes += 1;
                let n = var(Kind::Kleene(quant.1, quant.2), vars);
                format!("{t} {n}{}", quant.0)
            } else {
                let n = var(Kind::Single, vars);
                format!("{t} {n}")
            }
        };
        let text = match kind {
            0..=3 => member(t, false, &mut vars),
            4 | 5 => member(t, true, &mut vars),
            6 => format!("NOT {t} {}", var(Kind::Negated, &mut vars)),
            7 => {
                let a = member(t, q % 2 == 1, &mut vars);
                let b = member(t2, false, &mut vars);
                format!("OR({a}, {b})")
            }
            _ => {
                let a = member(t, q % 3 == 1, &mut vars);
                let b = member(t2, false, &mut vars);
                format!("AND({a}, {b})")
            }
        };
        parts.push(text);
    }
    if vars.iter().all(|v| v.kind == Kind::Negated) {
        return None;
    }
    let singles: Vec<&V> = vars.iter().filter(|v| v.kind == Kind::Single).collect();
    let nots: Vec<&V> = vars.iter().filter(|v| v.kind == Kind::Negated).collect();
    let kls: Vec<&V> = vars
        .iter()
        .filter(|v| matches!(v.kind, Kind::Kleene(..)))
        .collect();
    let pick = |list: &[&V], i: u8| -> Option<String> {
        (!list.is_empty()).then(|| list[i as usize % list.len()].name.clone())
    };
    // Singles and NOT variables (a condition may mention one NOT variable).
    let scalar: Vec<&V> = singles.iter().chain(nots.iter()).copied().collect();
    let mut conds = Vec::new();
    for &(tmpl, a, b, c) in &seed.conds {
        // 12.. weigh the Kleene templates up (they fall back to others).
        let tmpl = match tmpl {
            12 | 13 if !kls.is_empty() => 5,
            14 | 15 if !kls.is_empty() => 6,
            16 if !kls.is_empty() => 3,
            17 if !kls.is_empty() => 7,
            18.. => 12 + tmpl % 6,
            t => t % 12,
        };
        let cond = match tmpl {
            0 => {
                let x = pick(&scalar, a)?;
                let y = pick(&singles, b)?;
                // One side per variable, with an arithmetic step and INT
                // against FLOAT: the comparisons a plain sequence splits.
                (x != y).then(|| match c {
                    0 => format!("{x}.x > {y}.x"),
                    1 => format!("{x}.y * 2 <= {y}.x"),
                    2 => format!("{x}.x - 1 = {y}.y"),
                    _ => format!("{y}.x <> {x}.x + 1"),
                })
            }
            1 => {
                let x = pick(&scalar, a)?;
                let y = pick(&singles, b)?;
                (x != y).then(|| format!("{x}.y <= {y}.y + {c}.5"))
            }
            2 => pick(&scalar, a).map(|x| format!("{x}.x >= {c}")),
            3 => pick(&kls, a).map(|t| {
                if b % 2 == 0 {
                    format!("{t}[i].x > {t}[i-1].x")
                } else {
                    format!("{t}[i].y >= {t}[i-1].y")
                }
            }),
            4 => pick(&kls, a).map(|t| {
                if b % 2 == 0 {
                    format!("{t}[i].y > avg({t}[..i-1].y)")
                } else {
                    format!("{t}[i].x >= avg({t}[..i-1].x)")
                }
            }),
            5 => pick(&kls, a).map(|t| format!("count({t}) >= {}", c % 3)),
            6 => pick(&kls, a).map(|t| match b % 4 {
                0 => format!("sum({t}.x) > {c}"),
                1 => format!("min({t}.x) >= {}", c % 2),
                2 => format!("max({t}.y) < {c}.5"),
                _ => format!("avg({t}.x) > {c}"),
            }),
            7 => {
                let t = pick(&kls, a)?;
                let x = pick(&scalar, b)?;
                Some(if c % 2 == 0 {
                    format!("{t}[1].x <= {x}.x")
                } else {
                    format!("{t}[last].x > {x}.x")
                })
            }
            8 => {
                // Iterative with an earlier singleton.
                let t = kls.get(a as usize % kls.len().max(1))?;
                let before: Vec<&V> = singles.iter().filter(|v| v.pos < t.pos).copied().collect();
                let x = pick(&before, b)?;
                Some(format!("{}[i].x >= {x}.x", t.name))
            }
            9 => {
                let x = pick(&scalar, a)?;
                let y = pick(&singles, b)?;
                (x != y).then(|| {
                    if c % 2 == 0 {
                        format!("{x}.s = {y}.s")
                    } else {
                        format!("{x}.k != 'p'")
                    }
                })
            }
            10 => {
                let x = pick(&scalar, a)?;
                let y = pick(&singles, b)?;
                (x != y).then(|| {
                    if c % 2 == 0 {
                        format!("NOT ({x}.x > {y}.x)")
                    } else {
                        format!("({x}.x > {c} OR {y}.y < 1.0)")
                    }
                })
            }
            11 => {
                let x = pick(&scalar, a)?;
                let y = pick(&singles, b)?;
                (x != y).then(|| format!("{x}.ts - {y}.ts >= {}ms", 1000 * u32::from(c % 3)))
            }
            // Expression variety for the two evaluators (single variable).
            _ => {
                let x = pick(&scalar, a)?;
                let y = pick(&singles, b).unwrap_or_else(|| x.clone());
                Some(match b % 10 {
                    0 => format!("{x}.s IN ('u', 'w')"),
                    1 => format!("{x}.x BETWEEN 1 AND {}", c + 1),
                    2 => format!("coalesce({x}.x, {c}) >= 2"),
                    3 => format!("{x}.x % 2 = {}", c % 2),
                    4 => format!("abs({x}.x - {y}.x) <= {c}"),
                    5 => format!("{x}.x / ({y}.x - 1) >= {}", c % 2),
                    6 => format!("{x}.y / {y}.y >= 1.0"),
                    7 => format!("{x}.x * 2 - {y}.x > {c}"),
                    8 => format!("NOT ({x}.s = 'u' OR {x}.x IN (1, 3))"),
                    _ => format!("upper({x}.s) = 'U' AND length({x}.k) = 1"),
                })
            }
        };
        if let Some(cond) = cond {
            conds.push(cond);
        }
    }
    let mut emits = Vec::new();
    for (i, &(tmpl, a)) in seed.emits.iter().enumerate() {
        let e = match tmpl {
            0 => pick(&singles, a).map(|x| format!("{x}.x")),
            1 => pick(&singles, a).map(|x| format!("{x}.y * 2.0")),
            2 => pick(&kls, a).map(|t| format!("count({t})")),
            3 => pick(&kls, a).map(|t| format!("sum({t}.x)")),
            4 => pick(&kls, a).map(|t| format!("avg({t}.y)")),
            5 => pick(&kls, a).map(|t| format!("{t}[last].y")),
            6 => pick(&kls, a).map(|t| format!("max({t}.x) - min({t}.x)")),
            7 => pick(&singles, a).map(|x| format!("{x}.ts - {x}.ts + 1000ms")),
            8 => pick(&singles, a).map(|x| format!("{x}.x / 2")),
            9 => pick(&singles, a).map(|x| format!("coalesce({x}.s, 'none')")),
            10 => pick(&singles, a).map(|x| format!("{x}.y / ({x}.y - 0.5)")),
            11 => pick(&kls, a).map(|t| format!("min({t}.s)")),
            _ => pick(&kls, a).map(|t| format!("count({t}.x) + count({t})")),
        };
        if let Some(e) = e {
            emits.push(format!("{e} AS e{i}"));
        }
    }
    let mut text = format!("PATTERN {name}\n  SEQ({})\n", parts.join(", "));
    if !conds.is_empty() {
        text.push_str(&format!("  WHERE {}\n", conds.join(" AND ")));
    }
    text.push_str(&format!(
        "  WITHIN {}ms\n",
        [1000, 2000, 3000, 100_000][seed.within as usize]
    ));
    match seed.partition {
        1 | 2 => text.push_str("  PARTITION BY k\n"),
        3 => text.push_str("  PARTITION BY k, s\n"),
        _ => {}
    }
    text.push_str(
        [
            "  STRICT CONTIGUITY\n",
            "  SKIP TILL NEXT MATCH\n",
            "  SKIP TILL ANY MATCH\n",
        ][seed.strategy as usize],
    );
    text.push_str(
        [
            "  AFTER MATCH SKIP PAST LAST EVENT\n",
            "  AFTER MATCH SKIP TO NEXT EVENT\n",
            "  AFTER MATCH NO SKIP\n",
        ][seed.after as usize],
    );
    if !emits.is_empty() {
        text.push_str(&format!("  EMIT {}\n", emits.join(", ")));
    }
    text.push_str(";\n");
    Some(text)
}

/// The stream as reference events (arrival order = generation order). The
/// type byte picks one of the pattern's routed types, or (7) a type the
/// pattern does not use, so that most events matter.
fn events(program: &dalal_lang::typed::Program, seed: &[EvSeed]) -> Vec<RefEvent> {
    events_x(program, seed, i64::from)
}

/// Like [`events`], with `x` values mapped by `xmap`.
fn events_x(
    program: &dalal_lang::typed::Program,
    seed: &[EvSeed],
    xmap: fn(u8) -> i64,
) -> Vec<RefEvent> {
    let mut routed: Vec<dalal_lang::typed::TypeId> = program
        .patterns
        .iter()
        .flat_map(|p| p.routed_types.iter().copied())
        .collect();
    routed.sort();
    routed.dedup();
    let unused = (0..program.types.len())
        .map(dalal_lang::typed::TypeId::from_index)
        .find(|t| !routed.contains(t))
        .unwrap_or(routed[0]);
    let mut ts = 1_700_000_000_000i64;
    seed.iter()
        .enumerate()
        .map(|(i, &(ty, step, q, x, y, s))| {
            ts += i64::from(step) * 1000;
            let tid = if ty == 7 {
                unused
            } else {
                routed[ty as usize % routed.len()]
            };
            let name = program.event_type(tid).name.clone();
            RefEvent {
                arrival: i,
                ty: tid,
                type_name: name,
                ts: ts * 1_000_000,
                fields: vec![
                    RVal::Int(i as i64),
                    q.map_or(RVal::Null, |q| RVal::Str(if q { "q" } else { "p" }.into())),
                    x.map_or(RVal::Null, |x| RVal::Int(xmap(x))),
                    y.map_or(RVal::Null, |y| RVal::Float(f64::from(y) * 0.5)),
                    s.map_or(RVal::Null, |s| RVal::Str(["u", "v"][s as usize].into())),
                ],
            }
        })
        .collect()
}

type RefOut = Vec<reference::KeyedLine>;

/// Compiles and runs the reference; `None` when the pattern does not compile.
fn reference_of(text: &str, evs: &[RefEvent]) -> Option<Result<RefOut, String>> {
    let program = case::compile(text).ok()?;
    Some(reference::reference_lines(&program, evs))
}

fn compare(text: &str, evs: &[RefEvent], feed: &Feed) -> Result<(), TestCaseError> {
    compare_on(text, evs, evs, feed)
}

/// The engine fed `evs` must match the reference run on `kept` (the events
/// that are not late).
fn compare_on(
    text: &str,
    evs: &[RefEvent],
    kept: &[RefEvent],
    feed: &Feed,
) -> Result<(), TestCaseError> {
    let program = match case::compile(text) {
        Ok(p) => p,
        Err(e) => return Err(TestCaseError::reject(format!("does not compile: {e}"))),
    };
    let repro = || {
        format!(
            "\n--- pattern\n{text}--- events\n{}feed: {feed:?}",
            case::to_csv(&program, evs)
        )
    };
    let want = match reference_of(text, kept) {
        Some(Ok(w)) => w,
        Some(Err(e)) => return Err(TestCaseError::reject(format!("reference: {e}"))),
        None => return Err(TestCaseError::reject("does not compile")),
    };
    let got = eng::run(text, evs, feed)
        .map_err(|e| TestCaseError::fail(format!("engine error: {e}{}", repro())))?;
    // The key (pattern and partition) is part of what must agree.
    let want_lines: Vec<String> = want.iter().map(|(k, l, _)| format!("{k} :: {l}")).collect();
    let got_lines: Vec<String> = got
        .iter()
        .map(|m| format!("{} :: {}", m.key, m.line))
        .collect();
    reference::same_lines("engine vs reference", &want_lines, &got_lines)
        .map_err(|e| TestCaseError::fail(format!("{e}{}", repro())))?;
    let keyed: Vec<(String, String)> = got.into_iter().map(|m| (m.key, m.line)).collect();
    reference::same_order(&want, &keyed)
        .map_err(|e| TestCaseError::fail(format!("order: {e}{}", repro())))?;
    Ok(())
}

/// With events pushed one by one in time order (max_delay 0), each match is
/// drained right after the push of its last bound event, and a trailing-NOT
/// match right after the first event (of any type or key) past its window,
/// or at `finish` when there is none.
fn prompt(text: &str, evs: &[RefEvent]) -> Result<(), TestCaseError> {
    let program = case::compile(text).map_err(|_| TestCaseError::reject("does not compile"))?;
    let repro = || {
        format!(
            "\n--- pattern\n{text}--- events\n{}",
            case::to_csv(&program, evs)
        )
    };
    let mut want = Vec::new();
    for pi in 0..program.patterns.len() {
        let ms = reference::matcher::run(&program, pi, evs)
            .map_err(|e| TestCaseError::reject(format!("reference: {e}")))?;
        for m in ms {
            let line = reference::render_line(&program, evs, &m.vars, &m.emits);
            want.push((m.key, line, m.known));
        }
    }
    let got = eng::run(text, evs, &Feed::All)
        .map_err(|e| TestCaseError::fail(format!("engine error: {e}{}", repro())))?;
    for g in &got {
        let Some((_, _, known)) = want.iter().find(|(k, l, _)| *k == g.key && *l == g.line) else {
            continue; // a wrong match is the other properties' business
        };
        let expected = match known {
            Ok(i) => Some(*i),
            Err(deadline) => evs.iter().position(|e| e.ts > *deadline),
        };
        if g.after != expected {
            return Err(TestCaseError::fail(format!(
                "`{}` drained after event {:?}, expected after {:?} (None = at finish){}",
                g.line,
                g.after,
                expected,
                repro()
            )));
        }
    }
    Ok(())
}

/// The engine equals the reference on the whole stream, and with a
/// snapshot and restore half-way.
fn whole_and_restored(p: &PatSeed, s: &[EvSeed]) -> Result<(), TestCaseError> {
    let Some(text) = build(p) else {
        return Err(TestCaseError::reject("no pattern"));
    };
    text_whole_and_restored(&text, s)
}

fn text_whole_and_restored(text: &str, s: &[EvSeed]) -> Result<(), TestCaseError> {
    let text = text.to_string();
    let Ok(program) = case::compile(&text) else {
        return Err(TestCaseError::reject("does not compile"));
    };
    let evs = events(&program, s);
    compare(&text, &evs, &Feed::All)?;
    compare(&text, &evs, &Feed::Snapshot { at: s.len() / 2 })
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        max_global_rejects: cases * 20,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn engine_matches_reference(p in pat_seed(), s in stream_seed()) {
        let text = build(&p);
        prop_assume!(text.is_some());
        let text = text.unwrap();
        let Ok(program) = case::compile(&text) else { return Err(TestCaseError::reject("does not compile")) };
        let evs = events(&program, &s);
        compare(&text, &evs, &Feed::All)?;
    }

    #[test]
    fn plain_sequences_match_reference(p in plain_pat_seed(), s in stream_seed()) {
        whole_and_restored(&p, &s)?;
    }

    #[test]
    fn linear_sequences_match_reference(p in linear_pat_seed(), s in stream_seed()) {
        whole_and_restored(&p, &s)?;
    }

    #[test]
    fn counting_patterns_match_reference(p in counting_pattern(), s in stream_seed()) {
        text_whole_and_restored(&p, &s)?;
    }

    #[test]
    fn batch_splits_do_not_change_matches(p in pat_seed(), s in stream_seed(), sizes in prop::collection::vec(0usize..4, 0..6)) {
        let text = build(&p);
        prop_assume!(text.is_some());
        let text = text.unwrap();
        let Ok(program) = case::compile(&text) else { return Err(TestCaseError::reject("does not compile")) };
        let evs = events(&program, &s);
        compare(&text, &evs, &Feed::Batches(sizes))?;
    }

    #[test]
    fn reordering_within_max_delay_does_not_change_matches(p in pat_seed(), s in stream_seed(), jitter in prop::collection::vec(0i64..2000, 12)) {
        let text = build(&p);
        prop_assume!(text.is_some());
        let text = text.unwrap();
        let Ok(program) = case::compile(&text) else { return Err(TestCaseError::reject("does not compile")) };
        let mut evs = events(&program, &s);
        // Arrival by ts + jitter (jitter < max_delay): nothing is late, but
        // events (equal timestamps included) arrive out of order.
        let key = |e: &RefEvent| e.ts + jitter[e.arrival % jitter.len()] * 1_000_000;
        evs.sort_by_key(|e| (key(e), e.arrival));
        for (i, e) in evs.iter_mut().enumerate() {
            e.arrival = i;
        }
        compare(&text, &evs, &Feed::Shuffled { max_delay_ms: 2000 })?;
    }

    #[test]
    fn matches_are_emitted_as_soon_as_complete(p in pat_seed(), s in stream_seed()) {
        let text = build(&p);
        prop_assume!(text.is_some());
        let text = text.unwrap();
        let Ok(program) = case::compile(&text) else { return Err(TestCaseError::reject("does not compile")) };
        let evs = events(&program, &s);
        prompt(&text, &evs)?;
    }

    #[test]
    fn several_patterns_in_one_program(p in pat_seed(), q in pat_seed(), s in stream_seed()) {
        let (a, b) = (build_pattern(&p, "first"), build_pattern(&q, "second"));
        prop_assume!(a.is_some() && b.is_some());
        let text = format!("{SCHEMA}{}{}", a.unwrap(), b.unwrap());
        let Ok(program) = case::compile(&text) else { return Err(TestCaseError::reject("does not compile")) };
        let evs = events(&program, &s);
        compare(&text, &evs, &Feed::All)?;
    }

    #[test]
    fn late_events_are_counted_and_dropped(p in pat_seed(), s in stream_seed(), jitter in prop::collection::vec(0i64..3000, 12), delay in 0u64..2) {
        let text = build(&p);
        prop_assume!(text.is_some());
        let text = text.unwrap();
        let Ok(program) = case::compile(&text) else { return Err(TestCaseError::reject("does not compile")) };
        let mut evs = events(&program, &s);
        let key = |e: &RefEvent| e.ts + jitter[e.arrival % jitter.len()] * 1_000_000;
        evs.sort_by_key(|e| (key(e), e.arrival));
        for (i, e) in evs.iter_mut().enumerate() {
            e.arrival = i;
        }
        // Late: older than the watermark (largest ts so far - max_delay).
        let max_delay_ms = delay * 1000;
        let mut max_ts = i64::MIN;
        let mut kept = Vec::new();
        for e in &evs {
            if max_ts != i64::MIN && e.ts < max_ts - max_delay_ms as i64 * 1_000_000 {
                continue;
            }
            max_ts = max_ts.max(e.ts);
            let mut k = e.clone();
            k.arrival = kept.len();
            kept.push(k);
        }
        let late = (evs.len() - kept.len()) as u64;
        compare_on(&text, &evs, &kept, &Feed::Late { max_delay_ms, late })?;
    }

    #[test]
    fn extreme_values_match_reference(p in pat_seed(), s in stream_seed()) {
        let text = build(&p);
        prop_assume!(text.is_some());
        let text = text.unwrap();
        let Ok(program) = case::compile(&text) else { return Err(TestCaseError::reject("does not compile")) };
        // Overflowing sums, abs and negation of i64::MIN: NULL, never a panic.
        let evs = events_x(&program, &s, |x| [0, 1, i64::MAX, i64::MIN][x as usize % 4]);
        compare(&text, &evs, &Feed::All)?;
    }

    #[test]
    fn snapshot_restore_mid_stream_does_not_change_matches(p in pat_seed(), s in stream_seed(), at in 0usize..13) {
        let text = build(&p);
        prop_assume!(text.is_some());
        let text = text.unwrap();
        let Ok(program) = case::compile(&text) else { return Err(TestCaseError::reject("does not compile")) };
        let evs = events(&program, &s);
        compare(&text, &evs, &Feed::Snapshot { at })?;
    }
}

/// The generator must mostly produce patterns that compile (else the
/// properties test little).
#[test]
fn generated_patterns_mostly_compile() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut ok, mut total) = (0, 0);
    for _ in 0..300 {
        let seed = pat_seed().new_tree(&mut runner).unwrap().current();
        if let Some(text) = build(&seed) {
            total += 1;
            match case::compile(&text) {
                Ok(_) => ok += 1,
                Err(e) => eprintln!("{text}{e}"),
            }
        }
    }
    assert!(
        ok * 10 >= total * 9,
        "only {ok} of {total} generated patterns compile"
    );
}

/// The generated streams must often produce matches (else agreement on
/// "no match" would be all the properties check).
#[test]
fn generated_cases_often_match() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut with_matches, mut total, mut matches) = (0, 0, 0);
    for i in 0..300 {
        let seed = pat_seed().new_tree(&mut runner).unwrap().current();
        let stream = stream_seed().new_tree(&mut runner).unwrap().current();
        let Some(text) = build(&seed) else { continue };
        let Ok(program) = case::compile(&text) else {
            continue;
        };
        let evs = events(&program, &stream);
        let Some(Ok(out)) = reference_of(&text, &evs) else {
            continue;
        };
        total += 1;
        matches += out.len();
        if !out.is_empty() {
            with_matches += 1;
        }
        if i < 3 {
            eprintln!(
                "{text}{}=> {} matches",
                case::to_csv(&program, &evs),
                out.len()
            );
        }
    }
    eprintln!("{with_matches} of {total} cases match ({matches} matches)");
    assert!(
        with_matches * 5 >= total,
        "only {with_matches} of {total} generated cases have a match"
    );
}
