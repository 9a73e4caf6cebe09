//! Criterion benchmarks of the engine alone on pre-decoded events.
//!
//! `cargo bench -p dalal-benches` (all), or a filter:
//! `cargo bench -p dalal-benches -- shapes/seq2`. Throughput is reported in
//! events per second (`Throughput::Elements`). Each benchmark runs a fresh
//! engine over the whole stream and drains every match; building the stream
//! (cloning the event vector) is not timed.
#![allow(missing_docs)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use dalal::Program;
use dalal_benches::{
    SHAPES, STRATEGIES, Workload, adversarial, events, many_patterns, program, run,
};
use std::time::Duration;

const EVENTS: usize = 50_000;

fn bench_one(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: &str,
    p: &Program,
    n: usize,
    symbols: usize,
) {
    let evs = events(p, n, symbols);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(id, |b| {
        b.iter_batched(|| evs.clone(), |evs| run(p, evs), BatchSize::LargeInput)
    });
}

fn compile(w: &Workload) -> Program {
    program(w.patterns).unwrap_or_else(|e| panic!("{}: {e}", w.name))
}

fn configure<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g
}

fn shapes(c: &mut Criterion) {
    let mut g = configure(c, "shapes");
    for w in SHAPES {
        bench_one(&mut g, w.name, &compile(w), EVENTS, 100);
    }
    g.finish();
}

fn strategies(c: &mut Criterion) {
    let mut g = configure(c, "strategies");
    for w in STRATEGIES {
        bench_one(&mut g, w.name, &compile(w), EVENTS, 100);
    }
    g.finish();
}

fn partitions(c: &mut Criterion) {
    let mut g = configure(c, "partitions");
    let p = compile(&SHAPES[0]);
    for k in [10, 10_000] {
        bench_one(&mut g, &format!("seq2_{k}"), &p, EVENTS, k);
    }
    g.finish();
}

/// Skip till any match at the run cap: every event meets a full partition
/// of runs (the cost of the cap's worst case, and proof it holds).
fn adversarial_cap(c: &mut Criterion) {
    let mut g = configure(c, "adversarial");
    // At the cap every event steps 10,000 runs: a few hundred events suffice.
    let n = 300;
    g.throughput(Throughput::Elements(n as u64));
    for cap in [1_000, 10_000] {
        g.bench_function(format!("any_kleene_cap_{cap}"), |b| {
            b.iter(|| {
                let x = adversarial(n, cap).unwrap_or_else(|e| panic!("{e}"));
                assert!(x.peak_runs <= cap as u64);
                x
            })
        });
    }
    g.finish();
}

fn patterns(c: &mut Criterion) {
    let mut g = configure(c, "patterns");
    for n in [1, 100] {
        let p = program(&many_patterns(n)).unwrap_or_else(|e| panic!("{e}"));
        // 100 patterns do 100 times the work per event: fewer events.
        let evs = if n == 1 { EVENTS } else { EVENTS / 10 };
        bench_one(&mut g, &format!("seq2_x{n}"), &p, evs, 100);
    }
    g.finish();
}

criterion_group!(
    benches,
    shapes,
    strategies,
    partitions,
    patterns,
    adversarial_cap
);
criterion_main!(benches);
