/*
 * Command-phase response encoders and small decoders (see result.h). Pure:
 * no I/O, no logging.
 */
#include "protocol/result.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "protocol/wire.h"

#define MAX_ERR_MSG 512

tr_res_col_t tr_res_col_str(const char *name)
{
    tr_res_col_t c = {name, TR_COLTYPE_VAR_STRING, TR_CHARSET_UTF8MB4, 1024, 0, 31};
    return c;
}

tr_res_col_t tr_res_col_num(const char *name)
{
    tr_res_col_t c = {name, TR_COLTYPE_LONGLONG, TR_CHARSET_BINARY, 20,
                      TR_COLFLAG_UNSIGNED | TR_COLFLAG_BINARY, 0};
    return c;
}

void tr_res_put_ok(tr_buf_t *b, uint64_t affected_rows, uint64_t insert_id, uint16_t status,
                   uint16_t warnings)
{
    tr_buf_put_u8(b, 0x00);
    tr_buf_put_lenenc(b, affected_rows);
    tr_buf_put_lenenc(b, insert_id);
    tr_buf_put_u16le(b, status);
    tr_buf_put_u16le(b, warnings);
}

void tr_res_put_err(tr_buf_t *b, uint16_t code, const char *sqlstate, const char *msg,
                    size_t msg_len)
{
    tr_buf_put_u8(b, 0xFF);
    tr_buf_put_u16le(b, code);
    tr_buf_put_u8(b, '#');
    char st[5] = {'H', 'Y', '0', '0', '0'};
    if (sqlstate != NULL && strlen(sqlstate) == 5) {
        memcpy(st, sqlstate, 5);
    }
    tr_buf_append(b, st, 5);
    tr_buf_append(b, msg, msg_len < MAX_ERR_MSG ? msg_len : MAX_ERR_MSG);
}

void tr_res_put_eof(tr_buf_t *b, uint16_t warnings, uint16_t status)
{
    tr_buf_put_u8(b, 0xFE);
    tr_buf_put_u16le(b, warnings);
    tr_buf_put_u16le(b, status);
}

const char *tr_res_sqlstate(uint16_t code)
{
    switch (code) {
    case TR_ER_ACCESS_DENIED:
        return "28000";
    case TR_ER_UNKNOWN_COM:
    case TR_ER_HANDSHAKE:
    case TR_ER_NET_PACKETS_OUT_OF_ORDER:
        return "08S01";
    case TR_ER_PARSE:
    case TR_ER_BAD_DB:
    case TR_ER_NOT_SUPPORTED_YET:
        return "42000";
    case TR_ER_NO_DB:
        return "3D000";
    case TR_ER_BAD_FIELD:
        return "42S22";
    case TR_ER_UNKNOWN_TABLE:
    case TR_ER_NO_SUCH_TABLE:
        return "42S02";
    default:
        return "HY000";
    }
}

void tr_res_put_coldef(tr_buf_t *b, const tr_res_col_t *c)
{
    size_t n = strlen(c->name);
    tr_buf_put_lenenc_str(b, "def", 3);
    tr_buf_put_lenenc_str(b, "", 0); /* schema */
    tr_buf_put_lenenc_str(b, "", 0); /* table */
    tr_buf_put_lenenc_str(b, "", 0); /* org_table */
    tr_buf_put_lenenc_str(b, c->name, n);
    tr_buf_put_lenenc_str(b, c->name, n);
    tr_buf_put_u8(b, 0x0C);
    tr_buf_put_u16le(b, c->charset);
    tr_buf_put_u32le(b, c->length);
    tr_buf_put_u8(b, c->type);
    tr_buf_put_u16le(b, c->flags);
    tr_buf_put_u8(b, c->decimals);
    tr_buf_put_zeros(b, 2);
}

void tr_res_begin(tr_res_writer_t *w, tr_buf_t *out, uint8_t *seq, bool deprecate_eof,
                  const tr_res_col_t *cols, size_t ncols)
{
    w->out = out;
    w->seq = seq;
    w->deprecate_eof = deprecate_eof;
    w->ncols = ncols;
    w->row_start = 0;
    size_t h = tr_wire_begin(out);
    tr_buf_put_lenenc(out, ncols);
    tr_wire_end(out, h, seq);
    for (size_t i = 0; i < ncols; i++) {
        h = tr_wire_begin(out);
        tr_res_put_coldef(out, &cols[i]);
        tr_wire_end(out, h, seq);
    }
    if (!deprecate_eof) {
        h = tr_wire_begin(out);
        tr_res_put_eof(out, 0, 0x0002);
        tr_wire_end(out, h, seq);
    }
}

void tr_res_row_begin(tr_res_writer_t *w)
{
    w->row_start = tr_wire_begin(w->out);
}

void tr_res_cell(tr_res_writer_t *w, const char *s, size_t n)
{
    if (s == NULL) {
        tr_buf_put_u8(w->out, 0xFB);
    } else {
        tr_buf_put_lenenc_str(w->out, s, n);
    }
}

void tr_res_cell_str(tr_res_writer_t *w, const char *s)
{
    tr_res_cell(w, s, s ? strlen(s) : 0);
}

void tr_res_cell_u64(tr_res_writer_t *w, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
    tr_res_cell(w, tmp, (size_t)n);
}

void tr_res_row_end(tr_res_writer_t *w)
{
    tr_wire_end(w->out, w->row_start, w->seq);
}

void tr_res_end(tr_res_writer_t *w, uint16_t status)
{
    size_t h = tr_wire_begin(w->out);
    if (w->deprecate_eof) {
        /* OK packet with the 0xFE header byte, kept shorter than 9 bytes. */
        tr_buf_put_u8(w->out, 0xFE);
        tr_buf_put_lenenc(w->out, 0);
        tr_buf_put_lenenc(w->out, 0);
        tr_buf_put_u16le(w->out, status);
        tr_buf_put_u16le(w->out, 0);
    } else {
        tr_res_put_eof(w->out, 0, status);
    }
    tr_wire_end(w->out, h, w->seq);
}

ssize_t tr_res_ok_decode(const uint8_t *p, size_t len, tr_res_ok_t *out, const char **why)
{
    tr_rd_t r = tr_rd(p, len);
    uint8_t h = tr_rd_u8(&r);
    if (r.err || (h != 0x00 && h != 0xFE)) {
        *why = "not an OK packet";
        return TR_EMALFORMED;
    }
    out->affected_rows = tr_rd_lenenc(&r, NULL);
    out->insert_id = tr_rd_lenenc(&r, NULL);
    out->status = tr_rd_u16le(&r);
    out->warnings = tr_rd_u16le(&r);
    if (r.err) {
        *why = "truncated OK packet";
        return TR_EMALFORMED;
    }
    return (ssize_t)len;
}

ssize_t tr_res_err_decode(const uint8_t *p, size_t len, tr_res_err_t *out, const char **why)
{
    tr_rd_t r = tr_rd(p, len);
    if (tr_rd_u8(&r) != 0xFF || r.err) {
        *why = "not an ERR packet";
        return TR_EMALFORMED;
    }
    out->code = tr_rd_u16le(&r);
    memset(out->sqlstate, 0, sizeof(out->sqlstate));
    if (tr_rd_left(&r) >= 6 && r.p[r.pos] == '#') {
        tr_rd_skip(&r, 1);
        memcpy(out->sqlstate, tr_rd_bytes(&r, 5), 5);
    }
    if (r.err) {
        *why = "truncated ERR packet";
        return TR_EMALFORMED;
    }
    size_t left = tr_rd_left(&r);
    out->msg = tr_slice(p + r.pos, left);
    return (ssize_t)len;
}

bool tr_res_is_eof(const uint8_t *p, size_t len)
{
    return len > 0 && len < 9 && p[0] == 0xFE;
}
