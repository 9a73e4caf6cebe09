//! One partition of one pattern: its event buffer, runs and pending matches,
//! and the step function that feeds it one event of the ordered stream S.

use crate::eval::{Env, Summary, holds};
use crate::matches::{Binding, BoundEvent, Match, MatchNames};
use crate::nfa::{EpsKind, Nfa, StateId};
use crate::value::{Event, EventTime, Key, Value};
use dalal_lang::ast::{AfterMatch, Strategy};
use dalal_lang::typed::{Access, AggRange, FieldRef, PatternId, VarId, VarKind};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;

/// Position of an event in its partition's stream S (0, 1, 2, ...).
pub(crate) type Pos = u64;

/// An event kept in a partition buffer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Stored {
    pub seq: u64,
    pub event: Event,
}

/// What a variable of a run is bound to (positions into the buffer).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) enum Bind {
    Unbound,
    One(Pos),
    Many(Vec<Pos>),
}

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
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Run {
    alt: u32,
    state: StateId,
    binds: Vec<Bind>,
    nots: Vec<NotRange>,
    first: Option<(Pos, i64)>,
    last: Option<Pos>,
    /// Running aggregates, indexed like `Nfa::agg_slots`.
    aggs: Vec<Summary>,
}

impl Run {
    fn first_pos(&self) -> Pos {
        self.first.map_or(0, |f| f.0)
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
    /// (deadline or i64::MIN, first position, sorted positions) — the completion order.
    order: (i64, Pos, Vec<Pos>),
}

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
            binds: vec![Bind::Unbound; nfa.var_kinds.len()],
            nots: Vec::new(),
            first: None,
            last: None,
            aggs: vec![Summary::default(); nfa.agg_slots.len()],
        })
        .collect()
}

/// The binding a conjunct is evaluated against.
struct View<'a> {
    part: &'a Partition,
    binds: &'a [Bind],
    /// The run's running aggregates and which `(var, field)` each is for.
    aggs: &'a [Summary],
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

    /// The elements of a variable: what is bound (one event or a list) and
    /// the event being added, if it is this variable's.
    fn list(&self, var: VarId) -> (&[Pos], Option<&Stored>) {
        let prefix: &[Pos] = match self.binds.get(var.index()) {
            Some(Bind::Many(l)) => l,
            Some(Bind::One(p)) => std::slice::from_ref(p),
            _ => &[],
        };
        let cur = self.cur.filter(|(v, _)| *v == var).map(|(_, e)| e);
        (prefix, cur)
    }
}

impl<'a> View<'a> {
    /// The event `var` with `access` reads (as [`Env::field`] resolves it).
    fn stored(&self, var: VarId, access: Access) -> Option<&'a Stored> {
        if let Some((v, e)) = self.neg {
            if v == var {
                return Some(e);
            }
        }
        let prefix: &'a [Pos] = match self.binds.get(var.index()) {
            Some(Bind::Many(l)) => l,
            Some(Bind::One(p)) => std::slice::from_ref(p),
            _ => &[],
        };
        let cur = self.cur.filter(|(v, _)| *v == var).map(|(_, e)| e);
        let len = prefix.len() + usize::from(cur.is_some());
        let part = self.part;
        let at = |i: usize| -> Option<&'a Stored> {
            if i < prefix.len() {
                part.get(prefix[i])
            } else if i == prefix.len() {
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
            Some(f) => f.holds(|var, access, slot| {
                self.stored(var, access)
                    .and_then(|e| e.event.fields.get(slot))
            }),
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
        let i = self.slots.iter().position(|s| *s == (var, field))?;
        let s = self.aggs.get(i)?;
        let cur = self.cur.filter(|(v, _)| *v == var).map(|(_, e)| e);
        match (range, cur) {
            (AggRange::All, Some(e)) => {
                let mut s = s.clone();
                s.add(field.map_or(Value::Bool(true), |f| self.value(e, f)));
                Some(Cow::Owned(s))
            }
            (AggRange::All, None) | (AggRange::BeforeCurrent, Some(_)) => Some(Cow::Borrowed(s)),
            // All but the last element: not kept; fold over the list.
            (AggRange::BeforeCurrent, None) => None,
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
        for p in &prefix[..upto] {
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
    cache: Vec<u8>,
    outcomes: Vec<Outcome>,
    taken: Vec<Run>,
    next: Vec<Run>,
}

/// Whether any take edge reachable from the run's state accepts `ty`.
fn reaches(ctx: &Ctx, run: &Run, ty: dalal_lang::typed::TypeId) -> bool {
    ctx.nfa
        .alts
        .get(run.alt as usize)
        .and_then(|a| a.states.get(run.state.0 as usize))
        .is_some_and(|s| s.reach.contains(&ty))
}

enum Outcome {
    Take(Step),
    Accept(Run),
}

/// A take found by [`Partition::explore`], applied by [`Partition::apply`].
struct Step {
    /// The run as modified by the path (an empty Kleene list bound on the
    /// way), or `None`: the run explored, unchanged.
    base: Option<Run>,
    /// `NOT` edges crossed on the way.
    nots: Vec<VarId>,
    state: StateId,
    take: u32,
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

impl Partition {
    pub(crate) fn new(key: Key) -> Self {
        Partition {
            key,
            buf: VecDeque::new(),
            base: 0,
            runs: Vec::new(),
            pending: Vec::new(),
            now: i64::MIN,
        }
    }

    fn get(&self, pos: Pos) -> Option<&Stored> {
        pos.checked_sub(self.base)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.buf.get(i))
    }

    fn next_pos(&self) -> Pos {
        self.base + self.buf.len() as u64
    }

    /// Live runs plus pending completions.
    pub(crate) fn load(&self) -> usize {
        self.runs.len() + self.pending.len()
    }

    /// Nothing left that a future event could need.
    pub(crate) fn is_idle(&self) -> bool {
        self.runs.is_empty() && self.pending.is_empty() && self.buf.is_empty()
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
        mut cache: Option<&mut [u8]>,
    ) -> bool {
        list.iter().all(|&ci| {
            let Some(c) = ctx.nfa.conjs.get(ci as usize) else {
                return true;
            };
            if first_elem && c.uses_previous {
                return true;
            }
            if c.local {
                if let Some(slot) = cache.as_deref_mut().and_then(|c| c.get_mut(ci as usize)) {
                    if *slot == 0 {
                        *slot = if view.conj_holds(c) { 1 } else { 2 };
                    }
                    return *slot == 1;
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
            aggs: &run.aggs,
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
        cache: &mut [u8],
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
            let count = match run.binds.get(tk.var.index()) {
                Some(Bind::Many(l)) => l.len(),
                _ => 0,
            };
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
                base: (!path.orig).then(|| run.clone()),
                nots: path.nots.clone(),
                state,
                take: ti as u32,
            }));
        }
        for eps in &st.eps {
            match eps.kind {
                EpsKind::Plain => live |= self.explore(ctx, run, eps.target, ev, out, cache, path),
                EpsKind::Proceed { var, min } => {
                    let count = match run.binds.get(var.index()) {
                        Some(Bind::Many(l)) => l.len(),
                        _ => 0,
                    };
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
                        *b = Bind::Many(Vec::new());
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
                    lo: r.last,
                    hi: None,
                });
            }
            out.push(Outcome::Accept(r));
        }
        live
    }

    /// Builds the run of a take from `run` (the explored run, or the
    /// modified copy the step carried): the crossed `NOT` ranges opened and
    /// the event bound.
    fn apply(&self, ctx: &Ctx, mut run: Run, step: Step, pos: Pos, e: &Stored) -> Run {
        let Some(tk) = ctx
            .nfa
            .alts
            .get(run.alt as usize)
            .and_then(|a| a.states.get(step.state.0 as usize))
            .and_then(|s| s.takes.get(step.take as usize))
        else {
            return run;
        };
        for var in step.nots {
            run.nots.push(NotRange {
                var,
                lo: run.last,
                hi: None,
            });
        }
        if tk.kleene {
            for (slot, agg) in ctx.nfa.agg_slots.iter().zip(run.aggs.iter_mut()) {
                if slot.0 == tk.var {
                    let v = match slot.1 {
                        Some(f) => field_value(ctx.type_names, e, f),
                        None => Value::Bool(true),
                    };
                    agg.add(v);
                }
            }
        }
        if let Some(b) = run.binds.get_mut(tk.var.index()) {
            match (b, tk.kleene) {
                (Bind::Many(l), true) => l.push(pos),
                (b, true) => *b = Bind::Many(vec![pos]),
                (b, false) => *b = Bind::One(pos),
            }
        }
        run.state = tk.target;
        if run.first.is_none() {
            run.first = Some((pos, e.event.ts.0));
        }
        run.last = Some(pos);
        for n in &mut run.nots {
            if n.hi.is_none() {
                n.hi = Some(pos);
            }
        }
        run
    }

    /// True when `cand` is an event that negated variable `var` forbids.
    fn forbids(&self, ctx: &Ctx, run: &Run, var: VarId, cand: &Stored) -> bool {
        if ctx.nfa.var_types.get(var.index()) != Some(&cand.event.ty) {
            return false;
        }
        let view = View {
            part: self,
            binds: &run.binds,
            aggs: &run.aggs,
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
            .last
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

    fn positions(run: &Run) -> Vec<Pos> {
        let mut v = Vec::new();
        for b in &run.binds {
            match b {
                Bind::One(p) => v.push(*p),
                Bind::Many(l) => v.extend_from_slice(l),
                Bind::Unbound => {}
            }
        }
        v.sort_unstable();
        v
    }

    /// Feeds one event of S. Matches go to `out`.
    pub(crate) fn on_event(
        &mut self,
        ctx: &Ctx,
        seq: u64,
        event: Event,
        out: &mut Vec<Match>,
        stats: &mut StepStats,
        scratch: &mut Scratch,
    ) {
        let ts = event.ts.0;
        self.fire(ctx, Some(ts), out, stats);
        self.expire(ctx, ts);
        self.now = self.now.max(ts);
        let ty = event.ty;
        let pos = self.next_pos();
        self.buf.push_back(Stored { seq, event });
        let Some(stored) = self.buf.back().cloned() else {
            return;
        };
        let nfa = ctx.nfa;
        if nfa.negated.get(ty.index()).copied().unwrap_or(false) {
            let mut pending = std::mem::take(&mut self.pending);
            pending.retain(|p| {
                !(ts <= p.deadline
                    && pos > p.lo
                    && p.trailing
                        .iter()
                        .any(|v| self.forbids(ctx, &p.run, *v, &stored)))
            });
            self.pending = pending;
        }
        if nfa.never || !nfa.positive.get(ty.index()).copied().unwrap_or(false) {
            self.prune_buffer(ctx);
            return;
        }
        let Scratch {
            cache,
            outcomes,
            taken,
            next,
        } = scratch;
        cache.clear();
        cache.resize(nfa.conjs.len(), 0);
        next.clear();
        taken.clear();
        let mut runs = std::mem::take(&mut self.runs);
        let mut path = PathCtx::new();
        for run in runs.drain(..) {
            outcomes.clear();
            if reaches(ctx, &run, ty) {
                self.explore(
                    ctx,
                    &run,
                    run.state,
                    Some((pos, &stored)),
                    outcomes,
                    cache,
                    &mut path,
                );
            }
            let took = !outcomes.is_empty();
            let keep = match nfa.strategy {
                Strategy::SkipTillNextMatch => !took,
                Strategy::SkipTillAnyMatch => true,
                Strategy::StrictContiguity => false,
            };
            let n = outcomes.len();
            let mut owned = Some(run);
            for (i, o) in outcomes.drain(..).enumerate() {
                let Outcome::Take(mut step) = o else { continue };
                let base = match step.base.take() {
                    Some(b) => Some(b),
                    // The last fork of a run that is discarded takes it over.
                    None if !keep && i + 1 == n => owned.take(),
                    None => owned.clone(),
                };
                if let Some(base) = base {
                    taken.push(self.apply(ctx, base, step, pos, &stored));
                }
            }
            if keep {
                if let Some(run) = owned {
                    next.push(run);
                }
            }
        }
        for seed in ctx.seeds {
            outcomes.clear();
            if !reaches(ctx, seed, ty) {
                continue;
            }
            self.explore(
                ctx,
                seed,
                seed.state,
                Some((pos, &stored)),
                outcomes,
                cache,
                &mut path,
            );
            for o in outcomes.drain(..) {
                let Outcome::Take(mut step) = o else { continue };
                let base = step.base.take().unwrap_or_else(|| seed.clone());
                taken.push(self.apply(ctx, base, step, pos, &stored));
            }
        }
        let mut done = Vec::new();
        for run in taken.drain(..) {
            outcomes.clear();
            let live = self.explore(ctx, &run, run.state, None, outcomes, cache, &mut path);
            for o in outcomes.drain(..) {
                if let Outcome::Accept(r) = o {
                    self.complete(ctx, r, &mut done);
                }
            }
            if live {
                next.push(run);
            }
        }
        if next.len() > ctx.max_runs {
            stats.dropped_runs += (next.len() - ctx.max_runs) as u64;
            next.truncate(ctx.max_runs);
        }
        // Keep the old vector's capacity for the next event.
        self.runs = std::mem::replace(next, runs);
        self.emit_batch(ctx, done, out, stats);
        self.prune_buffer(ctx);
    }

    /// A run reached the accept state: check absences, then complete it now
    /// or park it until its trailing `NOT` window closes.
    fn complete(&mut self, ctx: &Ctx, run: Run, done: &mut Vec<Done>) {
        let (Some((first, first_ts)), Some(last)) = (run.first, run.last) else {
            return;
        };
        let Some(trailing) = self.check_nots(ctx, &run) else {
            return;
        };
        if trailing.is_empty() {
            let positions = Self::positions(&run);
            done.push(Done {
                order: (i64::MIN, first, positions),
                run,
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
    pub(crate) fn fire(
        &mut self,
        ctx: &Ctx,
        upto: Option<i64>,
        out: &mut Vec<Match>,
        stats: &mut StepStats,
    ) {
        if !self
            .pending
            .iter()
            .any(|p| upto.is_none_or(|u| p.deadline < u))
        {
            return;
        }
        let (due, keep): (Vec<Pending>, Vec<Pending>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| upto.is_none_or(|u| p.deadline < u));
        self.pending = keep;
        if due.is_empty() {
            return;
        }
        let done = due
            .into_iter()
            .map(|p| {
                let positions = Self::positions(&p.run);
                Done {
                    order: (p.deadline, p.run.first_pos(), positions),
                    run: p.run,
                }
            })
            .collect();
        self.emit_batch(ctx, done, out, stats);
    }

    /// Emits complete candidates in completion order, applying `AFTER MATCH`
    /// after each one.
    fn emit_batch(
        &mut self,
        ctx: &Ctx,
        mut done: Vec<Done>,
        out: &mut Vec<Match>,
        stats: &mut StepStats,
    ) {
        if done.is_empty() {
            return;
        }
        done.sort_by(|a, b| {
            a.order
                .cmp(&b.order)
                .then_with(|| a.run.binds.cmp(&b.run.binds))
                .then_with(|| a.run.alt.cmp(&b.run.alt))
        });
        // Two AND orders can produce the same binding (empty lists): once.
        done.dedup_by(|b, a| a.order == b.order && a.run.binds == b.run.binds);
        let mut pruned_first: Option<Pos> = None; // SKIP PAST: drop first <= this
        let mut dropped_starts: Vec<Pos> = Vec::new(); // SKIP TO NEXT
        for d in done {
            let first = d.run.first_pos();
            if pruned_first.is_some_and(|l| first <= l) || dropped_starts.contains(&first) {
                continue;
            }
            let last = d.order.2.last().copied().unwrap_or(first);
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
            let b = match &run.binds[i] {
                Bind::Unbound => Binding::None,
                Bind::One(p) => self.bound(*p).map_or(Binding::None, Binding::One),
                Bind::Many(l) => Binding::Many(l.iter().filter_map(|p| self.bound(*p)).collect()),
            };
            events.push((names.vars.get(i).cloned().unwrap_or_default(), b));
        }
        // The first and last bound positions, without collecting them all.
        let (mut lo, mut hi): (Option<Pos>, Option<Pos>) = (None, None);
        let mut see = |p: Pos| {
            lo = Some(lo.map_or(p, |l| l.min(p)));
            hi = Some(hi.map_or(p, |h| h.max(p)));
        };
        for b in &run.binds {
            match b {
                Bind::One(p) => see(*p),
                Bind::Many(l) => l.iter().copied().for_each(&mut see),
                Bind::Unbound => {}
            }
        }
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
                self.now = i64::MAX;
            }
        }
        self.prune_buffer(ctx);
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
    }
}
