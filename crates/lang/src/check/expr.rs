//! Expression checking: names, fields, calls, operators, and `DEFINE`
//! expansion.
//!
//! A `DEFINE` is expanded at each use: the arguments are checked at the call,
//! then the body is checked with each parameter bound to its argument's typed
//! expression (or, when the argument is a bare pattern variable, to that
//! variable, so that `DEFINE big(o) = o.size > 1000` works with `big(o)`).
//! Everything built while expanding carries the span of the outermost call in
//! the pattern, and errors found there say "in expansion of `name`".

use super::Env;

mod call;
use super::types;
use crate::ast::{self, BinaryOp, ExprKind, Index, Literal, UnaryOp};
use crate::diagnostic::{Diagnostic, Severity, did_you_mean};
use crate::span::Span;
use crate::typed::{
    Access, AggFunc, FileId, TExpr, TExprKind, TypeId, ValueType as V, VarId, VarKind,
};

/// Deepest recursion of the checker over one expression, counting expanded
/// `DEFINE` bodies; deeper input is an error rather than a stack overflow.
const MAX_DEPTH: usize = 320;
/// Most `DEFINE` expansions in one expression: bounds the size of the expanded
/// tree (a definition that uses another twice doubles it at each level).
const MAX_EXPANSIONS: usize = 10_000;
/// Most typed nodes built for one expression (arguments copied into expanded
/// bodies included): bounds memory on hostile input.
const MAX_NODES: usize = 500_000;

/// Where an expression is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Place {
    /// A `WHERE` conjunct.
    Where,
    /// An `EMIT` projection.
    Emit,
    /// The body of a `DEFINE` constant (checked once, no variable in scope).
    Define,
}

/// A pattern variable as the checker sees it (its type may be unknown after
/// an error).
#[derive(Clone, Debug)]
pub(super) struct VarInfo {
    pub(super) name: String,
    pub(super) name_span: Span,
    pub(super) ty: Option<TypeId>,
    pub(super) kind: VarKind,
    /// Index of its element in the top-level `SEQ`.
    pub(super) pos: usize,
    /// Span of its element.
    pub(super) span: Span,
}

/// A reference to a variable found while checking one expression.
#[derive(Clone, Copy, Debug)]
pub(super) struct Mention {
    pub(super) var: VarId,
    pub(super) span: Span,
    /// Through `t[i]`, `t[i-1]` or `t[..i-1]`.
    pub(super) iterative: bool,
}

/// What a `DEFINE` parameter stands for during one expansion.
#[derive(Clone, Debug)]
enum Binding {
    /// The typed argument (`None`: it had an error).
    Value(Option<TExpr>),
    /// The argument was a bare pattern variable, written at this span (of
    /// the pattern).
    Var(VarId, Span),
}

struct Frame {
    name: String,
    params: Vec<(String, Binding)>,
    use_span: Span,
}

/// Checks expressions of one pattern (or one `DEFINE` constant).
pub(super) struct ExprChecker<'e, 'a> {
    env: &'e Env<'a>,
    diags: &'e mut Vec<Diagnostic>,
    file: FileId,
    vars: &'e [VarInfo],
    place: Place,
    frames: Vec<Frame>,
    /// Every variable reference, in order.
    pub(super) mentions: Vec<Mention>,
    depth: usize,
    expansions: usize,
    nodes: usize,
    gave_up: bool,
    errors: usize,
}

type R = Option<TExpr>;

impl<'e, 'a> ExprChecker<'e, 'a> {
    pub(super) fn new(
        env: &'e Env<'a>,
        diags: &'e mut Vec<Diagnostic>,
        file: FileId,
        vars: &'e [VarInfo],
        place: Place,
    ) -> Self {
        ExprChecker {
            env,
            diags,
            file,
            vars,
            place,
            frames: Vec::new(),
            mentions: Vec::new(),
            depth: 0,
            expansions: 0,
            nodes: 0,
            gave_up: false,
            errors: 0,
        }
    }

    /// Errors reported by this checker so far.
    pub(super) fn errors(&self) -> usize {
        self.errors
    }

    /// Forgets the mentions and budgets, to check the next expression.
    pub(super) fn reset(&mut self) {
        self.mentions.clear();
        self.depth = 0;
        self.expansions = 0;
        self.nodes = 0;
        self.gave_up = false;
    }

    // ----- reporting -------------------------------------------------------

    /// The span a node written at `s` gets: inside an expansion, the call in
    /// the pattern.
    fn site(&self, s: Span) -> Span {
        self.frames.first().map_or(s, |f| f.use_span)
    }

    fn mk(&mut self, kind: TExprKind, ty: V, span: Span) -> TExpr {
        self.nodes += 1;
        TExpr {
            kind,
            ty,
            span: self.site(span),
        }
    }

    fn report(&mut self, mut d: Diagnostic) {
        if let Some(first) = self.frames.first() {
            d.span = first.use_span;
            d.file = self.file;
            d.secondary.clear();
            let chain: Vec<&str> = self.frames.iter().rev().map(|f| f.name.as_str()).collect();
            d.message = format!(
                "{} (in expansion of `{}`)",
                d.message,
                chain.join("` from `")
            );
        }
        if d.severity == Severity::Error {
            self.errors += 1;
        }
        // An expanded body can make the same mistake twice at one call
        // (`positive(x)` lowers `x` twice): say it once.
        let seen = self.diags.iter().rev().take(8).any(|o| {
            o.code == d.code
                && o.file == d.file
                && (o.span.start, o.span.end) == (d.span.start, d.span.end)
                && o.message == d.message
        });
        if !seen {
            self.diags.push(d);
        }
    }

    fn error(&mut self, code: &'static str, span: Span, msg: String, label: &str) {
        self.report(Diagnostic::error(code, self.file, span, msg, label));
    }

    fn error_help(
        &mut self,
        code: &'static str,
        span: Span,
        msg: String,
        label: &str,
        help: Option<String>,
    ) {
        let mut d = Diagnostic::error(code, self.file, span, msg, label);
        d.help = help;
        self.report(d);
    }

    /// Like [`Self::error_help`], with a secondary label where variable `v`
    /// is bound.
    fn error_at_var(
        &mut self,
        code: &'static str,
        span: Span,
        msg: String,
        label: &str,
        help: String,
        v: VarId,
    ) {
        let info = &self.vars[v.index()];
        let what = match info.kind {
            VarKind::Kleene { .. } => "bound to a list of events here",
            VarKind::Single => "bound to one event here",
            VarKind::Negated => "bound to an absent event here",
        };
        let d = Diagnostic::error(code, self.file, span, msg, label)
            .with_secondary(info.span, format!("`{}` is {what}", info.name))
            .with_help(help);
        self.report(d);
    }

    // ----- entry points ----------------------------------------------------

    /// Checks an expression of any type (lists included).
    pub(super) fn check(&mut self, e: &ast::Expr) -> R {
        if self.gave_up {
            return None;
        }
        if self.depth >= MAX_DEPTH || self.nodes > MAX_NODES {
            self.gave_up = true;
            let what = if self.depth >= MAX_DEPTH {
                "deeply nested"
            } else {
                "large"
            };
            self.error(
                "E0319",
                e.span,
                format!("expression too {what} once definitions are expanded"),
                &format!("too {what}"),
            );
            return None;
        }
        self.depth += 1;
        let r = self.check_inner(e);
        self.depth -= 1;
        r
    }

    /// Checks an expression that must be one value (not a list).
    pub(super) fn scalar(&mut self, e: &ast::Expr) -> R {
        let x = self.check(e)?;
        if types::is_list(x.ty) {
            self.error_help(
                "E0305",
                e.span,
                "a list is not a single value".into(),
                "a list",
                Some(
                    "lists can only be used after `IN` or as the list argument of \
                     `contains_any` and `count_any`"
                        .into(),
                ),
            );
            return None;
        }
        Some(x)
    }

    /// Checks a condition: BOOL (or NULL).
    pub(super) fn condition(&mut self, e: &ast::Expr, what: &str) -> R {
        let x = self.scalar(e)?;
        if !matches!(x.ty, V::Bool | V::Null) {
            self.error(
                "E0302",
                e.span,
                format!("{what} must be BOOL, found {}", x.ty),
                &format!("this is {}", x.ty),
            );
            return None;
        }
        Some(x)
    }

    fn check_inner(&mut self, e: &ast::Expr) -> R {
        match &e.kind {
            ExprKind::Lit(l) => Some(self.mk(TExprKind::Const(l.clone()), literal_type(l), e.span)),
            ExprKind::Name(id) => self.name(id, e.span),
            ExprKind::Field { var, index, field } => self.field(var, index.as_ref(), field, e.span),
            ExprKind::Call { func, args } => self.call(func, args, e.span),
            ExprKind::Unary { op, expr } => self.unary(*op, expr, e.span),
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, e.span),
            ExprKind::Between {
                expr,
                low,
                high,
                negated,
            } => self.between(expr, low, high, *negated, e.span),
            ExprKind::In {
                expr,
                list,
                negated,
            } => self.in_list(expr, list, *negated, e.span),
            ExprKind::List(items) => self.list(items, e.span),
        }
    }

    // ----- names and variables ---------------------------------------------

    fn param(&self, name: &str) -> Option<&Binding> {
        let frame = self.frames.last()?;
        frame
            .params
            .iter()
            .rev()
            .find(|(p, _)| p == name)
            .map(|(_, b)| b)
    }

    /// A bare name that denotes a pattern variable here (directly, or as a
    /// parameter bound to one).
    fn var_named(&self, name: &str) -> Option<VarId> {
        if self.frames.is_empty() {
            self.vars
                .iter()
                .position(|v| v.name == name)
                .map(VarId::from_index)
        } else {
            match self.param(name) {
                Some(Binding::Var(v, _)) => Some(*v),
                _ => None,
            }
        }
    }

    fn name(&mut self, id: &ast::Ident, span: Span) -> R {
        match self.param(&id.name) {
            Some(Binding::Value(v)) => {
                let v = v.clone();
                self.nodes += v.as_ref().map_or(0, tree_size);
                return v;
            }
            Some(Binding::Var(v, _)) => {
                let v = *v;
                self.bare_var(v, id);
                return None;
            }
            None => {}
        }
        if let Some(v) = self.var_named(&id.name) {
            self.bare_var(v, id);
            return None;
        }
        if let Some((idx, d)) = self.env.define(&id.name) {
            if d.def.params.is_some() {
                self.error_help(
                    "E0314",
                    id.span,
                    format!("`{}` is a function and needs arguments", id.name),
                    "used without arguments",
                    Some(format!("call it: `{}(...)`", id.name)),
                );
                return None;
            }
            return self.expand(idx, &[], span);
        }
        let mut candidates: Vec<&str> = Vec::new();
        if self.frames.is_empty() {
            candidates.extend(self.vars.iter().map(|v| v.name.as_str()));
        }
        candidates.extend(
            self.env
                .defines
                .iter()
                .filter(|d| d.def.params.is_none())
                .map(|d| d.def.name.name.as_str()),
        );
        let help = did_you_mean(&id.name, candidates);
        self.error_help(
            "E0208",
            id.span,
            format!("unknown name `{}`", id.name),
            "not a definition in scope",
            help,
        );
        None
    }

    fn bare_var(&mut self, v: VarId, id: &ast::Ident) {
        let info = &self.vars[v.index()];
        let help = match info.kind {
            VarKind::Kleene { .. } => format!(
                "`{0}` is a list of events: use `count({0})`, an aggregate such as \
                 `sum({0}.x)`, or one element such as `{0}[last].x`",
                id.name
            ),
            _ => format!("use one of its fields, such as `{}.ts`", id.name),
        };
        self.error_help(
            "E0307",
            id.span,
            format!("`{}` is a pattern variable, not a value", id.name),
            "a variable",
            Some(help),
        );
    }

    /// Resolves the variable of `var.field` / `var[..]`: a pattern variable,
    /// or a parameter bound to one.
    /// Also returns where the variable is written in the pattern: the
    /// argument, for a parameter bound to a variable.
    fn resolve_var(&mut self, var: &ast::Ident) -> Option<(VarId, Span)> {
        match self.param(&var.name) {
            Some(Binding::Var(v, at)) => return Some((*v, *at)),
            Some(Binding::Value(_)) => {
                let name = var.name.clone();
                self.error_help(
                    "E0314",
                    var.span,
                    format!("parameter `{name}` is used as a pattern variable but given a value"),
                    "not a pattern variable",
                    Some(format!(
                        "pass a pattern variable as the argument for `{name}`, e.g. `f(a)`"
                    )),
                );
                return None;
            }
            None => {}
        }
        if let Some(v) = self.var_named(&var.name) {
            return Some((v, self.site(var.span)));
        }
        let help =
            did_you_mean(&var.name, self.vars.iter().map(|v| v.name.as_str())).or_else(|| {
                let names: Vec<String> =
                    self.vars.iter().map(|v| format!("`{}`", v.name)).collect();
                (!names.is_empty()).then(|| format!("this pattern binds {}", names.join(", ")))
            });
        self.error_help(
            "E0205",
            var.span,
            format!("unknown variable `{}`", var.name),
            "not bound by this pattern",
            help,
        );
        None
    }

    fn mention(&mut self, v: VarId, span: Span, iterative: bool) {
        if self.place == Place::Emit && self.vars[v.index()].kind == VarKind::Negated {
            let name = self.vars[v.index()].name.clone();
            let d = Diagnostic::error(
                "E0317",
                self.file,
                span,
                format!("EMIT cannot use `{name}`: it is a NOT variable"),
                "bound to no event",
            )
            .with_help(
                "a NOT element matches the absence of an event, so there is nothing to emit",
            );
            self.report(d);
        }
        self.mentions.push(Mention {
            var: v,
            span,
            iterative,
        });
    }

    /// Resolves a field name on the variable's type (`None` quietly when the
    /// type itself is unknown).
    fn resolve_field(
        &mut self,
        v: VarId,
        field: &ast::Ident,
    ) -> Option<(crate::typed::FieldRef, V)> {
        let ty = self.vars[v.index()].ty?;
        let et = &self.env.types[ty.index()];
        if let Some(f) = et.field(&field.name) {
            return Some((f, et.field_type(f)));
        }
        let candidates = et
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .chain(["ts", "type"]);
        let help = did_you_mean(&field.name, candidates);
        let (fname, tname) = (field.name.clone(), et.name.clone());
        self.error_help(
            "E0206",
            field.span,
            format!("unknown field `{fname}` on `{tname}`"),
            "no such field",
            help,
        );
        None
    }

    fn index_here_ok(&mut self, index: &ast::Spanned<Index>, var: &str) -> bool {
        if self.place == Place::Emit {
            let what = match index.value {
                Index::Current => "i",
                Index::Previous => "i-1",
                _ => "..i-1",
            };
            self.error_help(
                "E0313",
                index.span,
                format!("`{var}[{what}]` cannot be used in EMIT"),
                "only meaningful while the list grows",
                Some(format!(
                    "`[{what}]` refers to the element being added, which exists only in \
                     WHERE; in EMIT use `{var}[1]`, `{var}[last]` or an aggregate"
                )),
            );
            return false;
        }
        true
    }

    fn field(
        &mut self,
        var: &ast::Ident,
        index: Option<&ast::Spanned<Index>>,
        field: &ast::Ident,
        span: Span,
    ) -> R {
        let (v, at) = self.resolve_var(var)?;
        let kind = self.vars[v.index()].kind;
        let access = match (kind, index) {
            (VarKind::Single | VarKind::Negated, None) => Access::Single,
            (VarKind::Single | VarKind::Negated, Some(ix)) => {
                self.error_at_var(
                    "E0309",
                    ix.span,
                    format!("`{}` binds a single event and cannot be indexed", var.name),
                    "index on a single-event variable",
                    format!(
                        "write `{}.{}`; indexes apply to Kleene variables such as `t+`",
                        var.name, field.name
                    ),
                    v,
                );
                return None;
            }
            (VarKind::Kleene { .. }, None) => {
                self.error_at_var(
                    "E0308",
                    var.span,
                    format!(
                        "`{}` is a Kleene variable: `{}.{}` needs an index or an aggregate",
                        var.name, var.name, field.name
                    ),
                    "a list of events",
                    format!(
                        "use `{0}[i].{1}` for the current element, `{0}[last].{1}` for the last, \
                         or an aggregate such as `avg({0}.{1})`",
                        var.name, field.name
                    ),
                    v,
                );
                return None;
            }
            (VarKind::Kleene { .. }, Some(ix)) => match ix.value {
                Index::Current | Index::Previous => {
                    if !self.index_here_ok(ix, &var.name) {
                        return None;
                    }
                    if ix.value == Index::Current {
                        Access::Current
                    } else {
                        Access::Previous
                    }
                }
                Index::Nth(0) => {
                    self.error_help(
                        "E0315",
                        ix.span,
                        "index 0 is out of range: elements are numbered from 1".into(),
                        "no element 0",
                        Some(format!("the first element is `{}[1]`", var.name)),
                    );
                    return None;
                }
                Index::Nth(n) => Access::Nth(n),
                Index::Last => Access::Last,
                Index::BeforeCurrent => {
                    self.error_help(
                        "E0312",
                        ix.span,
                        format!("`{}[..i-1]` is a list of events, not one event", var.name),
                        "only valid inside an aggregate",
                        Some(format!(
                            "aggregate it, e.g. `avg({0}[..i-1].{1})`, or use `{0}[i-1].{1}` \
                             for the previous element",
                            var.name, field.name
                        )),
                    );
                    return None;
                }
            },
        };
        let iterative = matches!(access, Access::Current | Access::Previous);
        self.mention(v, at, iterative);
        let (f, ty) = self.resolve_field(v, field)?;
        Some(self.mk(
            TExprKind::Field {
                var: v,
                access,
                field: f,
            },
            ty,
            span,
        ))
    }

    // ----- operators ---------------------------------------------------------

    fn unary(&mut self, op: UnaryOp, e: &ast::Expr, span: Span) -> R {
        match op {
            UnaryOp::Not => {
                let x = self.condition(e, "the operand of NOT")?;
                Some(self.mk(TExprKind::Not(Box::new(x)), V::Bool, span))
            }
            UnaryOp::Neg => {
                let x = self.scalar(e)?;
                if !matches!(x.ty, V::Int | V::Float | V::Duration | V::Null) {
                    self.error(
                        "E0316",
                        e.span,
                        format!("cannot negate a {} value", x.ty),
                        &format!("this is {}", x.ty),
                    );
                    return None;
                }
                let ty = x.ty;
                Some(self.mk(TExprKind::Neg(Box::new(x)), ty, span))
            }
        }
    }

    fn binary(&mut self, op: BinaryOp, lhs: &ast::Expr, rhs: &ast::Expr, span: Span) -> R {
        if matches!(op, BinaryOp::And | BinaryOp::Or) {
            let what = format!("an operand of {}", op.symbol());
            let l = self.condition(lhs, &what);
            let r = self.condition(rhs, &what);
            let (l, r) = (l?, r?);
            return Some(self.mk(
                TExprKind::Binary {
                    op,
                    lhs: Box::new(l),
                    rhs: Box::new(r),
                },
                V::Bool,
                span,
            ));
        }
        let l = self.scalar(lhs);
        let r = self.scalar(rhs);
        let (l, r) = (l?, r?);
        self.typed_binary(op, l, r, span, None)
    }

    /// Types `l op r` for an arithmetic or comparison operator.
    fn typed_binary(
        &mut self,
        op: BinaryOp,
        l: TExpr,
        r: TExpr,
        span: Span,
        ctx: Option<&str>,
    ) -> R {
        let typing = if op.is_comparison() {
            types::comparison(l.ty, r.ty)
        } else {
            types::arithmetic(op, l.ty, r.ty)
        };
        let Some(t) = typing else {
            let msg = if op.is_comparison() {
                format!("cannot compare {} with {}", l.ty, r.ty)
            } else {
                format!("cannot apply `{}` to {} and {}", op.symbol(), l.ty, r.ty)
            };
            let msg = match ctx {
                Some(c) => format!("{msg} in {c}"),
                None => msg,
            };
            let help = types::mismatch_help(op, l.ty, r.ty).map(str::to_string);
            self.error_help(
                "E0301",
                span,
                msg,
                &format!("{} {} {}", l.ty, op.symbol(), r.ty),
                help,
            );
            return None;
        };
        if op.is_comparison() && (is_null_lit(&l) || is_null_lit(&r)) {
            let mut d = Diagnostic::error(
                "W0301",
                self.file,
                span,
                "comparison with NULL is never true",
                "always unknown, so the condition is false",
            )
            .with_help(
                "a field that is missing is NULL; use `coalesce(x, default)` to give it a value",
            );
            d.severity = Severity::Warning;
            self.report(d);
        }
        let l = types::promote_if(l, t.lhs_float);
        let r = types::promote_if(r, t.rhs_float);
        Some(self.mk(
            TExprKind::Binary {
                op,
                lhs: Box::new(l),
                rhs: Box::new(r),
            },
            t.ty,
            span,
        ))
    }

    fn between(
        &mut self,
        e: &ast::Expr,
        low: &ast::Expr,
        high: &ast::Expr,
        negated: bool,
        span: Span,
    ) -> R {
        let x = self.scalar(e);
        let lo = self.scalar(low);
        let hi = self.scalar(high);
        let (x, lo, hi) = (x?, lo?, hi?);
        // One message is enough when the tested value fits neither bound.
        let ge = self.typed_binary(BinaryOp::Ge, x.clone(), lo, span, Some("BETWEEN"))?;
        let le = self.typed_binary(BinaryOp::Le, x, hi, span, Some("BETWEEN"))?;
        let both = self.mk(
            TExprKind::Binary {
                op: BinaryOp::And,
                lhs: Box::new(ge),
                rhs: Box::new(le),
            },
            V::Bool,
            span,
        );
        Some(if negated {
            self.mk(TExprKind::Not(Box::new(both)), V::Bool, span)
        } else {
            both
        })
    }

    fn in_list(&mut self, e: &ast::Expr, list: &ast::Expr, negated: bool, span: Span) -> R {
        let x = self.scalar(e);
        let l = self.check(list);
        let (mut x, l) = (x?, l?);
        if !types::is_list(l.ty) {
            self.error_help(
                "E0306",
                list.span,
                format!("the right side of IN must be a list, found {}", l.ty),
                "not a list",
                Some("write a list such as `('a', 'b')`, or the name of a DEFINE constant holding one".into()),
            );
            return None;
        }
        let list_span = l.span;
        let list = match l.kind {
            TExprKind::List(items) => {
                let promote_x = x.ty == V::Int && items.iter().any(|i| i.ty == V::Float);
                if promote_x {
                    x = types::to_float(x);
                }
                let mut out = Vec::with_capacity(items.len());
                let mut ok = true;
                for item in items {
                    match types::comparison(x.ty, item.ty) {
                        Some(t) => out.push(types::promote_if(item, t.rhs_float)),
                        None if !ok => {}
                        None => {
                            ok = false;
                            // The item's span is the list element in the
                            // pattern, or the use of a DEFINE.
                            let s = item.span;
                            let (xt, it) = (x.ty, item.ty);
                            self.report(Diagnostic::error(
                                "E0306",
                                self.file,
                                s,
                                format!("cannot compare {xt} with {it} in an IN list"),
                                format!("this is {it}"),
                            ));
                        }
                    }
                }
                if !ok {
                    return None;
                }
                let ty = if out.iter().any(|i| i.ty == V::String) {
                    V::StringList
                } else {
                    V::List
                };
                TExpr {
                    kind: TExprKind::List(out),
                    ty,
                    span: list_span,
                }
            }
            kind => {
                // A list computed by a native function.
                if l.ty == V::StringList && !matches!(x.ty, V::String | V::Null) {
                    self.error(
                        "E0306",
                        list.span,
                        format!("cannot compare {} with a list of STRING in IN", x.ty),
                        "a list of STRING",
                    );
                    return None;
                }
                TExpr {
                    kind,
                    ty: l.ty,
                    span: list_span,
                }
            }
        };
        let test = self.mk(
            TExprKind::In {
                expr: Box::new(x),
                list: Box::new(list),
            },
            V::Bool,
            span,
        );
        Some(if negated {
            self.mk(TExprKind::Not(Box::new(test)), V::Bool, span)
        } else {
            test
        })
    }

    fn list(&mut self, items: &[ast::Expr], span: Span) -> R {
        let typed: Vec<R> = items.iter().map(|i| self.scalar(i)).collect();
        let typed: Vec<TExpr> = typed.into_iter().collect::<Option<_>>()?;
        let strings =
            !typed.is_empty() && typed.iter().all(|i| matches!(i.ty, V::String | V::Null));
        let ty = if strings && typed.iter().any(|i| i.ty == V::String) {
            V::StringList
        } else {
            V::List
        };
        Some(self.mk(TExprKind::List(typed), ty, span))
    }
}

fn literal_type(l: &Literal) -> V {
    match l {
        Literal::Int(_) => V::Int,
        Literal::Float(_) => V::Float,
        Literal::String(_) => V::String,
        Literal::Bool(_) => V::Bool,
        Literal::Null => V::Null,
        Literal::Duration(_) => V::Duration,
        Literal::Timestamp(_) => V::Timestamp,
    }
}

fn aggregate(name: &str) -> Option<AggFunc> {
    Some(match name {
        "count" => AggFunc::Count,
        "sum" => AggFunc::Sum,
        "avg" => AggFunc::Avg,
        "min" => AggFunc::Min,
        "max" => AggFunc::Max,
        _ => return None,
    })
}

fn arg_index(e: &ast::Expr) -> Option<ast::Spanned<Index>> {
    match &e.kind {
        ExprKind::Field { index, .. } => *index,
        _ => None,
    }
}

fn is_null_lit(e: &TExpr) -> bool {
    matches!(e.kind, TExprKind::Const(Literal::Null))
}

/// Number of nodes of a typed tree.
pub(super) fn tree_size(e: &TExpr) -> usize {
    1 + match &e.kind {
        TExprKind::List(items)
        | TExprKind::Call { args: items, .. }
        | TExprKind::Native { args: items, .. } => items.iter().map(tree_size).sum(),
        TExprKind::ToFloat(x) | TExprKind::Neg(x) | TExprKind::Not(x) => tree_size(x),
        TExprKind::Binary { lhs, rhs, .. } => tree_size(lhs) + tree_size(rhs),
        TExprKind::In { expr, list } => tree_size(expr) + tree_size(list),
        TExprKind::Const(_) | TExprKind::Field { .. } | TExprKind::Aggregate { .. } => 0,
    }
}

/// Gives every node of a constant's value the span of its use.
fn respan(mut e: TExpr, span: Span) -> TExpr {
    set_span(&mut e, span);
    e
}

fn set_span(e: &mut TExpr, span: Span) {
    e.span = span;
    match &mut e.kind {
        TExprKind::List(items)
        | TExprKind::Call { args: items, .. }
        | TExprKind::Native { args: items, .. } => {
            for i in items.iter_mut() {
                set_span(i, span);
            }
        }
        TExprKind::ToFloat(x) | TExprKind::Neg(x) | TExprKind::Not(x) => set_span(x, span),
        TExprKind::Binary { lhs, rhs, .. } => {
            set_span(lhs, span);
            set_span(rhs, span);
        }
        TExprKind::In { expr, list } => {
            set_span(expr, span);
            set_span(list, span);
        }
        TExprKind::Const(_) | TExprKind::Field { .. } | TExprKind::Aggregate { .. } => {}
    }
}
