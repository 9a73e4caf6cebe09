//! The runtime: reorder buffer and watermark, routing, partitions, output.

use crate::buckets::Buckets;
use crate::matches::{Match, Sink};
use crate::partition::{Ctx, Partition, Scratch, StepStats, Stored};
use crate::program::Program;
use crate::value::{Event, EventTime, Key, KeyRef, Value, key_hash};
use dalal_lang::typed::PatternId;
use hashbrown::{DefaultHashBuilder, Equivalent, HashTable};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Duration;

/// What to do with an event older than the watermark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LatePolicy {
    /// Count it and drop it.
    #[default]
    Drop,
    /// Count it and keep it for [`Engine::drain_late`].
    SideOutput,
    /// Return [`EngineError::Late`] from [`Engine::push`].
    Fail,
}

/// Engine settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// How far out of order events may arrive: the watermark is the largest
    /// event time seen minus this. Default 0 (input in order).
    pub max_delay: Duration,
    /// What happens to late events. Default [`LatePolicy::Drop`].
    pub late: LatePolicy,
    /// Most live runs one partition of one pattern may hold. When an event
    /// would create more, the newest runs (forks made by that event, in the
    /// order they were made) are dropped and counted in
    /// [`Stats::dropped_runs`]; existing runs are kept. Default 100 000.
    pub max_runs_per_partition: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_delay: Duration::ZERO,
            late: LatePolicy::Drop,
            max_runs_per_partition: 100_000,
        }
    }
}

/// Why the engine refused an input.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// A late event under [`LatePolicy::Fail`].
    #[error("late event at {ts}: the watermark is already at {watermark}")]
    Late {
        /// The event's time.
        ts: EventTime,
        /// The watermark when it arrived.
        watermark: EventTime,
    },
    /// The event does not fit the program (type id or field count).
    #[error("invalid event: {0}")]
    InvalidEvent(#[from] crate::value::EventError),
}

/// Why a snapshot could not be restored.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SnapshotError {
    /// The snapshot was taken with another program.
    #[error("snapshot was taken with patterns {found:?}, the program has {expected:?}")]
    ProgramMismatch {
        /// Pattern names of the program.
        expected: Vec<String>,
        /// Pattern names recorded in the snapshot.
        found: Vec<String>,
    },
    /// An unknown snapshot format version.
    #[error("unsupported snapshot version {0}")]
    Version(u32),
}

/// Counters (see [`Engine::stats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Events pushed (including late ones).
    pub events: u64,
    /// Events released to matching that at least one pattern routes.
    pub routed: u64,
    /// Late events (dropped, side output or failed).
    pub late: u64,
    /// Matches emitted, per pattern (indexed by pattern id).
    pub matches: Vec<u64>,
    /// Runs held plus pending trailing-`NOT` matches, over all partitions.
    /// A run past its window is held until its partition's next event, or
    /// until the watermark is a window (rounded up to half a window) past
    /// the partition's last event: memory in use, not only runs that can
    /// still match. A pattern that has never had more than 128 partitions
    /// holds such runs until the key's next event or the end of input
    /// (docs/ENGINE.md, "Buffers, time and memory").
    pub live_runs: u64,
    /// The largest `live_runs` seen.
    pub peak_runs: u64,
    /// Runs dropped by the per-partition cap.
    pub dropped_runs: u64,
    /// Live partitions over all patterns.
    pub partitions: u64,
    /// Events waiting in the reorder buffer.
    pub buffered: u64,
}

/// Idle partitions a pattern keeps for reuse (see `PatternState::spare`).
/// A key that goes idle and comes back (a symbol trading every few
/// windows) then finds buffers already allocated: with 64, 10,000 rotating
/// symbols made nearly every event allocate and free a partition's buffers
/// (seq2, 200,000 events over 10,000 symbols: 720.5 M -> 689.7 M
/// instructions). Parked partitions keep at most a few dozen elements of
/// each buffer (`Partition::park`), so the pool stays within a few MiB per
/// pattern.
const SPARE_PARTITIONS: usize = 1024;

/// Idle partitions a pattern leaves in place, under their key, rather than
/// removing them: a key that comes back (a symbol trading every few
/// windows) finds its partition as it left it, without a partition made,
/// reset, indexed and later removed again for each of its events (the peer
/// `seq2` stream: five of those per trade). Beyond this many, idle
/// partitions go to the spare pool as before. An idle partition is emptied
/// (`Partition::park`) and holds no run or event. Small on purpose: with
/// 1,024 the library over 5,000 symbols ran fewer instructions but slower
/// by the clock (resident partitions are cold when their key comes back,
/// the spare pool hands out the one parked last) and held 8 MiB more.
const RESIDENT_IDLE: usize = 128;

/// While a pattern has never had more than this many partition slots, its
/// quiet partitions are not visited to expire their runs: a run past its
/// window stays until its key's next event, which drops it in its own step,
/// or until the end of input. Expiring changes no match (trailing-`NOT`
/// deadlines have their own heap, which is always kept), only what is held,
/// and this many partitions hold little. On the peer `seq2` stream over 100
/// symbols a visit followed nearly every trade (the next trade of a symbol
/// comes long after its 10 s window) and cost 13% of the run. The pattern
/// whose slots pass this count queues its quiet partitions then, once
/// ([`PatternState::queue_all`]), and is visited as before from there on.
const LAZY_SLOTS: usize = 128;

/// The state of one pattern: its partitions.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct PatternState {
    /// Boxed: a partition (~170 bytes) moves between `parts` and `spare`
    /// with each key that goes quiet and comes back, and those moves were
    /// `memcpy` calls (3% of the library over 5,000 symbols).
    parts: Vec<Option<Box<Partition>>>,
    /// `(hash of the key, slot in parts)`. The hash comes from the engine's
    /// one hasher, so an event's key is hashed once for every pattern.
    #[serde(skip)]
    index: HashTable<(u64, usize)>,
    /// The key hash of each slot of `parts`, to remove it from `index`
    /// without hashing the key again.
    #[serde(skip)]
    hashes: Vec<u64>,
    #[serde(skip)]
    free: Vec<usize>,
    /// Idle partitions kept for reuse: a key that goes idle and comes back
    /// (most keys, between bursts) gets a partition whose buffers are
    /// already allocated instead of a new one. At most [`SPARE_PARTITIONS`].
    #[serde(skip)]
    // Boxed as in `parts`: a partition moves between the two by pointer.
    #[allow(clippy::vec_box)]
    spare: Vec<Box<Partition>>,
    /// (deadline, partition slot) of pending trailing-`NOT` matches.
    #[serde(skip)]
    deadlines: BinaryHeap<Reverse<(i64, usize)>>,
    /// (time, partition slot): when a partition next has runs to expire or
    /// events to prune ([`Partition::expiry`]). Partitions that receive no
    /// event are visited only then, not swept all at once: a sweep of every
    /// partition every half window cost more than all the matching of
    /// `seq2` on the harness stream (three visits per event, most finding
    /// nothing due). Bucketed by time ([`Buckets`]).
    #[serde(skip)]
    expiries: Buckets,
    /// Per slot, the time of its entry in `expiries` (`i64::MAX`: none;
    /// an entry with another time is stale and skipped).
    #[serde(skip)]
    expiry_at: Vec<i64>,
    /// Idle partitions left in `parts` and `index` (at most
    /// [`RESIDENT_IDLE`]).
    #[serde(skip)]
    idle: usize,
    live: u64,
}

impl PatternState {
    fn rebuild(&mut self, hasher: &DefaultHashBuilder, nfa: &crate::nfa::Nfa) {
        self.index.clear();
        self.hashes.clear();
        self.hashes.resize(self.parts.len(), 0);
        self.free.clear();
        self.deadlines.clear();
        self.expiries.clear();
        self.expiry_at.clear();
        self.expiry_at.resize(self.parts.len(), i64::MAX);
        self.idle = 0;
        self.live = 0;
        for (i, p) in self.parts.iter().enumerate() {
            match p {
                Some(p) => {
                    if p.is_idle() {
                        self.idle += 1;
                    }
                    if let (Some(t), Some(at), false) = (
                        p.expiry(nfa),
                        self.expiry_at.get_mut(i),
                        self.parts.len() <= LAZY_SLOTS,
                    ) {
                        self.expiries.push(t, i);
                        *at = t;
                    }
                    let h = key_hash(hasher, &p.key.0);
                    self.index.insert_unique(h, (h, i), |e| e.0);
                    if let Some(slot) = self.hashes.get_mut(i) {
                        *slot = h;
                    }
                    if let Some(d) = p.min_deadline() {
                        self.deadlines.push(Reverse((d, i)));
                    }
                    self.live += p.load() as u64;
                }
                None => self.free.push(i),
            }
        }
    }

    /// The earliest watermark at which [`Engine::tick_pattern`] has work for
    /// this pattern (a lower bound: the deadline heap may hold stale entries).
    fn wake(&self) -> i64 {
        let after = |t: Option<i64>| t.map_or(i64::MAX, |d| d.saturating_add(1));
        after(self.deadlines.peek().map(|Reverse((d, _))| *d)).min(after(self.expiries.first()))
    }

    /// Whether quiet partitions are left unvisited ([`LAZY_SLOTS`]).
    fn lazy(&self) -> bool {
        self.parts.len() <= LAZY_SLOTS
    }

    /// Queues every partition that has something to expire and is not
    /// queued (when the pattern stops being [`PatternState::lazy`]);
    /// returns the earliest time queued.
    fn queue_all(&mut self, nfa: &crate::nfa::Nfa) -> Option<i64> {
        let due: Vec<(usize, i64)> = self
            .parts
            .iter()
            .enumerate()
            .filter(|(slot, _)| !self.queued(*slot))
            .filter_map(|(slot, p)| Some((slot, p.as_ref()?.expiry(nfa)?)))
            .collect();
        let first = due.iter().map(|d| d.1).min();
        for (slot, t) in due {
            self.queue(slot, Some(t));
        }
        first
    }

    /// Whether the partition in `slot` has an entry in `expiries` (an
    /// earlier entry stays a lower bound: later events start later runs).
    fn queued(&self, slot: usize) -> bool {
        self.expiry_at.get(slot).is_some_and(|t| *t != i64::MAX)
    }

    /// Queues the partition in `slot` for its expiry `t` (from
    /// [`Partition::expiry`]).
    fn queue(&mut self, slot: usize, t: Option<i64>) {
        let Some(t) = t else {
            return;
        };
        if self.expiry_at.len() <= slot {
            self.expiry_at.resize(slot + 1, i64::MAX);
        }
        if let Some(at) = self.expiry_at.get_mut(slot) {
            *at = t;
            self.expiries.push(t, slot);
        }
    }

    /// The earliest pending deadline (a lower bound, as for `wake`).
    fn next_deadline(&self) -> i64 {
        self.deadlines.peek().map_or(i64::MAX, |Reverse((d, _))| *d)
    }
}

/// A snapshot of an engine's complete state (serde). Programs are not
/// included: [`Engine::restore`] takes the program.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Snapshot {
    version: u32,
    patterns: Vec<String>,
    config: Config,
    watermark: EventTime,
    max_ts: EventTime,
    next_seq: u64,
    reorder: Vec<(i64, u64, Event)>,
    states: Vec<PatternState>,
    stats: Stats,
    out: Vec<Match>,
    late: Vec<Event>,
}

/// 3: the runs of a counting pattern (`Nfa::counting`) are kept as a
/// shared list with start offsets, not as runs; a version 2 snapshot of
/// such a pattern would restore runs the engine no longer steps, so older
/// snapshots are refused ([`SnapshotError::Version`]). 4: a Kleene list's
/// running aggregates are kept with its elements in the partition's list
/// arena, not in each run; a version 3 run's aggregates have no place to go.
const SNAPSHOT_VERSION: u32 = 4;

/// The matching engine: push events, drain matches.
///
/// ```
/// use dalal::{Config, Engine, Event, EventTime, Program, Value};
/// let program = Program::compile(
///     "EVENT Trade (symbol STRING, price FLOAT);
///      PATTERN up SEQ(Trade a, Trade b) WHERE b.price > a.price WITHIN 1m PARTITION BY symbol;",
/// ).unwrap();
/// let mut engine = Engine::new(program.clone(), Config::default());
/// for (ms, price) in [(0, 10.0), (1_000, 11.0)] {
///     let e = Event::new(&program, "Trade", EventTime::from_millis(ms),
///         vec![Value::str("TCS"), Value::Float(price)]).unwrap();
///     engine.push(e).unwrap();
/// }
/// engine.finish();
/// let matches: Vec<_> = engine.drain_matches().collect();
/// assert_eq!(matches.len(), 1);
/// assert_eq!(matches[0].key, vec![(std::sync::Arc::from("symbol"), Value::str("TCS"))]);
/// ```
pub struct Engine {
    program: Program,
    config: Config,
    /// `config.max_delay` in nanoseconds (saturated), for the watermark of
    /// every event: converting the `Duration` was a `u128` conversion an
    /// event.
    delay: i64,
    watermark: EventTime,
    max_ts: EventTime,
    next_seq: u64,
    reorder: BinaryHeap<Reverse<(i64, u64, EventBox)>>,
    states: Vec<PatternState>,
    stats: Stats,
    out: Vec<Match>,
    late: Vec<Event>,
    seeds: Vec<Vec<crate::partition::Run>>,
    scratch: Scratch,
    /// An empty partition on which [`Partition::wakes_fresh`] evaluates an
    /// event's first conditions before a partition is made for its key.
    probe: Partition,
    /// Hashes partition keys for every pattern's index.
    hasher: DefaultHashBuilder,
    /// Per key shape of the event being released: its key values (when not
    /// read in place) and hash.
    key_bufs: Vec<Vec<Value>>,
    key_hashes: Vec<u64>,
    /// Sum of `PatternState::live` over all patterns.
    live: u64,
    /// Lower bound of every pattern's `PatternState::wake`: below it no
    /// tick has work, so a push does not visit every pattern.
    wake: i64,
    /// Lower bound of every pattern's `PatternState::next_deadline`.
    next_deadline: i64,
    /// The slots a tick visits (reused).
    touched: Vec<usize>,
}

/// An event in the reorder heap (ordered only by the key beside it).
#[derive(Clone, Debug)]
struct EventBox(Event);

impl PartialEq for EventBox {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for EventBox {}
impl PartialOrd for EventBox {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for EventBox {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("watermark", &self.watermark)
            .field("stats", &self.stats)
            .finish()
    }
}

impl Engine {
    /// A fresh engine for a program.
    pub fn new(program: impl Into<Program>, config: Config) -> Engine {
        let program = program.into();
        let n = program.checked().patterns.len();
        Engine {
            delay: i64::try_from(config.max_delay.as_nanos()).unwrap_or(i64::MAX),
            config,
            watermark: EventTime::MIN,
            max_ts: EventTime::MIN,
            next_seq: 0,
            reorder: BinaryHeap::new(),
            states: vec![PatternState::default(); n],
            stats: Stats {
                matches: vec![0; n],
                ..Stats::default()
            },
            out: Vec::new(),
            late: Vec::new(),
            seeds: (0..n)
                .map(|i| crate::partition::seeds(program.nfa(PatternId::from_index(i))))
                .collect(),
            scratch: Scratch::default(),
            touched: Vec::new(),
            probe: Partition::new(Key::default()),
            hasher: DefaultHashBuilder::default(),
            key_bufs: Vec::new(),
            key_hashes: Vec::new(),
            live: 0,
            wake: i64::MIN,
            next_deadline: i64::MIN,
            program,
        }
    }

    /// The program.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The current watermark (events older than it are late).
    pub fn watermark(&self) -> EventTime {
        self.watermark
    }

    /// Pushes one event. It is matched once the watermark reaches its time
    /// (at once with `max_delay` 0). A late event is handled per
    /// [`Config::late`]; an event whose type id or field count does not fit
    /// the program is refused with [`EngineError::InvalidEvent`] and not counted.
    pub fn push(&mut self, event: Event) -> Result<(), EngineError> {
        let decl = self
            .program
            .checked()
            .types
            .get(event.ty.index())
            .ok_or(crate::value::EventError::BadTypeId(event.ty.0))?;
        if decl.fields.len() != event.fields.len() {
            return Err(crate::value::EventError::FieldCount {
                ty: decl.name.clone(),
                expected: decl.fields.len(),
                found: event.fields.len(),
            }
            .into());
        }
        self.stats.events += 1;
        let seq = self.next_seq;
        self.next_seq += 1;
        if event.ts < self.watermark {
            self.stats.late += 1;
            match self.config.late {
                LatePolicy::Drop => return Ok(()),
                LatePolicy::SideOutput => {
                    self.late.push(event);
                    return Ok(());
                }
                LatePolicy::Fail => {
                    return Err(EngineError::Late {
                        ts: event.ts,
                        watermark: self.watermark,
                    });
                }
            }
        }
        self.max_ts = self.max_ts.max(event.ts);
        let wm = EventTime(self.max_ts.0.saturating_sub(self.delay));
        if self.reorder.is_empty() && event.ts <= wm {
            // In order and due at once: skip the heap, release as `advance` would.
            self.watermark = self.watermark.max(wm);
            self.release_due(event.ts.0, seq, event);
            self.tick_all(Some(self.watermark.0));
        } else {
            self.reorder
                .push(Reverse((event.ts.0, seq, EventBox(event))));
            self.advance(wm, false);
        }
        Ok(())
    }

    /// Pushes events in order; stops at the first error.
    pub fn push_batch(
        &mut self,
        events: impl IntoIterator<Item = Event>,
    ) -> Result<(), EngineError> {
        for e in events {
            self.push(e)?;
        }
        Ok(())
    }

    /// Moves the watermark forward (never back): buffered events up to it
    /// are matched, trailing-`NOT` matches whose window closed before it
    /// are emitted, and runs that can no longer complete are freed.
    pub fn advance_watermark(&mut self, to: EventTime) {
        self.advance(to, false);
    }

    /// End of input: the watermark goes to +infinity; everything buffered is
    /// matched and every pending match is emitted.
    pub fn finish(&mut self) {
        self.advance(EventTime::MAX, true);
    }

    /// Takes the matches emitted so far, in emission order.
    pub fn drain_matches(&mut self) -> std::vec::Drain<'_, Match> {
        self.out.drain(..)
    }

    /// Sends the matches emitted so far to a sink.
    pub fn drain_into(&mut self, sink: &mut impl Sink) {
        for m in self.out.drain(..) {
            sink.matched(m);
        }
    }

    /// Takes the late events kept under [`LatePolicy::SideOutput`].
    pub fn drain_late(&mut self) -> std::vec::Drain<'_, Event> {
        self.late.drain(..)
    }

    /// Current counters.
    pub fn stats(&self) -> Stats {
        let mut s = self.stats.clone();
        s.live_runs = self.states.iter().map(|p| p.live).sum();
        s.partitions = self
            .states
            .iter()
            .map(|p| p.index.len().saturating_sub(p.idle) as u64)
            .sum();
        s.buffered = self.reorder.len() as u64;
        s
    }

    fn advance(&mut self, to: EventTime, finish: bool) {
        if to > self.watermark {
            self.watermark = to;
        }
        while let Some(Reverse((ts, _, _))) = self.reorder.peek() {
            if *ts > self.watermark.0 {
                break;
            }
            if let Some(Reverse((ts, seq, EventBox(e)))) = self.reorder.pop() {
                self.release_due(ts, seq, e);
            }
        }
        let now = if finish { None } else { Some(self.watermark.0) };
        self.tick_all(now);
    }

    fn tick_all(&mut self, now: Option<i64>) {
        if now.is_some_and(|n| n < self.wake) {
            return;
        }
        for pi in 0..self.states.len() {
            self.tick_pattern(pi, now);
        }
        self.recompute_wake();
    }

    /// Recomputes `wake` and `next_deadline` from every pattern.
    fn recompute_wake(&mut self) {
        let (mut wake, mut next) = (i64::MAX, i64::MAX);
        for st in &self.states {
            wake = wake.min(st.wake());
            next = next.min(st.next_deadline());
        }
        self.wake = wake;
        self.next_deadline = next;
    }

    /// Releases one event of S at time `ts`: first the matches whose
    /// trailing window closed before it, in every partition.
    #[inline]
    fn release_due(&mut self, ts: i64, seq: u64, e: Event) {
        if self.next_deadline < ts {
            for pi in 0..self.states.len() {
                if self.states[pi]
                    .deadlines
                    .peek()
                    .is_some_and(|Reverse((d, _))| *d < ts)
                {
                    self.tick_pattern(pi, Some(ts));
                }
            }
            self.recompute_wake();
        }
        self.release(seq, e);
    }

    #[inline]
    fn ctx<'a>(
        program: &'a Program,
        seeds: &'a [Vec<crate::partition::Run>],
        pi: usize,
        max_runs: usize,
    ) -> Option<Ctx<'a>> {
        let id = PatternId::from_index(pi);
        Some(Ctx {
            seeds: seeds.get(pi)?,
            nfa: program.inner.nfas.get(pi)?,
            pattern: id,
            type_names: &program.inner.type_names,
            names: program.inner.names.get(pi)?,
            max_runs,
        })
    }

    /// Time moved to `now` (`None`: end of input) for one pattern.
    fn tick_pattern(&mut self, pi: usize, now: Option<i64>) {
        // Leave at once when nothing is due (the common case), before
        // building a context.
        if let (Some(n), Some(st)) = (now, self.states.get(pi)) {
            let due = |t: Option<i64>| t.is_some_and(|d| d < n);
            if !due(st.deadlines.peek().map(|Reverse((d, _))| *d)) && !due(st.expiries.first()) {
                return;
            }
        }
        let Some(ctx) = Self::ctx(
            &self.program,
            &self.seeds,
            pi,
            self.config.max_runs_per_partition,
        ) else {
            return;
        };
        let Some(st) = self.states.get_mut(pi) else {
            return;
        };
        let mut stats = StepStats::default();
        let mut touched = std::mem::take(&mut self.touched);
        touched.clear();
        match now {
            // End of input: every partition.
            None => touched.extend(0..st.parts.len()),
            Some(n) => {
                while let Some(Reverse((d, slot))) = st.deadlines.peek().copied() {
                    if d >= n {
                        break;
                    }
                    st.deadlines.pop();
                    touched.push(slot);
                }
                let expiry_at = &mut st.expiry_at;
                st.expiries.pop_before(n, |t, slot| {
                    // A stale entry: the slot was queued again or freed.
                    if let Some(at) = expiry_at.get_mut(slot).filter(|at| **at == t) {
                        *at = i64::MAX;
                        touched.push(slot);
                    }
                });
                touched.sort_unstable();
                touched.dedup();
            }
        }
        for &slot in &touched {
            let queued = st.queued(slot) || st.lazy();
            let Some(Some(part)) = st.parts.get_mut(slot) else {
                continue;
            };
            if part.is_idle() {
                // Resident and idle (end of input visits every slot).
                continue;
            }
            if let Some(n) = now {
                // An event came since the partition was queued: it expired
                // its own runs then, and it is due again a window later
                // (unless a pending match is due).
                let deadline_due = part.min_deadline().is_some_and(|d| d < n);
                if let Some(t) = part.expiry(ctx.nfa).filter(|t| *t >= n && !deadline_due) {
                    if !queued {
                        st.queue(slot, Some(t));
                    }
                    continue;
                }
            }
            let before = part.load() as u64;
            part.advance(&ctx, now, &mut self.out, &mut stats);
            let after = part.load() as u64;
            st.live = (st.live + after).saturating_sub(before);
            self.live = (self.live + after).saturating_sub(before);
            if let Some(d) = part.min_deadline() {
                st.deadlines.push(Reverse((d, slot)));
            }
            if part.is_idle() {
                // Nothing left to expire: a queued entry is stale from here.
                if let Some(at) = st.expiry_at.get_mut(slot) {
                    *at = i64::MAX;
                }
                if st.idle < RESIDENT_IDLE {
                    // Stays in the index, emptied: when its key comes back
                    // it is found as it is, with no partition made or reset.
                    part.park();
                    st.idle += 1;
                    continue;
                }
                let h = match st.hashes.get(slot) {
                    Some(h) => *h,
                    None => key_hash(&self.hasher, &part.key.0),
                };
                if let Ok(entry) = st.index.find_entry(h, |e| e.1 == slot) {
                    entry.remove();
                }
                if let Some(mut p) = st.parts[slot].take() {
                    if st.spare.len() < SPARE_PARTITIONS {
                        p.park();
                        st.spare.push(p);
                    }
                }
                st.free.push(slot);
            } else if let Some(n) = now.filter(|_| !queued) {
                // Not due before `n` again, so the loop above ends.
                let t = part.expiry(ctx.nfa).map(|t| t.max(n));
                st.queue(slot, t);
            }
        }
        self.touched = touched;
        self.stats.matches[pi] += stats.matches;
        self.stats.dropped_runs += stats.dropped_runs;
        self.update_peak();
    }

    fn update_peak(&mut self) {
        self.stats.peak_runs = self.stats.peak_runs.max(self.live);
    }

    /// An event of S: route it to every pattern that uses its type.
    fn release(&mut self, seq: u64, event: Event) {
        let Engine {
            program,
            config,
            states,
            stats,
            out,
            seeds,
            scratch,
            probe,
            hasher,
            key_bufs,
            key_hashes,
            live,
            wake,
            next_deadline,
            ..
        } = self;
        let Some(dispatch) = program.inner.dispatch.get(event.ty.index()) else {
            return;
        };
        if dispatch.routes.is_empty() {
            return;
        }
        stats.routed += 1;
        if key_bufs.len() < dispatch.shapes.len() {
            key_bufs.resize_with(dispatch.shapes.len(), Vec::new);
        }
        key_hashes.clear();
        for (shape, buf) in dispatch.shapes.iter().zip(key_bufs.iter_mut()) {
            program.fill_key(shape, &event, buf);
            let key = Program::key_slice(shape, &event, buf);
            key_hashes.push(key_hash(hasher, key));
        }
        // Each partition that takes the event keeps a copy; the steps read
        // this one.
        let stored = Stored { seq, event };
        let ev = &stored.event;
        for &(pi, si) in &dispatch.routes {
            let (Some(shape), Some(buf), Some(&hash), Some(st)) = (
                dispatch.shapes.get(si),
                key_bufs.get(si),
                key_hashes.get(si),
                states.get_mut(pi),
            ) else {
                continue;
            };
            let Some(ctx) = Self::ctx(program, seeds, pi, config.max_runs_per_partition) else {
                continue;
            };
            let key = Program::key_slice(shape, ev, buf);
            let parts = &st.parts;
            let mut by_value = false;
            let found = st.index.find(hash, |&(h, slot)| {
                h == hash
                    && parts
                        .get(slot)
                        .and_then(Option::as_ref)
                        .is_some_and(|p| same_key(key, &p.key, &mut by_value))
            });
            let (slot, found) = match found {
                Some(&(_, s)) => (s, true),
                None => {
                    // No partition for the key: make one only if the event
                    // can change it (most events of most keys start nothing).
                    if !probe.wakes_fresh(&ctx, &stored) {
                        continue;
                    }
                    let part = match st.spare.pop() {
                        Some(mut p) => {
                            p.reset(Key::of(key));
                            p
                        }
                        None => Box::new(Partition::new(Key::of(key))),
                    };
                    let slot = match st.free.pop() {
                        Some(s) => {
                            st.parts[s] = Some(part);
                            s
                        }
                        None => {
                            st.parts.push(Some(part));
                            if st.parts.len() == LAZY_SLOTS + 1 {
                                if let Some(t) = st.queue_all(ctx.nfa) {
                                    *wake = (*wake).min(t.saturating_add(1));
                                }
                            }
                            st.parts.len() - 1
                        }
                    };
                    if st.hashes.len() <= slot {
                        st.hashes.resize(slot + 1, 0);
                    }
                    st.hashes[slot] = hash;
                    st.index.insert_unique(hash, (hash, slot), |e| e.0);
                    (slot, false)
                }
            };
            // Queued, or not to be queued.
            let queued = st.queued(slot) || st.lazy();
            let Some(Some(part)) = st.parts.get_mut(slot) else {
                continue;
            };
            if by_value {
                adopt_key(part, key);
            }
            if found && part.is_idle() {
                // A resident idle partition takes only what a new one would.
                if !part.wakes_fresh(&ctx, &stored) {
                    continue;
                }
                st.idle = st.idle.saturating_sub(1);
            }
            let mut step = StepStats::default();
            let before = part.load() as u64;
            let had_deadline = part.min_deadline();
            part.on_event(&ctx, &stored, out, &mut step, scratch);
            let after = part.load() as u64;
            st.live = (st.live + after).saturating_sub(before);
            *live = (*live + after).saturating_sub(before);
            let d = part.min_deadline();
            let expiry = if queued { None } else { part.expiry(ctx.nfa) };
            if d.is_some() && d != had_deadline {
                if let Some(d) = d {
                    st.deadlines.push(Reverse((d, slot)));
                    *next_deadline = (*next_deadline).min(d);
                    *wake = (*wake).min(d.saturating_add(1));
                }
            }
            if let Some(t) = expiry {
                st.queue(slot, Some(t));
                *wake = (*wake).min(t.saturating_add(1));
            }
            if let Some(m) = stats.matches.get_mut(pi) {
                *m += step.matches;
            }
            stats.dropped_runs += step.dropped_runs;
        }
        self.update_peak();
    }

    /// The complete state, serializable with serde.
    pub fn snapshot(&self) -> Result<Snapshot, SnapshotError> {
        let mut reorder: Vec<(i64, u64, Event)> = self
            .reorder
            .iter()
            .map(|Reverse((t, s, e))| (*t, *s, e.0.clone()))
            .collect();
        reorder.sort_by_key(|(t, s, _)| (*t, *s));
        Ok(Snapshot {
            version: SNAPSHOT_VERSION,
            patterns: self
                .program
                .pattern_names()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            config: self.config.clone(),
            watermark: self.watermark,
            max_ts: self.max_ts,
            next_seq: self.next_seq,
            reorder,
            states: self.states.clone(),
            stats: self.stats.clone(),
            out: self.out.clone(),
            late: self.late.clone(),
        })
    }

    /// Rebuilds an engine from a snapshot taken with the same program.
    pub fn restore(program: impl Into<Program>, snap: Snapshot) -> Result<Engine, SnapshotError> {
        let program = program.into();
        if snap.version != SNAPSHOT_VERSION {
            return Err(SnapshotError::Version(snap.version));
        }
        let names: Vec<String> = program
            .pattern_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        if names != snap.patterns || snap.states.len() != names.len() {
            return Err(SnapshotError::ProgramMismatch {
                expected: names,
                found: snap.patterns,
            });
        }
        let mut engine = Engine::new(program, snap.config);
        engine.watermark = snap.watermark;
        engine.max_ts = snap.max_ts;
        engine.next_seq = snap.next_seq;
        engine.reorder = snap
            .reorder
            .into_iter()
            .map(|(t, s, e)| Reverse((t, s, EventBox(e))))
            .collect();
        engine.states = snap.states;
        for (pi, st) in engine.states.iter_mut().enumerate() {
            st.rebuild(
                &engine.hasher,
                engine.program.nfa(PatternId::from_index(pi)),
            );
        }
        engine.live = engine.states.iter().map(|st| st.live).sum();
        engine.recompute_wake();
        engine.stats = snap.stats;
        engine.stats.matches.resize(names.len(), 0);
        engine.out = snap.out;
        engine.late = snap.late;
        Ok(engine)
    }
}

/// `KeyRef(key).equivalent(stored)`, with the common one-value key
/// compared in place: going through the generic comparison (lengths, a
/// zipped iteration) cost more than the compare. Sets `by_value` when a
/// one-value key is equal but not by pointer (see [`adopt_key`]).
#[inline]
fn same_key(key: &[Value], stored: &Key, by_value: &mut bool) -> bool {
    match (key, &*stored.0) {
        ([a], [b]) => crate::value::key_eq_noting(a, b, by_value),
        _ => KeyRef(key).equivalent(stored),
    }
}

/// The partition keeps the probing event's string as its key when the two
/// are equal strings in two allocations (the reader interns a field per
/// type: a symbol of a trade and of a news item are two `Arc`s). The next
/// event of the probing type then finds the key by pointer, where each of
/// them compared the bytes (154,084 `memcmp` calls in the library over 100
/// symbols, mostly trades probing partitions that news made). Equal values:
/// matches and snapshots are unchanged. Called only after [`same_key`]
/// found the key equal by value, so the two strings are two allocations.
#[inline]
fn adopt_key(part: &mut Partition, key: &[Value]) {
    if let ([Value::Str(new)], [Value::Str(old)]) = (key, &mut part.key.0[..]) {
        *old = new.clone();
    }
}

impl From<Arc<Program>> for Program {
    fn from(p: Arc<Program>) -> Program {
        (*p).clone()
    }
}
