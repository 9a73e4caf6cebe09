//! What can go wrong reading an input.

use std::fmt;

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The options do not fit the program (e.g. `--type` names an undeclared
    /// type): a usage error, found before reading anything.
    #[error("{0}")]
    Options(String),
    /// The file could not be opened or read.
    #[error("cannot read {file}: {source}")]
    Io {
        /// The input's name.
        file: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The header does not fit the options (a missing type or time column).
    #[error("{file}:{line}: {reason}")]
    Header {
        /// The input's name.
        file: String,
        /// 1-based line of the header.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// One row could not be decoded; reading can go on with the next row.
    #[error("{0}")]
    Row(RowError),
}

impl ReadError {
    /// The row error, when reading can go on past it (`--on-error skip`).
    pub fn as_row(&self) -> Option<&RowError> {
        match self {
            ReadError::Row(r) => Some(r),
            _ => None,
        }
    }
}

/// One bad row: where it is, which column, why, and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The input's name (`-` or `<stdin>` for standard input).
    pub file: String,
    /// 1-based line where the row starts, as an editor counts.
    pub line: u64,
    /// The column at fault, when one is.
    pub column: Option<String>,
    /// What is wrong.
    pub reason: String,
    /// The row as it was read (CSV re-quoted; a JSON line verbatim).
    pub raw: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if let Some(c) = &self.column {
            write!(f, "column '{c}': ")?;
        }
        f.write_str(&self.reason)
    }
}

impl std::error::Error for RowError {}
