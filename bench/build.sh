# Sourced by the bench/*.sh scripts: builds tirelay and the bench tools (RelWithDebInfo:
# -O2 -g, as perf wants) in build-bench/ unless TIRELAY_BENCH_BUILD names a build directory
# that already has tirelay, tr_feeder and tr_dumpreader.
if [ -z "${TIRELAY_BENCH_BUILD:-}" ]; then
    export TIRELAY_BENCH_BUILD=$PWD/build-bench
    cmake -S . -B "$TIRELAY_BENCH_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTR_BUILD_TESTS=OFF >/dev/null
    nice cmake --build "$TIRELAY_BENCH_BUILD" -j"$(nproc)" --target tirelay tr_feeder tr_dumpreader tr_kafka_mock >/dev/null
fi
export TIRELAY_BIN=$TIRELAY_BENCH_BUILD/tirelay
