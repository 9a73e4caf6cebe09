#!/usr/bin/env bash
# Instruction counts of two `dalal` builds on the same runs (valgrind
# callgrind), for judging an engine or reader change on a busy machine
# (docs/PERFORMANCE.md, "How to measure").
#
# Usage: benches/callgrind.sh OLD_BINARY NEW_BINARY [ROUNDS] [RUN...]
#   RUN: decode lib100 lib5000 lib100t2 seq2 seq2_5m100 seq2_5m (default: all
#   but lib100t2); ROUNDS (default 1) alternates old and new and prints the
#   median of each.
#
# Both builds run under one fixed, minimal environment (`env -i`) and from
# paths of one length: the size of the environment and of argv[0] moves the
# stack, and with it a whole run's count by up to ~1% (seen: 900.0 M against
# 898.4 M for one binary). Under these conditions a count repeats to within
# 0.01%. Streams of 200,000 generated rows go to $DALAL_BENCH_DIR (default
# /tmp/dalal-bench), made by NEW_BINARY's `gen` when missing.
set -euo pipefail
if [ $# -lt 2 ]; then
    sed -n '6,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
data=${DALAL_BENCH_DIR:-/tmp/dalal-bench}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$data" "$work/a" "$work/b"
cp "$1" "$work/a/dalal"
cp "$2" "$work/b/dalal"
rounds=${3:-1}
shift 2
[ $# -gt 0 ] && shift
runs=("$@")
[ ${#runs[@]} -eq 0 ] && runs=(decode lib100 lib5000 seq2 seq2_5m100 seq2_5m)

for k in 100 5000; do
    f="$data/gen-200000-$k.csv"
    [ -s "$f" ] || "$work/b/dalal" gen --events 200000 --symbols "$k" --seed 1 --output "$f"
done
{
    cat "$repo/patterns/events.pattern"
    echo "PATTERN nothing SEQ(Purchase p) WHERE p.amount < 0;"
} > "$work/decode.pattern"

args() {
    local q=(-q --output /dev/null)
    case $1 in
        decode) echo "run $work/decode.pattern --input $data/gen-200000-100.csv ${q[*]}" ;;
        lib100) echo "run $repo/patterns --input $data/gen-200000-100.csv --no-events ${q[*]}" ;;
        lib100t2) echo "run $repo/patterns --input $data/gen-200000-100.csv --no-events --threads 2 ${q[*]}" ;;
        lib5000) echo "run $repo/patterns --input $data/gen-200000-5000.csv --no-events ${q[*]}" ;;
        seq2) echo "run $repo/benches/peers/seq2.pattern --input $data/gen-200000-100.csv ${q[*]}" ;;
        seq2_5m100) echo "run $repo/benches/peers/seq2_5m.pattern --input $data/gen-200000-100.csv ${q[*]}" ;;
        seq2_5m) echo "run $repo/benches/peers/seq2_5m.pattern --input $data/gen-200000-5000.csv ${q[*]}" ;;
        *) echo "callgrind.sh: unknown run $1" >&2; exit 2 ;;
    esac
}

# Instructions of one run, all threads.
count() {
    local side=$1
    shift
    env -i PATH=/usr/bin:/bin valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$work/$side/dalal" "$@" 2>&1 | grep -o 'refs: *[0-9,]*' | tr -dc '0-9'
}

for r in "${runs[@]}"; do
    a=""
    b=""
    read -r -a argv <<<"$(args "$r")"
    for _ in $(seq "$rounds"); do
        a="$a $(count a "${argv[@]}")"
        b="$b $(count b "${argv[@]}")"
    done
    python3 - "$r" "$a" "$b" <<'EOF'
import statistics, sys
name, a, b = sys.argv[1], [int(x) for x in sys.argv[2].split()], [int(x) for x in sys.argv[3].split()]
ma, mb = statistics.median(a), statistics.median(b)
print(f"{name}: {ma / 1e6:,.1f} M -> {mb / 1e6:,.1f} M ({(mb - ma) / ma * 100:+.2f}%)")
EOF
done
