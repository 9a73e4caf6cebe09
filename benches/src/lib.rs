//! Workloads for the dalal benchmarks: pattern texts and a deterministic,
//! pre-decoded event stream built in memory, so a benchmark measures the
//! engine alone (no file reading, no parsing).
//!
//! The stream interleaves `Trade (symbol, price, volume)` and
//! `News (symbol, headline)` events one millisecond apart over `symbols`
//! symbols; each symbol's price is a random walk, so `b.price > a.price` holds
//! about half the time, as in a real tape. The same arguments always give the
//! same events.

use dalal::{Config, Engine, Event, EventTime, Program, Value};

/// With the `jemalloc` feature, the allocator of the `dalal` binary, so the
/// in-engine figures can be read with it too (docs/PERFORMANCE.md).
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The event declarations every workload uses.
pub const TYPES: &str = "
EVENT Trade (symbol STRING, price FLOAT, volume INT);
EVENT News (symbol STRING, headline STRING);
";

/// One benchmark workload: a name and its pattern text (without `TYPES`).
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// Short name, used as the criterion benchmark id.
    pub name: &'static str,
    /// The `PATTERN` items.
    pub patterns: &'static str,
}

/// The single-pattern workloads of the issue "Speed", run over 100 symbols.
pub const SHAPES: &[Workload] = &[
    Workload {
        name: "seq2",
        patterns: "PATTERN seq2 SEQ(Trade a, Trade b)
            WHERE b.price > a.price * 1.002 AND b.volume > a.volume
            WITHIN 10s PARTITION BY symbol;",
    },
    Workload {
        name: "seq3",
        patterns: "PATTERN seq3 SEQ(Trade a, Trade b, Trade c)
            WHERE b.price > a.price * 1.001 AND c.price > b.price * 1.001 AND c.volume > a.volume
            WITHIN 10s PARTITION BY symbol;",
    },
    Workload {
        name: "kleene_iter",
        patterns: "PATTERN kleene_iter SEQ(Trade t{4,}) WHERE t[i].price > t[i-1].price
            WITHIN 10s PARTITION BY symbol;",
    },
    Workload {
        name: "kleene_avg",
        patterns: "PATTERN kleene_avg SEQ(Trade t{5,}) WHERE t[i].price > avg(t[..i-1].price)
            WITHIN 10s PARTITION BY symbol;",
    },
    Workload {
        name: "counting",
        patterns: "PATTERN counting SEQ(Trade t{20,}) WHERE t[i].volume > 2000
            WITHIN 10s PARTITION BY symbol;",
    },
    Workload {
        name: "not_middle",
        patterns: "PATTERN not_middle SEQ(Trade a, NOT News n, Trade b)
            WHERE b.price > a.price * 1.002 AND n.headline = 'halt'
            WITHIN 10s PARTITION BY symbol;",
    },
    Workload {
        name: "not_trailing",
        patterns: "PATTERN not_trailing SEQ(News n, NOT Trade t)
            WHERE t.volume > 9000
            WITHIN 2s PARTITION BY symbol;",
    },
    Workload {
        name: "or",
        patterns: "PATTERN or_ SEQ(Trade a, OR(News n, Trade b))
            WHERE n.headline = 'record profit' AND b.price > a.price * 1.003
            WITHIN 10s PARTITION BY symbol;",
    },
    Workload {
        name: "and",
        patterns: "PATTERN and_ SEQ(AND(Trade a, News n))
            WHERE a.volume > 9000 AND n.headline = 'record profit'
            WITHIN 10s PARTITION BY symbol;",
    },
];

/// SEQ-2 with a cross-event condition under each selection strategy (a 1 s
/// window, so skip till any match stays bounded).
pub const STRATEGIES: &[Workload] = &[
    Workload {
        name: "skip_till_next_match",
        patterns: "PATTERN s SEQ(Trade a, Trade b) WHERE b.price > a.price * 1.002
            WITHIN 1s PARTITION BY symbol;",
    },
    Workload {
        name: "skip_till_any_match",
        patterns: "PATTERN s SEQ(Trade a, Trade b) WHERE b.price > a.price * 1.002
            WITHIN 1s PARTITION BY symbol SKIP TILL ANY MATCH;",
    },
    Workload {
        name: "strict_contiguity",
        patterns: "PATTERN s SEQ(Trade a, Trade b) WHERE b.price > a.price * 1.002
            WITHIN 1s PARTITION BY symbol STRICT CONTIGUITY;",
    },
];

/// Skip till any match over a Kleene list with a condition that rising
/// prices keep true: every event forks every run (take it or not), so live
/// runs double per event until the run cap stops them. The memory check of
/// the issue "Speed": live runs stay under the cap whatever the stream.
pub const ADVERSARIAL: Workload = Workload {
    name: "adversarial_any",
    patterns: "PATTERN explode SEQ(Trade t+, News n)
        WHERE t[i].price >= t[i-1].price AND n.headline = 'never'
        WITHIN 10m PARTITION BY symbol SKIP TILL ANY MATCH;",
};

/// What an adversarial run leaves behind (see [`adversarial`]).
#[derive(Clone, Copy, Debug)]
pub struct Explosion {
    /// Most live runs at once (all partitions).
    pub peak_runs: u64,
    /// Runs the cap refused.
    pub dropped_runs: u64,
    /// Events pushed.
    pub events: usize,
}

/// `n` Trades of one symbol with never-falling prices through [`ADVERSARIAL`]
/// under a run cap of `cap` per partition.
pub fn adversarial(n: usize, cap: usize) -> Result<Explosion, dalal::CompileError> {
    let p = program(ADVERSARIAL.patterns)?;
    let Some(trade) = p.type_id("Trade") else {
        return Ok(Explosion {
            peak_runs: 0,
            dropped_runs: 0,
            events: 0,
        });
    };
    let config = Config {
        max_runs_per_partition: cap,
        ..Config::default()
    };
    let mut engine = Engine::new(p, config);
    let sym = Value::str("S0");
    for i in 0..n {
        let e = Event::from_parts(
            trade,
            EventTime::from_millis(i as i64),
            vec![sym.clone(), Value::Float(100.0 + i as f64), Value::Int(1)],
        );
        if engine.push(e).is_err() {
            break;
        }
    }
    engine.finish();
    let s = engine.stats();
    Ok(Explosion {
        peak_runs: s.peak_runs,
        dropped_runs: s.dropped_runs,
        events: n,
    })
}

/// `n` copies of SEQ-2, each with its own threshold, on one stream.
pub fn many_patterns(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "PATTERN p{i} SEQ(Trade a, Trade b) WHERE b.price > a.price * {:.4}
                 WITHIN 10s PARTITION BY symbol;\n",
                1.0 + 0.0005 * (i % 10 + 1) as f64
            )
        })
        .collect()
}

/// Compiles `TYPES` plus the given pattern items.
pub fn program(patterns: &str) -> Result<Program, dalal::CompileError> {
    Program::compile(&format!("{TYPES}{patterns}"))
}

/// `n` events over `symbols` symbols, one millisecond apart; one in twenty
/// is a `News`. Deterministic (xorshift, fixed seed).
pub fn events(program: &Program, n: usize, symbols: usize) -> Vec<Event> {
    let symbols = symbols.max(1);
    let names: Vec<Value> = (0..symbols).map(|i| Value::str(&format!("S{i}"))).collect();
    let headlines = [
        Value::str("record profit"),
        Value::str("quiet day"),
        Value::str("halt"),
    ];
    let mut price = vec![100.0_f64; symbols];
    let (Some(trade), Some(news)) = (program.type_id("Trade"), program.type_id("News")) else {
        return Vec::new();
    };
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|i| {
            let r = next();
            let s = ((r >> 32) % symbols as u64) as usize;
            let sym = names[s].clone();
            let ts = EventTime::from_millis(i as i64);
            if r % 20 == 0 {
                let h = headlines[((r >> 8) % 3) as usize].clone();
                Event::from_parts(news, ts, vec![sym, h])
            } else {
                // A random walk of +-0.5% steps, kept near 100.
                let step = ((r >> 8) % 101) as f64 / 100.0 - 0.5;
                let p = (price[s] * (1.0 + step / 100.0)).clamp(50.0, 200.0);
                price[s] = p;
                Event::from_parts(
                    trade,
                    ts,
                    vec![
                        sym,
                        Value::Float(p),
                        Value::Int(((r >> 20) % 10_000) as i64),
                    ],
                )
            }
        })
        .collect()
}

/// Runs a fresh engine over `events` to the end of input; returns the match count.
pub fn run(program: &Program, events: Vec<Event>) -> usize {
    let mut engine = Engine::new(program.clone(), Config::default());
    let mut matches = 0;
    for e in events {
        // Events come from `events()` and fit the schema.
        if engine.push(e).is_err() {
            return matches;
        }
        matches += engine.drain_matches().count();
    }
    engine.finish();
    matches + engine.drain_matches().count()
}

/// Live runs over all partitions after each event: (average, peak). How
/// much work an event meets, for reading profiles (not timed).
pub fn live_runs(program: &Program, events: Vec<Event>) -> (f64, u64) {
    let mut engine = Engine::new(program.clone(), Config::default());
    let (mut sum, n) = (0u64, events.len().max(1));
    for e in events {
        if engine.push(e).is_err() {
            break;
        }
        engine.drain_matches().for_each(drop);
        sum += engine.stats().live_runs;
    }
    (sum as f64 / n as f64, engine.stats().peak_runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_workload_compiles_and_matches() {
        let all = SHAPES.iter().chain(STRATEGIES.iter());
        for w in all {
            let p = program(w.patterns).unwrap_or_else(|e| panic!("{}: {e}", w.name));
            let evs = events(&p, 20_000, 100);
            assert_eq!(evs.len(), 20_000);
            assert!(run(&p, evs) > 0, "{} finds no match", w.name);
        }
        let p = program(&many_patterns(5)).unwrap_or_else(|e| panic!("{e}"));
        assert!(run(&p, events(&p, 5_000, 10)) > 0);
    }

    #[test]
    fn the_run_cap_holds_on_an_adversarial_stream() {
        // Without a cap, 40 events would make 2^40 runs.
        let cap = 5_000;
        let x = adversarial(40, cap).unwrap_or_else(|e| panic!("{e}"));
        assert!(x.peak_runs <= cap as u64, "{x:?}");
        assert!(
            x.peak_runs >= cap as u64 / 2,
            "the stream is not adversarial: {x:?}"
        );
        assert!(x.dropped_runs > 0, "{x:?}");
    }

    #[test]
    fn events_are_deterministic() {
        let p = program(SHAPES[0].patterns).unwrap_or_else(|e| panic!("{e}"));
        let a = events(&p, 1_000, 7);
        let b = events(&p, 1_000, 7);
        assert_eq!(a, b);
    }
}
