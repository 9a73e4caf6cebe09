//! `Display` for the AST: prints source that parses back to an equal tree. (Being written.)
