#!/usr/bin/env bash
# Enforces STYLE.md section 3 and the layout: lower layers never include upper layers or I/O
# headers; the upstream (src/relay/) and the serving side (src/server/) never include each
# other and meet at the store; only src/main.c and src/metrics.c see both.
set -u
src="$1/src"; fail=0
check() { # dir, forbidden-regex, why
  local hits
  hits=$(grep -nE "$2" "$src/$1"/*.[ch] 2>/dev/null)
  if [ -n "$hits" ]; then echo "layering violation in src/$1 ($3):"; echo "$hits"; fail=1; fi
}
io='#include[[:space:]]*[<"](uv\.h|mysql\.h|openssl/ssl\.h|sys/socket\.h|grpc/|nghttp2/|sqlite3\.h|microhttpd\.h|curl/)'
check common "$io|#include \"(protocol|store|relay|server)/" "common is layer 0"
check protocol "$io|#include \"(store|relay|server)/" "protocol is pure"
# protocol/ does no I/O: no file, socket or process calls in code (comments aside); codecs
# take bytes and return bytes.
hits=$(grep -nE '(^|[^_.>[:alnum:]])(open|openat|fopen|pread|pwrite|read|write|socket|connect|recv|send|mmap|unlink|rename|fsync|fdatasync|system|popen)[[:space:]]*\(' \
       "$src"/protocol/*.c 2>/dev/null | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|//|/\*)')
[ -n "$hits" ] && { echo "layering violation in src/protocol (protocol does no I/O):"; echo "$hits"; fail=1; }
check store '#include[[:space:]]*[<"](uv\.h|mysql\.h|openssl/ssl\.h|sys/socket\.h|grpc/|nghttp2/)|#include "(relay|server)/' "store is layer 2"
check relay '#include "server/|#include "metrics\.h"' "the upstream does not see the serving side"
check server '#include "relay/|#include "metrics\.h"|#include[[:space:]]*[<"](mysql\.h|grpc/|nghttp2/|curl/)' "the serving side does not see the upstream"
# Binlog files are read through the store (store/reader.h): no file I/O calls in the
# serving side (tls.c reads the PEM files it is configured with) nor in the upstream
# (spool.c keeps large messages in its own unlinked spool files; storage_source.c reads
# TiCDC's storage-sink directory, the input, never a binlog file).
hits=$(grep -nE '(^|[^_.>[:alnum:]])(open|openat|fopen|pread|pwrite|mmap|sendfile)[[:space:]]*\(' \
       "$src"/server/*.c "$src"/relay/*.c 2>/dev/null | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|//|/\*)' \
       | grep -vE '^[^:]*/(server/tls|relay/spool|relay/storage_source)\.c:')
[ -n "$hits" ] && { echo "file I/O outside src/store/ (read binlogs with store/reader.h):"; echo "$hits"; fail=1; }
# Only schema_fetch.c may include mysql.h; gRPC core is not used at all (our own HTTP/2 on
# libnghttp2), and only pump_client (client) and h2_server (server) include nghttp2.
hits=$(grep -lE '#include[[:space:]]*[<"]mysql\.h' "$src"/relay/*.[ch] 2>/dev/null | grep -v schema_fetch)
[ -n "$hits" ] && { echo "mysql.h outside schema_fetch: $hits"; fail=1; }
hits=$(grep -rlE '#include[[:space:]]*[<"]grpc/' "$src" 2>/dev/null)
[ -n "$hits" ] && { echo "gRPC core headers included (it is not linked): $hits"; fail=1; }
hits=$(grep -lE '#include[[:space:]]*[<"]nghttp2/' "$src"/relay/*.[ch] 2>/dev/null | grep -vE 'pump_client|h2_server')
[ -n "$hits" ] && { echo "nghttp2 outside pump_client/h2_server: $hits"; fail=1; }
# Only relay/kafka_source.c includes librdkafka (rdkafka.h, rdkafka_mock.h is for tests).
hits=$(grep -rlE '#include[[:space:]]*[<"](librdkafka/)?rdkafka' "$src" 2>/dev/null | grep -v 'relay/kafka_source\.c$')
[ -n "$hits" ] && { echo "librdkafka outside relay/kafka_source.c: $hits"; fail=1; }
[ $fail -eq 0 ] && echo "layering ok"
exit $fail
