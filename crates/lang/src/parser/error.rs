//! The parser's one error type and its conversion into a [`Diagnostic`].
//!
//! Inside the parser an error is cheap: a position (the remaining input), what
//! was expected there, and the innermost `context` label. Only at the boundary
//! (one failed item) is it turned into a [`Diagnostic`], which is when we look
//! at the text to describe the token that was found.

use super::is_reserved;
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::typed::FileId;
use nom::error::{ContextError, ErrorKind, ParseError};

/// Diagnostic codes of syntax errors (`E01xx`).
pub mod codes {
    /// A token other than the ones the grammar allows here.
    pub const UNEXPECTED: &str = "E0101";
    /// A string literal without its closing quote.
    pub const UNTERMINATED_STRING: &str = "E0102";
    /// A `/*` comment without its `*/`.
    pub const UNTERMINATED_COMMENT: &str = "E0103";
    /// A malformed or out-of-range number (integer, float, quantifier bound).
    pub const BAD_NUMBER: &str = "E0104";
    /// A malformed or out-of-range duration literal.
    pub const BAD_DURATION: &str = "E0105";
    /// A malformed or out-of-range `TIMESTAMP '...'` literal.
    pub const BAD_TIMESTAMP: &str = "E0106";
    /// Nesting deeper than [`super::super::MAX_DEPTH`].
    pub const TOO_DEEP: &str = "E0107";
    /// An unknown type name in an `EVENT` declaration.
    pub const UNKNOWN_TYPE: &str = "E0108";
    /// `a < b < c`: comparisons do not associate.
    pub const CHAINED_COMPARISON: &str = "E0109";
    /// A pattern clause out of order or written twice.
    pub const CLAUSE_ORDER: &str = "E0110";
    /// An index other than `i`, `i-1`, `last`, `..i-1` or `n >= 1`.
    pub const BAD_INDEX: &str = "E0111";
    /// An operator from another language (`==`, `&&`, `||`, `!`, `"..."`).
    pub const FOREIGN_OPERATOR: &str = "E0112";
    /// A quantifier on a `NOT` element.
    pub const NOT_QUANTIFIED: &str = "E0113";
}

/// One thing the parser would have accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// A literal token, shown in backticks.
    Tok(&'static str),
    /// A description ("an expression"), shown as is.
    Desc(&'static str),
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expect::Tok(t) => write!(f, "`{t}`"),
            Expect::Desc(d) => f.write_str(d),
        }
    }
}

/// A problem with its own message, span and help (built where the parser
/// knows more than "expected X").
#[derive(Clone, Debug)]
pub(crate) struct Custom {
    pub code: &'static str,
    pub message: String,
    pub span: Span,
    pub label: String,
    pub help: Option<String>,
    pub secondary: Vec<(Span, String)>,
}

impl Custom {
    pub fn new(
        code: &'static str,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        Custom {
            code,
            message: message.into(),
            span,
            label: label.into(),
            help: None,
            secondary: Vec::new(),
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn secondary(mut self, span: Span, label: impl Into<String>) -> Self {
        self.secondary.push((span, label.into()));
        self
    }
}

/// What went wrong.
#[derive(Clone, Debug)]
pub(crate) enum Problem {
    /// None of these were found.
    Expected(Vec<Expect>),
    /// A specific problem.
    Custom(Box<Custom>),
    /// A bare nom primitive failed (we wrap them, so this is rare).
    Nom,
}

/// The parser's error: where, what, and in which construct.
///
/// Boxed so that the `Result`s passed around on the recursive path stay a
/// few words wide (see `expr.rs` on stack use).
#[derive(Clone, Debug)]
pub(crate) struct PError<'a>(Box<Inner<'a>>);

impl<'a> std::ops::Deref for PError<'a> {
    type Target = Inner<'a>;
    fn deref(&self) -> &Inner<'a> {
        &self.0
    }
}

/// The contents of a [`PError`].
#[derive(Clone, Debug)]
pub(crate) struct Inner<'a> {
    /// The input at the point of failure; recovery resumes scanning here.
    pub at: &'a str,
    pub problem: Problem,
    /// The innermost `context` label and where that construct started.
    pub context: Option<(&'a str, &'static str)>,
}

impl<'a> PError<'a> {
    pub fn new(at: &'a str, problem: Problem, context: Option<(&'a str, &'static str)>) -> Self {
        PError(Box::new(Inner {
            at,
            problem,
            context,
        }))
    }

    pub fn expected(at: &'a str, what: Expect) -> Self {
        PError::new(at, Problem::Expected(vec![what]), None)
    }

    pub fn custom(at: &'a str, c: Custom) -> Self {
        PError::new(at, Problem::Custom(Box::new(c)), None)
    }

    /// Converts to a diagnostic; `full` is the whole text the parse started on.
    pub fn into_diagnostic(self, full: &str, file: FileId) -> Diagnostic {
        let this = *self.0;
        let pos = full.len().saturating_sub(this.at.len());
        let expected = match this.problem {
            Problem::Custom(c) => {
                let mut d = Diagnostic::error(c.code, file, c.span, c.message, c.label);
                d.help = c.help;
                d.secondary = c.secondary;
                return d;
            }
            Problem::Expected(list) => list,
            Problem::Nom => vec![Expect::Desc("valid syntax")],
        };
        let what = join_expected(&expected);
        let found = Found::at(this.at);
        let span = if this.at.is_empty() {
            // At end of file point just after the last token, where the
            // missing text belongs, rather than at an invisible position.
            let end = full.trim_end().len();
            Span::new(end, end)
        } else {
            Span::new(pos, pos + found.len)
        };
        let mut d = Diagnostic::error(
            super::error::codes::UNEXPECTED,
            file,
            span,
            format!("expected {what}, found {}", found.desc),
            format!("expected {what}"),
        );
        if found.reserved
            && expected.iter().any(
                |e| matches!(e, Expect::Desc(d) if d.contains("name") || d.contains("identifier")),
            )
        {
            d.help = Some(format!(
                "`{}` is a reserved word; choose another name",
                found.text
            ));
        }
        if let Some((start, label)) = this.context {
            let cpos = full.len().saturating_sub(start.len());
            if cpos < span.start {
                let clen = Found::at(start).len;
                d.secondary
                    .push((Span::new(cpos, cpos + clen), format!("in this {label}")));
            }
        }
        d
    }
}

/// "`a`", "`a` or `b`", "`a`, `b` or `c`".
pub(crate) fn join_expected(list: &[Expect]) -> String {
    let mut uniq: Vec<Expect> = Vec::new();
    for e in list {
        if !uniq.contains(e) {
            uniq.push(*e);
        }
    }
    let parts: Vec<String> = uniq.iter().map(ToString::to_string).collect();
    match parts.len() {
        0 => "something else".to_string(),
        1 => parts[0].clone(),
        n => format!("{} or {}", parts[..n - 1].join(", "), parts[n - 1]),
    }
}

/// The token found at a position, for messages.
pub(crate) struct Found<'a> {
    /// `` `x` ``, "keyword `WHERE`", "end of file", ...
    pub desc: String,
    /// Its length in bytes (always on a char boundary).
    pub len: usize,
    /// The token's text.
    pub text: &'a str,
    /// True for a reserved word.
    pub reserved: bool,
}

impl<'a> Found<'a> {
    pub fn at(i: &'a str) -> Self {
        let Some(c) = i.chars().next() else {
            return Found {
                desc: "end of file".to_string(),
                len: 0,
                text: "",
                reserved: false,
            };
        };
        let ident_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let len = if c.is_ascii_alphabetic() || c == '_' {
            i.find(|c: char| !ident_char(c)).unwrap_or(i.len())
        } else if c.is_ascii_digit() {
            i.find(|c: char| !(ident_char(c) || c == '.'))
                .unwrap_or(i.len())
        } else if ["==", "!=", "<=", ">=", "<>", "&&", "||", ".."]
            .iter()
            .any(|op| i.starts_with(op))
        {
            2
        } else {
            c.len_utf8()
        };
        let text = &i[..len];
        let reserved = (c.is_ascii_alphabetic() || c == '_') && is_reserved(text);
        let desc = if reserved {
            format!("keyword `{text}`")
        } else if c == '\'' {
            "a string literal".to_string()
        } else if c.is_control() {
            format!("`{}`", c.escape_default())
        } else {
            format!("`{text}`")
        };
        // A long number or name is cut in the message (the span still covers it).
        let desc = if desc.len() > 60 {
            let cut: String = text.chars().take(40).collect();
            format!("`{cut}...`")
        } else {
            desc
        };
        Found {
            desc,
            len,
            text,
            reserved,
        }
    }
}

impl<'a> ParseError<&'a str> for PError<'a> {
    fn from_error_kind(input: &'a str, _kind: ErrorKind) -> Self {
        PError::new(input, Problem::Nom, None)
    }

    fn append(_input: &'a str, _kind: ErrorKind, other: Self) -> Self {
        other
    }

    /// Keeps the error that got furthest; at the same place, merges what
    /// each alternative expected ("expected `,` or `)`").
    fn or(self, other: Self) -> Self {
        use std::cmp::Ordering;
        match self.at.len().cmp(&other.at.len()) {
            Ordering::Less => self,
            Ordering::Greater => other,
            Ordering::Equal => {
                let (a, b) = (*self.0, *other.0);
                match (a.problem, b.problem) {
                    (Problem::Expected(mut x), Problem::Expected(y)) => {
                        x.extend(y);
                        PError::new(a.at, Problem::Expected(x), a.context.or(b.context))
                    }
                    (Problem::Nom, p) => PError::new(b.at, p, b.context),
                    (p, _) => PError::new(a.at, p, a.context),
                }
            }
        }
    }
}

impl<'a> ContextError<&'a str> for PError<'a> {
    fn add_context(input: &'a str, ctx: &'static str, mut other: Self) -> Self {
        // Contexts are added innermost first; keep the innermost.
        if other.0.context.is_none() {
            other.0.context = Some((input, ctx));
        }
        other
    }
}
