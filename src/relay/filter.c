/*
 * Replication filter (see filter.h): rule syntax, compiled rule lists, the
 * per-table cache, DDL job verdicts and the renaming of names in DDL text.
 *
 * Sources: MySQL 8.0 Reference Manual 19.2.5 "How Servers Evaluate
 * Replication Filtering Rules" (database options first, then table options in
 * the order do-table, ignore-table, wild-do-table, wild-ignore-table, and
 * "ignore when a do list exists and nothing matched"), replicate-wild-do-table
 * (LIKE patterns with % and _) and replicate-rewrite-db ("from->to");
 * pingcap/tidb pkg/util/filter/schema.go IsSystemSchema for the system schemas.
 * Pure: no I/O, no logging. DDL text is cut into tokens by
 * protocol/ddl_rewrite.h (quotes and comments respected).
 */
#include "relay/filter.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/mem.h"
#include "protocol/ddl_rewrite.h"

#define NAME_MAX_BYTES 192 /* 64 characters of up to 3 bytes (MySQL identifiers) */

/* One compiled rule: a database name or pattern (a) and a table one (b); renames
 * also name the target (c, d). Strings are owned. */
typedef struct {
    char *a;
    char *b;
    char *c;
    char *d;
    bool all_tables; /* wild rules: the table pattern is "%" */
} rule_t;

struct tr_filter {
    rule_t *rules[TR_FILTER_KIND_COUNT];
    size_t n[TR_FILTER_KIND_COUNT];
    size_t n_total;
    /* cache: open addressing by table id (0 = empty slot), emptied when gen changes */
    tr_filter_entry_t *slots;
    size_t cap; /* power of two */
    size_t used;
    int64_t gen;
    tr_filter_entry_t scratch; /* for ids that cannot be cached (<= 0) */
};

bool tr_filter_is_system_db(const char *db)
{
    static const char *const sys[] = {"mysql",          "sys",
                                      "information_schema", "performance_schema",
                                      "metrics_schema", "inspection_schema"};
    for (size_t i = 0; i < TR_ARRAY_LEN(sys); i++) {
        if (strcasecmp(db, sys[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------- syntax */

/* A database or table name as written in a rule: not empty, no backquote, '.', control
 * character or surrounding space, at most NAME_MAX_BYTES. */
static const char *check_name(const char *s, size_t len)
{
    if (len == 0) {
        return "empty name";
    }
    if (len > NAME_MAX_BYTES) {
        return "name longer than 64 characters";
    }
    if (isspace((unsigned char)s[0]) || isspace((unsigned char)s[len - 1])) {
        return "spaces around a name";
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            return "control character in a name";
        }
        if (c == '`') {
            return "names are written without backquotes";
        }
        if (c == '.') {
            return "'.' in a database or table name (not supported)";
        }
    }
    return NULL;
}

/* Index of the first '.' not escaped by a backslash, or len. */
static size_t pattern_dot(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\' && i + 1 < len) {
            i++;
        } else if (s[i] == '.') {
            return i;
        }
    }
    return len;
}

static const char *check_pattern(const char *s, size_t len)
{
    if (len == 0) {
        return "empty pattern";
    }
    if (len > NAME_MAX_BYTES) {
        return "pattern too long";
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '`') {
            return "control character or backquote in a pattern";
        }
        if (c == '\\') {
            if (i + 1 == len) {
                return "pattern ends with a lone backslash";
            }
            i++;
        } else if (c == '.') {
            return "more than one '.' in a pattern (escape a literal dot as \\.)";
        }
    }
    return NULL;
}

/* "db.table": where the dot is, or an error. */
static const char *split_table(const char *s, size_t len, size_t *dot)
{
    const char *p = memchr(s, '.', len);
    if (p == NULL) {
        return "expected db.table";
    }
    *dot = (size_t)(p - s);
    const char *e = check_name(s, *dot);
    if (e == NULL) {
        e = check_name(p + 1, len - *dot - 1);
    }
    return e;
}

/* "from->to": where the arrow is, with the trimmed sides. */
static const char *split_arrow(const char *s, size_t *from_len, const char **to, size_t *to_len)
{
    const char *arrow = strstr(s, "->");
    if (arrow == NULL) {
        return "expected from->to";
    }
    size_t fl = (size_t)(arrow - s);
    while (fl > 0 && isspace((unsigned char)s[fl - 1])) {
        fl--;
    }
    const char *t = arrow + 2;
    while (isspace((unsigned char)*t)) {
        t++;
    }
    size_t tl = strlen(t);
    while (tl > 0 && isspace((unsigned char)t[tl - 1])) {
        tl--;
    }
    if (strstr(t, "->") != NULL) {
        return "more than one '->'";
    }
    *from_len = fl;
    *to = t;
    *to_len = tl;
    return NULL;
}

static bool sys_n(const char *s, size_t len)
{
    char tmp[NAME_MAX_BYTES + 1];
    if (len > NAME_MAX_BYTES) {
        return false;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    return tr_filter_is_system_db(tmp);
}

int tr_filter_rule_check(tr_filter_kind_t kind, const char *text, const char **why)
{
    size_t len = strlen(text);
    const char *e = NULL;
    size_t dot = 0;
    switch (kind) {
    case TR_FILTER_DO_DB:
    case TR_FILTER_IGNORE_DB:
        e = check_name(text, len);
        if (e != NULL && memchr(text, '.', len) != NULL) {
            e = "expected a database name (a table goes to do-table/ignore-table)";
        }
        if (e == NULL && kind == TR_FILTER_DO_DB && sys_n(text, len)) {
            e = "system schemas never replicate";
        }
        break;
    case TR_FILTER_DO_TABLE:
    case TR_FILTER_IGNORE_TABLE:
        e = split_table(text, len, &dot);
        if (e == NULL && kind == TR_FILTER_DO_TABLE && sys_n(text, dot)) {
            e = "system schemas never replicate";
        }
        break;
    case TR_FILTER_WILD_DO_TABLE:
    case TR_FILTER_WILD_IGNORE_TABLE:
        dot = pattern_dot(text, len);
        if (dot == len) {
            e = "expected db_pattern.table_pattern (LIKE patterns: % any, _ one character)";
            break;
        }
        e = check_pattern(text, dot);
        if (e == NULL) {
            e = check_pattern(text + dot + 1, len - dot - 1);
        }
        break;
    case TR_FILTER_REWRITE_DB:
    case TR_FILTER_REWRITE_TABLE: {
        size_t fl = 0;
        size_t tl = 0;
        const char *to = NULL;
        e = split_arrow(text, &fl, &to, &tl);
        if (e != NULL) {
            e = kind == TR_FILTER_REWRITE_DB ? "expected from_db->to_db"
                                             : "expected db.table->db.table";
            break;
        }
        size_t d1 = 0;
        size_t d2 = 0;
        if (kind == TR_FILTER_REWRITE_DB) {
            e = check_name(text, fl);
            if (e == NULL) {
                e = check_name(to, tl);
            }
            d1 = fl;
            d2 = tl;
        } else {
            e = split_table(text, fl, &d1);
            if (e == NULL) {
                e = split_table(to, tl, &d2);
            }
        }
        if (e == NULL && sys_n(text, d1)) {
            e = "system schemas never replicate";
        }
        if (e == NULL && sys_n(to, d2)) {
            e = "cannot rename into a system schema";
        }
        break;
    }
    default:
        e = "unknown rule kind";
        break;
    }
    *why = e;
    return e == NULL ? 0 : TR_ECONFIG;
}

/* ---------------------------------------------------------------- compile */

static char *dup_n(const char *s, size_t n)
{
    char *d = tr_malloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void compile_rule(rule_t *r, tr_filter_kind_t kind, const char *text)
{
    size_t len = strlen(text);
    size_t dot = 0;
    memset(r, 0, sizeof(*r));
    switch (kind) {
    case TR_FILTER_DO_DB:
    case TR_FILTER_IGNORE_DB:
        r->a = dup_n(text, len);
        break;
    case TR_FILTER_DO_TABLE:
    case TR_FILTER_IGNORE_TABLE:
        dot = (size_t)((const char *)memchr(text, '.', len) - text);
        r->a = dup_n(text, dot);
        r->b = dup_n(text + dot + 1, len - dot - 1);
        break;
    case TR_FILTER_WILD_DO_TABLE:
    case TR_FILTER_WILD_IGNORE_TABLE:
        dot = pattern_dot(text, len);
        r->a = dup_n(text, dot);
        r->b = dup_n(text + dot + 1, len - dot - 1);
        r->all_tables = strcmp(r->b, "%") == 0;
        break;
    default: { /* rewrites */
        size_t fl = 0;
        size_t tl = 0;
        const char *to = NULL;
        (void)split_arrow(text, &fl, &to, &tl);
        if (kind == TR_FILTER_REWRITE_DB) {
            r->a = dup_n(text, fl);
            r->c = dup_n(to, tl);
        } else {
            size_t d1 = (size_t)((const char *)memchr(text, '.', fl) - text);
            size_t d2 = (size_t)((const char *)memchr(to, '.', tl) - to);
            r->a = dup_n(text, d1);
            r->b = dup_n(text + d1 + 1, fl - d1 - 1);
            r->c = dup_n(to, d2);
            r->d = dup_n(to + d2 + 1, tl - d2 - 1);
        }
        break;
    }
    }
}

void tr_filter_free(tr_filter_t *f)
{
    if (f == NULL) {
        return;
    }
    for (int k = 0; k < TR_FILTER_KIND_COUNT; k++) {
        for (size_t i = 0; i < f->n[k]; i++) {
            tr_free(f->rules[k][i].a);
            tr_free(f->rules[k][i].b);
            tr_free(f->rules[k][i].c);
            tr_free(f->rules[k][i].d);
        }
        tr_free(f->rules[k]);
    }
    tr_free(f->slots);
    tr_free(f);
}

int tr_filter_check(const tr_filter_rule_t *rules, size_t n, size_t *bad, const char **why)
{
    tr_filter_t *f = NULL;
    int rc = tr_filter_new(rules, n, &f, bad, why);
    tr_filter_free(f);
    return rc;
}

const tr_config_checks_t tr_filter_config_checks = {
    .filter_rule = tr_filter_rule_check,
    .filter_rules = tr_filter_check,
};

int tr_filter_new(const tr_filter_rule_t *rules, size_t n, tr_filter_t **out, size_t *bad,
                  const char **why)
{
    *out = NULL;
    *why = NULL;
    tr_filter_t *f = tr_calloc(1, sizeof(*f));
    for (size_t i = 0; i < n; i++) {
        tr_filter_kind_t k = rules[i].kind;
        if (tr_filter_rule_check(k, rules[i].text, why) != 0) {
            *bad = i;
            tr_filter_free(f);
            return TR_ECONFIG;
        }
        f->rules[k] = tr_realloc(f->rules[k], (f->n[k] + 1) * sizeof(rule_t));
        rule_t *r = &f->rules[k][f->n[k]];
        compile_rule(r, k, rules[i].text);
        /* A source renamed twice is ambiguous. */
        for (size_t j = 0; j < f->n[k] && (k == TR_FILTER_REWRITE_DB || k == TR_FILTER_REWRITE_TABLE);
             j++) {
            const rule_t *o = &f->rules[k][j];
            if (strcasecmp(o->a, r->a) == 0 &&
                (k == TR_FILTER_REWRITE_DB || strcasecmp(o->b, r->b) == 0)) {
                f->n[k]++;
                *bad = i;
                *why = "renamed twice (an earlier rule renames the same source)";
                tr_filter_free(f);
                return TR_ECONFIG;
            }
        }
        f->n[k]++;
        f->n_total++;
    }
    f->cap = 64;
    f->slots = tr_calloc(f->cap, sizeof(*f->slots));
    f->gen = INT64_MIN;
    *out = f;
    return 0;
}

bool tr_filter_has_rules(const tr_filter_t *f)
{
    return f != NULL && f->n_total > 0;
}

/* ---------------------------------------------------------------- matching */

static int fold(unsigned char c)
{
    return c < 0x80 ? tolower(c) : c;
}

/* Length of the UTF-8 character at s (1 for a stray byte). */
static size_t char_len(const char *s)
{
    unsigned char c = (unsigned char)s[0];
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    for (size_t i = 1; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            return i;
        }
    }
    return n;
}

/* SQL LIKE, case-insensitive for ASCII: % any run, _ one character, \x the byte x. */
static bool like(const char *p, const char *s)
{
    const char *star_p = NULL;
    const char *star_s = NULL;
    while (*s != '\0') {
        if (*p == '%') {
            while (*p == '%') {
                p++;
            }
            if (*p == '\0') {
                return true;
            }
            star_p = p;
            star_s = s;
            continue;
        }
        if (*p == '_') {
            p++;
            s += char_len(s);
            continue;
        }
        const char *lit = p;
        if (*p == '\\' && p[1] != '\0') {
            lit = p + 1;
        }
        if (*p != '\0' && fold((unsigned char)*lit) == fold((unsigned char)*s)) {
            p = lit + 1;
            s++;
            continue;
        }
        if (star_p == NULL) {
            return false;
        }
        p = star_p;
        star_s += char_len(star_s);
        s = star_s;
    }
    while (*p == '%') {
        p++;
    }
    return *p == '\0';
}

static bool eq(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

static bool in_db_list(const tr_filter_t *f, tr_filter_kind_t k, const char *db)
{
    for (size_t i = 0; i < f->n[k]; i++) {
        if (eq(f->rules[k][i].a, db)) {
            return true;
        }
    }
    return false;
}

/* Steps 1-2 of filter.h. */
static bool db_rules_pass(const tr_filter_t *f, const char *db)
{
    if (tr_filter_is_system_db(db)) {
        return false;
    }
    if (f == NULL) {
        return true;
    }
    if (f->n[TR_FILTER_DO_DB] > 0) {
        return in_db_list(f, TR_FILTER_DO_DB, db);
    }
    return !in_db_list(f, TR_FILTER_IGNORE_DB, db);
}

static bool has_table_rules(const tr_filter_t *f)
{
    return f->n[TR_FILTER_DO_TABLE] + f->n[TR_FILTER_IGNORE_TABLE] +
               f->n[TR_FILTER_WILD_DO_TABLE] + f->n[TR_FILTER_WILD_IGNORE_TABLE] >
           0;
}

static bool has_do_rules(const tr_filter_t *f)
{
    return f->n[TR_FILTER_DO_TABLE] + f->n[TR_FILTER_WILD_DO_TABLE] > 0;
}

bool tr_filter_table_kept(const tr_filter_t *f, const char *db, const char *table)
{
    if (!db_rules_pass(f, db)) {
        return false;
    }
    if (f == NULL || !has_table_rules(f)) {
        return true;
    }
    for (size_t i = 0; i < f->n[TR_FILTER_DO_TABLE]; i++) {
        const rule_t *r = &f->rules[TR_FILTER_DO_TABLE][i];
        if (eq(r->a, db) && eq(r->b, table)) {
            return true;
        }
    }
    for (size_t i = 0; i < f->n[TR_FILTER_IGNORE_TABLE]; i++) {
        const rule_t *r = &f->rules[TR_FILTER_IGNORE_TABLE][i];
        if (eq(r->a, db) && eq(r->b, table)) {
            return false;
        }
    }
    for (size_t i = 0; i < f->n[TR_FILTER_WILD_DO_TABLE]; i++) {
        const rule_t *r = &f->rules[TR_FILTER_WILD_DO_TABLE][i];
        if (like(r->a, db) && like(r->b, table)) {
            return true;
        }
    }
    for (size_t i = 0; i < f->n[TR_FILTER_WILD_IGNORE_TABLE]; i++) {
        const rule_t *r = &f->rules[TR_FILTER_WILD_IGNORE_TABLE][i];
        if (like(r->a, db) && like(r->b, table)) {
            return false;
        }
    }
    return !has_do_rules(f);
}

bool tr_filter_db_kept(const tr_filter_t *f, const char *db)
{
    if (!db_rules_pass(f, db)) {
        return false;
    }
    if (f == NULL || !has_table_rules(f)) {
        return true;
    }
    for (size_t i = 0; i < f->n[TR_FILTER_DO_TABLE]; i++) {
        if (eq(f->rules[TR_FILTER_DO_TABLE][i].a, db)) {
            return true;
        }
    }
    for (size_t i = 0; i < f->n[TR_FILTER_WILD_DO_TABLE]; i++) {
        if (like(f->rules[TR_FILTER_WILD_DO_TABLE][i].a, db)) {
            return true;
        }
    }
    for (size_t i = 0; i < f->n[TR_FILTER_WILD_IGNORE_TABLE]; i++) {
        const rule_t *r = &f->rules[TR_FILTER_WILD_IGNORE_TABLE][i];
        if (r->all_tables && like(r->a, db)) {
            return false;
        }
    }
    return !has_do_rules(f);
}

const char *tr_filter_db_name(const tr_filter_t *f, const char *db)
{
    for (size_t i = 0; f != NULL && i < f->n[TR_FILTER_REWRITE_DB]; i++) {
        if (eq(f->rules[TR_FILTER_REWRITE_DB][i].a, db)) {
            return f->rules[TR_FILTER_REWRITE_DB][i].c;
        }
    }
    return db;
}

void tr_filter_table_name(const tr_filter_t *f, const char *db, const char *table,
                          const char **db_out, const char **table_out)
{
    for (size_t i = 0; f != NULL && i < f->n[TR_FILTER_REWRITE_TABLE]; i++) {
        const rule_t *r = &f->rules[TR_FILTER_REWRITE_TABLE][i];
        if (eq(r->a, db) && eq(r->b, table)) {
            *db_out = r->c;
            *table_out = r->d;
            return;
        }
    }
    *db_out = tr_filter_db_name(f, db);
    *table_out = table;
}

/* ---------------------------------------------------------------- cache */

static size_t slot_of(const tr_filter_t *f, int64_t id)
{
    return (size_t)(((uint64_t)id * 0x9E3779B97F4A7C15ull) >> 20) & (f->cap - 1);
}

static void fill(const tr_filter_t *f, tr_filter_entry_t *e, int64_t id, const char *db,
                 const char *table)
{
    e->table_id = id;
    e->kept = tr_filter_table_kept(f, db, table);
    tr_filter_table_name(f, db, table, &e->db, &e->table);
}

static void grow(tr_filter_t *f)
{
    tr_filter_entry_t *old = f->slots;
    size_t old_cap = f->cap;
    f->cap *= 2;
    f->slots = tr_calloc(f->cap, sizeof(*f->slots));
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].table_id > 0) {
            size_t s = slot_of(f, old[i].table_id);
            while (f->slots[s].table_id != 0) {
                s = (s + 1) & (f->cap - 1);
            }
            f->slots[s] = old[i];
        }
    }
    tr_free(old);
}

const tr_filter_entry_t *tr_filter_lookup(tr_filter_t *f, int64_t gen, int64_t table_id,
                                          const char *db, const char *table)
{
    if (gen != f->gen) {
        memset(f->slots, 0, f->cap * sizeof(*f->slots));
        f->used = 0;
        f->gen = gen;
    }
    if (table_id <= 0) {
        fill(f, &f->scratch, table_id, db, table);
        return &f->scratch;
    }
    size_t s = slot_of(f, table_id);
    while (f->slots[s].table_id != 0) {
        if (f->slots[s].table_id == table_id) {
            return &f->slots[s];
        }
        s = (s + 1) & (f->cap - 1);
    }
    if ((f->used + 1) * 2 > f->cap) {
        grow(f);
        s = slot_of(f, table_id);
        while (f->slots[s].table_id != 0) {
            s = (s + 1) & (f->cap - 1);
        }
    }
    fill(f, &f->slots[s], table_id, db, table);
    f->used++;
    return &f->slots[s];
}

/* ---------------------------------------------------------------- DDL jobs */

typedef struct {
    int n_kept;
    int n_dropped;
} tally_t;

static void count(tally_t *t, bool kept)
{
    if (kept) {
        t->n_kept++;
    } else {
        t->n_dropped++;
    }
}

static const char *nz(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

/* The job's database: its DBInfo, its schema_name, or the schema's name for its schema id. */
static const char *job_db(const tr_schema_t *s, const tr_ddl_job_t *j)
{
    if (j->has_db_info && nz(j->db_name)) {
        return j->db_name;
    }
    if (nz(j->schema_name)) {
        return j->schema_name;
    }
    const char *d = s != NULL ? tr_schema_db_name(s, j->schema_id) : NULL;
    return d != NULL ? d : "";
}

/* The table's current (pre-job) database and name from the schema, if known. */
static bool old_names(const tr_schema_t *s, int64_t table_id, const char **db, const char **name)
{
    const tr_table_info_t *t = s != NULL && table_id > 0 ? tr_schema_table(s, table_id) : NULL;
    const char *d = t != NULL ? tr_schema_db_name(s, t->schema_id) : NULL;
    if (t == NULL || d == NULL) {
        return false;
    }
    *db = d;
    *name = t->name;
    return true;
}

static bool is_db_level(int type)
{
    /* ActionCreateSchema, ActionDropSchema, ActionModifySchemaCharsetAndCollate,
     * ActionModifySchemaDefaultPlacement (55) */
    return type == TR_TIDB_ACTION_CREATE_SCHEMA || type == TR_TIDB_ACTION_DROP_SCHEMA ||
           type == TR_TIDB_ACTION_MODIFY_SCHEMA_CHARSET || type == 55;
}

tr_filter_job_t tr_filter_job(const tr_filter_t *f, const tr_schema_t *s, const tr_ddl_job_t *j,
                              const char **db_out, const char **why)
{
    *why = NULL;
    const char *db = job_db(s, j);
    /* the QUERY event's default database is the job's schema_name, as Drainer's "use" */
    *db_out = tr_filter_db_name(f, j->schema_name != NULL ? j->schema_name : "");
    tally_t t = {0, 0};
    const char *od = NULL;
    const char *on = NULL;
    if (is_db_level(j->type)) {
        count(&t, tr_filter_db_kept(f, db));
    } else if (j->type == TR_TIDB_ACTION_RENAME_TABLES || j->type == TR_TIDB_ACTION_CREATE_TABLES) {
        for (size_t i = 0; i < j->n_multi; i++) {
            const tr_table_info_t *ti = j->multi_infos[i];
            const char *nd = db;
            if (j->type == TR_TIDB_ACTION_RENAME_TABLES) {
                const char *d = i < j->n_new_schema_ids && s != NULL
                                    ? tr_schema_db_name(s, j->new_schema_ids[i])
                                    : NULL;
                if (old_names(s, ti->id, &od, &on)) {
                    count(&t, tr_filter_table_kept(f, od, on));
                    if (d == NULL && i >= j->n_new_schema_ids) {
                        d = od;
                    }
                }
                nd = d != NULL ? d : db;
            }
            count(&t, tr_filter_table_kept(f, nd, ti->name));
        }
        *why = "a multi-table RENAME or CREATE TABLES whose tables are partly filtered out";
    } else {
        const char *name = j->table_info != NULL ? nz(j->table_info->name) : NULL;
        if (name == NULL) {
            name = nz(j->table_name);
        }
        if (name == NULL && old_names(s, j->table_id, &od, &on)) {
            name = on;
        }
        if (j->type == TR_TIDB_ACTION_RENAME_TABLE && s != NULL &&
            tr_schema_db_name(s, j->schema_id) != NULL) {
            /* the job's schema id is the new database (its schema_name may be the old) */
            db = tr_schema_db_name(s, j->schema_id);
        }
        if (name == NULL) {
            count(&t, tr_filter_db_kept(f, db));
        } else {
            count(&t, tr_filter_table_kept(f, db, name));
        }
        if (j->type == TR_TIDB_ACTION_RENAME_TABLE && old_names(s, j->table_id, &od, &on)) {
            count(&t, tr_filter_table_kept(f, od, on));
            *why = "a RENAME TABLE between a replicated and a filtered-out name";
        } else if (j->type == TR_TIDB_ACTION_EXCHANGE_PARTITION && j->table_info != NULL &&
                   old_names(s, j->table_info->id, &od, &on)) {
            /* the job is the normal table's; its TableInfo is the partitioned one */
            count(&t, tr_filter_table_kept(f, od, on));
            *why = "an EXCHANGE PARTITION between a replicated and a filtered-out table";
        }
    }
    if (t.n_kept > 0 && t.n_dropped > 0) {
        return TR_FILTER_JOB_CROSS;
    }
    *why = NULL;
    return t.n_kept > 0 ? TR_FILTER_JOB_KEEP : TR_FILTER_JOB_DROP;
}

/* ---------------------------------------------------------------- DDL text */

typedef struct {
    const tr_filter_t *f;
    const char *sql;
    const tr_ddl_token_t *tk; /* significant tokens (comments left out) */
    size_t n;
    const char *default_db;
    bool has_select;
    bool stmt_rename;    /* RENAME TABLE ... */
    bool stmt_list;      /* DROP TABLE/VIEW a, b ... or RENAME TABLE: ',' separates tables */
    bool stmt_index;     /* CREATE ... INDEX / DROP INDEX: ON names a table */
    /* replacements: token index -> text (owned), applied when writing */
    char **repl;
    const char *why;
} dtx_t;

static bool is_ident(const dtx_t *x, size_t i)
{
    if (i >= x->n) {
        return false;
    }
    const tr_ddl_token_t *t = &x->tk[i];
    if (t->kind == TR_DDL_TK_QUOTED) {
        return true;
    }
    if (t->kind != TR_DDL_TK_WORD) {
        return false;
    }
    char c = x->sql[t->start];
    return !(c >= '0' && c <= '9') && c != '.';
}

static bool is_punct(const dtx_t *x, size_t i, char c)
{
    return i < x->n && x->tk[i].kind == TR_DDL_TK_PUNCT && x->sql[x->tk[i].start] == c;
}

static bool is_kw(const dtx_t *x, size_t i, const char *w)
{
    if (i >= x->n || x->tk[i].kind != TR_DDL_TK_WORD) {
        return false;
    }
    size_t n = strlen(w);
    return x->tk[i].end - x->tk[i].start == n && strncasecmp(x->sql + x->tk[i].start, w, n) == 0;
}

/* The identifier's name (quotes removed, doubled backquotes undone) into buf. */
static const char *ident(const dtx_t *x, size_t i, char *buf, size_t cap)
{
    const tr_ddl_token_t *t = &x->tk[i];
    size_t o = 0;
    if (t->kind == TR_DDL_TK_QUOTED) {
        for (size_t k = t->start + 1; k + 1 < t->end && o + 1 < cap; k++) {
            buf[o++] = x->sql[k];
            if (x->sql[k] == '`') {
                k++; /* `` inside a quoted name */
            }
        }
    } else {
        for (size_t k = t->start; k < t->end && o + 1 < cap; k++) {
            buf[o++] = x->sql[k];
        }
    }
    buf[o] = '\0';
    return buf;
}

static char *quoted(const char *name)
{
    size_t n = strlen(name);
    char *q = tr_malloc(2 * n + 3);
    size_t o = 0;
    q[o++] = '`';
    for (size_t i = 0; i < n; i++) {
        q[o++] = name[i];
        if (name[i] == '`') {
            q[o++] = '`';
        }
    }
    q[o++] = '`';
    q[o] = '\0';
    return q;
}

static char *qualified(const char *db, const char *table)
{
    char *a = quoted(db);
    char *b = quoted(table);
    size_t la = strlen(a);
    size_t lb = strlen(b);
    char *q = tr_malloc(la + lb + 2);
    memcpy(q, a, la);
    q[la] = '.';
    memcpy(q + la + 1, b, lb + 1);
    tr_free(a);
    tr_free(b);
    return q;
}

static void set_repl(dtx_t *x, size_t i, char *text)
{
    tr_free(x->repl[i]);
    x->repl[i] = text;
}

static void bad(dtx_t *x, const char *why)
{
    if (x->why == NULL) {
        x->why = why;
    }
}

/* True when some rewrite-table rule renames a table of this name (any database). */
static bool renamed_table_name(const tr_filter_t *f, const char *name)
{
    for (size_t i = 0; i < f->n[TR_FILTER_REWRITE_TABLE]; i++) {
        if (eq(f->rules[TR_FILTER_REWRITE_TABLE][i].b, name)) {
            return true;
        }
    }
    return false;
}

static bool renamed_db(const tr_filter_t *f, const char *db)
{
    return tr_filter_db_name(f, db) != db;
}

/* db.table at tokens i (db) and k (table): renamed and checked. */
static void db_table_ref(dtx_t *x, size_t i, size_t k)
{
    char db[NAME_MAX_BYTES * 2];
    char tb[NAME_MAX_BYTES * 2];
    ident(x, i, db, sizeof(db));
    ident(x, k, tb, sizeof(tb));
    if (!tr_filter_table_kept(x->f, db, tb)) {
        bad(x, "the statement refers to a table the filter drops");
    }
    const char *nd = NULL;
    const char *nt = NULL;
    tr_filter_table_name(x->f, db, tb, &nd, &nt);
    if (nd != db) {
        set_repl(x, i, quoted(nd));
    }
    if (nt != tb) {
        set_repl(x, k, quoted(nt));
    }
}

/* An unqualified table name at token i (in the default database). */
static void table_ref(dtx_t *x, size_t i)
{
    char tb[NAME_MAX_BYTES * 2];
    ident(x, i, tb, sizeof(tb));
    const char *db = x->default_db;
    if (!tr_filter_table_kept(x->f, db, tb)) {
        bad(x, "the statement refers to a table the filter drops");
    }
    const char *nd = NULL;
    const char *nt = NULL;
    tr_filter_table_name(x->f, db, tb, &nd, &nt);
    if (nt != tb || !eq(nd, tr_filter_db_name(x->f, db))) {
        /* a table rename (maybe into another database): name it fully */
        set_repl(x, i, qualified(nd, nt));
    }
}

/* Unquoted keywords that may follow the words table_position and db_position look at. */
static bool is_noise(const dtx_t *x, size_t i)
{
    static const char *const words[] = {"IF",     "NOT",    "EXISTS", "TABLE",     "TABLES",
                                         "SELECT", "WITH",   "DUAL",   "TEMPORARY", "LATERAL",
                                         "TO",     "AS",     "COLUMN", "INDEX",     "KEY"};
    for (size_t k = 0; k < TR_ARRAY_LEN(words); k++) {
        if (is_kw(x, i, words[k])) {
            return true;
        }
    }
    return false;
}

/* True when the identifier chain starting at token i stands where a table name does. */
static bool table_position(const dtx_t *x, size_t i)
{
    if (i == 0) {
        return false;
    }
    size_t p = i - 1;
    if (is_kw(x, p, "EXISTS")) {
        /* [TABLE|VIEW] IF [NOT] EXISTS name */
        size_t q = p >= 1 && is_kw(x, p - 1, "NOT") ? p - 1 : p;
        return q >= 2 && is_kw(x, q - 1, "IF") &&
               (is_kw(x, q - 2, "TABLE") || is_kw(x, q - 2, "VIEW"));
    }
    if (is_kw(x, p, "TABLE") || is_kw(x, p, "VIEW") || is_kw(x, p, "REFERENCES") ||
        is_kw(x, p, "TRUNCATE")) {
        return true;
    }
    if (is_kw(x, p, "LIKE")) {
        return !x->has_select; /* CREATE TABLE t LIKE s; in a SELECT it is an operator */
    }
    if (is_kw(x, p, "TO") || is_kw(x, p, "AS")) {
        return x->stmt_rename || (p >= 1 && is_kw(x, p - 1, "RENAME"));
    }
    if (is_kw(x, p, "RENAME")) {
        return true; /* ALTER TABLE t RENAME t2 (RENAME COLUMN/INDEX/KEY/TO: noise words) */
    }
    if (is_kw(x, p, "ON")) {
        return x->stmt_index;
    }
    if (is_punct(x, p, ',')) {
        return x->stmt_list;
    }
    if (is_kw(x, p, "FROM") || is_kw(x, p, "JOIN")) {
        return x->has_select;
    }
    return false;
}

/* True when the chain at token i names a database (CREATE/DROP/ALTER DATABASE name). */
static bool db_position(const dtx_t *x, size_t i)
{
    if (i == 0) {
        return false;
    }
    size_t p = i - 1;
    if (is_kw(x, p, "EXISTS")) {
        size_t q = p >= 1 && is_kw(x, p - 1, "NOT") ? p - 1 : p;
        return q >= 2 && is_kw(x, q - 1, "IF") &&
               (is_kw(x, q - 2, "DATABASE") || is_kw(x, q - 2, "SCHEMA"));
    }
    return (is_kw(x, p, "DATABASE") || is_kw(x, p, "SCHEMA")) &&
           (is_kw(x, 0, "CREATE") || is_kw(x, 0, "DROP") || is_kw(x, 0, "ALTER"));
}

static void scan(dtx_t *x)
{
    const tr_filter_t *f = x->f;
    for (size_t i = 0; i < x->n; i++) {
        if (!is_ident(x, i) || (i > 0 && is_punct(x, i - 1, '.'))) {
            continue;
        }
        /* a chain a[.b[.c]] starting here */
        size_t len = 1;
        while (is_punct(x, i + 2 * len - 1, '.') && is_ident(x, i + 2 * len)) {
            len++;
        }
        char a[NAME_MAX_BYTES * 2];
        ident(x, i, a, sizeof(a));
        if (len == 1) {
            if (is_noise(x, i)) {
                continue;
            }
            if (db_position(x, i)) {
                if (!tr_filter_db_kept(f, a)) {
                    bad(x, "the statement refers to a database the filter drops");
                }
                if (renamed_db(f, a)) {
                    set_repl(x, i, quoted(tr_filter_db_name(f, a)));
                }
            } else if (table_position(x, i)) {
                table_ref(x, i);
            } else if (renamed_table_name(f, a)) {
                bad(x, "a renamed table's name where it may be a column or index name");
            }
        } else if (len == 2) {
            bool sure = !x->has_select || table_position(x, i);
            if (sure) {
                db_table_ref(x, i, i + 2);
            } else if (renamed_db(f, a) || !db_rules_pass(f, a)) {
                bad(x, "a qualified name inside a SELECT may be table.column or db.table");
            }
        } else if (len == 3) {
            db_table_ref(x, i, i + 2);
        }
        i += 2 * (len - 1);
    }
}

int tr_filter_ddl_text(const tr_filter_t *f, const char *default_db, const char *sql, size_t len,
                       tr_buf_t *out, const char **why)
{
    *why = NULL;
    size_t n_all = 0;
    tr_ddl_token_t *all = tr_ddl_tokenize(sql, len, &n_all);
    if (all == NULL) {
        tr_buf_append(out, sql, len);
        *why = "unterminated quote or comment";
        return TR_EUNSUPPORTED;
    }
    /* significant tokens only (comments are copied as they are) */
    size_t n = 0;
    for (size_t i = 0; i < n_all; i++) {
        if (all[i].kind != TR_DDL_TK_COMMENT) {
            all[n++] = all[i];
        }
    }
    dtx_t x = {.f = f, .sql = sql, .tk = all, .n = n, .default_db = default_db};
    x.repl = tr_calloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        if (is_kw(&x, i, "SELECT")) {
            x.has_select = true;
        }
    }
    x.stmt_rename = is_kw(&x, 0, "RENAME");
    x.stmt_list = x.stmt_rename || (is_kw(&x, 0, "DROP") && (is_kw(&x, 1, "TABLE") ||
                                                              is_kw(&x, 1, "TABLES") ||
                                                              is_kw(&x, 1, "VIEW")));
    for (size_t i = 0; i < 4 && i < n; i++) {
        if (is_kw(&x, i, "INDEX")) {
            x.stmt_index = true;
        }
    }
    scan(&x);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (x.repl[i] == NULL) {
            continue;
        }
        tr_buf_append(out, sql + at, x.tk[i].start - at);
        tr_buf_append(out, x.repl[i], strlen(x.repl[i]));
        at = x.tk[i].end;
        tr_free(x.repl[i]);
    }
    tr_buf_append(out, sql + at, len - at);
    tr_free(x.repl);
    tr_free(all);
    *why = x.why;
    return x.why == NULL ? 0 : TR_EUNSUPPORTED;
}
