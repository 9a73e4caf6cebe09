//! The bridge to the engine under test: feeds it the same events and renders
//! its matches in the reference's line format.

use std::time::Duration;

use dalal::{Binding, Config, Engine, Event, EventTime, Match, Program, Value};
use dalal_lang::typed::FieldRef;

use super::{RVal, RefEvent, normalize_line};

/// How the events are fed to the engine.
#[derive(Clone, Debug)]
pub enum Feed {
    /// One `push` per event, then `finish`.
    All,
    /// `push_batch` with these batch lengths (the rest in a last batch).
    Batches(Vec<usize>),
    /// Push in the given (out of order) arrival order with `Config::max_delay` set.
    Shuffled { max_delay_ms: u64 },
    /// Snapshot after this many events, serde_json round trip, restore, go on.
    Snapshot { at: usize },
    /// Like `Shuffled`, but some events are late: exactly `late` of them
    /// must be counted (and dropped).
    Late { max_delay_ms: u64, late: u64 },
}

/// One match of the engine, rendered.
#[derive(Clone, Debug)]
pub struct EngineMatch {
    /// Pattern and partition key rendered like the reference's (`up/'p'`).
    pub key: String,
    /// Normalized line (tokens sorted).
    pub line: String,
    /// Index of the last event pushed before the match was drained (`None`:
    /// drained only after `finish`).
    pub after: Option<usize>,
}

pub fn to_value(v: &RVal) -> Value {
    match v {
        RVal::Null | RVal::List(_) => Value::Null,
        RVal::Int(i) => Value::Int(*i),
        RVal::Float(f) => Value::Float(*f),
        RVal::Str(s) => Value::str(s),
        RVal::Bool(b) => Value::Bool(*b),
        RVal::Ts(t) => Value::Timestamp(EventTime::from_nanos(*t)),
        RVal::Dur(d) => Value::Duration(*d),
    }
}

pub fn from_value(v: &Value) -> RVal {
    match v {
        Value::Null => RVal::Null,
        Value::Int(i) => RVal::Int(*i),
        Value::Float(f) => RVal::Float(*f),
        Value::Str(s) => RVal::Str(s.to_string()),
        Value::Bool(b) => RVal::Bool(*b),
        Value::Timestamp(t) => RVal::Ts(t.as_nanos()),
        Value::Duration(d) => RVal::Dur(*d),
    }
}

fn to_event(program: &Program, e: &RefEvent) -> Result<Event, String> {
    Event::with_type(
        program,
        e.ty,
        EventTime::from_nanos(e.ts),
        e.fields.iter().map(to_value).collect(),
    )
    .map_err(|err| err.to_string())
}

/// Renders an engine match like [`super::render_line`].
pub fn render(program: &Program, m: &Match) -> EngineMatch {
    let label = |e: &dalal::BoundEvent| -> String {
        let et = program.checked().event_type(e.event.ty);
        if let Some(FieldRef::Slot(s)) = et.field("id") {
            if let Some(v) = e.event.fields.get(s.index()) {
                if !v.is_null() {
                    return from_value(v).render();
                }
            }
        }
        e.seq.to_string()
    };
    let mut toks = Vec::new();
    for (name, b) in &m.events {
        match b {
            Binding::One(e) => toks.push(format!("{name}={}", label(e))),
            Binding::Many(l) => toks.push(format!(
                "{name}=[{}]",
                l.iter().map(label).collect::<Vec<_>>().join(",")
            )),
            Binding::None => {}
        }
    }
    for (name, v) in &m.fields {
        toks.push(format!("{name}:{}", from_value(v).render()));
    }
    EngineMatch {
        key: format!(
            "{}/{}",
            m.pattern,
            m.key
                .iter()
                .map(|(_, v)| from_value(v).key_part())
                .collect::<Vec<_>>()
                .join("|")
        ),
        line: normalize_line(&toks.join(" ")),
        after: None,
    }
}

/// Runs the engine over `events` (in the given arrival order) and returns its
/// matches in emission order.
pub fn run(text: &str, events: &[RefEvent], feed: &Feed) -> Result<Vec<EngineMatch>, String> {
    let program = Program::compile(text).map_err(|e| e.to_string())?;
    let evs: Vec<Event> = events
        .iter()
        .map(|e| to_event(&program, e))
        .collect::<Result<_, _>>()?;
    let mut config = Config::default();
    if let Feed::Shuffled { max_delay_ms } | Feed::Late { max_delay_ms, .. } = feed {
        config.max_delay = Duration::from_millis(*max_delay_ms);
    }
    let mut engine = Engine::new(program.clone(), config);
    let mut out: Vec<(Match, Option<usize>)> = Vec::new();
    let mut pushed = 0usize;
    let mut push = |engine: &mut Engine,
                    e: Event,
                    out: &mut Vec<(Match, Option<usize>)>|
     -> Result<(), String> {
        engine.push(e).map_err(|err| err.to_string())?;
        out.extend(engine.drain_matches().map(|m| (m, Some(pushed))));
        pushed += 1;
        Ok(())
    };
    match feed {
        Feed::All | Feed::Shuffled { .. } | Feed::Late { .. } => {
            for e in evs {
                push(&mut engine, e, &mut out)?;
            }
        }
        Feed::Batches(sizes) => {
            let mut rest = evs.as_slice();
            for &n in sizes {
                let n = n.min(rest.len());
                engine
                    .push_batch(rest[..n].iter().cloned())
                    .map_err(|err| err.to_string())?;
                let last = (evs.len() - rest.len() + n).checked_sub(1);
                out.extend(engine.drain_matches().map(|m| (m, last)));
                rest = &rest[n..];
            }
            engine
                .push_batch(rest.iter().cloned())
                .map_err(|err| err.to_string())?;
            let last = evs.len().checked_sub(1);
            out.extend(engine.drain_matches().map(|m| (m, last)));
        }
        Feed::Snapshot { at } => {
            let at = (*at).min(evs.len());
            for e in evs[..at].iter().cloned() {
                push(&mut engine, e, &mut out)?;
            }
            let snap = engine.snapshot().map_err(|e| e.to_string())?;
            let json = serde_json::to_string(&snap).map_err(|e| e.to_string())?;
            drop(engine);
            let snap: dalal::Snapshot = serde_json::from_str(&json).map_err(|e| e.to_string())?;
            engine = Engine::restore(program.clone(), snap).map_err(|e| e.to_string())?;
            for e in evs[at..].iter().cloned() {
                push(&mut engine, e, &mut out)?;
            }
        }
    }
    engine.finish();
    out.extend(engine.drain_matches().map(|m| (m, None)));
    let stats = engine.stats();
    // Only the expected events are late, no run may be dropped by the cap
    // (streams are tiny), and at the end of input every run is resolved.
    let late = match feed {
        Feed::Late { late, .. } => *late,
        _ => 0,
    };
    if stats.late != late || stats.dropped_runs != 0 || stats.live_runs != 0 {
        return Err(format!(
            "engine stats after finish: late {}, dropped runs {}, live runs {}",
            stats.late, stats.dropped_runs, stats.live_runs
        ));
    }
    if stats.events != events.len() as u64 {
        return Err(format!(
            "engine counted {} events, {} pushed",
            stats.events,
            events.len()
        ));
    }
    Ok(out
        .iter()
        .map(|(m, after)| EngineMatch {
            after: *after,
            ..render(&program, m)
        })
        .collect())
}
