//! End-to-end tests of the `dalal` binary: every subcommand, option, input
//! format and error path, run in a temporary directory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::util;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use util::Dir;

const TYPES: &str = "EVENT Trade (symbol STRING, price FLOAT, volume INT);
EVENT News (symbol STRING, headline STRING);
";

const UP: &str = "PATTERN up SEQ(Trade a, Trade b) WHERE b.price > a.price
  WITHIN 1m PARTITION BY symbol
  EMIT a.symbol, b.price - a.price AS gain, b.ts - a.ts AS lag;
";

/// A directory holding `p.pattern` (types + `up`).
fn setup() -> Dir {
    let d = Dir::new();
    d.write("p.pattern", format!("{TYPES}{UP}"));
    d
}

const TWO_TRADES: &str = "type,ts,symbol,price,volume,headline
Trade,2024-01-02T09:15:00Z,TCS,10,100,
Trade,2024-01-02T09:15:30.5Z,TCS,11.5,200,
";

const UP_LINE: &str = concat!(
    r#"{"pattern":"up","key":{"symbol":"TCS"},"start":"2024-01-02T09:15:00.000Z","#,
    r#""end":"2024-01-02T09:15:30.500Z","fields":{"symbol":"TCS","gain":1.5,"lag":30500},"#,
    r#""events":{"a":{"type":"Trade","ts":"2024-01-02T09:15:00.000Z","symbol":"TCS","#,
    r#""price":10.0,"volume":100},"b":{"type":"Trade","ts":"2024-01-02T09:15:30.500Z","#,
    r#""symbol":"TCS","price":11.5,"volume":200}}}"#
);

#[test]
fn check_exit_codes() {
    let d = setup();
    let out = d.command(&["check", "p.pattern"]).ok();
    assert!(
        out.starts_with("ok: 1 file, 2 event types, 1 pattern"),
        "{out}"
    );
    d.write("bad.pattern", "PATTERN broken SEQ(Nope x) WITHIN 1m;");
    let done = d.command(&["check", "bad.pattern"]).fails(2);
    assert!(done.stderr.contains("Nope"), "{}", done.stderr);
    let done = d.command(&["check", "missing.pattern"]).fails(2);
    assert!(done.stderr.contains("missing.pattern"), "{}", done.stderr);
}

#[test]
fn run_writes_the_documented_jsonl_shape() {
    let d = setup();
    d.write("data.csv", TWO_TRADES);
    let out = d.command(&["run", "p.pattern", "--input", "data.csv"]).ok();
    assert_eq!(out, format!("{UP_LINE}\n"));
    // Every line is valid JSON with the keys in the documented order.
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["events"]["b"]["price"], 11.5);
}

#[test]
fn no_events_leaves_events_out() {
    let d = setup();
    d.write("data.csv", TWO_TRADES);
    let out = d
        .command(&["run", "p.pattern", "--input", "data.csv", "--no-events"])
        .ok();
    assert_eq!(
        out,
        concat!(
            r#"{"pattern":"up","key":{"symbol":"TCS"},"start":"2024-01-02T09:15:00.000Z","#,
            r#""end":"2024-01-02T09:15:30.500Z","fields":{"symbol":"TCS","gain":1.5,"lag":30500}}"#,
            "\n"
        )
    );
}

#[test]
fn csv_and_table_output() {
    let d = setup();
    d.write("data.csv", TWO_TRADES);
    let out = d
        .command(&[
            "run",
            "p.pattern",
            "--input",
            "data.csv",
            "--output-format",
            "csv",
        ])
        .ok();
    assert_eq!(
        out,
        concat!(
            "pattern,key,start,end,fields\n",
            r#"up,"{""symbol"":""TCS""}",2024-01-02T09:15:00.000Z,2024-01-02T09:15:30.500Z,"#,
            r#""{""symbol"":""TCS"",""gain"":1.5,""lag"":30500}""#,
            "\n"
        )
    );
    let out = d
        .command(&[
            "run",
            "p.pattern",
            "--input",
            "data.csv",
            "--output-format",
            "table",
        ])
        .ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("PATTERN  KEY"), "{out}");
    assert!(lines[1].starts_with("up       symbol='TCS'"), "{out}");
    assert!(
        lines[1].ends_with("symbol='TCS', gain=1.5, lag=30500"),
        "{out}"
    );
}

#[test]
fn output_to_a_file() {
    let d = setup();
    d.write("data.csv", TWO_TRADES);
    let out = d
        .command(&[
            "run",
            "p.pattern",
            "--input",
            "data.csv",
            "--output",
            "m.jsonl",
        ])
        .ok();
    assert_eq!(out, "");
    assert_eq!(d.read("m.jsonl"), format!("{UP_LINE}\n"));
}

#[test]
fn jsonl_input_from_extension_and_from_stdin() {
    let d = setup();
    let jsonl = concat!(
        r#"{"type":"Trade","ts":"2024-01-02T09:15:00Z","symbol":"TCS","price":10,"volume":100}"#,
        "\n",
        r#"{"type":"Trade","ts":"2024-01-02T09:15:30.5Z","symbol":"TCS","price":11.5,"volume":200}"#,
        "\n"
    );
    d.write("data.jsonl", jsonl);
    let out = d
        .command(&["run", "p.pattern", "--input", "data.jsonl"])
        .ok();
    assert_eq!(out, format!("{UP_LINE}\n"));
    let out = d
        .command(&["run", "p.pattern", "--input", "-", "--format", "jsonl"])
        .stdin(jsonl)
        .ok();
    assert_eq!(out, format!("{UP_LINE}\n"));
    // --format wins over the extension; --type works for JSON Lines too.
    d.write("trades.csv", jsonl.replace(r#""type":"Trade","#, ""));
    let out = d
        .command(&[
            "run",
            "p.pattern",
            "--input",
            "trades.csv",
            "--format",
            "jsonl",
            "--type",
            "Trade",
        ])
        .ok();
    assert_eq!(out, format!("{UP_LINE}\n"));
    // CSV on standard input (the default format there).
    let out = d
        .command(&["run", "p.pattern", "--input", "-"])
        .stdin(TWO_TRADES)
        .ok();
    assert_eq!(out, format!("{UP_LINE}\n"));
}

#[test]
fn default_patterns_and_sample() {
    let d = Dir::new();
    d.write("patterns/types.pattern", TYPES);
    d.write("patterns/up.pattern", UP);
    d.write("data/sample.csv", TWO_TRADES);
    let out = d.command(&["run"]).ok();
    assert_eq!(out, format!("{UP_LINE}\n"));
    // Without the sample: an error that says what to do.
    let e = Dir::new();
    e.write("patterns/all.pattern", format!("{TYPES}{UP}"));
    let done = e.command(&["run"]).fails(1);
    assert!(done.stderr.contains("data/sample.csv"), "{}", done.stderr);
    assert!(done.stderr.contains("--input"), "{}", done.stderr);
}

#[test]
fn no_header_columns_fixed_type_and_ts_format() {
    let d = setup();
    d.write(
        "ticks.txt",
        "TCS,202401020915,10,100\nTCS,202401020916,11,100\n",
    );
    let out = d
        .command(&[
            "run",
            "p.pattern",
            "--input",
            "ticks.txt",
            "--no-header",
            "--columns",
            "symbol,date,price,volume",
            "--type",
            "Trade",
            "--ts-column",
            "date",
            "--ts-format",
            "%Y%m%d%H%M",
            "--no-events",
        ])
        .ok();
    assert_eq!(
        out,
        concat!(
            r#"{"pattern":"up","key":{"symbol":"TCS"},"start":"2024-01-02T09:15:00.000Z","#,
            r#""end":"2024-01-02T09:16:00.000Z","fields":{"symbol":"TCS","gain":1.0,"lag":60000}}"#,
            "\n"
        )
    );
    // The type from a named column, epoch milliseconds.
    d.write(
        "e.csv",
        "kind,t,symbol,price\nTrade,0,A,1\nTrade,1500,A,2\n",
    );
    let out = d
        .command(&[
            "run",
            "p.pattern",
            "--input",
            "e.csv",
            "--type-column",
            "kind",
            "--ts-column",
            "t",
            "--ts-format",
            "epoch_ms",
            "--no-events",
        ])
        .ok();
    assert!(
        out.contains(
            r#""end":"1970-01-01T00:00:01.500Z","fields":{"symbol":"A","gain":1.0,"lag":1500}"#
        ),
        "{out}"
    );
    // --no-header needs --columns.
    d.command(&["run", "p.pattern", "--input", "e.csv", "--no-header"])
        .fails(2);
    // --type and --type-column exclude each other.
    d.command(&[
        "run",
        "p.pattern",
        "--input",
        "e.csv",
        "--type",
        "Trade",
        "--type-column",
        "kind",
    ])
    .fails(2);
}

#[test]
fn bad_rows_name_file_line_and_column() {
    let d = setup();
    let cases = [
        (
            "type,ts,symbol,price,volume\nTrade,2024-01-02T09:15:00Z,TCS,10,1\nTrade,2024-01-02T09:15:01Z,TCS,abc,1\n",
            "data.csv:3: column 'price': expected FLOAT, found 'abc'",
        ),
        (
            "type,ts,symbol,price,volume\nTrade,02/01/2024,TCS,10,1\n",
            "data.csv:2: column 'ts': expected a timestamp (rfc3339), found '02/01/2024'",
        ),
        (
            "type,ts,symbol,price,volume\nTrade,2024-01-02T09:15:00Z,TCS,10\n",
            "data.csv:2: expected 5 cells, found 4",
        ),
        (
            "type,ts,symbol,price,volume\nTrade,2024-01-02T09:15:00Z,TCS,10,1.5\n",
            "data.csv:2: column 'volume': expected INT, found '1.5'",
        ),
        (
            "kind,ts,symbol\nTrade,2024-01-02T09:15:00Z,TCS\n",
            "data.csv:1: the header has no column 'type'",
        ),
    ];
    for (text, message) in cases {
        d.write("data.csv", text);
        let done = d
            .command(&["run", "p.pattern", "--input", "data.csv"])
            .fails(1);
        assert!(
            done.stderr.contains(message),
            "want {message:?}\nstderr: {}",
            done.stderr
        );
    }
    d.write("data.csv", TWO_TRADES);
    let done = d
        .command(&[
            "run",
            "p.pattern",
            "--input",
            "data.csv",
            "--ts-column",
            "time",
        ])
        .fails(1);
    assert!(
        done.stderr
            .contains("data.csv:1: the header has no column 'time'"),
        "{}",
        done.stderr
    );
    let done = d
        .command(&["run", "p.pattern", "--input", "missing.csv"])
        .fails(1);
    assert!(done.stderr.contains("missing.csv"), "{}", done.stderr);
    // JSON Lines errors too.
    d.write(
        "data.jsonl",
        "{\"type\":\"Trade\",\"ts\":\"2024-01-02T09:15:00Z\",\"price\":\"x\"}\n",
    );
    let done = d
        .command(&["run", "p.pattern", "--input", "data.jsonl"])
        .fails(1);
    assert!(
        done.stderr
            .contains("data.jsonl:1: column 'price': expected FLOAT, found 'x'"),
        "{}",
        done.stderr
    );
}

#[test]
fn usage_and_pattern_errors_exit_2() {
    let d = setup();
    d.write("data.csv", TWO_TRADES);
    let done = d
        .command(&["run", "p.pattern", "--input", "data.csv", "--type", "Quote"])
        .fails(2);
    assert!(
        done.stderr.contains("no event type `Quote`"),
        "{}",
        done.stderr
    );
    d.command(&[
        "run",
        "p.pattern",
        "--input",
        "data.csv",
        "--max-delay",
        "soon",
    ])
    .fails(2);
    d.command(&[
        "run",
        "p.pattern",
        "--input",
        "data.csv",
        "--ts-format",
        "iso",
    ])
    .fails(2);
    d.command(&["run", "p.pattern", "--input", "data.csv", "--threads", "0"])
        .fails(2);
    d.command(&[
        "run",
        "p.pattern",
        "--input",
        "data.csv",
        "--rejects",
        "r.jsonl",
    ])
    .fails(2);
    d.write(
        "bad.pattern",
        format!("{TYPES}PATTERN x SEQ(Trade a) WHERE a.nope > 1;"),
    );
    let done = d
        .command(&["run", "bad.pattern", "--input", "data.csv"])
        .fails(2);
    assert!(done.stderr.contains("nope"), "{}", done.stderr);
    assert!(done.stderr.contains("bad.pattern"), "{}", done.stderr);
}

#[test]
fn on_error_skip_counts_and_writes_rejects() {
    let d = setup();
    d.write(
        "data.csv",
        "type,ts,symbol,price,volume\n\
         Trade,2024-01-02T09:15:00Z,TCS,10,100\n\
         Trade,2024-01-02T09:15:10Z,TCS,abc,1\n\
         Trade,2024-01-02T09:15:20Z,TCS\n\
         Trade,2024-01-02T09:15:30.5Z,TCS,11.5,200\n",
    );
    let done = d
        .command(&[
            "run",
            "p.pattern",
            "--input",
            "data.csv",
            "--on-error",
            "skip",
            "--rejects",
            "rejects.jsonl",
            "--stats",
            "--no-events",
        ])
        .run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert_eq!(done.stdout.lines().count(), 1);
    assert!(done.stdout.contains(r#""gain":1.5"#));
    assert!(done.stderr.contains("rejected rows   2"), "{}", done.stderr);
    assert_eq!(
        d.read("rejects.jsonl"),
        concat!(
            r#"{"file":"data.csv","line":3,"column":"price","reason":"expected FLOAT, found 'abc'","raw":"Trade,2024-01-02T09:15:10Z,TCS,abc,1"}"#,
            "\n",
            r#"{"file":"data.csv","line":4,"column":null,"reason":"expected 5 cells, found 3","raw":"Trade,2024-01-02T09:15:20Z,TCS"}"#,
            "\n"
        )
    );
    // Without --stats the skipped rows are still reported.
    let done = d
        .command(&[
            "run",
            "p.pattern",
            "--input",
            "data.csv",
            "--on-error",
            "skip",
        ])
        .run();
    assert_eq!(done.code, 0);
    assert!(
        done.stderr.contains("2 bad row(s) skipped"),
        "{}",
        done.stderr
    );
}

const OUT_OF_ORDER: &str = "type,ts,symbol,price,volume
Trade,1000,A,1,1
Trade,3000,A,2,1
Trade,2500,A,3,1
Trade,6000,A,4,1
Trade,1500,A,5,1
Trade,7000,A,6,1
";

#[test]
fn late_events_are_counted_written_or_fatal() {
    let d = setup();
    d.write("data.csv", OUT_OF_ORDER);
    let base = [
        "run",
        "p.pattern",
        "--input",
        "data.csv",
        "--ts-format",
        "epoch_ms",
        "--no-events",
    ];
    // 1s of disorder: 2500 is in time (watermark 2000), 1500 is late (watermark 5000).
    let done = d
        .command(&base)
        .args(&[
            "--max-delay",
            "1s",
            "--stats",
            "--late-output",
            "late.jsonl",
        ])
        .run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert!(done.stderr.contains("  late          1"), "{}", done.stderr);
    assert_eq!(
        d.read("late.jsonl"),
        "{\"type\":\"Trade\",\"ts\":\"1970-01-01T00:00:01.500Z\",\"symbol\":\"A\",\"price\":5.0,\"volume\":1}\n"
    );
    // The reordered stream: 1000(1) 2500(3) 3000(2) 6000(4) 7000(6).
    let starts: Vec<&str> = done
        .stdout
        .lines()
        .map(|l| &l[l.find("\"start\":").unwrap() + 9..][..24])
        .collect();
    assert_eq!(
        starts,
        ["1970-01-01T00:00:01.000Z", "1970-01-01T00:00:03.000Z"],
        "{}",
        done.stdout
    );
    // Without --stats, a warning still says events were dropped.
    let done = d.command(&base).args(&["--max-delay", "1s"]).run();
    assert!(
        done.stderr.contains("1 late event(s) dropped"),
        "{}",
        done.stderr
    );
    // No disorder allowed: two late events (2500 and 1500).
    let done = d.command(&base).args(&["--stats"]).run();
    assert!(done.stderr.contains("  late          2"), "{}", done.stderr);
    // --late fail names the line.
    let done = d
        .command(&base)
        .args(&["--max-delay", "1s", "--late", "fail"])
        .fails(1);
    assert!(
        done.stderr
            .contains("data.csv:6: late event at 1970-01-01T00:00:01.500Z"),
        "{}",
        done.stderr
    );
}

/// A stream of `n` rows over 7 symbols with pseudo-random prices, some news.
fn big_stream(n: usize) -> String {
    let mut s = String::from("type,ts,symbol,price,volume,headline\n");
    let mut x: u64 = 12345;
    for i in 0..n {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let sym = ["TCS", "INFY", "WIPRO", "HDFC", "ITC", "SBIN", "LT"][(x >> 33) as usize % 7];
        let ts = 1_700_000_000_000u64 + i as u64 * 250;
        if (x >> 20) % 13 == 0 {
            s.push_str(&format!("News,{ts},{sym},,,headline {i}\n"));
        } else {
            let price = 100 + (x >> 40) % 20;
            s.push_str(&format!("Trade,{ts},{sym},{price},{},\n", (x >> 10) % 1000));
        }
    }
    s
}

const MANY: &str = "
PATTERN rise SEQ(Trade t{3,}) WHERE t[i].price > t[i-1].price WITHIN 5s PARTITION BY symbol
  EMIT count(t) AS n;
PATTERN quiet SEQ(News n, NOT Trade t) WITHIN 2s PARTITION BY symbol EMIT n.headline;
PATTERN any_news SEQ(Trade a, News n) WHERE n.symbol = a.symbol WITHIN 1s;
";

#[test]
fn threads_do_not_change_the_output() {
    let d = Dir::new();
    d.write("p.pattern", format!("{TYPES}{UP}{MANY}"));
    d.write("big.csv", big_stream(20_000));
    let run = |threads: &str| {
        d.command(&[
            "run",
            "p.pattern",
            "--input",
            "big.csv",
            "--ts-format",
            "epoch_ms",
            "--threads",
            threads,
            "--stats",
        ])
        .run()
    };
    let one = run("1");
    assert_eq!(one.code, 0, "{}", one.stderr);
    let lines = one.stdout.lines().count();
    assert!(lines > 1000, "{lines}");
    for p in ["up", "rise", "quiet", "any_news"] {
        assert!(
            one.stdout.contains(&format!("{{\"pattern\":\"{p}\"")),
            "no {p} match"
        );
    }
    for threads in ["2", "4"] {
        let many = run(threads);
        assert_eq!(many.code, 0, "{}", many.stderr);
        assert!(many.stdout == one.stdout, "--threads {threads} differs");
        let counts = |s: &str| {
            s.lines()
                .filter(|l| l.starts_with("  ") && !l.contains("routed") && !l.contains("late"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(counts(&many.stderr), counts(&one.stderr));
    }
}

#[test]
fn stats_summary_and_unknown_types() {
    let d = setup();
    d.write(
        "data.csv",
        "type,ts,symbol,price,volume\n\
         Trade,2024-01-02T09:15:00Z,TCS,10,100\n\
         Quote,2024-01-02T09:15:10Z,TCS,10,1\n\
         Quote,2024-01-02T09:15:11Z,TCS,10,1\n\
         News,2024-01-02T09:15:12Z,TCS,,\n\
         Trade,2024-01-02T09:15:30.5Z,TCS,11.5,200\n",
    );
    let done = d
        .command(&["run", "p.pattern", "--input", "data.csv", "--stats"])
        .run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    let e = &done.stderr;
    for want in [
        "rows read       5",
        "events          3",
        "  routed        2",
        "  late          0",
        "rejected rows   0",
        "unknown type    2 (Quote (2))",
        "matches         1",
        "  up            1",
        "peak runs",
        "wall time",
        "events/s",
    ] {
        assert!(e.contains(want), "want {want:?} in\n{e}");
    }
    // Without --stats: a note, not silence.
    let done = d
        .command(&["run", "p.pattern", "--input", "data.csv"])
        .run();
    assert!(done.stderr.contains("Quote (2)"), "{}", done.stderr);
    let done = d
        .command(&["run", "p.pattern", "--input", "data.csv", "--quiet"])
        .run();
    assert_eq!(done.stderr, "");
}

#[test]
fn broken_pipe_is_not_an_error() {
    let d = Dir::new();
    d.write(
        "p.pattern",
        format!("{TYPES}PATTERN every SEQ(Trade a) EMIT a.price;"),
    );
    d.write("big.csv", big_stream(100_000));
    let mut cmd = d
        .command(&[
            "run",
            "p.pattern",
            "--input",
            "big.csv",
            "--ts-format",
            "epoch_ms",
        ])
        .into_command();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("{\"pattern\":\"every\""));
    // The reader is dropped: the pipe is closed.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn explain_text_and_dot() {
    let d = setup();
    let out = d.command(&["explain", "p.pattern"]).ok();
    assert!(out.starts_with("pattern up: 1 alternative(s)"), "{out}");
    assert!(out.contains("begin Trade a"), "{out}");
    assert!(out.contains("where b.price > a.price"), "{out}");
    let dot = d
        .command(&["explain", "p.pattern", "--pattern", "up", "--dot"])
        .ok();
    assert!(dot.starts_with("digraph \"up\" {"), "{dot}");
    assert!(dot.contains("-> a0_s"), "{dot}");
    assert!(dot.contains("shape=doublecircle"), "{dot}");
    assert!(dot.trim_end().ends_with('}'));
    let done = d
        .command(&["explain", "p.pattern", "--pattern", "nope"])
        .fails(2);
    assert!(done.stderr.contains("patterns: up"), "{}", done.stderr);
    // A file that needs the declarations beside it.
    d.write("lib/types.pattern", TYPES);
    d.write("lib/up.pattern", UP);
    let out = d.command(&["explain", "lib/up.pattern"]).ok();
    assert!(out.starts_with("pattern up:"), "{out}");
    d.write("broken.pattern", "PATTERN");
    d.command(&["explain", "broken.pattern"]).fails(2);
}

#[test]
fn untaken_or_branch_is_null_and_kleene_is_an_array() {
    let d = Dir::new();
    d.write(
        "p.pattern",
        format!(
            "{TYPES}PATTERN either SEQ(Trade a, OR(News n, Trade b)) WITHIN 1m PARTITION BY symbol;
PATTERN runs SEQ(News n, Trade t*, News m) WITHIN 1m PARTITION BY symbol EMIT count(t) AS k;"
        ),
    );
    d.write(
        "data.csv",
        "type,ts,symbol,price,volume,headline\n\
         Trade,0,TCS,1,1,\n\
         News,1000,TCS,,,hi\n\
         News,2000,TCS,,,again\n",
    );
    let out = d
        .command(&[
            "run",
            "p.pattern",
            "--input",
            "data.csv",
            "--ts-format",
            "epoch_ms",
        ])
        .ok();
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let either = lines
        .iter()
        .find(|m| m["pattern"] == "either")
        .expect("an `either` match");
    assert_eq!(either["events"]["b"], serde_json::Value::Null);
    assert_eq!(either["events"]["n"]["headline"], "hi");
    let runs = lines
        .iter()
        .find(|m| m["pattern"] == "runs")
        .expect("a `runs` match");
    assert_eq!(runs["events"]["t"], serde_json::json!([]));
    assert_eq!(runs["fields"]["k"], 0);
    // Key order of the object as written.
    let first = out.lines().next().unwrap();
    let keys: Vec<usize> = [
        "\"pattern\"",
        "\"key\"",
        "\"start\"",
        "\"end\"",
        "\"fields\"",
        "\"events\"",
    ]
    .iter()
    .map(|k| first.find(k).unwrap())
    .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{first}");
}
