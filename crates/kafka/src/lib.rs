//! dalal-kafka: run dalal patterns over Kafka topics, the way Kafka
//! Streams applications run.
//!
//! ```text
//! input topic(s) --consumer group--> per input partition: decode (dalal-io) --> Engine
//!     --> matches (JSON, keyed by partition key, deterministic id header) --> output topic
//!     malformed messages (with reason) --> dead-letter topic
//!     engine snapshot + next offset --> compacted checkpoint topic (per interval, on revoke, at exit)
//! ```
//!
//! Many instances in one consumer group share the partitions of the input
//! topics. Each input partition has its own [`dalal::Engine`]; all events of
//! one key must be in one partition (produce keyed by the `PARTITION BY`
//! field). On assignment a partition's engine is restored from its last
//! checkpoint and consumption resumes at the checkpoint's offset; on
//! revocation everything owned is committed first.
//!
//! # Delivery
//!
//! At least once (default): matches and dead letters are flushed and
//! acknowledged before checkpoints are written, and checkpoints are
//! acknowledged before offsets are committed. After a crash the run resumes
//! from the last checkpoint and may send matches again, with the same
//! [`MATCH_ID_HEADER`] (SHA-256 of pattern, key and the input offsets of the
//! bound events). With [`KafkaConfig::exactly_once`] matches, dead letters,
//! checkpoints and offsets are written in one Kafka transaction per commit
//! interval; `read_committed` readers see each match once.
//!
//! # Errors
//!
//! [`Error`] says whose fault a failure is ([`Error::fault`]) and whether a
//! restart may help ([`Error::retryable`]). Unreachable brokers and missing
//! topics at start are retried with exponential back-off.

mod admin;
mod config;
mod decode;
mod error;
mod run;
mod state;

pub use admin::create_topics;
pub use config::KafkaConfig;
pub use decode::{Decoder, Malformed, ValueFormat};
pub use error::{Error, Fault};
pub use run::{MATCH_ID_HEADER, REASON_HEADER, Summary, run};
