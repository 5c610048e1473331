#!/usr/bin/env bash
# Peak RSS of tirelay for one large transaction (issue 4 point 6): a 64 MiB
# transaction, then one of 1 GiB (override with sizes as arguments, in bytes).
# Builds build/ (Release) unless TIRELAY_BIN points at a binary.
# Usage: bench/large_txn.sh [bytes...]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${TIRELAY_BIN:-}
if [ -z "$bin" ]; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build -j"$(nproc)" --target tirelay >/dev/null
    bin=build/tirelay
fi
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=($((64 << 20)) $((1 << 30)))
for n in "${sizes[@]}"; do
    echo "== transaction of $n bytes of row data"
    /usr/bin/python3 bench/large_txn.py --bytes "$n" --tirelay "$bin"
done
