/*
 * Standard base64 (RFC 4648 section 4: alphabet A-Z a-z 0-9 + /, '=' padding), as etcd's
 * HTTP/JSON gateway carries keys and values and Go's encoding/json carries []byte (TiDB's
 * DDL-job JSON), and as MySQL prints JSON opaque values. The bit work is OpenSSL's
 * EVP_EncodeBlock / EVP_DecodeBlock; this module gives them tr_buf_t output and a strict
 * decoder (EVP_DecodeBlock alone would trim surrounding whitespace and read an '=' inside the
 * text as zero bits).
 *
 * Pure codec: no I/O, no logging, no allocation beyond the output buffer.
 */
#ifndef TR_PROTOCOL_BASE64_H
#define TR_PROTOCOL_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/defs.h"

/* Appends the padded encoding of p[0..len) (4 characters per 3 bytes or part) to out; a
 * failure (out's limit) is out's sticky flag. Borrows p and out. Thread: any. */
void tr_base64_encode(const uint8_t *p, size_t len, tr_buf_t *out);

/* Decodes s[0..len) and appends the bytes to out. Padding is optional: trailing '='s are
 * dropped, then the characters must all be in the alphabet (no whitespace, no '=' inside)
 * and not leave a single character over a group of 4; bits beyond the last whole byte are
 * ignored. Returns 0 (out's limit: its sticky flag) or TR_EMALFORMED, with out then
 * unchanged. Borrows s and out. Thread: any. */
int tr_base64_decode(const char *s, size_t len, tr_buf_t *out) TR_MUSTCHECK;

#endif
