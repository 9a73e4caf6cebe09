//! The `dalal` binary's integration tests, compiled into one test binary
//! (ripgrep's habit: one link, shared helpers in `util`).

mod cli;
mod r#gen;
mod golden;
#[cfg(feature = "kafka")]
mod kafka;
mod opencep;
mod real_trades;
mod util;
