//! A generated market workload in which every pattern must match. Speed is
//! measured in `benches/` (criterion and the harness), not here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dalal::{Config, Engine, Event, EventTime, Program, Value};

const PROGRAM: &str = "
EVENT Trade (symbol STRING, price FLOAT, volume INT);
EVENT News (symbol STRING, headline STRING);
PATTERN momentum SEQ(Trade t{4,}) WHERE t[i].price > t[i-1].price
  WITHIN 3m PARTITION BY symbol STRICT CONTIGUITY
  EMIT t[1].price AS from_price, t[last].price AS to_price, count(t) AS trades;
PATTERN spike_news SEQ(Trade v, News n) WHERE v.volume > 9000 AND contains(n.headline, 'profit')
  WITHIN 10m PARTITION BY symbol;
PATTERN rising SEQ(Trade t+, News n) WHERE t[i].price > avg(t[..i-1].price) AND count(t) >= 3
  WITHIN 2m PARTITION BY symbol;
PATTERN quiet SEQ(News n, NOT Trade t) WHERE t.volume > 5000 WITHIN 1m PARTITION BY symbol;
";

fn events(program: &Program, n: usize) -> Vec<Event> {
    let syms: Vec<Value> = (0..100).map(|i| Value::str(&format!("S{i}"))).collect();
    let trade = program.type_id("Trade").unwrap();
    let news = program.type_id("News").unwrap();
    let mut x: u64 = 42;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|i| {
            let r = next();
            let sym = syms[((r >> 32) % 100) as usize].clone();
            let ts = EventTime::from_millis(i as i64 * 50);
            if r % 20 == 0 {
                let h = if r % 3 == 0 {
                    "record profit"
                } else {
                    "quiet day"
                };
                Event::from_parts(news, ts, vec![sym, Value::str(h)])
            } else {
                let price = 100.0 + ((r >> 8) % 100) as f64 / 10.0;
                Event::from_parts(
                    trade,
                    ts,
                    vec![
                        sym,
                        Value::Float(price),
                        Value::Int(((r >> 20) % 10_000) as i64),
                    ],
                )
            }
        })
        .collect()
}

#[test]
fn small_sample_matches_every_pattern() {
    let program = Program::compile(PROGRAM).unwrap();
    let evs = events(&program, 20_000);
    let mut engine = Engine::new(program, Config::default());
    for e in evs {
        engine.push(e).unwrap();
    }
    engine.finish();
    let s = engine.stats();
    assert!(s.matches.iter().all(|m| *m > 0), "{:?}", s.matches);
}
