/*
 * SQL subset parser (see sqlcmd.h). A small lexer produces tokens that are
 * views into the statement; a recursive-descent parser recognises the few
 * statement shapes a replication source must answer. Pure: no I/O, no
 * logging, no allocation.
 */
#include "protocol/sqlcmd.h"

#include <string.h>

typedef enum {
    T_WORD,    /* identifier or keyword (backquoted names too) */
    T_NUM,     /* digits, optional fraction */
    T_STR,     /* quoted string: val = contents */
    T_SYSVAR,  /* @@[scope.]name: val = name, scope */
    T_USERVAR, /* @name: val = name */
    T_PUNCT,   /* one character */
} tok_type_t;

typedef struct {
    tok_type_t type;
    const char *p; /* whole token as written */
    size_t n;
    tr_slice_t val;
    tr_sql_scope_t scope;
} tok_t;

typedef struct {
    tok_t t[TR_SQL_MAX_TOKENS];
    size_t n;
    size_t i; /* parser cursor */
} toks_t;

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static bool is_ident_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c >= 0x80;
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident(int c)
{
    return is_ident_start(c) || is_digit(c);
}

bool tr_sql_eq(tr_slice_t s, const char *word)
{
    size_t n = strlen(word);
    if (s.len != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (lower(s.p[i]) != lower((unsigned char)word[i])) {
            return false;
        }
    }
    return true;
}

/* Scans a quoted string starting at s[i] (the quote); returns the index after
 * the closing quote or 0 when unterminated. */
static size_t scan_string(const char *s, size_t len, size_t i)
{
    char q = s[i++];
    while (i < len) {
        if (s[i] == '\\' && q != '`') {
            i += 2;
            continue;
        }
        if (s[i] == q) {
            if (i + 1 < len && s[i + 1] == q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i++;
    }
    return 0;
}

static size_t scan_ident(const char *s, size_t len, size_t i)
{
    while (i < len && is_ident((unsigned char)s[i])) {
        i++;
    }
    return i;
}

/* Returns false on a lexical error (unterminated string/comment, too many tokens). */
static bool lex(const char *s, size_t len, toks_t *tk, const char **why)
{
    size_t i = 0;
    tk->n = 0;
    tk->i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            i++;
            continue;
        }
        if (c == '/' && i + 1 < len && s[i + 1] == '*') {
            const char *end = NULL;
            for (size_t j = i + 2; j + 1 < len; j++) {
                if (s[j] == '*' && s[j + 1] == '/') {
                    end = s + j;
                    break;
                }
            }
            if (end == NULL) {
                *why = "unterminated comment";
                return false;
            }
            i = (size_t)(end - s) + 2;
            continue;
        }
        if (c == '#' || (c == '-' && i + 2 < len && s[i + 1] == '-' &&
                         (s[i + 2] == ' ' || s[i + 2] == '\t')) ||
            (c == '-' && i + 2 == len && s[i + 1] == '-')) {
            while (i < len && s[i] != '\n') {
                i++;
            }
            continue;
        }
        if (tk->n == TR_SQL_MAX_TOKENS) {
            *why = "statement too long";
            return false;
        }
        tok_t *t = &tk->t[tk->n];
        memset(t, 0, sizeof(*t));
        t->p = s + i;
        size_t end;
        if (c == '\'' || c == '"') {
            end = scan_string(s, len, i);
            if (end == 0) {
                *why = "unterminated string";
                return false;
            }
            t->type = T_STR;
            t->val = tr_slice(s + i + 1, end - i - 2);
        } else if (c == '`') {
            end = scan_string(s, len, i);
            if (end == 0) {
                *why = "unterminated quoted identifier";
                return false;
            }
            t->type = T_WORD;
            t->val = tr_slice(s + i + 1, end - i - 2);
        } else if (c == '@' && i + 1 < len && s[i + 1] == '@') {
            size_t j = i + 2;
            size_t k = scan_ident(s, len, j);
            t->type = T_SYSVAR;
            t->scope = TR_SQL_SCOPE_DEFAULT;
            if (k < len && s[k] == '.') {
                tr_slice_t sc = tr_slice(s + j, k - j);
                if (tr_sql_eq(sc, "global")) {
                    t->scope = TR_SQL_SCOPE_GLOBAL;
                } else if (tr_sql_eq(sc, "session") || tr_sql_eq(sc, "local")) {
                    t->scope = TR_SQL_SCOPE_SESSION;
                } else {
                    *why = "unknown variable scope";
                    return false;
                }
                j = k + 1;
                k = scan_ident(s, len, j);
            }
            if (k == j) {
                *why = "empty system variable name";
                return false;
            }
            t->val = tr_slice(s + j, k - j);
            end = k;
        } else if (c == '@') {
            size_t j = i + 1;
            t->type = T_USERVAR;
            if (j < len && (s[j] == '\'' || s[j] == '"' || s[j] == '`')) {
                end = scan_string(s, len, j);
                if (end == 0) {
                    *why = "unterminated variable name";
                    return false;
                }
                t->val = tr_slice(s + j + 1, end - j - 2);
            } else {
                end = scan_ident(s, len, j);
                while (end < len && s[end] == '.') { /* @a.b is a legal user variable name */
                    end = scan_ident(s, len, end + 1);
                }
                t->val = tr_slice(s + j, end - j);
            }
            if (t->val.len == 0) {
                *why = "empty user variable name";
                return false;
            }
        } else if (is_digit(c) || (c == '.' && i + 1 < len && is_digit((unsigned char)s[i + 1]))) {
            end = i;
            while (end < len && is_digit((unsigned char)s[end])) {
                end++;
            }
            if (end < len && s[end] == '.') {
                end++;
                while (end < len && is_digit((unsigned char)s[end])) {
                    end++;
                }
            }
            if (end < len && is_ident_start((unsigned char)s[end])) {
                /* 1e5, 0x1F, 123abc: not supported as numbers. */
                *why = "unsupported numeric literal";
                return false;
            }
            t->type = T_NUM;
            t->val = tr_slice(s + i, end - i);
        } else if (is_ident_start(c)) {
            end = scan_ident(s, len, i);
            t->type = T_WORD;
            t->val = tr_slice(s + i, end - i);
        } else {
            end = i + 1;
            t->type = T_PUNCT;
            t->val = tr_slice(s + i, 1);
        }
        t->n = end - i;
        tk->n++;
        i = end;
    }
    /* One trailing ';' is part of many client statements. */
    if (tk->n > 0 && tk->t[tk->n - 1].type == T_PUNCT && tk->t[tk->n - 1].val.p[0] == ';') {
        tk->n--;
    }
    for (size_t k = 0; k < tk->n; k++) {
        if (tk->t[k].type == T_PUNCT && tk->t[k].val.p[0] == ';') {
            *why = "multiple statements are not supported";
            return false;
        }
    }
    return true;
}

/* ---------------------------------------------------------------- token helpers */

static const tok_t *peek(const toks_t *tk, size_t ahead)
{
    return tk->i + ahead < tk->n ? &tk->t[tk->i + ahead] : NULL;
}

static bool at_end(const toks_t *tk)
{
    return tk->i >= tk->n;
}

static bool is_word(const tok_t *t, const char *w)
{
    return t != NULL && t->type == T_WORD && t->p[0] != '`' && tr_sql_eq(t->val, w);
}

static bool is_punct(const tok_t *t, char c)
{
    return t != NULL && t->type == T_PUNCT && t->val.p[0] == c;
}

static bool accept_word(toks_t *tk, const char *w)
{
    if (is_word(peek(tk, 0), w)) {
        tk->i++;
        return true;
    }
    return false;
}

static bool accept_punct(toks_t *tk, char c)
{
    if (is_punct(peek(tk, 0), c)) {
        tk->i++;
        return true;
    }
    return false;
}

static bool parse_u64(tr_slice_t s, uint64_t *out)
{
    uint64_t v = 0;
    if (s.len == 0 || s.len > 19) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        if (!is_digit(s.p[i])) {
            return false;
        }
        v = v * 10 + (uint64_t)(s.p[i] - '0');
    }
    *out = v;
    return true;
}

static tr_sql_fn_t fn_of(tr_slice_t name)
{
    static const struct {
        const char *name;
        tr_sql_fn_t fn;
    } fns[] = {
        {"unix_timestamp", TR_SQL_FN_UNIX_TIMESTAMP}, {"version", TR_SQL_FN_VERSION},
        {"database", TR_SQL_FN_DATABASE},             {"schema", TR_SQL_FN_DATABASE},
        {"connection_id", TR_SQL_FN_CONNECTION_ID},   {"user", TR_SQL_FN_USER},
        {"current_user", TR_SQL_FN_USER},             {"session_user", TR_SQL_FN_USER},
        {"system_user", TR_SQL_FN_USER},              {"binlog_gtid_pos", TR_SQL_FN_BINLOG_GTID_POS},
        {"gtid_subtract", TR_SQL_FN_GTID_SUBTRACT},   {"gtid_subset", TR_SQL_FN_GTID_SUBSET},
    };
    for (size_t i = 0; i < TR_ARRAY_LEN(fns); i++) {
        if (tr_sql_eq(name, fns[i].name)) {
            return fns[i].fn;
        }
    }
    return TR_SQL_FN_OTHER;
}

/* Literal function argument: string or (signed) number. */
static bool parse_arg(toks_t *tk, tr_sql_arg_t *a)
{
    bool neg = accept_punct(tk, '-');
    const tok_t *t = peek(tk, 0);
    memset(a, 0, sizeof(*a));
    if (t == NULL) {
        return false;
    }
    if (t->type == T_STR && !neg) {
        a->is_str = true;
        a->raw = t->val;
    } else if (t->type == T_NUM) {
        uint64_t v = 0;
        a->raw = t->val;
        if (parse_u64(t->val, &v) && v <= INT64_MAX) {
            a->ival = neg ? -(int64_t)v : (int64_t)v;
        }
    } else {
        return false;
    }
    tk->i++;
    return true;
}

/* Parses one expression; allow_ident accepts bare words (SET x = ON). */
static bool parse_expr(toks_t *tk, tr_sql_expr_t *e, bool allow_ident)
{
    memset(e, 0, sizeof(*e));
    size_t first = tk->i;
    bool neg = accept_punct(tk, '-');
    const tok_t *t = peek(tk, 0);
    if (t == NULL) {
        return false;
    }
    if (neg && t->type != T_NUM) {
        return false;
    }
    switch (t->type) {
    case T_STR:
        e->kind = TR_SQL_EXPR_STR;
        e->name = t->val;
        tk->i++;
        break;
    case T_NUM: {
        uint64_t v = 0;
        e->kind = TR_SQL_EXPR_NUM;
        e->name = t->val;
        if (parse_u64(t->val, &v) && v <= INT64_MAX) {
            e->is_int = true;
            e->ival = neg ? -(int64_t)v : (int64_t)v;
        }
        tk->i++;
        break;
    }
    case T_SYSVAR:
        e->kind = TR_SQL_EXPR_SYSVAR;
        e->name = t->val;
        e->scope = t->scope;
        tk->i++;
        break;
    case T_USERVAR:
        e->kind = TR_SQL_EXPR_USERVAR;
        e->name = t->val;
        tk->i++;
        break;
    case T_WORD:
        if (is_punct(peek(tk, 1), '(')) {
            e->kind = TR_SQL_EXPR_FUNC;
            e->fn_name = t->val;
            e->fn = fn_of(t->val);
            tk->i += 2;
            if (!accept_punct(tk, ')')) {
                do {
                    if (e->nargs == TR_SQL_MAX_ARGS || !parse_arg(tk, &e->args[e->nargs])) {
                        return false;
                    }
                    e->nargs++;
                } while (accept_punct(tk, ','));
                if (!accept_punct(tk, ')')) {
                    return false;
                }
            }
        } else if (is_word(t, "NULL")) {
            e->kind = TR_SQL_EXPR_NULL;
            tk->i++;
        } else if (is_word(t, "CURRENT_USER")) {
            e->kind = TR_SQL_EXPR_FUNC;
            e->fn = TR_SQL_FN_USER;
            e->fn_name = t->val;
            tk->i++;
        } else if (allow_ident) {
            e->kind = TR_SQL_EXPR_IDENT;
            e->name = t->val;
            tk->i++;
        } else {
            return false;
        }
        break;
    case T_PUNCT:
        return false;
    }
    const tok_t *a = &tk->t[first];
    const tok_t *b = &tk->t[tk->i - 1];
    e->text = tr_slice(a->p, (size_t)(b->p + b->n - a->p));
    return true;
}

/* ---------------------------------------------------------------- statements */

static bool is_select_stop(const tok_t *t)
{
    return t == NULL || is_punct(t, ',') || is_word(t, "FROM") || is_word(t, "LIMIT") ||
           is_word(t, "WHERE") || is_word(t, "ORDER") || is_word(t, "GROUP") || is_word(t, "FOR") ||
           is_word(t, "INTO");
}

/* Index of the top-level FROM of a SELECT, else 0. */
static size_t top_level_from(const toks_t *tk)
{
    int depth = 0;
    for (size_t k = tk->i; k < tk->n; k++) {
        const tok_t *t = &tk->t[k];
        if (is_punct(t, '(')) {
            depth++;
        } else if (is_punct(t, ')')) {
            depth--;
        } else if (depth == 0 && is_word(t, "FROM")) {
            return k;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- catalogue grammar */

/* A name: a word (keywords included, as MySQL allows most as names) or a backquoted one. */
static bool accept_name(toks_t *tk, tr_slice_t *out, bool *quoted)
{
    const tok_t *t = peek(tk, 0);
    if (t == NULL || t->type != T_WORD) {
        return false;
    }
    *out = t->val;
    if (quoted != NULL) {
        *quoted = t->p[0] == '`';
    }
    tk->i++;
    return true;
}

/* name | db.name */
static bool parse_table_ref(toks_t *tk, tr_slice_t *db, tr_slice_t *name)
{
    tr_slice_t a;
    if (!accept_name(tk, &a, NULL)) {
        return false;
    }
    if (is_punct(peek(tk, 0), '.') && peek(tk, 1) != NULL && peek(tk, 1)->type == T_WORD) {
        tk->i++;
        *db = a;
        return accept_name(tk, name, NULL);
    }
    *db = tr_slice(NULL, 0);
    *name = a;
    return true;
}

/* Words that end an operand list or clause (never a column name here). */
static bool is_clause_word(const tok_t *t)
{
    static const char *const words[] = {"FROM", "WHERE", "ORDER", "LIMIT", "GROUP", "HAVING", "LEFT",
                                        "JOIN", "INNER", "RIGHT", "ON", "AND", "OR", "NOT",
                                        "LIKE", "IN", "IS", "FOR", "INTO", "UNION", "OFFSET",
                                        "ASC", "DESC"};
    for (size_t i = 0; i < TR_ARRAY_LEN(words); i++) {
        if (is_word(t, words[i])) {
            return true;
        }
    }
    return false;
}

/* operand: [qual.]column | 'string' | number | NULL | DATABASE() | SCHEMA() */
static bool parse_operand(toks_t *tk, tr_sql_opd_t *o)
{
    memset(o, 0, sizeof(*o));
    bool neg = accept_punct(tk, '-');
    const tok_t *t = peek(tk, 0);
    if (t == NULL) {
        return false;
    }
    if (t->type == T_NUM) {
        o->kind = TR_SQL_OPD_NUM;
        o->name = neg ? tr_slice(t->p - 1, t->n + 1) : t->val;
        tk->i++;
        return true;
    }
    if (neg) {
        return false;
    }
    if (t->type == T_STR) {
        o->kind = TR_SQL_OPD_STR;
        o->name = t->val;
        tk->i++;
        return true;
    }
    if (t->type != T_WORD) {
        return false;
    }
    if (is_word(t, "NULL")) {
        o->kind = TR_SQL_OPD_NULL;
        tk->i++;
        return true;
    }
    if ((is_word(t, "DATABASE") || is_word(t, "SCHEMA")) && is_punct(peek(tk, 1), '(') &&
        is_punct(peek(tk, 2), ')')) {
        o->kind = TR_SQL_OPD_DATABASE;
        tk->i += 3;
        return true;
    }
    if (is_clause_word(t) || is_punct(peek(tk, 1), '(')) {
        return false;
    }
    o->kind = TR_SQL_OPD_COLUMN;
    o->is_quoted = t->p[0] == '`';
    o->name = t->val;
    tk->i++;
    if (is_punct(peek(tk, 0), '.') && peek(tk, 1) != NULL && peek(tk, 1)->type == T_WORD) {
        o->qual = o->name;
        o->is_quoted = peek(tk, 1)->p[0] == '`';
        o->name = peek(tk, 1)->val;
        tk->i += 2;
    }
    return true;
}

static int new_cond(tr_sql_cmd_t *out, tr_sql_cond_kind_t kind)
{
    if (out->n_cond == TR_SQL_MAX_CONDS) {
        return -1;
    }
    tr_sql_cond_t *c = &out->cond[out->n_cond];
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    return (int)out->n_cond++;
}

static int parse_or(toks_t *tk, tr_sql_cmd_t *out, int depth);

/* predicate: operand [NOT] IN (list) | operand [NOT] LIKE operand | operand IS [NOT] NULL |
 * operand cmp operand */
static int parse_predicate(toks_t *tk, tr_sql_cmd_t *out)
{
    tr_sql_opd_t a;
    if (!parse_operand(tk, &a)) {
        return -1;
    }
    bool negate = accept_word(tk, "NOT");
    if (accept_word(tk, "IN")) {
        int n = new_cond(out, TR_SQL_COND_IN);
        if (n < 0 || !accept_punct(tk, '(')) {
            return -1;
        }
        tr_sql_cond_t *c = &out->cond[n];
        c->a = a;
        c->negate = negate;
        c->list_first = (uint8_t)out->n_list;
        do {
            if (out->n_list == TR_SQL_MAX_LIST || !parse_operand(tk, &out->list[out->n_list])) {
                return -1;
            }
            out->n_list++;
            c->list_n++;
        } while (accept_punct(tk, ','));
        return accept_punct(tk, ')') ? n : -1;
    }
    if (accept_word(tk, "LIKE")) {
        int n = new_cond(out, TR_SQL_COND_LIKE);
        if (n < 0) {
            return -1;
        }
        out->cond[n].a = a;
        out->cond[n].negate = negate;
        return parse_operand(tk, &out->cond[n].b) ? n : -1;
    }
    if (negate) {
        return -1;
    }
    if (accept_word(tk, "IS")) {
        int n = new_cond(out, TR_SQL_COND_IS_NULL);
        if (n < 0) {
            return -1;
        }
        out->cond[n].a = a;
        out->cond[n].negate = accept_word(tk, "NOT");
        return accept_word(tk, "NULL") ? n : -1;
    }
    tr_sql_cmp_t op;
    if (accept_punct(tk, '=')) {
        op = TR_SQL_CMP_EQ;
    } else if (accept_punct(tk, '!')) {
        if (!accept_punct(tk, '=')) {
            return -1;
        }
        op = TR_SQL_CMP_NE;
    } else if (accept_punct(tk, '<')) {
        op = accept_punct(tk, '>') ? TR_SQL_CMP_NE : accept_punct(tk, '=') ? TR_SQL_CMP_LE
                                                                            : TR_SQL_CMP_LT;
    } else if (accept_punct(tk, '>')) {
        op = accept_punct(tk, '=') ? TR_SQL_CMP_GE : TR_SQL_CMP_GT;
    } else {
        return -1;
    }
    int n = new_cond(out, TR_SQL_COND_CMP);
    if (n < 0) {
        return -1;
    }
    out->cond[n].a = a;
    out->cond[n].op = op;
    return parse_operand(tk, &out->cond[n].b) ? n : -1;
}

static int parse_not(toks_t *tk, tr_sql_cmd_t *out, int depth)
{
    if (depth > 32) {
        return -1;
    }
    if (accept_word(tk, "NOT") || accept_punct(tk, '!')) {
        int child = parse_not(tk, out, depth + 1);
        int n = child < 0 ? -1 : new_cond(out, TR_SQL_COND_NOT);
        if (n >= 0) {
            out->cond[n].left = (uint8_t)child;
        }
        return n;
    }
    if (is_punct(peek(tk, 0), '(')) {
        tk->i++;
        int n = parse_or(tk, out, depth + 1);
        return n >= 0 && accept_punct(tk, ')') ? n : -1;
    }
    return parse_predicate(tk, out);
}

static bool accept_and(toks_t *tk)
{
    if (accept_word(tk, "AND")) {
        return true;
    }
    if (is_punct(peek(tk, 0), '&') && is_punct(peek(tk, 1), '&')) {
        tk->i += 2;
        return true;
    }
    return false;
}

static bool accept_or(toks_t *tk)
{
    if (accept_word(tk, "OR")) {
        return true;
    }
    if (is_punct(peek(tk, 0), '|') && is_punct(peek(tk, 1), '|')) {
        tk->i += 2;
        return true;
    }
    return false;
}

/* left (op right)*: a left-leaning chain of one binary operator. */
static int parse_chain(toks_t *tk, tr_sql_cmd_t *out, int depth, bool (*accept_op)(toks_t *),
                       int (*operand)(toks_t *, tr_sql_cmd_t *, int), tr_sql_cond_kind_t kind)
{
    int left = operand(tk, out, depth);
    while (left >= 0 && accept_op(tk)) {
        int right = operand(tk, out, depth);
        int n = right < 0 ? -1 : new_cond(out, kind);
        if (n >= 0) {
            out->cond[n].left = (uint8_t)left;
            out->cond[n].right = (uint8_t)right;
        }
        left = n;
    }
    return left;
}

static int parse_and(toks_t *tk, tr_sql_cmd_t *out, int depth)
{
    return parse_chain(tk, out, depth, accept_and, parse_not, TR_SQL_COND_AND);
}

static int parse_or(toks_t *tk, tr_sql_cmd_t *out, int depth)
{
    return parse_chain(tk, out, depth, accept_or, parse_and, TR_SQL_COND_OR);
}

/* [LIKE 'pattern' | WHERE condition] at the end of a SHOW statement. */
static bool parse_like_or_where(toks_t *tk, tr_sql_cmd_t *out, const char **why)
{
    if (accept_word(tk, "LIKE")) {
        const tok_t *t = peek(tk, 0);
        if (t == NULL || t->type != T_STR) {
            *why = "LIKE needs a quoted pattern";
            return false;
        }
        out->has_like = true;
        out->like = t->val;
        tk->i++;
    } else if (accept_word(tk, "WHERE")) {
        out->where = parse_or(tk, out, 0);
        if (out->where < 0) {
            *why = "unsupported WHERE condition";
            return false;
        }
    }
    if (!at_end(tk)) {
        *why = "unexpected text after the statement";
        return false;
    }
    return true;
}

/* [AS] alias (not a clause keyword). */
static void accept_alias(toks_t *tk, tr_slice_t *alias)
{
    bool as = accept_word(tk, "AS");
    const tok_t *t = peek(tk, 0);
    if (t != NULL && (t->type == T_WORD || (as && t->type == T_STR)) &&
        (as || !is_clause_word(t))) {
        *alias = t->val;
        tk->i++;
    }
}

/* One item of a catalogue SELECT: *, qual.*, [qual.]column, a literal or COUNT(*). */
static bool parse_catalog_item(toks_t *tk, tr_sql_sel_item_t *it)
{
    memset(it, 0, sizeof(*it));
    const tok_t *first = peek(tk, 0);
    if (first == NULL) {
        return false;
    }
    tr_sql_expr_t *e = &it->expr;
    if (is_punct(first, '*')) {
        e->kind = TR_SQL_EXPR_STAR;
        e->text = first->val;
        tk->i++;
        return true;
    }
    if (first->type == T_WORD && is_punct(peek(tk, 1), '.') && is_punct(peek(tk, 2), '*')) {
        e->kind = TR_SQL_EXPR_STAR;
        e->qual = first->val;
        e->text = tr_slice(first->p, (size_t)(peek(tk, 2)->p + 1 - first->p));
        tk->i += 3;
        return true;
    }
    if (is_word(first, "COUNT") && is_punct(peek(tk, 1), '(') && is_punct(peek(tk, 2), '*') &&
        is_punct(peek(tk, 3), ')')) {
        e->kind = TR_SQL_EXPR_COUNT;
        e->text = tr_slice(first->p, (size_t)(peek(tk, 3)->p + 1 - first->p));
        tk->i += 4;
    } else {
        tr_sql_opd_t o;
        size_t at = tk->i;
        if (!parse_operand(tk, &o) || o.kind == TR_SQL_OPD_DATABASE) {
            tk->i = at;
            return parse_expr(tk, e, false); /* DATABASE(), VERSION(), @@var ... */
        }
        const tok_t *last = &tk->t[tk->i - 1];
        e->text = tr_slice(first->p, (size_t)(last->p + last->n - first->p));
        e->name = o.name;
        e->qual = o.qual;
        e->kind = o.kind == TR_SQL_OPD_COLUMN ? TR_SQL_EXPR_IDENT
                  : o.kind == TR_SQL_OPD_STR  ? TR_SQL_EXPR_STR
                  : o.kind == TR_SQL_OPD_NUM  ? TR_SQL_EXPR_NUM
                                              : TR_SQL_EXPR_NULL;
        if (e->kind == TR_SQL_EXPR_NUM) {
            uint64_t v = 0;
            e->is_int = parse_u64(o.name, &v) && v <= INT64_MAX;
            e->ival = (int64_t)v;
        }
    }
    accept_alias(tk, &it->alias);
    return true;
}

/* SELECT items FROM table [alias] [LEFT [OUTER] JOIN table [alias] ON a = b] [WHERE ...]
 * [ORDER BY key [ASC|DESC], ...] [LIMIT n [OFFSET m] | LIMIT m, n] */
static void parse_select_from(toks_t *tk, size_t from, tr_sql_cmd_t *out, const char **why)
{
    /* The table first: a SELECT of a database's table is answered "no table data"
     * whatever its select list (Flink's MIN/MAX chunking, Debezium's snapshot). */
    size_t items = tk->i;
    tk->i = from + 1;
    if (!parse_table_ref(tk, &out->from_db, &out->from_table)) {
        *why = "SELECT ... FROM needs a table name";
        return;
    }
    size_t after_table = tk->i;
    bool user_table =
        out->from_db.len > 0 && !tr_sql_eq(out->from_db, "information_schema");
    tk->i = items;
    do {
        if (out->n_sel == TR_SQL_MAX_ITEMS) {
            *why = "too many select items";
            break;
        }
        if (tk->i >= from || !parse_catalog_item(tk, &out->sel[out->n_sel])) {
            *why = "unsupported select list";
            break;
        }
        out->n_sel++;
    } while (tk->i < from && accept_punct(tk, ','));
    if (*why == NULL && tk->i != from) {
        *why = "unsupported select list";
    }
    if (user_table) {
        out->kind = TR_SQL_SELECT_TABLE;
        *why = NULL;
        return;
    }
    if (*why != NULL) {
        return;
    }
    tk->i = after_table;
    accept_alias(tk, &out->from_alias);
    if (accept_word(tk, "LEFT")) {
        (void)accept_word(tk, "OUTER");
        if (!accept_word(tk, "JOIN") || !parse_table_ref(tk, &out->join_db, &out->join_table)) {
            *why = "unsupported JOIN";
            return;
        }
        accept_alias(tk, &out->join_alias);
        if (!accept_word(tk, "ON") || !parse_operand(tk, &out->join_a) || !accept_punct(tk, '=') ||
            !parse_operand(tk, &out->join_b) || out->join_a.kind != TR_SQL_OPD_COLUMN ||
            out->join_b.kind != TR_SQL_OPD_COLUMN) {
            *why = "a JOIN needs ON column = column";
            return;
        }
        out->has_join = true;
    }
    if (accept_word(tk, "WHERE")) {
        out->where = parse_or(tk, out, 0);
        if (out->where < 0) {
            *why = "unsupported WHERE condition";
            return;
        }
    }
    if (accept_word(tk, "ORDER")) {
        if (!accept_word(tk, "BY")) {
            *why = "ORDER needs BY";
            return;
        }
        do {
            if (out->n_order == TR_SQL_MAX_ORDER) {
                *why = "too many ORDER BY keys";
                return;
            }
            tr_sql_order_t *o = &out->order[out->n_order];
            if (!parse_operand(tk, &o->key) ||
                (o->key.kind != TR_SQL_OPD_COLUMN && o->key.kind != TR_SQL_OPD_NUM)) {
                *why = "ORDER BY takes column names or positions";
                return;
            }
            o->desc = accept_word(tk, "DESC");
            if (!o->desc) {
                (void)accept_word(tk, "ASC");
            }
            out->n_order++;
        } while (accept_punct(tk, ','));
    }
    if (accept_word(tk, "LIMIT")) {
        const tok_t *t = peek(tk, 0);
        uint64_t a = 0;
        if (t == NULL || t->type != T_NUM || !parse_u64(t->val, &a)) {
            *why = "bad LIMIT";
            return;
        }
        tk->i++;
        out->has_limit = true;
        out->limit = a;
        if (accept_punct(tk, ',') || accept_word(tk, "OFFSET")) {
            bool comma = tk->t[tk->i - 1].type == T_PUNCT;
            t = peek(tk, 0);
            uint64_t b = 0;
            if (t == NULL || t->type != T_NUM || !parse_u64(t->val, &b)) {
                *why = "bad LIMIT";
                return;
            }
            tk->i++;
            out->limit_offset = comma ? a : b;
            out->limit = comma ? b : a;
        }
    }
    if (!at_end(tk)) {
        *why = "unsupported clause in SELECT";
        return;
    }
    out->kind = TR_SQL_SELECT_CATALOG; /* information_schema, or the session's database */
}

static void parse_select(toks_t *tk, tr_sql_cmd_t *out, const char **why)
{
    size_t from = top_level_from(tk);
    if (from > 0 && !(from + 2 == tk->n && is_word(&tk->t[from + 1], "DUAL"))) {
        parse_select_from(tk, from, out, why);
        return;
    }
    if (from > 0) {
        tk->n = from; /* FROM DUAL: no table */
    }
    do {
        if (out->n_sel == TR_SQL_MAX_ITEMS) {
            *why = "too many select items";
            return;
        }
        tr_sql_sel_item_t *it = &out->sel[out->n_sel];
        memset(it, 0, sizeof(*it));
        if (!parse_expr(tk, &it->expr, false)) {
            *why = "unsupported select expression";
            return;
        }
        if (accept_word(tk, "AS")) {
            const tok_t *t = peek(tk, 0);
            if (t == NULL || (t->type != T_WORD && t->type != T_STR)) {
                *why = "bad alias";
                return;
            }
            it->alias = t->val;
            tk->i++;
        } else if (!is_select_stop(peek(tk, 0))) {
            const tok_t *t = peek(tk, 0);
            if (t->type != T_WORD && t->type != T_STR) {
                *why = "unsupported select expression";
                return;
            }
            it->alias = t->val;
            tk->i++;
        }
        out->n_sel++;
    } while (accept_punct(tk, ','));
    if (accept_word(tk, "LIMIT")) {
        const tok_t *t = peek(tk, 0);
        if (t == NULL || t->type != T_NUM || !parse_u64(t->val, &out->limit)) {
            *why = "bad LIMIT";
            return;
        }
        out->has_limit = true;
        tk->i++;
    }
    if (!at_end(tk)) {
        *why = is_word(peek(tk, 0), "FROM") ? "SELECT ... FROM is not supported"
                                            : "unexpected text after select list";
        return;
    }
    out->kind = TR_SQL_SELECT;
}

static tr_sql_scope_t accept_scope(toks_t *tk)
{
    if (accept_word(tk, "GLOBAL") || accept_word(tk, "PERSIST") ||
        accept_word(tk, "PERSIST_ONLY")) {
        return TR_SQL_SCOPE_GLOBAL;
    }
    if (accept_word(tk, "SESSION") || accept_word(tk, "LOCAL")) {
        return TR_SQL_SCOPE_SESSION;
    }
    return TR_SQL_SCOPE_DEFAULT;
}

static void parse_set(toks_t *tk, tr_sql_cmd_t *out, const char **why)
{
    bool has_user = false;
    tr_sql_scope_t stmt_scope = accept_scope(tk);
    const tok_t *t = peek(tk, 0);
    if (is_word(t, "NAMES") || is_word(t, "CHARACTER") || is_word(t, "CHARSET") ||
        is_word(t, "TRANSACTION") || is_word(t, "PASSWORD") || is_word(t, "ROLE")) {
        out->kind = TR_SQL_NOOP;
        return;
    }
    for (size_t k = tk->i; k < tk->n; k++) {
        if (tk->t[k].type == T_USERVAR) {
            has_user = true;
        }
    }
    do {
        if (out->n_set == TR_SQL_MAX_ITEMS) {
            *why = "too many assignments";
            break;
        }
        tr_sql_set_item_t *it = &out->set[out->n_set];
        memset(it, 0, sizeof(*it));
        tr_sql_scope_t sc = accept_scope(tk);
        t = peek(tk, 0);
        if (t == NULL) {
            *why = "missing variable";
            break;
        }
        if (t->type == T_USERVAR) {
            it->is_user = true;
        } else if (t->type == T_SYSVAR) {
            sc = t->scope;
        } else if (t->type != T_WORD) {
            *why = "bad assignment target";
            break;
        }
        it->name = t->val;
        it->scope = sc != TR_SQL_SCOPE_DEFAULT ? sc : stmt_scope;
        tk->i++;
        if (accept_punct(tk, ':')) { /* := */
            if (!accept_punct(tk, '=')) {
                *why = "expected :=";
                break;
            }
        } else if (!accept_punct(tk, '=')) {
            *why = "expected =";
            break;
        }
        if (!parse_expr(tk, &it->value, true)) {
            *why = "unsupported value expression";
            break;
        }
        out->n_set++;
        if (at_end(tk)) {
            out->kind = has_user ? TR_SQL_SET : TR_SQL_NOOP;
            return;
        }
    } while (accept_punct(tk, ','));
    if (*why == NULL) {
        *why = "unexpected text in SET";
    }
    /* A session setting we cannot parse is still accepted (spec 3.1: any other
     * SET answers OK); a user variable we cannot store is an error. */
    out->kind = has_user ? TR_SQL_UNKNOWN : TR_SQL_NOOP;
    if (!has_user) {
        *why = NULL;
    }
}

static bool parse_show_filter(toks_t *tk, tr_sql_cmd_t *out)
{
    if (accept_word(tk, "LIKE")) {
        const tok_t *t = peek(tk, 0);
        if (t == NULL || t->type != T_STR) {
            return false;
        }
        out->show[0].is_like = true;
        out->show[0].pattern = t->val;
        out->n_show = 1;
        tk->i++;
        return at_end(tk);
    }
    if (!accept_word(tk, "WHERE")) {
        return false;
    }
    do {
        const tok_t *t = peek(tk, 0);
        if (t == NULL || t->type != T_WORD || !tr_sql_eq(t->val, "Variable_name")) {
            return false;
        }
        tk->i++;
        bool is_in = accept_word(tk, "IN");
        bool is_like = !is_in && accept_word(tk, "LIKE");
        if (!is_in && !is_like && !accept_punct(tk, '=')) {
            return false;
        }
        if (is_in && !accept_punct(tk, '(')) {
            return false;
        }
        do {
            t = peek(tk, 0);
            if (t == NULL || t->type != T_STR || out->n_show == TR_SQL_MAX_ITEMS) {
                return false;
            }
            out->show[out->n_show].is_like = is_like;
            out->show[out->n_show].pattern = t->val;
            out->n_show++;
            tk->i++;
        } while (is_in && accept_punct(tk, ','));
        if (is_in && !accept_punct(tk, ')')) {
            return false;
        }
    } while (accept_word(tk, "OR"));
    return at_end(tk);
}

/* SHOW BINLOG EVENTS [IN 'f'] [FROM pos] [LIMIT [offset,] n] (after EVENTS). */
static void parse_show_binlog_events(toks_t *tk, tr_sql_cmd_t *out, const char **why)
{
    const tok_t *t;
    if (accept_word(tk, "IN")) {
        t = peek(tk, 0);
        if (t == NULL || t->type != T_STR) {
            *why = "SHOW BINLOG EVENTS IN needs a quoted file name";
            return;
        }
        out->log_name = t->val;
        tk->i++;
    }
    if (accept_word(tk, "FROM")) {
        t = peek(tk, 0);
        if (t == NULL || t->type != T_NUM || !parse_u64(t->val, &out->from_pos)) {
            *why = "bad FROM position";
            return;
        }
        out->has_from = true;
        tk->i++;
    }
    if (accept_word(tk, "LIMIT")) {
        uint64_t a = 0;
        uint64_t b = 0;
        t = peek(tk, 0);
        if (t == NULL || t->type != T_NUM || !parse_u64(t->val, &a)) {
            *why = "bad LIMIT";
            return;
        }
        tk->i++;
        if (accept_punct(tk, ',')) {
            t = peek(tk, 0);
            if (t == NULL || t->type != T_NUM || !parse_u64(t->val, &b)) {
                *why = "bad LIMIT";
                return;
            }
            tk->i++;
            out->limit_offset = a;
            out->limit = b;
        } else {
            out->limit = a;
        }
        out->has_limit = true;
    }
    if (!at_end(tk)) {
        *why = "unexpected text after SHOW BINLOG EVENTS";
        return;
    }
    out->kind = TR_SQL_SHOW_BINLOG_EVENTS;
}

/* SHOW BINLOG POSITION FOR TSO <n> | FOR GTID 'gtid' | FOR POSITION 'file' <pos>
 * (tirelay's own statement, DESIGN.md "Administration"). */
static void parse_show_binlog_position(toks_t *tk, tr_sql_cmd_t *out, const char **why)
{
    const tok_t *t;
    if (!accept_word(tk, "FOR")) {
        *why = "SHOW BINLOG POSITION needs FOR TSO <ts>, FOR GTID '<gtid>' or FOR POSITION "
               "'<file>' <pos>";
        return;
    }
    if (accept_word(tk, "TSO")) {
        t = peek(tk, 0);
        uint64_t ts = 0;
        if (t == NULL || t->type != T_NUM || !parse_u64(t->val, &ts) || ts > INT64_MAX) {
            *why = "SHOW BINLOG POSITION FOR TSO needs an unsigned integer TSO";
            return;
        }
        tk->i++;
        out->pos_by = TR_SQL_POS_BY_TSO;
        out->pos_tso = ts;
    } else if (accept_word(tk, "GTID")) {
        t = peek(tk, 0);
        if (t == NULL || t->type != T_STR) {
            *why = "SHOW BINLOG POSITION FOR GTID needs a quoted GTID ('uuid:N' or 'D-S-N')";
            return;
        }
        tk->i++;
        out->pos_by = TR_SQL_POS_BY_GTID;
        out->pos_arg = t->val;
    } else if (accept_word(tk, "POSITION")) {
        t = peek(tk, 0);
        const tok_t *n = peek(tk, 1);
        if (t == NULL || t->type != T_STR || n == NULL || n->type != T_NUM ||
            !parse_u64(n->val, &out->pos_pos)) {
            *why = "SHOW BINLOG POSITION FOR POSITION needs a quoted file name and a position";
            return;
        }
        tk->i += 2;
        out->pos_by = TR_SQL_POS_BY_POSITION;
        out->pos_arg = t->val;
    } else {
        *why = "SHOW BINLOG POSITION FOR needs TSO, GTID or POSITION";
        return;
    }
    if (!at_end(tk)) {
        *why = "unexpected text after SHOW BINLOG POSITION";
        return;
    }
    out->kind = TR_SQL_SHOW_BINLOG_POSITION;
}

static void parse_show(toks_t *tk, tr_sql_cmd_t *out, const char **why)
{
    if (accept_word(tk, "BINLOG") && accept_word(tk, "EVENTS")) {
        parse_show_binlog_events(tk, out, why);
        return;
    }
    tk->i = 1;
    if (accept_word(tk, "BINLOG") && accept_word(tk, "POSITION")) {
        parse_show_binlog_position(tk, out, why);
        return;
    }
    tk->i = 1;
    if (accept_word(tk, "RELAY") && accept_word(tk, "STATUS")) {
        if (at_end(tk)) {
            out->kind = TR_SQL_SHOW_RELAY_STATUS;
        } else {
            *why = "unexpected text after SHOW RELAY STATUS";
        }
        return;
    }
    tk->i = 1;
    if (accept_word(tk, "REPLICAS") || (accept_word(tk, "SLAVE") && accept_word(tk, "HOSTS"))) {
        out->is_slave_hosts = tk->i == 3;
        out->kind = at_end(tk) ? TR_SQL_SHOW_REPLICAS : TR_SQL_UNKNOWN;
        return;
    }
    tk->i = 1;
    if (accept_word(tk, "GRANTS")) {
        out->kind = TR_SQL_SHOW_GRANTS; /* FOR CURRENT_USER / FOR 'u'@'h': same answer */
        return;
    }
    if (accept_word(tk, "DATABASES") || accept_word(tk, "SCHEMAS")) {
        if (parse_like_or_where(tk, out, why)) {
            out->kind = TR_SQL_SHOW_DATABASES;
        }
        return;
    }
    if (accept_word(tk, "CREATE")) {
        if (accept_word(tk, "TABLE") || accept_word(tk, "VIEW")) {
            if (parse_table_ref(tk, &out->obj_db, &out->obj_name) && at_end(tk)) {
                out->kind = TR_SQL_SHOW_CREATE_TABLE;
            } else {
                *why = "SHOW CREATE TABLE needs a table name";
            }
        } else if (accept_word(tk, "DATABASE") || accept_word(tk, "SCHEMA")) {
            if (accept_word(tk, "IF")) {
                out->if_not_exists = accept_word(tk, "NOT") && accept_word(tk, "EXISTS");
                if (!out->if_not_exists) {
                    *why = "expected IF NOT EXISTS";
                    return;
                }
            }
            if (accept_name(tk, &out->obj_name, NULL) && at_end(tk)) {
                out->kind = TR_SQL_SHOW_CREATE_DB;
            } else {
                *why = "SHOW CREATE DATABASE needs a database name";
            }
        } else {
            *why = "unsupported SHOW CREATE statement";
        }
        return;
    }
    if (accept_word(tk, "INDEX") || accept_word(tk, "INDEXES") || accept_word(tk, "KEYS")) {
        if (!(accept_word(tk, "FROM") || accept_word(tk, "IN")) ||
            !parse_table_ref(tk, &out->obj_db, &out->obj_name)) {
            *why = "SHOW INDEX needs FROM table";
            return;
        }
        if ((accept_word(tk, "FROM") || accept_word(tk, "IN")) &&
            !accept_name(tk, &out->obj_db, NULL)) {
            *why = "SHOW INDEX ... FROM needs a database name";
            return;
        }
        if (!is_word(peek(tk, 0), "LIKE") && parse_like_or_where(tk, out, why)) {
            out->kind = TR_SQL_SHOW_INDEX;
        } else if (*why == NULL) {
            *why = "SHOW INDEX takes WHERE, not LIKE";
        }
        return;
    }
    if (accept_word(tk, "TABLE")) {
        if (!accept_word(tk, "STATUS")) {
            *why = "unsupported SHOW TABLE statement";
            return;
        }
        if ((accept_word(tk, "FROM") || accept_word(tk, "IN")) &&
            !accept_name(tk, &out->show_db, NULL)) {
            *why = "SHOW TABLE STATUS FROM needs a database name";
            return;
        }
        if (parse_like_or_where(tk, out, why)) {
            out->kind = TR_SQL_SHOW_TABLE_STATUS;
        }
        return;
    }
    tk->i = 1;
    out->show_full = accept_word(tk, "FULL");
    if (accept_word(tk, "TABLES")) {
        if ((accept_word(tk, "FROM") || accept_word(tk, "IN")) &&
            !accept_name(tk, &out->show_db, NULL)) {
            *why = "SHOW TABLES FROM needs a database name";
            return;
        }
        if (parse_like_or_where(tk, out, why)) {
            out->kind = TR_SQL_SHOW_TABLES;
        }
        return;
    }
    if (accept_word(tk, "COLUMNS") || accept_word(tk, "FIELDS")) {
        if (!(accept_word(tk, "FROM") || accept_word(tk, "IN")) ||
            !parse_table_ref(tk, &out->obj_db, &out->obj_name)) {
            *why = "SHOW COLUMNS needs FROM table";
            return;
        }
        if ((accept_word(tk, "FROM") || accept_word(tk, "IN")) &&
            !accept_name(tk, &out->obj_db, NULL)) {
            *why = "SHOW COLUMNS ... FROM needs a database name";
            return;
        }
        if (parse_like_or_where(tk, out, why)) {
            out->kind = TR_SQL_SHOW_COLUMNS;
        }
        return;
    }
    out->show_full = false;
    tk->i = 1;
    if ((accept_word(tk, "MASTER") || accept_word(tk, "BINLOG")) && accept_word(tk, "STATUS")) {
        out->kind = at_end(tk) ? TR_SQL_SHOW_MASTER_STATUS : TR_SQL_UNKNOWN;
        return;
    }
    tk->i = 1;
    if (accept_word(tk, "BINARY")) {
        if (accept_word(tk, "LOGS") && at_end(tk)) {
            out->kind = TR_SQL_SHOW_BINARY_LOGS;
        } else if (accept_word(tk, "LOG") && accept_word(tk, "STATUS") && at_end(tk)) {
            out->kind = TR_SQL_SHOW_MASTER_STATUS;
        } else {
            *why = "unsupported SHOW BINARY statement";
        }
        return;
    }
    if (accept_word(tk, "MASTER")) {
        if (accept_word(tk, "LOGS") && at_end(tk)) {
            out->kind = TR_SQL_SHOW_BINARY_LOGS;
        } else {
            *why = "unsupported SHOW MASTER statement";
        }
        return;
    }
    out->show_scope = accept_scope(tk);
    tr_sql_kind_t kind = TR_SQL_UNKNOWN;
    if (accept_word(tk, "VARIABLES")) {
        kind = TR_SQL_SHOW_VARIABLES;
    } else if (accept_word(tk, "STATUS")) {
        kind = TR_SQL_SHOW_STATUS;
    } else {
        *why = "unsupported SHOW statement";
        return;
    }
    if (at_end(tk)) {
        out->kind = kind;
        return;
    }
    if (!parse_show_filter(tk, out)) {
        *why = kind == TR_SQL_SHOW_STATUS ? "unsupported SHOW STATUS filter"
                                          : "unsupported SHOW VARIABLES filter";
        out->n_show = 0;
        return;
    }
    out->kind = kind;
}

void tr_sql_parse(const char *sql, size_t len, tr_sql_cmd_t *out, const char **why)
{
    toks_t tk;
    out->kind = TR_SQL_UNKNOWN;
    out->n_sel = 0;
    out->n_set = 0;
    out->n_show = 0;
    out->has_limit = false;
    out->limit = 0;
    out->show_scope = TR_SQL_SCOPE_DEFAULT;
    out->show_full = false;
    out->show_db = tr_slice(NULL, 0);
    out->has_like = false;
    out->like = tr_slice(NULL, 0);
    out->where = -1;
    out->n_cond = 0;
    out->n_list = 0;
    out->obj_db = tr_slice(NULL, 0);
    out->obj_name = tr_slice(NULL, 0);
    out->if_not_exists = false;
    out->from_db = tr_slice(NULL, 0);
    out->from_table = tr_slice(NULL, 0);
    out->from_alias = tr_slice(NULL, 0);
    out->has_join = false;
    out->join_db = tr_slice(NULL, 0);
    out->join_table = tr_slice(NULL, 0);
    out->join_alias = tr_slice(NULL, 0);
    out->n_order = 0;
    out->kill_id = 0;
    out->kill_query_only = false;
    out->log_name = tr_slice(NULL, 0);
    out->has_from = false;
    out->from_pos = 0;
    out->limit_offset = 0;
    out->is_slave_hosts = false;
    out->purge_before = false;
    out->purge_arg = tr_slice(NULL, 0);
    out->pos_by = TR_SQL_POS_BY_TSO;
    out->pos_tso = 0;
    out->pos_arg = tr_slice(NULL, 0);
    out->pos_pos = 0;
    *why = NULL;
    if (!lex(sql, len, &tk, why)) {
        return;
    }
    if (tk.n == 0) {
        out->kind = TR_SQL_EMPTY;
        return;
    }
    const tok_t *first = &tk.t[0];
    tk.i = 1;
    if (is_word(first, "SELECT")) {
        parse_select(&tk, out, why);
    } else if (is_word(first, "SET")) {
        parse_set(&tk, out, why);
    } else if (is_word(first, "SHOW")) {
        parse_show(&tk, out, why);
    } else if (is_word(first, "PURGE")) {
        if ((accept_word(&tk, "BINARY") || accept_word(&tk, "MASTER")) && accept_word(&tk, "LOGS")) {
            bool before = accept_word(&tk, "BEFORE");
            bool to = !before && accept_word(&tk, "TO");
            const tok_t *t = peek(&tk, 0);
            if ((before || to) && t != NULL && t->type == T_STR && tk.i + 1 == tk.n) {
                out->purge_before = before;
                out->purge_arg = t->val;
                out->kind = TR_SQL_PURGE_LOGS;
            } else {
                *why = "PURGE BINARY LOGS needs TO 'file' or BEFORE 'datetime'";
            }
        } else {
            *why = "unsupported PURGE statement";
        }
    } else if (is_word(first, "FLUSH")) {
        (void)(accept_word(&tk, "NO_WRITE_TO_BINLOG") || accept_word(&tk, "LOCAL"));
        if ((accept_word(&tk, "BINARY") || accept_word(&tk, "MASTER")) && accept_word(&tk, "LOGS") &&
            at_end(&tk)) {
            out->kind = TR_SQL_FLUSH_LOGS;
        } else if (accept_word(&tk, "TABLES") && tk.n >= 4 && is_word(&tk.t[tk.n - 3], "WITH") &&
                   is_word(&tk.t[tk.n - 2], "READ") && is_word(&tk.t[tk.n - 1], "LOCK")) {
            /* FLUSH TABLES [t, ...] WITH READ LOCK (Debezium's snapshot) */
            out->kind = TR_SQL_LOCK_FOR_SNAPSHOT;
        } else {
            *why = "unsupported FLUSH statement";
        }
    } else if (is_word(first, "LOCK")) {
        if ((accept_word(&tk, "TABLES") || accept_word(&tk, "INSTANCE")) &&
            accept_word(&tk, "FOR") && accept_word(&tk, "BACKUP") && at_end(&tk)) {
            out->kind = TR_SQL_LOCK_FOR_SNAPSHOT;
        } else {
            *why = "unsupported LOCK statement";
        }
    } else if (is_word(first, "DESCRIBE") || is_word(first, "DESC") ||
               (is_word(first, "EXPLAIN") && !is_word(peek(&tk, 0), "SELECT"))) {
        /* DESCRIBE t [column | 'pattern']: SHOW COLUMNS FROM t [LIKE ...] */
        if (!parse_table_ref(&tk, &out->obj_db, &out->obj_name)) {
            *why = "DESCRIBE needs a table name";
        } else {
            const tok_t *t = peek(&tk, 0);
            if (t != NULL && (t->type == T_WORD || t->type == T_STR) && tk.i + 1 == tk.n) {
                out->has_like = true;
                out->like = t->val;
                tk.i++;
            }
            if (at_end(&tk)) {
                out->kind = TR_SQL_SHOW_COLUMNS;
            } else {
                *why = "unexpected text after DESCRIBE";
            }
        }
    } else if (is_word(first, "USE")) {
        if (accept_name(&tk, &out->obj_name, NULL) && at_end(&tk)) {
            out->kind = TR_SQL_USE;
        } else {
            *why = "USE needs a database name";
        }
    } else if (is_word(first, "KILL")) {
        if (accept_word(&tk, "QUERY")) {
            out->kill_query_only = true;
        } else {
            (void)accept_word(&tk, "CONNECTION");
        }
        const tok_t *t = peek(&tk, 0);
        if (t != NULL && t->type == T_NUM && parse_u64(t->val, &out->kill_id) && tk.i + 1 == tk.n) {
            out->kind = TR_SQL_KILL;
        } else {
            *why = "bad KILL statement";
        }
    } else if (is_word(first, "UNLOCK")) {
        if ((accept_word(&tk, "TABLES") || accept_word(&tk, "INSTANCE")) && at_end(&tk)) {
            out->kind = TR_SQL_UNLOCK;
        } else {
            *why = "unsupported UNLOCK statement";
        }
    } else if (is_word(first, "COMMIT") || is_word(first, "ROLLBACK") || is_word(first, "BEGIN") ||
               (is_word(first, "START") && is_word(peek(&tk, 0), "TRANSACTION"))) {
        out->kind = TR_SQL_NOOP;
    } else {
        *why = "unsupported statement";
    }
    if (out->kind == TR_SQL_UNKNOWN && *why == NULL) {
        *why = "syntax error";
    }
}

size_t tr_sql_next_statement(const char *sql, size_t len, size_t *next)
{
    size_t i = 0;
    while (i < len) {
        char c = sql[i];
        if (c == '\'' || c == '"' || c == '`') {
            size_t end = scan_string(sql, len, i);
            i = end == 0 ? len : end;
        } else if (c == '/' && i + 1 < len && sql[i + 1] == '*') {
            size_t j = i + 2;
            while (j + 1 < len && !(sql[j] == '*' && sql[j + 1] == '/')) {
                j++;
            }
            i = j + 1 < len ? j + 2 : len;
        } else if (c == '#' || (c == '-' && i + 1 < len && sql[i + 1] == '-' &&
                                (i + 2 == len || sql[i + 2] == ' ' || sql[i + 2] == '\t'))) {
            while (i < len && sql[i] != '\n') {
                i++;
            }
        } else if (c == ';') {
            break;
        } else {
            i++;
        }
    }
    size_t stmt = i;
    size_t j = i;
    while (j < len && (sql[j] == ';' || sql[j] == ' ' || sql[j] == '\t' || sql[j] == '\n' ||
                       sql[j] == '\r')) {
        j++;
    }
    *next = j;
    return stmt;
}

size_t tr_sql_unquote(tr_slice_t raw, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < raw.len; i++) {
        char c = (char)raw.p[i];
        if (c == '\\' && i + 1 < raw.len) {
            char e = (char)raw.p[++i];
            switch (e) {
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case 'r':
                c = '\r';
                break;
            case '0':
                c = '\0';
                break;
            case 'Z':
                c = '\032';
                break;
            case 'b':
                c = '\b';
                break;
            default:
                c = e; /* \\ \' \" and, like MySQL, any other character itself */
                break;
            }
        } else if ((c == '\'' || c == '"' || c == '`') && i + 1 < raw.len && raw.p[i + 1] == (uint8_t)c) {
            i++; /* doubled quote */
        }
        if (cap > 0 && n + 1 < cap) {
            out[n] = c;
        }
        n++;
    }
    if (cap > 0) {
        out[n < cap ? n : cap - 1] = '\0';
    }
    return n;
}

bool tr_sql_like(const char *pattern, size_t plen, const char *s, size_t slen)
{
    size_t p = 0;
    size_t i = 0;
    size_t star_p = (size_t)-1;
    size_t star_i = 0;
    while (i < slen) {
        if (p < plen && pattern[p] == '%') {
            star_p = p++;
            star_i = i;
            continue;
        }
        if (p < plen) {
            char pc = pattern[p];
            size_t adv = 1;
            if (pc == '\\' && p + 1 < plen) {
                pc = pattern[p + 1];
                adv = 2;
                if (lower((unsigned char)pc) == lower((unsigned char)s[i])) {
                    p += adv;
                    i++;
                    continue;
                }
            } else if (pc == '_' || lower((unsigned char)pc) == lower((unsigned char)s[i])) {
                p += adv;
                i++;
                continue;
            }
        }
        if (star_p == (size_t)-1) {
            return false;
        }
        p = star_p + 1;
        i = ++star_i;
    }
    while (p < plen && pattern[p] == '%') {
        p++;
    }
    return p == plen;
}
