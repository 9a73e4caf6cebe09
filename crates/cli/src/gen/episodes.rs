//! Planted episodes and near misses of every shipped pattern, as blueprints.
//!
//! A blueprint is a short script of events at offsets from its start time, on one
//! symbol or category chosen when it is placed, with the matches it must produce
//! (`Truth`). Runs of trades carry prices in ticks relative to a base the generator
//! puts below every recent trade of the symbol; their truths are computed by the
//! small reference matchers at the bottom of this file (exact `momentum` and
//! `rising_run` semantics), so a run that also completes the other trade pattern is
//! reported as that pattern's episode too.

use super::market::{HOUR, MIN, Market, SEC};
use super::names::{BALANCED, NEGATIVE, NEUTRAL, POSITIVE};
use super::rng::Rng;
use super::write::{Purchase, Side};

/// The shipped patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pat {
    BullRun,
    BearSignal,
    InsiderTrading,
    Momentum,
    Manipulation,
    SellWithoutBuy,
    NewsWithoutTrade,
    RisingRun,
    OrderFraud,
    CategoryDemand,
}

impl Pat {
    /// Every pattern, in library order.
    #[cfg(test)]
    pub const ALL: [Pat; 10] = [
        Pat::BullRun,
        Pat::BearSignal,
        Pat::InsiderTrading,
        Pat::Momentum,
        Pat::Manipulation,
        Pat::SellWithoutBuy,
        Pat::NewsWithoutTrade,
        Pat::RisingRun,
        Pat::OrderFraud,
        Pat::CategoryDemand,
    ];

    /// The `PATTERN` name.
    pub fn name(self) -> &'static str {
        match self {
            Pat::BullRun => "bull_run",
            Pat::BearSignal => "bear_signal",
            Pat::InsiderTrading => "insider_trading",
            Pat::Momentum => "momentum",
            Pat::Manipulation => "manipulation",
            Pat::SellWithoutBuy => "sell_without_buy",
            Pat::NewsWithoutTrade => "news_without_trade",
            Pat::RisingRun => "rising_run",
            Pat::OrderFraud => "order_fraud",
            Pat::CategoryDemand => "category_demand",
        }
    }
}

/// Whether a truth must match or must not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Episode,
    NearMiss,
}

impl Kind {
    /// The name in the truth file.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Episode => "episode",
            Kind::NearMiss => "near_miss",
        }
    }
}

/// One event of a blueprint.
#[derive(Debug, Clone, Copy)]
pub enum Spec {
    /// A trade at `base + ticks * TICK`.
    Trade(i64),
    /// A trade priced by the background process (keeps news from being trade-less).
    Step,
    /// An order priced a few ticks off the last trade.
    Order { side: Side, size: u32, ticks: i64 },
    /// News with headline template `.0`.
    News(u16),
    /// A volume spike.
    Spike(u32),
    /// A purchase; its category is the blueprint's.
    Buy(Purchase),
}

/// What a blueprint is placed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A symbol. `news`: the script has news, so the symbol needs 30 minutes
    /// without a volume spike first.
    Symbol { news: bool },
    /// A category, reserved from an hour before the start to the end.
    Category,
    /// A single purchase at night (`hour < 6`), or in hour 6 when `six`.
    Fraud { six: bool },
}

/// An expected outcome, between the offsets of its first and last bound events.
#[derive(Debug, Clone, Copy)]
pub struct Truth {
    pub pat: Pat,
    pub kind: Kind,
    pub from: i64,
    pub to: i64,
}

/// A planted script.
#[derive(Debug, Clone)]
pub struct Blueprint {
    /// Events by offset from the start (sorted, first at 0).
    pub events: Vec<(i64, Spec)>,
    pub truths: Vec<Truth>,
    pub target: Target,
    /// The symbol stays reserved until this offset (at least the last event).
    pub hold: i64,
    /// A basic episode: placed first when the event budget is tight.
    pub basic: bool,
}

impl Blueprint {
    fn new(target: Target) -> Self {
        Blueprint {
            events: Vec::new(),
            truths: Vec::new(),
            target,
            hold: 0,
            basic: false,
        }
    }

    fn ev(&mut self, off: i64, spec: Spec) -> &mut Self {
        self.events.push((off, spec));
        self
    }

    fn truth(&mut self, pat: Pat, kind: Kind, from: i64, to: i64) -> &mut Self {
        self.truths.push(Truth {
            pat,
            kind,
            from,
            to,
        });
        self
    }

    fn finish(mut self, out: &mut Vec<Blueprint>) {
        self.events.sort_by_key(|e| e.0);
        self.hold = self.hold.max(self.duration_events());
        out.push(self);
    }

    fn duration_events(&self) -> i64 {
        self.events.last().map_or(0, |e| e.0)
    }

    /// From the first event to the end of the reservation.
    pub fn duration(&self) -> i64 {
        self.hold.max(self.duration_events())
    }
}

fn headline(rng: &mut Rng, (lo, hi): (u16, u16)) -> u16 {
    rng.range(i64::from(lo), i64::from(hi) - 1) as u16
}

fn spike(rng: &mut Rng) -> Spec {
    Spec::Spike((rng.range(400, 5_000) * 1_000) as u32)
}

fn order(rng: &mut Rng, side: Side, size: i64) -> Spec {
    Spec::Order {
        side,
        size: size as u32,
        ticks: rng.range(-3, 3),
    }
}

fn small(rng: &mut Rng, side: Side) -> Spec {
    let size = rng.range(1, 9) * 100;
    order(rng, side, size)
}

fn opposite(side: Side) -> Side {
    match side {
        Side::Buy => Side::Sell,
        Side::Sell => Side::Buy,
    }
}

fn random_side(rng: &mut Rng) -> Side {
    if rng.chance(1, 2) {
        Side::Buy
    } else {
        Side::Sell
    }
}

/// A trade shortly after news at `at`, so `news_without_trade` stays quiet.
fn keep_alive(b: &mut Blueprint, rng: &mut Rng, at: i64) {
    b.ev(at + rng.range(5 * SEC, 2 * MIN), Spec::Step);
}

/// The blueprints of one set: for each pattern, episodes (one basic, some on the
/// boundaries of the window or condition) and near misses.
pub fn set(rng: &mut Rng) -> Vec<Blueprint> {
    let mut v = Vec::new();
    bull_run(rng, &mut v);
    bear_signal(rng, &mut v);
    insider_trading(rng, &mut v);
    momentum(rng, &mut v);
    rising_run(rng, &mut v);
    manipulation(rng, &mut v);
    sell_without_buy(rng, &mut v);
    news_without_trade(rng, &mut v);
    order_fraud(rng, &mut v);
    category_demand(rng, &mut v);
    v
}

fn bull_run(rng: &mut Rng, v: &mut Vec<Blueprint>) {
    use Kind::*;
    let target = Target::Symbol { news: true };
    // A positive headline 20 s to 4.5 min after the spike (under 5 min: not insider).
    let lead = rng.range(20 * SEC, 4 * MIN + 30 * SEC);
    let mut b = Blueprint::new(target);
    b.ev(0, spike(rng))
        .ev(lead, Spec::News(headline(rng, POSITIVE)))
        .truth(Pat::BullRun, Episode, 0, lead);
    keep_alive(&mut b, rng, lead);
    b.basic = true;
    b.finish(v);
    // Exactly 10 minutes: inside the inclusive window; also an insider lead.
    let mut b = Blueprint::new(target);
    b.ev(0, spike(rng))
        .ev(10 * MIN, Spec::News(headline(rng, POSITIVE)))
        .truth(Pat::BullRun, Episode, 0, 10 * MIN)
        .truth(Pat::InsiderTrading, Episode, 0, 10 * MIN);
    keep_alive(&mut b, rng, 10 * MIN);
    b.finish(v);
    // 1 ms too late for bull_run (still an insider lead).
    let mut b = Blueprint::new(target);
    b.ev(0, spike(rng))
        .ev(10 * MIN + 1, Spec::News(headline(rng, POSITIVE)))
        .truth(Pat::BullRun, NearMiss, 0, 10 * MIN + 1)
        .truth(Pat::InsiderTrading, Episode, 0, 10 * MIN + 1);
    keep_alive(&mut b, rng, 10 * MIN + 1);
    b.finish(v);
    // Balanced headline: as many negative words as positive ones.
    let lead = rng.range(30 * SEC, 4 * MIN + 30 * SEC);
    let mut b = Blueprint::new(target);
    b.ev(0, spike(rng))
        .ev(lead, Spec::News(headline(rng, BALANCED)))
        .truth(Pat::BullRun, NearMiss, 0, lead);
    keep_alive(&mut b, rng, lead);
    b.finish(v);
    // Positive news first, the spike after it.
    let lag = rng.range(20 * SEC, 4 * MIN);
    let mut b = Blueprint::new(target);
    b.ev(0, Spec::News(headline(rng, POSITIVE)))
        .ev(lag, spike(rng))
        .truth(Pat::BullRun, NearMiss, 0, lag);
    keep_alive(&mut b, rng, 0);
    b.finish(v);
}

fn bear_signal(rng: &mut Rng, v: &mut Vec<Blueprint>) {
    use Kind::*;
    let target = Target::Symbol { news: true };
    // Sizes up to 20 000 so the sell is not also a sell_without_buy.
    let mut plant = |rng: &mut Rng, tone, side, size: i64, lead: i64, kind, basic| {
        let mut b = Blueprint::new(target);
        b.ev(0, Spec::News(headline(rng, tone)))
            .ev(lead, order(rng, side, size))
            .truth(Pat::BearSignal, kind, 0, lead);
        keep_alive(&mut b, rng, 0);
        b.basic = basic;
        b.finish(v);
    };
    let lead = rng.range(10 * SEC, 4 * MIN + 50 * SEC);
    let size = rng.range(10_001, 20_000);
    plant(rng, NEGATIVE, Side::Sell, size, lead, Episode, true);
    let size = rng.range(10_001, 20_000);
    plant(rng, NEUTRAL, Side::Sell, size, 5 * MIN, Episode, false);
    let lead = rng.range(10 * SEC, 4 * MIN);
    plant(rng, NEGATIVE, Side::Sell, 10_000, lead, NearMiss, false);
    let size = rng.range(10_001, 20_000);
    plant(
        rng,
        NEGATIVE,
        Side::Sell,
        size,
        5 * MIN + 1,
        NearMiss,
        false,
    );
    let lead = rng.range(10 * SEC, 4 * MIN);
    let size = rng.range(10_001, 20_000);
    plant(rng, POSITIVE, Side::Sell, size, lead, NearMiss, false);
    let lead = rng.range(10 * SEC, 4 * MIN);
    let size = rng.range(10_001, 20_000);
    plant(rng, NEGATIVE, Side::Buy, size, lead, NearMiss, false);
}

fn insider_trading(rng: &mut Rng, v: &mut Vec<Blueprint>) {
    use Kind::*;
    let target = Target::Symbol { news: true };
    // Neutral headlines: never a bull_run, whatever the lead.
    let mut plant = |rng: &mut Rng, lead: i64, kind, basic| {
        let mut b = Blueprint::new(target);
        b.ev(0, spike(rng))
            .ev(lead, Spec::News(headline(rng, NEUTRAL)))
            .truth(Pat::InsiderTrading, kind, 0, lead);
        keep_alive(&mut b, rng, lead);
        b.basic = basic;
        b.finish(v);
    };
    let lead = rng.range(6 * MIN, 28 * MIN);
    plant(rng, lead, Episode, true);
    plant(rng, 5 * MIN, Episode, false);
    plant(rng, 30 * MIN, Episode, false);
    plant(rng, 5 * MIN - 1, NearMiss, false);
    plant(rng, 30 * MIN + 1, NearMiss, false);
}

/// Offsets: 0, then `n - 1` gaps drawn from `lo..=hi`.
fn times(rng: &mut Rng, n: usize, lo: i64, hi: i64) -> Vec<i64> {
    let mut t = vec![0];
    for _ in 1..n {
        let last = t.last().copied().unwrap_or(0);
        t.push(last + rng.range(lo, hi));
    }
    t
}

/// Offsets: 0 and `last`, with `n - 2` sorted draws strictly between.
fn spanning(rng: &mut Rng, n: usize, last: i64) -> Vec<i64> {
    let mut mid: Vec<i64> = (2..n).map(|_| rng.range(1, last - 1)).collect();
    mid.sort_unstable();
    let mut t = vec![0];
    t.extend(mid);
    t.push(last);
    t
}

/// A run of trades; the truths of both trade patterns come from the reference
/// matchers, plus the near miss the run was built as.
fn trade_run(v: &mut Vec<Blueprint>, times: &[i64], ticks: &[i64], miss: Option<Pat>, basic: bool) {
    let mut b = Blueprint::new(Target::Symbol { news: false });
    let run: Vec<(i64, i64)> = times.iter().copied().zip(ticks.iter().copied()).collect();
    for &(t, k) in &run {
        b.ev(t, Spec::Trade(k));
    }
    for (pat, found) in [
        (Pat::Momentum, momentum_matches(&run)),
        (Pat::RisingRun, rising_run_matches(&run)),
    ] {
        for (i, j) in found {
            b.truth(pat, Kind::Episode, run[i].0, run[j].0);
        }
    }
    if let (Some(pat), Some(first), Some(last)) = (miss, run.first(), run.last()) {
        b.truth(pat, Kind::NearMiss, first.0, last.0);
    }
    b.basic = basic;
    b.finish(v);
}

/// Strictly rising ticks: 0, then steps of 1..=4.
fn rising_ticks(rng: &mut Rng, n: usize) -> Vec<i64> {
    let mut k = vec![0];
    for _ in 1..n {
        let last = k.last().copied().unwrap_or(0);
        k.push(last + rng.range(1, 4));
    }
    k
}

fn momentum(rng: &mut Rng, v: &mut Vec<Blueprint>) {
    // 4 to 6 rising trades, 3 to 40 s apart: the fourth is within 2 minutes.
    let n = rng.range(4, 6) as usize;
    let t = times(rng, n, 3 * SEC, 40 * SEC);
    let k = rising_ticks(rng, n);
    trade_run(v, &t, &k, None, true);
    // The fourth exactly 3 minutes after the first.
    let t = spanning(rng, 4, 3 * MIN);
    let k = rising_ticks(rng, 4);
    trade_run(v, &t, &k, None, false);
    // 1 ms too slow.
    let t = spanning(rng, 4, 3 * MIN + 1);
    let k = rising_ticks(rng, 4);
    trade_run(v, &t, &k, Some(Pat::Momentum), false);
    // Broken by an equal price.
    let t = times(rng, 4, 3 * SEC, 40 * SEC);
    let mut k = rising_ticks(rng, 3);
    k.push(k[2]);
    trade_run(v, &t, &k, Some(Pat::Momentum), false);
    // Broken by a lower trade between rising ones.
    let t = times(rng, 5, 3 * SEC, 40 * SEC);
    let mut k = rising_ticks(rng, 3);
    k.push(-rng.range(1, 3));
    k.push(k[2] + rng.range(1, 4));
    trade_run(v, &t, &k, Some(Pat::Momentum), false);
}

/// Zigzag ticks rising on average: up 3..=5, down 1, up, down, ...
fn zigzag_ticks(rng: &mut Rng, n: usize) -> Vec<i64> {
    let mut k = vec![0];
    for i in 1..n {
        let last = k.last().copied().unwrap_or(0);
        k.push(if i % 2 == 1 {
            last + rng.range(3, 5)
        } else {
            last - 1
        });
    }
    k
}

fn rising_run(rng: &mut Rng, v: &mut Vec<Blueprint>) {
    let n = rng.range(5, 7) as usize;
    let t = times(rng, n, 5 * SEC, 50 * SEC);
    let k = zigzag_ticks(rng, n);
    trade_run(v, &t, &k, None, true);
    // The fifth exactly 5 minutes after the first.
    let t = spanning(rng, 5, 5 * MIN);
    let k = zigzag_ticks(rng, 5);
    trade_run(v, &t, &k, None, false);
    // 1 ms too slow.
    let t = spanning(rng, 5, 5 * MIN + 1);
    let k = zigzag_ticks(rng, 5);
    trade_run(v, &t, &k, Some(Pat::RisingRun), false);
    // Four that qualify, then one below the average.
    let t = times(rng, 5, 5 * SEC, 50 * SEC);
    let mut k = zigzag_ticks(rng, 4);
    k.push(-rng.range(0, 2));
    trade_run(v, &t, &k, Some(Pat::RisingRun), false);
}

fn manipulation(rng: &mut Rng, v: &mut Vec<Blueprint>) {
    use Kind::*;
    let target = Target::Symbol { news: false };
    // Every sell over 20 000 is followed by a buy within the minute, so that only the
    // sell_without_buy blueprints plant that pattern.
    let mut plant = |rng: &mut Rng,
                     big: Side,
                     rev: Side,
                     rev_size: i64,
                     lead: i64,
                     between: bool,
                     kind,
                     basic| {
        let mut b = Blueprint::new(target);
        let big_size = rng.range(50_001, 150_000);
        b.ev(0, order(rng, big, big_size));
        if between {
            let at = rng.range(3 * SEC, lead - 3 * SEC);
            b.ev(at, small(rng, opposite(big)));
        }
        b.ev(lead, order(rng, rev, rev_size));
        // Every reversal is over 20 000: a selling one needs its buy.
        if rev == Side::Sell {
            b.ev(lead + rng.range(2 * SEC, 15 * SEC), small(rng, Side::Buy));
        }
        b.truth(Pat::Manipulation, kind, 0, lead);
        b.basic = basic;
        b.finish(v);
    };
    let side = random_side(rng);
    let (size, lead) = (rng.range(30_001, 50_000), rng.range(5 * SEC, 55 * SEC));
    plant(rng, side, opposite(side), size, lead, false, Episode, true);
    let side = random_side(rng);
    let size = rng.range(30_001, 50_000);
    plant(rng, side, opposite(side), size, MIN, false, Episode, false);
    // The same side twice.
    let side = random_side(rng);
    let (size, lead) = (rng.range(30_001, 50_000), rng.range(5 * SEC, 30 * SEC));
    plant(rng, side, side, size, lead, false, NearMiss, false);
    // Reversed 1 ms too late.
    let size = rng.range(30_001, 50_000);
    plant(
        rng,
        Side::Buy,
        Side::Sell,
        size,
        MIN + 1,
        false,
        NearMiss,
        false,
    );
    // A small order in between: not the next order.
    let (size, lead) = (rng.range(30_001, 50_000), rng.range(20 * SEC, 45 * SEC));
    plant(
        rng,
        Side::Buy,
        Side::Sell,
        size,
        lead,
        true,
        NearMiss,
        false,
    );
    // Reversal of exactly 30 000.
    let side = random_side(rng);
    let lead = rng.range(5 * SEC, 55 * SEC);
    plant(
        rng,
        side,
        opposite(side),
        30_000,
        lead,
        false,
        NearMiss,
        false,
    );
}

fn sell_without_buy(rng: &mut Rng, v: &mut Vec<Blueprint>) {
    use Kind::*;
    let target = Target::Symbol { news: false };
    let mut plant = |rng: &mut Rng, size: i64, buy_at: Option<i64>, kind, basic| {
        let mut b = Blueprint::new(target);
        b.ev(0, order(rng, Side::Sell, size));
        if let Some(at) = buy_at {
            b.ev(at, small(rng, Side::Buy));
        } else if rng.chance(1, 2) {
            // A small sell inside the minute does not count as the missing buy.
            let at = rng.range(5 * SEC, 50 * SEC);
            b.ev(at, small(rng, Side::Sell));
        }
        b.truth(Pat::SellWithoutBuy, kind, 0, 0);
        b.hold = MIN + SEC;
        b.basic = basic;
        b.finish(v);
    };
    let size = rng.range(20_001, 50_000);
    plant(rng, size, None, Episode, true);
    let size = rng.range(20_001, 50_000);
    plant(rng, size, Some(MIN + 1), Episode, false);
    plant(rng, 20_000, None, NearMiss, false);
    let size = rng.range(20_001, 50_000);
    plant(rng, size, Some(59 * SEC), NearMiss, false);
    let size = rng.range(20_001, 50_000);
    plant(rng, size, Some(MIN), NearMiss, false);
}

fn news_without_trade(rng: &mut Rng, v: &mut Vec<Blueprint>) {
    use Kind::*;
    let target = Target::Symbol { news: true };
    let mut plant = |rng: &mut Rng, trade_at: Option<i64>, kind, basic| {
        let mut b = Blueprint::new(target);
        b.ev(0, Spec::News(headline(rng, NEUTRAL)));
        if let Some(at) = trade_at {
            b.ev(at, Spec::Step);
        }
        b.truth(Pat::NewsWithoutTrade, kind, 0, 0);
        b.hold = 5 * MIN + SEC;
        b.basic = basic;
        b.finish(v);
    };
    plant(rng, None, Episode, true);
    plant(rng, Some(5 * MIN + 1), Episode, false);
    plant(rng, Some(5 * MIN), NearMiss, false);
    let at = rng.range(30 * SEC, 4 * MIN);
    plant(rng, Some(at), NearMiss, false);
}

fn purchase(rng: &mut Rng, amount: i64, items: i64) -> Purchase {
    let mut p = Market::purchase(rng, 0);
    p.amount = amount;
    p.items = items as u16;
    p
}

fn order_fraud(rng: &mut Rng, v: &mut Vec<Blueprint>) {
    use Kind::*;
    let mut plant = |rng: &mut Rng, amount: i64, items: i64, six: bool, kind, basic| {
        let mut b = Blueprint::new(Target::Fraud { six });
        b.ev(0, Spec::Buy(purchase(rng, amount, items)))
            .truth(Pat::OrderFraud, kind, 0, 0);
        b.basic = basic;
        b.finish(v);
    };
    let (amount, items) = (rng.range(500_001, 6_000_000), rng.range(11, 40));
    plant(rng, amount, items, false, Episode, true);
    plant(rng, 500_001, 11, false, Episode, false);
    let amount = rng.range(500_001, 6_000_000);
    plant(rng, amount, 10, false, NearMiss, false);
    let items = rng.range(11, 40);
    plant(rng, 500_000, items, false, NearMiss, false);
    let (amount, items) = (rng.range(500_001, 6_000_000), rng.range(11, 40));
    plant(rng, amount, items, true, NearMiss, false);
}

fn category_demand(rng: &mut Rng, v: &mut Vec<Blueprint>) {
    use Kind::*;
    let mut plant = |rng: &mut Rng, t: Vec<i64>, kind, basic| {
        let mut b = Blueprint::new(Target::Category);
        for &at in &t {
            let amount = rng.range(99, 2_999) * 100;
            let items = rng.range(1, 5);
            b.ev(at, Spec::Buy(purchase(rng, amount, items)));
        }
        // The match is the first 100; a near miss spans all its purchases.
        let end = if kind == Episode { t.get(99) } else { t.last() };
        b.truth(Pat::CategoryDemand, kind, 0, end.copied().unwrap_or(0));
        b.basic = basic;
        b.finish(v);
    };
    // A flash sale: 100 to 130 orders in 5 to 20 minutes.
    let n = rng.range(100, 130) as usize;
    let d = rng.range(5 * MIN, 20 * MIN);
    let t = spanning(rng, n, d);
    plant(rng, t, Episode, true);
    // 100 spanning exactly the hour.
    let t = spanning(rng, 100, HOUR);
    plant(rng, t, Episode, false);
    // 99 in well under an hour.
    let d = rng.range(20 * MIN, 50 * MIN);
    let t = spanning(rng, 99, d);
    plant(rng, t, NearMiss, false);
    // 100 spanning the hour and 1 ms.
    let t = spanning(rng, 100, HOUR + 1);
    plant(rng, t, NearMiss, false);
}

/// `momentum` over one symbol's trades `(ts, price)`: four or more strictly rising
/// consecutive trades within 3 minutes, one match per episode (the earliest
/// completion, then past its last event). Returns (first, last) indexes.
pub fn momentum_matches(trades: &[(i64, i64)]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut j = 0;
    while j + 3 < trades.len() {
        let rising = (1..4).all(|m| trades[j + m].1 > trades[j + m - 1].1);
        if rising && trades[j + 3].0 - trades[j].0 <= 3 * MIN {
            out.push((j, j + 3));
            j += 4;
        } else {
            j += 1;
        }
    }
    out
}

/// `rising_run` over one symbol's trades: skip till next match, every trade above
/// the average of the ones taken before it, five within 5 minutes, one match per
/// episode. Returns (first, last) indexes.
pub fn rising_run_matches(trades: &[(i64, i64)]) -> Vec<(usize, usize)> {
    let completion = |j: usize| {
        let (t0, p0) = trades[j];
        let (mut count, mut sum) = (1i64, i128::from(p0));
        for (k, &(t, p)) in trades.iter().enumerate().skip(j + 1) {
            if t - t0 > 5 * MIN {
                break;
            }
            if i128::from(p) * i128::from(count) > sum {
                count += 1;
                sum += i128::from(p);
                if count == 5 {
                    return Some(k);
                }
            }
        }
        None
    };
    let mut out = Vec::new();
    let mut allowed = 0;
    // Runs complete in order of their fifth event, ties by their first; after a
    // match every run that started at or before its last event is dropped.
    while let Some((end, start)) = (allowed..trades.len())
        .filter_map(|j| completion(j).map(|c| (c, j)))
        .min()
    {
        out.push((start, end));
        allowed = end + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_matchers_follow_the_semantics() {
        let at = |p: &[i64]| -> Vec<(i64, i64)> {
            p.iter()
                .enumerate()
                .map(|(i, &x)| (i as i64 * 10 * SEC, x))
                .collect()
        };
        assert_eq!(momentum_matches(&at(&[1, 2, 3, 4, 5, 6])), vec![(0, 3)]);
        assert_eq!(momentum_matches(&at(&[1, 2, 3, 3, 4])), vec![]);
        assert_eq!(
            momentum_matches(&at(&[1, 2, 3, 4, 5, 6, 7, 8])),
            vec![(0, 3), (4, 7)]
        );
        let slow = [(0, 1), (MIN, 2), (2 * MIN, 3), (3 * MIN + 1, 4)];
        assert!(momentum_matches(&slow).is_empty());
        let edge = [(0, 1), (MIN, 2), (2 * MIN, 3), (3 * MIN, 4)];
        assert_eq!(momentum_matches(&edge), vec![(0, 3)]);

        assert_eq!(rising_run_matches(&at(&[0, 3, 2, 5, 4])), vec![(0, 4)]);
        assert_eq!(rising_run_matches(&at(&[0, 3, 2, 5, 2])), vec![]);
        // A trade at the average is skipped, not taken.
        assert_eq!(rising_run_matches(&at(&[0, 2, 1, 3, 4, 5])), vec![(0, 5)]);
        // An earlier low start wins over a later one.
        assert_eq!(
            rising_run_matches(&at(&[5, 0, 6, 1, 7, 8, 9])),
            vec![(0, 6)]
        );
    }

    #[test]
    fn blueprints_plant_what_they_say() {
        for seed in 0..200 {
            let mut rng = Rng::new(seed);
            let set = set(&mut rng);
            for pat in Pat::ALL {
                let eps = set
                    .iter()
                    .flat_map(|b| &b.truths)
                    .filter(|t| t.pat == pat && t.kind == Kind::Episode)
                    .count();
                let misses = set
                    .iter()
                    .flat_map(|b| &b.truths)
                    .filter(|t| t.pat == pat && t.kind == Kind::NearMiss)
                    .count();
                assert!(eps >= 2 && misses >= 2, "{} {eps} {misses}", pat.name());
            }
            for b in &set {
                assert!(b.events.windows(2).all(|w| w[0].0 <= w[1].0));
                assert_eq!(b.events.first().map(|e| e.0), Some(0));
                assert!(b.hold >= b.events.last().map_or(0, |e| e.0));
                for t in &b.truths {
                    assert!(0 <= t.from && t.from <= t.to && t.to <= b.duration());
                }
                // A trade run is a near miss of a pattern only if that pattern does
                // not also find it.
                let trades: Vec<(i64, i64)> = b
                    .events
                    .iter()
                    .filter_map(|&(t, s)| match s {
                        Spec::Trade(k) => Some((t, k)),
                        _ => None,
                    })
                    .collect();
                if !trades.is_empty() {
                    for t in &b.truths {
                        if t.kind == Kind::NearMiss {
                            assert!(
                                !b.truths
                                    .iter()
                                    .any(|u| u.pat == t.pat && u.kind == Kind::Episode)
                            );
                        }
                    }
                    assert!(
                        b.truths.iter().any(|t| t.kind == Kind::NearMiss)
                            || b.truths.iter().any(|t| t.kind == Kind::Episode)
                    );
                }
            }
            // Basic trade episodes find their own pattern.
            for b in set.iter().filter(|b| b.basic) {
                assert!(b.truths.iter().any(|t| t.kind == Kind::Episode));
            }
        }
    }

    #[test]
    fn order_scripts_keep_big_sells_covered() {
        // Outside the sell_without_buy blueprints, every sell over 20 000 has a buy
        // within the following minute.
        for seed in 0..200 {
            let mut rng = Rng::new(seed);
            for b in set(&mut rng) {
                if b.truths.iter().any(|t| t.pat == Pat::SellWithoutBuy) {
                    continue;
                }
                for (i, &(t, s)) in b.events.iter().enumerate() {
                    let Spec::Order {
                        side: Side::Sell,
                        size,
                        ..
                    } = s
                    else {
                        continue;
                    };
                    if size > 20_000 {
                        let covered = b.events[i + 1..].iter().any(|&(u, s2)| {
                            matches!(
                                s2,
                                Spec::Order {
                                    side: Side::Buy,
                                    ..
                                }
                            ) && u - t <= MIN
                        });
                        assert!(covered, "seed {seed}: {:?}", b.events);
                    }
                }
            }
        }
    }
}
