//! Brokers, data and helpers shared by the integration tests.
//!
//! A test gets a broker from `DALAL_KAFKA_BROKERS` (an address, shared:
//! topics get unique names) or starts its own tansu from `DALAL_TANSU` (the
//! binary). With neither, it is skipped with a printed reason, unless `CI`
//! is set: then it fails.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use dalal::Program;
use dalal_io::{Format, JsonlWriter, MatchWriter, Pipeline, PipelineConfig, ReaderOptions, Schema};
use dalal_kafka::KafkaConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::DefaultProducerContext;
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct Broker {
    pub addr: String,
    child: Option<Child>,
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_listening(addr: &str, within: Duration) -> bool {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if std::net::TcpStream::connect(addr).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A broker for one test, or `None` (skipped).
pub fn broker(test: &str) -> Option<Broker> {
    if let Ok(addr) = std::env::var("DALAL_KAFKA_BROKERS") {
        return Some(Broker { addr, child: None });
    }
    if let Ok(bin) = std::env::var("DALAL_TANSU") {
        let port = free_port();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(&bin)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start tansu ({bin}): {e}"));
        let addr = format!("127.0.0.1:{port}");
        let b = Broker {
            addr: addr.clone(),
            child: Some(child),
        };
        assert!(
            wait_listening(&addr, Duration::from_secs(20)),
            "tansu did not listen on {addr}"
        );
        return Some(b);
    }
    let why = "neither DALAL_TANSU (a tansu binary) nor DALAL_KAFKA_BROKERS is set \
               (.ci/brokers.sh start sets them)";
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: CI is set but {why}"
    );
    eprintln!("skipping {test}: {why}");
    None
}

/// A name no other test run uses.
pub fn unique(name: &str) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{}-{t}", std::process::id())
}

/// Client settings tests use (tansu joins a group in about session.timeout/2).
pub fn test_properties() -> Vec<(String, String)> {
    vec![
        ("session.timeout.ms".into(), "6000".into()),
        ("heartbeat.interval.ms".into(), "500".into()),
        // A rebalance waits this long for members that were killed.
        ("max.poll.interval.ms".into(), "10000".into()),
    ]
}

pub const PROGRAM: &str = "
EVENT Trade (symbol STRING, price FLOAT, volume INT);
PATTERN up SEQ(Trade a, Trade b) WHERE b.price > a.price * 1.004 AND b.volume > a.volume
  WITHIN 30s PARTITION BY symbol EMIT a.price AS p0, b.price AS p1;
PATTERN rising SEQ(Trade t{3,}) WHERE t[i].price > t[i-1].price
  WITHIN 20s PARTITION BY symbol EMIT count(t) AS n;
";

pub fn program() -> Program {
    Program::compile(PROGRAM).unwrap()
}

pub const SYMBOLS: [&str; 6] = ["TCS", "INFY", "HDFC", "LT", "ITC", "SBIN"];

/// `(symbol, JSON value)` of a deterministic random walk, in time order.
pub fn events(n: usize) -> Vec<(String, String)> {
    let mut x: u64 = 42;
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x >> 33
    };
    let mut prices = [100.0f64; 6];
    (0..n)
        .map(|i| {
            let s = next() as usize % SYMBOLS.len();
            let step = (next() % 2001) as f64 / 1000.0 - 1.0;
            prices[s] = ((prices[s] * (1.0 + step / 100.0)) * 100.0).round() / 100.0;
            let volume = 100 + next() % 900;
            let ms = 1_704_186_000_000i64 + i as i64 * 250;
            let ts = chrono_free_rfc3339(ms);
            let v = format!(
                r#"{{"type":"Trade","ts":"{ts}","symbol":"{}","price":{},"volume":{volume}}}"#,
                SYMBOLS[s], prices[s]
            );
            (SYMBOLS[s].to_string(), v)
        })
        .collect()
}

fn chrono_free_rfc3339(ms: i64) -> String {
    dalal::EventTime::from_millis(ms).to_string()
}

/// What `dalal run` writes for these events (JSON Lines bodies).
pub fn file_matches(program: &Program, events: &[(String, String)]) -> Vec<String> {
    let text: String = events.iter().map(|(_, v)| format!("{v}\n")).collect();
    let mut reader = dalal_io::reader(
        Box::new(std::io::Cursor::new(text.into_bytes())),
        Format::Jsonl,
        &Schema::of(program),
        &ReaderOptions::default(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    let out: Box<dyn MatchWriter> = Box::new(JsonlWriter::new(
        Box::new(std::fs::File::create(&path).unwrap()),
        program,
        true,
    ));
    let mut p = Pipeline::new(program, PipelineConfig::default(), out).unwrap();
    while let Some((_, e)) = reader.next_event().unwrap() {
        p.push(e).unwrap();
    }
    p.finish().unwrap();
    let mut lines: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

pub fn partition_of(symbol: &str, partitions: i32) -> i32 {
    // FNV-1a: a stable choice the test controls (not the client's hash).
    let mut h: u32 = 0x811c9dc5;
    for b in symbol.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x01000193);
    }
    (h % partitions as u32) as i32
}

pub fn produce(brokers: &str, topic: &str, partitions: i32, records: &[(String, String)]) {
    let p: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "5")
        .create()
        .unwrap();
    for (k, v) in records {
        let part = partition_of(k, partitions);
        let mut rec = BaseRecord::to(topic)
            .key(k.as_bytes())
            .payload(v.as_bytes())
            .partition(part);
        loop {
            match p.send(rec) {
                Ok(()) => break,
                Err((_, r)) => {
                    rec = r;
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
    }
    p.flush(Duration::from_secs(30)).unwrap();
}

pub fn create(brokers: &str, topics: &[(&str, i32)]) {
    let t: Vec<(&str, i32, bool)> = topics.iter().map(|(n, p)| (*n, *p, false)).collect();
    dalal_kafka::create_topics(brokers, &[], &t).unwrap();
}

/// One record read back: key, value, headers.
#[derive(Clone, Debug)]
pub struct Record {
    pub key: Option<String>,
    pub value: String,
    pub headers: BTreeMap<String, String>,
}

/// Reads a topic from the beginning until `want` distinct records arrived
/// (then `settle` more time for stragglers) or `timeout` passed. Records
/// count as one when they carry the same match id (or, without one, the same
/// value): at-least-once duplicates after a rebalance or a restart must not
/// end the read before every distinct match is in.
pub fn read_topic(
    brokers: &str,
    topic: &str,
    want: usize,
    timeout: Duration,
    settle: Duration,
    read_committed: bool,
) -> Vec<Record> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", unique("reader"))
        .set("enable.auto.commit", "false")
        .set(
            "isolation.level",
            if read_committed {
                "read_committed"
            } else {
                "read_uncommitted"
            },
        )
        .create()
        .unwrap();
    let md = c
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for t in md.topics() {
        for p in t.partitions() {
            tpl.add_partition_offset(topic, p.id(), Offset::Beginning)
                .unwrap();
        }
    }
    c.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let mut distinct = std::collections::BTreeSet::new();
    let end = Instant::now() + timeout;
    let mut settle_end: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if now > end || settle_end.is_some_and(|s| now > s) {
            break;
        }
        if let Some(Ok(m)) = c.poll(Duration::from_millis(100)) {
            let mut headers = BTreeMap::new();
            if let Some(h) = m.headers() {
                for hd in h.iter() {
                    headers.insert(
                        hd.key.to_string(),
                        String::from_utf8_lossy(hd.value.unwrap_or_default()).into_owned(),
                    );
                }
            }
            let record = Record {
                key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                value: String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned(),
                headers,
            };
            distinct.insert(
                record
                    .headers
                    .get(dalal_kafka::MATCH_ID_HEADER)
                    .unwrap_or(&record.value)
                    .clone(),
            );
            out.push(record);
        }
        if distinct.len() >= want && settle_end.is_none() {
            settle_end = Some(Instant::now() + settle);
        }
    }
    out
}

pub fn config(brokers: &str, group: &str, input: &str, output: &str) -> KafkaConfig {
    let mut c = KafkaConfig::new(brokers, group, input, output);
    c.client_properties = test_properties();
    c.commit_interval = Duration::from_millis(500);
    c.stats_interval = Duration::from_secs(5);
    c.connect_attempts = 20;
    c.initial_backoff = Duration::from_millis(200);
    c
}

/// A run on a thread; `stop` asks it to commit and leave.
pub struct Instance {
    pub shutdown: Arc<AtomicBool>,
    handle: JoinHandle<Result<dalal_kafka::Summary, dalal_kafka::Error>>,
}

impl Instance {
    pub fn start(program: &Program, cfg: KafkaConfig) -> Instance {
        let shutdown = Arc::new(AtomicBool::new(false));
        let flag = shutdown.clone();
        let program = program.clone();
        let handle = std::thread::spawn(move || dalal_kafka::run(&program, &cfg, &flag));
        Instance { shutdown, handle }
    }

    pub fn stop(self) -> dalal_kafka::Summary {
        self.shutdown
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.handle
            .join()
            .expect("run panicked")
            .expect("run failed")
    }
}

/// Distinct match bodies, checking that every duplicate carries one id and
/// that every record has an id.
pub fn distinct_by_id(records: &[Record]) -> Vec<String> {
    let mut by_id: BTreeMap<String, String> = BTreeMap::new();
    let mut by_body: BTreeMap<String, String> = BTreeMap::new();
    for r in records {
        let id = r
            .headers
            .get(dalal_kafka::MATCH_ID_HEADER)
            .expect("a match without an id")
            .clone();
        if let Some(prev) = by_id.insert(id.clone(), r.value.clone()) {
            assert_eq!(prev, r.value, "one id, two different matches");
        }
        if let Some(prev) = by_body.insert(r.value.clone(), id.clone()) {
            assert_eq!(prev, id, "one match, two ids: {}", r.value);
        }
    }
    let mut v: Vec<String> = by_id.into_values().collect();
    v.sort();
    v
}

/// Asserts that the distinct matches read back are exactly `expected`,
/// naming the missing and unexpected ones (a plain `assert_eq!` of thousands
/// of lines is cut off in CI logs).
pub fn assert_same_matches(got: &[Record], expected: &[String]) {
    let got = distinct_by_id(got);
    if got == expected {
        return;
    }
    let have: std::collections::BTreeSet<&String> = got.iter().collect();
    let want: std::collections::BTreeSet<&String> = expected.iter().collect();
    let missing: Vec<&&String> = want.difference(&have).collect();
    let extra: Vec<&&String> = have.difference(&want).collect();
    panic!(
        "{} distinct matches read, {} expected; {} missing, {} unexpected\nfirst missing: {:#?}\nfirst unexpected: {:#?}",
        got.len(),
        expected.len(),
        missing.len(),
        extra.len(),
        missing.iter().take(5).collect::<Vec<_>>(),
        extra.iter().take(5).collect::<Vec<_>>(),
    );
}
