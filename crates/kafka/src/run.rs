//! The run loop: consume, match per input partition, produce, checkpoint, commit.

use crate::admin::{base_config, wait_for_topics};
use crate::config::KafkaConfig;
use crate::decode::{Decoder, Malformed};
use crate::error::Error;
use crate::state::{Checkpoint, PartState, horizon, key_json, match_id};
use dalal::{EngineError, Match, Program};
use dalal_io::{JsonlWriter, Schema};
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{Offset, TopicPartitionList};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Header carrying a match's deterministic id.
pub const MATCH_ID_HEADER: &str = "dalal-match-id";
/// Header carrying the reason a message was dead-lettered.
pub const REASON_HEADER: &str = "dalal-error";

/// How long a flush, commit or checkpoint read may take before the run fails.
const OP_TIMEOUT: Duration = Duration::from_secs(30);

/// Counters of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Messages read (events, malformed and unknown-type ones).
    pub messages: u64,
    /// Messages decoded into events.
    pub events: u64,
    /// Matches produced (a replay counts its duplicates again).
    pub matches: u64,
    /// Malformed messages (dead-lettered when a topic is set).
    pub malformed: u64,
    /// Messages of an event type the patterns do not declare.
    pub unknown_type: u64,
    /// Partitions restored from a checkpoint.
    pub restored: u64,
    /// Checkpoint records written.
    pub checkpoints: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Producer callbacks: counts acknowledgements and keeps the first failure.
#[derive(Default)]
struct DeliveryCtx {
    failed: AtomicU64,
    first_error: Mutex<Option<(String, String)>>,
}

impl ClientContext for DeliveryCtx {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        log_client(level, fac, message);
    }
    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(%error, "producer: {reason}");
    }
}

impl ProducerContext for DeliveryCtx {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, msg)) = result {
            self.failed.fetch_add(1, Ordering::Relaxed);
            let mut first = lock(&self.first_error);
            if first.is_none() {
                *first = Some((msg.topic().to_string(), e.to_string()));
            }
        }
    }
}

fn log_client(level: RDKafkaLogLevel, fac: &str, message: &str) {
    match level {
        RDKafkaLogLevel::Emerg
        | RDKafkaLogLevel::Alert
        | RDKafkaLogLevel::Critical
        | RDKafkaLogLevel::Error => tracing::error!(target: "librdkafka", "{fac}: {message}"),
        RDKafkaLogLevel::Warning => tracing::warn!(target: "librdkafka", "{fac}: {message}"),
        RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
            tracing::info!(target: "librdkafka", "{fac}: {message}")
        }
        RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", "{fac}: {message}"),
    }
}

type Producer_ = ThreadedProducer<DeliveryCtx>;

/// Everything mutable, shared by the run loop and the rebalance callback
/// (both run on the polling thread, never at once).
struct Core {
    program: Program,
    cfg: KafkaConfig,
    decoder: Decoder,
    renderer: JsonlWriter,
    producer: Producer_,
    /// Reads checkpoints back (no group, assigned by hand).
    restorer: Option<BaseConsumer>,
    checkpoint_partitions: i32,
    horizon: i64,
    /// topic -> partition -> state.
    parts: HashMap<String, BTreeMap<i32, PartState>>,
    summary: Summary,
    txn_open: bool,
    closing: bool,
    /// The run failed: nothing more may be committed (a restart replays).
    failed: bool,
    last_commit: Instant,
}

struct Ctx {
    core: Mutex<Option<Core>>,
    fatal: Mutex<Option<Error>>,
}

impl ClientContext for Ctx {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        log_client(level, fac, message);
    }
    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(%error, "consumer: {reason}");
    }
}

impl ConsumerContext for Ctx {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let mut guard = lock(&self.core);
        let result = match (err, guard.as_mut()) {
            (RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS, Some(core)) => {
                let r = core.on_assign(tpl);
                // Assign even after a failure so the group settles; the run
                // loop stops on the recorded error.
                r.and(
                    consumer
                        .assign(tpl)
                        .map_err(|e| Error::kafka("cannot take the assigned partitions", e)),
                )
            }
            (RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS, Some(core)) => {
                let r = core.on_revoke(consumer, tpl);
                r.and(
                    consumer
                        .unassign()
                        .map_err(|e| Error::kafka("cannot give up partitions", e)),
                )
            }
            (other, _) => {
                tracing::warn!(error = ?other, "rebalance failed; dropping the assignment");
                if let Some(core) = guard.as_mut() {
                    core.parts.clear();
                }
                consumer
                    .unassign()
                    .map_err(|e| Error::kafka("cannot give up partitions", e))
            }
        };
        if let Err(e) = result {
            tracing::error!("{e}");
            lock(&self.fatal).get_or_insert(e);
        }
    }
}

impl Core {
    fn part_count(&self) -> usize {
        self.parts.values().map(BTreeMap::len).sum()
    }

    fn on_assign(&mut self, tpl: &mut TopicPartitionList) -> Result<(), Error> {
        let assigned: Vec<(String, i32)> = tpl
            .elements()
            .iter()
            .map(|e| (e.topic().to_string(), e.partition()))
            .collect();
        for (topic, partition) in assigned {
            let state = match self.load_checkpoint(&topic, partition)? {
                Some(c) => {
                    let s = PartState::restore(&self.program, c).map_err(|reason| {
                        Error::Checkpoint {
                            topic: topic.clone(),
                            partition,
                            reason,
                        }
                    })?;
                    self.summary.restored += 1;
                    s
                }
                None => PartState::new(&self.program, &self.cfg.engine),
            };
            if let Some(next) = state.next_offset {
                tpl.set_partition_offset(&topic, partition, Offset::Offset(next))
                    .map_err(|e| Error::kafka("cannot set the start offset", e))?;
            }
            tracing::info!(
                topic,
                partition,
                from = ?state.next_offset,
                "partition assigned{}",
                if state.next_offset.is_some() { " (restored from checkpoint)" } else { "" }
            );
            self.parts
                .entry(topic)
                .or_default()
                .insert(partition, state);
        }
        Ok(())
    }

    fn on_revoke(
        &mut self,
        consumer: &BaseConsumer<Ctx>,
        tpl: &TopicPartitionList,
    ) -> Result<(), Error> {
        // Everything owned is committed (a transaction covers all
        // partitions anyway), then the revoked ones are dropped.
        let r = self.commit(consumer);
        for e in tpl.elements() {
            if let Some(m) = self.parts.get_mut(e.topic()) {
                m.remove(&e.partition());
            }
            tracing::info!(
                topic = e.topic(),
                partition = e.partition(),
                "partition revoked"
            );
        }
        r
    }

    /// The last checkpoint of an input partition from the changelog.
    fn load_checkpoint(&self, topic: &str, partition: i32) -> Result<Option<Checkpoint>, Error> {
        let (Some(rc), Some(cp_topic)) = (&self.restorer, &self.cfg.checkpoint_topic) else {
            return Ok(None);
        };
        let cp_part = partition % self.checkpoint_partitions.max(1);
        let (low, high) = rc
            .fetch_watermarks(cp_topic, cp_part, OP_TIMEOUT)
            .map_err(|e| Error::kafka(format!("cannot read checkpoint topic '{cp_topic}'"), e))?;
        if high <= low {
            return Ok(None);
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(cp_topic, cp_part, Offset::Offset(low))
            .map_err(|e| Error::kafka("checkpoint read", e))?;
        rc.assign(&tpl)
            .map_err(|e| Error::kafka("checkpoint read", e))?;
        let key = format!("{topic}/{partition}");
        let mut last: Option<Vec<u8>> = None;
        let deadline = Instant::now() + OP_TIMEOUT;
        loop {
            match rc.poll(Duration::from_millis(200)) {
                Some(Ok(m)) => {
                    if m.key() == Some(key.as_bytes()) {
                        last = m.payload().map(<[u8]>::to_vec);
                    }
                    if m.offset() + 1 >= high {
                        break;
                    }
                }
                Some(Err(KafkaError::PartitionEOF(_))) => break,
                Some(Err(e)) => tracing::warn!("reading checkpoints: {e}"),
                None => {}
            }
            if Instant::now() > deadline {
                let _ = rc.unassign();
                return Err(Error::Checkpoint {
                    topic: topic.to_string(),
                    partition,
                    reason: format!("timed out reading '{cp_topic}'"),
                });
            }
        }
        let _ = rc.unassign();
        let Some(bytes) = last else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::Checkpoint {
                topic: topic.to_string(),
                partition,
                reason: format!("cannot decode: {e}"),
            })
    }

    fn send(&self, record: BaseRecord<'_, [u8], [u8]>) -> Result<(), Error> {
        let mut record = record;
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    // The producer thread drains the queue; wait for room.
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((e, r)) => {
                    return Err(Error::Delivery {
                        topic: r.topic.to_string(),
                        reason: e.to_string(),
                    });
                }
            }
        }
    }

    fn check_delivery(&self) -> Result<(), Error> {
        let ctx = self.producer.context();
        if ctx.failed.load(Ordering::Relaxed) > 0 {
            let (topic, reason) = lock(&ctx.first_error)
                .clone()
                .unwrap_or_else(|| ("?".to_string(), "unknown".to_string()));
            return Err(Error::Delivery { topic, reason });
        }
        Ok(())
    }

    /// Waits until the broker acknowledged everything produced so far.
    fn flush(&self) -> Result<(), Error> {
        self.producer
            .flush(OP_TIMEOUT)
            .map_err(|e| Error::kafka("the brokers did not acknowledge produced records", e))?;
        self.check_delivery()
    }

    fn on_message(&mut self, msg: &BorrowedMessage<'_>) -> Result<(), Error> {
        let (topic, partition, offset) = (msg.topic(), msg.partition(), msg.offset());
        let Some(state) = self
            .parts
            .get_mut(topic)
            .and_then(|m| m.get_mut(&partition))
        else {
            // Fetched before a revocation: no longer ours.
            return Ok(());
        };
        if state.next_offset.is_some_and(|n| offset < n) {
            return Ok(());
        }
        state.next_offset = Some(offset + 1);
        state.dirty = true;
        self.summary.messages += 1;
        let event = match self.decoder.decode(msg.payload()) {
            Ok(Some(e)) => e,
            Ok(None) => {
                self.summary.unknown_type += 1;
                return Ok(());
            }
            Err(m) => return self.dead_letter(msg, &m),
        };
        let ts = event.ts;
        let seq = state.next_seq;
        match state.engine.push(event) {
            Ok(()) => {}
            Err(EngineError::Late { .. }) if self.cfg.engine.late != dalal::LatePolicy::Fail => {}
            Err(EngineError::InvalidEvent(e)) => {
                let m = Malformed {
                    column: None,
                    reason: e.to_string(),
                };
                return self.dead_letter(msg, &m);
            }
            Err(e) => {
                return Err(Error::Engine {
                    topic: topic.to_string(),
                    partition,
                    offset,
                    reason: e.to_string(),
                });
            }
        }
        state.next_seq += 1;
        state.seqs.record(seq, offset, ts);
        self.summary.events += 1;
        let matches: Vec<Match> = state.engine.drain_matches().collect();
        if state.next_seq % 4096 == 0 {
            let delay = i64::try_from(self.cfg.engine.max_delay.as_nanos()).unwrap_or(i64::MAX);
            let before = state
                .engine
                .watermark()
                .0
                .saturating_sub(self.horizon.saturating_mul(2))
                .saturating_sub(delay);
            state.seqs.prune(before);
        }
        if matches.is_empty() {
            return Ok(());
        }
        let seqs = state.seqs.clone();
        let topic = topic.to_string();
        let mut body = Vec::with_capacity(512);
        for m in &matches {
            let id = match_id(m, &topic, partition, &seqs);
            body.clear();
            self.renderer.render(m, &mut body);
            let key = key_json(&m.key);
            let source = format!("{topic}/{partition}");
            let headers = OwnedHeaders::new()
                .insert(Header {
                    key: MATCH_ID_HEADER,
                    value: Some(id.as_bytes()),
                })
                .insert(Header {
                    key: "dalal-source",
                    value: Some(source.as_bytes()),
                });
            self.send(
                BaseRecord::to(&self.cfg.output_topic)
                    .key(&key[..])
                    .payload(&body[..])
                    .headers(headers),
            )?;
            self.summary.matches += 1;
        }
        Ok(())
    }

    fn dead_letter(&mut self, msg: &BorrowedMessage<'_>, m: &Malformed) -> Result<(), Error> {
        self.summary.malformed += 1;
        let reason = m.describe();
        tracing::warn!(
            topic = msg.topic(),
            partition = msg.partition(),
            offset = msg.offset(),
            "malformed message: {reason}"
        );
        let Some(dlq) = &self.cfg.dead_letter_topic else {
            return Ok(());
        };
        let lossy = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
        let body = serde_json::json!({
            "topic": msg.topic(),
            "partition": msg.partition(),
            "offset": msg.offset(),
            "column": m.column,
            "reason": m.reason,
            "key": lossy(msg.key()),
            "raw": lossy(msg.payload()),
        })
        .to_string();
        let headers = OwnedHeaders::new().insert(Header {
            key: REASON_HEADER,
            value: Some(reason.as_bytes()),
        });
        let mut rec = BaseRecord::to(dlq)
            .payload(body.as_bytes())
            .headers(headers);
        if let Some(k) = msg.key() {
            rec = rec.key(k);
        }
        self.send(rec)
    }

    /// Confirms matches and dead letters, writes checkpoints, commits offsets.
    fn commit(&mut self, consumer: &BaseConsumer<Ctx>) -> Result<(), Error> {
        self.last_commit = Instant::now();
        if self.failed || (self.closing && !self.txn_open && self.cfg.exactly_once) {
            return Ok(());
        }
        if !self.cfg.exactly_once {
            // Matches before checkpoints: a checkpoint must never get ahead
            // of the matches it implies were sent.
            self.flush()?;
        }
        let mut offsets = TopicPartitionList::new();
        let mut written = 0;
        for (topic, parts) in &self.parts {
            for (partition, state) in parts {
                let Some(next) = state.next_offset else {
                    continue;
                };
                offsets
                    .add_partition_offset(topic, *partition, Offset::Offset(next))
                    .map_err(|e| Error::kafka("offsets", e))?;
                let Some(cp_topic) = &self.cfg.checkpoint_topic else {
                    continue;
                };
                if !state.dirty {
                    continue;
                }
                let cp = state.checkpoint().map_err(|reason| Error::Checkpoint {
                    topic: topic.clone(),
                    partition: *partition,
                    reason,
                })?;
                let Some(cp) = cp else { continue };
                let value = serde_json::to_vec(&cp).map_err(|e| Error::Checkpoint {
                    topic: topic.clone(),
                    partition: *partition,
                    reason: e.to_string(),
                })?;
                let key = format!("{topic}/{partition}");
                self.send(
                    BaseRecord::to(cp_topic)
                        .partition(*partition % self.checkpoint_partitions.max(1))
                        .key(key.as_bytes())
                        .payload(&value[..]),
                )?;
                written += 1;
            }
        }
        if self.cfg.exactly_once {
            let group = consumer
                .group_metadata()
                .ok_or_else(|| Error::Config("exactly-once needs a consumer group".into()))?;
            if offsets.count() > 0 {
                self.producer
                    .send_offsets_to_transaction(&offsets, &group, OP_TIMEOUT)
                    .map_err(|e| Error::kafka("cannot add offsets to the transaction", e))?;
            }
            self.producer
                .commit_transaction(OP_TIMEOUT)
                .map_err(|e| Error::kafka("cannot commit the transaction", e))?;
            self.txn_open = false;
            self.check_delivery()?;
            if !self.closing {
                self.producer
                    .begin_transaction()
                    .map_err(|e| Error::kafka("cannot begin a transaction", e))?;
                self.txn_open = true;
            }
        } else {
            if written > 0 {
                self.flush()?;
            }
            if offsets.count() > 0 {
                consumer
                    .commit(&offsets, CommitMode::Sync)
                    .map_err(|e| Error::kafka("cannot commit offsets", e))?;
            }
        }
        self.summary.checkpoints += written;
        for parts in self.parts.values_mut() {
            for state in parts.values_mut() {
                state.dirty = false;
            }
        }
        Ok(())
    }

    fn log_stats(&self, since: &Summary, elapsed: Duration) {
        let live_runs: u64 = self
            .parts
            .values()
            .flat_map(|m| m.values())
            .map(|s| s.engine.stats().live_runs)
            .sum();
        let secs = elapsed.as_secs_f64().max(1e-9);
        tracing::info!(
            partitions = self.part_count(),
            events = self.summary.events,
            events_per_s = ((self.summary.events - since.events) as f64 / secs).round(),
            matches = self.summary.matches,
            malformed = self.summary.malformed,
            unknown_type = self.summary.unknown_type,
            live_runs,
            "stats"
        );
    }
}

/// Runs until `shutdown` is set (then checkpoints, commits and returns the
/// counters) or a fatal error.
pub fn run(program: &Program, cfg: &KafkaConfig, shutdown: &AtomicBool) -> Result<Summary, Error> {
    cfg.validate()?;
    let decoder =
        Decoder::new(cfg.format, &Schema::of(program), &cfg.reader).map_err(Error::Config)?;
    let mut needed: Vec<&str> = cfg.input_topics.iter().map(String::as_str).collect();
    needed.push(&cfg.output_topic);
    if let Some(t) = &cfg.dead_letter_topic {
        needed.push(t);
    }
    let Some(mut topics) = wait_for_topics(cfg, &needed, shutdown)? else {
        return Ok(Summary::default());
    };
    let mut checkpoint_partitions = 1;
    if let Some(cp) = &cfg.checkpoint_topic {
        if !topics.contains_key(cp) {
            let n = cfg
                .input_topics
                .iter()
                .filter_map(|t| topics.get(t))
                .max()
                .copied()
                .unwrap_or(1);
            tracing::info!(
                topic = cp,
                partitions = n,
                "creating the compacted checkpoint topic"
            );
            crate::admin::create_topics(
                &cfg.brokers,
                &cfg.client_properties,
                &[(cp, i32::try_from(n).unwrap_or(1), true)],
            )?;
            needed.push(cp);
            topics = wait_for_topics(cfg, &needed, shutdown)?.unwrap_or_default();
        }
        checkpoint_partitions = topics.get(cp).copied().unwrap_or(1);
    }

    let mut pc = base_config(&cfg.brokers, &cfg.client_properties);
    pc.set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5");
    if cfg.exactly_once {
        // A stable id lets a restarted instance fence its predecessor and
        // abort the transaction it left open (else read_committed readers
        // stall until transaction.timeout.ms).
        let stable = cfg
            .instance_id
            .as_ref()
            .map(|i| format!("dalal-{}-{i}", cfg.group));
        let id = cfg.transactional_id.clone().or(stable).unwrap_or_else(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0);
            format!("dalal-{}-{}-{t}", cfg.group, std::process::id())
        });
        pc.set("transactional.id", &id);
    }
    let producer: Producer_ = pc
        .create_with_context(DeliveryCtx::default())
        .map_err(|e| Error::kafka("cannot create the producer", e))?;
    let mut txn_open = false;
    if cfg.exactly_once {
        producer
            .init_transactions(OP_TIMEOUT)
            .map_err(|e| Error::kafka("cannot initialise transactions", e))?;
        producer
            .begin_transaction()
            .map_err(|e| Error::kafka("cannot begin a transaction", e))?;
        txn_open = true;
    }
    let restorer = match &cfg.checkpoint_topic {
        Some(_) => {
            let mut rc = base_config(&cfg.brokers, &cfg.client_properties);
            rc.set("group.id", format!("{}-checkpoint-reader", cfg.group))
                .set("enable.auto.commit", "false")
                .set("enable.partition.eof", "true")
                .set("isolation.level", "read_committed");
            Some(
                rc.create::<BaseConsumer>()
                    .map_err(|e| Error::kafka("cannot create the checkpoint reader", e))?,
            )
        }
        None => None,
    };
    let core = Core {
        program: program.clone(),
        cfg: cfg.clone(),
        decoder,
        renderer: JsonlWriter::new(Box::new(std::io::sink()), program, cfg.with_events),
        producer,
        restorer,
        checkpoint_partitions: i32::try_from(checkpoint_partitions).unwrap_or(1),
        horizon: horizon(program),
        parts: HashMap::new(),
        summary: Summary::default(),
        txn_open,
        closing: false,
        failed: false,
        last_commit: Instant::now(),
    };
    let ctx = Ctx {
        core: Mutex::new(Some(core)),
        fatal: Mutex::new(None),
    };
    let mut cc = base_config(&cfg.brokers, &cfg.client_properties);
    cc.set("group.id", &cfg.group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", "read_committed");
    if let Some(id) = &cfg.instance_id {
        cc.set("group.instance.id", id);
    }
    // Properties given with -X win over the defaults above.
    for (k, v) in &cfg.client_properties {
        cc.set(k, v);
    }
    let consumer: BaseConsumer<Ctx> = cc
        .create_with_context(ctx)
        .map_err(|e| Error::kafka("cannot create the consumer", e))?;
    let topics: Vec<&str> = cfg.input_topics.iter().map(String::as_str).collect();
    consumer
        .subscribe(&topics)
        .map_err(|e| Error::kafka("cannot subscribe", e))?;
    tracing::info!(
        brokers = cfg.brokers,
        group = cfg.group,
        input = ?cfg.input_topics,
        output = cfg.output_topic,
        exactly_once = cfg.exactly_once,
        "consuming"
    );

    let result = run_loop(&consumer, cfg, shutdown);
    // Leave the group: the revocation callback commits once more (a no-op
    // after the final commit) and hands the partitions over at once.
    if let Some(core) = lock(&consumer.context().core).as_mut() {
        core.closing = true;
        core.failed = result.is_err();
    }
    consumer.unsubscribe();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && consumer.assignment().is_ok_and(|a| a.count() > 0) {
        let _ = consumer.poll(Duration::from_millis(100));
    }
    let summary = lock(&consumer.context().core)
        .as_ref()
        .map(|c| c.summary.clone())
        .unwrap_or_default();
    result.map(|()| summary)
}

fn run_loop(
    consumer: &BaseConsumer<Ctx>,
    cfg: &KafkaConfig,
    shutdown: &AtomicBool,
) -> Result<(), Error> {
    let ctx = consumer.context();
    let mut last_stats = Instant::now();
    let mut stats_base = Summary::default();
    loop {
        if shutdown.load(Ordering::Relaxed) {
            tracing::info!("shutting down: committing");
            let mut g = lock(&ctx.core);
            if let Some(core) = g.as_mut() {
                core.commit(consumer)?;
                core.closing = true;
                core.log_stats(&stats_base, last_stats.elapsed());
            }
            return Ok(());
        }
        let polled = consumer.poll(Duration::from_millis(100));
        if let Some(e) = lock(&ctx.fatal).take() {
            return Err(e);
        }
        let mut g = lock(&ctx.core);
        let Some(core) = g.as_mut() else {
            return Ok(());
        };
        match polled {
            Some(Ok(msg)) => core.on_message(&msg)?,
            Some(Err(KafkaError::PartitionEOF(_))) | None => {}
            Some(Err(e)) => tracing::warn!("consumer: {e}"),
        }
        core.check_delivery()?;
        if core.last_commit.elapsed() >= cfg.commit_interval {
            core.commit(consumer)?;
        }
        if last_stats.elapsed() >= cfg.stats_interval {
            core.log_stats(&stats_base, last_stats.elapsed());
            stats_base = core.summary.clone();
            last_stats = Instant::now();
        }
    }
}
