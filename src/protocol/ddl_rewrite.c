/*
 * TiDB DDL dialect rewriter (see ddl_rewrite.h).
 *
 * The text is cut into tokens: words (keywords and bare names), `quoted`
 * names, 'strings' and "strings" (backslash escapes and doubled quotes),
 * comments, and single punctuation characters. Rules look at the
 * significant tokens (comments left out) and mark tokens deleted or
 * replaced; the output is the original text with those tokens cut out
 * (with the whitespace in front of them), so a statement that needs no
 * change comes out byte for byte as it went in (less a trailing ';').
 *
 * Sources for the TiDB-only syntax: pingcap/tidb pkg/parser/parser.y
 * (TableOption, PlacementOption, ColumnOption AUTO_RANDOM, TTL options,
 * AlterTableSpec CACHE/NOCACHE/SET TIFLASH REPLICA/REMOVE TTL, ATTRIBUTES),
 * pkg/parser/tidb/features.go (the feature ids of TiDB's "T![feature]" comments),
 * pkg/sessionctx/binloginfo/binloginfo.go FormatAndAddTiDBSpecificComment
 * (what a DDL binlog's text looks like). MariaDB 10.11 differences: no
 * WITH/WITHOUT VALIDATION in EXCHANGE PARTITION (added in 11.4), IGNORED
 * instead of INVISIBLE indexes (10.6+); MySQL 8.0 has no CREATE SEQUENCE.
 */
#include "protocol/ddl_rewrite.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "common/defs.h"
#include "common/mem.h"

enum {
    TK_WORD,     /* keyword, bare name or number */
    TK_QUOTED,   /* `name` */
    TK_STRING,   /* 'text' or "text" */
    TK_PUNCT,    /* one character */
    TK_COMMENT,  /* kept comment (plain or executable) */
    TK_DROPPED,  /* comment we always drop: TiDB's, and line comments */
};

typedef struct {
    uint8_t kind;
    bool del;
    const char *repl; /* replacement text, or NULL */
    size_t start;
    size_t end;
} tok_t;

typedef struct {
    const char *sql;
    size_t len;
    bool if_exists_clauses; /* ALTER TABLE, CREATE/DROP INDEX: IF [NOT] EXISTS are clauses */
    tok_t *t;    /* every token */
    size_t n;
    size_t *sig; /* indexes of significant tokens (no comments) */
    size_t ns;
} lex_t;

static bool word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '$' || c >= 0x80;
}

static bool space_char(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Cuts the text into tokens. Returns false on an unterminated quote or comment. */
static bool lex(lex_t *lx)
{
    const char *s = lx->sql;
    size_t len = lx->len;
    size_t cap = 64;
    lx->t = tr_malloc(cap * sizeof(tok_t));
    lx->n = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (space_char(c)) {
            i++;
            continue;
        }
        if (lx->n == cap) {
            cap *= 2;
            lx->t = tr_realloc(lx->t, cap * sizeof(tok_t));
        }
        tok_t *t = &lx->t[lx->n++];
        memset(t, 0, sizeof(*t));
        t->start = i;
        if (c == '/' && i + 1 < len && s[i + 1] == '*') {
            bool tidb = i + 3 < len && s[i + 2] == 'T' && s[i + 3] == '!';
            size_t k = i + 2;
            while (k + 1 < len && !(s[k] == '*' && s[k + 1] == '/')) {
                k++;
            }
            if (k + 1 >= len) {
                return false;
            }
            t->kind = tidb ? TK_DROPPED : TK_COMMENT;
            t->del = tidb;
            i = k + 2;
        } else if (c == '#' || (c == '-' && i + 1 < len && s[i + 1] == '-' &&
                                (i + 2 == len || space_char((unsigned char)s[i + 2])))) {
            while (i < len && s[i] != '\n') {
                i++;
            }
            t->kind = TK_DROPPED;
            t->del = true;
        } else if (c == '\'' || c == '"' || c == '`') {
            size_t k = i + 1;
            for (;;) {
                if (k >= len) {
                    return false;
                }
                if (c != '`' && s[k] == '\\') {
                    k += 2;
                    continue;
                }
                if (s[k] == (char)c) {
                    if (k + 1 < len && s[k + 1] == (char)c) { /* doubled quote */
                        k += 2;
                        continue;
                    }
                    break;
                }
                k++;
            }
            t->kind = c == '`' ? TK_QUOTED : TK_STRING;
            i = k + 1;
        } else if (word_char(c) || (c == '.' && i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9' &&
                                    (i == 0 || !word_char((unsigned char)s[i - 1])))) {
            /* a number keeps its decimal point: 0.5, .5, 1e-3 is cut at '-' (harmless) */
            bool num = (c >= '0' && c <= '9') || c == '.';
            i++;
            while (i < len && (word_char((unsigned char)s[i]) ||
                               (num && s[i] == '.' && i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9'))) {
                i++;
            }
            t->kind = TK_WORD;
        } else {
            t->kind = TK_PUNCT;
            i++;
        }
        t->end = i;
    }
    lx->sig = tr_malloc((lx->n + 1) * sizeof(size_t));
    lx->ns = 0;
    for (size_t k = 0; k < lx->n; k++) {
        if (lx->t[k].kind != TK_COMMENT && lx->t[k].kind != TK_DROPPED) {
            lx->sig[lx->ns++] = k;
        }
    }
    return true;
}

/* ---------------------------------------------------------------- matching helpers */

static tok_t *sg(lex_t *lx, size_t i)
{
    return i < lx->ns ? &lx->t[lx->sig[i]] : NULL;
}

static bool is_word(lex_t *lx, size_t i, const char *w)
{
    tok_t *t = sg(lx, i);
    size_t n = strlen(w);
    return t != NULL && t->kind == TK_WORD && t->end - t->start == n &&
           strncasecmp(lx->sql + t->start, w, n) == 0;
}

static bool is_punct(lex_t *lx, size_t i, char c)
{
    tok_t *t = sg(lx, i);
    return t != NULL && t->kind == TK_PUNCT && lx->sql[t->start] == c;
}

static bool is_any_word(lex_t *lx, size_t i, const char *const *words)
{
    for (size_t k = 0; words[k] != NULL; k++) {
        if (is_word(lx, i, words[k])) {
            return true;
        }
    }
    return false;
}

static bool is_number(lex_t *lx, size_t i)
{
    tok_t *t = sg(lx, i);
    return t != NULL && t->kind == TK_WORD &&
           ((lx->sql[t->start] >= '0' && lx->sql[t->start] <= '9') || lx->sql[t->start] == '.');
}

/* A single-token option value: a string, a number, a name or a keyword like DEFAULT/ON. */
static bool is_value(lex_t *lx, size_t i)
{
    tok_t *t = sg(lx, i);
    return t != NULL && (t->kind == TK_WORD || t->kind == TK_STRING || t->kind == TK_QUOTED);
}

static void del_range(lex_t *lx, size_t from, size_t to_incl)
{
    for (size_t i = from; i <= to_incl && i < lx->ns; i++) {
        sg(lx, i)->del = true;
    }
}

/* Index of the ')' closing the '(' at sig i, or ns when unbalanced. */
static size_t close_paren(lex_t *lx, size_t i)
{
    int depth = 0;
    for (size_t k = i; k < lx->ns; k++) {
        if (is_punct(lx, k, '(')) {
            depth++;
        } else if (is_punct(lx, k, ')') && --depth == 0) {
            return k;
        }
    }
    return lx->ns;
}

/* After a table or database name starting at sig i (name or name.name): the next index. */
static size_t skip_name(lex_t *lx, size_t i)
{
    tok_t *t = sg(lx, i);
    if (t == NULL || (t->kind != TK_WORD && t->kind != TK_QUOTED)) {
        return i;
    }
    if (is_punct(lx, i + 1, '.') && sg(lx, i + 2) != NULL) {
        return i + 3;
    }
    return i + 1;
}

/* "NAME [=] value" with a single-token value: deletes it all when the value has the
 * expected shape. strict: the value must be a string or a number, or come after '='
 * (for option names that could be bare column names, e.g. REGIONS). */
static bool del_option(lex_t *lx, size_t i, bool strict)
{
    size_t v = i + 1;
    bool eq = is_punct(lx, v, '=');
    if (eq) {
        v++;
    }
    if (!is_value(lx, v)) {
        return false;
    }
    if (strict && !eq && sg(lx, v)->kind != TK_STRING && !is_number(lx, v)) {
        return false;
    }
    del_range(lx, i, v);
    return true;
}

/* ---------------------------------------------------------------- rules */

/* MariaDB 10.11 has no MySQL 0900 collations (TiDB v7.4+ has utf8mb4_0900_ai_ci and
 * utf8mb4_0900_bin): the nearest ones, NO PAD as MySQL's are (checked on 10.11.19:
 * utf8mb4_uca1400_nopad_ai_ci exists since 10.10; UCA 14.0.0 instead of 9.0.0). */
static void map_collation(lex_t *lx, size_t i)
{
    static const struct {
        const char *mysql;
        const char *mariadb;
    } map[] = {
        {"utf8mb4_0900_ai_ci", "utf8mb4_uca1400_nopad_ai_ci"},
        {"utf8mb4_0900_bin", "utf8mb4_nopad_bin"},
    };
    tok_t *t = sg(lx, i);
    if (t == NULL || t->del) {
        return;
    }
    size_t a = t->start;
    size_t b = t->end;
    char q = 0;
    if (t->kind == TK_QUOTED || t->kind == TK_STRING) {
        q = lx->sql[a];
        a++;
        b--;
    } else if (t->kind != TK_WORD) {
        return;
    }
    for (size_t k = 0; k < TR_ARRAY_LEN(map); k++) {
        size_t n = strlen(map[k].mysql);
        if (b - a == n && strncasecmp(lx->sql + a, map[k].mysql, n) == 0) {
            static const char *const quoted[][3] = {
                {"utf8mb4_uca1400_nopad_ai_ci", "`utf8mb4_uca1400_nopad_ai_ci`",
                 "'utf8mb4_uca1400_nopad_ai_ci'"},
                {"utf8mb4_nopad_bin", "`utf8mb4_nopad_bin`", "'utf8mb4_nopad_bin'"},
            };
            t->repl = quoted[k][q == 0 ? 0 : q == '`' ? 1 : 2];
            return;
        }
    }
}

static const char *const tidb_options[] = {
    /* pkg/parser/parser.y TableOption and friends: TiDB-only, single value */
    "AUTO_RANDOM_BASE", "SHARD_ROW_ID_BITS", "PRE_SPLIT_REGIONS", "AUTO_ID_CACHE",
    "TTL_ENABLE", "TTL_JOB_INTERVAL", "STATS_BUCKETS", "STATS_TOPN", "STATS_COL_CHOICE",
    "STATS_COL_LIST", "STATS_SAMPLE_RATE", "PRIMARY_REGION", "LEADER_CONSTRAINTS",
    "FOLLOWER_CONSTRAINTS", "VOTER_CONSTRAINTS", "LEARNER_CONSTRAINTS", "SURVIVAL_PREFERENCES",
    NULL,
};

static const char *const placement_words[] = {
    /* PlacementOption names that are also plausible column names */
    "REGIONS", "FOLLOWERS", "VOTERS", "LEARNERS", "SCHEDULE", "CONSTRAINTS", "ATTRIBUTES", NULL,
};

/* Marks TiDB-only options deleted. Returns NULL or the reason the text cannot be made safe. */
static const char *apply_rules(lex_t *lx, tr_flavor_t f)
{
    for (size_t i = 0; i < lx->ns; i++) {
        tok_t *t = sg(lx, i);
        if (t->del || t->kind != TK_WORD) {
            continue;
        }
        if (is_word(lx, i, "AUTO_RANDOM")) {
            size_t end = i;
            if (is_punct(lx, i + 1, '(')) {
                end = close_paren(lx, i + 1);
                for (size_t k = i + 2; k < end; k++) {
                    if (!is_number(lx, k) && !is_punct(lx, k, ',')) {
                        end = lx->ns;
                    }
                }
                if (end == lx->ns) {
                    return "AUTO_RANDOM arguments not understood";
                }
            }
            del_range(lx, i, end);
        } else if (is_any_word(lx, i, tidb_options)) {
            if (!del_option(lx, i, false)) {
                return "a TiDB table option without a value";
            }
        } else if (is_any_word(lx, i, placement_words)) {
            (void)del_option(lx, i, true);
        } else if (is_word(lx, i, "PLACEMENT") && is_word(lx, i + 1, "POLICY")) {
            size_t v = i + 2;
            if (is_word(lx, v, "SET")) {
                v++;
            }
            if (is_punct(lx, v, '=')) {
                v++;
            }
            if (!is_value(lx, v)) {
                return "PLACEMENT POLICY without a policy name";
            }
            size_t from = i;
            if (i > 0 && is_word(lx, i - 1, "DEFAULT") && !is_punct(lx, i - 2, '=')) {
                from = i - 1;
            }
            del_range(lx, from, v);
        } else if (is_word(lx, i, "CLUSTERED") || is_word(lx, i, "NONCLUSTERED")) {
            t->del = true;
        } else if (is_word(lx, i, "REMOVE") && is_word(lx, i + 1, "TTL")) {
            del_range(lx, i, i + 1);
        } else if (is_word(lx, i, "TTL") && (is_punct(lx, i + 1, '=') || is_value(lx, i + 1))) {
            /* TTL [=] <column> + INTERVAL <n> <unit>; a bare column named ttl has no INTERVAL */
            size_t k = i + 1;
            while (k < lx->ns && k < i + 10 && !is_word(lx, k, "INTERVAL") &&
                   !is_punct(lx, k, ',') && !is_punct(lx, k, ')')) {
                k++;
            }
            bool ok = is_word(lx, k, "INTERVAL") && is_value(lx, k + 1) && is_value(lx, k + 2);
            if (ok) {
                del_range(lx, i, k + 2);
            } else if (is_punct(lx, i + 1, '=')) {
                return "TTL expression not understood";
            }
        } else if (is_word(lx, i, "FORCE") &&
                   (is_word(lx, i + 1, "AUTO_INCREMENT") || is_word(lx, i + 1, "AUTO_RANDOM_BASE"))) {
            t->del = true;
        } else if ((is_word(lx, i, "FIRST") || is_word(lx, i, "LAST")) &&
                   is_word(lx, i + 1, "PARTITION") && is_word(lx, i + 2, "LESS")) {
            return "TiDB interval partitioning (FIRST/LAST PARTITION LESS THAN)";
        } else if (is_word(lx, i, "INTERVAL") && i > 0 && is_punct(lx, i - 1, ')') &&
                   is_punct(lx, i + 1, '(')) {
            return "TiDB interval partitioning (PARTITION BY RANGE ... INTERVAL)";
        } else if (f == TR_FLAVOR_MARIADB) {
            if ((is_word(lx, i, "WITH") || is_word(lx, i, "WITHOUT")) &&
                is_word(lx, i + 1, "VALIDATION")) {
                del_range(lx, i, i + 1);
            } else if (is_word(lx, i, "INVISIBLE")) {
                t->repl = "IGNORED";
            } else if (is_word(lx, i, "VISIBLE")) {
                t->repl = "NOT IGNORED";
            } else if (is_word(lx, i, "COLLATE")) {
                map_collation(lx, is_punct(lx, i + 1, '=') ? i + 2 : i + 1);
            }
        } else if (f == TR_FLAVOR_MYSQL && lx->if_exists_clauses && is_word(lx, i, "IF") &&
                   i > 1) {
            /* MySQL 8.0 has no IF [NOT] EXISTS inside ALTER TABLE or on CREATE/DROP
             * INDEX; TiDB logs such a DDL only when it did change something. */
            if (is_word(lx, i + 1, "NOT") && is_word(lx, i + 2, "EXISTS")) {
                del_range(lx, i, i + 2);
            } else if (is_word(lx, i + 1, "EXISTS")) {
                del_range(lx, i, i + 1);
            }
        }
    }
    return NULL;
}

/* Drops commas left dangling by deleted options: ", ,", "(,", ", )", trailing. */
static void fix_commas(lex_t *lx)
{
    size_t prev = SIZE_MAX; /* last kept sig index */
    for (size_t i = 0; i < lx->ns; i++) {
        tok_t *t = sg(lx, i);
        if (t->del) {
            continue;
        }
        if (is_punct(lx, i, ',')) {
            bool bad = prev == SIZE_MAX || is_punct(lx, prev, ',') || is_punct(lx, prev, '(');
            size_t next = i + 1;
            while (next < lx->ns && sg(lx, next)->del) {
                next++;
            }
            if (next == lx->ns || is_punct(lx, next, ')') || is_punct(lx, next, ';')) {
                bad = true;
            }
            if (bad) {
                t->del = true;
                continue;
            }
        }
        prev = i;
    }
}

/* Kept significant tokens from sig index i on. */
static size_t kept_from(lex_t *lx, size_t i)
{
    size_t n = 0;
    for (; i < lx->ns; i++) {
        n += sg(lx, i)->del ? 0 : 1;
    }
    return n;
}

static size_t next_kept(lex_t *lx, size_t i)
{
    while (i < lx->ns && sg(lx, i)->del) {
        i++;
    }
    return i;
}

/* Statement-level verdicts before any token rule. NULL = go on. */
static const char *statement_verdict(lex_t *lx, tr_flavor_t f, tr_ddl_verdict_t *v)
{
    static const char *const ddl_verbs[] = {"CREATE", "ALTER", "DROP", NULL};
    *v = TR_DDL_SKIP;
    if (is_word(lx, 0, "FLASHBACK") || is_word(lx, 0, "RECOVER")) {
        *v = TR_DDL_UNSUPPORTED;
        return "FLASHBACK/RECOVER restores TiDB data a replica does not have";
    }
    if (is_word(lx, 0, "LOCK") || is_word(lx, 0, "UNLOCK")) {
        return "table locks are session state";
    }
    if (is_word(lx, 0, "ADMIN")) {
        return "ADMIN statement";
    }
    if (is_any_word(lx, 0, ddl_verbs)) {
        if (is_word(lx, 1, "PLACEMENT") && is_word(lx, 2, "POLICY")) {
            return "placement policy";
        }
        if (is_word(lx, 1, "RESOURCE") && is_word(lx, 2, "GROUP")) {
            return "resource group";
        }
        size_t k = is_word(lx, 1, "TEMPORARY") ? 2 : 1;
        if (is_word(lx, k, "SEQUENCE") && f == TR_FLAVOR_MYSQL) {
            *v = TR_DDL_UNSUPPORTED;
            return "sequences (MySQL has none)";
        }
    }
    if (is_word(lx, 0, "ALTER")) {
        for (size_t i = 1; i + 1 < lx->ns; i++) {
            if (is_word(lx, i, "SET") && is_word(lx, i + 1, "TIFLASH")) {
                return "TiFlash replica";
            }
        }
        if (is_word(lx, 1, "TABLE")) {
            size_t a = skip_name(lx, 2);
            bool last = a + 1 == lx->ns;
            if ((is_word(lx, a, "CACHE") || is_word(lx, a, "NOCACHE")) && last) {
                return "cached table attribute";
            }
            if (is_word(lx, a, "COMPACT")) {
                return "TiFlash compaction";
            }
        }
    }
    return NULL;
}

/* After the rules: an ALTER whose actions were all TiDB-only has nothing left. */
static bool nothing_left(lex_t *lx)
{
    if (!is_word(lx, 0, "ALTER")) {
        return false;
    }
    if (is_word(lx, 1, "TABLE")) {
        size_t a = skip_name(lx, 2);
        size_t n = kept_from(lx, a);
        if (n == 0) {
            return true;
        }
        /* ALTER TABLE t PARTITION p <placement/attributes>: only the partition name left */
        size_t p = next_kept(lx, a);
        return n == 2 && is_word(lx, p, "PARTITION");
    }
    if (is_word(lx, 1, "DATABASE") || is_word(lx, 1, "SCHEMA")) {
        return kept_from(lx, 2) <= 1;
    }
    return false;
}

/* ---------------------------------------------------------------- output */

static bool joins_words(char a, char b)
{
    return (word_char((unsigned char)a) || a == '`' || a == '\'' || a == '"') &&
           (word_char((unsigned char)b) || b == '`' || b == '\'' || b == '"');
}

static void emit(lex_t *lx, tr_buf_t *out)
{
    size_t base = out->len;
    size_t last_end = 0;  /* end of the last token looked at */
    bool any = false;     /* something emitted */
    bool cut = false;     /* a deleted token since the last emitted one */
    char last_char = 0;
    for (size_t k = 0; k < lx->n; k++) {
        tok_t *t = &lx->t[k];
        if (t->del) {
            cut = true;
            last_end = t->end;
            continue;
        }
        const char *txt = t->repl != NULL ? t->repl : lx->sql + t->start;
        size_t tlen = t->repl != NULL ? strlen(t->repl) : t->end - t->start;
        if (any) {
            /* whitespace right before this token, as written */
            size_t ws = t->start;
            while (ws > last_end && space_char((unsigned char)lx->sql[ws - 1])) {
                ws--;
            }
            if (!cut) {
                tr_buf_append(out, lx->sql + last_end, t->start - last_end);
            } else if (t->start > ws) {
                tr_buf_append(out, lx->sql + ws, t->start - ws);
            } else if (joins_words(last_char, txt[0])) {
                tr_buf_put_u8(out, ' ');
            }
        }
        tr_buf_append(out, txt, tlen);
        last_char = txt[tlen - 1];
        last_end = t->end;
        any = true;
        cut = false;
    }
    while (out->len > base && space_char(out->data[out->len - 1])) {
        out->len--;
    }
}

/* ---------------------------------------------------------------- entry */

tr_ddl_verdict_t tr_ddl_rewrite(const char *sql, size_t len, tr_flavor_t f, tr_buf_t *out,
                                const char **why)
{
    lex_t lx = {.sql = sql, .len = len};
    tr_ddl_verdict_t v = TR_DDL_WRITE;
    *why = NULL;
    if (!lex(&lx)) {
        v = TR_DDL_UNSUPPORTED;
        *why = "unterminated quote or comment";
        goto done;
    }
    /* One statement: everything from the first top-level ';' on must be empty. */
    for (size_t i = 0; i < lx.ns; i++) {
        if (is_punct(&lx, i, ';')) {
            if (i + 1 < lx.ns) {
                v = TR_DDL_UNSUPPORTED;
                *why = "several statements in one DDL";
                goto done;
            }
            sg(&lx, i)->del = true;
            lx.ns = i; /* rules see the statement only */
            break;
        }
    }
    if (lx.ns == 0) {
        v = TR_DDL_SKIP;
        *why = "empty statement";
        goto done;
    }
    const char *r = statement_verdict(&lx, f, &v);
    if (r != NULL) {
        *why = r;
        goto done;
    }
    v = TR_DDL_WRITE;
    {
        size_t k = 1;
        while (is_word(&lx, k, "UNIQUE") || is_word(&lx, k, "FULLTEXT") ||
               is_word(&lx, k, "SPATIAL")) {
            k++;
        }
        lx.if_exists_clauses = (is_word(&lx, 0, "ALTER") && is_word(&lx, 1, "TABLE")) ||
                               (is_word(&lx, 0, "CREATE") && is_word(&lx, k, "INDEX")) ||
                               (is_word(&lx, 0, "DROP") && is_word(&lx, 1, "INDEX"));
    }
    r = apply_rules(&lx, f);
    if (r != NULL) {
        v = TR_DDL_UNSUPPORTED;
        *why = r;
        goto done;
    }
    fix_commas(&lx);
    if (nothing_left(&lx)) {
        v = TR_DDL_SKIP;
        *why = "only TiDB-only options (nothing left for MySQL)";
        goto done;
    }
    emit(&lx, out);
done:
    tr_free(lx.t);
    tr_free(lx.sig);
    return v;
}

tr_ddl_token_t *tr_ddl_tokenize(const char *sql, size_t len, size_t *n)
{
    lex_t lx = {.sql = sql, .len = len};
    *n = 0;
    bool ok = lex(&lx);
    tr_free(lx.sig);
    if (!ok) {
        tr_free(lx.t);
        return NULL;
    }
    tr_ddl_token_t *out = tr_malloc((lx.n + 1) * sizeof(*out));
    for (size_t i = 0; i < lx.n; i++) {
        const tok_t *t = &lx.t[i];
        out[i].kind = t->kind == TK_WORD     ? TR_DDL_TK_WORD
                      : t->kind == TK_QUOTED ? TR_DDL_TK_QUOTED
                      : t->kind == TK_STRING ? TR_DDL_TK_STRING
                      : t->kind == TK_PUNCT  ? TR_DDL_TK_PUNCT
                                             : TR_DDL_TK_COMMENT;
        out[i].start = t->start;
        out[i].end = t->end;
    }
    *n = lx.n;
    tr_free(lx.t);
    return out;
}

const char *tr_ddl_verdict_name(tr_ddl_verdict_t v)
{
    switch (v) {
    case TR_DDL_WRITE:
        return "write";
    case TR_DDL_SKIP:
        return "skip";
    case TR_DDL_UNSUPPORTED:
        return "unsupported";
    }
    return "?";
}
