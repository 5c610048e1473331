/*
 * gRPC message prefix and status trailers (see grpc_frame.h; grpc/grpc
 * doc/PROTOCOL-HTTP2.md, "Length-Prefixed-Message" and "Status").
 */
#include "protocol/grpc_frame.h"

#include "common/endian.h"
#include "common/err.h"
#include "common/hex.h"

void tr_grpc_prefix_encode(uint8_t out[TR_GRPC_PREFIX_LEN], uint32_t len)
{
    out[0] = 0;
    tr_store_u32be(out + 1, len);
}

ssize_t tr_grpc_prefix_decode(const uint8_t *p, size_t len, tr_grpc_prefix_t *out,
                              const char **why)
{
    if (len < TR_GRPC_PREFIX_LEN) {
        return TR_EINCOMPLETE;
    }
    if (p[0] > 1) {
        *why = "gRPC message prefix: compressed-flag byte is neither 0 nor 1";
        return TR_EMALFORMED;
    }
    out->compressed = p[0] == 1;
    out->len = tr_load_u32be(p + 1);
    return TR_GRPC_PREFIX_LEN;
}

int tr_grpc_status_parse(const uint8_t *p, size_t len, int *code)
{
    if (len == 0 || len > 9) {
        return TR_EMALFORMED;
    }
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return TR_EMALFORMED;
        }
        v = v * 10 + (p[i] - '0');
    }
    *code = v;
    return 0;
}

const char *tr_grpc_status_name(int code)
{
    /* grpc/grpc doc/statuscodes.md */
    static const char *const names[] = {
        "OK",        "CANCELLED",         "UNKNOWN",        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
        "UNIMPLEMENTED", "INTERNAL",      "UNAVAILABLE",    "DATA_LOSS",
        "UNAUTHENTICATED",
    };
    if (code < 0 || (size_t)code >= sizeof(names) / sizeof(names[0])) {
        return "?";
    }
    return names[code];
}

size_t tr_grpc_message_decode(const uint8_t *p, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        uint8_t c = p[i];
        if (c == '%' && i + 2 < len && tr_hex_digit(p[i + 1]) >= 0 && tr_hex_digit(p[i + 2]) >= 0) {
            c = (uint8_t)(tr_hex_digit(p[i + 1]) * 16 + tr_hex_digit(p[i + 2]));
            i += 2;
        }
        out[n++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
    }
    out[n] = '\0';
    return n;
}

size_t tr_grpc_message_encode(const char *text, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const uint8_t *p = (const uint8_t *)text; *p != 0; p++) {
        bool plain = *p >= 0x20 && *p <= 0x7e && *p != '%';
        size_t need = plain ? 1 : 3;
        if (n + need + 1 > cap) {
            break;
        }
        if (plain) {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    out[n] = '\0';
    return n;
}
