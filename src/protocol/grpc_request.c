/*
 * The request side of one gRPC call on a server (see grpc_request.h; grpc/grpc
 * doc/PROTOCOL-HTTP2.md "Requests", "Length-Prefixed-Message"; protobuf
 * encoding: protobuf.dev/programming-guides/encoding).
 */
#include "protocol/grpc_request.h"

#include <string.h>

#include "common/err.h"

static bool name_is(const uint8_t *name, size_t len, const char *want)
{
    size_t n = strlen(want);
    return len == n && memcmp(name, want, n) == 0;
}

void tr_grpc_req_init(tr_grpc_req_t *r, uint32_t max_msg_len)
{
    memset(r, 0, sizeof(*r));
    r->max_len = max_msg_len;
    tr_buf_init(&r->msg, (size_t)max_msg_len);
}

void tr_grpc_req_cleanup(tr_grpc_req_t *r)
{
    tr_buf_cleanup(&r->msg);
}

void tr_grpc_req_header(tr_grpc_req_t *r, const uint8_t *name, size_t name_len,
                        const uint8_t *value, size_t value_len)
{
    if (name_is(name, name_len, ":path")) {
        size_t n = value_len < sizeof(r->path) - 1 ? value_len : sizeof(r->path) - 1;
        memcpy(r->path, value, n);
        r->path[n] = '\0';
        r->path_len = value_len;
    } else if (name_is(name, name_len, ":method")) {
        r->has_method = true;
        r->is_post = value_len == 4 && memcmp(value, "POST", 4) == 0;
    } else if (name_is(name, name_len, "content-type")) {
        /* "application/grpc", "application/grpc+proto", "application/grpc;charset=..." */
        r->is_grpc_type = value_len >= 16 && memcmp(value, "application/grpc", 16) == 0 &&
                          (value_len == 16 || value[16] == '+' || value[16] == ';');
    } else if (name_is(name, name_len, "grpc-encoding")) {
        r->is_compressed = !(value_len == 8 && memcmp(value, "identity", 8) == 0);
    }
}

static int refuse(tr_grpc_req_t *r, int http_status, int grpc_status, const char *message,
                  tr_grpc_verdict_t *v)
{
    if (!r->failed) {
        r->failed = true;
        r->verdict.http_status = http_status;
        r->verdict.grpc_status = grpc_status;
        r->verdict.message = message;
    }
    *v = r->verdict;
    return -1;
}

int tr_grpc_req_route(const tr_grpc_req_t *r, const char *const *paths, size_t n_paths,
                      tr_grpc_verdict_t *v)
{
    if (!r->is_post) {
        v->http_status = 405;
        v->grpc_status = TR_GRPC_UNIMPLEMENTED;
        v->message = "gRPC requests use the POST method";
        return -1;
    }
    if (!r->is_grpc_type) {
        v->http_status = 415;
        v->grpc_status = TR_GRPC_INVALID_ARGUMENT;
        v->message = "content-type is not application/grpc";
        return -1;
    }
    for (size_t i = 0; i < n_paths; i++) {
        if (r->path_len == strlen(paths[i]) && r->path_len < sizeof(r->path) &&
            memcmp(r->path, paths[i], r->path_len) == 0) {
            if (r->is_compressed) {
                v->http_status = 200;
                v->grpc_status = TR_GRPC_UNIMPLEMENTED;
                v->message = "message compression is not supported (grpc-encoding)";
                return -1;
            }
            return (int)i;
        }
    }
    v->http_status = 200;
    v->grpc_status = TR_GRPC_UNIMPLEMENTED;
    v->message = "unknown method";
    return -1;
}

int tr_grpc_req_data(tr_grpc_req_t *r, const uint8_t *p, size_t len, tr_grpc_verdict_t *v)
{
    if (r->failed) {
        *v = r->verdict;
        return -1;
    }
    while (len > 0) {
        if (r->have_msg) {
            return refuse(r, 200, TR_GRPC_INVALID_ARGUMENT,
                          "more than one request message in a call that takes one", v);
        }
        if (!r->in_msg) {
            size_t take = TR_GRPC_PREFIX_LEN - r->prefix_fill;
            take = take < len ? take : len;
            memcpy(r->prefix + r->prefix_fill, p, take);
            r->prefix_fill = (uint8_t)(r->prefix_fill + take);
            p += take;
            len -= take;
            if (r->prefix_fill < TR_GRPC_PREFIX_LEN) {
                break;
            }
            tr_grpc_prefix_t pf;
            const char *why = NULL;
            if (tr_grpc_prefix_decode(r->prefix, TR_GRPC_PREFIX_LEN, &pf, &why) < 0 ||
                pf.compressed) {
                return refuse(r, 200, TR_GRPC_INVALID_ARGUMENT,
                              "request message prefix: flag byte is not 0 (identity)", v);
            }
            if (pf.len > r->max_len) {
                return refuse(r, 200, TR_GRPC_RESOURCE_EXHAUSTED,
                              "request message larger than this server accepts", v);
            }
            r->msg_len = pf.len;
            r->in_msg = true;
            tr_buf_reset(&r->msg);
            if (pf.len > 0 && tr_buf_reserve(&r->msg, pf.len) == NULL) {
                return refuse(r, 200, TR_GRPC_RESOURCE_EXHAUSTED,
                              "request message larger than this server accepts", v);
            }
        }
        size_t want = r->msg_len - r->msg.len;
        size_t take = want < len ? want : len;
        tr_buf_append(&r->msg, p, take);
        p += take;
        len -= take;
        if (r->msg.len == r->msg_len) {
            r->in_msg = false;
            r->have_msg = true;
        }
    }
    return 0;
}

int tr_grpc_req_end(tr_grpc_req_t *r, tr_slice_t *msg, tr_grpc_verdict_t *v)
{
    if (r->failed) {
        *v = r->verdict;
        return -1;
    }
    if (r->in_msg || (r->prefix_fill > 0 && !r->have_msg)) {
        return refuse(r, 200, TR_GRPC_INVALID_ARGUMENT, "request ends inside a message", v);
    }
    if (!r->have_msg) {
        return refuse(r, 200, TR_GRPC_INVALID_ARGUMENT, "request has no message", v);
    }
    *msg = tr_slice(r->msg.data, r->msg.len);
    return 0;
}

/* ---------------------------------------------------------------- protobuf */

static int read_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t x = 0;
    for (int i = 0; i < 10; i++) {
        if (*pos >= len) {
            return TR_EMALFORMED;
        }
        uint8_t b = p[(*pos)++];
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) {
            *v = x;
            return 0;
        }
    }
    return TR_EMALFORMED;
}

int tr_grpc_req_check_protobuf(const uint8_t *p, size_t len, const char **why)
{
    size_t pos = 0;
    while (pos < len) {
        uint64_t tag = 0;
        if (read_varint(p, len, &pos, &tag) != 0) {
            *why = "protobuf: truncated or overlong tag";
            return TR_EMALFORMED;
        }
        if ((tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) {
            *why = "protobuf: field number 0 or out of range";
            return TR_EMALFORMED;
        }
        uint64_t n = 0;
        switch (tag & 7) {
        case 0:
            if (read_varint(p, len, &pos, &n) != 0) {
                *why = "protobuf: truncated or overlong varint";
                return TR_EMALFORMED;
            }
            break;
        case 1:
        case 5:
            n = (tag & 7) == 1 ? 8 : 4;
            if (len - pos < n) {
                *why = "protobuf: truncated fixed-width field";
                return TR_EMALFORMED;
            }
            pos += (size_t)n;
            break;
        case 2:
            if (read_varint(p, len, &pos, &n) != 0 || n > len - pos) {
                *why = "protobuf: length-delimited field runs past the message";
                return TR_EMALFORMED;
            }
            pos += (size_t)n;
            break;
        default:
            *why = "protobuf: wire type 3, 4 (groups), 6 or 7";
            return TR_EMALFORMED;
        }
    }
    return 0;
}
