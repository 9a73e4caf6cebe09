//! dalal: a complex event processing engine.
//!
//! ```text
//! &str --dalal_lang::compile--> typed::Program --nfa::compile--> Program (NFAs, Arc-shared)
//! Event --Engine::push--> reorder buffer --watermark--> route by type --> partition by key
//!       --> runs step (begin / take / proceed / ignore) --> complete --> AFTER MATCH --> Match
//! ```
//!
//! # API in one screen
//!
//! - [`Program::compile`] (one text), [`Program::from_sources`] (files),
//!   [`Program::from_checked`] (a [`dalal_lang::Program`]); `*_with` variants
//!   take [`Natives`]. A `Program` is immutable and cheap to clone; it exposes
//!   the schema ([`Program::checked`], [`Program::type_id`]) and
//!   [`Program::explain`] (the automaton as text).
//! - [`Event`] `{ ty, ts, fields }` in declared slot order; [`Event::new`]
//!   validates against the schema. [`Value`], [`EventTime`] (i64 ns since the
//!   epoch).
//! - [`Engine::new`]`(program, Config)`; [`Engine::push`] /
//!   [`Engine::push_batch`]; [`Engine::advance_watermark`]; [`Engine::finish`]
//!   at end of input; [`Engine::drain_matches`] or [`Engine::drain_into`] a
//!   [`Sink`]; [`Engine::drain_late`]; [`Engine::stats`];
//!   [`Engine::snapshot`] / [`Engine::restore`] (serde).
//! - [`Config`] `{ max_delay, late: LatePolicy, max_runs_per_partition }`.
//!   [`Program::partition_key`] gives an event's partition key for a pattern
//!   (to shard partitions over threads, one engine each) and [`key_hash`]
//!   the hash the engine indexes it by ([`short_key`], the two-word packing
//!   of a short string, for a key of one; readers intern strings by it too).
//! - [`Match`] `{ pattern, pattern_id, key, start, end, fields, events }`,
//!   each event a [`BoundEvent`] `{ seq, event }` where `seq` is the arrival
//!   number: 0 for the first event [`Engine::push`] accepted, late events
//!   included, refused (invalid) events not.
//!
//! ```
//! use dalal::{Binding, Config, Engine, Event, EventTime, Program, Value};
//! let program = Program::compile(
//!     "EVENT Order (symbol STRING, side STRING, size INT);
//!      PATTERN sell_no_buy SEQ(Order s, NOT Order b) WHERE s.side = 'sell' AND b.side = 'buy'
//!        WITHIN 1m PARTITION BY symbol;",
//! ).unwrap();
//! let mut engine = Engine::new(program.clone(), Config::default());
//! let order = |ms, side: &str| Event::new(&program, "Order", EventTime::from_millis(ms),
//!     vec![Value::str("TCS"), Value::str(side), Value::Int(100)]).unwrap();
//! engine.push(order(0, "sell")).unwrap();
//! engine.push(order(90_000, "buy")).unwrap(); // after the minute: too late to cancel
//! engine.finish();
//! let m: Vec<_> = engine.drain_matches().collect();
//! assert_eq!(m.len(), 1);
//! assert!(matches!(m[0].binding("s"), Some(Binding::One(e)) if e.seq == 0));
//! ```
//!
//! # Semantics
//!
//! Exactly sections 5-7 of the language contract (LANGUAGE.md); the choices
//! where it is silent are listed in `docs/ENGINE.md`.
//!
//! # Performance
//!
//! Expressions are compiled once (slots resolved, constants folded);
//! conjuncts that read only the incoming event are evaluated once per event
//! for all runs; runs hold buffer positions, not events; aggregates over
//! Kleene lists are kept incrementally; memory is bounded by `WITHIN` (runs
//! expire, buffers are pruned, idle partitions removed). Details and the
//! measuring test are in `docs/ENGINE.md`.
//!
//! # Untrusted input
//!
//! No input makes the engine panic: arithmetic overflow and division by zero
//! are NULL, events that do not fit the schema are refused with an error, and
//! run counts are capped per partition ([`Config::max_runs_per_partition`]).

mod buckets;
mod engine;
mod eval;
mod matches;
mod nfa;
mod partition;
mod program;
mod value;

pub use engine::{Config, Engine, EngineError, LatePolicy, Snapshot, SnapshotError, Stats};
pub use eval::NativeFn;
pub use matches::{Binding, BoundEvent, Match, Sink};
pub use program::{CompileError, Natives, Program};
pub use value::{Event, EventError, EventTime, SHORT_KEY_LEN, Value, key_hash, short_key};

/// Re-export of the language crate (typed ids, value types).
pub use dalal_lang;
