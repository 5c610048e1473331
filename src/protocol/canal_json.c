/*
 * TiCDC canal-json messages (see canal_json.h): a validating one-pass parser that returns
 * views, iterators over the flat objects it found, JSON string decoding, and the conversion
 * of each value's text into the datum the row encoder takes for its column.
 *
 * The parser is written for the shape TiCDC produces (no whitespace, a dozen top-level keys,
 * short strings) but accepts any valid JSON: keys in any order, unknown keys and whitespace
 * anywhere. Strings are scanned 16 bytes at a time with SSE2 where the compiler targets it
 * (every x86-64), a byte table elsewhere; nothing is allocated and every read is checked
 * against the end of the input (never a NUL terminator: messages are not C strings).
 *
 * Pure codec: no I/O, no logging, no allocation.
 * Follows RFC 8259 (JSON), tiflow pkg/sink/codec/canal/canal_json_row_event_encoder.go and
 * canal_json_message.go (the message), cdc/entry/mounter.go formatColVal and canal_entry.go
 * formatValue (how each value becomes text), pkg/sink/codec/utils/mysql_types.go and TiDB
 * pkg/parser/types/etc.go TypeToStr (the "mysqlType" names).
 */
#include "protocol/canal_json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/err.h"
#include "common/hex.h"
#include "common/utf8.h"
#include "protocol/pow5_table.h"

/* The empty string every absent or null string field points to (never NULL, so callers may
 * pass it to memcmp/memcpy). */
static const uint8_t empty_text[1] = {0};

/* ---------------------------------------------------------------- scanning */

/* Bytes that end a run of plain string characters: '"', '\\' and the control characters
 * U+0000..U+001F, which JSON does not allow raw inside a string. */
static const uint8_t str_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

/* The first byte at or after p (up to end) that is a str_stop byte, or end. With want_high,
 * bytes >= 0x80 stop too (decoding validates UTF-8 sequence by sequence). */
static inline const uint8_t *find_stop(const uint8_t *p, const uint8_t *end, bool want_high)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i bslash = _mm_set1_epi8('\\');
    const __m128i ctl = _mm_set1_epi8(0x1F);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash));
        m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v)); /* v <= 0x1F */
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (want_high) {
            bits |= (unsigned)_mm_movemask_epi8(v); /* the top bit of each byte */
        }
        if (bits != 0) {
            return p + __builtin_ctz(bits);
        }
        p += 16;
    }
#endif
    while (p < end && !str_stop[*p] && (!want_high || *p < 0x80)) {
        p++;
    }
    return p;
}

/*
 * Scans a string's body: *pp points just after the opening quote; on success it points at
 * the closing quote and *has_esc says whether a backslash was seen. Escapes are checked for
 * syntax (the escaped character, four hex digits after \u); surrogate pairing and UTF-8 are
 * left to tr_canal_str_decode.
 */
static inline int scan_string(const uint8_t **pp, const uint8_t *end, bool *has_esc,
                              const char **why)
{
    const uint8_t *p = *pp;
    bool esc = false;
    for (;;) {
        p = find_stop(p, end, false);
        if (p == end) {
            *why = "unterminated string";
            return TR_EMALFORMED;
        }
        if (*p == '"') {
            *pp = p;
            *has_esc = esc;
            return 0;
        }
        if (*p != '\\') {
            *why = "control character in a string";
            return TR_EMALFORMED;
        }
        esc = true;
        if (end - p < 2) {
            *why = "unterminated string";
            return TR_EMALFORMED;
        }
        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            p += 2;
            break;
        case 'u':
            if (end - p < 6 || (int32_t)tr_hex4(p + 2) < 0) {
                *why = "bad \\u escape";
                return TR_EMALFORMED;
            }
            p += 6;
            break;
        default:
            *why = "bad escape in a string";
            return TR_EMALFORMED;
        }
    }
}

static inline const uint8_t *skip_ws(const uint8_t *p, const uint8_t *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) {
        p++;
    }
    return p;
}

static inline bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* Scans a JSON number at p (RFC 8259 grammar); returns its end, or NULL. *is_int says it
 * has neither fraction nor exponent. */
static const uint8_t *scan_number(const uint8_t *p, const uint8_t *end, bool *is_int)
{
    if (p < end && *p == '-') {
        p++;
    }
    if (p == end || !is_digit(*p)) {
        return NULL;
    }
    if (*p == '0') {
        p++;
    } else {
        while (p < end && is_digit(*p)) {
            p++;
        }
    }
    bool is_integer = true;
    if (p < end && *p == '.') {
        is_integer = false;
        p++;
        if (p == end || !is_digit(*p)) {
            return NULL;
        }
        while (p < end && is_digit(*p)) {
            p++;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        is_integer = false;
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }
        if (p == end || !is_digit(*p)) {
            return NULL;
        }
        while (p < end && is_digit(*p)) {
            p++;
        }
    }
    *is_int = is_integer;
    return p;
}

/* Matches the literal word at p ("true", "false", "null"); returns its end or NULL. */
static inline const uint8_t *scan_literal(const uint8_t *p, const uint8_t *end, const char *word,
                                          size_t n)
{
    if ((size_t)(end - p) < n || memcmp(p, word, n) != 0) {
        return NULL;
    }
    return p + n;
}

static const uint8_t *skip_container(const uint8_t *p, const uint8_t *end, int depth, int max_depth,
                                     const char **why);

/*
 * Skips one value at p (no leading whitespace), validating it. depth is the nesting of the
 * container holding it (0 for a document's root value); containers nest at most max_depth
 * deep. Returns the end of the value, or NULL with *why.
 */
static const uint8_t *skip_value(const uint8_t *p, const uint8_t *end, int depth, int max_depth,
                                 const char **why)
{
    if (p == end) {
        *why = "truncated: a value is missing";
        return NULL;
    }
    const uint8_t *q;
    bool flag;
    switch (*p) {
    case '"':
        p++;
        if (scan_string(&p, end, &flag, why) != 0) {
            return NULL;
        }
        return p + 1;
    case '{':
    case '[':
        return skip_container(p, end, depth + 1, max_depth, why);
    case 't':
        q = scan_literal(p, end, "true", 4);
        break;
    case 'f':
        q = scan_literal(p, end, "false", 5);
        break;
    case 'n':
        q = scan_literal(p, end, "null", 4);
        break;
    default:
        q = scan_number(p, end, &flag);
        break;
    }
    if (q == NULL) {
        *why = "not a JSON value";
    }
    return q;
}

/* Skips the object or array at p, which sits at nesting depth. */
static const uint8_t *skip_container(const uint8_t *p, const uint8_t *end, int depth, int max_depth,
                                     const char **why)
{
    if (depth > max_depth) {
        *why = "nesting too deep";
        return NULL;
    }
    bool is_obj = *p == '{';
    uint8_t close = is_obj ? '}' : ']';
    p = skip_ws(p + 1, end);
    if (p < end && *p == close) {
        return p + 1;
    }
    for (;;) {
        if (is_obj) {
            if (p == end || *p != '"') {
                *why = p == end ? "truncated object" : "object key is not a string";
                return NULL;
            }
            bool esc;
            p++;
            if (scan_string(&p, end, &esc, why) != 0) {
                return NULL;
            }
            p = skip_ws(p + 1, end);
            if (p == end || *p != ':') {
                *why = p == end ? "truncated object" : "missing ':' after an object key";
                return NULL;
            }
            p = skip_ws(p + 1, end);
        }
        p = skip_value(p, end, depth, max_depth, why);
        if (p == NULL) {
            return NULL;
        }
        p = skip_ws(p, end);
        if (p == end) {
            *why = is_obj ? "truncated object" : "truncated array";
            return NULL;
        }
        if (*p == close) {
            return p + 1;
        }
        if (*p != ',') {
            *why = is_obj ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array";
            return NULL;
        }
        p = skip_ws(p + 1, end);
    }
}

/* ---------------------------------------------------------------- values of the envelope */

/* JSON type of a value, from its first byte. */
typedef enum {
    T_ABSENT = 0,
    T_NULL,
    T_STRING,
    T_NUMBER,
    T_TRUE,
    T_FALSE,
    T_OBJECT,
    T_ARRAY,
} jtype_t;

static jtype_t type_of(uint8_t c)
{
    switch (c) {
    case '"':
        return T_STRING;
    case '{':
        return T_OBJECT;
    case '[':
        return T_ARRAY;
    case 't':
        return T_TRUE;
    case 'f':
        return T_FALSE;
    case 'n':
        return T_NULL;
    default:
        return T_NUMBER;
    }
}

/* After an object's member at *pp: whitespace, then ',' (returns 1, *pp past it and the
 * whitespace after) or '}' (returns 0, *pp past it); anything else is TR_EMALFORMED. */
static int after_member(const uint8_t **pp, const uint8_t *end, const char **why)
{
    const uint8_t *p = skip_ws(*pp, end);
    if (p == end) {
        *why = "truncated object";
        return TR_EMALFORMED;
    }
    if (*p == '}') {
        *pp = p + 1;
        return 0;
    }
    if (*p != ',') {
        *why = "expected ',' or '}' in an object";
        return TR_EMALFORMED;
    }
    *pp = skip_ws(p + 1, end);
    return 1;
}

/*
 * Reads one member of an object: p points just past the key's opening quote. Fills key and
 * val as tr_canal_obj_next returns them; depth is the nesting of the object (its values'
 * containers count from there). Returns the end of the value, or NULL with *why.
 */
static const uint8_t *read_member(const uint8_t *p, const uint8_t *end, int depth,
                                  tr_canal_str_t *key, tr_canal_val_t *val, const char **why)
{
    const uint8_t *kb = p;
    if (scan_string(&p, end, &key->has_escapes, why) != 0) {
        return NULL;
    }
    key->raw = tr_slice(kb, (size_t)(p - kb));
    p = skip_ws(p + 1, end);
    if (p == end || *p != ':') {
        *why = p == end ? "truncated object" : "missing ':' after an object key";
        return NULL;
    }
    p = skip_ws(p + 1, end);
    if (p == end) {
        *why = "truncated: a value is missing";
        return NULL;
    }
    const uint8_t *vb = p;
    val->str.has_escapes = false;
    switch (*p) {
    case '"':
        p++;
        vb = p;
        if (scan_string(&p, end, &val->str.has_escapes, why) != 0) {
            return NULL;
        }
        val->kind = TR_CANAL_VAL_STRING;
        val->str.raw = tr_slice(vb, (size_t)(p - vb));
        return p + 1;
    case 'n':
        p = scan_literal(p, end, "null", 4);
        val->kind = TR_CANAL_VAL_NULL;
        val->str.raw = tr_slice(empty_text, 0);
        break;
    default: {
        jtype_t t = type_of(*p);
        p = skip_value(p, end, depth, TR_CANAL_MAX_DEPTH, why);
        if (p == NULL) {
            return NULL;
        }
        val->kind = t == T_NUMBER  ? TR_CANAL_VAL_NUMBER
                    : t == T_TRUE  ? TR_CANAL_VAL_TRUE
                    : t == T_FALSE ? TR_CANAL_VAL_FALSE
                                   : TR_CANAL_VAL_OTHER;
        val->str.raw = tr_slice(vb, (size_t)(p - vb));
        break;
    }
    }
    if (p == NULL) {
        *why = "not a JSON value";
    }
    return p;
}

/* Where parse puts the members of the images it reads (tr_canal_parse_images). */
typedef struct {
    tr_canal_member_t *v;
    size_t room;
    size_t used;
    size_t needed;
} member_sink_t;

/* One value of a known key: its type and text (a string's body, otherwise the whole value). */
typedef struct {
    jtype_t type;
    bool esc; /* T_STRING: holds a backslash */
    const uint8_t *b;
    const uint8_t *e;
    /* T_ARRAY, when asked for: */
    size_t n;           /* elements */
    jtype_t first_type; /* of the first element */
    const uint8_t *first_b;
    const uint8_t *first_e;
    bool all_strings;
    bool number_is_int; /* T_NUMBER: no fraction or exponent */
    /* T_ARRAY read with a member sink: the first element's members (NULL: no room) */
    const tr_canal_member_t *members;
    size_t n_members;
} tok_t;

/*
 * Reads the object at p (a '{' in a container at nesting depth) member by member into the
 * sink, validating as skip_value does. Returns its end, or NULL with *why.
 */
static const uint8_t *read_members(const uint8_t *p, const uint8_t *end, int depth,
                                   member_sink_t *sink, tok_t *t, const char **why)
{
    depth++; /* the object's own */
    if (depth > TR_CANAL_MAX_DEPTH) {
        *why = "nesting too deep";
        return NULL;
    }
    size_t first = sink->used;
    size_t n = 0;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        p++;
    } else {
        for (;;) {
            if (p == end || *p != '"') {
                *why = p == end ? "truncated object" : "object key is not a string";
                return NULL;
            }
            tr_canal_member_t m;
            p = read_member(p + 1, end, depth, &m.key, &m.val, why);
            if (p == NULL) {
                return NULL;
            }
            if (first + n < sink->room) {
                sink->v[first + n] = m;
            }
            n++;
            int more = after_member(&p, end, why);
            if (more < 0) {
                return NULL;
            }
            if (more == 0) {
                break;
            }
        }
    }
    sink->needed += n;
    if (first + n <= sink->room) {
        t->members = sink->v + first;
        sink->used = first + n;
    }
    t->n_members = n;
    return p;
}

/* Reads the value at p (no leading whitespace) into *t, validating it; with want_elems,
 * arrays are walked element by element (count, first element, all strings). */
static const uint8_t *read_value(const uint8_t *p, const uint8_t *end, int depth, bool want_elems,
                                 member_sink_t *sink, tok_t *t, const char **why)
{
    t->members = NULL;
    t->n_members = 0;
    if (p == end) {
        *why = "truncated: a value is missing";
        return NULL;
    }
    t->type = type_of(*p);
    t->b = p;
    if (t->type == T_STRING) {
        p++;
        t->b = p;
        if (scan_string(&p, end, &t->esc, why) != 0) {
            return NULL;
        }
        t->e = p;
        return p + 1;
    }
    if (t->type == T_NUMBER) {
        const uint8_t *q = scan_number(p, end, &t->number_is_int);
        if (q == NULL) {
            *why = "not a JSON value";
            return NULL;
        }
        t->e = q;
        return q;
    }
    if (t->type == T_ARRAY && want_elems) {
        if (depth + 1 > TR_CANAL_MAX_DEPTH) {
            *why = "nesting too deep";
            return NULL;
        }
        t->n = 0;
        t->all_strings = true;
        p = skip_ws(p + 1, end);
        if (p < end && *p == ']') {
            t->e = p + 1;
            return p + 1;
        }
        for (;;) {
            const uint8_t *eb = p;
            if (t->n == 0 && sink != NULL && p < end && *p == '{') {
                p = read_members(p, end, depth + 1, sink, t, why);
            } else {
                p = skip_value(p, end, depth + 1, TR_CANAL_MAX_DEPTH, why);
            }
            if (p == NULL) {
                return NULL;
            }
            if (t->n == 0) {
                t->first_type = type_of(*eb);
                t->first_b = eb;
                t->first_e = p;
            }
            if (*eb != '"') {
                t->all_strings = false;
            }
            t->n++;
            p = skip_ws(p, end);
            if (p == end) {
                *why = "truncated array";
                return NULL;
            }
            if (*p == ']') {
                t->e = p + 1;
                return p + 1;
            }
            if (*p != ',') {
                *why = "expected ',' or ']' in an array";
                return NULL;
            }
            p = skip_ws(p + 1, end);
        }
    }
    if (t->type == T_OBJECT && sink != NULL) {
        p = read_members(p, end, depth, sink, t, why); /* mysqlType */
    } else {
        p = skip_value(p, end, depth, TR_CANAL_MAX_DEPTH, why);
    }
    t->e = p;
    return p;
}

/* Strict unsigned decimal (digits only, no sign) into *v; false on overflow or syntax. */
static bool parse_u64(const uint8_t *p, size_t n, uint64_t *v)
{
    if (n == 0 || n > 20) {
        return false;
    }
    /* 19 digits always fit: only a 20th can overflow. */
    size_t head = n < 19 ? n : 19;
    uint64_t x = 0;
    for (size_t i = 0; i < head; i++) {
        unsigned d = (unsigned)p[i] - '0';
        if (d > 9) {
            return false;
        }
        x = x * 10 + d;
    }
    if (n == 20) {
        unsigned d = (unsigned)p[19] - '0';
        if (d > 9 || x > (UINT64_MAX - d) / 10) {
            return false;
        }
        x = x * 10 + d;
    }
    *v = x;
    return true;
}

/* Optional '-' then digits, within int64. */
static bool parse_i64(const uint8_t *p, size_t n, int64_t *v)
{
    bool neg = n > 0 && p[0] == '-';
    uint64_t u;
    if (!parse_u64(p + neg, n - neg, &u)) {
        return false;
    }
    if (neg) {
        if (u > (uint64_t)INT64_MAX + 1) {
            return false;
        }
        *v = (int64_t)(0 - u);
    } else {
        if (u > (uint64_t)INT64_MAX) {
            return false;
        }
        *v = (int64_t)u;
    }
    return true;
}

static tr_canal_str_t str_of(const tok_t *t)
{
    tr_canal_str_t s = {{empty_text, 0}, false};
    if (t->type == T_STRING) {
        s.raw.p = t->b;
        s.raw.len = (size_t)(t->e - t->b);
        s.has_escapes = t->esc;
    }
    return s;
}

/* ---------------------------------------------------------------- keys */

enum {
    K_OTHER = 0,
    K_DATABASE,
    K_TABLE,
    K_PKNAMES,
    K_ISDDL,
    K_TYPE,
    K_ES,
    K_SQL,
    K_SQLTYPE,
    K_MYSQLTYPE,
    K_DATA,
    K_OLD,
    K_TIDB,
    K_COUNT,
    /* members of _tidb */
    K_COMMIT_TS = K_COUNT,
    K_WATERMARK_TS,
    K_ONLY_HANDLE_KEY,
    K_CLAIM_CHECK,
    K_ALL,
};

/* A known key as it stands in a message: the quoted name and the colon TiCDC writes right
 * after it, matched in place (so it holds no escape and needs no scan), and the id it reads
 * as. */
typedef struct {
    char text[24];
    uint8_t len; /* the quoted name's, without the colon */
    uint8_t id;
} key_def_t;

#define KEY_DEF(name, k)                                                                           \
    {                                                                                              \
        "\"" name "\":", sizeof(name) + 1, k                                                       \
    }
/* The envelope's keys in the order TiCDC writes them (tiflow canal_json_row_event_encoder.go
 * newJSONMessageForDML): expected_key tries the one after the last matched, read_key any. */
static const key_def_t envelope_keys[] = {
    KEY_DEF("id", K_OTHER),
    KEY_DEF("database", K_DATABASE),
    KEY_DEF("table", K_TABLE),
    KEY_DEF("pkNames", K_PKNAMES),
    KEY_DEF("isDdl", K_ISDDL),
    KEY_DEF("type", K_TYPE),
    KEY_DEF("es", K_ES),
    KEY_DEF("ts", K_OTHER),
    KEY_DEF("sql", K_SQL),
    KEY_DEF("sqlType", K_SQLTYPE),
    KEY_DEF("mysqlType", K_MYSQLTYPE),
    KEY_DEF("old", K_OLD),
    KEY_DEF("data", K_DATA),
    KEY_DEF("_tidb", K_TIDB),
};
static const key_def_t tidb_keys[] = {
    KEY_DEF("commitTs", K_COMMIT_TS),
    KEY_DEF("watermarkTs", K_WATERMARK_TS),
    KEY_DEF("onlyHandleKey", K_ONLY_HANDLE_KEY),
    KEY_DEF("claimCheckLocation", K_CLAIM_CHECK),
};
#undef KEY_DEF

/* The keys of one object and the one expected next (past the last key matched). */
typedef struct {
    const key_def_t *defs;
    size_t n;
    size_t next;
} key_set_t;

/* Whether the text at p (end - p bytes) starts with k's quoted name: 2 with the colon right
 * after it, 1 without, 0 not at all. One compare for the names up to 13 characters. */
static inline int key_at(const uint8_t *p, const uint8_t *end, const key_def_t *k)
{
    size_t n = (size_t)(end - p);
#if defined(__SSE2__)
    if (k->len < 16 && n >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i w = _mm_loadu_si128((const __m128i *)(const void *)k->text);
        unsigned eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, w));
        unsigned name = (1u << k->len) - 1;
        return (eq & name) != name ? 0 : (eq >> k->len) & 1 ? 2 : 1;
    }
#endif
    if (n < k->len || memcmp(p, k->text, k->len) != 0) {
        return 0;
    }
    return n > k->len && p[k->len] == ':' ? 2 : 1;
}

/* The known key whose quoted name starts at p, the one after the last match first, then the
 * others in order (*how: key_at's answer); NULL for any other key. */
static inline const key_def_t *key_in_place(key_set_t *ks, const uint8_t *p, const uint8_t *end,
                                            int *how)
{
    size_t j = ks->next;
    for (size_t i = 0; i < ks->n; i++, j++) {
        if (j == ks->n) {
            j = 0;
        }
        if ((*how = key_at(p, end, &ks->defs[j])) != 0) {
            ks->next = j + 1;
            return &ks->defs[j];
        }
    }
    return NULL;
}

/* The id of the key named k (n bytes, decoded), K_OTHER when it is none of ks's. */
static int key_named(const key_set_t *ks, const uint8_t *k, size_t n)
{
    for (size_t j = 0; j < ks->n; j++) {
        const key_def_t *d = &ks->defs[j];
        if ((size_t)d->len == n + 2 && memcmp(d->text + 1, k, n) == 0) {
            return d->id;
        }
    }
    return K_OTHER;
}

/* The key ks expects (the one after the last matched) when it stands at *pp with its colon
 * right after, as TiCDC writes it: sets *id and moves *pp past the colon and the whitespace
 * after it. Small, so that it is inlined where keys are read; read_key does the rest. */
static inline bool expected_key(key_set_t *ks, const uint8_t **pp, const uint8_t *end, int *id)
{
    if (ks->next < ks->n && key_at(*pp, end, &ks->defs[ks->next]) == 2) {
        *id = ks->defs[ks->next].id;
        *pp = skip_ws(*pp + ks->defs[ks->next].len + 1, end);
        ks->next++;
        return true;
    }
    return false;
}

/* Reads a key at p (which must be a '"'), leaving *pp after the ':' and whitespace. Returns
 * the key's id among ks's (escaped keys are decoded first; one longer than any known key is
 * K_OTHER). */
static int read_key(const uint8_t **pp, const uint8_t *end, key_set_t *ks, int *id,
                    const char **why)
{
    const uint8_t *p = *pp;
    if (p == end || *p != '"') {
        *why = p == end ? "truncated object" : "object key is not a string";
        return TR_EMALFORMED;
    }
    int how;
    const key_def_t *known = key_in_place(ks, p, end, &how);
    if (known != NULL && how == 2) {
        *id = known->id;
        *pp = skip_ws(p + known->len + 1, end);
        return 0;
    }
    if (known != NULL) {
        *id = known->id;
        p += known->len - 1; /* at the closing quote */
    } else {
        const uint8_t *kb = ++p;
        bool esc;
        int rc = scan_string(&p, end, &esc, why);
        if (rc != 0) {
            return rc;
        }
        const uint8_t *k = kb;
        size_t n = (size_t)(p - kb);
        uint8_t buf[32];
        if (esc) {
            /* "\u0064ata" is "data": rare, so decode rather than teach the matcher escapes. */
            if (n > sizeof(buf)) {
                n = 0;
            } else {
                tr_canal_str_t str = {{kb, n}, true};
                ssize_t m = tr_canal_str_decode(&str, buf, why);
                if (m < 0) {
                    return (int)m;
                }
                k = buf;
                n = (size_t)m;
            }
        }
        *id = key_named(ks, k, n);
    }
    p = skip_ws(p + 1, end);
    if (p == end || *p != ':') {
        *why = p == end ? "truncated object" : "missing ':' after an object key";
        return TR_EMALFORMED;
    }
    *pp = skip_ws(p + 1, end);
    return 0;
}

/* Reads the members of the _tidb object at p into toks[K_COMMIT_TS..]. */
static const uint8_t *read_tidb(const uint8_t *p, const uint8_t *end, tok_t *toks, const char **why)
{
    /* _tidb is a member of the root object: its members sit at depth 2. */
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        return p + 1;
    }
    key_set_t ks = {tidb_keys, TR_ARRAY_LEN(tidb_keys), 0};
    for (;;) {
        int id;
        if (!expected_key(&ks, &p, end, &id) && read_key(&p, end, &ks, &id, why) != 0) {
            return NULL;
        }
        tok_t t;
        p = read_value(p, end, 2, false, NULL, &t, why);
        if (p == NULL) {
            return NULL;
        }
        if (id != K_OTHER) {
            toks[id] = t;
        }
        int more = after_member(&p, end, why);
        if (more <= 0) {
            return more == 0 ? p : NULL;
        }
    }
}

/* A string field: absent or null is "". */
static int want_string(const tok_t *t, tr_canal_str_t *out, const char **why, const char *bad)
{
    if (t->type != T_ABSENT && t->type != T_NULL && t->type != T_STRING) {
        *why = bad;
        return TR_EMALFORMED;
    }
    *out = str_of(t);
    return 0;
}

/* An unsigned integer field of _tidb. */
static int want_ts(const tok_t *t, bool *has, uint64_t *v, const char **why, const char *bad)
{
    *has = false;
    *v = 0;
    if (t->type == T_ABSENT || t->type == T_NULL) {
        return 0;
    }
    if (t->type != T_NUMBER || !parse_u64(t->b, (size_t)(t->e - t->b), v)) {
        *why = bad;
        return TR_EMALFORMED;
    }
    *has = true;
    return 0;
}

/* A data/old field of a row: an array holding exactly one object. */
static int want_row_image(const tok_t *t, tr_slice_t *out, bool required, const char **why,
                          const char *missing, const char *bad)
{
    if (t->type == T_ABSENT || t->type == T_NULL) {
        if (required) {
            *why = missing;
            return TR_EMALFORMED;
        }
        return 0;
    }
    if (t->type != T_ARRAY || t->n != 1 || t->first_type != T_OBJECT) {
        *why = bad;
        return TR_EMALFORMED;
    }
    *out = tr_slice(t->first_b, (size_t)(t->first_e - t->first_b));
    return 0;
}

static int want_object(const tok_t *t, tr_slice_t *out, const char **why, const char *bad)
{
    if (t->type == T_ABSENT || t->type == T_NULL) {
        return 0;
    }
    if (t->type != T_OBJECT) {
        *why = bad;
        return TR_EMALFORMED;
    }
    *out = tr_slice(t->b, (size_t)(t->e - t->b));
    return 0;
}

/* ---------------------------------------------------------------- parse */

/* "es": a signed integer (milliseconds); absent or null is 0. */
static int want_es(const tok_t *t, int64_t *v, const char **why)
{
    if (t->type == T_ABSENT || t->type == T_NULL) {
        return 0;
    }
    if (t->type != T_NUMBER || !parse_i64(t->b, (size_t)(t->e - t->b), v)) {
        *why = "es is not an integer";
        return TR_EMALFORMED;
    }
    return 0;
}

/* database and table, which rows and DDL use. */
static int want_names(const tok_t *toks, tr_canal_msg_t *out, const char **why)
{
    int rc = want_string(&toks[K_DATABASE], &out->database, why, "database is not a string");
    if (rc == 0) {
        rc = want_string(&toks[K_TABLE], &out->table, why, "table is not a string");
    }
    return rc;
}

/* The fields of a DDL: database, table, sql and _tidb.commitTs. */
static int parse_ddl(const tok_t *toks, tr_canal_msg_t *out, const char **why)
{
    int rc = want_names(toks, out, why);
    if (rc == 0) {
        rc = want_string(&toks[K_SQL], &out->sql, why, "sql is not a string");
    }
    if (rc == 0) {
        rc = want_ts(&toks[K_COMMIT_TS], &out->has_commit_ts, &out->commit_ts, why,
                     "_tidb.commitTs is not an unsigned integer");
    }
    return rc;
}

/* The fields of a row change: names, the images and types, pkNames, and _tidb's commitTs,
 * onlyHandleKey and claimCheckLocation. Malformed fields are reported before a missing
 * commitTs, so a broken message is never blamed on the changefeed's settings. */
static int parse_row(const tok_t *toks, tr_canal_msg_t *out, const char **why)
{
    int rc = want_names(toks, out, why);
    if (rc == 0) {
        rc = want_ts(&toks[K_COMMIT_TS], &out->has_commit_ts, &out->commit_ts, why,
                     "_tidb.commitTs is not an unsigned integer");
    }
    if (rc == 0) {
        rc = want_row_image(&toks[K_DATA], &out->data, true, why, "row without data",
                            "data is not an array of one object");
    }
    if (rc == 0) {
        /* TiCDC always sends old with an UPDATE (a subset of the columns with
         * only-output-updated-columns); an UPDATE without it is left to the caller. */
        rc = want_row_image(&toks[K_OLD], &out->old, false, why, NULL,
                            "old is not an array of one object");
    }
    if (rc == 0) {
        out->data_members = toks[K_DATA].members;
        out->n_data_members = out->data_members != NULL ? toks[K_DATA].n_members : 0;
        out->old_members = toks[K_OLD].members;
        out->n_old_members = out->old_members != NULL ? toks[K_OLD].n_members : 0;
        rc = want_object(&toks[K_MYSQLTYPE], &out->mysql_type, why, "mysqlType is not an object");
        out->type_members = toks[K_MYSQLTYPE].members;
        out->n_type_members = out->type_members != NULL ? toks[K_MYSQLTYPE].n_members : 0;
    }
    if (rc == 0) {
        rc = want_object(&toks[K_SQLTYPE], &out->sql_type, why, "sqlType is not an object");
    }
    if (rc != 0) {
        return rc;
    }
    const tok_t *pk = &toks[K_PKNAMES];
    if (pk->type == T_ARRAY && pk->all_strings) {
        out->n_pk_names = pk->n;
        out->pk_names = tr_slice(pk->b, (size_t)(pk->e - pk->b));
    } else if (pk->type != T_ABSENT && pk->type != T_NULL) {
        *why = "pkNames is not an array of strings";
        return TR_EMALFORMED;
    }
    const tok_t *ohk = &toks[K_ONLY_HANDLE_KEY];
    if (ohk->type != T_ABSENT && ohk->type != T_NULL && ohk->type != T_TRUE &&
        ohk->type != T_FALSE) {
        *why = "_tidb.onlyHandleKey is not a boolean";
        return TR_EMALFORMED;
    }
    out->only_handle_key = ohk->type == T_TRUE;
    const tok_t *cc = &toks[K_CLAIM_CHECK];
    if (cc->type != T_ABSENT && cc->type != T_NULL && cc->type != T_STRING) {
        *why = "_tidb.claimCheckLocation is not a string";
        return TR_EMALFORMED;
    }
    out->has_claim_check = cc->type == T_STRING;
    if (!out->has_commit_ts) {
        *why = "row without _tidb.commitTs (enable-tidb-extension is off)";
        return TR_EUNSUPPORTED;
    }
    return 0;
}

/*
 * What parse checks, per the header: the whole message is validated as JSON (grammar,
 * escapes' syntax, nesting; string contents are checked as UTF-8 when decoded). Then the
 * fields each kind uses are type-checked and filled in: isDdl, type, es and _tidb for every
 * kind; database, table, sql and _tidb.commitTs for a DDL; _tidb.watermarkTs for a
 * watermark; database, table, pkNames, data, old, mysqlType, sqlType and the _tidb members
 * for a row. Other fields stay at their empty defaults whatever they hold. null counts as
 * absent everywhere (as Go's decoder has it), a repeated key keeps its last value (a
 * repeated _tidb replaces the whole object), and "id" and "ts" are ignored.
 */

static int parse(const uint8_t *p, size_t len, tr_canal_msg_t *out, member_sink_t *sink,
                 const char **why);

int tr_canal_parse(const uint8_t *p, size_t len, tr_canal_msg_t *out, const char **why)
{
    return parse(p, len, out, NULL, why);
}

int tr_canal_parse_images(const uint8_t *p, size_t len, tr_canal_msg_t *out,
                          tr_canal_member_t *members, size_t room, const char **why)
{
    member_sink_t sink = {members, room, 0, 0};
    return parse(p, len, out, &sink, why);
}

/* sink: where the images' members go (NULL: not read). */
static int parse(const uint8_t *p, size_t len, tr_canal_msg_t *out, member_sink_t *sink,
                 const char **why)
{
    const uint8_t *end = p + len;
    tok_t toks[K_ALL];
    for (int i = 0; i < K_ALL; i++) {
        toks[i].type = T_ABSENT;
        toks[i].members = NULL;
        toks[i].n_members = 0;
    }
    memset(out, 0, sizeof(*out));
    out->type.raw.p = out->database.raw.p = out->table.raw.p = out->sql.raw.p = empty_text;

    p = skip_ws(p, end);
    if (p == end || *p != '{') {
        *why = p == end ? "empty message" : "message is not a JSON object";
        return TR_EMALFORMED;
    }
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        p++;
    } else {
        key_set_t ks = {envelope_keys, TR_ARRAY_LEN(envelope_keys), 0};
        for (;;) {
            int id;
            if (!expected_key(&ks, &p, end, &id)) {
                int rc = read_key(&p, end, &ks, &id, why);
                if (rc != 0) {
                    return rc;
                }
            }
            tok_t *t = &toks[id];
            if (id == K_TIDB) {
                for (int k = K_COMMIT_TS; k < K_ALL; k++) {
                    toks[k].type = T_ABSENT; /* a repeated _tidb replaces the whole */
                }
            }
            if (id == K_TIDB && p < end && *p == '{') {
                t->type = T_OBJECT;
                p = read_tidb(p, end, toks, why);
            } else {
                bool images = id == K_DATA || id == K_OLD;
                p = read_value(p, end, 1, images || id == K_PKNAMES,
                               images || id == K_MYSQLTYPE ? sink : NULL, t, why);
            }
            if (p == NULL) {
                return TR_EMALFORMED;
            }
            int more = after_member(&p, end, why);
            if (more < 0) {
                return more;
            }
            if (more == 0) {
                break;
            }
        }
    }
    if (skip_ws(p, end) != end) {
        *why = "bytes after the message's object";
        return TR_EMALFORMED;
    }
    if (sink != NULL) {
        out->members_needed = sink->needed;
    }

    /* The fields every kind uses: isDdl and type decide the kind, es, and _tidb. */
    const tok_t *ddl = &toks[K_ISDDL];
    if (ddl->type != T_ABSENT && ddl->type != T_NULL && ddl->type != T_TRUE &&
        ddl->type != T_FALSE) {
        *why = "isDdl is not a boolean";
        return TR_EMALFORMED;
    }
    int rc = want_string(&toks[K_TYPE], &out->type, why, "type is not a string");
    if (rc == 0) {
        rc = want_es(&toks[K_ES], &out->es, why);
    }
    if (rc != 0) {
        return rc;
    }
    const tok_t *tidb = &toks[K_TIDB];
    if (tidb->type != T_ABSENT && tidb->type != T_NULL && tidb->type != T_OBJECT) {
        *why = "_tidb is not an object";
        return TR_EMALFORMED;
    }

    if (ddl->type == T_TRUE) {
        out->kind = TR_CANAL_DDL;
        return parse_ddl(toks, out, why);
    }
    if (tr_canal_str_eq(&out->type, "TIDB_WATERMARK", 14)) {
        out->kind = TR_CANAL_WATERMARK;
        rc = want_ts(&toks[K_WATERMARK_TS], &out->has_watermark_ts, &out->watermark_ts, why,
                     "_tidb.watermarkTs is not an unsigned integer");
        if (rc == 0 && !out->has_watermark_ts) {
            *why = "TIDB_WATERMARK without _tidb.watermarkTs";
            rc = TR_EUNSUPPORTED;
        }
        return rc;
    }
    if (tr_canal_str_eq(&out->type, "UPDATE", 6)) {
        out->kind = TR_CANAL_UPDATE;
    } else if (tr_canal_str_eq(&out->type, "INSERT", 6)) {
        out->kind = TR_CANAL_INSERT;
    } else if (tr_canal_str_eq(&out->type, "DELETE", 6)) {
        out->kind = TR_CANAL_DELETE;
    } else {
        *why = "type is none of INSERT, UPDATE, DELETE, TIDB_WATERMARK and isDdl is false";
        return TR_EUNSUPPORTED;
    }
    return parse_row(toks, out, why);
}

/* ---------------------------------------------------------------- iterators */

tr_canal_obj_iter_t tr_canal_obj_iter(tr_slice_t obj)
{
    tr_canal_obj_iter_t it = {obj, 0};
    return it;
}

/* pos of an iterator that has seen the closing bracket. (pos == len is not the end: a
 * member that runs to the end of the slice leaves the object unclosed.) */
#define ITER_DONE SIZE_MAX

/* After the closing '}' or ']' at p: only whitespace may follow; the iterator ends. */
static int iter_end(const uint8_t *p, const uint8_t *end, size_t *pos, const char **why)
{
    if (skip_ws(p + 1, end) != end) {
        *why = "bytes after the end of an object or array";
        return TR_EMALFORMED;
    }
    *pos = ITER_DONE;
    return 0;
}

/* What differs between an object and an array when stepping through one. */
typedef struct {
    uint8_t open, close;
    const char *not_one;     /* the slice does not start with open */
    const char *truncated;   /* the slice ends inside it */
    const char *no_sep;      /* neither ',' nor close after a member */
    const char *not_string;  /* a member (object key, array element) is not a string */
} iter_kind_t;

/*
 * The step both iterators share: from *pos past the opening bracket or the previous member's
 * ',' to the next member's string, which must begin there. Returns 1 with *out just past its
 * opening quote, 0 at the end (the slice is then checked to end there, *pos ITER_DONE), or
 * TR_EMALFORMED with *why.
 */
static int iter_step(const iter_kind_t *k, tr_slice_t sl, size_t *pos, const uint8_t **out,
                     const char **why)
{
    if (sl.len == 0 || *pos == ITER_DONE) {
        return 0; /* the empty slice, or done */
    }
    if (*pos > sl.len) {
        *why = "iterator position past its slice";
        return TR_EMALFORMED;
    }
    const uint8_t *end = sl.p + sl.len;
    const uint8_t *p = skip_ws(sl.p + *pos, end);
    if (*pos == 0) {
        if (p == end || *p != k->open) {
            *why = k->not_one;
            return TR_EMALFORMED;
        }
        p = skip_ws(p + 1, end);
        if (p < end && *p == k->close) {
            return iter_end(p, end, pos, why);
        }
    } else {
        if (p == end) {
            *why = k->truncated;
            return TR_EMALFORMED;
        }
        if (*p == k->close) {
            return iter_end(p, end, pos, why);
        }
        if (*p != ',') {
            *why = k->no_sep;
            return TR_EMALFORMED;
        }
        p = skip_ws(p + 1, end);
    }
    if (p == end || *p != '"') {
        *why = p == end ? k->truncated : k->not_string;
        return TR_EMALFORMED;
    }
    *out = p + 1;
    return 1;
}

int tr_canal_obj_next(tr_canal_obj_iter_t *it, tr_canal_str_t *key, tr_canal_val_t *val,
                      const char **why)
{
    static const iter_kind_t kind = {'{', '}', "not a JSON object", "truncated object",
                                     "expected ',' or '}' in an object",
                                     "object key is not a string"};
    const uint8_t *p = NULL;
    int rc = iter_step(&kind, it->obj, &it->pos, &p, why);
    if (rc <= 0) {
        return rc; /* before any pointer arithmetic: an empty slice may have a NULL p */
    }
    /* The object sits at depth 1 of its own text. */
    p = read_member(p, it->obj.p + it->obj.len, 1, key, val, why);
    if (p == NULL) {
        return TR_EMALFORMED;
    }
    it->pos = (size_t)(p - it->obj.p);
    return 1;
}

tr_canal_arr_iter_t tr_canal_arr_iter(tr_slice_t arr)
{
    tr_canal_arr_iter_t it = {arr, 0};
    return it;
}

int tr_canal_arr_next(tr_canal_arr_iter_t *it, tr_canal_str_t *name, const char **why)
{
    static const iter_kind_t kind = {'[', ']', "not a JSON array", "truncated array",
                                     "expected ',' or ']' in an array",
                                     "array element is not a string"};
    const uint8_t *p = NULL;
    int rc = iter_step(&kind, it->arr, &it->pos, &p, why);
    if (rc <= 0) {
        return rc; /* before any pointer arithmetic: an empty slice may have a NULL p */
    }
    const uint8_t *b = it->arr.p;
    const uint8_t *end = b + it->arr.len;
    const uint8_t *sb = p;
    rc = scan_string(&p, end, &name->has_escapes, why);
    if (rc != 0) {
        return rc;
    }
    name->raw = tr_slice(sb, (size_t)(p - sb));
    it->pos = (size_t)(p + 1 - b);
    return 1;
}

/* ---------------------------------------------------------------- strings */

/*
 * Decodes the escape at p (a backslash; p < end) into u[0..*n); returns the bytes of input
 * it used (2, 6 or 12 for a surrogate pair), or TR_EMALFORMED. Every escape's UTF-8 is no
 * longer than its escaped form, which is why decoding fits in raw.len bytes (and u may
 * point into the output).
 */
static inline ssize_t decode_escape(const uint8_t *p, const uint8_t *end, uint8_t *u, size_t *n,
                                    const char **why)
{
    if (end - p < 2) {
        *why = "unterminated escape";
        return TR_EMALFORMED;
    }
    uint8_t c;
    switch (p[1]) {
    case '"':
        c = '"';
        break;
    case '\\':
        c = '\\';
        break;
    case '/':
        c = '/';
        break;
    case 'b':
        c = '\b';
        break;
    case 'f':
        c = '\f';
        break;
    case 'n':
        c = '\n';
        break;
    case 'r':
        c = '\r';
        break;
    case 't':
        c = '\t';
        break;
    case 'u': {
        int32_t cp = end - p >= 6 ? (int32_t)tr_hex4(p + 2) : -1;
        if (cp < 0) {
            *why = "bad \\u escape";
            return TR_EMALFORMED;
        }
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            *why = "lone low surrogate";
            return TR_EMALFORMED;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            int32_t lo = end - p >= 12 && p[6] == '\\' && p[7] == 'u' ? (int32_t)tr_hex4(p + 8) : -1;
            if (lo < 0xDC00 || lo > 0xDFFF) {
                *why = "lone high surrogate";
                return TR_EMALFORMED;
            }
            uint32_t full = 0x10000u + (((uint32_t)cp - 0xD800u) << 10) + ((uint32_t)lo - 0xDC00u);
            *n = tr_utf8_encode(u, full);
            return 12;
        }
        *n = tr_utf8_encode(u, (uint32_t)cp);
        return 6;
    }
    default:
        *why = "bad escape in a string";
        return TR_EMALFORMED;
    }
    u[0] = c;
    *n = 1;
    return 2;
}

/*
 * The end of the run of non-ASCII UTF-8 sequences at p (p < end, *p >= 0x80), or NULL when
 * one of them is not valid UTF-8 as Go's utf8.DecodeRune has it (common/utf8.h): no overlong
 * forms, no surrogates, nothing above U+10FFFF, nothing cut short. Inline and run-at-a-time
 * because binary columns arrive as text that is half two-byte sequences.
 */
static inline const uint8_t *utf8_run(const uint8_t *p, const uint8_t *end)
{
    while (p < end && *p >= 0x80) {
        uint8_t c = *p;
        size_t left = (size_t)(end - p);
        if (c >= 0xC2 && c <= 0xDF) {
            if (left < 2 || (p[1] & 0xC0) != 0x80) {
                return NULL;
            }
            p += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            if (left < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
                (c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F)) {
                return NULL; /* cut short, overlong, or a surrogate */
            }
            p += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            if (left < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
                (p[3] & 0xC0) != 0x80 || (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F)) {
                return NULL; /* cut short, overlong, or above U+10FFFF */
            }
            p += 4;
        } else {
            return NULL; /* a continuation byte, C0, C1 or F5..FF */
        }
    }
    return p;
}

/*
 * The decoder behind tr_canal_str_decode (out != NULL: writes) and tr_canal_str_eq (out ==
 * NULL: compares with cmp[0..cmp_len) and returns 1 or 0). Inlined into both, so each gets
 * its own loop. Plain runs are found 16 bytes at a time and copied whole; non-ASCII runs are
 * checked as UTF-8 and copied whole; escapes are written straight into out.
 */
static inline ssize_t decode_str(const uint8_t *p, size_t len, uint8_t *out, const uint8_t *cmp,
                                 size_t cmp_len, const char **why)
{
    const uint8_t *end = p + len;
    size_t n = 0;
    for (;;) {
        /* The run up to the next quote, backslash or control character, across valid
         * non-ASCII sequences. */
        const uint8_t *q = p;
        for (;;) {
            q = find_stop(q, end, true);
            if (q == end || *q < 0x80) {
                break;
            }
            q = utf8_run(q, end);
            if (q == NULL) {
                *why = "string is not valid UTF-8";
                return TR_EMALFORMED;
            }
        }
        size_t run = (size_t)(q - p);
        if (run > 0) {
            if (out != NULL) {
                memmove(out + n, p, run);
            } else if (run > cmp_len - n || memcmp(cmp + n, p, run) != 0) {
                return 0;
            }
            n += run;
        }
        p = q;
        if (p == end) {
            break;
        }
        if (*p != '\\') {
            *why = *p == '"' ? "raw '\"' in a string" : "control character in a string";
            return TR_EMALFORMED;
        }
        uint8_t u[4];
        size_t un;
        ssize_t used = decode_escape(p, end, out != NULL ? out + n : u, &un, why);
        if (used < 0) {
            return used;
        }
        if (out == NULL && (un > cmp_len - n || memcmp(cmp + n, u, un) != 0)) {
            return 0;
        }
        n += un;
        p += used;
    }
    if (out == NULL) {
        return n == cmp_len;
    }
    return (ssize_t)n;
}

ssize_t tr_canal_str_decode(const tr_canal_str_t *s, uint8_t *out, const char **why)
{
    return decode_str(s->raw.p, s->raw.len, out, NULL, 0, why);
}

bool tr_canal_str_eq(const tr_canal_str_t *s, const char *text, size_t len)
{
    if (!s->has_escapes) {
        return s->raw.len == len && (len == 0 || memcmp(s->raw.p, text, len) == 0);
    }
    if (len > s->raw.len) {
        return false; /* a decoded string is never longer than its escaped form */
    }
    const char *why;
    return decode_str(s->raw.p, s->raw.len, NULL, (const uint8_t *)text, len, &why) == 1;
}

ssize_t tr_canal_latin1_bytes(const uint8_t *text, size_t len, uint8_t *out, const char **why)
{
    size_t i = 0;
    size_t n = 0;
    while (i < len) {
        uint8_t b = text[i];
        if (b < 0x80) {
            out[n++] = b;
            i++;
            continue;
        }
        /* U+0080..U+00FF are C2 80..C3 BF in UTF-8. */
        if ((b == 0xC2 || b == 0xC3) && i + 1 < len && (text[i + 1] & 0xC0) == 0x80) {
            out[n++] = (uint8_t)((b & 0x03) << 6 | (text[i + 1] & 0x3F));
            i += 2;
            continue;
        }
        uint32_t cp;
        *why = tr_utf8_decode(text + i, len - i, &cp) != 0
                   ? "binary string holds a character above U+00FF"
                   : "binary string is not valid UTF-8";
        return TR_EMALFORMED;
    }
    return (ssize_t)n;
}

/* ---------------------------------------------------------------- values */

/* Two decimal digits at p (checked by the caller's is_digit tests). */
static inline bool two_digits(const uint8_t *p, int *v)
{
    if (!is_digit(p[0]) || !is_digit(p[1])) {
        return false;
    }
    *v = (p[0] - '0') * 10 + (p[1] - '0');
    return true;
}

/* '.' and 1..6 digits at p[0..n): microseconds; the digits past fsp must be zeros. */
static int parse_frac(const uint8_t *p, size_t n, int fsp, uint32_t *us, const char **why)
{
    if (n < 2 || p[0] != '.' || n - 1 > 6) {
        *why = "fraction of seconds is not 1 to 6 digits";
        return TR_ESCHEMA;
    }
    uint32_t v = 0;
    for (size_t i = 1; i < n; i++) {
        if (!is_digit(p[i])) {
            *why = "fraction of seconds is not 1 to 6 digits";
            return TR_ESCHEMA;
        }
        if ((int)i > fsp && p[i] != '0') {
            *why = "fraction of seconds longer than the column's precision";
            return TR_ESCHEMA;
        }
        v = v * 10 + (uint32_t)(p[i] - '0');
    }
    for (size_t i = n - 1; i < 6; i++) {
        v *= 10;
    }
    *us = v;
    return 0;
}

/* 'YYYY-MM-DD[ hh:mm:ss[.ffffff]]' (TiDB types.Time.String) -> packed time. */
static int parse_time(const tr_tidb_column_t *c, const uint8_t *s, size_t n, tr_datum_t *out,
                      const char **why)
{
    tr_tidb_time_t t = {0};
    int y_hi;
    int y_lo;
    if (n < 10 || !two_digits(s, &y_hi) || !two_digits(s + 2, &y_lo) || s[4] != '-' ||
        !two_digits(s + 5, &t.month) || s[7] != '-' || !two_digits(s + 8, &t.day)) {
        *why = "not a date: YYYY-MM-DD";
        return TR_ESCHEMA;
    }
    t.year = y_hi * 100 + y_lo;
    if (n > 10) {
        if (n < 19 || s[10] != ' ' || !two_digits(s + 11, &t.hour) || s[13] != ':' ||
            !two_digits(s + 14, &t.minute) || s[16] != ':' || !two_digits(s + 17, &t.second)) {
            *why = "not a time of day: hh:mm:ss";
            return TR_ESCHEMA;
        }
        if (n > 19) {
            int rc = parse_frac(s + 19, n - 19, c->def.meta, &t.microsecond, why);
            if (rc != 0) {
                return rc;
            }
        }
    }
    /* Zero months and days are what MySQL and TiDB keep for zero dates and NO_ZERO_IN_DATE
     * off; days past a month's end exist with ALLOW_INVALID_DATES. */
    if (t.month > 12 || t.day > 31 || t.hour > 23 || t.minute > 59 || t.second > 59) {
        *why = "date or time field out of range";
        return TR_ESCHEMA;
    }
    if ((c->tp == TR_TIDB_TP_DATE || c->tp == TR_TIDB_TP_NEWDATE) &&
        (t.hour | t.minute | t.second | (int)t.microsecond) != 0) {
        *why = "DATE value with a time of day";
        return TR_ESCHEMA;
    }
    out->kind = TR_DATUM_UINT;
    out->flag = TR_DATUM_FLAG_UINT;
    out->u = tr_tidb_time_pack(&t);
    return 0;
}

/* '[-]hh[h]:mm:ss[.ffffff]' (TiDB types.Duration.String) -> nanoseconds. */
static int parse_duration(const tr_tidb_column_t *c, const uint8_t *s, size_t n, tr_datum_t *out,
                          const char **why)
{
    size_t i = 0;
    bool neg = n > 0 && s[0] == '-';
    i += neg;
    size_t h0 = i;
    uint64_t hours = 0;
    while (i < n && is_digit(s[i]) && i - h0 < 3) {
        hours = hours * 10 + (uint64_t)(s[i] - '0');
        i++;
    }
    int minute;
    int second;
    if (i - h0 < 2 || n - i < 6 || s[i] != ':' || !two_digits(s + i + 1, &minute) ||
        s[i + 3] != ':' || !two_digits(s + i + 4, &second)) {
        *why = "not a time: [-]hh:mm:ss";
        return TR_ESCHEMA;
    }
    i += 6;
    uint32_t us = 0;
    if (i < n) {
        int rc = parse_frac(s + i, n - i, c->def.meta, &us, why);
        if (rc != 0) {
            return rc;
        }
    }
    uint64_t total_us = ((hours * 60 + (uint64_t)minute) * 60 + (uint64_t)second) * 1000000 + us;
    /* MySQL's and TiDB's TIME range: -838:59:59 .. 838:59:59. */
    if (minute > 59 || second > 59 || total_us > 3020399ull * 1000000) {
        *why = "time out of range -838:59:59..838:59:59";
        return TR_ESCHEMA;
    }
    int64_t ns = (int64_t)(total_us * 1000);
    out->kind = TR_DATUM_DURATION;
    out->flag = TR_DATUM_FLAG_DURATION;
    out->i = neg ? -ns : ns;
    return 0;
}

/* Checks decimal text '[-]ddd[.fff]' (TiDB MyDecimal.String) against the column's
 * (precision, scale): the integer digits fit in precision - scale, and no non-zero digit
 * lies past the scale (rows.c tr_rows_put_decimal_str, which writes it, agrees). */
static int check_decimal(const tr_tidb_column_t *c, const uint8_t *s, size_t n, const char **why)
{
    int prec = c->def.meta >> 8;
    int scale = c->def.meta & 0xFF;
    size_t i = n > 0 && s[0] == '-';
    size_t int_b = i;
    while (i < n && is_digit(s[i])) {
        i++;
    }
    size_t int_e = i;
    bool frac_ok = true;
    if (i < n && s[i] == '.') {
        i++;
        size_t f0 = i;
        while (i < n && is_digit(s[i])) {
            if (i - f0 >= (size_t)scale && s[i] != '0') {
                *why = "decimal has more fraction digits than the column's scale";
                return TR_ESCHEMA;
            }
            i++;
        }
        frac_ok = i > f0;
    }
    if (i != n || int_e == int_b || !frac_ok) {
        *why = "not a decimal number";
        return TR_ESCHEMA;
    }
    while (int_b < int_e && s[int_b] == '0') {
        int_b++; /* leading zeros take no room */
    }
    if ((int)(int_e - int_b) > prec - scale) {
        *why = "decimal has more integer digits than the column holds";
        return TR_ESCHEMA;
    }
    return 0;
}

/*
 * The double nearest a JSON number (s..s+n, grammar already checked) without strtod when that
 * is certain: w (the significant digits, at most 19) times 10^q is w * 5^q * 2^q, and the
 * 192-bit product of w and pow5_table.h's 128-bit T(q) <= 5^q / 2^E(q) < T(q) + 1 falls short
 * of the exact one by less than 2^64, far below the 2^138 of one unit in the last place. Only
 * when the bits below the 53-bit significand are that close to a tie can the truncation
 * change the rounding; then, for more digits, and for results outside the normal range
 * (subnormals, overflow) it returns false and the caller uses strtod (whose glibc
 * multi-precision path took a quarter of the writer on rows of 16- and 17-digit DOUBLEs).
 * The idea is Lemire's ("Number Parsing at a Gigabyte per Second", 2021).
 */
__extension__ typedef unsigned __int128 u128_t;

static bool fast_double(const uint8_t *s, size_t n, double *out)
{
    const uint8_t *p = s;
    const uint8_t *end = s + n;
    bool neg = p < end && *p == '-';
    p += neg;
    uint64_t w = 0;
    int digits = 0;
    int64_t q = 0; /* w * 10^q */
    bool frac = false;
    for (; p < end; p++) {
        if (*p == '.') {
            frac = true;
            continue;
        }
        if (!is_digit(*p)) {
            break;
        }
        if (w == 0 && *p == '0') {
            q -= frac; /* a leading zero: only the point moves */
            continue;
        }
        if (digits == 19) {
            if (*p != '0') {
                return false; /* a 20th significant digit */
            }
            q += !frac; /* a trailing zero ('f' notation of a large value) */
            continue;
        }
        w = w * 10 + (uint64_t)(*p - '0');
        digits++;
        q -= frac;
    }
    if (p < end) { /* 'e' or 'E', by the grammar */
        p++;
        bool eneg = p < end && *p == '-';
        p += p < end && (*p == '-' || *p == '+');
        int64_t x = 0;
        for (; p < end; p++) {
            x = x < 100000 ? x * 10 + (*p - '0') : x;
        }
        q += eneg ? -x : x;
    }
    if (w == 0) {
        *out = neg ? -0.0 : 0.0;
        return true;
    }
    if (q < TR_POW5_Q_MIN || q > TR_POW5_Q_MAX) {
        return false;
    }
    int lz = __builtin_clzll(w);
    uint64_t wn = w << lz;
    const tr_pow5_t *t = &tr_pow5_table[q - TR_POW5_Q_MIN];
    u128_t lo = (u128_t)wn * t->lo;
    u128_t hi = (u128_t)wn * t->hi;
    uint64_t p0 = (uint64_t)lo;
    u128_t mid = (lo >> 64) + (uint64_t)hi;
    uint64_t p1 = (uint64_t)mid;
    uint64_t p2 = (uint64_t)(hi >> 64) + (uint64_t)(mid >> 64); /* P = p2:p1:p0, >= 2^190 */
    int top = (int)(p2 >> 63);
    int sh = 10 + top; /* bits of p2 below the significand */
    uint64_t m = p2 >> sh;
    uint64_t rem = p2 & ((1ull << sh) - 1);
    uint64_t half = 1ull << (sh - 1);
    /* The exact product lies in [P, P + 2^64): decide the rounding for the whole interval. */
    bool up;
    if (rem > half) {
        up = true;
    } else if (rem == half) {
        if (p1 == 0 && p0 == 0) {
            return false; /* a tie, or just above one */
        }
        up = true;
    } else if (rem == half - 1 && p1 == UINT64_MAX && p0 != 0) {
        return false; /* just below a tie, or at it */
    } else {
        up = false;
    }
    m += up;
    int64_t e = 190 + top + t->e + q - lz;
    if (m == 1ull << 53) {
        m >>= 1;
        e++;
    }
    if (e < -1022 || e > 1023) {
        return false;
    }
    uint64_t bits = ((uint64_t)neg << 63) | ((uint64_t)(e + 1023) << 52) | (m & ((1ull << 52) - 1));
    memcpy(out, &bits, sizeof(bits));
    return true;
}

/* Fixed (or exponent) decimal text -> double / float32, finite. strtod needs a C string. */
static int parse_float(bool is_float, const uint8_t *s, size_t n, tr_datum_t *out, const char **why)
{
    char buf[400];
    bool is_int;
    if (n == 0 || n >= sizeof(buf) || scan_number(s, s + n, &is_int) != s + n) {
        *why = "not a floating-point number";
        return TR_ESCHEMA;
    }
    double v;
    if (is_float || !fast_double(s, n, &v)) {
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (is_float) {
            v = strtof(buf, NULL); /* rounded once, to float32 */
        } else {
            v = strtod(buf, NULL);
        }
    }
    if (isinf(v)) {
        *why = "floating-point number out of range";
        return TR_ESCHEMA;
    }
    out->kind = TR_DATUM_FLOAT;
    out->flag = TR_DATUM_FLAG_FLOAT;
    out->f = v;
    return 0;
}

/* Minimum and maximum of the signed integer types, by TiDB type code. */
static bool int_fits(uint8_t tp, bool is_unsigned, int64_t i, uint64_t u)
{
    int bits;
    switch (tp) {
    case TR_TIDB_TP_TINY:
        bits = 8;
        break;
    case TR_TIDB_TP_SHORT:
        bits = 16;
        break;
    case TR_TIDB_TP_INT24:
        bits = 24;
        break;
    case TR_TIDB_TP_LONG:
        bits = 32;
        break;
    default:
        return true;
    }
    if (is_unsigned) {
        return u < (1ull << bits);
    }
    int64_t lim = (int64_t)1 << (bits - 1);
    return i >= -lim && i < lim;
}

int tr_canal_value(const tr_tidb_column_t *c, const uint8_t *text, size_t len, tr_datum_t *out,
                   const char **why)
{
    memset(out, 0, sizeof(*out));
    if (!c->is_supported) {
        /* A column tidb_schema.c could not map to a replica's (VECTOR, a VARCHAR over 65535
         * bytes, a DECIMAL over 65 digits): translate.c refuses its table too. */
        *why = c->unsupported_why != NULL ? c->unsupported_why : "unsupported column type";
        return TR_EUNSUPPORTED;
    }
    switch (c->tp) {
    case TR_TIDB_TP_TINY:
    case TR_TIDB_TP_SHORT:
    case TR_TIDB_TP_INT24:
    case TR_TIDB_TP_LONG:
    case TR_TIDB_TP_LONGLONG:
    case TR_TIDB_TP_YEAR:
        if (c->is_unsigned) {
            if (!parse_u64(text, len, &out->u)) {
                *why = "not an unsigned integer within 64 bits";
                return TR_ESCHEMA;
            }
            out->kind = TR_DATUM_UINT;
            out->flag = TR_DATUM_FLAG_UINT;
        } else {
            if (!parse_i64(text, len, &out->i)) {
                *why = "not an integer within 64 bits";
                return TR_ESCHEMA;
            }
            out->kind = TR_DATUM_INT;
            out->flag = TR_DATUM_FLAG_INT;
        }
        if (c->tp == TR_TIDB_TP_YEAR) {
            uint64_t y = c->is_unsigned ? out->u : (uint64_t)out->i;
            if (y != 0 && (y < 1901 || y > 2155)) {
                *why = "YEAR out of range 1901..2155";
                return TR_ESCHEMA;
            }
        } else if (!int_fits(c->tp, c->is_unsigned, out->i, out->u)) {
            *why = "integer out of the column type's range";
            return TR_ESCHEMA;
        }
        return 0;
    case TR_TIDB_TP_FLOAT:
    case TR_TIDB_TP_DOUBLE:
        return parse_float(c->tp == TR_TIDB_TP_FLOAT, text, len, out, why);
    case TR_TIDB_TP_NEWDECIMAL: {
        int rc = check_decimal(c, text, len, why);
        if (rc != 0) {
            return rc;
        }
        out->kind = TR_DATUM_TEXT;
        out->precision = (uint8_t)(c->def.meta >> 8);
        out->frac = (uint8_t)(c->def.meta & 0xFF);
        out->bytes = tr_slice(text, len);
        return 0;
    }
    case TR_TIDB_TP_DATE:
    case TR_TIDB_TP_NEWDATE:
    case TR_TIDB_TP_DATETIME:
    case TR_TIDB_TP_TIMESTAMP:
        return parse_time(c, text, len, out, why);
    case TR_TIDB_TP_DURATION:
        return parse_duration(c, text, len, out, why);
    case TR_TIDB_TP_ENUM:
    case TR_TIDB_TP_SET:
    case TR_TIDB_TP_BIT: {
        uint64_t v;
        if (!parse_u64(text, len, &v)) {
            *why = "not an unsigned integer within 64 bits";
            return TR_ESCHEMA;
        }
        /* ENUM: 0 is the '' of an invalid value, 1..n the members; SET: one bit per member;
         * BIT(M): M bits. */
        bool fits = true;
        if (c->tp == TR_TIDB_TP_ENUM) {
            fits = v <= (c->n_elems > 0 ? c->n_elems : 65535);
        } else if (c->tp == TR_TIDB_TP_SET) {
            fits = c->n_elems == 0 || c->n_elems >= 64 || v >> c->n_elems == 0;
        } else {
            fits = c->flen <= 0 || c->flen >= 64 || v >> c->flen == 0;
        }
        if (!fits) {
            *why = "ENUM, SET or BIT value out of the column's range";
            return TR_ESCHEMA;
        }
        out->kind = TR_DATUM_UINT;
        out->flag = TR_DATUM_FLAG_UINT;
        out->u = v;
        return 0;
    }
    case TR_TIDB_TP_VARCHAR:
    case TR_TIDB_TP_VAR_STRING:
    case TR_TIDB_TP_STRING:
        /* A latin1 column's limit applies to its bytes after conversion (translate.c). */
        if (!c->to_latin1 && len > c->max_bytes) {
            *why = "string longer than its column";
            return TR_ESCHEMA;
        }
        out->kind = TR_DATUM_BYTES;
        out->flag = TR_DATUM_FLAG_COMPACT_BYTES;
        out->bytes = tr_slice(text, len);
        return 0;
    case TR_TIDB_TP_TINY_BLOB:
    case TR_TIDB_TP_BLOB:
    case TR_TIDB_TP_MEDIUM_BLOB:
    case TR_TIDB_TP_LONG_BLOB: {
        uint64_t max = c->blob_prefix >= 4 || c->blob_prefix == 0
                           ? UINT32_MAX
                           : (1ull << (8 * c->blob_prefix)) - 1;
        if (!c->to_latin1 && len > max) {
            *why = "blob longer than its column";
            return TR_ESCHEMA;
        }
        out->kind = TR_DATUM_BYTES;
        out->flag = TR_DATUM_FLAG_COMPACT_BYTES;
        out->bytes = tr_slice(text, len);
        return 0;
    }
    case TR_TIDB_TP_JSON: {
        /* One JSON document; MySQL and TiDB nest at most 100 deep. */
        const uint8_t *end = text + len;
        const uint8_t *p = skip_ws(text, end);
        const char *jwhy = NULL;
        p = skip_value(p, end, 0, 100, &jwhy);
        if (p == NULL || skip_ws(p, end) != end) {
            *why = "JSON column value is not one JSON document";
            return TR_ESCHEMA;
        }
        out->kind = TR_DATUM_TEXT;
        out->bytes = tr_slice(text, len);
        return 0;
    }
    default:
        *why = c->unsupported_why != NULL ? c->unsupported_why
                                          : "column type canal-json cannot carry to a replica";
        return TR_EUNSUPPORTED;
    }
}

/* ---------------------------------------------------------------- mysqlType */

/* Case-insensitive equality of p[0..n) and the lower-case word w. */
static bool word_eq(const uint8_t *p, size_t n, const char *w)
{
    size_t wn = strlen(w);
    if (n != wn) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[i];
        if (ch >= 'A' && ch <= 'Z') {
            ch = (uint8_t)(ch + 32);
        }
        if (ch != (uint8_t)w[i]) {
            return false;
        }
    }
    return true;
}

bool tr_canal_type_matches(const tr_tidb_column_t *c, const uint8_t *mysql_type, size_t len)
{
    /* The base name runs to '(' or ' '; flags ("unsigned", "zerofill") follow the length or
     * member list, whose closing parenthesis is the string's last one (members are quoted
     * and may hold anything, flags never hold a parenthesis). */
    size_t base_n = 0;
    while (base_n < len && mysql_type[base_n] != '(' && mysql_type[base_n] != ' ') {
        base_n++;
    }
    size_t flags_at = base_n;
    for (size_t i = len; i > base_n; i--) {
        if (mysql_type[i - 1] == ')') {
            flags_at = i;
            break;
        }
    }
    bool is_unsigned = false;
    for (size_t i = flags_at; i < len;) {
        while (i < len && mysql_type[i] == ' ') {
            i++;
        }
        size_t w0 = i;
        while (i < len && mysql_type[i] != ' ') {
            i++;
        }
        if (word_eq(mysql_type + w0, i - w0, "unsigned")) {
            is_unsigned = true;
        }
    }
    const uint8_t *b = mysql_type;
    bool bin = (c->charset != NULL && strcmp(c->charset, "binary") == 0) ||
               (c->collate != NULL && strcmp(c->collate, "binary") == 0);
    bool numeric = false;
    bool ok;
    switch (c->tp) {
    case TR_TIDB_TP_TINY:
        ok = word_eq(b, base_n, "tinyint");
        numeric = true;
        break;
    case TR_TIDB_TP_SHORT:
        ok = word_eq(b, base_n, "smallint");
        numeric = true;
        break;
    case TR_TIDB_TP_INT24:
        ok = word_eq(b, base_n, "mediumint");
        numeric = true;
        break;
    case TR_TIDB_TP_LONG:
        ok = word_eq(b, base_n, "int");
        numeric = true;
        break;
    case TR_TIDB_TP_LONGLONG:
        ok = word_eq(b, base_n, "bigint");
        numeric = true;
        break;
    case TR_TIDB_TP_FLOAT:
        ok = word_eq(b, base_n, "float");
        numeric = true;
        break;
    case TR_TIDB_TP_DOUBLE:
        ok = word_eq(b, base_n, "double");
        numeric = true;
        break;
    case TR_TIDB_TP_NEWDECIMAL:
        ok = word_eq(b, base_n, "decimal");
        numeric = true;
        break;
    case TR_TIDB_TP_DATE:
    case TR_TIDB_TP_NEWDATE:
        ok = word_eq(b, base_n, "date");
        break;
    case TR_TIDB_TP_DATETIME:
        ok = word_eq(b, base_n, "datetime");
        break;
    case TR_TIDB_TP_TIMESTAMP:
        ok = word_eq(b, base_n, "timestamp");
        break;
    case TR_TIDB_TP_DURATION:
        ok = word_eq(b, base_n, "time");
        break;
    case TR_TIDB_TP_YEAR:
        ok = word_eq(b, base_n, "year");
        break;
    case TR_TIDB_TP_VARCHAR:
        ok = word_eq(b, base_n, bin ? "varbinary" : "varchar");
        break;
    case TR_TIDB_TP_VAR_STRING:
        ok = word_eq(b, base_n, "var_string") || word_eq(b, base_n, bin ? "varbinary" : "varchar");
        break;
    case TR_TIDB_TP_STRING:
        ok = word_eq(b, base_n, bin ? "binary" : "char");
        break;
    case TR_TIDB_TP_TINY_BLOB:
        ok = word_eq(b, base_n, bin ? "tinyblob" : "tinytext");
        break;
    case TR_TIDB_TP_BLOB:
        ok = word_eq(b, base_n, bin ? "blob" : "text");
        break;
    case TR_TIDB_TP_MEDIUM_BLOB:
        ok = word_eq(b, base_n, bin ? "mediumblob" : "mediumtext");
        break;
    case TR_TIDB_TP_LONG_BLOB:
        ok = word_eq(b, base_n, bin ? "longblob" : "longtext");
        break;
    case TR_TIDB_TP_ENUM:
        ok = word_eq(b, base_n, "enum");
        break;
    case TR_TIDB_TP_SET:
        ok = word_eq(b, base_n, "set");
        break;
    case TR_TIDB_TP_BIT:
        ok = word_eq(b, base_n, "bit");
        break;
    case TR_TIDB_TP_JSON:
        ok = word_eq(b, base_n, "json");
        break;
    case TR_TIDB_TP_GEOMETRY:
        ok = word_eq(b, base_n, "geometry") || word_eq(b, base_n, "point") ||
             word_eq(b, base_n, "linestring") || word_eq(b, base_n, "polygon") ||
             word_eq(b, base_n, "multipoint") || word_eq(b, base_n, "multilinestring") ||
             word_eq(b, base_n, "multipolygon") || word_eq(b, base_n, "geometrycollection");
        break;
    default:
        ok = false;
        break;
    }
    /* TiCDC adds "unsigned" to every unsigned type but BIT and YEAR (field_types.go). */
    return ok && (!numeric || is_unsigned == c->is_unsigned);
}
