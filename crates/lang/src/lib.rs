//! The dalal pattern language: text -> AST -> checked program.
//!
//! ```text
//! &str --parser--> ast::File --check--> typed::Program --(dalal engine)--> NFAs
//!          \                 \
//!           Diagnostic        Diagnostic  --render--> rustc-style text
//! ```
//!
//! This crate knows nothing about events at run time: it parses, prints
//! ([`printer`]: the output parses back to an equal AST) and checks. The engine
//! crate compiles a [`typed::Program`] into automata.
//!
//! # Untrusted input
//! Any byte string may be given to [`parse`]: it returns diagnostics, never
//! panics, and nesting deeper than [`parser::MAX_DEPTH`] is an error instead of
//! a stack overflow.
//!
//! ```
//! let mut sources = dalal_lang::Sources::new();
//! sources.add("demo.pattern", "EVENT Trade (symbol STRING, price FLOAT);
//!     PATTERN up SEQ(Trade a, Trade b) WHERE b.price > a.price WITHIN 1m PARTITION BY symbol;");
//! let program = dalal_lang::compile(&sources, &[]).expect("valid program");
//! assert_eq!(program.patterns[0].name, "up");
//! ```

pub mod ast;
pub mod check;
pub mod diagnostic;
pub mod parser;
pub mod printer;
pub mod render;
pub mod span;
pub mod typed;

pub use diagnostic::{Diagnostic, Severity};
pub use span::Span;
pub use typed::{FileId, NativeSig, Program};

use std::path::{Path, PathBuf};

/// One source file: a display name (usually its path) and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Shown in diagnostics (`patterns/bull.pattern:3:7`).
    pub name: String,
    /// The text.
    pub text: String,
}

/// The files of one program, loaded together into one namespace.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// Files in load order; [`FileId`] indexes this.
    pub files: Vec<SourceFile>,
}

/// Why sources could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or directory could not be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not UTF-8.
    #[error("`{path}` is not valid UTF-8 text")]
    NotUtf8 {
        /// The path.
        path: PathBuf,
    },
    /// A directory holds no `.pattern` file.
    #[error("no .pattern files in `{path}`")]
    Empty {
        /// The path.
        path: PathBuf,
    },
}

impl Sources {
    /// No files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file from memory.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        self.files.push(SourceFile {
            name: name.into(),
            text: text.into(),
        });
        FileId::from_index(self.files.len() - 1)
    }

    /// Adds a file, or every `*.pattern` file under a directory (recursively,
    /// sorted by path so that load order is deterministic).
    pub fn load_path(&mut self, path: &Path) -> Result<Vec<FileId>, LoadError> {
        let io = |source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.is_dir() {
            let mut found = Vec::new();
            collect_patterns(path, &mut found)?;
            found.sort();
            if found.is_empty() {
                return Err(LoadError::Empty {
                    path: path.to_path_buf(),
                });
            }
            let mut ids = Vec::new();
            for f in found {
                ids.extend(self.load_path(&f)?);
            }
            Ok(ids)
        } else {
            let bytes = std::fs::read(path).map_err(io)?;
            let text = String::from_utf8(bytes).map_err(|_| LoadError::NotUtf8 {
                path: path.to_path_buf(),
            })?;
            Ok(vec![self.add(path.display().to_string(), text)])
        }
    }

    /// The file with this id.
    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.index()]
    }
}

fn collect_patterns(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let io = |source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect_patterns(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "pattern") {
            out.push(path);
        }
    }
    Ok(())
}

/// Parses one file. Always returns the items that parsed (recovering at `;`)
/// together with every syntax error found.
pub fn parse(text: &str, file: FileId) -> (ast::File, Vec<Diagnostic>) {
    parser::parse_file(text, file)
}

/// Parses and checks every file of `sources` as one program.
///
/// `natives` are the signatures of functions the embedder registers. On
/// failure, every error of every file is returned (syntax errors first, then
/// checker errors of the files that parsed). Warnings never fail compilation;
/// [`compile_with_warnings`] returns them.
pub fn compile(sources: &Sources, natives: &[NativeSig]) -> Result<Program, Diagnostics> {
    compile_with_warnings(sources, natives).map(|(p, _)| p)
}

/// Like [`compile`], also returning warnings.
pub fn compile_with_warnings(
    sources: &Sources,
    natives: &[NativeSig],
) -> Result<(Program, Vec<Diagnostic>), Diagnostics> {
    let mut diags = Vec::new();
    let mut files = Vec::new();
    for (i, f) in sources.files.iter().enumerate() {
        let id = FileId::from_index(i);
        let (ast, errs) = parse(&f.text, id);
        diags.extend(errs);
        files.push((id, ast));
    }
    let refs: Vec<(FileId, &ast::File)> = files.iter().map(|(id, f)| (*id, f)).collect();
    let (program, check_diags) = check::check(&refs, natives);
    // An item that failed to parse is missing from the namespace, so names it
    // declared would show up again as "unknown": say the cause once, not twice.
    let had_syntax_errors = diags.iter().any(Diagnostic::is_error);
    diags.extend(
        check_diags
            .into_iter()
            .filter(|d| !(had_syntax_errors && UNKNOWN_NAME_CODES.contains(&d.code))),
    );
    match program {
        Some(p) if !diags.iter().any(Diagnostic::is_error) => Ok((p, diags)),
        _ => Err(Diagnostics {
            list: diags,
            sources: sources.clone(),
        }),
    }
}

/// Checker codes for names that are not defined (unknown type, variable,
/// field, function, name): after a syntax error these may be its echo.
const UNKNOWN_NAME_CODES: &[&str] = &["E0204", "E0205", "E0206", "E0207", "E0208"];

/// Diagnostics together with the sources they point into, so they can be
/// rendered on their own (`Display` renders without colour).
#[derive(Debug)]
pub struct Diagnostics {
    /// Every diagnostic, errors and warnings, in report order.
    pub list: Vec<Diagnostic>,
    /// The sources.
    pub sources: Sources,
}

impl Diagnostics {
    /// Number of errors (not warnings).
    pub fn error_count(&self) -> usize {
        self.list.iter().filter(|d| d.is_error()).count()
    }

    /// Renders every diagnostic, rustc style.
    pub fn render(&self, color: bool) -> String {
        render::render(&self.list, &self.sources, color)
    }
}

impl std::fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl std::error::Error for Diagnostics {}
