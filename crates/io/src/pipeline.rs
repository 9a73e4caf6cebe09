//! The run pipeline: late-event detection, sharding over worker threads,
//! ordered merge, writing.
//!
//! ```text
//! push(event) --late?--> route by type --> shard by hash(partition key) per pattern
//!   --> worker engines (one per pattern per worker) --> matches per batch
//!   --> merge: batch by batch, sorted within a batch --> MatchWriter
//! ```
//!
//! The input is cut into *batches* of [`PipelineConfig::batch`] accepted
//! events. At the end of a batch every worker has pushed its share of the
//! batch and moved its watermark to the global one, so the set of matches
//! emitted by the end of each batch is the same whatever the number of
//! threads. The matches of a batch are written sorted by [`cmp_match`]; the
//! output is therefore byte-identical for every `threads` value.
//!
//! Lateness is decided here, on the whole stream, exactly as the engine
//! would (the watermark is the largest event time seen minus `max_delay`),
//! so a worker that sees only part of the stream never disagrees about it.
//!
//! Channels are bounded: a slow writer stops the workers, which stop the
//! reader; memory stays bounded by the queue depth times the batch size.

use crate::shard::Sharded;
use crate::write::MatchWriter;
use dalal::{Binding, Config, Engine, Event, EventTime, Match, Program, Value};
use std::cmp::Ordering;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::time::Duration;

/// Pipeline settings.
#[derive(Clone, Debug)]
pub struct PipelineConfig {
    /// Worker threads (1: everything on the calling thread).
    pub threads: usize,
    /// How far out of order events may arrive.
    pub max_delay: Duration,
    /// Accepted events per batch (the unit of ordering and of hand-over to
    /// workers). Output order depends on it; matches do not.
    pub batch: usize,
    /// Engine limit on live runs per partition.
    pub max_runs_per_partition: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            threads: 1,
            max_delay: Duration::ZERO,
            batch: 4096,
            max_runs_per_partition: Config::default().max_runs_per_partition,
        }
    }
}

/// What became of a pushed event.
#[derive(Debug)]
pub enum Pushed {
    /// On its way to matching.
    Accepted,
    /// Older than the watermark: not matched. The event is handed back.
    Late {
        /// The event.
        event: Event,
        /// The watermark it missed.
        watermark: EventTime,
    },
}

/// Why the pipeline stopped.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Writing matches failed (a closed pipe is [`std::io::ErrorKind::BrokenPipe`]).
    #[error("cannot write matches: {0}")]
    Write(#[source] std::io::Error),
    /// The engine refused an event (it does not fit the program).
    #[error("{0}")]
    Engine(#[from] dalal::EngineError),
    /// A pattern could not be compiled on its own for a worker.
    #[error("{0}")]
    Compile(#[from] dalal::CompileError),
    /// A worker thread died.
    #[error("a worker thread failed: {0}")]
    Worker(String),
}

/// Final counters of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PipelineStats {
    /// Events pushed (late ones included).
    pub events: u64,
    /// Accepted events of a type that some pattern uses.
    pub routed: u64,
    /// Late events.
    pub late: u64,
    /// Matches written, per pattern id.
    pub matches: Vec<u64>,
    /// Most live runs at a batch end: exact with one thread, the sum of
    /// each worker's peak with more.
    pub peak_runs: u64,
    /// Runs dropped by the per-partition cap.
    pub dropped_runs: u64,
}

/// Counters readable while the pipeline runs (for a progress bar).
#[derive(Debug, Default)]
pub struct Progress {
    /// Matches written so far.
    pub matches: AtomicU64,
    /// Live runs at the last batch end.
    pub live_runs: AtomicU64,
}

/// The pipeline: push events, then [`Pipeline::finish`].
pub struct Pipeline {
    program: Program,
    config: PipelineConfig,
    max_ts: EventTime,
    watermark: EventTime,
    in_batch: usize,
    stats: PipelineStats,
    /// Per type id: some pattern routes it.
    routed: Vec<bool>,
    progress: Arc<Progress>,
    mode: Mode,
}

enum Mode {
    Inline {
        engine: Box<Engine>,
        writer: Box<dyn MatchWriter>,
        out: Vec<Match>,
    },
    Sharded(Box<Sharded>),
}

impl Pipeline {
    /// Starts a pipeline writing to `writer` (on a thread of its own when
    /// `threads > 1`).
    pub fn new(
        program: &Program,
        config: PipelineConfig,
        writer: Box<dyn MatchWriter>,
    ) -> Result<Pipeline, PipelineError> {
        let checked = program.checked();
        let mut routed = vec![false; checked.types.len()];
        for p in &checked.patterns {
            for t in &p.routed_types {
                if let Some(r) = routed.get_mut(t.index()) {
                    *r = true;
                }
            }
        }
        let progress = Arc::new(Progress::default());
        // Lateness is decided before the engines; one that still found an
        // event late would be a bug, and must not drop it silently.
        let engine_config = Config {
            max_delay: config.max_delay,
            max_runs_per_partition: config.max_runs_per_partition,
            late: dalal::LatePolicy::Fail,
        };
        let mode = if config.threads <= 1 {
            Mode::Inline {
                engine: Box::new(Engine::new(program.clone(), engine_config)),
                writer,
                out: Vec::new(),
            }
        } else {
            Mode::Sharded(Box::new(Sharded::start(
                program,
                config.threads,
                engine_config,
                writer,
                progress.clone(),
            )?))
        };
        Ok(Pipeline {
            program: program.clone(),
            config: PipelineConfig {
                batch: config.batch.max(1),
                ..config
            },
            max_ts: EventTime::MIN,
            watermark: EventTime::MIN,
            in_batch: 0,
            stats: PipelineStats {
                matches: vec![0; checked.patterns.len()],
                ..PipelineStats::default()
            },
            routed,
            progress,
            mode,
        })
    }

    /// Live counters.
    pub fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// The watermark: events older than it are late.
    pub fn watermark(&self) -> EventTime {
        self.watermark
    }

    /// Pushes one event (in arrival order).
    pub fn push(&mut self, event: Event) -> Result<Pushed, PipelineError> {
        self.stats.events += 1;
        if event.ts < self.watermark {
            self.stats.late += 1;
            return Ok(Pushed::Late {
                event,
                watermark: self.watermark,
            });
        }
        self.max_ts = self.max_ts.max(event.ts);
        let delay = i64::try_from(self.config.max_delay.as_nanos()).unwrap_or(i64::MAX);
        self.watermark = self
            .watermark
            .max(EventTime(self.max_ts.0.saturating_sub(delay)));
        let routed = self.routed.get(event.ty.index()).copied().unwrap_or(false);
        if routed {
            self.stats.routed += 1;
        }
        match &mut self.mode {
            // An event no pattern routes only moves time forward; the batch
            // end moves the engine's watermark instead, as the sharded
            // workers' is moved, so the output stays the same for every
            // thread count (and decoding such events costs no engine work).
            Mode::Inline { engine, .. } if routed => engine.push(event)?,
            Mode::Inline { .. } => {}
            Mode::Sharded(s) => s.route(&self.program, event),
        }
        self.in_batch += 1;
        if self.in_batch >= self.config.batch {
            self.in_batch = 0;
            self.end_batch(false)?;
        }
        Ok(Pushed::Accepted)
    }

    fn end_batch(&mut self, last: bool) -> Result<(), PipelineError> {
        match &mut self.mode {
            Mode::Inline {
                engine,
                writer,
                out,
            } => {
                if last {
                    engine.finish();
                } else {
                    engine.advance_watermark(self.watermark);
                }
                out.extend(engine.drain_matches());
                let s = engine.stats();
                self.stats.peak_runs = s.peak_runs;
                self.stats.dropped_runs = s.dropped_runs;
                self.progress
                    .live_runs
                    .store(s.live_runs, AtomicOrdering::Relaxed);
                write_sorted(
                    out,
                    writer.as_mut(),
                    &mut self.stats.matches,
                    &self.progress,
                )
                .map_err(PipelineError::Write)?;
                if last {
                    writer.finish().map_err(PipelineError::Write)?;
                }
                Ok(())
            }
            Mode::Sharded(s) => s.send_batch(self.watermark, last),
        }
    }

    /// End of input: every pending match is emitted and written, the writer
    /// finished, the threads joined.
    pub fn finish(mut self) -> Result<PipelineStats, PipelineError> {
        self.end_batch(true)?;
        match self.mode {
            Mode::Inline { .. } => Ok(self.stats),
            Mode::Sharded(s) => {
                let merged = s.join()?;
                let mut stats = self.stats;
                stats.matches = merged.matches;
                stats.peak_runs = merged.peak_runs;
                stats.dropped_runs = merged.dropped_runs;
                Ok(stats)
            }
        }
    }
}

/// Sorts one batch of matches and writes it.
pub(crate) fn write_sorted(
    out: &mut Vec<Match>,
    writer: &mut dyn MatchWriter,
    counts: &mut [u64],
    progress: &Progress,
) -> std::io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    out.sort_by(cmp_match);
    for m in out.iter() {
        writer.write_match(m)?;
        if let Some(c) = counts.get_mut(m.pattern_id.index()) {
            *c += 1;
        }
    }
    progress
        .matches
        .fetch_add(out.len() as u64, AtomicOrdering::Relaxed);
    out.clear();
    writer.flush()
}

/// The order of matches within a batch: by end time, pattern, start, key,
/// `EMIT` values, then the bound events' times, types and fields. Matches
/// that compare equal print identically, so the output does not depend on
/// which thread found what.
pub fn cmp_match(a: &Match, b: &Match) -> Ordering {
    a.end
        .cmp(&b.end)
        .then(a.pattern_id.index().cmp(&b.pattern_id.index()))
        .then(a.start.cmp(&b.start))
        .then_with(|| cmp_values(a.key.iter().map(|k| &k.1), b.key.iter().map(|k| &k.1)))
        .then_with(|| cmp_values(a.fields.iter().map(|k| &k.1), b.fields.iter().map(|k| &k.1)))
        .then_with(|| {
            let ea = a.events.iter().flat_map(|(_, b)| bound(b));
            let eb = b.events.iter().flat_map(|(_, b)| bound(b));
            cmp_iter(ea, eb, |x, y| {
                x.ts.cmp(&y.ts)
                    .then(x.ty.index().cmp(&y.ty.index()))
                    .then_with(|| cmp_values(x.fields.iter(), y.fields.iter()))
            })
        })
        .then_with(|| {
            // Same events, different grouping (e.g. which Kleene list holds them).
            let sa = a.events.iter().map(|(_, b)| bound(b).count());
            let sb = b.events.iter().map(|(_, b)| bound(b).count());
            sa.cmp(sb)
        })
}

fn bound(b: &Binding) -> impl Iterator<Item = &Event> {
    let (one, many): (Option<&Event>, &[dalal::BoundEvent]) = match b {
        Binding::One(e) => (Some(&e.event), &[]),
        Binding::Many(list) => (None, list),
        Binding::None => (None, &[]),
    };
    one.into_iter().chain(many.iter().map(|e| &e.event))
}

fn cmp_values<'a>(
    a: impl Iterator<Item = &'a Value>,
    b: impl Iterator<Item = &'a Value>,
) -> Ordering {
    cmp_iter(a, b, |x, y| x.total_cmp(y))
}

fn cmp_iter<T>(
    mut a: impl Iterator<Item = T>,
    mut b: impl Iterator<Item = T>,
    f: impl Fn(&T, &T) -> Ordering,
) -> Ordering {
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => match f(&x, &y) {
                Ordering::Equal => {}
                o => return o,
            },
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Clone, Default)]
    struct Collect(Arc<Mutex<Vec<Match>>>);
    impl MatchWriter for Collect {
        fn write_match(&mut self, m: &Match) -> std::io::Result<()> {
            self.0.lock().unwrap().push(m.clone());
            Ok(())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn program() -> Program {
        Program::compile(
            "EVENT Trade (symbol STRING, price FLOAT);
             EVENT News (symbol STRING);
             PATTERN up SEQ(Trade a, Trade b) WHERE b.price > a.price WITHIN 1m PARTITION BY symbol;
             PATTERN quiet SEQ(News n, NOT Trade t) WITHIN 10s PARTITION BY symbol;
             PATTERN any SEQ(Trade a, News n) WITHIN 5s;",
        )
        .unwrap()
    }

    fn stream(p: &Program) -> Vec<Event> {
        let mut out = Vec::new();
        for i in 0..600i64 {
            let sym = ["A", "B", "C", "D", "E"][(i % 5) as usize];
            let e = if i % 7 == 0 {
                Event::new(
                    p,
                    "News",
                    EventTime::from_millis(i * 1000),
                    vec![Value::str(sym)],
                )
            } else {
                Event::new(
                    p,
                    "Trade",
                    EventTime::from_millis(i * 1000 - (i % 3) * 1500),
                    vec![Value::str(sym), Value::Float(((i * 37) % 11) as f64)],
                )
            };
            out.push(e.unwrap());
        }
        out
    }

    fn run(threads: usize, batch: usize) -> (Vec<Match>, PipelineStats, Vec<Event>) {
        let p = program();
        let sink = Collect::default();
        let config = PipelineConfig {
            threads,
            batch,
            max_delay: Duration::from_millis(500),
            ..PipelineConfig::default()
        };
        let mut pipe = Pipeline::new(&p, config, Box::new(sink.clone())).unwrap();
        let mut late = Vec::new();
        for e in stream(&p) {
            if let Pushed::Late { event, .. } = pipe.push(e).unwrap() {
                late.push(event);
            }
        }
        let stats = pipe.finish().unwrap();
        let m = sink.0.lock().unwrap().clone();
        (m, stats, late)
    }

    /// The output as printed (arrival numbers differ between engines and
    /// are not printed).
    fn lines(matches: &[Match]) -> Vec<String> {
        let w = crate::write::JsonlWriter::new(Box::new(std::io::sink()), &program(), true);
        matches
            .iter()
            .map(|m| {
                let mut out = Vec::new();
                w.render(m, &mut out);
                String::from_utf8(out).unwrap()
            })
            .collect()
    }

    #[test]
    fn threads_do_not_change_the_output() {
        let (one, s1, late1) = run(1, 64);
        assert!(one.len() > 50, "{}", one.len());
        assert!(!late1.is_empty());
        assert_eq!(s1.late, late1.len() as u64);
        assert_eq!(s1.matches.iter().sum::<u64>(), one.len() as u64);
        assert!(s1.matches.iter().all(|&n| n > 0), "{:?}", s1.matches);
        for threads in [2, 3] {
            let (many, s, late) = run(threads, 64);
            assert!(lines(&one) == lines(&many), "threads {threads}");
            assert_eq!(s.matches, s1.matches);
            assert_eq!(s.late, s1.late);
            assert_eq!(s.events, s1.events);
            assert_eq!(s.routed, s1.routed);
            assert_eq!(late, late1);
        }
    }

    #[test]
    fn events_no_pattern_routes_change_nothing() {
        let p = Program::compile(
            "EVENT Trade (symbol STRING, price FLOAT);
             EVENT News (symbol STRING);
             EVENT Tick (n INT);
             PATTERN up SEQ(Trade a, Trade b) WHERE b.price > a.price WITHIN 1m PARTITION BY symbol;
             PATTERN quiet SEQ(News n, NOT Trade t) WITHIN 10s PARTITION BY symbol;
             PATTERN any SEQ(Trade a, News n) WITHIN 5s;",
        )
        .unwrap();
        let base = stream(&program());
        let run = |ticks: bool, threads: usize| {
            let sink = Collect::default();
            let config = PipelineConfig {
                threads,
                batch: 50,
                max_delay: Duration::from_millis(500),
                ..PipelineConfig::default()
            };
            let mut pipe = Pipeline::new(&p, config, Box::new(sink.clone())).unwrap();
            let mut last = EventTime::MIN;
            for (i, e) in base.iter().enumerate() {
                let name = if e.fields.len() == 1 { "News" } else { "Trade" };
                let e = Event::new(&p, name, e.ts, e.fields.to_vec()).unwrap();
                last = last.max(e.ts);
                pipe.push(e).unwrap();
                if ticks && i % 3 == 0 {
                    // At the latest time seen: never makes a later event late.
                    let t = Event::new(&p, "Tick", last, vec![Value::Int(i as i64)]).unwrap();
                    pipe.push(t).unwrap();
                }
            }
            let stats = pipe.finish().unwrap();
            let m = sink.0.lock().unwrap().clone();
            (m, stats)
        };
        let (plain, s0) = run(false, 1);
        assert!(plain.len() > 50);
        let mut want = lines(&plain);
        want.sort();
        let (one, s1) = run(true, 1);
        assert_eq!(s1.routed, s0.routed);
        assert_eq!(s1.events, s0.events + 200);
        assert_eq!(s1.matches, s0.matches);
        let mut got = lines(&one);
        got.sort();
        assert!(got == want);
        for threads in [2, 3] {
            let (many, s) = run(true, threads);
            assert!(lines(&many) == lines(&one), "threads {threads}");
            assert_eq!(s.matches, s1.matches);
        }
    }

    #[test]
    fn matches_do_not_depend_on_the_batch_size() {
        let mut a = lines(&run(1, 1).0);
        let mut b = lines(&run(2, 1000).0);
        a.sort();
        b.sort();
        assert!(a == b);
    }

    #[test]
    fn a_failing_writer_stops_the_pipeline() {
        struct Broken;
        impl MatchWriter for Broken {
            fn write_match(&mut self, _: &Match) -> std::io::Result<()> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        for threads in [1, 2] {
            let p = program();
            let config = PipelineConfig {
                threads,
                batch: 8,
                ..PipelineConfig::default()
            };
            let mut pipe = Pipeline::new(&p, config, Box::new(Broken)).unwrap();
            let mut result = Ok(());
            for e in stream(&p) {
                if let Err(e) = pipe.push(e) {
                    result = Err(e);
                    break;
                }
            }
            let err = match result {
                Err(e) => e,
                Ok(()) => pipe.finish().unwrap_err(),
            };
            assert!(
                matches!(&err, PipelineError::Write(e) if e.kind() == std::io::ErrorKind::BrokenPipe),
                "{err:?}"
            );
        }
    }
}
