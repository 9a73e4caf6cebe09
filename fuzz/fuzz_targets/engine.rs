//! The engine on arbitrary input: the bytes before the first 0xFF are a
//! pattern over three fixed event types (compiled if it checks), the bytes
//! after it are an event stream, four bytes an event. Pushing, reordering,
//! late events, snapshot/restore and finish must never panic.
#![no_main]

use dalal::{Config, Engine, Event, EventTime, LatePolicy, Program, Value};
use libfuzzer_sys::fuzz_target;

const PRELUDE: &str = "EVENT A, B, C (k STRING, x INT, y FLOAT);\n";

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0xFF).unwrap_or(data.len());
    let (pattern, stream) = data.split_at(split);
    let text = format!("{PRELUDE}{}", String::from_utf8_lossy(pattern));
    let Ok(program) = Program::compile(&text) else {
        return;
    };
    let stream = stream.get(1..).unwrap_or_default();
    let config = Config {
        max_delay: std::time::Duration::from_millis(u64::from(stream.first().copied().unwrap_or(0)) * 10),
        late: LatePolicy::SideOutput,
        max_runs_per_partition: 64,
    };
    let mut engine = Engine::new(program.clone(), config);
    let mut ts: i64 = 0;
    for (i, rec) in stream.chunks_exact(4).enumerate() {
        let ty = ["A", "B", "C"][usize::from(rec[0] % 3)];
        // Mostly forward in time, sometimes backwards (out of order or late).
        ts += i64::from(rec[1] as i8) * 100;
        let k = ["p", "q", ""][usize::from(rec[2] % 3)];
        let small = rec[3] as i8;
        let x = i64::from(small);
        let fields = vec![
            if k.is_empty() { Value::Null } else { Value::str(k) },
            if x == 0 { Value::Null } else { Value::Int(x) },
            Value::Float(f64::from(small) / 4.0),
        ];
        let Ok(event) = Event::new(&program, ty, EventTime::from_millis(ts), fields) else {
            continue;
        };
        let _ = engine.push(event);
        if i % 7 == 3 {
            if let Ok(snap) = engine.snapshot() {
                engine = Engine::restore(program.clone(), snap).expect("own snapshot restores");
            }
        }
        let _ = engine.drain_matches().count();
    }
    engine.finish();
    let _ = engine.drain_matches().count();
    let _ = engine.drain_late().count();
    let _ = engine.stats();
});
