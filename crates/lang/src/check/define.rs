//! `DEFINE`s: what each body may name, recursion, and constant values.
//!
//! A body may use its parameters, other definitions, built-ins, aggregates and
//! natives. Errors that do not depend on the arguments (unknown names, arity
//! of calls to other definitions, recursion) are reported once at the
//! definition, which is then "broken": its uses are typed "error" silently.
//! Type errors of a function body depend on its arguments, so they are
//! reported at each use ("in expansion of `f`"). Constants are typed once here.

use super::expr::{ExprChecker, Place};
use super::{Env, types};
use crate::ast::{self, ExprKind};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::span::Span;
use crate::typed::FileId;

/// Checks every definition, marks the broken ones and computes constants.
pub(super) fn check_defines(env: &mut Env<'_>, diags: &mut Vec<Diagnostic>) {
    let n = env.defines.len();
    let mut deps: Vec<Vec<usize>> = Vec::with_capacity(n);
    let mut broken = vec![false; n];
    for (i, entry) in env.defines.iter().enumerate() {
        let def = entry.def;
        let name = def.name.name.as_str();
        let shadowed = if types::builtin(name).is_some() {
            Some("a built-in function")
        } else if types::AGGREGATES.contains(&name) {
            Some("an aggregate function")
        } else if env.native(name).is_some() {
            Some("a native function registered by the embedder")
        } else {
            None
        };
        if let Some(what) = shadowed {
            broken[i] = true;
            diags.push(
                Diagnostic::error(
                    "E0210",
                    entry.file,
                    def.name.span,
                    format!("`{name}` is {what} and cannot be redefined"),
                    "shadows a function",
                )
                .with_help("choose another name for this definition"),
            );
        }
        let params: Vec<&ast::Ident> = def.params.iter().flatten().collect();
        for (k, p) in params.iter().enumerate() {
            if let Some(first) = params[..k].iter().find(|q| q.name == p.name) {
                broken[i] = true;
                diags.push(
                    Diagnostic::error(
                        "E0213",
                        entry.file,
                        p.span,
                        format!("parameter `{}` is declared twice", p.name),
                        "declared again here",
                    )
                    .with_secondary(first.span, "first declared here"),
                );
            }
        }
        let mut w = Walker {
            env,
            diags,
            file: entry.file,
            def,
            params: params.iter().map(|p| p.name.as_str()).collect(),
            deps: Vec::new(),
            errors: 0,
        };
        w.walk(&def.body);
        if w.errors > 0 {
            broken[i] = true;
        }
        let mut d = w.deps;
        d.sort_unstable();
        d.dedup();
        deps.push(d);
    }
    let order = cycles(env, diags, &deps, &mut broken);
    for (i, b) in broken.iter().enumerate() {
        env.defines[i].broken = *b;
    }
    // Constants, dependencies first, so that a constant using another sees
    // its value (or its brokenness) already.
    for i in order {
        let entry = &env.defines[i];
        if entry.broken || entry.def.params.is_some() {
            continue;
        }
        let (value, errors) = {
            let mut ec = ExprChecker::new(env, diags, entry.file, &[], Place::Define);
            let v = ec.check(&entry.def.body);
            (v, ec.errors())
        };
        match value {
            Some(v) if errors == 0 => env.defines[i].value = Some(v),
            _ => env.defines[i].broken = true,
        }
    }
}

/// Finds recursion among definitions (iteratively: there may be many), reports
/// each cycle once and marks its members broken. Returns every definition in
/// dependency order (a definition after those it uses).
fn cycles(
    env: &Env<'_>,
    diags: &mut Vec<Diagnostic>,
    deps: &[Vec<usize>],
    broken: &mut [bool],
) -> Vec<usize> {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Color {
        White,
        Gray,
        Black,
    }
    let n = deps.len();
    let mut color = vec![Color::White; n];
    let mut order = Vec::with_capacity(n);
    for root in 0..n {
        if color[root] != Color::White {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        color[root] = Color::Gray;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&dep) = deps[node].get(*next) {
                *next += 1;
                match color[dep] {
                    Color::White => {
                        color[dep] = Color::Gray;
                        stack.push((dep, 0));
                    }
                    Color::Gray => {
                        let start = stack.iter().position(|&(s, _)| s == dep).unwrap_or(0);
                        let members: Vec<usize> = stack[start..].iter().map(|&(s, _)| s).collect();
                        report_cycle(env, diags, &members);
                        for m in members {
                            broken[m] = true;
                        }
                    }
                    Color::Black => {}
                }
            } else {
                color[node] = Color::Black;
                order.push(node);
                stack.pop();
            }
        }
    }
    order
}

fn report_cycle(env: &Env<'_>, diags: &mut Vec<Diagnostic>, members: &[usize]) {
    let Some(&first) = members.first() else {
        return;
    };
    let entry = &env.defines[first];
    let mut chain: Vec<&str> = members
        .iter()
        .map(|&m| env.defines[m].def.name.name.as_str())
        .collect();
    chain.push(entry.def.name.name.as_str());
    let name = &entry.def.name.name;
    let msg = if members.len() == 1 {
        format!("definition `{name}` uses itself")
    } else {
        format!("definition `{name}` is recursive: {}", chain.join(" -> "))
    };
    diags.push(
        Diagnostic::error(
            "E0211",
            entry.file,
            entry.def.name.span,
            msg,
            "recursive definition",
        )
        .with_help(
            "definitions are expanded where they are used, so they cannot refer to \
                 themselves, directly or through other definitions",
        ),
    );
}

struct Walker<'w, 'a> {
    env: &'w Env<'a>,
    diags: &'w mut Vec<Diagnostic>,
    file: FileId,
    def: &'a ast::Define,
    params: Vec<&'a str>,
    deps: Vec<usize>,
    errors: usize,
}

impl Walker<'_, '_> {
    fn error(&mut self, d: Diagnostic) {
        self.errors += 1;
        self.diags.push(d);
    }

    fn is_param(&self, name: &str) -> bool {
        self.params.contains(&name)
    }

    fn not_a_param(&mut self, var: &ast::Ident, span: Span) {
        let def = &self.def.name.name;
        let shown = match &self.def.params {
            Some(ps) if !ps.is_empty() => {
                let mut names: Vec<&str> = ps.iter().map(|p| p.name.as_str()).collect();
                names.push(&var.name);
                format!("DEFINE {def}({}) = ...", names.join(", "))
            }
            _ => format!("DEFINE {def}({}) = ...", var.name),
        };
        let d = Diagnostic::error(
            "E0212",
            self.file,
            span,
            format!("`{}` is not a parameter of `{def}`", var.name),
            "not a parameter",
        )
        .with_help(format!(
            "a definition can use pattern variables only through its parameters: `{shown}`"
        ));
        self.error(d);
    }

    fn walk(&mut self, e: &ast::Expr) {
        match &e.kind {
            ExprKind::Lit(_) => {}
            ExprKind::Name(id) => self.name(id),
            ExprKind::Field { var, .. } => {
                if !self.is_param(&var.name) {
                    self.not_a_param(var, var.span);
                }
            }
            ExprKind::Call { func, args } => self.call(func, args),
            ExprKind::Unary { expr, .. } => self.walk(expr),
            ExprKind::Binary { lhs, rhs, .. } => {
                self.walk(lhs);
                self.walk(rhs);
            }
            ExprKind::Between {
                expr, low, high, ..
            } => {
                self.walk(expr);
                self.walk(low);
                self.walk(high);
            }
            ExprKind::In { expr, list, .. } => {
                self.walk(expr);
                self.walk(list);
            }
            ExprKind::List(items) => {
                for i in items {
                    self.walk(i);
                }
            }
        }
    }

    fn name(&mut self, id: &ast::Ident) {
        if self.is_param(&id.name) {
            return;
        }
        if let Some((idx, d)) = self.env.define(&id.name) {
            self.deps.push(idx);
            if d.def.params.is_some() {
                let d = Diagnostic::error(
                    "E0314",
                    self.file,
                    id.span,
                    format!("`{}` is a function and needs arguments", id.name),
                    "used without arguments",
                )
                .with_help(format!("call it: `{}(...)`", id.name));
                self.error(d);
            }
            return;
        }
        let candidates = self.params.iter().copied().chain(
            self.env
                .defines
                .iter()
                .filter(|d| d.def.params.is_none())
                .map(|d| d.def.name.name.as_str()),
        );
        let help = did_you_mean(&id.name, candidates).unwrap_or_else(|| {
            format!(
                "a definition sees only its parameters and other definitions; \
                 to use a pattern variable, make `{}` a parameter",
                id.name
            )
        });
        let d = Diagnostic::error(
            "E0208",
            self.file,
            id.span,
            format!(
                "unknown name `{}` in the definition of `{}`",
                id.name, self.def.name.name
            ),
            "not a parameter or definition",
        )
        .with_help(help);
        self.error(d);
    }

    fn call(&mut self, func: &ast::Ident, args: &[ast::Expr]) {
        let name = func.name.as_str();
        if types::AGGREGATES.contains(&name) {
            for a in args {
                match &a.kind {
                    ExprKind::Name(id)
                        if !self.is_param(&id.name) && self.env.define(&id.name).is_none() =>
                    {
                        self.not_a_param(id, id.span);
                    }
                    _ => self.walk(a),
                }
            }
            return;
        }
        for a in args {
            self.walk(a);
        }
        if types::builtin(name).is_some() || self.env.native(name).is_some() {
            return;
        }
        if let Some((idx, d)) = self.env.define(name) {
            self.deps.push(idx);
            match &d.def.params {
                None => {
                    let d = Diagnostic::error(
                        "E0314",
                        self.file,
                        func.span,
                        format!("`{name}` is a constant, not a function"),
                        "called with arguments",
                    )
                    .with_help(format!("use it without parentheses: `{name}`"));
                    self.error(d);
                }
                Some(ps) if ps.len() != args.len() => {
                    let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
                    let d = Diagnostic::error(
                        "E0303",
                        self.file,
                        func.span,
                        format!(
                            "`{name}` takes {} {} but {} {} given",
                            ps.len(),
                            plural(ps.len()),
                            args.len(),
                            if args.len() == 1 { "was" } else { "were" }
                        ),
                        format!("expected {} {}", ps.len(), plural(ps.len())),
                    );
                    self.error(d);
                }
                Some(_) => {}
            }
            return;
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
        let mut d = Diagnostic::error(
            "E0207",
            self.file,
            func.span,
            format!("unknown function `{name}`"),
            "not a built-in, aggregate, definition or native function",
        );
        d.help = did_you_mean(name, candidates);
        self.error(d);
    }
}
