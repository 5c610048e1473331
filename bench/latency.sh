#!/usr/bin/env bash
# Latency benchmark (issue 8 point 3): commit release -> event at a dump client at 10,000
# transactions/s with 3 idle Pumps; p50/p99/max beyond the watermark wait, medians of 3 runs.
# Usage: bench/latency.sh [bench/latency.py options: --rate --seconds --idle --fake-ms --sync]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/build.sh
exec /usr/bin/python3 bench/latency.py "$@"
