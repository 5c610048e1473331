#!/usr/bin/env bash
# Serve benchmark (issue 8 point 2): a >= 1 GiB binlog read by 1, 10, 100, 500 dump clients
# from tirelay and from mariadbd (its own binlog, made by replicating tirelay's stream with
# log_slave_updates); medians of 3 runs and the tirelay/mariadbd ratio.
# Usage: bench/serve.sh [bench/serve.py options: --rows N --clients 1,10 --runs 3 --seconds 20]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/build.sh
exec /usr/bin/python3 bench/serve.py "$@"
