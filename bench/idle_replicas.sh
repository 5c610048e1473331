#!/usr/bin/env bash
# Idle replicas memory (issue 8 point 4): tirelay's VmRSS with 0, 100, 500, 1000 idle dumps.
# Usage: bench/idle_replicas.sh [--counts 100,500,1000] [--rows 20000]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/build.sh
exec /usr/bin/python3 bench/idle_replicas.py "$@"
