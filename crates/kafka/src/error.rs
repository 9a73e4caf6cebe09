//! What can go wrong, whose fault it is, and whether trying again helps.

use std::fmt;

/// Who has to act for an error to go away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The command line or configuration is wrong: fix it and restart.
    User,
    /// The brokers are unreachable or refused a request: usually transient.
    Broker,
    /// Stored data (a checkpoint) cannot be used: an operator must decide.
    Data,
    /// A bug in dalal.
    Internal,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fault::User => "configuration",
            Fault::Broker => "broker",
            Fault::Data => "stored data",
            Fault::Internal => "internal",
        })
    }
}

/// Why `dalal kafka` stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting is invalid (found before connecting).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// No broker answered within the retry budget.
    #[error(
        "cannot reach the Kafka brokers at {brokers} after {attempts} attempt(s): {reason} \
         (check --brokers and that the brokers are up)"
    )]
    Unreachable {
        /// The bootstrap list.
        brokers: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        reason: String,
    },
    /// A topic the run needs does not exist (and is not created automatically).
    #[error("topic '{topic}' does not exist on {brokers} (create it, or check the name)")]
    MissingTopic {
        /// The topic.
        topic: String,
        /// The bootstrap list.
        brokers: String,
    },
    /// A client call failed.
    #[error("{context}: {source}")]
    Kafka {
        /// What was being done.
        context: String,
        /// The client's error.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The broker did not acknowledge produced records (matches, dead
    /// letters or checkpoints); offsets were not committed past them.
    #[error("delivery to '{topic}' failed: {reason}")]
    Delivery {
        /// The topic of the first failed record.
        topic: String,
        /// The broker's or client's reason.
        reason: String,
    },
    /// A checkpoint could not be read back or does not fit the patterns.
    #[error("checkpoint of {topic}/{partition} unusable: {reason}")]
    Checkpoint {
        /// Input topic.
        topic: String,
        /// Input partition.
        partition: i32,
        /// Why.
        reason: String,
    },
    /// The engine refused an event (a late event with `--late fail`).
    #[error("{topic}/{partition}@{offset}: {reason}")]
    Engine {
        /// Input topic.
        topic: String,
        /// Input partition.
        partition: i32,
        /// Offset of the event.
        offset: i64,
        /// The engine's reason.
        reason: String,
    },
}

impl Error {
    /// Whose fault the error is.
    pub fn fault(&self) -> Fault {
        match self {
            Error::Config(_) | Error::MissingTopic { .. } | Error::Engine { .. } => Fault::User,
            Error::Unreachable { .. } | Error::Kafka { .. } | Error::Delivery { .. } => {
                Fault::Broker
            }
            Error::Checkpoint { .. } => Fault::Data,
        }
    }

    /// Whether restarting (with the same settings) may succeed: true for
    /// broker trouble and for topics that may yet be created.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            Error::Unreachable { .. }
                | Error::Kafka { .. }
                | Error::Delivery { .. }
                | Error::MissingTopic { .. }
        )
    }

    pub(crate) fn kafka(context: impl Into<String>, source: rdkafka::error::KafkaError) -> Self {
        Error::Kafka {
            context: context.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_and_retry() {
        let e = Error::Config("x".into());
        assert_eq!(e.fault(), Fault::User);
        assert!(!e.retryable());
        let e = Error::Unreachable {
            brokers: "127.0.0.1:1".into(),
            attempts: 3,
            reason: "connection refused".into(),
        };
        assert_eq!(e.fault(), Fault::Broker);
        assert!(e.retryable());
        assert!(e.to_string().contains("after 3 attempt(s)"));
        let e = Error::Checkpoint {
            topic: "t".into(),
            partition: 0,
            reason: "bad".into(),
        };
        assert_eq!(e.fault(), Fault::Data);
        assert!(!e.retryable());
    }
}
