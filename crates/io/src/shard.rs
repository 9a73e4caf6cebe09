//! `threads > 1`: shard events over worker threads by partition key, merge
//! their matches batch by batch (see the pipeline module docs).

use crate::pipeline::{PipelineError, Progress, write_sorted};
use crate::write::MatchWriter;
use crossbeam_channel::{Receiver, Sender, bounded};
use dalal::dalal_lang::typed::{FieldRef, PatternId};
use dalal::{Config, Engine, Event, EventTime, Match, Program, Value};
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::Ordering as AtomicOrdering;
use std::thread::JoinHandle;

/// Events for one worker in one batch: each event with the pattern groups
/// it is for (`pats[ends[i-1]..ends[i]]`, indexes into `Sharded::groups`).
#[derive(Default)]
struct Batch {
    events: Vec<Event>,
    pats: Vec<u32>,
    ends: Vec<u32>,
}

enum ToWorker {
    Batch {
        batch: Batch,
        watermark: EventTime,
        last: bool,
    },
}

struct Reply {
    worker: usize,
    matches: Vec<Match>,
    live: u64,
    peak: u64,
    dropped: u64,
    error: Option<dalal::EngineError>,
}

/// How one group of patterns shards one event type.
#[derive(Clone)]
struct Route {
    group: u32,
    /// The key fields on this type; empty: not partitioned (one worker).
    key: Vec<FieldRef>,
}

/// The partition key fields of pattern `p` on each type it routes.
fn keys_by_type(p: &dalal::dalal_lang::typed::Pattern) -> Vec<(usize, Vec<FieldRef>)> {
    p.routed_types
        .iter()
        .enumerate()
        .map(|(ri, t)| {
            let key = p
                .partition_by
                .iter()
                .map(|k| k.fields.get(ri).copied().unwrap_or(FieldRef::Ts))
                .collect();
            (t.index(), key)
        })
        .collect()
}

/// Groups patterns that shard alike: partitioned, with the same key fields
/// on every event type both route. An event then goes to the same worker
/// for every pattern of a group, so a worker runs one engine per group and
/// pushes the event once, not once per pattern (on the shipped library,
/// eight patterns partition by `symbol`: a trade went through up to five
/// engines per worker). Returns the groups' members, in pattern order.
fn group_patterns(patterns: &[dalal::dalal_lang::typed::Pattern]) -> Vec<Vec<u32>> {
    let keys: Vec<Vec<(usize, Vec<FieldRef>)>> = patterns.iter().map(keys_by_type).collect();
    let alike = |a: usize, b: usize| {
        let (ka, kb) = (&keys[a], &keys[b]);
        !patterns[a].partition_by.is_empty()
            && !patterns[b].partition_by.is_empty()
            && ka
                .iter()
                .all(|(t, k)| kb.iter().all(|(u, l)| t != u || k == l))
    };
    let mut groups: Vec<Vec<u32>> = Vec::new();
    for p in 0..patterns.len() {
        match groups
            .iter_mut()
            .find(|g| g.iter().all(|&q| alike(q as usize, p)))
        {
            Some(g) => g.push(p as u32),
            None => groups.push(vec![p as u32]),
        }
    }
    groups
}

pub(crate) struct Merged {
    pub matches: Vec<u64>,
    pub peak_runs: u64,
    pub dropped_runs: u64,
}

pub(crate) struct Sharded {
    /// Per type id.
    routes: Vec<Vec<Route>>,
    /// Hashes partition keys. Which worker a key goes to never shows in the
    /// output, so a fast per-process seeded hash will do (SipHash was a
    /// third of the reading thread's instructions).
    hasher: hashbrown::DefaultHashBuilder,
    pending: Vec<Batch>,
    /// Per worker: the number of the last event added to its batch.
    stamp: Vec<u64>,
    seq: u64,
    senders: Vec<Sender<ToWorker>>,
    workers: Vec<JoinHandle<()>>,
    merger: Option<JoinHandle<Result<Merged, PipelineError>>>,
}

impl Sharded {
    pub(crate) fn start(
        program: &Program,
        threads: usize,
        engine_config: Config,
        writer: Box<dyn MatchWriter>,
        progress: Arc<Progress>,
    ) -> Result<Sharded, PipelineError> {
        let checked = program.checked();
        let groups = group_patterns(&checked.patterns);
        let mut routes: Vec<Vec<Route>> = vec![Vec::new(); checked.types.len()];
        for (gi, members) in groups.iter().enumerate() {
            for &pi in members {
                let Some(p) = checked.patterns.get(pi as usize) else {
                    continue;
                };
                for (t, key) in keys_by_type(p) {
                    // Every member routes the type with the same key: once.
                    if let Some(r) = routes.get_mut(t) {
                        if !r.iter().any(|r| r.group == gi as u32) {
                            r.push(Route {
                                group: gi as u32,
                                key,
                            });
                        }
                    }
                }
            }
        }
        // Each worker runs one engine per group: an event sent to a worker
        // for one group must not feed that worker's other patterns.
        let mut singles = Vec::with_capacity(groups.len());
        for members in &groups {
            let mut some = checked.clone();
            some.patterns = members
                .iter()
                .filter_map(|&p| checked.patterns.get(p as usize).cloned())
                .collect();
            singles.push((Program::from_checked(some)?, members.clone()));
        }
        let (reply_tx, reply_rx) = bounded::<Reply>(threads * 4);
        let mut senders = Vec::with_capacity(threads);
        let mut workers = Vec::with_capacity(threads);
        for w in 0..threads {
            let (tx, rx) = bounded::<ToWorker>(4);
            senders.push(tx);
            let singles = singles.clone();
            let reply_tx = reply_tx.clone();
            let config = engine_config.clone();
            workers.push(std::thread::spawn(move || {
                worker(w, singles, config, rx, reply_tx)
            }));
        }
        drop(reply_tx);
        let npat = checked.patterns.len();
        let merger = std::thread::spawn(move || merge(threads, npat, reply_rx, writer, &progress));
        Ok(Sharded {
            routes,
            hasher: hashbrown::DefaultHashBuilder::default(),
            pending: (0..threads).map(|_| Batch::default()).collect(),
            stamp: vec![0; threads],
            seq: 0,
            senders,
            workers,
            merger: Some(merger),
        })
    }

    pub(crate) fn route(&mut self, program: &Program, event: Event) {
        let n = self.pending.len();
        let Some(routes) = self.routes.get(event.ty.index()) else {
            return;
        };
        self.seq += 1;
        for r in routes {
            let w = if r.key.is_empty() {
                r.group as usize % n
            } else {
                worker_of(key_hash(&self.hasher, program, &event, &r.key), n)
            };
            let b = &mut self.pending[w];
            // A worker already holding this event gets the group added to
            // the event's entry (its groups are contiguous in `pats`).
            if self.stamp[w] == self.seq {
                b.pats.push(r.group);
                if let Some(end) = b.ends.last_mut() {
                    *end = b.pats.len() as u32;
                }
            } else {
                self.stamp[w] = self.seq;
                b.events.push(event.clone());
                b.pats.push(r.group);
                b.ends.push(b.pats.len() as u32);
            }
        }
    }

    pub(crate) fn send_batch(
        &mut self,
        watermark: EventTime,
        last: bool,
    ) -> Result<(), PipelineError> {
        for (w, tx) in self.senders.iter().enumerate() {
            // The next batch is likely as large: size it now rather than
            // growing it from empty every time.
            let next = Batch {
                events: Vec::with_capacity(self.pending[w].events.len()),
                pats: Vec::with_capacity(self.pending[w].pats.len()),
                ends: Vec::with_capacity(self.pending[w].ends.len()),
            };
            let batch = std::mem::replace(&mut self.pending[w], next);
            if tx
                .send(ToWorker::Batch {
                    batch,
                    watermark,
                    last,
                })
                .is_err()
            {
                // A worker or the merger stopped: the reason comes out of join.
                return Err(self.stop());
            }
        }
        Ok(())
    }

    /// Stops everything after a failure and returns the reason.
    fn stop(&mut self) -> PipelineError {
        self.senders.clear();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
        match self.merger.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            Some(Err(_)) => PipelineError::Worker("the match writer panicked".to_string()),
            _ => PipelineError::Worker("a worker stopped early".to_string()),
        }
    }

    pub(crate) fn join(mut self) -> Result<Merged, PipelineError> {
        self.senders.clear();
        let mut failed = false;
        for w in self.workers.drain(..) {
            failed |= w.join().is_err();
        }
        let merged = match self.merger.take().map(JoinHandle::join) {
            Some(Ok(Ok(m))) => m,
            Some(Ok(Err(e))) => return Err(e),
            _ => {
                return Err(PipelineError::Worker(
                    "the match writer panicked".to_string(),
                ));
            }
        };
        if failed {
            return Err(PipelineError::Worker("a worker panicked".to_string()));
        }
        Ok(merged)
    }
}

/// The worker of `n` that a key hashing to `h` goes to.
///
/// The table hash's top bits are not mixed well enough to split keys by:
/// for some process seeds a hundred short symbols put 2 on one worker and 98
/// on the other (one CI run in ~200). A full avalanche (MurmurHash3's
/// finalizer, a handful of instructions an event) first, then the high bits
/// spread over `n` without a division.
fn worker_of(h: u64, n: usize) -> usize {
    let mut x = h;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^= x >> 33;
    ((u128::from(x) * n as u128) >> 64) as usize
}

/// The hash of an event's partition key for one pattern. Equal keys (as
/// the engine groups them: floats by bit pattern with `-0.0 == 0.0`) hash
/// equally.
fn key_hash(state: &impl BuildHasher, program: &Program, event: &Event, key: &[FieldRef]) -> u64 {
    // A key of one field hashes as the engine's partition index hashes it
    // (a short string by its packed words: the byte-stream hash was most
    // of the routing).
    if let [FieldRef::Slot(s)] = key {
        let v = event.fields.get(s.index()).unwrap_or(&Value::Null);
        return dalal::key_hash(state, std::slice::from_ref(v));
    }
    let mut h = state.build_hasher();
    for f in key {
        match f {
            FieldRef::Slot(s) => {
                hash_value(event.fields.get(s.index()).unwrap_or(&Value::Null), &mut h)
            }
            FieldRef::Ts => event.ts.hash(&mut h),
            FieldRef::Type => program.type_name(event.ty).hash(&mut h),
        }
    }
    h.finish()
}

fn hash_value(v: &Value, h: &mut impl Hasher) {
    std::mem::discriminant(v).hash(h);
    match v {
        Value::Null => {}
        Value::Int(i) => i.hash(h),
        Value::Float(x) => (if *x == 0.0 { 0 } else { x.to_bits() }).hash(h),
        Value::Str(s) => s.hash(h),
        Value::Bool(b) => b.hash(h),
        Value::Timestamp(t) => t.hash(h),
        Value::Duration(d) => d.hash(h),
    }
}

fn worker(
    id: usize,
    singles: Vec<(Program, Vec<u32>)>,
    config: Config,
    rx: Receiver<ToWorker>,
    tx: Sender<Reply>,
) {
    let mut engines: Vec<Option<Engine>> = singles.iter().map(|_| None).collect();
    let mut peak = 0u64;
    let mut error = None;
    while let Ok(ToWorker::Batch {
        batch,
        watermark,
        last,
    }) = rx.recv()
    {
        let mut start = 0usize;
        for (event, end) in batch.events.into_iter().zip(batch.ends) {
            let end = end as usize;
            for &p in batch.pats.get(start..end).unwrap_or_default() {
                let p = p as usize;
                let (Some(slot), Some((program, _))) = (engines.get_mut(p), singles.get(p)) else {
                    continue;
                };
                let engine =
                    slot.get_or_insert_with(|| Engine::new(program.clone(), config.clone()));
                // Events fit the program (the reader built them against it)
                // and are never late here (lateness was decided upstream);
                // should either fail, the run stops rather than lose events.
                if let Err(e) = engine.push(event.clone()) {
                    error.get_or_insert(e);
                }
            }
            start = end;
        }
        let mut matches = Vec::new();
        let (mut live, mut dropped) = (0, 0);
        for (slot, (_, members)) in engines.iter_mut().zip(&singles) {
            let Some(engine) = slot else { continue };
            if last {
                engine.finish();
            } else {
                engine.advance_watermark(watermark);
            }
            for mut m in engine.drain_matches() {
                // The group's engine numbers its own patterns.
                if let Some(&p) = members.get(m.pattern_id.index()) {
                    m.pattern_id = PatternId::from_index(p as usize);
                }
                matches.push(m);
            }
            let s = engine.stats();
            live += s.live_runs;
            dropped += s.dropped_runs;
        }
        peak = peak.max(live);
        let reply = Reply {
            worker: id,
            matches,
            live,
            peak,
            dropped,
            error: error.take(),
        };
        if tx.send(reply).is_err() || last {
            return;
        }
    }
}

fn merge(
    threads: usize,
    npat: usize,
    rx: Receiver<Reply>,
    mut writer: Box<dyn MatchWriter>,
    progress: &Progress,
) -> Result<Merged, PipelineError> {
    let mut queues: Vec<std::collections::VecDeque<Reply>> =
        (0..threads).map(|_| Default::default()).collect();
    let mut counts = vec![0u64; npat];
    let mut peaks = vec![0u64; threads];
    let mut dropped = vec![0u64; threads];
    let mut out = Vec::new();
    while let Ok(r) = rx.recv() {
        let w = r.worker;
        if let Some(q) = queues.get_mut(w) {
            q.push_back(r);
        }
        while queues.iter().all(|q| !q.is_empty()) {
            let mut live = 0;
            for (w, q) in queues.iter_mut().enumerate() {
                if let Some(r) = q.pop_front() {
                    if let Some(e) = r.error {
                        return Err(e.into());
                    }
                    out.extend(r.matches);
                    live += r.live;
                    peaks[w] = r.peak;
                    dropped[w] = r.dropped;
                }
            }
            progress.live_runs.store(live, AtomicOrdering::Relaxed);
            write_sorted(&mut out, writer.as_mut(), &mut counts, progress)
                .map_err(PipelineError::Write)?;
        }
    }
    writer.finish().map_err(PipelineError::Write)?;
    Ok(Merged {
        matches: counts,
        peak_runs: peaks.iter().sum(),
        dropped_runs: dropped.iter().sum(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Patterns go together when an event of any type they share goes to
    /// the same worker for all of them: the same key fields on every shared
    /// type (none shared counts), never when one is not partitioned.
    #[test]
    fn patterns_that_shard_alike_share_an_engine() {
        let p = Program::compile(
            "EVENT Trade (symbol STRING, venue STRING, price FLOAT);
             EVENT News (symbol STRING);
             EVENT Order (customer STRING, amount FLOAT);
             PATTERN up SEQ(Trade a, Trade b) WITHIN 1m PARTITION BY symbol;
             PATTERN quiet SEQ(News n, NOT Trade t) WITHIN 10s PARTITION BY symbol;
             PATTERN any SEQ(Trade a, News n) WITHIN 5s;
             PATTERN orders SEQ(Order a, Order b) WITHIN 1m PARTITION BY customer;
             PATTERN venues SEQ(Trade a, Trade b) WITHIN 1m PARTITION BY venue;
             PATTERN news SEQ(News a, News b) WITHIN 1m;",
        )
        .unwrap();
        assert_eq!(
            group_patterns(&p.checked().patterns),
            vec![vec![0, 1, 3], vec![2], vec![4], vec![5]]
        );
    }
    /// The same symbol keys the same worker from any type and allocation
    /// (the short-string path), and keys spread over the workers whatever
    /// the process's seed: 256 shared seeds, fixed so a failure repeats.
    #[test]
    fn short_keys_shard_by_value() {
        use dalal::dalal_lang::typed::SlotId;
        use foldhash::{SharedSeed, fast::SeedableRandomState};
        let p = Program::compile(
            "EVENT Trade (symbol STRING, price FLOAT);
             EVENT News (headline STRING, symbol STRING);",
        )
        .unwrap();
        let ev = |ty: &str, fields: Vec<Value>| Event::new(&p, ty, EventTime(0), fields).unwrap();
        let trade = |s: &str| ev("Trade", vec![Value::str(s), Value::Float(1.0)]);
        let news = |s: &str| ev("News", vec![Value::str("x"), Value::str(s)]);
        let at = |i: usize| [FieldRef::Slot(SlotId::from_index(i))];
        let h = hashbrown::DefaultHashBuilder::default();
        for s in ["A", "SYM0060", "INDUSINDBK", "a_much_longer_symbol_name"] {
            let a = key_hash(&h, &p, &trade(s), &at(0));
            assert_eq!(a, key_hash(&h, &p, &trade(s), &at(0)), "{s}");
            assert_eq!(a, key_hash(&h, &p, &news(s), &at(1)), "{s}");
        }
        let short: Vec<Event> = (0..100).map(|i| trade(&format!("S{i}"))).collect();
        let long: Vec<Event> = (0..100)
            .map(|i| trade(&format!("a_much_longer_symbol_{i}")))
            .collect();
        for g in 0..256u64 {
            let shared: &'static SharedSeed = Box::leak(Box::new(SharedSeed::from_u64(g)));
            let h = SeedableRandomState::with_seed(g.wrapping_mul(0x9e37_79b9), shared);
            for keys in [&short, &long] {
                // Binomial(100, 1/2): 20..=80 is six standard deviations.
                let first = keys
                    .iter()
                    .filter(|e| worker_of(key_hash(&h, &p, e, &at(0)), 2) == 0)
                    .count();
                assert!(
                    (20..=80).contains(&first),
                    "seed {g}: {first} of 100 on the first of two"
                );
                let mut per = [0usize; 3];
                for e in keys.iter() {
                    per[worker_of(key_hash(&h, &p, e, &at(0)), 3)] += 1;
                }
                assert!(per.iter().all(|&c| c >= 10), "seed {g}: {per:?} over three");
            }
        }
    }
}
