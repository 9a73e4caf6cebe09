//! Rendering diagnostics rustc-style through miette. (Being written.)

use crate::Sources;
use crate::diagnostic::Diagnostic;

/// Renders diagnostics as text, with ANSI colour when `color`.
pub fn render(_diags: &[Diagnostic], _sources: &Sources, _color: bool) -> String {
    todo!("render")
}
