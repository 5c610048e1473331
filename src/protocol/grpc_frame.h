/*
 * gRPC over HTTP/2, the parts that are bytes and strings (pure codec: no I/O,
 * no logging). Follows grpc/grpc doc/PROTOCOL-HTTP2.md:
 *
 * Length-Prefixed-Message, at the start of every message in the DATA frames
 * of a stream (a message may span many frames, a frame many messages):
 *
 * | offset | size | field           | notes                                    |
 * |--------|------|-----------------|------------------------------------------|
 * | 0      | 1    | Compressed-Flag | 0 = identity, 1 = grpc-encoding applies  |
 * | 1      | 4    | Message-Length  | unsigned, big-endian                     |
 * | 5      | len  | Message         |                                          |
 *
 * Trailers (or a Trailers-Only response) carry grpc-status (decimal code,
 * 0 = OK) and optionally grpc-message (percent-encoded UTF-8).
 */
#ifndef TR_PROTOCOL_GRPC_FRAME_H
#define TR_PROTOCOL_GRPC_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TR_GRPC_PREFIX_LEN 5

/* Status codes (grpc/grpc doc/statuscodes.md) this project sends or tests for. */
enum {
    TR_GRPC_OK = 0,
    TR_GRPC_CANCELLED = 1,
    TR_GRPC_UNKNOWN = 2,
    TR_GRPC_INVALID_ARGUMENT = 3,
    TR_GRPC_DEADLINE_EXCEEDED = 4,
    TR_GRPC_RESOURCE_EXHAUSTED = 8,
    TR_GRPC_FAILED_PRECONDITION = 9,
    TR_GRPC_UNIMPLEMENTED = 12,
    TR_GRPC_INTERNAL = 13,
    TR_GRPC_UNAVAILABLE = 14,
};

typedef struct {
    bool compressed;
    uint32_t len; /* message bytes after the prefix */
} tr_grpc_prefix_t;

/* Writes the 5-byte prefix of an uncompressed message of len bytes. */
void tr_grpc_prefix_encode(uint8_t out[TR_GRPC_PREFIX_LEN], uint32_t len);

/*
 * Decodes a message prefix. Returns TR_GRPC_PREFIX_LEN, TR_EINCOMPLETE (fewer
 * than 5 bytes), or TR_EMALFORMED when the flag byte is neither 0 nor 1
 * (*why set). A set compressed flag decodes fine: the caller decides.
 */
ssize_t tr_grpc_prefix_decode(const uint8_t *p, size_t len, tr_grpc_prefix_t *out,
                              const char **why);

/*
 * Parses a grpc-status value (1 to 9 decimal digits). Returns 0 and *code,
 * or TR_EMALFORMED.
 */
int tr_grpc_status_parse(const uint8_t *p, size_t len, int *code);

/* The canonical name of a status code ("OK", "UNAVAILABLE", ...), "?" if unknown. */
const char *tr_grpc_status_name(int code);

/*
 * Percent-decodes a grpc-message value into out (NUL-terminated, truncated to
 * cap - 1 bytes, cap > 0) for a log line: bytes outside printable ASCII, and
 * '"' and '\\', become '?'. A '%' not followed by two hex digits is kept as is.
 * Returns the length written.
 */
size_t tr_grpc_message_decode(const uint8_t *p, size_t len, char *out, size_t cap);

/*
 * Percent-encodes text as a grpc-message value into out (NUL-terminated, cap >
 * 0): bytes outside 0x20-0x7E, and '%', become "%XX" (upper-case hex). Output
 * that would not fit is cut before a whole character or escape. Returns the
 * length written.
 */
size_t tr_grpc_message_encode(const char *text, char *out, size_t cap);

#endif
