//! `dalal kafka` flags, errors and signals (no broker needed; the runs
//! against real brokers are in crates/kafka/tests).

use crate::util::in_workspace;
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn base(brokers: &str) -> Vec<String> {
    [
        "kafka",
        "--brokers",
        brokers,
        "--group",
        "g",
        "--input-topic",
        "events",
        "--output-topic",
        "matches",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn kafka_broker_down_is_a_clear_error_after_retries() {
    let brokers = format!("127.0.0.1:{}", free_port());
    let mut args = base(&brokers);
    args.extend(["--connect-retries".into(), "2".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let d = in_workspace(&args).run();
    assert_eq!(d.code, 1, "{}", d.stderr);
    assert!(
        d.stderr.contains(&format!(
            "error: cannot reach the Kafka brokers at {brokers} after 2 attempt(s)"
        )),
        "{}",
        d.stderr
    );
    assert!(
        d.stderr.contains("[broker fault; retrying may help]"),
        "{}",
        d.stderr
    );
    assert!(
        d.stderr.contains("retrying"),
        "the retry is not logged: {}",
        d.stderr
    );
    assert!(!d.stderr.contains("panicked"), "{}", d.stderr);
}

#[test]
fn kafka_usage_errors_exit_2() {
    let mut args = base("127.0.0.1:9");
    args.extend(["-X".into(), "no-equals-sign".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let d = in_workspace(&args).run();
    assert_eq!(d.code, 2, "{}", d.stderr);
    assert!(d.stderr.contains("expected KEY=VALUE"), "{}", d.stderr);

    let mut args = base("127.0.0.1:9");
    args.extend(["--format".into(), "csv".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let d = in_workspace(&args).run();
    assert_eq!(d.code, 2, "{}", d.stderr);
    assert!(d.stderr.contains("--columns"), "{}", d.stderr);

    let mut args = base("127.0.0.1:9");
    args[6] = "matches".into(); // input = output
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let d = in_workspace(&args).run();
    assert_eq!(d.code, 2, "{}", d.stderr);
    assert!(
        d.stderr.contains("both an input and an output"),
        "{}",
        d.stderr
    );

    let d = in_workspace(&["kafka", "--group", "g"]).run();
    assert_eq!(d.code, 2);
    assert!(d.stderr.contains("--brokers"), "{}", d.stderr);
}

#[test]
fn kafka_sigterm_stops_gracefully() {
    let brokers = format!("127.0.0.1:{}", free_port());
    let mut args = base(&brokers);
    args.extend(["--connect-retries".into(), "0".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut cmd = in_workspace(&args).into_command();
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().expect("spawn dalal");
    std::thread::sleep(Duration::from_millis(1500));
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let started = Instant::now();
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("dalal kafka: 0 message(s)"), "{stderr}");
}
