//! Items: `EVENT`, `DEFINE`, `PATTERN` with its elements and clauses.

use super::Cx;
use super::error::{Custom, Expect, Found, PError, codes};
use super::lex::{PResult, backtrack, commit, expecting, fail};
use crate::ast::{
    AfterMatch, Define, DurationLit, Element, EventDecl, FieldDecl, Ident, Item, Literal, Pattern,
    Projection, Quantifier, Spanned, Strategy, TypeName,
};
use crate::diagnostic::did_you_mean;
use crate::span::Span;
use nom::Parser;
use nom::branch::alt;
use nom::error::context;

/// The clauses of a pattern, in the order they must be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Clause {
    Where,
    Within,
    PartitionBy,
    Strategy,
    AfterMatch,
    Emit,
}

impl Clause {
    fn name(self) -> &'static str {
        match self {
            Clause::Where => "`WHERE`",
            Clause::Within => "`WITHIN`",
            Clause::PartitionBy => "`PARTITION BY`",
            Clause::Strategy => "the strategy",
            Clause::AfterMatch => "`AFTER MATCH`",
            Clause::Emit => "`EMIT`",
        }
    }

    fn of_word(w: &str) -> Option<Clause> {
        let all = [
            ("WHERE", Clause::Where),
            ("WITHIN", Clause::Within),
            ("PARTITION", Clause::PartitionBy),
            ("STRICT", Clause::Strategy),
            ("SKIP", Clause::Strategy),
            ("AFTER", Clause::AfterMatch),
            ("EMIT", Clause::Emit),
        ];
        all.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(w))
            .map(|&(_, c)| c)
    }
}

const CLAUSE_WORDS: &[&str] = &[
    "WHERE",
    "WITHIN",
    "PARTITION",
    "STRICT",
    "SKIP",
    "AFTER",
    "EMIT",
];

const CLAUSE_ORDER_HELP: &str = "clauses go in this order: `WHERE`, `WITHIN`, `PARTITION BY`, \
     the strategy, `AFTER MATCH`, `EMIT`";

/// True for the words that start an item.
pub(super) fn is_item_keyword(w: &str) -> bool {
    ["EVENT", "DEFINE", "PATTERN"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(w))
}

fn type_name(w: &str) -> Option<TypeName> {
    [
        TypeName::Int,
        TypeName::Float,
        TypeName::String,
        TypeName::Bool,
        TypeName::Timestamp,
        TypeName::Duration,
    ]
    .into_iter()
    .find(|t| t.keyword().eq_ignore_ascii_case(w))
}

/// The type a name from another language most likely means.
fn type_alias(w: &str) -> Option<TypeName> {
    let w = w.to_ascii_uppercase();
    Some(match w.as_str() {
        "INTEGER" | "BIGINT" | "LONG" | "I64" | "SMALLINT" => TypeName::Int,
        "DOUBLE" | "REAL" | "F64" | "NUMBER" | "DECIMAL" | "NUMERIC" => TypeName::Float,
        "TEXT" | "VARCHAR" | "STR" | "CHAR" => TypeName::String,
        "BOOLEAN" => TypeName::Bool,
        "DATETIME" | "TIME" | "TS" => TypeName::Timestamp,
        "INTERVAL" => TypeName::Duration,
        _ => return None,
    })
}

impl Cx {
    /// One item, without its `;`.
    pub(super) fn item<'a>(&self, i: &'a str) -> PResult<'a, Item> {
        match self.peek_word(i) {
            Some(w) if w.eq_ignore_ascii_case("EVENT") => {
                let (r, e) = self.event_decl(i)?;
                Ok((r, Item::Event(e)))
            }
            Some(w) if w.eq_ignore_ascii_case("DEFINE") => {
                let (r, d) = self.define(i)?;
                Ok((r, Item::Define(d)))
            }
            Some(w) if w.eq_ignore_ascii_case("PATTERN") => {
                let (r, p) = self.pattern(i)?;
                Ok((r, Item::Pattern(p)))
            }
            _ => {
                let found = Found::at(i);
                let sp = self.tok_span(i);
                let mut c = Custom::new(
                    codes::UNEXPECTED,
                    sp,
                    format!(
                        "expected `EVENT`, `DEFINE` or `PATTERN`, found {}",
                        found.desc
                    ),
                    "expected an item",
                );
                if i.starts_with(';') {
                    c = c.help("remove this `;`");
                } else if let Some(w) = self.peek_word(i)
                    && let Some(h) =
                        did_you_mean(&w.to_ascii_uppercase(), ["EVENT", "DEFINE", "PATTERN"])
                {
                    c = c.help(h);
                }
                fail(i, c)
            }
        }
    }

    /// `EVENT A, B (field TYPE, ...)`.
    fn event_decl<'a>(&self, i: &'a str) -> PResult<'a, EventDecl> {
        let body = |i: &'a str| -> PResult<'a, EventDecl> {
            let (mut r, kw) = self.kw(i, "EVENT")?;
            let mut names = Vec::new();
            loop {
                let (r2, name) = commit(self.ident_as(r, "an event type name"))?;
                names.push(name);
                match self.punct(r2, ",") {
                    Ok((r3, _)) => r = r3,
                    Err(nom::Err::Error(_)) => {
                        r = r2;
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            let (r, open) = commit(expecting(
                self.punct(r, "("),
                r,
                Expect::Desc("`,` or `(` and the field list"),
            ))?;
            let mut fields = Vec::new();
            let (r, close) = if self.at_punct(r, ")") {
                self.punct(r, ")")?
            } else {
                let mut r = r;
                loop {
                    let (r2, name) = commit(self.ident_as(r, "a field name"))?;
                    let (r2, (ty, ty_span)) = self.type_name(r2)?;
                    fields.push(FieldDecl { name, ty, ty_span });
                    if let Some((r3, _)) = self.opt_punct(r2, ",")? {
                        r = r3;
                        continue;
                    }
                    break self.close(r2, open, "(", true)?;
                }
            };
            Ok((
                r,
                EventDecl {
                    names,
                    fields,
                    span: kw.to(close),
                },
            ))
        };
        context("event declaration", body).parse(i)
    }

    /// A field's type keyword.
    fn type_name<'a>(&self, i: &'a str) -> PResult<'a, (TypeName, Span)> {
        let Some(w) = self.peek_word(i) else {
            return commit(backtrack(i, Expect::Desc("a type")));
        };
        let (r, (_, sp)) = self.word(i)?;
        if let Some(t) = type_name(w) {
            return Ok((r, (t, sp)));
        }
        let help = match type_alias(w) {
            Some(t) => format!("did you mean `{t}`?"),
            None => did_you_mean(
                &w.to_ascii_uppercase(),
                ["INT", "FLOAT", "STRING", "BOOL", "TIMESTAMP", "DURATION"],
            )
            .unwrap_or_else(|| {
                "the types are INT, FLOAT, STRING, BOOL, TIMESTAMP and DURATION".to_string()
            }),
        };
        fail(
            i,
            Custom::new(
                codes::UNKNOWN_TYPE,
                sp,
                format!("unknown type `{w}`"),
                "not a type",
            )
            .help(help),
        )
    }

    /// `DEFINE name = expr` or `DEFINE name(p, ...) = expr`.
    fn define<'a>(&self, i: &'a str) -> PResult<'a, Define> {
        let body = |i: &'a str| -> PResult<'a, Define> {
            let (r, kw) = self.kw(i, "DEFINE")?;
            let (r, name) = commit(self.ident_as(r, "a name"))?;
            let (r, params) = if self.at_punct(r, "(") {
                let (mut r, open) = self.punct(r, "(")?;
                let mut params = Vec::new();
                if self.at_punct(r, ")") {
                    (r, _) = self.punct(r, ")")?;
                } else {
                    loop {
                        let (r2, p) = commit(self.ident_as(r, "a parameter name"))?;
                        params.push(p);
                        if let Some((r3, _)) = self.opt_punct(r2, ",")? {
                            r = r3;
                            continue;
                        }
                        (r, _) = self.close(r2, open, "(", true)?;
                        break;
                    }
                }
                (r, Some(params))
            } else {
                (r, None)
            };
            let eq = if params.is_none() {
                Expect::Desc("`=` or `(`")
            } else {
                Expect::Tok("=")
            };
            if r.starts_with("==") {
                let p = self.pos(r);
                return fail(
                    r,
                    Custom::new(
                        codes::FOREIGN_OPERATOR,
                        Span::new(p, p + 2),
                        "expected `=`, found `==`",
                        "write a single `=`",
                    ),
                );
            }
            let (r, _) = commit(expecting(self.punct(r, "="), r, eq))?;
            let (r, body) = commit(self.expr(r))?;
            let span = kw.to(body.span);
            Ok((
                r,
                Define {
                    name,
                    params,
                    body,
                    span,
                },
            ))
        };
        context("definition", body).parse(i)
    }

    /// `PATTERN name SEQ(...) clauses`.
    fn pattern<'a>(&self, i: &'a str) -> PResult<'a, Pattern> {
        let (r, kw) = self.kw(i, "PATTERN")?;
        let (r, name) = commit(self.ident_as(r, "a pattern name"))?;
        let (r, seq_kw) = commit(self.kw(r, "SEQ"))?;
        let (r, open) = commit(self.punct(r, "("))?;
        let (mut r, seq, close) = self.element_list(r, open, "SEQ(")?;
        let seq_span = seq_kw.to(close);
        let mut p = Pattern {
            name,
            seq,
            seq_span,
            where_clause: None,
            within: None,
            partition_by: Vec::new(),
            strategy: None,
            after_match: None,
            emit: Vec::new(),
            span: kw.to(seq_span),
        };
        let mut last: Option<(Clause, Span)> = None;
        while let Some(w) = self.peek_word(r) {
            let Some(clause) = Clause::of_word(w) else {
                if is_item_keyword(w) {
                    break;
                }
                return self.unknown_clause(r, w, last.map(|(c, _)| c));
            };
            let kw_span = self.clause_kw_span(r, clause);
            if let Some((prev, prev_span)) = last
                && clause <= prev
            {
                let c = if clause == prev {
                    Custom::new(
                        codes::CLAUSE_ORDER,
                        kw_span,
                        format!("{} is written twice", clause.name()),
                        "second one",
                    )
                    .secondary(prev_span, "first one")
                } else {
                    Custom::new(
                        codes::CLAUSE_ORDER,
                        kw_span,
                        format!("{} must come before {}", clause.name(), prev.name()),
                        "out of order",
                    )
                    .secondary(prev_span, format!("{} is here", prev.name()))
                    .help(CLAUSE_ORDER_HELP)
                };
                return fail(r, c);
            }
            let (r2, end) = self.clause(r, clause, &mut p)?;
            p.span = p.span.to(end);
            last = Some((clause, kw_span));
            r = r2;
        }
        Ok((r, p))
    }

    /// The span of a clause's keyword(s): `WHERE`, `PARTITION BY`, `AFTER MATCH`.
    fn clause_kw_span(&self, i: &str, clause: Clause) -> Span {
        let first = self.tok_span(i);
        let second = match clause {
            Clause::PartitionBy => "BY",
            Clause::AfterMatch => "MATCH",
            _ => return first,
        };
        match self.word(i) {
            Ok((r, _)) if self.at_kw(r, second) => first.to(self.tok_span(r)),
            _ => first,
        }
    }

    /// A word after a pattern that starts no clause.
    fn unknown_clause<'a, T>(&self, i: &'a str, w: &str, last: Option<Clause>) -> PResult<'a, T> {
        let found = Found::at(i);
        let help =
            did_you_mean(&w.to_ascii_uppercase(), CLAUSE_WORDS.iter().copied()).or_else(|| {
                match last {
                    Some(Clause::Where) if !super::is_reserved(w) => {
                        Some("to combine conditions, use `AND` or `OR`".to_string())
                    }
                    Some(Clause::Emit | Clause::PartitionBy) if !super::is_reserved(w) => {
                        Some("separate the items of the list with `,`".to_string())
                    }
                    _ => Some(format!("{CLAUSE_ORDER_HELP}; end the pattern with `;`")),
                }
            });
        let mut c = Custom::new(
            codes::UNEXPECTED,
            self.tok_span(i),
            format!("expected a clause or `;`, found {}", found.desc),
            "not a clause",
        );
        c.help = help;
        fail(i, c)
    }

    /// One clause into `p`; returns the span of its last token.
    fn clause<'a>(&self, i: &'a str, clause: Clause, p: &mut Pattern) -> PResult<'a, Span> {
        match clause {
            Clause::Where => {
                let (r, e) = commit(
                    context("`WHERE` clause", |x| {
                        let (r, _) = self.kw(x, "WHERE")?;
                        commit(self.expr(r))
                    })
                    .parse(i),
                )?;
                let end = e.span;
                p.where_clause = Some(e);
                Ok((r, end))
            }
            Clause::Within => {
                let (r, _) = self.kw(i, "WITHIN")?;
                let (r, d) = commit(self.duration_lit(r, "`WITHIN`"))?;
                p.within = Some(d);
                Ok((r, d.span))
            }
            Clause::PartitionBy => {
                let (r, _) = self.kw(i, "PARTITION")?;
                let (mut r, _) = commit(self.kw(r, "BY"))?;
                let mut end;
                loop {
                    let (r2, f) = commit(self.ident_as(r, "a field name"))?;
                    if self.at_punct(r2, ".") {
                        return fail(
                            r2,
                            Custom::new(
                                codes::UNEXPECTED,
                                f.span.to(self.tok_span(r2)),
                                "`PARTITION BY` takes field names, not `var.field`",
                                "a field of a variable",
                            )
                            .help(
                                "name the field every event of the pattern has, as in \
                                 `PARTITION BY symbol`",
                            ),
                        );
                    }
                    end = f.span;
                    p.partition_by.push(f);
                    match self.punct(r2, ",") {
                        Ok((r3, _)) => r = r3,
                        Err(nom::Err::Error(_)) => {
                            r = r2;
                            break;
                        }
                        Err(e) => return Err(e),
                    }
                }
                Ok((r, end))
            }
            Clause::Strategy => {
                let (r, value, span) = if self.at_kw(i, "STRICT") {
                    let (r, a) = self.kw(i, "STRICT")?;
                    let (r, b) = commit(self.kw(r, "CONTIGUITY"))?;
                    (r, Strategy::StrictContiguity, a.to(b))
                } else {
                    let (r, a) = self.kw(i, "SKIP")?;
                    let (r, _) = commit(self.kw(r, "TILL"))?;
                    let (r, value) = commit(
                        alt((
                            |x| {
                                self.kw(x, "NEXT")
                                    .map(|(r, _)| (r, Strategy::SkipTillNextMatch))
                            },
                            |x| {
                                self.kw(x, "ANY")
                                    .map(|(r, _)| (r, Strategy::SkipTillAnyMatch))
                            },
                        ))
                        .parse(r),
                    )?;
                    let (r, b) = commit(self.kw(r, "MATCH"))?;
                    (r, value, a.to(b))
                };
                p.strategy = Some(Spanned { value, span });
                Ok((r, span))
            }
            Clause::AfterMatch => {
                let (r, a) = self.kw(i, "AFTER")?;
                let (r, _) = commit(self.kw(r, "MATCH"))?;
                let (r, value, b) = commit(
                    alt((
                        |x| {
                            let (r, _) = self.kw(x, "SKIP")?;
                            commit(
                                alt((
                                    |y| {
                                        let (r, _) = self.kw(y, "PAST")?;
                                        let (r, _) = commit(self.kw(r, "LAST"))?;
                                        let (r, b) = commit(self.kw(r, "EVENT"))?;
                                        Ok((r, (AfterMatch::SkipPastLastEvent, b)))
                                    },
                                    |y| {
                                        let (r, _) = self.kw(y, "TO")?;
                                        let (r, _) = commit(self.kw(r, "NEXT"))?;
                                        let (r, b) = commit(self.kw(r, "EVENT"))?;
                                        Ok((r, (AfterMatch::SkipToNextEvent, b)))
                                    },
                                ))
                                .parse(r),
                            )
                        },
                        |x| {
                            let (r, _) = self.kw(x, "NO")?;
                            let (r, b) = commit(self.kw(r, "SKIP"))?;
                            Ok((r, (AfterMatch::NoSkip, b)))
                        },
                    ))
                    .parse(r),
                )
                .map(|(r, (v, b))| (r, v, b))?;
                let span = a.to(b);
                p.after_match = Some(Spanned { value, span });
                Ok((r, span))
            }
            Clause::Emit => commit(context("`EMIT` clause", |x| self.emit(x, p)).parse(i)),
        }
    }

    /// `EMIT projection, ...` into `p`.
    fn emit<'a>(&self, i: &'a str, p: &mut Pattern) -> PResult<'a, Span> {
        let (mut r, _) = self.kw(i, "EMIT")?;
        loop {
            let (r2, proj) = commit(self.projection(r))?;
            let end = proj.span;
            p.emit.push(proj);
            match self.opt_punct(r2, ",")? {
                Some((r3, _)) => r = r3,
                None => return Ok((r2, end)),
            }
        }
    }

    /// `expr [AS name]`.
    fn projection<'a>(&self, i: &'a str) -> PResult<'a, Projection> {
        let (r, expr) = self.expr(i)?;
        if self.at_kw(r, "AS") {
            let (r, _) = self.kw(r, "AS")?;
            let (r, alias) = commit(self.ident_as(r, "an output name"))?;
            let span = expr.span.to(alias.span);
            return Ok((
                r,
                Projection {
                    expr,
                    alias: Some(alias),
                    span,
                },
            ));
        }
        let span = expr.span;
        Ok((
            r,
            Projection {
                expr,
                alias: None,
                span,
            },
        ))
    }

    /// A duration literal (for `WITHIN`).
    fn duration_lit<'a>(&self, i: &'a str, after: &str) -> PResult<'a, DurationLit> {
        if !i.starts_with(|c: char| c.is_ascii_digit()) {
            return backtrack(i, Expect::Desc("a duration such as `5m`"));
        }
        let (r, (lit, span)) = self.number_lit(i)?;
        match lit {
            Literal::Duration(nanos) => Ok((r, DurationLit { nanos, span })),
            _ => fail(
                i,
                Custom::new(
                    codes::BAD_DURATION,
                    span,
                    format!("{after} needs a duration, found a plain number"),
                    "no unit",
                )
                .help("add a unit, as in `5s`, `5m` or `5 minutes`"),
            ),
        }
    }

    /// `elem, elem, ... )` after `opener`: the elements and the closing span.
    fn element_list<'a>(
        &self,
        mut i: &'a str,
        open: Span,
        opener: &'static str,
    ) -> Result<(&'a str, Vec<Element>, Span), nom::Err<PError<'a>>> {
        let mut out = Vec::new();
        loop {
            let (r, e) = commit(self.element(i))?;
            out.push(e);
            if let Some((r2, _)) = self.opt_punct(r, ",")? {
                i = r2;
                continue;
            }
            let (r, close) = self.close(r, open, opener, true)?;
            return Ok((r, out, close));
        }
    }

    /// `Type var [quant]`, `NOT Type var`, `OR(...)`, `AND(...)`.
    ///
    /// On the recursive path (with `group` and `element_list`): kept small,
    /// see `expr_bp`.
    fn element<'a>(&self, i: &'a str) -> PResult<'a, Element> {
        if self.at_kw(i, "NOT") {
            return self.not_element(i);
        }
        if self.at_kw(i, "OR") {
            return self.group(i, true);
        }
        if self.at_kw(i, "AND") {
            return self.group(i, false);
        }
        self.event_element(i)
    }

    /// `OR(...)` or `AND(...)`.
    fn group<'a>(&self, i: &'a str, is_or: bool) -> PResult<'a, Element> {
        let _g = self.enter(i)?;
        let (r, (_, kw_span)) = self.word(i)?;
        let (r, open) = commit(self.punct(r, "("))?;
        let opener = if is_or { "OR(" } else { "AND(" };
        let (r, members, close) = self.element_list(r, open, opener)?;
        let span = kw_span.to(close);
        let e = if is_or {
            Element::Or { members, span }
        } else {
            Element::And { members, span }
        };
        Ok((r, e))
    }

    /// `NOT Type var`.
    fn not_element<'a>(&self, i: &'a str) -> PResult<'a, Element> {
        let (r, not_kw) = self.kw(i, "NOT")?;
        let (r, ty) = commit(self.ident_as(r, "an event type"))?;
        let (r, var) = self.element_var(r, &ty)?;
        if r.starts_with(['+', '*', '{']) {
            let (_, q) = self.quant(r)?;
            let qspan = q.map_or_else(|| self.tok_span(r), |(_, s)| s);
            return fail(
                r,
                Custom::new(
                    codes::NOT_QUANTIFIED,
                    qspan,
                    "a `NOT` element cannot have a quantifier",
                    "quantifier on an absent event",
                )
                .secondary(not_kw, "this element is negated")
                .help("`NOT T x` already means: no event of type `T` at all"),
            );
        }
        let span = not_kw.to(var.span);
        Ok((r, Element::Not { ty, var, span }))
    }

    /// `Type var [quant]`.
    fn event_element<'a>(&self, i: &'a str) -> PResult<'a, Element> {
        let (r, ty) = self.ident_as(i, "an element such as `Trade t`")?;
        let (r, var) = self.element_var(r, &ty)?;
        let (r, q) = self.quant(r)?;
        let span = ty.span.to(q.map_or(var.span, |(_, s)| s));
        Ok((
            r,
            Element::Event {
                ty,
                var,
                quant: q.map(|(q, _)| q),
                span,
            },
        ))
    }

    /// The variable after an element's type.
    fn element_var<'a>(&self, i: &'a str, ty: &Ident) -> PResult<'a, Ident> {
        match self.ident_as(i, "a variable name") {
            Err(nom::Err::Error(_)) => {
                let found = Found::at(i);
                let short: String = ty
                    .name
                    .chars()
                    .next()
                    .map(|c| c.to_ascii_lowercase().to_string())
                    .unwrap_or_else(|| "x".to_string());
                fail(
                    i,
                    Custom::new(
                        codes::UNEXPECTED,
                        self.tok_span(i),
                        format!("expected a variable name, found {}", found.desc),
                        "expected a variable name",
                    )
                    .secondary(ty.span, "event type")
                    .help(format!(
                        "name the event so conditions can use it, as in `{} {short}`",
                        ty.name
                    )),
                )
            }
            other => other,
        }
    }

    /// An optional Kleene quantifier and its span.
    fn quant<'a>(&self, i: &'a str) -> PResult<'a, Option<(Quantifier, Span)>> {
        if self.at_punct(i, "+") {
            let (r, sp) = self.punct(i, "+")?;
            return Ok((r, Some((Quantifier::Plus, sp))));
        }
        if self.at_punct(i, "*") {
            let (r, sp) = self.punct(i, "*")?;
            return Ok((r, Some((Quantifier::Star, sp))));
        }
        if !self.at_punct(i, "{") {
            return Ok((i, None));
        }
        let (r, open) = self.punct(i, "{")?;
        let (r, n) = self.bound(r)?;
        let (r, q) = if self.at_punct(r, ",") {
            let (r, _) = self.punct(r, ",")?;
            if self.at_punct(r, "}") {
                (r, Quantifier::AtLeast(n))
            } else {
                let (r, m) = self.bound(r)?;
                (r, Quantifier::Between(n, m))
            }
        } else {
            (r, Quantifier::Exactly(n))
        };
        let (r, close) = match self.punct(r, "}") {
            Ok(x) => x,
            Err(nom::Err::Error(_)) => {
                let found = Found::at(r);
                return fail(
                    r,
                    Custom::new(
                        codes::UNEXPECTED,
                        self.tok_span(r),
                        format!(
                            "expected `}}` to close the quantifier, found {}",
                            found.desc
                        ),
                        "expected `}`",
                    )
                    .secondary(open, "quantifier starts here")
                    .help("a quantifier is `{n}`, `{n,}` or `{n,m}`"),
                );
            }
            Err(e) => return Err(e),
        };
        Ok((r, Some((q, open.to(close)))))
    }

    /// A quantifier bound (`u32`).
    fn bound<'a>(&self, i: &'a str) -> PResult<'a, u32> {
        let n = i.find(|c: char| !c.is_ascii_digit()).unwrap_or(i.len());
        if n == 0 {
            return commit(backtrack(i, Expect::Desc("a number")));
        }
        let (digits, r) = i.split_at(n);
        let p = self.pos(i);
        let (r, ()) = self.ws(r)?;
        match digits.parse::<u32>() {
            Ok(v) => Ok((r, v)),
            Err(_) => fail(
                i,
                Custom::new(
                    codes::BAD_NUMBER,
                    Span::new(p, p + n),
                    format!(
                        "quantifier bound `{}` is too large",
                        super::lex::shorten(digits)
                    ),
                    "does not fit in 32 bits",
                )
                .help(format!("the largest bound is {}", u32::MAX)),
            ),
        }
    }
}
