#!/usr/bin/env bash
# Ingest benchmark (issue 8 point 1): every configuration — row shape (sysbench, wide) x
# Pumps (1, 8) x sync (commit, none) — 3 runs each, medians; the MariaDB replica apply
# comparison on the first configuration of each shape (1 Pump, sync commit).
# Streams are generated once into $TIRELAY_BENCH_DATA (default /tmp/tirelay-bench-data).
# Usage: bench/ingest.sh [extra bench/ingest.py options, e.g. --runs 5 --rows-per-txn 100]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/build.sh
/usr/bin/python3 -c 'import sys; sys.path.insert(0, "bench"); import benchlib; print(benchlib.machine())'
for shape in sysbench wide; do
    for pumps in 1 8; do
        for sync in commit none; do
            extra=()
            [ "$pumps" = 1 ] && [ "$sync" = commit ] && extra=(--replica)
            /usr/bin/python3 bench/ingest.py --shape "$shape" --pumps "$pumps" --sync "$sync" \
                "${extra[@]}" "$@"
        done
    done
done
/usr/bin/python3 -c 'import sys; sys.path.insert(0, "bench"); import benchlib; print(benchlib.machine())'
