#!/usr/bin/env bash
# Peak RSS of tirelay for one large transaction (issues 4 and 8): transactions of
# 64 MiB, 1 GiB and 1.95 GiB of row data (override with sizes as arguments, in bytes).
# 1.95 GiB is the largest that fits: a gRPC message (and a Python protobuf message)
# cannot exceed 2^31-1 bytes, and 2,093,796,556 bytes of 1 KiB rows make a
# PrewriteValue of 2,123,410,378 bytes.
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
[ ${#sizes[@]} -gt 0 ] || sizes=($((64 << 20)) $((1 << 30)) 2093796556)
for n in "${sizes[@]}"; do
    echo "== transaction of $n bytes of row data"
    /usr/bin/python3 bench/large_txn.py --bytes "$n" --tirelay "$bin"
done
