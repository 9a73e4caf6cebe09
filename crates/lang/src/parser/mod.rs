//! The nom parser: text -> [`crate::ast::File`].
//!
//! ```text
//! &str --lex (tokens, literals)--> expr (precedence climbing) / items (EVENT,
//!        DEFINE, PATTERN, elements, clauses) --> ast::File + Vec<Diagnostic>
//! ```
//!
//! - Every parser takes the remaining input (`&str`) and returns the rest; a
//!   span is `full.len() - rest.len()`, so spans are byte offsets into the
//!   original text, on char boundaries.
//! - One error type (`PError`) records where parsing failed and what
//!   was expected; once a keyword decides the construct the error is cut
//!   (`nom::Err::Failure`) so the report names the real problem, not the first
//!   alternative that did not fit. It is turned into a [`Diagnostic`] once, at
//!   the item boundary.
//! - On an error inside an item the parser records it and resumes after the
//!   next `;` (skipping strings and comments), so every broken item of a file
//!   is reported in one run.
//! - Nesting (parentheses, prefix operators, call arguments, `OR(`/`AND(`
//!   elements) is bounded by [`MAX_DEPTH`], and so is the depth of every
//!   expression tree built, so no input can overflow the stack here or in later
//!   passes.
//!
//! Keywords are case-insensitive; identifiers (`[A-Za-z_][A-Za-z0-9_]*`) are
//! case-sensitive and may be any word that [`is_reserved`] rejects not.

mod error;
mod expr;
mod items;
mod lex;
#[cfg(test)]
mod tests;

pub use error::codes;

use crate::ast;
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::typed::FileId;
use error::{Custom, Expect, Found, PError};
use lex::{PResult, fail};
use std::cell::Cell;

/// Deepest nesting accepted before an error: of parentheses, prefix
/// operators, calls and `OR(`/`AND(` elements while parsing, and of the
/// resulting expression trees (a chain of `n` binary operators is `n` deep).
///
/// One level costs at most about 5 KiB of stack in an unoptimised build
/// (measured; the functions on the recursive path are kept small for this),
/// so 128 levels fit well inside a 2 MiB test thread, and 128 is far beyond
/// any real pattern.
pub const MAX_DEPTH: usize = 128;

/// Words that can never be identifiers.
///
/// Only these; words such as `last`, `i`, `type`, `ts`, `timestamp`, `open`,
/// `next`, `match`, `by` and the type names (`INT`, ...) stay usable as names
/// because the grammar never needs them where a name could appear.
pub const RESERVED: &[&str] = &[
    "EVENT",
    "DEFINE",
    "PATTERN",
    "SEQ",
    "NOT",
    "AND",
    "OR",
    "WHERE",
    "WITHIN",
    "PARTITION",
    "EMIT",
    "AS",
    "AFTER",
    "BETWEEN",
    "IN",
    "TRUE",
    "FALSE",
    "NULL",
    "STRICT",
    "SKIP",
];

/// True when `word` is a keyword that cannot be used as an identifier
/// (case-insensitive).
pub fn is_reserved(word: &str) -> bool {
    RESERVED.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// Parsing state shared by the parsers of one run.
struct Cx {
    /// Length of the whole text: spans are `len - rest.len()`.
    len: usize,
    /// Length without trailing blanks: errors at end of file point here.
    trimmed_len: usize,
    /// Current nesting, checked against [`MAX_DEPTH`].
    depth: Cell<usize>,
}

/// Leaves one nesting level when dropped, on every path out of a parser.
struct DepthGuard<'c>(&'c Cell<usize>);

impl Drop for DepthGuard<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

impl Cx {
    fn new(text: &str) -> Self {
        Cx {
            len: text.len(),
            trimmed_len: text.trim_end().len(),
            depth: Cell::new(0),
        }
    }

    /// Enters one nesting level at `i`, or fails when too deep.
    fn enter<'a>(&self, i: &'a str) -> Result<DepthGuard<'_>, nom::Err<PError<'a>>> {
        let d = self.depth.get() + 1;
        if d > MAX_DEPTH {
            return Err(nom::Err::Failure(self.too_deep_error(i)));
        }
        self.depth.set(d);
        Ok(DepthGuard(&self.depth))
    }

    /// The nesting error at `i`.
    fn too_deep<'a, T>(&self, i: &'a str) -> PResult<'a, T> {
        Err(nom::Err::Failure(self.too_deep_error(i)))
    }

    fn too_deep_error<'a>(&self, i: &'a str) -> PError<'a> {
        PError::custom(
            i,
            Custom::new(
                codes::TOO_DEEP,
                self.found_span(i),
                format!("nesting deeper than {MAX_DEPTH} levels"),
                "nested too deeply",
            )
            .help(
                "simplify this part; a chain of n operators also nests n levels, \
                 so split very long conditions",
            ),
        )
    }

    /// The span of the token at `i`, or a point after the last token at end
    /// of file.
    fn found_span(&self, i: &str) -> Span {
        if i.is_empty() {
            Span::new(self.trimmed_len, self.trimmed_len)
        } else {
            self.tok_span(i)
        }
    }

    /// The closing delimiter of `opener` (opened at `open`); `list` when a
    /// `,` would also have been accepted.
    fn close<'a>(
        &self,
        i: &'a str,
        open: Span,
        opener: &'static str,
        list: bool,
    ) -> PResult<'a, Span> {
        let closer = if opener.ends_with('[') { "]" } else { ")" };
        match self.punct(i, closer) {
            Err(nom::Err::Error(_)) => {
                let exp = if list {
                    format!("`,` or `{closer}`")
                } else {
                    format!("`{closer}`")
                };
                let found = Found::at(i);
                fail(
                    i,
                    Custom::new(
                        codes::UNEXPECTED,
                        self.found_span(i),
                        format!("expected {exp} to close `{opener}`, found {}", found.desc),
                        format!("expected {exp}"),
                    )
                    .secondary(open, format!("`{opener}` opened here")),
                )
            }
            other => other,
        }
    }

    /// The `;` that ends an item.
    fn semicolon<'a>(&self, i: &'a str) -> PResult<'a, Span> {
        match self.punct(i, ";") {
            Err(nom::Err::Error(_)) => {
                let found = Found::at(i);
                fail(
                    i,
                    Custom::new(
                        codes::UNEXPECTED,
                        self.found_span(i),
                        format!("expected `;`, found {}", found.desc),
                        "expected `;`",
                    )
                    .help("add `;` to end the item"),
                )
            }
            other => other,
        }
    }
}

fn into_error(e: nom::Err<PError<'_>>) -> PError<'_> {
    match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => e,
        // Only streaming parsers ask for more input; ours are all complete.
        nom::Err::Incomplete(_) => PError::expected("", Expect::Desc("more input")),
    }
}

/// Where to resume after an error at `at` in the item that began at `start`.
///
/// At an item keyword when the item only lacked its `;`, or when the keyword
/// starts a line (an unfinished item followed by the next one); otherwise
/// after the next `;` outside strings and comments.
fn recover<'a>(start: &'a str, at: &'a str, missing_semicolon: bool) -> &'a str {
    if at.len() < start.len()
        && let Some(w) = at
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
        && items::is_item_keyword(w)
    {
        let before = &start[..start.len() - at.len()];
        let line_start = before
            .rsplit('\n')
            .next()
            .is_some_and(|l| l.trim().is_empty());
        if missing_semicolon || line_start {
            return at;
        }
    }
    skip_past_semicolon(at)
}

/// The text after the next `;` that is not in a string or comment ("" if none).
fn skip_past_semicolon(s: &str) -> &str {
    let b = s.as_bytes();
    let mut k = 0;
    while k < b.len() {
        match b[k] {
            b';' => return &s[k + 1..],
            b'\'' => {
                k += 1;
                while k < b.len() && b[k] != b'\'' {
                    k += 1;
                }
                k += 1;
            }
            b'-' if b.get(k + 1) == Some(&b'-') => {
                while k < b.len() && b[k] != b'\n' {
                    k += 1;
                }
            }
            b'/' if b.get(k + 1) == Some(&b'*') => match s[k + 2..].find("*/") {
                Some(n) => k += 2 + n + 2,
                None => return "",
            },
            _ => k += 1,
        }
    }
    ""
}

/// Parses a whole file, recovering at `;` after an error: returns every item
/// that parsed and a diagnostic for each broken one.
pub fn parse_file(text: &str, file: FileId) -> (ast::File, Vec<Diagnostic>) {
    let cx = Cx::new(text);
    let mut items = Vec::new();
    let mut diags = Vec::new();
    // A byte-order mark is not text; spans still count it.
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut i = match cx.ws(body) {
        Ok((r, ())) => r,
        Err(e) => {
            diags.push(into_error(e).into_diagnostic(text, file));
            return (ast::File { items }, diags);
        }
    };
    while !i.is_empty() {
        let start = i;
        cx.depth.set(0);
        let r = match cx.item(i) {
            Ok((r, item)) => match cx.semicolon(r) {
                Ok((r, _)) => Ok((r, item)),
                Err(e) => Err((e, true)),
            },
            Err(e) => Err((e, false)),
        };
        match r {
            Ok((r, item)) => {
                items.push(item);
                i = r;
            }
            Err((e, missing_semicolon)) => {
                let err = into_error(e);
                let at = err.at;
                diags.push(err.into_diagnostic(text, file));
                let resume = recover(start, at, missing_semicolon);
                i = match cx.ws(resume) {
                    Ok((r, ())) => r,
                    Err(e) => {
                        diags.push(into_error(e).into_diagnostic(text, file));
                        break;
                    }
                };
            }
        }
    }
    (ast::File { items }, diags)
}

/// Parses one expression: the whole of `text` (used by tests and tools).
pub fn parse_expr(text: &str, file: FileId) -> Result<ast::Expr, Vec<Diagnostic>> {
    let cx = Cx::new(text);
    let r = cx
        .ws(text)
        .and_then(|(r, ())| cx.expr(r))
        .and_then(|(r, e)| {
            if r.is_empty() {
                Ok((r, e))
            } else {
                Err(nom::Err::Failure(PError::new(
                    r,
                    error::Problem::Expected(vec![
                        Expect::Desc("an operator"),
                        Expect::Desc("end of input"),
                    ]),
                    None,
                )))
            }
        });
    r.map(|(_, e)| e)
        .map_err(|e| vec![into_error(e).into_diagnostic(text, file)])
}
