/*
 * TiDB DDL text → a statement MySQL 8.0 and MariaDB 10.11 accept.
 *
 * TiDB logs a DDL re-rendered by its parser (pkg/sessionctx/binloginfo
 * FormatAndAddTiDBSpecificComment: back-quoted names, upper-case keywords,
 * TiDB-only syntax inside "/ *T! ... * /" or "/ *T![feature] ... * /" comments,
 * a ';' after each statement); older releases and job.query hold the raw
 * text, with TiDB-only syntax bare. This rewriter scans the text as tokens
 * (strings, quoted names and comments are never looked into) and:
 *   - drops TiDB comments and bare TiDB-only options: AUTO_RANDOM(n[,m]),
 *     AUTO_RANDOM_BASE, SHARD_ROW_ID_BITS, PRE_SPLIT_REGIONS, AUTO_ID_CACHE,
 *     CLUSTERED/NONCLUSTERED, PLACEMENT POLICY and the direct placement
 *     options, TTL/TTL_ENABLE/TTL_JOB_INTERVAL/REMOVE TTL, the TiDB
 *     STATS_* table options, FORCE before AUTO_INCREMENT, ATTRIBUTES;
 *   - per flavour: MariaDB has no WITH/WITHOUT VALIDATION (dropped), calls
 *     invisible indexes IGNORED and has no 0900 collations (utf8mb4_0900_ai_ci
 *     -> utf8mb4_uca1400_nopad_ai_ci, utf8mb4_0900_bin -> utf8mb4_nopad_bin);
 *     MySQL has no sequences and no IF [NOT] EXISTS inside ALTER TABLE or on
 *     CREATE/DROP INDEX (dropped: TiDB logs such a DDL only when it acted);
 *   - answers SKIP for statements with no MySQL meaning (SET TIFLASH
 *     REPLICA, CACHE/NOCACHE, placement policies, resource groups, lock
 *     tables, an ALTER left without any action) and UNSUPPORTED for TiDB-only
 *     statements that cannot be made safe (FLASHBACK/RECOVER, interval
 *     partitioning, several statements in one DDL, unbalanced quotes).
 * Pure: no I/O, no logging (one token array is allocated per call: DDL is rare).
 */
#ifndef TR_PROTOCOL_DDL_REWRITE_H
#define TR_PROTOCOL_DDL_REWRITE_H

#include <stddef.h>

#include "common/buf.h"
#include "common/defs.h"
#include "protocol/binlog_event.h"

typedef enum {
    TR_DDL_WRITE = 0,       /* out holds the statement to write (possibly unchanged) */
    TR_DDL_SKIP = 1,        /* nothing to write: no MySQL meaning (why says what) */
    TR_DDL_UNSUPPORTED = 2, /* TiDB-only syntax that cannot be made safe (why says what) */
} tr_ddl_verdict_t;

/*
 * Rewrites sql (len bytes, not NUL-terminated) for flavor f, appending the
 * result to out (trailing ';' and whitespace removed). Returns the verdict;
 * *why is a static string for SKIP/UNSUPPORTED (NULL for WRITE). On SKIP and
 * UNSUPPORTED out's content is unspecified.
 */
tr_ddl_verdict_t tr_ddl_rewrite(const char *sql, size_t len, tr_flavor_t f, tr_buf_t *out,
                                const char **why);

/* One token of DDL text (tr_ddl_tokenize): [start, end) in the text. */
typedef enum {
    TR_DDL_TK_WORD = 0,   /* keyword, bare name or number */
    TR_DDL_TK_QUOTED = 1, /* `name` (doubled backticks inside) */
    TR_DDL_TK_STRING = 2, /* 'text' or "text" */
    TR_DDL_TK_PUNCT = 3,  /* one character */
    TR_DDL_TK_COMMENT = 4 /* any comment, TiDB's and line comments included */
} tr_ddl_token_kind_t;

typedef struct {
    tr_ddl_token_kind_t kind;
    size_t start;
    size_t end;
} tr_ddl_token_t;

/*
 * Cuts sql (len bytes) into the tokens tr_ddl_rewrite sees (whitespace left
 * out). Returns owned (free with tr_free; *n tokens) or NULL with *n = 0 when a
 * quote or comment is not terminated. For other modules that need names in DDL
 * text (relay/filter.c renames databases and tables).
 */
tr_ddl_token_t *tr_ddl_tokenize(const char *sql, size_t len, size_t *n);

/* "write", "skip" or "unsupported". */
const char *tr_ddl_verdict_name(tr_ddl_verdict_t v);

#endif
