/*
 * Reads TiCDC's canal-json messages (protocol/canal_json.h) into the collector's records
 * (cdc_collect.h), on the consumer thread: names and column layouts interned
 * (cdc_names.h), values unescaped into the record (cdc_log.h), nothing converted yet:
 * that needs the table version, which only the writer knows.
 *
 * A row record's data holds its image(s) (UPDATE: before, then after), each one value per
 * layout column: a 4-byte little-endian length (TR_CDC_NULL_LEN for NULL), then the
 * value's text as TiCDC wrote it, unescaped (binary strings still one character per
 * byte). A DDL record's data is its statement.
 */
#ifndef TR_RELAY_CDC_RECORD_H
#define TR_RELAY_CDC_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/defs.h"
#include "relay/cdc_collect.h"
#include "relay/cdc_log.h"
#include "relay/cdc_names.h"

#define TR_CDC_NULL_LEN 0xFFFFFFFFu

typedef struct tr_cdc_reader tr_cdc_reader_t;

/* A reader interning into names and allocating from log (both borrowed). */
tr_cdc_reader_t *tr_cdc_reader_new(tr_cdc_names_t *names, tr_cdc_log_t *log);
void tr_cdc_reader_free(tr_cdc_reader_t *rd);

enum { TR_CDC_READ_RECORD = 1, TR_CDC_READ_WATERMARK = 2 };

/*
 * Reads one message of partition part at offset: TR_CDC_READ_RECORD with *rec (a row or
 * DDL, owned by the caller until handed to the collector), TR_CDC_READ_WATERMARK with
 * *watermark, or a negative code with *why: TR_EMALFORMED (not canal-json), TR_EUNSUPPORTED
 * (a changefeed setting tirelay cannot work with: no TiDB extension, handle-key-only
 * deletes or large-message handles, only updated columns in "old"), or the log's error
 * (a full spill disk).
 */
int tr_cdc_read(tr_cdc_reader_t *rd, const uint8_t *msg, size_t len, int32_t part, int64_t offset,
                tr_cdc_rec_t **rec, int64_t *watermark, const char **why) TR_MUSTCHECK;

/* Walks one image of a row record: call tr_cdc_value n times (n = the layout's columns). */
typedef struct {
    const uint8_t *p;
    const uint8_t *end;
} tr_cdc_image_t;

/* The record's first image, and (UPDATE) its second one after the first was walked. */
static inline tr_cdc_image_t tr_cdc_image(const tr_cdc_rec_t *rec)
{
    return (tr_cdc_image_t){rec->data, rec->data + rec->len};
}

/* The next value: false for NULL, else true with its text and length; a truncated image
 * reads as NULL. (Inline: the writer calls it for every value of every row.) */
static inline bool tr_cdc_value(tr_cdc_image_t *img, const uint8_t **text, size_t *len)
{
    if (img->end - img->p < 4) {
        return false;
    }
    uint32_t n = (uint32_t)img->p[0] | (uint32_t)img->p[1] << 8 | (uint32_t)img->p[2] << 16 |
                 (uint32_t)img->p[3] << 24;
    img->p += 4;
    if (n == TR_CDC_NULL_LEN || (size_t)(img->end - img->p) < n) {
        return false;
    }
    *text = img->p;
    *len = n;
    img->p += n;
    return true;
}

#endif
