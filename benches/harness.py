#!/usr/bin/env python3
"""End-to-end harness for dalal (python3 standard library only).

Run from the repository root:

    benches/harness.sh                      # 2M events, 100 and 5,000 symbols, 3 rounds
    benches/harness.sh --events 2000000,20000000 --rounds 3 --write-doc

For each stream (made once with `dalal gen`, kept in the scratch folder) it
times, in the same run and alternating round by round:

  wc        `wc -l` of the file (the raw cost of scanning it)
  decode    `dalal run` with a library that declares every type but routes
            almost nothing (decode only; one cheap pattern on a type that is
            0.5% of the rows, so the program is valid)
  dalal-t1  `dalal run patterns/` (the shipped library), 1 thread
  dalal-t2  the same with --threads 2

recording wall time, events/s, peak RSS (`/usr/bin/time -v`) and match count;
then the real-data query on ../shared/data/core/stock_data.csv. Peer engines
(Varpulis, Siddhi, Flink) are reported as skipped with the reason when they
are not installed in the scratch folder.

Everything it installs or generates goes to the scratch folder
(`$DALAL_BENCH_DIR`, default /tmp/dalal-bench), never into the repository.
The summary goes to standard output and to <scratch>/results.md; with
--write-doc it also replaces the block between the harness markers in
docs/PERFORMANCE.md.
"""

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STOCKS = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "core", "stock_data.csv"))
BEGIN = "<!-- harness:begin -->"
END = "<!-- harness:end -->"

DECODE_ONLY = """-- decode-only library for the benchmark harness: every generated type is
-- declared (so every row is decoded into an event) and one cheap pattern
-- routes only Purchase rows, which match nothing (amount is never negative).
{decls}
PATTERN nothing SEQ(Purchase p) WHERE p.amount < 0;
"""

STOCK_QUERY = """EVENT BUY (id INT, name STRING, volume INT, price FLOAT);
EVENT SELL (id INT, name STRING, volume INT, price FLOAT);
-- A sell of MSFT, then buys of ORCL and CSCO, within 10 seconds.
PATTERN q1 SEQ(SELL a, BUY b, BUY c)
  WHERE a.name = 'MSFT' AND b.name = 'ORCL' AND c.name = 'CSCO'
  WITHIN 10s SKIP TILL ANY MATCH;
"""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def timed(cmd, stdout_path=None):
    """Runs cmd under /usr/bin/time -v; returns (wall s, peak RSS KiB, rc)."""
    tfile = os.path.join(SCRATCH, "time.txt")
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    try:
        if TIME:
            t0 = time.monotonic()
            rc = subprocess.run([TIME, "-v", "-o", tfile] + cmd, stdout=out,
                                stderr=subprocess.DEVNULL).returncode
            wall = time.monotonic() - t0
            rss = 0
            with open(tfile) as f:
                for line in f:
                    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", line)
                    if m:
                        rss = int(m.group(1))
            return wall, rss, rc
        t0 = time.monotonic()
        rc = subprocess.run(cmd, stdout=out, stderr=subprocess.DEVNULL).returncode
        return time.monotonic() - t0, 0, rc
    finally:
        if stdout_path:
            out.close()


def count_lines(path):
    n = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            n += chunk.count(b"\n")
    return n


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0, 0, 0)
    return (f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}, "
            f"load average at start {load[0]:.2f}")


def decls():
    text = open(os.path.join(ROOT, "patterns", "events.pattern")).read()
    # Keep the EVENT declarations (they may span lines up to the ';').
    return "\n".join(m.group(0) for m in re.finditer(r"EVENT\b[^;]*;", text))


def peers():
    lines = []
    varpulis = os.path.join(SCRATCH, "peers", "varpulis", "target", "release", "varpulis-bench")
    if os.path.exists(varpulis):
        lines.append("Varpulis: binary found but no driver is wired into this harness yet: skipped")
    else:
        lines.append("Varpulis (varpulis-runtime 0.11): skipped: not installed in "
                     f"{SCRATCH}/peers/varpulis (no driver written yet)")
    java = shutil.which("java")
    lines.append("Siddhi 5.1.7 (pysiddhi jars, Java 17): skipped: "
                 + ("no driver written yet" if java else "no java on PATH"))
    lines.append("Flink MATCH_RECOGNIZE (apache-flink): skipped: not installed "
                 "(needs a JVM and ~1 GB of wheels; no driver written yet)")
    return lines


def fmt_rate(n, s):
    return f"{n / s / 1e6:.2f}M" if s > 0 else "-"


def main():
    global SCRATCH, TIME
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", default="2000000", help="comma-separated event counts")
    ap.add_argument("--symbols", default="100,5000", help="comma-separated symbol counts")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-build", action="store_true", help="use target/release/dalal as is")
    ap.add_argument("--write-doc", action="store_true", help="update docs/PERFORMANCE.md")
    args = ap.parse_args()
    SCRATCH = os.environ.get("DALAL_BENCH_DIR", "/tmp/dalal-bench")
    os.makedirs(SCRATCH, exist_ok=True)
    TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
    if not TIME:
        log("note: /usr/bin/time missing (apt-get install time): peak RSS not recorded")

    if not args.no_build:
        log("building dalal (release)...")
        sh(["cargo", "build", "--release", "-q", "-p", "dalal-cli"], cwd=ROOT)
    dalal = os.path.join(ROOT, "target", "release", "dalal")
    decode_lib = os.path.join(SCRATCH, "decode-only.pattern")
    with open(decode_lib, "w") as f:
        f.write(DECODE_ONLY.format(decls=decls()))
    library = os.path.join(ROOT, "patterns")
    out = os.path.join(SCRATCH, "matches.jsonl")

    report = [f"Machine: {machine()}.", "",
              f"Command: `benches/harness.sh --events {args.events} --symbols {args.symbols} "
              f"--rounds {args.rounds}`; medians of {args.rounds} alternating rounds; "
              "events/s = generated events / wall time.", ""]
    report.append("| stream | step | wall s (median) | events/s | peak RSS MiB | matches | vs decode |")
    report.append("|---|---|---|---|---|---|---|")
    for n in [int(x) for x in args.events.split(",")]:
        for k in [int(x) for x in args.symbols.split(",")]:
            path = os.path.join(SCRATCH, f"gen-{n}-{k}.csv")
            if not os.path.exists(path):
                log(f"dalal gen --events {n} --symbols {k} -> {path}")
                sh([dalal, "gen", "--events", str(n), "--symbols", str(k), "--seed", "1",
                    "--output", path])
            steps = {
                "wc -l": (["wc", "-l", path], None),
                "decode only": ([dalal, "run", decode_lib, "--input", path, "-q",
                                 "--output", out], out),
                "dalal run, 1 thread": ([dalal, "run", library, "--input", path, "-q",
                                         "--no-events", "--output", out], out),
                "dalal run, 2 threads": ([dalal, "run", library, "--input", path, "-q",
                                          "--no-events", "--threads", "2", "--output", out],
                                         out),
            }
            res = {s: [] for s in steps}
            for r in range(args.rounds):
                for s, (cmd, o) in steps.items():
                    wall, rss, rc = timed(cmd)
                    matches = count_lines(o) if o and rc == 0 else None
                    if rc != 0:
                        log(f"  {s}: exit {rc}")
                    res[s].append((wall, rss, matches))
                    log(f"  round {r + 1} {n}/{k} {s}: {wall:.2f}s rss {rss // 1024} MiB"
                        f" matches {matches}")
            dec = statistics.median(w for w, _, _ in res["decode only"])
            for s, rows in res.items():
                wall = statistics.median(w for w, _, _ in rows)
                rss = max(m for _, m, _ in rows) // 1024
                m = rows[-1][2]
                report.append(f"| {n / 1e6:g}M events, {k} symbols | {s} | {wall:.2f} | "
                              f"{fmt_rate(n, wall)} | {rss} | {'' if m is None else m} | "
                              f"{wall / dec:.2f}x |")

    report.append("")
    if os.path.exists(STOCKS):
        q = os.path.join(SCRATCH, "stocks.pattern")
        with open(q, "w") as f:
            f.write(STOCK_QUERY)
        cmd = [dalal, "run", q, "--input", STOCKS, "--type-column", "event_type",
               "--ts-column", "stock_time", "--ts-format", "epoch_ms", "-q", "--no-events",
               "--output", out]
        rows = []
        for _ in range(args.rounds):
            wall, rss, rc = timed(cmd)
            rows.append((wall, rss, count_lines(out) if rc == 0 else None))
        wall = statistics.median(w for w, _, _ in rows)
        events = count_lines(STOCKS) - 1
        report.append(f"Real data: {events} trades of `stock_data.csv`, query "
                      "`SEQ(SELL a, BUY b, BUY c)` with a = MSFT, b = ORCL, c = CSCO, "
                      "WITHIN 10s, SKIP TILL ANY MATCH, unpartitioned:")
        report.append(f"{wall:.2f} s median, {fmt_rate(events, wall)} events/s, peak RSS "
                      f"{max(r for _, r, _ in rows) // 1024} MiB, {rows[-1][2]} matches.")
        shown = [os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd]
        report.append(f"Command: `{' '.join(shown)}` (the query file is written to the "
                      "scratch folder; its text is `STOCK_QUERY` in benches/harness.py)")
    else:
        report.append(f"Real data: skipped ({STOCKS} not found).")
    report.append("")
    report.append("Peer engines:")
    report.append("")
    report.extend(f"- {p}" for p in peers())
    text = "\n".join(report) + "\n"
    print(text)
    with open(os.path.join(SCRATCH, "results.md"), "w") as f:
        f.write(text)
    if args.write_doc:
        doc = os.path.join(ROOT, "docs", "PERFORMANCE.md")
        cur = open(doc).read()
        if BEGIN in cur and END in cur:
            head, rest = cur.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            with open(doc, "w") as f:
                f.write(f"{head}{BEGIN}\n{text}{END}{tail}")
            log(f"updated {doc}")
        else:
            log(f"{doc} has no harness markers: not updated")


if __name__ == "__main__":
    main()
