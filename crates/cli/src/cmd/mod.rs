//! One module per subcommand.

pub mod check;
pub mod explain;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod run;

use dalal_io::{TsFormat, TypeSource};
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

/// How each record names its event type and time: shared by `dalal run` (file
/// rows) and `dalal kafka` (message values).
#[derive(Debug, clap::Args)]
pub struct EventArgs {
    /// The column (or JSON field) holding each event's type.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "type",
        conflicts_with = "fixed_type"
    )]
    pub type_column: String,
    /// Every event is of this type.
    #[arg(long = "type", value_name = "NAME")]
    pub fixed_type: Option<String>,
    /// The column (or JSON field) holding each event's time.
    #[arg(long, value_name = "NAME", default_value = "ts")]
    pub ts_column: String,
    /// How event times are written: rfc3339, epoch_s, epoch_ms, epoch_us, epoch_ns, or a
    /// chrono format such as %Y%m%d%H%M (UTC unless it has %z).
    #[arg(long, value_name = "FMT", default_value = "rfc3339", value_parser = TsFormat::parse)]
    pub ts_format: TsFormat,
}

impl EventArgs {
    /// Where the event type comes from.
    pub fn type_source(&self) -> TypeSource {
        match &self.fixed_type {
            Some(t) => TypeSource::Fixed(t.clone()),
            None => TypeSource::Column(self.type_column.clone()),
        }
    }
}
