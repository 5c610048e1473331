/*
 * Command-phase decoders (see command.h). Pure: no I/O, no logging; views
 * into the payload.
 */
#include "protocol/command.h"

#include <string.h>

#include "common/err.h"

/* Cuts a file name at its first NUL (zongji and python-mysql-replication
 * send NUL-terminated or NUL-padded names). */
static tr_slice_t cut_at_nul(const uint8_t *p, size_t n)
{
    const uint8_t *nul = n > 0 ? memchr(p, 0, n) : NULL;
    return tr_slice(p, nul ? (size_t)(nul - p) : n);
}

static tr_slice_t rd_len8_str(tr_rd_t *r)
{
    uint8_t n = tr_rd_u8(r);
    const uint8_t *s = tr_rd_bytes(r, n);
    return tr_slice(s, s ? n : 0);
}

ssize_t tr_cmd_decode(const uint8_t *p, size_t len, tr_cmd_t *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    if (len == 0) {
        *why = "empty command packet";
        return TR_EMALFORMED;
    }
    out->com = p[0];
    tr_rd_t r = tr_rd(p + 1, len - 1);
    switch (p[0]) {
    case TR_COM_QUERY:
    case TR_COM_INIT_DB:
        out->u.text = tr_slice(p + 1, len - 1);
        return (ssize_t)len;
    case TR_COM_PROCESS_KILL:
        out->u.kill_id = tr_rd_u32le(&r);
        break;
    case TR_COM_REGISTER_SLAVE: {
        tr_cmd_register_t *g = &out->u.reg;
        g->server_id = tr_rd_u32le(&r);
        g->host = rd_len8_str(&r);
        g->user = rd_len8_str(&r);
        g->password = rd_len8_str(&r);
        g->port = tr_rd_u16le(&r);
        /* rank and master_id are optional in practice (some clients stop early). */
        if (tr_rd_left(&r) >= 8) {
            g->rank = tr_rd_u32le(&r);
            g->master_id = tr_rd_u32le(&r);
        }
        break;
    }
    case TR_COM_BINLOG_DUMP: {
        tr_cmd_dump_t *d = &out->u.dump;
        d->pos = tr_rd_u32le(&r);
        d->flags = tr_rd_u16le(&r);
        d->server_id = tr_rd_u32le(&r);
        if (!r.err) {
            size_t left = tr_rd_left(&r);
            d->file = cut_at_nul(tr_rd_bytes(&r, left), left);
        }
        break;
    }
    case TR_COM_BINLOG_DUMP_GTID: {
        tr_cmd_dump_t *d = &out->u.dump;
        d->flags = tr_rd_u16le(&r);
        d->server_id = tr_rd_u32le(&r);
        uint32_t name_len = tr_rd_u32le(&r);
        if (!r.err && name_len > tr_rd_left(&r)) {
            r.err = true;
        }
        const uint8_t *name = r.err ? NULL : tr_rd_bytes(&r, name_len);
        d->file = name ? cut_at_nul(name, name_len) : tr_slice(NULL, 0);
        d->pos = tr_rd_u64le(&r);
        /* MySQL reads the data length and set unconditionally; older clients
         * that stop after the position get an empty set. */
        if (!r.err && tr_rd_left(&r) >= 4) {
            uint32_t data_len = tr_rd_u32le(&r);
            if (data_len > tr_rd_left(&r)) {
                r.err = true;
            } else {
                const uint8_t *data = tr_rd_bytes(&r, data_len);
                d->gtid_data = tr_slice(data, data_len);
            }
        }
        break;
    }
    default:
        return (ssize_t)len;
    }
    if (r.err) {
        *why = "truncated command body";
        return TR_EMALFORMED;
    }
    return (ssize_t)len;
}

void tr_cmd_encode_register(tr_buf_t *b, const tr_cmd_register_t *r)
{
    tr_buf_put_u8(b, TR_COM_REGISTER_SLAVE);
    tr_buf_put_u32le(b, r->server_id);
    tr_buf_put_u8(b, (uint8_t)r->host.len);
    tr_buf_append(b, r->host.p, r->host.len);
    tr_buf_put_u8(b, (uint8_t)r->user.len);
    tr_buf_append(b, r->user.p, r->user.len);
    tr_buf_put_u8(b, (uint8_t)r->password.len);
    tr_buf_append(b, r->password.p, r->password.len);
    tr_buf_put_u16le(b, r->port);
    tr_buf_put_u32le(b, r->rank);
    tr_buf_put_u32le(b, r->master_id);
}

void tr_cmd_encode_dump(tr_buf_t *b, const tr_cmd_dump_t *d)
{
    tr_buf_put_u8(b, TR_COM_BINLOG_DUMP);
    tr_buf_put_u32le(b, (uint32_t)d->pos);
    tr_buf_put_u16le(b, d->flags);
    tr_buf_put_u32le(b, d->server_id);
    tr_buf_append(b, d->file.p, d->file.len);
}

void tr_cmd_encode_dump_gtid(tr_buf_t *b, const tr_cmd_dump_t *d)
{
    tr_buf_put_u8(b, TR_COM_BINLOG_DUMP_GTID);
    tr_buf_put_u16le(b, d->flags);
    tr_buf_put_u32le(b, d->server_id);
    tr_buf_put_u32le(b, (uint32_t)d->file.len);
    tr_buf_append(b, d->file.p, d->file.len);
    tr_buf_put_u64le(b, d->pos);
    tr_buf_put_u32le(b, (uint32_t)d->gtid_data.len);
    tr_buf_append(b, d->gtid_data.p, d->gtid_data.len);
}
