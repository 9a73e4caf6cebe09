//! The compiler: one checked [`Pattern`] -> one [`Nfa`].
//!
//! `AND` groups are expanded at compile time into one *alternative* per
//! permutation of their members (LANGUAGE.md section 6: under skip till next
//! match `AND(x, y)` is the union of `SEQ(x, y)` and `SEQ(y, x)`); each
//! alternative is its own automaton and runs never move between them. `OR`
//! stays inside an automaton as a branching state, because under skip till
//! next match an event that fits any branch is takeable.
//!
//! Each alternative is a small graph (SASE+ NFA^b style):
//! - a *take* edge consumes one event: `begin` for a singleton or the first
//!   element of a Kleene list, `grow` for a further element (a self loop);
//! - epsilon edges move without an event: `proceed` leaves a Kleene state once
//!   its minimum is reached, `skip` binds an empty list to a `*`/`{0,..}`
//!   variable, `not` opens an absence range, plain edges enter and leave `OR`
//!   branches;
//! - *ignore* is not an edge but the strategy: skip till next match keeps a
//!   run whose state takes nothing of the event, skip till any match keeps it
//!   always, strict contiguity never.
//!
//! Every conjunct is attached to the edge where its last variable becomes
//! bound (push-down): iterative conjuncts of `t` to `t`'s take edges,
//! completion conjuncts of `t` to its `proceed`/`skip` edges, the rest to the
//! take edge of their last singleton. Conjuncts of a negated variable are
//! checked only by absence checks.

use crate::eval::{self, CExpr, NativeFn};
use dalal_lang::ast::{AfterMatch, Strategy};
use dalal_lang::typed::{AggFunc, FieldRef, Node, Pattern, TypeId, VarId, VarKind};
use std::fmt::Write as _;

/// Most alternatives an `AND` expansion may produce.
pub(crate) const MAX_ALTERNATIVES: usize = 720;

/// A state of one alternative: an index into its state table.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub(crate) struct StateId(pub u32);

impl StateId {
    fn index(self) -> usize {
        self.0 as usize
    }
}

/// A compiled pattern.
#[derive(Debug)]
pub(crate) struct Nfa {
    pub alts: Vec<Alt>,
    pub conjs: Vec<Conj>,
    /// Conjuncts of each negated variable (indexed by var).
    pub neg_conjs: Vec<Vec<u32>>,
    pub within: Option<i64>,
    pub strategy: Strategy,
    pub after_match: AfterMatch,
    pub emit: Vec<(String, CExpr)>,
    /// Per type id: appears positively.
    pub positive: Vec<bool>,
    /// Per type id: appears under `NOT`.
    pub negated: Vec<bool>,
    /// A constant conjunct is not true: nothing can match.
    pub never: bool,
    /// Some `NOT` can come before every bound event (a leading `NOT`): its
    /// check looks back from a run's first event, so partitions keep one
    /// extra window of events.
    pub leading_not: bool,
    /// Per type id: what an event of the type does to a partition with
    /// nothing in it (`Partition::wakes_fresh`), where that does not depend
    /// on the event's fields.
    pub fresh: Vec<Fresh>,
    pub var_kinds: Vec<VarKind>,
    pub var_types: Vec<TypeId>,
    pub var_names: Vec<String>,
    /// Every `(Kleene variable, field)` some aggregate reads: runs keep a
    /// running [`crate::eval::Summary`] for each, so `avg(t[..i-1].x)` costs
    /// O(1) per element instead of a pass over the list.
    pub agg_slots: Vec<(VarId, Option<dalal_lang::typed::FieldRef>)>,
    /// A plain sequence of singletons: one alternative whose states form a
    /// chain of single `begin` edges ending in the accept state, with no
    /// epsilon edge, `NOT`, Kleene variable or running aggregate. Such a
    /// pattern takes [`crate::partition::Partition`]'s direct step instead
    /// of the general exploration (same results, far less work per run).
    pub plain: bool,
    /// One alternative, no `NOT`, and every epsilon edge a Kleene `proceed`
    /// into a state with no epsilon edge of its own (sequences of
    /// singletons and Kleene variables with a minimum of at least one): a
    /// run's outcomes are its state's takes and those one `proceed` away,
    /// which [`crate::partition::Partition`]'s linear step enumerates
    /// directly instead of exploring.
    pub linear: bool,
    /// A counting pattern: `SEQ(T p{m,n})` (one Kleene element, `m >= 1`)
    /// whose conditions all read only the event being bound, under skip
    /// till next match or strict contiguity (which also allows `p[i-1]`:
    /// every live run took the previous event). Every live run then takes
    /// exactly the same events, so the runs differ only in where they start: [`crate::partition::Partition`]
    /// keeps them as start offsets into one shared list (O(1) per event
    /// instead of O(live runs)).
    pub counting: bool,
    /// One Kleene element and nothing else, `SEQ(T p{m,n})` with `m >= 1`
    /// and no condition on leaving the list (any conditions on its
    /// elements): every live run waits in the list's state, so
    /// [`crate::partition::Partition`]'s single-list step reads its one
    /// take and its one `proceed` directly instead of enumerating edges.
    pub single_list: bool,
}

/// A compiled conjunct.
#[derive(Debug)]
pub(crate) struct Conj {
    pub expr: CExpr,
    pub vars: Vec<VarId>,
    /// Iterative and reads `t[i-1]`/`t[..i-1]`: true for the first element.
    pub uses_previous: bool,
    /// Reads only the event being bound (one singleton, or `t[i]` of an
    /// iterative conjunct): its value depends on the event alone, so it is
    /// evaluated once per event for all runs.
    pub local: bool,
    pub text: String,
    /// The in-place form of a simple comparison (see [`eval::FastCmp`]).
    pub fast: Option<eval::FastCmp>,
}

#[derive(Debug, Default)]
pub(crate) struct Alt {
    pub states: Vec<State>,
    pub start: StateId,
    /// The order of the members of each `AND` in this alternative, for `explain`.
    pub label: String,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub takes: Vec<Take>,
    pub eps: Vec<Eps>,
    pub accept: bool,
    /// Event types some take edge reachable through epsilon edges accepts
    /// (sorted): a run in this state ignores every other type.
    pub reach: Vec<TypeId>,
}

/// Fills [`State::reach`] (the epsilon graph is acyclic).
fn compute_reach(states: &mut [State]) {
    fn visit(states: &[State], s: usize, memo: &mut Vec<Option<Vec<TypeId>>>) -> Vec<TypeId> {
        if let Some(r) = &memo[s] {
            return r.clone();
        }
        let mut r: Vec<TypeId> = states[s].takes.iter().map(|t| t.ty).collect();
        for e in &states[s].eps {
            r.extend(visit(states, e.target.index(), memo));
        }
        r.sort_unstable();
        r.dedup();
        memo[s] = Some(r.clone());
        r
    }
    let mut memo = vec![None; states.len()];
    for i in 0..states.len() {
        let r = visit(states, i, &mut memo);
        states[i].reach = r;
    }
}

#[derive(Debug)]
pub(crate) struct Take {
    pub var: VarId,
    pub ty: TypeId,
    /// A further element of a Kleene list (else the first element or a singleton).
    pub grow: bool,
    pub kleene: bool,
    pub max: Option<u32>,
    pub target: StateId,
    pub conjs: Vec<u32>,
    /// In a plain sequence ([`Nfa::plain`]) or a single list
    /// ([`Nfa::single_list`]): the first of `conjs` that compares the event
    /// being bound with what the run bound earlier (`b.price > a.price *
    /// 1.002`, `t[i].price > avg(t[..i-1].price)`), split so that a run
    /// computes its side once until it takes an event ([`eval::Split`]).
    pub hoist: Option<(u32, eval::Split)>,
    /// The conjunct of `hoist` when the run's side after a take along this
    /// edge is the event's side the take was tested with
    /// ([`eval::Split::carries`]): the step keeps it instead of reading it
    /// again at the next test.
    pub carries: Option<u32>,
    /// When `hoist`'s run side is a running aggregate of the list this
    /// take binds, read before the element being bound
    /// (`avg(t[..i-1].price)`; [`eval::Split::run_aggregate`]): the
    /// aggregate's function and kept state, from which a run's side is
    /// read (`Partition::hoisted`, and the single-list step's scan for the
    /// grow take). Never with `carries`: an aggregate is not a shifted field.
    pub kept_side: Option<(AggFunc, (VarId, Option<FieldRef>))>,
    /// The first element of a Kleene list (`kleene && !grow`) whose
    /// conjuncts all read `t[i-1]` or `t[..i-1]`, which are TRUE for a
    /// first element (`t[i].price > avg(t[..i-1].price)`): every event of
    /// the type starts a list, with nothing to evaluate.
    pub first_free: bool,
}

#[derive(Debug)]
pub(crate) enum EpsKind {
    Plain,
    Proceed { var: VarId, min: u32 },
    Skip { var: VarId },
    Not { var: VarId },
}

#[derive(Debug)]
pub(crate) struct Eps {
    pub kind: EpsKind,
    pub target: StateId,
    pub conjs: Vec<u32>,
}

/// A structure element after `AND` expansion.
#[derive(Clone, Debug)]
enum LNode {
    Var(VarId),
    Or(Vec<Vec<LNode>>),
}

/// Why a pattern cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NfaError {
    TooManyAlternatives,
    NoPositive,
}

fn expand_seq(nodes: &[Node], budget: usize) -> Result<Vec<Vec<LNode>>, NfaError> {
    let mut acc: Vec<Vec<LNode>> = vec![Vec::new()];
    for n in nodes {
        let opts = expand_node(n, budget)?;
        let mut next = Vec::new();
        for a in &acc {
            for o in &opts {
                let mut v = a.clone();
                v.extend(o.iter().cloned());
                next.push(v);
                if next.len() > budget {
                    return Err(NfaError::TooManyAlternatives);
                }
            }
        }
        acc = next;
    }
    Ok(acc)
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for i in 0..=p.len() {
            let mut q = p.clone();
            q.insert(i, n - 1);
            out.push(q);
        }
    }
    out.sort();
    out
}

fn expand_node(n: &Node, budget: usize) -> Result<Vec<Vec<LNode>>, NfaError> {
    match n {
        Node::Var(v) => Ok(vec![vec![LNode::Var(*v)]]),
        Node::Or(members) => {
            // One alternative per combination of member expansions; each an OR.
            let mut combos: Vec<Vec<Vec<LNode>>> = vec![Vec::new()];
            for m in members {
                let opts = expand_node(m, budget)?;
                let mut next = Vec::new();
                for c in &combos {
                    for o in &opts {
                        let mut c2 = c.clone();
                        c2.push(o.clone());
                        next.push(c2);
                        if next.len() > budget {
                            return Err(NfaError::TooManyAlternatives);
                        }
                    }
                }
                combos = next;
            }
            Ok(combos.into_iter().map(|bs| vec![LNode::Or(bs)]).collect())
        }
        Node::And(members) => {
            if members.len() > 6 {
                return Err(NfaError::TooManyAlternatives);
            }
            let mut out = Vec::new();
            for p in permutations(members.len()) {
                let ordered: Vec<Node> = p.iter().map(|&i| members[i].clone()).collect();
                out.extend(expand_seq(&ordered, budget)?);
                if out.len() > budget {
                    return Err(NfaError::TooManyAlternatives);
                }
            }
            Ok(out)
        }
    }
}

struct Builder<'a> {
    pat: &'a Pattern,
    states: Vec<State>,
}

impl Builder<'_> {
    fn new_state(&mut self) -> StateId {
        self.states.push(State::default());
        StateId::from(self.states.len() - 1)
    }

    fn eps(&mut self, from: StateId, kind: EpsKind, target: StateId) {
        self.states[from.index()].eps.push(Eps {
            kind,
            target,
            conjs: Vec::new(),
        });
    }

    fn seq(&mut self, items: &[LNode], mut at: StateId) -> StateId {
        for it in items {
            at = self.node(it, at);
        }
        at
    }

    fn node(&mut self, n: &LNode, from: StateId) -> StateId {
        match n {
            LNode::Var(v) => {
                let var = self.pat.var(*v);
                match var.kind {
                    VarKind::Single => {
                        let s = self.new_state();
                        self.states[from.index()].takes.push(Take {
                            var: *v,
                            ty: var.ty,
                            grow: false,
                            kleene: false,
                            max: Some(1),
                            target: s,
                            conjs: Vec::new(),
                            hoist: None,
                            carries: None,
                            kept_side: None,
                            first_free: false,
                        });
                        s
                    }
                    VarKind::Kleene { min, max } => {
                        let inside = self.new_state();
                        let after = self.new_state();
                        if max != Some(0) {
                            self.states[from.index()].takes.push(Take {
                                var: *v,
                                ty: var.ty,
                                grow: false,
                                kleene: true,
                                max,
                                target: inside,
                                conjs: Vec::new(),
                                hoist: None,
                                carries: None,
                                kept_side: None,
                                first_free: false,
                            });
                            if max != Some(1) {
                                self.states[inside.index()].takes.push(Take {
                                    var: *v,
                                    ty: var.ty,
                                    grow: true,
                                    kleene: true,
                                    max,
                                    target: inside,
                                    conjs: Vec::new(),
                                    hoist: None,
                                    carries: None,
                                    kept_side: None,
                                    first_free: false,
                                });
                            }
                            self.eps(inside, EpsKind::Proceed { var: *v, min }, after);
                        }
                        if min == 0 {
                            self.eps(from, EpsKind::Skip { var: *v }, after);
                        }
                        after
                    }
                    VarKind::Negated => {
                        let s = self.new_state();
                        self.eps(from, EpsKind::Not { var: *v }, s);
                        s
                    }
                }
            }
            LNode::Or(branches) => {
                let after = self.new_state();
                for b in branches {
                    let start = self.new_state();
                    self.eps(from, EpsKind::Plain, start);
                    let end = self.seq(b, start);
                    self.eps(end, EpsKind::Plain, after);
                }
                after
            }
        }
    }
}

impl From<usize> for StateId {
    fn from(i: usize) -> Self {
        StateId(u32::try_from(i).unwrap_or(u32::MAX))
    }
}

fn order_vars(items: &[LNode], out: &mut Vec<VarId>) {
    for it in items {
        match it {
            LNode::Var(v) => out.push(*v),
            LNode::Or(bs) => {
                for b in bs {
                    order_vars(b, out);
                }
            }
        }
    }
}

/// Compiles one checked pattern.
pub(crate) fn compile(
    pat: &Pattern,
    type_count: usize,
    natives: &dyn Fn(&str) -> Option<NativeFn>,
) -> Result<Nfa, NfaError> {
    let mut conjs = Vec::new();
    let mut neg_conjs = vec![Vec::new(); pat.vars.len()];
    let mut never = false;
    for c in &pat.conjuncts {
        let expr = eval::compile(&c.expr, natives);
        let uses_previous = c.iterative.is_some_and(|t| expr.uses_previous(t));
        if c.vars.is_empty() {
            if let CExpr::Const(v) = &expr {
                never |= *v != crate::Value::Bool(true);
            }
        }
        let idx = conjs.len() as u32;
        if let Some(n) = c.negated {
            if let Some(list) = neg_conjs.get_mut(n.index()) {
                list.push(idx);
            }
        }
        let local = match (c.vars.as_slice(), c.iterative, c.negated) {
            ([v], None, None) => {
                pat.vars.get(v.index()).map(|x| x.kind) == Some(VarKind::Single)
                    && expr.reads_only_current(*v)
            }
            ([v], Some(t), None) => *v == t && expr.reads_only_current(t),
            _ => false,
        };
        conjs.push(Conj {
            local,
            fast: eval::FastCmp::from_expr(&expr),
            expr,
            vars: c.vars.clone(),
            uses_previous,
            text: c.text.clone(),
        });
    }
    let mut positive = vec![false; type_count];
    let mut negated = vec![false; type_count];
    for v in &pat.vars {
        let slot = match v.kind {
            VarKind::Negated => negated.get_mut(v.ty.index()),
            _ => positive.get_mut(v.ty.index()),
        };
        if let Some(s) = slot {
            *s = true;
        }
    }
    if !positive.iter().any(|&p| p) {
        return Err(NfaError::NoPositive);
    }
    let mut alts = Vec::new();
    for items in expand_seq(&pat.seq, MAX_ALTERNATIVES)? {
        let mut b = Builder {
            pat,
            states: Vec::new(),
        };
        let start = b.new_state();
        let end = b.seq(&items, start);
        b.states[end.index()].accept = true;
        let mut order = Vec::new();
        order_vars(&items, &mut order);
        let rank = |v: VarId| order.iter().position(|x| *x == v).unwrap_or(usize::MAX);
        let mut states = b.states;
        compute_reach(&mut states);
        for (ci, c) in pat.conjuncts.iter().enumerate() {
            let ci = ci as u32;
            if c.negated.is_some() || c.vars.is_empty() {
                continue;
            }
            if let Some(t) = c.iterative {
                for s in &mut states {
                    for tk in &mut s.takes {
                        if tk.var == t {
                            tk.conjs.push(ci);
                        }
                    }
                }
                continue;
            }
            let Some(&last) = c.vars.iter().max_by_key(|v| rank(**v)) else {
                continue;
            };
            for s in &mut states {
                for tk in &mut s.takes {
                    if tk.var == last && !tk.kleene {
                        tk.conjs.push(ci);
                    }
                }
                for e in &mut s.eps {
                    match e.kind {
                        EpsKind::Proceed { var, .. } | EpsKind::Skip { var } if var == last => {
                            e.conjs.push(ci);
                        }
                        _ => {}
                    }
                }
            }
        }
        let label = order
            .iter()
            .map(|v| pat.var(*v).name.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        alts.push(Alt {
            states,
            start,
            label,
        });
    }
    let emit: Vec<(String, CExpr)> = pat
        .emit
        .iter()
        .map(|e| (e.name.clone(), eval::compile(&e.expr, natives)))
        .collect();
    // Running aggregates only for what conditions read at every step. An
    // aggregate only `EMIT` reads is folded over the list once, when a match
    // is emitted: keeping it running would cost every step of every run
    // (most of which never match), for the same value (the fold adds the
    // same elements in the same order).
    let mut agg_slots = Vec::new();
    for c in &conjs {
        c.expr.agg_inputs(&mut agg_slots);
    }
    let leading_not = alts.iter().any(|a| {
        // Epsilon edges only: no event bound yet.
        let mut stack = vec![a.start];
        let mut seen = vec![false; a.states.len()];
        while let Some(st) = stack.pop() {
            let Some(state) = a.states.get(st.index()) else {
                continue;
            };
            if std::mem::replace(&mut seen[st.index()], true) {
                continue;
            }
            for e in &state.eps {
                if matches!(e.kind, EpsKind::Not { .. }) {
                    return true;
                }
                stack.push(e.target);
            }
        }
        false
    });
    let plain = alts.len() == 1
        && !negated.iter().any(|&n| n)
        && agg_slots.is_empty()
        && alts.first().is_some_and(is_chain);
    let linear = alts.len() == 1
        && !negated.iter().any(|&n| n)
        && alts.first().is_some_and(|a| {
            a.states.iter().all(|st| {
                st.eps.iter().all(|e| {
                    matches!(e.kind, EpsKind::Proceed { .. })
                        && a.states
                            .get(e.target.index())
                            .is_some_and(|t| t.eps.is_empty())
                })
            })
        });
    let counting = linear
        && agg_slots.is_empty()
        && matches!(
            pat.strategy,
            Strategy::SkipTillNextMatch | Strategy::StrictContiguity
        )
        && alts
            .first()
            .is_some_and(|a| is_counting(a, &conjs, pat.strategy == Strategy::StrictContiguity));
    let single_list = linear && alts.first().is_some_and(is_single_list);
    for tk in alts
        .iter_mut()
        .flat_map(|a| a.states.iter_mut())
        .flat_map(|st| st.takes.iter_mut())
    {
        tk.first_free = tk.kleene
            && !tk.grow
            && tk
                .conjs
                .iter()
                .all(|&ci| conjs.get(ci as usize).is_some_and(|c| c.uses_previous));
    }
    // Under strict contiguity a run meets one event and moves on or ends,
    // so its side would be computed for a single test: no gain. The steps
    // that read the hoist are the plain and the single-list ones.
    if (plain || single_list) && pat.strategy != Strategy::StrictContiguity {
        for tk in alts
            .iter_mut()
            .flat_map(|a| a.states.iter_mut())
            .flat_map(|st| st.takes.iter_mut())
        {
            tk.hoist = tk.conjs.iter().find_map(|&ci| {
                let c = conjs.get(ci as usize)?;
                let split = c.fast.as_ref()?.split(tk.var)?;
                Some((ci, split))
            });
            tk.carries = tk
                .hoist
                .as_ref()
                .filter(|(_, split)| tk.grow && split.carries(tk.var))
                .map(|(ci, _)| *ci);
            tk.kept_side = tk
                .hoist
                .as_ref()
                .and_then(|(_, split)| split.run_aggregate(tk.var));
        }
    }
    let fresh = fresh_table(
        &alts,
        type_count,
        leading_not,
        &negated,
        &positive,
        never,
        plain || linear,
    );
    Ok(Nfa {
        plain,
        linear,
        counting,
        single_list,
        leading_not,
        fresh,
        alts,
        conjs,
        neg_conjs,
        within: pat.within,
        strategy: pat.strategy,
        after_match: pat.after_match,
        emit,
        positive,
        negated,
        never,
        var_kinds: pat.vars.iter().map(|v| v.kind).collect(),
        var_types: pat.vars.iter().map(|v| v.ty).collect(),
        var_names: pat.vars.iter().map(|v| v.name.clone()).collect(),
        agg_slots,
    })
}

/// What an event of one type does to an empty partition
/// ([`Nfa::fresh`]), decided once per pattern: over 5,000 symbols the
/// library asks it ~2.4 times an event, and the answer rarely depends on
/// the event's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fresh {
    /// Nothing: the type takes no first edge (or only appears under a
    /// `NOT` that is not leading, or the pattern never matches).
    Never,
    /// It starts a run (a first edge of the type with no condition that a
    /// first element evaluates), or it may be read by a leading `NOT`, or
    /// the automaton has no direct step (conservative).
    Always,
    /// It depends on the first edge's conditions: evaluate them.
    Check,
}

/// [`Nfa::fresh`]: for each type, the answer of `Partition::wakes_fresh`
/// when it does not depend on the event. Seeds wait at their alternative's
/// start state, so this is read off the start states' edges.
fn fresh_table(
    alts: &[Alt],
    type_count: usize,
    leading_not: bool,
    negated: &[bool],
    positive: &[bool],
    never: bool,
    direct: bool,
) -> Vec<Fresh> {
    (0..type_count)
        .map(|t| {
            let ty = TypeId::from_index(t);
            if leading_not && negated.get(t).copied().unwrap_or(false) {
                return Fresh::Always;
            }
            if never || !positive.get(t).copied().unwrap_or(false) {
                return Fresh::Never;
            }
            let mut check = false;
            for alt in alts {
                let Some(st) = alt.states.get(alt.start.index()) else {
                    continue;
                };
                if !st.reach.contains(&ty) {
                    continue;
                }
                if !direct {
                    return Fresh::Always;
                }
                for tk in st.takes.iter().filter(|tk| tk.ty == ty) {
                    if tk.conjs.is_empty() || tk.first_free {
                        return Fresh::Always;
                    }
                    check = true;
                }
            }
            if check { Fresh::Check } else { Fresh::Never }
        })
        .collect()
}

/// Whether the states of `alt` from its start are a chain of single
/// non-Kleene `begin` edges ending in an accept state with no way out, and
/// nothing else (see [`Nfa::plain`]).
fn is_chain(alt: &Alt) -> bool {
    let mut at = alt.start;
    // Each step moves to a state not seen before (takes only go forward in
    // a chain), so the walk ends within states.len() steps.
    for _ in 0..=alt.states.len() {
        let Some(st) = alt.states.get(at.index()) else {
            return false;
        };
        if !st.eps.is_empty() {
            return false;
        }
        if st.accept {
            return st.takes.is_empty();
        }
        match st.takes.as_slice() {
            [tk] if !tk.kleene && !tk.grow && tk.target.0 > at.0 => at = tk.target,
            _ => return false,
        }
    }
    false
}

/// Whether `alt` is `start --begin p--> s1`, `s1 --grow p--> s1`,
/// `s1 --proceed p (count >= m)--> accept` with `m >= 1`, both takes of one
/// type under the same conjuncts, each of which reads only the event being
/// bound (under `strict` contiguity, or also `p[i-1]`: every live run then
/// took the previous event), and no condition on the `proceed` (see
/// [`Nfa::counting`]).
fn is_single_list(alt: &Alt) -> bool {
    list_shape(alt).is_some()
}

/// The begin take, the grow take and the `proceed` of a single-list
/// automaton (see [`Nfa::single_list`]), if `alt` is one.
pub(crate) fn list_shape(alt: &Alt) -> Option<(&Take, &Take, &Eps)> {
    let s0 = alt.states.get(alt.start.index())?;
    let ([begin], []) = (s0.takes.as_slice(), s0.eps.as_slice()) else {
        return None;
    };
    let s1 = alt.states.get(begin.target.index())?;
    let ([grow], [proceed]) = (s1.takes.as_slice(), s1.eps.as_slice()) else {
        return None;
    };
    let acc = alt.states.get(proceed.target.index())?;
    let EpsKind::Proceed { var, min } = proceed.kind else {
        return None;
    };
    let ok = begin.kleene
        && !begin.grow
        && grow.grow
        && grow.target == begin.target
        && begin.target != alt.start
        && var == begin.var
        && grow.var == begin.var
        && grow.ty == begin.ty
        && min >= 1
        && proceed.conjs.is_empty()
        && !s0.accept
        && !s1.accept
        && acc.accept
        && acc.takes.is_empty()
        && acc.eps.is_empty();
    ok.then_some((begin, grow, proceed))
}

/// [`list_shape`]'s edges without its checks, for the steps of an automaton
/// the compiler has found to have the shape ([`Nfa::single_list`],
/// [`Nfa::counting`]): the checks cost ~70 instructions per event.
pub(crate) fn list_edges(alt: &Alt) -> Option<(&Take, &Take, &Eps)> {
    let s0 = alt.states.get(alt.start.index())?;
    let begin = s0.takes.first()?;
    let s1 = alt.states.get(begin.target.index())?;
    Some((begin, s1.takes.first()?, s1.eps.first()?))
}

fn is_counting(alt: &Alt, conjs: &[Conj], strict: bool) -> bool {
    let Some((begin, grow, proceed)) = list_shape(alt) else {
        return false;
    };
    let EpsKind::Proceed { var, min } = proceed.kind else {
        return false;
    };
    grow.max.is_none_or(|n| n >= min)
        && begin.conjs == grow.conjs
        && begin.conjs.iter().all(|&c| {
            conjs.get(c as usize).is_some_and(|c| {
                (c.local && !c.uses_previous)
                    || (strict
                        && c.uses_previous
                        && c.vars.as_slice() == [var]
                        && c.expr.reads_only_current_and_previous(var))
            })
        })
}

impl Nfa {
    /// The text dump behind [`crate::Program::explain`].
    pub(crate) fn explain(&self, name: &str, type_names: &[std::sync::Arc<str>]) -> String {
        let mut s = String::new();
        let ty = |t: TypeId| type_names.get(t.index()).map_or("?", |n| &**n).to_string();
        let var = |v: VarId| self.var_names.get(v.index()).cloned().unwrap_or_default();
        let conjs = |list: &[u32]| -> String {
            if list.is_empty() {
                return String::new();
            }
            let texts: Vec<&str> = list
                .iter()
                .filter_map(|c| self.conjs.get(*c as usize).map(|c| c.text.as_str()))
                .collect();
            format!("  where {}", texts.join(" AND "))
        };
        let _ = writeln!(
            s,
            "pattern {name}: {} alternative(s), strategy {}, after match {}, within {}",
            self.alts.len(),
            self.strategy.keywords(),
            self.after_match.keywords(),
            self.within
                .map_or("none".to_string(), |w| format!("{}ms", w as f64 / 1e6))
        );
        for (ai, alt) in self.alts.iter().enumerate() {
            let _ = writeln!(
                s,
                "alternative {ai} ({}): start s{}",
                alt.label, alt.start.0
            );
            for (si, st) in alt.states.iter().enumerate() {
                let _ = writeln!(s, "  s{si}{}", if st.accept { " (accept)" } else { "" });
                for t in &st.takes {
                    let kind = if t.grow { "grow" } else { "begin" };
                    let bound = match (t.kleene, t.max) {
                        (true, Some(m)) => format!(" (while count < {m})"),
                        _ => String::new(),
                    };
                    let _ = writeln!(
                        s,
                        "    --{kind} {} {}{bound}--> s{}{}",
                        ty(t.ty),
                        var(t.var),
                        t.target.0,
                        conjs(&t.conjs)
                    );
                }
                for e in &st.eps {
                    let kind = match e.kind {
                        EpsKind::Plain => "eps".to_string(),
                        EpsKind::Proceed { var: v, min } => {
                            format!("proceed {} (count >= {min})", var(v))
                        }
                        EpsKind::Skip { var: v } => format!("skip {} (empty)", var(v)),
                        EpsKind::Not { var: v } => {
                            format!(
                                "not {} {}{}",
                                ty(self.var_types[v.index()]),
                                var(v),
                                conjs(&self.neg_conjs[v.index()])
                            )
                        }
                    };
                    let _ = writeln!(s, "    --{kind}--> s{}{}", e.target.0, conjs(&e.conjs));
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutations_are_all_orders() {
        assert_eq!(permutations(2), vec![vec![0, 1], vec![1, 0]]);
        assert_eq!(permutations(3).len(), 6);
    }
}
