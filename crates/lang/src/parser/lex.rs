//! Tokens: whitespace and comments, words, punctuation, string, number,
//! duration and timestamp literals.
//!
//! Convention: every token parser starts exactly at its token (no leading
//! whitespace), returns the token's span, and then skips the whitespace and
//! comments that follow it. So a node's span runs from its first token's start
//! to its last token's end and never includes trailing blanks.

use super::error::{Custom, Expect, PError, codes};
use super::{Cx, is_reserved};
use crate::ast::{Ident, Literal};
use crate::diagnostic::did_you_mean;
use crate::span::Span;
use nom::Parser;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::satisfy;
use nom::combinator::recognize;
use nom::sequence::pair;

/// The parser's result type.
pub(super) type PResult<'a, T> = nom::IResult<&'a str, T, PError<'a>>;

/// Short duration units (written right after the number) and their length in ns.
const SHORT_UNITS: &[(&str, i64)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
];

/// Long duration units (after the number, with or without a space).
const LONG_UNITS: &[(&str, i64)] = &[
    ("nanosecond", 1),
    ("nanoseconds", 1),
    ("microsecond", 1_000),
    ("microseconds", 1_000),
    ("millisecond", 1_000_000),
    ("milliseconds", 1_000_000),
    ("second", 1_000_000_000),
    ("seconds", 1_000_000_000),
    ("minute", 60_000_000_000),
    ("minutes", 60_000_000_000),
    ("hour", 3_600_000_000_000),
    ("hours", 3_600_000_000_000),
    ("day", 86_400_000_000_000),
    ("days", 86_400_000_000_000),
];

fn unit_nanos(word: &str, long_only: bool) -> Option<i64> {
    let short: &[(&str, i64)] = if long_only { &[] } else { SHORT_UNITS };
    short
        .iter()
        .chain(LONG_UNITS)
        .find(|(u, _)| u.eq_ignore_ascii_case(word))
        .map(|&(_, n)| n)
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Replaces a recoverable error by "expected `what`" at `at`; a cut error
/// (a real problem found deeper) passes through.
pub(super) fn expecting<'a, T>(r: PResult<'a, T>, at: &'a str, what: Expect) -> PResult<'a, T> {
    match r {
        Err(nom::Err::Error(_)) => Err(nom::Err::Error(PError::expected(at, what))),
        other => other,
    }
}

/// A hard (cut) error.
pub(super) fn fail<'a, T>(at: &'a str, c: Custom) -> PResult<'a, T> {
    Err(nom::Err::Failure(PError::custom(at, c)))
}

/// A recoverable "expected X" error.
pub(super) fn backtrack<'a, T>(at: &'a str, what: Expect) -> PResult<'a, T> {
    Err(nom::Err::Error(PError::expected(at, what)))
}

/// Turns a recoverable error into a cut one: the construct is decided.
pub(super) fn commit<T>(r: PResult<'_, T>) -> PResult<'_, T> {
    r.map_err(|e| match e {
        nom::Err::Error(e) => nom::Err::Failure(e),
        other => other,
    })
}

impl Cx {
    /// Byte offset of the remaining input `i`.
    pub(super) fn pos(&self, i: &str) -> usize {
        self.len.saturating_sub(i.len())
    }

    /// Span from the start of `a` to the start of `b` (both suffixes of the text).
    pub(super) fn span(&self, a: &str, b: &str) -> Span {
        Span::new(self.pos(a), self.pos(b))
    }

    /// Span of the token at `i` (for errors).
    pub(super) fn tok_span(&self, i: &str) -> Span {
        let len = super::error::Found::at(i).len;
        let p = self.pos(i);
        Span::new(p, p + len)
    }

    /// Skips whitespace, `-- line` and `/* block */` comments.
    pub(super) fn ws<'a>(&self, mut i: &'a str) -> PResult<'a, ()> {
        loop {
            let t = i.trim_start();
            if let Some(r) = t.strip_prefix("--") {
                i = r.find('\n').map_or("", |n| &r[n + 1..]);
            } else if let Some(r) = t.strip_prefix("/*") {
                match r.find("*/") {
                    Some(n) => i = &r[n + 2..],
                    None => {
                        let p = self.pos(t);
                        return fail(
                            t,
                            Custom::new(
                                codes::UNTERMINATED_COMMENT,
                                Span::new(p, p + 2),
                                "unterminated block comment",
                                "comment starts here",
                            )
                            .help("close the comment with `*/`"),
                        );
                    }
                }
            } else {
                return Ok((t, ()));
            }
        }
    }

    /// Runs `p` at `i`, returns its output with its span, then skips blanks.
    pub(super) fn lexeme<'a, O>(
        &self,
        i: &'a str,
        mut p: impl Parser<&'a str, Output = O, Error = PError<'a>>,
    ) -> PResult<'a, (O, Span)> {
        let (rest, o) = p.parse(i)?;
        let span = self.span(i, rest);
        let (rest, ()) = self.ws(rest)?;
        Ok((rest, (o, span)))
    }

    /// The punctuation `s`.
    pub(super) fn punct<'a>(&self, i: &'a str, s: &'static str) -> PResult<'a, Span> {
        let r = self.lexeme(i, tag(s)).map(|(r, (_, sp))| (r, sp));
        expecting(r, i, Expect::Tok(s))
    }

    /// The punctuation `s` if it is next (a failure in the blanks after it
    /// still propagates).
    #[allow(clippy::type_complexity)]
    pub(super) fn opt_punct<'a>(
        &self,
        i: &'a str,
        s: &'static str,
    ) -> Result<Option<(&'a str, Span)>, nom::Err<PError<'a>>> {
        match self.punct(i, s) {
            Ok(x) => Ok(Some(x)),
            Err(nom::Err::Error(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// True when the next token is the punctuation `s`.
    pub(super) fn at_punct(&self, i: &str, s: &str) -> bool {
        i.starts_with(s)
    }

    /// A word: `[A-Za-z_][A-Za-z0-9_]*` (keyword or identifier).
    pub(super) fn word<'a>(&self, i: &'a str) -> PResult<'a, (&'a str, Span)> {
        let w = recognize(pair(satisfy(is_ident_start), take_while(is_ident_char)));
        expecting(self.lexeme(i, w), i, Expect::Desc("a word"))
    }

    /// The word at `i`, if any, without consuming it.
    pub(super) fn peek_word<'a>(&self, i: &'a str) -> Option<&'a str> {
        let n = i.find(|c: char| !is_ident_char(c)).unwrap_or(i.len());
        let w = &i[..n];
        w.starts_with(is_ident_start).then_some(w)
    }

    /// True when the next word is `kw` (case-insensitive).
    pub(super) fn at_kw(&self, i: &str, kw: &str) -> bool {
        self.peek_word(i)
            .is_some_and(|w| w.eq_ignore_ascii_case(kw))
    }

    /// The keyword `kw` (case-insensitive).
    pub(super) fn kw<'a>(&self, i: &'a str, kw: &'static str) -> PResult<'a, Span> {
        if self.at_kw(i, kw) {
            let (r, (_, sp)) = self.word(i)?;
            Ok((r, sp))
        } else {
            backtrack(i, Expect::Tok(kw))
        }
    }

    /// An identifier (a word that is not reserved); `what` names it in errors.
    pub(super) fn ident_as<'a>(&self, i: &'a str, what: &'static str) -> PResult<'a, Ident> {
        match self.peek_word(i) {
            Some(w) if !is_reserved(w) => {
                let (r, (name, span)) = self.word(i)?;
                Ok((
                    r,
                    Ident {
                        name: name.to_string(),
                        span,
                    },
                ))
            }
            _ => backtrack(i, Expect::Desc(what)),
        }
    }

    /// A string literal `'...'` with `''` for a quote.
    pub(super) fn string_lit<'a>(&self, i: &'a str) -> PResult<'a, (String, Span)> {
        let Some(mut rest) = i.strip_prefix('\'') else {
            return backtrack(i, Expect::Desc("a string"));
        };
        let mut out = String::new();
        loop {
            match rest.find('\'') {
                None => {
                    let p = self.pos(i);
                    return fail(
                        i,
                        Custom::new(
                            codes::UNTERMINATED_STRING,
                            Span::new(p, p + 1),
                            "unterminated string literal",
                            "string starts here",
                        )
                        .help("close the string with `'` (write `''` for a quote inside it)"),
                    );
                }
                Some(n) => {
                    out.push_str(&rest[..n]);
                    rest = &rest[n + 1..];
                    match rest.strip_prefix('\'') {
                        Some(r) => {
                            out.push('\'');
                            rest = r;
                        }
                        None => break,
                    }
                }
            }
        }
        let span = self.span(i, rest);
        let (rest, ()) = self.ws(rest)?;
        Ok((rest, (out, span)))
    }

    /// An unsigned number: integer, float, or duration (`500ms`, `1.5s`,
    /// `5 minutes`).
    pub(super) fn number_lit<'a>(&self, i: &'a str) -> PResult<'a, (Literal, Span)> {
        let digits = || take_while1(|c: char| c.is_ascii_digit());
        let (mut rest, int_part) = expecting(digits().parse(i), i, Expect::Desc("a number"))?;
        let mut frac_part = None;
        if let Some(r) = rest.strip_prefix('.')
            && r.starts_with(|c: char| c.is_ascii_digit())
        {
            let (r2, f) = digits().parse(r)?;
            frac_part = Some(f);
            rest = r2;
        }
        let mut has_exp = false;
        if let Some(r) = rest.strip_prefix(['e', 'E']) {
            let r = r.strip_prefix(['+', '-']).unwrap_or(r);
            if r.starts_with(|c: char| c.is_ascii_digit()) {
                let (r2, _) = digits().parse(r)?;
                has_exp = true;
                rest = r2;
            }
        }
        let num_end = rest;
        let text = &i[..i.len() - num_end.len()];
        // A unit glued to the number: `500ms`, `5minutes`.
        if rest.starts_with(is_ident_start) {
            let (after, unit) = take_while1(is_ident_char).parse(rest)?;
            let unit_span = self.span(rest, after);
            let Some(ns) = unit_nanos(unit, false).filter(|_| !has_exp) else {
                let all = SHORT_UNITS.iter().chain(LONG_UNITS).map(|(u, _)| *u);
                let help = did_you_mean(&unit.to_ascii_lowercase(), all).unwrap_or_else(|| {
                    "duration units are `ns`, `us`, `ms`, `s`, `m`, `h`, `d` \
                     (or `seconds`, `minutes`, ...)"
                        .to_string()
                });
                return fail(
                    i,
                    Custom::new(
                        codes::BAD_NUMBER,
                        self.span(i, after),
                        format!("invalid suffix `{unit}` on number `{text}`"),
                        "not a duration unit",
                    )
                    .secondary(unit_span, "this suffix")
                    .help(help),
                );
            };
            let span = self.span(i, after);
            let (after, ()) = self.ws(after)?;
            return self.duration(i, after, int_part, frac_part, ns, span);
        }
        let span = self.span(i, num_end);
        let (rest, ()) = self.ws(num_end)?;
        // A long unit after a space: `5 minutes`.
        if !has_exp
            && let Some(w) = self.peek_word(rest)
            && let Some(ns) = unit_nanos(w, true)
        {
            let (after, (_, usp)) = self.word(rest)?;
            return self.duration(i, after, int_part, frac_part, ns, span.to(usp));
        }
        if frac_part.is_some() || has_exp {
            match text.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok((rest, (Literal::Float(f), span))),
                _ => fail(
                    i,
                    Custom::new(
                        codes::BAD_NUMBER,
                        span,
                        format!("float literal `{}` is out of range", shorten(text)),
                        "too large for a 64-bit float",
                    ),
                ),
            }
        } else {
            match text.parse::<i64>() {
                Ok(n) => Ok((rest, (Literal::Int(n), span))),
                Err(_) => fail(
                    i,
                    Custom::new(
                        codes::BAD_NUMBER,
                        span,
                        format!("integer literal `{}` is too large", shorten(text)),
                        "does not fit in a 64-bit signed integer",
                    )
                    .help(format!("the largest integer is {}", i64::MAX)),
                ),
            }
        }
    }

    /// Builds a duration literal of `int.frac` units of `unit_ns`, exactly.
    fn duration<'a>(
        &self,
        start: &'a str,
        rest: &'a str,
        int_part: &str,
        frac_part: Option<&str>,
        unit_ns: i64,
        span: Span,
    ) -> PResult<'a, (Literal, Span)> {
        let text = &start[..span.len().min(start.len())];
        let overflow = || {
            fail(
                start,
                Custom::new(
                    codes::BAD_DURATION,
                    span,
                    format!("duration `{}` is too long", shorten(text)),
                    "does not fit in 64-bit nanoseconds",
                )
                .help("the longest duration is about 292 years"),
            )
        };
        let int_digits = int_part.trim_start_matches('0');
        if int_digits.len() > 20 {
            return overflow();
        }
        // Only ASCII digits, at most 20 of them: the parse fails only on ""
        // (the number was all zeros).
        let whole: i128 = int_digits.parse().unwrap_or(0);
        let mut nanos = whole * i128::from(unit_ns);
        if let Some(f) = frac_part {
            let f = f.trim_end_matches('0');
            let inexact = || {
                fail(
                    start,
                    Custom::new(
                        codes::BAD_DURATION,
                        span,
                        format!(
                            "duration `{}` is not a whole number of nanoseconds",
                            shorten(text)
                        ),
                        "too precise",
                    )
                    .help("use a smaller unit, e.g. `1500ms` instead of `1.5s`"),
                )
            };
            if f.len() > 20 {
                return inexact();
            }
            if !f.is_empty() {
                // Non-empty, at most 20 ASCII digits: always parses.
                let num: i128 = f.parse().unwrap_or(0);
                let den = 10i128.pow(u32::try_from(f.len()).unwrap_or(20));
                let scaled = num * i128::from(unit_ns);
                if scaled % den != 0 {
                    return inexact();
                }
                nanos += scaled / den;
            }
        }
        match i64::try_from(nanos) {
            Ok(n) => Ok((rest, (Literal::Duration(n), span))),
            Err(_) => overflow(),
        }
    }

    /// `TIMESTAMP '...'`, the keyword already seen at `i`.
    pub(super) fn timestamp_lit<'a>(&self, i: &'a str) -> PResult<'a, (Literal, Span)> {
        let (r, kw_span) = self.kw(i, "TIMESTAMP")?;
        let (rest, (text, str_span)) = commit(self.string_lit(r))?;
        match parse_timestamp(&text) {
            Some(ns) => Ok((rest, (Literal::Timestamp(ns), kw_span.to(str_span)))),
            None => fail(
                r,
                Custom::new(
                    codes::BAD_TIMESTAMP,
                    str_span,
                    format!("invalid timestamp `{}`", shorten(&text)),
                    "not an RFC 3339 timestamp between 1677 and 2262",
                )
                .help("write e.g. `TIMESTAMP '2024-01-02T09:15:00Z'` (no zone means UTC)"),
            ),
        }
    }
}

/// Nanoseconds since the epoch of an RFC 3339 timestamp; without a zone the
/// time is UTC, and a bare date is midnight UTC.
pub(super) fn parse_timestamp(s: &str) -> Option<i64> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return dt.timestamp_nanos_opt();
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return dt.and_utc().timestamp_nanos_opt();
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()?
        .and_hms_opt(0, 0, 0)?
        .and_utc()
        .timestamp_nanos_opt()
}

/// A literal cut to a readable length for messages.
pub(super) fn shorten(s: &str) -> String {
    if s.chars().count() > 40 {
        let cut: String = s.chars().take(40).collect();
        format!("{cut}...")
    } else {
        s.to_string()
    }
}
