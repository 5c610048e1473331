#!/usr/bin/env bash
# Runs every tirelay test on a fresh Debian 12 machine:
#   1. installs the Debian packages the build and the tests need;
#   2. builds with AddressSanitizer + UBSan (build-asan/) and runs the unit tests (ctest);
#   3. builds the libFuzzer targets (clang, build-fuzz/) and runs each briefly over its corpus;
#   4. runs the integration tests (pytest): real mariadbd replicas, real mariadb-binlog,
#      the TiDB simulator, tirelay itself (the sanitizer build);
#   5. runs a short integration path under valgrind memcheck (scripts/valgrind.sh --short).
# Usage: scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/install-deps.sh

build="$root/build-asan"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Asan >/dev/null
cmake --build "$build" -j"$(nproc)"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "== unit tests"
(cd "$build" && ctest --output-on-failure -j"$(nproc)")

echo "== fuzz targets (clang): committed corpus replay + a few seconds each"
TR_FUZZ_CI_SECONDS=${TR_FUZZ_CI_SECONDS:-4} bash scripts/fuzz --replay

echo "== integration tests"
# Debian's interpreter: python3-grpcio, -protobuf, -pymysql and -pytest are installed for it.
export TIRELAY_BIN="$build/tirelay"
/usr/bin/python3 -m pytest -p no:cacheprovider -v tests/integration "$@"

echo "== valgrind memcheck (short integration path)"
bash scripts/valgrind.sh --short
