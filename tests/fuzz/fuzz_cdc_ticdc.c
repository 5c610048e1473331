/*
 * Fuzz target: the TiCDC input's reading side as the consumer thread runs it. The input is
 * a stream of messages, one per line, each prefixed by one byte choosing its partition (of
 * 3); every message goes through tr_cdc_read (relay/cdc_record.c) and, when it is a record
 * or a watermark, into the collector (relay/cdc_collect.c), whose groups are walked image by
 * image as the writer walks them and then handed back as committed.
 *
 * Checks: a record's values never run past its data, an emitted group's records carry the
 * group's commit_ts and its partition, groups of one source come in increasing commit_ts,
 * positions never go backwards past a committed record, and every record allocated is
 * released (the record log's live count ends at zero).
 */
#include "fuzz.h"

#include <string.h>

#include "common/err.h"
#include "relay/cdc_collect.h"
#include "relay/cdc_log.h"
#include "relay/cdc_names.h"
#include "relay/cdc_record.h"

#define PARTS 3

typedef struct {
    tr_cdc_log_t *log;
    tr_cdc_names_t *names;
    tr_cdc_collect_t *c;
    int64_t last_ts[PARTS + 1];
} fx_t;

static void walk(const tr_cdc_names_t *names, const tr_cdc_rec_t *r)
{
    if (r->kind != TR_CDC_ROW) {
        return;
    }
    const tr_cdc_layout_t *l = tr_cdc_names_layout_get(names, r->layout);
    FUZZ_CHECK(l != NULL);
    tr_cdc_image_t img = tr_cdc_image(r);
    int images = r->op == 1 /* UPDATE */ ? 2 : 1;
    for (int h = 0; h < images; h++) {
        for (size_t j = 0; j < l->n; j++) {
            const uint8_t *t;
            size_t n;
            if (tr_cdc_value(&img, &t, &n)) {
                FUZZ_CHECK(t >= r->data && t + n <= r->data + r->len);
            }
        }
    }
    FUZZ_CHECK(img.p <= img.end);
}

static void on_emit(void *arg, uint32_t source, int64_t ts, tr_cdc_rec_t *first, size_t n)
{
    fx_t *f = arg;
    FUZZ_CHECK(source <= PARTS);
    /* DDLs of one commit_ts (CREATE TABLES) leave one by one: equal is fine there. */
    FUZZ_CHECK(source == PARTS ? ts >= f->last_ts[source] : ts > f->last_ts[source]);
    f->last_ts[source] = ts;
    size_t k = 0;
    tr_cdc_rec_t *r = first;
    while (r != NULL) {
        tr_cdc_rec_t *next = r->next;
        FUZZ_CHECK(r->commit_ts == ts);
        FUZZ_CHECK(source == PARTS ? r->kind == TR_CDC_DDL : (uint32_t)r->part == source);
        walk(f->names, r);
        tr_cdc_collect_done(f->c, r);
        tr_cdc_log_release(f->log, r);
        r = next;
        k++;
    }
    FUZZ_CHECK(k == n);
}

static void on_mark(void *arg, uint32_t source, int64_t ts)
{
    (void)arg;
    (void)source;
    (void)ts;
}

static void on_release(void *arg, tr_cdc_rec_t *r)
{
    fx_t *f = arg;
    tr_cdc_log_release(f->log, r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fx_t f;
    memset(&f, 0, sizeof(f));
    f.log = tr_cdc_log_new("/tmp", 8u << 20);
    f.names = tr_cdc_names_new();
    tr_cdc_reader_t *rd = tr_cdc_reader_new(f.names, f.log);
    tr_cdc_collect_cb_t cb = {on_emit, on_mark, on_release, &f};
    f.c = tr_cdc_collect_new(PARTS, 0, &cb);
    int64_t offsets[PARTS] = {0, 0, 0};
    size_t pos = 0;
    while (pos < size) {
        uint32_t p = data[pos++] % PARTS;
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl != NULL ? (size_t)(nl - (data + pos)) : size - pos;
        tr_cdc_rec_t *rec = NULL;
        int64_t wm = 0;
        const char *why = NULL;
        int rc = tr_cdc_read(rd, data + pos, len, (int32_t)p, offsets[p], &rec, &wm, &why);
        if (rc == TR_CDC_READ_RECORD) {
            FUZZ_CHECK(rec != NULL && rec->part == (int32_t)p && rec->offset == offsets[p]);
            (void)tr_cdc_collect_add(f.c, rec);
        } else if (rc == TR_CDC_READ_WATERMARK) {
            tr_cdc_collect_watermark(f.c, p, offsets[p], wm);
        } else {
            FUZZ_CHECK(rc < 0 && why != NULL);
            tr_cdc_collect_skip(f.c, p, offsets[p]);
        }
        int64_t off, w;
        tr_cdc_collect_position(f.c, p, &off, &w);
        FUZZ_CHECK(off <= offsets[p] + 1);
        offsets[p]++;
        pos += len + (nl != NULL ? 1 : 0);
    }
    tr_cdc_collect_free(f.c);
    tr_cdc_reader_free(rd);
    tr_cdc_log_stats_t st;
    tr_cdc_log_stats(f.log, &st);
    FUZZ_CHECK(st.live == 0);
    tr_cdc_log_free(f.log);
    tr_cdc_names_free(f.names);
    return 0;
}
