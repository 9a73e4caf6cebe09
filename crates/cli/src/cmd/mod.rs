//! One module per subcommand.

pub mod check;
pub mod explain;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod run;

use std::io::IsTerminal;
use std::path::PathBuf;

/// Where patterns are read from when none are named.
pub const DEFAULT_PATTERNS: &str = "patterns";

/// The named pattern paths, or the default library.
pub fn pattern_paths(given: &[PathBuf]) -> Vec<PathBuf> {
    if given.is_empty() {
        vec![PathBuf::from(DEFAULT_PATTERNS)]
    } else {
        given.to_vec()
    }
}

/// Colour diagnostics only for a terminal, and never when `NO_COLOR` is set.
pub fn stderr_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}
