//! dalal kafka against real brokers (see tests/common for how one is found).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use std::time::{Duration, Instant};

const PARTS: i32 = 4;

#[test]
fn file_and_kafka_give_the_same_matches() {
    let Some(b) = broker("file_and_kafka_give_the_same_matches") else {
        return;
    };
    let program = program();
    let events = events(2000);
    let expected = file_matches(&program, &events);
    assert!(
        expected.len() > 50,
        "too few matches to compare: {}",
        expected.len()
    );
    let (input, output) = (unique("in"), unique("out"));
    create(&b.addr, &[(&input, PARTS), (&output, 1)]);
    produce(&b.addr, &input, PARTS, &events);
    let run = Instance::start(&program, config(&b.addr, &unique("g"), &input, &output));
    let got = read_topic(
        &b.addr,
        &output,
        expected.len(),
        Duration::from_secs(60),
        Duration::from_secs(1),
        false,
    );
    let summary = run.stop();
    assert_eq!(summary.events, 2000);
    assert_eq!(summary.malformed, 0);
    let mut bodies: Vec<String> = got.iter().map(|r| r.value.clone()).collect();
    bodies.sort();
    assert_eq!(bodies, expected);
    // Keyed by the partition key, with a deterministic id.
    for r in &got {
        let v: serde_json::Value = serde_json::from_str(&r.value).unwrap();
        assert_eq!(r.key.as_deref(), Some(v["key"].to_string().as_str()));
        assert_eq!(r.headers[dalal_kafka::MATCH_ID_HEADER].len(), 32);
    }
    assert_eq!(distinct_by_id(&got).len(), expected.len());
}

#[test]
fn malformed_messages_go_to_the_dead_letter_topic() {
    let Some(b) = broker("malformed_messages_go_to_the_dead_letter_topic") else {
        return;
    };
    let program = program();
    let (input, output, dlq) = (unique("in"), unique("out"), unique("dlq"));
    create(&b.addr, &[(&input, 1), (&output, 1), (&dlq, 1)]);
    let mut records = events(40);
    records.insert(
        10,
        (
            "TCS".into(),
            r#"{"type":"Trade","ts":"2024-01-02T09:00:00Z","symbol":"TCS","price":"abc"}"#.into(),
        ),
    );
    records.insert(20, ("TCS".into(), "not json".into()));
    records.insert(30, ("TCS".into(), r#"{"type":"Quote","ts":1}"#.into()));
    produce(&b.addr, &input, 1, &records);
    let mut cfg = config(&b.addr, &unique("g"), &input, &output);
    cfg.dead_letter_topic = Some(dlq.clone());
    let run = Instance::start(&program, cfg);
    let dead = read_topic(
        &b.addr,
        &dlq,
        2,
        Duration::from_secs(60),
        Duration::from_millis(500),
        false,
    );
    let summary = run.stop();
    assert_eq!(summary.malformed, 2);
    assert_eq!(summary.unknown_type, 1);
    assert_eq!(summary.events, 40);
    assert_eq!(dead.len(), 2, "{dead:?}");
    let first: serde_json::Value = serde_json::from_str(&dead[0].value).unwrap();
    assert_eq!(first["column"], "price");
    assert_eq!(first["reason"], "expected FLOAT, found 'abc'");
    assert_eq!(first["offset"], 10);
    assert_eq!(first["topic"], input.as_str());
    assert!(first["raw"].as_str().unwrap().contains("\"abc\""));
    assert_eq!(dead[0].key.as_deref(), Some("TCS"));
    assert_eq!(
        dead[0].headers[dalal_kafka::REASON_HEADER],
        "column 'price': expected FLOAT, found 'abc'"
    );
    let second: serde_json::Value = serde_json::from_str(&dead[1].value).unwrap();
    assert!(
        second["reason"]
            .as_str()
            .unwrap()
            .starts_with("invalid JSON")
    );
    assert_eq!(second["raw"], "not json");
}

#[test]
fn unreachable_brokers_are_a_clear_error_after_retries() {
    // Nothing listens on a port just released.
    let addr = format!("127.0.0.1:{}", free_port());
    let mut cfg = config(&addr, "g", "in", "out");
    cfg.connect_attempts = 2;
    cfg.initial_backoff = Duration::from_millis(100);
    let started = Instant::now();
    let shutdown = std::sync::atomic::AtomicBool::new(false);
    let err = dalal_kafka::run(&program(), &cfg, &shutdown).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        matches!(err, dalal_kafka::Error::Unreachable { attempts: 2, .. }),
        "{err:?}"
    );
    assert_eq!(err.fault(), dalal_kafka::Fault::Broker);
    assert!(err.retryable());
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "cannot reach the Kafka brokers at {addr} after 2 attempt(s)"
        )),
        "{text}"
    );
}

#[test]
fn shutdown_while_waiting_for_brokers_is_clean() {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut cfg = config(&addr, "g", "in", "out");
    cfg.connect_attempts = 0;
    let shutdown = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = shutdown.clone();
    let t = std::thread::spawn(move || dalal_kafka::run(&program(), &cfg, &flag));
    std::thread::sleep(Duration::from_secs(2));
    shutdown.store(true, std::sync::atomic::Ordering::Relaxed);
    let summary = t.join().unwrap().unwrap();
    assert_eq!(summary, dalal_kafka::Summary::default());
}

#[test]
fn missing_input_topic_is_reported() {
    let Some(b) = broker("missing_input_topic_is_reported") else {
        return;
    };
    let output = unique("out");
    create(&b.addr, &[(&output, 1)]);
    let mut cfg = config(&b.addr, "g", "no-such-topic-here", &output);
    cfg.connect_attempts = 2;
    cfg.initial_backoff = Duration::from_millis(100);
    let shutdown = std::sync::atomic::AtomicBool::new(false);
    let err = dalal_kafka::run(&program(), &cfg, &shutdown).unwrap_err();
    assert!(
        matches!(&err, dalal_kafka::Error::MissingTopic { topic, .. } if topic == "no-such-topic-here"),
        "{err:?}"
    );
}

/// The body of a separate process for the kill -9 test: runs until killed.
/// Does nothing unless the parent test set `DALAL_KAFKA_TEST_WORKER`.
#[test]
fn worker_process() {
    let Ok(spec) = std::env::var("DALAL_KAFKA_TEST_WORKER") else {
        return;
    };
    let f: Vec<&str> = spec.split('|').collect();
    let mut cfg = config(f[0], f[1], f[2], f[3]);
    cfg.checkpoint_topic = Some(f[4].to_string());
    cfg.exactly_once = f.get(5) == Some(&"eos");
    // The restarted process takes the killed one's place at once (noida-db
    // waits for a dead member's session far longer than session.timeout.ms).
    cfg.instance_id = Some("worker".to_string());
    if let Ok(d) = std::env::var("DALAL_KAFKA_TEST_DEBUG") {
        cfg.client_properties.push(("debug".into(), d));
    }
    tracing_subscriber::fmt()
        .with_env_filter("dalal_kafka=info,librdkafka=debug")
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let shutdown = std::sync::atomic::AtomicBool::new(false);
    dalal_kafka::run(&program(), &cfg, &shutdown).unwrap();
}

fn spawn_worker(spec: &str, log: &std::path::Path) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "worker_process",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("DALAL_KAFKA_TEST_WORKER", spec)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

/// Produce half, run, kill -9 while the second half streams in, restart:
/// every expected match appears; duplicates carry the same id.
fn kill_and_restart(brokers: &str, exactly_once: bool) -> (Vec<Record>, Vec<String>) {
    let program = program();
    let events = events(3000);
    let expected = file_matches(&program, &events);
    let first_half = file_matches(&program, &events[..1500]);
    let (input, output, cp) = (unique("in"), unique("out"), unique("cp"));
    create(brokers, &[(&input, PARTS), (&output, 1)]);
    produce(brokers, &input, PARTS, &events[..1500]);
    let spec = format!(
        "{brokers}|{}|{input}|{output}|{cp}|{}",
        unique("g"),
        if exactly_once { "eos" } else { "alo" }
    );
    let logs = tempfile::tempdir().unwrap();
    let mut worker = spawn_worker(&spec, &logs.path().join("first.log"));
    let seen = read_topic(
        brokers,
        &output,
        first_half.len(),
        Duration::from_secs(90),
        Duration::ZERO,
        exactly_once,
    );
    assert!(
        seen.len() >= first_half.len(),
        "first run stalled: {}",
        seen.len()
    );
    let cps = read_topic(
        brokers,
        &cp,
        1,
        Duration::from_secs(30),
        Duration::ZERO,
        true,
    );
    assert!(!cps.is_empty(), "no checkpoint written");
    let rest = events[1500..].to_vec();
    let b = brokers.to_string();
    let input2 = input.clone();
    let producer = std::thread::spawn(move || produce(&b, &input2, PARTS, &rest));
    std::thread::sleep(Duration::from_millis(300));
    worker.kill().unwrap(); // SIGKILL
    worker.wait().unwrap();
    producer.join().unwrap();
    let second_log = logs.path().join("second.log");
    let mut worker = spawn_worker(&spec, &second_log);
    let end = Instant::now() + Duration::from_secs(120);
    let mut got;
    loop {
        got = read_topic(
            brokers,
            &output,
            usize::MAX,
            Duration::from_secs(2),
            Duration::ZERO,
            exactly_once,
        );
        let distinct = distinct_by_id(&got);
        if distinct.len() >= expected.len() || Instant::now() > end {
            break;
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    got = read_topic(
        brokers,
        &output,
        usize::MAX,
        Duration::from_secs(3),
        Duration::ZERO,
        exactly_once,
    );
    worker.kill().unwrap();
    worker.wait().unwrap();
    let log = std::fs::read_to_string(&second_log).unwrap();
    assert!(
        log.contains("restored from checkpoint"),
        "the restarted run restored nothing:\n{log}"
    );
    (got, expected)
}

#[test]
fn kill_9_and_restart_loses_no_match() {
    let Some(b) = broker("kill_9_and_restart_loses_no_match") else {
        return;
    };
    let (got, expected) = kill_and_restart(&b.addr, false);
    assert_same_matches(&got, &expected);
    eprintln!(
        "kill -9: {} records for {} matches ({} duplicates, each with its match's id)",
        got.len(),
        expected.len(),
        got.len() - expected.len()
    );
}

#[test]
fn exactly_once_read_committed_sees_each_match_once() {
    // tansu does not isolate aborted transactions; noida-db does.
    let Ok(addr) = std::env::var("DALAL_NOIDA_BROKERS") else {
        eprintln!(
            "skipping exactly_once_read_committed_sees_each_match_once: \
             DALAL_NOIDA_BROKERS (a noida-db kafka address) is not set"
        );
        return;
    };
    let (got, expected) = kill_and_restart(&addr, true);
    let mut bodies: Vec<String> = got.iter().map(|r| r.value.clone()).collect();
    bodies.sort();
    assert_eq!(
        bodies, expected,
        "a read_committed reader saw a duplicate or a gap"
    );
}

#[test]
fn exactly_once_mode_commits_transactions() {
    let Some(b) = broker("exactly_once_mode_commits_transactions") else {
        return;
    };
    let program = program();
    let events = events(1000);
    let expected = file_matches(&program, &events);
    let (input, output) = (unique("in"), unique("out"));
    create(&b.addr, &[(&input, PARTS), (&output, 1)]);
    produce(&b.addr, &input, PARTS, &events);
    let mut cfg = config(&b.addr, &unique("g"), &input, &output);
    cfg.exactly_once = true;
    cfg.checkpoint_topic = Some(unique("cp"));
    let run = Instance::start(&program, cfg);
    let got = read_topic(
        &b.addr,
        &output,
        expected.len(),
        Duration::from_secs(60),
        Duration::from_secs(1),
        true,
    );
    let summary = run.stop();
    assert_eq!(summary.events, 1000);
    let mut bodies: Vec<String> = got.iter().map(|r| r.value.clone()).collect();
    bodies.sort();
    assert_eq!(bodies, expected);
}

/// Instances of one consumer group over 3,000 events: two from the start and,
/// with `late_joiner`, a third that joins after the first half, while partial
/// matches are open (their state has to move with the partitions). The output
/// must hold exactly the file's matches; returns each instance's summary.
fn group_of_instances(test: &str, late_joiner: bool) -> Option<Vec<dalal_kafka::Summary>> {
    let b = broker(test)?;
    let program = program();
    let events = events(3000);
    let expected = file_matches(&program, &events);
    let (input, output, group) = (unique("in"), unique("out"), unique("g"));
    create(&b.addr, &[(&input, PARTS), (&output, 1)]);
    let cp = unique("cp");
    let start = || {
        let mut c = config(&b.addr, &group, &input, &output);
        c.checkpoint_topic = Some(cp.clone());
        Instance::start(&program, c)
    };
    let mut instances = vec![start(), start()];
    // Let them join before the data arrives, so each gets partitions.
    std::thread::sleep(Duration::from_secs(8));
    if late_joiner {
        let (first, second) = events.split_at(events.len() / 2);
        produce(&b.addr, &input, PARTS, first);
        std::thread::sleep(Duration::from_secs(3));
        instances.push(start());
        std::thread::sleep(Duration::from_secs(8));
        produce(&b.addr, &input, PARTS, second);
    } else {
        produce(&b.addr, &input, PARTS, &events);
    }
    let got = read_topic(
        &b.addr,
        &output,
        expected.len(),
        Duration::from_secs(90),
        Duration::from_secs(2),
        false,
    );
    let summaries: Vec<_> = instances.into_iter().map(Instance::stop).collect();
    assert_same_matches(&got, &expected);
    assert!(
        summaries.iter().map(|s| s.events).sum::<u64>() >= 3000,
        "{summaries:?}"
    );
    Some(summaries)
}

#[test]
fn two_instances_split_the_partitions() {
    if let Some(s) = group_of_instances("two_instances_split_the_partitions", false) {
        assert!(
            s.iter().all(|s| s.events > 0),
            "an instance got nothing: {s:?}"
        );
    }
}

#[test]
fn a_third_instance_joining_mid_stream_changes_nothing() {
    group_of_instances("a_third_instance_joining_mid_stream_changes_nothing", true);
}

/// Throughput through a real broker (docs/PERFORMANCE.md):
/// `cargo test --release -p dalal-kafka --test kafka throughput -- --ignored --nocapture`
/// (`DALAL_KAFKA_PERF_EVENTS`, default 200 000).
#[test]
#[ignore = "a measurement, not a check"]
fn throughput() {
    let Some(b) = broker("throughput") else {
        return;
    };
    let n: usize = std::env::var("DALAL_KAFKA_PERF_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let program = program();
    let events = events(n);
    let expected = file_matches(&program, &events).len();
    let (input, output) = (unique("in"), unique("out"));
    create(&b.addr, &[(&input, PARTS), (&output, 1)]);
    let t = Instant::now();
    produce(&b.addr, &input, PARTS, &events);
    let produce_s = t.elapsed().as_secs_f64();
    let mut cfg = config(&b.addr, &unique("g"), &input, &output);
    cfg.checkpoint_topic = Some(unique("cp"));
    cfg.commit_interval = Duration::from_secs(5);
    let run = Instance::start(&program, cfg);
    read_topic(
        &b.addr,
        &output,
        1,
        Duration::from_secs(60),
        Duration::ZERO,
        false,
    );
    let t0 = Instant::now();
    let got = read_topic(
        &b.addr,
        &output,
        expected,
        Duration::from_secs(600),
        Duration::ZERO,
        false,
    );
    let secs = t0.elapsed().as_secs_f64();
    let summary = run.stop();
    assert!(got.len() >= expected);
    eprintln!(
        "throughput: {n} events over {PARTS} partitions, {expected} matches: \
         {:.0} events/s in, {:.0} matches/s out ({secs:.2}s; producing took {produce_s:.2}s; \
         {} checkpoints)",
        n as f64 / secs,
        expected as f64 / secs,
        summary.checkpoints
    );
}
