//! A deliberately naive tree-walking evaluator of `typed::TExpr` with SQL
//! three-valued logic. It shares no code with the engine's compiled
//! predicates, so agreement between the two is evidence, not tautology.

use dalal_lang::ast::{BinaryOp, Literal};
use dalal_lang::typed::{
    Access, AggFunc, AggRange, Builtin, FieldRef, Pattern, TExpr, TExprKind, VarId,
};

use super::RVal;
use super::RefEvent;

/// Nanoseconds per millisecond / hour / minute / day.
const NS_HOUR: i64 = 3_600_000_000_000;
const NS_MINUTE: i64 = 60_000_000_000;
const NS_DAY: i64 = 24 * NS_HOUR;

/// What a variable is bound to while an expression is evaluated.
///
/// `binding[v]` is `None` for an unbound variable (untaken `OR` branch, a
/// negated variable with no candidate event, a variable not reached yet) and
/// `Some(positions)` otherwise (one position for a singleton).
pub struct Ctx<'a> {
    pub pat: &'a Pattern,
    pub events: &'a [RefEvent],
    pub binding: &'a [Option<Vec<usize>>],
    /// The Kleene variable an iterative conjunct is being checked for, and
    /// the 0-based index of the element being added.
    pub iter: Option<(VarId, usize)>,
}

impl Ctx<'_> {
    /// The elements of `var` visible here: for the iterative variable, the
    /// prefix up to and including the current element; otherwise the whole list.
    fn visible(&self, var: VarId) -> &[usize] {
        let list = match &self.binding[var.index()] {
            Some(l) => l.as_slice(),
            None => &[],
        };
        match self.iter {
            Some((v, i)) if v == var => &list[..(i + 1).min(list.len())],
            _ => list,
        }
    }

    fn field_of(&self, pos: usize, field: FieldRef) -> RVal {
        let ev = &self.events[pos];
        match field {
            FieldRef::Ts => RVal::Ts(ev.ts),
            FieldRef::Type => RVal::Str(ev.type_name.clone()),
            FieldRef::Slot(s) => ev.fields.get(s.index()).cloned().unwrap_or(RVal::Null),
        }
    }

    /// Evaluates `e`; `Err` only for constructs this reference does not model.
    pub fn eval(&self, e: &TExpr) -> Result<RVal, String> {
        Ok(match &e.kind {
            TExprKind::Const(l) => lit(l),
            TExprKind::List(items) => RVal::List(
                items
                    .iter()
                    .map(|i| self.eval(i))
                    .collect::<Result<_, _>>()?,
            ),
            TExprKind::Field { var, access, field } => self.field(*var, *access, *field),
            TExprKind::Aggregate {
                func,
                var,
                range,
                field,
            } => self.aggregate(*func, *var, *range, *field)?,
            TExprKind::ToFloat(inner) => match self.eval(inner)? {
                RVal::Int(i) => RVal::Float(i as f64),
                RVal::Float(f) => RVal::Float(f),
                _ => RVal::Null,
            },
            TExprKind::Neg(inner) => match self.eval(inner)? {
                RVal::Int(i) => i.checked_neg().map_or(RVal::Null, RVal::Int),
                RVal::Float(f) => RVal::Float(-f),
                RVal::Dur(d) => d.checked_neg().map_or(RVal::Null, RVal::Dur),
                _ => RVal::Null,
            },
            TExprKind::Not(inner) => match self.eval(inner)? {
                RVal::Bool(b) => RVal::Bool(!b),
                _ => RVal::Null,
            },
            TExprKind::Binary { op, lhs, rhs } => {
                let l = self.eval(lhs)?;
                let r = self.eval(rhs)?;
                binary(*op, l, r)
            }
            TExprKind::In { expr, list } => {
                let v = self.eval(expr)?;
                let RVal::List(items) = self.eval(list)? else {
                    return Err("IN over a non-list".into());
                };
                in_list(&v, &items)
            }
            TExprKind::Call { func, args } => {
                let vals = args
                    .iter()
                    .map(|a| self.eval(a))
                    .collect::<Result<Vec<_>, _>>()?;
                call(*func, vals)
            }
            TExprKind::Native { name, .. } => {
                return Err(format!("native function `{name}` not modelled"));
            }
        })
    }

    fn field(&self, var: VarId, access: Access, field: FieldRef) -> RVal {
        let Some(list) = &self.binding[var.index()] else {
            return RVal::Null;
        };
        let pos = match access {
            Access::Single => list.first().copied(),
            Access::Current => match self.iter {
                Some((v, i)) if v == var => list.get(i).copied(),
                _ => None,
            },
            Access::Previous => match self.iter {
                Some((v, i)) if v == var && i > 0 => list.get(i - 1).copied(),
                _ => None,
            },
            Access::Nth(n) => {
                let vis = self.visible(var);
                (n as usize)
                    .checked_sub(1)
                    .and_then(|k| vis.get(k))
                    .copied()
            }
            Access::Last => self.visible(var).last().copied(),
        };
        match pos {
            Some(p) => self.field_of(p, field),
            None => RVal::Null,
        }
    }

    fn aggregate(
        &self,
        func: AggFunc,
        var: VarId,
        range: AggRange,
        field: Option<FieldRef>,
    ) -> Result<RVal, String> {
        let vis = self.visible(var);
        let elems: &[usize] = match range {
            AggRange::All => vis,
            AggRange::BeforeCurrent => match self.iter {
                Some((v, i)) if v == var => &vis[..i.min(vis.len())],
                _ => return Err("t[..i-1] outside an iterative conjunct".into()),
            },
        };
        let Some(field) = field else {
            return match func {
                AggFunc::Count => Ok(RVal::Int(elems.len() as i64)),
                _ => Err("aggregate without a field".into()),
            };
        };
        let vals: Vec<RVal> = elems
            .iter()
            .map(|&p| self.field_of(p, field))
            .filter(|v| !matches!(v, RVal::Null))
            .collect();
        if func == AggFunc::Count {
            return Ok(RVal::Int(vals.len() as i64));
        }
        if vals.is_empty() {
            return Ok(RVal::Null);
        }
        Ok(match func {
            AggFunc::Count => unreachable!("handled above"),
            AggFunc::Sum => vals
                .into_iter()
                .try_fold(None::<RVal>, |acc, v| {
                    Ok::<_, String>(Some(match acc {
                        None => v,
                        Some(a) => binary(BinaryOp::Add, a, v),
                    }))
                })?
                .unwrap_or(RVal::Null),
            AggFunc::Avg => {
                let n = vals.len();
                match &vals[0] {
                    RVal::Dur(_) => {
                        let total: i128 = vals
                            .iter()
                            .map(|v| match v {
                                RVal::Dur(d) => *d as i128,
                                _ => 0,
                            })
                            .sum();
                        RVal::Dur((total / n as i128) as i64)
                    }
                    // Exact integer sum (no i64 overflow), one rounding.
                    RVal::Int(_) => {
                        let total: i128 = vals
                            .iter()
                            .map(|v| match v {
                                RVal::Int(i) => i128::from(*i),
                                _ => 0,
                            })
                            .sum();
                        RVal::Float(total as f64 / n as f64)
                    }
                    _ => {
                        let mut total = 0.0f64;
                        for v in &vals {
                            total += match v {
                                RVal::Int(i) => *i as f64,
                                RVal::Float(f) => *f,
                                _ => return Err("avg over a non-number".into()),
                            };
                        }
                        RVal::Float(total / n as f64)
                    }
                }
            }
            AggFunc::Min | AggFunc::Max => {
                let mut best = vals[0].clone();
                for v in vals.into_iter().skip(1) {
                    let ord = compare(&v, &best);
                    let better = match func {
                        AggFunc::Min => ord == Some(std::cmp::Ordering::Less),
                        _ => ord == Some(std::cmp::Ordering::Greater),
                    };
                    if better {
                        best = v;
                    }
                }
                best
            }
        })
    }
}

/// True when `e` mentions `t[i-1]` or `t[..i-1]` of `var`.
pub fn mentions_previous(e: &TExpr, var: VarId) -> bool {
    match &e.kind {
        TExprKind::Field {
            var: v,
            access: Access::Previous,
            ..
        } => *v == var,
        TExprKind::Aggregate {
            var: v,
            range: AggRange::BeforeCurrent,
            ..
        } => *v == var,
        TExprKind::Const(_) | TExprKind::Field { .. } | TExprKind::Aggregate { .. } => false,
        TExprKind::List(items)
        | TExprKind::Call { args: items, .. }
        | TExprKind::Native { args: items, .. } => items.iter().any(|i| mentions_previous(i, var)),
        TExprKind::ToFloat(i) | TExprKind::Neg(i) | TExprKind::Not(i) => mentions_previous(i, var),
        TExprKind::Binary { lhs, rhs, .. } => {
            mentions_previous(lhs, var) || mentions_previous(rhs, var)
        }
        TExprKind::In { expr, list } => {
            mentions_previous(expr, var) || mentions_previous(list, var)
        }
    }
}

fn lit(l: &Literal) -> RVal {
    match l {
        Literal::Int(i) => RVal::Int(*i),
        Literal::Float(f) => RVal::Float(*f),
        Literal::String(s) => RVal::Str(s.clone()),
        Literal::Bool(b) => RVal::Bool(*b),
        Literal::Null => RVal::Null,
        Literal::Duration(d) => RVal::Dur(*d),
        Literal::Timestamp(t) => RVal::Ts(*t),
    }
}

/// Orders two non-NULL values of comparable types; `None` when incomparable.
pub fn compare(a: &RVal, b: &RVal) -> Option<std::cmp::Ordering> {
    use RVal::*;
    match (a, b) {
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Float(x), Float(y)) => x.partial_cmp(y),
        (Int(x), Float(y)) => (*x as f64).partial_cmp(y),
        (Float(x), Int(y)) => x.partial_cmp(&(*y as f64)),
        (Str(x), Str(y)) => Some(x.cmp(y)),
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        (Ts(x), Ts(y)) | (Dur(x), Dur(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn truth(v: &RVal) -> Option<bool> {
    match v {
        RVal::Bool(b) => Some(*b),
        _ => None,
    }
}

/// SQL semantics of one binary operator; any NULL operand gives NULL except
/// where three-valued `AND`/`OR` decide regardless.
pub fn binary(op: BinaryOp, l: RVal, r: RVal) -> RVal {
    use RVal::*;
    match op {
        BinaryOp::And => match (truth(&l), truth(&r)) {
            (Some(false), _) | (_, Some(false)) => Bool(false),
            (Some(true), Some(true)) => Bool(true),
            _ => Null,
        },
        BinaryOp::Or => match (truth(&l), truth(&r)) {
            (Some(true), _) | (_, Some(true)) => Bool(true),
            (Some(false), Some(false)) => Bool(false),
            _ => Null,
        },
        _ if matches!(l, Null) || matches!(r, Null) => Null,
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            let Some(ord) = compare(&l, &r) else {
                return Null;
            };
            use std::cmp::Ordering::*;
            Bool(match op {
                BinaryOp::Eq => ord == Equal,
                BinaryOp::Ne => ord != Equal,
                BinaryOp::Lt => ord == Less,
                BinaryOp::Le => ord != Greater,
                BinaryOp::Gt => ord == Greater,
                _ => ord != Less,
            })
        }
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => {
            arith(op, l, r)
        }
    }
}

fn arith(op: BinaryOp, l: RVal, r: RVal) -> RVal {
    use RVal::*;
    let int = |x: i64, y: i64| -> Option<i64> {
        match op {
            BinaryOp::Add => x.checked_add(y),
            BinaryOp::Sub => x.checked_sub(y),
            BinaryOp::Mul => x.checked_mul(y),
            BinaryOp::Div => x.checked_div(y),
            _ => x.checked_rem(y),
        }
    };
    let float = |x: f64, y: f64| -> f64 {
        match op {
            BinaryOp::Add => x + y,
            BinaryOp::Sub => x - y,
            BinaryOp::Mul => x * y,
            BinaryOp::Div => x / y,
            _ => x % y,
        }
    };
    match (l, r) {
        (Int(x), Int(y)) => int(x, y).map_or(Null, Int),
        (Float(x), Float(y)) => {
            let v = float(x, y);
            if v.is_finite() { Float(v) } else { Null }
        }
        (Int(x), Float(y)) => Float(float(x as f64, y)),
        (Float(x), Int(y)) => Float(float(x, y as f64)),
        (Ts(x), Ts(y)) if op == BinaryOp::Sub => x.checked_sub(y).map_or(Null, Dur),
        (Ts(x), Dur(y)) if matches!(op, BinaryOp::Add | BinaryOp::Sub) => {
            int(x, y).map_or(Null, Ts)
        }
        (Dur(x), Ts(y)) if op == BinaryOp::Add => x.checked_add(y).map_or(Null, Ts),
        (Dur(x), Dur(y)) if matches!(op, BinaryOp::Add | BinaryOp::Sub | BinaryOp::Rem) => {
            int(x, y).map_or(Null, Dur)
        }
        (Dur(x), Dur(y)) if op == BinaryOp::Div => Float(x as f64 / y as f64),
        (Dur(x), Int(y)) if matches!(op, BinaryOp::Mul | BinaryOp::Div) => {
            int(x, y).map_or(Null, Dur)
        }
        (Int(x), Dur(y)) if op == BinaryOp::Mul => x.checked_mul(y).map_or(Null, Dur),
        (Str(x), Str(y)) if op == BinaryOp::Add => Str(x + &y),
        _ => Null,
    }
}

fn in_list(v: &RVal, items: &[RVal]) -> RVal {
    if matches!(v, RVal::Null) {
        return RVal::Null;
    }
    let mut saw_null = false;
    for i in items {
        if matches!(i, RVal::Null) {
            saw_null = true;
        } else if compare(v, i) == Some(std::cmp::Ordering::Equal) {
            return RVal::Bool(true);
        }
    }
    if saw_null {
        RVal::Null
    } else {
        RVal::Bool(false)
    }
}

fn call(func: Builtin, args: Vec<RVal>) -> RVal {
    use RVal::*;
    if func == Builtin::Coalesce {
        return args
            .into_iter()
            .find(|a| !matches!(a, Null))
            .unwrap_or(Null);
    }
    if args.iter().any(|a| matches!(a, Null)) {
        return Null;
    }
    let words = |l: &RVal| -> Vec<String> {
        match l {
            List(items) => items
                .iter()
                .filter_map(|i| match i {
                    Str(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    };
    match (func, args.as_slice()) {
        (Builtin::Abs, [Int(i)]) => i.checked_abs().map_or(Null, Int),
        (Builtin::Abs, [Float(f)]) => Float(f.abs()),
        (Builtin::Abs, [Dur(d)]) => d.checked_abs().map_or(Null, Dur),
        (Builtin::Lower, [Str(s)]) => Str(s.to_lowercase()),
        (Builtin::Upper, [Str(s)]) => Str(s.to_uppercase()),
        (Builtin::Length, [Str(s)]) => Int(s.chars().count() as i64),
        (Builtin::Contains, [Str(s), Str(t)]) => Bool(s.contains(t.as_str())),
        (Builtin::StartsWith, [Str(s), Str(t)]) => Bool(s.starts_with(t.as_str())),
        (Builtin::EndsWith, [Str(s), Str(t)]) => Bool(s.ends_with(t.as_str())),
        (Builtin::ContainsAny, [Str(s), l]) => {
            Bool(words(l).iter().any(|w| s.contains(w.as_str())))
        }
        (Builtin::CountAny, [Str(s), l]) => {
            let mut ws = words(l);
            ws.sort();
            ws.dedup();
            Int(ws.iter().filter(|w| s.contains(w.as_str())).count() as i64)
        }
        (Builtin::Hour, [Ts(t)]) => Int(t.rem_euclid(NS_DAY) / NS_HOUR),
        (Builtin::Minute, [Ts(t)]) => Int(t.rem_euclid(NS_HOUR) / NS_MINUTE),
        (Builtin::DayOfWeek, [Ts(t)]) => {
            // 1970-01-01 was a Thursday (4 with Monday = 1).
            let days = t.div_euclid(NS_DAY);
            Int((days + 3).rem_euclid(7) + 1)
        }
        _ => Null,
    }
}
