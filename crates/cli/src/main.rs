//! `dalal`: the command line of the dalal complex event processing engine.
//!
//! The binary is glue (see docs/ARCHITECTURE.md): it parses arguments, calls the
//! library crates, and turns their typed errors into messages and exit codes
//! (0 ok, 1 runtime or input error, 2 usage or pattern error).

mod cmd;
mod r#gen;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// jemalloc instead of the system allocator: every event is allocated by
/// the reader and freed by the engine (by another thread with `--threads`),
/// and glibc's `malloc` and `free` cost more instructions, wall time and
/// system time for a little less memory (docs/PERFORMANCE.md, change 45).
/// Not on MSVC, which jemalloc does not build for.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Complex event processing over market streams: check, run and explain `.pattern` files.
#[derive(Debug, Parser)]
#[command(name = "dalal", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse and type-check pattern files; print rustc-style diagnostics.
    Check(cmd::check::Args),
    /// Match event streams against patterns and write the matches.
    Run(Box<cmd::run::Args>),
    /// Show the compiled automaton of a pattern, as text or Graphviz dot.
    Explain(cmd::explain::Args),
    /// Write a synthetic market stream with planted episodes (docs/GENERATOR.md).
    Gen(r#gen::Args),
    /// Match Kafka topics in a consumer group; matches to an output topic (docs/OPERATIONS.md).
    #[cfg(feature = "kafka")]
    Kafka(Box<cmd::kafka::Args>),
}

/// Exit codes shared by every subcommand.
pub(crate) mod exit {
    /// Runtime or input error.
    pub const RUNTIME: u8 = 1;
    /// Usage or pattern compile error.
    pub const USAGE: u8 = 2;
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout with exit 0, real errors with 2.
            let code = if e.use_stderr() { exit::USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Check(args) => cmd::check::run(&args),
        Command::Run(args) => cmd::run::run(&args),
        Command::Explain(args) => cmd::explain::run(&args),
        Command::Gen(args) => r#gen::run(&args),
        #[cfg(feature = "kafka")]
        Command::Kafka(args) => cmd::kafka::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit::RUNTIME)
        }
    }
}
