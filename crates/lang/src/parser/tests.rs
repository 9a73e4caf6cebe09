#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::ast::*;

const F: FileId = FileId(0);

fn e(text: &str) -> Expr {
    match parse_expr(text, F) {
        Ok(x) => x,
        Err(d) => panic!("`{text}` failed: {d:#?}"),
    }
}

fn e_err(text: &str) -> Diagnostic {
    match parse_expr(text, F) {
        Ok(x) => panic!("`{text}` parsed: {x:?}"),
        Err(mut d) => {
            assert_eq!(d.len(), 1);
            d.remove(0)
        }
    }
}

fn file(text: &str) -> ast::File {
    let (f, d) = parse_file(text, F);
    assert!(d.is_empty(), "`{text}` gave {d:#?}");
    f
}

fn file_errs(text: &str) -> (ast::File, Vec<Diagnostic>) {
    let (f, d) = parse_file(text, F);
    assert!(!d.is_empty(), "`{text}` parsed without error");
    (f, d)
}

fn one_err(text: &str) -> Diagnostic {
    let (_, mut d) = file_errs(text);
    assert_eq!(d.len(), 1, "{d:#?}");
    d.remove(0)
}

fn pattern(text: &str) -> Pattern {
    match file(text).items.remove(0) {
        Item::Pattern(p) => p,
        other => panic!("not a pattern: {other:?}"),
    }
}

fn slice(text: &str, s: Span) -> &str {
    &text[s.start..s.end]
}

fn name(n: &str) -> Expr {
    Expr::new(ExprKind::Name(Ident::new(n)))
}

fn int(n: i64) -> Expr {
    Expr::new(ExprKind::Lit(Literal::Int(n)))
}

fn bin(op: BinaryOp, l: Expr, r: Expr) -> Expr {
    Expr::new(ExprKind::Binary {
        op,
        lhs: Box::new(l),
        rhs: Box::new(r),
    })
}

fn un(op: UnaryOp, x: Expr) -> Expr {
    Expr::new(ExprKind::Unary {
        op,
        expr: Box::new(x),
    })
}

fn field(var: &str, f: &str) -> Expr {
    Expr::new(ExprKind::Field {
        var: Ident::new(var),
        index: None,
        field: Ident::new(f),
    })
}

fn ifield(var: &str, ix: Index, f: &str) -> Expr {
    Expr::new(ExprKind::Field {
        var: Ident::new(var),
        index: Some(Spanned {
            value: ix,
            span: Span::default(),
        }),
        field: Ident::new(f),
    })
}

fn lit(text: &str) -> Literal {
    match e(text).kind {
        ExprKind::Lit(l) => l,
        other => panic!("`{text}` is not a literal: {other:?}"),
    }
}

// ---------------------------------------------------------------- examples

const SECTION_2: &str = "
EVENT Trade       (symbol STRING, price FLOAT, volume INT);
EVENT Order       (symbol STRING, side STRING, size INT, price FLOAT);
EVENT News        (symbol STRING, headline STRING);
EVENT VolumeSpike (symbol STRING, volume INT);
EVENT AAPL, AMZN, GOOG (open FLOAT, volume INT);
";

const SECTION_3: &str = "
DEFINE positive_words = ('profit', 'growth', 'record', 'surge', 'gain');
DEFINE negative_words = ('loss', 'decline', 'fraud', 'penalty', 'debt');
DEFINE positive(text) = count_any(lower(text), positive_words)
                      > count_any(lower(text), negative_words);
";

const SECTION_4: &str = "
PATTERN insider_trading
  SEQ(VolumeSpike v, News n)
  WHERE n.ts - v.ts >= 5m
  WITHIN 30m
  PARTITION BY symbol
  EMIT v.symbol, v.volume AS spike_volume, n.headline, n.ts - v.ts AS lead_time;
";

const SECTION_8: &str = "
PATTERN bull_run           -- volume spike, then positive news, 10 minutes
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
  WITHIN 1m PARTITION BY symbol STRICT CONTIGUITY;
";

const SECTION_8_MORE: &str = "
EVENT Purchase (order_id STRING, customer STRING, category STRING, city STRING,
amount FLOAT, items INT, payment STRING);
PATTERN fraud SEQ(Purchase p) WHERE p.amount > 5000 AND p.items > 10 AND hour(p.ts) < 6;
PATTERN busy SEQ(Purchase p{100,}) WITHIN 1h PARTITION BY category;
PATTERN no_buy SEQ(Order s, NOT Order b) WHERE s.side = 'sell' AND s.size > 10000
  AND b.side = 'buy' WITHIN 1m PARTITION BY symbol;
PATTERN quiet SEQ(News n, NOT Trade t) WITHIN 5m PARTITION BY symbol;
PATTERN rising SEQ(Trade t+) WHERE t[i].price > avg(t[..i-1].price) WITHIN 10m;
";

#[test]
fn language_examples_parse() {
    let f = file(SECTION_2);
    assert_eq!(f.items.len(), 5);
    let Item::Event(ev) = &f.items[4] else {
        panic!()
    };
    let names: Vec<_> = ev.names.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["AAPL", "AMZN", "GOOG"]);
    assert_eq!(ev.fields[0].name.name, "open");
    assert_eq!(ev.fields[0].ty, TypeName::Float);

    let f = file(SECTION_3);
    assert_eq!(f.items.len(), 3);
    let Item::Define(d) = &f.items[2] else {
        panic!()
    };
    assert_eq!(d.params.as_ref().unwrap()[0].name, "text");
    assert!(matches!(
        d.body.kind,
        ExprKind::Binary {
            op: BinaryOp::Gt,
            ..
        }
    ));
    let Item::Define(d) = &f.items[0] else {
        panic!()
    };
    assert!(d.params.is_none());
    assert!(matches!(&d.body.kind, ExprKind::List(v) if v.len() == 5));

    let p = pattern(SECTION_4);
    assert_eq!(p.name.name, "insider_trading");
    assert_eq!(p.within.unwrap().nanos, 30 * 60 * 1_000_000_000);
    assert_eq!(p.partition_by[0].name, "symbol");
    assert_eq!(p.emit.len(), 4);
    assert_eq!(p.emit[1].alias.as_ref().unwrap().name, "spike_volume");
    assert!(p.emit[0].alias.is_none());

    let f = file(SECTION_8);
    assert_eq!(f.items.len(), 5);
    let Item::Pattern(m) = &f.items[3] else {
        panic!()
    };
    assert_eq!(m.strategy.unwrap().value, Strategy::StrictContiguity);
    assert!(matches!(
        m.seq[0],
        Element::Event {
            quant: Some(Quantifier::AtLeast(4)),
            ..
        }
    ));
    assert_eq!(
        m.emit[0].expr,
        ifield("t", Index::Nth(1), "price"),
        "t[1].price"
    );
    assert_eq!(m.emit[1].expr, ifield("t", Index::Last, "price"));

    let f = file(SECTION_8_MORE);
    assert_eq!(f.items.len(), 6);
    let Item::Pattern(r) = &f.items[5] else {
        panic!()
    };
    let w = r.where_clause.as_ref().unwrap();
    let ExprKind::Binary { rhs, .. } = &w.kind else {
        panic!()
    };
    let ExprKind::Call { func, args } = &rhs.kind else {
        panic!()
    };
    assert_eq!(func.name, "avg");
    assert_eq!(args[0], ifield("t", Index::BeforeCurrent, "price"));
}

#[test]
fn whole_files_and_empty_inputs() {
    assert!(file("").items.is_empty());
    assert!(file("   \n\t ").items.is_empty());
    assert!(file("-- only a comment").items.is_empty());
    assert!(
        file("/* block */ -- line\n/* another\n multi-line */")
            .items
            .is_empty()
    );
    let f = file("event a (x int); define k = 1; pattern p seq(a x);");
    assert_eq!(f.items.len(), 3, "keywords are case-insensitive");
}

// ---------------------------------------------------------------- items

#[test]
fn event_declarations() {
    let text = "EVENT Tick ();";
    let f = file(text);
    let Item::Event(ev) = &f.items[0] else {
        panic!()
    };
    assert!(ev.fields.is_empty());
    assert_eq!(slice(text, ev.span), "EVENT Tick ()");

    let text = "EVENT T (a int, b Float, c STRING, d bool, e timestamp, f DURATION);";
    let f = file(text);
    let Item::Event(ev) = &f.items[0] else {
        panic!()
    };
    let tys: Vec<_> = ev.fields.iter().map(|f| f.ty).collect();
    assert_eq!(
        tys,
        [
            TypeName::Int,
            TypeName::Float,
            TypeName::String,
            TypeName::Bool,
            TypeName::Timestamp,
            TypeName::Duration
        ]
    );
    assert_eq!(slice(text, ev.fields[1].ty_span), "Float");
    assert_eq!(slice(text, ev.fields[1].name.span), "b");

    // Non-reserved words are fine as names.
    file(
        "EVENT Bar (last FLOAT, open FLOAT, close FLOAT, type STRING, ts INT, timestamp INT, next INT, i INT, match INT, by INT);",
    );
}

#[test]
fn event_errors() {
    let d = one_err("EVENT T (x INTEGER);");
    assert_eq!(d.code, codes::UNKNOWN_TYPE);
    assert_eq!(d.message, "unknown type `INTEGER`");
    assert_eq!(d.help.as_deref(), Some("did you mean `INT`?"));
    let d = one_err("EVENT T (x FLOT);");
    assert_eq!(d.help.as_deref(), Some("did you mean `FLOAT`?"));

    let d = one_err("EVENT T (where INT);");
    assert_eq!(d.message, "expected a field name, found keyword `where`");
    assert!(d.help.unwrap().contains("reserved"));

    let text = "EVENT T (x INT;";
    let d = one_err(text);
    assert_eq!(d.message, "expected `,` or `)` to close `(`, found `;`");
    assert_eq!(slice(text, d.span), ";");
    assert_eq!(slice(text, d.secondary[0].0), "(");

    let d = one_err("EVENT T x INT);");
    assert!(
        d.message.starts_with("expected `,` or `(`"),
        "{}",
        d.message
    );
    let d = one_err("EVENT (x INT);");
    assert_eq!(d.message, "expected an event type name, found `(`");
}

#[test]
fn defines() {
    let f = file("DEFINE k = 5; DEFINE f() = 1; DEFINE g(a, b) = a + b;");
    let Item::Define(k) = &f.items[0] else {
        panic!()
    };
    assert_eq!(k.params, None);
    assert_eq!(k.body, int(5));
    let Item::Define(f0) = &f.items[1] else {
        panic!()
    };
    assert_eq!(f0.params, Some(vec![]));
    let Item::Define(g) = &f.items[2] else {
        panic!()
    };
    assert_eq!(g.params.as_ref().unwrap().len(), 2);
    assert_eq!(g.body, bin(BinaryOp::Add, name("a"), name("b")));

    // A single parenthesised value is grouping, not a list.
    let f = file("DEFINE w = ('x');");
    let Item::Define(w) = &f.items[0] else {
        panic!()
    };
    assert_eq!(w.body.kind, ExprKind::Lit(Literal::String("x".into())));

    let d = one_err("DEFINE k 5;");
    assert_eq!(d.message, "expected `=` or `(`, found `5`");
    let d = one_err("DEFINE k == 5;");
    assert_eq!(d.code, codes::FOREIGN_OPERATOR);
}

#[test]
fn pattern_clauses() {
    let text = "PATTERN p SEQ(A a, B b) WHERE a.x = b.x WITHIN 500ms PARTITION BY k, j \
                SKIP TILL ANY MATCH AFTER MATCH NO SKIP EMIT a.x, b.y + 1 AS z;";
    let p = pattern(text);
    assert_eq!(slice(text, p.seq_span), "SEQ(A a, B b)");
    assert_eq!(p.within.unwrap().nanos, 500_000_000);
    assert_eq!(slice(text, p.within.unwrap().span), "500ms");
    assert_eq!(p.partition_by.len(), 2);
    assert_eq!(p.strategy.unwrap().value, Strategy::SkipTillAnyMatch);
    assert_eq!(slice(text, p.strategy.unwrap().span), "SKIP TILL ANY MATCH");
    assert_eq!(p.after_match.unwrap().value, AfterMatch::NoSkip);
    assert_eq!(
        slice(text, p.after_match.unwrap().span),
        "AFTER MATCH NO SKIP"
    );
    assert_eq!(slice(text, p.emit[1].span), "b.y + 1 AS z");
    assert_eq!(slice(text, p.span), &text[..text.len() - 1]);

    for (s, v) in [
        ("STRICT CONTIGUITY", Strategy::StrictContiguity),
        ("skip till next match", Strategy::SkipTillNextMatch),
        ("Skip Till Any Match", Strategy::SkipTillAnyMatch),
    ] {
        let p = pattern(&format!("PATTERN p SEQ(A a) {s};"));
        assert_eq!(p.strategy.unwrap().value, v);
    }
    for (s, v) in [
        ("SKIP PAST LAST EVENT", AfterMatch::SkipPastLastEvent),
        ("skip to next event", AfterMatch::SkipToNextEvent),
        ("NO SKIP", AfterMatch::NoSkip),
    ] {
        let p = pattern(&format!("PATTERN p SEQ(A a) AFTER MATCH {s};"));
        assert_eq!(p.after_match.unwrap().value, v);
    }
    let p = pattern("PATTERN p SEQ(A a);");
    assert!(p.where_clause.is_none() && p.within.is_none() && p.emit.is_empty());
}

#[test]
fn clause_errors() {
    let d = one_err("PATTERN p SEQ(A a) PARTITION BY k WITHIN 5m;");
    assert_eq!(d.code, codes::CLAUSE_ORDER);
    assert_eq!(d.message, "`WITHIN` must come before `PARTITION BY`");
    let d = one_err("PATTERN p SEQ(A a) WITHIN 5m WITHIN 6m;");
    assert_eq!(d.message, "`WITHIN` is written twice");
    let d = one_err("PATTERN p SEQ(A a) EMIT a.x WHERE a.x > 1;");
    assert_eq!(d.message, "`WHERE` must come before `EMIT`");

    let text = "PATTERN p SEQ(A a) WHEN a.x > 1;";
    let d = one_err(text);
    assert_eq!(d.message, "expected a clause or `;`, found `WHEN`");
    assert_eq!(d.help.as_deref(), Some("did you mean `WHERE`?"));
    assert_eq!(slice(text, d.span), "WHEN");
    let d = one_err("PATTERN p SEQ(A a) WITHN 5m;");
    assert_eq!(d.help.as_deref(), Some("did you mean `WITHIN`?"));
    let d = one_err("PATTERN p SEQ(A a, B b) WHERE a.x > 1 b.y < 2 WITHIN 1m;");
    assert!(d.help.unwrap().contains("AND"));

    let d = one_err("PATTERN p SEQ(A a) WITHIN 5;");
    assert_eq!(d.code, codes::BAD_DURATION);
    let d = one_err("PATTERN p SEQ(A a) WITHIN;");
    assert_eq!(d.message, "expected a duration such as `5m`, found `;`");
    let d = one_err("PATTERN p SEQ(A a) PARTITION symbol;");
    assert_eq!(d.message, "expected `BY`, found `symbol`");
    let d = one_err("PATTERN p SEQ(A a) PARTITION BY a.symbol;");
    assert!(d.help.unwrap().contains("PARTITION BY symbol"));
    let d = one_err("PATTERN p SEQ(A a) SKIP TILL FIRST MATCH;");
    assert_eq!(d.message, "expected `NEXT` or `ANY`, found `FIRST`");
    let d = one_err("PATTERN p SEQ(A a) AFTER MATCH SKIP TO LAST EVENT;");
    assert_eq!(d.message, "expected `NEXT`, found `LAST`");
    let d = one_err("PATTERN p SEQ(A a) AFTER MATCH SKIP;");
    assert_eq!(d.message, "expected `PAST` or `TO`, found `;`");
    let d = one_err("PATTERN p SEQ(A a) STRICT;");
    assert_eq!(d.message, "expected `CONTIGUITY`, found `;`");
    let d = one_err("PATTERN p SEQ(A a) EMIT a.x AS;");
    assert_eq!(d.message, "expected an output name, found `;`");
    let d = one_err("PATTERN p WHERE x;");
    assert_eq!(d.message, "expected `SEQ`, found keyword `WHERE`");
}

#[test]
fn missing_semicolon() {
    let text = "PATTERN p SEQ(A a) WITHIN 5m\nPATTERN q SEQ(B b);";
    let (f, d) = file_errs(text);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].message, "expected `;`, found keyword `PATTERN`");
    assert_eq!(d[0].help.as_deref(), Some("add `;` to end the item"));
    // Recovery resumes at the next item, so `q` is kept.
    assert_eq!(f.items.len(), 1);
    let Item::Pattern(q) = &f.items[0] else {
        panic!()
    };
    assert_eq!(q.name.name, "q");

    let text = "EVENT A (x INT)  ";
    let d = one_err(text);
    assert_eq!(d.message, "expected `;`, found end of file");
    assert_eq!(d.span, Span::new(15, 15));
    assert_eq!(d.span.start, 15);

    let d = one_err("DEFINE x = 1 2;");
    assert_eq!(d.message, "expected `;`, found `2`");

    let d = one_err(";");
    assert_eq!(d.help.as_deref(), Some("remove this `;`"));
    let d = one_err("PATERN p SEQ(A a);");
    assert_eq!(d.help.as_deref(), Some("did you mean `PATTERN`?"));
}

#[test]
fn recovery_resumes_at_an_item_keyword_only_when_sensible() {
    // An unfinished item followed by an item on the next line: both reported
    // on their own.
    let (f, d) = file_errs("DEFINE x = 1 +\nPATTERN p SEQ(A a);");
    assert_eq!(d.len(), 1);
    assert_eq!(
        d[0].message,
        "expected an expression, found keyword `PATTERN`"
    );
    assert_eq!(f.items.len(), 1);
    // A keyword misused inside an item does not start a new item.
    let (f, d) = file_errs("DEFINE x = EVENT; DEFINE y = 2;");
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(f.items.len(), 1);
    // A byte-order mark is skipped, spans still count it.
    let text = "\u{feff}DEFINE x = ;";
    let d = one_err(text);
    assert_eq!(slice(text, d.span), ";");
}

#[test]
fn error_recovery_reports_every_broken_item() {
    let text = "
EVENT A (x INT);
PATTERN broken1 SEQ(A a WITHIN 5m;
DEFINE ok = 1;
DEFINE broken2 = 'it''s; fine' + ;
EVENT B (y FLOT); -- comment with ; inside
/* ; */ PATTERN good SEQ(A a, B b) WITHIN 1m;
";
    let (f, d) = file_errs(text);
    assert_eq!(d.len(), 3, "{d:#?}");
    assert_eq!(
        d[0].message,
        "expected `,` or `)` to close `SEQ(`, found keyword `WITHIN`"
    );
    assert_eq!(d[1].message, "expected an expression, found `;`");
    assert_eq!(d[2].code, codes::UNKNOWN_TYPE);
    let names: Vec<String> = f
        .items
        .iter()
        .map(|i| match i {
            Item::Event(e) => e.names[0].name.clone(),
            Item::Define(d) => d.name.name.clone(),
            Item::Pattern(p) => p.name.name.clone(),
        })
        .collect();
    assert_eq!(names, ["A", "ok", "good"]);
}

// ---------------------------------------------------------------- elements

#[test]
fn elements() {
    let text = "PATTERN p SEQ(A a, B b+, C c*, D d{3}, E e{2,}, F f{1, 5}, NOT G g, \
                OR(H h, AND(I i, J j)), K k {4 , 6}) WITHIN 1m;";
    let p = pattern(text);
    let qs: Vec<Option<Quantifier>> = p
        .seq
        .iter()
        .map(|e| match e {
            Element::Event { quant, .. } => *quant,
            _ => None,
        })
        .collect();
    assert_eq!(
        qs,
        [
            None,
            Some(Quantifier::Plus),
            Some(Quantifier::Star),
            Some(Quantifier::Exactly(3)),
            Some(Quantifier::AtLeast(2)),
            Some(Quantifier::Between(1, 5)),
            None,
            None,
            Some(Quantifier::Between(4, 6)),
        ]
    );
    assert_eq!(slice(text, p.seq[5].span()), "F f{1, 5}");
    assert_eq!(slice(text, p.seq[6].span()), "NOT G g");
    let Element::Or { members, span } = &p.seq[7] else {
        panic!()
    };
    assert_eq!(slice(text, *span), "OR(H h, AND(I i, J j))");
    assert!(matches!(&members[1], Element::And { members, .. } if members.len() == 2));
    let Element::Event { ty, var, .. } = &p.seq[0] else {
        panic!()
    };
    assert_eq!((ty.name.as_str(), var.name.as_str()), ("A", "a"));
}

#[test]
fn element_errors() {
    let d = one_err("PATTERN p SEQ() WITHIN 1m;");
    assert_eq!(
        d.message,
        "expected an element such as `Trade t`, found `)`"
    );
    let d = one_err("PATTERN p SEQ(Trade) WITHIN 1m;");
    assert_eq!(d.message, "expected a variable name, found `)`");
    assert!(d.help.unwrap().contains("`Trade t`"));
    let d = one_err("PATTERN p SEQ(NOT A a+) WITHIN 1m;");
    assert_eq!(d.code, codes::NOT_QUANTIFIED);
    let d = one_err("PATTERN p SEQ(A a{99999999999}) WITHIN 1m;");
    assert_eq!(d.code, codes::BAD_NUMBER);
    assert!(d.message.contains("99999999999"));
    let d = one_err("PATTERN p SEQ(A a{2,3) WITHIN 1m;");
    assert!(
        d.message.starts_with("expected `}` to close"),
        "{}",
        d.message
    );
    let d = one_err("PATTERN p SEQ(A a{}) WITHIN 1m;");
    assert_eq!(d.message, "expected a number, found `}`");
    let d = one_err("PATTERN p SEQ(OR A a) WITHIN 1m;");
    assert_eq!(d.message, "expected `(`, found `A`");
    let text = "PATTERN p SEQ(A a, OR(B b, C c) WITHIN 1m;";
    let d = one_err(text);
    assert_eq!(
        d.message,
        "expected `,` or `)` to close `SEQ(`, found keyword `WITHIN`"
    );
    assert_eq!(slice(text, d.secondary[0].0), "(");
}

// ---------------------------------------------------------------- expressions

#[test]
fn precedence_and_associativity() {
    let (a, b, c) = (name("a"), name("b"), name("c"));
    use BinaryOp::*;
    assert_eq!(
        e("a + b * c"),
        bin(Add, a.clone(), bin(Mul, b.clone(), c.clone()))
    );
    assert_eq!(
        e("a - b - c"),
        bin(Sub, bin(Sub, a.clone(), b.clone()), c.clone())
    );
    assert_eq!(
        e("a / b % c"),
        bin(Rem, bin(Div, a.clone(), b.clone()), c.clone())
    );
    assert_eq!(
        e("a OR b AND c"),
        bin(Or, a.clone(), bin(And, b.clone(), c.clone()))
    );
    assert_eq!(
        e("NOT a = b AND c"),
        bin(
            And,
            un(UnaryOp::Not, bin(Eq, a.clone(), b.clone())),
            c.clone()
        )
    );
    assert_eq!(
        e("-a * b"),
        bin(Mul, un(UnaryOp::Neg, a.clone()), b.clone())
    );
    assert_eq!(
        e("(a + b) * c"),
        bin(Mul, bin(Add, a.clone(), b.clone()), c.clone())
    );
    assert_eq!(
        e("a < b + 1"),
        bin(Lt, a.clone(), bin(Add, b.clone(), int(1)))
    );
    for (s, op) in [
        ("=", Eq),
        ("!=", Ne),
        ("<>", Ne),
        ("<", Lt),
        ("<=", Le),
        (">", Gt),
        (">=", Ge),
    ] {
        assert_eq!(e(&format!("a {s} b")), bin(op, a.clone(), b.clone()), "{s}");
        assert_eq!(e(&format!("a{s}b")), bin(op, a.clone(), b.clone()), "{s}");
    }
    assert_eq!(e("a and b Or c"), e("(a AND b) OR c"));
}

#[test]
fn negation_and_comments() {
    // `- -5` is nested negation; `--` starts a comment.
    assert_eq!(e("- -5"), un(UnaryOp::Neg, un(UnaryOp::Neg, int(5))));
    assert_eq!(e("-5"), un(UnaryOp::Neg, int(5)));
    assert_eq!(e("a --5\n + 1"), bin(BinaryOp::Add, name("a"), int(1)));
    assert_eq!(
        e("a - -b"),
        bin(BinaryOp::Sub, name("a"), un(UnaryOp::Neg, name("b")))
    );
    assert_eq!(
        e("NOT NOT a"),
        un(UnaryOp::Not, un(UnaryOp::Not, name("a")))
    );
    assert_eq!(
        e("a /* c */ + /**/ b"),
        bin(BinaryOp::Add, name("a"), name("b"))
    );
    let d = e_err("a /* never closed");
    assert_eq!(d.code, codes::UNTERMINATED_COMMENT);
    assert_eq!(d.span, Span::new(2, 4));
}

#[test]
fn between_and_in() {
    let x = e("a BETWEEN 1 AND 2 + 1 AND b");
    let ExprKind::Binary {
        op: BinaryOp::And,
        lhs,
        ..
    } = x.kind
    else {
        panic!("{x:?}")
    };
    assert_eq!(
        lhs.kind,
        ExprKind::Between {
            expr: Box::new(name("a")),
            low: Box::new(int(1)),
            high: Box::new(bin(BinaryOp::Add, int(2), int(1))),
            negated: false
        }
    );
    assert!(matches!(
        e("a NOT BETWEEN 1 AND 2").kind,
        ExprKind::Between { negated: true, .. }
    ));
    let x = e("a IN ('x')");
    let ExprKind::In { list, negated, .. } = x.kind else {
        panic!()
    };
    assert!(!negated);
    assert!(matches!(&list.kind, ExprKind::List(v) if v.len() == 1));
    let x = e("a not in words");
    let ExprKind::In { list, negated, .. } = x.kind else {
        panic!()
    };
    assert!(negated);
    assert_eq!(list.kind, ExprKind::Name(Ident::new("words")));
    assert!(matches!(
        e("lower(h) IN ('a', 'b', 'c')").kind,
        ExprKind::In { .. }
    ));

    let d = e_err("a IN ()");
    assert_eq!(d.message, "an `IN` list needs at least one value");
    let d = e_err("a IN 5");
    assert_eq!(d.message, "expected `(` or the name of a list, found `5`");
    let d = e_err("a BETWEEN 1 OR 2");
    assert_eq!(d.message, "expected `AND`, found keyword `OR`");
    let d = e_err("a NOT b");
    assert_eq!(
        d.message,
        "expected an operator or end of input, found keyword `NOT`"
    );
}

#[test]
fn chained_comparisons_are_rejected() {
    let text = "a < b < c";
    let d = e_err(text);
    assert_eq!(d.code, codes::CHAINED_COMPARISON);
    assert_eq!(d.span, Span::new(6, 7));
    assert_eq!(d.secondary[0].0, Span::new(2, 3));
    assert!(d.help.unwrap().contains("AND"));
    assert_eq!(e_err("a = b = c").code, codes::CHAINED_COMPARISON);
    assert_eq!(
        e_err("a BETWEEN 1 AND 2 = TRUE").code,
        codes::CHAINED_COMPARISON
    );
    assert_eq!(e_err("a IN (1) IN (2)").code, codes::CHAINED_COMPARISON);
    // With parentheses it is fine.
    e("(a < b) = c");
    e("a < b AND b < c");
}

#[test]
fn foreign_operators_get_help() {
    let d = e_err("a == b");
    assert_eq!(d.code, codes::FOREIGN_OPERATOR);
    assert_eq!(d.help.as_deref(), Some("use `=` for equality"));
    assert_eq!(d.span, Span::new(2, 4));
    assert_eq!(
        e_err("a && b").help.as_deref(),
        Some("use `AND` for logical and")
    );
    assert_eq!(
        e_err("a || b").help.as_deref(),
        Some("use `OR` for logical or")
    );
    assert_eq!(e_err("!a").help.as_deref(), Some("use `NOT` for negation"));
    assert_eq!(e_err("\"x\"").code, codes::FOREIGN_OPERATOR);
}

#[test]
fn primaries() {
    assert_eq!(
        e("f()"),
        Expr::new(ExprKind::Call {
            func: Ident::new("f"),
            args: vec![]
        })
    );
    assert_eq!(
        e("coalesce(a.x, 0, b)"),
        Expr::new(ExprKind::Call {
            func: Ident::new("coalesce"),
            args: vec![field("a", "x"), int(0), name("b")]
        })
    );
    assert_eq!(e("count (t)"), e("count(t)"));
    assert_eq!(e("a . x"), field("a", "x"));
    assert_eq!(e("t.type"), field("t", "type"));
    assert_eq!(e("t.ts"), field("t", "ts"));
    for (s, ix) in [
        ("t[i].p", Index::Current),
        ("t[ i - 1 ].p", Index::Previous),
        ("t[i-1].p", Index::Previous),
        ("t[last].p", Index::Last),
        ("t[LAST].p", Index::Last),
        ("t[3].p", Index::Nth(3)),
        ("t[..i-1].p", Index::BeforeCurrent),
        ("t[ .. i - 1 ].p", Index::BeforeCurrent),
    ] {
        assert_eq!(e(s), ifield("t", ix, "p"), "{s}");
    }
    // `last` and `i` are ordinary names outside brackets.
    assert_eq!(e("last + i"), bin(BinaryOp::Add, name("last"), name("i")));
    assert_eq!(e("timestamp"), name("timestamp"));
    assert_eq!(
        e("timestamp(x)"),
        Expr::new(ExprKind::Call {
            func: Ident::new("timestamp"),
            args: vec![name("x")]
        })
    );

    let x = e("(1, 'a', b)");
    assert!(matches!(&x.kind, ExprKind::List(v) if v.len() == 3));
    assert_eq!(e("((a))"), name("a"));
    assert_eq!(lit("TRUE"), Literal::Bool(true));
    assert_eq!(lit("false"), Literal::Bool(false));
    assert_eq!(lit("Null"), Literal::Null);
    assert_eq!(lit("'it''s'"), Literal::String("it's".into()));
    assert_eq!(lit("''"), Literal::String(String::new()));
    assert_eq!(lit("'a -- b /* c'"), Literal::String("a -- b /* c".into()));
}

#[test]
fn index_errors() {
    let d = e_err("t[0].p");
    assert_eq!(d.code, codes::BAD_INDEX);
    assert_eq!(d.message, "positions start at 1");
    assert_eq!(e_err("t[i-2].p").code, codes::BAD_INDEX);
    assert_eq!(e_err("t[i+1].p").code, codes::BAD_INDEX);
    assert_eq!(e_err("t[..i].p").code, codes::BAD_INDEX);
    assert_eq!(e_err("t[99999999999].p").code, codes::BAD_NUMBER);
    let d = e_err("t[j].p");
    assert!(
        d.message.starts_with("expected `i`, `i-1`"),
        "{}",
        d.message
    );
    let d = e_err("t[i]");
    assert!(d.help.unwrap().contains("t[i].price"));
    let d = e_err("t[i.p");
    assert_eq!(d.message, "expected `]` to close `[`, found `.`");
}

#[test]
fn spans_are_exact() {
    let text = "  a.x + f(b, 'c')  * -d  ";
    let x = e(text);
    assert_eq!(slice(text, x.span), "a.x + f(b, 'c')  * -d");
    let ExprKind::Binary { lhs, rhs, .. } = &x.kind else {
        panic!()
    };
    assert_eq!(slice(text, lhs.span), "a.x");
    assert_eq!(slice(text, rhs.span), "f(b, 'c')  * -d");
    let ExprKind::Binary {
        lhs: call,
        rhs: neg,
        ..
    } = &rhs.kind
    else {
        panic!()
    };
    assert_eq!(slice(text, neg.span), "-d");
    let ExprKind::Call { func, args } = &call.kind else {
        panic!()
    };
    assert_eq!(slice(text, func.span), "f");
    assert_eq!(slice(text, args[1].span), "'c'");

    let text = "(a + b) * c";
    let x = e(text);
    let ExprKind::Binary { lhs, .. } = &x.kind else {
        panic!()
    };
    assert_eq!(
        slice(text, lhs.span),
        "(a + b)",
        "grouping spans the parens"
    );

    let text = "t[ i - 1 ].price";
    let ExprKind::Field { index, var, field } = e(text).kind else {
        panic!()
    };
    assert_eq!(slice(text, index.unwrap().span), "[ i - 1 ]");
    assert_eq!(slice(text, var.span), "t");
    assert_eq!(slice(text, field.span), "price");

    let text = "x BETWEEN 1 AND 5m";
    assert_eq!(slice(text, e(text).span), text);
    let text = "ts >= TIMESTAMP '2024-01-02T09:15:00Z'";
    let ExprKind::Binary { rhs, .. } = e(text).kind else {
        panic!()
    };
    assert_eq!(slice(text, rhs.span), "TIMESTAMP '2024-01-02T09:15:00Z'");
    let text = "5 minutes";
    assert_eq!(slice(text, e(text).span), text);
}

// ---------------------------------------------------------------- literals

#[test]
fn integer_and_float_literals() {
    assert_eq!(lit("0"), Literal::Int(0));
    assert_eq!(lit("42"), Literal::Int(42));
    assert_eq!(lit("007"), Literal::Int(7));
    assert_eq!(lit("9223372036854775807"), Literal::Int(i64::MAX));
    let d = e_err("9223372036854775808");
    assert_eq!(d.code, codes::BAD_NUMBER);
    assert_eq!(
        d.message,
        "integer literal `9223372036854775808` is too large"
    );
    for (s, v) in [
        ("3.5", 3.5),
        ("0.5", 0.5),
        ("1e3", 1e3),
        ("1.5e-7", 1.5e-7),
        ("2.0E+10", 2.0e10),
        ("1e300", 1e300),
        ("5e-324", 5e-324),
        ("0.1", 0.1),
        ("1.0", 1.0),
        ("0.0", 0.0),
    ] {
        assert_eq!(lit(s), Literal::Float(v), "{s}");
    }
    assert_eq!(e_err("1e999").code, codes::BAD_NUMBER);
    assert_eq!(e_err("1e").code, codes::BAD_NUMBER);
    assert_eq!(e_err("5abc").code, codes::BAD_NUMBER);
    assert_eq!(e_err("1e3s").code, codes::BAD_NUMBER);
    assert_eq!(e_err(&"9".repeat(5000)).code, codes::BAD_NUMBER);
}

#[test]
fn floats_print_and_parse_back() {
    // Everything `{:?}` prints for a finite non-negative f64 is accepted.
    let samples = [
        0.0,
        1.0,
        0.1,
        1.5e-7,
        1e16,
        1.2345e20,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        123456.789,
        1e-5,
        0.30000000000000004,
    ];
    for f in samples {
        let s = format!("{f:?}");
        assert_eq!(lit(&s), Literal::Float(f), "{s}");
    }
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..2000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let f = f64::from_bits(x >> 1);
        if f.is_finite() {
            let s = format!("{f:?}");
            assert_eq!(lit(&s), Literal::Float(f), "{s}");
        }
    }
}

#[test]
fn duration_literals() {
    const S: i64 = 1_000_000_000;
    for (s, ns) in [
        ("500ms", 500_000_000),
        ("30s", 30 * S),
        ("5m", 300 * S),
        ("1h", 3600 * S),
        ("1d", 86400 * S),
        ("10us", 10_000),
        ("7ns", 7),
        ("5 minutes", 300 * S),
        ("1 minute", 60 * S),
        ("2 hours", 7200 * S),
        ("1 hour", 3600 * S),
        ("3 seconds", 3 * S),
        ("1 second", S),
        ("10 milliseconds", 10_000_000),
        ("2 days", 2 * 86400 * S),
        ("5minutes", 300 * S),
        ("5MS", 5_000_000),
        ("1.5s", 1_500_000_000),
        ("0.5 hours", 1800 * S),
        ("1.000000001s", S + 1),
        ("0ns", 0),
        ("9223372036854775807ns", i64::MAX),
    ] {
        assert_eq!(lit(s), Literal::Duration(ns), "{s}");
    }
    assert_eq!(e_err("9223372036854775808ns").code, codes::BAD_DURATION);
    assert_eq!(e_err("107000d").code, codes::BAD_DURATION);
    assert_eq!(e_err("1.5ns").code, codes::BAD_DURATION);
    assert_eq!(
        e_err(&format!("{}d", "9".repeat(100))).code,
        codes::BAD_DURATION
    );
    let d = e_err("5min");
    assert_eq!(d.message, "invalid suffix `min` on number `5`");
}

#[test]
fn timestamp_literals() {
    for (s, ns) in [
        (
            "TIMESTAMP '2024-01-02T09:15:00Z'",
            1_704_186_900_000_000_000,
        ),
        (
            "timestamp '2024-01-02T09:15:00Z'",
            1_704_186_900_000_000_000,
        ),
        ("TIMESTAMP '2024-01-02T09:15:00'", 1_704_186_900_000_000_000),
        ("TIMESTAMP '2024-01-02 09:15:00'", 1_704_186_900_000_000_000),
        (
            "TIMESTAMP '2024-01-02T10:15:00+01:00'",
            1_704_186_900_000_000_000,
        ),
        (
            "TIMESTAMP '2024-01-02T09:15:00.5Z'",
            1_704_186_900_500_000_000,
        ),
        (
            "TIMESTAMP '2024-01-02T09:15:00.000000001Z'",
            1_704_186_900_000_000_001,
        ),
        ("TIMESTAMP '2024-01-02'", 1_704_153_600_000_000_000),
        ("TIMESTAMP '1970-01-01T00:00:00Z'", 0),
        ("TIMESTAMP '1969-12-31T23:59:59Z'", -1_000_000_000),
    ] {
        assert_eq!(lit(s), Literal::Timestamp(ns), "{s}");
    }
    let text = "TIMESTAMP '2024-13-02T09:15:00Z'";
    let d = e_err(text);
    assert_eq!(d.code, codes::BAD_TIMESTAMP);
    assert_eq!(slice(text, d.span), "'2024-13-02T09:15:00Z'");
    assert_eq!(
        e_err("TIMESTAMP '3000-01-01T00:00:00Z'").code,
        codes::BAD_TIMESTAMP
    );
    assert_eq!(e_err("TIMESTAMP 'x").code, codes::UNTERMINATED_STRING);
}

#[test]
fn string_errors() {
    let text = "a = 'open";
    let d = e_err(text);
    assert_eq!(d.code, codes::UNTERMINATED_STRING);
    assert_eq!(d.span, Span::new(4, 5));
    let (f, d) = file_errs("DEFINE a = 'x;\nDEFINE b = 1;");
    assert_eq!(d.len(), 1);
    assert!(f.items.is_empty(), "the open string swallows the rest");
}

#[test]
fn reserved_words() {
    assert!(is_reserved("where"));
    assert!(is_reserved("Seq"));
    for w in [
        "last",
        "i",
        "type",
        "ts",
        "timestamp",
        "open",
        "close",
        "next",
        "INT",
        "match",
        "BY",
    ] {
        assert!(!is_reserved(w), "{w}");
    }
    let d = e_err("where");
    assert_eq!(d.message, "expected an expression, found keyword `where`");
}

#[test]
fn parse_expr_errors() {
    let d = e_err("");
    assert_eq!(d.message, "expected an expression, found end of file");
    let d = e_err("a +");
    assert_eq!(d.message, "expected an expression, found end of file");
    assert_eq!(d.span, Span::new(3, 3));
    let d = e_err("(a, b");
    assert_eq!(
        d.message,
        "expected `,` or `)` to close `(`, found end of file"
    );
    let d = e_err("f(a");
    assert_eq!(
        d.message,
        "expected `,` or `)` to close `(`, found end of file"
    );
    let d = e_err("a b");
    assert_eq!(d.message, "expected an operator or end of input, found `b`");
    let d = e_err("a @ b");
    assert_eq!(d.message, "expected an operator or end of input, found `@`");
    let d = e_err("é");
    assert_eq!(d.message, "expected an expression, found `é`");
    assert_eq!(d.span, Span::new(0, 2));
}

#[test]
fn context_labels_point_at_the_clause() {
    let text = "PATTERN p SEQ(A a) WHERE a.x > WITHIN 5m;";
    let d = one_err(text);
    assert_eq!(d.message, "expected an expression, found keyword `WITHIN`");
    assert_eq!(slice(text, d.secondary[0].0), "WHERE");
    assert_eq!(d.secondary[0].1, "in this `WHERE` clause");
}

// ---------------------------------------------------------------- limits

fn assert_too_deep(text: &str) {
    let (_, d) = parse_file(text, F);
    assert!(
        d.iter().any(|d| d.code == codes::TOO_DEEP),
        "no depth error: {:?}",
        d.first()
    );
    let msg = format!("nesting deeper than {MAX_DEPTH} levels");
    assert!(d.iter().any(|d| d.message == msg));
}

#[test]
fn depth_guard_on_deep_input() {
    let n = 20_000;
    assert_too_deep(&format!("DEFINE x = {}1{};", "(".repeat(n), ")".repeat(n)));
    assert_too_deep(&format!("DEFINE x = {}1;", "(".repeat(n)));
    assert_too_deep(&format!("DEFINE x = {}a;", "NOT ".repeat(n)));
    assert_too_deep(&format!("DEFINE x = {}1;", "- ".repeat(n)));
    assert_too_deep(&format!("DEFINE x = {}1;", "f(".repeat(n)));
    assert_too_deep(&format!("DEFINE x = a IN {}1;", "(".repeat(n)));
    assert_too_deep(&format!(
        "PATTERN p SEQ({}A a{}) WITHIN 1m;",
        "OR(".repeat(n),
        ")".repeat(n)
    ));
    // A long flat chain would build a tree as deep as it is long.
    assert_too_deep(&format!("DEFINE x = a{};", " + a".repeat(n)));
    assert_too_deep(&format!("DEFINE x = a{};", " AND a".repeat(n)));
    let d = e_err(&"(".repeat(n));
    assert_eq!(d.code, codes::TOO_DEEP);
}

#[test]
fn depth_limit_is_exact() {
    let ok = format!("{}1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    e(&ok);
    let bad = format!(
        "{}1{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert_eq!(e_err(&bad).code, codes::TOO_DEEP);
    e(&format!("a{}", " + a".repeat(MAX_DEPTH - 1)));
    assert_eq!(
        e_err(&format!("a{}", " + a".repeat(MAX_DEPTH))).code,
        codes::TOO_DEEP
    );
    // Deep but legal input fits a small stack: the guard is what bounds it.
    let text = format!(
        "DEFINE x = {}1{};",
        "(- NOT f(".repeat(MAX_DEPTH / 4),
        "))".repeat(MAX_DEPTH / 4)
    );
    // The costliest nestings per level (measured): `1+(` and `a BETWEEN (`
    // in expressions, `OR(` in elements. At the limit they fit in 1 MiB.
    let worst = [
        text,
        format!(
            "DEFINE x = {}1{};",
            "1+(".repeat(MAX_DEPTH - 1),
            ")".repeat(MAX_DEPTH - 1)
        ),
        format!(
            "DEFINE x = {}1{};",
            "a BETWEEN (".repeat(MAX_DEPTH / 2 - 1),
            ") AND 1".repeat(MAX_DEPTH / 2 - 1)
        ),
        format!(
            "PATTERN p SEQ({}A a{}) WITHIN 1m;",
            "OR(".repeat(MAX_DEPTH),
            ")".repeat(MAX_DEPTH)
        ),
    ];
    for text in worst {
        let h = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || parse_file(&text, F).1)
            .unwrap();
        let d = h.join().unwrap();
        assert!(d.is_empty(), "{d:#?}");
    }
}

proptest::proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in "[ -~\n\t\u{e9}\u{65e5}]{0,120}") {
        let (_, d) = parse_file(&s, F);
        for d in &d {
            proptest::prop_assert!(d.span.start <= d.span.end && d.span.end <= s.len());
            proptest::prop_assert!(s.is_char_boundary(d.span.start) && s.is_char_boundary(d.span.end));
        }
        let _ = parse_expr(&s, F);
    }

    #[test]
    fn token_soup_never_panics(toks in proptest::collection::vec(proptest::sample::select(vec![
        "EVENT", "DEFINE", "PATTERN", "SEQ", "(", ")", ",", ";", "NOT", "OR", "AND", "WHERE",
        "WITHIN", "PARTITION", "BY", "EMIT", "AS", "STRICT", "CONTIGUITY", "SKIP", "TILL",
        "NEXT", "ANY", "MATCH", "AFTER", "PAST", "LAST", "EVENT", "TO", "NO", "A", "a", "t",
        "+", "*", "{", "}", "[", "]", "i", "-", "1", "..", ".", "5m", "3.5", "'s'", "=", "<",
        "BETWEEN", "IN", "TRUE", "NULL", "TIMESTAMP", "'2024-01-02'", "INT", "--", "/*", "*/",
    ]), 0..60)) {
        let s = toks.join(" ");
        let (f, d) = parse_file(&s, F);
        // Each item either parsed or produced at least one diagnostic.
        proptest::prop_assert!(!f.items.is_empty() || !d.is_empty() || s.trim().is_empty() || s.contains("--") || s.contains("/*"));
        let _ = parse_expr(&s, F);
    }
}

#[test]
fn never_panics_on_junk() {
    let junk = [
        "\0\u{1}\u{2}",
        "\u{FFFD}\u{FFFD}",
        "EVENT",
        "EVENT A",
        "EVENT A (",
        "PATTERN",
        "PATTERN p SEQ(",
        "PATTERN p SEQ(A a) WHERE",
        "DEFINE f(",
        "DEFINE f(a,",
        "'",
        "/*",
        "--",
        "t[",
        "DEFINE x = t[",
        "DEFINE x = t[..",
        "DEFINE x = t[i-",
        "DEFINE x = 1.",
        "DEFINE x = 1.e5",
        "DEFINE x = TIMESTAMP",
        "DEFINE x = TIMESTAMP ''",
        "DEFINE é = 1;",
        "日本語 ; ; ;",
        "PATTERN p SEQ(A a{",
        "PATTERN p SEQ(A a{1,",
        "PATTERN p SEQ(A a) AFTER",
        "PATTERN p SEQ(A a) AFTER MATCH NO",
        ";;;;",
        "a'b'c'",
    ];
    for j in junk {
        let _ = parse_file(j, F);
        let _ = parse_expr(j, F);
    }
    // Pseudo-random bytes through from_utf8_lossy, and every prefix of a real file.
    let mut x: u64 = 12345;
    for _ in 0..300 {
        let mut bytes = Vec::new();
        for _ in 0..64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            bytes.push(
                b"EVNTPASQ()[]{},;.'-*/+<>=!&|%0123456789 \n\t_abeimsx\xff\xc3"[(x % 49) as usize],
            );
        }
        let s = String::from_utf8_lossy(&bytes);
        let _ = parse_file(&s, F);
        let _ = parse_expr(&s, F);
    }
    let all = format!("{SECTION_2}{SECTION_3}{SECTION_4}{SECTION_8}{SECTION_8_MORE}");
    for (k, _) in all.char_indices() {
        let _ = parse_file(&all[..k], F);
    }
}

#[test]
fn spans_of_errors_are_on_char_boundaries() {
    for text in [
        "DEFINE x = é;",
        "DEFINE x = 1 日;",
        "PATTERN p SEQ(A a) 日本;",
    ] {
        let (_, d) = parse_file(text, F);
        for d in d {
            assert!(text.is_char_boundary(d.span.start) && text.is_char_boundary(d.span.end));
            assert!(d.span.end <= text.len());
        }
    }
}
