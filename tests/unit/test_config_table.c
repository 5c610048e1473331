/* Unit tests for the table of configuration keys (common/config.h tr_config_keys): the
 * rows are well formed, the parser keeps each row's range, names and lengths, the
 * unknown-key message lists the rows of its section, and the files in conf/ document
 * exactly the keys of the table. */
#include "tr_test.h"

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>

#include "common/config.h"
#include "common/err.h"
#include "relay/filter.h"

static tr_config_t cfg; /* large: kept off the stack */
static char err[8192];

/* Parses "[section]\nkey = value\n" after a base that passes validation; the key is on
 * line 5 of t.cnf. */
static int parse_one(const char *section, const char *key, const char *value)
{
    char text[1024];
    snprintf(text, sizeof(text), "[upstream]\npumps = a:1\ntidb = r:@h:1\n[%s]\n%s = %s\n",
             section, key, value);
    tr_config_defaults(&cfg);
    return tr_config_parse(&cfg, text, "t.cnf", &tr_filter_config_checks, err, sizeof(err));
}

/* The integer a row's field holds. */
static uint64_t field_value(const tr_config_t *c, const tr_config_key_t *k)
{
    const char *f = (const char *)c + k->off;
    switch (k->field) {
    case TR_CONFIG_FIELD_BOOL:
        return *(const bool *)(const void *)f;
    case TR_CONFIG_FIELD_INT:
        return (uint64_t)*(const int *)(const void *)f;
    case TR_CONFIG_FIELD_U32:
        return *(const uint32_t *)(const void *)f;
    case TR_CONFIG_FIELD_U64:
        return *(const uint64_t *)(const void *)f;
    case TR_CONFIG_FIELD_I64:
        return (uint64_t)*(const int64_t *)(const void *)f;
    default:
        TR_FAIL_AT("[%s] %s: not an integer field", k->section, k->key);
        return 0;
    }
}

/* Expects the value to be rejected with the row's own message on line 5. */
static void expect_rejected(const tr_config_key_t *k, const char *value, const char *message)
{
    if (parse_one(k->section, k->key, value) != TR_ECONFIG) {
        TR_FAIL_AT("[%s] %s = %s: accepted", k->section, k->key, value);
        return;
    }
    char want[512];
    snprintf(want, sizeof(want), "t.cnf:5: [%s] %s: %s", k->section, k->key, message);
    if (strstr(err, want) == NULL) {
        TR_FAIL_AT("[%s] %s = %s: want \"%s\", got \"%s\"", k->section, k->key, value, want, err);
    }
}

static void expect_rejected_value(const tr_config_key_t *k, const char *value)
{
    char message[400];
    snprintf(message, sizeof(message), "expected %s, got '%s'", k->accepted, value);
    expect_rejected(k, value, message);
}

/* Expects the line to be accepted (cross-key checks, without a line, may still fail). */
static void expect_accepted(const tr_config_key_t *k, const char *value)
{
    if (parse_one(k->section, k->key, value) != 0 && strstr(err, "t.cnf:5:") != NULL) {
        TR_FAIL_AT("[%s] %s = %s: %s", k->section, k->key, value, err);
    }
}

/* Every row says where its value goes, what it accepts and its default, consistently. */
TR_TEST(rows_are_well_formed)
{
    size_t n = 0;
    const tr_config_key_t *keys = tr_config_keys(&n);
    EXPECT_TRUE(n >= 43);
    for (size_t i = 0; i < n; i++) {
        const tr_config_key_t *k = &keys[i];
        /* One row per key, in a section the parser knows. */
        EXPECT_TRUE(tr_config_key_find(k->section, k->key) == k);
        char text[128];
        snprintf(text, sizeof(text), "[%s]\n", k->section);
        tr_config_defaults(&cfg);
        int rc = tr_config_parse(&cfg, text, "t.cnf", NULL, err, sizeof(err));
        EXPECT_TRUE(rc == 0 || strstr(err, "unknown section") == NULL);
        /* Messages quote what the row accepts; a secret row never shows the value. */
        bool text_row = k->type == TR_CONFIG_TYPE_TEXT || k->type == TR_CONFIG_TYPE_PATH;
        bool own_messages = k->type == TR_CONFIG_TYPE_CUSTOM && k->accepted == NULL;
        if (k->accepted == NULL && !text_row && !own_messages) {
            TR_FAIL_AT("[%s] %s: no accepted values", k->section, k->key);
        }
        if (k->type == TR_CONFIG_TYPE_CUSTOM) {
            EXPECT_TRUE(k->parse != NULL && k->def == NULL && k->field == TR_CONFIG_FIELD_NONE);
            continue;
        }
        /* A typed row has a field of a C type its type can fill, and a default. */
        EXPECT_TRUE(k->parse == NULL && k->def != NULL && k->size > 0);
        EXPECT_TRUE(k->off + k->size <= sizeof(tr_config_t));
        bool ok = false;
        uint64_t top = k->type == TR_CONFIG_TYPE_SECONDS_MS ? k->max * 1000 : k->max;
        switch (k->type) {
        case TR_CONFIG_TYPE_BOOL:
            ok = k->field == TR_CONFIG_FIELD_BOOL;
            break;
        case TR_CONFIG_TYPE_UINT:
        case TR_CONFIG_TYPE_SECONDS_MS:
            ok = k->min <= k->max &&
                 (k->type != TR_CONFIG_TYPE_SECONDS_MS || k->max <= UINT64_MAX / 1000) &&
                 ((k->field == TR_CONFIG_FIELD_INT && top <= INT_MAX) ||
                  (k->field == TR_CONFIG_FIELD_U32 && top <= UINT32_MAX) ||
                  k->field == TR_CONFIG_FIELD_U64);
            break;
        case TR_CONFIG_TYPE_I64:
            ok = k->field == TR_CONFIG_FIELD_I64 && k->max == 0;
            break;
        case TR_CONFIG_TYPE_ENUM: {
            size_t n_names = 0;
            while (k->names != NULL && k->names[n_names] != NULL) {
                if (strstr(k->accepted, k->names[n_names]) == NULL) {
                    TR_FAIL_AT("[%s] %s: '%s' not in \"%s\"", k->section, k->key,
                               k->names[n_names], k->accepted);
                }
                n_names++;
            }
            ok = n_names >= 2 && (k->field == TR_CONFIG_FIELD_INT ||
                                  (k->field == TR_CONFIG_FIELD_BOOL && n_names == 2));
            break;
        }
        case TR_CONFIG_TYPE_TEXT:
        case TR_CONFIG_TYPE_PATH:
            ok = k->field == TR_CONFIG_FIELD_CHARS && k->max < k->size;
            break;
        case TR_CONFIG_TYPE_ADDR:
            ok = k->field == TR_CONFIG_FIELD_ADDR;
            break;
        case TR_CONFIG_TYPE_ADDR_TEXT:
            ok = k->field == TR_CONFIG_FIELD_CHARS;
            break;
        case TR_CONFIG_TYPE_UUID:
            ok = k->field == TR_CONFIG_FIELD_CHARS && k->size == 37 && k->aux_off != 0 &&
                 k->aux_off + 16 <= sizeof(tr_config_t);
            break;
        case TR_CONFIG_TYPE_CUSTOM:
            break;
        }
        if (!ok) {
            TR_FAIL_AT("[%s] %s: type %d does not fit field %d (size %zu, max %" PRIu64 ")",
                       k->section, k->key, (int)k->type, (int)k->field, k->size, k->max);
        }
        /* Its default is a value the row accepts. */
        expect_accepted(k, k->def);
    }
}

/* Numbers: both ends of each range are accepted and stored, one past either end is
 * rejected with the row's message. */
TR_TEST(numeric_ranges)
{
    size_t n = 0;
    const tr_config_key_t *keys = tr_config_keys(&n);
    int n_checked = 0;
    for (size_t i = 0; i < n; i++) {
        const tr_config_key_t *k = &keys[i];
        char v[32];
        if (k->type == TR_CONFIG_TYPE_I64) {
            snprintf(v, sizeof(v), "%" PRIu64, k->min);
            expect_accepted(k, v);
            EXPECT_EQ_U64(field_value(&cfg, k), k->min);
            expect_accepted(k, "9223372036854775807");
            EXPECT_EQ_U64(field_value(&cfg, k), INT64_MAX);
            expect_rejected_value(k, "-1");
            expect_rejected_value(k, "1K");
            n_checked++;
            continue;
        }
        if (k->type != TR_CONFIG_TYPE_UINT && k->type != TR_CONFIG_TYPE_SECONDS_MS) {
            continue;
        }
        uint64_t unit = k->type == TR_CONFIG_TYPE_SECONDS_MS ? 1000 : 1;
        snprintf(v, sizeof(v), "%" PRIu64, k->min);
        expect_accepted(k, v);
        EXPECT_EQ_U64(field_value(&cfg, k), k->min * unit);
        snprintf(v, sizeof(v), "%" PRIu64, k->max);
        expect_accepted(k, v);
        EXPECT_EQ_U64(field_value(&cfg, k), k->max * unit);
        if (k->min > 0) {
            snprintf(v, sizeof(v), "%" PRIu64, k->min - 1);
            if (k->min - 1 == 0 && (k->flags & TR_CONFIG_F_ZERO_OK) != 0) {
                expect_accepted(k, v);
            } else {
                expect_rejected_value(k, v);
            }
        }
        if ((k->flags & TR_CONFIG_F_ZERO_OK) != 0) {
            expect_accepted(k, "0");
            EXPECT_EQ_U64(field_value(&cfg, k), 0);
        }
        if (k->max < UINT64_MAX) {
            snprintf(v, sizeof(v), "%" PRIu64, k->max + 1);
            expect_rejected_value(k, v);
        }
        expect_rejected_value(k, "-1");
        expect_rejected_value(k, "12X");
        n_checked++;
    }
    EXPECT_TRUE(n_checked >= 13);
}

/* Names: each is accepted and stored as its index; other case only for NOCASE rows. */
TR_TEST(enum_and_bool_values)
{
    size_t n = 0;
    const tr_config_key_t *keys = tr_config_keys(&n);
    for (size_t i = 0; i < n; i++) {
        const tr_config_key_t *k = &keys[i];
        if (k->type == TR_CONFIG_TYPE_BOOL) {
            static const char *const on[] = {"1", "on", "ON", "true", "Yes"};
            static const char *const off[] = {"0", "off", "Off", "FALSE", "no"};
            for (size_t j = 0; j < 5; j++) {
                expect_accepted(k, on[j]);
                EXPECT_EQ_U64(field_value(&cfg, k), 1);
                expect_accepted(k, off[j]);
                EXPECT_EQ_U64(field_value(&cfg, k), 0);
            }
            expect_rejected_value(k, "2");
            continue;
        }
        if (k->type != TR_CONFIG_TYPE_ENUM) {
            continue;
        }
        for (size_t j = 0; k->names[j] != NULL; j++) {
            expect_accepted(k, k->names[j]);
            EXPECT_EQ_U64(field_value(&cfg, k), j);
            char upper[64];
            size_t m = 0;
            for (; k->names[j][m] != '\0' && m + 1 < sizeof(upper); m++) {
                upper[m] = (char)(k->names[j][m] & ~0x20);
            }
            upper[m] = '\0';
            if ((k->flags & TR_CONFIG_F_NOCASE) != 0) {
                expect_accepted(k, upper);
                EXPECT_EQ_U64(field_value(&cfg, k), j);
            } else {
                expect_rejected_value(k, upper);
            }
        }
        expect_rejected_value(k, "bogus");
    }
}

/* Text: the longest value fits its field, one byte more is rejected. */
TR_TEST(text_lengths)
{
    size_t n = 0;
    const tr_config_key_t *keys = tr_config_keys(&n);
    for (size_t i = 0; i < n; i++) {
        const tr_config_key_t *k = &keys[i];
        if (k->type != TR_CONFIG_TYPE_TEXT && k->type != TR_CONFIG_TYPE_PATH) {
            continue;
        }
        if ((k->flags & TR_CONFIG_F_NONEMPTY) != 0) {
            expect_rejected_value(k, "");
        } else {
            expect_accepted(k, "");
        }
        size_t longest = k->max != 0 ? (size_t)k->max : k->size - 1;
        if (strlen(k->key) + 3 + longest + 1 > 198) {
            continue; /* longer than a line may be (that line's own error) */
        }
        char v[192];
        memset(v, 'x', longest + 1);
        v[longest] = '\0';
        expect_accepted(k, v);
        EXPECT_EQ_STR((const char *)&cfg + k->off, v);
        v[longest] = 'x';
        v[longest + 1] = '\0';
        char message[400];
        if (k->accepted != NULL) {
            snprintf(message, sizeof(message), "expected %s, got '%s'", k->accepted, v);
        } else {
            snprintf(message, sizeof(message), "%stoo long: '%s'",
                     k->type == TR_CONFIG_TYPE_PATH ? "path " : "", v);
        }
        expect_rejected(k, v, message);
    }
    const tr_config_key_t *base = tr_config_key_find("store", "binlog-basename");
    EXPECT_TRUE(base != NULL);
    if (base != NULL) {
        expect_rejected_value(base, "a/b");
    }
}

/* A secret row's bad value never appears in the messages. */
TR_TEST(secret_values_not_shown)
{
    size_t n = 0;
    const tr_config_key_t *keys = tr_config_keys(&n);
    int n_secret = 0;
    for (size_t i = 0; i < n; i++) {
        const tr_config_key_t *k = &keys[i];
        if ((k->flags & TR_CONFIG_F_SECRET) == 0) {
            continue;
        }
        n_secret++;
        char message[400];
        snprintf(message, sizeof(message), "expected %s (value not shown: it holds a password)",
                 k->accepted);
        expect_rejected(k, "u:hunter2@", message);
        EXPECT_TRUE(strstr(err, "hunter2") == NULL);
    }
    EXPECT_EQ_INT(n_secret, 1); /* [upstream] tidb */
}

/* An unknown key names every row of its section, in table order. */
TR_TEST(unknown_key_lists_the_section)
{
    size_t n = 0;
    const tr_config_key_t *keys = tr_config_keys(&n);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(keys[i - 1].section, keys[i].section) == 0) {
            continue; /* once per section (a section's rows are together) */
        }
        char want[1024];
        int used = snprintf(want, sizeof(want), "t.cnf:5: [%s] no-such-key: unknown key (known: ",
                            keys[i].section);
        const char *sep = "";
        for (size_t j = 0; j < n; j++) {
            if (strcmp(keys[j].section, keys[i].section) == 0) {
                used += snprintf(want + used, sizeof(want) - (size_t)used, "%s%s", sep,
                                 keys[j].key);
                sep = ", ";
            }
        }
        snprintf(want + used, sizeof(want) - (size_t)used, ")");
        EXPECT_EQ_INT(parse_one(keys[i].section, "no-such-key", "1"), TR_ECONFIG);
        if (strstr(err, want) == NULL) {
            TR_FAIL_AT("want \"%s\", got \"%s\"", want, err);
        }
    }
}

/* tr_config_filter_key names the [filter] row of each rule kind. */
TR_TEST(filter_keys_are_rows)
{
    for (int kind = 0; kind < TR_FILTER_KIND_COUNT; kind++) {
        const char *name = tr_config_filter_key((tr_filter_kind_t)kind);
        EXPECT_TRUE(name != NULL);
        if (name != NULL) {
            const tr_config_key_t *k = tr_config_key_find("filter", name);
            EXPECT_TRUE(k != NULL && k->arg == kind);
        }
    }
    EXPECT_TRUE(tr_config_filter_key(TR_FILTER_KIND_COUNT) == NULL);
}

/* ---------------------------------------------------------------- the files in conf/ */

enum { MAX_DOC = 256 };
typedef struct {
    char section[64];
    char key[64];
} doc_key_t;

/* The keys a file sets or documents: "key = value" or "# key = value" under [section]. */
static size_t read_doc(const char *path, doc_key_t *doc)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        TR_FAIL_AT("cannot open %s", path);
        return 0;
    }
    size_t n = 0;
    char section[64] = "";
    char line[1024];
    while (fgets(line, sizeof(line), f) != NULL) {
        const char *l = line;
        if (*l == '[') {
            size_t sl = strcspn(l + 1, "]");
            snprintf(section, sizeof(section), "%.*s", (int)(sl < 63 ? sl : 63), l + 1);
            continue;
        }
        if (*l == '#' || *l == ';') {
            l += 1 + strspn(l + 1, " ");
        }
        size_t kl = strspn(l, "abcdefghijklmnopqrstuvwxyz0123456789-_");
        const char *after = l + kl + strspn(l + kl, " ");
        if (kl == 0 || kl >= 64 || *l < 'a' || *l > 'z' || *after != '=' || n == MAX_DOC) {
            continue;
        }
        snprintf(doc[n].section, sizeof(doc[n].section), "%s", section);
        snprintf(doc[n].key, sizeof(doc[n].key), "%.*s", (int)kl, l);
        n++;
    }
    (void)fclose(f);
    return n;
}

/* conf/tirelay.cnf, the reference, documents every row under its section. */
TR_TEST(reference_documents_every_key)
{
    static doc_key_t doc[MAX_DOC];
    char path[1024];
    snprintf(path, sizeof(path), "%s/conf/tirelay.cnf", TR_SOURCE_DIR);
    size_t n_doc = read_doc(path, doc);
    size_t n = 0;
    const tr_config_key_t *keys = tr_config_keys(&n);
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t j = 0; j < n_doc && !found; j++) {
            found = strcmp(doc[j].section, keys[i].section) == 0 &&
                    strcmp(doc[j].key, keys[i].key) == 0;
        }
        if (!found) {
            TR_FAIL_AT("[%s] %s is not documented in conf/tirelay.cnf", keys[i].section,
                       keys[i].key);
        }
    }
}

/* Every key a file in conf/ sets or documents (tirelay.cnf, tirelay-package.cnf, ...) is
 * a row of the table or a [users] account. */
TR_TEST(conf_files_use_only_table_keys)
{
    static doc_key_t doc[MAX_DOC];
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/conf", TR_SOURCE_DIR);
    DIR *d = opendir(dir);
    if (d == NULL) {
        TR_FAIL_AT("cannot open %s", dir);
        return;
    }
    bool saw_reference = false;
    bool saw_package = false;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t nl = strlen(e->d_name);
        if (nl < 5 || strcmp(e->d_name + nl - 4, ".cnf") != 0) {
            continue;
        }
        saw_reference |= strcmp(e->d_name, "tirelay.cnf") == 0;
        saw_package |= strcmp(e->d_name, "tirelay-package.cnf") == 0;
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        size_t n_doc = read_doc(path, doc);
        EXPECT_TRUE(n_doc > 0);
        for (size_t j = 0; j < n_doc; j++) {
            if (strcmp(doc[j].section, "users") != 0 &&
                tr_config_key_find(doc[j].section, doc[j].key) == NULL) {
                TR_FAIL_AT("conf/%s documents [%s] %s, which is not in the table", e->d_name,
                           doc[j].section, doc[j].key);
            }
        }
    }
    (void)closedir(d);
    EXPECT_TRUE(saw_reference && saw_package);
}

/* The reference file shows each typed key at its default: loading it leaves every field
 * of a typed row as tr_config_defaults set it. */
TR_TEST(reference_shows_defaults)
{
    static tr_config_t defaults;
    tr_config_defaults(&defaults);
    char path[1024];
    snprintf(path, sizeof(path), "%s/conf/tirelay.cnf", TR_SOURCE_DIR);
    EXPECT_EQ_INT(tr_config_load(&cfg, path, &tr_filter_config_checks, err, sizeof(err)), 0);
    size_t n = 0;
    const tr_config_key_t *keys = tr_config_keys(&n);
    for (size_t i = 0; i < n; i++) {
        const tr_config_key_t *k = &keys[i];
        if (k->type == TR_CONFIG_TYPE_CUSTOM) {
            continue;
        }
        if (memcmp((const char *)&cfg + k->off, (const char *)&defaults + k->off, k->size) != 0) {
            TR_FAIL_AT("conf/tirelay.cnf sets [%s] %s to other than its default %s",
                       k->section, k->key, k->def);
        }
    }
}

TR_TEST_MAIN()
