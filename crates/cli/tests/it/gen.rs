//! `dalal gen`: output shape, determinism, and the truth file checked against
//! reference matchers of the ten shipped patterns written straight from
//! LANGUAGE.md (independent of the generator's own bookkeeping).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output, Stdio};

fn dalal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dalal"))
        .args(args)
        .output()
        .expect("run dalal")
}

fn gen_ok(args: &[&str]) -> String {
    let mut all = vec!["gen"];
    all.extend_from_slice(args);
    let out = dalal(&all);
    assert!(
        out.status.success(),
        "dalal {all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

const HEADER: &str = "type,ts,symbol,price,volume,side,size,headline,change_pct,order_id,customer,category,city,amount,items,payment";

/// Columns each type fills (by header position).
fn columns_of(ty: &str) -> &'static [usize] {
    match ty {
        "Trade" => &[2, 3, 4],
        "Order" => &[2, 3, 5, 6],
        "News" => &[2, 7],
        "VolumeSpike" => &[2, 4],
        "PriceAlert" => &[2, 3, 8],
        "Purchase" => &[9, 10, 11, 12, 13, 14, 15],
        other => panic!("unknown type {other}"),
    }
}

fn parse_ts(s: &str) -> i64 {
    assert_eq!(s.len(), 24, "{s}");
    assert!(s.ends_with('Z') && s.as_bytes()[19] == b'.', "{s}");
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .timestamp_millis()
}

#[test]
fn csv_header_columns_and_time_order() {
    let out = gen_ok(&["--events", "5000", "--seed", "3"]);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(HEADER));
    let mut last = i64::MIN;
    let mut types = BTreeSet::new();
    let mut rows = 0;
    for line in lines {
        rows += 1;
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), 16, "{line}");
        let filled = columns_of(cells[0]);
        for (i, c) in cells.iter().enumerate().skip(2) {
            assert_eq!(!c.is_empty(), filled.contains(&i), "column {i} of {line}");
        }
        let ts = parse_ts(cells[1]);
        assert!(ts >= last, "time went back at {line}");
        last = ts;
        for &i in filled {
            if [3, 8, 13].contains(&i) {
                let (_, frac) = cells[i].split_once('.').expect("two decimals");
                assert_eq!(frac.len(), 2, "{line}");
                cells[i].parse::<f64>().expect("a number");
            }
            if [4, 6, 14].contains(&i) {
                cells[i].parse::<i64>().expect("an integer");
            }
        }
        if cells[0] == "Order" {
            assert!(cells[5] == "buy" || cells[5] == "sell");
        }
        types.insert(cells[0].to_owned());
    }
    assert_eq!(rows, 5000);
    assert_eq!(types.len(), 6, "{types:?}");
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = gen_ok(&["--events", "3000", "--seed", "42"]);
    let b = gen_ok(&["--events", "3000", "--seed", "42"]);
    let c = gen_ok(&["--events", "3000", "--seed", "43"]);
    assert_eq!(a, b);
    assert_ne!(a, c);
    let j1 = gen_ok(&["--events", "3000", "--seed", "42", "--format", "jsonl"]);
    let j2 = gen_ok(&["--events", "3000", "--seed", "42", "--format", "jsonl"]);
    assert_eq!(j1, j2);
}

#[test]
fn jsonl_objects_have_their_own_fields_with_json_types() {
    let out = gen_ok(&["--events", "4000", "--format", "jsonl", "--symbols", "25"]);
    let csv = gen_ok(&["--events", "4000", "--symbols", "25"]);
    let header: Vec<&str> = HEADER.split(',').collect();
    let mut n = 0;
    for (line, row) in out.lines().zip(csv.lines().skip(1)) {
        n += 1;
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        let obj = v.as_object().expect("object");
        let cells: Vec<&str> = row.split(',').collect();
        let ty = obj["type"].as_str().expect("type");
        assert_eq!(ty, cells[0], "same event in both formats");
        assert_eq!(obj["ts"].as_str(), Some(cells[1]));
        let fields = columns_of(ty);
        assert_eq!(obj.len(), 2 + fields.len(), "{line}");
        for &i in fields {
            let name = header[i];
            let value = &obj[name];
            match name {
                "price" | "change_pct" | "amount" => {
                    let f = value.as_f64().expect("number");
                    assert!((f - cells[i].parse::<f64>().unwrap()).abs() < 1e-9);
                }
                "volume" | "size" | "items" => {
                    assert_eq!(value.as_i64(), Some(cells[i].parse().unwrap()), "{line}");
                }
                _ => assert_eq!(value.as_str(), Some(cells[i]), "{line}"),
            }
        }
    }
    assert_eq!(n, 4000);
}

#[test]
fn zero_events_is_just_the_header() {
    assert_eq!(gen_ok(&["--events", "0"]), format!("{HEADER}\n"));
    assert_eq!(gen_ok(&["--events", "0", "--format", "jsonl"]), "");
}

#[test]
fn bad_flags_are_usage_errors() {
    for args in [
        &["gen", "--events", "-3"][..],
        &["gen", "--symbols", "0"],
        &["gen", "--format", "xml"],
        &["gen", "--start", "yesterday"],
        &["gen", "--seed", "x"],
    ] {
        let out = dalal(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
    }
    let out = dalal(&["gen", "--start", "9999-12-31T00:00:00Z"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("9999"));
}

#[test]
fn unwritable_output_is_an_error() {
    let out = dalal(&["gen", "--output", "/nonexistent-dir/x.csv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot create"));
}

#[test]
fn closed_pipe_exits_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dalal"))
        .args(["gen", "--events", "2000000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Read;
        let mut stdout = child.stdout.take().expect("stdout");
        let mut first = [0u8; 4096];
        stdout.read_exact(&mut first).expect("some output");
        // Dropping the read end closes the pipe.
    }
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn output_file_and_truth_file() {
    let dir = std::env::temp_dir().join(format!("dalal-gen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data.csv");
    let truth = dir.join("truth.jsonl");
    let stdout = gen_ok(&[
        "--output",
        data.to_str().unwrap(),
        "--truth",
        truth.to_str().unwrap(),
    ]);
    assert!(stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&data).unwrap(), gen_ok(&[]));
    let truth = std::fs::read_to_string(&truth).unwrap();
    let mut episodes = BTreeSet::new();
    for line in truth.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let kind = v["kind"].as_str().unwrap();
        assert!(kind == "episode" || kind == "near_miss");
        assert!(v["key"].is_string() || v["key"].is_null());
        let (s, e) = (
            parse_ts(v["start"].as_str().unwrap()),
            parse_ts(v["end"].as_str().unwrap()),
        );
        assert!(s <= e);
        if kind == "episode" {
            episodes.insert(v["pattern"].as_str().unwrap().to_owned());
        }
    }
    let all = [
        "bull_run",
        "bear_signal",
        "insider_trading",
        "momentum",
        "manipulation",
        "sell_without_buy",
        "news_without_trade",
        "rising_run",
        "order_fraud",
        "category_demand",
    ];
    assert_eq!(episodes, all.iter().map(|s| (*s).to_owned()).collect());
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------
// Reference matchers: the shipped patterns, evaluated by the semantics of
// LANGUAGE.md section 6 over the ordered stream of each partition.

const SEC: i64 = 1_000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;

#[derive(Debug, Clone)]
struct Ev {
    ty: String,
    ts: i64,
    symbol: String,
    price: i64,
    side: String,
    size: i64,
    headline: String,
    category: String,
    amount: i64,
    items: i64,
}

fn cents(s: &str) -> i64 {
    let (a, b) = s.split_once('.').unwrap();
    let v = a.trim_start_matches('-').parse::<i64>().unwrap() * 100 + b.parse::<i64>().unwrap();
    if s.starts_with('-') { -v } else { v }
}

fn parse_stream(csv: &str) -> Vec<Ev> {
    csv.lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            Ev {
                ty: c[0].to_owned(),
                ts: parse_ts(c[1]),
                symbol: c[2].to_owned(),
                price: if c[3].is_empty() { 0 } else { cents(c[3]) },
                side: c[5].to_owned(),
                size: c[6].parse().unwrap_or(0),
                headline: c[7].to_owned(),
                category: c[11].to_owned(),
                amount: if c[13].is_empty() { 0 } else { cents(c[13]) },
                items: c[14].parse().unwrap_or(0),
            }
        })
        .collect()
}

fn positive(text: &str) -> bool {
    let t = text.to_lowercase();
    let count = |ws: &[&str]| ws.iter().map(|w| t.matches(w).count()).sum::<usize>();
    count(&["profit", "growth", "record", "surge", "gain"])
        > count(&["loss", "decline", "fraud", "penalty", "debt"])
}

/// (pattern, key, start, end)
type Match = (String, String, i64, i64);

/// `SEQ(A a, B b) WHERE .. WITHIN w`, skip till next match, skip past last event:
/// each run takes the first `B` that fits; among runs completing at one event the
/// earliest start wins and the others are dropped with it.
fn seq2(
    evs: &[&Ev],
    is_a: impl Fn(&Ev) -> bool,
    is_b: impl Fn(&Ev) -> bool,
    fits: impl Fn(&Ev, &Ev) -> bool,
    within: i64,
) -> Vec<(i64, i64)> {
    let mut runs: Vec<&Ev> = Vec::new();
    let mut out = Vec::new();
    for e in evs {
        runs.retain(|a| e.ts - a.ts <= within);
        if is_b(e) {
            if let Some(a) = runs.iter().find(|a| fits(a, e)) {
                out.push((a.ts, e.ts));
                runs.clear();
            }
        }
        if is_a(e) {
            runs.push(e);
        }
    }
    out
}

fn reference_matches(evs: &[Ev]) -> BTreeSet<Match> {
    let mut out = BTreeSet::new();
    let mut by_symbol: BTreeMap<&str, Vec<&Ev>> = BTreeMap::new();
    let mut by_category: BTreeMap<&str, Vec<&Ev>> = BTreeMap::new();
    for e in evs {
        if e.ty == "Purchase" {
            by_category.entry(&e.category).or_default().push(e);
            if e.amount > 500_000 && e.items > 10 && e.ts.div_euclid(HOUR).rem_euclid(24) < 6 {
                out.insert(("order_fraud".into(), String::new(), e.ts, e.ts));
            }
        } else {
            by_symbol.entry(&e.symbol).or_default().push(e);
        }
    }
    let mut add = |pat: &str, key: &str, found: Vec<(i64, i64)>| {
        for (s, e) in found {
            out.insert((pat.to_owned(), key.to_owned(), s, e));
        }
    };
    for (sym, evs) in &by_symbol {
        let of = |t: &str| {
            evs.iter()
                .copied()
                .filter(|e| e.ty == t)
                .collect::<Vec<_>>()
        };
        let spikes_news: Vec<&Ev> = evs
            .iter()
            .copied()
            .filter(|e| e.ty == "VolumeSpike" || e.ty == "News")
            .collect();
        let spike = |e: &Ev| e.ty == "VolumeSpike";
        let news = |e: &Ev| e.ty == "News";
        add(
            "bull_run",
            sym,
            seq2(
                &spikes_news,
                spike,
                |e| news(e) && positive(&e.headline),
                |_, _| true,
                10 * MIN,
            ),
        );
        add(
            "insider_trading",
            sym,
            seq2(
                &spikes_news,
                spike,
                news,
                |v, n| n.ts - v.ts >= 5 * MIN,
                30 * MIN,
            ),
        );
        let news_orders: Vec<&Ev> = evs
            .iter()
            .copied()
            .filter(|e| e.ty == "Order" || e.ty == "News")
            .collect();
        add(
            "bear_signal",
            sym,
            seq2(
                &news_orders,
                |e| news(e) && !positive(&e.headline),
                |e| e.ty == "Order" && e.side == "sell" && e.size > 10_000,
                |_, _| true,
                5 * MIN,
            ),
        );
        // manipulation: consecutive orders (strict contiguity).
        let orders = of("Order");
        let mut i = 0;
        let mut found = Vec::new();
        while i + 1 < orders.len() {
            let (b, r) = (orders[i], orders[i + 1]);
            if b.size > 50_000 && r.size > 30_000 && r.side != b.side && r.ts - b.ts <= MIN {
                found.push((b.ts, r.ts));
                i += 2;
            } else {
                i += 1;
            }
        }
        add("manipulation", sym, found);
        // sell_without_buy: trailing absence of a buy within the minute.
        let found = orders
            .iter()
            .enumerate()
            .filter(|(_, s)| s.side == "sell" && s.size > 20_000)
            .filter(|(i, s)| {
                !orders[i + 1..]
                    .iter()
                    .any(|b| b.side == "buy" && b.ts <= s.ts + MIN)
            })
            .map(|(_, s)| (s.ts, s.ts))
            .collect();
        add("sell_without_buy", sym, found);
        // news_without_trade: no trade after the news within 5 minutes.
        let found = evs
            .iter()
            .enumerate()
            .filter(|(_, n)| n.ty == "News")
            .filter(|(i, n)| {
                !evs[i + 1..]
                    .iter()
                    .any(|t| t.ty == "Trade" && t.ts <= n.ts + 5 * MIN)
            })
            .map(|(_, n)| (n.ts, n.ts))
            .collect();
        add("news_without_trade", sym, found);
        let trades = of("Trade");
        // momentum: four strictly rising consecutive trades within 3 minutes.
        let mut found = Vec::new();
        let mut j = 0;
        while j + 3 < trades.len() {
            let rising = (1..4).all(|m| trades[j + m].price > trades[j + m - 1].price);
            if rising && trades[j + 3].ts - trades[j].ts <= 3 * MIN {
                found.push((trades[j].ts, trades[j + 3].ts));
                j += 4;
            } else {
                j += 1;
            }
        }
        add("momentum", sym, found);
        // rising_run: each run greedily takes trades above its running average.
        let mut found = Vec::new();
        let mut allowed = 0;
        loop {
            let mut best: Option<(usize, usize)> = None;
            for j in allowed..trades.len() {
                if best.is_some_and(|(end, _)| j >= end) {
                    // A run starting after the best completion cannot beat it.
                    break;
                }
                let (mut count, mut sum) = (1i64, trades[j].price);
                for k in j + 1..trades.len() {
                    if trades[k].ts - trades[j].ts > 5 * MIN {
                        break;
                    }
                    if trades[k].price * count > sum {
                        count += 1;
                        sum += trades[k].price;
                        if count == 5 {
                            if best.is_none_or(|(end, _)| k < end) {
                                best = Some((k, j));
                            }
                            break;
                        }
                    }
                }
            }
            let Some((end, start)) = best else { break };
            found.push((trades[start].ts, trades[end].ts));
            allowed = end + 1;
        }
        add("rising_run", sym, found);
    }
    for (cat, ps) in &by_category {
        let mut found = Vec::new();
        let mut j = 0;
        while j + 99 < ps.len() {
            if ps[j + 99].ts - ps[j].ts <= HOUR {
                found.push((ps[j].ts, ps[j + 99].ts));
                j += 100;
            } else {
                j += 1;
            }
        }
        add("category_demand", cat, found);
    }
    out
}

/// Generates with `args`, runs the reference matchers and compares with the truth:
/// every match is a planted episode and every planted episode matches, and no
/// near miss overlaps a match of its pattern and key.
fn check_truth(args: &[&str]) {
    let dir = std::env::temp_dir().join(format!(
        "dalal-gen-truth-{}-{}",
        std::process::id(),
        args.join("_").replace([':', '/'], "")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let truth_path = dir.join("truth.jsonl");
    let mut all = args.to_vec();
    all.extend(["--truth", truth_path.to_str().unwrap()]);
    let csv = gen_ok(&all);
    let truth = std::fs::read_to_string(&truth_path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let matches = reference_matches(&parse_stream(&csv));
    let mut episodes = BTreeSet::new();
    let mut misses = Vec::new();
    for line in truth.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let m: Match = (
            v["pattern"].as_str().unwrap().to_owned(),
            v["key"].as_str().unwrap_or("").to_owned(),
            parse_ts(v["start"].as_str().unwrap()),
            parse_ts(v["end"].as_str().unwrap()),
        );
        if v["kind"] == "episode" {
            episodes.insert(m);
        } else {
            misses.push(m);
        }
    }
    let missing: Vec<_> = episodes.difference(&matches).collect();
    let extra: Vec<_> = matches.difference(&episodes).collect();
    assert!(
        missing.is_empty(),
        "{args:?}: planted but not found: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "{args:?}: found but not planted: {extra:?}"
    );
    for (pat, key, s, e) in &misses {
        let hit = matches
            .iter()
            .find(|(p, k, ms, me)| p == pat && k == key && ms <= e && s <= me);
        assert!(
            hit.is_none(),
            "{args:?}: near miss {pat} {key} {s}..{e} matched {hit:?}"
        );
    }
    assert!(!episodes.is_empty() && !misses.is_empty());
}

#[test]
fn truth_agrees_with_reference_matchers_default() {
    check_truth(&[]);
    check_truth(&["--seed", "7"]);
}

#[test]
fn truth_agrees_with_reference_matchers_other_shapes() {
    check_truth(&["--seed", "2", "--symbols", "3", "--events", "12000"]);
    check_truth(&["--seed", "3", "--symbols", "400", "--events", "30000"]);
    // Crosses 06:00 UTC: the hour-6 near miss of order_fraud is planted.
    check_truth(&[
        "--seed",
        "4",
        "--start",
        "2024-03-05T05:10:00Z",
        "--events",
        "20000",
    ]);
    check_truth(&["--seed", "5", "--events", "1500"]);
}

/// Many seeds and shapes; slow in debug builds: `cargo test -p dalal-cli --test gen -- --ignored`.
#[test]
#[ignore]
fn truth_agrees_with_reference_matchers_many_seeds() {
    for seed in 10..40u32 {
        let seed_s = seed.to_string();
        let symbols = ["1", "2", "5", "10", "50", "2000"][seed as usize % 6];
        let events = ["10000", "25000", "40000", "3000"][seed as usize % 4];
        let start = [
            "2024-01-02T03:30:00Z",
            "2024-06-30T23:10:00Z",
            "2025-02-11T05:40:00Z",
        ][seed as usize % 3];
        check_truth(&[
            "--seed",
            &seed_s,
            "--symbols",
            symbols,
            "--events",
            events,
            "--start",
            start,
        ]);
    }
}
