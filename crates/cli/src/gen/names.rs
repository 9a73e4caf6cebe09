//! The fixed vocabularies of the generated stream: tickers, headlines, categories, cities.
//!
//! Headlines are split by the sentiment they carry under `patterns/sentiment.pattern`
//! (`positive(text)` = more positive than negative words, counted as substrings of
//! the lowercased text). Every template uses each sentiment word at most once and no
//! other text contains one as a substring ("again" holds "gain"), so both readings of
//! `count_any` (distinct words or occurrences) give the same answer; the tests check it.

/// Tickers used first, in this order, with a starting price in paise; beyond them
/// symbols are `SYM0050`, `SYM0051`, ...
pub const TICKERS: &[(&str, i64)] = &[
    ("RELIANCE", 251240),
    ("TCS", 384105),
    ("INFY", 152360),
    ("HDFCBANK", 164815),
    ("ICICIBANK", 100235),
    ("SBIN", 62180),
    ("ITC", 45225),
    ("LT", 341270),
    ("WIPRO", 44890),
    ("BHARTIARTL", 105155),
    ("HINDUNILVR", 248630),
    ("KOTAKBANK", 178245),
    ("AXISBANK", 110420),
    ("MARUTI", 1024560),
    ("SUNPHARMA", 131275),
    ("TITAN", 360510),
    ("ULTRACEMCO", 973040),
    ("ASIANPAINT", 311885),
    ("BAJFINANCE", 721230),
    ("NESTLEIND", 245295),
    ("TATAMOTORS", 78160),
    ("TATASTEEL", 13645),
    ("POWERGRID", 24630),
    ("NTPC", 31175),
    ("ONGC", 22840),
    ("COALINDIA", 38215),
    ("HCLTECH", 145520),
    ("TECHM", 126285),
    ("ADANIPORTS", 108350),
    ("GRASIM", 210535),
    ("JSWSTEEL", 81290),
    ("DRREDDY", 564025),
    ("CIPLA", 124570),
    ("EICHERMOT", 370215),
    ("HEROMOTOCO", 411840),
    ("BRITANNIA", 521265),
    ("DIVISLAB", 365580),
    ("BAJAJFINSV", 161230),
    ("INDUSINDBK", 150345),
    ("HINDALCO", 56220),
    ("UPL", 57135),
    ("SBILIFE", 143160),
    ("HDFCLIFE", 61525),
    ("APOLLOHOSP", 570240),
    ("TATACONSUM", 110815),
    ("BPCL", 45270),
    ("DABUR", 54830),
    ("PIDILITIND", 270255),
    ("HAVELLS", 135210),
    ("GODREJCP", 108745),
];

/// Synthesized symbol names start at this index so they never collide with a ticker.
#[cfg(test)]
pub const SYNTH_FROM: usize = TICKERS.len();

/// How a headline reads under `positive()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// No sentiment word at all.
    Neutral,
    /// As many positive as negative words: not positive.
    Balanced,
    /// Only positive words.
    Positive,
    /// Only negative words.
    Negative,
}

/// A headline is `before + SYMBOL + after`.
pub struct Headline {
    pub before: &'static str,
    pub after: &'static str,
    /// Documents the grouping; the tests check it against the sentiment words.
    #[cfg_attr(not(test), allow(dead_code))]
    pub tone: Tone,
}

const fn h(before: &'static str, after: &'static str, tone: Tone) -> Headline {
    Headline {
        before,
        after,
        tone,
    }
}

/// All headline templates, grouped by tone (see the `*_RANGE` constants).
pub const HEADLINES: &[Headline] = &[
    // Neutral: 0..12
    h("", " announces board meeting date", Tone::Neutral),
    h("", " to hold annual general meeting", Tone::Neutral),
    h("", " files quarterly shareholding pattern", Tone::Neutral),
    h("", " appoints new independent director", Tone::Neutral),
    h("", " schedules analyst call", Tone::Neutral),
    h(
        "Exchange seeks clarification from ",
        " on news report",
        Tone::Neutral,
    ),
    h("", " completes scheme of arrangement", Tone::Neutral),
    h("", " updates investor presentation", Tone::Neutral),
    h(
        "",
        " allots shares under employee stock plan",
        Tone::Neutral,
    ),
    h(
        "Brokerages hold views on ",
        " ahead of results",
        Tone::Neutral,
    ),
    h("", " signs memorandum of understanding", Tone::Neutral),
    h("", " receives order from state utility", Tone::Neutral),
    // Balanced: 12..15
    h(
        "",
        " posts profit growth but flags debt and loss",
        Tone::Balanced,
    ),
    h(
        "",
        " sees record gain amid fraud penalty probe",
        Tone::Balanced,
    ),
    h("Margin decline at ", " offset by profit", Tone::Balanced),
    // Positive: 15..19
    h("Record profit surge at ", "", Tone::Positive),
    h("", " reports strong growth and profit", Tone::Positive),
    h("", " shares gain on record order book", Tone::Positive),
    h("", " sees revenue surge", Tone::Positive),
    // Negative: 19..23
    h("", " hit by fraud penalty", Tone::Negative),
    h("", " reports loss as debt mounts", Tone::Negative),
    h("", " warns of decline in margins", Tone::Negative),
    h("Regulator probes ", " over fraud", Tone::Negative),
];

/// Index ranges of `HEADLINES` by tone.
pub const NEUTRAL: (u16, u16) = (0, 12);
pub const BALANCED: (u16, u16) = (12, 15);
pub const POSITIVE: (u16, u16) = (15, 19);
pub const NEGATIVE: (u16, u16) = (19, 23);

/// Purchase categories with their relative weight in the background stream.
pub const CATEGORIES: &[(&str, u32)] = &[
    ("grocery", 14),
    ("fashion", 10),
    ("electronics", 9),
    ("mobiles", 8),
    ("home", 7),
    ("beauty", 7),
    ("books", 6),
    ("footwear", 6),
    ("pharmacy", 6),
    ("toys", 5),
    ("sports", 5),
    ("appliances", 5),
    ("stationery", 4),
    ("jewellery", 3),
    ("furniture", 3),
    ("pet_supplies", 2),
];

/// Sum of the category weights.
pub const CATEGORY_WEIGHT: u32 = 100;

/// Delivery cities.
pub const CITIES: &[&str] = &[
    "Mumbai",
    "Delhi",
    "Bengaluru",
    "Chennai",
    "Kolkata",
    "Pune",
    "Hyderabad",
    "Ahmedabad",
    "Jaipur",
    "Lucknow",
    "Kochi",
    "Chandigarh",
    "Indore",
    "Surat",
    "Nagpur",
    "Bhopal",
];

/// Payment methods.
pub const PAYMENTS: &[&str] = &["upi", "card", "cod", "wallet"];

/// The symbol name for index `i`.
pub fn symbol_name(i: usize) -> String {
    match TICKERS.get(i) {
        Some((name, _)) => (*name).to_owned(),
        None => format!("SYM{i:04}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POS: [&str; 5] = ["profit", "growth", "record", "surge", "gain"];
    const NEG: [&str; 5] = ["loss", "decline", "fraud", "penalty", "debt"];

    fn occurrences(text: &str, words: &[&str]) -> usize {
        words.iter().map(|w| text.matches(w).count()).sum()
    }

    fn distinct(text: &str, words: &[&str]) -> usize {
        words.iter().filter(|w| text.contains(*w)).count()
    }

    #[test]
    fn headline_tones_match_sentiment_pattern() {
        for (i, hl) in HEADLINES.iter().enumerate() {
            let text = format!("{}BHARTIARTL{}", hl.before, hl.after).to_lowercase();
            let (p, n) = (occurrences(&text, &POS), occurrences(&text, &NEG));
            assert_eq!(p, distinct(&text, &POS), "{text}: a word twice");
            assert_eq!(n, distinct(&text, &NEG), "{text}: a word twice");
            let want = match hl.tone {
                Tone::Neutral => p == 0 && n == 0,
                Tone::Balanced => p == n && p > 0,
                Tone::Positive => p > 0 && n == 0,
                Tone::Negative => p == 0 && n > 0,
            };
            assert!(
                want,
                "{text}: tone {:?} but {p} positive, {n} negative",
                hl.tone
            );
            let idx = u16::try_from(i).expect("few headlines");
            let range = match hl.tone {
                Tone::Neutral => NEUTRAL,
                Tone::Balanced => BALANCED,
                Tone::Positive => POSITIVE,
                Tone::Negative => NEGATIVE,
            };
            assert!(range.0 <= idx && idx < range.1, "{text} outside its range");
        }
        assert_eq!(NEGATIVE.1 as usize, HEADLINES.len());
    }

    #[test]
    fn names_hold_no_sentiment_word_and_need_no_quoting() {
        let all = POS.iter().chain(NEG.iter()).collect::<Vec<_>>();
        let mut names: Vec<String> = (0..SYNTH_FROM + 20).map(symbol_name).collect();
        names.extend(CATEGORIES.iter().map(|c| c.0.to_owned()));
        names.extend(CITIES.iter().map(|c| (*c).to_owned()));
        for name in &names {
            let low = name.to_lowercase();
            assert!(!all.iter().any(|w| low.contains(*w)), "{name}");
            assert!(!name.contains([',', '"', '\\', '\n']), "{name}");
            assert!(
                name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
                "{name}"
            );
        }
        assert_eq!(CATEGORIES.iter().map(|c| c.1).sum::<u32>(), CATEGORY_WEIGHT);
        assert_eq!(symbol_name(SYNTH_FROM), "SYM0050");
        assert_eq!(symbol_name(12345), "SYM12345");
    }
}
