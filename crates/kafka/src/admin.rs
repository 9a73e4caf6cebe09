//! Reaching the brokers, checking and creating topics.

use crate::config::KafkaConfig;
use crate::error::Error;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::metadata::Metadata;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The client settings every client of a run shares.
pub(crate) fn base_config(brokers: &str, extra: &[(String, String)]) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", brokers);
    for (k, v) in extra {
        c.set(k, v);
    }
    c
}

/// Topic names to partition counts, as the brokers see them now.
pub(crate) fn topic_partitions(md: &Metadata) -> HashMap<String, usize> {
    md.topics()
        .iter()
        .filter(|t| t.error().is_none() && !t.partitions().is_empty())
        .map(|t| (t.name().to_string(), t.partitions().len()))
        .collect()
}

/// Sleeps up to `d`, waking early on shutdown; false when shut down.
pub(crate) fn sleep_unless(shutdown: &AtomicBool, d: Duration) -> bool {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if shutdown.load(Ordering::Relaxed) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50).min(end - Instant::now()));
    }
    !shutdown.load(Ordering::Relaxed)
}

/// Waits, with exponential back-off, until the brokers answer and every
/// topic in `needed` exists. Returns the partition counts of all topics,
/// or `None` when shut down while waiting.
pub(crate) fn wait_for_topics(
    cfg: &KafkaConfig,
    needed: &[&str],
    shutdown: &AtomicBool,
) -> Result<Option<HashMap<String, usize>>, Error> {
    let probe: BaseConsumer = base_config(&cfg.brokers, &cfg.client_properties)
        .create()
        .map_err(|e| Error::Config(format!("cannot create a Kafka client: {e}")))?;
    let mut delay = cfg.initial_backoff;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let failure = match probe.fetch_metadata(None, Duration::from_secs(3)) {
            Ok(md) => {
                let topics = topic_partitions(&md);
                match needed.iter().find(|t| !topics.contains_key(**t)) {
                    None => return Ok(Some(topics)),
                    Some(t) => Error::MissingTopic {
                        topic: t.to_string(),
                        brokers: cfg.brokers.clone(),
                    },
                }
            }
            Err(e) => Error::Unreachable {
                brokers: cfg.brokers.clone(),
                attempts: attempt,
                reason: e.to_string(),
            },
        };
        if cfg.connect_attempts != 0 && attempt >= cfg.connect_attempts {
            return Err(failure);
        }
        tracing::warn!(
            attempt,
            retry_in = ?delay,
            "{failure}; retrying"
        );
        if !sleep_unless(shutdown, delay) {
            return Ok(None);
        }
        delay = (delay * 2).min(cfg.max_backoff);
    }
}

/// Creates topics that do not exist yet: `(name, partitions, compacted)`.
/// A topic that already exists is not an error.
pub fn create_topics(
    brokers: &str,
    extra: &[(String, String)],
    topics: &[(&str, i32, bool)],
) -> Result<(), Error> {
    let admin: AdminClient<DefaultClientContext> = base_config(brokers, extra)
        .create()
        .map_err(|e| Error::kafka("cannot create an admin client", e))?;
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|(name, parts, compacted)| {
            let t = NewTopic::new(name, *parts, TopicReplication::Fixed(1));
            if *compacted {
                t.set("cleanup.policy", "compact")
            } else {
                t
            }
        })
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = futures_executor::block_on(admin.create_topics(&new, &opts))
        .map_err(|e| Error::kafka("cannot create topics", e))?;
    for r in results {
        if let Err((name, code)) = r {
            if code != rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists {
                return Err(Error::Kafka {
                    context: format!("cannot create topic '{name}'"),
                    source: rdkafka::error::KafkaError::AdminOp(code),
                });
            }
        }
    }
    Ok(())
}
