//! The engine's public API: events, time and lateness, stats, caps,
//! snapshots, explain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dalal::{
    Binding, Config, Engine, EngineError, Event, EventError, EventTime, LatePolicy, Match, Natives,
    Program, Value,
};
use dalal_lang::typed::ValueType;
use std::time::Duration;

const SCHEMA: &str = "EVENT A (k STRING, x INT, y FLOAT);
EVENT B (k STRING, x INT, y FLOAT);
EVENT C (k STRING, x INT, y FLOAT);
";

fn program(patterns: &str) -> Program {
    Program::compile(&format!("{SCHEMA}{patterns}")).unwrap_or_else(|e| panic!("{e}"))
}

fn ev(p: &Program, ty: &str, ms: i64, k: &str, x: i64) -> Event {
    Event::new(
        p,
        ty,
        EventTime::from_millis(ms),
        vec![Value::str(k), Value::Int(x), Value::Float(x as f64)],
    )
    .unwrap()
}

/// Each variable of a match with the arrival numbers of its events.
type Seqs = Vec<(String, Vec<u64>)>;

fn seqs(m: &Match) -> Seqs {
    m.events
        .iter()
        .map(|(n, b)| (n.to_string(), b.seqs()))
        .collect()
}

#[test]
fn event_new_validates_against_the_schema() {
    let p = program("");
    let e = Event::new(
        &p,
        "A",
        EventTime(0),
        vec![Value::str("k"), Value::Int(1), Value::Int(2)],
    )
    .unwrap();
    assert_eq!(e.fields[2], Value::Float(2.0), "INT promoted to FLOAT");
    let e = Event::new(
        &p,
        "A",
        EventTime(0),
        vec![Value::Null, Value::Null, Value::Null],
    );
    assert!(e.is_ok(), "NULL fits any field");
    assert_eq!(
        Event::new(&p, "Z", EventTime(0), vec![]),
        Err(EventError::UnknownType("Z".into()))
    );
    assert!(matches!(
        Event::new(&p, "A", EventTime(0), vec![Value::Null]),
        Err(EventError::FieldCount {
            expected: 3,
            found: 1,
            ..
        })
    ));
    let err = Event::new(
        &p,
        "A",
        EventTime(0),
        vec![Value::Int(1), Value::Int(1), Value::Float(1.0)],
    )
    .unwrap_err();
    assert_eq!(
        err,
        EventError::FieldType {
            ty: "A".into(),
            field: "k".into(),
            expected: ValueType::String,
            found: ValueType::Int,
        }
    );
    assert!(err.to_string().contains("field `k` of `A` is STRING"));
}

#[test]
fn push_refuses_events_that_do_not_fit() {
    let p = program("PATTERN one SEQ(A a);");
    let mut engine = Engine::new(p.clone(), Config::default());
    let bad = Event::from_parts(p.type_id("A").unwrap(), EventTime(0), vec![Value::Int(1)]);
    assert!(matches!(
        engine.push(bad),
        Err(EngineError::InvalidEvent(_))
    ));
    let bad = Event::from_parts(dalal_lang::typed::TypeId(99), EventTime(0), vec![]);
    assert!(engine.push(bad).is_err());
    assert_eq!(engine.stats().events, 0);
}

#[test]
fn single_event_pattern_matches_each_event_without_within() {
    let p = program("PATTERN big SEQ(A a) WHERE a.x > 5 EMIT a.x * 2 AS twice;");
    let mut engine = Engine::new(p.clone(), Config::default());
    for (i, x) in [1, 7, 9].into_iter().enumerate() {
        engine.push(ev(&p, "A", i as i64, "k", x)).unwrap();
    }
    let m: Vec<Match> = engine.drain_matches().collect();
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].field("twice"), Some(&Value::Int(14)));
    assert_eq!(seqs(&m[1]), vec![("a".to_string(), vec![2])]);
    assert_eq!(engine.stats().live_runs, 0);
    assert_eq!(engine.stats().matches, vec![2]);
}

#[test]
fn late_events_follow_the_policy() {
    let p = program("PATTERN ab SEQ(A a, B b) WITHIN 10s;");
    for policy in [LatePolicy::Drop, LatePolicy::SideOutput, LatePolicy::Fail] {
        let cfg = Config {
            max_delay: Duration::from_secs(1),
            late: policy,
            ..Config::default()
        };
        let mut engine = Engine::new(p.clone(), cfg);
        engine.push(ev(&p, "A", 5_000, "k", 1)).unwrap();
        // 4.5 s is within the 1 s delay of 5 s: reordered, not late.
        engine.push(ev(&p, "B", 4_500, "k", 1)).unwrap();
        engine.push(ev(&p, "B", 6_000, "k", 1)).unwrap();
        // The watermark is now 5 s: 3 s is late.
        let r = engine.push(ev(&p, "B", 3_000, "k", 1));
        match policy {
            LatePolicy::Fail => assert!(matches!(r, Err(EngineError::Late { .. }))),
            _ => r.unwrap(),
        }
        let late: Vec<Event> = engine.drain_late().collect();
        assert_eq!(late.len(), usize::from(policy == LatePolicy::SideOutput));
        engine.finish();
        let stats = engine.stats();
        assert_eq!(stats.late, 1);
        assert_eq!(stats.events, 4);
        let m: Vec<Match> = engine.drain_matches().collect();
        // B at 4.5 s sorts before A at 5 s, so only B at 6 s follows A.
        assert_eq!(m.len(), 1);
        assert_eq!(seqs(&m[0])[1].1, vec![2]);
    }
}

#[test]
fn trailing_not_completes_on_watermark_and_finish() {
    let p = program("PATTERN lone SEQ(A a, NOT B n) WHERE n.k = a.k WITHIN 5s;");
    let mut engine = Engine::new(p.clone(), Config::default());
    engine.push(ev(&p, "A", 0, "k", 1)).unwrap();
    engine.advance_watermark(EventTime::from_millis(5_000));
    assert_eq!(
        engine.drain_matches().count(),
        0,
        "the window is still open at 5 s"
    );
    engine.advance_watermark(EventTime::from_millis(5_001));
    assert_eq!(engine.drain_matches().count(), 1);
    engine.push(ev(&p, "A", 10_000, "k", 1)).unwrap();
    engine.push(ev(&p, "B", 12_000, "other", 1)).unwrap();
    engine.finish();
    assert_eq!(
        engine.drain_matches().count(),
        1,
        "a B of another k does not cancel"
    );
    assert_eq!(engine.stats().live_runs, 0);
    assert_eq!(engine.stats().partitions, 0);
}

#[test]
fn partitions_are_freed_as_time_passes() {
    let p = program("PATTERN ab SEQ(A a, B b) WITHIN 1s PARTITION BY k;");
    let mut engine = Engine::new(p.clone(), Config::default());
    for i in 0..1_000 {
        engine
            .push(ev(&p, "A", i * 10, &format!("key{i}"), 1))
            .unwrap();
    }
    let s = engine.stats();
    // A partition is visited a window after its last event, rounded up to
    // half a window: quiet partitions live at most 1.5 windows.
    assert!(
        s.partitions <= 151,
        "old partitions are swept: {}",
        s.partitions
    );
    assert!(
        s.live_runs <= 151,
        "expired runs are freed: {}",
        s.live_runs
    );
    assert!(s.peak_runs >= 100);
    engine.finish();
    assert_eq!(engine.stats().partitions, 0);
}

/// A pattern with few keys leaves its quiet partitions unvisited: their
/// expired runs stay until the key's next event. When its keys pass 128,
/// the quiet partitions are queued once and freed as time passes.
#[test]
fn a_small_key_space_keeps_expired_runs_until_it_grows() {
    let p = program("PATTERN ab SEQ(A a, B b) WITHIN 1s PARTITION BY k;");
    let mut engine = Engine::new(p.clone(), Config::default());
    for i in 0..100 {
        engine
            .push(ev(&p, "A", i * 10, &format!("key{i}"), 1))
            .unwrap();
    }
    engine.push(ev(&p, "A", 5_000, "late", 1)).unwrap();
    let s = engine.stats();
    assert_eq!((s.partitions, s.live_runs), (101, 101), "held, not visited");
    // The key's next event drops its expired run: no match.
    engine.push(ev(&p, "B", 5_001, "key0", 1)).unwrap();
    assert_eq!(engine.drain_matches().count(), 0);
    assert_eq!(engine.stats().live_runs, 100);
    // 100 more keys: the pattern passes 128 slots and queues the old ones.
    for i in 0..100 {
        engine
            .push(ev(&p, "A", 6_000 + i, &format!("more{i}"), 1))
            .unwrap();
    }
    engine.push(ev(&p, "A", 9_000, "end", 1)).unwrap();
    let s = engine.stats();
    assert!(
        s.partitions <= 2 && s.live_runs <= 2,
        "quiet partitions freed: {} partitions, {} runs",
        s.partitions,
        s.live_runs
    );
    engine.finish();
    assert_eq!(engine.stats().partitions, 0);
}

/// A trailing `NOT` match fires when the watermark passes its window, in a
/// partition that has had events since (so it is not due for expiry) and
/// that gets none at that time: time moved by other keys or by the caller.
#[test]
fn trailing_not_fires_on_time_in_a_partition_with_recent_events() {
    let p = program("PATTERN lone SEQ(A a, NOT B n) WITHIN 1s PARTITION BY k;");
    let mut engine = Engine::new(p.clone(), Config::default());
    engine.push(ev(&p, "A", 0, "k", 1)).unwrap();
    engine.push(ev(&p, "A", 900, "k", 2)).unwrap();
    engine.push(ev(&p, "A", 1_001, "other", 3)).unwrap();
    let m: Vec<Match> = engine.drain_matches().collect();
    assert_eq!(m.len(), 1, "the first A's window closed at 1 s: {m:?}");
    engine.advance_watermark(EventTime::from_millis(1_901));
    assert_eq!(engine.drain_matches().count(), 1, "the second A's");
    // A key that went idle comes back: its partition is reused as it was.
    engine.advance_watermark(EventTime::from_millis(10_000));
    engine.drain_matches().for_each(drop);
    assert_eq!(
        engine.stats().partitions,
        0,
        "idle partitions are not counted"
    );
    engine.push(ev(&p, "B", 10_001, "k", 4)).unwrap();
    assert_eq!(engine.stats().partitions, 0, "B starts nothing");
    engine.push(ev(&p, "A", 10_002, "k", 5)).unwrap();
    engine.push(ev(&p, "B", 10_003, "k", 6)).unwrap();
    engine.push(ev(&p, "A", 10_004, "k", 7)).unwrap();
    assert_eq!(engine.stats().partitions, 1);
    engine.finish();
    let m: Vec<Match> = engine.drain_matches().collect();
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(seqs(&m[0]), vec![("a".to_string(), vec![6])]);
}

/// An event that can start no run and that no leading `NOT` looks back at
/// makes no partition for its key; one that can, or that a leading `NOT`
/// may need, does.
/// A partition made by one event type keeps the string of the event that
/// last found it by value, not by pointer (each type's reader interns its
/// own copy of a symbol), so the next event of that type compares its key
/// by pointer. The key's value, and so every match, is the same.
#[test]
fn a_partition_takes_the_key_string_of_the_event_that_found_it() {
    let p = program("PATTERN ab SEQ(A a, B b) WITHIN 1s PARTITION BY k;");
    let (first, second) = (Value::str("SYM"), Value::str("SYM"));
    let at = |ty: &str, ms: i64, k: &Value| {
        Event::new(
            &p,
            ty,
            EventTime::from_millis(ms),
            vec![k.clone(), Value::Int(1), Value::Float(1.0)],
        )
        .unwrap()
    };
    let mut engine = Engine::new(p.clone(), Config::default());
    engine.push(at("A", 0, &first)).unwrap();
    engine.push(at("B", 10, &second)).unwrap();
    engine.finish();
    let m: Vec<Match> = engine.drain_matches().collect();
    assert_eq!(m.len(), 1, "{m:?}");
    let (Value::Str(key), Value::Str(b)) = (&m[0].key[0].1, &second) else {
        panic!("{m:?}");
    };
    assert_eq!(&**key, "SYM");
    assert!(std::sync::Arc::ptr_eq(key, b), "the key is the B's string");
}

#[test]
fn events_that_start_nothing_make_no_partition() {
    let p = program(
        "PATTERN ab SEQ(A a, B b) WHERE a.x > 5 WITHIN 1s PARTITION BY k;
         PATTERN quiet SEQ(A a, NOT B n) WITHIN 1s PARTITION BY k;",
    );
    let mut engine = Engine::new(p.clone(), Config::default());
    for i in 0..100 {
        // B starts nothing in either pattern; an A with x <= 5 starts no
        // run of `ab`, but one of `quiet`.
        engine
            .push(ev(&p, "B", i * 10, &format!("b{i}"), 9))
            .unwrap();
    }
    assert_eq!(engine.stats().partitions, 0);
    engine.push(ev(&p, "A", 1_000, "k", 1)).unwrap();
    assert_eq!(engine.stats().partitions, 1, "only `quiet` starts a run");
    engine.push(ev(&p, "A", 1_001, "k", 7)).unwrap();
    assert_eq!(engine.stats().partitions, 2);
    engine.push(ev(&p, "B", 1_002, "k", 0)).unwrap();
    engine.finish();
    let m: Vec<Match> = engine.drain_matches().collect();
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(&*m[0].pattern, "ab");

    let lead = program("PATTERN lead SEQ(NOT B n, A a) WITHIN 1s PARTITION BY k;");
    let mut engine = Engine::new(lead.clone(), Config::default());
    engine.push(ev(&lead, "B", 0, "k", 0)).unwrap();
    assert_eq!(
        engine.stats().partitions,
        1,
        "a leading NOT looks back at B"
    );
    engine.push(ev(&lead, "A", 500, "k", 0)).unwrap();
    engine.finish();
    assert_eq!(
        engine.drain_matches().count(),
        0,
        "the B before A forbids it"
    );
}

#[test]
fn run_cap_drops_new_runs_and_counts_them() {
    let p = program("PATTERN ab SEQ(A a, B b) WITHIN 1h SKIP TILL ANY MATCH;");
    let cfg = Config {
        max_runs_per_partition: 3,
        ..Config::default()
    };
    let mut engine = Engine::new(p.clone(), cfg);
    for i in 0..5 {
        engine.push(ev(&p, "A", i, "k", 1)).unwrap();
    }
    engine.push(ev(&p, "B", 10, "k", 1)).unwrap();
    let s = engine.stats();
    assert_eq!(s.dropped_runs, 2);
    let m: Vec<Match> = engine.drain_matches().collect();
    // The first three A's were kept; SKIP PAST LAST emits the first pair only.
    assert_eq!(m.len(), 1);
    assert_eq!(seqs(&m[0])[0].1, vec![0]);
}

#[test]
fn snapshot_restore_continues_identically() {
    let p = program(
        "PATTERN rise SEQ(A t+, B b) WHERE t[i].x > t[i-1].x AND b.x > t[last].x
           WITHIN 10s PARTITION BY k AFTER MATCH NO SKIP EMIT count(t) AS n;
         PATTERN quiet SEQ(A a, NOT C c) WITHIN 3s PARTITION BY k;",
    );
    let events: Vec<Event> = (0..60)
        .map(|i| {
            let ty = ["A", "A", "B", "C"][(i * 7 % 11) % 4];
            ev(
                &p,
                ty,
                i as i64 * 700,
                ["p", "q"][i % 2],
                (i * 13 % 17) as i64,
            )
        })
        .collect();
    let run_all = |cut: Option<usize>| -> Vec<Match> {
        let mut engine = Engine::new(
            p.clone(),
            Config {
                max_delay: Duration::from_millis(1_500),
                ..Config::default()
            },
        );
        let mut out = Vec::new();
        for (i, e) in events.iter().enumerate() {
            if cut == Some(i) {
                let json = serde_json::to_string(&engine.snapshot().unwrap()).unwrap();
                engine = Engine::restore(p.clone(), serde_json::from_str(&json).unwrap()).unwrap();
            }
            engine.push(e.clone()).unwrap();
            engine.drain_into(&mut out);
        }
        engine.finish();
        engine.drain_into(&mut out);
        out
    };
    let whole = run_all(None);
    assert!(!whole.is_empty());
    for cut in [1, 17, 30, 59] {
        assert_eq!(run_all(Some(cut)), whole, "snapshot at {cut}");
    }
}

/// Snapshots written before the sweep went (version 3) carry each
/// pattern's next sweep time; they restore (the field is ignored) and
/// continue as the engine that wrote them would.
#[test]
fn a_snapshot_with_the_old_sweep_field_restores() {
    let p = program("PATTERN ab SEQ(A a, B b) WITHIN 1s PARTITION BY k;");
    let mut engine = Engine::new(p.clone(), Config::default());
    engine.push(ev(&p, "A", 0, "k", 1)).unwrap();
    let mut json = serde_json::to_value(engine.snapshot().unwrap()).unwrap();
    let states = json["states"].as_array_mut().unwrap();
    assert!(!states.is_empty());
    for st in states {
        st.as_object_mut()
            .unwrap()
            .insert("next_sweep".to_string(), serde_json::json!(500));
    }
    let mut restored = Engine::restore(p.clone(), serde_json::from_value(json).unwrap()).unwrap();
    restored.push(ev(&p, "B", 900, "k", 2)).unwrap();
    restored.push(ev(&p, "A", 5_000, "k", 3)).unwrap();
    assert_eq!(restored.drain_matches().count(), 1);
    assert_eq!(restored.stats().live_runs, 1, "the run of the A at 5 s");
}

#[test]
fn restore_rejects_another_program() {
    let p = program("PATTERN one SEQ(A a);");
    let q = program("PATTERN two SEQ(A a);");
    let snap = Engine::new(p, Config::default()).snapshot().unwrap();
    assert!(Engine::restore(q, snap).is_err());
}

#[test]
fn explain_lists_states_edges_and_conditions() {
    let p = program(
        "PATTERN x SEQ(A a, B t{2,}, NOT C n, OR(A c, B d)) WHERE t[i].x > t[i-1].x
           AND count(t) > 2 AND n.x = a.x AND d.x > 1 WITHIN 1m;",
    );
    let text = p.explain("x").unwrap();
    for needle in [
        "begin A a",
        "grow B t",
        "proceed t (count >= 2)",
        "where count(t) > 2",
        "where t[i].x > t[i-1].x",
        "not C n  where n.x = a.x",
        "begin B d",
        "(accept)",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in\n{text}");
    }
    assert!(p.explain("nope").is_none());
}

#[test]
fn or_branches_bind_one_variable_and_leave_the_other_none() {
    let p = program("PATTERN o SEQ(A a, OR(B b, C c)) WITHIN 1m EMIT coalesce(b.x, c.x) AS x;");
    let mut engine = Engine::new(p.clone(), Config::default());
    engine.push(ev(&p, "A", 0, "k", 1)).unwrap();
    engine.push(ev(&p, "C", 1, "k", 42)).unwrap();
    let m: Vec<Match> = engine.drain_matches().collect();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].binding("b"), Some(&Binding::None));
    assert!(matches!(m[0].binding("c"), Some(Binding::One(e)) if e.seq == 1));
    assert_eq!(m[0].field("x"), Some(&Value::Int(42)));
    assert_eq!(m[0].start, EventTime::from_millis(0));
    assert_eq!(m[0].end, EventTime::from_millis(1));
}

#[test]
fn native_functions_are_called() {
    let mut natives = Natives::new();
    natives.register("twice", vec![ValueType::Int], ValueType::Int, |a| match a {
        [Value::Int(i)] => Value::Int(i * 2),
        _ => Value::Null,
    });
    let mut sources = dalal_lang::Sources::new();
    sources.add(
        "t.pattern",
        format!("{SCHEMA} PATTERN n SEQ(A a) WHERE twice(a.x) = 8;"),
    );
    let p = Program::from_sources_with(&sources, &natives).unwrap();
    let mut engine = Engine::new(p.clone(), Config::default());
    engine.push(ev(&p, "A", 0, "k", 3)).unwrap();
    engine.push(ev(&p, "A", 1, "k", 4)).unwrap();
    let m: Vec<Match> = engine.drain_matches().collect();
    assert_eq!(m.len(), 1);
    assert_eq!(seqs(&m[0]), vec![("a".to_string(), vec![1])]);
}

#[test]
fn the_matches_do_not_depend_on_batching_or_delay() {
    let p = program("PATTERN k SEQ(A a, B t+, C c) WHERE t[i].x >= a.x WITHIN 5s PARTITION BY k;");
    let events: Vec<Event> = (0..200)
        .map(|i| {
            let ty = ["A", "B", "B", "C", "B"][i * 3 % 5];
            ev(
                &p,
                ty,
                i as i64 * 100,
                ["p", "q", "r"][i % 3],
                (i * 7 % 5) as i64,
            )
        })
        .collect();
    let collect = |cfg: Config, order: &[usize]| {
        let mut engine = Engine::new(p.clone(), cfg);
        for &i in order {
            engine.push(events[i].clone()).unwrap();
        }
        engine.finish();
        let mut v: Vec<Vec<(String, Vec<u64>)>> = engine
            .drain_matches()
            .map(|m| {
                let mut s = seqs(&m);
                // Report by original index, not arrival order.
                for (_, l) in &mut s {
                    for x in l.iter_mut() {
                        *x = order[*x as usize] as u64;
                    }
                }
                s
            })
            .collect();
        v.sort();
        v
    };
    let in_order: Vec<usize> = (0..events.len()).collect();
    let base = collect(Config::default(), &in_order);
    assert!(!base.is_empty());
    // Swap neighbours: at most 100 ms out of order.
    let mut swapped = in_order.clone();
    for i in (0..swapped.len() - 1).step_by(2) {
        swapped.swap(i, i + 1);
    }
    let cfg = Config {
        max_delay: Duration::from_millis(100),
        ..Config::default()
    };
    assert_eq!(collect(cfg, &swapped), base);
}

/// A trailing-NOT completion comes after every completion at the last event
/// of its window (LANGUAGE.md section 6: "after every event with
/// ts <= ts(first) + WITHIN"), so here the match that binds `d` is emitted
/// first and SKIP PAST LAST EVENT then drops the one whose NOT is trailing.
#[test]
fn trailing_not_completes_after_completions_at_the_window_end() {
    let p = program(
        "PATTERN t SEQ(A a, NOT C n, B d*) WITHIN 5s;
         PATTERN u SEQ(A a, NOT C n, B d*) WITHIN 5s AFTER MATCH NO SKIP;",
    );
    let mut engine = Engine::new(p.clone(), Config::default());
    engine.push(ev(&p, "A", 0, "k", 1)).unwrap();
    engine.push(ev(&p, "B", 5_000, "k", 1)).unwrap();
    engine.finish();
    let got: Vec<(String, Seqs)> = engine
        .drain_matches()
        .map(|m| (m.pattern.to_string(), seqs(&m)))
        .collect();
    let with_d = vec![("a".to_string(), vec![0]), ("d".to_string(), vec![1])];
    let without_d = vec![("a".to_string(), vec![0]), ("d".to_string(), vec![])];
    assert_eq!(
        got,
        vec![
            ("t".to_string(), with_d.clone()),
            ("u".to_string(), with_d),
            ("u".to_string(), without_d),
        ]
    );
}

#[test]
fn engine_and_program_can_move_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Program>();
    send_sync::<Engine>();
    send_sync::<Match>();
    send_sync::<dalal::Snapshot>();
}

#[test]
fn partition_key_of_an_event() {
    let p = program(
        "PATTERN byk SEQ(A a, B b) WITHIN 1m PARTITION BY k;
         PATTERN all SEQ(A a) WHERE a.x > 0;",
    );
    let e = ev(&p, "A", 0, "key1", 3);
    let byk = p.pattern_id("byk").unwrap();
    let all = p.pattern_id("all").unwrap();
    assert_eq!(p.partition_key(byk, &e), Some(vec![Value::str("key1")]));
    assert_eq!(p.partition_key(all, &e), Some(vec![]));
    assert_eq!(
        p.partition_key(all, &ev(&p, "C", 0, "k", 1)),
        None,
        "not routed"
    );
}

/// FLOATs that JSON has no number for (NaN, the infinities, which the
/// readers accept) survive a snapshot's JSON, in buffered events and in
/// running aggregates, and the restored engine matches as the original.
#[test]
fn non_finite_floats_survive_a_snapshot() {
    let p =
        program("PATTERN up SEQ(A t{2,}) WHERE t[i].y > avg(t[..i-1].y) WITHIN 1m PARTITION BY k;");
    let fl = |ms: i64, y: f64| {
        Event::new(
            &p,
            "A",
            EventTime::from_millis(ms),
            vec![Value::str("k"), Value::Int(0), Value::Float(y)],
        )
        .unwrap()
    };
    let stream = [
        fl(0, f64::NEG_INFINITY),
        fl(1, f64::NAN),
        fl(2, 1.0),
        fl(3, f64::INFINITY),
        fl(4, 2.0),
    ];
    for cut in 0..=stream.len() {
        let mut whole = Engine::new(p.clone(), Config::default());
        let mut a = Engine::new(p.clone(), Config::default());
        for e in &stream[..cut] {
            whole.push(e.clone()).unwrap();
            a.push(e.clone()).unwrap();
        }
        let json = serde_json::to_string(&a.snapshot().unwrap()).unwrap();
        let snap = serde_json::from_str(&json).unwrap_or_else(|e| panic!("cut {cut}: {e}"));
        let mut b = Engine::restore(p.clone(), snap).unwrap();
        for e in &stream[cut..] {
            whole.push(e.clone()).unwrap();
            b.push(e.clone()).unwrap();
        }
        whole.finish();
        b.finish();
        let count = |e: &mut Engine| e.drain_matches().count();
        let want = count(&mut whole);
        assert!(want > 0, "1.0 rises above -inf: a match");
        assert_eq!(count(&mut b), want, "cut {cut}");
    }
}
