//! The state of one input partition: its engine, the next offset to read,
//! and where each event the engine numbered came from (for match ids).

use dalal::{Binding, Engine, EventTime, Match, Program, Value};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Consecutive events with consecutive offsets: `seq..seq+len` came from
/// `offset..offset+len`. Offsets skip (malformed messages, transaction
/// markers) only now and then, so a few ranges cover a long stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Range {
    seq: u64,
    offset: i64,
    len: u64,
    /// Largest event time in the range (to forget old ranges).
    max_ts: i64,
}

/// Engine arrival numbers to input offsets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SeqMap {
    ranges: Vec<Range>,
}

impl SeqMap {
    pub(crate) fn record(&mut self, seq: u64, offset: i64, ts: EventTime) {
        if let Some(r) = self.ranges.last_mut() {
            if r.seq + r.len == seq && r.offset + r.len as i64 == offset {
                r.len += 1;
                r.max_ts = r.max_ts.max(ts.0);
                return;
            }
        }
        self.ranges.push(Range {
            seq,
            offset,
            len: 1,
            max_ts: ts.0,
        });
    }

    pub(crate) fn offset(&self, seq: u64) -> Option<i64> {
        let i = self
            .ranges
            .partition_point(|r| r.seq <= seq)
            .checked_sub(1)?;
        let r = &self.ranges[i];
        (seq < r.seq + r.len).then(|| r.offset + (seq - r.seq) as i64)
    }

    /// Forgets ranges whose events are all older than `before` (no match
    /// can bind them any more); the last range is always kept.
    pub(crate) fn prune(&mut self, before: i64) {
        let keep_from = self
            .ranges
            .iter()
            .position(|r| r.max_ts >= before)
            .unwrap_or(self.ranges.len().saturating_sub(1));
        self.ranges.drain(..keep_from);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.ranges.len()
    }
}

/// One input partition.
pub(crate) struct PartState {
    pub engine: Engine,
    /// The next offset to read (everything before it is in the engine).
    pub next_offset: Option<i64>,
    /// The engine's next arrival number.
    pub next_seq: u64,
    pub seqs: SeqMap,
    /// Whether the state changed since the last checkpoint.
    pub dirty: bool,
}

/// What a checkpoint record holds.
#[derive(Serialize, Deserialize)]
pub(crate) struct Checkpoint {
    pub version: u32,
    pub next_offset: i64,
    pub next_seq: u64,
    pub seqs: SeqMap,
    pub engine: dalal::Snapshot,
}

pub(crate) const CHECKPOINT_VERSION: u32 = 1;

impl PartState {
    pub(crate) fn new(program: &Program, config: &dalal::Config) -> Self {
        PartState {
            engine: Engine::new(program.clone(), config.clone()),
            next_offset: None,
            next_seq: 0,
            seqs: SeqMap::default(),
            dirty: false,
        }
    }

    pub(crate) fn restore(program: &Program, c: Checkpoint) -> Result<Self, String> {
        if c.version != CHECKPOINT_VERSION {
            return Err(format!("unsupported checkpoint version {}", c.version));
        }
        let engine = Engine::restore(program.clone(), c.engine).map_err(|e| e.to_string())?;
        Ok(PartState {
            engine,
            next_offset: Some(c.next_offset),
            next_seq: c.next_seq,
            seqs: c.seqs,
            dirty: false,
        })
    }

    pub(crate) fn checkpoint(&self) -> Result<Option<Checkpoint>, String> {
        let Some(next_offset) = self.next_offset else {
            return Ok(None);
        };
        Ok(Some(Checkpoint {
            version: CHECKPOINT_VERSION,
            next_offset,
            next_seq: self.next_seq,
            seqs: self.seqs.clone(),
            engine: self.engine.snapshot().map_err(|e| e.to_string())?,
        }))
    }
}

/// The largest `WITHIN` of the program in nanoseconds (how far back a match
/// can reach from the watermark).
pub(crate) fn horizon(program: &Program) -> i64 {
    program
        .checked()
        .patterns
        .iter()
        .filter_map(|p| p.within)
        .max()
        .unwrap_or(0)
}

/// `{"symbol":"TCS"}`: the partition key as a JSON object (the record key).
pub(crate) fn key_json(key: &[(std::sync::Arc<str>, Value)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    out.push(b'{');
    for (i, (k, v)) in key.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Serializing a str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out, k);
        out.push(b':');
        dalal_io::write_value(&mut out, v);
    }
    out.push(b'}');
    out
}

/// The deterministic id of a match: SHA-256 over the pattern, the key and
/// the sorted `(topic, partition, offset)` of its bound events, as 32 hex
/// digits. A replay of the same offsets yields the same id.
pub(crate) fn match_id(m: &Match, topic: &str, partition: i32, seqs: &SeqMap) -> String {
    let mut offsets: Vec<String> = m
        .events
        .iter()
        .flat_map(|(_, b)| match b {
            Binding::One(e) => vec![e.seq],
            Binding::Many(l) => l.iter().map(|e| e.seq).collect(),
            Binding::None => Vec::new(),
        })
        .map(|seq| match seqs.offset(seq) {
            Some(o) => format!("{o:020}"),
            // Unreachable while ranges cover live runs; still deterministic
            // after a restore from the same checkpoint.
            None => format!("s{seq}"),
        })
        .collect();
    offsets.sort();
    let mut h = Sha256::new();
    h.update(m.pattern.as_bytes());
    h.update([0]);
    h.update(key_json(&m.key));
    h.update([0]);
    h.update(topic.as_bytes());
    h.update([0]);
    h.update(partition.to_be_bytes());
    for o in &offsets {
        h.update([0]);
        h.update(o.as_bytes());
    }
    let digest = h.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn seq_map_ranges() {
        let mut m = SeqMap::default();
        for (seq, off) in [(0, 10), (1, 11), (2, 12), (3, 15), (4, 16)] {
            m.record(seq, off, EventTime(seq as i64 * 1000));
        }
        assert_eq!(m.len(), 2);
        assert_eq!(m.offset(0), Some(10));
        assert_eq!(m.offset(2), Some(12));
        assert_eq!(m.offset(3), Some(15));
        assert_eq!(m.offset(4), Some(16));
        assert_eq!(m.offset(5), None);
        m.prune(2500);
        assert_eq!(m.len(), 1);
        assert_eq!(m.offset(0), None);
        assert_eq!(m.offset(4), Some(16));
        m.prune(i64::MAX);
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn ids_are_deterministic_and_distinct() {
        let program = Program::compile(
            "EVENT Trade (symbol STRING, price FLOAT);
             PATTERN up SEQ(Trade a, Trade b) WHERE b.price > a.price WITHIN 1m PARTITION BY symbol;",
        )
        .unwrap();
        let run = |base: i64| {
            let mut e = Engine::new(program.clone(), dalal::Config::default());
            let mut seqs = SeqMap::default();
            for (i, price) in [1.0, 2.0, 3.0, 4.0].into_iter().enumerate() {
                let ev = dalal::Event::new(
                    &program,
                    "Trade",
                    EventTime::from_millis(i as i64),
                    vec![Value::str("TCS"), Value::Float(price)],
                )
                .unwrap();
                seqs.record(i as u64, base + i as i64, ev.ts);
                e.push(ev).unwrap();
            }
            e.finish();
            let ms: Vec<Match> = e.drain_matches().collect();
            ms.iter()
                .map(|m| match_id(m, "in", 0, &seqs))
                .collect::<Vec<_>>()
        };
        let a = run(100);
        assert_eq!(a.len(), 2);
        assert_eq!(a, run(100));
        assert_ne!(a, run(200));
        assert_eq!(a[0].len(), 32);
        let mut d = a.clone();
        d.dedup();
        assert_eq!(d.len(), 2);
        assert_eq!(
            key_json(&[("symbol".into(), Value::str("TCS"))]),
            br#"{"symbol":"TCS"}"#
        );
    }
}
