//! What leaves the engine: matches, and the sink trait they leave through.

use crate::value::{Event, EventTime, Value};
use dalal_lang::typed::PatternId;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// An input event as bound in a match, with its arrival sequence number
/// (0 for the first event pushed into the engine, counting late ones too).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoundEvent {
    /// Arrival order: the n-th call to push (from 0).
    pub seq: u64,
    /// The event.
    pub event: Event,
}

/// What one variable of a match is bound to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Binding {
    /// A singleton variable.
    One(BoundEvent),
    /// A Kleene variable: its list, in stream order (possibly empty).
    Many(Vec<BoundEvent>),
    /// A variable of an `OR` branch that was not taken.
    None,
}

impl Binding {
    /// The sequence numbers of the bound events.
    pub fn seqs(&self) -> Vec<u64> {
        match self {
            Binding::One(e) => vec![e.seq],
            Binding::Many(list) => list.iter().map(|e| e.seq).collect(),
            Binding::None => Vec::new(),
        }
    }
}

/// One match of one pattern.
///
/// Names (pattern, key fields, `EMIT` fields, variables) are shared with the
/// program (`Arc<str>`), so building a match copies no string.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Match {
    /// The pattern's name.
    pub pattern: Arc<str>,
    /// The pattern's id in its program.
    pub pattern_id: PatternId,
    /// The `PARTITION BY` fields and their values (empty without partitioning).
    pub key: Vec<(Arc<str>, Value)>,
    /// Event time of the first bound event.
    pub start: EventTime,
    /// Event time of the last bound event (for a trailing `NOT`, still the
    /// last bound event, not the end of the window).
    pub end: EventTime,
    /// The `EMIT` values, in `EMIT` order.
    pub fields: Vec<(Arc<str>, Value)>,
    /// Every positive variable in structure order (negated ones are absent).
    pub events: Vec<(Arc<str>, Binding)>,
}

impl Match {
    /// The binding of a variable by name.
    pub fn binding(&self, var: &str) -> Option<&Binding> {
        self.events
            .iter()
            .find(|(n, _)| **n == *var)
            .map(|(_, b)| b)
    }

    /// An `EMIT` value by name.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(n, _)| **n == *name)
            .map(|(_, v)| v)
    }
}

/// The names every match of one pattern carries, made once per program.
#[derive(Clone, Debug, Default)]
pub(crate) struct MatchNames {
    pub pattern: Arc<str>,
    /// `PARTITION BY` field names, in order.
    pub keys: Vec<Arc<str>>,
    /// Variable names, indexed by variable id.
    pub vars: Vec<Arc<str>>,
    /// `EMIT` names, in order.
    pub emit: Vec<Arc<str>>,
}

/// Where matches go: the CLI, tests and the Kafka producer all consume
/// matches through this trait (see [`crate::Engine::drain_into`]).
pub trait Sink {
    /// Receives one match.
    fn matched(&mut self, m: Match);
}

impl Sink for Vec<Match> {
    fn matched(&mut self, m: Match) {
        self.push(m);
    }
}

impl<F: FnMut(Match)> Sink for F {
    fn matched(&mut self, m: Match) {
        self(m)
    }
}
