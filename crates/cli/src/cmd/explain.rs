//! `dalal explain`: the compiled automaton of a pattern, as text or Graphviz dot.

use super::run::load_program;
use crate::exit;
use anyhow::Result;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `dalal explain`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A pattern file (or directory). When the file alone does not check
    /// (it uses types declared beside it), its whole directory is loaded
    /// and only the file's patterns are shown.
    #[arg(value_name = "PATTERN_FILE")]
    pub pattern_file: PathBuf,
    /// Show only this pattern.
    #[arg(long, value_name = "NAME")]
    pub pattern: Option<String>,
    /// Print Graphviz dot instead of text.
    #[arg(long)]
    pub dot: bool,
}

/// Runs `dalal explain`.
pub fn run(args: &Args) -> Result<ExitCode> {
    let path = &args.pattern_file;
    let (program, sources) = match load_quietly(path) {
        Some(loaded) => loaded,
        None => {
            // Maybe the file needs the declarations of its directory.
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
            let with_dir = if path.is_file() {
                dir.and_then(|d| load_quietly(d).map(|l| (l, d)))
            } else {
                None
            };
            match with_dir {
                Some((loaded, _)) => loaded,
                None => match load_program(std::slice::from_ref(path), false) {
                    Ok(loaded) => loaded,
                    Err(code) => return Ok(code),
                },
            }
        }
    };
    // The patterns of the named file (all of them when a directory was named).
    let wanted_file = if path.is_file() {
        sources
            .files
            .iter()
            .position(|f| same_file(Path::new(&f.name), path))
    } else {
        None
    };
    let names: Vec<String> = program
        .checked()
        .patterns
        .iter()
        .filter(|p| wanted_file.is_none_or(|f| p.file.index() == f))
        .map(|p| p.name.clone())
        .collect();
    let names = match &args.pattern {
        Some(n) if names.contains(n) => vec![n.clone()],
        Some(n) => {
            eprintln!(
                "error: no pattern `{n}` in {}; patterns: {}",
                path.display(),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            );
            return Ok(ExitCode::from(exit::USAGE));
        }
        None => names,
    };
    if names.is_empty() {
        eprintln!("error: {} declares no pattern", path.display());
        return Ok(ExitCode::from(exit::USAGE));
    }
    let mut out = String::new();
    for (i, name) in names.iter().enumerate() {
        let Some(text) = program.explain(name) else {
            continue;
        };
        if args.dot {
            out.push_str(&to_dot(name, &text));
        } else {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&text);
        }
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e.into()),
    }
}

fn load_quietly(path: &Path) -> Option<(dalal::Program, dalal_lang::Sources)> {
    let mut sources = dalal_lang::Sources::new();
    sources.load_path(path).ok()?;
    let checked = dalal_lang::compile(&sources, &[]).ok()?;
    let program = dalal::Program::from_checked(checked).ok()?;
    Some((program, sources))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Graphviz from the text of [`dalal::Program::explain`]: one cluster per
/// alternative, one node per state (accepting states double circles), one
/// edge per transition labelled with its kind, variable and conjuncts.
///
/// The engine exposes the automaton only as text, so this parses that
/// text: `alternative N (...): start sK`, `  sN [(accept)]`,
/// `    --LABEL--> sM[  where ...]`.
pub fn to_dot(name: &str, text: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", quote(name));
    let _ = writeln!(out, "  rankdir=LR;");
    let _ = writeln!(out, "  node [shape=circle, fontname=\"monospace\"];");
    let _ = writeln!(out, "  edge [fontname=\"monospace\", fontsize=10];");
    let mut lines = text.lines();
    if let Some(header) = lines.next() {
        let _ = writeln!(out, "  label={};", quote(header));
        let _ = writeln!(out, "  labelloc=t;");
    }
    let mut alt: Option<usize> = None;
    let mut state: Option<String> = None;
    let mut open = false;
    for line in lines {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("alternative ") {
            if open {
                let _ = writeln!(out, "  }}");
            }
            let n = alt.map_or(0, |a| a + 1);
            alt = Some(n);
            open = true;
            let _ = writeln!(out, "  subgraph cluster_{n} {{");
            let _ = writeln!(out, "    label={};", quote(&format!("alternative {rest}")));
            if let Some((_, start)) = rest.rsplit_once("start ") {
                let _ = writeln!(out, "    a{n}_start [shape=point];");
                let _ = writeln!(out, "    a{n}_start -> a{n}_{};", start.trim());
            }
        } else if let Some(rest) = trimmed.strip_prefix("--") {
            let (Some(a), Some(from)) = (alt, &state) else {
                continue;
            };
            let Some((label, after)) = rest.split_once("--> ") else {
                continue;
            };
            let (target, conds) = match after.split_once("  where ") {
                Some((t, c)) => (t.trim(), Some(c)),
                None => (after.trim(), None),
            };
            let mut l = label.trim().replace("  where ", "\nwhere ");
            if let Some(c) = conds {
                l.push_str("\nwhere ");
                l.push_str(c);
            }
            let _ = writeln!(
                out,
                "    a{a}_{from} -> a{a}_{target} [label={}];",
                quote(&l)
            );
        } else if trimmed.starts_with('s') && alt.is_some() {
            let (id, accept) = match trimmed.split_once(' ') {
                Some((id, rest)) => (id, rest.contains("accept")),
                None => (trimmed, false),
            };
            let a = alt.unwrap_or(0);
            state = Some(id.to_string());
            let shape = if accept { ", shape=doublecircle" } else { "" };
            let _ = writeln!(out, "    a{a}_{id} [label={}{shape}];", quote(id));
        }
    }
    if open {
        let _ = writeln!(out, "  }}");
    }
    out.push_str("}\n");
    out
}

fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_from_explain_text() {
        let text = "pattern up: 1 alternative(s), strategy SKIP TILL NEXT MATCH, after match SKIP PAST LAST EVENT, within 60000ms\n\
                    alternative 0 (): start s0\n  s0\n    --begin Trade a--> s1\n  s1\n    --begin Trade b--> s2  where b.price > a.price\n  s2 (accept)\n";
        let dot = to_dot("up", text);
        assert!(dot.starts_with("digraph \"up\" {\n"));
        assert!(dot.contains("a0_start -> a0_s0;"));
        assert!(dot.contains("a0_s0 -> a0_s1 [label=\"begin Trade a\"];"));
        assert!(
            dot.contains("a0_s1 -> a0_s2 [label=\"begin Trade b\\nwhere b.price > a.price\"];")
        );
        assert!(dot.contains("a0_s2 [label=\"s2\", shape=doublecircle];"));
        assert!(dot.trim_end().ends_with('}'));
    }
}
