//! The checker: [`crate::ast::File`]s -> [`crate::typed::Program`].
//!
//! ```text
//! files --collect--> namespaces (event types, DEFINEs, patterns; one namespace)
//!       --define-->  DEFINE bodies: names, arity, recursion; constants typed once
//!       --pattern--> per pattern: structure -> vars, WHERE -> typed conjuncts
//!                    (DEFINEs expanded at each use), PARTITION BY, EMIT
//! ```
//!
//! Every problem becomes a [`Diagnostic`] and checking goes on, so one run
//! reports every error. An expression that has an error is typed as "error"
//! (`None` inside the checker), which silences the errors that would follow from
//! it.
//!
//! # Diagnostic codes
//! Names (`E02xx`): E0201 name defined twice, E0202 field named `ts`/`type`,
//! E0203 field declared twice, E0204 unknown event type, E0205 unknown variable,
//! E0206 unknown field, E0207 unknown function, E0208 unknown name, E0209
//! variable bound twice, E0210 DEFINE shadows a function, E0211 recursive
//! DEFINE, E0212 DEFINE uses a pattern variable that is not a parameter, E0213
//! parameter declared twice, E0214 variable named like a DEFINE constant, E0215
//! EMIT name used twice.
//!
//! Types (`E03xx`): E0301 operator on wrong types, E0302 condition is not BOOL,
//! E0303 wrong number of arguments, E0304 argument of wrong type, E0305 list
//! where a single value is needed, E0306 bad `IN`, E0307 variable used as a
//! value, E0308 Kleene field without index, E0309 index on a single-event
//! variable, E0310 aggregate over a non-Kleene variable, E0311 bad aggregate
//! argument, E0312 `t[..i-1]` outside an aggregate, E0313 `t[i]`/`t[i-1]`/`t[..i-1]`
//! in EMIT, E0314 constant called / function not called, E0315 index 0, E0316
//! unary minus on wrong type, E0317 EMIT mentions a NOT variable, E0318
//! PARTITION BY field of different types, E0319 DEFINE expansion too large or
//! too deep. Warnings: W0301 comparison with NULL, W0302 condition mentions no
//! variable.
//!
//! Pattern structure (`E04xx`): E0401 no positive element, E0402 missing
//! WITHIN, E0403 WITHIN not positive, E0404 bad quantifier bounds, E0405
//! construct not supported in v1, E0406 OR/AND with fewer than two members,
//! E0407 condition iterative for two Kleene variables, E0408 condition on two
//! NOT variables, E0409 iterative condition mentions a variable not bound before
//! its Kleene variable, E0410 PARTITION BY field missing on a routed type,
//! E0411 PARTITION BY field listed twice.

mod define;
mod expr;
mod pattern;
mod text;
mod types;

#[cfg(test)]
mod tests;

use crate::ast;
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::typed::{EventType, FieldDef, FileId, NativeSig, Program, TExpr, TypeId};
use std::collections::HashMap;

/// Checks the files of one program. Returns the program when there is no
/// error, and every diagnostic (errors and warnings) found.
pub fn check(
    files: &[(FileId, &ast::File)],
    natives: &[NativeSig],
) -> (Option<Program>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut env = Env {
        types: Vec::new(),
        type_ids: HashMap::new(),
        defines: Vec::new(),
        define_ids: HashMap::new(),
        natives,
    };
    let patterns = collect(&mut env, &mut diags, files);
    define::check_defines(&mut env, &mut diags);
    let mut checked = Vec::new();
    for (file, p) in patterns {
        if let Some(tp) = pattern::check_pattern(&env, &mut diags, file, p) {
            checked.push(tp);
        }
    }
    let program = if diags.iter().any(Diagnostic::is_error) {
        None
    } else {
        Some(Program {
            types: env.types,
            patterns: checked,
        })
    };
    (program, diags)
}

/// What the expression and pattern checkers may look up: fixed once the
/// namespaces are collected (the DEFINE pass only fills `broken`/`value`).
pub(crate) struct Env<'a> {
    pub(crate) types: Vec<EventType>,
    pub(crate) type_ids: HashMap<String, TypeId>,
    pub(crate) defines: Vec<DefEntry<'a>>,
    pub(crate) define_ids: HashMap<String, usize>,
    pub(crate) natives: &'a [NativeSig],
}

/// A `DEFINE` and what the DEFINE pass found out about it.
pub(crate) struct DefEntry<'a> {
    pub(crate) def: &'a ast::Define,
    pub(crate) file: FileId,
    /// Its body has an error already reported at the definition: uses of it
    /// are typed "error" without a further message.
    pub(crate) broken: bool,
    /// For a constant, its typed value (computed once).
    pub(crate) value: Option<TExpr>,
}

impl Env<'_> {
    pub(crate) fn define(&self, name: &str) -> Option<(usize, &DefEntry<'_>)> {
        self.define_ids.get(name).map(|&i| (i, &self.defines[i]))
    }

    pub(crate) fn native(&self, name: &str) -> Option<&NativeSig> {
        self.natives.iter().find(|n| n.name == name)
    }
}

/// Where a name of the shared namespace was first defined.
struct FirstDef {
    file: FileId,
    span: Span,
    what: &'static str,
}

fn duplicate(name: &ast::Ident, file: FileId, what: &str, first: &FirstDef) -> Diagnostic {
    let d = Diagnostic::error(
        "E0201",
        file,
        name.span,
        format!("the name `{}` is defined more than once", name.name),
        format!("{what} `{}` redefined here", name.name),
    );
    if first.file == file {
        d.with_secondary(
            first.span,
            format!("first defined here (as {})", first.what),
        )
    } else {
        d.with_help(format!(
            "`{}` is first defined (as {}) in another file of this program; \
             all files share one namespace",
            name.name, first.what
        ))
    }
}

/// Fills the namespaces; returns the patterns to check (duplicates included,
/// so that their bodies are checked too).
fn collect<'a>(
    env: &mut Env<'a>,
    diags: &mut Vec<Diagnostic>,
    files: &[(FileId, &'a ast::File)],
) -> Vec<(FileId, &'a ast::Pattern)> {
    let mut names: HashMap<String, FirstDef> = HashMap::new();
    // The field list each type was first declared with, to merge identical
    // redeclarations.
    let mut decl_fields: HashMap<String, Vec<(String, ast::TypeName)>> = HashMap::new();
    let mut patterns = Vec::new();
    for &(file, f) in files {
        for item in &f.items {
            match item {
                ast::Item::Event(decl) => {
                    let fields = event_fields(diags, file, decl);
                    let sig: Vec<(String, ast::TypeName)> = decl
                        .fields
                        .iter()
                        .map(|f| (f.name.name.clone(), f.ty))
                        .collect();
                    for name in &decl.names {
                        if let Some(first) = names.get(&name.name) {
                            // `EVENT A, A (...)` names one type twice in one
                            // declaration: that is a mistake, not a merge.
                            let same_decl = decl
                                .names
                                .iter()
                                .take_while(|n| !std::ptr::eq(*n, name))
                                .any(|n| n.name == name.name);
                            let same = first.what == "an event type"
                                && !same_decl
                                && decl_fields.get(&name.name) == Some(&sig);
                            if !same {
                                let mut d = duplicate(name, file, "event type", first);
                                if first.what == "an event type" && !same_decl {
                                    d.message = format!(
                                        "event type `{}` is declared again with different fields",
                                        name.name
                                    );
                                    d.help = Some(
                                        "a type may be declared more than once only with the \
                                         same fields, of the same types, in the same order"
                                            .into(),
                                    );
                                }
                                diags.push(d);
                            }
                            continue;
                        }
                        names.insert(
                            name.name.clone(),
                            FirstDef {
                                file,
                                span: name.span,
                                what: "an event type",
                            },
                        );
                        decl_fields.insert(name.name.clone(), sig.clone());
                        env.type_ids
                            .insert(name.name.clone(), TypeId::from_index(env.types.len()));
                        env.types.push(EventType {
                            name: name.name.clone(),
                            fields: fields.clone(),
                            file,
                            span: decl.span,
                        });
                    }
                }
                ast::Item::Define(def) => {
                    if let Some(first) = names.get(&def.name.name) {
                        diags.push(duplicate(&def.name, file, "definition", first));
                        continue;
                    }
                    names.insert(
                        def.name.name.clone(),
                        FirstDef {
                            file,
                            span: def.name.span,
                            what: "a definition",
                        },
                    );
                    env.define_ids
                        .insert(def.name.name.clone(), env.defines.len());
                    env.defines.push(DefEntry {
                        def,
                        file,
                        broken: false,
                        value: None,
                    });
                }
                ast::Item::Pattern(p) => {
                    if let Some(first) = names.get(&p.name.name) {
                        diags.push(duplicate(&p.name, file, "pattern", first));
                    } else {
                        names.insert(
                            p.name.name.clone(),
                            FirstDef {
                                file,
                                span: p.name.span,
                                what: "a pattern",
                            },
                        );
                    }
                    patterns.push((file, p));
                }
            }
        }
    }
    patterns
}

/// The fields of a declaration, reporting reserved and repeated names (which
/// are left out so that later checks see one consistent type).
fn event_fields(diags: &mut Vec<Diagnostic>, file: FileId, decl: &ast::EventDecl) -> Vec<FieldDef> {
    let mut out: Vec<FieldDef> = Vec::new();
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for f in &decl.fields {
        let name = f.name.name.as_str();
        if name == "ts" || name == "type" {
            let meaning = if name == "ts" {
                "`ts TIMESTAMP`, the event time"
            } else {
                "`type STRING`, the event type name"
            };
            diags.push(
                Diagnostic::error(
                    "E0202",
                    file,
                    f.name.span,
                    format!("`{name}` cannot be declared as a field"),
                    "reserved field name",
                )
                .with_help(format!(
                    "every event already has the implicit field {meaning}; rename this field"
                )),
            );
            continue;
        }
        if let Some(&first) = seen.get(name) {
            diags.push(
                Diagnostic::error(
                    "E0203",
                    file,
                    f.name.span,
                    format!("field `{name}` is declared twice"),
                    "declared again here",
                )
                .with_secondary(first, "first declared here"),
            );
            continue;
        }
        seen.insert(name, f.name.span);
        out.push(FieldDef {
            name: name.to_string(),
            ty: f.ty,
        });
    }
    out
}
