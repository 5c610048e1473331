/*
 * The TiCDC storage-sink scanner (storage_source.h). The parsers at the top are
 * pure; the scanner below them lists the directory with opendir/readdir and
 * reads data files with pread, a file open only within one round
 * (tr_storage_source_rest closes them all). A stream keeps only the files from
 * its cursor on, so a directory with years of files costs a listing per round
 * and no memory.
 */
#define _GNU_SOURCE
#include "relay/storage_source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/err.h"
#include "common/hex.h"
#include "common/mem.h"

#define READ_CHUNK     (1u << 20)  /* bytes read from a data file at a time */
#define SMALL_FILE_MAX (16u << 20) /* metadata, index and schema files are smaller */
#define WALK_DEPTH_MAX 6           /* <schema>/<table>/<ver>/<phys>/<date> is 5 */
#define PROBE_MAX      1000        /* files an index names beyond a listing, probed by name */

/* ================================================================ names (pure) */

static bool all_digits(const char *p, size_t n)
{
    if (n == 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return false;
        }
    }
    return true;
}

/* Digits to u64, false on overflow. */
static bool parse_u64(const char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (!all_digits(p, n)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool dispatcher_char(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           ch == '-';
}

bool tr_storage_parse_data_name(const char *name, tr_storage_data_name_t *out)
{
    memset(out, 0, sizeof(*out));
    size_t n = strlen(name);
    if (n < 4 || memcmp(name, "CDC", 3) != 0) {
        return false;
    }
    const char *dot = strrchr(name, '.');
    if (dot == NULL) {
        return false;
    }
    if (strcmp(dot, ".json") == 0) {
        out->ext = TR_STORAGE_EXT_JSON;
    } else if (strcmp(dot, ".csv") == 0) {
        out->ext = TR_STORAGE_EXT_CSV;
    } else {
        return false; /* "CDC...json.tmp.<uuid>" and the like */
    }
    const char *p = name + 3;
    if (*p == '_') {
        /* CDC_<dispatcher>_<digits>: the dispatcher ends at the last '_'. */
        const char *us = NULL;
        for (const char *q = p + 1; q < dot; q++) {
            if (*q == '_') {
                us = q;
            }
        }
        if (us == NULL || us == p + 1 || (size_t)(us - (p + 1)) > TR_STORAGE_DISPATCHER_MAX) {
            return false;
        }
        for (const char *q = p + 1; q < us; q++) {
            if (!dispatcher_char(*q)) {
                return false;
            }
        }
        memcpy(out->dispatcher, p + 1, (size_t)(us - (p + 1)));
        out->dispatcher[us - (p + 1)] = '\0';
        p = us + 1;
    }
    size_t digits = (size_t)(dot - p);
    if (digits == 0 || digits > 20 || !parse_u64(p, digits, &out->number)) {
        return false;
    }
    out->width = (unsigned)digits;
    return true;
}

bool tr_storage_data_name(const tr_storage_data_name_t *like, uint64_t n, char *buf, size_t cap)
{
    const char *ext = like->ext == TR_STORAGE_EXT_CSV ? ".csv" : ".json";
    int w;
    if (like->dispatcher[0] != '\0') {
        w = snprintf(buf, cap, "CDC_%s_%0*" PRIu64 "%s", like->dispatcher, (int)like->width, n,
                     ext);
    } else {
        w = snprintf(buf, cap, "CDC%0*" PRIu64 "%s", (int)like->width, n, ext);
    }
    return w > 0 && (size_t)w < cap;
}

bool tr_storage_parse_index_name(const char *name, char *dispatcher, size_t cap)
{
    if (strcmp(name, "CDC.index") == 0) {
        if (cap > 0) {
            dispatcher[0] = '\0';
        }
        return true;
    }
    size_t n = strlen(name);
    if (n <= 4 + 6 || memcmp(name, "CDC_", 4) != 0 || strcmp(name + n - 6, ".index") != 0) {
        return false;
    }
    size_t dl = n - 4 - 6;
    if (dl > TR_STORAGE_DISPATCHER_MAX || dl + 1 > cap) {
        return false;
    }
    for (size_t i = 0; i < dl; i++) {
        if (!dispatcher_char(name[4 + i])) {
            return false;
        }
    }
    memcpy(dispatcher, name + 4, dl);
    dispatcher[dl] = '\0';
    return true;
}

bool tr_storage_parse_index(const uint8_t *p, size_t len, tr_storage_data_name_t *out)
{
    while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r')) {
        len--;
    }
    char name[256];
    if (len == 0 || len >= sizeof(name) || memchr(p, '\0', len) != NULL) {
        return false;
    }
    memcpy(name, p, len);
    name[len] = '\0';
    return tr_storage_parse_data_name(name, out);
}

bool tr_storage_parse_schema_name(const char *name, uint64_t *version, uint32_t *checksum)
{
    size_t n = strlen(name);
    /* schema_ + >= 1 digit + _ + 10 digits + .json */
    if (n < 7 + 1 + 1 + 10 + 5 || memcmp(name, "schema_", 7) != 0 ||
        strcmp(name + n - 5, ".json") != 0) {
        return false;
    }
    const char *crc = name + n - 5 - 10;
    if (crc[-1] != '_') {
        return false;
    }
    uint64_t c;
    if (!parse_u64(crc, 10, &c) || c > UINT32_MAX) {
        return false;
    }
    const char *ver = name + 7;
    uint64_t v;
    if (!parse_u64(ver, (size_t)(crc - 1 - ver), &v)) {
        return false;
    }
    *version = v;
    *checksum = (uint32_t)c;
    return true;
}

tr_storage_date_t tr_storage_date_kind(const char *name)
{
    size_t n = strlen(name);
    if (n < 4 || !all_digits(name, 4)) {
        return TR_STORAGE_DATE_NONE;
    }
    if (n == 4) {
        return TR_STORAGE_DATE_YEAR;
    }
    if ((n != 7 && n != 10) || name[4] != '-' || !all_digits(name + 5, 2)) {
        return TR_STORAGE_DATE_NONE;
    }
    int month = (name[5] - '0') * 10 + (name[6] - '0');
    if (month < 1 || month > 12) {
        return TR_STORAGE_DATE_NONE;
    }
    if (n == 7) {
        return TR_STORAGE_DATE_MONTH;
    }
    if (name[7] != '-' || !all_digits(name + 8, 2)) {
        return TR_STORAGE_DATE_NONE;
    }
    int day = (name[8] - '0') * 10 + (name[9] - '0');
    return day >= 1 && day <= 31 ? TR_STORAGE_DATE_DAY : TR_STORAGE_DATE_NONE;
}

/* ================================================================ file contents (pure) */

int tr_storage_parse_metadata(const uint8_t *p, size_t len, int64_t *checkpoint, const char **why)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        *why = "the metadata file is not JSON";
        return TR_EMALFORMED;
    }
    int rc = 0;
    json_t *c = json_is_object(root) ? json_object_get(root, "checkpoint-ts") : NULL;
    if (c == NULL) {
        *why = "the metadata file has no checkpoint-ts";
        rc = TR_EMALFORMED;
    } else if (!json_is_integer(c) || json_integer_value(c) <= 0) {
        *why = "the metadata file's checkpoint-ts is not a positive integer";
        rc = TR_EMALFORMED;
    } else {
        *checkpoint = (int64_t)json_integer_value(c);
    }
    json_decref(root);
    return rc;
}

/* A string member (absent: dflt when not NULL). */
static int get_str(json_t *o, const char *key, const char *dflt, char **out, const char **why)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL || json_is_null(v)) {
        if (dflt == NULL) {
            *why = "a schema file lacks Schema, Table or TableVersion";
            return TR_EMALFORMED;
        }
        *out = tr_strdup(dflt);
        return 0;
    }
    if (!json_is_string(v)) {
        *why = "a schema file's Schema, Table or Query is not a string";
        return TR_EMALFORMED;
    }
    *out = tr_strndup(json_string_value(v), json_string_length(v));
    if (strlen(*out) != json_string_length(v)) {
        tr_free(*out);
        *out = NULL;
        *why = "a schema file's string holds a NUL character";
        return TR_EMALFORMED;
    }
    return 0;
}

int tr_storage_parse_schema(const uint8_t *p, size_t len, tr_storage_schema_t *out,
                            const char **why)
{
    memset(out, 0, sizeof(*out));
    json_error_t jerr;
    json_t *root = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        *why = "a schema file is not a JSON object";
        return TR_EMALFORMED;
    }
    int rc = get_str(root, "Schema", NULL, &out->schema, why);
    if (rc == 0) {
        rc = get_str(root, "Table", NULL, &out->table, why);
    }
    if (rc == 0) {
        rc = get_str(root, "Query", "", &out->query, why);
    }
    if (rc == 0) {
        json_t *v = json_object_get(root, "TableVersion");
        if (v == NULL || !json_is_integer(v) || json_integer_value(v) <= 0) {
            *why = "a schema file's TableVersion is not a positive integer";
            rc = TR_EMALFORMED;
        } else {
            out->table_version = (int64_t)json_integer_value(v);
        }
    }
    if (rc == 0) {
        json_t *v = json_object_get(root, "Type");
        if (v != NULL && !json_is_null(v) && !json_is_integer(v)) {
            *why = "a schema file's Type is not an integer";
            rc = TR_EMALFORMED;
        } else if (v != NULL && json_is_integer(v)) {
            out->type = (int64_t)json_integer_value(v);
        }
    }
    json_decref(root);
    if (rc != 0) {
        tr_storage_schema_cleanup(out);
    }
    return rc;
}

void tr_storage_schema_cleanup(tr_storage_schema_t *s)
{
    tr_free(s->schema);
    tr_free(s->table);
    tr_free(s->query);
    memset(s, 0, sizeof(*s));
}

char *tr_storage_ddl_message(const tr_storage_schema_t *s, size_t *len)
{
    json_t *m = json_object();
    json_t *tidb = json_object();
    json_object_set_new(tidb, "commitTs", json_integer((json_int_t)s->table_version));
    json_object_set_new(m, "id", json_integer(0));
    json_object_set_new(m, "database", json_string(s->schema));
    json_object_set_new(m, "table", json_string(s->table));
    json_object_set_new(m, "pkNames", json_null());
    json_object_set_new(m, "isDdl", json_true());
    json_object_set_new(m, "type", json_string("QUERY"));
    json_object_set_new(m, "es", json_integer((json_int_t)(s->table_version >> 18)));
    json_object_set_new(m, "ts", json_integer(0));
    json_object_set_new(m, "sql", json_string(s->query));
    json_object_set_new(m, "sqlType", json_null());
    json_object_set_new(m, "mysqlType", json_null());
    json_object_set_new(m, "data", json_null());
    json_object_set_new(m, "old", json_null());
    json_object_set_new(m, "_tidb", tidb);
    char *text = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    /* json_string returns NULL for text that is not UTF-8 (jansson checked it on
     * load, so only a bug gets here): the message then lacks the member and fails
     * to parse. */
    char *out = tr_strdup(text != NULL ? text : "{}");
    free(text);
    *len = strlen(out);
    return out;
}

/* ================================================================ positions (pure) */

static bool needs_escape(unsigned char ch)
{
    return ch <= 0x20 || ch == '%' || ch == 0x7f;
}

static void put_escaped(char **s, size_t *n, size_t *cap, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*n + 4 > *cap) {
            *cap = *cap * 2 + 64;
            *s = tr_realloc(*s, *cap);
        }
        if (needs_escape(*p)) {
            *n += (size_t)snprintf(*s + *n, *cap - *n, "%%%02X", *p);
        } else {
            (*s)[(*n)++] = (char)*p;
        }
    }
    (*s)[*n] = '\0';
}

static void put_text(char **s, size_t *n, size_t *cap, const char *text)
{
    size_t l = strlen(text);
    if (*n + l + 1 > *cap) {
        *cap = (*n + l + 1) * 2;
        *s = tr_realloc(*s, *cap);
    }
    memcpy(*s + *n, text, l + 1);
    *n += l;
}

char *tr_storage_position_format(const char *root, const tr_storage_position_t *p)
{
    size_t cap = 256 + p->n * 96;
    size_t n = 0;
    char *s = tr_malloc(cap);
    char num[96];
    snprintf(num, sizeof(num),
             "ticdc-storage v1 checkpoint=%" PRId64 " streams=%zu dir=", p->checkpoint, p->n);
    put_text(&s, &n, &cap, num);
    put_escaped(&s, &n, &cap, root);
    put_text(&s, &n, &cap, "\n");
    for (size_t i = 0; i < p->n; i++) {
        const tr_storage_pos_stream_t *ps = &p->streams[i];
        put_escaped(&s, &n, &cap, ps->key);
        put_text(&s, &n, &cap, " ");
        if (ps->cur.file[0] != '\0') {
            put_escaped(&s, &n, &cap, ps->cur.file);
        } else {
            put_text(&s, &n, &cap, "-");
        }
        snprintf(num, sizeof(num), " %" PRId64 " %" PRId64 "\n", ps->cur.line, ps->cur.byte);
        put_text(&s, &n, &cap, num);
    }
    return s;
}

/* The escaped word at *p (up to a space or newline) into out (NUL-terminated).
 */
static bool get_word(const char **p, char *out, size_t cap)
{
    size_t n = 0;
    const char *q = *p;
    while (*q != '\0' && *q != ' ' && *q != '\n') {
        int ch = (unsigned char)*q;
        if (*q == '%') {
            int h = tr_hex_digit((unsigned char)q[1]);
            int l = h >= 0 ? tr_hex_digit((unsigned char)q[2]) : -1;
            if (l < 0) {
                return false;
            }
            ch = h * 16 + l;
            q += 2;
        }
        if (ch == 0 || n + 1 >= cap) {
            return false;
        }
        out[n++] = (char)ch;
        q++;
    }
    if (n == 0) {
        return false;
    }
    out[n] = '\0';
    *p = q;
    return true;
}

static bool get_i64(const char **p, int64_t *out)
{
    const char *q = *p;
    size_t n = 0;
    while (q[n] >= '0' && q[n] <= '9') {
        n++;
    }
    uint64_t v;
    if (!parse_u64(q, n, &v) || v > INT64_MAX) {
        return false;
    }
    *out = (int64_t)v;
    *p = q + n;
    return true;
}

static bool expect(const char **p, const char *lit)
{
    size_t n = strlen(lit);
    if (strncmp(*p, lit, n) != 0) {
        return false;
    }
    *p += n;
    return true;
}

int tr_storage_position_parse(const char *text, tr_storage_position_t *out, char *root_out,
                              size_t root_cap, const char **why)
{
    memset(out, 0, sizeof(*out));
    const char *p = text;
    if (!expect(&p, "ticdc-storage v1 ")) {
        *why = "the stored upstream position is not a TiCDC storage position (the "
               "store was "
               "written from another input)";
        return TR_ECONFIG;
    }
    int64_t n_streams = 0;
    char root[4096];
    if (!expect(&p, "checkpoint=") || !get_i64(&p, &out->checkpoint) || !expect(&p, " streams=") ||
        !get_i64(&p, &n_streams) || !expect(&p, " dir=") || !get_word(&p, root, sizeof(root)) ||
        !expect(&p, "\n") || n_streams > 10000000) {
        *why = "the stored upstream position is damaged (header)";
        return TR_ECORRUPT;
    }
    if (root_out != NULL && root_cap > 0) {
        snprintf(root_out, root_cap, "%s", root);
    }
    out->streams = tr_calloc(n_streams > 0 ? (size_t)n_streams : 1, sizeof(*out->streams));
    char key[4096];
    for (int64_t i = 0; i < n_streams; i++) {
        tr_storage_pos_stream_t *ps = &out->streams[i];
        char file[sizeof(ps->cur.file)];
        if (!get_word(&p, key, sizeof(key)) || !expect(&p, " ") ||
            !get_word(&p, file, sizeof(file)) || !expect(&p, " ") || !get_i64(&p, &ps->cur.line) ||
            !expect(&p, " ") || !get_i64(&p, &ps->cur.byte) || !expect(&p, "\n")) {
            tr_storage_position_cleanup(out);
            *why = "the stored upstream position is damaged (a stream line)";
            return TR_ECORRUPT;
        }
        ps->key = tr_strdup(key);
        snprintf(ps->cur.file, sizeof(ps->cur.file), "%s", strcmp(file, "-") == 0 ? "" : file);
        out->n++;
    }
    if (*p != '\0') {
        tr_storage_position_cleanup(out);
        *why = "the stored upstream position is damaged (trailing text)";
        return TR_ECORRUPT;
    }
    return 0;
}

void tr_storage_position_cleanup(tr_storage_position_t *p)
{
    for (size_t i = 0; i < p->n; i++) {
        tr_free(p->streams[i].key);
    }
    tr_free(p->streams);
    memset(p, 0, sizeof(*p));
}

/* ================================================================ the scanner */

/* snprintf for paths: false when the text did not fit (a path longer than any
 * real one). */
static bool fmt_path(char *buf, size_t cap, const char *fmt, ...) TR_PRINTF(3, 4);
static bool fmt_path(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return w >= 0 && (size_t)w < cap;
}

typedef struct {
    char date[TR_STORAGE_DATE_MAX + 1]; /* "" without a date directory */
    tr_storage_data_name_t dn;
    char name[TR_STORAGE_DISPATCHER_MAX + 48];
} dfile_t;

typedef struct {
    char *key;
    char *dir; /* the data directory without its date, relative to the root */
    char dispatcher[TR_STORAGE_DISPATCHER_MAX + 1];
    bool seen;

    dfile_t *files; /* from the last scan, from the cursor's file on, (date,
                       number) order */
    size_t n_files, cap_files;

    /* The cursor. */
    bool has_file;
    dfile_t cur;
    int64_t line, byte;
    bool checked; /* the position's byte offset was checked against the file */

    /* spec 2.3 de-duplication. */
    bool has_last;
    int64_t last_ts;
    char last_date[TR_STORAGE_DATE_MAX + 1];
    uint64_t last_number;

    /* The cursor and the de-duplication state at tr_storage_source_mark. */
    struct {
        bool has_file;
        dfile_t cur;
        int64_t line, byte;
        bool checked;
        bool has_last;
        int64_t last_ts;
        char last_date[TR_STORAGE_DATE_MAX + 1];
        uint64_t last_number;
    } saved;

    /* Reading, within a round. */
    int fd;
    char path[1200]; /* the cursor's file, relative to the root */
    uint8_t *buf;    /* buf[pos..len) = the file's bytes from offset byte */
    size_t buf_cap, len, pos;
    int64_t rd_off; /* file offset of buf[len] */
    bool eof;
    size_t peeked; /* bytes of the line last peeked, terminator included; 0: none */
} stream_t;

typedef struct {
    char *path; /* relative to the root */
    uint64_t version;
} schema_file_t;

struct tr_storage_source {
    char *root;
    tr_storage_hooks_t hooks;
    stream_t **streams; /* sorted by key */
    size_t n_streams, cap_streams;
    schema_file_t *schemas; /* sorted by (version, path) */
    size_t n_schemas, cap_schemas;
};

static void warnf(tr_storage_source_t *s, const char *fmt, ...) TR_PRINTF(2, 3);
static void warnf(tr_storage_source_t *s, const char *fmt, ...)
{
    if (s->hooks.warn == NULL) {
        return;
    }
    char msg[1600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->hooks.warn(s->hooks.arg, msg);
}

tr_storage_source_t *tr_storage_source_new(const char *root, const tr_storage_hooks_t *hooks)
{
    tr_storage_source_t *s = tr_calloc(1, sizeof(*s));
    s->root = tr_strdup(root);
    if (hooks != NULL) {
        s->hooks = *hooks;
    }
    return s;
}

static void stream_close(stream_t *st)
{
    if (st->fd >= 0) {
        close(st->fd);
        st->fd = -1;
    }
    st->len = st->pos = 0;
    st->eof = false;
    st->peeked = 0;
}

static void stream_free(stream_t *st)
{
    stream_close(st);
    tr_free(st->buf);
    tr_free(st->files);
    tr_free(st->key);
    tr_free(st->dir);
    tr_free(st);
}

void tr_storage_source_free(tr_storage_source_t *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->n_streams; i++) {
        stream_free(s->streams[i]);
    }
    tr_free(s->streams);
    for (size_t i = 0; i < s->n_schemas; i++) {
        tr_free(s->schemas[i].path);
    }
    tr_free(s->schemas);
    tr_free(s->root);
    tr_free(s);
}

/* -------------------------------------------------------------- streams by key */

static stream_t *find_stream(const tr_storage_source_t *s, const char *key)
{
    size_t lo = 0, hi = s->n_streams;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s->streams[mid]->key, key);
        if (c == 0) {
            return s->streams[mid];
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

/* A new stream of key (dir plus "#dispatcher"), kept in order. */
static stream_t *add_stream(tr_storage_source_t *s, const char *key)
{
    stream_t *st = tr_calloc(1, sizeof(*st));
    st->key = tr_strdup(key);
    st->fd = -1;
    const char *hash = strrchr(key, '#');
    const char *slash = strrchr(key, '/');
    if (hash != NULL && (slash == NULL || hash > slash)) {
        st->dir = tr_strndup(key, (size_t)(hash - key));
        snprintf(st->dispatcher, sizeof(st->dispatcher), "%s", hash + 1);
    } else {
        st->dir = tr_strdup(key);
    }
    if (s->n_streams == s->cap_streams) {
        s->cap_streams = s->cap_streams ? s->cap_streams * 2 : 16;
        s->streams = tr_realloc(s->streams, s->cap_streams * sizeof(*s->streams));
    }
    size_t at = s->n_streams;
    while (at > 0 && strcmp(s->streams[at - 1]->key, key) > 0) {
        at--;
    }
    memmove(&s->streams[at + 1], &s->streams[at], (s->n_streams - at) * sizeof(*s->streams));
    s->streams[at] = st;
    s->n_streams++;
    return st;
}

/* Splits a cursor's file text ("[<date>/]<name>") into f. */
static bool parse_cursor_file(const char *text, dfile_t *f)
{
    memset(f, 0, sizeof(*f));
    const char *slash = strrchr(text, '/');
    const char *name = slash != NULL ? slash + 1 : text;
    if (slash != NULL) {
        size_t dl = (size_t)(slash - text);
        if (dl == 0 || dl > TR_STORAGE_DATE_MAX) {
            return false;
        }
        memcpy(f->date, text, dl);
        f->date[dl] = '\0';
        if (tr_storage_date_kind(f->date) == TR_STORAGE_DATE_NONE) {
            return false;
        }
    }
    size_t nl = strlen(name);
    if (nl >= sizeof(f->name) || !tr_storage_parse_data_name(name, &f->dn)) {
        return false;
    }
    memcpy(f->name, name, nl + 1); /* fits: checked above */
    return true;
}

void tr_storage_source_resume(tr_storage_source_t *s, const tr_storage_position_t *p)
{
    for (size_t i = 0; i < p->n; i++) {
        const tr_storage_pos_stream_t *ps = &p->streams[i];
        stream_t *st = find_stream(s, ps->key);
        if (st == NULL) {
            st = add_stream(s, ps->key);
        }
        if (ps->cur.file[0] == '\0') {
            continue;
        }
        if (!parse_cursor_file(ps->cur.file, &st->cur)) {
            warnf(s,
                  "the stored position names no data file (%s) for stream %s: the "
                  "stream "
                  "is read from its first file",
                  ps->cur.file, ps->key);
            continue;
        }
        st->has_file = true;
        st->line = ps->cur.line;
        st->byte = ps->cur.byte;
    }
}

/* -------------------------------------------------------------- small files */

/* Reads a whole small file: 1 with *out (owned, NUL-terminated), 0 when it does
 * not exist, or -errno / TR_ETOOBIG. */
static int read_small(const char *path, uint8_t **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? 0 : -errno;
    }
    size_t cap = 4096, n = 0;
    uint8_t *b = tr_malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            if (cap >= SMALL_FILE_MAX) {
                tr_free(b);
                close(fd);
                return TR_ETOOBIG;
            }
            cap *= 2;
            b = tr_realloc(b, cap + 1);
        }
        ssize_t r = pread(fd, b + n, cap - n, (off_t)n);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            int e = -errno;
            tr_free(b);
            close(fd);
            return e;
        }
        if (r == 0) {
            break;
        }
        n += (size_t)r;
    }
    close(fd);
    b[n] = '\0';
    *out = b;
    *len = n;
    return 1;
}

int tr_storage_source_checkpoint(tr_storage_source_t *s, int64_t *checkpoint, char *err, size_t cap)
{
    char path[4200];
    (void)fmt_path(path, sizeof(path), "%s/metadata", s->root);
    uint8_t *b = NULL;
    size_t len = 0;
    int rc = read_small(path, &b, &len);
    if (rc <= 0) {
        if (rc < 0) {
            snprintf(err, cap, "cannot read %s: %s", path, tr_strerror(rc));
        }
        return rc;
    }
    const char *why = NULL;
    rc = tr_storage_parse_metadata(b, len, checkpoint, &why);
    tr_free(b);
    if (rc != 0) {
        /* TiCDC replaces it by a rename; a torn file is not expected, but reads
         * again. */
        snprintf(err, cap, "%s: %s", why, path);
        return rc;
    }
    return 1;
}

/* -------------------------------------------------------------- listing */

static int cmp_file(const dfile_t *a, const dfile_t *b)
{
    int c = strcmp(a->date, b->date);
    if (c != 0) {
        return c;
    }
    return a->dn.number < b->dn.number ? -1 : a->dn.number > b->dn.number;
}

static int cmp_file_q(const void *a, const void *b)
{
    return cmp_file(a, b);
}

static void stream_add_file(stream_t *st, const char *date, const char *name,
                            const tr_storage_data_name_t *dn)
{
    dfile_t f;
    memset(&f, 0, sizeof(f));
    snprintf(f.date, sizeof(f.date), "%s", date);
    f.dn = *dn;
    snprintf(f.name, sizeof(f.name), "%s", name);
    if (st->has_file && cmp_file(&f, &st->cur) < 0) {
        return; /* read already */
    }
    if (st->n_files == st->cap_files) {
        st->cap_files = st->cap_files ? st->cap_files * 2 : 16;
        st->files = tr_realloc(st->files, st->cap_files * sizeof(*st->files));
    }
    st->files[st->n_files++] = f;
}

static void add_schema(tr_storage_source_t *s, const char *path, uint64_t version)
{
    size_t lo = 0, hi = s->n_schemas;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const schema_file_t *x = &s->schemas[mid];
        int c = x->version != version ? (x->version < version ? -1 : 1) : strcmp(x->path, path);
        if (c == 0) {
            return;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (s->n_schemas == s->cap_schemas) {
        s->cap_schemas = s->cap_schemas ? s->cap_schemas * 2 : 64;
        s->schemas = tr_realloc(s->schemas, s->cap_schemas * sizeof(*s->schemas));
    }
    memmove(&s->schemas[lo + 1], &s->schemas[lo], (s->n_schemas - lo) * sizeof(*s->schemas));
    s->schemas[lo].path = tr_strdup(path);
    s->schemas[lo].version = version;
    s->n_schemas++;
}

typedef struct {
    char *name;
    bool is_dir;
} entry_t;

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const entry_t *)a)->name, ((const entry_t *)b)->name);
}

static void free_entries(entry_t *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tr_free(e[i].name);
    }
    tr_free(e);
}

/* The entries of root/rel, sorted: 0, or -ENOENT (gone: not an error for a
 * subdirectory), or -errno. */
static int list_dir(const tr_storage_source_t *s, const char *rel, entry_t **out, size_t *n_out)
{
    char path[4200];
    if (!fmt_path(path, sizeof(path), "%s%s%s", s->root, rel[0] ? "/" : "", rel)) {
        return -ENAMETOOLONG;
    }
    DIR *d = opendir(path);
    if (d == NULL) {
        return -errno;
    }
    entry_t *e = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL) {
            rc = errno != 0 ? -errno : 0;
            break;
        }
        if (de->d_name[0] == '.') {
            continue; /* ".", "..", hidden files */
        }
        bool is_dir = de->d_type == DT_DIR;
        if (de->d_type == DT_UNKNOWN || de->d_type == DT_LNK) {
            struct stat sb;
            char p2[4400];
            if (!fmt_path(p2, sizeof(p2), "%s/%s", path, de->d_name) || stat(p2, &sb) != 0) {
                continue; /* gone since */
            }
            is_dir = S_ISDIR(sb.st_mode);
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            e = tr_realloc(e, cap * sizeof(*e));
        }
        e[n].name = tr_strdup(de->d_name);
        e[n].is_dir = is_dir;
        n++;
    }
    closedir(d);
    if (rc != 0) {
        free_entries(e, n);
        return rc;
    }
    if (n > 1) {
        qsort(e, n, sizeof(*e), cmp_entry);
    }
    *out = e;
    *n_out = n;
    return 0;
}

static int depth_of(const char *rel)
{
    if (rel[0] == '\0') {
        return 0;
    }
    int d = 1;
    for (const char *p = rel; *p != '\0'; p++) {
        d += *p == '/';
    }
    return d;
}

/* Splits a data directory into its stream directory and date (see the header).
 */
static void split_date(const char *rel, char *dir, size_t dir_cap, char *date, size_t date_cap)
{
    const char *slash = strrchr(rel, '/');
    const char *last = slash != NULL ? slash + 1 : rel;
    int depth = depth_of(rel);
    tr_storage_date_t k = tr_storage_date_kind(last);
    bool is_date = k == TR_STORAGE_DATE_MONTH || k == TR_STORAGE_DATE_DAY ||
                   (k == TR_STORAGE_DATE_YEAR && (depth == 3 || depth == 5));
    if (is_date && slash != NULL && strlen(last) < date_cap) {
        snprintf(dir, dir_cap, "%.*s", (int)(slash - rel), rel);
        snprintf(date, date_cap, "%s", last);
    } else {
        snprintf(dir, dir_cap, "%s", rel);
        date[0] = '\0';
    }
}

static stream_t *stream_for(tr_storage_source_t *s, const char *dir, const char *dispatcher)
{
    char key[4200];
    (void)fmt_path(key, sizeof(key), "%s%s%s", dir, dispatcher[0] ? "#" : "", dispatcher);
    stream_t *st = find_stream(s, key);
    return st != NULL ? st : add_stream(s, key);
}

/* The index files of data directory rel (its meta/): files they name beyond
 * what the listing showed, added when they exist (a stale directory listing,
 * e.g. on NFS). */
static int probe_index(tr_storage_source_t *s, const char *rel, const char *dir, const char *date)
{
    entry_t *e = NULL;
    size_t n = 0;
    char meta[4200];
    if (!fmt_path(meta, sizeof(meta), "%s/meta", rel)) {
        return 0;
    }
    int rc = list_dir(s, meta, &e, &n);
    if (rc == -ENOENT || rc == -ENOTDIR) {
        return 0;
    }
    if (rc != 0) {
        return rc;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        char disp[TR_STORAGE_DISPATCHER_MAX + 1];
        if (e[i].is_dir || !tr_storage_parse_index_name(e[i].name, disp, sizeof(disp))) {
            continue;
        }
        char path[4400];
        if (!fmt_path(path, sizeof(path), "%s/%s/%s", s->root, meta, e[i].name)) {
            continue;
        }
        uint8_t *b = NULL;
        size_t len = 0;
        int r = read_small(path, &b, &len);
        if (r < 0) {
            rc = r;
            break;
        }
        tr_storage_data_name_t dn;
        if (r == 0 || !tr_storage_parse_index(b, len, &dn)) {
            tr_free(b);
            continue; /* being replaced, or not ours to judge: the listing decides */
        }
        tr_free(b);
        stream_t *st = stream_for(s, dir, disp);
        uint64_t have = 0;
        for (size_t k = 0; k < st->n_files; k++) {
            if (strcmp(st->files[k].date, date) == 0 && st->files[k].dn.number > have) {
                have = st->files[k].dn.number;
            }
        }
        if (st->has_file && strcmp(st->cur.date, date) == 0 && st->cur.dn.number > have) {
            have = st->cur.dn.number;
        }
        for (uint64_t k = have + 1; k <= dn.number && k <= have + PROBE_MAX; k++) {
            char name[160];
            struct stat sb;
            if (!tr_storage_data_name(&dn, k, name, sizeof(name))) {
                break;
            }
            if (fmt_path(path, sizeof(path), "%s/%s/%s", s->root, rel, name) &&
                stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
                stream_add_file(st, date, name, &dn);
            }
        }
    }
    free_entries(e, n);
    return rc;
}

static int walk(tr_storage_source_t *s, const char *rel, char *err, size_t cap)
{
    int depth = depth_of(rel);
    entry_t *e = NULL;
    size_t n = 0;
    int rc = list_dir(s, rel, &e, &n);
    if (rc != 0) {
        if ((rc == -ENOENT || rc == -ENOTDIR) && depth > 0) {
            return 0; /* removed while we walked */
        }
        snprintf(err, cap, "cannot list %s/%s: %s", s->root, rel, tr_strerror(rc));
        return rc;
    }
    char dir[4200], date[TR_STORAGE_DATE_MAX + 1];
    bool has_meta = false;
    split_date(rel, dir, sizeof(dir), date, sizeof(date));
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *name = e[i].name;
        char sub[4200];
        if (!fmt_path(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", name)) {
            continue;
        }
        if (e[i].is_dir && strcmp(name, "meta") == 0) {
            has_meta = true;
            if (depth < 1 || depth > 2) {
                continue; /* a data directory's index files: probe_index */
            }
            entry_t *m = NULL;
            size_t nm = 0;
            rc = list_dir(s, sub, &m, &nm);
            if (rc == -ENOENT || rc == -ENOTDIR) {
                rc = 0;
                continue;
            }
            if (rc != 0) {
                snprintf(err, cap, "cannot list %s/%s: %s", s->root, sub, tr_strerror(rc));
                break;
            }
            for (size_t k = 0; k < nm; k++) {
                uint64_t ver;
                uint32_t crc;
                if (!m[k].is_dir && tr_storage_parse_schema_name(m[k].name, &ver, &crc)) {
                    char path[4400];
                    if (fmt_path(path, sizeof(path), "%s/%s", sub, m[k].name)) {
                        add_schema(s, path, ver);
                    }
                }
            }
            free_entries(m, nm);
            continue;
        }
        if (e[i].is_dir) {
            if (depth + 1 <= WALK_DEPTH_MAX) {
                rc = walk(s, sub, err, cap);
            }
            continue;
        }
        tr_storage_data_name_t dn;
        if (depth < 2 || !tr_storage_parse_data_name(name, &dn)) {
            continue;
        }
        if (dn.ext != TR_STORAGE_EXT_JSON) {
            snprintf(err, cap,
                     "%s/%s is a csv data file: the changefeed must use "
                     "protocol=canal-json "
                     "with enable-tidb-extension=true",
                     s->root, sub);
            rc = TR_EUNSUPPORTED;
            break;
        }
        if (strlen(name) >= sizeof(((dfile_t *)0)->name)) {
            continue;
        }
        stream_t *st = stream_for(s, dir, dn.dispatcher);
        st->seen = true;
        stream_add_file(st, date, name, &dn);
    }
    free_entries(e, n);
    if (rc == 0 && has_meta && depth >= 2) {
        rc = probe_index(s, rel, dir, date);
        if (rc != 0) {
            snprintf(err, cap, "cannot read the index files of %s/%s: %s", s->root, rel,
                     tr_strerror(rc));
        }
    }
    return rc;
}

int tr_storage_source_scan(tr_storage_source_t *s, char *err, size_t cap)
{
    for (size_t i = 0; i < s->n_streams; i++) {
        stream_t *st = s->streams[i];
        st->n_files = 0;
        st->seen = false;
    }
    int rc = walk(s, "", err, cap);
    for (size_t i = 0; i < s->n_streams; i++) {
        stream_t *st = s->streams[i];
        if (st->n_files > 0) {
            st->seen = true;
            qsort(st->files, st->n_files, sizeof(*st->files), cmp_file_q);
        }
    }
    return rc;
}

/* -------------------------------------------------------------- DDLs */

static int cmp_ddl(const void *a, const void *b)
{
    const tr_storage_ddl_t *x = a, *y = b;
    if (x->def.table_version != y->def.table_version) {
        return x->def.table_version < y->def.table_version ? -1 : 1;
    }
    return strcmp(x->path, y->path);
}

int tr_storage_source_ddls(tr_storage_source_t *s, int64_t after, int64_t upto,
                           tr_storage_ddl_t **out, size_t *n_out, char *err, size_t cap)
{
    tr_storage_ddl_t *d = NULL;
    size_t n = 0, dcap = 0;
    *out = NULL;
    *n_out = 0;
    for (size_t i = 0; i < s->n_schemas; i++) {
        const schema_file_t *sf = &s->schemas[i];
        if ((int64_t)sf->version <= after || (int64_t)sf->version > upto) {
            continue;
        }
        char path[4400];
        (void)fmt_path(path, sizeof(path), "%s/%s", s->root, sf->path);
        uint8_t *b = NULL;
        size_t len = 0;
        int rc = read_small(path, &b, &len);
        if (rc <= 0) {
            snprintf(err, cap, "cannot read the schema file %s: %s", path,
                     rc == 0 ? "it is gone" : tr_strerror(rc));
            tr_storage_ddls_free(d, n);
            return rc == 0 ? -ENOENT : rc;
        }
        tr_storage_schema_t def;
        const char *why = NULL;
        rc = tr_storage_parse_schema(b, len, &def, &why);
        tr_free(b);
        if (rc != 0) {
            snprintf(err, cap, "%s: %s", why, path);
            tr_storage_ddls_free(d, n);
            return rc;
        }
        if (def.table_version != (int64_t)sf->version) {
            snprintf(err, cap, "the schema file's TableVersion is not the one in its name: %s",
                     path);
            tr_storage_schema_cleanup(&def);
            tr_storage_ddls_free(d, n);
            return TR_EMALFORMED;
        }
        bool dup = def.query[0] == '\0';
        for (size_t k = 0; k < n && !dup; k++) {
            dup = d[k].def.table_version == def.table_version &&
                  strcmp(d[k].def.query, def.query) == 0;
        }
        if (dup) {
            tr_storage_schema_cleanup(&def);
            continue;
        }
        if (n == dcap) {
            dcap = dcap ? dcap * 2 : 8;
            d = tr_realloc(d, dcap * sizeof(*d));
        }
        snprintf(d[n].path, sizeof(d[n].path), "%s", sf->path);
        d[n].def = def;
        n++;
    }
    if (n > 1) {
        qsort(d, n, sizeof(*d), cmp_ddl);
    }
    *out = d;
    *n_out = n;
    return 0;
}

void tr_storage_ddls_free(tr_storage_ddl_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tr_storage_schema_cleanup(&d[i].def);
    }
    tr_free(d);
}

/* -------------------------------------------------------------- streams */

size_t tr_storage_source_streams(const tr_storage_source_t *s)
{
    return s->n_streams;
}

const char *tr_storage_stream_key(const tr_storage_source_t *s, size_t i)
{
    return s->streams[i]->key;
}

bool tr_storage_stream_seen(const tr_storage_source_t *s, size_t i)
{
    return s->streams[i]->seen;
}

void tr_storage_stream_table(const tr_storage_source_t *s, size_t i, char *buf, size_t cap)
{
    const char *dir = s->streams[i]->dir;
    const char *a = strchr(dir, '/');
    const char *b = a != NULL ? strchr(a + 1, '/') : NULL;
    if (a != NULL && b != NULL) {
        snprintf(buf, cap, "%.*s.%.*s", (int)(a - dir), dir, (int)(b - a - 1), a + 1);
    } else {
        snprintf(buf, cap, "%.*s", a != NULL ? (int)(a - dir) : (int)strlen(dir), dir);
    }
}

static void set_path(const tr_storage_source_t *s, stream_t *st)
{
    (void)s;
    (void)fmt_path(st->path, sizeof(st->path), "%s/%s%s%s", st->dir, st->cur.date,
                   st->cur.date[0] ? "/" : "", st->cur.name);
}

static void start_file(const tr_storage_source_t *s, stream_t *st, const dfile_t *f)
{
    stream_close(st);
    st->cur = *f;
    st->has_file = true;
    st->line = 0;
    st->byte = 0;
    st->checked = true;
    set_path(s, st);
}

static bool exists(const tr_storage_source_t *s, const stream_t *st, const char *date,
                   const char *name)
{
    char path[4600];
    struct stat sb;
    (void)fmt_path(path, sizeof(path), "%s/%s/%s%s%s", s->root, st->dir, date, date[0] ? "/" : "",
                   name);
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The file after the cursor's: the next listed one; a number missing before it
 * is looked up by name first (a listing that raced a rename), then skipped with
 * a warning. */
static bool next_file(tr_storage_source_t *s, stream_t *st, dfile_t *out)
{
    const dfile_t *next = NULL;
    for (size_t i = 0; i < st->n_files; i++) {
        if (cmp_file(&st->files[i], &st->cur) > 0) {
            next = &st->files[i];
            break;
        }
    }
    if (next == NULL) {
        return false;
    }
    bool same_date = strcmp(next->date, st->cur.date) == 0;
    uint64_t want = same_date ? st->cur.dn.number + 1 : 1;
    if (next->dn.number == want) {
        *out = *next;
        return true;
    }
    dfile_t f = *next;
    if (next->dn.number > want && tr_storage_data_name(&next->dn, want, f.name, sizeof(f.name)) &&
        exists(s, st, next->date, f.name)) {
        f.dn.number = want;
        *out = f;
        return true;
    }
    warnf(s,
          "data files missing before %s/%s%s%s (numbers %" PRIu64 "..%" PRIu64
          "), skipped: TiCDC named them but never wrote them, and writes their "
          "rows again "
          "after its restart",
          st->dir, next->date, next->date[0] ? "/" : "", next->name, want, next->dn.number - 1);
    *out = *next;
    return true;
}

/* Opens the cursor's file: 1, 0 when it does not exist, or -errno. */
static int open_cur(tr_storage_source_t *s, stream_t *st, char *err, size_t cap)
{
    char path[4600];
    (void)fmt_path(path, sizeof(path), "%s/%s", s->root, st->path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return 0;
        }
        int e = -errno;
        snprintf(err, cap, "cannot open %s: %s", path, tr_strerror(e));
        return e;
    }
    if (!st->checked && st->byte > 0) {
        /* A stored position: its offset must follow a line's end. */
        uint8_t ch = 0;
        ssize_t r = pread(fd, &ch, 1, (off_t)(st->byte - 1));
        if (r != 1 || ch != '\n') {
            close(fd);
            snprintf(err, cap,
                     "the stored position (line %" PRId64 ", byte %" PRId64
                     ") is not at a line's end of %s: the file changed",
                     st->line, st->byte, path);
            return TR_ECORRUPT;
        }
    }
    st->checked = true;
    st->fd = fd;
    st->len = st->pos = 0;
    st->rd_off = st->byte;
    st->eof = false;
    return 1;
}

int tr_storage_stream_peek(tr_storage_source_t *s, size_t i, size_t max_line,
                           tr_storage_line_t *out, char *err, size_t cap)
{
    stream_t *st = s->streams[i];
    for (;;) {
        if (!st->has_file) {
            if (st->n_files == 0) {
                return 0;
            }
            start_file(s, st, &st->files[0]);
        }
        if (st->path[0] == '\0') {
            set_path(s, st);
        }
        if (st->fd < 0) {
            int rc = open_cur(s, st, err, cap);
            if (rc < 0) {
                return rc;
            }
            if (rc == 0) {
                dfile_t nf;
                if (!next_file(s, st, &nf)) {
                    return 0; /* not written yet (the index names it), or gone: wait */
                }
                if (st->line > 0 || st->byte > 0) {
                    warnf(s, "data file %s is gone after line %" PRId64 ": going on with %s",
                          st->path, st->line, nf.name);
                } else {
                    warnf(s, "data file %s is gone before it was read: going on with %s", st->path,
                          nf.name);
                }
                start_file(s, st, &nf);
                continue;
            }
        }
        uint8_t *nl = st->len > st->pos ? memchr(st->buf + st->pos, '\n', st->len - st->pos) : NULL;
        if (nl != NULL) {
            size_t n = (size_t)(nl - (st->buf + st->pos));
            st->peeked = n + 1;
            if (n > 0 && st->buf[st->pos + n - 1] == '\r') {
                n--;
            }
            out->p = st->buf + st->pos;
            out->len = n;
            out->file = st->path;
            out->line = st->line + 1;
            return 1;
        }
        if (st->len - st->pos > max_line) {
            snprintf(err, cap, "a line longer than %zu bytes: file=%s line=%" PRId64, max_line,
                     st->path, st->line + 1);
            return TR_ETOOBIG;
        }
        if (!st->eof) {
            if (st->pos > 0) {
                memmove(st->buf, st->buf + st->pos, st->len - st->pos);
                st->len -= st->pos;
                st->pos = 0;
            }
            if (st->buf_cap - st->len < READ_CHUNK) {
                st->buf_cap = st->len + READ_CHUNK;
                st->buf = tr_realloc(st->buf, st->buf_cap);
            }
            ssize_t r = pread(st->fd, st->buf + st->len, st->buf_cap - st->len, (off_t)st->rd_off);
            if (r < 0) {
                if (errno == EINTR) {
                    continue;
                }
                int e = -errno;
                snprintf(err, cap, "cannot read %s/%s: %s", s->root, st->path, tr_strerror(e));
                return e;
            }
            if (r == 0) {
                st->eof = true;
            }
            st->len += (size_t)r;
            st->rd_off += r;
            continue;
        }
        dfile_t nf;
        bool has_next = next_file(s, st, &nf);
        if (!has_next) {
            return 0; /* the stream's end so far (a partial line: still being written)
                       */
        }
        if (st->len > st->pos) {
            warnf(s,
                  "partial last line skipped: file=%s line=%" PRId64 " (%zu bytes without a "
                  "terminator, and a later file exists: TiCDC stopped while writing "
                  "it and "
                  "writes its rows again after its restart)",
                  st->path, st->line + 1, st->len - st->pos);
        }
        start_file(s, st, &nf);
    }
}

void tr_storage_stream_take(tr_storage_source_t *s, size_t i)
{
    stream_t *st = s->streams[i];
    if (st->peeked == 0) {
        return;
    }
    st->pos += st->peeked;
    st->byte += (int64_t)st->peeked;
    st->line++;
    st->peeked = 0;
}

bool tr_storage_stream_is_repeat(tr_storage_source_t *s, size_t i, int64_t commit_ts)
{
    stream_t *st = s->streams[i];
    if (st->has_last) {
        if (commit_ts < st->last_ts) {
            return true;
        }
        if (commit_ts == st->last_ts &&
            (strcmp(st->last_date, st->cur.date) != 0 || st->last_number != st->cur.dn.number)) {
            return true;
        }
    }
    st->has_last = true;
    st->last_ts = commit_ts;
    snprintf(st->last_date, sizeof(st->last_date), "%s", st->cur.date);
    st->last_number = st->cur.dn.number;
    return false;
}

void tr_storage_source_rest(tr_storage_source_t *s)
{
    for (size_t i = 0; i < s->n_streams; i++) {
        stream_t *st = s->streams[i];
        stream_close(st);
        tr_free(st->buf);
        st->buf = NULL;
        st->buf_cap = 0;
    }
}

void tr_storage_source_mark(tr_storage_source_t *s)
{
    for (size_t i = 0; i < s->n_streams; i++) {
        stream_t *st = s->streams[i];
        st->saved.has_file = st->has_file;
        st->saved.cur = st->cur;
        st->saved.line = st->line;
        st->saved.byte = st->byte;
        st->saved.checked = st->checked;
        st->saved.has_last = st->has_last;
        st->saved.last_ts = st->last_ts;
        memcpy(st->saved.last_date, st->last_date, sizeof(st->last_date));
        st->saved.last_number = st->last_number;
    }
}

void tr_storage_source_rewind(tr_storage_source_t *s)
{
    tr_storage_source_rest(s);
    for (size_t i = 0; i < s->n_streams; i++) {
        stream_t *st = s->streams[i];
        st->has_file = st->saved.has_file;
        st->cur = st->saved.cur;
        st->line = st->saved.line;
        st->byte = st->saved.byte;
        st->checked = st->saved.checked;
        st->has_last = st->saved.has_last;
        st->last_ts = st->saved.last_ts;
        memcpy(st->last_date, st->saved.last_date, sizeof(st->last_date));
        st->last_number = st->saved.last_number;
        st->path[0] = '\0';
    }
}

char *tr_storage_source_position(const tr_storage_source_t *s, int64_t checkpoint)
{
    tr_storage_position_t p;
    memset(&p, 0, sizeof(p));
    p.checkpoint = checkpoint;
    p.streams = tr_calloc(s->n_streams ? s->n_streams : 1, sizeof(*p.streams));
    for (size_t i = 0; i < s->n_streams; i++) {
        const stream_t *st = s->streams[i];
        if (!st->has_file) {
            continue; /* starts at its first file anyway */
        }
        tr_storage_pos_stream_t *ps = &p.streams[p.n++];
        ps->key = st->key; /* borrowed for the format */
        snprintf(ps->cur.file, sizeof(ps->cur.file), "%s%s%s", st->cur.date,
                 st->cur.date[0] ? "/" : "", st->cur.name);
        ps->cur.line = st->line;
        ps->cur.byte = st->byte;
    }
    char *text = tr_storage_position_format(s->root, &p);
    tr_free(p.streams);
    return text;
}
