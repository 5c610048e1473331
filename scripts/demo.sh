#!/usr/bin/env bash
# tirelay demo: builds tirelay, then starts (all on 127.0.0.1, all state under
# ./.demo/) a truth MariaDB playing TiDB's SQL endpoint, the TiDB simulator
# with a continuous workload and tirelay pulling from it; prints how to watch
# the binlog stream (the exact mariadb-binlog command), attach a replica and
# reach /metrics, then a progress line every 3 s (transactions written and
# their rate, current file and position, Pump lag, health); stops on Ctrl-C.
# Options are passed to tests/sim/demo.py: --rate N, --pumps N, --seed N,
# --source pumps|kafka|storage (kafka: TiDB v8.4+ style, TiCDC canal-json in a
# topic on a Kafka mock cluster; storage: TiCDC's storage sink, canal-json files
# in .demo/sink), --with-replica (start and attach a MariaDB replica too),
# --no-build here.
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
args=()
for a in "$@"; do
  if [ "$a" = "--no-build" ]; then build=0; else args+=("$a"); fi
done

bash scripts/install-deps.sh

if [ "$build" = 1 ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j"$(nproc)" --target tirelay tr_kafka_mock
fi

exec /usr/bin/python3 tests/sim/demo.py --dir "$PWD/.demo" --tirelay "$PWD/build/tirelay" "${args[@]}"
