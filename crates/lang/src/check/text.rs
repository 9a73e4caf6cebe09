//! The text of an expression, for conjunct texts and default EMIT names.
//!
//! The checker sees only trees, so the text is the tree printed back by
//! [`crate::printer`] (canonical form: keywords upper-case, `!=` for `<>`).

use crate::ast::Expr;

/// Prints `e` as source text.
pub(super) fn expr_text(e: &Expr) -> String {
    e.to_string()
}
