#!/usr/bin/env bash
# Runs every tirelay test on a fresh Debian 12 machine:
#   1. installs the Debian packages the build and the tests need;
#   2. builds with AddressSanitizer + UBSan (build-asan/) and runs the unit tests (ctest);
#   3. builds the other configurations the README and the scripts use, every target with
#      its unit tests: Debug (build-debug/), RelWithDebInfo (build-relwithdebinfo/, the
#      README's `cmake -S . -B build`), Release (build-release/), and the Debian package
#      (scripts/package.sh, build-pkg/). Every build has warnings as errors (TR_WERROR=ON);
#      compilations are shared through ccache;
#   4. builds the libFuzzer targets (clang, build-fuzz/) and runs each briefly over its corpus;
#   5. runs the integration tests (pytest, in parallel with pytest-xdist): real mariadbd
#      replicas, real mariadb-binlog, the TiDB simulator, tirelay itself (the Asan build);
#   6. runs a short integration path under valgrind memcheck (scripts/valgrind.sh --short).
# Usage: scripts/test.sh [pytest args...]
# TR_TEST_WORKERS=N: pytest workers (default 3 per CPU, at most 16; 0 runs them in one
# process, e.g. for --pdb). Timings: docs/decisions.md "CI time".
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/install-deps.sh

# One compiler cache for every configuration and for the builds scripts/package.sh,
# scripts/valgrind.sh and scripts/fuzz make (CMake reads CMAKE_C_COMPILER_LAUNCHER from the
# environment when it configures a build directory). Paths are taken relative to the
# repository and the build directory is left out of the hash, so build-debug/ and
# build-valgrind/, or build-relwithdebinfo/ and build-pkg/, share their objects.
if command -v ccache >/dev/null; then
    export CMAKE_C_COMPILER_LAUNCHER=ccache
    export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
fi

# build <dir> <cmake args...>: configure and build every target; the log goes to
# <dir>/build.log, its end is printed if the build fails.
build() {
    local dir="$root/$1"
    shift
    echo "== build ${dir#"$root"/} ($*)"
    mkdir -p "$dir"
    if ! { cmake -S . -B "$dir" -DTR_WERROR=ON "$@" && cmake --build "$dir" -j"$(nproc)"; } \
            >"$dir/build.log" 2>&1; then
        grep -E "error|warning" "$dir/build.log" | head -40 >&2 || true
        tail -20 "$dir/build.log" >&2
        echo "test.sh: build of ${dir#"$root"/} failed (full log: $dir/build.log)" >&2
        exit 1
    fi
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

build build-asan -DCMAKE_BUILD_TYPE=Asan
echo "== unit tests"
(cd build-asan && ctest --output-on-failure -j"$(nproc)")

build build-debug -DCMAKE_BUILD_TYPE=Debug
build build-relwithdebinfo -DCMAKE_BUILD_TYPE=RelWithDebInfo
build build-release -DCMAKE_BUILD_TYPE=Release
echo "== build build-pkg (scripts/package.sh)"
TIRELAY_DEB=$(bash scripts/package.sh | tail -n 1)
export TIRELAY_DEB    # test_package.py checks this .deb instead of building its own

echo "== fuzz targets (clang): committed corpus replay + a few seconds each"
TR_FUZZ_CI_SECONDS=${TR_FUZZ_CI_SECONDS:-4} bash scripts/fuzz --replay
# The rest of the clang build (tirelay, the bench tools), warnings as errors too.
cmake --build build-fuzz -j"$(nproc)" >build-fuzz/build-rest.log 2>&1 || {
    tail -40 build-fuzz/build-rest.log >&2
    echo "test.sh: clang build of build-fuzz failed" >&2
    exit 1
}
if command -v ccache >/dev/null; then ccache --show-stats | grep -E "Hits|Misses" || true; fi

echo "== integration tests"
# Debian's interpreter: python3-grpcio, -protobuf, -pymysql, -pytest and -pytest-xdist are
# installed for it. Tests that share a module fixture run on one worker (conftest.py).
workers=${TR_TEST_WORKERS:-$(( $(nproc) * 3 < 16 ? $(nproc) * 3 : 16 ))}
export TIRELAY_BIN="$root/build-asan/tirelay"
/usr/bin/python3 -m pytest -p no:cacheprovider -v -n "$workers" --dist loadgroup \
    --durations=15 tests/integration "$@"

echo "== valgrind memcheck (short integration path)"
# Its three selections side by side: memcheck runs each tirelay on one CPU at a time.
bash scripts/valgrind.sh --short -n 3 --dist loadgroup
