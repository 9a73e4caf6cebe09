//! Expressions, by precedence climbing.
//!
//! Loosest to tightest: `OR` (1), `AND` (2), prefix `NOT` (3), comparisons,
//! `BETWEEN` and `IN` (4, non-associative), `+ -` (5), `* / %` (6), prefix `-`
//! (7), primaries. Binary operators associate to the left.
//!
//! Two limits keep every later recursive walk (checker, printer, `Drop`)
//! safe: the parser's own recursion is bounded by the depth guard, and every
//! node's tree depth is tracked so that a long flat chain such as
//! `a + a + ... + a` cannot build a tree deeper than [`MAX_DEPTH`] either.

use super::error::{Custom, Expect, PError, codes};
use super::lex::{PResult, backtrack, commit, expecting, fail};
use super::{Cx, MAX_DEPTH};
use crate::ast::{BinaryOp, Expr, ExprKind, Ident, Index, Literal, Spanned, UnaryOp};
use crate::span::Span;

/// An expression with the depth of its tree (boxed: see `expr_bp` on
/// stack use).
pub(super) struct D {
    pub e: Box<Expr>,
    pub d: usize,
}

/// A primary that needs no recursion, or the name that starts one that may.
pub(super) enum Atom {
    Done(D),
    Name(Ident),
}

/// An infix operator, the input after it, and its span.
type Op<'a> = Option<(Infix, &'a str, Span)>;

/// What can follow an operand.
#[derive(Clone, Copy)]
enum Infix {
    Bin(BinaryOp),
    Between { negated: bool },
    In { negated: bool },
}

impl Infix {
    fn prec(self) -> u8 {
        match self {
            Infix::Bin(op) => op.precedence(),
            Infix::Between { .. } | Infix::In { .. } => 4,
        }
    }
}

const PREC_NOT: u8 = 3;
const PREC_CMP: u8 = 4;
const PREC_NEG: u8 = 7;

impl Cx {
    /// A whole expression.
    pub(super) fn expr<'a>(&self, i: &'a str) -> PResult<'a, Expr> {
        self.expr_bp(i, 0).map(|(r, x)| (r, *x.e))
    }

    /// A node of `depth`, or the depth error at `at`.
    fn node<'a>(&self, at: &'a str, kind: ExprKind, span: Span, d: usize) -> PResult<'a, D> {
        if d > MAX_DEPTH {
            return self.too_deep(at);
        }
        Ok((
            at,
            D {
                e: Box::new(Expr { kind, span }),
                d,
            },
        ))
    }

    /// An expression whose operators all bind at least as tight as `min`.
    ///
    /// This and the other functions on the recursive path (`operand_after`,
    /// `prefix`, `unary`, `primary`, `paren`, `call`, `expr_list`) are kept
    /// small, with errors built in separate functions: an unoptimised build
    /// gives every temporary its own stack slot, and the stack used per
    /// nesting level is what bounds [`MAX_DEPTH`].
    fn expr_bp<'a>(&self, i: &'a str, min: u8) -> PResult<'a, D> {
        let (mut i, mut lhs) = self.prefix(i)?;
        // The first comparison at this level, to reject `a < b < c`.
        let mut compared: Option<Span> = None;
        while let Some((op, after, op_span)) = self.infix(i)? {
            let prec = op.prec();
            if prec < min {
                break;
            }
            if prec == PREC_CMP {
                if let Some(first) = compared {
                    return self.chained(i, first, op_span);
                }
                compared = Some(op_span);
            }
            (i, lhs) = self.operand_after(i, lhs, op, after)?;
        }
        Ok((i, lhs))
    }

    /// The right-hand side of `op` (at `at`, input `after` it) and the node.
    fn operand_after<'a>(&self, at: &'a str, lhs: D, op: Infix, after: &'a str) -> PResult<'a, D> {
        match op {
            Infix::Bin(bin) => {
                let (r, rhs) = commit(self.expr_bp(after, op.prec() + 1))?;
                self.binary(at, r, bin, lhs, rhs)
            }
            Infix::Between { negated } => self.between(at, lhs, after, negated),
            Infix::In { negated } => {
                let (r, list) = commit(self.in_list(after))?;
                self.in_node(at, r, lhs, list, negated)
            }
        }
    }

    fn binary<'a>(&self, at: &'a str, r: &'a str, op: BinaryOp, lhs: D, rhs: D) -> PResult<'a, D> {
        let span = lhs.e.span.to(rhs.e.span);
        let d = 1 + lhs.d.max(rhs.d);
        let kind = ExprKind::Binary {
            op,
            lhs: lhs.e,
            rhs: rhs.e,
        };
        let (_, x) = self.node(at, kind, span, d)?;
        Ok((r, x))
    }

    fn between<'a>(&self, at: &'a str, lhs: D, after: &'a str, negated: bool) -> PResult<'a, D> {
        let (r, low) = commit(self.expr_bp(after, PREC_CMP + 1))?;
        let (r, _) = commit(self.kw(r, "AND"))?;
        let (r, high) = commit(self.expr_bp(r, PREC_CMP + 1))?;
        let span = lhs.e.span.to(high.e.span);
        let d = 1 + lhs.d.max(low.d).max(high.d);
        let kind = ExprKind::Between {
            expr: lhs.e,
            low: low.e,
            high: high.e,
            negated,
        };
        let (_, x) = self.node(at, kind, span, d)?;
        Ok((r, x))
    }

    fn in_node<'a>(
        &self,
        at: &'a str,
        r: &'a str,
        lhs: D,
        list: D,
        negated: bool,
    ) -> PResult<'a, D> {
        let span = lhs.e.span.to(list.e.span);
        let d = 1 + lhs.d.max(list.d);
        let kind = ExprKind::In {
            expr: lhs.e,
            list: list.e,
            negated,
        };
        let (_, x) = self.node(at, kind, span, d)?;
        Ok((r, x))
    }

    fn chained<'a>(&self, at: &'a str, first: Span, second: Span) -> PResult<'a, D> {
        fail(
            at,
            Custom::new(
                codes::CHAINED_COMPARISON,
                second,
                "comparison operators cannot be chained",
                "second comparison",
            )
            .secondary(first, "first comparison")
            .help("combine comparisons with `AND`, as in `a < b AND b < c`"),
        )
    }

    /// The infix operator at `i`, if any: `(operator, input after it, its span)`.
    fn infix<'a>(&self, i: &'a str) -> Result<Op<'a>, nom::Err<PError<'a>>> {
        let foreign = |op: &str, help: &str| {
            let p = self.pos(i);
            Err(nom::Err::Failure(PError::custom(
                i,
                Custom::new(
                    codes::FOREIGN_OPERATOR,
                    Span::new(p, p + 2),
                    format!("`{op}` is not an operator in this language"),
                    "not an operator",
                )
                .help(help.to_string()),
            )))
        };
        if i.starts_with("==") {
            return foreign("==", "use `=` for equality");
        }
        if i.starts_with("&&") {
            return foreign("&&", "use `AND` for logical and");
        }
        if i.starts_with("||") {
            return foreign("||", "use `OR` for logical or");
        }
        const SYMBOLS: &[(&str, BinaryOp)] = &[
            ("<=", BinaryOp::Le),
            (">=", BinaryOp::Ge),
            ("<>", BinaryOp::Ne),
            ("!=", BinaryOp::Ne),
            ("<", BinaryOp::Lt),
            (">", BinaryOp::Gt),
            ("=", BinaryOp::Eq),
            ("+", BinaryOp::Add),
            ("-", BinaryOp::Sub),
            ("*", BinaryOp::Mul),
            ("/", BinaryOp::Div),
            ("%", BinaryOp::Rem),
        ];
        for &(sym, op) in SYMBOLS {
            if i.starts_with(sym) {
                let (r, sp) = self.punct(i, sym)?;
                return Ok(Some((Infix::Bin(op), r, sp)));
            }
        }
        let Some(w) = self.peek_word(i) else {
            return Ok(None);
        };
        let simple = |op: Infix| -> Result<Op<'a>, nom::Err<PError<'a>>> {
            let (r, (_, sp)) = self.word(i)?;
            Ok(Some((op, r, sp)))
        };
        if w.eq_ignore_ascii_case("AND") {
            simple(Infix::Bin(BinaryOp::And))
        } else if w.eq_ignore_ascii_case("OR") {
            simple(Infix::Bin(BinaryOp::Or))
        } else if w.eq_ignore_ascii_case("BETWEEN") {
            simple(Infix::Between { negated: false })
        } else if w.eq_ignore_ascii_case("IN") {
            simple(Infix::In { negated: false })
        } else if w.eq_ignore_ascii_case("NOT") {
            let (r, (_, not_sp)) = self.word(i)?;
            if self.at_kw(r, "BETWEEN") {
                let (r, sp) = self.kw(r, "BETWEEN")?;
                Ok(Some((Infix::Between { negated: true }, r, not_sp.to(sp))))
            } else if self.at_kw(r, "IN") {
                let (r, sp) = self.kw(r, "IN")?;
                Ok(Some((Infix::In { negated: true }, r, not_sp.to(sp))))
            } else {
                // `a NOT b`: not an infix operator; the caller reports what follows.
                Ok(None)
            }
        } else {
            Ok(None)
        }
    }

    /// The list after `IN`: `(e, ...)` (always a list, even of one) or a name.
    fn in_list<'a>(&self, i: &'a str) -> PResult<'a, D> {
        if !self.at_punct(i, "(") {
            return self.list_name(i);
        }
        let _g = self.enter(i)?;
        let (r, open) = self.punct(i, "(")?;
        if self.at_punct(r, ")") {
            return self.empty_in_list(i, r);
        }
        let (r, items, close) = self.expr_list(r, open, "(")?;
        self.list_node(r, items, open.to(close))
    }

    fn list_name<'a>(&self, i: &'a str) -> PResult<'a, D> {
        let (r, name) = expecting(
            self.ident_as(i, "a list name"),
            i,
            Expect::Desc("`(` or the name of a list"),
        )?;
        let span = name.span;
        self.node(r, ExprKind::Name(name), span, 1)
    }

    fn empty_in_list<'a>(&self, open: &'a str, close: &'a str) -> PResult<'a, D> {
        let p = self.pos(open);
        fail(
            open,
            Custom::new(
                codes::UNEXPECTED,
                Span::new(p, self.pos(close) + 1),
                "an `IN` list needs at least one value",
                "empty list",
            ),
        )
    }

    /// A list node of `items`.
    fn list_node<'a>(&self, r: &'a str, items: Vec<D>, span: Span) -> PResult<'a, D> {
        let d = 1 + items.iter().map(|x| x.d).max().unwrap_or(0);
        let items = items.into_iter().map(|x| *x.e).collect();
        self.node(r, ExprKind::List(items), span, d)
    }

    /// `e, e, ... )` after an opening delimiter: the elements and the span of
    /// the closing `)`.
    fn expr_list<'a>(
        &self,
        mut i: &'a str,
        open: Span,
        opener: &'static str,
    ) -> Result<(&'a str, Vec<D>, Span), nom::Err<PError<'a>>> {
        let mut items = Vec::new();
        loop {
            let (r, x) = commit(self.expr_bp(i, 0))?;
            items.push(x);
            match self.opt_punct(r, ",")? {
                Some((r2, _)) => i = r2,
                None => {
                    let (r, close) = self.close(r, open, opener, true)?;
                    return Ok((r, items, close));
                }
            }
        }
    }

    /// Prefix operators, then a primary.
    fn prefix<'a>(&self, i: &'a str) -> PResult<'a, D> {
        if self.at_kw(i, "NOT") {
            return self.unary(i, UnaryOp::Not);
        }
        if i.starts_with('-') {
            return self.unary(i, UnaryOp::Neg);
        }
        if i.starts_with('!') && !i.starts_with("!=") {
            return self.bang(i);
        }
        self.primary(i)
    }

    /// `NOT e` or `-e`.
    fn unary<'a>(&self, i: &'a str, op: UnaryOp) -> PResult<'a, D> {
        let _g = self.enter(i)?;
        let (r, sp, min) = match op {
            UnaryOp::Not => {
                let (r, sp) = self.kw(i, "NOT")?;
                (r, sp, PREC_NOT + 1)
            }
            UnaryOp::Neg => {
                let (r, sp) = self.punct(i, "-")?;
                (r, sp, PREC_NEG)
            }
        };
        let (r, x) = commit(self.expr_bp(r, min))?;
        self.unary_node(r, op, sp, x)
    }

    fn unary_node<'a>(&self, r: &'a str, op: UnaryOp, sp: Span, x: D) -> PResult<'a, D> {
        let span = sp.to(x.e.span);
        let d = x.d + 1;
        let kind = ExprKind::Unary { op, expr: x.e };
        self.node(r, kind, span, d)
    }

    fn bang<'a>(&self, i: &'a str) -> PResult<'a, D> {
        let p = self.pos(i);
        fail(
            i,
            Custom::new(
                codes::FOREIGN_OPERATOR,
                Span::new(p, p + 1),
                "`!` is not an operator in this language",
                "not an operator",
            )
            .help("use `NOT` for negation"),
        )
    }

    /// Literals, names, calls, fields, parentheses and lists.
    fn primary<'a>(&self, i: &'a str) -> PResult<'a, D> {
        if i.starts_with('(') {
            return self.paren(i);
        }
        match self.atom(i)? {
            (r, Atom::Done(x)) => Ok((r, x)),
            (r, Atom::Name(name)) if r.starts_with('(') => self.call(r, name),
            (r, Atom::Name(name)) => self.name_or_field(r, name),
        }
    }

    /// The non-recursive primaries: literals, or the name that starts a
    /// name, call or field access.
    fn atom<'a>(&self, i: &'a str) -> PResult<'a, Atom> {
        let lit = |r: &'a str, (l, span): (Literal, Span)| {
            self.node(r, ExprKind::Lit(l), span, 1)
                .map(|(r, x)| (r, Atom::Done(x)))
        };
        if i.starts_with('\'') {
            let (r, (s, span)) = self.string_lit(i)?;
            return lit(r, (Literal::String(s), span));
        }
        if i.starts_with('"') {
            let p = self.pos(i);
            return fail(
                i,
                Custom::new(
                    codes::FOREIGN_OPERATOR,
                    Span::new(p, p + 1),
                    "string literals use single quotes",
                    "double quote",
                )
                .help("write 'text' (and '' for a quote inside it)"),
            );
        }
        if i.starts_with(|c: char| c.is_ascii_digit()) {
            let (r, l) = self.number_lit(i)?;
            return lit(r, l);
        }
        let Some(w) = self.peek_word(i) else {
            return backtrack(i, Expect::Desc("an expression"));
        };
        for (kw, l) in [
            ("TRUE", Literal::Bool(true)),
            ("FALSE", Literal::Bool(false)),
            ("NULL", Literal::Null),
        ] {
            if w.eq_ignore_ascii_case(kw) {
                let (r, sp) = self.kw(i, kw)?;
                return lit(r, (l, sp));
            }
        }
        if w.eq_ignore_ascii_case("TIMESTAMP") {
            let (r, _) = self.word(i)?;
            if r.starts_with('\'') {
                let (r, l) = self.timestamp_lit(i)?;
                return lit(r, l);
            }
        }
        let (r, name) = self.ident_as(i, "an expression")?;
        Ok((r, Atom::Name(name)))
    }

    /// A bare name, or a field access when `.` or `[` follows.
    fn name_or_field<'a>(&self, r: &'a str, name: Ident) -> PResult<'a, D> {
        if self.at_punct(r, ".") || self.at_punct(r, "[") {
            return self.field(r, name);
        }
        let span = name.span;
        self.node(r, ExprKind::Name(name), span, 1)
    }

    /// `( e )` (grouping: the inner expression, its span widened to the
    /// parentheses) or `( e1, e2, ... )` (a list).
    fn paren<'a>(&self, i: &'a str) -> PResult<'a, D> {
        let _g = self.enter(i)?;
        let (r, open) = self.punct(i, "(")?;
        let (r, items, close) = self.expr_list(r, open, "(")?;
        self.paren_node(r, items, open.to(close))
    }

    fn paren_node<'a>(&self, r: &'a str, mut items: Vec<D>, span: Span) -> PResult<'a, D> {
        if items.len() == 1
            && let Some(mut x) = items.pop()
        {
            x.e.span = span;
            return Ok((r, x));
        }
        self.list_node(r, items, span)
    }

    /// `name(args)` with `i` at the `(`.
    fn call<'a>(&self, i: &'a str, func: Ident) -> PResult<'a, D> {
        let _g = self.enter(i)?;
        let (r, open) = self.punct(i, "(")?;
        let (r, args, close) = if self.at_punct(r, ")") {
            let (r, close) = self.punct(r, ")")?;
            (r, Vec::new(), close)
        } else {
            self.expr_list(r, open, "(")?
        };
        self.call_node(r, func, args, close)
    }

    fn call_node<'a>(&self, r: &'a str, func: Ident, args: Vec<D>, close: Span) -> PResult<'a, D> {
        let d = 1 + args.iter().map(|x| x.d).max().unwrap_or(0);
        let span = func.span.to(close);
        let args = args.into_iter().map(|x| *x.e).collect();
        self.node(r, ExprKind::Call { func, args }, span, d)
    }

    /// `var.field` or `var[index].field` with `i` after `var`.
    fn field<'a>(&self, i: &'a str, var: Ident) -> PResult<'a, D> {
        let (r, index) = if self.at_punct(i, "[") {
            let (r, ix) = self.index(i)?;
            (r, Some(ix))
        } else {
            (i, None)
        };
        let r = match self.opt_punct(r, ".")? {
            Some((r, _)) => r,
            None => {
                let sp = self.found_span(r);
                return fail(
                    r,
                    Custom::new(
                        codes::UNEXPECTED,
                        sp,
                        format!(
                            "expected `.` and a field after `{}[...]`, found {}",
                            var.name,
                            super::error::Found::at(r).desc
                        ),
                        "expected `.`",
                    )
                    .help(format!(
                        "an indexed event is used through a field, as in `{}[i].price`",
                        var.name
                    )),
                );
            }
        };
        let (r, field) = commit(self.ident_as(r, "a field name"))?;
        let span = var.span.to(field.span);
        let kind = ExprKind::Field { var, index, field };
        self.node(r, kind, span, 1)
    }

    /// `[i]`, `[i-1]`, `[last]`, `[n]` (n >= 1) or `[..i-1]`.
    fn index<'a>(&self, i: &'a str) -> PResult<'a, Spanned<Index>> {
        let (r, open) = self.punct(i, "[")?;
        let bad = |at: &'a str, end: &'a str, msg: &str| -> PResult<'a, Spanned<Index>> {
            fail(
                at,
                Custom::new(
                    codes::BAD_INDEX,
                    self.span(at, end).to(self.tok_span(at)),
                    msg.to_string(),
                    "invalid index",
                )
                .help("an index is `i`, `i-1`, `last`, `..i-1` or a position `1`, `2`, ..."),
            )
        };
        let one_back = |r: &'a str| -> PResult<'a, ()> {
            let (r2, _) = self.punct(r, "-")?;
            match self.number_lit(r2) {
                Ok((r3, (Literal::Int(1), _))) => Ok((r3, ())),
                Ok((r3, _)) => {
                    bad(r, r3, "only `i-1` can look back from `i`").map(|(x, _)| (x, ()))
                }
                Err(_) => bad(r, r2, "expected `1` after `i-`").map(|(x, _)| (x, ())),
            }
        };
        let (r, index) = if let Some(rest) = r.strip_prefix("..") {
            let (r2, ()) = self.ws(rest)?;
            let r3 = match self.kw(r2, "i") {
                Ok((r3, _)) => r3,
                Err(_) => return bad(r, r2, "expected `..i-1`"),
            };
            let (r4, ()) = match one_back(r3) {
                Ok(x) => x,
                Err(nom::Err::Error(_)) => return bad(r, r3, "expected `..i-1`"),
                Err(e) => return Err(e),
            };
            (r4, Index::BeforeCurrent)
        } else if self.at_kw(r, "i") {
            let (r2, _) = self.kw(r, "i")?;
            if self.at_punct(r2, "-") {
                let (r3, ()) = one_back(r2)?;
                (r3, Index::Previous)
            } else if self.at_punct(r2, "+") {
                return bad(r, r2, "cannot index after the current element");
            } else {
                (r2, Index::Current)
            }
        } else if self.at_kw(r, "last") {
            let (r2, _) = self.kw(r, "last")?;
            (r2, Index::Last)
        } else if r.starts_with(|c: char| c.is_ascii_digit()) {
            let n = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            let (digits, r2) = r.split_at(n);
            let (r2, ()) = self.ws(r2)?;
            match digits.parse::<u32>() {
                Ok(0) => {
                    return fail(
                        r,
                        Custom::new(
                            codes::BAD_INDEX,
                            Span::new(self.pos(r), self.pos(r) + n),
                            "positions start at 1",
                            "there is no element 0",
                        )
                        .help("the first element is `[1]`"),
                    );
                }
                Ok(k) => (r2, Index::Nth(k)),
                Err(_) => {
                    return fail(
                        r,
                        Custom::new(
                            codes::BAD_NUMBER,
                            Span::new(self.pos(r), self.pos(r) + n),
                            format!("index `{}` is too large", super::lex::shorten(digits)),
                            "does not fit in 32 bits",
                        ),
                    );
                }
            }
        } else {
            return Err(nom::Err::Failure(PError::new(
                r,
                super::error::Problem::Expected(vec![
                    Expect::Tok("i"),
                    Expect::Tok("i-1"),
                    Expect::Tok("last"),
                    Expect::Tok("..i-1"),
                    Expect::Desc("a position"),
                ]),
                None,
            )));
        };
        let (r, close) = self.close(r, open, "[", false)?;
        Ok((
            r,
            Spanned {
                value: index,
                span: open.to(close),
            },
        ))
    }
}
