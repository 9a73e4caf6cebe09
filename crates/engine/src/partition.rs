//! One partition of one pattern: its event buffer, runs and pending matches,
//! and the step function that feeds it one event of the ordered stream S.

use crate::eval::{Env, Num, Summary, holds};
use crate::matches::{Binding, BoundEvent, Match, MatchNames};
use crate::nfa::{EpsKind, Fresh, Nfa, StateId};
use crate::value::{Event, EventTime, Key, Value};
use dalal_lang::ast::{AfterMatch, Strategy};
use dalal_lang::typed::{Access, AggFunc, AggRange, FieldRef, PatternId, VarId, VarKind};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use std::collections::VecDeque;
use std::sync::Arc;
use thin_vec::ThinVec;

/// Position of an event in its partition's stream S (0, 1, 2, ...).
pub(crate) type Pos = u64;

/// An event kept in a partition buffer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Stored {
    pub seq: u64,
    pub event: Event,
}

/// No list node: the tail of an empty Kleene list.
const NIL: u64 = u64::MAX;

/// One element of a Kleene list in a partition's list arena. A list is a
/// chain of nodes from its last element back to its first; lists that
/// share a prefix (the forks of one run) share its nodes, so extending or
/// forking a list allocates nothing per run (the shared versioned buffer of
/// SASE+). Unreachable nodes are reclaimed by [`Partition::compact`].
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(crate) struct Node {
    pos: Pos,
    prev: u64,
    /// The list's first position (`t[1]` in O(1)).
    head: Pos,
}

/// What a variable of a run is bound to (positions into the buffer). `Copy`,
/// so a run's bindings live inline and cloning a run allocates nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Bind {
    Unbound,
    One(Pos),
    /// A Kleene list of `len` elements: `tail` is the arena node of the
    /// last one ([`NIL`] when empty). 16 bytes, so runs stay small to move.
    Many {
        tail: u64,
        len: u32,
    },
}

impl Bind {
    /// An empty Kleene list (bound, with no element).
    const EMPTY: Bind = Bind::Many { tail: NIL, len: 0 };

    /// Elements of a Kleene list (0 for a singleton or an unbound variable).
    fn list_len(self) -> usize {
        match self {
            Bind::Many { len, .. } => usize::try_from(len).unwrap_or(usize::MAX),
            _ => 0,
        }
    }

    /// Events bound: 1 for a singleton, the length of a list.
    fn bound_len(self) -> usize {
        match self {
            Bind::One(_) => 1,
            b => b.list_len(),
        }
    }
}

/// A binding with its list spelled out: the order in which complete
/// candidates with the same positions are emitted (variable by variable,
/// unbound first, then singletons, then lists, lexicographically).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum BindKey {
    Unbound,
    One(Pos),
    Many(Vec<Pos>),
}

/// Below this many nodes the arena is never compacted (a small arena costs
/// little; compacting it often would). Unit tests compact explicitly.
///
/// Small enough that the nodes a partition cycles through between two
/// compactions stay in cache over many partitions: at 1,024 each partition
/// wrote a fresh line every few nodes across ~26 KB, 2.6 MB over 100
/// partitions against a 1 MB L2, and the Kleene workloads ran 7-8% slower
/// than at 256 for a fraction of a percent fewer instructions
/// (docs/PERFORMANCE.md, change 93); 128 and 64 were no faster.
const COMPACT_FLOOR: usize = if cfg!(test) {
    usize::MAX / 4
} else {
    ARENA_FLOOR
};

/// [`COMPACT_FLOOR`] outside unit tests, which also size a compacted arena
/// by it (see [`Partition::fit_arena`]).
const ARENA_FLOOR: usize = 256;

/// A run's bindings, inline for patterns of up to three variables (larger
/// inline arrays make every run move cost more than the allocation saved).
type Binds = SmallVec<[Bind; 3]>;

/// An absence range opened by a `NOT` element: events strictly after `lo`
/// (the last bound event before it, if any) and strictly before `hi` (the
/// next bound event, once bound).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct NotRange {
    var: VarId,
    lo: Option<Pos>,
    hi: Option<Pos>,
}

/// A partial match: an NFA state and the binding so far.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Run {
    alt: u32,
    state: StateId,
    binds: Binds,
    /// Thin vectors (one pointer, no allocation when empty, which is the
    /// common case): a run at 128 bytes or less is moved by inline copies,
    /// at 160 bytes every move was a `memcpy` call.
    nots: ThinVec<NotRange>,
    first: Option<(Pos, i64)>,
    /// The newest bound position, [`NO_POS`] before the first: a plain
    /// `Pos` (8 bytes, against 16 for an `Option`) keeps a run within 128
    /// bytes, past which every move of a run became a `memcpy` call. Saved
    /// as an `Option`, as before.
    #[serde(with = "opt_pos")]
    last: Pos,
    /// The run's side of its state's hoisted comparison
    /// ([`crate::nfa::Take::hoist`]), once computed: it depends only on
    /// what the run bound, so it holds until the run takes an event (which
    /// clears it). Derived, so not saved: a restored run computes it again.
    #[serde(skip)]
    key: Option<Num>,
}

/// [`Run::last`] of a run with nothing bound.
const NO_POS: Pos = Pos::MAX;

/// [`Run::last`] as the `Option` it is in a snapshot.
mod opt_pos {
    use super::{NO_POS, Pos};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(p: &Pos, s: S) -> Result<S::Ok, S::Error> {
        (*p != NO_POS).then_some(*p).serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Pos, D::Error> {
        Ok(Option::<Pos>::deserialize(d)?.unwrap_or(NO_POS))
    }
}

impl Clone for Run {
    // By hand: the derived clone copies the inline bindings element by
    // element; `from_slice` copies them at once (a seed is cloned for every
    // event).
    fn clone(&self) -> Run {
        Run {
            alt: self.alt,
            state: self.state,
            binds: Binds::from_slice(&self.binds),
            nots: self.nots.clone(),
            first: self.first,
            last: self.last,
            key: self.key,
        }
    }
}

impl Run {
    /// A copy of `seed`, an empty run of [`seeds`] (nothing bound, no
    /// absence range), built without reading it element by element: a
    /// seed is copied for every event that starts a run, and its clone
    /// copied the bindings with a `memcpy` call (~75 instructions a run).
    #[inline]
    fn from_seed(seed: &Run) -> Run {
        let n = seed.binds.len();
        if n > 3 || !seed.nots.is_empty() || seed.first.is_some() {
            return seed.clone();
        }
        Run {
            binds: Binds::from_buf_and_len([Bind::Unbound; 3], n),
            ..Run::empty(seed)
        }
    }

    /// A run with nothing bound, to leave behind when a run is moved out.
    fn empty(like: &Run) -> Run {
        Run {
            alt: like.alt,
            state: like.state,
            binds: Binds::new(),
            nots: ThinVec::new(),
            first: None,
            last: NO_POS,
            key: None,
        }
    }

    fn first_pos(&self) -> Pos {
        self.first.map_or(0, |f| f.0)
    }

    /// The newest bound position.
    fn last(&self) -> Option<Pos> {
        (self.last != NO_POS).then_some(self.last)
    }
}

/// A complete candidate waiting for its trailing `NOT` window to close.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Pending {
    run: Run,
    deadline: i64,
    trailing: Vec<VarId>,
    lo: Pos,
}

/// A complete candidate ready to be ordered and emitted.
struct Done {
    run: Run,
    /// The trailing-`NOT` deadline it waited for, or `i64::MIN`.
    deadline: i64,
}

/// The completion order of a [`Done`]: (deadline, first position, sorted
/// positions), then the bindings spelled out (the tie-break, and equality).
/// Built only when a batch has several candidates to order.
type OrderKey = ((i64, Pos, Vec<Pos>), Vec<BindKey>);

/// Counters a partition reports to the engine.
#[derive(Default, Debug, Clone, Copy)]
pub(crate) struct StepStats {
    pub dropped_runs: u64,
    pub matches: u64,
}

/// The mutable state of one partition of one pattern.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Partition {
    pub key: Key,
    buf: VecDeque<Stored>,
    /// Position of `buf[0]`.
    base: Pos,
    runs: Vec<Run>,
    pending: Vec<Pending>,
    /// Largest event time seen (for pruning).
    now: i64,
    /// The Kleene list arena ([`Node`]).
    lists: Vec<Node>,
    /// The arena's size ([`Partition::arena_size`]) after the last
    /// compaction: the next one is due when the arena has grown well past
    /// it (amortized O(1) per appended node).
    lists_live: usize,
    /// The running aggregates (`Nfa::agg_slots`) of the lists in `lists`:
    /// node `i`'s are `sums[i * k..(i + 1) * k]` for the pattern's `k`
    /// slots (none when it keeps none), the state of its list up to and
    /// including it. A slot of another variable than the node's holds a
    /// placeholder nobody reads. Kept with the nodes rather than in each
    /// run, forking or starting a run allocates nothing for them (a copy
    /// of the seed's aggregates was an allocation per run started).
    #[serde(default)]
    sums: Vec<Summary>,
    /// Buffer length after the last pruning: an event prunes only when the
    /// buffer has grown by a quarter since (pruning walks every run).
    #[serde(default)]
    pruned_len: usize,
    /// The live runs of a counting pattern ([`Nfa::counting`]); `runs`
    /// stays empty for such a pattern.
    /// Boxed: only counting patterns have one, and a partition is moved
    /// whole in and out of the pool of idle ones.
    #[serde(default)]
    counter: Option<Box<Counter>>,
}

/// The live runs of a counting pattern ([`Nfa::counting`]). Every live run
/// took every event that passed the conditions since it started, so each
/// run's list is a suffix of one shared list and a run is just where its
/// suffix starts: an event appends one element for all runs at once.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Counter {
    /// (position, time) of the events the oldest live run has taken, oldest
    /// first.
    taken: VecDeque<(Pos, i64)>,
    /// Elements ever removed from the front of `taken`: element `k` of
    /// `taken` has the absolute index `dropped + k`.
    dropped: u64,
    /// The live runs, oldest first: the absolute index of each one's first
    /// element (strictly increasing).
    starts: VecDeque<u64>,
}

impl Counter {
    /// Absolute index one past the newest element.
    fn total(&self) -> u64 {
        self.dropped + self.taken.len() as u64
    }

    /// The (position, time) of absolute element `i`.
    fn at(&self, i: u64) -> Option<(Pos, i64)> {
        i.checked_sub(self.dropped)
            .and_then(|k| usize::try_from(k).ok())
            .and_then(|k| self.taken.get(k).copied())
    }

    /// Drops the elements no live run reaches.
    fn trim(&mut self) {
        let keep = self.starts.front().copied().unwrap_or(self.total());
        while self.dropped < keep && self.taken.pop_front().is_some() {
            self.dropped += 1;
        }
    }

    fn clear(&mut self) {
        self.starts.clear();
        self.trim();
    }

    /// Empty, as new (keeping the allocations).
    fn reset(&mut self) {
        self.taken.clear();
        self.starts.clear();
        self.dropped = 0;
    }

    /// Drops the runs whose window can no longer be met by an event at
    /// `now` (the oldest first: starts are in time order).
    fn expire(&mut self, within: i64, now: i64) {
        while let Some(&s) = self.starts.front() {
            match self.at(s) {
                Some((_, ts)) if ts.saturating_add(within) >= now => break,
                _ => {
                    self.starts.pop_front();
                }
            }
        }
        self.trim();
    }

    /// First position of the oldest live run.
    fn first_pos(&self) -> Option<Pos> {
        self.starts.front().and_then(|&s| self.at(s)).map(|p| p.0)
    }
}

/// Read-only context of a step.
pub(crate) struct Ctx<'a> {
    pub nfa: &'a Nfa,
    pub pattern: PatternId,
    pub type_names: &'a [Arc<str>],
    /// Names for [`Partition::to_match`] (shared, not copied, per match).
    pub names: &'a MatchNames,
    pub max_runs: usize,
    /// One empty run per alternative, at its start state.
    pub seeds: &'a [Run],
}

/// The empty run of each alternative of a pattern.
pub(crate) fn seeds(nfa: &Nfa) -> Vec<Run> {
    nfa.alts
        .iter()
        .enumerate()
        .map(|(ai, alt)| Run {
            alt: ai as u32,
            state: alt.start,
            binds: smallvec::smallvec![Bind::Unbound; nfa.var_kinds.len()],
            nots: ThinVec::new(),
            first: None,
            last: NO_POS,
            key: None,
        })
        .collect()
}

/// The binding a conjunct is evaluated against.
struct View<'a> {
    part: &'a Partition,
    binds: &'a [Bind],
    /// Which `(var, field)` each running aggregate is for.
    slots: &'a [(VarId, Option<FieldRef>)],
    /// An event being bound to a variable: the singleton itself, or the
    /// element being added to a Kleene list (`t[i]`).
    cur: Option<(VarId, &'a Stored)>,
    /// The candidate event of a negated variable in an absence check.
    neg: Option<(VarId, &'a Stored)>,
    type_names: &'a [Arc<str>],
}

impl View<'_> {
    fn get(&self, pos: Pos) -> Option<&Stored> {
        self.part.get(pos)
    }

    fn value(&self, e: &Stored, f: FieldRef) -> Value {
        field_value(self.type_names, e, f)
    }

    /// The elements of a variable: the positions bound (one event or a
    /// list, in order) and the event being added, if it is this variable's.
    fn list(&self, var: VarId) -> (SmallVec<[Pos; 16]>, Option<&Stored>) {
        let bind = self.binds.get(var.index()).copied();
        let prefix = bind.map_or_else(SmallVec::new, |b| self.part.positions_of(b));
        let cur = self.cur.filter(|(v, _)| *v == var).map(|(_, e)| e);
        (prefix, cur)
    }

    /// The running state kept for `(var, field)` and the element being
    /// added to it for `range` (`None` when the state is the answer as is);
    /// `None` when no state is kept for the range (fold over the list).
    fn kept(
        &self,
        var: VarId,
        range: AggRange,
        field: Option<FieldRef>,
    ) -> Option<(&Summary, Option<&Stored>)> {
        let s = self.part.kept_state(self.slots, self.binds, (var, field))?;
        let cur = self.cur.filter(|(v, _)| *v == var).map(|(_, e)| e);
        match (range, cur) {
            (AggRange::All, Some(e)) => Some((s, Some(e))),
            (AggRange::All, None) | (AggRange::BeforeCurrent, Some(_)) => Some((s, None)),
            // All but the last element: not kept; fold over the list.
            (AggRange::BeforeCurrent, None) => None,
        }
    }
}

/// The running state of an empty list.
static NO_ELEMENTS: Summary = Summary::EMPTY;

impl<'a> View<'a> {
    /// The event `var` with `access` reads (as [`Env::field`] resolves it).
    #[inline(always)]
    fn stored(&self, var: VarId, access: Access) -> Option<&'a Stored> {
        if let Some((v, e)) = self.neg {
            if v == var {
                return Some(e);
            }
        }
        // The common reads first: the event being bound, or a singleton.
        if matches!(access, Access::Current | Access::Last | Access::Single) {
            if let Some((v, e)) = self.cur {
                if v == var {
                    return Some(e);
                }
            }
            if let Some(Bind::One(p)) = self.binds.get(var.index()) {
                return self.part.get(*p);
            }
        }
        let bind = self
            .binds
            .get(var.index())
            .copied()
            .unwrap_or(Bind::Unbound);
        let plen = bind.bound_len();
        let cur = self.cur.filter(|(v, _)| *v == var).map(|(_, e)| e);
        let len = plen + usize::from(cur.is_some());
        let part = self.part;
        let at = |i: usize| -> Option<&'a Stored> {
            if i < plen {
                part.elem(bind, i).and_then(|p| part.get(p))
            } else if i == plen {
                cur
            } else {
                None
            }
        };
        match access {
            Access::Current | Access::Last | Access::Single => len.checked_sub(1).and_then(at),
            Access::Previous => len.checked_sub(2).and_then(at),
            Access::Nth(n) => (n as usize)
                .checked_sub(1)
                .filter(|i| *i < len)
                .and_then(at),
        }
    }

    /// Evaluates a conjunct: in place when it has a fast form.
    fn conj_holds(&self, c: &crate::nfa::Conj) -> bool {
        match &c.fast {
            Some(f) => f.holds(
                // `always`: read at up to a dozen places of the inlined
                // operand walk, it stayed a call (~45 instructions each).
                #[inline(always)]
                |var, access, slot| {
                    self.stored(var, access)
                        .and_then(|e| e.event.fields.get(slot))
                },
                self,
            ),
            None => holds(&c.expr, self),
        }
    }
}

impl Env for View<'_> {
    fn field(&self, var: VarId, access: Access, field: FieldRef) -> Value {
        self.stored(var, access)
            .map_or(Value::Null, |e| self.value(e, field))
    }

    fn summary(
        &self,
        var: VarId,
        range: AggRange,
        field: Option<FieldRef>,
    ) -> Option<std::borrow::Cow<'_, Summary>> {
        use std::borrow::Cow;
        match self.kept(var, range, field)? {
            (s, None) => Some(Cow::Borrowed(s)),
            (s, Some(e)) => {
                let mut s = s.clone();
                s.add(field.map_or(Value::Bool(true), |f| self.value(e, f)));
                Some(Cow::Owned(s))
            }
        }
    }

    // Overrides the default (`summary` then `num`) to skip the `Cow` in
    // the common case: 2% of kleene_avg.
    fn summary_num(
        &self,
        func: AggFunc,
        var: VarId,
        range: AggRange,
        field: Option<FieldRef>,
    ) -> Option<Num> {
        match self.kept(var, range, field)? {
            (s, None) => Some(s.num(func)),
            // The element being added: a copy of the state takes it.
            (_, Some(_)) => self.summary(var, range, field).map(|s| s.num(func)),
        }
    }

    fn each(&self, var: VarId, range: AggRange, field: Option<FieldRef>, f: &mut dyn FnMut(Value)) {
        let (prefix, cur) = self.list(var);
        let mut emit = |e: &Stored| match field {
            Some(fr) => f(self.value(e, fr)),
            None => f(Value::Bool(true)),
        };
        let (upto, with_cur) = match range {
            AggRange::All => (prefix.len(), true),
            AggRange::BeforeCurrent if cur.is_some() => (prefix.len(), false),
            AggRange::BeforeCurrent => (prefix.len().saturating_sub(1), false),
        };
        for p in prefix.iter().take(upto) {
            if let Some(e) = self.get(*p) {
                emit(e);
            }
        }
        if with_cur {
            if let Some(e) = cur {
                emit(e);
            }
        }
    }
}

/// Buffers reused from one event to the next (never serialized).
#[derive(Default)]
pub(crate) struct Scratch {
    cache: ConjCache,
    outcomes: Vec<Outcome>,
    taken: Vec<Run>,
    /// Per conjunct: the event's side of a hoisted comparison, once
    /// computed for the event ([`Partition::hoisted`]).
    curs: Vec<Option<Num>>,
    /// The complete candidates of a step, reused from event to event (a
    /// new vector per event was allocated and freed at every match).
    done: Vec<Done>,
    /// Per live run, what the single-list step's scan found
    /// ([`scan_list_runs`]).
    codes: Vec<u8>,
}

/// `clear()`, called only when there is something to drop: clearing an
/// empty vector of a type with drop glue still called the slice's drop
/// (~13 instructions). A step's scratch vectors are mostly empty, and so
/// are the partitions parked or reset (over 5,000 symbols, more than one
/// an event).
macro_rules! clear {
    ($v:expr) => {
        if !$v.is_empty() {
            $v.clear();
        }
    };
}

/// `f` on each element of `v`, in order, leaving `v` empty. One element
/// or none is taken without a `Drain`, whose drop was a call (~30
/// instructions) per step. For the plain and the general steps, which
/// mostly take one run (the one an event starts); the single-list and
/// linear steps mostly take two (a run grown and a new one), and there the
/// extra test cost as much as it saved.
#[inline(always)]
fn drain_each<T>(v: &mut Vec<T>, mut f: impl FnMut(T)) {
    if v.len() <= 1 {
        if let Some(x) = v.pop() {
            f(x);
        }
        return;
    }
    for x in v.drain(..) {
        f(x);
    }
}

/// Puts a vector back where a step took it from with `mem::take`, which
/// left an empty one there. Dropping that placeholder by assignment was a
/// call of the elements' drop glue per event and vector, with nothing to
/// drop; a placeholder without capacity holds nothing, so it is forgotten.
#[inline(always)]
fn put_back<T>(slot: &mut Vec<T>, v: Vec<T>) {
    let old = std::mem::replace(slot, v);
    if old.capacity() == 0 {
        // No allocation and no elements (or zero-sized ones, whose
        // capacity is never 0): nothing to free or drop.
        std::mem::forget(old);
    } else {
        drop(old);
    }
}

/// What a run's hoisted comparison says of the event.
#[derive(Clone, Copy)]
enum Hoisted {
    /// It is not TRUE: the run does not take the event.
    Fails,
    /// This conjunct is TRUE; the others remain to be checked.
    Holds(u32),
    /// No hoisted comparison, or a side that is not a number: every
    /// conjunct is evaluated.
    Unknown,
}

impl Scratch {
    /// The local-conjunct cache (a new step: no result known) and the
    /// empty vector of taken runs a direct step works with.
    fn for_direct_step(&mut self, conjs: usize) -> (&mut ConjCache, &mut Vec<Run>) {
        self.reset(conjs);
        (&mut self.cache, &mut self.taken)
    }

    /// [`Scratch::for_direct_step`] with the cleared cache of hoisted sides
    /// (the plain and the single-list steps).
    #[inline]
    fn for_hoisted_step(
        &mut self,
        conjs: usize,
    ) -> (&mut ConjCache, &mut Vec<Run>, &mut [Option<Num>]) {
        self.reset(conjs);
        self.curs.clear();
        self.curs.resize(conjs, None);
        (&mut self.cache, &mut self.taken, &mut self.curs)
    }

    /// Starts a step of the local-conjunct cache ([`ConjCache::begin`])
    /// and clears the taken runs.
    fn reset(&mut self, conjs: usize) {
        self.cache.begin(conjs);
        clear!(self.taken);
    }
}

/// The results of a pattern's local conjuncts (those that read the event
/// alone) for the event being stepped, each evaluated at most once per
/// step. A result is stamped with the step that found it, so a new step
/// forgets them all by counting up: zeroing the cache per step (a `clear`
/// and a `resize`, with a `memset` call) was ~20 instructions a step.
#[derive(Default)]
pub(crate) struct ConjCache {
    /// Per conjunct: `step << 1 | holds` of the step that evaluated it.
    slots: Vec<u32>,
    /// The current step, from 1 (a zeroed slot is no step's).
    step: u32,
}

impl ConjCache {
    /// A new step over `n` conjuncts: no result is known.
    fn begin(&mut self, n: usize) {
        if self.step >= u32::MAX >> 1 {
            // Before the stamps would wrap: start over from zeroed slots.
            self.step = 0;
            self.slots.fill(0);
        }
        self.step += 1;
        if self.slots.len() < n {
            self.slots.resize(n, 0);
        }
    }

    /// Conjunct `ci`'s result this step, if it was evaluated.
    #[inline]
    fn get(&self, ci: u32) -> Option<bool> {
        let s = *self.slots.get(ci as usize)?;
        (s >> 1 == self.step).then_some(s & 1 == 1)
    }

    /// Conjunct `ci`'s result this step, from `eval` the first time;
    /// `None` for a conjunct the cache has no slot for.
    #[inline]
    fn get_or(&mut self, ci: u32, eval: impl FnOnce() -> bool) -> Option<bool> {
        let step = self.step;
        let s = self.slots.get_mut(ci as usize)?;
        if *s >> 1 != step {
            *s = step << 1 | u32::from(eval());
        }
        Some(*s & 1 == 1)
    }
}

/// The run's side of `grow`'s hoisted comparison after it took the event
/// whose side is in `curs`, when the take carries it ([`crate::nfa::Take::carries`]):
/// for `t[i].price > t[i-1].price` the next test's `t[i-1].price` is the
/// event's `t[i].price`, known without reading the list again.
#[inline(always)]
fn carried(grow: &crate::nfa::Take, curs: &[Option<Num>]) -> Option<Num> {
    curs.get(grow.carries? as usize).copied().flatten()
}

/// [`scan_list_runs`]'s verdicts: the run is past its window, takes nothing
/// (the hoisted comparison fails or the event is of another type), takes
/// the event, or needs the full test.
const SCAN_EXPIRED: u8 = 0;
const SCAN_STAYS: u8 = 1;
const SCAN_TAKES: u8 = 2;
const SCAN_TEST: u8 = 3;

/// What [`scan_list_runs`] found.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// Not scanned: every run gets the full test.
    No,
    /// `codes` starts with a verdict per run, and some run expires, takes the
    /// event or needs the full test.
    Codes,
    /// Every run stays as it is.
    AllStay,
}

/// The single-list step's verdict on each live run, in a tight loop of its
/// own before the runs are updated. It applies when the grow take's only
/// conjunct is its hoisted comparison of two numbers (INTs or FLOATs) and
/// the list has no maximum: a run whose side is known (its `key`, or what
/// `fill` gives a run without one: a running aggregate read from the
/// list's kept state) is then decided by one comparison with the event's
/// side. Inside the updating loop the same test
/// cost ~90 instructions a run, reloading loop-invariant values from the
/// stack (the step holds too many to keep in registers) and matching the
/// operator and the numbers' kinds for each run. The event's side is put in
/// `curs` when a run used it, as [`Partition::hoisted`] would.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn scan_list_runs(
    runs: &mut [Run],
    fill: &impl Fn(&mut Run) -> Option<Num>,
    grow: &crate::nfa::Take,
    type_ok: bool,
    ts: i64,
    within: Option<i64>,
    max: Option<usize>,
    stored: &Stored,
    curs: &mut [Option<Num>],
    codes: &mut Vec<u8>,
) -> Scan {
    let Some((ci, split)) = &grow.hoist else {
        return Scan::No;
    };
    // Past this first timestamp a run has expired (`fts + w < ts`, without
    // the saturating add per run: WITHIN is never negative).
    let lim = match within {
        Some(w) if w >= 0 => ts.saturating_sub(w),
        Some(_) => return Scan::No,
        None => i64::MIN,
    };
    if max.is_some() || !grow.conjs.iter().all(|c| c == ci) {
        return Scan::No;
    }
    let Some(slot) = curs.get_mut(*ci as usize) else {
        return Scan::No;
    };
    let expired = |run: &Run| run.first.is_some_and(|(_, fts)| fts < lim);
    if !type_ok {
        clear!(codes);
        codes.extend(runs.iter().map(|run| {
            if expired(run) {
                SCAN_EXPIRED
            } else {
                SCAN_STAYS
            }
        }));
        return if codes.contains(&SCAN_EXPIRED) {
            Scan::Codes
        } else {
            Scan::AllStay
        };
    }
    if runs.is_empty() {
        return Scan::AllStay;
    }
    let cur = slot.unwrap_or_else(|| split.cur_num(&stored.event.fields));
    let bits = split.ordering_bits();
    let (used, change) = match cur {
        Num::F(c) => scan_typed(
            runs,
            fill,
            &expired,
            c,
            |n| match n {
                Num::F(k) => Some(k),
                _ => None,
            },
            bits,
            codes,
        ),
        Num::I(c) => scan_typed(
            runs,
            fill,
            &expired,
            c,
            |n| match n {
                Num::I(k) => Some(k),
                _ => None,
            },
            bits,
            codes,
        ),
        _ => return Scan::No,
    };
    if used {
        *slot = Some(cur);
    }
    if change { Scan::Codes } else { Scan::AllStay }
}

/// [`scan_sides`] for the event's side `c`, one kind of number:
/// `t[i].price > t[i-1].price` and its mirror compare directly, other
/// operators through the ordering's bit. For INTs `partial_cmp` is `cmp`.
#[inline(always)]
fn scan_typed<T: PartialOrd + Copy>(
    runs: &mut [Run],
    fill: &impl Fn(&mut Run) -> Option<Num>,
    expired: &impl Fn(&Run) -> bool,
    c: T,
    side: impl Fn(Num) -> Option<T>,
    bits: u8,
    codes: &mut Vec<u8>,
) -> (bool, bool) {
    match bits {
        4 => scan_sides(runs, fill, expired, side, |k| c > k, codes),
        1 => scan_sides(runs, fill, expired, side, |k| c < k, codes),
        _ => scan_sides(
            runs,
            fill,
            expired,
            side,
            |k| bits & crate::eval::ordering_bit(c.partial_cmp(&k)) != 0,
            codes,
        ),
    }
}

/// [`scan_list_runs`]'s loop for one kind of number and one comparison
/// `holds(run's side)`: whether a run's side was compared, and whether any
/// run does not stay. A run's side of another kind (an INT against a FLOAT,
/// a NULL) gets the full test.
#[inline(always)]
fn scan_sides<T: Copy>(
    runs: &mut [Run],
    fill: &impl Fn(&mut Run) -> Option<Num>,
    expired: &impl Fn(&Run) -> bool,
    side: impl Fn(Num) -> Option<T>,
    holds: impl Fn(T) -> bool,
    codes: &mut Vec<u8>,
) -> (bool, bool) {
    let (mut used, mut change) = (false, false);
    // A plain loop over a sized vector: `extend` over a mapping iterator
    // was a call of its own reading the captures through pointers. The
    // vector only grows (the verdicts are its first `runs.len()` entries,
    // and the step reads no more): resizing it to each partition's runs
    // was a call per event (~45 instructions, 1.9% of kleene_iter).
    if codes.len() < runs.len() {
        codes.resize(runs.len(), SCAN_STAYS);
    }
    for (run, code) in runs.iter_mut().zip(codes.iter_mut()) {
        *code = if expired(run) {
            SCAN_EXPIRED
        } else if let Some(k) = run.key.and_then(&side) {
            used = true;
            if holds(k) { SCAN_TAKES } else { SCAN_STAYS }
        } else if let Some(k) = fill(run).and_then(&side) {
            used = true;
            if holds(k) { SCAN_TAKES } else { SCAN_STAYS }
        } else {
            SCAN_TEST
        };
        change |= *code != SCAN_STAYS;
    }
    (used, change)
}

/// What the counting and the single-list steps read of a single-list
/// automaton ([`Nfa::single_list`]).
struct ListParts<'a> {
    seed: &'a Run,
    begin: &'a crate::nfa::Take,
    grow: &'a crate::nfa::Take,
    /// The list's quantifier.
    min: u32,
    max: Option<u32>,
    accept: StateId,
}

/// What [`Partition::after_test`] needs to settle a run that grew:
/// [`ListParts`]' take and quantifier, the quantifier as lengths.
struct ListEnd<'a> {
    grow: &'a crate::nfa::Take,
    min: usize,
    max: Option<usize>,
    accept: StateId,
}

fn list_parts<'a>(ctx: &Ctx<'a>) -> Option<ListParts<'a>> {
    let alt = ctx.nfa.alts.first()?;
    let (begin, grow, proceed) = crate::nfa::list_edges(alt)?;
    let EpsKind::Proceed { min, .. } = proceed.kind else {
        return None;
    };
    Some(ListParts {
        seed: ctx.seeds.first()?,
        begin,
        grow,
        min,
        max: grow.max,
        accept: proceed.target,
    })
}

/// Whether any take edge reachable from the run's state accepts `ty`.
fn reaches(ctx: &Ctx, run: &Run, ty: dalal_lang::typed::TypeId) -> bool {
    ctx.nfa
        .alts
        .get(run.alt as usize)
        .and_then(|a| a.states.get(run.state.0 as usize))
        .is_some_and(|s| s.reach.contains(&ty))
}

/// Boxed runs keep outcomes small: most takes carry no run of their own,
/// and moving ~150-byte runs through this vector showed up as memcpy.
enum Outcome {
    Take(Step),
    Accept(Box<Run>),
}

/// A take found by [`Partition::explore`], applied by [`Partition::apply`].
struct Step {
    /// The run as modified by the path (an empty Kleene list bound on the
    /// way), or `None`: the run explored, unchanged.
    base: Option<Box<Run>>,
    /// `NOT` edges crossed on the way (inline: a take past a `NOT`
    /// allocated and freed a vector per run and event).
    nots: SmallVec<[VarId; 2]>,
    state: StateId,
    take: u32,
}

impl Step {
    /// Take `take` of `state` with the run as it is (the direct steps:
    /// no path, no `NOT` edge crossed).
    fn direct(state: StateId, take: u32) -> Step {
        Step {
            base: None,
            nots: SmallVec::new(),
            state,
            take,
        }
    }
}

/// Whether `strategy` keeps a run as it was after the event (beside the
/// runs it made by taking it, if it `took` it): skip till next match keeps
/// only a run that took nothing, skip till any match every run, strict
/// contiguity none.
fn keeps_run(strategy: Strategy, took: bool) -> bool {
    match strategy {
        Strategy::SkipTillNextMatch => !took,
        Strategy::SkipTillAnyMatch => true,
        Strategy::StrictContiguity => false,
    }
}

/// The path being explored: is the run still the caller's, which `NOT`
/// edges were crossed.
struct PathCtx {
    orig: bool,
    nots: Vec<VarId>,
}

impl PathCtx {
    fn new() -> Self {
        PathCtx {
            orig: true,
            nots: Vec::new(),
        }
    }
}

/// A field of a stored event (as [`View`] reads it).
fn field_value(type_names: &[Arc<str>], e: &Stored, f: FieldRef) -> Value {
    match f {
        FieldRef::Ts => Value::Timestamp(e.event.ts),
        FieldRef::Type => type_names
            .get(e.event.ty.index())
            .map_or(Value::Null, |n| Value::Str(n.clone())),
        FieldRef::Slot(s) => e
            .event
            .fields
            .get(s.index())
            .cloned()
            .unwrap_or(Value::Null),
    }
}

/// `shrink_to(n)` on a `Vec` or `VecDeque`, called only when there is
/// something to give back: the call alone was ~20 instructions, and over
/// 5,000 symbols the library parks or resets a partition per event.
macro_rules! shrink {
    ($v:expr, $n:expr) => {
        if $v.capacity() > $n {
            $v.shrink_to($n);
        }
    };
}

impl Partition {
    pub(crate) fn new(key: Key) -> Self {
        Partition {
            key,
            buf: VecDeque::new(),
            base: 0,
            runs: Vec::new(),
            pending: Vec::new(),
            now: i64::MIN,
            lists: Vec::new(),
            lists_live: 0,
            sums: Vec::new(),
            pruned_len: 0,
            counter: None,
        }
    }

    /// Makes an idle partition a new one for `key` (as [`Partition::new`]
    /// makes it), keeping its buffers' capacity up to a bound.
    pub(crate) fn reset(&mut self, key: Key) {
        const KEEP: usize = 1024;
        self.key = key;
        clear!(self.buf);
        shrink!(self.buf, KEEP);
        self.base = 0;
        clear!(self.runs);
        shrink!(self.runs, KEEP);
        clear!(self.pending);
        self.now = i64::MIN;
        clear!(self.lists);
        shrink!(self.lists, KEEP);
        clear!(self.sums);
        shrink!(self.sums, KEEP);
        self.lists_live = 0;
        self.pruned_len = 0;
        if let Some(c) = self.counter.as_deref_mut() {
            c.reset();
        }
    }

    /// Empties an idle partition for the spare pool, keeping a little of
    /// each buffer's capacity (enough for a typical partition, small enough
    /// that a full pool costs a few MiB).
    pub(crate) fn park(&mut self) {
        const PARKED: usize = 32;
        // The thresholds of amortized pruning and compaction start over
        // (an idle partition may stay in place, see `RESIDENT_IDLE`).
        self.pruned_len = 0;
        self.lists_live = 0;
        clear!(self.buf);
        shrink!(self.buf, PARKED);
        clear!(self.runs);
        shrink!(self.runs, PARKED);
        clear!(self.pending);
        shrink!(self.pending, PARKED);
        clear!(self.lists);
        shrink!(self.lists, PARKED);
        clear!(self.sums);
        shrink!(self.sums, PARKED);
        if let Some(c) = self.counter.as_deref_mut() {
            c.reset();
            shrink!(c.taken, PARKED);
            shrink!(c.starts, PARKED);
        }
    }

    /// Element `i` (from 0) of what `b` binds.
    fn elem(&self, b: Bind, i: usize) -> Option<Pos> {
        match b {
            Bind::Unbound => None,
            Bind::One(p) => (i == 0).then_some(p),
            Bind::Many { tail, len } => {
                let i = u32::try_from(i).ok().filter(|i| *i < len)?;
                if i == 0 {
                    return self.node(tail).map(|n| n.head);
                }
                // `t[i-1]` and `t[last]` are one step or none from the tail.
                let mut n = tail;
                for _ in 0..len - 1 - i {
                    n = self.node(n)?.prev;
                }
                self.node(n).map(|n| n.pos)
            }
        }
    }

    fn node(&self, n: u64) -> Option<&Node> {
        usize::try_from(n).ok().and_then(|i| self.lists.get(i))
    }

    /// Every position `b` binds, in binding order.
    fn positions_of(&self, b: Bind) -> SmallVec<[Pos; 16]> {
        let mut v = SmallVec::new();
        match b {
            Bind::Unbound => {}
            Bind::One(p) => v.push(p),
            Bind::Many { tail, .. } => {
                let mut n = tail;
                while let Some(node) = self.node(n) {
                    v.push(node.pos);
                    n = node.prev;
                }
                v.reverse();
            }
        }
        v
    }

    /// Appends a node after `prev` (or starts a list when `NIL`), for a
    /// pattern that keeps no running aggregates (a counting pattern's;
    /// [`Partition::push_elem`] for any other).
    fn push_node(&mut self, pos: Pos, prev: u64) -> u64 {
        let head = self.node(prev).map_or(pos, |n| n.head);
        self.lists.push(Node { pos, prev, head });
        (self.lists.len() - 1) as u64
    }

    /// [`Partition::push_node`] for the element `e` at `pos` of `var`'s
    /// list, with the running aggregates of the list it ends (`sums`).
    fn push_elem(&mut self, ctx: &Ctx, var: VarId, e: &Stored, pos: Pos, prev: u64) -> u64 {
        let node = self.push_node(pos, prev);
        let slots = &ctx.nfa.agg_slots;
        if slots.is_empty() {
            return node;
        }
        let from = if prev == NIL {
            None
        } else {
            usize::try_from(prev)
                .ok()
                .and_then(|p| p.checked_mul(slots.len()))
        };
        for (j, slot) in slots.iter().enumerate() {
            // Another variable's slot: a placeholder, never read.
            let sum = if slot.0 == var {
                let before = from
                    .and_then(|i| self.sums.get(i + j))
                    .unwrap_or(&NO_ELEMENTS);
                before.with(match slot.1 {
                    Some(f) => field_value(ctx.type_names, e, f),
                    None => Value::Bool(true),
                })
            } else {
                Summary::EMPTY
            };
            self.sums.push(sum);
        }
        node
    }

    /// The running state kept for `(variable, field)` of the list `binds`
    /// binds to the variable ([`crate::nfa::Nfa::agg_slots`] orders
    /// [`Partition::sums`]), if one is kept.
    #[inline]
    fn kept_state<'s>(
        &'s self,
        slots: &[(VarId, Option<FieldRef>)],
        binds: &[Bind],
        slot: (VarId, Option<FieldRef>),
    ) -> Option<&'s Summary> {
        let j = slots.iter().position(|s| *s == slot)?;
        match binds.get(slot.0.index()) {
            Some(&Bind::Many { tail, .. }) if tail != NIL => usize::try_from(tail)
                .ok()
                .and_then(|t| t.checked_mul(slots.len()))
                .and_then(|i| self.sums.get(i + j)),
            _ => Some(&NO_ELEMENTS),
        }
    }

    /// Reclaims list nodes no run or pending match reaches, when the arena
    /// has doubled since the last time (so the cost is amortized over the
    /// appends). Shared prefixes stay shared.
    #[inline]
    fn maybe_compact(&mut self) {
        if self.arena_size() < 2 * self.lists_live + COMPACT_FLOOR {
            return;
        }
        self.compact();
    }

    /// Rebuilds the arena with only the nodes that runs and pending matches
    /// reach, and their running aggregates.
    #[inline(never)]
    fn compact(&mut self) {
        let old = std::mem::take(&mut self.lists);
        let mut old_sums = std::mem::take(&mut self.sums);
        // Every node has the pattern's `k` aggregates, or none has.
        let k = old_sums.len().checked_div(old.len()).unwrap_or(0);
        // As large as before: the arena grows back to about that size
        // before the next compaction, and growing it again reallocated
        // and copied it (with the aggregates, 1% of the library's run).
        let mut sums: Vec<Summary> = Vec::with_capacity(old_sums.capacity());
        let mut remap = vec![NIL; old.len()];
        let mut new: Vec<Node> = Vec::with_capacity(old.capacity());
        let mut path: Vec<usize> = Vec::new();
        let mut relink = |tail: u64| -> u64 {
            path.clear();
            let mut n = tail;
            while let Some(i) = usize::try_from(n).ok().filter(|i| *i < old.len()) {
                if remap[i] != NIL {
                    break;
                }
                path.push(i);
                n = old[i].prev;
            }
            let mut base = usize::try_from(n)
                .ok()
                .and_then(|i| remap.get(i).copied())
                .unwrap_or(NIL);
            for &i in path.iter().rev() {
                new.push(Node {
                    pos: old[i].pos,
                    prev: base,
                    head: old[i].head,
                });
                // Each old node is moved once (`remap` marks it).
                if let Some(s) = old_sums.get_mut(i * k..(i + 1) * k) {
                    sums.extend(s.iter_mut().map(std::mem::take));
                }
                base = (new.len() - 1) as u64;
                remap[i] = base;
            }
            base
        };
        let runs = self
            .runs
            .iter_mut()
            .chain(self.pending.iter_mut().map(|p| &mut p.run));
        for run in runs {
            for b in run.binds.iter_mut() {
                if let Bind::Many { tail, .. } = b {
                    *tail = relink(*tail);
                }
            }
        }
        self.lists = new;
        self.sums = sums;
        self.lists_live = self.arena_size();
        self.fit_arena(k);
    }

    /// Gives back arena capacity far beyond what the arena can reach before
    /// its next compaction: after a burst, a partition no longer holds the
    /// arena of its busiest moment for the rest of the stream. Only past
    /// four times that reach, and down to twice it: a steady arena swings
    /// by two or three times between compactions (a step can take many
    /// nodes past the trigger), and shrinking it to what it reaches then
    /// growing it back cost `kleene_avg` 5% by the clock
    /// (docs/PERFORMANCE.md, change 95).
    fn fit_arena(&mut self, k: usize) {
        // A node adds 1 + 2k to `arena_size`; compaction comes back at
        // `2 * lists_live + COMPACT_FLOOR`.
        let reach = (2 * self.lists_live + ARENA_FLOOR) / (1 + 2 * k) + 1;
        if self.lists.capacity() / 4 > reach {
            self.lists.shrink_to(2 * reach);
        }
        // `k` is 0 for an empty arena as well: its aggregates' capacity stays.
        if k > 0 && self.sums.capacity() / 4 > reach * k {
            self.sums.shrink_to(2 * reach * k);
        }
    }

    /// The list arena's size in nodes, a running aggregate counted as two
    /// (its size): a pattern with aggregates compacts sooner, so its arena
    /// holds about as many bytes as one without.
    #[inline]
    fn arena_size(&self) -> usize {
        self.lists.len() + 2 * self.sums.len()
    }

    #[inline(always)]
    fn get(&self, pos: Pos) -> Option<&Stored> {
        pos.checked_sub(self.base)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.buf.get(i))
    }

    fn next_pos(&self) -> Pos {
        self.base + self.buf.len() as u64
    }

    /// The runs of a counting pattern (made on first use).
    fn counter_mut(&mut self) -> &mut Counter {
        self.counter.get_or_insert_with(Box::default)
    }

    /// Live runs plus pending completions.
    pub(crate) fn load(&self) -> usize {
        self.runs.len() + self.pending.len() + self.counter.as_ref().map_or(0, |c| c.starts.len())
    }

    /// Nothing left that a future event could need.
    pub(crate) fn is_idle(&self) -> bool {
        self.runs.is_empty()
            && self.pending.is_empty()
            && self.counter.as_ref().is_none_or(|c| c.starts.is_empty())
            && self.buf.is_empty()
    }

    /// The event time after which a visit ([`Partition::advance`]) may have
    /// work here: one window after the partition's newest event, rounded up
    /// to the next multiple of half a window. Until then no visit is
    /// needed: every event expires the runs it meets ([`Partition::on_event`]),
    /// so only a partition that has gone quiet for a window can hold runs
    /// past their window or events no run needs. The rounding makes the
    /// quiet partitions of a pattern fall due together, a few times per
    /// window, so one tick visits them all. `None`: idle (nothing to drop),
    /// or no `WITHIN` (runs never expire).
    pub(crate) fn expiry(&self, nfa: &Nfa) -> Option<i64> {
        let w = nfa.within?;
        if self.is_idle() {
            return None;
        }
        let q = (w / 2).max(1);
        let due = self.now.saturating_add(w);
        Some(due.div_euclid(q).saturating_add(1).saturating_mul(q))
    }

    /// The earliest pending deadline.
    pub(crate) fn min_deadline(&self) -> Option<i64> {
        self.pending.iter().map(|p| p.deadline).min()
    }

    /// Checks every conjunct in `list`; one that mentions an unbound variable
    /// (an `OR` branch not taken) is not checked. `cache` memoizes, for the
    /// current event, conjuncts that read only the event being bound.
    fn conjs_hold(
        &self,
        ctx: &Ctx,
        list: &[u32],
        view: &View,
        first_elem: bool,
        mut cache: Option<&mut ConjCache>,
    ) -> bool {
        list.iter().all(|&ci| {
            let Some(c) = ctx.nfa.conjs.get(ci as usize) else {
                return true;
            };
            if first_elem && c.uses_previous {
                return true;
            }
            if c.local {
                if let Some(holds) = cache
                    .as_deref_mut()
                    .and_then(|k| k.get_or(ci, || view.conj_holds(c)))
                {
                    return holds;
                }
            }
            let skipped = c.vars.iter().any(|v| {
                view.cur.is_none_or(|(cv, _)| cv != *v)
                    && view.neg.is_none_or(|(nv, _)| nv != *v)
                    && matches!(view.binds.get(v.index()), Some(Bind::Unbound) | None)
            });
            skipped || view.conj_holds(c)
        })
    }

    fn view<'a>(
        &'a self,
        ctx: &'a Ctx,
        run: &'a Run,
        cur: Option<(VarId, &'a Stored)>,
    ) -> View<'a> {
        View {
            part: self,
            binds: &run.binds,
            slots: &ctx.nfa.agg_slots,
            cur,
            neg: None,
            type_names: ctx.type_names,
        }
    }

    /// Follows epsilon edges from `state`; with an event, collects the take
    /// edges that accept it, without one, the runs that reach the accept
    /// state. Returns true when some take edge is reachable (the run has a
    /// future).
    ///
    /// `run` is the run as modified along the path so far (`path.orig`:
    /// still the caller's run); `NOT` edges crossed are collected in
    /// `path.nots` instead of cloning, so that the common case (a plain
    /// path) clones nothing here: [`Partition::apply`] builds the new run
    /// later, moving the old one when the strategy discards it.
    #[allow(clippy::too_many_arguments)]
    fn explore(
        &self,
        ctx: &Ctx,
        run: &Run,
        state: StateId,
        ev: Option<(Pos, &Stored)>,
        out: &mut Vec<Outcome>,
        cache: &mut ConjCache,
        path: &mut PathCtx,
    ) -> bool {
        let Some(alt) = ctx.nfa.alts.get(run.alt as usize) else {
            return false;
        };
        let Some(st) = alt.states.get(state.0 as usize) else {
            return false;
        };
        let mut live = false;
        for (ti, tk) in st.takes.iter().enumerate() {
            let count = run.binds.get(tk.var.index()).map_or(0, |b| b.list_len());
            if tk.grow && tk.max.is_some_and(|m| count >= m as usize) {
                continue;
            }
            live = true;
            let Some((_, e)) = ev else { continue };
            if e.event.ty != tk.ty {
                continue;
            }
            if let (Some(w), Some((_, fts))) = (ctx.nfa.within, run.first) {
                if e.event.ts.0.saturating_sub(fts) > w {
                    continue;
                }
            }
            let view = self.view(ctx, run, Some((tk.var, e)));
            if !self.conjs_hold(
                ctx,
                &tk.conjs,
                &view,
                tk.kleene && !tk.grow,
                Some(&mut *cache),
            ) {
                continue;
            }
            out.push(Outcome::Take(Step {
                base: (!path.orig).then(|| Box::new(run.clone())),
                nots: SmallVec::from_slice(&path.nots),
                state,
                take: ti as u32,
            }));
        }
        for eps in &st.eps {
            match eps.kind {
                EpsKind::Plain => live |= self.explore(ctx, run, eps.target, ev, out, cache, path),
                EpsKind::Proceed { var, min } => {
                    let count = run.binds.get(var.index()).map_or(0, |b| b.list_len());
                    if count < min as usize {
                        continue;
                    }
                    let view = self.view(ctx, run, None);
                    if self.conjs_hold(ctx, &eps.conjs, &view, false, None) {
                        live |= self.explore(ctx, run, eps.target, ev, out, cache, path);
                    }
                }
                EpsKind::Skip { var } => {
                    let mut r = run.clone();
                    if let Some(b) = r.binds.get_mut(var.index()) {
                        *b = Bind::EMPTY;
                    }
                    let view = self.view(ctx, &r, None);
                    if self.conjs_hold(ctx, &eps.conjs, &view, false, None) {
                        let orig = std::mem::replace(&mut path.orig, false);
                        live |= self.explore(ctx, &r, eps.target, ev, out, cache, path);
                        path.orig = orig;
                    }
                }
                EpsKind::Not { var } => {
                    path.nots.push(var);
                    live |= self.explore(ctx, run, eps.target, ev, out, cache, path);
                    path.nots.pop();
                }
            }
        }
        if st.accept && ev.is_none() {
            let mut r = run.clone();
            r.state = state;
            for &var in &path.nots {
                r.nots.push(NotRange {
                    var,
                    lo: r.last(),
                    hi: None,
                });
            }
            out.push(Outcome::Accept(Box::new(r)));
        }
        live
    }

    /// Builds the run of a take from `run` (the explored run, or the
    /// modified copy the step carried): the crossed `NOT` ranges opened and
    /// the event bound.
    fn apply(&mut self, ctx: &Ctx, mut run: Run, step: Step, pos: Pos, e: &Stored) -> Run {
        self.apply_in(ctx, &mut run, step, pos, e);
        run
    }

    /// [`Partition::apply`] in place: the direct steps extend a run where
    /// it lies and move it once, instead of moving it in and out.
    fn apply_in(&mut self, ctx: &Ctx, run: &mut Run, step: Step, pos: Pos, e: &Stored) {
        let Some(tk) = ctx
            .nfa
            .alts
            .get(run.alt as usize)
            .and_then(|a| a.states.get(step.state.0 as usize))
            .and_then(|s| s.takes.get(step.take as usize))
        else {
            return;
        };
        for var in step.nots {
            run.nots.push(NotRange {
                var,
                lo: run.last(),
                hi: None,
            });
        }
        self.apply_take(ctx, run, tk, pos, e);
    }

    /// [`Partition::apply_in`] for the take `tk` (found already, as the
    /// single-list step has its two takes at hand: looking them up again
    /// per take was ~25 instructions) with no `NOT` edge crossed.
    #[inline]
    fn apply_take(
        &mut self,
        ctx: &Ctx,
        run: &mut Run,
        tk: &crate::nfa::Take,
        pos: Pos,
        e: &Stored,
    ) {
        if let Some(b) = run.binds.get_mut(tk.var.index()) {
            *b = match (*b, tk.kleene) {
                // A list longer than u32::MAX events cannot fit in memory
                // (24 bytes a node); saturating keeps the arithmetic total.
                (Bind::Many { tail, len }, true) => Bind::Many {
                    tail: self.push_elem(ctx, tk.var, e, pos, tail),
                    len: len.saturating_add(1),
                },
                (_, true) => Bind::Many {
                    tail: self.push_elem(ctx, tk.var, e, pos, NIL),
                    len: 1,
                },
                (_, false) => Bind::One(pos),
            };
        }
        run.state = tk.target;
        run.key = None;
        if run.first.is_none() {
            run.first = Some((pos, e.event.ts.0));
        }
        run.last = pos;
        for n in &mut run.nots {
            if n.hi.is_none() {
                n.hi = Some(pos);
            }
        }
    }

    /// True when `cand` is an event that negated variable `var` forbids.
    fn forbids(&self, ctx: &Ctx, run: &Run, var: VarId, cand: &Stored) -> bool {
        if ctx.nfa.var_types.get(var.index()) != Some(&cand.event.ty) {
            return false;
        }
        let view = View {
            part: self,
            binds: &run.binds,
            slots: &ctx.nfa.agg_slots,
            cur: None,
            neg: Some((var, cand)),
            type_names: ctx.type_names,
        };
        let list = ctx
            .nfa
            .neg_conjs
            .get(var.index())
            .map_or(&[][..], |v| &v[..]);
        self.conjs_hold(ctx, list, &view, false, None)
    }

    /// Checks the closed (middle and leading) absence ranges of a complete
    /// run; returns the trailing negated variables, or `None` when violated.
    fn check_nots(&self, ctx: &Ctx, run: &Run) -> Option<Vec<VarId>> {
        let mut trailing = Vec::new();
        let last_ts = run
            .last()
            .and_then(|p| self.get(p))
            .map_or(i64::MIN, |e| e.event.ts.0);
        for n in &run.nots {
            match (n.lo, n.hi) {
                (_, None) => trailing.push(n.var),
                (Some(lo), Some(hi)) => {
                    for p in lo + 1..hi {
                        if let Some(e) = self.get(p) {
                            if self.forbids(ctx, run, n.var, e) {
                                return None;
                            }
                        }
                    }
                }
                (None, Some(hi)) => {
                    let from = ctx
                        .nfa
                        .within
                        .map_or(i64::MIN, |w| last_ts.saturating_sub(w));
                    let mut p = hi;
                    while p > self.base {
                        p -= 1;
                        let Some(e) = self.get(p) else { break };
                        if e.event.ts.0 < from {
                            break;
                        }
                        if self.forbids(ctx, run, n.var, e) {
                            return None;
                        }
                    }
                }
            }
        }
        Some(trailing)
    }

    fn positions(&self, run: &Run) -> Vec<Pos> {
        let mut v = Vec::new();
        for b in &run.binds {
            v.extend_from_slice(&self.positions_of(*b));
        }
        v.sort_unstable();
        v
    }

    fn order_key(&self, d: &Done) -> OrderKey {
        (
            (d.deadline, d.run.first_pos(), self.positions(&d.run)),
            self.bind_keys(&d.run),
        )
    }

    fn bind_keys(&self, run: &Run) -> Vec<BindKey> {
        run.binds
            .iter()
            .map(|b| match *b {
                Bind::Unbound => BindKey::Unbound,
                Bind::One(p) => BindKey::One(p),
                Bind::Many { .. } => BindKey::Many(self.positions_of(*b).to_vec()),
            })
            .collect()
    }

    /// Whether an event can change a partition that holds nothing yet (no
    /// run, no pending match, no buffered event): a run can start at it,
    /// or a leading `NOT` may look back at it. Any other event would only
    /// sit in the new partition's buffer until a sweep found it idle: a
    /// positive event no run took is never read again, and a negated one
    /// matters only inside a run's absence ranges, which start after that
    /// run's first event. Called on an empty probe partition; conservative
    /// (true) for automata without a direct step.
    ///
    /// The table answers most calls (~500,000 over 200,000 rows of the
    /// library over 5,000 symbols, ~70,000 of them evaluated): the lookup is
    /// inlined into the caller and the evaluated path is a call of its own,
    /// whose register saves every call paid when it was inlined here.
    #[inline]
    pub(crate) fn wakes_fresh(&self, ctx: &Ctx, stored: &Stored) -> bool {
        match ctx.nfa.fresh.get(stored.event.ty.index()) {
            Some(Fresh::Never) => false,
            Some(Fresh::Always) => true,
            Some(Fresh::Check) | None => self.wakes_fresh_checked(ctx, stored),
        }
    }

    /// Whether the event is a first element of the list `begin` starts:
    /// its type, and the conjuncts that a first element evaluates (none
    /// when the edge is [`crate::nfa::Take::first_free`]).
    #[inline]
    fn starts_list(
        &self,
        ctx: &Ctx,
        seed: &Run,
        begin: &crate::nfa::Take,
        stored: &Stored,
        cache: &mut ConjCache,
    ) -> bool {
        begin.ty == stored.event.ty
            && (begin.first_free || {
                let view = self.view(ctx, seed, Some((begin.var, stored)));
                self.conjs_hold(ctx, &begin.conjs, &view, true, Some(cache))
            })
    }

    /// [`Partition::wakes_fresh`] read off the automaton and the event's
    /// fields, for the types whose answer [`Nfa::fresh`] does not give.
    #[inline(never)]
    fn wakes_fresh_checked(&self, ctx: &Ctx, stored: &Stored) -> bool {
        let nfa = ctx.nfa;
        let ty = stored.event.ty;
        if nfa.leading_not && nfa.negated.get(ty.index()).copied().unwrap_or(false) {
            return true;
        }
        if nfa.never || !nfa.positive.get(ty.index()).copied().unwrap_or(false) {
            return false;
        }
        ctx.seeds.iter().any(|seed| {
            if !reaches(ctx, seed, ty) {
                return false;
            }
            if !(nfa.plain || nfa.linear) {
                return true;
            }
            // A run's first take leaves the start state: its takes are all
            // a seed has (a `proceed` needs an element first).
            let Some(st) = nfa
                .alts
                .get(seed.alt as usize)
                .and_then(|a| a.states.get(seed.state.0 as usize))
            else {
                return false;
            };
            st.takes.iter().any(|tk| {
                if tk.ty != ty {
                    return false;
                }
                if tk.conjs.is_empty() {
                    return true;
                }
                let view = self.view(ctx, seed, Some((tk.var, stored)));
                self.conjs_hold(ctx, &tk.conjs, &view, tk.kleene && !tk.grow, None)
            })
        })
    }

    /// Feeds one event of S. Matches go to `out`. The step reads the event
    /// through the caller's `stored` while this partition's buffer keeps a
    /// copy: reading it from the buffer took a second copy per event (a
    /// reference count's atomic increment and decrement).
    pub(crate) fn on_event(
        &mut self,
        ctx: &Ctx,
        stored: &Stored,
        out: &mut Vec<Match>,
        stats: &mut StepStats,
        scratch: &mut Scratch,
    ) {
        let ts = stored.event.ts.0;
        self.fire(ctx, Some(ts), out, stats);
        // A plain sequence and a single list drop expired runs in their
        // step's own pass (for the library, a separate pass per event was
        // 4% of the run; folding it in saved 1%).
        let own_expiry = ctx.nfa.plain || (ctx.nfa.single_list && !ctx.nfa.counting);
        if !own_expiry {
            self.expire(ctx, ts);
        }
        self.now = self.now.max(ts);
        let ty = stored.event.ty;
        let pos = self.next_pos();
        self.buf.push_back(stored.clone());
        let nfa = ctx.nfa;
        if nfa.negated.get(ty.index()).copied().unwrap_or(false) {
            let mut pending = std::mem::take(&mut self.pending);
            pending.retain(|p| {
                !(ts <= p.deadline
                    && pos > p.lo
                    && p.trailing
                        .iter()
                        .any(|v| self.forbids(ctx, &p.run, *v, stored)))
            });
            put_back(&mut self.pending, pending);
        }
        if nfa.never || !nfa.positive.get(ty.index()).copied().unwrap_or(false) {
            if own_expiry {
                self.expire(ctx, ts);
            }
            self.maybe_prune(ctx);
            return;
        }
        if nfa.plain {
            self.step_plain(ctx, pos, stored, out, stats, scratch);
            return;
        }
        if nfa.counting {
            self.step_counting(ctx, pos, stored, out, stats, scratch);
            return;
        }
        if nfa.single_list {
            self.step_single_list(ctx, pos, stored, out, stats, scratch);
            return;
        }
        if nfa.linear {
            self.step_linear(ctx, pos, stored, out, stats, scratch);
            return;
        }
        let Scratch {
            cache,
            outcomes,
            taken,
            ..
        } = scratch;
        cache.begin(nfa.conjs.len());
        clear!(taken);
        // The runs stay in this partition's own vector (kept ones compacted
        // in place, in order; new ones appended below), so its capacity
        // follows its own load: swapping vectors between partitions made
        // them grow again and again (realloc and memcpy showed up).
        let mut runs = std::mem::take(&mut self.runs);
        let mut path = PathCtx::new();
        // Inlined, as in `step_single_list`.
        runs.retain_mut(
            #[inline(always)]
            |run| {
                clear!(outcomes);
                if reaches(ctx, run, ty) {
                    self.explore(
                        ctx,
                        run,
                        run.state,
                        Some((pos, stored)),
                        outcomes,
                        cache,
                        &mut path,
                    );
                }
                let took = !outcomes.is_empty();
                let keep = keeps_run(nfa.strategy, took);
                let n = outcomes.len();
                for (i, o) in outcomes.drain(..).enumerate() {
                    let Outcome::Take(mut step) = o else { continue };
                    let base = match step.base.take() {
                        Some(b) => *b,
                        // The last fork of a run that is discarded takes it
                        // over (an empty run, which allocates nothing, is left
                        // behind and removed).
                        None if !keep && i + 1 == n => std::mem::replace(run, Run::empty(run)),
                        None => run.clone(),
                    };
                    taken.push(self.apply(ctx, base, step, pos, stored));
                }
                keep
            },
        );
        for seed in ctx.seeds {
            clear!(outcomes);
            if !reaches(ctx, seed, ty) {
                continue;
            }
            self.explore(
                ctx,
                seed,
                seed.state,
                Some((pos, stored)),
                outcomes,
                cache,
                &mut path,
            );
            for o in outcomes.drain(..) {
                let Outcome::Take(mut step) = o else { continue };
                let base = step.base.take().map_or_else(|| seed.clone(), |b| *b);
                taken.push(self.apply(ctx, base, step, pos, stored));
            }
        }
        let mut done = std::mem::take(&mut scratch.done);
        drain_each(taken, |run| {
            clear!(outcomes);
            let live = self.explore(ctx, &run, run.state, None, outcomes, cache, &mut path);
            for o in outcomes.drain(..) {
                if let Outcome::Accept(r) = o {
                    self.complete(ctx, *r, &mut done);
                }
            }
            if live {
                runs.push(run);
            }
        });
        self.end_step(ctx, runs, &mut done, out, stats);
        put_back(&mut scratch.done, done);
    }

    /// [`Partition::on_event`]'s run step for a plain sequence
    /// ([`Nfa::plain`]): every run waits at one `begin` edge, so a run
    /// either takes the event along that edge or does not, and a taken run
    /// is complete exactly when its new state is the accept state. This is
    /// what the general exploration computes for such an automaton (no
    /// epsilon edge to follow, no `NOT` range to open, no list or aggregate
    /// to update). The runs are those of the general step; under skip till
    /// next match a run that took the event stays where it stood instead of
    /// moving after the runs that stayed (as in [`Partition::after_test`]),
    /// the new run comes last, and the run cap drops the same runs.
    fn step_plain(
        &mut self,
        ctx: &Ctx,
        pos: Pos,
        stored: &Stored,
        out: &mut Vec<Match>,
        stats: &mut StepStats,
        scratch: &mut Scratch,
    ) {
        let nfa = ctx.nfa;
        let Some(alt) = nfa.alts.first() else {
            return;
        };
        let mut done = std::mem::take(&mut scratch.done);
        let (cache, taken, curs) = scratch.for_hoisted_step(nfa.conjs.len());
        let ev_ty = stored.event.ty;
        let ts = stored.event.ts.0;
        let mut runs = std::mem::take(&mut self.runs);
        // Inlined, as in `step_single_list` (change 100: seq2 -3.6%, seq3
        // -5.4% in instructions; the library +0.1% to +0.3%).
        runs.retain_mut(
            #[inline(always)]
            |run| {
                let Some(tk) = alt
                    .states
                    .get(run.state.0 as usize)
                    .and_then(|st| st.takes.first())
                else {
                    return false;
                };
                if let (Some(w), Some((_, fts))) = (nfa.within, run.first) {
                    // What `expire` does for the general step.
                    if fts.saturating_add(w) < ts {
                        return false;
                    }
                }
                // A run that passed the expiry check above is within its window.
                let took = tk.ty == ev_ty && self.takes(ctx, tk, run, stored, cache, curs);
                let keep = keeps_run(nfa.strategy, took);
                if took {
                    if keep {
                        let mut fork = run.clone();
                        Self::apply_plain(tk, &mut fork, pos, ts);
                        taken.push(fork);
                    } else {
                        // Grown where it is, as in `after_test` (the same
                        // argument: at most one new run, candidates sorted).
                        Self::apply_plain(tk, run, pos, ts);
                        let accept = alt
                            .states
                            .get(run.state.0 as usize)
                            .is_some_and(|st| st.accept);
                        if !accept {
                            return true;
                        }
                        done.push(Done {
                            run: std::mem::replace(run, Run::empty(run)),
                            deadline: i64::MIN,
                        });
                    }
                }
                keep
            },
        );
        if let Some(seed) = ctx.seeds.first() {
            if let Some(tk) = alt
                .states
                .get(seed.state.0 as usize)
                .and_then(|st| st.takes.first())
            {
                // A first element's conjuncts read it alone: none is hoisted.
                if tk.ty == ev_ty && self.plain_conjs_hold(ctx, tk, seed, stored, cache, u32::MAX) {
                    let mut run = Run::from_seed(seed);
                    Self::apply_plain(tk, &mut run, pos, ts);
                    taken.push(run);
                }
            }
        }
        drain_each(taken, |run| {
            let accept = alt
                .states
                .get(run.state.0 as usize)
                .is_some_and(|st| st.accept);
            if accept {
                if run.first.is_some() {
                    done.push(Done {
                        run,
                        deadline: i64::MIN,
                    });
                }
            } else {
                runs.push(run);
            }
        });
        self.end_step(ctx, runs, &mut done, out, stats);
        put_back(&mut scratch.done, done);
    }

    /// [`Partition::on_event`]'s run step for a counting pattern
    /// ([`Nfa::counting`], runs kept in [`Counter`]). What the linear step
    /// does to such runs, for all of them at once: an event that passes the
    /// conditions extends every live run and starts a new one (the newest);
    /// one that fails them leaves the runs as they are under skip till next
    /// match and ends them all under strict contiguity (where an event that
    /// passes the conditions on itself but not those on `p[i-1]` ends the
    /// live runs and starts a new one). The runs with at least `m` elements
    /// complete, oldest first (the completion order), those with `n` are
    /// done, the run cap drops the newest, and `AFTER MATCH` prunes as for
    /// any run. Tested against the linear and the general step event by
    /// event.
    fn step_counting(
        &mut self,
        ctx: &Ctx,
        pos: Pos,
        stored: &Stored,
        out: &mut Vec<Match>,
        stats: &mut StepStats,
        scratch: &mut Scratch,
    ) {
        let nfa = ctx.nfa;
        let Some(ListParts {
            seed,
            begin,
            grow,
            min,
            max,
            ..
        }) = list_parts(ctx)
        else {
            return;
        };
        let (min, max) = (u64::from(min), max.map(u64::from));
        let (cache, _) = scratch.for_direct_step(nfa.conjs.len());
        // The conditions on the event alone (a first element skips those
        // on `p[i-1]`).
        let fits = self.starts_list(ctx, seed, begin, stored, cache);
        if !fits {
            if nfa.strategy == Strategy::StrictContiguity {
                self.counter_mut().clear();
            }
            self.maybe_prune(ctx);
            return;
        }
        // Conditions on `p[i-1]` (strict contiguity only): every live run
        // took the previous event, the newest element, so they hold for all
        // live runs or for none.
        let uses_previous = grow
            .conjs
            .iter()
            .any(|&c| nfa.conjs.get(c as usize).is_some_and(|c| c.uses_previous));
        if uses_previous && !self.counter_mut().starts.is_empty() {
            if let Some(&(last, _)) = self.counter_mut().taken.back() {
                let grows = match self.grows_fast(ctx, grow, seed, last, stored, cache) {
                    Some(g) => g,
                    None => {
                        let node = self.push_node(last, NIL);
                        let mut probe = seed.clone();
                        if let Some(b) = probe.binds.get_mut(grow.var.index()) {
                            *b = Bind::Many { tail: node, len: 1 };
                        }
                        let view = self.view(ctx, &probe, Some((grow.var, stored)));
                        let grows = self.conjs_hold(ctx, &grow.conjs, &view, false, Some(cache));
                        self.lists.pop();
                        grows
                    }
                };
                if !grows {
                    self.counter_mut().clear();
                }
            }
        }
        let c = self.counter_mut();
        c.taken.push_back((pos, stored.event.ts.0));
        let total = c.total();
        c.starts.push_back(total - 1);
        // Counts fall from the oldest run to the newest (1): the complete
        // runs are a prefix, and only the oldest can have reached `n`.
        let done: SmallVec<[u64; 4]> = c
            .starts
            .iter()
            .take_while(|&&s| total - s >= min)
            .copied()
            .collect();
        if let (Some(n), Some(&s)) = (max, c.starts.front()) {
            if total - s >= n {
                c.starts.pop_front();
            }
        }
        if c.starts.len() > ctx.max_runs {
            stats.dropped_runs += (c.starts.len() - ctx.max_runs) as u64;
            c.starts.truncate(ctx.max_runs);
        }
        for s in done {
            out.push(self.counted_match(ctx, s));
            stats.matches += 1;
            match ctx.nfa.after_match {
                AfterMatch::SkipPastLastEvent => {
                    // Every live run starts at or before this event.
                    self.counter_mut().starts.clear();
                    break;
                }
                AfterMatch::SkipToNextEvent => {
                    let c = self.counter_mut();
                    if c.starts.front() == Some(&s) {
                        c.starts.pop_front();
                    }
                }
                AfterMatch::NoSkip => {}
            }
        }
        self.counter_mut().trim();
        self.maybe_prune(ctx);
        self.maybe_compact();
    }

    /// The counting step's test of the conditions on `p[i-1]` with the
    /// element at `last` as `p[i-1]` and the event as `p[i]`, read straight
    /// from the two events (a counting pattern's conditions read nothing
    /// else, see `nfa::is_counting`); the conditions on the event alone are
    /// in `cache` already. `None` when a condition has no fast form: the
    /// caller builds a one-element probe list instead (a cloned run and a
    /// read through the list arena, ~350 instructions per event).
    fn grows_fast(
        &self,
        ctx: &Ctx,
        grow: &crate::nfa::Take,
        seed: &Run,
        last: Pos,
        stored: &Stored,
        cache: &ConjCache,
    ) -> Option<bool> {
        let prev = self.get(last)?;
        let view = self.view(ctx, seed, Some((grow.var, stored)));
        let get = |var: VarId, access: Access, slot: usize| {
            let e = if access == Access::Previous {
                prev
            } else {
                stored
            };
            (var == grow.var)
                .then_some(e)
                .and_then(|e| e.event.fields.get(slot))
        };
        // In order, as the probe would: a FALSE one decides, whatever
        // follows; one without a fast form sends the whole test to the probe.
        for &ci in &grow.conjs {
            let Some(c) = ctx.nfa.conjs.get(ci as usize) else {
                continue;
            };
            let holds = if c.local {
                cache.get(ci) != Some(false)
            } else {
                c.fast.as_ref()?.holds(get, &view)
            };
            if !holds {
                return Some(false);
            }
        }
        Some(true)
    }

    /// The run of a counting pattern that starts at absolute element
    /// `start` (and ends at the newest), spelled out as a run (its list built
    /// in the arena), as a match.
    ///
    /// Nothing reaches the list once the match is made, so its nodes go at
    /// once, not at the next compaction as before: a step that completes many
    /// long runs (commerce's `p{100,}`) grew the arena by thousands of
    /// nodes, and the busiest step so far set the library's peak heap
    /// (docs/PERFORMANCE.md, change 95).
    fn counted_match(&mut self, ctx: &Ctx, start: u64) -> Match {
        let mark = self.lists.len();
        let run = self.counted_run(ctx, start);
        let m = self.to_match(ctx, &run);
        // A counting pattern keeps no running aggregates (`push_node`).
        self.lists.truncate(mark);
        m
    }

    fn counted_run(&mut self, ctx: &Ctx, start: u64) -> Run {
        let accept = ctx
            .nfa
            .alts
            .first()
            .and_then(crate::nfa::list_edges)
            .map_or(StateId(0), |(_, _, proceed)| proceed.target);
        self.counted_run_at(ctx, start, accept)
    }

    /// A counted run from absolute element `start` to the newest, at `state`.
    fn counted_run_at(&mut self, ctx: &Ctx, start: u64, state: StateId) -> Run {
        let mut run = match ctx.seeds.first() {
            Some(s) => s.clone(),
            None => Run {
                alt: 0,
                state,
                binds: Binds::new(),
                nots: ThinVec::new(),
                first: None,
                last: NO_POS,
                key: None,
            },
        };
        let var = ctx
            .nfa
            .alts
            .first()
            .and_then(crate::nfa::list_edges)
            .map(|(begin, _, _)| begin.var);
        let (mut tail, mut len) = (NIL, 0u32);
        let elems: Vec<(Pos, i64)> = self
            .counter
            .as_deref()
            .map(|c| (start..c.total()).filter_map(|i| c.at(i)).collect())
            .unwrap_or_default();
        for &(p, _) in &elems {
            tail = self.push_node(p, tail);
            len = len.saturating_add(1);
        }
        if let Some(b) = var.and_then(|v| run.binds.get_mut(v.index())) {
            *b = Bind::Many { tail, len };
        }
        run.state = state;
        run.first = elems.first().copied();
        run.last = elems.last().map_or(NO_POS, |e| e.0);
        run
    }

    /// [`Partition::on_event`]'s run step for one Kleene element
    /// ([`Nfa::single_list`]): what the linear step computes for that
    /// automaton, with its one take and one `proceed` read directly. Every
    /// live run waits in the list's state; its only outcome is the grow
    /// take (the `proceed` leads to the accept state, which takes nothing),
    /// and after a take it is live while the list is below its maximum and
    /// complete once it has its minimum. Same runs as the linear step
    /// (tested event by event), in the same order but for the runs grown in
    /// place ([`Partition::after_test`]).
    fn step_single_list(
        &mut self,
        ctx: &Ctx,
        pos: Pos,
        stored: &Stored,
        out: &mut Vec<Match>,
        stats: &mut StepStats,
        scratch: &mut Scratch,
    ) {
        let nfa = ctx.nfa;
        let Some(ListParts {
            seed,
            begin,
            grow,
            min,
            max,
            accept,
        }) = list_parts(ctx)
        else {
            return;
        };
        let (min, max) = (min as usize, max.map(|m| m as usize));
        let list = ListEnd {
            grow,
            min,
            max,
            accept,
        };
        let mut done = std::mem::take(&mut scratch.done);
        let mut codes = std::mem::take(&mut scratch.codes);
        let (cache, taken, curs) = scratch.for_hoisted_step(nfa.conjs.len());
        let (ty, ts) = (stored.event.ty, stored.event.ts.0);
        let var = grow.var.index();
        let count = |run: &Run| run.binds.get(var).map_or(0, |b| b.list_len());
        let mut runs = std::mem::take(&mut self.runs);
        // Where a run's side is always known, a tight loop decides the runs
        // first (`scan_list_runs`); the loop that updates them then reads
        // its verdicts, and is skipped when every run stays. Always known:
        // the take carries the event's side over (`t[i-1]` against `t[i]`),
        // or the side is a running aggregate of the list (`avg(t[..i-1].
        // price)`), which the scan reads from the run's kept state when the
        // run's last take changed it (`fill`; change 99). Left to the full
        // test, too many runs needed it for the scan to pay (kleene_avg
        // +1.3%).
        let agg = grow.kept_side;
        // One copy of the scan for each kind of side: without a side to
        // fill in, its loops have no branch for it.
        macro_rules! scan_with {
            ($fill:expr) => {
                scan_list_runs(
                    &mut runs,
                    $fill,
                    grow,
                    ty == grow.ty,
                    ts,
                    nfa.within,
                    max,
                    stored,
                    curs,
                    &mut codes,
                )
            };
        }
        let scan = if grow.carries.is_some() {
            scan_with!(&|_: &mut Run| None)
        } else if let Some((func, slot)) = agg.filter(|_| runs.len() >= 4) {
            let slots = &nfa.agg_slots;
            // What `hoisted` reads for such a side (a helper shared by
            // both cost seq2 1.7%: `hoisted` is on the plain step's path).
            let fill = |run: &mut Run| {
                if run.key.is_none() {
                    run.key = self
                        .kept_state(slots, &run.binds, slot)
                        .map(|s| s.num(func));
                }
                run.key
            };
            scan_with!(&fill)
        } else {
            Scan::No
        };
        match scan {
            // Staying drops a run under strict contiguity, whose takes have
            // no hoist (so no scan) today; the step does not rely on that.
            Scan::AllStay if keeps_run(nfa.strategy, false) => {}
            Scan::Codes | Scan::AllStay => {
                let mut verdicts = codes.iter();
                runs.retain_mut(
                    #[inline(always)]
                    |run| {
                        let took = match verdicts.next().copied().unwrap_or(SCAN_TEST) {
                            SCAN_EXPIRED => return false,
                            SCAN_STAYS => false,
                            SCAN_TAKES => true,
                            // Not expired, and of the list's type: as below.
                            _ => self.takes(ctx, grow, run, stored, cache, curs),
                        };
                        self.after_test(ctx, run, took, &list, pos, stored, curs, taken, &mut done)
                    },
                );
            }
            Scan::No => {
                // The test of each live run is inlined into `retain_mut`'s
                // loop: as a closure LLVM kept out of line, every run paid a
                // call frame and reloaded the captures (~25 instructions,
                // most runs take nothing). The plain step's loop is inlined
                // too since change 100; an earlier session found that it
                // cost more than it saved there, before change 97 made the
                // loop's body smaller.
                runs.retain_mut(
                    #[inline(always)]
                    |run| {
                        if let (Some(w), Some((_, fts))) = (nfa.within, run.first) {
                            // What `expire` does for the general step.
                            if fts.saturating_add(w) < ts {
                                return false;
                            }
                        }
                        // A run that passed the expiry check above is within
                        // its window (`fts + w >= ts` implies `ts - fts <= w`,
                        // saturating or not).
                        let took = ty == grow.ty
                        && max.is_none_or(|m| count(run) < m)
                        // The list is the only variable, and it is bound: no
                        // conjunct is skipped, as on a plain sequence's edge.
                        && self.takes(ctx, grow, run, stored, cache, curs);
                        self.after_test(ctx, run, took, &list, pos, stored, curs, taken, &mut done)
                    },
                );
            }
        }
        if self.starts_list(ctx, seed, begin, stored, cache) {
            let mut run = Run::from_seed(seed);
            self.apply_take(ctx, &mut run, begin, pos, stored);
            // A list of one element: `t[i-1]` is the event, as for a take
            // (known when a run's test computed the event's side).
            if let Some(k) = carried(grow, curs) {
                run.key = Some(k);
            }
            taken.push(run);
        }
        for run in taken.drain(..) {
            // As `after_test` settles a run grown in place (one shared
            // function for both cost kleene_iter and kleene_avg ~1%).
            let n = count(&run);
            let live = max.is_none_or(|m| n < m);
            let accept = (n >= min).then_some(accept);
            self.settle(ctx, run, accept, live, &mut runs, &mut done);
        }
        self.end_step(ctx, runs, &mut done, out, stats);
        put_back(&mut scratch.done, done);
        scratch.codes = codes;
    }

    /// The single-list step's update of a live run after its test: whether
    /// the run stays. A run that took the event grows where it is when the
    /// strategy does not keep it as it was (skip till next match, strict
    /// contiguity), and into a fork in `taken` when it does (skip till any
    /// match). Growing in place saves moving the run out, leaving an empty
    /// run behind, closing the gap and moving it back (two 120-byte copies
    /// and a shift of the runs after it, the hottest stores of kleene_iter's
    /// profile): such a step adds at most one run (the new start, last), so
    /// the run cap drops the same run as when the grown ones were moved to
    /// the end, and the candidates are ordered by their first position in
    /// `emit_done`, not by where their runs were.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn after_test(
        &mut self,
        ctx: &Ctx,
        run: &mut Run,
        took: bool,
        list: &ListEnd,
        pos: Pos,
        stored: &Stored,
        curs: &[Option<Num>],
        taken: &mut Vec<Run>,
        done: &mut Vec<Done>,
    ) -> bool {
        let grow = list.grow;
        let keep = keeps_run(ctx.nfa.strategy, took);
        if !took {
            return keep;
        }
        if keep {
            let mut fork = run.clone();
            self.apply_take(ctx, &mut fork, grow, pos, stored);
            if let Some(k) = carried(grow, curs) {
                fork.key = Some(k);
            }
            taken.push(fork);
            return true;
        }
        self.apply_take(ctx, run, grow, pos, stored);
        if let Some(k) = carried(grow, curs) {
            run.key = Some(k);
        }
        let n = run.binds.get(grow.var.index()).map_or(0, |b| b.list_len());
        let live = list.max.is_none_or(|m| n < m);
        if n >= list.min {
            let mut r = if live {
                run.clone()
            } else {
                std::mem::replace(run, Run::empty(run))
            };
            r.state = list.accept;
            self.complete(ctx, r, done);
        }
        live
    }

    /// [`Partition::on_event`]'s run step for a linear automaton
    /// ([`Nfa::linear`]: singletons and Kleene variables with a minimum,
    /// no `NOT`, `OR` or `AND`). A run's outcomes are the takes of its
    /// state and of the state one `proceed` edge away, enumerated in the
    /// order the general exploration visits them; after a take, the same
    /// one-edge look-ahead says whether the run can still take an event
    /// and whether it is complete. Runs, forks, completions and their order
    /// are those of the general step (tested against it event by event).
    fn step_linear(
        &mut self,
        ctx: &Ctx,
        pos: Pos,
        stored: &Stored,
        out: &mut Vec<Match>,
        stats: &mut StepStats,
        scratch: &mut Scratch,
    ) {
        let nfa = ctx.nfa;
        let Some(alt) = nfa.alts.first() else {
            return;
        };
        let mut done = std::mem::take(&mut scratch.done);
        let (cache, taken) = scratch.for_direct_step(nfa.conjs.len());
        let mut outs: SmallVec<[(StateId, u32); 2]> = SmallVec::new();
        let mut runs = std::mem::take(&mut self.runs);
        // Inlined, as in `step_single_list`.
        runs.retain_mut(
            #[inline(always)]
            |run| {
                outs.clear();
                self.linear_outcomes(ctx, alt, run, stored, cache, &mut outs);
                let keep = keeps_run(nfa.strategy, !outs.is_empty());
                let n = outs.len();
                for (i, &(state, take)) in outs.iter().enumerate() {
                    let step = Step::direct(state, take);
                    if !keep && i + 1 == n {
                        self.apply_in(ctx, run, step, pos, stored);
                        taken.push(std::mem::replace(run, Run::empty(run)));
                    } else {
                        let mut fork = run.clone();
                        self.apply_in(ctx, &mut fork, step, pos, stored);
                        taken.push(fork);
                    }
                }
                keep
            },
        );
        if let Some(seed) = ctx.seeds.first() {
            outs.clear();
            self.linear_outcomes(ctx, alt, seed, stored, cache, &mut outs);
            for &(state, take) in &outs {
                let step = Step::direct(state, take);
                taken.push(self.apply(ctx, Run::from_seed(seed), step, pos, stored));
            }
        }
        for run in taken.drain(..) {
            let (live, accept) = self.linear_settle(ctx, alt, &run);
            self.settle(ctx, run, accept, live, &mut runs, &mut done);
        }
        self.end_step(ctx, runs, &mut done, out, stats);
        put_back(&mut scratch.done, done);
    }

    /// A run after a take in a direct step: complete at `accept` (a copy
    /// when it also stays `live`), kept among the live runs, both, or
    /// neither. Inlined: a call per run and event showed as +2% on
    /// kleene_iter.
    #[inline(always)]
    fn settle(
        &mut self,
        ctx: &Ctx,
        run: Run,
        accept: Option<StateId>,
        live: bool,
        runs: &mut Vec<Run>,
        done: &mut Vec<Done>,
    ) {
        match (accept, live) {
            (Some(state), true) => {
                let mut r = run.clone();
                r.state = state;
                self.complete(ctx, r, done);
                runs.push(run);
            }
            (Some(state), false) => {
                let mut r = run;
                r.state = state;
                self.complete(ctx, r, done);
            }
            (None, true) => runs.push(run),
            (None, false) => {}
        }
    }

    /// The takes of `run` for the event `stored` in a linear automaton:
    /// those of its state, then those of the state its `proceed` edges
    /// lead to (when the list is long enough and the completion conjuncts
    /// hold), as `(state, take index)`.
    fn linear_outcomes(
        &self,
        ctx: &Ctx,
        alt: &crate::nfa::Alt,
        run: &Run,
        stored: &Stored,
        cache: &mut ConjCache,
        outs: &mut SmallVec<[(StateId, u32); 2]>,
    ) {
        let Some(st) = alt.states.get(run.state.0 as usize) else {
            return;
        };
        if !st.reach.contains(&stored.event.ty) {
            return;
        }
        if let (Some(w), Some((_, fts))) = (ctx.nfa.within, run.first) {
            if stored.event.ts.0.saturating_sub(fts) > w {
                return;
            }
        }
        self.linear_takes(ctx, run, run.state, st, stored, cache, outs);
        for eps in &st.eps {
            let EpsKind::Proceed { var, min } = eps.kind else {
                continue;
            };
            let count = run.binds.get(var.index()).map_or(0, |b| b.list_len());
            if count < min as usize {
                continue;
            }
            let view = self.view(ctx, run, None);
            if !self.conjs_hold(ctx, &eps.conjs, &view, false, None) {
                continue;
            }
            if let Some(target) = alt.states.get(eps.target.0 as usize) {
                self.linear_takes(ctx, run, eps.target, target, stored, cache, outs);
            }
        }
    }

    /// The takes of one state that accept `stored` for `run`.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn linear_takes(
        &self,
        ctx: &Ctx,
        run: &Run,
        state: StateId,
        st: &crate::nfa::State,
        stored: &Stored,
        cache: &mut ConjCache,
        outs: &mut SmallVec<[(StateId, u32); 2]>,
    ) {
        for (ti, tk) in st.takes.iter().enumerate() {
            if tk.ty != stored.event.ty {
                continue;
            }
            let count = run.binds.get(tk.var.index()).map_or(0, |b| b.list_len());
            if tk.grow && tk.max.is_some_and(|m| count >= m as usize) {
                continue;
            }
            let view = self.view(ctx, run, Some((tk.var, stored)));
            if self.conjs_hold(
                ctx,
                &tk.conjs,
                &view,
                tk.kleene && !tk.grow,
                Some(&mut *cache),
            ) {
                outs.push((state, ti as u32));
            }
        }
    }

    /// After a take: whether the run can still take an event (a take of
    /// its state or of the state a `proceed` leads to is open) and the
    /// accept state it has reached, if any (directly or through a
    /// `proceed`), as the general exploration without an event finds them.
    fn linear_settle(
        &self,
        ctx: &Ctx,
        alt: &crate::nfa::Alt,
        run: &Run,
    ) -> (bool, Option<StateId>) {
        let Some(st) = alt.states.get(run.state.0 as usize) else {
            return (false, None);
        };
        let open = |st: &crate::nfa::State| {
            st.takes.iter().any(|tk| {
                let count = run.binds.get(tk.var.index()).map_or(0, |b| b.list_len());
                !(tk.grow && tk.max.is_some_and(|m| count >= m as usize))
            })
        };
        let mut live = open(st);
        let mut accept = None;
        for eps in &st.eps {
            let EpsKind::Proceed { var, min } = eps.kind else {
                continue;
            };
            let count = run.binds.get(var.index()).map_or(0, |b| b.list_len());
            if count < min as usize {
                continue;
            }
            let view = self.view(ctx, run, None);
            if !self.conjs_hold(ctx, &eps.conjs, &view, false, None) {
                continue;
            }
            if let Some(target) = alt.states.get(eps.target.0 as usize) {
                live |= open(target);
                if target.accept {
                    accept = Some(eps.target);
                }
            }
        }
        if st.accept {
            accept = Some(run.state);
        }
        (live, accept)
    }

    /// A plain sequence's or a single list's hoisted comparison
    /// ([`crate::nfa::Take::hoist`]) for `run` and the event: the event's
    /// side is computed once per event (in `curs`), the run's once until it
    /// takes an event (in [`Run::key`]), so the test reads no field of the
    /// run's events. `always`: with two callers it became a call per run
    /// tested (seq3 +6%).
    #[inline(always)]
    fn hoisted(
        &self,
        ctx: &Ctx,
        tk: &crate::nfa::Take,
        run: &mut Run,
        stored: &Stored,
        curs: &mut [Option<Num>],
    ) -> Hoisted {
        let Some((ci, split)) = &tk.hoist else {
            return Hoisted::Unknown;
        };
        let Some(slot) = curs.get_mut(*ci as usize) else {
            return Hoisted::Unknown;
        };
        // The run's side of the split, read through the run's view with
        // the event being bound, as the conjunct is: `t[i-1]` and
        // `t[..i-1]` are then the run's last element and its list, and the
        // run's side reads nothing of the event.
        let run_side = |run: &Run| {
            let view = self.view(ctx, run, Some((tk.var, stored)));
            split.run_num(
                |var, access, slot| {
                    view.stored(var, access)
                        .and_then(|e| e.event.fields.get(slot))
                },
                &view,
            )
        };
        let cur = match *slot {
            Some(n) => n,
            None => {
                let n = split.cur_num(&stored.event.fields);
                *slot = Some(n);
                n
            }
        };
        let key = match run.key {
            Some(k) => k,
            None => {
                // `avg(t[..i-1].price)` on the edge that binds `t`: the
                // run's kept state is the answer (what `View::kept` finds
                // through the view), without building a view
                // (`Take::kept_side`, found when the automaton is compiled).
                let k = tk
                    .kept_side
                    .and_then(|(func, slot)| {
                        Some(
                            self.kept_state(&ctx.nfa.agg_slots, &run.binds, slot)?
                                .num(func),
                        )
                    })
                    .unwrap_or_else(|| run_side(run));
                run.key = Some(k);
                k
            }
        };
        match split.decide(cur, key) {
            Some(false) => Hoisted::Fails,
            Some(true) => Hoisted::Holds(*ci),
            None => Hoisted::Unknown,
        }
    }

    /// Whether `run` takes the event along `tk` (a plain sequence's or a
    /// single list's edge): the hoisted comparison first, then the others.
    #[inline(always)]
    fn takes(
        &self,
        ctx: &Ctx,
        tk: &crate::nfa::Take,
        run: &mut Run,
        stored: &Stored,
        cache: &mut ConjCache,
        curs: &mut [Option<Num>],
    ) -> bool {
        match self.hoisted(ctx, tk, run, stored, curs) {
            Hoisted::Fails => false,
            Hoisted::Holds(ci) => self.plain_conjs_hold(ctx, tk, run, stored, cache, ci),
            Hoisted::Unknown => self.plain_conjs_hold(ctx, tk, run, stored, cache, u32::MAX),
        }
    }

    /// The conjuncts of a plain sequence's edge but `settled` (one already
    /// found TRUE): every variable they name is bound (earlier ones) or
    /// being bound, so none is skipped.
    #[inline]
    fn plain_conjs_hold(
        &self,
        ctx: &Ctx,
        tk: &crate::nfa::Take,
        run: &Run,
        stored: &Stored,
        cache: &mut ConjCache,
        settled: u32,
    ) -> bool {
        if tk.conjs.iter().all(|&ci| ci == settled) {
            return true;
        }
        let view = self.view(ctx, run, Some((tk.var, stored)));
        tk.conjs.iter().all(|&ci| {
            if ci == settled {
                return true;
            }
            let Some(c) = ctx.nfa.conjs.get(ci as usize) else {
                return true;
            };
            if c.local {
                if let Some(holds) = cache.get_or(ci, || view.conj_holds(c)) {
                    return holds;
                }
            }
            view.conj_holds(c)
        })
    }

    /// [`Partition::apply`] for a plain sequence's `begin` edge.
    #[inline]
    fn apply_plain(tk: &crate::nfa::Take, run: &mut Run, pos: Pos, ts: i64) {
        if let Some(b) = run.binds.get_mut(tk.var.index()) {
            *b = Bind::One(pos);
        }
        run.state = tk.target;
        run.key = None;
        if run.first.is_none() {
            run.first = Some((pos, ts));
        }
        run.last = pos;
    }

    /// The end of every form of the step: the run cap, the new runs put
    /// back, the completed candidates emitted, the buffer and the list
    /// arena tidied. Inlined into each step: as a call it was ~50
    /// instructions a step, mostly saving registers and testing what had
    /// nothing to do.
    #[inline(always)]
    fn end_step(
        &mut self,
        ctx: &Ctx,
        mut runs: Vec<Run>,
        done: &mut Vec<Done>,
        out: &mut Vec<Match>,
        stats: &mut StepStats,
    ) {
        if runs.len() > ctx.max_runs {
            stats.dropped_runs += (runs.len() - ctx.max_runs) as u64;
            runs.truncate(ctx.max_runs);
        }
        put_back(&mut self.runs, runs);
        self.emit_batch(ctx, done, out, stats);
        self.maybe_prune(ctx);
        self.maybe_compact();
    }

    /// A run reached the accept state: check absences, then complete it now
    /// or park it until its trailing `NOT` window closes.
    fn complete(&mut self, ctx: &Ctx, run: Run, done: &mut Vec<Done>) {
        let (Some((_, first_ts)), Some(last)) = (run.first, run.last()) else {
            return;
        };
        let Some(trailing) = self.check_nots(ctx, &run) else {
            return;
        };
        if trailing.is_empty() {
            done.push(Done {
                run,
                deadline: i64::MIN,
            });
        } else {
            let deadline = ctx
                .nfa
                .within
                .map_or(i64::MAX, |w| first_ts.saturating_add(w));
            self.pending.push(Pending {
                run,
                deadline,
                trailing,
                lo: last,
            });
        }
    }

    /// Emits the pending matches whose deadline is before `upto` (all when `None`).
    ///
    /// Called for every event a partition takes, and nearly always with
    /// nothing due: the test is inlined into the caller and the emission is
    /// a call of its own (inlined, its register saves were ~20 instructions
    /// an event). The same holds for [`Partition::maybe_compact`] and
    /// [`Partition::emit_batch`].
    #[inline]
    pub(crate) fn fire(
        &mut self,
        ctx: &Ctx,
        upto: Option<i64>,
        out: &mut Vec<Match>,
        stats: &mut StepStats,
    ) {
        if self
            .pending
            .iter()
            .any(|p| upto.is_none_or(|u| p.deadline < u))
        {
            self.fire_due(ctx, upto, out, stats);
        }
    }

    /// [`Partition::fire`] with something due.
    #[inline(never)]
    fn fire_due(
        &mut self,
        ctx: &Ctx,
        upto: Option<i64>,
        out: &mut Vec<Match>,
        stats: &mut StepStats,
    ) {
        let (due, keep): (Vec<Pending>, Vec<Pending>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| upto.is_none_or(|u| p.deadline < u));
        self.pending = keep;
        if due.is_empty() {
            return;
        }
        let mut done = due
            .into_iter()
            .map(|p| Done {
                run: p.run,
                deadline: p.deadline,
            })
            .collect();
        self.emit_batch(ctx, &mut done, out, stats);
    }

    /// Emits complete candidates in completion order, applying `AFTER MATCH`
    /// after each one.
    #[inline]
    fn emit_batch(
        &mut self,
        ctx: &Ctx,
        done: &mut Vec<Done>,
        out: &mut Vec<Match>,
        stats: &mut StepStats,
    ) {
        if !done.is_empty() {
            self.emit_done(ctx, done, out, stats);
        }
    }

    /// [`Partition::emit_batch`] with candidates to emit.
    #[inline(never)]
    fn emit_done(
        &mut self,
        ctx: &Ctx,
        done: &mut Vec<Done>,
        out: &mut Vec<Match>,
        stats: &mut StepStats,
    ) {
        if done.len() > 1 && ctx.nfa.plain {
            // A plain sequence binds one event per variable, in stream
            // order, with no trailing deadline: the completion order is the
            // order of the sorted positions, and two candidates with the same
            // positions are the same binding (one alternative, no lists).
            // The key is a few inline positions, built per comparison: the
            // candidates are sorted in place, as collecting them with their
            // keys into a new vector cost more than the keys themselves.
            let key = |d: &Done| -> SmallVec<[Pos; 4]> {
                let mut k: SmallVec<[Pos; 4]> = d
                    .run
                    .binds
                    .iter()
                    .filter_map(|b| match b {
                        Bind::One(p) => Some(*p),
                        _ => None,
                    })
                    .collect();
                k.sort_unstable();
                k
            };
            // The key's first position is the run's first: candidates that
            // start apart (most) are ordered by it alone, without a key per
            // comparison; the keys are built only when two start together.
            done.sort_by_key(|d| d.run.first_pos());
            if done
                .windows(2)
                .any(|w| w[0].run.first_pos() == w[1].run.first_pos())
            {
                done.sort_by_key(key);
                done.dedup_by(|b, a| key(a) == key(b));
            }
        } else if done.len() > 1 {
            // The order key starts with (deadline, first position), which
            // tells most candidates apart (the runs of a list that complete
            // at one event started at different events): sort by that, and
            // build the full keys (the positions spelled out, a few vectors
            // each) only when two candidates tie on it, as the plain path
            // above does.
            let prefix = |d: &Done| (d.deadline, d.run.first_pos());
            done.sort_by_key(prefix);
            if done.windows(2).any(|w| prefix(&w[0]) == prefix(&w[1])) {
                let mut keyed: Vec<(OrderKey, Done)> =
                    done.drain(..).map(|d| (self.order_key(&d), d)).collect();
                keyed
                    .sort_by(|(a, da), (b, db)| a.cmp(b).then_with(|| da.run.alt.cmp(&db.run.alt)));
                // Two AND orders can produce the same binding (empty lists):
                // once.
                keyed.dedup_by(|b, a| a.0 == b.0);
                done.extend(keyed.into_iter().map(|(_, d)| d));
            }
        }
        let mut pruned_first: Option<Pos> = None; // SKIP PAST: drop first <= this
        let mut dropped_starts: Vec<Pos> = Vec::new(); // SKIP TO NEXT
        for d in done.drain(..) {
            let first = d.run.first_pos();
            if pruned_first.is_some_and(|l| first <= l) || dropped_starts.contains(&first) {
                continue;
            }
            // Events are bound in stream order: the last bound is the latest.
            let last = d.run.last().unwrap_or(first);
            out.push(self.to_match(ctx, &d.run));
            stats.matches += 1;
            match ctx.nfa.after_match {
                AfterMatch::SkipPastLastEvent => {
                    pruned_first = Some(pruned_first.map_or(last, |p| p.max(last)));
                    self.runs.retain(|r| r.first_pos() > last);
                    self.pending.retain(|p| p.run.first_pos() > last);
                }
                AfterMatch::SkipToNextEvent => {
                    dropped_starts.push(first);
                    self.runs.retain(|r| r.first_pos() != first);
                    self.pending.retain(|p| p.run.first_pos() != first);
                }
                AfterMatch::NoSkip => {}
            }
        }
    }

    fn bound(&self, p: Pos) -> Option<BoundEvent> {
        self.get(p).map(|s| BoundEvent {
            seq: s.seq,
            event: s.event.clone(),
        })
    }

    fn to_match(&self, ctx: &Ctx, run: &Run) -> Match {
        let nfa = ctx.nfa;
        let names = ctx.names;
        let fields = if nfa.emit.is_empty() {
            Vec::new()
        } else {
            let view = self.view(ctx, run, None);
            nfa.emit
                .iter()
                .enumerate()
                .map(|(i, (_, e))| {
                    let name = names.emit.get(i).cloned().unwrap_or_default();
                    (name, crate::eval::eval(e, &view))
                })
                .collect()
        };
        let mut events = Vec::with_capacity(nfa.var_kinds.len());
        for (i, kind) in nfa.var_kinds.iter().enumerate() {
            if *kind == VarKind::Negated {
                continue;
            }
            let b = match run.binds[i] {
                Bind::Unbound => Binding::None,
                Bind::One(p) => self.bound(p).map_or(Binding::None, Binding::One),
                b @ Bind::Many { .. } => Binding::Many(
                    self.positions_of(b)
                        .iter()
                        .filter_map(|p| self.bound(*p))
                        .collect(),
                ),
            };
            events.push((names.vars.get(i).cloned().unwrap_or_default(), b));
        }
        // Events are bound in stream order: the first bound is the earliest
        // and the last the latest.
        let (lo, hi) = (run.first.map(|f| f.0), run.last());
        let ts_of = |p: Option<Pos>| {
            p.and_then(|p| self.get(p))
                .map_or(EventTime::MIN, |e| e.event.ts)
        };
        Match {
            pattern: names.pattern.clone(),
            pattern_id: ctx.pattern,
            key: names
                .keys
                .iter()
                .cloned()
                .zip(self.key.0.iter().cloned())
                .collect(),
            start: ts_of(lo),
            end: ts_of(hi),
            fields,
            events,
        }
    }

    /// Drops runs whose window can no longer be met by an event at `now`.
    pub(crate) fn expire(&mut self, ctx: &Ctx, now: i64) {
        if let Some(w) = ctx.nfa.within {
            self.runs
                .retain(|r| r.first.is_none_or(|(_, fts)| fts.saturating_add(w) >= now));
            if let Some(c) = self.counter.as_deref_mut() {
                c.expire(w, now);
            }
        }
    }

    /// Time passes without an event (the watermark moved to `now`): emit
    /// due matches, expire runs, prune the buffer.
    pub(crate) fn advance(
        &mut self,
        ctx: &Ctx,
        now: Option<i64>,
        out: &mut Vec<Match>,
        stats: &mut StepStats,
    ) {
        self.fire(ctx, now, out, stats);
        match now {
            Some(t) => {
                self.expire(ctx, t);
                self.now = self.now.max(t);
            }
            None => {
                self.runs.clear();
                if let Some(c) = self.counter.as_deref_mut() {
                    c.clear();
                }
                self.now = i64::MAX;
            }
        }
        self.prune_buffer(ctx);
        self.maybe_compact();
    }

    /// Prunes when the buffer has grown by a quarter (and 16 events) since
    /// the last pruning: pruning walks every run, so it is amortized over
    /// the events added, but soon enough that a partition's ring of events
    /// stays small and an event is freed while it is still in cache. At
    /// "doubled" (before change 96) every partition held up to twice the
    /// events its runs reach: `kleene_iter` missed the last-level cache 13%
    /// more, and ran 2% slower. Keeping a few more events than needed
    /// changes no result (they are events of S either way); `advance`
    /// prunes fully.
    fn maybe_prune(&mut self, ctx: &Ctx) {
        if self.buf.len() >= self.pruned_len + self.pruned_len / 4 + 16 {
            self.prune_buffer(ctx);
        }
    }

    /// Frees buffered events no run, pending match or future absence check
    /// can reach.
    fn prune_buffer(&mut self, ctx: &Ctx) {
        let mut keep_from = self.next_pos();
        for r in &self.runs {
            keep_from = keep_from.min(r.first_pos());
        }
        for p in &self.pending {
            keep_from = keep_from.min(p.run.first_pos());
        }
        if let Some(p) = self.counter.as_ref().and_then(|c| c.first_pos()) {
            keep_from = keep_from.min(p);
        }
        let horizon = if ctx.nfa.leading_not {
            ctx.nfa
                .within
                .map_or(i64::MIN, |w| self.now.saturating_sub(w.saturating_mul(2)))
        } else {
            i64::MAX
        };
        while let Some(front) = self.buf.front() {
            if self.base >= keep_from || front.event.ts.0 >= horizon {
                break;
            }
            self.buf.pop_front();
            self.base += 1;
        }
        self.pruned_len = self.buf.len();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::{Program, Value};

    /// The event as the engine hands it to a partition.
    fn stored(seq: u64, event: Event) -> Stored {
        Stored { seq, event }
    }

    /// A run made from a seed is the seed's copy, for patterns of one to
    /// four variables (past three, the clone itself).
    #[test]
    fn a_run_from_a_seed_is_its_copy() {
        let texts = [
            "EVENT T (x INT); PATTERN p SEQ(T a) WHERE a.x > 1;",
            "EVENT T (x INT); PATTERN p SEQ(T t{2,}) WHERE t[i].x > t[i-1].x WITHIN 1m;",
            "EVENT T (x INT); PATTERN p SEQ(T a, T b, T c) WHERE c.x > a.x WITHIN 1m;",
            "EVENT T (x INT); PATTERN p SEQ(T a, NOT T n, T b, T c) WHERE n.x = 0 WITHIN 1m;",
            "EVENT T (x INT); PATTERN p SEQ(T a, OR(T b, T c), T d) WITHIN 1m;",
        ];
        for text in texts {
            let program = Program::compile(text).unwrap();
            let nfa = program.nfa(PatternId::from_index(0));
            for seed in seeds(nfa) {
                assert_eq!(
                    format!("{:?}", Run::from_seed(&seed)),
                    format!("{seed:?}"),
                    "{text}"
                );
            }
        }
    }

    /// [`Partition::arena_size`] counts a running aggregate as two nodes.
    #[test]
    fn an_aggregate_is_the_size_of_two_nodes() {
        assert_eq!(
            std::mem::size_of::<Summary>(),
            2 * std::mem::size_of::<Node>()
        );
    }

    /// A result is known for the step that evaluated it and for no other,
    /// across the stamps' wrap-around too.
    #[test]
    fn the_conjunct_cache_forgets_at_each_step() {
        let mut c = ConjCache::default();
        let mut calls = 0;
        let mut eval = |c: &mut ConjCache, ci: u32, v: bool| {
            c.get_or(ci, || {
                calls += 1;
                v
            })
        };
        c.begin(2);
        assert_eq!(c.get(0), None);
        assert_eq!(eval(&mut c, 0, true), Some(true));
        assert_eq!(eval(&mut c, 0, false), Some(true), "evaluated once a step");
        assert_eq!(eval(&mut c, 1, false), Some(false));
        assert_eq!((c.get(0), c.get(1)), (Some(true), Some(false)));
        assert_eq!(eval(&mut c, 2, true), None, "no slot");
        c.begin(3);
        assert_eq!((c.get(0), c.get(1), c.get(2)), (None, None, None));
        assert_eq!(eval(&mut c, 2, true), Some(true));
        // The last step before the stamps wrap, and the first after.
        c.step = (u32::MAX >> 1) - 1;
        c.begin(3);
        assert_eq!(eval(&mut c, 1, true), Some(true));
        c.begin(3);
        assert_eq!(c.step, 1);
        assert_eq!((c.get(0), c.get(1), c.get(2)), (None, None, None));
        assert_eq!(eval(&mut c, 1, false), Some(false));
        assert_eq!(calls, 5);
    }

    #[test]
    fn put_back_drops_what_it_replaces() {
        let rc = std::rc::Rc::new(());
        // A vector with elements is dropped, not forgotten.
        let mut slot = vec![rc.clone()];
        put_back(&mut slot, Vec::new());
        assert_eq!(std::rc::Rc::strong_count(&rc), 1);
        // The vector put back is the one kept.
        put_back(&mut slot, vec![rc.clone()]);
        assert_eq!(slot.len(), 1);
        assert_eq!(std::rc::Rc::strong_count(&rc), 2);
    }

    /// Lists reached through the arena are the same before and after a
    /// compaction, for forking (skip till any) Kleene runs with middle and
    /// trailing reads, and the matches of a partition compacted after every
    /// event equal those of one never compacted.
    #[test]
    fn compaction_keeps_every_list_and_every_match() {
        let program = Program::compile(
            "EVENT T (k INT, x INT);
             PATTERN p SEQ(T a, T t+, T b)
               WHERE t[i].x >= t[i-1].x AND b.x > t[1].x AND b.x > avg(t.x)
               WITHIN 40ms SKIP TILL ANY MATCH;",
        )
        .unwrap();
        let seeds = seeds(program.nfa(PatternId::from_index(0)));
        let ctx = first_ctx(&program, &seeds, 100_000);
        let ty = program.type_id("T").unwrap();
        let (mut plain, mut compacted) = (
            Partition::new(Key::default()),
            Partition::new(Key::default()),
        );
        let (mut out_a, mut out_b) = (Vec::new(), Vec::new());
        let (mut st_a, mut st_b) = (StepStats::default(), StepStats::default());
        let (mut sc_a, mut sc_b) = (Scratch::default(), Scratch::default());
        let mut x: u64 = 7;
        let mut compactions = 0;
        for i in 0..400u64 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let v = ((x >> 33) % 10) as i64;
            let ev = || {
                Event::from_parts(
                    ty,
                    EventTime::from_millis(i as i64),
                    vec![Value::Int(0), Value::Int(v)],
                )
            };
            plain.on_event(&ctx, &stored(i, ev()), &mut out_a, &mut st_a, &mut sc_a);
            compacted.on_event(&ctx, &stored(i, ev()), &mut out_b, &mut st_b, &mut sc_b);
            let before: Vec<Vec<BindKey>> = compacted
                .runs
                .iter()
                .map(|r| compacted.bind_keys(r))
                .collect();
            let nodes = compacted.lists.len();
            compacted.compact();
            compactions += usize::from(compacted.lists.len() < nodes);
            let after: Vec<Vec<BindKey>> = compacted
                .runs
                .iter()
                .map(|r| compacted.bind_keys(r))
                .collect();
            assert_eq!(before, after, "event {i}");
            // `avg(t.x)`: one running aggregate per node, moved with it.
            assert_eq!(compacted.sums.len(), compacted.lists.len(), "event {i}");
            let reference: Vec<Vec<BindKey>> =
                plain.runs.iter().map(|r| plain.bind_keys(r)).collect();
            assert_eq!(after, reference, "event {i}");
        }
        assert!(compactions > 100, "compaction never reclaimed anything");
        assert!(!out_a.is_empty());
        let lines = |m: &[Match]| -> Vec<String> { m.iter().map(|m| format!("{m:?}")).collect() };
        assert_eq!(lines(&out_a), lines(&out_b));
        assert!(compacted.lists.len() < plain.lists.len() / 2);
    }

    /// Feeds `p` an event `(k = 0, x)` of type `ty`: sequence number `seq`, at `ts` ms.
    fn feed_kx(
        ctx: &Ctx,
        ty: dalal_lang::typed::TypeId,
        p: &mut Partition,
        seq: u64,
        ts: i64,
        x: i64,
        out: &mut Vec<Match>,
    ) {
        let ev = Event::from_parts(
            ty,
            EventTime::from_millis(ts),
            vec![Value::Int(0), Value::Int(x)],
        );
        let (mut stats, mut scratch) = (StepStats::default(), Scratch::default());
        p.on_event(ctx, &stored(seq, ev), out, &mut stats, &mut scratch);
    }

    /// After a burst, compaction hands back the arena capacity the next
    /// cycle cannot reach, nodes and aggregates alike; a partition whose
    /// arena it just sized keeps it.
    #[test]
    fn compaction_gives_back_what_the_next_cycle_cannot_reach() {
        let program = compile_for_test(
            "EVENT T (k INT, x INT);
             PATTERN p SEQ(T a, T t+, T b)
               WHERE t[i].x >= t[i-1].x AND b.x > avg(t.x)
               WITHIN 40ms SKIP TILL ANY MATCH AFTER MATCH NO SKIP;",
        );
        let seeds = seeds(program.nfa(PatternId::from_index(0)));
        let ctx = first_ctx(&program, &seeds, 100_000);
        let ty = program.type_id("T").unwrap();
        let (mut p, mut out) = (Partition::new(Key::default()), Vec::new());
        // A burst: rising values inside one window, every run growing.
        for i in 0..12 {
            feed_kx(&ctx, ty, &mut p, i, i as i64, i as i64, &mut out);
        }
        let (nodes, sums) = (p.lists.capacity(), p.sums.capacity());
        assert!(
            nodes > 1000 && sums > 1000,
            "no burst: {nodes} nodes, {sums} sums"
        );
        // Most of it live: kept.
        p.compact();
        assert_eq!((p.lists.capacity(), p.sums.capacity()), (nodes, sums));
        // Each aggregate counts twice (`arena_size`); one per node here.
        let reach = |p: &Partition| (2 * p.lists_live + ARENA_FLOOR) / 3 + 1;
        // A window later every run has expired: little is live.
        feed_kx(&ctx, ty, &mut p, 12, 1_000, 12, &mut out);
        p.compact();
        assert!(p.lists_live < 10, "{} nodes live", p.lists_live);
        assert!(
            p.lists.capacity() <= 2 * reach(&p) && p.sums.capacity() <= 2 * reach(&p),
            "kept {} nodes and {} sums for a reach of {}",
            p.lists.capacity(),
            p.sums.capacity(),
            reach(&p)
        );
        // Sized already: the next compaction leaves it as it is.
        let kept = (p.lists.capacity(), p.sums.capacity());
        p.compact();
        assert_eq!((p.lists.capacity(), p.sums.capacity()), kept);
    }

    /// Events no run can reach leave the buffer within a quarter of what
    /// the runs reach (and 16 events): runs that live ten events keep the
    /// buffer near that, not at twice it (change 96).
    #[test]
    fn the_buffer_keeps_little_more_than_its_runs_reach() {
        let program = compile_for_test(
            "EVENT T (k INT, x INT);
             PATTERN p SEQ(T a, T b) WHERE b.x > a.x WITHIN 9ms;",
        );
        let seeds = seeds(program.nfa(PatternId::from_index(0)));
        let ctx = first_ctx(&program, &seeds, 100_000);
        let ty = program.type_id("T").unwrap();
        let (mut p, mut out) = (Partition::new(Key::default()), Vec::new());
        let mut most = 0;
        // Falling values: no run completes, each lives out its window.
        for i in 0..2_000u64 {
            feed_kx(&ctx, ty, &mut p, i, i as i64, -(i as i64), &mut out);
            assert!(p.runs.len() <= 10, "event {i}: {} runs", p.runs.len());
            most = most.max(p.buf.len());
        }
        assert!(out.is_empty());
        assert!(
            (10..=10 + 10 / 4 + 16).contains(&most),
            "{most} events buffered"
        );
    }

    /// A counting pattern's match spells its run out in the arena only for
    /// as long as making the match takes: every node is gone after it.
    #[test]
    fn counted_matches_leave_no_nodes() {
        let program = compile_for_test(
            "EVENT T (k INT, x INT);
             PATTERN p SEQ(T t{3,}) WITHIN 1m SKIP TILL NEXT MATCH AFTER MATCH NO SKIP;",
        );
        assert!(program.nfa(PatternId::from_index(0)).counting);
        let seeds = seeds(program.nfa(PatternId::from_index(0)));
        let ctx = first_ctx(&program, &seeds, 100_000);
        let ty = program.type_id("T").unwrap();
        let (mut p, mut out) = (Partition::new(Key::default()), Vec::new());
        for i in 0..20u64 {
            feed_kx(&ctx, ty, &mut p, i, i as i64, 1, &mut out);
            assert!(p.lists.is_empty(), "event {i}: {} nodes", p.lists.len());
        }
        // Every run of three or more: 1 + 2 + ... + 18 matches.
        assert_eq!(out.len(), 171);
        let lens: Vec<usize> = out
            .iter()
            .filter_map(|m| match m.events.first() {
                Some((_, Binding::Many(v))) => Some(v.len()),
                _ => None,
            })
            .collect();
        assert_eq!(lens.len(), 171);
        assert_eq!(lens.iter().max(), Some(&20));
    }

    const STRATEGIES: [&str; 3] = [
        "SKIP TILL NEXT MATCH",
        "SKIP TILL ANY MATCH",
        "STRICT CONTIGUITY",
    ];
    const POLICIES: [&str; 3] = [
        "AFTER MATCH SKIP PAST LAST EVENT",
        "AFTER MATCH SKIP TO NEXT EVENT",
        "AFTER MATCH NO SKIP",
    ];

    /// The direct step of a plain sequence gives what the general
    /// exploration gives: the same matches in the same order, the same runs
    /// after every event (as sets under skip till next match, where the
    /// plain step grows a run in place), the same runs dropped at the cap, under every
    /// strategy and `AFTER MATCH` policy, with and without `WITHIN`.
    #[test]
    fn plain_step_equals_the_general_step() {
        let shapes = [
            ("SEQ(T a, T b) WHERE b.x > a.x", "WITHIN 30ms"),
            (
                "SEQ(T a, U b, T c) WHERE b.x >= a.x AND c.x < b.x + 2",
                "WITHIN 50ms",
            ),
            (
                "SEQ(T a, T b, T c) WHERE a.x < 5 AND c.x <> a.x",
                "WITHIN 1s",
            ),
            (
                "SEQ(T a, U b, T c) WHERE a.x + 1 < b.x * 2 AND c.x = b.x - 1 AND c.x >= a.x",
                "WITHIN 40ms",
            ),
            ("SEQ(U a)", ""),
        ];
        let mut checked = 0;
        for (i, (shape, within)) in shapes.into_iter().enumerate() {
            let program = compile_for_test(&format!(
                "EVENT T (k INT, x INT); EVENT U (k INT, x INT); PATTERN p {shape} {within};"
            ));
            let nfa = program.nfa(PatternId::from_index(0));
            assert!(nfa.plain);
            // Every shape but the last compares an event with an earlier one.
            let hoisted = nfa.alts[0]
                .states
                .iter()
                .flat_map(|st| &st.takes)
                .any(|tk| tk.hoist.is_some());
            assert_eq!(hoisted, i + 1 < shapes.len(), "{shape}");
            for strategy in STRATEGIES {
                for policy in POLICIES {
                    for max_runs in [3, 100_000] {
                        let text = format!(
                            "EVENT T (k INT, x INT); EVENT U (k INT, x INT);
                             PATTERN p {shape} {within} {strategy} {policy};"
                        );
                        checked += compare_plain(&text, max_runs);
                    }
                }
            }
        }
        assert!(checked > 200, "too few matches compared: {checked}");
    }

    fn compile_for_test(text: &str) -> Program {
        Program::compile(text).unwrap()
    }

    /// The step context of a test program's first pattern.
    fn first_ctx<'a>(program: &'a Program, seeds: &'a [Run], max_runs: usize) -> Ctx<'a> {
        let id = PatternId::from_index(0);
        Ctx {
            nfa: program.nfa(id),
            pattern: id,
            type_names: &program.inner.type_names,
            names: &program.inner.names[0],
            max_runs,
            seeds,
        }
    }

    /// What the per-type table says of an empty partition
    /// ([`crate::nfa::Nfa::fresh`]) is what reading the automaton and the
    /// event's fields says, for every type it decides, over shapes with and
    /// without conditions on the first element, Kleene lists, `OR`, `AND`,
    /// leading and trailing `NOT`, and a pattern that never matches.
    #[test]
    fn the_fresh_table_agrees_with_the_first_edges() {
        let shapes = [
            "SEQ(T a, T b) WHERE b.x > a.x",
            "SEQ(T a, U b) WHERE a.x > 3",
            "SEQ(T t{3,}) WHERE t[i].x >= t[i-1].x",
            "SEQ(T t+) WHERE t[i].x < 6 AND t[i].x >= min(t[..i-1].x)",
            "SEQ(T t{2,}) WHERE t[i].x > avg(t[..i-1].x)",
            "SEQ(T a, T t+, U b) WHERE t[i].x > a.x",
            "SEQ(T a, NOT U n, T b) WHERE n.x = 1",
            "SEQ(NOT U n, T a) WHERE n.x = a.x",
            "SEQ(U n, NOT T t) WHERE t.x > 5",
            "SEQ(T a, OR(U b, T c)) WHERE b.x > 2",
            "SEQ(AND(T a, U b)) WHERE a.x > 4",
            "SEQ(T a, T b) WHERE 1 > 2",
        ];
        let (mut decided, mut checked) = (0, 0);
        for shape in shapes {
            let text = format!(
                "EVENT T (k INT, x INT); EVENT U (k INT, x INT); EVENT V (k INT, x INT);
                 PATTERN p {shape} WITHIN 40ms;"
            );
            let program = compile_for_test(&text);
            let seeds = seeds(program.nfa(PatternId::from_index(0)));
            let ctx = first_ctx(&program, &seeds, 100);
            let part = Partition::new(Key::default());
            for name in ["T", "U", "V"] {
                let ty = program.type_id(name).unwrap();
                for x in 0..8 {
                    let e = Event::from_parts(
                        ty,
                        EventTime::from_millis(x),
                        vec![Value::Int(1), Value::Int(x)],
                    );
                    let want = part.wakes_fresh_checked(&ctx, &stored(0, e));
                    match ctx.nfa.fresh[ty.index()] {
                        Fresh::Never => assert!(!want, "{shape}: {name} {x}"),
                        Fresh::Always => assert!(want, "{shape}: {name} {x}"),
                        Fresh::Check => {
                            checked += 1;
                            continue;
                        }
                    }
                    decided += 1;
                }
            }
        }
        // Most answers come from the table; some still read the event.
        assert!(
            decided > 200 && checked >= 16,
            "{decided} decided, {checked} checked"
        );
    }

    /// The linear step (Kleene variables with a minimum among singletons)
    /// gives what the general exploration gives, event by event.
    #[test]
    fn linear_step_equals_the_general_step() {
        let shapes = [
            "SEQ(T t{3,}) WHERE t[i].x >= t[i-1].x",
            "SEQ(T t{2,4}) WHERE t[i].x > avg(t[..i-1].x) - 2",
            "SEQ(T a, T t+, U b) WHERE t[i].x <> a.x AND b.x > t[1].x AND count(t) < 4",
            "SEQ(U p{3,}) WHERE sum(p.x) > 6",
            "SEQ(T t{1}, U u{2}, T v+)",
        ];
        let mut checked = 0;
        for shape in shapes {
            let text = format!(
                "EVENT T (k INT, x INT); EVENT U (k INT, x INT); PATTERN p {shape} WITHIN 40ms;"
            );
            let nfa_ok = compile_for_test(&text);
            let nfa = nfa_ok.nfa(PatternId::from_index(0));
            assert!(nfa.linear && !nfa.plain, "{text}");
            for strategy in STRATEGIES {
                for policy in POLICIES {
                    for max_runs in [3, 100_000] {
                        let text = format!(
                            "EVENT T (k INT, x INT); EVENT U (k INT, x INT);
                             PATTERN p {shape} WITHIN 40ms {strategy} {policy};"
                        );
                        checked += compare_plain(&text, max_runs);
                    }
                }
            }
        }
        assert!(checked > 200, "too few matches compared: {checked}");
    }

    /// A partition's live runs as (state, bindings), counted runs spelled out.
    fn live_runs(p: &mut Partition, ctx: &Ctx) -> Vec<(u32, Vec<BindKey>)> {
        let mut runs: Vec<Run> = p.runs.clone();
        if ctx.nfa.counting {
            let s1 = crate::nfa::list_shape(&ctx.nfa.alts[0]).unwrap().0.target;
            let starts = p
                .counter
                .as_ref()
                .map(|c| c.starts.clone())
                .unwrap_or_default();
            for s in starts {
                runs.push(p.counted_run_at(ctx, s, s1));
            }
        }
        runs.iter().map(|r| (r.state.0, p.bind_keys(r))).collect()
    }

    /// The counting step (one Kleene element under conditions on the event
    /// alone) gives what the linear and the general step give, event by
    /// event: live runs, run counts, dropped runs and matches.
    #[test]
    fn counting_step_equals_the_general_step() {
        let shapes = [
            "SEQ(T t{3,})",
            "SEQ(T t+) WHERE t[i].x > 2",
            "SEQ(T t{2,4}) WHERE t[i].x <> 3 AND t[i].x < 7",
            "SEQ(U u{2,2})",
            "SEQ(U u{1,3}) WHERE u[i].x % 2 = 0",
            "SEQ(T t{4,6}) WHERE t[i].x >= 1",
            // Conditions on `t[i-1]`: counted under strict contiguity only.
            "SEQ(T t{3,}) WHERE t[i].x >= t[i-1].x",
            "SEQ(T t{2,4}) WHERE t[i].x > t[i-1].x - 2 AND t[i].x <> 5",
            // No fast form (event times): the probe list reads `t[i-1]`.
            "SEQ(T t{2,}) WHERE t[i].ts - t[i-1].ts <= 3ms AND t[i].x > t[i-1].x",
        ];
        let mut checked = 0;
        for shape in shapes {
            let strict_only = shape.contains("i-1");
            // A window that expires runs, and one that never does here.
            for within in ["WITHIN 40ms", "WITHIN 1h"] {
                let text = format!(
                    "EVENT T (k INT, x INT); EVENT U (k INT, x INT);
                     PATTERN p {shape} {within} STRICT CONTIGUITY;"
                );
                let program = compile_for_test(&text);
                let nfa = program.nfa(PatternId::from_index(0));
                assert!(nfa.counting && nfa.linear && !nfa.plain, "{text}");
                // Not skip till any match: the counting step does not take it.
                let strategies: &[&str] = if strict_only {
                    &["STRICT CONTIGUITY"]
                } else {
                    &["SKIP TILL NEXT MATCH", "STRICT CONTIGUITY"]
                };
                for strategy in strategies {
                    for policy in POLICIES {
                        for max_runs in [3, 100_000] {
                            let text = format!(
                                "EVENT T (k INT, x INT); EVENT U (k INT, x INT);
                                 PATTERN p {shape} {within} {strategy} {policy};"
                            );
                            checked += compare_plain(&text, max_runs);
                            checked += compare_counting_with_linear(&text, max_runs);
                        }
                    }
                }
            }
        }
        assert!(checked > 1000, "too few matches compared: {checked}");
    }

    /// The single-list step (one Kleene element, any conditions on its
    /// elements) gives what the linear step and the general step give,
    /// event by event, under every strategy, policy and a tiny run cap.
    #[test]
    fn single_list_step_equals_the_linear_step() {
        let shapes = [
            "SEQ(T t{3,}) WHERE t[i].x >= t[i-1].x",
            "SEQ(T t{2,4}) WHERE t[i].x > avg(t[..i-1].x) - 2",
            "SEQ(U u{2,}) WHERE u[i].x <> u[1].x",
            "SEQ(T t+) WHERE t[i].x < 6 AND t[i].x >= min(t[..i-1].x)",
            "SEQ(T t{1,3})",
            // Carried sides, decided by `scan_list_runs`: INTs under `>`,
            // FLOATs under `<` and under `>=` (the bits).
            "SEQ(T t{2,}) WHERE t[i].x > t[i-1].x",
            "SEQ(T t+) WHERE t[i].x * 0.5 < t[i-1].x * 0.5",
            "SEQ(T t{3,}) WHERE t[i].x * 1.5 >= t[i-1].x * 1.5",
            // A running aggregate as the run's side, read by the scan from
            // the list's kept state (`Take::kept_side`).
            "SEQ(T t{2,}) WHERE t[i].x > avg(t[..i-1].x)",
            "SEQ(T t+) WHERE t[i].x <= max(t[..i-1].x)",
        ];
        // Which shapes compare an element with what the run holds (`u[1]`
        // is the element being added for a run of none: not split).
        let hoists = [true, true, false, true, false, true, true, true, true, true];
        // Which shapes start a list at every event of its type without
        // evaluating anything ([`crate::nfa::Take::first_free`]): `u[1]`
        // and `t[i].x < 6` read the first element itself.
        let free = [true, true, false, false, true, true, true, true, true, true];
        // Which shapes keep a running aggregate as the run's side (the
        // scan reads it only where that comparison is the only conjunct).
        let kept = [
            false, false, false, true, false, false, false, false, true, true,
        ];
        let mut checked = 0;
        for (((shape, hoists), free), kept) in shapes.into_iter().zip(hoists).zip(free).zip(kept) {
            let text = format!(
                "EVENT T (k INT, x INT); EVENT U (k INT, x INT); PATTERN p {shape} WITHIN 40ms;"
            );
            let program = compile_for_test(&text);
            let nfa = program.nfa(PatternId::from_index(0));
            assert!(nfa.single_list && nfa.linear, "{text}");
            let hoisted = nfa.alts[0]
                .states
                .iter()
                .flat_map(|st| &st.takes)
                .any(|tk| tk.hoist.is_some());
            assert_eq!(hoisted, hoists, "{shape}");
            let first = crate::nfa::list_edges(&nfa.alts[0]).map(|(begin, _, _)| begin.first_free);
            assert_eq!(first, Some(free), "{shape}");
            let grow =
                crate::nfa::list_edges(&nfa.alts[0]).map(|(_, grow, _)| grow.kept_side.is_some());
            assert_eq!(grow, Some(kept), "{shape}");
            for strategy in STRATEGIES {
                for policy in POLICIES {
                    for max_runs in [3, 100_000] {
                        let text = format!(
                            "EVENT T (k INT, x INT); EVENT U (k INT, x INT);
                             PATTERN p {shape} WITHIN 40ms {strategy} {policy};"
                        );
                        let stream = Stream {
                            seed: 7,
                            events: 250,
                            u_one_in: 4,
                            ts_step: 3,
                            tick_every: Some(5),
                        };
                        if program_counts(&text) {
                            // The counting step comes first (`t[i-1]` under
                            // strict contiguity); the single-list step
                            // against the linear one all the same.
                            checked += compare_steps_with(
                                &text,
                                max_runs,
                                |n| n.counting = false,
                                |n| {
                                    n.counting = false;
                                    n.single_list = false;
                                },
                                &stream,
                            );
                            continue;
                        }
                        checked += compare_plain(&text, max_runs);
                        checked +=
                            compare_steps(&text, max_runs, |n| n.single_list = false, &stream);
                    }
                }
            }
        }
        assert!(checked > 1000, "too few matches compared: {checked}");
    }

    /// Whether the pattern takes the counting step (which comes first).
    fn program_counts(text: &str) -> bool {
        compile_for_test(text)
            .nfa(PatternId::from_index(0))
            .counting
    }

    /// Patterns the counting step must not take: a condition across
    /// elements, an aggregate, more than one element, skip till any match.
    #[test]
    fn counting_needs_conditions_on_the_event_alone() {
        for shape in [
            "SEQ(T t{3,}) WHERE t[i].x > t[i-1].x WITHIN 1m",
            "SEQ(T t{3,}) WHERE t[i].x > t[1].x WITHIN 1m STRICT CONTIGUITY",
            "SEQ(T t{3,}) WHERE t[i].x > avg(t[..i-1].x) WITHIN 1m STRICT CONTIGUITY",
            "SEQ(T t{3,}) WHERE t[i].x > avg(t[..i-1].x) WITHIN 1m",
            "SEQ(T t{3,}) WHERE sum(t.x) > 4 WITHIN 1m",
            "SEQ(T a, T t{3,}) WITHIN 1m",
            "SEQ(T t{3,}, U u) WITHIN 1m",
            "SEQ(T t{3,}) WITHIN 1m SKIP TILL ANY MATCH",
            "SEQ(T t*) WITHIN 1m",
        ] {
            let text =
                format!("EVENT T (k INT, x INT); EVENT U (k INT, x INT); PATTERN p {shape};");
            let program = compile_for_test(&text);
            assert!(
                !program.nfa(PatternId::from_index(0)).counting,
                "{text} compiled as counting"
            );
        }
    }

    /// The counting step against the linear step alone (both fast forms),
    /// with time passing between events now and then.
    fn compare_counting_with_linear(text: &str, max_runs: usize) -> usize {
        let stream = Stream {
            seed: 5,
            events: 300,
            u_one_in: 4,
            ts_step: 3,
            tick_every: Some(7),
        };
        compare_steps(text, max_runs, |n| n.counting = false, &stream)
    }

    /// Feeds one stream to the plain and the general step; returns the
    /// number of matches compared.
    fn compare_plain(text: &str, max_runs: usize) -> usize {
        let stream = Stream {
            seed: 11,
            events: 200,
            u_one_in: 3,
            ts_step: 4,
            tick_every: None,
        };
        let general = |n: &mut crate::nfa::Nfa| {
            n.plain = false;
            n.linear = false;
            n.counting = false;
            n.single_list = false;
        };
        compare_steps(text, max_runs, general, &stream)
    }

    /// A pseudo-random stream of `T (k, x)` and `U (k, x)` events: one in
    /// `u_one_in` a U, `x` in 0..8, time steps of 0, 1 or 2 `ts_step`
    /// milliseconds (equal timestamps now and then), and, every
    /// `tick_every` events, the watermark moved 1 ms on.
    struct Stream {
        seed: u64,
        events: u64,
        u_one_in: u64,
        ts_step: i64,
        tick_every: Option<u64>,
    }

    /// Feeds `stream` to a partition stepped with the pattern's own
    /// automaton and to one stepped with the automaton `fallback` leaves
    /// (a fast form switched off); compares the live runs, run counts,
    /// dropped runs and matches after every event and the matches at the
    /// end. Returns the number of matches compared.
    fn compare_steps(
        text: &str,
        max_runs: usize,
        fallback: impl Fn(&mut crate::nfa::Nfa),
        stream: &Stream,
    ) -> usize {
        compare_steps_with(text, max_runs, |_| {}, fallback, stream)
    }

    /// [`compare_steps`] with the fast side's automaton changed by `tweak`
    /// first (a fast form it would not take on its own).
    fn compare_steps_with(
        text: &str,
        max_runs: usize,
        tweak: impl Fn(&mut crate::nfa::Nfa),
        fallback: impl Fn(&mut crate::nfa::Nfa),
        stream: &Stream,
    ) -> usize {
        let program = Program::compile(text).unwrap();
        let id = PatternId::from_index(0);
        // The pattern's automaton compiled afresh and changed by `change`.
        let changed = |change: &dyn Fn(&mut crate::nfa::Nfa)| {
            let checked = program.checked();
            let mut nfa =
                crate::nfa::compile(&checked.patterns[0], checked.types.len(), &|_| None).unwrap();
            change(&mut nfa);
            nfa
        };
        let tweaked = changed(&tweak);
        let fast = &tweaked;
        assert!(
            fast.plain || fast.linear,
            "not compiled as plain or linear: {text}"
        );
        let slow = changed(&fallback);
        let (seeds_a, seeds_b) = (seeds(fast), seeds(&slow));
        let ctx = |nfa, seeds| Ctx {
            nfa,
            pattern: id,
            type_names: &program.inner.type_names,
            names: &program.inner.names[0],
            max_runs,
            seeds,
        };
        let (ctx_a, ctx_b) = (ctx(fast, &seeds_a), ctx(&slow, &seeds_b));
        // The plain and single-list steps grow a run under skip till next
        // match where it is, where the other steps move it after the runs
        // that stayed (`Partition::after_test`): the same runs, in another
        // order.
        let unordered = ((fast.single_list && !fast.counting && !slow.single_list)
            || (fast.plain && !slow.plain))
            && fast.strategy == Strategy::SkipTillNextMatch;
        let types = [program.type_id("T").unwrap(), program.type_id("U").unwrap()];
        let (mut a, mut b) = (
            Partition::new(Key::default()),
            Partition::new(Key::default()),
        );
        let (mut out_a, mut out_b) = (Vec::new(), Vec::new());
        let (mut st_a, mut st_b) = (StepStats::default(), StepStats::default());
        let (mut sc_a, mut sc_b) = (Scratch::default(), Scratch::default());
        let mut r: u64 = stream.seed;
        let mut ts = 0i64;
        for i in 0..stream.events {
            r = r
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1442695040888963407);
            let v = ((r >> 33) % 8) as i64;
            let ty = types[((r >> 40) % stream.u_one_in == 0) as usize];
            ts += ((r >> 45) % 3) as i64 * stream.ts_step;
            let ev = || {
                Event::from_parts(
                    ty,
                    EventTime::from_millis(ts),
                    vec![Value::Int(0), Value::Int(v)],
                )
            };
            a.on_event(&ctx_a, &stored(i, ev()), &mut out_a, &mut st_a, &mut sc_a);
            b.on_event(&ctx_b, &stored(i, ev()), &mut out_b, &mut st_b, &mut sc_b);
            if stream.tick_every.is_some_and(|k| i % k == 0) {
                a.advance(&ctx_a, Some(ts + 1), &mut out_a, &mut st_a);
                b.advance(&ctx_b, Some(ts + 1), &mut out_b, &mut st_b);
            }
            let (mut runs_a, mut runs_b) = (live_runs(&mut a, &ctx_a), live_runs(&mut b, &ctx_b));
            if unordered {
                runs_a.sort();
                runs_b.sort();
            }
            assert_eq!(runs_a, runs_b, "{text}: runs after event {i}");
            assert_eq!(a.load(), b.load(), "{text}: event {i}");
            assert_eq!(st_a.dropped_runs, st_b.dropped_runs, "{text}: event {i}");
            assert_eq!(st_a.matches, st_b.matches, "{text}: event {i}");
        }
        a.advance(&ctx_a, None, &mut out_a, &mut st_a);
        b.advance(&ctx_b, None, &mut out_b, &mut st_b);
        let lines = |m: &[Match]| -> Vec<String> { m.iter().map(|m| format!("{m:?}")).collect() };
        assert_eq!(lines(&out_a), lines(&out_b), "{text}");
        assert!(a.is_idle() && b.is_idle(), "{text}");
        out_a.len()
    }
}
