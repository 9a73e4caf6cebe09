//! `dalal check`: parse and type-check, report every error of every file.

use super::{pattern_paths, stderr_color};
use crate::exit;
use anyhow::Result;
use dalal_lang::Sources;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `dalal check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Pattern files or directories (every `*.pattern` below them, loaded as one program).
    #[arg(value_name = "PATTERNS", default_values_os_t = Vec::<PathBuf>::new())]
    pub patterns: Vec<PathBuf>,
}

/// Exit 0 when the program is clean (warnings allowed), 2 with any error.
pub fn run(args: &Args) -> Result<ExitCode> {
    let paths = pattern_paths(&args.patterns);
    let mut sources = Sources::new();
    for p in &paths {
        if let Err(e) = sources.load_path(p) {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(exit::USAGE));
        }
    }
    let color = stderr_color();
    match dalal_lang::compile_with_warnings(&sources, &[]) {
        Ok((program, warnings)) => {
            if !warnings.is_empty() {
                eprint!("{}", dalal_lang::render::render(&warnings, &sources, color));
            }
            println!(
                "ok: {} file{}, {} event type{}, {} pattern{}{}",
                sources.files.len(),
                plural(sources.files.len()),
                program.types.len(),
                plural(program.types.len()),
                program.patterns.len(),
                plural(program.patterns.len()),
                if warnings.is_empty() {
                    String::new()
                } else {
                    format!(", {} warning{}", warnings.len(), plural(warnings.len()))
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(diags) => {
            eprint!("{}", diags.render(color));
            let n = diags.error_count();
            eprintln!(
                "error: could not check the patterns: {n} error{}",
                plural(n)
            );
            Ok(ExitCode::from(exit::USAGE))
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
