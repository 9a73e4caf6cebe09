//! Patterns: structure -> variables and nodes, `WHERE` -> classified
//! conjuncts, `PARTITION BY`, `EMIT`.

use super::Env;
use super::expr::{ExprChecker, Mention, Place, VarInfo};
use super::text::expr_text;
use crate::ast::{self, BinaryOp, ExprKind, Quantifier};
use crate::diagnostic::{Diagnostic, Severity, did_you_mean};
use crate::span::Span;
use crate::typed::{
    Conjunct, Emit, FieldRef, FileId, Node, PartitionKey, Pattern, TypeId, ValueType, Var, VarId,
    VarKind,
};

/// Checks one pattern; `None` when it has an error (already reported).
pub(super) fn check_pattern(
    env: &Env<'_>,
    diags: &mut Vec<Diagnostic>,
    file: FileId,
    p: &ast::Pattern,
) -> Option<Pattern> {
    let errors_before = count_errors(diags);
    let mut s = Structure {
        env,
        diags,
        file,
        vars: Vec::new(),
    };
    let mut seq = Vec::new();
    for (pos, el) in p.seq.iter().enumerate() {
        if let Some(node) = s.element(el, pos, None) {
            seq.push(node);
        }
    }
    let vars = s.vars;
    structure_rules(env, diags, file, p, &vars);

    let conjuncts = where_clause(env, diags, file, p, &vars);
    let partition_by = partition(env, diags, file, p, &vars);
    let emit = emit(env, diags, file, p, &vars);

    if count_errors(diags) > errors_before {
        return None;
    }
    let typed_vars: Vec<Var> = vars
        .iter()
        .map(|v| {
            Some(Var {
                name: v.name.clone(),
                ty: v.ty?,
                kind: v.kind,
                span: v.span,
            })
        })
        .collect::<Option<_>>()?;
    Some(Pattern {
        name: p.name.name.clone(),
        file,
        span: p.span,
        routed_types: routed_types(&vars),
        vars: typed_vars,
        seq,
        conjuncts: conjuncts?,
        within: p.within.map(|w| w.nanos),
        partition_by: partition_by?,
        strategy: p.strategy.map(|s| s.value).unwrap_or_default(),
        after_match: p.after_match.map(|a| a.value).unwrap_or_default(),
        emit: emit?,
    })
}

fn count_errors(diags: &[Diagnostic]) -> usize {
    diags.iter().filter(|d| d.is_error()).count()
}

fn routed_types(vars: &[VarInfo]) -> Vec<TypeId> {
    let mut t: Vec<TypeId> = vars.iter().filter_map(|v| v.ty).collect();
    t.sort_unstable();
    t.dedup();
    t
}

// ----- structure -------------------------------------------------------------

struct Structure<'s, 'a> {
    env: &'s Env<'a>,
    diags: &'s mut Vec<Diagnostic>,
    file: FileId,
    vars: Vec<VarInfo>,
}

impl Structure<'_, '_> {
    fn error(
        &mut self,
        code: &'static str,
        span: Span,
        msg: String,
        label: &str,
    ) -> &mut Diagnostic {
        self.diags
            .push(Diagnostic::error(code, self.file, span, msg, label));
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    /// `group` is the kind of group (`"OR"`/`"AND"`) the element is a member of.
    fn element(&mut self, el: &ast::Element, pos: usize, group: Option<&str>) -> Option<Node> {
        match el {
            ast::Element::Event {
                ty,
                var,
                quant,
                span,
            } => {
                let kind = match quant {
                    None => VarKind::Single,
                    Some(q) => {
                        self.quantifier(*q, *span);
                        VarKind::Kleene {
                            min: q.min(),
                            max: q.max(),
                        }
                    }
                };
                Some(self.bind(ty, var, kind, pos, *span))
            }
            ast::Element::Not { ty, var, span } => {
                if let Some(g) = group {
                    self.error(
                        "E0405",
                        *span,
                        format!("NOT inside {g}(...) is not supported in v1"),
                        "NOT inside a group",
                    )
                    .help = Some(format!(
                        "members of {g} must be events such as `A a` or `A a+`; put the NOT \
                         element in the SEQ before or after the group"
                    ));
                    // Still bind the variable so conditions on it resolve.
                }
                Some(self.bind(ty, var, VarKind::Negated, pos, *span))
            }
            ast::Element::Or { members, span } | ast::Element::And { members, span } => {
                let name = if matches!(el, ast::Element::Or { .. }) {
                    "OR"
                } else {
                    "AND"
                };
                if let Some(g) = group {
                    self.error(
                        "E0405",
                        *span,
                        format!("{name}(...) nested inside {g}(...) is not supported in v1"),
                        "nested group",
                    )
                    .help = Some(format!(
                        "members of {g} must be events such as `A a` or `A a+`"
                    ));
                }
                if members.len() < 2 {
                    self.error(
                        "E0406",
                        *span,
                        format!("{name}(...) needs at least two members"),
                        &format!("{} member", members.len()),
                    )
                    .help = Some(format!(
                        "with one member, write the element itself instead of {name}(...)"
                    ));
                }
                let nodes: Vec<Node> = members
                    .iter()
                    .filter_map(|m| self.element(m, pos, Some(name)))
                    .collect();
                Some(if name == "OR" {
                    Node::Or(nodes)
                } else {
                    Node::And(nodes)
                })
            }
        }
    }

    fn quantifier(&mut self, q: Quantifier, span: Span) {
        let problem = match q {
            Quantifier::Exactly(0) | Quantifier::Between(0, 0) => Some((
                "a quantifier of exactly 0 events always binds an empty list".to_string(),
                "use `*` or `{0,n}` for an optional list, or `NOT` for an absent event",
            )),
            Quantifier::Between(n, m) if n > m => Some((
                format!("quantifier `{{{n},{m}}}` has a minimum larger than its maximum"),
                "write `{min,max}` with min <= max",
            )),
            _ => None,
        };
        if let Some((msg, help)) = problem {
            self.error("E0404", span, msg, "invalid quantifier").help = Some(help.into());
        }
    }

    fn bind(
        &mut self,
        ty: &ast::Ident,
        var: &ast::Ident,
        kind: VarKind,
        pos: usize,
        span: Span,
    ) -> Node {
        let tid = self.env.type_ids.get(&ty.name).copied();
        if tid.is_none() {
            let help = did_you_mean(&ty.name, self.env.types.iter().map(|t| t.name.as_str()));
            self.error(
                "E0204",
                ty.span,
                format!("unknown event type `{}`", ty.name),
                "not declared",
            )
            .help =
                Some(help.unwrap_or_else(|| {
                    format!("declare it: `EVENT {} (field TYPE, ...);`", ty.name)
                }));
        }
        if let Some(first) = self.vars.iter().find(|v| v.name == var.name) {
            let first_span = first.name_span;
            self.error(
                "E0209",
                var.span,
                format!("variable `{}` is bound twice in this pattern", var.name),
                "bound again here",
            )
            .secondary
            .push((first_span, "first bound here".into()));
        } else if let Some((_, d)) = self.env.define(&var.name) {
            if d.def.params.is_none() {
                self.error(
                    "E0214",
                    var.span,
                    format!("variable `{}` has the name of a definition", var.name),
                    "same name as a DEFINE constant",
                )
                .help = Some(
                    "rename the variable: a bare name in a condition would be ambiguous".into(),
                );
            }
        }
        let id = VarId::from_index(self.vars.len());
        self.vars.push(VarInfo {
            name: var.name.clone(),
            name_span: var.span,
            ty: tid,
            kind,
            pos,
            span,
        });
        Node::Var(id)
    }
}

/// At least one positive element; WITHIN where required and positive.
fn structure_rules(
    _env: &Env<'_>,
    diags: &mut Vec<Diagnostic>,
    file: FileId,
    p: &ast::Pattern,
    vars: &[VarInfo],
) {
    if vars.iter().all(|v| v.kind == VarKind::Negated) {
        diags.push(
            Diagnostic::error(
                "E0401",
                file,
                p.seq_span,
                "a pattern needs at least one positive element",
                "only NOT elements",
            )
            .with_help(
                "a match is made of the events it binds; NOT only constrains the gaps \
                 between them: add an element such as `A a`",
            ),
        );
    }
    let single = matches!(p.seq.as_slice(), [ast::Element::Event { quant: None, .. }]);
    match p.within {
        None if !single => diags.push(
            Diagnostic::error(
                "E0402",
                file,
                p.seq_span,
                format!("pattern `{}` needs a WITHIN window", p.name.name),
                "no WITHIN for this structure",
            )
            .with_help(
                "without WITHIN the engine must keep every partial match forever (unbounded \
                 state); add `WITHIN 5m` (or the longest time a match may span) after WHERE",
            ),
        ),
        Some(w) if w.nanos <= 0 => diags.push(
            Diagnostic::error(
                "E0403",
                file,
                w.span,
                "WITHIN must be a positive duration",
                "not positive",
            )
            .with_help("write a window such as `WITHIN 30s`"),
        ),
        _ => {}
    }
}

// ----- WHERE -------------------------------------------------------------------

/// The top-level `AND` operands of a condition, in source order.
fn split_conjuncts<'e>(e: &'e ast::Expr, out: &mut Vec<&'e ast::Expr>) {
    // Iterative on the left spine: `a AND b AND c` nests to the left, and a
    // long chain must not overflow the stack.
    let mut right = Vec::new();
    let mut cur = e;
    loop {
        match &cur.kind {
            ExprKind::Binary {
                op: BinaryOp::And,
                lhs,
                rhs,
            } => {
                right.push(&**rhs);
                cur = lhs;
            }
            _ => {
                out.push(cur);
                break;
            }
        }
    }
    while let Some(r) = right.pop() {
        split_conjuncts(r, out);
    }
}

fn where_clause(
    env: &Env<'_>,
    diags: &mut Vec<Diagnostic>,
    file: FileId,
    p: &ast::Pattern,
    vars: &[VarInfo],
) -> Option<Vec<Conjunct>> {
    let Some(cond) = &p.where_clause else {
        return Some(Vec::new());
    };
    let mut parts = Vec::new();
    split_conjuncts(cond, &mut parts);
    let mut out = Vec::with_capacity(parts.len());
    let mut ok = true;
    for part in parts {
        let (e, mentions, clean) = {
            let mut ec = ExprChecker::new(env, diags, file, vars, Place::Where);
            let e = ec.condition(part, "a WHERE condition");
            let clean = ec.errors() == 0;
            (e, std::mem::take(&mut ec.mentions), clean)
        };
        let class = classify(diags, file, vars, &mentions);
        match (e, class) {
            (Some(expr), Some((vs, iterative, negated))) if clean => {
                if vs.is_empty() {
                    let mut d = Diagnostic::error(
                        "W0302",
                        file,
                        part.span,
                        "this condition mentions no pattern variable",
                        "the same for every match",
                    )
                    .with_help(
                        "it is either always true (then remove it) or always false (then the \
                         pattern never matches)",
                    );
                    d.severity = Severity::Warning;
                    diags.push(d);
                }
                out.push(Conjunct {
                    expr,
                    vars: vs,
                    iterative,
                    negated,
                    text: expr_text(part),
                    span: part.span,
                });
            }
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

type Class = (Vec<VarId>, Option<VarId>, Option<VarId>);

/// Which variables a conjunct mentions, whether it is iterative for a Kleene
/// variable, and which NOT variable it constrains; reports the combinations
/// the engine cannot evaluate.
fn classify(
    diags: &mut Vec<Diagnostic>,
    file: FileId,
    vars: &[VarInfo],
    mentions: &[Mention],
) -> Option<Class> {
    let mut ok = true;
    let mut vs: Vec<VarId> = mentions.iter().map(|m| m.var).collect();
    vs.sort_unstable();
    vs.dedup();

    let first_of = |pred: &dyn Fn(&Mention) -> bool| -> Vec<Mention> {
        let mut seen: Vec<Mention> = Vec::new();
        for m in mentions {
            if pred(m) && !seen.iter().any(|s| s.var == m.var) {
                seen.push(*m);
            }
        }
        seen
    };
    let iter = first_of(&|m| m.iterative);
    let neg = first_of(&|m| vars[m.var.index()].kind == VarKind::Negated);

    if let [a, b, ..] = iter.as_slice() {
        ok = false;
        let (an, bn) = (&vars[a.var.index()].name, &vars[b.var.index()].name);
        diags.push(
            Diagnostic::error(
                "E0407",
                file,
                b.span,
                format!(
                    "a condition can be iterative for only one Kleene variable, but this one \
                     uses the current element of both `{an}` and `{bn}`"
                ),
                format!("second iterative variable `{bn}`"),
            )
            .with_secondary(a.span, format!("iterative for `{an}` here"))
            .with_help(
                "`t[i]`, `t[i-1]` and `t[..i-1]` are checked as each element joins `t`; \
                 split the condition so each part is about one Kleene variable",
            ),
        );
    }
    if let [a, b, ..] = neg.as_slice() {
        ok = false;
        let (an, bn) = (&vars[a.var.index()].name, &vars[b.var.index()].name);
        diags.push(
            Diagnostic::error(
                "E0408",
                file,
                b.span,
                format!(
                    "a condition may constrain only one NOT variable, but this one uses `{an}` \
                     and `{bn}`"
                ),
                format!("second NOT variable `{bn}`"),
            )
            .with_secondary(a.span, format!("NOT variable `{an}` here"))
            .with_help("each NOT element is checked on its own; split the condition with AND"),
        );
    }
    let iterative = iter.first().map(|m| m.var);
    if let Some(t) = iterative.filter(|_| iter.len() == 1) {
        let tv = &vars[t.index()];
        let mut reported: Vec<VarId> = Vec::new();
        for m in mentions {
            if m.var == t || reported.contains(&m.var) {
                continue;
            }
            let v = &vars[m.var.index()];
            let why = if v.kind == VarKind::Negated {
                Some(format!("`{}` is a NOT variable", v.name))
            } else if v.pos > tv.pos {
                Some(format!("`{}` is bound after `{}`", v.name, tv.name))
            } else if v.pos == tv.pos {
                Some(format!(
                    "`{}` is in the same group as `{}`",
                    v.name, tv.name
                ))
            } else {
                None
            };
            if let Some(why) = why {
                ok = false;
                reported.push(m.var);
                diags.push(
                    Diagnostic::error(
                        "E0409",
                        file,
                        m.span,
                        format!(
                            "this condition is iterative for `{}` and cannot use `{}`: {why}",
                            tv.name, v.name
                        ),
                        "not bound when the condition is checked",
                    )
                    .with_help(format!(
                        "a condition that mentions `{0}[i]`, `{0}[i-1]` or `{0}[..i-1]` is \
                         iterative: it is checked as each element joins `{0}`, so it may only \
                         use `{0}` and variables bound before it. Move the part about `{1}` \
                         into its own condition (joined with AND): without `{0}[i]` it is a \
                         completion condition, checked once `{0}` is complete",
                        tv.name, v.name
                    )),
                );
            }
        }
    }
    ok.then(|| (vs, iterative, neg.first().map(|m| m.var)))
}

// ----- PARTITION BY --------------------------------------------------------------

fn partition(
    env: &Env<'_>,
    diags: &mut Vec<Diagnostic>,
    file: FileId,
    p: &ast::Pattern,
    vars: &[VarInfo],
) -> Option<Vec<PartitionKey>> {
    let routed = routed_types(vars);
    let types_known = vars.iter().all(|v| v.ty.is_some());
    let mut out = Vec::with_capacity(p.partition_by.len());
    let mut ok = true;
    for (k, key) in p.partition_by.iter().enumerate() {
        if let Some(first) = p.partition_by[..k].iter().find(|f| f.name == key.name) {
            ok = false;
            diags.push(
                Diagnostic::error(
                    "E0411",
                    file,
                    key.span,
                    format!("`{}` is listed twice in PARTITION BY", key.name),
                    "listed again",
                )
                .with_secondary(first.span, "first listed here"),
            );
            continue;
        }
        if !types_known {
            ok = false;
            continue;
        }
        let mut fields: Vec<FieldRef> = Vec::with_capacity(routed.len());
        let mut key_ty: Option<(ValueType, &str)> = None;
        let mut lacking: Vec<&crate::typed::EventType> = Vec::new();
        let mut mismatch = false;
        for &tid in &routed {
            let et = &env.types[tid.index()];
            let Some(f) = et.field(&key.name) else {
                lacking.push(et);
                continue;
            };
            let ty = et.field_type(f);
            match key_ty {
                None => key_ty = Some((ty, &et.name)),
                Some((t0, n0)) if t0 != ty && !mismatch => {
                    mismatch = true;
                    diags.push(
                        Diagnostic::error(
                            "E0318",
                            file,
                            key.span,
                            format!(
                                "`{}` is {t0} on `{n0}` but {ty} on `{}`",
                                key.name, et.name
                            ),
                            "different types",
                        )
                        .with_help(
                            "a partition key must have the same type on every event type                              of the pattern",
                        ),
                    );
                }
                Some(_) => {}
            }
            fields.push(f);
        }
        if let Some(first) = lacking.first() {
            let names: Vec<String> = lacking.iter().map(|t| format!("`{}`", t.name)).collect();
            let (which, has) = if names.len() == 1 {
                (format!("event type {}", names[0]), "has")
            } else {
                (format!("event types {}", names.join(", ")), "have")
            };
            let help = did_you_mean(&key.name, first.fields.iter().map(|f| f.name.as_str()))
                .unwrap_or_else(|| {
                    "every event type the pattern uses (NOT elements included) must have \
                     the partition field"
                        .into()
                });
            diags.push(
                Diagnostic::error(
                    "E0410",
                    file,
                    key.span,
                    format!(
                        "cannot partition by `{}`: {which} {has} no such field",
                        key.name
                    ),
                    format!("missing on {}", names.join(", ")),
                )
                .with_help(help),
            );
        }
        ok &= lacking.is_empty() && !mismatch;
        if let Some((ty, _)) = key_ty.filter(|_| fields.len() == routed.len()) {
            out.push(PartitionKey {
                name: key.name.clone(),
                ty,
                fields,
            });
        }
    }
    ok.then_some(out)
}

// ----- EMIT ----------------------------------------------------------------------------

fn emit(
    env: &Env<'_>,
    diags: &mut Vec<Diagnostic>,
    file: FileId,
    p: &ast::Pattern,
    vars: &[VarInfo],
) -> Option<Vec<Emit>> {
    let mut typed = Vec::with_capacity(p.emit.len());
    {
        let mut ec = ExprChecker::new(env, diags, file, vars, Place::Emit);
        for proj in &p.emit {
            ec.reset();
            let before = ec.errors();
            let e = ec.scalar(&proj.expr);
            typed.push(e.filter(|_| ec.errors() == before));
        }
    }
    let mut out = Vec::with_capacity(p.emit.len());
    let mut ok = true;
    let mut names: Vec<(String, Span)> = Vec::new();
    for (proj, e) in p.emit.iter().zip(typed) {
        let (name, name_span) = match &proj.alias {
            Some(a) => (a.name.clone(), a.span),
            None => match &proj.expr.kind {
                ExprKind::Field { field, .. } => (field.name.clone(), proj.span),
                _ => (expr_text(&proj.expr), proj.span),
            },
        };
        if e.is_none() {
            // Its name may be a consequence of the error: report that only.
            ok = false;
            continue;
        }
        if let Some((_, first)) = names.iter().find(|(n, _)| *n == name) {
            ok = false;
            diags.push(
                Diagnostic::error(
                    "E0215",
                    file,
                    name_span,
                    format!("two EMIT values are named `{name}`"),
                    "name used again",
                )
                .with_secondary(*first, "first used here")
                .with_help("name one of them with `AS`, e.g. `a.price AS open_price`"),
            );
        } else {
            names.push((name.clone(), name_span));
        }
        match e {
            Some(expr) => out.push(Emit {
                name,
                expr,
                span: proj.span,
            }),
            None => ok = false,
        }
    }
    ok.then_some(out)
}
