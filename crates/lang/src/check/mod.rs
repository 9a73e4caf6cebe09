//! The checker: [`crate::ast::File`]s -> [`crate::typed::Program`]. (Being written.)

use crate::ast;
use crate::diagnostic::Diagnostic;
use crate::typed::{FileId, NativeSig, Program};

/// Checks the files of one program. Returns the program when there is no
/// error, and every diagnostic (errors and warnings) found.
pub fn check(
    _files: &[(FileId, &ast::File)],
    _natives: &[NativeSig],
) -> (Option<Program>, Vec<Diagnostic>) {
    todo!("checker")
}
