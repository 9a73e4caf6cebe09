#!/usr/bin/env python3
"""Two builds of `engine-once` (the engine alone) on the same workloads.

Usage:
  benches/engine-ab.py instr OLD NEW [--events N] WORKLOAD...
  benches/engine-ab.py time  OLD NEW [--events N] [--rounds R] WORKLOAD...

OLD and NEW are `engine-once` binaries (`cargo build --release -p
dalal-benches --features jemalloc --bin engine-once`, copied aside before and
after a change). WORKLOAD is a name of `engine-once list` (or `xN`).

`instr` counts instructions under callgrind: the whole process less the
inclusive count of `dalal_benches::events` (the events' generation), which
is how docs/PERFORMANCE.md compares builds since LTO and profile-guided
builds inline the engine's entry points differently. Default 50,000 events.
Both binaries run from paths of one length under one minimal environment,
as benches/callgrind.sh does, since those move a count by up to 1%.

`time` runs paired rounds (default 11): each round runs both builds once,
in swapped order every round, and the report gives each build's median and
best events/s and the median and quartiles of NEW / OLD within a round,
which cancels the host's slow swings. Default 300,000 events.

Standard library only; instruction counts need valgrind.
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile


def usage(code=2):
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    sys.exit(code)


def parse(argv):
    if len(argv) < 4 or argv[0] not in ("instr", "time"):
        usage()
    mode, old, new, rest = argv[0], argv[1], argv[2], argv[3:]
    events = 50_000 if mode == "instr" else 300_000
    rounds = 11
    workloads = []
    i = 0
    while i < len(rest):
        a = rest[i]
        if a in ("--events", "--rounds") and i + 1 < len(rest):
            try:
                value = int(rest[i + 1])
            except ValueError:
                print(f"engine-ab.py: {a} needs a number, not {rest[i + 1]!r}", file=sys.stderr)
                sys.exit(2)
            if value <= 0:
                print(f"engine-ab.py: {a} must be positive", file=sys.stderr)
                sys.exit(2)
            if a == "--events":
                events = value
            else:
                rounds = value
            i += 2
        elif a.startswith("--"):
            print(f"engine-ab.py: unknown option {a}", file=sys.stderr)
            sys.exit(2)
        else:
            workloads.append(a)
            i += 1
    if not workloads:
        usage()
    for b in (old, new):
        if not (os.path.isfile(b) and os.access(b, os.X_OK)):
            print(f"engine-ab.py: {b} is not an executable file", file=sys.stderr)
            sys.exit(2)
    return mode, old, new, events, rounds, workloads


def run_once(binary, workload, events):
    """Events/s as `engine-once` reports it."""
    p = subprocess.run([binary, workload, str(events)], capture_output=True, text=True)
    m = re.search(r"(\d+) ev/s", p.stdout)
    if p.returncode != 0 or not m:
        print(f"engine-ab.py: {binary} {workload} failed:\n{p.stdout}{p.stderr}", file=sys.stderr)
        sys.exit(1)
    return float(m.group(1))


def instructions(binary, workload, events, work):
    """Instructions of the whole process less the events' generation."""
    out = os.path.join(work, "callgrind.out")
    p = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary, workload, str(events)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    if p.returncode != 0:
        print(f"engine-ab.py: callgrind on {binary} {workload} failed:\n{p.stderr}", file=sys.stderr)
        sys.exit(1)
    ann = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", out], capture_output=True, text=True
    ).stdout
    total = generation = None
    for line in ann.splitlines():
        cells = line.split()
        if not cells or not re.fullmatch(r"[0-9,]+", cells[0]):
            continue
        n = int(cells[0].replace(",", ""))
        if "PROGRAM TOTALS" in line:
            total = n
        elif "dalal_benches::events" in line and "=>" not in line:
            # The largest of the lines naming the generator is its own
            # inclusive count (others are inlined parts of it).
            generation = max(generation or 0, n)
    os.remove(out)
    if total is None or generation is None:
        print(f"engine-ab.py: no totals in callgrind's output for {workload}", file=sys.stderr)
        sys.exit(1)
    return total - generation


def main():
    mode, old, new, events, rounds, workloads = parse(sys.argv[1:])
    work = tempfile.mkdtemp()
    try:
        # One path length for both builds (argv[0] moves the stack).
        a, b = os.path.join(work, "a"), os.path.join(work, "b")
        os.makedirs(a)
        os.makedirs(b)
        old_bin, new_bin = os.path.join(a, "engine-once"), os.path.join(b, "engine-once")
        shutil.copy2(old, old_bin)
        shutil.copy2(new, new_bin)
        for w in workloads:
            if mode == "instr":
                x, y = instructions(old_bin, w, events, work), instructions(new_bin, w, events, work)
                print(f"{w}: {x / 1e6:,.2f} M -> {y / 1e6:,.2f} M ({(y - x) / x * 100:+.2f}%)")
                continue
            xs, ys = [], []
            for r in range(rounds):
                order = [(old_bin, xs), (new_bin, ys)]
                if r % 2:
                    order.reverse()
                for binary, acc in order:
                    acc.append(run_once(binary, w, events))
            ratios = [y / x for x, y in zip(xs, ys)]
            q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
            print(
                f"{w}: OLD median {statistics.median(xs) / 1e6:.2f} M best {max(xs) / 1e6:.2f} M"
                f" | NEW median {statistics.median(ys) / 1e6:.2f} M best {max(ys) / 1e6:.2f} M"
                f" | NEW/OLD {statistics.median(ratios):.3f} (quartiles {q[0]:.3f}-{q[2]:.3f},"
                f" {rounds} rounds, {events:,} events)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
