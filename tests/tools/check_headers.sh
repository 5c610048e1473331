#!/usr/bin/env bash
# Compiles every header under src/ on its own: headers must be self-contained.
set -u
src="$1/src"; gen="$2"
cc=${CC:-cc}
flags="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -fsyntax-only -Wall -Werror -I$src -I$gen -I$gen/proto $(pkg-config --cflags libuv libprotobuf-c libmariadb grpc jansson 2>/dev/null)"
fail=0; n=0
for h in $(cd "$src" && find . -name '*.h' | sort); do
  n=$((n+1))
  if ! echo "#include \"${h#./}\"" | $cc $flags -x c - 2>/tmp/hdr.$$; then
    echo "not self-contained: src/${h#./}"; cat /tmp/hdr.$$; fail=1
  fi
done
rm -f /tmp/hdr.$$
echo "checked $n headers"
exit $fail
