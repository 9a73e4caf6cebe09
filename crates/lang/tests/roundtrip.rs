//! The verified round trip (as in sqlparser-rs): printing an AST and parsing
//! the text gives back an equal AST, for random trees covering every node
//! kind and for every shipped pattern and documented example.
//!
//! The random trees need not type-check; they only have to be trees the
//! parser could have built (no negative literals, no one-element list outside
//! `IN`, identifiers that are not reserved words).

use dalal_lang::ast::{
    AfterMatch, BinaryOp, Define, DurationLit, Element, EventDecl, Expr, ExprKind, FieldDecl, File,
    Ident, Index, Item, Literal, Pattern, Projection, Quantifier, Spanned, Strategy as Selection,
    TypeName, UnaryOp,
};
use dalal_lang::printer::to_source;
use dalal_lang::{FileId, Span};
use proptest::prelude::*;
use proptest::strategy::Union;

/// Candidate names, including words that are keywords somewhere in the
/// grammar but not reserved (`last`, `i`, `type`, `timestamp`, units, type
/// names): the parser must accept them wherever a name fits.
const NAME_POOL: &[&str] = &[
    "a",
    "b",
    "t",
    "x1",
    "price",
    "symbol",
    "Trade",
    "News",
    "_tmp",
    "v",
    "last",
    "i",
    "type",
    "ts",
    "timestamp",
    "m",
    "ms",
    "minutes",
    "INT",
    "by",
    "match",
    "next",
    "count",
    "CamelCase",
    // Reserved: filtered out below, kept to prove the filter is used.
    "AND",
    "seq",
];

fn names() -> Vec<&'static str> {
    NAME_POOL
        .iter()
        .copied()
        .filter(|w| !dalal_lang::parser::is_reserved(w))
        .collect()
}

fn ident() -> impl Strategy<Value = Ident> {
    prop::sample::select(names()).prop_map(Ident::new)
}

fn spanned<T>(value: T) -> Spanned<T> {
    Spanned {
        value,
        span: Span::default(),
    }
}

fn expr(kind: ExprKind) -> Expr {
    Expr::new(kind)
}

const UNIT_NANOS: [i64; 7] = [
    1,
    1_000,
    1_000_000,
    1_000_000_000,
    60_000_000_000,
    3_600_000_000_000,
    86_400_000_000_000,
];

/// Non-negative nanoseconds, often a whole number of some unit.
fn duration_nanos() -> impl Strategy<Value = i64> {
    prop_oneof![
        (0..UNIT_NANOS.len(), 0..=i64::MAX).prop_map(|(u, n)| {
            let per = UNIT_NANOS[u];
            // The largest multiple of `per` is `i64::MAX / per * per`.
            n / per * per
        }),
        (0..UNIT_NANOS.len(), 0i64..1000).prop_map(|(u, n)| n * UNIT_NANOS[u]),
        0..=i64::MAX,
    ]
}

fn float() -> impl Strategy<Value = f64> {
    use proptest::num::f64 as F;
    prop_oneof![
        F::POSITIVE | F::ZERO | F::NORMAL | F::SUBNORMAL,
        prop::sample::select(vec![
            0.0,
            0.5,
            1.0,
            3.5,
            1e16,
            1e-7,
            f64::MAX,
            f64::MIN_POSITIVE
        ]),
    ]
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        (0..=i64::MAX).prop_map(Literal::Int),
        prop::sample::select(vec![0i64, 1, 9, 10, i64::MAX]).prop_map(Literal::Int),
        float().prop_map(Literal::Float),
        // Quotes, comment starters, `;` and non-ASCII text inside strings.
        "[a-zA-Z0-9 ';*/\\-é€\n]{0,10}".prop_map(Literal::String),
        any::<bool>().prop_map(Literal::Bool),
        Just(Literal::Null),
        duration_nanos().prop_map(Literal::Duration),
        any::<i64>().prop_map(Literal::Timestamp),
    ]
}

fn index() -> impl Strategy<Value = Index> {
    prop_oneof![
        Just(Index::Current),
        Just(Index::Previous),
        Just(Index::Last),
        Just(Index::BeforeCurrent),
        (1..=u32::MAX).prop_map(Index::Nth),
        (1u32..5).prop_map(Index::Nth),
    ]
}

const BINARY_OPS: [BinaryOp; 13] = [
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Rem,
    BinaryOp::Eq,
    BinaryOp::Ne,
    BinaryOp::Lt,
    BinaryOp::Le,
    BinaryOp::Gt,
    BinaryOp::Ge,
    BinaryOp::And,
    BinaryOp::Or,
];

fn leaf_expr() -> impl Strategy<Value = Expr> {
    prop_oneof![
        3 => literal().prop_map(|l| expr(ExprKind::Lit(l))),
        2 => ident().prop_map(|n| expr(ExprKind::Name(n))),
        2 => (ident(), prop::option::of(index()), ident()).prop_map(|(var, index, field)| {
            expr(ExprKind::Field {
                var,
                index: index.map(spanned),
                field,
            })
        }),
    ]
}

/// Any expression the parser can produce, bounded in depth.
fn any_expr() -> impl Strategy<Value = Expr> {
    leaf_expr().prop_recursive(5, 48, 3, |inner| {
        let list_or_name = prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(|v| expr(ExprKind::List(v))),
            ident().prop_map(|n| expr(ExprKind::Name(n))),
        ];
        Union::new_weighted(vec![
            (
                2,
                (ident(), prop::collection::vec(inner.clone(), 0..4))
                    .prop_map(|(func, args)| expr(ExprKind::Call { func, args }))
                    .boxed(),
            ),
            (
                2,
                (
                    prop::sample::select(vec![UnaryOp::Neg, UnaryOp::Not]),
                    inner.clone(),
                )
                    .prop_map(|(op, e)| {
                        expr(ExprKind::Unary {
                            op,
                            expr: Box::new(e),
                        })
                    })
                    .boxed(),
            ),
            (
                6,
                (
                    prop::sample::select(BINARY_OPS.to_vec()),
                    inner.clone(),
                    inner.clone(),
                )
                    .prop_map(|(op, l, r)| {
                        expr(ExprKind::Binary {
                            op,
                            lhs: Box::new(l),
                            rhs: Box::new(r),
                        })
                    })
                    .boxed(),
            ),
            (
                1,
                (inner.clone(), inner.clone(), inner.clone(), any::<bool>())
                    .prop_map(|(e, lo, hi, negated)| {
                        expr(ExprKind::Between {
                            expr: Box::new(e),
                            low: Box::new(lo),
                            high: Box::new(hi),
                            negated,
                        })
                    })
                    .boxed(),
            ),
            (
                1,
                (inner.clone(), list_or_name, any::<bool>())
                    .prop_map(|(e, list, negated)| {
                        expr(ExprKind::In {
                            expr: Box::new(e),
                            list: Box::new(list),
                            negated,
                        })
                    })
                    .boxed(),
            ),
            (
                1,
                prop::collection::vec(inner, 2..4)
                    .prop_map(|v| expr(ExprKind::List(v)))
                    .boxed(),
            ),
        ])
    })
}

fn quantifier() -> impl Strategy<Value = Quantifier> {
    prop_oneof![
        Just(Quantifier::Plus),
        Just(Quantifier::Star),
        any::<u32>().prop_map(Quantifier::Exactly),
        any::<u32>().prop_map(Quantifier::AtLeast),
        (any::<u32>(), any::<u32>()).prop_map(|(n, m)| Quantifier::Between(n, m)),
        (0u32..5, 0u32..5).prop_map(|(n, m)| Quantifier::Between(n, n + m)),
    ]
}

fn element() -> impl Strategy<Value = Element> {
    let leaf = prop_oneof![
        3 => (ident(), ident(), prop::option::of(quantifier())).prop_map(|(ty, var, quant)| {
            Element::Event {
                ty,
                var,
                quant,
                span: Span::default(),
            }
        }),
        1 => (ident(), ident()).prop_map(|(ty, var)| Element::Not {
            ty,
            var,
            span: Span::default(),
        }),
    ];
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(|members| Element::Or {
                members,
                span: Span::default(),
            }),
            prop::collection::vec(inner, 1..4).prop_map(|members| Element::And {
                members,
                span: Span::default(),
            }),
        ]
    })
}

fn type_name() -> impl Strategy<Value = TypeName> {
    prop::sample::select(vec![
        TypeName::Int,
        TypeName::Float,
        TypeName::String,
        TypeName::Bool,
        TypeName::Timestamp,
        TypeName::Duration,
    ])
}

fn event_decl() -> impl Strategy<Value = EventDecl> {
    (
        prop::collection::vec(ident(), 1..4),
        prop::collection::vec(
            (ident(), type_name()).prop_map(|(name, ty)| FieldDecl {
                name,
                ty,
                ty_span: Span::default(),
            }),
            0..4,
        ),
    )
        .prop_map(|(names, fields)| EventDecl {
            names,
            fields,
            span: Span::default(),
        })
}

fn define() -> impl Strategy<Value = Define> {
    (
        ident(),
        prop::option::of(prop::collection::vec(ident(), 0..3)),
        any_expr(),
    )
        .prop_map(|(name, params, body)| Define {
            name,
            params,
            body,
            span: Span::default(),
        })
}

fn projection() -> impl Strategy<Value = Projection> {
    (any_expr(), prop::option::of(ident())).prop_map(|(expr, alias)| Projection {
        expr,
        alias,
        span: Span::default(),
    })
}

fn pattern() -> impl Strategy<Value = Pattern> {
    let strategy = prop::sample::select(vec![
        Selection::StrictContiguity,
        Selection::SkipTillNextMatch,
        Selection::SkipTillAnyMatch,
    ]);
    let after = prop::sample::select(vec![
        AfterMatch::SkipPastLastEvent,
        AfterMatch::SkipToNextEvent,
        AfterMatch::NoSkip,
    ]);
    (
        (
            ident(),
            prop::collection::vec(element(), 1..4),
            prop::option::of(any_expr()),
            prop::option::of(duration_nanos()),
        ),
        (
            prop::collection::vec(ident(), 0..3),
            prop::option::of(strategy),
            prop::option::of(after),
            prop::collection::vec(projection(), 0..3),
        ),
    )
        .prop_map(
            |((name, seq, where_clause, within), (partition_by, strategy, after_match, emit))| {
                Pattern {
                    name,
                    seq,
                    seq_span: Span::default(),
                    where_clause,
                    within: within.map(|nanos| DurationLit {
                        nanos,
                        span: Span::default(),
                    }),
                    partition_by,
                    strategy: strategy.map(spanned),
                    after_match: after_match.map(spanned),
                    emit,
                    span: Span::default(),
                }
            },
        )
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        1 => event_decl().prop_map(Item::Event),
        1 => define().prop_map(Item::Define),
        2 => pattern().prop_map(Item::Pattern),
    ]
}

fn file() -> impl Strategy<Value = File> {
    prop::collection::vec(item(), 0..5).prop_map(|items| File { items })
}

fn parse(text: &str) -> (File, Vec<dalal_lang::Diagnostic>) {
    dalal_lang::parse(text, FileId::from_index(0))
}

/// Parses `text`, which must be free of errors, prints it, and checks that
/// the printed text parses to the same tree and prints the same again.
/// Returns the printed text.
fn verified(name: &str, text: &str) -> String {
    let (ast, diags) = parse(text);
    assert!(
        diags.is_empty(),
        "{name} does not parse:\n{text}\n{diags:#?}"
    );
    let printed = to_source(&ast);
    let (again, diags) = parse(&printed);
    assert!(
        diags.is_empty(),
        "{name}: printed text does not parse:\n{printed}\n{diags:#?}"
    );
    assert_eq!(
        again, ast,
        "{name}: printed text parses differently:\n{printed}"
    );
    assert_eq!(to_source(&again), printed, "{name}: printing is not stable");
    printed
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256)
    ))]

    #[test]
    fn printed_file_parses_to_the_same_tree(file in file()) {
        let text = to_source(&file);
        let (parsed, diags) = parse(&text);
        prop_assert!(diags.is_empty(), "printed:\n{}\ndiagnostics: {:#?}", text, diags);
        prop_assert_eq!(parsed, file, "printed:\n{}", text);
    }

    #[test]
    fn printed_expression_parses_to_the_same_tree(e in any_expr()) {
        let text = e.to_string();
        let parsed = dalal_lang::parser::parse_expr(&text, FileId::from_index(0));
        prop_assert!(parsed.is_ok(), "printed: {}\ndiagnostics: {:#?}", text, parsed);
        prop_assert_eq!(parsed.ok(), Some(e), "printed: {}", text);
    }

    #[test]
    fn printed_literal_parses_to_the_same_value(l in literal()) {
        let text = l.to_string();
        let parsed = dalal_lang::parser::parse_expr(&text, FileId::from_index(0));
        prop_assert_eq!(
            parsed.ok().map(|e| e.kind),
            Some(ExprKind::Lit(l)),
            "printed: {}", text
        );
    }
}

/// Every `.pattern` file shipped in `patterns/`.
#[test]
fn shipped_patterns_round_trip() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../patterns");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("patterns/ is readable") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|e| e == "pattern") {
            let text = std::fs::read_to_string(&path).expect("pattern file is UTF-8");
            verified(&path.display().to_string(), &text);
            count += 1;
        }
    }
    assert!(count > 0, "no .pattern file found in {}", dir.display());
}

/// The examples of LANGUAGE.md (sections 2, 3, 4 and 8), as written there.
const LANGUAGE_EXAMPLES: &[(&str, &str)] = &[
    (
        "events",
        "EVENT Trade       (symbol STRING, price FLOAT, volume INT);
EVENT Order       (symbol STRING, side STRING, size INT, price FLOAT);
EVENT News        (symbol STRING, headline STRING);
EVENT VolumeSpike (symbol STRING, volume INT);",
    ),
    (
        "tickers",
        "EVENT AAPL, AMZN, GOOG (open FLOAT, volume INT);",
    ),
    (
        "definitions",
        "DEFINE positive_words = ('profit', 'growth', 'record', 'surge', 'gain');
DEFINE negative_words = ('loss', 'decline', 'fraud', 'penalty', 'debt');
DEFINE positive(text) = count_any(lower(text), positive_words)
                      > count_any(lower(text), negative_words);",
    ),
    (
        "insider_trading (section 4)",
        "PATTERN insider_trading
  SEQ(VolumeSpike v, News n)
  WHERE n.ts - v.ts >= 5m
  WITHIN 30m
  PARTITION BY symbol
  EMIT v.symbol, v.volume AS spike_volume, n.headline, n.ts - v.ts AS lead_time;",
    ),
    (
        "seed detections (section 8)",
        "PATTERN bull_run           -- volume spike, then positive news, 10 minutes
  SEQ(VolumeSpike v, News n) WHERE positive(n.headline)
  WITHIN 10m PARTITION BY symbol;

PATTERN bear_signal        -- negative news, then a large sell order, 5 minutes
  SEQ(News n, Order o) WHERE NOT positive(n.headline) AND o.side = 'sell' AND o.size > 10000
  WITHIN 5m PARTITION BY symbol;

PATTERN insider_trading    -- a spike 5 to 30 minutes before the news
  SEQ(VolumeSpike v, News n) WHERE n.ts - v.ts >= 5m
  WITHIN 30m PARTITION BY symbol;

PATTERN momentum           -- 4 trades in a row, each higher, within 3 minutes
  SEQ(Trade t{4,}) WHERE t[i].price > t[i-1].price
  WITHIN 3m PARTITION BY symbol STRICT CONTIGUITY
  EMIT t[1].price AS from_price, t[last].price AS to_price, count(t) AS trades;

PATTERN manipulation       -- a large order reversed by the next large order
  SEQ(Order big, Order rev)
  WHERE big.size > 50000 AND rev.size > 30000 AND rev.side != big.side
  WITHIN 1m PARTITION BY symbol STRICT CONTIGUITY;",
    ),
    (
        "section 8 prose",
        "EVENT Purchase (order_id STRING, customer STRING, category STRING, city STRING,
amount FLOAT, items INT, payment STRING);
PATTERN fraud SEQ(Purchase p) WHERE p.amount > 5000 AND p.items > 10 AND hour(p.ts) < 6;
PATTERN demand SEQ(Purchase p{100,}) WITHIN 1h PARTITION BY category;
PATTERN rising SEQ(Trade t{5,}) WHERE t[i].price > avg(t[..i-1].price) WITHIN 5m;",
    ),
];

#[test]
fn language_examples_round_trip() {
    for (name, text) in LANGUAGE_EXAMPLES {
        verified(name, text);
    }
}

/// Source written the way people write it (lower case keywords, comments,
/// long units, `<>`, redundant parentheses) prints in the canonical form.
#[test]
fn informal_source_prints_canonically() {
    let text = "/* every clause */ pattern p seq(Trade a, not News n, or(Trade b+, and(Order c{2}, Order d{1,3})), Trade e*, Trade f{2,})
        where ((a.price <> b[last].price)) and not (a.x in ('x') or e[2].y not between 1 and 2 + 3)
        within 5 minutes partition by symbol, side skip till any match after match skip to next event
        emit a.price as p, -(-(1)), count(e), TIMESTAMP '2024-01-02T09:15:00.5Z' as t0, 1.5s as d;";
    let printed = verified("informal", text);
    assert_eq!(
        printed,
        "PATTERN p
  SEQ(Trade a, NOT News n, OR(Trade b+, AND(Order c{2}, Order d{1,3})), Trade e*, Trade f{2,})
  WHERE a.price != b[last].price AND NOT (a.x IN ('x') OR e[2].y NOT BETWEEN 1 AND 2 + 3)
  WITHIN 5m
  PARTITION BY symbol, side
  SKIP TILL ANY MATCH
  AFTER MATCH SKIP TO NEXT EVENT
  EMIT a.price AS p, - -1, count(e), TIMESTAMP '2024-01-02T09:15:00.500Z' AS t0, 1500ms AS d;
"
    );
}

/// Event types over the name pool, so that random patterns get past name
/// resolution now and then and reach the deeper checks.
const PRELUDE: &str = "EVENT Trade, News, a, b, t, v (price FLOAT, symbol STRING, x1 INT, \
     m DURATION, minutes TIMESTAMP, CamelCase BOOL, last STRING);\n";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256)
    ))]

    /// The checker and the renderer accept any tree the parser can build:
    /// they report errors, never panic.
    #[test]
    fn checker_never_panics_on_parsable_files(file in file()) {
        let text = format!("{PRELUDE}{}", to_source(&file));
        let mut sources = dalal_lang::Sources::new();
        sources.add("generated.pattern", text);
        if let Err(diags) = dalal_lang::compile(&sources, &[]) {
            prop_assert!(diags.error_count() > 0);
            let rendered = diags.render(false);
            prop_assert!(rendered.contains("error"), "rendered: {}", rendered);
        }
    }
}
