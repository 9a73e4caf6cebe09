//! Data-driven language tests: every file under `cases/ok` compiles cleanly,
//! every file under `cases/err` fails with exactly the diagnostics in its
//! snapshot (`snapshots/`, reviewed with `cargo insta review`).

use dalal_lang::{Sources, compile};
use std::path::{Path, PathBuf};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases")
}

fn load(path: &Path) -> Sources {
    let text = std::fs::read_to_string(path).expect("case file is readable");
    let rel = path
        .strip_prefix(cases_dir())
        .expect("case under cases/")
        .display()
        .to_string();
    let mut sources = Sources::new();
    sources.add(rel, text);
    sources
}

fn files(sub: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(cases_dir().join(sub))
        .expect("cases dir exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pattern"))
        .collect();
    v.sort();
    v
}

#[test]
fn ok_cases_compile_without_errors() {
    let oks = files("ok");
    assert!(oks.len() >= 5, "expected the ok cases, found {oks:?}");
    for path in oks {
        let sources = load(&path);
        if let Err(d) = compile(&sources, &[]) {
            panic!("{} should compile:\n{}", path.display(), d);
        }
    }
}

#[test]
fn err_cases_match_their_snapshots() {
    insta::glob!("cases/err/*.pattern", |path| {
        let sources = load(path);
        let diags = match compile(&sources, &[]) {
            Ok(_) => panic!("{} should not compile", path.display()),
            Err(d) => d,
        };
        assert!(diags.error_count() > 0);
        insta::assert_snapshot!(diags.render(false));
    });
}

#[test]
fn shipped_pattern_library_checks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../patterns");
    let mut sources = Sources::new();
    sources.load_path(&dir).expect("patterns/ is readable");
    let program = compile(&sources, &[]).unwrap_or_else(|d| panic!("patterns/:\n{d}"));
    for name in [
        "bull_run",
        "bear_signal",
        "insider_trading",
        "momentum",
        "manipulation",
    ] {
        assert!(
            program.patterns.iter().any(|p| p.name == name),
            "seed detection {name} missing from patterns/"
        );
    }
}

#[test]
fn twenty_thousand_nested_parentheses_are_an_error_not_a_crash() {
    let deep = format!(
        "EVENT A (x INT); PATTERN p SEQ(A a) WHERE {}a.x > 1{};",
        "(".repeat(20_000),
        ")".repeat(20_000)
    );
    let mut sources = Sources::new();
    sources.add("deep.pattern", deep);
    let err = compile(&sources, &[]).expect_err("too deep");
    assert!(err.render(false).contains("nest"), "{}", err.render(false));
}

#[test]
fn arbitrary_bytes_give_diagnostics_never_a_panic() {
    // A fixed xorshift stream: deterministic, and no dev-dependency needed.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let alphabet: &[u8] = b"SEQ(NOT OR AND EVENT PATTERN DEFINE WHERE WITHIN [i-1] t.x 'a'' 5m {2,} + * -- /* ; , ) \xff\x00";
    for _ in 0..2_000 {
        let len = (state % 120) as usize;
        let mut bytes = Vec::with_capacity(len);
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            bytes.push(alphabet[(state % alphabet.len() as u64) as usize]);
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let mut sources = Sources::new();
        sources.add("fuzz.pattern", text);
        if let Err(d) = compile(&sources, &[]) {
            let _ = d.render(false);
        }
    }
}
