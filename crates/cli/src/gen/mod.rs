//! `dalal gen`: a deterministic synthetic market and shop stream with planted
//! episodes and near misses of every shipped pattern.
//!
//! Three sources are merged by time: background slots (`market`), placed blueprints
//! waiting for their start (`episodes`), and the events of placed blueprints. A
//! blueprint takes its symbol when its start comes, among the symbols whose recent
//! history cannot interfere, and reserves it; the background leaves a reserved
//! symbol alone. docs/GENERATOR.md describes the rates, shapes and guarantees.

mod episodes;
mod market;
mod names;
mod rng;
mod write;

use crate::exit;
use anyhow::{Context, Result};
use episodes::{Blueprint, Kind, Pat, Spec, Target};
use market::{FLOOR, HOUR, MIN, Market, NEWS_QUIET, SEC, SPIKE_QUIET, TICK};
use rng::Rng;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use write::{Event, Format, TsCache, Writer};

/// Events per set of planted blueprints.
const SET_EVENTS: u64 = 10_000;
/// Mean gap between background slots (they are drawn uniformly from 0..=1000 ms).
const MEAN_GAP: i64 = 500;
/// Latest representable time: 9999-12-31T23:59:59.999Z.
const MAX_TS: i64 = 253_402_300_799_999;
/// No background news in the last events of the stream: its follow-up trade must fit.
const NEWS_TAIL: u64 = 2_000;

/// Arguments of `dalal gen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of events to write.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(..=100_000_000_000))]
    pub events: u64,
    /// Number of symbols (RELIANCE, TCS, INFY, ... then SYM0050, SYM0051, ...).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub symbols: u32,
    /// Seed: the same seed and flags give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// Output file, `-` for standard output.
    #[arg(long, default_value = "-")]
    pub output: PathBuf,
    /// Time of the first event (RFC 3339). The default lies in the night hours
    /// that `order_fraud` watches.
    #[arg(long, default_value = "2024-01-02T03:30:00Z", value_parser = parse_start)]
    pub start: i64,
    /// Also write the planted episodes and near misses here, as JSON Lines.
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
}

fn parse_start(s: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("not an RFC 3339 time ({e}), e.g. 2024-01-02T03:30:00Z"))
}

/// Generates the stream. Exit 0 (also when the reader closes the pipe early), 1 when
/// the output cannot be written, 2 when the time span leaves the years 0000-9999.
pub fn run(args: &Args) -> Result<ExitCode> {
    // Background gaps are at most 1 s and planted events sit between them.
    let end = i128::from(args.start) + i128::from(args.events) * 1_000 + 86_400_000;
    if end > i128::from(MAX_TS) {
        eprintln!(
            "error: {} events from {} would run past the year 9999",
            args.events,
            TsCache::new().format(args.start)
        );
        return Ok(ExitCode::from(exit::USAGE));
    }
    let out: Box<dyn Write> = if args.output.as_os_str() == "-" {
        Box::new(io::stdout().lock())
    } else {
        let f = std::fs::File::create(&args.output)
            .with_context(|| format!("cannot create {}", args.output.display()))?;
        Box::new(f)
    };
    let mut writer = Writer::new(out, args.format);
    let mut g = Generator::new(args);
    match g.run(&mut writer).and_then(|()| writer.finish()) {
        Ok(()) => {}
        // The reader has what it wanted (`dalal gen | head`): not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot write {}", args.output.display()));
        }
    }
    if let Some(path) = &args.truth {
        let mut f = io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        );
        g.write_truth(&mut f)
            .and_then(|()| f.flush())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A blueprint placed at `t`, waiting for its start.
struct Placed {
    t: i64,
    seq: u64,
    bp: Blueprint,
    category: Option<u8>,
    tries: u32,
}

impl PartialEq for Placed {
    fn eq(&self, other: &Self) -> bool {
        (self.t, self.seq) == (other.t, other.seq)
    }
}
impl Eq for Placed {}
impl PartialOrd for Placed {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Placed {
    // Reversed: BinaryHeap pops the earliest.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.t, other.seq).cmp(&(self.t, self.seq))
    }
}

/// A planted event due at `ts`.
struct Pending {
    ts: i64,
    seq: u64,
    item: u32,
    ev: Event,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.ts, self.seq) == (other.ts, other.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.ts, other.seq).cmp(&(self.ts, self.seq))
    }
}

/// The partition key of a truth.
#[derive(Debug, Clone, Copy)]
enum Key {
    Symbol(u32),
    Category(u8),
    None,
}

/// One line of the truth file, kept until its blueprint is fully written.
struct TruthRec {
    pat: Pat,
    kind: Kind,
    key: Key,
    start: i64,
    end: i64,
    item: u32,
}

struct Generator {
    rng: Rng,
    market: Market,
    /// Events to write, and written so far.
    n: u64,
    emitted: u64,
    /// Time of the next background slot, and of the last written event.
    clock: i64,
    now: i64,
    /// Blueprints are placed set by set in blocks of `block` ms from `first`;
    /// nothing is placed to end after `last`.
    sets: u64,
    next_set: u64,
    first: i64,
    block: i64,
    last: i64,
    /// Planted events per set at most (small streams stay mostly background).
    budget: usize,
    placed: BinaryHeap<Placed>,
    pending: BinaryHeap<Pending>,
    seq: u64,
    /// Night-only blueprints whose block had no night.
    fraud_debt: Vec<Blueprint>,
    /// Events still to write per started blueprint.
    remaining: HashMap<u32, u32>,
    next_item: u32,
    truths: Vec<TruthRec>,
    next_order: u64,
}

impl Generator {
    fn new(args: &Args) -> Self {
        let mut rng = Rng::new(args.seed);
        let market = Market::new(args.symbols as usize, &mut rng);
        let n = args.events;
        let sets = (n / SET_EVENTS).max(1);
        // Planted events take ~5% of the slots: the background spans ~0.95 n gaps.
        let span = i64::try_from(n.saturating_mul(MEAN_GAP as u64) / 100 * 95).unwrap_or(i64::MAX);
        let first = args.start + 20 * SEC;
        let last = args.start + span / 100 * 85;
        let block = ((last - first) / sets as i64).max(1);
        let mut g = Generator {
            rng,
            market,
            n,
            emitted: 0,
            clock: args.start,
            now: args.start,
            sets,
            next_set: 0,
            first,
            block,
            last,
            budget: usize::try_from(n / sets / 4).unwrap_or(usize::MAX),
            placed: BinaryHeap::new(),
            pending: BinaryHeap::new(),
            seq: 0,
            fraud_debt: Vec::new(),
            remaining: HashMap::new(),
            next_item: 0,
            truths: Vec::new(),
            next_order: 1,
        };
        g.plan_next();
        g
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn run<W: Write>(&mut self, w: &mut Writer<W>) -> io::Result<()> {
        w.header()?;
        while self.emitted < self.n {
            // The next set is placed one block ahead, so its category reservations
            // (which begin an hour before a start) still lie in the future.
            if self.next_set < self.sets
                && self.now >= self.first + (self.next_set - 1) as i64 * self.block
            {
                self.plan_next();
            }
            let t_place = self.placed.peek().map_or(i64::MAX, |p| p.t);
            let t_plant = self.pending.peek().map_or(i64::MAX, |p| p.ts);
            if t_place <= self.clock && t_place <= t_plant {
                if let Some(p) = self.placed.pop() {
                    self.start(p);
                }
                continue;
            }
            if t_plant <= self.clock {
                if let Some(p) = self.pending.pop() {
                    if let Some(r) = self.remaining.get_mut(&p.item) {
                        *r = r.saturating_sub(1);
                    }
                    self.emit(w, p.ts, p.ev)?;
                }
                continue;
            }
            let t = self.clock;
            let news_ok = self.n - self.emitted > NEWS_TAIL;
            let ev = self.market.background(t, &mut self.rng, news_ok);
            self.emit(w, t, ev)?;
            self.clock += self.rng.range(0, 2 * MEAN_GAP);
        }
        Ok(())
    }

    #[inline]
    fn emit<W: Write>(&mut self, w: &mut Writer<W>, ts: i64, mut ev: Event) -> io::Result<()> {
        if let Event::Purchase(p) = &mut ev {
            p.order = self.next_order;
            self.next_order += 1;
            self.market.note_purchase(p.category, ts);
        }
        self.now = ts;
        self.emitted += 1;
        w.event(ts, &ev, &self.market.names)
    }

    /// Places the blueprints of the next set at random times in its block.
    fn plan_next(&mut self) {
        let i = self.next_set;
        self.next_set += 1;
        self.market.prune_reservations(self.now);
        let lo = self.first + i as i64 * self.block;
        let hi = if i + 1 == self.sets {
            self.last
        } else {
            lo + self.block
        };
        let mut bps = std::mem::take(&mut self.fraud_debt);
        let mut fresh = episodes::set(&mut self.rng);
        // Basic episodes first: they are what a tight budget keeps.
        fresh.sort_by_key(|b| !b.basic);
        bps.extend(fresh);
        let mut used = 0;
        for bp in bps {
            let d = bp.duration();
            if used + bp.events.len() > self.budget || hi - d < lo {
                continue;
            }
            let t = match bp.target {
                Target::Fraud { six } => match self.time_in_hours(lo, hi - d, six) {
                    Some(t) => t,
                    None => {
                        if !six && self.fraud_debt.len() < 64 {
                            self.fraud_debt.push(bp);
                        }
                        continue;
                    }
                },
                _ => self.rng.range(lo, hi - d),
            };
            if t <= self.now {
                continue;
            }
            let mut category = None;
            if bp.target == Target::Category {
                // Reserved from an hour before the start: no purchase of the category
                // can join the planted ones in a window of an hour.
                let (rlo, rhi) = (t - HOUR - SEC, t + d);
                let count = names::CATEGORIES.len();
                let off = self.rng.index(count);
                let free = (0..count).map(|k| ((off + k) % count) as u8).find(|&c| {
                    // A purchase already written inside the window would join it.
                    self.market.category_free(c, rlo, rhi) && self.market.last_purchase(c) < rlo
                });
                let Some(c) = free else { continue };
                self.market.reserve_category(c, rlo, rhi);
                category = Some(c);
            }
            used += bp.events.len();
            let seq = self.next_seq();
            self.placed.push(Placed {
                t,
                seq,
                bp,
                category,
                tries: 0,
            });
        }
    }

    /// A random time in `[lo, hi]` whose UTC hour is below 6, or is 6 when `six`.
    fn time_in_hours(&mut self, lo: i64, hi: i64, six: bool) -> Option<i64> {
        const DAY: i64 = 24 * HOUR;
        let mut spans = Vec::new();
        let mut day = lo.div_euclid(DAY) * DAY;
        while day <= hi {
            let (a, b) = if six {
                (day + 6 * HOUR, day + 7 * HOUR - 1)
            } else {
                (day, day + 6 * HOUR - 1)
            };
            let (a, b) = (a.max(lo), b.min(hi));
            if a <= b {
                spans.push((a, b));
            }
            day += DAY;
        }
        let total: i64 = spans.iter().map(|(a, b)| b - a + 1).sum();
        let mut r = self.rng.range(0, total - 1);
        for (a, b) in spans {
            if r <= b - a {
                return Some(a + r);
            }
            r -= b - a + 1;
        }
        None
    }

    fn hour_ok(t: i64, six: bool) -> bool {
        let hour = t.div_euclid(HOUR).rem_euclid(24);
        if six { hour == 6 } else { hour < 6 }
    }

    /// Starts a placed blueprint: picks its symbol or category, turns its script into
    /// events and reserves what it uses. Defers it by 20 s when nothing fits yet.
    fn start(&mut self, mut p: Placed) {
        let now = p.t;
        let d = p.bp.duration();
        // Enough events must remain for the whole script and the background around it.
        let left = (self.n - self.emitted).saturating_sub(self.pending.len() as u64);
        let need = (p.bp.events.len() as i64 + d / 400 + 50) as u64;
        if left < need {
            return;
        }
        let key = match p.bp.target {
            Target::Symbol { news } => self.pick_symbol(now, news, &p.bp).map(Key::Symbol),
            Target::Category => p.category.map(Key::Category),
            Target::Fraud { .. } => {
                let count = names::CATEGORIES.len();
                let off = self.rng.index(count);
                (0..count)
                    .map(|k| ((off + k) % count) as u8)
                    .find(|&c| self.market.category_open(c, now))
                    .map(Key::Category)
            }
        };
        let Some(key) = key else {
            p.t += 20 * SEC;
            p.tries += 1;
            let hours = match p.bp.target {
                Target::Fraud { six } => Self::hour_ok(p.t, six),
                _ => true,
            };
            if p.tries <= 30 && hours && p.t + d <= self.last + 10 * MIN {
                p.seq = self.next_seq();
                self.placed.push(p);
            }
            return;
        };
        let item = self.next_item;
        self.next_item += 1;
        let truth_key = match (p.bp.target, key) {
            (Target::Fraud { .. }, _) => Key::None,
            _ => key,
        };
        for t in &p.bp.truths {
            self.truths.push(TruthRec {
                pat: t.pat,
                kind: t.kind,
                key: truth_key,
                start: now + t.from,
                end: now + t.to,
                item,
            });
        }
        self.remaining.insert(item, p.bp.events.len() as u32);
        match key {
            Key::Symbol(s) => self.start_on_symbol(s as usize, now, &p.bp, item),
            Key::Category(c) => {
                for &(off, spec) in &p.bp.events {
                    if let Spec::Buy(mut purchase) = spec {
                        purchase.category = c;
                        self.push(now + off, item, Event::Purchase(purchase));
                    }
                }
            }
            Key::None => {}
        }
    }

    fn push(&mut self, ts: i64, item: u32, ev: Event) {
        let seq = self.next_seq();
        self.pending.push(Pending { ts, seq, item, ev });
    }

    /// The tick range of a script's planted trades.
    fn tick_range(bp: &Blueprint) -> Option<(i64, i64)> {
        let ticks = bp.events.iter().filter_map(|e| match e.1 {
            Spec::Trade(k) => Some(k),
            _ => None,
        });
        let (lo, hi) = ticks.fold((i64::MAX, i64::MIN), |(a, b), k| (a.min(k), b.max(k)));
        (lo <= hi).then_some((lo, hi))
    }

    /// A symbol free at `now`: not reserved, no news in the last 5 minutes (its
    /// follow-up trade may be pending, and a sell over 10 000 after it would be a
    /// bear signal), and, for a script with news, no spike in the last 30 minutes.
    fn pick_symbol(&mut self, now: i64, news: bool, bp: &Blueprint) -> Option<u32> {
        let ticks = Self::tick_range(bp);
        let ok = |m: &Market, s: usize| {
            let sym = &m.symbols[s];
            sym.reserved_until < now
                && now - sym.last_news > NEWS_QUIET
                && (!news || now - sym.last_spike > SPIKE_QUIET)
                && ticks
                    .is_none_or(|(lo, hi)| sym.recent_low(now) - (hi + 1 - lo + 1) * TICK >= FLOOR)
        };
        let k = self.market.len();
        for _ in 0..32 {
            let s = self.rng.index(k);
            if ok(&self.market, s) {
                return Some(s as u32);
            }
        }
        if k <= 4096 {
            let off = self.rng.index(k);
            return (0..k)
                .map(|i| (off + i) % k)
                .find(|&s| ok(&self.market, s))
                .map(|s| s as u32);
        }
        None
    }

    fn start_on_symbol(&mut self, s: usize, now: i64, bp: &Blueprint, item: u32) {
        let sym = s as u32;
        // Planted trades sit below every trade of the last 5 minutes, so no earlier
        // trade can start a run through them.
        let base = Self::tick_range(bp)
            .map(|(lo, hi)| (self.market.symbols[s].recent_low(now) - (hi + 1) * TICK, lo));
        let mut last_trade = now;
        for &(off, spec) in &bp.events {
            let ts = now + off;
            let ev = match spec {
                Spec::Trade(k) => {
                    last_trade = ts;
                    Event::Trade {
                        sym,
                        price: base.map_or(0, |b| b.0) + k * TICK,
                        volume: (self.rng.range(1, 60) * self.rng.range(1, 50)) as u32,
                    }
                }
                Spec::Step => Event::Trade {
                    sym,
                    price: self.market.symbols[s].step(ts, &mut self.rng, false),
                    volume: (self.rng.range(1, 60) * self.rng.range(1, 50)) as u32,
                },
                Spec::Order { side, size, ticks } => Event::Order {
                    sym,
                    side,
                    size,
                    price: (self.market.symbols[s].price + ticks * TICK).max(FLOOR),
                },
                Spec::News(headline) => {
                    self.market.note_news(s, ts);
                    Event::News { sym, headline }
                }
                Spec::Spike(volume) => {
                    self.market.note_spike(s, ts);
                    Event::Spike { sym, volume }
                }
                Spec::Buy(_) => continue,
            };
            self.push(ts, item, ev);
        }
        if let Some((b, lo)) = base {
            // The background resumes below the whole run and without a jump for
            // 5 minutes: no planted run can grow on its trades.
            self.market.symbols[s].resume_after_run(b + (lo - 1) * TICK, last_trade);
        }
        let sym_state = &mut self.market.symbols[s];
        sym_state.reserved_until = sym_state.reserved_until.max(now + bp.duration());
    }

    /// The truths of every fully written blueprint, by start time.
    fn write_truth(&mut self, out: &mut impl Write) -> io::Result<()> {
        let mut done: Vec<&TruthRec> = self
            .truths
            .iter()
            .filter(|t| self.remaining.get(&t.item) == Some(&0))
            .collect();
        done.sort_by_key(|t| (t.start, t.pat, t.kind, t.end));
        let mut ts = TsCache::new();
        let mut line = Vec::with_capacity(160);
        for t in done {
            line.clear();
            line.extend_from_slice(b"{\"pattern\":\"");
            line.extend_from_slice(t.pat.name().as_bytes());
            line.extend_from_slice(b"\",\"kind\":\"");
            line.extend_from_slice(t.kind.name().as_bytes());
            line.extend_from_slice(b"\",\"key\":");
            match t.key {
                Key::Symbol(s) => {
                    let name = self.market.names.get(s as usize).map_or("", String::as_str);
                    write::push_json_str(&mut line, name.as_bytes());
                }
                Key::Category(c) => {
                    write::push_json_str(&mut line, write::category_name(c).as_bytes());
                }
                Key::None => line.extend_from_slice(b"null"),
            }
            line.extend_from_slice(b",\"start\":\"");
            ts.push(t.start, &mut line);
            line.extend_from_slice(b"\",\"end\":\"");
            ts.push(t.end, &mut line);
            line.extend_from_slice(b"\"}\n");
            out.write_all(&line)?;
        }
        Ok(())
    }
}
