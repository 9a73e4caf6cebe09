//! dalal-io: sources and sinks for the dalal engine.
//!
//! ```text
//! CSV / JSON Lines bytes --reader (schema of the Program)--> (line, Event)
//!   --Pipeline: lateness, sharding over threads, ordered merge--> Match
//!   --MatchWriter--> JSON Lines / CSV / table
//! ```
//!
//! ```
//! use dalal::Program;
//! use dalal_io::{reader, Format, Pipeline, PipelineConfig, ReaderOptions, Schema, TsFormat};
//!
//! let program = Program::compile(
//!     "EVENT Trade (symbol STRING, price FLOAT);
//!      PATTERN up SEQ(Trade a, Trade b) WHERE b.price > a.price WITHIN 1m PARTITION BY symbol;",
//! )?;
//! let csv = "type,ts,symbol,price\nTrade,0,TCS,10\nTrade,1000,TCS,11\n";
//! let options = ReaderOptions { ts_format: TsFormat::EpochMs, ..ReaderOptions::default() };
//! let mut events = reader(Box::new(csv.as_bytes()), Format::Csv, &Schema::of(&program), &options)?;
//! let out = dalal_io::writer(
//!     dalal_io::OutputFormat::Jsonl, Box::new(std::io::sink()), &program, true)?;
//! let mut pipeline = Pipeline::new(&program, PipelineConfig::default(), out)?;
//! while let Some((_line, event)) = events.next_event()? {
//!     pipeline.push(event)?;
//! }
//! let stats = pipeline.finish()?;
//! assert_eq!(stats.matches, vec![1]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Input mapping
//!
//! - The event type comes from a column ([`TypeSource::Column`], default
//!   `type`) or is fixed ([`TypeSource::Fixed`]); the event time from a
//!   column (default `ts`) parsed by a [`TsFormat`].
//! - Columns map to the fields of the row's type by name. A file may hold
//!   the union of every type's columns: columns the row's type does not
//!   declare are ignored, a declared field without a column is NULL, an
//!   empty cell is NULL.
//! - Rows whose type the program does not declare are skipped and counted
//!   ([`EventReader::unknown_types`]): a stream may carry types no pattern uses.
//! - A bad row is a [`ReadError::Row`] naming file, line, column and reason;
//!   the reader can go on past it.
//!
//! Conversions: `INT` an i64; `FLOAT` any number; `STRING` the text;
//! `BOOL` `true`/`false`/`1`/`0` in any case; `TIMESTAMP` the `--ts-format`;
//! `DURATION` milliseconds, or a number with a unit (`5m`).
//!
//! # Performance
//!
//! The CSV reader splits records with `csv-core` (the csv crate's own
//! parser) from a 256 KiB buffer into one reused record, resolves the
//! column of every field of every type once, converts plain integers, decimals and timestamps straight from bytes (anything else
//! takes the general, error-reporting path), and interns repeated short
//! strings per field. The pipeline gives the engine only events some
//! pattern routes; the others just move the watermark at the batch end.
//!
//! # Untrusted input
//!
//! No input makes a reader panic: bad bytes, ragged rows, huge numbers and
//! out-of-range times are row errors.

mod convert;
mod error;
mod pipeline;
mod read;
mod shard;
mod time;
mod write;

pub use convert::Schema;
pub use error::{ReadError, RowError};
pub use pipeline::{
    Pipeline, PipelineConfig, PipelineError, PipelineStats, Progress, Pushed, cmp_match,
};
pub use read::{EventReader, Format, ReaderOptions, TypeSource, reader};
pub use time::{TsFormat, parse_duration, parse_duration_ns};
pub use write::{
    CsvWriter, EventWriter, JsonlWriter, Latched, MatchWriter, OutputFormat, TableWriter,
    write_value, writer,
};
