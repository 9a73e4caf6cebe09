#!/usr/bin/env bash
# Profile-guided build of `dalal` (docs/PERFORMANCE.md, "Profile-guided
# build"): the fastest binary this repository makes.
#
# Usage: benches/pgo.sh             the binary: target/pgo/use/release/dalal
#        benches/pgo.sh --bench [CRITERION FILTER...]
#                                   the criterion benchmarks, profile-guided
#
# The binary:
#   1. builds `dalal` and `engine-once` instrumented (-Cprofile-generate,
#      target/pgo/gen);
#   2. runs the training set: the shipped sample; the shipped library at one
#      and two threads, the peer patterns and decoding alone over generated
#      streams of 300,000 rows and 100 and 5,000 symbols (seed 7, not the
#      harness's seed 1); every engine workload of `engine-once list`, and
#      skip till any match at the run cap;
#   3. merges the profiles with the toolchain's own llvm-profdata (rustup's
#      llvm-tools component, installed if missing) into
#      target/pgo/dalal.profdata;
#   4. builds both again with -Cprofile-use: target/pgo/use/release/dalal.
#   Two full release builds: about 6 minutes on 2 cores.
#
# The benchmarks: a profile applies only to the build it was made with (the
# crates' symbol hashes change with the features cargo unifies, and the
# benchmarks' dev-dependencies change them), so --bench trains on the
# benchmark binary itself: criterion's --profile-time 1 over the same filter
# (target/pgo/bench.profdata), then `cargo bench -p dalal-benches --features
# jemalloc` with the profile (target/pgo/bench-use). It is trained on the
# very workloads it measures: PGO's best case, reported as such. Criterion
# keeps its results in target/criterion for both builds, so its "change"
# lines compare with the last run of either: run `cargo bench -p
# dalal-benches --features jemalloc -- FILTER` just before to read the
# profile-guided build against the release build.
#
# Streams go to $DALAL_BENCH_DIR (default /tmp/dalal-bench), never the
# repository. A profile describes this source tree: after a change, run the
# script again (a stale profile still builds, but LLVM ignores the functions
# whose code changed).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
bench=0
if [ "${1:-}" = "--bench" ]; then
    bench=1
    shift
elif [ $# -gt 0 ]; then
    sed -n '5,7p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi

# llvm-profdata must come from the LLVM that rustc uses: the raw profiles'
# format changes between LLVM versions.
host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
if [ ! -x "$profdata" ]; then
    echo "pgo.sh: installing rustup's llvm-tools component (for llvm-profdata)" >&2
    rustup component add llvm-tools >&2 || {
        echo "pgo.sh: no llvm-profdata for this toolchain: run 'rustup component add llvm-tools'" >&2
        exit 2
    }
fi

out=$repo/target/pgo
flags=${RUSTFLAGS:-}

if [ "$bench" = 1 ]; then
    raw=$out/bench-raw
    rm -rf "$raw"
    mkdir -p "$raw"
    bench() {
        RUSTFLAGS="$flags $1" cargo bench --locked --target-dir "$2" -p dalal-benches \
            --features jemalloc -- "${@:3}"
    }
    echo "== instrumented benchmarks, training (target/pgo/bench-gen)" >&2
    bench "-Cprofile-generate=$raw" "$out/bench-gen" --profile-time 1 "$@" >/dev/null
    "$profdata" merge -o "$out/bench.profdata" "$raw"
    echo "== profile-guided benchmarks (target/pgo/bench-use)" >&2
    bench "-Cprofile-use=$out/bench.profdata" "$out/bench-use" "$@"
    exit 0
fi

raw=$out/raw
rm -rf "$raw"
mkdir -p "$raw"
build() {
    RUSTFLAGS="$flags $1" cargo build --release --locked -q --target-dir "$2" \
        -p dalal-cli -p dalal-benches --bin dalal --bin engine-once
}

echo "== instrumented build (target/pgo/gen)" >&2
build "-Cprofile-generate=$raw" "$out/gen"
gen=$out/gen/release

echo "== training" >&2
data=${DALAL_BENCH_DIR:-/tmp/dalal-bench}
mkdir -p "$data"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
    cat patterns/events.pattern
    echo "PATTERN nothing SEQ(Purchase p) WHERE p.amount < 0;"
} >"$work/decode.pattern"
q=(-q --output /dev/null)
"$gen/dalal" run "${q[@]}"
for k in 100 5000; do
    f=$data/train-300000-$k.csv
    if [ ! -s "$f" ]; then
        # Under another name until whole: an interrupted run leaves no short stream.
        "$gen/dalal" gen --events 300000 --symbols "$k" --seed 7 --output "$f.part"
        mv "$f.part" "$f"
    fi
    "$gen/dalal" run patterns --input "$f" --no-events "${q[@]}"
    "$gen/dalal" run patterns --input "$f" --threads 2 "${q[@]}"
    "$gen/dalal" run benches/peers/seq2.pattern --input "$f" "${q[@]}"
    "$gen/dalal" run benches/peers/seq2_5m.pattern --input "$f" "${q[@]}"
    "$gen/dalal" run "$work/decode.pattern" --input "$f" "${q[@]}"
done
for w in $("$gen/engine-once" list); do
    "$gen/engine-once" "$w" 50000 >/dev/null
done
# Untrained, this shape ran 6.6% more instructions with the profile.
"$gen/engine-once" adversarial_any 2000 1000 >/dev/null

echo "== merging the profiles (target/pgo/dalal.profdata)" >&2
"$profdata" merge -o "$out/dalal.profdata" "$raw"

echo "== optimized build (target/pgo/use)" >&2
build "-Cprofile-use=$out/dalal.profdata" "$out/use"
echo "pgo.sh: $out/use/release/dalal" >&2
