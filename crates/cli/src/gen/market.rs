//! The background stream: symbols with their price process, purchases by category,
//! and the bookkeeping that keeps the background from matching any shipped pattern.
//!
//! The invariants (docs/GENERATOR.md has the reasoning):
//!
//! - Prices only fall or stay flat, except a *jump*: one trade up `J` ticks, at most
//!   once per 5 minutes and 1 second per symbol, and the very next trade of the
//!   symbol gives back more than half of it. Then no trade of the background has
//!   three later trades within 5 minutes that each beat the running average
//!   (`rising_run` needs four) and no two consecutive rises (`momentum` needs three).
//! - Orders are at most 9 000 shares: `bear_signal`, `manipulation` and
//!   `sell_without_buy` need more.
//! - News is neutral or balanced (never `positive`), never within 30 minutes and
//!   1 second after a volume spike of its symbol (`insider_trading`), and schedules a
//!   trade of its symbol within 3 minutes (`news_without_trade`).
//! - Purchases are under 5 000 and of at most 8 items (`order_fraud`); a category
//!   takes a purchase only while it has fewer than 99 in the last hour
//!   (`category_demand`), and never inside a window reserved by a planted episode.

use super::names::{self, BALANCED, CATEGORIES, CATEGORY_WEIGHT, CITIES, NEUTRAL, PAYMENTS};
use super::rng::Rng;
use super::write::{Event, Purchase, Side};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// One second, minute and hour in milliseconds.
pub const SEC: i64 = 1_000;
pub const MIN: i64 = 60 * SEC;
pub const HOUR: i64 = 60 * MIN;

/// Price tick in paise (NSE: 0.05).
pub const TICK: i64 = 5;
/// Prices never step below 1.00.
pub const FLOOR: i64 = 100;
/// Smallest gap between two jumps of one symbol.
pub const JUMP_GAP: i64 = 5 * MIN + SEC;
/// News waits this long after a volume spike of its symbol.
pub const SPIKE_QUIET: i64 = 30 * MIN + SEC;
/// A symbol with news this recent may still owe its follow-up trade.
pub const NEWS_QUIET: i64 = 5 * MIN + SEC;
/// A category never has this many purchases within an hour in the background.
pub const CATEGORY_LIMIT: usize = 99;
/// "Long ago" for timestamps that have not happened.
const NEVER: i64 = i64::MIN / 4;

/// Per-symbol state.
#[derive(Debug, Clone)]
pub struct Symbol {
    /// Last trade price (paise).
    pub price: i64,
    /// The level the price reverts to.
    reference: i64,
    /// The starting price; bounds how far `reference` wanders.
    anchor: i64,
    /// Price before the last jump.
    pre_jump: i64,
    /// Time of the last jump (or of the last planted trade run).
    pub last_jump: i64,
    /// Size of a jump still to be retraced by the next trade (0: none).
    retrace: i64,
    /// The background leaves the symbol alone until this time.
    pub reserved_until: i64,
    /// Time of the last volume spike (planted ones are noted when planned).
    pub last_spike: i64,
    /// Time of the last news.
    pub last_news: i64,
}

impl Symbol {
    fn new(price: i64) -> Self {
        Symbol {
            price,
            reference: price,
            anchor: price,
            pre_jump: price,
            last_jump: NEVER,
            retrace: 0,
            reserved_until: NEVER,
            last_spike: NEVER,
            last_news: NEVER,
        }
    }

    /// A price at or below every trade of the last 5 minutes before `now`.
    pub fn recent_low(&self, now: i64) -> i64 {
        // Between jumps prices never rise, and a window of 5 minutes holds at most one
        // jump: its lowest trade is the one before that jump or the latest one.
        if now - self.last_jump <= JUMP_GAP + MIN {
            self.price.min(self.pre_jump)
        } else {
            self.price
        }
    }

    /// Resumes the background after a planted run of trades ending at `end` whose
    /// lowest price was above `resume`: the next trade drops to `resume` or below and
    /// no jump comes within 5 minutes, so no planted run can grow on background trades.
    pub fn resume_after_run(&mut self, resume: i64, end: i64) {
        self.price = resume.max(FLOOR);
        self.pre_jump = self.price;
        self.retrace = 0;
        self.last_jump = end;
    }

    /// The next trade price of the background process.
    pub fn step(&mut self, now: i64, rng: &mut Rng, allow_jump: bool) -> i64 {
        if self.retrace > 0 {
            self.price -= (self.retrace / 2 + 1) * TICK;
            self.retrace = 0;
            return self.price;
        }
        // Below the reference the price only waits for a jump; above it, it drifts down.
        // So it hovers near the reference however densely the symbol trades.
        let below = self.price < self.reference;
        if allow_jump
            && now - self.last_jump > JUMP_GAP
            && rng.chance(if below { 40 } else { 3 }, 100)
        {
            let j = rng.range(2, 12);
            self.pre_jump = self.price;
            self.price += j * TICK;
            self.last_jump = now;
            self.retrace = j;
            // The level itself wanders a little, within half to twice its start.
            self.reference =
                (self.reference + rng.range(-8, 8) * TICK).clamp(self.anchor / 2, self.anchor * 2);
            return self.price;
        }
        if !below && rng.chance(30, 100) && self.price - TICK >= FLOOR {
            self.price -= TICK;
        }
        self.price
    }
}

/// Per-category state for purchases.
#[derive(Debug, Clone)]
struct Category {
    /// Times of the last `CATEGORY_LIMIT` purchases, a ring.
    ring: [i64; CATEGORY_LIMIT],
    head: usize,
    /// Windows reserved by planted episodes: the background buys nothing here.
    reserved: Vec<(i64, i64)>,
}

/// The background market and shop.
pub struct Market {
    pub symbols: Vec<Symbol>,
    pub names: Vec<String>,
    categories: Vec<Category>,
    /// Trades owed to news: (due, symbol).
    owed: BinaryHeap<Reverse<(i64, u32)>>,
}

impl Market {
    /// `k` symbols (at least one) with reference prices drawn from `rng`.
    pub fn new(k: usize, rng: &mut Rng) -> Self {
        let k = k.max(1);
        let mut symbols = Vec::with_capacity(k);
        let mut names_out = Vec::with_capacity(k);
        for i in 0..k {
            let price = match names::TICKERS.get(i) {
                Some(&(_, p)) => p,
                // 50.00 to 5 000.00, on the tick.
                None => rng.range(1_000, 100_000) * TICK,
            };
            symbols.push(Symbol::new(price));
            names_out.push(names::symbol_name(i));
        }
        let categories = CATEGORIES
            .iter()
            .map(|_| Category {
                ring: [NEVER; CATEGORY_LIMIT],
                head: 0,
                reserved: Vec::new(),
            })
            .collect();
        Market {
            symbols,
            names: names_out,
            categories,
            owed: BinaryHeap::new(),
        }
    }

    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    /// Records a purchase of category `c` at `ts` (planted or not).
    pub fn note_purchase(&mut self, c: u8, ts: i64) {
        if let Some(cat) = self.categories.get_mut(usize::from(c)) {
            cat.ring[cat.head] = ts;
            cat.head = (cat.head + 1) % CATEGORY_LIMIT;
        }
    }

    /// Time of the last purchase of category `c` written so far.
    pub fn last_purchase(&self, c: u8) -> i64 {
        self.categories.get(usize::from(c)).map_or(NEVER, |cat| {
            cat.ring[(cat.head + CATEGORY_LIMIT - 1) % CATEGORY_LIMIT]
        })
    }

    /// Whether category `c` may take one more purchase at `now` without holding 100
    /// within an hour, and lies outside every reserved window.
    pub fn category_open(&self, c: u8, now: i64) -> bool {
        let Some(cat) = self.categories.get(usize::from(c)) else {
            return false;
        };
        // The oldest entry of the ring is the 99th purchase back.
        cat.ring[cat.head] < now - HOUR
            && !cat.reserved.iter().any(|&(lo, hi)| lo <= now && now <= hi)
    }

    /// Whether `[lo, hi]` overlaps no reserved window of category `c`.
    pub fn category_free(&self, c: u8, lo: i64, hi: i64) -> bool {
        self.categories
            .get(usize::from(c))
            .is_some_and(|cat| !cat.reserved.iter().any(|&(a, b)| a <= hi && lo <= b))
    }

    /// Reserves `[lo, hi]` of category `c` for a planted episode.
    pub fn reserve_category(&mut self, c: u8, lo: i64, hi: i64) {
        if let Some(cat) = self.categories.get_mut(usize::from(c)) {
            cat.reserved.push((lo, hi));
        }
    }

    /// Forgets reserved windows that ended before `now`.
    pub fn prune_reservations(&mut self, now: i64) {
        for cat in &mut self.categories {
            cat.reserved.retain(|&(_, hi)| hi >= now);
        }
    }

    /// Whether the background may touch symbol `s` at `now`.
    fn free(&self, s: usize, now: i64) -> bool {
        self.symbols[s].reserved_until < now
    }

    fn pick_free(&self, rng: &mut Rng, now: i64) -> Option<usize> {
        (0..4)
            .map(|_| rng.index(self.symbols.len()))
            .find(|&s| self.free(s, now))
    }

    /// A purchase of the background (small, daytime-safe).
    pub fn purchase(rng: &mut Rng, category: u8) -> Purchase {
        // Ticket sizes differ by category; all stay under 5 000.00.
        let hi = match category {
            2 | 3 | 11 | 13 | 14 => 499_900,
            _ => 299_900,
        };
        Purchase {
            order: 0,
            customer: rng.below(1_000_000) as u32,
            category,
            city: rng.index(CITIES.len()) as u8,
            amount: rng.range(49, hi / 100 - 1) * 100 + [0, 50, 99][rng.index(3)],
            items: rng.range(1, 8) as u16,
            payment: rng.index(PAYMENTS.len()) as u8,
        }
    }

    fn weighted_category(rng: &mut Rng) -> u8 {
        let mut r = rng.below(u64::from(CATEGORY_WEIGHT)) as u32;
        for (i, &(_, w)) in CATEGORIES.iter().enumerate() {
            if r < w {
                return i as u8;
            }
            r -= w;
        }
        0
    }

    /// A trade of symbol `s` by the background process.
    fn trade(&mut self, s: usize, now: i64, rng: &mut Rng) -> Event {
        let price = self.symbols[s].step(now, rng, true);
        Event::Trade {
            sym: s as u32,
            price,
            volume: (rng.range(1, 60) * rng.range(1, 50)) as u32,
        }
    }

    fn alert(&mut self, rng: &mut Rng) -> Event {
        let s = rng.index(self.symbols.len());
        Event::Alert {
            sym: s as u32,
            price: self.symbols[s].price,
            change_bp: rng.range(-500, 500) as i32,
        }
    }

    /// The background event of the slot at `now`. `news_ok` is false near the end of
    /// the stream, where a follow-up trade might not fit.
    pub fn background(&mut self, now: i64, rng: &mut Rng, news_ok: bool) -> Event {
        if let Some(&Reverse((due, s))) = self.owed.peek() {
            if due <= now {
                self.owed.pop();
                return self.trade(s as usize, now, rng);
            }
        }
        let r = rng.below(1000);
        match r {
            0..600 => match self.pick_free(rng, now) {
                Some(s) => self.trade(s, now, rng),
                None => self.alert(rng),
            },
            600..860 => match self.pick_free(rng, now) {
                Some(s) => {
                    let sym = &self.symbols[s];
                    let price = (sym.price + rng.range(-4, 4) * TICK).max(FLOOR);
                    Event::Order {
                        sym: s as u32,
                        side: if rng.chance(1, 2) {
                            Side::Buy
                        } else {
                            Side::Sell
                        },
                        size: (rng.range(1, 90) * 100) as u32,
                        price,
                    }
                }
                None => self.alert(rng),
            },
            860..920 => {
                for _ in 0..4 {
                    let c = Self::weighted_category(rng);
                    if self.category_open(c, now) {
                        return Event::Purchase(Self::purchase(rng, c));
                    }
                }
                match self.pick_free(rng, now) {
                    Some(s) => self.trade(s, now, rng),
                    None => self.alert(rng),
                }
            }
            920..995 => self.alert(rng),
            995..999 => {
                let pick = self.pick_free(rng, now).filter(|&s| {
                    let sym = &self.symbols[s];
                    news_ok && now - sym.last_spike > SPIKE_QUIET
                });
                match pick {
                    Some(s) => {
                        let (lo, hi) = if rng.chance(1, 10) { BALANCED } else { NEUTRAL };
                        let headline = rng.range(i64::from(lo), i64::from(hi) - 1) as u16;
                        self.note_news(s, now);
                        self.owed
                            .push(Reverse((now + rng.range(5 * SEC, 3 * MIN), s as u32)));
                        Event::News {
                            sym: s as u32,
                            headline,
                        }
                    }
                    None => self.alert(rng),
                }
            }
            _ => match self.pick_free(rng, now) {
                Some(s) => {
                    self.symbols[s].last_spike = self.symbols[s].last_spike.max(now);
                    Event::Spike {
                        sym: s as u32,
                        volume: (rng.range(200, 3_000) * 1_000) as u32,
                    }
                }
                None => self.alert(rng),
            },
        }
    }

    /// Records news of symbol `s` at `ts`.
    pub fn note_news(&mut self, s: usize, ts: i64) {
        let sym = &mut self.symbols[s];
        sym.last_news = sym.last_news.max(ts);
    }

    /// Records a volume spike of symbol `s` at `ts`.
    pub fn note_spike(&mut self, s: usize, ts: i64) {
        let sym = &mut self.symbols[s];
        sym.last_spike = sym.last_spike.max(ts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trades of one symbol, stepped by the background process every `gap` ms.
    fn walk(seed: u64, n: usize, gap: i64) -> Vec<(i64, i64)> {
        let mut rng = Rng::new(seed);
        let mut s = Symbol::new(250_000);
        let mut out = Vec::new();
        let mut t = 0;
        for _ in 0..n {
            t += rng.range(0, gap);
            out.push((t, s.step(t, &mut rng, true)));
        }
        out
    }

    #[test]
    fn background_walk_never_matches_momentum_or_rising_run() {
        use super::super::episodes::{momentum_matches, rising_run_matches};
        for seed in 0..20 {
            for gap in [200, 2_000, 20_000] {
                let w = walk(seed, 3_000, gap);
                assert!(momentum_matches(&w).is_empty(), "seed {seed} gap {gap}");
                assert!(rising_run_matches(&w).is_empty(), "seed {seed} gap {gap}");
                let lo = w.iter().map(|x| x.1).min().unwrap_or(0);
                let hi = w.iter().map(|x| x.1).max().unwrap_or(0);
                assert!(lo > 200_000 && hi < 300_000, "drifted: {lo}..{hi}");
            }
        }
    }

    #[test]
    fn recent_low_bounds_the_window() {
        let w = walk(3, 5_000, 3_000);
        let mut rng = Rng::new(3);
        let mut s = Symbol::new(250_000);
        let mut t = 0;
        let mut hist: Vec<(i64, i64)> = Vec::new();
        for _ in 0..5_000 {
            t += rng.range(0, 3_000);
            let p = s.step(t, &mut rng, true);
            hist.push((t, p));
            let low = hist
                .iter()
                .rev()
                .take_while(|x| x.0 >= t - 5 * MIN)
                .map(|x| x.1)
                .min()
                .unwrap_or(p);
            assert!(s.recent_low(t) <= low);
        }
        assert_eq!(w.len(), 5_000);
    }

    #[test]
    fn category_ring_caps_the_hourly_count() {
        let mut rng = Rng::new(1);
        let mut m = Market::new(3, &mut rng);
        let mut taken = Vec::new();
        for i in 0..1_000 {
            let now = i * 10 * SEC;
            if m.category_open(0, now) {
                m.note_purchase(0, now);
                taken.push(now);
            }
        }
        for (i, &t) in taken.iter().enumerate() {
            let in_hour = taken[..=i].iter().filter(|&&x| x >= t - HOUR).count();
            assert!(in_hour <= CATEGORY_LIMIT, "{in_hour} at {t}");
        }
        assert!(taken.len() > 200);
        m.reserve_category(1, 0, HOUR);
        assert!(!m.category_open(1, 30 * MIN));
        assert!(m.category_open(1, HOUR + 1));
        assert!(!m.category_free(1, HOUR, 2 * HOUR));
        assert!(m.category_free(1, HOUR + 1, 2 * HOUR));
    }

    #[test]
    fn background_purchases_are_never_fraud() {
        let mut rng = Rng::new(9);
        for c in 0..CATEGORIES.len() as u8 {
            for _ in 0..2_000 {
                let p = Market::purchase(&mut rng, c);
                assert!(p.amount < 500_000 && p.amount > 0 && p.items <= 8, "{p:?}");
            }
        }
    }
}
