//! Section 6 of LANGUAGE.md, by enumeration: every binding of every
//! linearization of the structure, filtered by the candidate rules, the
//! strategy, then ordered by completion point and pruned by AFTER MATCH.

use std::collections::BTreeMap;

use dalal_lang::ast::{AfterMatch, Strategy};
use dalal_lang::typed::{Conjunct, Node, Pattern, Program, TypeId, VarId, VarKind};

use super::eval::{Ctx, mentions_previous};
use super::{Bound, RVal, RefEvent, RefMatch};

/// `binding[v]`: `None` unbound (negated, untaken OR branch, not reached),
/// `Some(positions)` bound (one position for a singleton, any for Kleene).
type Binding = Vec<Option<Vec<usize>>>;

/// One position of a linearized structure: the variable bound there and,
/// for an `OR`, every branch (the alternatives an event could take).
#[derive(Clone, Debug)]
struct Slot {
    var: VarId,
    alts: Vec<VarId>,
}

/// Before OR branches are chosen.
#[derive(Clone, Debug)]
enum Elem {
    Var(VarId),
    Or(Vec<VarId>),
}

/// Runs the reference on the whole input (events in arrival order,
/// `events[i].arrival == i`). Matches come partition by partition (in order
/// of each partition's first event), each partition in emission order.
pub fn run(
    program: &Program,
    pat_idx: usize,
    events: &[RefEvent],
) -> Result<Vec<RefMatch>, String> {
    let pat = &program.patterns[pat_idx];
    let plans = plans(pat)?;
    // Partition, keeping arrival order inside each partition.
    let mut keys: Vec<String> = Vec::new();
    let mut parts: BTreeMap<String, Vec<RefEvent>> = BTreeMap::new();
    for ev in events {
        let Some(j) = pat.routed_types.iter().position(|t| *t == ev.ty) else {
            continue;
        };
        let key = pat
            .partition_by
            .iter()
            .map(|k| {
                let f = k.fields[j];
                Ctx {
                    pat,
                    events: std::slice::from_ref(ev),
                    binding: &[],
                    iter: None,
                }
                .field_value(0, f)
                .key_part()
            })
            .collect::<Vec<_>>()
            .join("|");
        let key = format!("{}/{key}", pat.name);
        if !parts.contains_key(&key) {
            keys.push(key.clone());
        }
        parts.entry(key).or_default().push(ev.clone());
    }
    let mut out = Vec::new();
    for key in keys {
        let mut s = parts.remove(&key).unwrap_or_default();
        // Stable: equal timestamps keep arrival order.
        s.sort_by_key(|e| e.ts);
        out.extend(partition(pat, &plans, &s, &key)?);
    }
    Ok(out)
}

/// Every linearization (AND permutations expanded), then every OR choice.
fn plans(pat: &Pattern) -> Result<Vec<Vec<Slot>>, String> {
    let mut lins: Vec<Vec<Elem>> = vec![Vec::new()];
    for node in &pat.seq {
        let alts = linearize(pat, node, true)?;
        let mut next = Vec::new();
        for prefix in &lins {
            for a in &alts {
                let mut l = prefix.clone();
                l.extend(a.iter().cloned());
                next.push(l);
            }
        }
        lins = next;
    }
    let mut plans = Vec::new();
    for lin in lins {
        let mut acc: Vec<Vec<Slot>> = vec![Vec::new()];
        for e in &lin {
            let choices: Vec<Slot> = match e {
                Elem::Var(v) => vec![Slot {
                    var: *v,
                    alts: vec![*v],
                }],
                Elem::Or(vs) => vs
                    .iter()
                    .map(|v| Slot {
                        var: *v,
                        alts: vs.clone(),
                    })
                    .collect(),
            };
            let mut next = Vec::new();
            for prefix in &acc {
                for c in &choices {
                    let mut p = prefix.clone();
                    p.push(c.clone());
                    next.push(p);
                }
            }
            acc = next;
        }
        plans.extend(acc);
    }
    Ok(plans)
}

fn linearize(pat: &Pattern, node: &Node, top: bool) -> Result<Vec<Vec<Elem>>, String> {
    match node {
        Node::Var(v) => {
            if !top && pat.var(*v).kind == VarKind::Negated {
                return Err("NOT inside AND/OR is not modelled by the reference".into());
            }
            Ok(vec![vec![Elem::Var(*v)]])
        }
        Node::Or(members) => {
            let mut vars = Vec::new();
            for m in members {
                match m {
                    Node::Var(v) if pat.var(*v).kind != VarKind::Negated => vars.push(*v),
                    _ => {
                        return Err(
                            "OR members other than positive variables are not modelled".into()
                        );
                    }
                }
            }
            Ok(vec![vec![Elem::Or(vars)]])
        }
        Node::And(members) => {
            let lins: Vec<Vec<Vec<Elem>>> = members
                .iter()
                .map(|m| linearize(pat, m, false))
                .collect::<Result<_, _>>()?;
            let mut out = Vec::new();
            for perm in permutations(members.len()) {
                let mut acc: Vec<Vec<Elem>> = vec![Vec::new()];
                for &i in &perm {
                    let mut next = Vec::new();
                    for prefix in &acc {
                        for a in &lins[i] {
                            let mut l = prefix.clone();
                            l.extend(a.iter().cloned());
                            next.push(l);
                        }
                    }
                    acc = next;
                }
                out.extend(acc);
            }
            Ok(out)
        }
    }
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
    out
}

struct Part<'a> {
    pat: &'a Pattern,
    s: &'a [RefEvent],
    /// Is `s[i]` in S+ (its type appears positively)?
    plus: Vec<bool>,
}

impl Part<'_> {
    fn ctx<'b>(
        &'b self,
        binding: &'b [Option<Vec<usize>>],
        iter: Option<(VarId, usize)>,
    ) -> Ctx<'b> {
        Ctx {
            pat: self.pat,
            events: self.s,
            binding,
            iter,
        }
    }

    fn is_true(
        &self,
        binding: &Binding,
        c: &Conjunct,
        iter: Option<(VarId, usize)>,
    ) -> Result<bool, String> {
        Ok(matches!(
            self.ctx(binding, iter).eval(&c.expr)?,
            RVal::Bool(true)
        ))
    }

    /// A conjunct over a full (or hypothetical) binding: iterative ones for
    /// every element, the first element exempt from `t[i-1]`/`t[..i-1]` ones.
    fn conjunct_holds(&self, binding: &Binding, c: &Conjunct) -> Result<bool, String> {
        match c.iterative {
            Some(t) => {
                let n = binding[t.index()].as_ref().map_or(0, Vec::len);
                for i in 0..n {
                    if i == 0 && mentions_previous(&c.expr, t) {
                        continue;
                    }
                    if !self.is_true(binding, c, Some((t, i)))? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            None => self.is_true(binding, c, None),
        }
    }

    fn all_bound(binding: &Binding, c: &Conjunct) -> bool {
        c.vars.iter().all(|v| binding[v.index()].is_some())
    }

    fn within_ok(&self, first: i64, ts: i64) -> bool {
        self.pat.within.is_none_or(|w| ts - first <= w)
    }
}

/// A candidate that survived the strategy, with its order key.
struct Found {
    key: (usize, usize, Vec<usize>),
    binding: Binding,
}

fn partition(
    pat: &Pattern,
    plans: &[Vec<Slot>],
    s: &[RefEvent],
    key: &str,
) -> Result<Vec<RefMatch>, String> {
    let positive: Vec<TypeId> = pat
        .vars
        .iter()
        .filter(|v| v.kind != VarKind::Negated)
        .map(|v| v.ty)
        .collect();
    let part = Part {
        pat,
        s,
        plus: s.iter().map(|e| positive.contains(&e.ty)).collect(),
    };
    let mut found: BTreeMap<Binding, (usize, usize, Vec<usize>)> = BTreeMap::new();
    for plan in plans {
        let mut bindings = Vec::new();
        let mut b: Binding = vec![None; pat.vars.len()];
        enumerate(&part, plan, 0, 0, None, &mut b, &mut bindings);
        for b in bindings {
            if found.contains_key(&b) {
                continue;
            }
            let Some(cp) = candidate(&part, plan, &b)? else {
                continue;
            };
            let ok = match pat.strategy {
                Strategy::SkipTillAnyMatch => true,
                Strategy::StrictContiguity => strict_ok(&part, &b),
                Strategy::SkipTillNextMatch => next_ok(&part, plan, &b)?,
            };
            if ok {
                let pos = positions(&b);
                found.insert(b, (cp, pos[0], pos));
            }
        }
    }
    let mut cands: Vec<Found> = found
        .into_iter()
        .map(|(binding, key)| Found { key, binding })
        .collect();
    // Completion point, first event, positions; the binding breaks the
    // remaining ties deterministically (the contract leaves them open).
    cands.sort_by(|a, b| a.key.cmp(&b.key).then_with(|| a.binding.cmp(&b.binding)));
    let mut alive = vec![true; cands.len()];
    let mut out = Vec::new();
    for i in 0..cands.len() {
        if !alive[i] {
            continue;
        }
        let (first, last) = {
            let p = &cands[i].key.2;
            (p[0], p[p.len() - 1])
        };
        for j in i + 1..cands.len() {
            let fj = cands[j].key.1;
            let drop = match pat.after_match {
                AfterMatch::SkipPastLastEvent => fj <= last,
                AfterMatch::SkipToNextEvent => fj == first,
                AfterMatch::NoSkip => false,
            };
            if drop {
                alive[j] = false;
            }
        }
        out.push(to_match(&part, &cands[i], key)?);
    }
    Ok(out)
}

fn to_match(part: &Part<'_>, f: &Found, key: &str) -> Result<RefMatch, String> {
    let pat = part.pat;
    let arr = |p: usize| part.s[p].arrival;
    let mut vars = Vec::new();
    for (i, v) in pat.vars.iter().enumerate() {
        let Some(list) = &f.binding[i] else { continue };
        match v.kind {
            VarKind::Single => vars.push((v.name.clone(), Bound::One(arr(list[0])))),
            VarKind::Kleene { .. } => vars.push((
                v.name.clone(),
                Bound::List(list.iter().map(|p| arr(*p)).collect()),
            )),
            VarKind::Negated => {}
        }
    }
    let ctx = part.ctx(&f.binding, None);
    let emits = pat
        .emit
        .iter()
        .map(|e| Ok((e.name.clone(), ctx.eval(&e.expr)?)))
        .collect::<Result<Vec<_>, String>>()?;
    Ok(RefMatch {
        key: key.to_string(),
        vars,
        emits,
        order: f.key.clone(),
        known: if f.key.0 % 2 == 1 {
            Err(part.s[f.key.1].ts + pat.within.unwrap_or(0))
        } else {
            Ok(arr(f.key.0 / 2))
        },
    })
}

/// Bound positive positions in stream order.
fn positions(b: &Binding) -> Vec<usize> {
    let mut p: Vec<usize> = b.iter().flatten().flatten().copied().collect();
    p.sort_unstable();
    p
}

/// Every binding of `plan` whose events are in stream order and inside
/// WITHIN of the first one (a necessary condition, used to prune).
fn enumerate(
    part: &Part<'_>,
    plan: &[Slot],
    slot: usize,
    next: usize,
    first_ts: Option<i64>,
    b: &mut Binding,
    out: &mut Vec<Binding>,
) {
    if slot == plan.len() {
        if b.iter().flatten().any(|l| !l.is_empty()) {
            out.push(b.clone());
        }
        return;
    }
    let v = plan[slot].var;
    let var = part.pat.var(v);
    let n = part.s.len();
    let fits = |p: usize| {
        part.s[p].ty == var.ty && first_ts.is_none_or(|f| part.within_ok(f, part.s[p].ts))
    };
    match var.kind {
        VarKind::Negated => enumerate(part, plan, slot + 1, next, first_ts, b, out),
        VarKind::Single => {
            for p in next..n {
                if fits(p) {
                    b[v.index()] = Some(vec![p]);
                    enumerate(
                        part,
                        plan,
                        slot + 1,
                        p + 1,
                        first_ts.or(Some(part.s[p].ts)),
                        b,
                        out,
                    );
                }
            }
            b[v.index()] = None;
        }
        VarKind::Kleene { min, max } => {
            let mut list = Vec::new();
            kleene(
                part,
                plan,
                slot,
                next,
                first_ts,
                min as usize,
                max.map(|m| m as usize),
                &mut list,
                b,
                out,
            );
            b[v.index()] = None;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn kleene(
    part: &Part<'_>,
    plan: &[Slot],
    slot: usize,
    start: usize,
    first_ts: Option<i64>,
    min: usize,
    max: Option<usize>,
    list: &mut Vec<usize>,
    b: &mut Binding,
    out: &mut Vec<Binding>,
) {
    let v = plan[slot].var;
    let ty = part.pat.var(v).ty;
    if list.len() >= min {
        b[v.index()] = Some(list.clone());
        enumerate(part, plan, slot + 1, start, first_ts, b, out);
    }
    if max.is_none_or(|m| list.len() < m) {
        for p in start..part.s.len() {
            let ts = part.s[p].ts;
            if part.s[p].ty == ty && first_ts.is_none_or(|f| part.within_ok(f, ts)) {
                list.push(p);
                kleene(
                    part,
                    plan,
                    slot,
                    p + 1,
                    first_ts.or(Some(ts)),
                    min,
                    max,
                    list,
                    b,
                    out,
                );
                list.pop();
            }
        }
    }
}

/// Rules 1-3 of a candidate. `Some(completion point)` when it is one.
fn candidate(part: &Part<'_>, plan: &[Slot], b: &Binding) -> Result<Option<usize>, String> {
    let pat = part.pat;
    let is_untaken = |v: &VarId| pat.var(*v).kind != VarKind::Negated && b[v.index()].is_none();
    // 1. WHERE.
    for c in &pat.conjuncts {
        if c.negated.is_some() || c.vars.iter().any(is_untaken) {
            continue;
        }
        if !part.conjunct_holds(b, c)? {
            return Ok(None);
        }
    }
    // 2. WITHIN.
    let pos = positions(b);
    let (first, last) = (pos[0], pos[pos.len() - 1]);
    let (first_ts, last_ts) = (part.s[first].ts, part.s[last].ts);
    if !part.within_ok(first_ts, last_ts) {
        return Ok(None);
    }
    // 3. NOT.
    let mut trailing = false;
    for (k, slot) in plan.iter().enumerate() {
        let n = slot.var;
        if pat.var(n).kind != VarKind::Negated {
            continue;
        }
        let before = plan[..k]
            .iter()
            .filter_map(|s| b[s.var.index()].as_ref())
            .flatten()
            .max()
            .copied();
        let after = plan[k + 1..]
            .iter()
            .filter_map(|s| b[s.var.index()].as_ref())
            .flatten()
            .min()
            .copied();
        let region: Vec<usize> = match (before, after) {
            (Some(x), Some(y)) => (x + 1..y).collect(),
            (Some(x), None) => {
                trailing = true;
                (x + 1..part.s.len())
                    .filter(|&p| part.within_ok(first_ts, part.s[p].ts))
                    .collect()
            }
            (None, Some(y)) => (0..y)
                .filter(|&p| pat.within.is_none_or(|w| part.s[p].ts >= last_ts - w))
                .collect(),
            (None, None) => return Err("a binding with no event".into()),
        };
        let conds: Vec<&Conjunct> = pat
            .conjuncts
            .iter()
            .filter(|c| c.negated == Some(n))
            .collect();
        for p in region {
            if part.s[p].ty != pat.var(n).ty {
                continue;
            }
            let mut hyp = b.clone();
            hyp[n.index()] = Some(vec![p]);
            let mut all = true;
            for c in &conds {
                if c.vars.iter().any(is_untaken) {
                    continue;
                }
                if c.iterative.is_some() {
                    return Err(
                        "an iterative conjunct on a negated variable is not modelled".into(),
                    );
                }
                if !part.is_true(&hyp, c, None)? {
                    all = false;
                    break;
                }
            }
            if all {
                return Ok(None);
            }
        }
    }
    // The completion point as 2 * position + phase: a match completes *at*
    // its last bound event (phase 0); with a trailing NOT it completes
    // *after* the last event with ts <= ts(first) + WITHIN (phase 1), so
    // after every match completing at that same event. A streaming engine
    // cannot know that an event is the last one inside the window before a
    // later event (or the end) arrives, so the contract's "ties by first
    // event" can only apply among matches of the same phase.
    let cp = if trailing {
        let j = (0..part.s.len())
            .rev()
            .find(|&p| part.within_ok(first_ts, part.s[p].ts))
            .unwrap_or(last);
        2 * j + 1
    } else {
        2 * last
    };
    Ok(Some(cp))
}

fn strict_ok(part: &Part<'_>, b: &Binding) -> bool {
    let rank: Vec<usize> = part
        .plus
        .iter()
        .scan(0usize, |n, &p| {
            let r = *n;
            if p {
                *n += 1;
            }
            Some(r)
        })
        .collect();
    positions(b)
        .windows(2)
        .all(|w| rank[w[1]] == rank[w[0]] + 1)
}

/// SKIP TILL NEXT MATCH: every S+ event between consecutive bound events p,
/// q was not takeable at p.
fn next_ok(part: &Part<'_>, plan: &[Slot], b: &Binding) -> Result<bool, String> {
    // (position, slot, index in the slot's list), in stream order.
    let mut bound = Vec::new();
    for (k, s) in plan.iter().enumerate() {
        if let Some(list) = &b[s.var.index()] {
            if part.pat.var(s.var).kind != VarKind::Negated {
                for (i, p) in list.iter().enumerate() {
                    bound.push((*p, k, i));
                }
            }
        }
    }
    for w in bound.windows(2) {
        let (p, k, i) = w[0];
        let q = w[1].0;
        for e in p + 1..q {
            if part.plus[e] && takeable(part, plan, b, k, i, e)? {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Could a run holding the binding up to element `i` of slot `k` take `e`?
fn takeable(
    part: &Part<'_>,
    plan: &[Slot],
    b: &Binding,
    k: usize,
    i: usize,
    e: usize,
) -> Result<bool, String> {
    let pat = part.pat;
    let mut hyp: Binding = vec![None; b.len()];
    for s in &plan[..k] {
        hyp[s.var.index()] = b[s.var.index()].clone();
    }
    let vk = plan[k].var;
    let prefix: Vec<usize> = b[vk.index()]
        .as_ref()
        .map_or(Vec::new(), |l| l[..=i].to_vec());
    hyp[vk.index()] = Some(prefix.clone());
    let ev_ty = part.s[e].ty;
    let kind = pat.var(vk).kind;
    // Grow the Kleene list of p.
    if let VarKind::Kleene { max, .. } = kind {
        if ev_ty == pat.var(vk).ty && max.is_none_or(|m| (i + 1) < m as usize) {
            let mut g = hyp.clone();
            let mut l = prefix.clone();
            l.push(e);
            g[vk.index()] = Some(l);
            let mut ok = true;
            for c in &pat.conjuncts {
                if c.negated.is_some() || c.iterative != Some(vk) || !Part::all_bound(&g, c) {
                    continue;
                }
                // Growing adds element i + 1 >= 1: never the first, so
                // t[i-1] / t[..i-1] conjuncts are checked.
                if !part.is_true(&g, c, Some((vk, i + 1)))? {
                    ok = false;
                    break;
                }
            }
            if ok {
                return Ok(true);
            }
        }
    }
    // Move on: only once the Kleene list of p has its minimum.
    if let VarKind::Kleene { min, .. } = kind {
        if i + 1 < min as usize {
            return Ok(false);
        }
    }
    for slot in &plan[k + 1..] {
        if pat.var(slot.var).kind == VarKind::Negated {
            continue;
        }
        for &v in &slot.alts {
            if fits(part, &hyp, v, e)? {
                return Ok(true);
            }
        }
        // Skip past an optional element (bound empty) to the next one.
        let optional = slot
            .alts
            .iter()
            .find(|v| matches!(pat.var(**v).kind, VarKind::Kleene { min: 0, .. }));
        match optional {
            Some(v) => hyp[v.index()] = Some(Vec::new()),
            None => break,
        }
    }
    Ok(false)
}

/// Does `e` satisfy the conditions of binding `v` next, given `hyp`?
fn fits(part: &Part<'_>, hyp: &Binding, v: VarId, e: usize) -> Result<bool, String> {
    let pat = part.pat;
    let var = pat.var(v);
    if part.s[e].ty != var.ty {
        return Ok(false);
    }
    let kleene = matches!(var.kind, VarKind::Kleene { .. });
    let mut h = hyp.clone();
    h[v.index()] = Some(vec![e]);
    for c in &pat.conjuncts {
        if c.negated.is_some() || !Part::all_bound(&h, c) {
            continue;
        }
        // A new Kleene variable is not complete: only its iterative conjuncts.
        if kleene && c.vars.contains(&v) && c.iterative != Some(v) {
            continue;
        }
        if !part.conjunct_holds(&h, c)? {
            return Ok(false);
        }
    }
    Ok(true)
}

impl Ctx<'_> {
    /// A field of event `pos` (used for partition keys).
    pub fn field_value(&self, pos: usize, f: dalal_lang::typed::FieldRef) -> RVal {
        let ev = &self.events[pos];
        match f {
            dalal_lang::typed::FieldRef::Ts => RVal::Ts(ev.ts),
            dalal_lang::typed::FieldRef::Type => RVal::Str(ev.type_name.clone()),
            dalal_lang::typed::FieldRef::Slot(s) => {
                ev.fields.get(s.index()).cloned().unwrap_or(RVal::Null)
            }
        }
    }
}
