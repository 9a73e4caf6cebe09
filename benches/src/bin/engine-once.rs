//! Runs one benchmark workload once and prints its match count: the target
//! for instruction-count profiles (`valgrind --tool=callgrind`), which are
//! stable on a busy machine where wall-clock benchmarks are not.
//!
//! `engine-once <workload> [events] [symbols]`, where the workload is a name
//! of `SHAPES` or `STRATEGIES`, or `xN` for N copies of SEQ-2, or
//! `adversarial_any [events] [run cap]` (one symbol, runs at the cap).
//! `engine-once list` prints the names of `SHAPES` and `STRATEGIES` (the
//! training set of `benches/pgo.sh`).

use dalal_benches::{SHAPES, STRATEGIES, events, many_patterns, program, run};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map_or("seq2", String::as_str);
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(50_000);
    let symbols: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100);
    if name == "list" {
        for w in SHAPES.iter().chain(STRATEGIES) {
            println!("{}", w.name);
        }
        return ExitCode::SUCCESS;
    }
    if name == dalal_benches::ADVERSARIAL.name {
        // The third argument is the run cap here.
        let cap = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10_000);
        let t = std::time::Instant::now();
        return match dalal_benches::adversarial(n, cap) {
            Ok(x) => {
                println!(
                    "{name}: {n} events, cap {cap}, peak runs {}, dropped runs {}, {:.0} ev/s",
                    x.peak_runs,
                    x.dropped_runs,
                    n as f64 / t.elapsed().as_secs_f64()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        };
    }
    let text = match name.strip_prefix('x').and_then(|k| k.parse::<usize>().ok()) {
        Some(k) => many_patterns(k),
        None => match SHAPES.iter().chain(STRATEGIES).find(|w| w.name == name) {
            Some(w) => w.patterns.to_string(),
            None => {
                eprintln!("unknown workload {name}");
                return ExitCode::from(2);
            }
        },
    };
    let p = match program(&text) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let evs = events(&p, n, symbols);
    let t = std::time::Instant::now();
    let m = run(&p, evs);
    let dt = t.elapsed();
    println!(
        "{name}: {n} events, {symbols} symbols, {m} matches, {:.0} ev/s",
        n as f64 / dt.as_secs_f64()
    );
    if std::env::var_os("DALAL_BENCH_RUNS").is_some() {
        let (avg, peak) = dalal_benches::live_runs(&p, events(&p, n, symbols));
        println!("live runs: {avg:.1} on average after an event, peak {peak}");
    }
    ExitCode::SUCCESS
}
