/*
 * The request side of one gRPC call on a server, as bytes and strings (pure:
 * no I/O, no logging, no clock). Short form `grpc_req`. Follows grpc/grpc
 * doc/PROTOCOL-HTTP2.md: a request is HEADERS (:method POST, :path
 * /<service>/<method>, content-type application/grpc[+proto|;...], optional
 * grpc-encoding) then DATA frames holding Length-Prefixed-Messages (layout in
 * protocol/grpc_frame.h), ended by END_STREAM.
 *
 * The calls served here (unary, and server-streaming PullBinlogs) take exactly
 * ONE request message. The I/O layer hands every header field and every DATA
 * chunk to this reader as it arrives; the reader keeps only what it needs
 * (the path, a few flags, and the message, whose declared length is checked
 * against a limit before anything is allocated), and says what to answer
 * when the request cannot be served:
 *
 * | what is wrong                               | HTTP | grpc-status           |
 * |---------------------------------------------|------|-----------------------|
 * | :method is not POST                         | 405  | 12 UNIMPLEMENTED      |
 * | content-type is not application/grpc[+/;..] | 415  | 3 INVALID_ARGUMENT    |
 * | :path is not one of the served paths        | 200  | 12 UNIMPLEMENTED      |
 * | grpc-encoding other than identity           | 200  | 12 UNIMPLEMENTED      |
 * | flag byte not 0, or 1 (compression unused)  | 200  | 3 INVALID_ARGUMENT    |
 * | message longer than the limit               | 200  | 8 RESOURCE_EXHAUSTED  |
 * | no message, half a message, or two messages | 200  | 3 INVALID_ARGUMENT    |
 *
 * The reader allocates (through tr_buf_t) only the message itself, never more
 * than its limit; init/cleanup bracket its storage.
 */
#ifndef TR_PROTOCOL_GRPC_REQUEST_H
#define TR_PROTOCOL_GRPC_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/defs.h"
#include "protocol/grpc_frame.h"

#define TR_GRPC_REQ_PATH_MAX 128 /* longer paths are never served (kept cut, for logs) */

/* What to answer instead of serving the call. message is a static string
 * (plain text: percent-encode it for grpc-message). */
typedef struct {
    int http_status; /* 200, 405 or 415 */
    int grpc_status; /* TR_GRPC_* */
    const char *message;
} tr_grpc_verdict_t;

typedef struct {
    /* Headers. */
    char path[TR_GRPC_REQ_PATH_MAX]; /* NUL-terminated, cut to fit */
    size_t path_len;                 /* full length as received */
    bool has_method;
    bool is_post;
    bool is_grpc_type;  /* content-type application/grpc, +subtype or ;params */
    bool is_compressed; /* grpc-encoding present and not "identity" */

    /* The one message. */
    uint32_t max_len;                  /* limit on the declared length */
    uint8_t prefix[TR_GRPC_PREFIX_LEN];
    uint8_t prefix_fill;               /* prefix bytes received of the current message */
    bool in_msg;                       /* the prefix is complete, message bytes follow */
    bool have_msg;                     /* one whole message was received */
    uint32_t msg_len;                  /* declared length of the message */
    tr_buf_t msg;                      /* exactly msg_len bytes once have_msg */
    bool failed;                       /* sticky: the verdict below holds */
    tr_grpc_verdict_t verdict;
} tr_grpc_req_t;

/* Prepares caller storage for one request whose message may be up to
 * max_msg_len bytes. */
void tr_grpc_req_init(tr_grpc_req_t *r, uint32_t max_msg_len);
/* Frees the message. The struct can be initialised again. */
void tr_grpc_req_cleanup(tr_grpc_req_t *r);

/* Records one request header field (name lower-case, as HTTP/2 sends it; the
 * others are ignored). Views are borrowed during the call. */
void tr_grpc_req_header(tr_grpc_req_t *r, const uint8_t *name, size_t name_len,
                        const uint8_t *value, size_t value_len);

/*
 * After the request HEADERS: returns the index in paths[0..n_paths) of the
 * :path asked for, or -1 with *v set when the call is refused (table above).
 */
int tr_grpc_req_route(const tr_grpc_req_t *r, const char *const *paths, size_t n_paths,
                      tr_grpc_verdict_t *v) TR_MUSTCHECK;

/*
 * Feeds request DATA bytes. Returns 0, or -1 with *v set once the request is
 * refused (compressed, bad flag byte, over the limit, a second message); the
 * refusal is sticky and later bytes are ignored. Borrows p during the call.
 */
int tr_grpc_req_data(tr_grpc_req_t *r, const uint8_t *p, size_t len, tr_grpc_verdict_t *v)
    TR_MUSTCHECK;

/*
 * At END_STREAM: returns 0 and a view of the message (valid until cleanup),
 * or -1 with *v (no message, half a message, or an earlier refusal).
 */
int tr_grpc_req_end(tr_grpc_req_t *r, tr_slice_t *msg, tr_grpc_verdict_t *v) TR_MUSTCHECK;

/*
 * Checks that p[0..len) is well-formed protobuf wire format (every tag has a
 * field number > 0 and wire type 0, 1, 2 or 5, varints end within 10 bytes,
 * lengths stay inside the buffer). Field numbers are not checked: proto3
 * readers skip unknown fields. Returns 0 or TR_EMALFORMED with *why.
 */
int tr_grpc_req_check_protobuf(const uint8_t *p, size_t len, const char **why) TR_MUSTCHECK;

#endif
