//! Rendering diagnostics rustc-style through miette.
//!
//! ```text
//!   error[E0101]: expected `,` or `)` to close `SEQ(`, found `;`
//!    ╭─[bull.pattern:2:13]
//!  1 │ PATTERN p
//!  2 │   SEQ(A a, B b;
//!    ·      ┬      ┬
//!    ·      │      ╰── expected `,` or `)`
//!    ·      ╰── `SEQ(` opened here
//!    ╰────
//!   help: ...
//! ```
//!
//! Without colour the output is deterministic (no terminal probing, fixed
//! width, no hyperlinks, unicode box characters) so it can be snapshot-tested.
//! Diagnostics are separated by a blank line; summaries ("3 errors") are left
//! to the caller.

use crate::diagnostic::{Diagnostic, Severity};
use crate::span::Span;
use crate::{SourceFile, Sources};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use std::fmt;

/// Width the text is wrapped at.
const WIDTH: usize = 100;

/// Renders diagnostics as text, with ANSI colour when `color`.
pub fn render(diags: &[Diagnostic], sources: &Sources, color: bool) -> String {
    let mut out = String::new();
    for (n, d) in diags.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        out.push_str(&render_one(d, sources, color));
    }
    out
}

/// One diagnostic.
fn render_one(d: &Diagnostic, sources: &Sources, color: bool) -> String {
    let fallback = SourceFile {
        name: "<unknown>".to_string(),
        text: String::new(),
    };
    let file = sources.files.get(d.file.index()).unwrap_or(&fallback);
    let mut theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    // miette shows a severity icon before the message; the rustc header
    // `error[E0101]:` takes its place.
    theme.characters.error = format!("error[{}]:", d.code);
    theme.characters.warning = format!("warning[{}]:", d.code);
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(WIDTH)
        .with_links(false)
        .with_context_lines(1);
    let report = Report {
        diag: d,
        src: Src {
            name: &file.name,
            text: &file.text,
        },
    };
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        // miette could not read a span; still say what is wrong and where.
        out = fallback_text(d, file);
    }
    out
}

/// Plain text used only if miette fails to render.
fn fallback_text(d: &Diagnostic, file: &SourceFile) -> String {
    let sev = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let (line, col) = line_col(&file.text, d.span.start);
    let mut s = format!(
        "{sev}[{}]: {}\n  --> {}:{line}:{col}\n  {}\n",
        d.code, d.message, file.name, d.label
    );
    if let Some(h) = &d.help {
        s.push_str(&format!("  help: {h}\n"));
    }
    s
}

/// 1-based line and column (in chars) of byte offset `pos`.
fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let pos = floor_boundary(text, pos);
    let before = &text[..pos];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The largest char boundary `<= pos` (and `<= text.len()`).
fn floor_boundary(text: &str, pos: usize) -> usize {
    let mut p = pos.min(text.len());
    while !text.is_char_boundary(p) {
        p -= 1;
    }
    p
}

/// A span clamped into `text` and onto char boundaries.
fn clamp(text: &str, s: Span) -> SourceSpan {
    let start = floor_boundary(text, s.start);
    let end = floor_boundary(text, s.end.max(s.start));
    SourceSpan::new(start.into(), end.saturating_sub(start))
}

/// The file's name and text as a miette source.
struct Src<'s> {
    name: &'s str,
    text: &'s str,
}

impl SourceCode for Src<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let c = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        // miette counts the column of the `file:line:col` header in bytes;
        // rustc (and editors) count characters.
        let column = if context_lines_before == 0 {
            let at = floor_boundary(self.text, span.offset());
            let line_start = self.text[..at].rfind(['\n', '\r']).map_or(0, |n| n + 1);
            self.text[line_start..at].chars().count()
        } else {
            c.column()
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            c.data(),
            *c.span(),
            c.line(),
            column,
            c.line_count(),
        )))
    }
}

/// A [`Diagnostic`] seen through miette's trait.
struct Report<'s> {
    diag: &'s Diagnostic,
    src: Src<'s>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diag, f)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diag
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.src)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let text = self.src.text;
        let label = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let primary = LabeledSpan::new_primary_with_span(
            label(&self.diag.label),
            clamp(text, self.diag.span),
        );
        let secondary = self
            .diag
            .secondary
            .iter()
            .map(move |(s, l)| LabeledSpan::new_with_span(label(l), clamp(text, *s)));
        Some(Box::new(std::iter::once(primary).chain(secondary)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::typed::FileId;

    fn one(name: &str, text: &str, d: Diagnostic) -> String {
        let mut s = Sources::new();
        s.add(name, text);
        render(&[d], &s, false)
    }

    #[test]
    fn renders_location_source_line_label_and_help() {
        let text = "EVENT A (x INT);\nPATTERN p SEQ(A a WITHIN 5m;\n";
        let pos = text.find("WITHIN").unwrap();
        let d = Diagnostic::error(
            "E0101",
            FileId(0),
            Span::new(pos, pos + 6),
            "expected `,` or `)` to close `SEQ(`, found keyword `WITHIN`",
            "expected `,` or `)`",
        )
        .with_help("add `)`");
        let out = one("demo.pattern", text, d);
        assert!(out.contains("demo.pattern:2:19"), "{out}");
        assert!(out.contains("PATTERN p SEQ(A a WITHIN 5m;"), "{out}");
        assert!(out.contains("expected `,` or `)`"), "{out}");
        assert!(out.contains("error[E0101]: expected"), "{out}");
        assert!(out.contains("help: add `)`"), "{out}");
        assert!(!out.contains('\u{1b}'), "no colour codes: {out}");
    }

    #[test]
    fn renders_parser_errors_end_to_end() {
        let text = "EVENT A (x INT);\nPATTERN p SEQ(A a) WHERE a.x == 3 WITHIN 5m;\n";
        let (_, diags) = crate::parser::parse_file(text, FileId(0));
        let mut s = Sources::new();
        s.add("f.pattern", text);
        let out = render(&diags, &s, false);
        assert!(out.contains("f.pattern:2:30"), "{out}");
        assert!(out.contains("use `=` for equality"), "{out}");
    }

    #[test]
    fn secondary_labels_and_multiple_diagnostics() {
        let text = "PATTERN p\n  SEQ(A a, B b;\nPATTERN q SEQ(;\n";
        let (_, diags) = crate::parser::parse_file(text, FileId(0));
        assert_eq!(diags.len(), 2);
        let mut s = Sources::new();
        s.add("f.pattern", text);
        let out = render(&diags, &s, false);
        assert!(out.contains("`SEQ(` opened here"), "{out}");
        assert!(out.contains("\n\n"), "separated by a blank line: {out}");
        assert_eq!(out.matches("error[E0101]").count(), 2, "{out}");
        // Deterministic.
        assert_eq!(out, render(&diags, &s, false));
    }

    #[test]
    fn empty_spans_at_end_of_file_and_out_of_range_do_not_panic() {
        for (text, span) in [
            ("", Span::new(0, 0)),
            ("abc", Span::new(3, 3)),
            ("abc\n", Span::new(4, 4)),
            ("abc", Span::new(10, 20)),
            ("é", Span::new(1, 2)),
        ] {
            let d = Diagnostic::error("E0101", FileId(0), span, "msg", "label")
                .with_secondary(Span::new(0, 99), "other");
            let out = one("x.pattern", text, d);
            assert!(out.contains("msg"), "{out}");
        }
        // Unknown file id.
        let d = Diagnostic::error("E0101", FileId(7), Span::new(0, 1), "msg", "label");
        let out = render(&[d], &Sources::new(), false);
        assert!(out.contains("msg"), "{out}");
    }

    #[test]
    fn columns_count_characters() {
        let text = "DEFINE x = 'éé' +;\n";
        let (_, diags) = crate::parser::parse_file(text, FileId(0));
        let mut s = Sources::new();
        s.add("u.pattern", text);
        let out = render(&diags, &s, false);
        assert!(out.contains("u.pattern:1:18"), "{out}");
    }

    #[test]
    fn colour_output_has_ansi_codes() {
        let d = Diagnostic::error("E0101", FileId(0), Span::new(0, 1), "msg", "label");
        let mut s = Sources::new();
        s.add("x", "abc");
        let out = render(&[d], &s, true);
        assert!(out.contains('\u{1b}'), "{out}");
    }
}
