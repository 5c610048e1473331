#!/usr/bin/env bash
# Builds tirelay's Debian package: a release build (RelWithDebInfo) in
# build-pkg/, installed under /usr by CPack's DEB generator. Prints the path
# of the .deb. Install it with:  apt install ./build-pkg/tirelay_<version>_<arch>.deb
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

cmake -S . -B build-pkg -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTR_BUILD_TESTS=OFF \
      -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
cmake --build build-pkg -j"$(nproc)" --target tirelay
(cd build-pkg && cpack -G DEB >/dev/null)
ls -1 "$PWD"/build-pkg/tirelay_*.deb | tail -n 1
