//! `Display` for the AST: prints source that parses back to an equal tree.
//!
//! This is the sqlparser-rs "verified round trip": for every tree the parser
//! can produce, `parse(tree.to_string()) == tree` (spans always compare
//! equal). The tests in `tests/roundtrip.rs` check that property on random
//! trees and on every shipped pattern.
//!
//! Printing rules:
//! - keywords are UPPERCASE, identifiers as written;
//! - the fewest parentheses that keep the tree: an operand is wrapped only
//!   when it binds looser than its position requires (the levels of
//!   [`crate::ast::BinaryOp::precedence`], with prefix `NOT` at 3 and prefix
//!   `-` at 7);
//! - a pattern prints one clause per indented line, as `dalal fmt` shows it;
//! - durations use the largest unit that divides them exactly (`1500ms`),
//!   timestamps print as RFC 3339 UTC with only the fractional digits needed.

use crate::ast::{
    AfterMatch, Define, Element, EventDecl, Expr, ExprKind, FieldDecl, File, Ident, Index, Item,
    Literal, Pattern, Projection, Quantifier, Strategy, UnaryOp,
};
use std::fmt::{self, Display, Formatter, Write};

/// Prints a whole file as source (each item ends with `;`).
///
/// ```
/// use dalal_lang::{FileId, printer::to_source};
/// let (file, errors) = dalal_lang::parse(
///     "pattern p seq(Trade a,Trade b) where (b.price>a.price) within 90 seconds;",
///     FileId::from_index(0),
/// );
/// assert!(errors.is_empty());
/// assert_eq!(
///     to_source(&file),
///     "PATTERN p\n  SEQ(Trade a, Trade b)\n  WHERE b.price > a.price\n  WITHIN 90s;\n"
/// );
/// ```
pub fn to_source(file: &File) -> String {
    file.to_string()
}

/// Binding strength of the parser's levels (higher binds tighter); the
/// numbers match [`crate::ast::BinaryOp::precedence`].
struct Prec;

impl Prec {
    /// `NOT e` (prefix).
    const NOT: u8 = 3;
    /// Comparisons, `BETWEEN` and `IN` (non-associative).
    const COMPARE: u8 = 4;
    /// `+ -`: the level `BETWEEN` bounds are parsed at.
    const ADDITIVE: u8 = 5;
    /// `-e` (prefix).
    const NEG: u8 = 7;
    /// Literals, names, fields, calls, parenthesised lists.
    const PRIMARY: u8 = 8;
}

fn precedence(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary { op, .. } => op.precedence(),
        ExprKind::Unary {
            op: UnaryOp::Not, ..
        } => Prec::NOT,
        ExprKind::Unary {
            op: UnaryOp::Neg, ..
        } => Prec::NEG,
        ExprKind::Between { .. } | ExprKind::In { .. } => Prec::COMPARE,
        ExprKind::Lit(_)
        | ExprKind::Name(_)
        | ExprKind::Field { .. }
        | ExprKind::Call { .. }
        | ExprKind::List(_) => Prec::PRIMARY,
    }
}

/// Writes `e` in a position that the parser reads at level `min`: wrapped in
/// parentheses when `e` binds looser than that.
fn write_expr(f: &mut Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
    if precedence(e) < min {
        f.write_char('(')?;
        write_bare(f, e)?;
        f.write_char(')')
    } else {
        write_bare(f, e)
    }
}

fn write_bare(f: &mut Formatter<'_>, e: &Expr) -> fmt::Result {
    match &e.kind {
        ExprKind::Lit(lit) => lit.fmt(f),
        ExprKind::Name(name) => f.write_str(&name.name),
        ExprKind::Field { var, index, field } => {
            f.write_str(&var.name)?;
            if let Some(index) = index {
                write!(f, "[{}]", index.value)?;
            }
            write!(f, ".{}", field.name)
        }
        ExprKind::Call { func, args } => {
            f.write_str(&func.name)?;
            f.write_char('(')?;
            write_list(f, args)?;
            f.write_char(')')
        }
        ExprKind::Unary {
            op: UnaryOp::Not,
            expr,
        } => {
            f.write_str("NOT ")?;
            write_expr(f, expr, Prec::NOT)
        }
        ExprKind::Unary {
            op: UnaryOp::Neg,
            expr,
        } => {
            f.write_char('-')?;
            // `--` would start a comment.
            if matches!(
                expr.kind,
                ExprKind::Unary {
                    op: UnaryOp::Neg,
                    ..
                }
            ) {
                f.write_char(' ')?;
            }
            write_expr(f, expr, Prec::NEG)
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let p = op.precedence();
            // Comparisons do not associate, so neither side may be one; the
            // other operators associate to the left, so only the right side
            // needs parentheses at equal strength.
            let (left_min, right_min) = if op.is_comparison() {
                (p + 1, p + 1)
            } else {
                (p, p + 1)
            };
            write_expr(f, lhs, left_min)?;
            write!(f, " {} ", op.symbol())?;
            write_expr(f, rhs, right_min)
        }
        ExprKind::Between {
            expr,
            low,
            high,
            negated,
        } => {
            write_expr(f, expr, Prec::COMPARE + 1)?;
            f.write_str(if *negated {
                " NOT BETWEEN "
            } else {
                " BETWEEN "
            })?;
            // The bounds are parsed at the additive level, so the `AND`
            // between them is never taken for a conjunction.
            write_expr(f, low, Prec::ADDITIVE)?;
            f.write_str(" AND ")?;
            write_expr(f, high, Prec::ADDITIVE)
        }
        ExprKind::In {
            expr,
            list,
            negated,
        } => {
            write_expr(f, expr, Prec::COMPARE + 1)?;
            f.write_str(if *negated { " NOT IN " } else { " IN " })?;
            // A parenthesised list (even of one element) or a name; the
            // parser reads `(e)` after `IN` as a one-element list, so any
            // other expression can only be approximated.
            write_expr(f, list, Prec::PRIMARY)
        }
        ExprKind::List(items) => {
            f.write_char('(')?;
            write_list(f, items)?;
            f.write_char(')')
        }
    }
}

fn write_list(f: &mut Formatter<'_>, items: &[Expr]) -> fmt::Result {
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write_expr(f, e, 0)?;
    }
    Ok(())
}

fn write_idents(f: &mut Formatter<'_>, idents: &[Ident]) -> fmt::Result {
    for (i, id) in idents.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        f.write_str(&id.name)?;
    }
    Ok(())
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_expr(f, self, 0)
    }
}

impl Display for Ident {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Nanoseconds per unit, largest first, with the suffix printed.
const DURATION_UNITS: [(u64, &str); 7] = [
    (86_400_000_000_000, "d"),
    (3_600_000_000_000, "h"),
    (60_000_000_000, "m"),
    (1_000_000_000, "s"),
    (1_000_000, "ms"),
    (1_000, "us"),
    (1, "ns"),
];

/// Writes a duration of `nanos` in the largest unit that divides it exactly.
fn write_duration(f: &mut Formatter<'_>, nanos: i64) -> fmt::Result {
    if nanos == 0 {
        return f.write_str("0ms");
    }
    if nanos < 0 {
        // Never produced by the parser (negation is a unary operator); kept
        // printable so that `Display` is total.
        f.write_char('-')?;
    }
    let n = nanos.unsigned_abs();
    let (per, suffix) = DURATION_UNITS
        .iter()
        .copied()
        .find(|(per, _)| n % per == 0)
        .unwrap_or((1, "ns"));
    write!(f, "{}{suffix}", n / per)
}

/// Writes `TIMESTAMP '<RFC 3339>'` for nanoseconds since the epoch.
fn write_timestamp(f: &mut Formatter<'_>, nanos: i64) -> fmt::Result {
    let ts = chrono::DateTime::from_timestamp_nanos(nanos);
    write!(
        f,
        "TIMESTAMP '{}'",
        ts.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    )
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Int(n) => write!(f, "{n}"),
            // `{:?}` is the shortest text that parses back to the same bits
            // and always has a `.` or an exponent, so it never reads as INT.
            Literal::Float(x) => write!(f, "{x:?}"),
            Literal::String(s) => {
                f.write_char('\'')?;
                f.write_str(&s.replace('\'', "''"))?;
                f.write_char('\'')
            }
            Literal::Bool(true) => f.write_str("TRUE"),
            Literal::Bool(false) => f.write_str("FALSE"),
            Literal::Null => f.write_str("NULL"),
            Literal::Duration(n) => write_duration(f, *n),
            Literal::Timestamp(n) => write_timestamp(f, *n),
        }
    }
}

impl Display for Index {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Index::Current => f.write_str("i"),
            Index::Previous => f.write_str("i-1"),
            Index::Nth(n) => write!(f, "{n}"),
            Index::Last => f.write_str("last"),
            Index::BeforeCurrent => f.write_str("..i-1"),
        }
    }
}

impl Display for Quantifier {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Quantifier::Plus => f.write_char('+'),
            Quantifier::Star => f.write_char('*'),
            Quantifier::Exactly(n) => write!(f, "{{{n}}}"),
            Quantifier::AtLeast(n) => write!(f, "{{{n},}}"),
            Quantifier::Between(n, m) => write!(f, "{{{n},{m}}}"),
        }
    }
}

impl Display for Strategy {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.keywords())
    }
}

impl Display for AfterMatch {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "AFTER MATCH {}", self.keywords())
    }
}

impl Display for Element {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Element::Event { ty, var, quant, .. } => {
                write!(f, "{ty} {var}")?;
                if let Some(q) = quant {
                    q.fmt(f)?;
                }
                Ok(())
            }
            Element::Not { ty, var, .. } => write!(f, "NOT {ty} {var}"),
            Element::Or { members, .. } => write_group(f, "OR", members),
            Element::And { members, .. } => write_group(f, "AND", members),
        }
    }
}

fn write_group(f: &mut Formatter<'_>, keyword: &str, members: &[Element]) -> fmt::Result {
    f.write_str(keyword)?;
    f.write_char('(')?;
    for (i, m) in members.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        m.fmt(f)?;
    }
    f.write_char(')')
}

impl Display for Projection {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)?;
        if let Some(alias) = &self.alias {
            write!(f, " AS {alias}")?;
        }
        Ok(())
    }
}

impl Display for FieldDecl {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.ty)
    }
}

/// Without the terminating `;` (as for [`Item`]).
impl Display for EventDecl {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("EVENT ")?;
        write_idents(f, &self.names)?;
        f.write_str(" (")?;
        for (i, field) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            field.fmt(f)?;
        }
        f.write_char(')')
    }
}

/// Without the terminating `;` (as for [`Item`]).
impl Display for Define {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "DEFINE {}", self.name)?;
        if let Some(params) = &self.params {
            f.write_char('(')?;
            write_idents(f, params)?;
            f.write_char(')')?;
        }
        write!(f, " = {}", self.body)
    }
}

/// One clause per line, indented by two spaces; without the terminating `;`.
impl Display for Pattern {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        const INDENT: &str = "\n  ";
        write!(f, "PATTERN {}{INDENT}", self.name)?;
        write_group(f, "SEQ", &self.seq)?;
        if let Some(cond) = &self.where_clause {
            write!(f, "{INDENT}WHERE {cond}")?;
        }
        if let Some(within) = &self.within {
            f.write_str(INDENT)?;
            f.write_str("WITHIN ")?;
            write_duration(f, within.nanos)?;
        }
        if !self.partition_by.is_empty() {
            f.write_str(INDENT)?;
            f.write_str("PARTITION BY ")?;
            write_idents(f, &self.partition_by)?;
        }
        if let Some(strategy) = &self.strategy {
            write!(f, "{INDENT}{}", strategy.value)?;
        }
        if let Some(after) = &self.after_match {
            write!(f, "{INDENT}{}", after.value)?;
        }
        if !self.emit.is_empty() {
            f.write_str(INDENT)?;
            f.write_str("EMIT ")?;
            for (i, p) in self.emit.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                p.fmt(f)?;
            }
        }
        Ok(())
    }
}

/// Without the terminating `;`, which [`File`] adds.
impl Display for Item {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Item::Event(e) => e.fmt(f),
            Item::Define(d) => d.fmt(f),
            Item::Pattern(p) => p.fmt(f),
        }
    }
}

/// Every item followed by `;` and a newline; a blank line separates items,
/// except between consecutive `EVENT` declarations, which read as a table.
impl Display for File {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                let both_events =
                    matches!((&self.items[i - 1], item), (Item::Event(_), Item::Event(_)));
                if !both_events {
                    f.write_char('\n')?;
                }
            }
            writeln!(f, "{item};")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{BinaryOp, DurationLit, FieldDecl, Spanned, TypeName};
    use crate::span::Span;

    fn lit(l: Literal) -> Expr {
        Expr::new(ExprKind::Lit(l))
    }
    fn int(n: i64) -> Expr {
        lit(Literal::Int(n))
    }
    fn name(n: &str) -> Expr {
        Expr::new(ExprKind::Name(Ident::new(n)))
    }
    fn bin(op: BinaryOp, l: Expr, r: Expr) -> Expr {
        Expr::new(ExprKind::Binary {
            op,
            lhs: Box::new(l),
            rhs: Box::new(r),
        })
    }
    fn un(op: UnaryOp, e: Expr) -> Expr {
        Expr::new(ExprKind::Unary {
            op,
            expr: Box::new(e),
        })
    }
    fn field(var: &str, index: Option<Index>, f: &str) -> Expr {
        Expr::new(ExprKind::Field {
            var: Ident::new(var),
            index: index.map(|value| Spanned {
                value,
                span: Span::default(),
            }),
            field: Ident::new(f),
        })
    }
    fn between(e: Expr, lo: Expr, hi: Expr, negated: bool) -> Expr {
        Expr::new(ExprKind::Between {
            expr: Box::new(e),
            low: Box::new(lo),
            high: Box::new(hi),
            negated,
        })
    }
    fn in_list(e: Expr, list: Expr, negated: bool) -> Expr {
        Expr::new(ExprKind::In {
            expr: Box::new(e),
            list: Box::new(list),
            negated,
        })
    }
    fn list(items: Vec<Expr>) -> Expr {
        Expr::new(ExprKind::List(items))
    }
    fn call(func: &str, args: Vec<Expr>) -> Expr {
        Expr::new(ExprKind::Call {
            func: Ident::new(func),
            args,
        })
    }

    use BinaryOp::*;

    #[test]
    fn left_associative_operators_parenthesise_only_the_right() {
        let (a, b, c) = (name("a"), name("b"), name("c"));
        assert_eq!(
            bin(Mul, bin(Add, a.clone(), b.clone()), c.clone()).to_string(),
            "(a + b) * c"
        );
        assert_eq!(
            bin(Sub, a.clone(), bin(Sub, b.clone(), c.clone())).to_string(),
            "a - (b - c)"
        );
        assert_eq!(
            bin(Sub, bin(Sub, a.clone(), b.clone()), c.clone()).to_string(),
            "a - b - c"
        );
        assert_eq!(
            bin(Add, a.clone(), bin(Mul, b.clone(), c.clone())).to_string(),
            "a + b * c"
        );
        assert_eq!(
            bin(Div, a.clone(), bin(Rem, b.clone(), c.clone())).to_string(),
            "a / (b % c)"
        );
        assert_eq!(
            bin(And, a.clone(), bin(And, b.clone(), c.clone())).to_string(),
            "a AND (b AND c)"
        );
        assert_eq!(
            bin(Or, bin(And, a.clone(), b.clone()), c.clone()).to_string(),
            "a AND b OR c"
        );
        assert_eq!(
            bin(And, a.clone(), bin(Or, b, c)).to_string(),
            "a AND (b OR c)"
        );
    }

    #[test]
    fn comparisons_never_chain() {
        let (a, b, c) = (name("a"), name("b"), name("c"));
        assert_eq!(
            bin(Lt, bin(Lt, a.clone(), b.clone()), c.clone()).to_string(),
            "(a < b) < c"
        );
        assert_eq!(
            bin(Eq, a.clone(), bin(Ne, b.clone(), c.clone())).to_string(),
            "a = (b != c)"
        );
        assert_eq!(
            bin(Ge, bin(Sub, a.clone(), b.clone()), c.clone()).to_string(),
            "a - b >= c"
        );
        assert_eq!(
            bin(
                Eq,
                in_list(a.clone(), list(vec![int(1), int(2)]), false),
                lit(Literal::Bool(true))
            )
            .to_string(),
            "(a IN (1, 2)) = TRUE"
        );
        assert_eq!(
            bin(Le, a.clone(), between(b, int(1), c, false)).to_string(),
            "a <= (b BETWEEN 1 AND c)"
        );
        assert_eq!(
            bin(Eq, a, un(UnaryOp::Not, name("x"))).to_string(),
            "a = (NOT x)"
        );
    }

    #[test]
    fn not_binds_looser_than_comparisons() {
        let (a, b) = (name("a"), name("b"));
        assert_eq!(
            un(UnaryOp::Not, bin(And, a.clone(), b.clone())).to_string(),
            "NOT (a AND b)"
        );
        assert_eq!(
            un(UnaryOp::Not, bin(Eq, a.clone(), b.clone())).to_string(),
            "NOT a = b"
        );
        assert_eq!(
            bin(And, un(UnaryOp::Not, a.clone()), b.clone()).to_string(),
            "NOT a AND b"
        );
        assert_eq!(
            bin(And, a.clone(), un(UnaryOp::Not, b.clone())).to_string(),
            "a AND NOT b"
        );
        assert_eq!(
            un(UnaryOp::Not, un(UnaryOp::Not, a.clone())).to_string(),
            "NOT NOT a"
        );
        assert_eq!(
            un(UnaryOp::Neg, un(UnaryOp::Not, a)).to_string(),
            "-(NOT a)"
        );
    }

    #[test]
    fn negation_never_prints_a_comment() {
        assert_eq!(
            un(UnaryOp::Neg, un(UnaryOp::Neg, int(5))).to_string(),
            "- -5"
        );
        assert_eq!(
            bin(Sub, name("a"), un(UnaryOp::Neg, int(5))).to_string(),
            "a - -5"
        );
        assert_eq!(
            un(UnaryOp::Neg, bin(Mul, name("a"), name("b"))).to_string(),
            "-(a * b)"
        );
        assert_eq!(
            bin(Mul, un(UnaryOp::Neg, name("a")), name("b")).to_string(),
            "-a * b"
        );
    }

    #[test]
    fn between_bounds_are_additive() {
        let x = name("x");
        assert_eq!(
            between(x.clone(), int(1), bin(Add, int(2), int(3)), true).to_string(),
            "x NOT BETWEEN 1 AND 2 + 3"
        );
        assert_eq!(
            between(x.clone(), bin(And, name("a"), name("b")), int(3), false).to_string(),
            "x BETWEEN (a AND b) AND 3"
        );
        assert_eq!(
            between(x.clone(), un(UnaryOp::Not, name("a")), int(3), false).to_string(),
            "x BETWEEN (NOT a) AND 3"
        );
        assert_eq!(
            between(bin(Eq, x.clone(), int(1)), int(1), int(3), false).to_string(),
            "(x = 1) BETWEEN 1 AND 3"
        );
        assert_eq!(
            bin(And, between(x, int(1), int(2), false), name("c")).to_string(),
            "x BETWEEN 1 AND 2 AND c"
        );
    }

    #[test]
    fn in_lists() {
        let x = name("x");
        assert_eq!(
            in_list(
                x.clone(),
                list(vec![lit(Literal::String("a".into()))]),
                false
            )
            .to_string(),
            "x IN ('a')"
        );
        assert_eq!(
            in_list(x.clone(), name("words"), true).to_string(),
            "x NOT IN words"
        );
        assert_eq!(
            in_list(x, list(vec![int(1), int(2), int(3)]), true).to_string(),
            "x NOT IN (1, 2, 3)"
        );
    }

    #[test]
    fn literals() {
        let s = |l: Literal| l.to_string();
        assert_eq!(s(Literal::Int(42)), "42");
        assert_eq!(s(Literal::Float(3.5)), "3.5");
        assert_eq!(s(Literal::Float(1.0)), "1.0");
        assert_eq!(s(Literal::Float(1e300)), "1e300");
        assert_eq!(s(Literal::Float(1e-7)), "1e-7");
        assert_eq!(s(Literal::String("it's".into())), "'it''s'");
        assert_eq!(s(Literal::String(String::new())), "''");
        assert_eq!(s(Literal::Bool(true)), "TRUE");
        assert_eq!(s(Literal::Bool(false)), "FALSE");
        assert_eq!(s(Literal::Null), "NULL");
    }

    #[test]
    fn durations_use_the_largest_exact_unit() {
        let d = |n: i64| Literal::Duration(n).to_string();
        assert_eq!(d(0), "0ms");
        assert_eq!(d(7), "7ns");
        assert_eq!(d(1_500_000_000), "1500ms");
        assert_eq!(d(300_000_000_000), "5m");
        assert_eq!(d(3_600_000_000_000), "1h");
        assert_eq!(d(90 * 60_000_000_000), "90m");
        assert_eq!(d(2 * 86_400_000_000_000), "2d");
        assert_eq!(d(2_000), "2us");
        assert_eq!(d(i64::MAX), "9223372036854775807ns");
    }

    #[test]
    fn timestamps_print_needed_fraction() {
        let t = |n: i64| Literal::Timestamp(n).to_string();
        assert_eq!(t(0), "TIMESTAMP '1970-01-01T00:00:00Z'");
        assert_eq!(
            t(1_704_186_900_000_000_000),
            "TIMESTAMP '2024-01-02T09:15:00Z'"
        );
        assert_eq!(
            t(1_704_186_900_500_000_000),
            "TIMESTAMP '2024-01-02T09:15:00.500Z'"
        );
        assert_eq!(
            t(1_704_186_900_000_000_001),
            "TIMESTAMP '2024-01-02T09:15:00.000000001Z'"
        );
        assert_eq!(t(-1), "TIMESTAMP '1969-12-31T23:59:59.999999999Z'");
        // The whole i64 range is printable.
        assert!(t(i64::MIN).starts_with("TIMESTAMP '1677-"));
        assert!(t(i64::MAX).starts_with("TIMESTAMP '2262-"));
    }

    #[test]
    fn fields_indices_and_calls() {
        assert_eq!(field("a", None, "price").to_string(), "a.price");
        assert_eq!(field("t", Some(Index::Current), "p").to_string(), "t[i].p");
        assert_eq!(
            field("t", Some(Index::Previous), "p").to_string(),
            "t[i-1].p"
        );
        assert_eq!(field("t", Some(Index::Nth(3)), "p").to_string(), "t[3].p");
        assert_eq!(field("t", Some(Index::Last), "p").to_string(), "t[last].p");
        assert_eq!(
            call("avg", vec![field("t", Some(Index::BeforeCurrent), "price")]).to_string(),
            "avg(t[..i-1].price)"
        );
        assert_eq!(call("f", vec![]).to_string(), "f()");
        assert_eq!(
            call("f", vec![bin(Or, name("a"), name("b")), int(1)]).to_string(),
            "f(a OR b, 1)"
        );
    }

    fn ev(ty: &str, var: &str, quant: Option<Quantifier>) -> Element {
        Element::Event {
            ty: Ident::new(ty),
            var: Ident::new(var),
            quant,
            span: Span::default(),
        }
    }

    #[test]
    fn elements() {
        assert_eq!(ev("Trade", "t", None).to_string(), "Trade t");
        assert_eq!(
            ev("Trade", "t", Some(Quantifier::Plus)).to_string(),
            "Trade t+"
        );
        assert_eq!(
            ev("Trade", "t", Some(Quantifier::Star)).to_string(),
            "Trade t*"
        );
        assert_eq!(
            ev("Trade", "t", Some(Quantifier::Exactly(3))).to_string(),
            "Trade t{3}"
        );
        assert_eq!(
            ev("Trade", "t", Some(Quantifier::AtLeast(4))).to_string(),
            "Trade t{4,}"
        );
        assert_eq!(
            ev("Trade", "t", Some(Quantifier::Between(1, 5))).to_string(),
            "Trade t{1,5}"
        );
        let not = Element::Not {
            ty: Ident::new("Order"),
            var: Ident::new("b"),
            span: Span::default(),
        };
        assert_eq!(not.to_string(), "NOT Order b");
        let group = Element::Or {
            members: vec![
                ev("A", "a", None),
                Element::And {
                    members: vec![ev("B", "b", None), not],
                    span: Span::default(),
                },
            ],
            span: Span::default(),
        };
        assert_eq!(group.to_string(), "OR(A a, AND(B b, NOT Order b))");
    }

    #[test]
    fn file_prints_every_clause_on_its_own_line() {
        let file = File {
            items: vec![
                Item::Event(EventDecl {
                    names: vec![Ident::new("Trade")],
                    fields: vec![
                        FieldDecl {
                            name: Ident::new("symbol"),
                            ty: TypeName::String,
                            ty_span: Span::default(),
                        },
                        FieldDecl {
                            name: Ident::new("price"),
                            ty: TypeName::Float,
                            ty_span: Span::default(),
                        },
                    ],
                    span: Span::default(),
                }),
                Item::Event(EventDecl {
                    names: vec![Ident::new("A"), Ident::new("B")],
                    fields: vec![],
                    span: Span::default(),
                }),
                Item::Define(Define {
                    name: Ident::new("words"),
                    params: None,
                    body: list(vec![
                        lit(Literal::String("a".into())),
                        lit(Literal::String("b".into())),
                    ]),
                    span: Span::default(),
                }),
                Item::Define(Define {
                    name: Ident::new("pos"),
                    params: Some(vec![Ident::new("x")]),
                    body: call("count_any", vec![name("x"), name("words")]),
                    span: Span::default(),
                }),
                Item::Pattern(Pattern {
                    name: Ident::new("momentum"),
                    seq: vec![ev("Trade", "t", Some(Quantifier::AtLeast(4)))],
                    seq_span: Span::default(),
                    where_clause: Some(bin(
                        Gt,
                        field("t", Some(Index::Current), "price"),
                        field("t", Some(Index::Previous), "price"),
                    )),
                    within: Some(DurationLit {
                        nanos: 180_000_000_000,
                        span: Span::default(),
                    }),
                    partition_by: vec![Ident::new("symbol")],
                    strategy: Some(Spanned {
                        value: Strategy::StrictContiguity,
                        span: Span::default(),
                    }),
                    after_match: Some(Spanned {
                        value: AfterMatch::NoSkip,
                        span: Span::default(),
                    }),
                    emit: vec![
                        Projection {
                            expr: field("t", Some(Index::Nth(1)), "price"),
                            alias: Some(Ident::new("from_price")),
                            span: Span::default(),
                        },
                        Projection {
                            expr: call("count", vec![name("t")]),
                            alias: None,
                            span: Span::default(),
                        },
                    ],
                    span: Span::default(),
                }),
            ],
        };
        let expected = "\
EVENT Trade (symbol STRING, price FLOAT);
EVENT A, B ();

DEFINE words = ('a', 'b');

DEFINE pos(x) = count_any(x, words);

PATTERN momentum
  SEQ(Trade t{4,})
  WHERE t[i].price > t[i-1].price
  WITHIN 3m
  PARTITION BY symbol
  STRICT CONTIGUITY
  AFTER MATCH NO SKIP
  EMIT t[1].price AS from_price, count(t);
";
        assert_eq!(to_source(&file), expected);
    }
}
