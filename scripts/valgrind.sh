#!/usr/bin/env bash
# Runs tirelay's integration path under valgrind's memcheck (issue 7 point 4).
#   scripts/valgrind.sh            the default set (about 15-25 minutes on 2 cores)
#   scripts/valgrind.sh --short    the part scripts/test.sh runs (a few minutes)
#   scripts/valgrind.sh [pytest args...]   any selection, e.g. tests/integration/test_admin.py
# Builds a Debug tirelay without sanitizers (build-valgrind/) and runs the chosen pytest
# modules with TIRELAY_WRAPPER, which the fixtures (tests/sim/cluster.py) put in front of
# tirelay and tests/tools/tr_serve_fixture:
#   valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite ...
# Any memcheck error or definite leak makes that process exit with 99, which the fixtures
# report as a failure (as they do with sanitizer reports). Waits are stretched by
# TIRELAY_TIMEOUT_SCALE (default 8): memcheck runs tirelay 20-50 times slower.
# Suppressions for third-party code only: tests/valgrind.supp (each with its reason).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

command -v valgrind >/dev/null || bash scripts/install-deps.sh

build="$root/build-valgrind"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug >/dev/null
nice cmake --build "$build" -j2 --target tirelay tr_serve_fixture >/dev/null

# Default set: the replication path (1 Pump, fewer rows), GTID dumps, the server front and
# authentication with TLS, admin statements, security checks.
default=(
    "tests/integration/test_replication.py::test_replica_follows_tirelay[1pump]"
    tests/integration/test_gtid.py
    tests/integration/test_server.py
    tests/integration/test_auth.py
    tests/integration/test_admin.py
    tests/integration/test_security.py
)
short=(
    "tests/integration/test_replication.py::test_replica_follows_tirelay[1pump]"
    "tests/integration/test_auth.py::test_replica_over_tls"
    tests/integration/test_admin.py
)
args=("$@")
if [ ${#args[@]} -eq 0 ]; then
    args=("${default[@]}")
elif [ "${args[0]}" = "--short" ]; then
    args=("${short[@]}" "${args[@]:1}")
fi

export TIRELAY_BIN="$build/tirelay"
export TIRELAY_BUILD="$build"
export TIRELAY_WRAPPER="valgrind --quiet --error-exitcode=99 --leak-check=full \
--errors-for-leak-kinds=definite --show-leak-kinds=definite --track-origins=yes \
--num-callers=30 --suppressions=$root/tests/valgrind.supp"
export TIRELAY_TIMEOUT_SCALE=${TIRELAY_TIMEOUT_SCALE:-8}
# The replication workload: 1,000 rows instead of 10,000 (same tables and shapes).
export TIRELAY_TEST_ROWS=${TIRELAY_TEST_ROWS:-1000}
unset ASAN_OPTIONS UBSAN_OPTIONS
echo "== valgrind memcheck: ${args[*]}"
nice /usr/bin/python3 -m pytest -p no:cacheprovider -q -W ignore::DeprecationWarning "${args[@]}"
