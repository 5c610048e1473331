#!/usr/bin/env bash
# Installs every Debian 12 package that tirelay's build, demo and tests need.
# Safe to run repeatedly; skips apt entirely when everything is already present.
set -euo pipefail

PKGS=(
  # build (ccache: scripts/test.sh shares compilations between its build configurations)
  build-essential cmake pkg-config clang ccache
  # libFuzzer and sanitizer runtimes for clang (scripts/fuzz): only Recommended by clang-14
  libclang-rt-14-dev
  # libraries
  libuv1-dev libssl-dev libsqlite3-dev libdeflate-dev zlib1g-dev
  libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
  libmariadb-dev libnghttp2-dev libjansson-dev libinih-dev libcurl4-openssl-dev
  libmicrohttpd-dev
  # the TiCDC Kafka source (its unit tests run librdkafka's in-process mock cluster,
  # tests/tools/tr_kafka_mock.c serves it to other processes) and kcat for debugging
  librdkafka-dev kcat
  # memcheck over the integration path (scripts/valgrind.sh)
  valgrind
  # test peers and the TiDB simulator
  mariadb-server mariadb-client etcd-server
  python3 python3-pytest python3-pytest-xdist python3-grpcio python3-protobuf python3-pymysql
  python3-h2
  python3-prometheus-client
  # the simulator's TiCDC mode produces and its tests consume through confluent-kafka
  python3-confluent-kafka
)
# Node.js + npm for tests/integration/node (the zongji CDC client test). Only when the
# commands are missing: a machine may carry its own Node.js build that bundles npm, and
# Debian's npm package conflicts with such builds.
if ! command -v node >/dev/null 2>&1; then PKGS+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then PKGS+=(npm); fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian mariadb-server package starts a system instance; tests run their own.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl stop mariadb 2>/dev/null || true; fi
