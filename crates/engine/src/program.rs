//! The compiled, immutable program shared by every engine and partition.

use crate::eval::NativeFn;
use crate::matches::MatchNames;
use crate::nfa::{self, Nfa, NfaError};
use crate::value::{Event, Value};
use dalal_lang::typed::{FieldRef, PatternId, SlotId, TypeId, ValueType};
use dalal_lang::{NativeSig, Sources};
use std::sync::Arc;

/// Why a program could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// Syntax or type errors (render them with [`dalal_lang::Diagnostics::render`]).
    #[error("{0}")]
    Lang(#[from] dalal_lang::Diagnostics),
    /// Too many `AND` permutations to expand.
    #[error("pattern `{pattern}`: its AND groups expand to more than {max} orders")]
    TooComplex {
        /// The pattern.
        pattern: String,
        /// The limit.
        max: usize,
    },
    /// A pattern without a positive element.
    #[error("pattern `{0}` has no positive element")]
    NoPositive(String),
}

/// Native functions an embedder registers: their signatures (for the type
/// checker) and their implementations.
#[derive(Clone, Default)]
pub struct Natives {
    sigs: Vec<NativeSig>,
    fns: Vec<(String, NativeFn)>,
}

impl std::fmt::Debug for Natives {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Natives").field("sigs", &self.sigs).finish()
    }
}

impl Natives {
    /// No functions.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `name(params) -> ret`; `f` must return a value of type `ret`
    /// (or NULL).
    ///
    /// ```
    /// use dalal::{Natives, Value};
    /// use dalal_lang::typed::ValueType;
    /// let mut natives = Natives::new();
    /// natives.register("double", vec![ValueType::Int], ValueType::Int, |args| match args {
    ///     [Value::Int(i)] => Value::Int(i * 2),
    ///     _ => Value::Null,
    /// });
    /// ```
    pub fn register(
        &mut self,
        name: &str,
        params: Vec<ValueType>,
        ret: ValueType,
        f: impl Fn(&[Value]) -> Value + Send + Sync + 'static,
    ) -> &mut Self {
        self.sigs.push(NativeSig {
            name: name.to_string(),
            params,
            ret,
        });
        self.fns.push((name.to_string(), Arc::new(f)));
        self
    }

    fn get(&self, name: &str) -> Option<NativeFn> {
        self.fns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f.clone())
    }
}

pub(crate) struct Inner {
    pub checked: dalal_lang::Program,
    pub type_names: Vec<Arc<str>>,
    pub nfas: Vec<Nfa>,
    /// Per type id: the patterns that route it and the key shapes they use.
    pub dispatch: Vec<Dispatch>,
    /// Per pattern: the names its matches carry.
    pub names: Vec<MatchNames>,
}

/// How the `PARTITION BY` values of one event type are read for a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// One declared field: the key is that field's value, read in place.
    Slot(SlotId),
    /// Anything else (no key, several fields, `ts`, `type`): per key field,
    /// where its value comes from (`None`: NULL).
    Fields(Vec<Option<FieldRef>>),
}

/// The routing of one event type.
#[derive(Clone, Debug, Default)]
pub(crate) struct Dispatch {
    /// `(pattern index, index into shapes)`, in pattern order.
    pub routes: Vec<(usize, usize)>,
    /// The distinct key shapes of `routes`: patterns partitioned the same
    /// way share one, so an event's key is hashed once for all of them.
    pub shapes: Vec<Shape>,
}

/// A compiled program: event types and the NFA of every pattern.
///
/// Immutable and cheap to clone (an `Arc`), so many engines can share one.
///
/// ```
/// let program = dalal::Program::compile(
///     "EVENT Trade (symbol STRING, price FLOAT);
///      PATTERN up SEQ(Trade a, Trade b) WHERE b.price > a.price WITHIN 1m PARTITION BY symbol;",
/// ).unwrap();
/// assert_eq!(program.pattern_names(), vec!["up"]);
/// assert!(program.explain("up").unwrap().contains("begin Trade b"));
/// ```
#[derive(Clone)]
pub struct Program {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("types", &self.inner.type_names)
            .field("patterns", &self.pattern_names())
            .finish()
    }
}

impl Program {
    /// Parses, checks and compiles one source text.
    pub fn compile(source: &str) -> Result<Program, CompileError> {
        let mut sources = Sources::new();
        sources.add("<input>", source);
        Program::from_sources(&sources)
    }

    /// Parses, checks and compiles a set of files as one program.
    pub fn from_sources(sources: &Sources) -> Result<Program, CompileError> {
        Program::from_sources_with(sources, &Natives::new())
    }

    /// Like [`Program::from_sources`], with native functions.
    pub fn from_sources_with(
        sources: &Sources,
        natives: &Natives,
    ) -> Result<Program, CompileError> {
        let checked = dalal_lang::compile(sources, &natives.sigs)?;
        Program::from_checked_with(checked, natives)
    }

    /// Compiles an already checked program.
    pub fn from_checked(checked: dalal_lang::Program) -> Result<Program, CompileError> {
        Program::from_checked_with(checked, &Natives::new())
    }

    /// Compiles an already checked program with native functions (a native
    /// without an implementation evaluates to NULL).
    pub fn from_checked_with(
        checked: dalal_lang::Program,
        natives: &Natives,
    ) -> Result<Program, CompileError> {
        let type_count = checked.types.len();
        let lookup = |name: &str| natives.get(name);
        let mut nfas = Vec::with_capacity(checked.patterns.len());
        let mut dispatch = vec![Dispatch::default(); type_count];
        let mut names = Vec::with_capacity(checked.patterns.len());
        for (pi, p) in checked.patterns.iter().enumerate() {
            let nfa = nfa::compile(p, type_count, &lookup).map_err(|e| match e {
                NfaError::TooManyAlternatives => CompileError::TooComplex {
                    pattern: p.name.clone(),
                    max: nfa::MAX_ALTERNATIVES,
                },
                NfaError::NoPositive => CompileError::NoPositive(p.name.clone()),
            })?;
            names.push(MatchNames {
                pattern: Arc::from(p.name.as_str()),
                keys: p
                    .partition_by
                    .iter()
                    .map(|k| Arc::from(k.name.as_str()))
                    .collect(),
                vars: nfa
                    .var_names
                    .iter()
                    .map(|n| Arc::from(n.as_str()))
                    .collect(),
                emit: nfa
                    .emit
                    .iter()
                    .map(|(n, _)| Arc::from(n.as_str()))
                    .collect(),
            });
            nfas.push(nfa);
            for (ri, t) in p.routed_types.iter().enumerate() {
                if let Some(d) = dispatch.get_mut(t.index()) {
                    let fields: Vec<Option<FieldRef>> = p
                        .partition_by
                        .iter()
                        .map(|k| k.fields.get(ri).copied())
                        .collect();
                    let shape = match fields[..] {
                        [Some(FieldRef::Slot(s))] => Shape::Slot(s),
                        _ => Shape::Fields(fields),
                    };
                    let si = match d.shapes.iter().position(|x| *x == shape) {
                        Some(i) => i,
                        None => {
                            d.shapes.push(shape);
                            d.shapes.len() - 1
                        }
                    };
                    d.routes.push((pi, si));
                }
            }
        }
        let type_names = checked
            .types
            .iter()
            .map(|t| Arc::from(t.name.as_str()))
            .collect();
        Ok(Program {
            inner: Arc::new(Inner {
                checked,
                type_names,
                nfas,
                dispatch,
                names,
            }),
        })
    }

    /// The checked program (schema: types, fields, patterns).
    pub fn checked(&self) -> &dalal_lang::Program {
        &self.inner.checked
    }

    /// Looks an event type up by name.
    pub fn type_id(&self, name: &str) -> Option<TypeId> {
        self.inner.checked.type_id(name)
    }

    /// The name of an event type.
    pub fn type_name(&self, ty: TypeId) -> Option<&str> {
        self.inner.type_names.get(ty.index()).map(|s| &**s)
    }

    /// Looks a pattern up by name.
    pub fn pattern_id(&self, name: &str) -> Option<PatternId> {
        self.inner
            .checked
            .patterns
            .iter()
            .position(|p| p.name == name)
            .map(PatternId::from_index)
    }

    /// Every pattern name, in declaration order.
    pub fn pattern_names(&self) -> Vec<&str> {
        self.inner
            .checked
            .patterns
            .iter()
            .map(|p| p.name.as_str())
            .collect()
    }

    /// A text dump of a pattern's automaton: every alternative, state and
    /// edge with the conjuncts checked on it. `None` for an unknown pattern.
    pub fn explain(&self, pattern: &str) -> Option<String> {
        let id = self.pattern_id(pattern)?;
        Some(self.inner.nfas[id.index()].explain(pattern, &self.inner.type_names))
    }

    /// The `PARTITION BY` values of an event for a pattern (empty when the
    /// pattern is not partitioned); `None` when the pattern does not route
    /// the event's type.
    pub fn partition_key(&self, pattern: PatternId, event: &Event) -> Option<Vec<Value>> {
        let pat = self.inner.checked.patterns.get(pattern.index())?;
        let ri = pat.routed_types.iter().position(|t| *t == event.ty)?;
        let mut out = Vec::new();
        self.key_into(pattern.index(), ri, event, &mut out);
        Some(out)
    }

    /// The key values of `event` for pattern `pi`, whose routed type index
    /// for the event's type is `ri`, into `out`.
    pub(crate) fn key_into(&self, pi: usize, ri: usize, event: &Event, out: &mut Vec<Value>) {
        out.clear();
        let Some(pat) = self.inner.checked.patterns.get(pi) else {
            return;
        };
        out.extend(
            pat.partition_by
                .iter()
                .map(|k| self.key_field(k.fields.get(ri).copied(), event)),
        );
    }

    /// One key value of `event`: the field `f` refers to (NULL for `None`).
    fn key_field(&self, f: Option<FieldRef>, event: &Event) -> Value {
        match f {
            Some(FieldRef::Slot(s)) => event.fields.get(s.index()).cloned().unwrap_or(Value::Null),
            Some(FieldRef::Ts) => Value::Timestamp(event.ts),
            Some(FieldRef::Type) => self.type_name(event.ty).map_or(Value::Null, Value::str),
            None => Value::Null,
        }
    }

    /// Prepares `buf` for [`Program::key_slice`]: the key values of `event`
    /// for `shape`, unless the key can be read from the event in place.
    pub(crate) fn fill_key(&self, shape: &Shape, event: &Event, buf: &mut Vec<Value>) {
        match shape {
            // Read in place: `buf` is used only for a missing field, which
            // an event checked against its schema does not have (clearing
            // it anyway, a call to drop no values, was ~10 instructions an
            // event).
            Shape::Slot(s) => {
                if event.fields.get(s.index()).is_none() {
                    buf.clear();
                    buf.push(Value::Null);
                }
            }
            Shape::Fields(fields) => {
                buf.clear();
                buf.extend(fields.iter().map(|f| self.key_field(*f, event)));
            }
        }
    }

    /// The key of `event` for `shape`: borrowed from the event for a
    /// one-field key, else `buf` as [`Program::fill_key`] left it.
    pub(crate) fn key_slice<'a>(shape: &Shape, event: &'a Event, buf: &'a [Value]) -> &'a [Value] {
        match shape {
            Shape::Slot(s) => event
                .fields
                .get(s.index())
                .map_or(buf, std::slice::from_ref),
            Shape::Fields(_) => buf,
        }
    }

    pub(crate) fn nfa(&self, id: PatternId) -> &Nfa {
        &self.inner.nfas[id.index()]
    }
}
