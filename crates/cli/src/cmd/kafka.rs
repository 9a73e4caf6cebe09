//! `dalal kafka`: run the patterns over Kafka topics in a consumer group.

use super::pattern_paths;
use super::run::{Late, load_program};
use crate::exit;
use anyhow::Result;
use dalal_io::ReaderOptions;
use dalal_kafka::{Fault, KafkaConfig, ValueFormat};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Message value formats.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum MsgFormat {
    /// One JSON object per message.
    Json,
    /// One CSV record per message (name the columns with --columns).
    Csv,
}

/// Arguments of `dalal kafka`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Pattern files or directories (every `*.pattern` below them, loaded as one program).
    #[arg(value_name = "PATTERNS")]
    pub patterns: Vec<PathBuf>,
    /// Bootstrap brokers, host:port[,host:port...].
    #[arg(long, value_name = "HOSTS")]
    pub brokers: String,
    /// Consumer group; instances in one group share the input partitions.
    #[arg(long, value_name = "NAME")]
    pub group: String,
    /// Topic of events (repeatable). Produce it keyed by the PARTITION BY field.
    #[arg(long = "input-topic", value_name = "TOPIC", required = true)]
    pub input_topics: Vec<String>,
    /// Topic the matches are written to (JSON, keyed by partition key).
    #[arg(long, value_name = "TOPIC")]
    pub output_topic: String,
    /// Topic malformed messages are written to, with their reason.
    #[arg(long, value_name = "TOPIC")]
    pub dead_letter_topic: Option<String>,
    /// Compacted topic of per-partition engine checkpoints (created when missing).
    #[arg(long, value_name = "TOPIC")]
    pub checkpoint_topic: Option<String>,
    /// Static group membership id (group.instance.id), unique per instance: a restart
    /// with the same id gets its partitions back without a rebalance.
    #[arg(long, value_name = "ID")]
    pub instance_id: Option<String>,
    /// Write matches, checkpoints and offsets in Kafka transactions.
    #[arg(long)]
    pub exactly_once: bool,
    /// The producer's transactional.id with --exactly-once (stable per instance is best).
    #[arg(long, value_name = "ID", requires = "exactly_once")]
    pub transactional_id: Option<String>,
    /// How often matches are confirmed, checkpoints written and offsets committed.
    #[arg(long, value_name = "DUR", value_parser = dalal_io::parse_duration, default_value = "5s")]
    pub commit_interval: Duration,
    /// How often a stats line is logged.
    #[arg(long, value_name = "DUR", value_parser = dalal_io::parse_duration, default_value = "30s")]
    pub stats_interval: Duration,
    /// Connection attempts at start (exponential back-off); 0: until interrupted.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub connect_retries: u32,
    /// Message value format.
    #[arg(long, value_enum, default_value = "json")]
    pub format: MsgFormat,
    /// Column names of CSV message values, comma-separated.
    #[arg(long, value_name = "A,B,C", value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// How each record names its event type and time.
    #[command(flatten)]
    pub event: super::EventArgs,
    /// How far out of order events of one partition may arrive.
    #[arg(long, value_name = "DUR", value_parser = dalal_io::parse_duration, default_value = "0")]
    pub max_delay: Duration,
    /// What to do with an event older than the watermark.
    #[arg(long, value_enum, default_value = "drop")]
    pub late: Late,
    /// Leave the bound events out of match records.
    #[arg(long)]
    pub no_events: bool,
    /// Extra librdkafka property for every client, KEY=VALUE (repeatable).
    #[arg(short = 'X', value_name = "KEY=VALUE")]
    pub properties: Vec<String>,
}

/// Runs `dalal kafka`.
pub fn run(args: &Args) -> Result<ExitCode> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let (program, _sources) = match load_program(&pattern_paths(&args.patterns), false) {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let mut properties = Vec::new();
    for p in &args.properties {
        match p.split_once('=') {
            Some((k, v)) if !k.is_empty() => properties.push((k.to_string(), v.to_string())),
            _ => {
                eprintln!("error: -X {p}: expected KEY=VALUE");
                return Ok(ExitCode::from(exit::USAGE));
            }
        }
    }
    let mut cfg = KafkaConfig::new(
        &args.brokers,
        &args.group,
        args.input_topics[0].clone(),
        &args.output_topic,
    );
    cfg.input_topics = args.input_topics.clone();
    cfg.dead_letter_topic = args.dead_letter_topic.clone();
    cfg.checkpoint_topic = args.checkpoint_topic.clone();
    cfg.instance_id = args.instance_id.clone();
    cfg.exactly_once = args.exactly_once;
    cfg.transactional_id = args.transactional_id.clone();
    cfg.commit_interval = args.commit_interval;
    cfg.stats_interval = args.stats_interval;
    cfg.connect_attempts = args.connect_retries;
    cfg.format = match args.format {
        MsgFormat::Json => ValueFormat::Json,
        MsgFormat::Csv => ValueFormat::Csv,
    };
    cfg.reader = ReaderOptions {
        name: "kafka".to_string(),
        type_source: args.event.type_source(),
        ts_column: args.event.ts_column.clone(),
        ts_format: args.event.ts_format.clone(),
        columns: args.columns.clone(),
    };
    cfg.engine = dalal::Config {
        max_delay: args.max_delay,
        late: match args.late {
            Late::Drop => dalal::LatePolicy::Drop,
            Late::Fail => dalal::LatePolicy::Fail,
        },
        ..dalal::Config::default()
    };
    cfg.with_events = !args.no_events;
    cfg.client_properties = properties;

    let shutdown = Arc::new(AtomicBool::new(false));
    let flag = shutdown.clone();
    if let Err(e) = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::Relaxed) {
            // A second signal: the user does not want to wait for the commit.
            std::process::exit(130);
        }
    }) {
        tracing::warn!("cannot install the signal handler: {e}");
    }
    match dalal_kafka::run(&program, &cfg, &shutdown) {
        Ok(s) => {
            eprintln!(
                "dalal kafka: {} message(s), {} event(s), {} match(es), {} malformed, \
                 {} of unknown type, {} partition(s) restored, {} checkpoint(s)",
                s.messages,
                s.events,
                s.matches,
                s.malformed,
                s.unknown_type,
                s.restored,
                s.checkpoints
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!(
                "error: {e} [{} fault; {}]",
                e.fault(),
                if e.retryable() {
                    "retrying may help"
                } else {
                    "fix it before restarting"
                }
            );
            Ok(ExitCode::from(
                if e.fault() == Fault::User && !e.retryable() {
                    exit::USAGE
                } else {
                    exit::RUNTIME
                },
            ))
        }
    }
}
