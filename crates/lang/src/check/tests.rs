//! Checker tests on source text, through `crate::compile`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::diagnostic::{Diagnostic, Severity};
use crate::typed::{
    Access, AggFunc, AggRange, FieldRef, NativeSig, Node, Program, TExpr, TExprKind, ValueType,
    VarKind,
};
use crate::{Sources, ast};

/// The declarations of LANGUAGE.md sections 2 and 3 plus `Purchase`.
const PRELUDE: &str = "
EVENT Trade       (symbol STRING, price FLOAT, volume INT);
EVENT Order       (symbol STRING, side STRING, size INT, price FLOAT);
EVENT News        (symbol STRING, headline STRING);
EVENT VolumeSpike (symbol STRING, volume INT);
EVENT AAPL, AMZN, GOOG (open FLOAT, volume INT);
EVENT Purchase (order_id STRING, customer STRING, category STRING, city STRING,
                amount FLOAT, items INT, payment STRING);
DEFINE positive_words = ('profit', 'growth', 'record', 'surge', 'gain');
DEFINE negative_words = ('loss', 'decline', 'fraud', 'penalty', 'debt');
DEFINE positive(text) = count_any(lower(text), positive_words)
                      > count_any(lower(text), negative_words);
";

fn run(src: &str, natives: &[NativeSig]) -> Result<(Program, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut sources = Sources::new();
    sources.add("test.pattern", src);
    crate::compile_with_warnings(&sources, natives).map_err(|d| d.list)
}

/// Compiles the prelude plus `src`; panics with the diagnostics on error.
fn ok(src: &str) -> Program {
    match run(&format!("{PRELUDE}\n{src}"), &[]) {
        Ok((p, _)) => p,
        Err(d) => panic!("expected no error, got {d:#?}"),
    }
}

/// Warnings of a program that compiles.
fn warnings(src: &str) -> Vec<Diagnostic> {
    match run(&format!("{PRELUDE}\n{src}"), &[]) {
        Ok((_, w)) => w,
        Err(d) => panic!("expected no error, got {d:#?}"),
    }
}

/// The errors of the prelude plus `src` (must fail).
fn errs(src: &str) -> Vec<Diagnostic> {
    errs_raw(&format!("{PRELUDE}\n{src}"))
}

fn errs_raw(src: &str) -> Vec<Diagnostic> {
    match run(src, &[]) {
        Ok(_) => panic!("expected an error for:\n{src}"),
        Err(d) => {
            let e: Vec<Diagnostic> = d.into_iter().filter(Diagnostic::is_error).collect();
            assert!(
                e.iter().all(|d| !d.code.starts_with("E01")),
                "syntax error in test source: {e:#?}"
            );
            e
        }
    }
}

/// Exactly one error, with this code; returns it.
fn one(src: &str, code: &str) -> Diagnostic {
    let e = errs(src);
    assert_eq!(e.len(), 1, "expected exactly one error {code}, got {e:#?}");
    assert_eq!(e[0].code, code, "{e:#?}");
    e.into_iter().next().unwrap()
}

fn text_at<'a>(src: &'a str, d: &Diagnostic) -> &'a str {
    let full = format!("{PRELUDE}\n");
    &src[d.span.start - full.len()..d.span.end - full.len()]
}

fn pattern<'p>(p: &'p Program, name: &str) -> &'p crate::typed::Pattern {
    p.patterns.iter().find(|x| x.name == name).unwrap()
}

// ----- the examples of LANGUAGE.md --------------------------------------------------

const SEEDS: &str = "
PATTERN bull_run
  SEQ(VolumeSpike v, News n) WHERE positive(n.headline)
  WITHIN 10m PARTITION BY symbol;
PATTERN bear_signal
  SEQ(News n, Order o) WHERE NOT positive(n.headline) AND o.side = 'sell' AND o.size > 10000
  WITHIN 5m PARTITION BY symbol;
PATTERN insider_trading
  SEQ(VolumeSpike v, News n) WHERE n.ts - v.ts >= 5m
  WITHIN 30m PARTITION BY symbol;
PATTERN momentum
  SEQ(Trade t{4,}) WHERE t[i].price > t[i-1].price
  WITHIN 3m PARTITION BY symbol STRICT CONTIGUITY
  EMIT t[1].price AS from_price, t[last].price AS to_price, count(t) AS trades;
PATTERN manipulation
  SEQ(Order big, Order rev)
  WHERE big.size > 50000 AND rev.size > 30000 AND rev.side != big.side
  WITHIN 1m PARTITION BY symbol STRICT CONTIGUITY;
";

const MORE: &str = "
PATTERN insider_emit
  SEQ(VolumeSpike v, News n)
  WHERE n.ts - v.ts >= 5m
  WITHIN 30m
  PARTITION BY symbol
  EMIT v.symbol, v.volume AS spike_volume, n.headline, n.ts - v.ts AS lead_time;
PATTERN unanswered_sell
  SEQ(Order s, NOT Order b)
  WHERE s.side = 'sell' AND s.size > 10000 AND b.side = 'buy'
  WITHIN 1m PARTITION BY symbol;
PATTERN quiet_news SEQ(News n, NOT Trade t) WITHIN 5m PARTITION BY symbol;
PATTERN above_average
  SEQ(Trade t{3,}) WHERE t[i].price > avg(t[..i-1].price)
  WITHIN 5m PARTITION BY symbol;
PATTERN fraud SEQ(Purchase p) WHERE p.amount > 5000 AND p.items > 10 AND hour(p.ts) < 6;
PATTERN rush SEQ(Purchase p{100,}) WITHIN 1h PARTITION BY category;
PATTERN tickers SEQ(AAPL a, OR(AMZN b, GOOG g), AND(AAPL c+, AMZN d)) WHERE a.open > 1
  WITHIN 1h;
";

#[test]
fn seed_patterns_check_and_classify() {
    let p = ok(SEEDS);
    assert_eq!(p.patterns.len(), 5);

    let bull = pattern(&p, "bull_run");
    assert_eq!(bull.conjuncts.len(), 1);
    assert_eq!(bull.conjuncts[0].text, "positive(n.headline)");
    assert_eq!(bull.conjuncts[0].expr.ty, ValueType::Bool);
    assert_eq!(bull.conjuncts[0].vars.len(), 1);
    assert_eq!(bull.within, Some(600_000_000_000));

    let bear = pattern(&p, "bear_signal");
    let texts: Vec<&str> = bear.conjuncts.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "NOT positive(n.headline)",
            "o.side = 'sell'",
            "o.size > 10000"
        ]
    );
    assert!(
        bear.conjuncts
            .iter()
            .all(|c| c.iterative.is_none() && c.negated.is_none())
    );

    let insider = pattern(&p, "insider_trading");
    assert_eq!(insider.within, Some(30 * 60 * 1_000_000_000));
    assert_eq!(insider.conjuncts.len(), 1);
    let c = &insider.conjuncts[0];
    assert_eq!(c.vars.len(), 2);
    let TExprKind::Binary { lhs, .. } = &c.expr.kind else {
        panic!("{:?}", c.expr)
    };
    assert_eq!(lhs.ty, ValueType::Duration);

    let momentum = pattern(&p, "momentum");
    assert_eq!(momentum.conjuncts.len(), 1);
    let t = momentum.vars[0].clone();
    assert_eq!(t.kind, VarKind::Kleene { min: 4, max: None });
    assert_eq!(momentum.conjuncts[0].iterative.map(|v| v.index()), Some(0));
    assert_eq!(momentum.strategy, ast::Strategy::StrictContiguity);
    assert_eq!(momentum.after_match, ast::AfterMatch::SkipPastLastEvent);
    let names: Vec<&str> = momentum.emit.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["from_price", "to_price", "trades"]);
    assert!(matches!(
        momentum.emit[0].expr.kind,
        TExprKind::Field {
            access: Access::Nth(1),
            ..
        }
    ));
    assert!(matches!(
        momentum.emit[1].expr.kind,
        TExprKind::Field {
            access: Access::Last,
            ..
        }
    ));
    assert!(matches!(
        momentum.emit[2].expr.kind,
        TExprKind::Aggregate {
            func: AggFunc::Count,
            field: None,
            ..
        }
    ));
    assert_eq!(momentum.partition_by[0].name, "symbol");
    assert_eq!(momentum.partition_by[0].ty, ValueType::String);

    let manip = pattern(&p, "manipulation");
    assert_eq!(manip.conjuncts.len(), 3);
    assert_eq!(manip.conjuncts[2].vars.len(), 2);
    assert!(manip.conjuncts.iter().all(|c| c.iterative.is_none()));
}

#[test]
fn more_language_examples_check() {
    let p = ok(&format!("{SEEDS}{MORE}"));
    let insider = pattern(&p, "insider_emit");
    let names: Vec<&str> = insider.emit.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["symbol", "spike_volume", "headline", "lead_time"]);
    assert_eq!(insider.emit[3].expr.ty, ValueType::Duration);

    let sell = pattern(&p, "unanswered_sell");
    assert_eq!(sell.vars[1].kind, VarKind::Negated);
    let neg: Vec<_> = sell
        .conjuncts
        .iter()
        .map(|c| c.negated.map(|v| v.index()))
        .collect();
    assert_eq!(neg, [None, None, Some(1)]);
    assert_eq!(sell.routed_types.len(), 1);

    let quiet = pattern(&p, "quiet_news");
    assert_eq!(quiet.routed_types.len(), 2);
    assert!(quiet.routed_types.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(quiet.partition_by[0].fields.len(), 2);

    let avg = pattern(&p, "above_average");
    let c = &avg.conjuncts[0];
    assert_eq!(c.iterative.map(|v| v.index()), Some(0));
    let TExprKind::Binary { rhs, .. } = &c.expr.kind else {
        panic!()
    };
    assert!(matches!(
        rhs.kind,
        TExprKind::Aggregate {
            func: AggFunc::Avg,
            range: AggRange::BeforeCurrent,
            ..
        }
    ));

    let fraud = pattern(&p, "fraud");
    assert_eq!(fraud.within, None);
    assert_eq!(fraud.conjuncts.len(), 3);
    // `p.amount > 5000`: the INT literal is promoted.
    let TExprKind::Binary { rhs, .. } = &fraud.conjuncts[0].expr.kind else {
        panic!()
    };
    assert!(matches!(rhs.kind, TExprKind::ToFloat(_)));

    let rush = pattern(&p, "rush");
    assert_eq!(
        rush.vars[0].kind,
        VarKind::Kleene {
            min: 100,
            max: None
        }
    );

    let tickers = pattern(&p, "tickers");
    assert_eq!(tickers.vars.len(), 5);
    assert!(matches!(tickers.seq[1], Node::Or(ref m) if m.len() == 2));
    assert!(matches!(tickers.seq[2], Node::And(ref m) if m.len() == 2));
    assert_eq!(tickers.routed_types.len(), 3);
}

/// The shared folder (`../shared` next to the repository), or `None` (with
/// the reason printed) when it is absent outside CI.
fn shared(sub: &str) -> Option<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(sub);
    if root.exists() {
        return Some(root);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing (required in CI)",
        root.display()
    );
    println!("skipped: {} is missing", root.display());
    None
}

/// Every code block of LANGUAGE.md that holds items (sections 2-4 and 8)
/// checks, together with the `Purchase` event of section 8.
#[test]
fn language_md_examples_check() {
    let Some(path) = shared("design/LANGUAGE.md") else {
        return;
    };
    let md = std::fs::read_to_string(path).unwrap();
    let mut decls = String::from(
        "EVENT Purchase (order_id STRING, customer STRING, category STRING, city STRING, \
         amount FLOAT, items INT, payment STRING);\n",
    );
    let mut pattern_blocks = Vec::new();
    for (k, block) in md.split("```").enumerate() {
        let block = block.trim_start_matches(|c: char| c.is_alphanumeric());
        let first = block.trim_start();
        if k % 2 == 0 {
            continue;
        }
        if first.starts_with("EVENT") || first.starts_with("DEFINE") {
            decls.push_str(block);
        } else if first.starts_with("PATTERN") {
            pattern_blocks.push(block);
        }
    }
    assert!(
        pattern_blocks.len() >= 2,
        "found {} pattern blocks",
        pattern_blocks.len()
    );
    let mut names = Vec::new();
    // Sections repeat examples (insider_trading), so each block is its own program.
    for block in pattern_blocks {
        match run(&format!("{decls}{block}"), &[]) {
            Ok((p, _)) => names.extend(p.patterns.into_iter().map(|x| x.name)),
            Err(d) => panic!("LANGUAGE.md example does not check:\n{block}\n{d:#?}"),
        }
    }
    for name in [
        "insider_trading",
        "bull_run",
        "bear_signal",
        "momentum",
        "manipulation",
    ] {
        assert!(names.iter().any(|x| x == name), "{name} missing");
    }
}

/// Every program of the shared conformance suite checks without error.
#[test]
fn conformance_programs_check() {
    let Some(root) = shared("conformance") else {
        return;
    };
    let mut count = 0;
    for sub in ["semantics", "opencep"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let program = match f.extension().and_then(|e| e.to_str()) {
                Some("case") => {
                    let start = text.find("--- pattern").expect("pattern section") + 11;
                    let rest = &text[start..];
                    let end = rest.find("\n---").unwrap_or(rest.len());
                    rest[..end].to_string()
                }
                Some("pattern") => text,
                _ => continue,
            };
            if let Err(d) = run(&program, &[]) {
                panic!("{} does not check: {d:#?}", f.display());
            }
            count += 1;
        }
    }
    assert!(count >= 20, "found only {count} conformance programs");
}

// ----- namespaces -----------------------------------------------------------------

#[test]
fn duplicate_names() {
    let d = one("DEFINE x = 1; DEFINE x = 2;", "E0201");
    assert_eq!(d.secondary.len(), 1);
    one("PATTERN p SEQ(Trade a); PATTERN p SEQ(Trade a);", "E0201");
    one("DEFINE Trade = 1;", "E0201");
    let d = one("EVENT Trade (symbol STRING);", "E0201");
    assert!(d.message.contains("different fields"), "{}", d.message);
    let d = one("EVENT Z, Z (x INT);", "E0201");
    assert!(d.message.contains("more than once"), "{}", d.message);
    // An identical redeclaration merges.
    let p = ok("EVENT News (symbol STRING, headline STRING); PATTERN p SEQ(News n);");
    assert_eq!(p.types.iter().filter(|t| t.name == "News").count(), 1);
}

#[test]
fn event_declarations() {
    let e = errs("EVENT X (ts TIMESTAMP, type STRING, a INT, a FLOAT);");
    let codes: Vec<&str> = e.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0202", "E0202", "E0203"]);
    let p = ok("EVENT X, Y (a INT); PATTERN p SEQ(X x, Y y) WITHIN 1s;");
    assert_eq!(
        p.types
            .iter()
            .filter(|t| t.name == "X" || t.name == "Y")
            .count(),
        2
    );
}

#[test]
fn duplicates_across_files() {
    let mut s = Sources::new();
    s.add("a.pattern", "EVENT A (x INT); PATTERN p SEQ(A a);");
    s.add("b.pattern", "EVENT A (x INT); PATTERN p SEQ(A b);");
    let d = crate::compile(&s, &[]).unwrap_err().list;
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].code, "E0201");
    assert_eq!(d[0].file.index(), 1);
    assert!(d[0].help.is_some());
}

// ----- DEFINE -----------------------------------------------------------------------

#[test]
fn define_function_with_variable_parameter() {
    let p = ok("DEFINE big(o) = o.size > 1000 AND o.side = 'sell';
        PATTERN p SEQ(Order a, Order b) WHERE big(a) AND b.size > a.size WITHIN 1m;");
    let p = pattern(&p, "p");
    assert_eq!(p.conjuncts.len(), 2);
    assert_eq!(p.conjuncts[0].text, "big(a)");
    assert_eq!(p.conjuncts[0].vars.len(), 1);
    assert_eq!(p.conjuncts[0].expr.span.start, p.conjuncts[0].span.start);
}

#[test]
fn define_with_kleene_parameter_and_list_parameter() {
    let p = ok("DEFINE rising(t) = t[i].price > t[i-1].price;
        DEFINE many(t) = count(t) >= 3;
        DEFINE among(s, l) = s IN l;
        PATTERN p SEQ(Trade t+) WHERE rising(t) AND many(t) AND among(t[last].symbol, ('A', 'B'))
        WITHIN 1m EMIT many(t) AS m;");
    let p = pattern(&p, "p");
    let it: Vec<Option<usize>> = p
        .conjuncts
        .iter()
        .map(|c| c.iterative.map(|v| v.index()))
        .collect();
    assert_eq!(it, [Some(0), None, None]);
    assert_eq!(p.emit[0].expr.ty, ValueType::Bool);
    // A parameter used as a variable needs a variable.
    one(
        "DEFINE rising(t) = t[i].price > t[i-1].price;
        PATTERN p SEQ(Trade t+) WHERE rising(1) WITHIN 1m;",
        "E0314",
    );
    // A variable where the body wants a value.
    one(
        "DEFINE twice(x) = x * 2 > 1; PATTERN p SEQ(Trade a) WHERE twice(a);",
        "E0307",
    );
    // The iterative rule applies to expanded bodies too.
    let src = "DEFINE above(t, b) = t[i].price > b.price;
        PATTERN p SEQ(Trade t+, Trade b) WHERE above(t, b) WITHIN 1m;";
    let d = one(src, "E0409");
    assert_eq!(text_at(src, &d), "b");
}

#[test]
fn define_constant_list_in_in() {
    let p = ok("DEFINE sides = ('buy', 'sell');
        DEFINE limit = 10 * 1000;
        PATTERN p SEQ(Order o) WHERE o.side IN sides AND o.size > limit AND o.side NOT IN ('x');");
    let c = &pattern(&p, "p").conjuncts;
    assert!(matches!(c[0].expr.kind, TExprKind::In { .. }));
    assert!(matches!(c[2].expr.kind, TExprKind::Not(_)));
}

#[test]
fn define_errors() {
    let d = one("DEFINE a(x) = b(x); DEFINE b(x) = a(x);", "E0211");
    assert!(d.message.contains("a -> b -> a"), "{}", d.message);
    one("DEFINE a = a + 1;", "E0211");
    let d = one("DEFINE abs(x) = x;", "E0210");
    assert!(d.message.contains("built-in"));
    one("DEFINE count = 1;", "E0210");
    one("DEFINE f(x, x) = x;", "E0213");
    let d = one("DEFINE f(x) = x + a.price;", "E0212");
    assert!(
        d.help.as_deref().unwrap().contains("DEFINE f(x, a)"),
        "{d:?}"
    );
    one("DEFINE f(x) = x + y;", "E0208");
    one("DEFINE f(x) = lowr(x);", "E0207");
    one("DEFINE f(x) = positive(x, x);", "E0303");
    one("DEFINE f(x) = positive;", "E0314");
    one("DEFINE f(x) = positive_words(x);", "E0314");
    // A broken definition is reported once, not at each use.
    let e = errs(
        "DEFINE f(x) = lowr(x);
        PATTERN p SEQ(News n) WHERE f(n.headline) AND f(n.symbol);",
    );
    assert_eq!(e.len(), 1, "{e:#?}");
}

#[test]
fn define_use_errors_point_at_the_call() {
    let src = "PATTERN p SEQ(Trade t) WHERE positive(t.price);";
    let d = one(src, "E0304");
    assert_eq!(text_at(src, &d), "positive(t.price)");
    assert!(
        d.message.contains("in expansion of `positive`"),
        "{}",
        d.message
    );
    one(
        "PATTERN p SEQ(News n) WHERE positive(n.headline, 1);",
        "E0303",
    );
    one("PATTERN p SEQ(News n) WHERE positive_words(1);", "E0314");
    one("PATTERN p SEQ(News n) WHERE positive;", "E0314");
    one(
        "DEFINE big(o) = o.size > 1;
         PATTERN p SEQ(News n) WHERE big(n.symbol);",
        "E0314",
    );
}

#[test]
fn deep_expansion_is_an_error_not_an_overflow() {
    let mut src = String::new();
    let deep = |inner: &str| {
        let mut b = inner.to_string();
        for _ in 0..60 {
            b = format!("({b} + 1)");
        }
        b
    };
    src.push_str(&format!("DEFINE d0(x) = {};\n", deep("x")));
    for k in 1..12 {
        src.push_str(&format!(
            "DEFINE d{k}(x) = {};\n",
            deep(&format!("d{}(x)", k - 1))
        ));
    }
    src.push_str("PATTERN p SEQ(Trade t) WHERE d11(t.volume) > 0;");
    let d = one(&src, "E0319");
    assert!(d.message.contains("in expansion of"), "{}", d.message);
}

#[test]
fn define_expansion_size_is_bounded() {
    let mut src = String::from("DEFINE d0(x) = x + x;\n");
    for k in 1..13 {
        src.push_str(&format!(
            "DEFINE d{k}(x) = d{}(x) + d{}(x);\n",
            k - 1,
            k - 1
        ));
    }
    let big = vec!["t.price"; 200].join(", ");
    src.push_str(&format!(
        "PATTERN p SEQ(Trade t) WHERE d12(coalesce({big})) > 0;"
    ));
    let d = one(&src, "E0319");
    assert!(d.message.contains("large"), "{}", d.message);
}

#[test]
fn define_expansion_is_bounded() {
    let mut src = String::from("DEFINE d0(x) = x + x;\n");
    for k in 1..40 {
        src.push_str(&format!(
            "DEFINE d{k}(x) = d{}(x) + d{}(x);\n",
            k - 1,
            k - 1
        ));
    }
    src.push_str("PATTERN p SEQ(Trade t) WHERE d39(t.price) > 0;");
    one(&src, "E0319");
}

// ----- types ------------------------------------------------------------------------

#[test]
fn arithmetic_and_promotion() {
    let p = ok("PATTERN p SEQ(Trade a, Trade b)
        WHERE a.volume / 2 > 1 AND a.price * a.volume > 0 AND b.ts - a.ts < 2 * 1m
          AND (b.ts - a.ts) / 1s > 0.5 AND a.ts + 5m < b.ts AND -a.volume < 0
          AND a.volume % 3 = 1
        WITHIN 1h;");
    let c = &pattern(&p, "p").conjuncts;
    let TExprKind::Binary { lhs, .. } = &c[0].expr.kind else {
        panic!()
    };
    assert_eq!(lhs.ty, ValueType::Int);
    let TExprKind::Binary { lhs, .. } = &c[1].expr.kind else {
        panic!()
    };
    assert_eq!(lhs.ty, ValueType::Float);
    let TExprKind::Binary { rhs: prod_rhs, .. } = &lhs.kind else {
        panic!()
    };
    assert!(matches!(prod_rhs.kind, TExprKind::ToFloat(_)));
}

#[test]
fn operator_type_errors() {
    let src = "PATTERN p SEQ(Trade a) WHERE a.symbol + 1 > 0;";
    let d = one(src, "E0301");
    assert_eq!(text_at(src, &d), "a.symbol + 1");
    one("PATTERN p SEQ(Trade a) WHERE a.ts > 5;", "E0301");
    let d = one(
        "PATTERN p SEQ(Trade a, Trade b) WHERE b.ts - a.ts > 5 WITHIN 1m;",
        "E0301",
    );
    assert!(d.help.as_deref().unwrap().contains("duration"), "{d:?}");
    one("PATTERN p SEQ(Trade a) WHERE a.ts + a.ts > a.ts;", "E0301");
    one("PATTERN p SEQ(Trade a) WHERE a.price;", "E0302");
    one(
        "PATTERN p SEQ(Trade a) WHERE a.price > 1 OR a.volume;",
        "E0302",
    );
    one("PATTERN p SEQ(Trade a) WHERE NOT a.symbol;", "E0302");
    one("PATTERN p SEQ(Trade a) WHERE -a.symbol = 'x';", "E0316");
    one(
        "PATTERN p SEQ(Trade a) WHERE a.symbol BETWEEN 1 AND 2;",
        "E0301",
    );
    one(
        "PATTERN p SEQ(Trade a) WHERE a.volume IN ('x', 'y');",
        "E0306",
    );
    one(
        "DEFINE three = 3; PATTERN p SEQ(Trade a) WHERE a.volume IN three;",
        "E0306",
    );
    one(
        "PATTERN p SEQ(Trade a) WHERE ('a', 'b') = a.symbol;",
        "E0305",
    );
}

#[test]
fn between_desugars() {
    let p = ok(
        "PATTERN p SEQ(Trade a) WHERE a.price BETWEEN 1 AND 2.5 AND a.volume NOT BETWEEN 1 AND 5;",
    );
    let c = &pattern(&p, "p").conjuncts;
    assert_eq!(c.len(), 2);
    assert!(matches!(
        c[0].expr.kind,
        TExprKind::Binary {
            op: ast::BinaryOp::And,
            ..
        }
    ));
    assert!(matches!(c[1].expr.kind, TExprKind::Not(_)));
}

#[test]
fn errors_do_not_cascade_and_all_are_reported() {
    let e = errs(
        "PATTERN p SEQ(Trade a) WHERE a.prce + 1 > 2 AND lowr(a.symbol) = 'x' AND a.volume > 'x';
        PATTERN q SEQ(Trdae b);",
    );
    let codes: Vec<&str> = e.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0206", "E0207", "E0301", "E0204"]);
    assert_eq!(e[0].help.as_deref(), Some("did you mean `price`?"));
    assert_eq!(e[0].message, "unknown field `prce` on `Trade`");
    assert_eq!(e[1].help.as_deref(), Some("did you mean `lower`?"));
    assert_eq!(e[3].help.as_deref(), Some("did you mean `Trade`?"));
}

#[test]
fn comparisons_same_type() {
    ok(
        "PATTERN p SEQ(Order a, Order b) WHERE a.side < b.side AND (a.size > 1) = (b.size > 1)
        AND a.ts <= b.ts AND b.ts - a.ts != 0s AND a.price > b.size WITHIN 1m;",
    );
    one("PATTERN p SEQ(Order a) WHERE a.side = 1;", "E0301");
}

#[test]
fn null_comparison_warns() {
    let w = warnings("PATTERN p SEQ(Trade a) WHERE a.price != NULL;");
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].code, "W0301");
    assert_eq!(w[0].severity, Severity::Warning);
    let w = warnings("PATTERN p SEQ(Trade a) WHERE a.price > 1 AND 1 > 2;");
    assert_eq!(w.iter().map(|d| d.code).collect::<Vec<_>>(), ["W0302"]);
}

#[test]
fn builtins() {
    let p = ok("PATTERN p SEQ(News n) WHERE length(upper(n.headline)) > 3
        AND contains(n.headline, 'x') AND starts_with(n.symbol, 'A') AND ends_with(n.symbol, 'L')
        AND contains_any(n.headline, ('a', 'b')) AND count_any(n.headline, positive_words) > 1
        AND hour(n.ts) < 6 AND minute(n.ts) = 0 AND day_of_week(n.ts) BETWEEN 1 AND 5
        AND abs(-2.5) > 1 AND coalesce(n.symbol, 'none') != 'x';");
    assert_eq!(pattern(&p, "p").conjuncts.len(), 11);
    one("PATTERN p SEQ(News n) WHERE lower(1) = 'x';", "E0304");
    one(
        "PATTERN p SEQ(News n) WHERE lower(n.symbol, 1) = 'x';",
        "E0303",
    );
    one(
        "PATTERN p SEQ(News n) WHERE contains_any(n.symbol, 'x');",
        "E0304",
    );
    one(
        "PATTERN p SEQ(News n) WHERE contains_any(n.symbol, (1, 2));",
        "E0304",
    );
    one("PATTERN p SEQ(News n) WHERE hour(n.symbol) = 1;", "E0304");
    one(
        "PATTERN p SEQ(News n) WHERE coalesce(n.symbol, 1) = 1;",
        "E0304",
    );
    one("PATTERN p SEQ(News n) WHERE coalesce() = 1;", "E0303");
    let d = one(
        "PATTERN p SEQ(News n) WHERE Lower(n.symbol) = 'x';",
        "E0207",
    );
    assert!(d.help.is_some());
    // coalesce(INT, FLOAT) is FLOAT with a promotion.
    let p = ok("PATTERN p SEQ(Trade t) WHERE coalesce(t.volume, t.price) > 1;");
    let TExprKind::Binary { lhs, .. } = &pattern(&p, "p").conjuncts[0].expr.kind else {
        panic!()
    };
    assert_eq!(lhs.ty, ValueType::Float);
}

#[test]
fn natives_type_check() {
    let natives = vec![
        NativeSig {
            name: "score".into(),
            params: vec![ValueType::String, ValueType::Float],
            ret: ValueType::Float,
        },
        NativeSig {
            name: "any".into(),
            params: vec![ValueType::Null],
            ret: ValueType::Bool,
        },
    ];
    let src = format!(
        "{PRELUDE} PATTERN p SEQ(Trade t) WHERE score(t.symbol, t.volume) > 1 AND any(t.ts);"
    );
    let (p, _) = run(&src, &natives).unwrap();
    let c = &p.patterns[0].conjuncts[0];
    let TExprKind::Binary { lhs, .. } = &c.expr.kind else {
        panic!()
    };
    let TExprKind::Native { args, .. } = &lhs.kind else {
        panic!()
    };
    assert!(matches!(args[1].kind, TExprKind::ToFloat(_)));
    let src = format!("{PRELUDE} PATTERN p SEQ(Trade t) WHERE score(t.price, 1) > 1;");
    let e = run(&src, &natives).unwrap_err();
    assert_eq!(e[0].code, "E0304");
    let src = format!("{PRELUDE} DEFINE score(x) = x;");
    assert_eq!(run(&src, &natives).unwrap_err()[0].code, "E0210");
    let src = format!("{PRELUDE} PATTERN p SEQ(Trade t) WHERE scor(t.symbol, 1.0) > 1;");
    let e = run(&src, &natives).unwrap_err();
    assert_eq!(e[0].help.as_deref(), Some("did you mean `score`?"));
}

// ----- variables, fields, aggregates ----------------------------------------------------

#[test]
fn field_access_rules() {
    let p = ok(
        "PATTERN p SEQ(Trade a, Trade t+) WHERE t[i].price > a.price AND t[2].volume > 0
        AND t[last].ts - a.ts < 1m AND a.type = 'Trade' WITHIN 1m;",
    );
    let c = &pattern(&p, "p").conjuncts;
    assert!(matches!(
        c[3].expr.kind,
        TExprKind::Binary { ref lhs, .. } if matches!(lhs.kind, TExprKind::Field { field: FieldRef::Type, .. })
    ));
    let d = one(
        "PATTERN p SEQ(Trade t+) WHERE t.price > 1 WITHIN 1m;",
        "E0308",
    );
    assert!(d.help.as_deref().unwrap().contains("t[i].price"));
    one("PATTERN p SEQ(Trade a) WHERE a[i].price > 1;", "E0309");
    one("PATTERN p SEQ(Trade a) WHERE a[last].price > 1;", "E0309");
    one(
        "PATTERN p SEQ(Trade t+) WHERE t[..i-1].price > 1 WITHIN 1m;",
        "E0312",
    );
    let d = one("PATTERN p SEQ(Trade a) WHERE b.price > 1;", "E0205");
    assert_eq!(d.label, "not bound by this pattern");
    one("PATTERN p SEQ(Trade a) WHERE a > 1;", "E0307");
    one("PATTERN p SEQ(Trade t+) WHERE t > 1 WITHIN 1m;", "E0307");
}

#[test]
fn aggregates() {
    let p = ok(
        "PATTERN p SEQ(Trade t+, Trade b) WHERE count(t) > 2 AND sum(t.volume) > 10
        AND avg(t.volume) > 1.5 AND min(t.symbol) = 'A' AND max(t.ts) < b.ts AND count(t.price) > 0
        AND sum(t.price) > 1 WITHIN 1m EMIT avg(t.price) AS m, sum(t.volume) AS s;",
    );
    let p = pattern(&p, "p");
    let tys: Vec<ValueType> = p
        .conjuncts
        .iter()
        .map(|c| match &c.expr.kind {
            TExprKind::Binary { lhs, .. } => lhs.ty,
            _ => panic!(),
        })
        .collect();
    use ValueType::*;
    assert_eq!(tys, [Int, Int, Float, String, Timestamp, Int, Float]);
    assert!(p.conjuncts.iter().all(|c| c.iterative.is_none()));
    let d = one("PATTERN p SEQ(Trade a) WHERE count(a) > 1;", "E0310");
    assert!(d.help.as_deref().unwrap().contains("Kleene"));
    one(
        "PATTERN p SEQ(Trade a, NOT News n) WHERE count(n) > 1 WITHIN 1m;",
        "E0310",
    );
    one(
        "PATTERN p SEQ(Trade t+) WHERE sum(t) > 1 WITHIN 1m;",
        "E0311",
    );
    one(
        "PATTERN p SEQ(Trade t+) WHERE sum(t.symbol) > 1 WITHIN 1m;",
        "E0311",
    );
    one(
        "PATTERN p SEQ(Trade t+) WHERE sum(t[i].price) > 1 WITHIN 1m;",
        "E0311",
    );
    one(
        "PATTERN p SEQ(Trade t+) WHERE sum(t.price, 1) > 1 WITHIN 1m;",
        "E0303",
    );
    one(
        "PATTERN p SEQ(Trade t+) WHERE count(x) > 1 WITHIN 1m;",
        "E0205",
    );
}

// ----- structure ------------------------------------------------------------------------

#[test]
fn structure_rules() {
    let d = one("PATTERN p SEQ(Trade a, Trade b);", "E0402");
    assert!(d.help.as_deref().unwrap().contains("unbounded state"));
    one("PATTERN p SEQ(Trade t+);", "E0402");
    one("PATTERN p SEQ(Trade a, Trade b) WITHIN 0s;", "E0403");
    one("PATTERN p SEQ(NOT Trade a) WITHIN 1m;", "E0401");
    one("PATTERN p SEQ(NOT Trade a, NOT News n) WITHIN 1m;", "E0401");
    one("PATTERN p SEQ(Trade t{3,2}) WITHIN 1m;", "E0404");
    one("PATTERN p SEQ(Trade t{0}) WITHIN 1m;", "E0404");
    one("PATTERN p SEQ(Trade t{0,0}) WITHIN 1m;", "E0404");
    one(
        "PATTERN p SEQ(Trade a, OR(Trade b, NOT News n)) WITHIN 1m;",
        "E0405",
    );
    one(
        "PATTERN p SEQ(Trade a, AND(Trade b, OR(News n, Order o))) WITHIN 1m;",
        "E0405",
    );
    one("PATTERN p SEQ(Trade a, Trade a) WITHIN 1m;", "E0209");
    one("PATTERN p SEQ(Trade positive_words);", "E0214");
    // Fine: adjacent NOTs, NOT next to a Kleene star, optional Kleene.
    let p =
        ok("PATTERN p SEQ(Trade a, NOT News n, NOT Order o, Trade t*, Trade b{0,3}) WITHIN 1m;");
    let p = pattern(&p, "p");
    let kinds: Vec<VarKind> = p.vars.iter().map(|v| v.kind).collect();
    assert_eq!(
        kinds,
        [
            VarKind::Single,
            VarKind::Negated,
            VarKind::Negated,
            VarKind::Kleene { min: 0, max: None },
            VarKind::Kleene {
                min: 0,
                max: Some(3)
            }
        ]
    );
    assert_eq!(p.strategy, ast::Strategy::SkipTillNextMatch);
}

#[test]
fn unknown_type_does_not_cascade() {
    let e = errs("PATTERN p SEQ(Trde a) WHERE a.price > 1 PARTITION BY symbol EMIT a.price;");
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].code, "E0204");
}

// ----- conjunct classification ---------------------------------------------------------

#[test]
fn iterative_conjunct_rules() {
    let p = ok("PATTERN p SEQ(Trade a, Trade t+, Trade b)
        WHERE t[i].price > a.price AND count(t) > 2 AND b.price > t[last].price
          AND t[i].price > avg(t.price)
        WITHIN 1m;");
    let c = &pattern(&p, "p").conjuncts;
    let it: Vec<Option<usize>> = c.iter().map(|c| c.iterative.map(|v| v.index())).collect();
    assert_eq!(it, [Some(1), None, None, Some(1)]);
    let src = "PATTERN p SEQ(Trade t+, Trade b) WHERE t[i].price > b.price WITHIN 1m;";
    let d = one(src, "E0409");
    assert_eq!(text_at(src, &d), "b");
    assert!(d.help.as_deref().unwrap().contains("completion"));
    one(
        "PATTERN p SEQ(Trade a, AND(Trade t+, Trade b)) WHERE t[i].price > b.price WITHIN 1m;",
        "E0409",
    );
    one(
        "PATTERN p SEQ(Trade t+, NOT News n, Trade b) WHERE t[i].price > 0 AND n.symbol = t[i].symbol WITHIN 1m;",
        "E0409",
    );
    one(
        "PATTERN p SEQ(Trade t+, Trade u+) WHERE t[i].price > u[i].price WITHIN 1m;",
        "E0407",
    );
    one(
        "PATTERN p SEQ(Trade a, NOT News m, NOT News n, Trade b) WHERE m.symbol = n.symbol WITHIN 1m;",
        "E0408",
    );
    let p = ok(
        "PATTERN p SEQ(Trade a, NOT News n, Trade b) WHERE n.symbol = a.symbol AND n.ts > b.ts - 1s WITHIN 1m;",
    );
    let c = &pattern(&p, "p").conjuncts;
    assert!(c.iter().all(|c| c.negated.map(|v| v.index()) == Some(1)));
    assert_eq!(c[1].vars.len(), 2);
}

// ----- PARTITION BY, EMIT --------------------------------------------------------------

#[test]
fn partition_rules() {
    let d = one(
        "PATTERN p SEQ(Trade a, Order b) WITHIN 1m PARTITION BY volume;",
        "E0410",
    );
    assert!(d.message.contains("`Order`"), "{}", d.message);
    let d = one("PATTERN p SEQ(Trade a) PARTITION BY symbl;", "E0410");
    assert_eq!(d.help.as_deref(), Some("did you mean `symbol`?"));
    one(
        "EVENT X (symbol INT); PATTERN p SEQ(Trade a, X x) WITHIN 1m PARTITION BY symbol;",
        "E0318",
    );
    one(
        "PATTERN p SEQ(Trade a) PARTITION BY symbol, symbol;",
        "E0411",
    );
    let d = one(
        "PATTERN p SEQ(Trade a, Order o, News n) WITHIN 1m PARTITION BY volume;",
        "E0410",
    );
    assert!(
        d.message.contains("event types `Order`, `News` have"),
        "{}",
        d.message
    );
    // NOT types are routed and must have the key too.
    one(
        "EVENT Y (z INT); PATTERN p SEQ(Trade a, NOT Y y) WITHIN 1m PARTITION BY symbol;",
        "E0410",
    );
    let p = ok("PATTERN p SEQ(Order o, Trade t) WITHIN 1m PARTITION BY symbol, price;");
    let k = &pattern(&p, "p").partition_by;
    assert_eq!(k.len(), 2);
    assert_eq!(k[1].ty, ValueType::Float);
    let order = p.type_id("Order").unwrap();
    let trade = p.type_id("Trade").unwrap();
    let routed = &pattern(&p, "p").routed_types;
    let io = routed.iter().position(|t| *t == order).unwrap();
    let it = routed.iter().position(|t| *t == trade).unwrap();
    assert!(matches!(k[1].fields[io], FieldRef::Slot(s) if s.index() == 3));
    assert!(matches!(k[1].fields[it], FieldRef::Slot(s) if s.index() == 1));
}

#[test]
fn emit_rules() {
    let p = ok(
        "PATTERN p SEQ(Trade a, OR(News n, Order o), Trade t+) WITHIN 1m
        EMIT a.price, n.headline, o.size + 1, t[last].volume AS v, count(t) AS c, abs(a.price);",
    );
    let names: Vec<String> = pattern(&p, "p")
        .emit
        .iter()
        .map(|e| e.name.clone())
        .collect();
    assert_eq!(
        names,
        ["price", "headline", "o.size + 1", "v", "c", "abs(a.price)"]
    );
    let src = "PATTERN p SEQ(Trade a, Order b) WITHIN 1m EMIT a.price, b.price;";
    let d = one(src, "E0215");
    assert_eq!(d.secondary.len(), 1);
    one(
        "PATTERN p SEQ(Trade a, NOT News n) WITHIN 1m EMIT n.symbol;",
        "E0317",
    );
    one(
        "PATTERN p SEQ(Trade t+) WITHIN 1m EMIT t[i].price;",
        "E0313",
    );
    one(
        "PATTERN p SEQ(Trade t+) WITHIN 1m EMIT avg(t[..i-1].price) AS x;",
        "E0313",
    );
    one(
        "PATTERN p SEQ(Trade t+) WITHIN 1m EMIT ('a', 'b') AS l;",
        "E0305",
    );
    one("PATTERN p SEQ(Trade t+) WITHIN 1m EMIT t.price;", "E0308");
}

#[test]
fn typed_program_shape() {
    let p = ok(
        "PATTERN p SEQ(Trade a, AND(News n, Order o+), NOT Trade z, Trade b) WITHIN 1m
        AFTER MATCH NO SKIP;",
    );
    let p = pattern(&p, "p");
    let names: Vec<&str> = p.vars.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["a", "n", "o", "z", "b"]);
    assert_eq!(p.seq.len(), 4);
    assert!(
        matches!(p.seq[1], Node::And(ref m) if matches!(m[..], [Node::Var(x), Node::Var(y)] if x.index() == 1 && y.index() == 2))
    );
    assert_eq!(p.after_match, ast::AfterMatch::NoSkip);
}

/// A long chain of ANDs splits into conjuncts.
#[test]
fn long_and_chain() {
    let mut w = String::from("a.price > 0");
    for _ in 0..100 {
        w.push_str(" AND a.price > 0");
    }
    let p = ok(&format!("PATTERN p SEQ(Trade a) WHERE {w};"));
    assert_eq!(pattern(&p, "p").conjuncts.len(), 101);
}

#[allow(dead_code)]
fn walk(e: &TExpr, f: &mut impl FnMut(&TExpr)) {
    f(e);
    match &e.kind {
        TExprKind::List(x)
        | TExprKind::Call { args: x, .. }
        | TExprKind::Native { args: x, .. } => x.iter().for_each(|a| walk(a, f)),
        TExprKind::ToFloat(x) | TExprKind::Neg(x) | TExprKind::Not(x) => walk(x, f),
        TExprKind::Binary { lhs, rhs, .. } => {
            walk(lhs, f);
            walk(rhs, f);
        }
        TExprKind::In { expr, list } => {
            walk(expr, f);
            walk(list, f);
        }
        _ => {}
    }
}

#[test]
fn expanded_nodes_carry_the_use_site_span() {
    let src = "PATTERN p SEQ(News n) WHERE positive(n.headline);";
    let p = ok(src);
    let c = &pattern(&p, "p").conjuncts[0];
    let (s, e) = (c.span.start, c.span.end);
    walk(&c.expr, &mut |x| {
        assert!(
            x.span.start >= s && x.span.end <= e,
            "{:?} outside {s}..{e}",
            x.span
        );
    });
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    const WORDS: &[&str] = &[
        "a",
        "b",
        "t",
        "n",
        "v",
        "o",
        "x",
        "i",
        "last",
        "price",
        "volume",
        "symbol",
        "ts",
        "type",
        "headline",
        "size",
        "side",
        "Trade",
        "News",
        "Order",
        "VolumeSpike",
        "count",
        "sum",
        "avg",
        "min",
        "max",
        "abs",
        "lower",
        "coalesce",
        "positive",
        "positive_words",
        "hour",
        "AND",
        "OR",
        "NOT",
        "NULL",
        "TRUE",
        "1",
        "0",
        "2.5",
        "5m",
        "0s",
        "'x'",
        "+",
        "*",
        "/",
        "-",
        "=",
        ">",
        "(",
        ")",
        ",",
        "[",
        "]",
        ".",
        "{0}",
        "{3,1}",
        "+",
        "WITHIN",
        "IN",
        "BETWEEN",
        "EMIT",
        "AS",
        "SEQ",
        "PARTITION",
        "BY",
    ];

    /// The seed and extra examples split into words and punctuation.
    fn tokens() -> Vec<String> {
        let src = format!("{SEEDS}{MORE}");
        let mut out = Vec::new();
        let mut word = String::new();
        for c in src.chars() {
            if c.is_alphanumeric() || c == '_' || c == '\'' {
                word.push(c);
            } else {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                out.push(c.to_string());
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Mutated valid programs never panic the checker, and a program
        /// that is rejected always has an error.
        #[test]
        fn mutated_programs_never_panic(
            edits in prop::collection::vec((any::<prop::sample::Index>(), 0..WORDS.len()), 1..6)
        ) {
            let mut toks = tokens();
            for (at, w) in edits {
                let k = at.index(toks.len());
                toks[k] = WORDS[w].to_string();
            }
            let src = format!("{PRELUDE}{}", toks.concat());
            match run(&src, &[]) {
                Ok((p, _)) => prop_assert!(!p.patterns.is_empty()),
                Err(d) => prop_assert!(d.iter().any(Diagnostic::is_error)),
            }
        }
    }
}

#[test]
#[ignore = "prints rendered diagnostics for review"]
fn show_rendered() {
    let mut s = Sources::new();
    s.add(
        "demo.pattern",
        format!(
            "{PRELUDE}
PATTERN p SEQ(Trade a, Trade t+, Trade b)
  WHERE a.prce > 1 AND t[i].price > b.price AND positive(a.price) AND t.volume > 2
    AND lowr(a.symbol) = 'x' AND a.ts > 5 AND a.volume IN ('x', 'y')
  PARTITION BY symbl
  EMIT a.price, b.price, t[i].price;
PATTERN q SEQ(Trade a, Order b);
DEFINE rec(x) = rec(x);
"
        ),
    );
    let e = crate::compile(&s, &[]).unwrap_err();
    println!("{e}");
}
