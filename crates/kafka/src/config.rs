//! Settings of a `dalal kafka` run.

use crate::decode::ValueFormat;
use crate::error::Error;
use dalal_io::ReaderOptions;
use std::time::Duration;

/// Everything a run needs besides the program.
#[derive(Clone, Debug)]
pub struct KafkaConfig {
    /// Bootstrap brokers, `host:port,host:port`.
    pub brokers: String,
    /// Consumer group: instances with the same group share the input partitions.
    pub group: String,
    /// Input topics (events keyed by partition key, e.g. the symbol).
    pub input_topics: Vec<String>,
    /// Where matches go.
    pub output_topic: String,
    /// Where malformed messages go, with their reason; `None`: logged only.
    pub dead_letter_topic: Option<String>,
    /// Compacted topic of per-partition engine checkpoints; `None`: no
    /// state is kept across restarts and rebalances (matches spanning one
    /// are lost).
    pub checkpoint_topic: Option<String>,
    /// How message values are encoded.
    pub format: ValueFormat,
    /// Type and time columns, time format, CSV columns (as for files).
    pub reader: ReaderOptions,
    /// Engine settings (max delay, late policy, run cap).
    pub engine: dalal::Config,
    /// Static group membership (`group.instance.id`): a restarted instance
    /// with the same id takes its partitions back without a rebalance.
    /// Unique per instance of the group.
    pub instance_id: Option<String>,
    /// How often matches are confirmed, checkpoints written and offsets committed.
    pub commit_interval: Duration,
    /// Use Kafka transactions: matches, dead letters, checkpoints and
    /// offsets commit atomically.
    pub exactly_once: bool,
    /// The producer's `transactional.id` with [`KafkaConfig::exactly_once`];
    /// `None`: `dalal-<group>-<instance id>` with [`KafkaConfig::instance_id`],
    /// else `dalal-<group>-<pid>-<start time>` (not stable: a restart then
    /// cannot abort the transaction a crashed run left open).
    pub transactional_id: Option<String>,
    /// How often a stats line is logged.
    pub stats_interval: Duration,
    /// Connection attempts at start before giving up; 0: until shut down.
    pub connect_attempts: u32,
    /// First wait between attempts; doubles up to [`KafkaConfig::max_backoff`].
    pub initial_backoff: Duration,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
    /// Include the bound events in match records (the file writer's `events`).
    pub with_events: bool,
    /// Extra librdkafka properties for every client (`-X key=value`).
    pub client_properties: Vec<(String, String)>,
}

impl KafkaConfig {
    /// A configuration with defaults for everything but the names.
    pub fn new(
        brokers: impl Into<String>,
        group: impl Into<String>,
        input_topic: impl Into<String>,
        output_topic: impl Into<String>,
    ) -> Self {
        KafkaConfig {
            brokers: brokers.into(),
            group: group.into(),
            input_topics: vec![input_topic.into()],
            output_topic: output_topic.into(),
            dead_letter_topic: None,
            checkpoint_topic: None,
            format: ValueFormat::Json,
            reader: ReaderOptions {
                name: "kafka".to_string(),
                ..ReaderOptions::default()
            },
            engine: dalal::Config::default(),
            instance_id: None,
            commit_interval: Duration::from_secs(5),
            exactly_once: false,
            transactional_id: None,
            stats_interval: Duration::from_secs(30),
            connect_attempts: 10,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            with_events: true,
            client_properties: Vec::new(),
        }
    }

    /// Checks what can be checked without a broker.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |m: &str| Err(Error::Config(m.to_string()));
        if self.brokers.trim().is_empty() {
            return bad("--brokers is empty");
        }
        if self.group.trim().is_empty() {
            return bad("--group is empty");
        }
        if self.input_topics.is_empty() || self.input_topics.iter().any(|t| t.is_empty()) {
            return bad("--input-topic is missing or empty");
        }
        if self.output_topic.is_empty() {
            return bad("--output-topic is empty");
        }
        let mut others = vec![Some(&self.output_topic)];
        others.push(self.dead_letter_topic.as_ref());
        others.push(self.checkpoint_topic.as_ref());
        for t in others.into_iter().flatten() {
            if self.input_topics.contains(t) {
                return Err(Error::Config(format!(
                    "topic '{t}' is both an input and an output"
                )));
            }
        }
        if self.checkpoint_topic.is_some()
            && (self.checkpoint_topic == self.dead_letter_topic
                || self.checkpoint_topic.as_ref() == Some(&self.output_topic))
        {
            return bad("--checkpoint-topic must be a topic of its own");
        }
        if self.commit_interval.is_zero() {
            return bad("--commit-interval must be positive");
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        let c = KafkaConfig::new("b:9092", "g", "in", "out");
        assert!(c.validate().is_ok());
        let mut d = c.clone();
        d.output_topic = "in".into();
        assert!(d.validate().unwrap_err().to_string().contains("both"));
        let mut d = c.clone();
        d.checkpoint_topic = Some("out".into());
        assert!(d.validate().is_err());
        let mut d = c;
        d.brokers = " ".into();
        assert!(d.validate().is_err());
    }
}
