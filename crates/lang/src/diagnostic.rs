//! Diagnostics: what went wrong, where, and what might fix it.
//!
//! The parser and the checker produce [`Diagnostic`]s; [`crate::render::render`] turns them
//! into rustc-style text through `miette` (file:line:column, the source line, a
//! caret under the span, a label, a help line).

use crate::span::Span;
use crate::typed::FileId;

/// How bad it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The program is rejected.
    Error,
    /// The program is accepted, but probably not what was meant.
    Warning,
}

/// One problem in a source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable code such as `E0101` (parse errors `E01xx`, name errors `E02xx`,
    /// type errors `E03xx`, pattern-structure errors `E04xx`).
    pub code: &'static str,
    /// One line saying what is wrong.
    pub message: String,
    /// The file the primary span is in.
    pub file: FileId,
    /// Where.
    pub span: Span,
    /// The text under the caret.
    pub label: String,
    /// Further spans in the same file with their labels ("first defined here").
    pub secondary: Vec<(Span, String)>,
    /// A hint ("did you mean `price`?").
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error at `span` of `file`.
    pub fn error(
        code: &'static str,
        file: FileId,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            file,
            span,
            label: label.into(),
            secondary: Vec::new(),
            help: None,
        }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a secondary label.
    pub fn with_secondary(mut self, span: Span, label: impl Into<String>) -> Self {
        self.secondary.push((span, label.into()));
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// "did you mean `x`?" for the closest candidate within a small edit distance.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(name, c);
        if score > 0.8 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}
