#!/usr/bin/env bash
# Wall and CPU time of two `dalal` builds on the same runs, in paired
# rounds, for a change that instruction counts cannot judge (memory
# traffic between threads, cache misses; docs/PERFORMANCE.md, "How to
# measure").
#
# Usage: benches/ab.sh OLD_BINARY NEW_BINARY [ROUNDS] [RUN...]
#   RUN: decode lib100 lib5000 t2_100 t2_5000 (default: all); ROUNDS
#   (default 21) rounds each run both builds once, the order swapped every
#   round, and the report gives each build's minimum and median and the
#   median and quartiles of NEW / OLD within a round.
#
# A round's ratio cancels what the host does over minutes (other tenants
# moved single runs here by 2x); the quartiles say whether the ratio holds.
# Streams of 2,000,000 generated rows go to $DALAL_BENCH_DIR (default
# /tmp/dalal-bench), made by NEW_BINARY's `gen` when missing.
set -euo pipefail
if [ $# -lt 2 ]; then
    sed -n '7,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
[ -x /usr/bin/time ] || { echo "ab.sh: /usr/bin/time is not installed (Debian: time)" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
data=${DALAL_BENCH_DIR:-/tmp/dalal-bench}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$data"
old=$1
new=$2
rounds=${3:-21}
shift 2
[ $# -gt 0 ] && shift
runs=("$@")
[ ${#runs[@]} -eq 0 ] && runs=(decode lib100 lib5000 t2_100 t2_5000)

for k in 100 5000; do
    f="$data/gen-2000000-$k.csv"
    if [ ! -s "$f" ]; then
        "$new" gen --events 2000000 --symbols "$k" --seed 1 --output "$f.part"
        mv "$f.part" "$f"
    fi
done
{
    cat "$repo/patterns/events.pattern"
    echo "PATTERN nothing SEQ(Purchase p) WHERE p.amount < 0;"
} > "$work/decode.pattern"

args() {
    local q=(-q --no-events --output /dev/null)
    case $1 in
        decode) echo "run $work/decode.pattern --input $data/gen-2000000-100.csv ${q[*]}" ;;
        lib100) echo "run $repo/patterns --input $data/gen-2000000-100.csv ${q[*]}" ;;
        lib5000) echo "run $repo/patterns --input $data/gen-2000000-5000.csv ${q[*]}" ;;
        t2_100) echo "run $repo/patterns --input $data/gen-2000000-100.csv --threads 2 ${q[*]}" ;;
        t2_5000) echo "run $repo/patterns --input $data/gen-2000000-5000.csv --threads 2 ${q[*]}" ;;
        *) echo "ab.sh: unknown run $1" >&2; exit 2 ;;
    esac
}

# "wall user sys" of one run.
one() {
    local out
    out=$({ /usr/bin/time -f "%e %U %S" "$@" >/dev/null; } 2>&1) || { echo "ab.sh: failed: $*" >&2; exit 1; }
    tail -n 1 <<<"$out"
}

for r in "${runs[@]}"; do
    read -r -a argv <<<"$(args "$r")"
    rows=""
    for i in $(seq "$rounds"); do
        if [ $((i % 2)) -eq 0 ]; then
            a=$(one "$old" "${argv[@]}")
            b=$(one "$new" "${argv[@]}")
        else
            b=$(one "$new" "${argv[@]}")
            a=$(one "$old" "${argv[@]}")
        fi
        rows="$rows;$a,$b"
    done
    python3 - "$r" "$rows" <<'EOF'
import statistics as st, sys
name = sys.argv[1]
pairs = []
for row in filter(None, sys.argv[2].split(";")):
    a, b = ([float(x) for x in side.split()] for side in row.split(","))
    pairs.append((a[0], b[0], a[1] + a[2], b[1] + b[2]))
wa, wb, ca, cb = (list(c) for c in zip(*pairs))
def ratio(xs, ys):
    r = [y / x for x, y in zip(xs, ys) if x > 0]
    if len(r) < 2:
        return f"{st.median(r):.3f}"
    q = st.quantiles(r)
    return f"{st.median(r):.3f} (quartiles {q[0]:.3f}-{q[2]:.3f})"
print(f"{name}: wall min {min(wa):.2f} -> {min(wb):.2f} s, median {st.median(wa):.2f} -> "
      f"{st.median(wb):.2f} s, new/old {ratio(wa, wb)}; CPU median {st.median(ca):.2f} -> "
      f"{st.median(cb):.2f} s, new/old {ratio(ca, cb)}")
EOF
done
