//! Calls: built-ins, natives, aggregates and `DEFINE` expansion.

use super::{
    Binding, ExprChecker, Frame, MAX_EXPANSIONS, R, aggregate, arg_index, respan, tree_size,
};
use crate::ast::{self, ExprKind, Index};
use crate::check::types::{self, Param};
use crate::diagnostic::did_you_mean;
use crate::span::Span;
use crate::typed::{AggFunc, AggRange, Builtin, TExpr, TExprKind, ValueType as V, VarKind};

impl<'e> ExprChecker<'e, '_> {
    // ----- calls -----------------------------------------------------------

    pub(super) fn call(&mut self, func: &ast::Ident, args: &[ast::Expr], span: Span) -> R {
        let name = func.name.as_str();
        if let Some(agg) = aggregate(name) {
            return self.aggregate(agg, func, args, span);
        }
        if let Some(b) = types::builtin(name) {
            return self.builtin(b, func, args, span);
        }
        if let Some((idx, d)) = self.env.define(name) {
            let Some(params) = &d.def.params else {
                for a in args {
                    self.check(a);
                }
                self.error_help(
                    "E0314",
                    func.span,
                    format!("`{name}` is a constant, not a function"),
                    "called with arguments",
                    Some(format!("use it without parentheses: `{name}`")),
                );
                return None;
            };
            if params.len() != args.len() {
                for a in args {
                    self.check(a);
                }
                self.arity(func, params.len(), args.len());
                return None;
            }
            return self.expand(idx, args, span);
        }
        let env = self.env;
        if let Some(sig) = env.native(name) {
            return self.native(sig, func, args, span);
        }
        for a in args {
            self.check(a);
        }
        let mut candidates: Vec<&str> = types::BUILTINS.iter().map(|(n, _)| *n).collect();
        candidates.extend(types::AGGREGATES);
        candidates.extend(
            self.env
                .defines
                .iter()
                .filter(|d| d.def.params.is_some())
                .map(|d| d.def.name.name.as_str()),
        );
        candidates.extend(self.env.natives.iter().map(|n| n.name.as_str()));
        let mut help = did_you_mean(name, candidates.iter().copied());
        if help.is_none() && candidates.contains(&name.to_lowercase().as_str()) {
            help = Some(format!(
                "function names are case-sensitive: did you mean `{}`?",
                name.to_lowercase()
            ));
        }
        self.error_help(
            "E0207",
            func.span,
            format!("unknown function `{name}`"),
            "not a built-in, aggregate, definition or native function",
            help,
        );
        None
    }

    /// Reports a call with the wrong number of arguments; `usage` shows the
    /// expected form.
    pub(super) fn arity(&mut self, func: &ast::Ident, want: usize, got: usize) {
        let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
        let name = func.name.as_str();
        let usage = if let Some(b) = types::builtin(name) {
            let (params, _) = types::signature(b);
            let ps: Vec<&str> = params.iter().map(|p| p.describe()).collect();
            Some(format!("usage: `{name}({})`", ps.join(", ")))
        } else if types::AGGREGATES.contains(&name) {
            Some(format!("usage: `{name}(t.x)` over a Kleene variable `t`"))
        } else if let Some((_, d)) = self.env.define(name) {
            let ps: Vec<&str> = d
                .def
                .params
                .iter()
                .flatten()
                .map(|p| p.name.as_str())
                .collect();
            Some(format!(
                "`{name}` is defined as `{name}({})`",
                ps.join(", ")
            ))
        } else {
            self.env.native(name).map(|n| {
                let ps: Vec<String> = n
                    .params
                    .iter()
                    .map(|p| match p {
                        V::Null => "any".to_string(),
                        p => p.to_string(),
                    })
                    .collect();
                format!("usage: `{name}({})`", ps.join(", "))
            })
        };
        self.error_help(
            "E0303",
            func.span,
            format!(
                "`{name}` takes {want} {} but {got} {} given",
                plural(want),
                if got == 1 { "was" } else { "were" }
            ),
            &format!("expected {want} {}", plural(want)),
            usage,
        );
    }

    fn builtin(&mut self, b: Builtin, func: &ast::Ident, args: &[ast::Expr], span: Span) -> R {
        if b == Builtin::Coalesce {
            return self.coalesce(func, args, span);
        }
        let (params, ret) = types::signature(b);
        if params.len() != args.len() {
            for a in args {
                self.check(a);
            }
            self.arity(func, params.len(), args.len());
            return None;
        }
        let mut typed = Vec::with_capacity(args.len());
        let mut ok = true;
        for (p, a) in params.iter().zip(args) {
            let x = if *p == Param::StrList {
                self.check(a)
            } else {
                self.scalar(a)
            };
            match x {
                Some(x) if p.accepts(x.ty) => typed.push(x),
                Some(x) => {
                    ok = false;
                    let help = (*p == Param::StrList).then(|| {
                        "write a list such as `('profit', 'growth')` or the name of a DEFINE \
                         constant holding one"
                            .to_string()
                    });
                    self.error_help(
                        "E0304",
                        a.span,
                        format!("`{}` expects {}, found {}", func.name, p.describe(), x.ty),
                        &format!("this is {}", x.ty),
                        help,
                    );
                }
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        let ty = ret.unwrap_or_else(|| typed.first().map_or(V::Null, |x| x.ty));
        Some(self.mk(
            TExprKind::Call {
                func: b,
                args: typed,
            },
            ty,
            span,
        ))
    }

    fn coalesce(&mut self, func: &ast::Ident, args: &[ast::Expr], span: Span) -> R {
        if args.is_empty() {
            self.error(
                "E0303",
                func.span,
                "`coalesce` takes at least 1 argument but 0 were given".into(),
                "expected at least 1 argument",
            );
            return None;
        }
        let typed: Vec<R> = args.iter().map(|a| self.scalar(a)).collect();
        let typed: Vec<TExpr> = typed.into_iter().collect::<Option<_>>()?;
        let Some(ty) = types::common_type(typed.iter().map(|x| x.ty)) else {
            let tys: Vec<String> = typed.iter().map(|x| x.ty.to_string()).collect();
            self.error_help(
                "E0304",
                func.span,
                format!(
                    "`coalesce` arguments have no common type ({})",
                    tys.join(", ")
                ),
                "arguments of different types",
                Some("every argument must have the same type (INT and FLOAT mix as FLOAT)".into()),
            );
            return None;
        };
        let args = typed
            .into_iter()
            .map(|x| {
                let p = ty == V::Float && x.ty == V::Int;
                types::promote_if(x, p)
            })
            .collect();
        Some(self.mk(
            TExprKind::Call {
                func: Builtin::Coalesce,
                args,
            },
            ty,
            span,
        ))
    }

    fn native(
        &mut self,
        sig: &'e crate::typed::NativeSig,
        func: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
    ) -> R {
        if sig.params.len() != args.len() {
            for a in args {
                self.check(a);
            }
            self.arity(func, sig.params.len(), args.len());
            return None;
        }
        let mut typed = Vec::with_capacity(args.len());
        let mut ok = true;
        for (&p, a) in sig.params.iter().zip(args) {
            let x = if types::is_list(p) {
                self.check(a)
            } else {
                self.scalar(a)
            };
            let Some(x) = x else {
                ok = false;
                continue;
            };
            let fits = p == V::Null || x.ty == V::Null || x.ty == p;
            if fits {
                typed.push(x);
            } else if p == V::Float && x.ty == V::Int {
                typed.push(types::to_float(x));
            } else if p == V::List && x.ty == V::StringList {
                typed.push(x);
            } else {
                ok = false;
                self.error(
                    "E0304",
                    a.span,
                    format!("`{}` expects {p}, found {}", func.name, x.ty),
                    &format!("this is {}", x.ty),
                );
            }
        }
        if !ok {
            return None;
        }
        Some(self.mk(
            TExprKind::Native {
                name: sig.name.clone(),
                args: typed,
            },
            sig.ret,
            span,
        ))
    }

    fn aggregate(
        &mut self,
        func: AggFunc,
        fname: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
    ) -> R {
        let name = fname.name.as_str();
        if args.len() != 1 {
            // The arguments are not checked: `t.x` is only valid as the
            // argument of an aggregate, and this call is already wrong.
            self.arity(fname, 1, args.len());
            return None;
        }
        let arg = &args[0];
        let form_help = || {
            if func == AggFunc::Count {
                "write `count(t)` for the number of events of a Kleene variable `t`, or \
                 `count(t.x)` for the number of non-NULL values"
                    .to_string()
            } else {
                format!(
                    "write `{name}(t.x)` over every element of a Kleene variable `t`, or \
                     `{name}(t[..i-1].x)` over the elements before the current one"
                )
            }
        };
        let (var, range, field) = match &arg.kind {
            ExprKind::Name(id) if func == AggFunc::Count && self.var_named(&id.name).is_some() => {
                (id, AggRange::All, None)
            }
            ExprKind::Name(id) if self.var_named(&id.name).is_some() => {
                let help = form_help();
                self.error_help(
                    "E0311",
                    arg.span,
                    format!("`{name}` needs a field of `{}`", id.name),
                    "a variable, not a field",
                    Some(help),
                );
                return None;
            }
            ExprKind::Field { var, index, field } => {
                let range = match index.map(|i| i.value) {
                    None => AggRange::All,
                    Some(Index::BeforeCurrent) => AggRange::BeforeCurrent,
                    Some(_) => {
                        self.error_help(
                            "E0311",
                            arg.span,
                            format!("`{name}` takes all elements of a Kleene variable, not one"),
                            "one element",
                            Some(form_help()),
                        );
                        return None;
                    }
                };
                (var, range, Some(field))
            }
            ExprKind::Name(id)
                if self.param(&id.name).is_none() && self.env.define(&id.name).is_none() =>
            {
                // Not a variable nor anything else: report it as a variable.
                self.resolve_var(id);
                return None;
            }
            _ => {
                self.check(arg)?;
                self.error_help(
                    "E0311",
                    arg.span,
                    format!(
                        "the argument of `{name}` must be a Kleene variable or one of its fields"
                    ),
                    "not a variable or field",
                    Some(form_help()),
                );
                return None;
            }
        };
        let (v, at) = self.resolve_var(var)?;
        let info = &self.vars[v.index()];
        if !matches!(info.kind, VarKind::Kleene { .. }) {
            let what = if info.kind == VarKind::Negated {
                "a NOT variable"
            } else {
                "a single event"
            };
            self.error_at_var(
                "E0310",
                var.span,
                format!(
                    "`{name}` needs a Kleene variable, but `{}` is {what}",
                    var.name
                ),
                "not a Kleene variable",
                "aggregates apply to Kleene variables such as `t+` or `t{2,5}`".into(),
                v,
            );
            return None;
        }
        if range == AggRange::BeforeCurrent {
            if let Some(ix) = arg_index(arg) {
                if !self.index_here_ok(&ix, &var.name) {
                    return None;
                }
            }
        }
        self.mention(v, at, range == AggRange::BeforeCurrent);
        let (field_ref, ty) = match field {
            Some(f) => {
                let (r, ty) = self.resolve_field(v, f)?;
                (Some(r), ty)
            }
            None => (None, V::Int),
        };
        let result = match func {
            AggFunc::Count => Some(V::Int),
            AggFunc::Sum => matches!(ty, V::Int | V::Float | V::Duration).then_some(ty),
            AggFunc::Avg => match ty {
                V::Int | V::Float => Some(V::Float),
                V::Duration => Some(V::Duration),
                _ => None,
            },
            AggFunc::Min | AggFunc::Max => matches!(
                ty,
                V::Int | V::Float | V::String | V::Timestamp | V::Duration | V::Bool
            )
            .then_some(ty),
        };
        let Some(rty) = result else {
            self.error_help(
                "E0311",
                arg.span,
                format!("`{name}` cannot be applied to {ty} values"),
                &format!("this is {ty}"),
                Some(format!("`{name}` needs INT, FLOAT or DURATION values")),
            );
            return None;
        };
        Some(self.mk(
            TExprKind::Aggregate {
                func,
                var: v,
                range,
                field: field_ref,
            },
            rty,
            span,
        ))
    }

    // ----- DEFINE expansion --------------------------------------------------

    pub(super) fn expand(&mut self, idx: usize, args: &[ast::Expr], span: Span) -> R {
        let entry = &self.env.defines[idx];
        let def = entry.def;
        // Bind the arguments in the caller's scope first.
        let params = def.params.as_deref().unwrap_or(&[]);
        let mut bound = Vec::with_capacity(params.len());
        for (p, a) in params.iter().zip(args) {
            let b = match &a.kind {
                ExprKind::Name(id) => match self.var_named(&id.name) {
                    Some(v) => Binding::Var(v, self.site(a.span)),
                    None => Binding::Value(self.check(a)),
                },
                _ => Binding::Value(self.check(a)),
            };
            bound.push((p.name.clone(), b));
        }
        if entry.broken {
            return None;
        }
        if let Some(v) = &entry.value {
            // A constant: typed once, re-spanned at the use.
            self.nodes += tree_size(v);
            return Some(respan(v.clone(), self.site(span)));
        }
        self.expansions += 1;
        if self.expansions > MAX_EXPANSIONS {
            if !self.gave_up {
                self.gave_up = true;
                self.error(
                    "E0319",
                    span,
                    format!(
                        "expanding definitions here makes an expression too large \
                         (more than {MAX_EXPANSIONS} expansions)"
                    ),
                    "expands too much",
                );
            }
            return None;
        }
        self.frames.push(Frame {
            name: def.name.name.clone(),
            params: bound,
            use_span: self.site(span),
        });
        let r = self.check(&def.body);
        self.frames.pop();
        r
    }
}
