#!/usr/bin/env bash
# Enforces STYLE.md section 3: lower layers never include upper layers or I/O headers.
set -u
src="$1/src"; fail=0
check() { # dir, forbidden-regex, why
  local hits
  hits=$(grep -nE "$2" "$src/$1"/*.[ch] 2>/dev/null)
  if [ -n "$hits" ]; then echo "layering violation in src/$1 ($3):"; echo "$hits"; fail=1; fi
}
io='#include[[:space:]]*[<"](uv\.h|mysql\.h|openssl/ssl\.h|sys/socket\.h|grpc/|nghttp2/|sqlite3\.h)'
check common "$io|#include \"(protocol|store|relay)/" "common is layer 0"
check protocol "$io|#include \"(store|relay)/" "protocol is pure"
check store '#include[[:space:]]*[<"](uv\.h|mysql\.h|openssl/ssl\.h|sys/socket\.h|grpc/)|#include "relay/' "store is layer 2"
# Only schema_fetch.c may include mysql.h, only pump_client/discovery may include gRPC.
hits=$(grep -lE '#include[[:space:]]*[<"]mysql\.h' "$src"/relay/*.[ch] 2>/dev/null | grep -v schema_fetch)
[ -n "$hits" ] && { echo "mysql.h outside schema_fetch: $hits"; fail=1; }
hits=$(grep -lE '#include[[:space:]]*[<"]grpc/' "$src"/relay/*.[ch] 2>/dev/null | grep -vE 'pump_client|discovery')
[ -n "$hits" ] && { echo "gRPC outside pump_client/discovery: $hits"; fail=1; }
hits=$(grep -lE '#include[[:space:]]*[<"]nghttp2/' "$src"/relay/*.[ch] 2>/dev/null | grep -v pump_client)
[ -n "$hits" ] && { echo "nghttp2 outside pump_client: $hits"; fail=1; }
[ $fail -eq 0 ] && echo "layering ok"
exit $fail
