#!/usr/bin/env bash
# End-to-end harness: see benches/harness.py (python3 standard library only).
# Usage, from anywhere: benches/harness.sh [--events 2000000,20000000] [--symbols 100,5000]
#                                         [--rounds 3] [--no-build] [--write-doc]
#                                         [--peers varpulis,siddhi,flink|none]
#                                         [--peer-events N] [--peer-patterns seq2,seq2_5m]
#                                         [--peer-rounds R] [--peer-timeout S] [--peers-only]
#                                         [--pgo]   (also the profile-guided build of benches/pgo.sh)
# Scratch files go to $DALAL_BENCH_DIR (default /tmp/dalal-bench), never the repository.
set -euo pipefail
exec python3 "$(dirname "$0")/harness.py" "$@"
