#!/usr/bin/env bash
# Soak run of the seeded randomized differential workload (issue 5): millions of
# operations with a fresh seed each run (printed first), progress lines, a final
# PASS/FAIL verdict. Builds build/ (Release) unless TIRELAY_BIN points at a binary.
# Usage: bench/soak.sh [--seed N] [--ops 2000000] [--check-every 250000] [--keep DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${TIRELAY_BIN:-}
if [ -z "$bin" ]; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build -j"$(nproc)" --target tirelay >/dev/null
    bin=build/tirelay
fi
exec /usr/bin/python3 bench/soak.py --tirelay "$bin" "$@"
