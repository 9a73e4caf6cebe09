//! Bench driver for Varpulis (crates.io `varpulis-runtime` / `varpulis-sase`
//! 0.11), built by benches/harness.py in the scratch folder.
//!
//! Usage: varpulis-bench PATTERN.vpl STREAM.csv
//!
//! The pattern is a VPL stream declaration (`A as a -> B where .. as b
//! .within(..) .partition_by(..) .stnm()`), parsed by `varpulis-parser` and
//! compiled to a SASE+ pattern by the runtime's own compiler
//! (`compile_to_sase_pattern_with_resolver`), with the runtime's expression
//! evaluator for cross-event conditions. The driver then runs that pattern on
//! a `SaseEngine` directly instead of `Engine::process`, because the runtime's
//! `Engine` gives SASE runs wall-clock deadlines only (`Run::is_timed_out`
//! reads `Timestamp::now()`), so replaying a file would make `.within` measure
//! processing time; `SaseEngine::with_event_time` makes it the events'
//! timestamps, as in dalal and Siddhi's playback mode.
//!
//! Reads the CSV written by `dalal gen`, keeps the rows of the pattern's event
//! types (type, ts, symbol, price, volume: the first five columns, which
//! never hold a quoted comma), feeds them in file order and prints one line:
//! `events=<rows read> fed=<events fed> matches=<n> seconds=<in-process s>
//! runs_created=<n> runs_dropped=<n> runs_evicted=<n>`.

use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use varpulis_core::ast::{Expr, FollowedByClause, SelectionMode, Stmt, StreamOp, StreamSource};
use varpulis_core::{Event, Value};
use varpulis_runtime::engine::compiler::compile_to_sase_pattern_with_resolver;
use varpulis_runtime::engine::evaluator::RuntimeExprEvaluator;
use varpulis_runtime::sase::{SaseEngine, SelectionStrategy};

fn fail(msg: String) -> ! {
    eprintln!("varpulis-bench: {msg}");
    std::process::exit(2)
}

struct Query {
    source: StreamSource,
    clauses: Vec<FollowedByClause>,
    within: Option<Duration>,
    partition: Option<String>,
    strategy: Option<SelectionStrategy>,
}

fn query(text: &str) -> Query {
    let program = varpulis_parser::parse(text).unwrap_or_else(|e| fail(format!("parse: {e:?}")));
    for stmt in program.statements {
        if let Stmt::StreamDecl { source, ops, .. } = stmt.node {
            let mut q = Query {
                source,
                clauses: Vec::new(),
                within: None,
                partition: None,
                strategy: None,
            };
            for op in ops {
                match op {
                    StreamOp::FollowedBy(c) => q.clauses.push(c),
                    StreamOp::Within(Expr::Duration(ns)) => {
                        q.within = Some(Duration::from_nanos(ns))
                    }
                    StreamOp::PartitionBy(Expr::Ident(f)) => q.partition = Some(f),
                    StreamOp::SelectionMode(m) => {
                        q.strategy = Some(match m {
                            SelectionMode::Strict => SelectionStrategy::StrictContiguous,
                            SelectionMode::Stnm => SelectionStrategy::SkipTillNextMatch,
                            SelectionMode::Stam => SelectionStrategy::SkipTillAnyMatch,
                        })
                    }
                    other => fail(format!("operator not used by this driver: {other:?}")),
                }
            }
            return q;
        }
    }
    fail("no stream declaration in the pattern file".into())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        fail("usage: varpulis-bench PATTERN.vpl STREAM.csv".into());
    }
    let text =
        std::fs::read_to_string(&args[1]).unwrap_or_else(|e| fail(format!("{}: {e}", args[1])));
    let q = query(&text);
    let pattern =
        compile_to_sase_pattern_with_resolver(&q.source, &q.clauses, &[], q.within, &|_| None)
            .unwrap_or_else(|| fail("the runtime could not compile the pattern".into()));
    let mut types: Vec<String> = q.clauses.iter().map(|c| c.event_type.clone()).collect();
    match &q.source {
        StreamSource::Ident(n) | StreamSource::IdentWithAlias { name: n, .. } => {
            types.push(n.clone())
        }
        other => fail(format!("source not used by this driver: {other:?}")),
    }
    let mut engine = SaseEngine::new(pattern).with_event_time();
    engine.set_evaluator(Arc::new(RuntimeExprEvaluator));
    if let Some(p) = q.partition {
        engine = engine.with_partition_by(p);
    }
    if let Some(s) = q.strategy {
        engine = engine.with_strategy(s);
    }

    let start = Instant::now();
    let file = std::fs::File::open(&args[2]).unwrap_or_else(|e| fail(format!("{}: {e}", args[2])));
    let mut lines = BufReader::with_capacity(1 << 20, file).lines();
    let _header = lines.next();
    let (mut rows, mut fed, mut matches) = (0u64, 0u64, 0u64);
    for line in lines {
        let line = line.unwrap_or_else(|e| fail(format!("read: {e}")));
        rows += 1;
        let mut cols = line.splitn(6, ',');
        let ty = cols.next().unwrap_or("");
        if !types.iter().any(|t| t == ty) {
            continue;
        }
        let (ts, symbol, price, volume) = (
            cols.next().unwrap_or(""),
            cols.next().unwrap_or(""),
            cols.next().unwrap_or(""),
            cols.next().unwrap_or(""),
        );
        let ts: DateTime<Utc> = ts
            .parse()
            .unwrap_or_else(|e| fail(format!("row {rows}: ts {ts:?}: {e}")));
        let mut event = Event::new_at(ty, ts).with_field("symbol", symbol);
        if let Ok(p) = price.parse::<f64>() {
            event = event.with_field("price", Value::Float(p));
        }
        if let Ok(v) = volume.parse::<i64>() {
            event = event.with_field("volume", Value::Int(v));
        }
        fed += 1;
        matches += engine.process(&event).len() as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    // Dropped or evicted runs (the per-partition run cap) would lose matches.
    let st = engine.extended_stats();
    println!(
        "events={rows} fed={fed} matches={matches} seconds={secs:.3} runs_created={} \
         runs_dropped={} runs_evicted={}",
        st.total_runs_created, st.total_runs_dropped, st.total_runs_evicted
    );
}
