/*
 * The schema catalogue (protocol/catalog.h) and its statements (protocol/catalog_query.h).
 * Golden texts: the MariaDB ones were captured from a MariaDB 10.11.19 server (Debian 12)
 * for the same definitions (SHOW CREATE TABLE, SHOW FULL COLUMNS, information_schema);
 * the MySQL ones follow MySQL 5.7's and TiDB's printing (int(11), quoted defaults, no
 * DEFAULT NULL on TEXT). tests/integration/test_catalog.py compares the whole catalogue
 * with a live MariaDB replica.
 */
#include "tr_test.h"

#include "common/buf.h"
#include "common/mem.h"
#include "protocol/catalog.h"
#include "protocol/catalog_query.h"
#include "protocol/result.h"
#include "protocol/sqlcmd.h"
#include "protocol/tidb_schema.h"

enum { F_NN = 1, F_UNS = 32, F_ZF = 64, F_AI = 512, F_ONUPD = 8192 };

static tr_cat_column_t col(const char *name, uint8_t tp, uint32_t flag, int flen, int dec,
                           const char *cs, const char *co)
{
    tr_cat_column_t c;
    memset(&c, 0, sizeof(c));
    c.name = (char *)name;
    c.tp = tp;
    c.flag = flag;
    c.flen = flen;
    c.decimal = dec;
    c.charset = (char *)cs;
    c.collation = (char *)co;
    c.comment = (char *)"";
    c.default_kind = (flag & F_NN) ? TR_CAT_DEFAULT_NONE : TR_CAT_DEFAULT_NULL;
    return c;
}

static void add(tr_cat_table_t *t, tr_cat_column_t c)
{
    (void)tr_cat_table_add_column(t, &c);
}

static void with_default(tr_cat_column_t *c, tr_cat_default_t kind, const char *text, size_t len)
{
    c->default_kind = kind;
    c->default_text = (char *)text;
    c->default_len = len;
}

/* d1.t1 of the capture, in the types TiDB gives (tidb_schema.h codes and flags). */
static tr_cat_table_t *table_t1(void)
{
    tr_cat_table_t *t = tr_cat_table_new(7, "d1", "t1", "utf8mb4", "utf8mb4_bin", "table comment");
    tr_cat_column_t c = col("id", TR_TIDB_TP_LONGLONG, F_NN | F_AI | 2, 20, 0, "binary", "binary");
    c.auto_increment = true;
    add(t, c);
    add(t, col("a", TR_TIDB_TP_TINY, 0, 4, 0, "binary", "binary"));
    add(t, col("b", TR_TIDB_TP_TINY, F_UNS, 1, 0, "binary", "binary"));
    add(t, col("c", TR_TIDB_TP_SHORT, F_UNS | F_ZF, 5, 0, "binary", "binary"));
    c = col("d", TR_TIDB_TP_INT24, F_NN, 9, 0, "binary", "binary");
    with_default(&c, TR_CAT_DEFAULT_VALUE, "7", 1);
    add(t, c);
    add(t, col("f", TR_TIDB_TP_LONG, F_UNS, 10, 0, "binary", "binary"));
    c = col("j", TR_TIDB_TP_NEWDECIMAL, 0, 10, 2, "binary", "binary");
    with_default(&c, TR_CAT_DEFAULT_VALUE, "3.10", 4);
    add(t, c);
    c = col("m", TR_TIDB_TP_DATETIME, 0, 23, 3, "binary", "binary");
    c.default_kind = TR_CAT_DEFAULT_NOW;
    c.on_update_now = true;
    add(t, c);
    add(t, col("n", TR_TIDB_TP_TIMESTAMP, 0, 19, 0, "binary", "binary"));
    add(t, col("q", TR_TIDB_TP_STRING, 0, 10, 0, "utf8mb4", "utf8mb4_bin"));
    c = col("r", TR_TIDB_TP_VARCHAR, 0, 255, 0, "latin1", "latin1_bin");
    c.comment = (char *)"a 'quoted' comment";
    add(t, c);
    c = col("s", TR_TIDB_TP_VARCHAR, F_NN, 20, 0, "utf8mb4", "utf8mb4_bin");
    with_default(&c, TR_CAT_DEFAULT_VALUE, "x'y", 3);
    add(t, c);
    add(t, col("t", TR_TIDB_TP_STRING, 0, 4, 0, "binary", "binary"));
    add(t, col("w", TR_TIDB_TP_BLOB, 0, 65535, 0, "utf8mb4", "utf8mb4_bin"));
    static char *elems[] = {"a", "b'c"};
    c = col("ad", TR_TIDB_TP_ENUM, 0, -1, 0, "utf8mb4", "utf8mb4_bin");
    c.elems = elems;
    c.n_elems = 2;
    with_default(&c, TR_CAT_DEFAULT_VALUE, "a", 1);
    add(t, c);
    c = col("ag", TR_TIDB_TP_BIT, 0, 12, 0, "binary", "binary");
    with_default(&c, TR_CAT_DEFAULT_BIT, "\x00\x05", 2);
    add(t, c);
    add(t, col("ah", TR_TIDB_TP_JSON, 0, -1, 0, "binary", "binary"));
    c = col("ai", TR_TIDB_TP_LONG, 0, 11, 0, "binary", "binary");
    c.gen_expr = (char *)"`a` + 1";
    add(t, c);
    tr_cat_index_col_t pk = {0, -1};
    tr_cat_index_col_t k1[2] = {{10, 5}, {9, -1}};
    tr_cat_index_col_t uk = {5, -1};
    /* defined KEY before UNIQUE: the servers list unique keys first */
    tr_cat_table_add_index(t, "k1", false, false, false, 1, "", k1, 2);
    tr_cat_table_add_index(t, "PRIMARY", true, true, false, 1, "", &pk, 1);
    tr_cat_table_add_index(t, "uk", false, true, false, 1, "", &uk, 1);
    tr_cat_table_finish(t);
    return t;
}

static const char want_maria_t1[] =
    "CREATE TABLE `t1` (\n"
    "  `id` bigint(20) NOT NULL AUTO_INCREMENT,\n"
    "  `a` tinyint(4) DEFAULT NULL,\n"
    "  `b` tinyint(1) unsigned DEFAULT NULL,\n"
    "  `c` smallint(5) unsigned zerofill DEFAULT NULL,\n"
    "  `d` mediumint(9) NOT NULL DEFAULT 7,\n"
    "  `f` int(10) unsigned DEFAULT NULL,\n"
    "  `j` decimal(10,2) DEFAULT 3.10,\n"
    "  `m` datetime(3) DEFAULT current_timestamp(3) ON UPDATE current_timestamp(3),\n"
    "  `n` timestamp NULL DEFAULT NULL,\n"
    "  `q` char(10) DEFAULT NULL,\n"
    "  `r` varchar(255) CHARACTER SET latin1 COLLATE latin1_bin DEFAULT NULL COMMENT 'a "
    "''quoted'' comment',\n"
    "  `s` varchar(20) NOT NULL DEFAULT 'x''y',\n"
    "  `t` binary(4) DEFAULT NULL,\n"
    "  `w` text DEFAULT NULL,\n"
    "  `ad` enum('a','b''c') DEFAULT 'a',\n"
    "  `ag` bit(12) DEFAULT b'101',\n"
    "  `ah` longtext DEFAULT NULL CHECK (json_valid(`ah`)),\n"
    "  `ai` int(11) GENERATED ALWAYS AS (`a` + 1) VIRTUAL,\n"
    "  PRIMARY KEY (`id`),\n"
    "  UNIQUE KEY `uk` (`f`),\n"
    "  KEY `k1` (`r`(5),`q`)\n"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='table comment'";

static const char want_mysql_t1[] =
    "CREATE TABLE `t1` (\n"
    "  `id` bigint(20) NOT NULL AUTO_INCREMENT,\n"
    "  `a` tinyint(4) DEFAULT NULL,\n"
    "  `b` tinyint(1) unsigned DEFAULT NULL,\n"
    "  `c` smallint(5) unsigned zerofill DEFAULT NULL,\n"
    "  `d` mediumint(9) NOT NULL DEFAULT '7',\n"
    "  `f` int(10) unsigned DEFAULT NULL,\n"
    "  `j` decimal(10,2) DEFAULT '3.10',\n"
    "  `m` datetime(3) DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),\n"
    "  `n` timestamp NULL DEFAULT NULL,\n"
    "  `q` char(10) DEFAULT NULL,\n"
    "  `r` varchar(255) CHARACTER SET latin1 COLLATE latin1_bin DEFAULT NULL COMMENT 'a "
    "''quoted'' comment',\n"
    "  `s` varchar(20) NOT NULL DEFAULT 'x''y',\n"
    "  `t` binary(4) DEFAULT NULL,\n"
    "  `w` text,\n"
    "  `ad` enum('a','b''c') DEFAULT 'a',\n"
    "  `ag` bit(12) DEFAULT b'101',\n"
    "  `ah` json DEFAULT NULL,\n"
    "  `ai` int(11) GENERATED ALWAYS AS (`a` + 1) VIRTUAL,\n"
    "  PRIMARY KEY (`id`),\n"
    "  UNIQUE KEY `uk` (`f`),\n"
    "  KEY `k1` (`r`(5),`q`)\n"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='table comment'";

static void expect_text(const char *got, size_t len, const char *want)
{
    if (len != strlen(want) || memcmp(got, want, len) != 0) {
        TR_FAIL_AT("text differs:\n--- got\n%.*s\n--- want\n%s", (int)len, got, want);
    }
}

TR_TEST(show_create_table_both_flavours)
{
    tr_cat_table_t *t = table_t1();
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_cat_show_create_table(t, TR_FLAVOR_MARIADB, &b);
    expect_text((const char *)b.data, b.len, want_maria_t1);
    tr_buf_reset(&b);
    tr_cat_show_create_table(t, TR_FLAVOR_MYSQL, &b);
    expect_text((const char *)b.data, b.len, want_mysql_t1);
    tr_buf_cleanup(&b);
    tr_cat_table_unref(t);
}

TR_TEST(column_facts)
{
    tr_cat_table_t *t = table_t1();
    tr_buf_t b;
    tr_buf_init(&b, 0);
    /* keys: PRI for id, UNI for f (one-column unique), MUL for r (first of k1), none for q */
    EXPECT_EQ_STR(t->cols[0].key, "PRI");
    EXPECT_EQ_STR(t->cols[5].key, "UNI");
    EXPECT_EQ_STR(t->cols[10].key, "MUL");
    EXPECT_EQ_STR(t->cols[9].key, "");
    /* information_schema.COLUMNS COLUMN_DEFAULT: MariaDB quotes strings, writes 'NULL' */
    EXPECT_TRUE(tr_cat_column_default_is(&t->cols[11], TR_FLAVOR_MARIADB, &b));
    expect_text((const char *)b.data, b.len, "'x''y'");
    tr_buf_reset(&b);
    EXPECT_TRUE(tr_cat_column_default_is(&t->cols[1], TR_FLAVOR_MARIADB, &b));
    expect_text((const char *)b.data, b.len, "NULL");
    tr_buf_reset(&b);
    EXPECT_TRUE(!tr_cat_column_default_is(&t->cols[1], TR_FLAVOR_MYSQL, &b));
    EXPECT_TRUE(!tr_cat_column_default_is(&t->cols[0], TR_FLAVOR_MARIADB, &b));
    EXPECT_TRUE(tr_cat_column_default_show(&t->cols[11], TR_FLAVOR_MARIADB, &b));
    expect_text((const char *)b.data, b.len, "x'y");
    tr_buf_reset(&b);
    tr_cat_column_extra(&t->cols[7], TR_FLAVOR_MARIADB, &b);
    expect_text((const char *)b.data, b.len, "on update current_timestamp(3)");
    tr_buf_reset(&b);
    tr_cat_column_extra(&t->cols[7], TR_FLAVOR_MYSQL, &b);
    expect_text((const char *)b.data, b.len, "DEFAULT_GENERATED on update CURRENT_TIMESTAMP(3)");
    /* numeric facts: bigint signed 19, decimal (10,2), bit precision = width */
    uint64_t p = 0;
    uint64_t sc = 0;
    bool has_scale = false;
    EXPECT_TRUE(tr_cat_column_numeric(&t->cols[0], &p, &has_scale, &sc) && p == 19);
    EXPECT_TRUE(tr_cat_column_numeric(&t->cols[6], &p, &has_scale, &sc) && p == 10 && sc == 2);
    EXPECT_TRUE(tr_cat_column_numeric(&t->cols[15], &p, &has_scale, &sc) && p == 12 && !has_scale);
    /* lengths: utf8mb4 CHAR(10) is 40 bytes; ENUM counts its longest member */
    uint64_t ch = 0;
    uint64_t oct = 0;
    EXPECT_TRUE(tr_cat_column_char_length(&t->cols[9], TR_FLAVOR_MARIADB, &ch, &oct));
    EXPECT_TRUE(ch == 10 && oct == 40);
    EXPECT_TRUE(tr_cat_column_char_length(&t->cols[14], TR_FLAVOR_MARIADB, &ch, &oct));
    EXPECT_TRUE(ch == 3 && oct == 12);
    /* JSON: MariaDB's longtext in utf8mb4_bin, MySQL's json with no charset */
    EXPECT_EQ_STR(tr_cat_data_type(&t->cols[16], TR_FLAVOR_MARIADB), "longtext");
    EXPECT_EQ_STR(tr_cat_column_collation(&t->cols[16], TR_FLAVOR_MARIADB), "utf8mb4_bin");
    EXPECT_EQ_STR(tr_cat_data_type(&t->cols[16], TR_FLAVOR_MYSQL), "json");
    EXPECT_TRUE(tr_cat_column_collation(&t->cols[16], TR_FLAVOR_MYSQL) == NULL);
    tr_buf_cleanup(&b);
    tr_cat_table_unref(t);
}

TR_TEST(names_per_flavour)
{
    EXPECT_EQ_STR(tr_cat_charset_name("utf8", TR_FLAVOR_MARIADB), "utf8mb3");
    EXPECT_EQ_STR(tr_cat_collation_name("utf8_general_ci", TR_FLAVOR_MYSQL), "utf8mb3_general_ci");
    EXPECT_EQ_STR(tr_cat_collation_name("utf8mb4_0900_ai_ci", TR_FLAVOR_MARIADB),
                  "utf8mb4_uca1400_nopad_ai_ci");
    EXPECT_EQ_STR(tr_cat_collation_name("utf8mb4_0900_ai_ci", TR_FLAVOR_MYSQL),
                  "utf8mb4_0900_ai_ci");
    EXPECT_TRUE(tr_cat_charset_name("binary", TR_FLAVOR_MYSQL) == NULL);
    /* MariaDB keeps definitions in utf8mb3: a 4-byte character is '?' */
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_cat_text(&b, "d\xc3\xa9\xf0\x9f\x98\x80!", 8, TR_FLAVOR_MARIADB);
    expect_text((const char *)b.data, b.len, "d\xc3\xa9?!");
    tr_buf_reset(&b);
    tr_cat_text(&b, "\xf0\x9f\x98\x80", 4, TR_FLAVOR_MYSQL);
    expect_text((const char *)b.data, b.len, "\xf0\x9f\x98\x80");
    tr_buf_cleanup(&b);
}

/* MariaDB 10.11 (captured): a table without PRIMARY KEY shows its first unique key over
 * NOT NULL columns as PRI, sorted first: `k` (a NOT NULL, b, c; KEY kc(c), UNIQUE ub(b),
 * UNIQUE ua(a), UNIQUE up(c(5))) lists ua, ub, up, kc; a PRI, b UNI, c UNI. */
TR_TEST(key_order_and_promoted_primary)
{
    tr_cat_table_t *t = tr_cat_table_new(9, "d1", "k", "utf8mb4", "utf8mb4_bin", "");
    add(t, col("a", TR_TIDB_TP_LONG, F_NN, 11, 0, "binary", "binary"));
    add(t, col("b", TR_TIDB_TP_LONG, 0, 11, 0, "binary", "binary"));
    add(t, col("c", TR_TIDB_TP_VARCHAR, 0, 20, 0, "utf8mb4", "utf8mb4_bin"));
    tr_cat_index_col_t ca = {0, -1};
    tr_cat_index_col_t cb = {1, -1};
    tr_cat_index_col_t cc = {2, -1};
    tr_cat_index_col_t cp = {2, 5};
    tr_cat_table_add_index(t, "kc", false, false, false, 1, "", &cc, 1);
    tr_cat_table_add_index(t, "ub", false, true, false, 1, "", &cb, 1);
    tr_cat_table_add_index(t, "ua", false, true, false, 1, "", &ca, 1);
    tr_cat_table_add_index(t, "up", false, true, false, 1, "", &cp, 1);
    tr_cat_table_finish(t);
    EXPECT_EQ_STR(t->idx[0].name, "ua");
    EXPECT_EQ_STR(t->idx[1].name, "ub");
    EXPECT_EQ_STR(t->idx[2].name, "up");
    EXPECT_EQ_STR(t->idx[3].name, "kc");
    EXPECT_EQ_STR(t->cols[0].key, "PRI");
    EXPECT_EQ_STR(t->cols[1].key, "UNI");
    EXPECT_EQ_STR(t->cols[2].key, "UNI");
    tr_cat_table_unref(t);
}

/* ---------------------------------------------------------------- statements */

typedef struct {
    int err;          /* error code, 0 for a result set */
    char msg[256];
    size_t ncols;
    char cols[32][64];
    size_t nrows;
    char cells[64][32][128]; /* "\x01" = NULL */
    uint16_t status;  /* of the final EOF */
} result_t;

static size_t rd_lenenc(const uint8_t *p, size_t *off)
{
    uint8_t b = p[(*off)++];
    if (b < 251) {
        return b;
    }
    if (b == 0xFC) {
        size_t v = (size_t)p[*off] | (size_t)p[*off + 1] << 8;
        *off += 2;
        return v;
    }
    size_t v = (size_t)p[*off] | (size_t)p[*off + 1] << 8 | (size_t)p[*off + 2] << 16;
    *off += 3;
    return v;
}

/* Decodes framed packets: ERR, or column count, definitions, EOF, rows, EOF. */
static void decode(const tr_buf_t *b, result_t *r)
{
    memset(r, 0, sizeof(*r));
    size_t off = 0;
    int stage = 0;
    while (off + 4 <= b->len) {
        size_t n = (size_t)b->data[off] | (size_t)b->data[off + 1] << 8 |
                   (size_t)b->data[off + 2] << 16;
        const uint8_t *p = b->data + off + 4;
        off += 4 + n;
        if (stage == 0 && p[0] == 0xFF) {
            r->err = p[1] | p[2] << 8;
            snprintf(r->msg, sizeof(r->msg), "%.*s", (int)(n - 9), (const char *)p + 9);
            return;
        }
        if (stage == 0) {
            r->ncols = p[0];
            stage = 1;
        } else if (stage == 1 && p[0] == 0xFE && n < 9) {
            stage = 2;
        } else if (stage == 1) {
            size_t o = 0;
            for (int k = 0; k < 4; k++) {
                o += rd_lenenc(p, &o);
            }
            size_t nl = rd_lenenc(p, &o);
            size_t i = 0;
            while (r->cols[i][0] != '\0') {
                i++;
            }
            snprintf(r->cols[i], sizeof(r->cols[i]), "%.*s", (int)nl, (const char *)p + o);
        } else if (p[0] == 0xFE && n < 9) {
            r->status = (uint16_t)(p[3] | p[4] << 8);
            return;
        } else {
            size_t o = 0;
            for (size_t c = 0; c < r->ncols; c++) {
                if (p[o] == 0xFB) {
                    snprintf(r->cells[r->nrows][c], 128, "\x01");
                    o++;
                    continue;
                }
                size_t l = rd_lenenc(p, &o);
                snprintf(r->cells[r->nrows][c], 128, "%.*s", (int)l, (const char *)p + o);
                o += l;
            }
            r->nrows++;
        }
    }
}

static tr_catalog_t *catalog(void)
{
    tr_catalog_t *c = tr_catalog_new();
    tr_catalog_add_db(c, "d1", "utf8mb4", "utf8mb4_bin");
    tr_catalog_add_db(c, "d2", "latin1", "latin1_swedish_ci");
    tr_cat_table_t *t = table_t1();
    tr_catalog_add_table(c, t);
    tr_cat_table_unref(t);
    t = tr_cat_table_new(8, "d1", "t0", "utf8mb4", "utf8mb4_bin", "");
    add(t, col("x", TR_TIDB_TP_LONG, F_NN, 11, 0, "binary", "binary"));
    tr_cat_table_finish(t);
    tr_catalog_add_table(c, t);
    tr_cat_table_unref(t);
    tr_catalog_seal(c);
    return c;
}

static result_t res; /* large: static */

static void ask(const tr_catalog_t *cat, tr_flavor_t f, const char *db, const char *sql)
{
    static tr_sql_cmd_t q;
    const char *why = NULL;
    tr_sql_parse(sql, strlen(sql), &q, &why);
    tr_buf_t out;
    tr_buf_init(&out, 0);
    uint8_t seq = 1;
    tr_catq_ctx_t ctx = {cat, f, db, &out, &seq, false, 2, NULL, NULL};
    if (!tr_catq_handles(q.kind)) {
        TR_FAIL_AT("not a catalogue statement (%s): %s", why ? why : "?", sql);
        memset(&res, 0, sizeof(res));
        res.err = -1;
    } else {
        int rc = tr_catq_answer(&ctx, &q);
        decode(&out, &res);
        EXPECT_EQ_INT(rc, res.err);
    }
    tr_buf_cleanup(&out);
}

TR_TEST(information_schema_columns)
{
    tr_catalog_t *cat = catalog();
    ask(cat, TR_FLAVOR_MARIADB, "",
        "SELECT \n  COLUMN_NAME, COLLATION_NAME, CHARACTER_SET_NAME, \n  COLUMN_COMMENT, "
        "COLUMN_TYPE \n  FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA='d1' AND "
        "TABLE_NAME='t1' \n  ORDER BY ORDINAL_POSITION");
    EXPECT_EQ_INT(res.err, 0);
    EXPECT_EQ_INT(res.ncols, 5);
    EXPECT_EQ_STR(res.cols[0], "COLUMN_NAME");
    EXPECT_EQ_INT(res.nrows, 18);
    EXPECT_EQ_STR(res.cells[0][0], "id");
    EXPECT_EQ_STR(res.cells[0][1], "\x01"); /* no collation for a number */
    EXPECT_EQ_STR(res.cells[10][0], "r");
    EXPECT_EQ_STR(res.cells[10][1], "latin1_bin");
    EXPECT_EQ_STR(res.cells[10][3], "a 'quoted' comment");
    EXPECT_EQ_STR(res.cells[14][4], "enum('a','b''c')");
    EXPECT_EQ_INT(res.status, 2);
    /* a label as written, aliases, qualified names, DESC order, LIMIT with OFFSET */
    ask(cat, TR_FLAVOR_MYSQL, "",
        "select c.column_name AS n, c.ORDINAL_POSITION pos from information_schema.columns c "
        "where c.table_name = 't1' and (column_key in ('PRI', 'UNI') or column_name like 'a%') "
        "order by pos desc limit 1, 2");
    EXPECT_EQ_INT(res.err, 0);
    EXPECT_EQ_STR(res.cols[0], "n");
    EXPECT_EQ_STR(res.cols[1], "pos");
    EXPECT_EQ_INT(res.nrows, 2);
    EXPECT_EQ_STR(res.cells[0][0], "ah"); /* by position desc: ai, [ah, ag], ad, f, a, id */
    EXPECT_EQ_STR(res.cells[1][0], "ag");
    /* the table filter equals the same filter without the fast path (OR defeats it) */
    ask(cat, TR_FLAVOR_MARIADB, "",
        "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'd1' OR 1 = 0");
    EXPECT_EQ_STR(res.cells[0][0], "19");
    ask(cat, TR_FLAVOR_MARIADB, "",
        "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'D1'");
    EXPECT_EQ_STR(res.cells[0][0], "19"); /* information_schema compares without case */
    ask(cat, TR_FLAVOR_MARIADB, "",
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE GENERATION_EXPRESSION IS NOT "
        "NULL AND NOT COLUMN_NAME = 'x'");
    EXPECT_EQ_INT(res.nrows, 1);
    EXPECT_EQ_STR(res.cells[0][0], "ai");
    tr_catalog_unref(cat);
}

TR_TEST(maxwell_join_and_keys)
{
    tr_catalog_t *cat = catalog();
    ask(cat, TR_FLAVOR_MARIADB, "",
        "SELECT TABLES.TABLE_NAME, CCSA.CHARACTER_SET_NAME FROM INFORMATION_SCHEMA.TABLES LEFT "
        "JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY AS CCSA ON "
        "TABLES.TABLE_COLLATION = CCSA.COLLATION_NAME WHERE TABLES.TABLE_SCHEMA = 'd1' ");
    EXPECT_EQ_INT(res.err, 0);
    EXPECT_EQ_INT(res.nrows, 2);
    EXPECT_EQ_STR(res.cols[1], "CHARACTER_SET_NAME");
    EXPECT_EQ_STR(res.cells[1][0], "t1");
    EXPECT_EQ_STR(res.cells[1][1], "utf8mb4");
    ask(cat, TR_FLAVOR_MYSQL, "",
        "SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION FROM information_schema.KEY_COLUMN_USAGE "
        "WHERE CONSTRAINT_NAME = 'PRIMARY' AND TABLE_SCHEMA = 'd1' ORDER BY TABLE_NAME, "
        "ORDINAL_POSITION");
    EXPECT_EQ_INT(res.nrows, 1);
    EXPECT_EQ_STR(res.cells[0][1], "id");
    ask(cat, TR_FLAVOR_MARIADB, "",
        "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM INFORMATION_SCHEMA.SCHEMATA WHERE "
        "SCHEMA_NAME IN ('d2', 'nope') ORDER BY SCHEMA_NAME");
    EXPECT_EQ_INT(res.nrows, 1);
    EXPECT_EQ_STR(res.cells[0][1], "latin1");
    ask(cat, TR_FLAVOR_MARIADB, "",
        "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE from "
        "INFORMATION_SCHEMA.CHECK_CONSTRAINTS where CHECK_CLAUSE LIKE 'json_valid(%)'");
    EXPECT_EQ_INT(res.nrows, 1);
    EXPECT_EQ_STR(res.cells[0][3], "json_valid(`ah`)");
    tr_catalog_unref(cat);
}

TR_TEST(show_statements)
{
    tr_catalog_t *cat = catalog();
    ask(cat, TR_FLAVOR_MARIADB, "", "SHOW DATABASES");
    EXPECT_EQ_INT(res.nrows, 3);
    EXPECT_EQ_STR(res.cells[0][0], "information_schema");
    ask(cat, TR_FLAVOR_MARIADB, "",
        "SHOW DATABASES WHERE `database` NOT IN ('information_schema', 'mysql')");
    EXPECT_EQ_INT(res.nrows, 2);
    ask(cat, TR_FLAVOR_MYSQL, "d1", "SHOW FULL TABLES where Table_Type = 'BASE TABLE'");
    EXPECT_EQ_STR(res.cols[0], "Tables_in_d1");
    EXPECT_EQ_INT(res.nrows, 2);
    ask(cat, TR_FLAVOR_MYSQL, "", "SHOW FULL TABLES IN `information_schema` where Table_Type = "
                                  "'BASE TABLE'");
    EXPECT_TRUE(res.err == 0 && res.nrows == 0);
    ask(cat, TR_FLAVOR_MARIADB, "", "show full columns from `d1`.`t1`");
    EXPECT_EQ_INT(res.ncols, 9);
    EXPECT_EQ_STR(res.cells[3][1], "smallint(5) unsigned zerofill");
    EXPECT_EQ_STR(res.cells[4][5], "7");
    EXPECT_EQ_STR(res.cells[7][6], "on update current_timestamp(3)");
    ask(cat, TR_FLAVOR_MARIADB, "d1", "DESC t1 'a%'");
    EXPECT_EQ_INT(res.ncols, 6);
    EXPECT_EQ_INT(res.nrows, 5); /* a ad ag ah ai */
    ask(cat, TR_FLAVOR_MYSQL, "", "show index from `d1`.`t1`");
    EXPECT_EQ_INT(res.ncols, 15);
    EXPECT_EQ_STR(res.cells[0][2], "PRIMARY");
    EXPECT_EQ_STR(res.cells[2][2], "k1");
    EXPECT_EQ_STR(res.cells[2][7], "5");
    EXPECT_EQ_STR(res.cells[2][13], "YES");
    ask(cat, TR_FLAVOR_MARIADB, "", "SHOW INDEX FROM t1 FROM d1 WHERE Key_name = 'uk'");
    EXPECT_EQ_INT(res.ncols, 14);
    EXPECT_EQ_INT(res.nrows, 1);
    ask(cat, TR_FLAVOR_MYSQL, "d1", "SHOW TABLE STATUS LIKE 't1';");
    EXPECT_EQ_INT(res.ncols, 18);
    EXPECT_EQ_STR(res.cells[0][4], "0");
    ask(cat, TR_FLAVOR_MARIADB, "", "SHOW CREATE DATABASE d2");
    EXPECT_EQ_STR(res.cells[0][1],
                  "CREATE DATABASE `d2` /*!40100 DEFAULT CHARACTER SET latin1 COLLATE "
                  "latin1_swedish_ci */");
    tr_catalog_unref(cat);
}

TR_TEST(errors)
{
    tr_catalog_t *cat = catalog();
    ask(cat, TR_FLAVOR_MYSQL, "", "SHOW TABLES");
    EXPECT_EQ_INT(res.err, 1046);
    ask(cat, TR_FLAVOR_MYSQL, "", "SHOW TABLES FROM nope");
    EXPECT_EQ_INT(res.err, 1049);
    ask(cat, TR_FLAVOR_MYSQL, "", "SHOW CREATE TABLE d1.nope");
    EXPECT_EQ_INT(res.err, 1146);
    ask(cat, TR_FLAVOR_MYSQL, "", "SELECT nope FROM information_schema.COLUMNS");
    EXPECT_EQ_INT(res.err, 1054);
    ask(cat, TR_FLAVOR_MYSQL, "", "SELECT 1 FROM information_schema.COLUMNS ORDER BY nope");
    EXPECT_EQ_INT(res.err, 1054);
    ask(cat, TR_FLAVOR_MYSQL, "", "SELECT a FROM information_schema.nope");
    EXPECT_EQ_INT(res.err, 1109);
    ask(cat, TR_FLAVOR_MYSQL, "", "SELECT * FROM d1.t1");
    EXPECT_EQ_INT(res.err, 1235);
    ask(cat, TR_FLAVOR_MYSQL, "d1", "SELECT * FROM t1 WHERE id = 1");
    EXPECT_EQ_INT(res.err, 1235);
    ask(cat, TR_FLAVOR_MYSQL, "d1", "SELECT * FROM nope");
    EXPECT_EQ_INT(res.err, 1146);
    /* a join condition naming an unknown column (was an index of -1; found by fuzz_sqlcmd) */
    ask(cat, TR_FLAVOR_MARIADB, "",
        "SELECT TABLES.TABLE_NAME FROM INFORMATION_SCHEMA.TABLES LEFT JOIN "
        "information_schema.COLLATION_CHARACTER_SET_APPLICABILITY AS CCSA ON "
        "TABLES.nope = CCSA.COLLATION_NAME WHERE TABLES.TABLE_SCHEMA = 'd1'");
    EXPECT_EQ_INT(res.err, 1054);
    EXPECT_EQ_STR(res.msg, "Unknown column 'nope' in 'on clause'");
    ask(cat, TR_FLAVOR_MARIADB, "",
        "SELECT TABLES.TABLE_NAME FROM INFORMATION_SCHEMA.TABLES LEFT JOIN "
        "information_schema.COLLATION_CHARACTER_SET_APPLICABILITY AS CCSA ON "
        "TABLES.TABLE_COLLATION = CCSA.nope");
    EXPECT_EQ_INT(res.err, 1054);
    /* an always empty table takes any column, SELECT * is refused */
    ask(cat, TR_FLAVOR_MYSQL, "", "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS");
    EXPECT_TRUE(res.err == 0 && res.nrows == 0);
    /* no catalogue yet: an empty schema */
    ask(NULL, TR_FLAVOR_MARIADB, "", "SHOW DATABASES");
    EXPECT_EQ_INT(res.nrows, 1);
    ask(NULL, TR_FLAVOR_MARIADB, "", "SELECT * FROM information_schema.COLUMNS");
    EXPECT_TRUE(res.err == 0 && res.nrows == 0 && res.ncols == 22);
    EXPECT_TRUE(tr_catq_has_db(cat, "d1") && tr_catq_has_db(cat, "INFORMATION_SCHEMA"));
    EXPECT_TRUE(!tr_catq_has_db(cat, "D1") && !tr_catq_has_db(NULL, "d1"));
    tr_catalog_unref(cat);
}

TR_TEST_MAIN()
