//! Compiled expressions and their three-valued evaluation.
//!
//! A [`dalal_lang::typed::TExpr`] is lowered once into a [`CExpr`]: literals
//! become [`Value`]s, constant subtrees are folded, and fields stay resolved to
//! slots. Evaluation walks the small tree against an [`Env`] that knows the
//! run's bindings; it never looks a name up.

use crate::value::{EventTime, Value};
use dalal_lang::ast::{BinaryOp, Literal};
use dalal_lang::typed::{Access, AggFunc, AggRange, Builtin, FieldRef, TExpr, TExprKind, VarId};
use std::cmp::Ordering;
use std::sync::Arc;

/// A native function an embedder registers (see [`crate::Natives`]).
pub type NativeFn = Arc<dyn Fn(&[Value]) -> Value + Send + Sync>;

/// A compiled expression.
#[derive(Clone)]
pub(crate) enum CExpr {
    Const(Value),
    List(Vec<CExpr>),
    Field {
        var: VarId,
        access: Access,
        field: FieldRef,
    },
    Agg {
        func: AggFunc,
        var: VarId,
        range: AggRange,
        field: Option<FieldRef>,
    },
    ToFloat(Box<CExpr>),
    Neg(Box<CExpr>),
    Not(Box<CExpr>),
    Bin(BinaryOp, Box<CExpr>, Box<CExpr>),
    In(Box<CExpr>, Box<CExpr>),
    Call(Builtin, Vec<CExpr>),
    Native(Option<NativeFn>, Vec<CExpr>),
    /// A list of constant strings as the word list of `contains_any` or
    /// `count_any`, each word's searcher built once here: searching with
    /// `str::contains` set a searcher up per word and call (`positive` of
    /// the design's definitions makes ten searches an event).
    Words(Arc<[memchr::memmem::Finder<'static>]>),
}

impl std::fmt::Debug for CExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CExpr")
    }
}

/// What an expression can read: the fields and aggregates of bound variables.
pub(crate) trait Env {
    /// A field of a variable (NULL when absent).
    fn field(&self, var: VarId, access: Access, field: FieldRef) -> Value;
    /// Applies `f` to each value of the aggregate's range, in list order.
    /// `field: None` yields one non-NULL marker per element (for `count(t)`).
    fn each(&self, var: VarId, range: AggRange, field: Option<FieldRef>, f: &mut dyn FnMut(Value));
    /// The aggregate state of a range when the environment keeps it
    /// incrementally (`None`: fold over [`Env::each`]). Borrowed when the
    /// kept state is the answer as is, so reading an aggregate clones nothing.
    fn summary(
        &self,
        _var: VarId,
        _range: AggRange,
        _field: Option<FieldRef>,
    ) -> Option<std::borrow::Cow<'_, Summary>> {
        None
    }
    /// [`Env::summary`]'s aggregate as a number, `Num::of(&result)`: an
    /// environment that keeps the state answers without building a value.
    fn summary_num(
        &self,
        func: AggFunc,
        var: VarId,
        range: AggRange,
        field: Option<FieldRef>,
    ) -> Option<Num> {
        self.summary(var, range, field).map(|s| s.num(func))
    }
}

/// An environment with no variables (constant folding).
struct NoEnv;

impl Env for NoEnv {
    fn field(&self, _: VarId, _: Access, _: FieldRef) -> Value {
        Value::Null
    }
    fn each(&self, _: VarId, _: AggRange, _: Option<FieldRef>, _: &mut dyn FnMut(Value)) {}
}

fn literal(l: &Literal) -> Value {
    match l {
        Literal::Int(i) => Value::Int(*i),
        Literal::Float(x) => Value::Float(*x),
        Literal::String(s) => Value::str(s),
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Null => Value::Null,
        Literal::Duration(d) => Value::Duration(*d),
        Literal::Timestamp(t) => Value::Timestamp(EventTime(*t)),
    }
}

/// Lowers a typed expression, folding constant subtrees.
pub(crate) fn compile(e: &TExpr, natives: &dyn Fn(&str) -> Option<NativeFn>) -> CExpr {
    let c = |x: &TExpr| compile(x, natives);
    let out = match &e.kind {
        TExprKind::Const(l) => return CExpr::Const(literal(l)),
        TExprKind::List(items) => CExpr::List(items.iter().map(c).collect()),
        TExprKind::Field { var, access, field } => {
            return CExpr::Field {
                var: *var,
                access: *access,
                field: *field,
            };
        }
        TExprKind::Aggregate {
            func,
            var,
            range,
            field,
        } => {
            return CExpr::Agg {
                func: *func,
                var: *var,
                range: *range,
                field: *field,
            };
        }
        TExprKind::ToFloat(x) => CExpr::ToFloat(Box::new(c(x))),
        TExprKind::Neg(x) => CExpr::Neg(Box::new(c(x))),
        TExprKind::Not(x) => CExpr::Not(Box::new(c(x))),
        TExprKind::Binary { op, lhs, rhs } => CExpr::Bin(*op, Box::new(c(lhs)), Box::new(c(rhs))),
        TExprKind::In { expr, list } => CExpr::In(Box::new(c(expr)), Box::new(c(list))),
        TExprKind::Call { func, args } => {
            let mut args: Vec<CExpr> = args.iter().map(c).collect();
            if matches!(func, Builtin::ContainsAny | Builtin::CountAny) {
                if let Some(list) = args.get_mut(1) {
                    if let Some(words) = words(list) {
                        *list = CExpr::Words(words);
                    }
                }
            }
            CExpr::Call(*func, args)
        }
        // Natives are never folded: they may be impure.
        TExprKind::Native { name, args } => {
            return CExpr::Native(natives(name), args.iter().map(c).collect());
        }
    };
    if out.is_foldable() {
        if let CExpr::List(_) = out {
            return out;
        }
        return CExpr::Const(eval(&out, &NoEnv));
    }
    out
}

/// The searchers of a list of constant strings (`None` for anything else:
/// a NULL or a computed item keeps the list as it is).
fn words(list: &CExpr) -> Option<Arc<[memchr::memmem::Finder<'static>]>> {
    let CExpr::List(items) = list else {
        return None;
    };
    items
        .iter()
        .map(|i| match i {
            CExpr::Const(Value::Str(w)) => {
                Some(memchr::memmem::Finder::new(w.as_bytes()).into_owned())
            }
            _ => None,
        })
        .collect()
}

impl CExpr {
    fn is_const(&self) -> bool {
        match self {
            CExpr::Const(_) | CExpr::Words(_) => true,
            CExpr::List(items) => items.iter().all(CExpr::is_const),
            _ => false,
        }
    }

    fn is_foldable(&self) -> bool {
        match self {
            CExpr::Const(_) | CExpr::Words(_) => true,
            CExpr::List(items) => items.iter().all(CExpr::is_const),
            CExpr::ToFloat(x) | CExpr::Neg(x) | CExpr::Not(x) => x.is_const(),
            CExpr::Bin(_, a, b) | CExpr::In(a, b) => a.is_const() && b.is_const(),
            CExpr::Call(_, args) => args.iter().all(CExpr::is_const),
            _ => false,
        }
    }

    /// True when its only variable reads are `var.x` / `var[i].x` (the
    /// event being bound), with no aggregate and no native call.
    pub(crate) fn reads_only_current(&self, var: VarId) -> bool {
        self.reads_only(var, false)
    }

    /// True when its only variable reads are the event being bound and
    /// `var[i-1]` (no aggregate, no native call).
    pub(crate) fn reads_only_current_and_previous(&self, var: VarId) -> bool {
        self.reads_only(var, true)
    }

    fn reads_only(&self, var: VarId, previous: bool) -> bool {
        match self {
            CExpr::Const(_) | CExpr::Words(_) => true,
            CExpr::Field { var: v, access, .. } => {
                *v == var
                    && (matches!(access, Access::Single | Access::Current)
                        || (previous && *access == Access::Previous))
            }
            CExpr::Agg { .. } | CExpr::Native(..) => false,
            CExpr::List(xs) | CExpr::Call(_, xs) => xs.iter().all(|x| x.reads_only(var, previous)),
            CExpr::ToFloat(x) | CExpr::Neg(x) | CExpr::Not(x) => x.reads_only(var, previous),
            CExpr::Bin(_, a, b) | CExpr::In(a, b) => {
                a.reads_only(var, previous) && b.reads_only(var, previous)
            }
        }
    }

    /// Every `(variable, field)` an aggregate in it reads.
    pub(crate) fn agg_inputs(&self, out: &mut Vec<(VarId, Option<FieldRef>)>) {
        match self {
            CExpr::Agg { var, field, .. } => {
                if !out.contains(&(*var, *field)) {
                    out.push((*var, *field));
                }
            }
            CExpr::Const(_) | CExpr::Field { .. } | CExpr::Words(_) => {}
            CExpr::List(xs) | CExpr::Call(_, xs) | CExpr::Native(_, xs) => {
                xs.iter().for_each(|x| x.agg_inputs(out));
            }
            CExpr::ToFloat(x) | CExpr::Neg(x) | CExpr::Not(x) => x.agg_inputs(out),
            CExpr::Bin(_, a, b) | CExpr::In(a, b) => {
                a.agg_inputs(out);
                b.agg_inputs(out);
            }
        }
    }

    /// True when it reads `t[i-1]` or `t[..i-1]` of `var`.
    pub(crate) fn uses_previous(&self, var: VarId) -> bool {
        match self {
            CExpr::Field {
                var: v,
                access: Access::Previous,
                ..
            } => *v == var,
            CExpr::Agg {
                var: v,
                range: AggRange::BeforeCurrent,
                ..
            } => *v == var,
            CExpr::Const(_) | CExpr::Field { .. } | CExpr::Agg { .. } | CExpr::Words(_) => false,
            CExpr::List(xs) | CExpr::Call(_, xs) | CExpr::Native(_, xs) => {
                xs.iter().any(|x| x.uses_previous(var))
            }
            CExpr::ToFloat(x) | CExpr::Neg(x) | CExpr::Not(x) => x.uses_previous(var),
            CExpr::Bin(_, a, b) | CExpr::In(a, b) => a.uses_previous(var) || b.uses_previous(var),
        }
    }
}

/// True when the condition is TRUE (unknown and false both fail).
pub(crate) fn holds(e: &CExpr, env: &dyn Env) -> bool {
    matches!(eval(e, env), Value::Bool(true))
}

/// Evaluates an expression (SQL three-valued logic; NULL propagates).
pub(crate) fn eval(e: &CExpr, env: &dyn Env) -> Value {
    match e {
        CExpr::Const(v) => v.clone(),
        // A list outside `IN` or a list argument has no scalar value.
        CExpr::List(_) | CExpr::Words(_) => Value::Null,
        CExpr::Field { var, access, field } => env.field(*var, *access, *field),
        CExpr::Agg {
            func,
            var,
            range,
            field,
        } => aggregate(*func, *var, *range, *field, env),
        CExpr::ToFloat(x) => match eval(x, env) {
            Value::Int(i) => Value::Float(i as f64),
            other => other,
        },
        CExpr::Neg(x) => match eval(x, env) {
            Value::Int(i) => i.checked_neg().map_or(Value::Null, Value::Int),
            Value::Float(f) => Value::Float(-f),
            Value::Duration(d) => d.checked_neg().map_or(Value::Null, Value::Duration),
            _ => Value::Null,
        },
        CExpr::Not(x) => match eval(x, env) {
            Value::Bool(b) => Value::Bool(!b),
            _ => Value::Null,
        },
        CExpr::Bin(BinaryOp::And, a, b) => {
            let l = eval(a, env);
            if l == Value::Bool(false) {
                return l;
            }
            match (l, eval(b, env)) {
                (_, Value::Bool(false)) => Value::Bool(false),
                (Value::Bool(true), Value::Bool(true)) => Value::Bool(true),
                _ => Value::Null,
            }
        }
        CExpr::Bin(BinaryOp::Or, a, b) => {
            let l = eval(a, env);
            if l == Value::Bool(true) {
                return l;
            }
            match (l, eval(b, env)) {
                (_, Value::Bool(true)) => Value::Bool(true),
                (Value::Bool(false), Value::Bool(false)) => Value::Bool(false),
                _ => Value::Null,
            }
        }
        CExpr::Bin(op, a, b) => binary(*op, &eval(a, env), &eval(b, env)),
        CExpr::In(x, list) => {
            let v = eval(x, env);
            if v.is_null() {
                return Value::Null;
            }
            let mut unknown = false;
            let mut found = false;
            each_item(list, env, &mut |item| {
                if found {
                    return;
                }
                match compare(&v, &item) {
                    Some(Ordering::Equal) => found = true,
                    None => unknown = true,
                    _ => {}
                }
            });
            if found {
                Value::Bool(true)
            } else if unknown {
                Value::Null
            } else {
                Value::Bool(false)
            }
        }
        CExpr::Call(f, args) => call(*f, args, env),
        CExpr::Native(f, args) => match f {
            Some(f) => {
                let vals: Vec<Value> = args.iter().map(|a| eval(a, env)).collect();
                f(&vals)
            }
            None => Value::Null,
        },
    }
}

fn each_item(list: &CExpr, env: &dyn Env, f: &mut dyn FnMut(Value)) {
    match list {
        CExpr::List(items) => {
            for i in items {
                f(eval(i, env));
            }
        }
        other => f(eval(other, env)),
    }
}

/// The language's comparison: `None` when unknown (NULL or incomparable types).
pub(crate) fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Int(x), Value::Float(y)) => (*x as f64).partial_cmp(y),
        (Value::Float(x), Value::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Timestamp(x), Value::Timestamp(y)) => Some(x.cmp(y)),
        (Value::Duration(x), Value::Duration(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn binary(op: BinaryOp, a: &Value, b: &Value) -> Value {
    use BinaryOp::*;
    match op {
        Eq | Ne | Lt | Le | Gt | Ge => match compare(a, b) {
            None => Value::Null,
            Some(o) => Value::Bool(match op {
                Eq => o == Ordering::Equal,
                Ne => o != Ordering::Equal,
                Lt => o == Ordering::Less,
                Le => o != Ordering::Greater,
                Gt => o == Ordering::Greater,
                _ => o != Ordering::Less,
            }),
        },
        Add | Sub | Mul | Div | Rem => arith(op, a, b),
        And | Or => Value::Null,
    }
}

fn int_op(op: BinaryOp, x: i64, y: i64) -> Option<i64> {
    match op {
        BinaryOp::Add => x.checked_add(y),
        BinaryOp::Sub => x.checked_sub(y),
        BinaryOp::Mul => x.checked_mul(y),
        BinaryOp::Div => x.checked_div(y),
        BinaryOp::Rem => x.checked_rem(y),
        _ => None,
    }
}

fn float_op(op: BinaryOp, x: f64, y: f64) -> Value {
    match op {
        BinaryOp::Add => Value::Float(x + y),
        BinaryOp::Sub => Value::Float(x - y),
        BinaryOp::Mul => Value::Float(x * y),
        // Division by zero is unknown, as in SQL (not an infinity).
        BinaryOp::Div if y == 0.0 => Value::Null,
        BinaryOp::Div => Value::Float(x / y),
        BinaryOp::Rem if y == 0.0 => Value::Null,
        BinaryOp::Rem => Value::Float(x % y),
        _ => Value::Null,
    }
}

/// Arithmetic; overflow and division by zero are NULL (never a panic).
fn arith(op: BinaryOp, a: &Value, b: &Value) -> Value {
    use BinaryOp::*;
    use Value::*;
    let opt = |o: Option<i64>, f: fn(i64) -> Value| o.map_or(Null, f);
    match (a, b) {
        (Int(x), Int(y)) => opt(int_op(op, *x, *y), Int),
        (Float(x), Float(y)) => float_op(op, *x, *y),
        (Int(x), Float(y)) => float_op(op, *x as f64, *y),
        (Float(x), Int(y)) => float_op(op, *x, *y as f64),
        (Timestamp(x), Timestamp(y)) if op == Sub => opt(x.0.checked_sub(y.0), Duration),
        (Timestamp(x), Duration(d)) if matches!(op, Add | Sub) => {
            opt(int_op(op, x.0, *d), |t| Timestamp(EventTime(t)))
        }
        (Duration(d), Timestamp(x)) if op == Add => {
            opt(x.0.checked_add(*d), |t| Timestamp(EventTime(t)))
        }
        (Duration(x), Duration(y)) if matches!(op, Add | Sub | Rem) => {
            opt(int_op(op, *x, *y), Duration)
        }
        // duration / duration is a ratio
        (Duration(x), Duration(y)) if op == Div => {
            if *y == 0 {
                Null
            } else {
                Float(*x as f64 / *y as f64)
            }
        }
        (Duration(x), Int(y)) if matches!(op, Mul | Div) => opt(int_op(op, *x, *y), Duration),
        (Int(x), Duration(y)) if op == Mul => opt(x.checked_mul(*y), Duration),
        (Duration(x), Float(y)) if matches!(op, Mul | Div) => match float_op(op, *x as f64, *y) {
            Float(r) if r.is_finite() && r.abs() < 9.2e18 => Duration(r as i64),
            _ => Null,
        },
        (Float(x), Duration(y)) if op == Mul => {
            let r = x * *y as f64;
            if r.is_finite() && r.abs() < 9.2e18 {
                Duration(r as i64)
            } else {
                Null
            }
        }
        _ => Null,
    }
}

/// The running state of one aggregate over a list: enough for `count`,
/// `sum`, `avg`, `min` and `max`, updated one element at a time.
///
/// Each element of a Kleene list carries one per aggregate of its variable
/// (the state of the list up to it), built from its predecessor's, so
/// the common case, a FLOAT field (prices), is plain numbers ([`Acc::Floats`]):
/// a copy is a `memcpy` and an element is four float operations. Any other
/// value moves the state to the general form ([`General`]), which is what
/// the summary always was. Saved as the general form, so snapshots keep
/// their format.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(from = "General", into = "General")]
pub(crate) struct Summary(Acc);

#[derive(Clone, Debug, PartialEq)]
enum Acc {
    /// Nothing yet (`count == 0`), or only FLOATs (NULLs are skipped):
    /// `General { count, sum: Float(sum), min: Float(min), max: Float(max),
    /// fsum, isum: 0 }`. `sum` and `fsum` differ only in the sign of a zero
    /// (`fsum` starts from `0.0`, `sum` from the first element), as they did
    /// in the general form.
    Floats {
        count: i64,
        sum: f64,
        fsum: f64,
        min: f64,
        max: f64,
    },
    General(Box<General>),
}

impl Default for Summary {
    fn default() -> Self {
        Summary::EMPTY
    }
}

/// [`Summary`] for any values: the form it is saved in.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct General {
    count: i64,
    sum: Value,
    min: Value,
    max: Value,
    /// Sum of FLOATs as f64.
    #[serde(with = "crate::value::float_serde")]
    fsum: f64,
    /// Exact sum of INTs or DURATIONs: their `avg` never overflows.
    isum: i128,
}

impl From<General> for Summary {
    fn from(g: General) -> Self {
        match (g.count, &g.sum, &g.min, &g.max) {
            (0, Value::Null, Value::Null, Value::Null) if g.isum == 0 && g.fsum == 0.0 => {
                Summary::default()
            }
            (count @ 1.., Value::Float(sum), Value::Float(min), Value::Float(max))
                if g.isum == 0 =>
            {
                Summary(Acc::Floats {
                    count,
                    sum: *sum,
                    fsum: g.fsum,
                    min: *min,
                    max: *max,
                })
            }
            _ => Summary(Acc::General(Box::new(g))),
        }
    }
}

impl From<Summary> for General {
    fn from(s: Summary) -> Self {
        s.general()
    }
}

impl Summary {
    /// The state of an empty list.
    pub(crate) const EMPTY: Summary = Summary(Acc::Floats {
        count: 0,
        sum: 0.0,
        fsum: 0.0,
        min: 0.0,
        max: 0.0,
    });

    /// The general form of this state.
    fn general(&self) -> General {
        match &self.0 {
            Acc::Floats { count: 0, .. } => General::default(),
            &Acc::Floats {
                count,
                sum,
                fsum,
                min,
                max,
            } => General {
                count,
                sum: Value::Float(sum),
                min: Value::Float(min),
                max: Value::Float(max),
                fsum,
                isum: 0,
            },
            Acc::General(g) => (**g).clone(),
        }
    }

    /// This state with the next element's value added: [`Summary::add`]
    /// on a copy, built directly for the common case (FLOATs).
    #[inline]
    pub(crate) fn with(&self, v: Value) -> Summary {
        if let Value::Float(f) = v {
            if let Some(acc) = self.floats_with(f) {
                return Summary(acc);
            }
        }
        let mut s = self.clone();
        s.add(v);
        s
    }

    /// The plain-number state after adding the FLOAT `f`, if this state is
    /// plain numbers. `sum + f`, `f < min`, `f > max` are what `arith` and
    /// `compare` give on two FLOATs, NaN included; the first element is the
    /// sum, the minimum and the maximum.
    #[inline]
    fn floats_with(&self, f: f64) -> Option<Acc> {
        let Acc::Floats {
            count,
            sum,
            fsum,
            min,
            max,
        } = self.0
        else {
            return None;
        };
        Some(if count == 0 {
            Acc::Floats {
                count: 1,
                sum: f,
                fsum: fsum + f,
                min: f,
                max: f,
            }
        } else {
            Acc::Floats {
                count: count + 1,
                sum: sum + f,
                fsum: fsum + f,
                min: if f < min { f } else { min },
                max: if f > max { f } else { max },
            }
        })
    }

    /// Adds the next element's value (NULLs are skipped, as in SQL).
    pub(crate) fn add(&mut self, v: Value) {
        if let Acc::Floats { .. } = self.0 {
            match v {
                Value::Float(f) => {
                    if let Some(acc) = self.floats_with(f) {
                        self.0 = acc;
                    }
                    return;
                }
                Value::Null => return,
                _ => self.0 = Acc::General(Box::new(self.general())),
            }
        }
        if let Acc::General(g) = &mut self.0 {
            g.add(v);
        }
    }

    /// `Num::of(&self.result(func))`, without building the value (the
    /// comparison of an element with a running `avg` reads it per run).
    pub(crate) fn num(&self, func: AggFunc) -> Num {
        match self.0 {
            Acc::Floats { count: 0, .. } => match func {
                AggFunc::Count => Num::I(0),
                _ => Num::Null,
            },
            Acc::Floats {
                count,
                sum,
                fsum,
                min,
                max,
            } => match func {
                AggFunc::Count => Num::I(count),
                AggFunc::Sum => Num::F(sum),
                AggFunc::Min => Num::F(min),
                AggFunc::Max => Num::F(max),
                AggFunc::Avg => Num::F(fsum / count as f64),
            },
            Acc::General(ref g) => g.num(func),
        }
    }

    fn result(&self, func: AggFunc) -> Value {
        match self.0 {
            Acc::Floats { count: 0, .. } => General::default().result(func),
            // With elements, every aggregate of FLOATs is a number.
            Acc::Floats { .. } => match self.num(func) {
                Num::I(i) => Value::Int(i),
                Num::F(x) => Value::Float(x),
                Num::Null | Num::Other => Value::Null,
            },
            Acc::General(ref g) => g.result(func),
        }
    }
}

impl General {
    fn add(&mut self, v: Value) {
        if v.is_null() {
            return;
        }
        self.count += 1;
        match v {
            Value::Float(f) => self.fsum += f,
            Value::Int(d) | Value::Duration(d) => {
                self.isum = self.isum.saturating_add(i128::from(d))
            }
            _ => {}
        }
        if self.count == 1 {
            self.sum = v.clone();
            self.min = v.clone();
            self.max = v;
            return;
        }
        self.sum = arith(BinaryOp::Add, &self.sum, &v);
        if compare(&v, &self.min) == Some(Ordering::Less) {
            self.min = v.clone();
        }
        if compare(&v, &self.max) == Some(Ordering::Greater) {
            self.max = v;
        }
    }

    fn num(&self, func: AggFunc) -> Num {
        if self.count == 0 {
            return match func {
                AggFunc::Count => Num::I(0),
                _ => Num::Null,
            };
        }
        match func {
            AggFunc::Count => Num::I(self.count),
            AggFunc::Sum => Num::of(&self.sum),
            AggFunc::Min => Num::of(&self.min),
            AggFunc::Max => Num::of(&self.max),
            AggFunc::Avg => match self.min {
                Value::Int(_) => Num::F(self.isum as f64 / self.count as f64),
                Value::Float(_) => Num::F(self.fsum / self.count as f64),
                // A DURATION average is not a number; anything else is NULL.
                Value::Duration(_) => Num::Other,
                _ => Num::Null,
            },
        }
    }

    fn result(&self, func: AggFunc) -> Value {
        if self.count == 0 {
            return match func {
                AggFunc::Count => Value::Int(0),
                _ => Value::Null,
            };
        }
        match func {
            AggFunc::Count => Value::Int(self.count),
            // An INT or DURATION sum that overflows is NULL.
            AggFunc::Sum => self.sum.clone(),
            AggFunc::Min => self.min.clone(),
            AggFunc::Max => self.max.clone(),
            AggFunc::Avg => match self.min {
                // Exact sum, then one rounding (as SQL engines do).
                Value::Int(_) => Value::Float(self.isum as f64 / self.count as f64),
                Value::Float(_) => Value::Float(self.fsum / self.count as f64),
                Value::Duration(_) => {
                    let avg = self.isum / i128::from(self.count);
                    i64::try_from(avg).map_or(Value::Null, Value::Duration)
                }
                _ => Value::Null,
            },
        }
    }
}

fn aggregate(
    func: AggFunc,
    var: VarId,
    range: AggRange,
    field: Option<FieldRef>,
    env: &dyn Env,
) -> Value {
    if let Some(s) = env.summary(var, range, field) {
        return s.result(func);
    }
    let mut s = Summary::default();
    env.each(var, range, field, &mut |v| s.add(v));
    s.result(func)
}

const NANOS_PER_DAY: i64 = 86_400_000_000_000;

/// `lower` (`upper` when `up`) of a string: Unicode case mapping, as
/// `str::to_lowercase` does; ASCII text is mapped by bytes, and text that
/// the mapping leaves as it is (already lower case) is the same string, not
/// a copy.
fn recase(s: Arc<str>, up: bool) -> Arc<str> {
    if s.is_ascii() {
        let changes = |b: &u8| {
            if up {
                b.is_ascii_lowercase()
            } else {
                b.is_ascii_uppercase()
            }
        };
        if !s.as_bytes().iter().any(changes) {
            return s;
        }
        return Arc::from(if up {
            s.to_ascii_uppercase()
        } else {
            s.to_ascii_lowercase()
        });
    }
    Arc::from(if up {
        s.to_uppercase()
    } else {
        s.to_lowercase()
    })
}

fn call(f: Builtin, args: &[CExpr], env: &dyn Env) -> Value {
    let arg = |i: usize| args.get(i).map_or(Value::Null, |a| eval(a, env));
    match f {
        Builtin::Abs => match arg(0) {
            Value::Int(i) => i.checked_abs().map_or(Value::Null, Value::Int),
            Value::Float(x) => Value::Float(x.abs()),
            Value::Duration(d) => d.checked_abs().map_or(Value::Null, Value::Duration),
            _ => Value::Null,
        },
        Builtin::Lower => match arg(0) {
            Value::Str(s) => Value::Str(recase(s, false)),
            _ => Value::Null,
        },
        Builtin::Upper => match arg(0) {
            Value::Str(s) => Value::Str(recase(s, true)),
            _ => Value::Null,
        },
        Builtin::Length => match arg(0) {
            Value::Str(s) => Value::Int(s.chars().count() as i64),
            _ => Value::Null,
        },
        Builtin::Contains | Builtin::StartsWith | Builtin::EndsWith => match (arg(0), arg(1)) {
            (Value::Str(s), Value::Str(p)) => Value::Bool(match f {
                Builtin::Contains => s.contains(&*p),
                Builtin::StartsWith => s.starts_with(&*p),
                _ => s.ends_with(&*p),
            }),
            _ => Value::Null,
        },
        Builtin::ContainsAny | Builtin::CountAny => {
            let Value::Str(s) = arg(0) else {
                return Value::Null;
            };
            let n = match args.get(1) {
                // Constant words (the common case, `CExpr::Words`): their
                // searchers were built when the pattern compiled.
                Some(CExpr::Words(words)) => {
                    let text = s.as_bytes();
                    let mut found = words.iter().filter(|w| w.find(text).is_some());
                    if f == Builtin::ContainsAny {
                        i64::from(found.next().is_some())
                    } else {
                        found.count() as i64
                    }
                }
                Some(list) => {
                    let mut n = 0i64;
                    each_item(list, env, &mut |w| {
                        if let Value::Str(w) = w {
                            n += i64::from(s.contains(&*w));
                        }
                    });
                    n
                }
                None => 0,
            };
            if f == Builtin::CountAny {
                Value::Int(n)
            } else {
                Value::Bool(n > 0)
            }
        }
        Builtin::Hour | Builtin::Minute | Builtin::DayOfWeek => match arg(0) {
            Value::Timestamp(t) => {
                let days = t.0.div_euclid(NANOS_PER_DAY);
                let in_day = t.0.rem_euclid(NANOS_PER_DAY) / 1_000_000_000;
                Value::Int(match f {
                    Builtin::Hour => in_day / 3600,
                    Builtin::Minute => (in_day / 60) % 60,
                    // 1970-01-01 was a Thursday (4); Monday is 1.
                    _ => (days + 3).rem_euclid(7) + 1,
                })
            }
            _ => Value::Null,
        },
        Builtin::Coalesce => {
            for a in args {
                let v = eval(a, env);
                if !v.is_null() {
                    return v;
                }
            }
            Value::Null
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(v: Value) -> Box<CExpr> {
        Box::new(CExpr::Const(v))
    }

    proptest::proptest! {
        /// `lower` and `upper` map case as `str::to_lowercase` and
        /// `str::to_uppercase` do, on ASCII text by bytes and on any other
        /// text (`İ`, `ß`, `Σ`) by Unicode's rules.
        #[test]
        fn recase_maps_as_the_standard_library(t in "[a-zA-Z0-9 İißΣσé_-]{0,12}") {
            let a: Arc<str> = Arc::from(t.as_str());
            let (lower, upper) = (recase(a.clone(), false), recase(a, true));
            proptest::prop_assert_eq!(lower.to_string(), t.to_lowercase());
            proptest::prop_assert_eq!(upper.to_string(), t.to_uppercase());
        }

        /// A constant word list searched with its prebuilt searchers counts
        /// what `str::contains` counts word by word (empty words, repeated
        /// words and multi-byte characters included).
        #[test]
        fn prebuilt_word_searchers_count_as_contains(
            t in "[abcé ]{0,16}",
            ws in proptest::collection::vec("[abcé]{0,3}", 0..6),
        ) {
            let list = CExpr::List(ws.iter().map(|w| CExpr::Const(Value::str(w))).collect());
            let Some(words) = words(&list) else {
                return Err(proptest::test_runner::TestCaseError::fail("no searchers"));
            };
            let want = ws.iter().filter(|w| t.contains(w.as_str())).count() as i64;
            for (f, expect) in [
                (Builtin::CountAny, Value::Int(want)),
                (Builtin::ContainsAny, Value::Bool(want > 0)),
            ] {
                let args = |l: CExpr| vec![CExpr::Const(Value::str(&t)), l];
                let fast = call(f, &args(CExpr::Words(words.clone())), &NoEnv);
                let slow = call(f, &args(list.clone()), &NoEnv);
                proptest::prop_assert_eq!(&fast, &expect);
                proptest::prop_assert_eq!(&slow, &expect);
            }
        }
    }

    /// Only lists of constant strings get searchers: a NULL item keeps the
    /// list (it counts nothing, as before).
    #[test]
    fn words_need_constant_strings() {
        let strs = CExpr::List(vec![
            CExpr::Const(Value::str("a")),
            CExpr::Const(Value::str("")),
        ]);
        assert_eq!(words(&strs).map(|w| w.len()), Some(2));
        let null = CExpr::List(vec![
            CExpr::Const(Value::str("a")),
            CExpr::Const(Value::Null),
        ]);
        assert!(words(&null).is_none());
        assert!(words(&CExpr::Const(Value::str("a"))).is_none());
    }

    #[test]
    fn three_valued_logic() {
        let and = CExpr::Bin(BinaryOp::And, c(Value::Null), c(Value::Bool(false)));
        assert_eq!(eval(&and, &NoEnv), Value::Bool(false));
        let and = CExpr::Bin(BinaryOp::And, c(Value::Null), c(Value::Bool(true)));
        assert_eq!(eval(&and, &NoEnv), Value::Null);
        let or = CExpr::Bin(BinaryOp::Or, c(Value::Null), c(Value::Bool(true)));
        assert_eq!(eval(&or, &NoEnv), Value::Bool(true));
        let not = CExpr::Not(c(Value::Null));
        assert!(!holds(&not, &NoEnv));
        let cmp = CExpr::Bin(BinaryOp::Gt, c(Value::Null), c(Value::Int(1)));
        assert_eq!(eval(&cmp, &NoEnv), Value::Null);
    }

    /// A running summary (with its FLOAT shortcut) gives what folding the
    /// elements with `arith` and `compare` gives, NaN, -0.0, NULLs and
    /// mixed INT/FLOAT lists included.
    #[test]
    fn running_summaries_equal_the_fold() {
        let lists: Vec<Vec<Value>> = vec![
            vec![Value::Float(2.5), Value::Float(-1.0), Value::Float(7.25)],
            vec![
                Value::Float(0.0),
                Value::Float(-0.0),
                Value::Float(f64::NAN),
                Value::Float(3.0),
            ],
            vec![
                Value::Float(f64::NAN),
                Value::Float(1.0),
                Value::Float(-4.0),
            ],
            vec![
                Value::Float(1.5),
                Value::Null,
                Value::Int(2),
                Value::Float(0.5),
            ],
            vec![Value::Int(3), Value::Float(4.5), Value::Float(-2.0)],
            vec![
                Value::Float(f64::INFINITY),
                Value::Float(1.0),
                Value::Float(f64::NEG_INFINITY),
            ],
        ];
        for list in lists {
            let mut s = Summary::default();
            let (mut n, mut sum, mut min, mut max) = (0i64, Value::Null, Value::Null, Value::Null);
            for v in &list {
                s.add(v.clone());
                if v.is_null() {
                    continue;
                }
                n += 1;
                if n == 1 {
                    (sum, min, max) = (v.clone(), v.clone(), v.clone());
                    continue;
                }
                sum = arith(BinaryOp::Add, &sum, v);
                if compare(v, &min) == Some(Ordering::Less) {
                    min = v.clone();
                }
                if compare(v, &max) == Some(Ordering::Greater) {
                    max = v.clone();
                }
            }
            assert_eq!(s.result(AggFunc::Count), Value::Int(n), "{list:?}");
            assert!(same(&s.result(AggFunc::Sum), &sum), "sum of {list:?}");
            assert!(same(&s.result(AggFunc::Min), &min), "min of {list:?}");
            assert!(same(&s.result(AggFunc::Max), &max), "max of {list:?}");
        }
    }

    #[test]
    fn arithmetic_never_panics() {
        assert_eq!(
            arith(BinaryOp::Add, &Value::Int(i64::MAX), &Value::Int(1)),
            Value::Null
        );
        assert_eq!(
            arith(BinaryOp::Div, &Value::Int(1), &Value::Int(0)),
            Value::Null
        );
        assert_eq!(
            arith(BinaryOp::Div, &Value::Int(i64::MIN), &Value::Int(-1)),
            Value::Null
        );
        assert_eq!(
            arith(
                BinaryOp::Sub,
                &Value::Timestamp(EventTime(5_000)),
                &Value::Timestamp(EventTime(2_000))
            ),
            Value::Duration(3_000)
        );
    }

    /// The numeric fast path of `FastCmp` agrees with the general
    /// evaluator on every comparison, arithmetic step and mix of INT, FLOAT
    /// (with NaN, infinities, zero), NULL and non-numbers.
    /// Values for the comparison tests: INT, FLOAT with NaN, infinities
    /// and both zeros, NULL and non-numbers.
    fn sample_values() -> [Value; 14] {
        [
            Value::Null,
            Value::Int(0),
            Value::Int(3),
            Value::Int(-7),
            Value::Int(i64::MAX),
            Value::Int(i64::MIN),
            Value::Float(0.0),
            Value::Float(-0.0),
            Value::Float(2.5),
            Value::Float(f64::NAN),
            Value::Float(f64::INFINITY),
            Value::str("x"),
            Value::Bool(true),
            Value::Duration(5),
        ]
    }

    /// Every aggregate function.
    const AGG_FUNCS: [AggFunc; 5] = [
        AggFunc::Count,
        AggFunc::Sum,
        AggFunc::Min,
        AggFunc::Max,
        AggFunc::Avg,
    ];

    /// Equal values, FLOATs bit for bit (NaN equals NaN, -0.0 is not 0.0).
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
            _ => a == b,
        }
    }

    const CMPS: [BinaryOp; 6] = [
        BinaryOp::Eq,
        BinaryOp::Ne,
        BinaryOp::Lt,
        BinaryOp::Le,
        BinaryOp::Gt,
        BinaryOp::Ge,
    ];

    /// `Summary::num` is `Num::of(&result)` for every aggregate over every
    /// sequence of up to three sample values (NULLs, INT overflow, NaN,
    /// DURATIONs and non-numbers included).
    #[test]
    fn summary_numbers_agree_with_results() {
        let vals = sample_values();
        let mut seqs: Vec<Vec<Value>> = vec![Vec::new()];
        for a in &vals {
            seqs.push(vec![a.clone()]);
            for b in &vals {
                seqs.push(vec![a.clone(), b.clone()]);
                seqs.push(vec![a.clone(), b.clone(), a.clone()]);
            }
        }
        for seq in &seqs {
            let mut s = Summary::default();
            for v in seq {
                s.add(v.clone());
            }
            for f in AGG_FUNCS {
                let want = format!("{:?}", Num::of(&s.result(f)));
                assert_eq!(format!("{:?}", s.num(f)), want, "{f:?} of {seq:?}");
            }
        }
    }

    /// The plain-number form of a summary gives what the general form
    /// gives, bit for bit (the sign of a zero sum, NaN, infinities), for
    /// every aggregate over every sequence of up to four sample values,
    /// and survives a snapshot's round trip (NaN and infinities included).
    #[test]
    fn float_summaries_agree_with_the_general_form() {
        let vals = sample_values();
        let mut seqs: Vec<Vec<Value>> = vec![Vec::new()];
        for _ in 0..4 {
            let longer: Vec<Vec<Value>> = seqs
                .iter()
                .filter(|s| s.len() == seqs.last().map_or(0, Vec::len))
                .flat_map(|s| {
                    vals.iter().map(move |v| {
                        let mut t = s.clone();
                        t.push(v.clone());
                        t
                    })
                })
                .collect();
            seqs.extend(longer);
        }
        let mut floats = 0;
        for seq in &seqs {
            let mut s = Summary::default();
            let mut g = General::default();
            for v in seq {
                // `with` is `add` on a copy, bit for bit.
                let w = s.with(v.clone());
                s.add(v.clone());
                g.add(v.clone());
                assert_eq!(format!("{w:?}"), format!("{s:?}"), "with {v:?} in {seq:?}");
            }
            if matches!(s.0, Acc::Floats { .. }) {
                floats += 1;
            }
            // Snapshots are JSON, which has no NaN or infinity: they are
            // saved as strings (`value::float_serde`).
            let text = serde_json::to_string(&s).expect("a summary saves");
            let back: Summary = serde_json::from_str(&text).expect("a saved summary loads");
            let finite = seq
                .iter()
                .all(|v| !matches!(v, Value::Float(x) if !x.is_finite()));
            for f in AGG_FUNCS {
                let (got, want) = (s.result(f), g.result(f));
                assert!(same(&got, &want), "{f:?} of {seq:?}: {got:?} != {want:?}");
                assert_eq!(format!("{:?}", s.num(f)), format!("{:?}", g.num(f)));
                assert!(same(&back.result(f), &want), "{f:?} of {seq:?} saved");
            }
            // NaN is not equal to itself: compared above, bit for bit.
            if finite {
                assert_eq!(back.general(), g, "{seq:?} saved");
            }
        }
        assert!(floats > 100, "the float form is taken ({floats})");
    }

    #[test]
    fn fast_comparisons_agree_with_eval() {
        let vals = sample_values();
        let cmps = CMPS;
        let ariths = [
            BinaryOp::Add,
            BinaryOp::Sub,
            BinaryOp::Mul,
            BinaryOp::Div,
            BinaryOp::Rem,
        ];
        let mut checked = 0;
        for cmp in cmps {
            for a in &vals {
                for b in &vals {
                    let plain = CExpr::Bin(cmp, c(a.clone()), c(b.clone()));
                    let fast = FastCmp::from_expr(&plain).expect("a fast form");
                    assert_eq!(
                        fast.holds(|_, _, _| None, &NoEnv),
                        holds(&plain, &NoEnv),
                        "{plain:?}"
                    );
                    for op in ariths {
                        for k in &vals {
                            let lhs = Box::new(CExpr::Bin(op, c(a.clone()), c(k.clone())));
                            let e = CExpr::Bin(cmp, lhs, c(b.clone()));
                            let fast = FastCmp::from_expr(&e).expect("a fast form");
                            assert_eq!(
                                fast.holds(|_, _, _| None, &NoEnv),
                                holds(&e, &NoEnv),
                                "{e:?}"
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 5_000);
    }

    /// Two variables with one field each: `a` (var 0) is the run's bound
    /// event, `b` (var 1) the event being bound.
    struct TwoVars(Value, Value);

    impl Env for TwoVars {
        fn field(&self, var: VarId, _: Access, _: FieldRef) -> Value {
            match var.index() {
                0 => self.0.clone(),
                1 => self.1.clone(),
                _ => Value::Null,
            }
        }
        fn each(&self, _: VarId, _: AggRange, _: Option<FieldRef>, _: &mut dyn FnMut(Value)) {}
    }

    /// A comparison split into the event's side and the run's side
    /// ([`FastCmp::split`]) decides as the general evaluator does, with the
    /// event's variable on either side (the operator is then mirrored) and
    /// an arithmetic step on either side; a side that is not a number
    /// leaves it to the whole conjunct.
    #[test]
    fn split_comparisons_agree_with_eval() {
        use dalal_lang::typed::SlotId;
        let vals = sample_values();
        let field = |v: usize| {
            Box::new(CExpr::Field {
                var: VarId::from_index(v),
                access: Access::Single,
                field: FieldRef::Slot(SlotId::from_index(0)),
            })
        };
        let (run_var, cur_var) = (VarId::from_index(0), VarId::from_index(1));
        let mut checked = 0;
        for cmp in CMPS {
            for k in [Value::Int(2), Value::Float(1.002), Value::Int(0)] {
                let scaled = |v: usize| Box::new(CExpr::Bin(BinaryOp::Mul, field(v), c(k.clone())));
                let exprs = [
                    CExpr::Bin(cmp, field(1), scaled(0)),
                    CExpr::Bin(cmp, scaled(0), field(1)),
                    CExpr::Bin(cmp, scaled(1), field(0)),
                    CExpr::Bin(cmp, field(0), scaled(1)),
                    CExpr::Bin(cmp, field(1), field(0)),
                ];
                for e in exprs {
                    let fast = FastCmp::from_expr(&e).expect("a fast form");
                    let split = fast.split(cur_var).expect("a split");
                    assert!(fast.split(VarId::from_index(2)).is_none());
                    for a in &vals {
                        for b in &vals {
                            let env = TwoVars(a.clone(), b.clone());
                            let get = |var: VarId, _, _| match var.index() {
                                0 => Some(a),
                                1 => Some(b),
                                _ => None,
                            };
                            let want = holds(&e, &env);
                            // The event's side from the bound event's fields.
                            let cur = split.cur_num(std::slice::from_ref(b));
                            let run = split.run_num(get, &env);
                            let got = split
                                .decide(cur, run)
                                .unwrap_or_else(|| fast.holds(get, &env));
                            assert_eq!(got, want, "{e:?} with a = {a:?}, b = {b:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 5_000);
        // Both sides read the event being bound, or neither does: no split.
        let both = CExpr::Bin(
            BinaryOp::Gt,
            Box::new(CExpr::Bin(BinaryOp::Sub, field(1), field(0))),
            c(Value::Int(1)),
        );
        let fast = FastCmp::from_expr(&both).expect("a fast form");
        assert!(fast.split(cur_var).is_none() && fast.split(run_var).is_none());
        let local = CExpr::Bin(BinaryOp::Gt, field(1), c(Value::Int(1)));
        let fast = FastCmp::from_expr(&local).expect("a fast form");
        assert!(fast.split(cur_var).is_none());
        // An element being added to a list against what the run holds:
        // `t[i-1]` and `avg(t[..i-1])` are the run's, `t[1]` and
        // `avg(t)` may be or include the element itself.
        let t = VarId::from_index(0);
        let elem = |access| {
            Box::new(CExpr::Field {
                var: t,
                access,
                field: FieldRef::Slot(SlotId::from_index(0)),
            })
        };
        let agg = |range| {
            Box::new(CExpr::Agg {
                func: AggFunc::Avg,
                var: t,
                range,
                field: Some(FieldRef::Slot(SlotId::from_index(0))),
            })
        };
        let cases = [
            (elem(Access::Previous), true),
            (agg(AggRange::BeforeCurrent), true),
            (elem(Access::Nth(1)), false),
            (agg(AggRange::All), false),
        ];
        for (other, splits) in cases {
            for e in [
                CExpr::Bin(BinaryOp::Gt, elem(Access::Current), other.clone()),
                CExpr::Bin(BinaryOp::Lt, other, elem(Access::Current)),
            ] {
                let fast = FastCmp::from_expr(&e).expect("a fast form");
                assert_eq!(fast.split(t).is_some(), splits, "{e:?}");
            }
        }
    }

    /// A take carries its event's side over as the run's side exactly when
    /// the run's side reads `t[i-1]` the way the event's side reads `t[i]`.
    #[test]
    fn a_take_carries_the_event_side_of_the_same_reads() {
        use dalal_lang::typed::SlotId;
        let t = VarId::from_index(0);
        let field = |access, slot| {
            Box::new(CExpr::Field {
                var: t,
                access,
                field: FieldRef::Slot(SlotId::from_index(slot)),
            })
        };
        let times =
            |e: Box<CExpr>, k: f64| Box::new(CExpr::Bin(BinaryOp::Mul, e, c(Value::Float(k))));
        let avg = Box::new(CExpr::Agg {
            func: AggFunc::Avg,
            var: t,
            range: AggRange::BeforeCurrent,
            field: Some(FieldRef::Slot(SlotId::from_index(0))),
        });
        let cases = [
            (field(Access::Current, 0), field(Access::Previous, 0), true),
            (
                times(field(Access::Current, 0), 2.0),
                times(field(Access::Previous, 0), 2.0),
                true,
            ),
            // Another field, another constant, an aggregate: not the same reads.
            (field(Access::Current, 0), field(Access::Previous, 1), false),
            (
                times(field(Access::Current, 0), 2.0),
                times(field(Access::Previous, 0), 3.0),
                false,
            ),
            (
                field(Access::Current, 0),
                times(field(Access::Previous, 0), 1.0),
                false,
            ),
            (field(Access::Current, 0), avg, false),
        ];
        for (cur, run, carries) in cases {
            for e in [
                CExpr::Bin(BinaryOp::Gt, cur.clone(), run.clone()),
                CExpr::Bin(BinaryOp::Le, run, cur),
            ] {
                let fast = FastCmp::from_expr(&e).expect("a fast form");
                let split = fast.split(t).expect("a split");
                assert_eq!(split.carries(t), carries, "{e:?}");
                // Another variable's edge reads none of it as its own.
                assert!(
                    fast.split(VarId::from_index(1))
                        .is_none_or(|s| !s.carries(t))
                );
            }
        }
    }

    #[test]
    fn in_list_three_valued() {
        let list = CExpr::List(vec![CExpr::Const(Value::Int(1)), CExpr::Const(Value::Null)]);
        let e = CExpr::In(c(Value::Int(1)), Box::new(list.clone()));
        assert_eq!(eval(&e, &NoEnv), Value::Bool(true));
        let e = CExpr::In(c(Value::Int(2)), Box::new(list));
        assert_eq!(eval(&e, &NoEnv), Value::Null);
    }

    #[test]
    fn running_aggregates_match_sql() {
        let mut s = Summary::default();
        assert_eq!(s.result(AggFunc::Count), Value::Int(0));
        assert_eq!(s.result(AggFunc::Sum), Value::Null);
        for v in [Value::Int(i64::MAX), Value::Null, Value::Int(i64::MIN)] {
            s.add(v);
        }
        assert_eq!(s.result(AggFunc::Count), Value::Int(2), "NULL is skipped");
        assert_eq!(
            s.result(AggFunc::Avg),
            Value::Float(-0.5),
            "exact sum, then divide"
        );
        assert_eq!(s.result(AggFunc::Min), Value::Int(i64::MIN));
        assert_eq!(s.result(AggFunc::Max), Value::Int(i64::MAX));
        let mut o = Summary::default();
        o.add(Value::Int(i64::MAX));
        o.add(Value::Int(1));
        assert_eq!(o.result(AggFunc::Sum), Value::Null, "overflowing sum");
        let mut d = Summary::default();
        d.add(Value::Duration(3));
        d.add(Value::Duration(4));
        assert_eq!(d.result(AggFunc::Avg), Value::Duration(3));
    }

    #[test]
    fn calendar_functions() {
        // 2024-01-02T09:15:00Z was a Tuesday.
        let t = Value::Timestamp(EventTime(1_704_186_900 * 1_000_000_000));
        let call1 = |f| call(f, &[CExpr::Const(t.clone())], &NoEnv);
        assert_eq!(call1(Builtin::Hour), Value::Int(9));
        assert_eq!(call1(Builtin::Minute), Value::Int(15));
        assert_eq!(call1(Builtin::DayOfWeek), Value::Int(2));
    }
}

/// An operand of a [`FastCmp`]: a constant, a field read in place, or one
/// arithmetic step over those (`a.price * 1.002`).
#[derive(Clone, Debug)]
pub(crate) enum Operand {
    Const(Value),
    Field {
        var: VarId,
        access: Access,
        slot: usize,
    },
    Arith(BinaryOp, Box<Operand>, Box<Operand>),
    /// An INT field promoted to FLOAT (`t.volume > avg(...)`).
    FieldAsFloat {
        var: VarId,
        access: Access,
        slot: usize,
    },
    /// An aggregate (`avg(t[..i-1].price)`), read from the run's running
    /// summary through [`Env::summary`] when it keeps one.
    Agg {
        func: AggFunc,
        var: VarId,
        range: AggRange,
        field: Option<FieldRef>,
    },
}

/// A conjunct of the common shape `x <cmp> y` whose operands are fields,
/// constants or one arithmetic step over them. It is evaluated by reading
/// field values in place (no clone, no dynamic dispatch, no tree walk over
/// `CExpr`), with the same [`binary`] and `arith` functions as [`eval`], so
/// its result is exactly `holds(expr)`.
#[derive(Clone, Debug)]
pub(crate) struct FastCmp {
    op: BinaryOp,
    l: Operand,
    r: Operand,
    /// One side is a constant that is not a number (`s.side = 'sell'`):
    /// the numeric path would read both sides only to find `Num::Other`,
    /// so [`FastCmp::holds`] compares the values at once.
    by_value: bool,
}

impl Operand {
    fn from_expr(e: &CExpr, depth: u8) -> Option<Operand> {
        match e {
            CExpr::Const(v) => Some(Operand::Const(v.clone())),
            CExpr::Field {
                var,
                access,
                field: FieldRef::Slot(s),
            } => Some(Operand::Field {
                var: *var,
                access: *access,
                slot: s.index(),
            }),
            CExpr::ToFloat(x) => match &**x {
                CExpr::Field {
                    var,
                    access,
                    field: FieldRef::Slot(s),
                } => Some(Operand::FieldAsFloat {
                    var: *var,
                    access: *access,
                    slot: s.index(),
                }),
                _ => None,
            },
            CExpr::Agg {
                func,
                var,
                range,
                field,
            } => Some(Operand::Agg {
                func: *func,
                var: *var,
                range: *range,
                field: *field,
            }),
            CExpr::Bin(
                op
                @ (BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem),
                a,
                b,
            ) if depth == 0 => Some(Operand::Arith(
                *op,
                Box::new(Operand::from_expr(a, 1)?),
                Box::new(Operand::from_expr(b, 1)?),
            )),
            _ => None,
        }
    }

    fn value<'a>(
        &'a self,
        get: &impl Fn(VarId, Access, usize) -> Option<&'a Value>,
        env: &dyn Env,
    ) -> std::borrow::Cow<'a, Value> {
        use std::borrow::Cow;
        match self {
            Operand::Const(v) => Cow::Borrowed(v),
            Operand::Field { var, access, slot } => {
                get(*var, *access, *slot).map_or(Cow::Owned(Value::Null), Cow::Borrowed)
            }
            Operand::FieldAsFloat { var, access, slot } => match get(*var, *access, *slot) {
                Some(Value::Int(i)) => Cow::Owned(Value::Float(*i as f64)),
                Some(v) => Cow::Borrowed(v),
                None => Cow::Owned(Value::Null),
            },
            Operand::Agg {
                func,
                var,
                range,
                field,
            } => Cow::Owned(aggregate(*func, *var, *range, *field, env)),
            Operand::Arith(op, a, b) => {
                Cow::Owned(binary(*op, &a.value(get, env), &b.value(get, env)))
            }
        }
    }
}

/// A numeric operand value, computed without building a [`Value`]: the
/// common case of a [`FastCmp`] (prices and volumes).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Num {
    I(i64),
    F(f64),
    /// NULL: the comparison is unknown, so it does not hold.
    Null,
    /// Not a number: [`FastCmp::holds`] takes the general path.
    Other,
}

impl Num {
    #[inline(always)]
    fn of(v: &Value) -> Num {
        match v {
            Value::Int(i) => Num::I(*i),
            Value::Float(f) => Num::F(*f),
            Value::Null => Num::Null,
            _ => Num::Other,
        }
    }

    /// [`arith`] on numbers, with the same results (overflow and division
    /// by zero are NULL; mixed operands promote to FLOAT).
    #[inline(always)]
    fn arith(op: BinaryOp, a: Num, b: Num) -> Num {
        let float = |x: f64, y: f64| match float_op(op, x, y) {
            Value::Float(r) => Num::F(r),
            _ => Num::Null,
        };
        match (a, b) {
            (Num::Other, _) | (_, Num::Other) => Num::Other,
            (Num::I(x), Num::I(y)) => int_op(op, x, y).map_or(Num::Null, Num::I),
            (Num::F(x), Num::F(y)) => float(x, y),
            (Num::I(x), Num::F(y)) => float(x as f64, y),
            (Num::F(x), Num::I(y)) => float(x, y as f64),
            _ => Num::Null,
        }
    }

    /// [`compare`] on numbers.
    fn compare(a: Num, b: Num) -> Option<Ordering> {
        match (a, b) {
            (Num::I(x), Num::I(y)) => Some(x.cmp(&y)),
            (Num::F(x), Num::F(y)) => x.partial_cmp(&y),
            (Num::I(x), Num::F(y)) => (x as f64).partial_cmp(&y),
            (Num::F(x), Num::I(y)) => x.partial_cmp(&(y as f64)),
            _ => None,
        }
    }
}

impl Operand {
    /// Not recursive (an arithmetic step's operands are leaves, see
    /// `from_expr`), so the field reader inlines into it. `always`: with a
    /// plain hint these stayed calls in the profile (-3.5% on seq2).
    #[inline(always)]
    fn num<'a>(
        &'a self,
        get: &impl Fn(VarId, Access, usize) -> Option<&'a Value>,
        env: &dyn Env,
    ) -> Num {
        match self {
            Operand::Arith(op, a, b) => Num::arith(*op, a.leaf_num(get, env), b.leaf_num(get, env)),
            leaf => leaf.leaf_num(get, env),
        }
    }

    #[inline(always)]
    fn leaf_num<'a>(
        &'a self,
        get: &impl Fn(VarId, Access, usize) -> Option<&'a Value>,
        env: &dyn Env,
    ) -> Num {
        match self {
            Operand::Const(v) => Num::of(v),
            Operand::Field { var, access, slot } => {
                get(*var, *access, *slot).map_or(Num::Null, Num::of)
            }
            Operand::FieldAsFloat { var, access, slot } => match get(*var, *access, *slot) {
                Some(Value::Int(i)) => Num::F(*i as f64),
                Some(v) => Num::of(v),
                None => Num::Null,
            },
            Operand::Agg {
                func,
                var,
                range,
                field,
            } => agg_num(*func, *var, *range, *field, env),
            // Never built (one arithmetic step at most): the general path.
            Operand::Arith(..) => Num::Other,
        }
    }
}

/// An aggregate operand as a number. Out of line: only comparisons with an
/// aggregate need the summary machinery, so the plain numeric path that
/// every field comparison takes does not carry it.
#[inline(never)]
fn agg_num(
    func: AggFunc,
    var: VarId,
    range: AggRange,
    field: Option<FieldRef>,
    env: &dyn Env,
) -> Num {
    // No running summary: the general path folds the list.
    env.summary_num(func, var, range, field)
        .unwrap_or(Num::Other)
}

impl FastCmp {
    /// The comparison over values (strings, booleans, times): out of line,
    /// so that the numeric path of [`FastCmp::holds`] stays small.
    #[cold]
    #[inline(never)]
    fn holds_general<'a>(
        &'a self,
        get: &impl Fn(VarId, Access, usize) -> Option<&'a Value>,
        env: &dyn Env,
    ) -> bool {
        let l = self.l.value(get, env);
        let r = self.r.value(get, env);
        // What `binary` gives for a comparison, without building the BOOL.
        ordering_holds(self.op, compare(&l, &r))
    }

    /// The fast form of a conjunct, when it has the shape.
    pub(crate) fn from_expr(e: &CExpr) -> Option<FastCmp> {
        match e {
            CExpr::Bin(
                op @ (BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge),
                a,
                b,
            ) => {
                let (l, r) = (Operand::from_expr(a, 0)?, Operand::from_expr(b, 0)?);
                let by_value = [&l, &r]
                    .into_iter()
                    .any(|o| matches!(o, Operand::Const(v) if matches!(Num::of(v), Num::Other)));
                Some(FastCmp {
                    op: *op,
                    l,
                    r,
                    by_value,
                })
            }
            _ => None,
        }
    }

    /// True when the comparison is TRUE; `get` reads a field slot of a
    /// variable (`None`: NULL, as [`Env::field`] gives for an absent one).
    pub(crate) fn holds<'a>(
        &'a self,
        get: impl Fn(VarId, Access, usize) -> Option<&'a Value>,
        env: &dyn Env,
    ) -> bool {
        if self.by_value {
            return self.holds_general(&get, env);
        }
        match (self.l.num(&get, env), self.r.num(&get, env)) {
            (Num::Other, _) | (_, Num::Other) => self.holds_general(&get, env),
            (l, r) => ordering_holds(self.op, Num::compare(l, r)),
        }
    }
}

/// An ordering's bit in [`Split::ordering_bits`] (none for NaN).
#[inline(always)]
pub(crate) fn ordering_bit(o: Option<Ordering>) -> u8 {
    match o {
        Some(Ordering::Less) => 1,
        Some(Ordering::Equal) => 2,
        Some(Ordering::Greater) => 4,
        None => 0,
    }
}

/// Whether a comparison `op` is TRUE for operands that compare as `o`
/// (`None`: unordered or NULL, so unknown, which does not hold).
#[inline(always)]
fn ordering_holds(op: BinaryOp, o: Option<Ordering>) -> bool {
    o.is_some_and(|o| match op {
        BinaryOp::Eq => o == Ordering::Equal,
        BinaryOp::Ne => o != Ordering::Equal,
        BinaryOp::Lt => o == Ordering::Less,
        BinaryOp::Le => o != Ordering::Greater,
        BinaryOp::Gt => o == Ordering::Greater,
        BinaryOp::Ge => o != Ordering::Less,
        _ => false,
    })
}

/// A comparison of a plain sequence's or a single list's edge split into
/// the side that reads the event being bound (`b.price`, `t[i].price`) and
/// the side that reads only what a run bound earlier (`a.price * 1.002`,
/// `t[i-1].price`, `avg(t[..i-1].price)`): the second is the same for every
/// event a run meets until it takes one, so a run computes it once
/// ([`Split::run_num`]) and each event computes the first
/// once for all runs;
/// a run's test is then one comparison of two numbers ([`Split::decide`]).
/// Oriented so that `cur op run` is the conjunct.
#[derive(Clone, Debug)]
pub(crate) struct Split {
    op: BinaryOp,
    cur: Operand,
    run: Operand,
}

/// What an operand reads, relative to the variable an edge binds
/// ([`Operand::reads`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reads {
    /// Constants only.
    Nothing,
    /// The event being bound (`b.price`, `t[i].price`) and constants.
    Cur,
    /// Only what the run bound before (`a.price`, `t[i-1].price`,
    /// `avg(t[..i-1].price)`) and constants.
    Run,
}

/// Two operands that compute the same number from the same reads (a
/// constant only equal to itself bit for bit).
fn same_operand(a: &Operand, b: &Operand) -> bool {
    match (a, b) {
        (Operand::Const(x), Operand::Const(y)) => match (x, y) {
            (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
            (Value::Int(x), Value::Int(y)) => x == y,
            _ => false,
        },
        (
            Operand::Field {
                var: v,
                access: a,
                slot: s,
            },
            Operand::Field {
                var: w,
                access: b,
                slot: t,
            },
        )
        | (
            Operand::FieldAsFloat {
                var: v,
                access: a,
                slot: s,
            },
            Operand::FieldAsFloat {
                var: w,
                access: b,
                slot: t,
            },
        ) => v == w && a == b && s == t,
        (Operand::Arith(o, a1, a2), Operand::Arith(p, b1, b2)) => {
            o == p && same_operand(a1, b1) && same_operand(a2, b2)
        }
        _ => false,
    }
}

impl Operand {
    /// This run-side operand as the event's side would read it one element
    /// later: `t[i-1]` of `var` becomes `t[i]`; `None` when it reads
    /// anything else of a run (an aggregate, another variable).
    fn shifted(&self, var: VarId) -> Option<Operand> {
        match self {
            Operand::Const(v) => Some(Operand::Const(v.clone())),
            Operand::Field {
                var: v,
                access: Access::Previous,
                ..
            }
            | Operand::FieldAsFloat {
                var: v,
                access: Access::Previous,
                ..
            } if *v == var => {
                let mut shifted = self.clone();
                if let Operand::Field { access, .. } | Operand::FieldAsFloat { access, .. } =
                    &mut shifted
                {
                    *access = Access::Current;
                }
                Some(shifted)
            }
            Operand::Arith(op, a, b) => Some(Operand::Arith(
                *op,
                Box::new(a.shifted(var)?),
                Box::new(b.shifted(var)?),
            )),
            _ => None,
        }
    }

    /// Which side of a split the operand can be for an edge binding `var`
    /// (`None`: it reads both, or an element whose place depends on the
    /// list's length, `t[n]`, which is the event being bound for one run
    /// and an earlier element for another).
    fn reads(&self, var: VarId) -> Option<Reads> {
        match self {
            Operand::Const(_) => Some(Reads::Nothing),
            Operand::Field { var: v, access, .. }
            | Operand::FieldAsFloat { var: v, access, .. } => {
                if *v != var {
                    return Some(Reads::Run);
                }
                match access {
                    Access::Single | Access::Current | Access::Last => Some(Reads::Cur),
                    Access::Previous => Some(Reads::Run),
                    Access::Nth(_) => None,
                }
            }
            Operand::Agg { var: v, range, .. } => {
                (*v != var || *range == AggRange::BeforeCurrent).then_some(Reads::Run)
            }
            Operand::Arith(_, a, b) => match (a.reads(var)?, b.reads(var)?) {
                (Reads::Nothing, x) | (x, Reads::Nothing) => Some(x),
                (x, y) => (x == y).then_some(x),
            },
        }
    }
}

impl FastCmp {
    /// The split of this comparison for an edge binding `var`: one side
    /// reads the event being bound (and constants) alone, the other only
    /// what the run bound before (and constants).
    pub(crate) fn split(&self, var: VarId) -> Option<Split> {
        let flipped = match self.op {
            BinaryOp::Lt => BinaryOp::Gt,
            BinaryOp::Le => BinaryOp::Ge,
            BinaryOp::Gt => BinaryOp::Lt,
            BinaryOp::Ge => BinaryOp::Le,
            op => op,
        };
        match (self.l.reads(var)?, self.r.reads(var)?) {
            (Reads::Cur, Reads::Run) => Some(Split {
                op: self.op,
                cur: self.l.clone(),
                run: self.r.clone(),
            }),
            (Reads::Run, Reads::Cur) => Some(Split {
                op: flipped,
                cur: self.r.clone(),
                run: self.l.clone(),
            }),
            _ => None,
        }
    }
}

impl Split {
    /// The run's side as a number, read through the run's view (`get`,
    /// `env`). `always`: it stayed a call once the single-list step read
    /// it too.
    #[inline(always)]
    pub(crate) fn run_num<'a>(
        &'a self,
        get: impl Fn(VarId, Access, usize) -> Option<&'a Value>,
        env: &dyn Env,
    ) -> Num {
        self.run.num(&get, env)
    }

    /// The event's side read straight from the fields of the event being
    /// bound: that side reads only the event and constants (`Reads::Cur`),
    /// so no view of the run is needed (building and reading through one
    /// was ~50 instructions an event). An aggregate, which that side never holds,
    /// would read as not a number, and the conjunct be evaluated whole.
    #[inline(always)]
    pub(crate) fn cur_num(&self, fields: &[Value]) -> Num {
        self.cur.num(&|_, _, slot| fields.get(slot), &NoEnv)
    }

    /// The run's side when it is one running aggregate of the list being
    /// extended, read before the element being bound (`avg(t[..i-1].x)`
    /// on an edge binding `t`): its function and the `(variable, field)`
    /// its state is kept under ([`crate::nfa::Nfa::agg_slots`]).
    pub(crate) fn run_aggregate(&self, var: VarId) -> Option<(AggFunc, (VarId, Option<FieldRef>))> {
        match self.run {
            Operand::Agg {
                func,
                var: v,
                range: AggRange::BeforeCurrent,
                field,
            } if v == var => Some((func, (v, field))),
            _ => None,
        }
    }

    /// Whether a run that takes an event along the edge binding `var` has,
    /// for its next test, the event's own side as its side: the run's side
    /// reads the list's last element where the event's side reads the
    /// element being bound, through the same fields and arithmetic
    /// (`t[i].price > t[i-1].price`). The value the step computed for the
    /// event is then the run's, with nothing to read again.
    pub(crate) fn carries(&self, var: VarId) -> bool {
        self.run
            .shifted(var)
            .is_some_and(|r| same_operand(&r, &self.cur))
    }

    /// The orderings of `cur` against `run` under which the conjunct holds,
    /// as bits (1: less, 2: equal, 4: greater), for deciding many runs
    /// against one event with no match on the operator per run: two floats
    /// hold when their ordering's bit is set (NaN has none), as
    /// [`Split::decide`] computes.
    pub(crate) fn ordering_bits(&self) -> u8 {
        [Ordering::Less, Ordering::Equal, Ordering::Greater]
            .into_iter()
            .filter(|o| ordering_holds(self.op, Some(*o)))
            .fold(0, |m, o| m | ordering_bit(Some(o)))
    }

    /// The conjunct's truth from its two sides, as [`FastCmp::holds`]
    /// computes it; `None` when a side is not a number (the conjunct is then
    /// evaluated whole).
    #[inline]
    pub(crate) fn decide(&self, cur: Num, run: Num) -> Option<bool> {
        if matches!(cur, Num::Other) || matches!(run, Num::Other) {
            return None;
        }
        Some(ordering_holds(self.op, Num::compare(cur, run)))
    }
}
