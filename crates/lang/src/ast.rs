//! The syntax tree of a `.pattern` file, exactly as written.
//!
//! Every node carries a [`Span`]; spans never take part in equality, so a tree
//! printed by [`crate::printer`] and parsed back compares equal to the original.
//! Nothing here is resolved: names are just identifiers, types are checked by
//! [`crate::check`].

use crate::span::Span;
use serde::{Deserialize, Serialize};

/// An identifier with its position.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ident {
    /// The name as written (identifiers are case-sensitive).
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

impl Ident {
    /// An identifier with a dummy span (for building trees in code).
    pub fn new(name: impl Into<String>) -> Self {
        Ident {
            name: name.into(),
            span: Span::default(),
        }
    }
}

/// One parsed file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct File {
    /// The items in source order.
    pub items: Vec<Item>,
}

/// A top-level item, each terminated by `;` in the source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Item {
    /// `EVENT A, B (field TYPE, ...);`
    Event(EventDecl),
    /// `DEFINE name = expr;` or `DEFINE name(p, ...) = expr;`
    Define(Define),
    /// `PATTERN name ...;`
    Pattern(Pattern),
}

impl Item {
    /// Span of the whole item (without the `;`).
    pub fn span(&self) -> Span {
        match self {
            Item::Event(e) => e.span,
            Item::Define(d) => d.span,
            Item::Pattern(p) => p.span,
        }
    }
}

/// A declaration of one or more event types sharing one field list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventDecl {
    /// The type names (at least one).
    pub names: Vec<Ident>,
    /// The declared fields (possibly none).
    pub fields: Vec<FieldDecl>,
    /// The whole declaration.
    pub span: Span,
}

/// `name TYPE` inside an event declaration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldDecl {
    /// Field name.
    pub name: Ident,
    /// Declared type.
    pub ty: TypeName,
    /// Span of the declared type keyword.
    pub ty_span: Span,
}

/// The value types of the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TypeName {
    /// 64-bit signed integer.
    Int,
    /// 64-bit float.
    Float,
    /// UTF-8 string.
    String,
    /// Boolean.
    Bool,
    /// A point in event time (nanoseconds since the Unix epoch, UTC).
    Timestamp,
    /// A length of time (nanoseconds).
    Duration,
}

impl TypeName {
    /// The keyword as printed.
    pub fn keyword(self) -> &'static str {
        match self {
            TypeName::Int => "INT",
            TypeName::Float => "FLOAT",
            TypeName::String => "STRING",
            TypeName::Bool => "BOOL",
            TypeName::Timestamp => "TIMESTAMP",
            TypeName::Duration => "DURATION",
        }
    }
}

impl std::fmt::Display for TypeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.keyword())
    }
}

/// `DEFINE name = body;` (a constant) or `DEFINE name(params) = body;` (a function).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Define {
    /// The defined name.
    pub name: Ident,
    /// `None` for a constant; `Some` (possibly empty) for a function.
    pub params: Option<Vec<Ident>>,
    /// The body, expanded at each use.
    pub body: Expr,
    /// The whole definition.
    pub span: Span,
}

/// `PATTERN name structure [WHERE] [WITHIN] [PARTITION BY] [strategy] [AFTER MATCH] [EMIT]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pattern {
    /// Pattern name.
    pub name: Ident,
    /// The elements of the top-level `SEQ(...)`.
    pub seq: Vec<Element>,
    /// Span of the `SEQ(...)` structure.
    pub seq_span: Span,
    /// The `WHERE` condition.
    pub where_clause: Option<Expr>,
    /// The `WITHIN` window.
    pub within: Option<DurationLit>,
    /// `PARTITION BY` fields (empty when absent).
    pub partition_by: Vec<Ident>,
    /// The selection strategy, if written.
    pub strategy: Option<Spanned<Strategy>>,
    /// The after-match policy, if written.
    pub after_match: Option<Spanned<AfterMatch>>,
    /// `EMIT` projections (empty when absent).
    pub emit: Vec<Projection>,
    /// The whole pattern.
    pub span: Span,
}

/// A value with a span.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

/// A duration literal as written in `WITHIN`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurationLit {
    /// Nanoseconds.
    pub nanos: i64,
    /// Where it was written.
    pub span: Span,
}

/// Event selection strategy (section 6 of LANGUAGE.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Strategy {
    /// Bound events are consecutive among the relevant events.
    StrictContiguity,
    /// Skip events that cannot be taken; fork when one event fits two ways.
    #[default]
    SkipTillNextMatch,
    /// Every candidate is a match.
    SkipTillAnyMatch,
}

impl Strategy {
    /// The keywords as printed.
    pub fn keywords(self) -> &'static str {
        match self {
            Strategy::StrictContiguity => "STRICT CONTIGUITY",
            Strategy::SkipTillNextMatch => "SKIP TILL NEXT MATCH",
            Strategy::SkipTillAnyMatch => "SKIP TILL ANY MATCH",
        }
    }
}

/// What to prune after a match is emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum AfterMatch {
    /// Drop candidates starting at or before the match's last event.
    #[default]
    SkipPastLastEvent,
    /// Drop candidates starting with the match's first event.
    SkipToNextEvent,
    /// Drop nothing.
    NoSkip,
}

impl AfterMatch {
    /// The keywords as printed (after `AFTER MATCH`).
    pub fn keywords(self) -> &'static str {
        match self {
            AfterMatch::SkipPastLastEvent => "SKIP PAST LAST EVENT",
            AfterMatch::SkipToNextEvent => "SKIP TO NEXT EVENT",
            AfterMatch::NoSkip => "NO SKIP",
        }
    }
}

/// One element of a `SEQ`, `OR` or `AND`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Element {
    /// `Type var` or `Type var quant`.
    Event {
        /// The event type.
        ty: Ident,
        /// The variable bound to the event(s).
        var: Ident,
        /// Kleene quantifier, if any.
        quant: Option<Quantifier>,
        /// The whole element.
        span: Span,
    },
    /// `NOT Type var`.
    Not {
        /// The event type that must be absent.
        ty: Ident,
        /// The variable its conditions use.
        var: Ident,
        /// The whole element.
        span: Span,
    },
    /// `OR(a, b, ...)`: exactly one branch.
    Or {
        /// The branches.
        members: Vec<Element>,
        /// The whole element.
        span: Span,
    },
    /// `AND(a, b, ...)`: all, in any order.
    And {
        /// The members.
        members: Vec<Element>,
        /// The whole element.
        span: Span,
    },
}

impl Element {
    /// Span of the whole element.
    pub fn span(&self) -> Span {
        match self {
            Element::Event { span, .. }
            | Element::Not { span, .. }
            | Element::Or { span, .. }
            | Element::And { span, .. } => *span,
        }
    }
}

/// A Kleene quantifier, kept in its written form so it prints back the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Quantifier {
    /// `+` (one or more).
    Plus,
    /// `*` (zero or more).
    Star,
    /// `{n}`.
    Exactly(u32),
    /// `{n,}`.
    AtLeast(u32),
    /// `{n,m}`.
    Between(u32, u32),
}

impl Quantifier {
    /// Minimum number of elements.
    pub fn min(self) -> u32 {
        match self {
            Quantifier::Plus => 1,
            Quantifier::Star => 0,
            Quantifier::Exactly(n) | Quantifier::AtLeast(n) | Quantifier::Between(n, _) => n,
        }
    }

    /// Maximum number of elements (`None` = unbounded).
    pub fn max(self) -> Option<u32> {
        match self {
            Quantifier::Plus | Quantifier::Star | Quantifier::AtLeast(_) => None,
            Quantifier::Exactly(n) => Some(n),
            Quantifier::Between(_, m) => Some(m),
        }
    }
}

/// `expr [AS name]` in `EMIT`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Projection {
    /// The value.
    pub expr: Expr,
    /// The explicit name, if any.
    pub alias: Option<Ident>,
    /// The whole projection.
    pub span: Span,
}

/// An expression with its span.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it was written.
    pub span: Span,
}

impl Expr {
    /// An expression with a dummy span (for building trees in code).
    pub fn new(kind: ExprKind) -> Self {
        Expr {
            kind,
            span: Span::default(),
        }
    }
}

/// The kinds of expression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ExprKind {
    /// A literal value.
    Lit(Literal),
    /// A bare name: a variable (`count(t)`), a `DEFINE` constant or a parameter.
    Name(Ident),
    /// `var.field`, `var[index].field`.
    Field {
        /// The variable.
        var: Ident,
        /// The index, for a Kleene variable.
        index: Option<Spanned<Index>>,
        /// The field (`ts` and `type` are implicit fields of every event).
        field: Ident,
    },
    /// `name(args)`: a built-in, a `DEFINE` function, a native function or an aggregate.
    Call {
        /// The function name (case-sensitive, as for identifiers).
        func: Ident,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `-e`, `NOT e`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        expr: Box<Expr>,
    },
    /// `l op r`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `e [NOT] BETWEEN lo AND hi` (inclusive).
    Between {
        /// The tested value.
        expr: Box<Expr>,
        /// Lower bound.
        low: Box<Expr>,
        /// Upper bound.
        high: Box<Expr>,
        /// `NOT BETWEEN`.
        negated: bool,
    },
    /// `e [NOT] IN list` where `list` is a parenthesised list or a name bound to one.
    In {
        /// The tested value.
        expr: Box<Expr>,
        /// The list (an [`ExprKind::List`] or a name).
        list: Box<Expr>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `(a, b, ...)` with at least two elements, or `(a,)`... see the printer.
    List(Vec<Expr>),
}

/// An index into a Kleene variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Index {
    /// `t[i]`: the element being added.
    Current,
    /// `t[i-1]`: the element before it.
    Previous,
    /// `t[n]` (1-based).
    Nth(u32),
    /// `t[last]`.
    Last,
    /// `t[..i-1]`: the elements before the current one (only inside aggregates).
    BeforeCurrent,
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UnaryOp {
    /// Arithmetic negation.
    Neg,
    /// Boolean negation.
    Not,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `=`
    Eq,
    /// `!=` or `<>` (printed `!=`)
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `AND`
    And,
    /// `OR`
    Or,
}

impl BinaryOp {
    /// The operator as printed.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::Eq => "=",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
        }
    }

    /// Binding strength: higher binds tighter. `OR` 1, `AND` 2, (`NOT` 3),
    /// comparisons 4 (`BETWEEN`/`IN` share it), additive 5, multiplicative 6,
    /// (unary minus 7).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => 4,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 6,
        }
    }

    /// True for `= != < <= > >=`.
    pub fn is_comparison(self) -> bool {
        self.precedence() == 4
    }
}

/// Literal values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Literal {
    /// `42` (never negative: `-42` is a negation of `42`).
    Int(i64),
    /// `3.5` (finite, never negative).
    Float(f64),
    /// `'text'` (`''` escapes a quote).
    String(String),
    /// `TRUE` / `FALSE`.
    Bool(bool),
    /// `NULL`.
    Null,
    /// `500ms`, `5 minutes`: nanoseconds.
    Duration(i64),
    /// `TIMESTAMP '2024-01-02T09:15:00Z'`: nanoseconds since the Unix epoch.
    Timestamp(i64),
}
