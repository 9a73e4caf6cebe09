//! The checked program: what the engine compiles.
//!
//! [`crate::check`] turns parsed files into a [`Program`]: every name resolved
//! to an id, every field to a slot, every expression typed (with explicit
//! [`TExprKind::ToFloat`] promotions), `DEFINE`s expanded, `BETWEEN` desugared,
//! and `WHERE` split into [`Conjunct`]s that know which variables they mention
//! and whether they are iterative for a Kleene variable. The engine never sees
//! a name it has to look up per event.

use crate::ast::{AfterMatch, BinaryOp, Literal, Strategy, TypeName};
use crate::span::Span;
use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name(pub u32);

        impl $name {
            /// The id as an index into its table.
            pub fn index(self) -> usize {
                self.0 as usize
            }

            /// The id of table index `i`.
            ///
            /// # Panics
            /// When `i` does not fit in `u32` (tables are far smaller).
            pub fn from_index(i: usize) -> Self {
                #[allow(clippy::expect_used)]
                $name(u32::try_from(i).expect("id overflow"))
            }
        }
    };
}

id_type!(
    /// An event type: index into [`Program::types`].
    TypeId
);
id_type!(
    /// A pattern: index into [`Program::patterns`].
    PatternId
);
id_type!(
    /// A pattern variable: index into [`Pattern::vars`].
    VarId
);
id_type!(
    /// A declared field of an event type: index into [`EventType::fields`].
    SlotId
);
id_type!(
    /// A source file: index into the list of files given to the checker.
    FileId
);

/// The value types an expression can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ValueType {
    /// i64
    Int,
    /// f64
    Float,
    /// string
    String,
    /// bool
    Bool,
    /// nanoseconds since the Unix epoch
    Timestamp,
    /// nanoseconds
    Duration,
    /// The type of the `NULL` literal: fits anywhere.
    Null,
    /// A list of strings (only as the argument of `IN`, `contains_any`, `count_any`).
    StringList,
    /// A list of numbers or other scalars (only as the right side of `IN`).
    List,
}

impl From<TypeName> for ValueType {
    fn from(t: TypeName) -> Self {
        match t {
            TypeName::Int => ValueType::Int,
            TypeName::Float => ValueType::Float,
            TypeName::String => ValueType::String,
            TypeName::Bool => ValueType::Bool,
            TypeName::Timestamp => ValueType::Timestamp,
            TypeName::Duration => ValueType::Duration,
        }
    }
}

impl std::fmt::Display for ValueType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ValueType::Int => "INT",
            ValueType::Float => "FLOAT",
            ValueType::String => "STRING",
            ValueType::Bool => "BOOL",
            ValueType::Timestamp => "TIMESTAMP",
            ValueType::Duration => "DURATION",
            ValueType::Null => "NULL",
            ValueType::StringList => "list of STRING",
            ValueType::List => "list",
        })
    }
}

/// A checked program: the event types and patterns of one or more files.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Program {
    /// Every declared event type, in declaration order.
    pub types: Vec<EventType>,
    /// Every pattern, in declaration order (files in the order given).
    pub patterns: Vec<Pattern>,
}

impl Program {
    /// Looks an event type up by name.
    pub fn type_id(&self, name: &str) -> Option<TypeId> {
        self.types
            .iter()
            .position(|t| t.name == name)
            .map(TypeId::from_index)
    }

    /// The event type with this id.
    pub fn event_type(&self, id: TypeId) -> &EventType {
        &self.types[id.index()]
    }
}

/// A declared event type.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EventType {
    /// Type name (case-sensitive).
    pub name: String,
    /// Declared fields in order; [`SlotId`] indexes this.
    pub fields: Vec<FieldDef>,
    /// Where it was declared.
    pub file: FileId,
    /// Where it was declared.
    pub span: Span,
}

impl EventType {
    /// Resolves a field name, including the implicit `ts` and `type`.
    ///
    /// A declared field shadows nothing: declaring `ts` or `type` is a checker
    /// error, so the implicit names always win here.
    pub fn field(&self, name: &str) -> Option<FieldRef> {
        match name {
            "ts" => Some(FieldRef::Ts),
            "type" => Some(FieldRef::Type),
            _ => self
                .fields
                .iter()
                .position(|f| f.name == name)
                .map(|i| FieldRef::Slot(SlotId::from_index(i))),
        }
    }

    /// The type of a resolved field.
    pub fn field_type(&self, f: FieldRef) -> ValueType {
        match f {
            FieldRef::Ts => ValueType::Timestamp,
            FieldRef::Type => ValueType::String,
            FieldRef::Slot(s) => self.fields[s.index()].ty.into(),
        }
    }
}

/// A declared field.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FieldDef {
    /// Field name.
    pub name: String,
    /// Declared type.
    pub ty: TypeName,
}

/// A resolved field of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FieldRef {
    /// The implicit event time.
    Ts,
    /// The implicit type name.
    Type,
    /// A declared field.
    Slot(SlotId),
}

/// A checked pattern.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pattern {
    /// Pattern name.
    pub name: String,
    /// The file it came from.
    pub file: FileId,
    /// Its span in that file.
    pub span: Span,
    /// Every variable, in the order they appear in the structure.
    pub vars: Vec<Var>,
    /// The elements of the top-level `SEQ`.
    pub seq: Vec<Node>,
    /// `WHERE`, split at top-level `AND`s, in source order.
    pub conjuncts: Vec<Conjunct>,
    /// `WITHIN` in nanoseconds; `None` only for a single-singleton pattern.
    pub within: Option<i64>,
    /// `PARTITION BY` keys, in order (empty: one partition).
    pub partition_by: Vec<PartitionKey>,
    /// Selection strategy (default applied).
    pub strategy: Strategy,
    /// After-match policy (default applied).
    pub after_match: AfterMatch,
    /// `EMIT` projections, in order.
    pub emit: Vec<Emit>,
    /// Every event type this pattern routes (positive and negated), sorted, no duplicates.
    pub routed_types: Vec<TypeId>,
}

impl Pattern {
    /// The variable with this id.
    pub fn var(&self, id: VarId) -> &Var {
        &self.vars[id.index()]
    }
}

/// A pattern variable.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Var {
    /// Its name.
    pub name: String,
    /// The event type it binds.
    pub ty: TypeId,
    /// Singleton, Kleene or negated.
    pub kind: VarKind,
    /// Position of its element in the structure (see [`Node`]).
    pub span: Span,
}

/// How a variable binds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VarKind {
    /// Exactly one event.
    Single,
    /// A list of `min..=max` events (`max: None` = unbounded).
    Kleene {
        /// Minimum length (0 for `*`).
        min: u32,
        /// Maximum length.
        max: Option<u32>,
    },
    /// `NOT T x`: an event that must be absent.
    Negated,
}

/// One node of the pattern structure.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Node {
    /// A variable (its [`VarKind`] says singleton, Kleene or negated).
    Var(VarId),
    /// Exactly one member.
    Or(Vec<Node>),
    /// All members, in any order.
    And(Vec<Node>),
}

/// A conjunct of `WHERE`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Conjunct {
    /// The boolean expression.
    pub expr: TExpr,
    /// Every variable it mentions, sorted, no duplicates.
    pub vars: Vec<VarId>,
    /// The Kleene variable it is iterative for (it mentions `t[i]`, `t[i-1]` or `t[..i-1]`).
    pub iterative: Option<VarId>,
    /// The negated variable it constrains, if it mentions one (at most one).
    pub negated: Option<VarId>,
    /// Source text, for `explain` and messages.
    pub text: String,
    /// Where it was written.
    pub span: Span,
}

/// A `PARTITION BY` key.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PartitionKey {
    /// The field name.
    pub name: String,
    /// Its type (the same on every routed type).
    pub ty: ValueType,
    /// The field's slot on each routed type, indexed like [`Pattern::routed_types`].
    pub fields: Vec<FieldRef>,
}

/// An `EMIT` projection.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Emit {
    /// Output name (`AS`, or the default name).
    pub name: String,
    /// The value.
    pub expr: TExpr,
    /// Where it was written.
    pub span: Span,
}

/// A typed expression.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TExpr {
    /// What it computes.
    pub kind: TExprKind,
    /// Its type.
    pub ty: ValueType,
    /// Where it was written (for an expanded `DEFINE`, the use site).
    pub span: Span,
}

/// How a field of a variable is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Access {
    /// A singleton or negated variable: `a.x`.
    Single,
    /// `t[i].x`: the element being added.
    Current,
    /// `t[i-1].x`: the element before it (NULL for the first).
    Previous,
    /// `t[n].x`, 1-based (NULL when there are fewer).
    Nth(u32),
    /// `t[last].x` (NULL for an empty list).
    Last,
}

/// Aggregate functions over a Kleene variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AggFunc {
    /// Number of elements (`count(t)`), or of non-NULL values (`count(t.x)`).
    Count,
    /// Sum (NULL over no values).
    Sum,
    /// Average as FLOAT (DURATION for durations; NULL over no values).
    Avg,
    /// Minimum (NULL over no values).
    Min,
    /// Maximum (NULL over no values).
    Max,
}

/// Which elements an aggregate covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AggRange {
    /// Every element so far (in an iterative conjunct: up to and including `t[i]`).
    All,
    /// `t[..i-1]`: the elements before the current one.
    BeforeCurrent,
}

/// Built-in scalar functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Builtin {
    /// `abs(n)`
    Abs,
    /// `lower(s)`
    Lower,
    /// `upper(s)`
    Upper,
    /// `length(s)` in characters
    Length,
    /// `contains(s, sub)`
    Contains,
    /// `starts_with(s, prefix)`
    StartsWith,
    /// `ends_with(s, suffix)`
    EndsWith,
    /// `contains_any(s, list)`: some list word occurs in `s`
    ContainsAny,
    /// `count_any(s, list)`: how many list words occur in `s` (each counted once)
    CountAny,
    /// `hour(ts)` 0-23, UTC
    Hour,
    /// `minute(ts)` 0-59
    Minute,
    /// `day_of_week(ts)` 1 (Monday) to 7 (Sunday), UTC
    DayOfWeek,
    /// `coalesce(a, b, ...)`: the first non-NULL argument
    Coalesce,
}

/// Typed binary operators; the operand types say which arithmetic applies.
pub type TBinaryOp = BinaryOp;

/// The kinds of typed expression.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum TExprKind {
    /// A constant (after `DEFINE` expansion; folding is the engine's business).
    Const(Literal),
    /// A list of constants or expressions (right side of `IN`, list arguments).
    List(Vec<TExpr>),
    /// A field of a variable.
    Field {
        /// The variable.
        var: VarId,
        /// Which element.
        access: Access,
        /// Which field.
        field: FieldRef,
    },
    /// An aggregate over a Kleene variable. `field` is `None` only for `count(t)`.
    Aggregate {
        /// The function.
        func: AggFunc,
        /// The Kleene variable.
        var: VarId,
        /// Which elements.
        range: AggRange,
        /// Which field of each element.
        field: Option<FieldRef>,
    },
    /// Integer (or NULL) to FLOAT promotion inserted by the checker.
    ToFloat(Box<TExpr>),
    /// Arithmetic negation.
    Neg(Box<TExpr>),
    /// Boolean negation (three-valued).
    Not(Box<TExpr>),
    /// A binary operator; operands already promoted to compatible types.
    Binary {
        /// The operator.
        op: TBinaryOp,
        /// Left operand.
        lhs: Box<TExpr>,
        /// Right operand.
        rhs: Box<TExpr>,
    },
    /// `e IN (list)` (negation is a [`TExprKind::Not`] around it).
    In {
        /// The tested value.
        expr: Box<TExpr>,
        /// The candidates.
        list: Box<TExpr>,
    },
    /// A built-in function.
    Call {
        /// Which.
        func: Builtin,
        /// Arguments.
        args: Vec<TExpr>,
    },
    /// A native function registered by the embedder.
    Native {
        /// Its registered name.
        name: String,
        /// Arguments.
        args: Vec<TExpr>,
    },
}

/// The signature of a native function an embedder registers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NativeSig {
    /// Name as used in patterns.
    pub name: String,
    /// Parameter types (`Null` accepts anything).
    pub params: Vec<ValueType>,
    /// Result type.
    pub ret: ValueType,
}
