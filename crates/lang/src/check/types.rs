//! Typing rules of operators and built-in functions.
//!
//! Choices where LANGUAGE.md is silent (documented for users in docs/):
//! - `INT op INT` is `INT` for `+ - * / %`: `/` is integer division truncating
//!   toward zero, as in SQL engines with integer types (PostgreSQL, SQLite).
//!   Mixing `INT` and `FLOAT` promotes the `INT` side ([`TExprKind::ToFloat`]).
//! - Arithmetic with a `NULL` literal has type `NULL` (its value is unknown).
//! - Comparisons (all six operators) need two values of the same type after
//!   numeric promotion; `BOOL` orders `FALSE < TRUE`, `STRING` by bytes.
//! - `%` is defined on numbers only, not on durations.

use crate::ast::BinaryOp;
use crate::typed::{Builtin, TExpr, TExprKind, ValueType as V};

/// A list type (only valid after `IN` and as a list argument).
pub(super) fn is_list(t: V) -> bool {
    matches!(t, V::List | V::StringList)
}

/// Wraps an `INT` (or `NULL`) expression in a promotion to `FLOAT`.
pub(super) fn to_float(e: TExpr) -> TExpr {
    let span = e.span;
    TExpr {
        kind: TExprKind::ToFloat(Box::new(e)),
        ty: V::Float,
        span,
    }
}

/// Promotes `e` to FLOAT when `yes`.
pub(super) fn promote_if(e: TExpr, yes: bool) -> TExpr {
    if yes { to_float(e) } else { e }
}

/// The result of typing a binary operator: result type and which operands
/// get a `ToFloat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Typing {
    pub(super) ty: V,
    pub(super) lhs_float: bool,
    pub(super) rhs_float: bool,
}

fn t(ty: V, lhs_float: bool, rhs_float: bool) -> Option<Typing> {
    Some(Typing {
        ty,
        lhs_float,
        rhs_float,
    })
}

/// `+ - * / %` on scalar operand types, or `None` when undefined.
pub(super) fn arithmetic(op: BinaryOp, l: V, r: V) -> Option<Typing> {
    use BinaryOp::{Add, Div, Mul, Sub};
    let arith_capable =
        |x: V| matches!(x, V::Int | V::Float | V::Duration | V::Timestamp | V::Null);
    match (l, r) {
        (V::Null, x) | (x, V::Null) if arith_capable(x) => t(V::Null, false, false),
        (V::Int, V::Int) => t(V::Int, false, false),
        (V::Int, V::Float) => t(V::Float, true, false),
        (V::Float, V::Int) => t(V::Float, false, true),
        (V::Float, V::Float) => t(V::Float, false, false),
        _ => match (op, l, r) {
            (Sub, V::Timestamp, V::Timestamp) => t(V::Duration, false, false),
            (Add | Sub, V::Timestamp, V::Duration) | (Add, V::Duration, V::Timestamp) => {
                t(V::Timestamp, false, false)
            }
            (Add | Sub, V::Duration, V::Duration) => t(V::Duration, false, false),
            (Mul, V::Duration, V::Int | V::Float)
            | (Mul, V::Int | V::Float, V::Duration)
            | (Div, V::Duration, V::Int | V::Float) => t(V::Duration, false, false),
            (Div, V::Duration, V::Duration) => t(V::Float, false, false),
            _ => None,
        },
    }
}

/// A comparison `= != < <= > >=` (or `IN` membership) of two scalar types:
/// the promotions, or `None` when the types cannot be compared.
pub(super) fn comparison(l: V, r: V) -> Option<Typing> {
    match (l, r) {
        _ if is_list(l) || is_list(r) => None,
        (V::Null, _) | (_, V::Null) => t(V::Bool, false, false),
        (V::Int, V::Float) => t(V::Bool, true, false),
        (V::Float, V::Int) => t(V::Bool, false, true),
        _ if l == r => t(V::Bool, false, false),
        _ => None,
    }
}

/// A hint for a failed arithmetic or comparison, when one helps.
pub(super) fn mismatch_help(op: BinaryOp, l: V, r: V) -> Option<&'static str> {
    match (op, l, r) {
        (BinaryOp::Add, V::Timestamp, V::Timestamp) => {
            Some("timestamps cannot be added; `b.ts - a.ts` is the DURATION between them")
        }
        (_, V::Timestamp, V::Int | V::Float) | (_, V::Int | V::Float, V::Timestamp) => Some(
            "timestamps combine with durations: write a duration literal such as `5m` or `30s`",
        ),
        (_, V::Duration, V::Int | V::Float) | (_, V::Int | V::Float, V::Duration)
            if op.is_comparison() =>
        {
            Some("durations compare with durations: write a literal such as `5m`, `30s` or `500ms`")
        }
        (_, V::Timestamp, V::Duration) | (_, V::Duration, V::Timestamp) if op.is_comparison() => {
            Some(
                "a TIMESTAMP is a point in time and a DURATION a length of time; \
                 `b.ts - a.ts` is the DURATION between two events",
            )
        }
        (BinaryOp::Add, V::String, V::String) => Some("strings cannot be concatenated in v1"),
        _ => None,
    }
}

/// The built-in scalar functions by name (case-sensitive).
pub(super) const BUILTINS: &[(&str, Builtin)] = &[
    ("abs", Builtin::Abs),
    ("lower", Builtin::Lower),
    ("upper", Builtin::Upper),
    ("length", Builtin::Length),
    ("contains", Builtin::Contains),
    ("starts_with", Builtin::StartsWith),
    ("ends_with", Builtin::EndsWith),
    ("contains_any", Builtin::ContainsAny),
    ("count_any", Builtin::CountAny),
    ("hour", Builtin::Hour),
    ("minute", Builtin::Minute),
    ("day_of_week", Builtin::DayOfWeek),
    ("coalesce", Builtin::Coalesce),
];

/// The aggregate function names.
pub(super) const AGGREGATES: &[&str] = &["count", "sum", "avg", "min", "max"];

/// Looks a built-in up.
pub(super) fn builtin(name: &str) -> Option<Builtin> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|&(_, b)| b)
}

/// What a built-in parameter accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Param {
    /// INT, FLOAT or DURATION (the result has the argument's type).
    Number,
    /// STRING.
    Str,
    /// A list of STRING.
    StrList,
    /// TIMESTAMP.
    Time,
}

impl Param {
    pub(super) fn describe(self) -> &'static str {
        match self {
            Param::Number => "a number or a DURATION",
            Param::Str => "STRING",
            Param::StrList => "a list of STRING",
            Param::Time => "TIMESTAMP",
        }
    }

    pub(super) fn accepts(self, ty: V) -> bool {
        ty == V::Null
            || match self {
                Param::Number => matches!(ty, V::Int | V::Float | V::Duration),
                Param::Str => ty == V::String,
                Param::StrList => ty == V::StringList,
                Param::Time => ty == V::Timestamp,
            }
    }
}

/// Parameters and result of a built-in other than `coalesce` (whose arity
/// varies). `None` as result means "the type of the first argument".
pub(super) fn signature(b: Builtin) -> (&'static [Param], Option<V>) {
    use Param::{Number, Str, StrList, Time};
    match b {
        Builtin::Abs => (&[Number], None),
        Builtin::Lower | Builtin::Upper => (&[Str], Some(V::String)),
        Builtin::Length => (&[Str], Some(V::Int)),
        Builtin::Contains | Builtin::StartsWith | Builtin::EndsWith => (&[Str, Str], Some(V::Bool)),
        Builtin::ContainsAny => (&[Str, StrList], Some(V::Bool)),
        Builtin::CountAny => (&[Str, StrList], Some(V::Int)),
        Builtin::Hour | Builtin::Minute | Builtin::DayOfWeek => (&[Time], Some(V::Int)),
        Builtin::Coalesce => (&[], None),
    }
}

/// The common type of `coalesce` arguments: `None` when they do not agree.
/// INT and FLOAT meet at FLOAT; NULL fits anything.
pub(super) fn common_type(tys: impl IntoIterator<Item = V>) -> Option<V> {
    let mut acc = V::Null;
    for ty in tys {
        acc = match (acc, ty) {
            (a, V::Null) => a,
            (V::Null, b) => b,
            (V::Int, V::Float) | (V::Float, V::Int) => V::Float,
            (a, b) if a == b => a,
            _ => return None,
        };
    }
    Some(acc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_rules() {
        use BinaryOp::*;
        assert_eq!(arithmetic(Div, V::Int, V::Int).map(|t| t.ty), Some(V::Int));
        assert_eq!(
            arithmetic(Add, V::Int, V::Float),
            Some(Typing {
                ty: V::Float,
                lhs_float: true,
                rhs_float: false
            })
        );
        assert_eq!(
            arithmetic(Sub, V::Timestamp, V::Timestamp).map(|t| t.ty),
            Some(V::Duration)
        );
        assert_eq!(arithmetic(Add, V::Timestamp, V::Timestamp), None);
        assert_eq!(
            arithmetic(Add, V::Duration, V::Timestamp).map(|t| t.ty),
            Some(V::Timestamp)
        );
        assert_eq!(arithmetic(Sub, V::Duration, V::Timestamp), None);
        assert_eq!(
            arithmetic(Mul, V::Int, V::Duration).map(|t| t.ty),
            Some(V::Duration)
        );
        assert_eq!(arithmetic(Div, V::Int, V::Duration), None);
        assert_eq!(
            arithmetic(Div, V::Duration, V::Duration).map(|t| t.ty),
            Some(V::Float)
        );
        assert_eq!(arithmetic(Rem, V::Duration, V::Duration), None);
        assert_eq!(arithmetic(Add, V::String, V::String), None);
        assert_eq!(
            arithmetic(Add, V::Null, V::Int).map(|t| t.ty),
            Some(V::Null)
        );
        assert_eq!(arithmetic(Add, V::Null, V::String), None);
    }

    #[test]
    fn comparison_rules() {
        assert!(comparison(V::String, V::String).is_some());
        assert!(comparison(V::Bool, V::Bool).is_some());
        assert_eq!(
            comparison(V::Float, V::Int).map(|t| t.rhs_float),
            Some(true)
        );
        assert!(comparison(V::Duration, V::Int).is_none());
        assert!(comparison(V::Null, V::Timestamp).is_some());
        assert!(comparison(V::StringList, V::String).is_none());
    }

    #[test]
    fn coalesce_common_type() {
        assert_eq!(common_type([V::Int, V::Float]), Some(V::Float));
        assert_eq!(common_type([V::Null, V::String]), Some(V::String));
        assert_eq!(common_type([V::Null]), Some(V::Null));
        assert_eq!(common_type([V::String, V::Int]), None);
    }
}
