/*
 * protocol/canal_json.c: TiCDC canal-json messages with the TiDB extension.
 *
 * The messages are built the way tiflow's encoder writes them (pkg/sink/codec/canal/
 * canal_json_row_event_encoder.go newJSONMessageForDML: the key order id, database, table,
 * pkNames, isDdl, type, es, ts, sql, sqlType, mysqlType, old, data, _tidb; mysqlType in Go
 * map order; DDL and TIDB_WATERMARK through encoding/json with the canalJSONMessageWith-
 * TiDBExtension struct of canal_json_message.go, so "<", ">" and "&" come as \u003c ...).
 * Values are rendered as cdc/entry/mounter.go formatColVal and canal_entry.go formatValue
 * render them (shared/spec/ticdc.md section 4): decimal text, MyDecimal.String(), Time and
 * Duration String(), ENUM index, SET bitmask, BIT as an integer, binary bytes as one
 * ISO-8859-1 character each. The message without _tidb is the INSERT of tiflow
 * pkg/sink/codec/canal/canal_json_txn_event_decoder_test.go.
 *
 * To keep the literals readable, messages are written with ' for " and turned into JSON by
 * msg() (J() below); a value that needs an apostrophe writes \u0027.
 */
#include "tr_test.h"

#include <float.h>
#include <math.h>

#include "common/err.h"
#include "common/utf8.h"
#include "protocol/canal_json.h"
#include "protocol/tidb_datum.h"
#include "protocol/tidb_schema.h"

/* ---------------------------------------------------------------- helpers */

/* The message text of a literal written with ' for ". Returns a static buffer. */
static char msg_buf[4][16384];
static int msg_slot;

static const char *J(const char *lit)
{
    char *b = msg_buf[msg_slot++ % 4];
    size_t n = strlen(lit);
    if (n >= sizeof(msg_buf[0])) {
        abort();
    }
    for (size_t i = 0; i <= n; i++) {
        b[i] = lit[i] == '\'' ? '"' : lit[i];
    }
    return b;
}

/* Whether members[0..n) are what the iterator walks in obj. */
static bool same_members(tr_slice_t obj, const tr_canal_member_t *members, size_t n)
{
    tr_canal_obj_iter_t it = tr_canal_obj_iter(obj);
    tr_canal_str_t k;
    tr_canal_val_t v;
    const char *why = NULL;
    size_t i = 0;
    int rc;
    while ((rc = tr_canal_obj_next(&it, &k, &v, &why)) > 0) {
        if (i == n) {
            return false;
        }
        const tr_canal_member_t *m = &members[i++];
        if (m->key.raw.p != k.raw.p || m->key.raw.len != k.raw.len ||
            m->key.has_escapes != k.has_escapes || m->val.kind != v.kind ||
            m->val.str.raw.len != v.str.raw.len || m->val.str.has_escapes != v.str.has_escapes ||
            (v.kind != TR_CANAL_VAL_NULL && m->val.str.raw.p != v.str.raw.p)) {
            return false;
        }
    }
    return rc == 0 && i == n;
}

/*
 * tr_canal_parse, checked against tr_canal_parse_images on every input the tests use: the
 * same result and message fields, and images and mysqlType whose members are what the
 * iterator walks, with room to spare and (parsing again after) with too little.
 */
static int parse_n(const void *p, size_t len, tr_canal_msg_t *m, const char **why)
{
    const char *js = p;
    *why = NULL;
    int rc = tr_canal_parse((const uint8_t *)js, len, m, why);
    for (size_t room = 1; room <= 64; room += 63) {
        tr_canal_member_t members[64];
        tr_canal_msg_t mi;
        const char *why_i = NULL;
        int rc_i = tr_canal_parse_images((const uint8_t *)js, len, &mi, members, room, &why_i);
        EXPECT_EQ_INT(rc_i, rc);
        EXPECT_TRUE(why_i == *why || (why_i != NULL && *why != NULL && strcmp(why_i, *why) == 0));
        if (rc != 0 || rc_i != 0) {
            continue;
        }
        EXPECT_TRUE(mi.kind == m->kind && mi.commit_ts == m->commit_ts &&
                    mi.data.p == m->data.p && mi.data.len == m->data.len &&
                    mi.old.p == m->old.p && mi.old.len == m->old.len);
        if (mi.members_needed > room) {
            EXPECT_TRUE(room < 64); /* none of the tests' messages needs more */
            EXPECT_TRUE(mi.data_members == NULL || mi.old_members == NULL);
            continue;
        }
        if (m->kind == TR_CANAL_INSERT || m->kind == TR_CANAL_UPDATE ||
            m->kind == TR_CANAL_DELETE) {
            EXPECT_TRUE(same_members(m->data, mi.data_members, mi.n_data_members));
            EXPECT_TRUE(same_members(m->old, mi.old_members, mi.n_old_members));
            EXPECT_TRUE(same_members(m->mysql_type, mi.type_members, mi.n_type_members));
        }
    }
    return rc;
}

static int parse(const char *js, tr_canal_msg_t *m, const char **why)
{
    return parse_n(js, strlen(js), m, why);
}

/* Parses and reports why on an unexpected failure. */
static bool parse_ok(const char *js, tr_canal_msg_t *m)
{
    const char *why;
    int rc = parse(js, m, &why);
    EXPECT_EQ_INT(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "    why: %s\n    in: %.200s\n", why ? why : "(null)", js);
        return false;
    }
    return true;
}

/* A string's decoded text, NUL-terminated, in a static buffer ("<error: why>" on failure). */
static char text_buf[4][8192];
static int text_slot;

static const char *text_of(const tr_canal_str_t *s)
{
    char *b = text_buf[text_slot++ % 4];
    const char *why = NULL;
    if (s->raw.len >= sizeof(text_buf[0])) {
        return "<too long>";
    }
    ssize_t n = tr_canal_str_decode(s, (uint8_t *)b, &why);
    if (n < 0) {
        snprintf(b, sizeof(text_buf[0]), "<error: %s>", why);
        return b;
    }
    b[n] = '\0';
    return b;
}

/* The value of key in a flat object slice: its kind (-1 when absent) and decoded text. */
static int member(tr_slice_t obj, const char *key, const char **text)
{
    tr_canal_obj_iter_t it = tr_canal_obj_iter(obj);
    tr_canal_str_t k;
    tr_canal_val_t v;
    const char *why = NULL;
    int rc;
    *text = NULL;
    while ((rc = tr_canal_obj_next(&it, &k, &v, &why)) > 0) {
        if (tr_canal_str_eq(&k, key, strlen(key))) {
            *text = v.kind == TR_CANAL_VAL_STRING ? text_of(&v.str) : NULL;
            if (v.kind == TR_CANAL_VAL_NUMBER) {
                static char num[64];
                snprintf(num, sizeof(num), "%.*s", (int)v.str.raw.len, (const char *)v.str.raw.p);
                *text = num;
            }
            return (int)v.kind;
        }
    }
    EXPECT_EQ_INT(rc, 0);
    return -1;
}

/* Counts an object's members (-1 on an iteration error). */
static int n_members(tr_slice_t obj)
{
    tr_canal_obj_iter_t it = tr_canal_obj_iter(obj);
    tr_canal_str_t k;
    tr_canal_val_t v;
    const char *why;
    int n = 0;
    int rc;
    while ((rc = tr_canal_obj_next(&it, &k, &v, &why)) > 0) {
        n++;
    }
    return rc == 0 ? n : -1;
}

/* Expects parse to fail with rc and a why containing want. */
#define EXPECT_REJECT(js, want_rc, want_why)                                                       \
    do {                                                                                           \
        tr_canal_msg_t m_;                                                                         \
        const char *why_ = NULL;                                                                   \
        int rc_ = parse((js), &m_, &why_);                                                         \
        EXPECT_EQ_INT(rc_, (want_rc));                                                             \
        if (why_ == NULL || strstr(why_, (want_why)) == NULL) {                                    \
            TR_FAIL_AT("why \"%s\" does not contain \"%s\" (input %.120s)",                       \
                       why_ ? why_ : "(null)", (want_why), (js));                                  \
        }                                                                                          \
    } while (0)

/* ---------------------------------------------------------------- messages */

static const char insert_lit[] =
    "{'id':0,'database':'test','table':'t1','pkNames':['id'],'isDdl':false,'type':'INSERT',"
    "'es':1700000000000,'ts':1700000000123,'sql':'','sqlType':{'id':-5,'name':12,'price':3},"
    "'mysqlType':{'price':'decimal','name':'varchar','id':'bigint'},'old':null,"
    "'data':[{'id':'1','name':'alice','price':'9.90'}],'_tidb':{'commitTs':445566778899001234}}";

TR_TEST(insert)
{
    tr_canal_msg_t m;
    if (!parse_ok(J(insert_lit), &m)) {
        return;
    }
    EXPECT_EQ_INT(m.kind, TR_CANAL_INSERT);
    EXPECT_EQ_STR(text_of(&m.type), "INSERT");
    EXPECT_EQ_STR(text_of(&m.database), "test");
    EXPECT_EQ_STR(text_of(&m.table), "t1");
    EXPECT_EQ_STR(text_of(&m.sql), "");
    EXPECT_EQ_INT(m.es, 1700000000000);
    EXPECT_TRUE(m.has_commit_ts);
    EXPECT_EQ_U64(m.commit_ts, 445566778899001234ull);
    EXPECT_TRUE(!m.has_watermark_ts);
    EXPECT_TRUE(!m.only_handle_key);
    EXPECT_TRUE(!m.has_claim_check);
    EXPECT_EQ_INT(m.n_pk_names, 1);
    EXPECT_EQ_INT(m.old.len, 0);
    EXPECT_EQ_INT(n_members(m.old), 0);
    EXPECT_EQ_INT(n_members(m.data), 3);
    EXPECT_EQ_INT(n_members(m.mysql_type), 3);
    EXPECT_EQ_INT(n_members(m.sql_type), 3);

    /* data in message order, as views */
    tr_canal_obj_iter_t it = tr_canal_obj_iter(m.data);
    tr_canal_str_t k;
    tr_canal_val_t v;
    const char *why;
    static const char *const keys[] = {"id", "name", "price"};
    static const char *const vals[] = {"1", "alice", "9.90"};
    for (int i = 0; i < 3; i++) {
        EXPECT_EQ_INT(tr_canal_obj_next(&it, &k, &v, &why), 1);
        EXPECT_TRUE(tr_canal_str_eq(&k, keys[i], strlen(keys[i])));
        EXPECT_EQ_INT(v.kind, TR_CANAL_VAL_STRING);
        EXPECT_TRUE(!v.str.has_escapes);
        EXPECT_EQ_MEM(v.str.raw.p, v.str.raw.len, vals[i], strlen(vals[i]));
    }
    EXPECT_EQ_INT(tr_canal_obj_next(&it, &k, &v, &why), 0);
    EXPECT_EQ_INT(tr_canal_obj_next(&it, &k, &v, &why), 0); /* stays at the end */

    const char *text;
    EXPECT_EQ_INT(member(m.sql_type, "id", &text), TR_CANAL_VAL_NUMBER);
    EXPECT_EQ_STR(text, "-5");
    EXPECT_EQ_INT(member(m.mysql_type, "price", &text), TR_CANAL_VAL_STRING);
    EXPECT_EQ_STR(text, "decimal");

    tr_canal_arr_iter_t ai = tr_canal_arr_iter(m.pk_names);
    tr_canal_str_t name;
    EXPECT_EQ_INT(tr_canal_arr_next(&ai, &name, &why), 1);
    EXPECT_TRUE(tr_canal_str_eq(&name, "id", 2));
    EXPECT_EQ_INT(tr_canal_arr_next(&ai, &name, &why), 0);
}

TR_TEST(update_with_old_values)
{
    /* A composite primary key; old is the full before image (the default). */
    tr_canal_msg_t m;
    if (!parse_ok(J("{'id':0,'database':'shop','table':'orders','pkNames':['region','id'],"
                    "'isDdl':false,'type':'UPDATE','es':1700000001000,'ts':1700000001234,"
                    "'sql':'','sqlType':{'region':4,'id':-5,'state':12,'note':2005},"
                    "'mysqlType':{'note':'text','state':'varchar','id':'bigint','region':'int'},"
                    "'old':[{'region':'7','id':'42','state':'new','note':null}],"
                    "'data':[{'region':'7','id':'42','state':'paid','note':'ok'}],"
                    "'_tidb':{'commitTs':445566778899005678}}"),
                  &m)) {
        return;
    }
    EXPECT_EQ_INT(m.kind, TR_CANAL_UPDATE);
    EXPECT_EQ_U64(m.commit_ts, 445566778899005678ull);
    EXPECT_EQ_INT(m.n_pk_names, 2);
    const char *text;
    EXPECT_EQ_INT(member(m.old, "state", &text), TR_CANAL_VAL_STRING);
    EXPECT_EQ_STR(text, "new");
    EXPECT_EQ_INT(member(m.old, "note", &text), TR_CANAL_VAL_NULL);
    EXPECT_EQ_INT(member(m.data, "state", &text), TR_CANAL_VAL_STRING);
    EXPECT_EQ_STR(text, "paid");
    EXPECT_EQ_INT(member(m.data, "note", &text), TR_CANAL_VAL_STRING);
    EXPECT_EQ_STR(text, "ok");
    EXPECT_EQ_INT(member(m.data, "missing", &text), -1);

    tr_canal_arr_iter_t ai = tr_canal_arr_iter(m.pk_names);
    tr_canal_str_t name;
    const char *why;
    EXPECT_EQ_INT(tr_canal_arr_next(&ai, &name, &why), 1);
    EXPECT_EQ_STR(text_of(&name), "region");
    EXPECT_EQ_INT(tr_canal_arr_next(&ai, &name, &why), 1);
    EXPECT_EQ_STR(text_of(&name), "id");
    EXPECT_EQ_INT(tr_canal_arr_next(&ai, &name, &why), 0);

    /* only-output-updated-columns: old holds the changed columns only. */
    if (parse_ok(J("{'id':0,'database':'shop','table':'orders','pkNames':['id'],'isDdl':false,"
                   "'type':'UPDATE','es':1,'ts':2,'sql':'','sqlType':{'id':-5,'state':12},"
                   "'mysqlType':{'id':'bigint','state':'varchar'},'old':[{'state':'new'}],"
                   "'data':[{'id':'42','state':'paid'}],'_tidb':{'commitTs':5}}"),
                 &m)) {
        EXPECT_EQ_INT(n_members(m.old), 1);
        EXPECT_EQ_INT(n_members(m.data), 2);
    }
    /* The contract leaves an UPDATE without old to the caller: old is empty. */
    if (parse_ok(J("{'type':'UPDATE','data':[{'id':'1'}],'_tidb':{'commitTs':5}}"), &m)) {
        EXPECT_EQ_INT(m.kind, TR_CANAL_UPDATE);
        EXPECT_EQ_INT(m.old.len, 0);
    }
}

TR_TEST(delete_holds_the_pre_image_in_data)
{
    tr_canal_msg_t m;
    if (!parse_ok(J("{'id':0,'database':'test','table':'t1','pkNames':['id'],'isDdl':false,"
                    "'type':'DELETE','es':1700000002000,'ts':1700000002345,'sql':'',"
                    "'sqlType':{'id':-5,'name':12},'mysqlType':{'id':'bigint','name':'varchar'},"
                    "'old':null,'data':[{'id':'1','name':'alice'}],"
                    "'_tidb':{'commitTs':445566778899009999}}"),
                  &m)) {
        return;
    }
    EXPECT_EQ_INT(m.kind, TR_CANAL_DELETE);
    EXPECT_EQ_INT(m.old.len, 0);
    const char *text;
    EXPECT_EQ_INT(member(m.data, "name", &text), TR_CANAL_VAL_STRING);
    EXPECT_EQ_STR(text, "alice");

    /* delete-only-output-handle-key-columns / handle-key-only large messages. */
    if (parse_ok(J("{'id':0,'database':'test','table':'t1','pkNames':['id'],'isDdl':false,"
                   "'type':'DELETE','es':1,'ts':2,'sql':'','sqlType':{'id':-5},"
                   "'mysqlType':{'id':'bigint'},'old':null,'data':[{'id':'1'}],"
                   "'_tidb':{'commitTs':7,'onlyHandleKey':true}}"),
                 &m)) {
        EXPECT_TRUE(m.only_handle_key);
        EXPECT_TRUE(!m.has_claim_check);
    }
    if (parse_ok(J("{'id':0,'database':'test','table':'t1','pkNames':['id'],'isDdl':false,"
                   "'type':'INSERT','es':1,'ts':2,'sql':'','sqlType':null,'mysqlType':{},"
                   "'old':null,'data':[{}],'_tidb':{'commitTs':7,"
                   "'claimCheckLocation':'s3://bucket/claim/1.json'}}"),
                 &m)) {
        EXPECT_TRUE(m.has_claim_check);
        EXPECT_EQ_INT(m.sql_type.len, 0);
        EXPECT_EQ_INT(n_members(m.mysql_type), 0);
        EXPECT_EQ_INT(n_members(m.data), 0);
    }
}

TR_TEST(ddl)
{
    /* encoding/json: "<", ">" and "&" escaped; the backquotes of the statement are not. */
    tr_canal_msg_t m;
    if (!parse_ok(J("{'id':0,'database':'test','table':'t1','pkNames':null,'isDdl':true,"
                    "'type':'ALTER','es':1700000003000,'ts':1700000003456,"
                    "'sql':'ALTER TABLE `t1` ADD COLUMN `c` INT DEFAULT 1 COMMENT \\u0027a\\u003cb "
                    "\\u0026 c\\u003e\\u0027','sqlType':null,'mysqlType':null,'data':null,"
                    "'old':null,'_tidb':{'commitTs':445566778899000001}}"),
                  &m)) {
        return;
    }
    EXPECT_EQ_INT(m.kind, TR_CANAL_DDL);
    EXPECT_EQ_STR(text_of(&m.type), "ALTER");
    EXPECT_EQ_STR(text_of(&m.sql), "ALTER TABLE `t1` ADD COLUMN `c` INT DEFAULT 1 COMMENT 'a<b & c>'");
    EXPECT_TRUE(m.sql.has_escapes);
    EXPECT_EQ_STR(text_of(&m.database), "test");
    EXPECT_EQ_U64(m.commit_ts, 445566778899000001ull);
    EXPECT_EQ_INT(m.data.len, 0);
    EXPECT_EQ_INT(m.n_pk_names, 0);

    /* CREATE DATABASE: no table. */
    if (parse_ok(J("{'id':0,'database':'shop','table':'','pkNames':null,'isDdl':true,"
                   "'type':'QUERY','es':1,'ts':2,'sql':'CREATE DATABASE `shop`','sqlType':null,"
                   "'mysqlType':null,'data':null,'old':null,'_tidb':{'commitTs':9}}"),
                 &m)) {
        EXPECT_EQ_INT(m.kind, TR_CANAL_DDL);
        EXPECT_EQ_STR(text_of(&m.table), "");
        EXPECT_EQ_STR(text_of(&m.sql), "CREATE DATABASE `shop`");
    }
    /* Without the extension a DDL still parses (the contract rejects rows only). */
    if (parse_ok(J("{'isDdl':true,'type':'CREATE','sql':'CREATE TABLE t (a INT)'}"), &m)) {
        EXPECT_EQ_INT(m.kind, TR_CANAL_DDL);
        EXPECT_TRUE(!m.has_commit_ts);
    }
    /* Fields a DDL does not use are not checked. */
    if (parse_ok(J("{'isDdl':true,'type':'CREATE','sql':'x','data':'?','pkNames':7,"
                   "'_tidb':{'commitTs':3,'onlyHandleKey':'x'}}"),
                 &m)) {
        EXPECT_EQ_INT(m.data.len, 0);
        EXPECT_EQ_INT(m.n_pk_names, 0);
    }
    EXPECT_REJECT(J("{'isDdl':true,'type':'CREATE','sql':1,'_tidb':{'commitTs':3}}"),
                  TR_EMALFORMED, "sql is not a string");
    EXPECT_REJECT(J("{'isDdl':true,'type':'CREATE','sql':'x','_tidb':{'commitTs':-3}}"),
                  TR_EMALFORMED, "commitTs is not an unsigned integer");
}

TR_TEST(watermark)
{
    tr_canal_msg_t m;
    if (!parse_ok(J("{'id':0,'database':'','table':'','pkNames':null,'isDdl':false,"
                    "'type':'TIDB_WATERMARK','es':1700000004000,'ts':1700000004567,'sql':'',"
                    "'sqlType':null,'mysqlType':null,'data':null,'old':null,"
                    "'_tidb':{'watermarkTs':445566778899012345}}"),
                  &m)) {
        return;
    }
    EXPECT_EQ_INT(m.kind, TR_CANAL_WATERMARK);
    EXPECT_TRUE(m.has_watermark_ts);
    EXPECT_EQ_U64(m.watermark_ts, 445566778899012345ull);
    EXPECT_TRUE(!m.has_commit_ts);
    EXPECT_EQ_INT(m.es, 1700000004000);

    /* Fields a watermark does not use are not checked. */
    if (parse_ok(J("{'database':5,'table':[],'type':'TIDB_WATERMARK','data':{},"
                   "'_tidb':{'watermarkTs':1,'commitTs':'x'}}"),
                 &m)) {
        EXPECT_EQ_U64(m.watermark_ts, 1);
        EXPECT_EQ_STR(text_of(&m.database), "");
    }
    EXPECT_REJECT(J("{'type':'TIDB_WATERMARK','_tidb':{}}"), TR_EUNSUPPORTED,
                  "without _tidb.watermarkTs");
    EXPECT_REJECT(J("{'type':'TIDB_WATERMARK'}"), TR_EUNSUPPORTED, "without _tidb.watermarkTs");
    EXPECT_REJECT(J("{'type':'TIDB_WATERMARK','_tidb':{'watermarkTs':'1'}}"), TR_EMALFORMED,
                  "watermarkTs is not an unsigned integer");
    EXPECT_REJECT(J("{'type':'TIDB_WATERMARK','_tidb':{'watermarkTs':1.5}}"), TR_EMALFORMED,
                  "watermarkTs is not an unsigned integer");
}

TR_TEST(row_without_the_tidb_extension_is_unsupported)
{
    /* tiflow canal_json_txn_event_decoder_test.go: a changefeed without
     * enable-tidb-extension (no _tidb, data before old). */
    EXPECT_REJECT(
        J("{'id':0,'database':'test','table':'employee','pkNames':['id'],'isDdl':false,"
          "'type':'INSERT','es':1668067205238,'ts':1668067206650,'sql':'','sqlType':{"
          "'FirstName':12,'HireDate':91,'LastName':12,'OfficeLocation':12,'id':4},'mysqlType':{"
          "'FirstName':'varchar','HireDate':'date','LastName':'varchar','OfficeLocation':"
          "'varchar','id':'int'},'data':[{'FirstName':'Bob','HireDate':'2014-06-04',"
          "'LastName':'Smith','OfficeLocation':'New York','id':'101'}],'old':null}"),
        TR_EUNSUPPORTED, "enable-tidb-extension");
    EXPECT_REJECT(J("{'type':'DELETE','data':[{'a':'1'}],'_tidb':{}}"), TR_EUNSUPPORTED,
                  "without _tidb.commitTs");
    EXPECT_REJECT(J("{'type':'DELETE','data':[{'a':'1'}],'_tidb':null}"), TR_EUNSUPPORTED,
                  "without _tidb.commitTs");
    /* A broken message is blamed on itself, not on the changefeed. */
    EXPECT_REJECT(J("{'type':'DELETE','data':[1]}"), TR_EMALFORMED, "data is not an array");
}

TR_TEST(keys_in_any_order_whitespace_unknown_keys)
{
    const char *js = J(" {\n  '_tidb' : { 'future' : [1, {'x': null}], 'commitTs' : 12 } ,\r\n"
                       "\t'data' : [ { 'a' : '1' , 'b' : null } ] , 'extra' : {'deep': [[[]]]},"
                       " 'type' : 'INSERT', 'database':null, 'isDdl': null, 'es': -5 }\n ");
    tr_canal_msg_t m;
    if (!parse_ok(js, &m)) {
        return;
    }
    EXPECT_EQ_INT(m.kind, TR_CANAL_INSERT);
    EXPECT_EQ_U64(m.commit_ts, 12);
    EXPECT_EQ_INT(m.es, -5);
    EXPECT_EQ_STR(text_of(&m.database), "");
    EXPECT_EQ_INT(n_members(m.data), 2);
    const char *text;
    EXPECT_EQ_INT(member(m.data, "b", &text), TR_CANAL_VAL_NULL);

    /* A repeated key keeps its last value; a repeated _tidb replaces the whole object. */
    if (parse_ok(J("{'type':'DELETE','type':'INSERT','data':[{'a':'1'}],"
                   "'_tidb':{'commitTs':1,'onlyHandleKey':true},'_tidb':{'commitTs':2}}"),
                 &m)) {
        EXPECT_EQ_INT(m.kind, TR_CANAL_INSERT);
        EXPECT_EQ_U64(m.commit_ts, 2);
        EXPECT_TRUE(!m.only_handle_key);
    }
    /* An escaped key is matched by its decoded text. */
    if (parse_ok(J("{'typ\\u0065':'INSERT','\\u0064ata':[{'a':'1'}],'_tidb':{'commit\\u0054s':3}}"),
                 &m)) {
        EXPECT_EQ_INT(m.kind, TR_CANAL_INSERT);
        EXPECT_EQ_U64(m.commit_ts, 3);
        EXPECT_EQ_INT(n_members(m.data), 1);
    }
    /* Values of other JSON types inside a row object come back as such. */
    if (parse_ok(J("{'type':'INSERT','data':[{'n':1.5e3,'t':true,'f':false,'o':{'x':[1]},"
                   "'a':[]}],'_tidb':{'commitTs':3}}"),
                 &m)) {
        EXPECT_EQ_INT(member(m.data, "n", &text), TR_CANAL_VAL_NUMBER);
        EXPECT_EQ_STR(text, "1.5e3");
        EXPECT_EQ_INT(member(m.data, "t", &text), TR_CANAL_VAL_TRUE);
        EXPECT_EQ_INT(member(m.data, "f", &text), TR_CANAL_VAL_FALSE);
        EXPECT_EQ_INT(member(m.data, "o", &text), TR_CANAL_VAL_OTHER);
        EXPECT_EQ_INT(member(m.data, "a", &text), TR_CANAL_VAL_OTHER);
    }
    /* The largest commitTs. */
    if (parse_ok(J("{'type':'INSERT','data':[{}],'_tidb':{'commitTs':18446744073709551615}}"),
                 &m)) {
        EXPECT_EQ_U64(m.commit_ts, UINT64_MAX);
    }
}

/* parse tries TiCDC's key order first (one compare per key): a message in that order, the
 * same fields in another order, and one with keys that only start like the envelope's
 * ("idx", "databases", "types") read the same. */
TR_TEST(envelope_order_or_not_parses_alike)
{
    static const char *const variants[] = {
        "{'id':0,'database':'test','table':'t1','pkNames':['id'],'isDdl':false,'type':'INSERT',"
        "'es':17,'ts':18,'sql':'','sqlType':{'id':-5},'mysqlType':{'id':'bigint'},'old':null,"
        "'data':[{'id':'1'}],'_tidb':{'commitTs':445566778899001234}}",
        "{'_tidb':{'commitTs':445566778899001234},'data':[{'id':'1'}],'old':null,"
        "'mysqlType':{'id':'bigint'},'sqlType':{'id':-5},'sql':'','ts':18,'es':17,"
        "'type':'INSERT','isDdl':false,'pkNames':['id'],'table':'t1','database':'test','id':0}",
        "{'id':0,'idx':1,'database':'test','databases':'no','table':'t1','pkNames':['id'],"
        "'isDdl':false,'type':'INSERT','types':'DELETE','es':17,'ts':18,'sql':'',"
        "'sqlType':{'id':-5},'mysqlType':{'id':'bigint'},'old':null,'data':[{'id':'1'}],"
        "'_tidb':{'commitTs':445566778899001234}}",
        "{'id':0,'database':'test','table':'t1','pkNames':['id'],'isDdl':false,'type':'INSERT',"
        "'es':17,'ts':18,'sql':'','sqlType':{'id':-5},'mysqlType':{'id':'bigint'},'old':null,"
        "'data':[{'id':'1'}],'_tidb':{'commitTs':445566778899001234}}   ",
    };
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        tr_canal_msg_t m;
        if (!parse_ok(J(variants[i]), &m)) {
            continue;
        }
        EXPECT_EQ_INT(m.kind, TR_CANAL_INSERT);
        EXPECT_EQ_STR(text_of(&m.database), "test");
        EXPECT_EQ_STR(text_of(&m.table), "t1");
        EXPECT_EQ_INT(m.es, 17);
        EXPECT_EQ_U64(m.commit_ts, 445566778899001234ull);
        EXPECT_EQ_INT(m.n_pk_names, 1);
        EXPECT_EQ_INT(n_members(m.data), 1);
        EXPECT_EQ_INT(n_members(m.mysql_type), 1);
        EXPECT_EQ_INT(n_members(m.sql_type), 1);
        EXPECT_EQ_INT(m.old.len, 0);
    }
}

/* ---------------------------------------------------------------- strings */

TR_TEST(string_escapes_and_unicode)
{
    static const struct {
        const char *json; /* the string's body as it stands in the message */
        const char *text; /* decoded */
        size_t text_len;  /* 0: strlen(text) */
    } cases[] = {
        {"plain", "plain", 0},
        {"", "", 0},
        {"\\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t", "\"q\" \\ / \b\f\n\r\t", 0},
        {"caf\\u00e9 caf\\u00E9 caf\xc3\xa9", "caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9", 0},
        {"\\u20ac \xe2\x82\xac", "\xe2\x82\xac \xe2\x82\xac", 0},
        /* a surrogate pair is one 4-byte character; raw 4-byte UTF-8 passes as is */
        {"\\ud83d\\ude00 \xf0\x9f\x98\x80", "\xf0\x9f\x98\x80 \xf0\x9f\x98\x80", 0},
        {"\\uD834\\uDD1E", "\xf0\x9d\x84\x9e", 0},
        {"a\\u0000b", "a\0b", 3},
        {"\\u003cb\\u003e \\u0026amp; \\u2028\\u2029", "<b> &amp; \xe2\x80\xa8\xe2\x80\xa9", 0},
        {"\\uffff\\u0800\\u07ff\\u0080\\u007f",
         "\xef\xbf\xbf\xe0\xa0\x80\xdf\xbf\xc2\x80\x7f", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tr_canal_str_t s = {tr_slice(cases[i].json, strlen(cases[i].json)), false};
        s.has_escapes = memchr(cases[i].json, '\\', strlen(cases[i].json)) != NULL;
        size_t want_len = cases[i].text_len ? cases[i].text_len : strlen(cases[i].text);
        uint8_t out[256];
        const char *why = NULL;
        ssize_t n = tr_canal_str_decode(&s, out, &why);
        EXPECT_TRUE(n >= 0);
        if (n < 0) {
            fprintf(stderr, "    case %zu: %s\n", i, why);
            continue;
        }
        EXPECT_TRUE((size_t)n <= s.raw.len);
        EXPECT_EQ_MEM(out, (size_t)n, cases[i].text, want_len);
        EXPECT_TRUE(tr_canal_str_eq(&s, cases[i].text, want_len));
        if (want_len > 0) {
            EXPECT_TRUE(!tr_canal_str_eq(&s, cases[i].text, want_len - 1));
        }
        /* The same string inside a message, through parse and the iterator. */
        char js[512];
        snprintf(js, sizeof(js),
                 "{\"type\":\"INSERT\",\"data\":[{\"v\":\"%s\"}],\"_tidb\":{\"commitTs\":1}}",
                 cases[i].json);
        tr_canal_msg_t m;
        if (parse_ok(js, &m)) {
            tr_canal_obj_iter_t it = tr_canal_obj_iter(m.data);
            tr_canal_str_t k;
            tr_canal_val_t v;
            EXPECT_EQ_INT(tr_canal_obj_next(&it, &k, &v, &why), 1);
            EXPECT_EQ_INT(v.str.has_escapes, s.has_escapes);
            EXPECT_EQ_MEM(v.str.raw.p, v.str.raw.len, cases[i].json, strlen(cases[i].json));
        }
    }
    tr_canal_str_t plain = {tr_slice("INSERT", 6), false};
    EXPECT_TRUE(tr_canal_str_eq(&plain, "INSERT", 6));
    EXPECT_TRUE(!tr_canal_str_eq(&plain, "INSERTS", 7));
    EXPECT_TRUE(!tr_canal_str_eq(&plain, "insert", 6));
    tr_canal_str_t esc = {tr_slice("IN\\u0053ERT", 11), true};
    EXPECT_TRUE(tr_canal_str_eq(&esc, "INSERT", 6));
    EXPECT_TRUE(!tr_canal_str_eq(&esc, "INSERX", 6));
    EXPECT_TRUE(!tr_canal_str_eq(&esc, "IN\\u0053ERT", 11));
}

TR_TEST(string_errors)
{
    static const struct {
        const char *json;
        const char *why;
    } cases[] = {
        {"\\ud83d", "lone high surrogate"},
        {"\\ud83d x", "lone high surrogate"},
        {"\\ud83d\\u0041", "lone high surrogate"},
        {"\\ud83d\\ud83d", "lone high surrogate"},
        {"\\ude00", "lone low surrogate"},
        {"\\u12", "bad \\u escape"},
        {"\\u12g4", "bad \\u escape"},
        {"\\x", "bad escape"},
        {"\\'", "bad escape"},
        {"tab\there", "control character"},
        {"nul\x01", "control character"},
        {"\xff", "not valid UTF-8"},
        {"\xc3", "not valid UTF-8"},
        {"\xc0\xaf", "not valid UTF-8"},         /* overlong '/' */
        {"\xed\xa0\x80", "not valid UTF-8"},     /* an encoded surrogate */
        {"\xf4\x90\x80\x80", "not valid UTF-8"}, /* above U+10FFFF */
        {"\xe0\x80\x80", "not valid UTF-8"},     /* overlong, three bytes */
        {"\xf0\x80\x80\x80", "not valid UTF-8"}, /* overlong, four bytes */
        {"\xe2\x82", "not valid UTF-8"},         /* cut short */
        {"\x80", "not valid UTF-8"},             /* a continuation byte alone */
        {"caf\xc3\xa9\xe2\x82\xac\xff\xc3\xa9", "not valid UTF-8"}, /* inside a run */
        {"\xc3\xa9\\u00e9\xc3", "not valid UTF-8"},  /* after an escape */
        {"a\\", "unterminated escape"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tr_canal_str_t s = {tr_slice(cases[i].json, strlen(cases[i].json)), true};
        uint8_t out[64];
        const char *why = NULL;
        ssize_t n = tr_canal_str_decode(&s, out, &why);
        EXPECT_EQ_INT(n, TR_EMALFORMED);
        if (why == NULL || strstr(why, cases[i].why) == NULL) {
            TR_FAIL_AT("case %zu: why \"%s\", want \"%s\"", i, why ? why : "(null)",
                       cases[i].why);
        }
        EXPECT_TRUE(!tr_canal_str_eq(&s, "x", 1));
    }
    /* Raw control characters and bad escapes already fail the parse; bad UTF-8 and lone
     * surrogates fail when the value is decoded. */
    EXPECT_REJECT("{\"type\":\"INSERT\",\"data\":[{\"v\":\"a\tb\"}]}", TR_EMALFORMED,
                  "control character in a string");
    EXPECT_REJECT("{\"type\":\"INSERT\",\"data\":[{\"v\":\"\\q\"}]}", TR_EMALFORMED,
                  "bad escape in a string");
    EXPECT_REJECT("{\"type\":\"INSERT\",\"data\":[{\"v\":\"\\u00\"}]}", TR_EMALFORMED,
                  "bad \\u escape");
}

TR_TEST(utf8_check_agrees_with_common_utf8)
{
    /* Four bytes b0 b1 b2 b3 with b0 non-ASCII and the others printable or not ASCII: the
     * decoder accepts exactly the strings common/utf8.c decodes all the way (Go's rules). */
    static const uint8_t tails[] = {0x41, 0x7e, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xf4};
    int checked = 0;
    for (int b0 = 0x80; b0 <= 0xff; b0++) {
        for (int b1 = 0x20; b1 <= 0xff; b1++) {
            if (b1 == '"' || b1 == '\\' || b1 == 0x7f) {
                continue;
            }
            for (size_t i2 = 0; i2 < sizeof(tails); i2++) {
                for (size_t i3 = 0; i3 < sizeof(tails); i3++) {
                    uint8_t in[4] = {(uint8_t)b0, (uint8_t)b1, tails[i2], tails[i3]};
                    bool want = true;
                    for (size_t k = 0; k < 4;) {
                        uint32_t cp;
                        size_t used = in[k] < 0x80 ? 1 : tr_utf8_decode(in + k, 4 - k, &cp);
                        if (used == 0) {
                            want = false;
                            break;
                        }
                        k += used;
                    }
                    tr_canal_str_t s = {tr_slice(in, 4), false};
                    uint8_t out[4];
                    const char *why = NULL;
                    ssize_t n = tr_canal_str_decode(&s, out, &why);
                    if ((n == 4) != want || (n != 4 && n != TR_EMALFORMED)) {
                        TR_FAIL_AT("%02x %02x %02x %02x: decode %zd, want %s", in[0], in[1],
                                   in[2], in[3], n, want ? "valid" : "invalid");
                        return;
                    }
                    if (want) {
                        EXPECT_EQ_MEM(out, 4, in, 4);
                    }
                    checked++;
                }
            }
        }
    }
    EXPECT_TRUE(checked > 100000);
}

TR_TEST(latin1_bytes)
{
    /* Every byte 0x00..0xFF as TiCDC writes a binary value: U+0000..U+00FF, control
     * characters escaped, the rest raw UTF-8. */
    char js[2048];
    size_t n = 0;
    n += (size_t)snprintf(js, sizeof(js), "{\"type\":\"INSERT\",\"data\":[{\"bl\":\"");
    for (int b = 0; b < 256; b++) {
        if (b < 0x20 || b == '<' || b == '>' || b == '&') {
            n += (size_t)snprintf(js + n, sizeof(js) - n, "\\u%04x", b);
        } else if (b == '"' || b == '\\') {
            n += (size_t)snprintf(js + n, sizeof(js) - n, "\\%c", b);
        } else if (b < 0x80) {
            js[n++] = (char)b;
        } else {
            js[n++] = (char)(0xC0 | b >> 6);
            js[n++] = (char)(0x80 | (b & 0x3F));
        }
    }
    n += (size_t)snprintf(js + n, sizeof(js) - n, "\"}],\"_tidb\":{\"commitTs\":1}}");
    tr_canal_msg_t m;
    const char *why = NULL;
    EXPECT_EQ_INT(parse_n(js, n, &m, &why), 0);
    tr_canal_obj_iter_t it = tr_canal_obj_iter(m.data);
    tr_canal_str_t k;
    tr_canal_val_t v;
    EXPECT_EQ_INT(tr_canal_obj_next(&it, &k, &v, &why), 1);
    uint8_t text[1024];
    ssize_t tn = tr_canal_str_decode(&v.str, text, &why);
    EXPECT_EQ_INT(tn, 256 + 128); /* 0x80..0xFF take two bytes of UTF-8 */
    uint8_t want[256];
    for (int b = 0; b < 256; b++) {
        want[b] = (uint8_t)b;
    }
    uint8_t bytes[512];
    ssize_t bn = tr_canal_latin1_bytes(text, (size_t)tn, bytes, &why);
    EXPECT_EQ_MEM(bytes, bn < 0 ? 0 : (size_t)bn, want, sizeof(want));
    /* in place */
    bn = tr_canal_latin1_bytes(text, (size_t)tn, text, &why);
    EXPECT_EQ_MEM(text, bn < 0 ? 0 : (size_t)bn, want, sizeof(want));

    uint8_t out[16];
    EXPECT_EQ_INT(tr_canal_latin1_bytes((const uint8_t *)"", 0, out, &why), 0);
    EXPECT_EQ_INT(tr_canal_latin1_bytes((const uint8_t *)"\xe2\x82\xac", 3, out, &why),
                  TR_EMALFORMED);
    EXPECT_EQ_STR(why, "binary string holds a character above U+00FF");
    EXPECT_EQ_INT(tr_canal_latin1_bytes((const uint8_t *)"\xc4\x80", 2, out, &why),
                  TR_EMALFORMED); /* U+0100 */
    EXPECT_EQ_STR(why, "binary string holds a character above U+00FF");
    EXPECT_EQ_INT(tr_canal_latin1_bytes((const uint8_t *)"a\xc3", 2, out, &why), TR_EMALFORMED);
    EXPECT_EQ_STR(why, "binary string is not valid UTF-8");
    EXPECT_EQ_INT(tr_canal_latin1_bytes((const uint8_t *)"\xe9", 1, out, &why), TR_EMALFORMED);
    EXPECT_EQ_STR(why, "binary string is not valid UTF-8");
    EXPECT_EQ_INT(tr_canal_latin1_bytes((const uint8_t *)"\xc3\x28", 2, out, &why),
                  TR_EMALFORMED);
}

/* ---------------------------------------------------------------- malformed messages */

TR_TEST(malformed_messages)
{
    static const struct {
        const char *lit; /* ' for " */
        int rc;
        const char *why;
    } cases[] = {
        {"", TR_EMALFORMED, "empty message"},
        {"  \n", TR_EMALFORMED, "empty message"},
        {"[]", TR_EMALFORMED, "not a JSON object"},
        {"'x'", TR_EMALFORMED, "not a JSON object"},
        {"{", TR_EMALFORMED, "truncated object"},
        {"{'type'", TR_EMALFORMED, "truncated object"},
        {"{'type':}", TR_EMALFORMED, "not a JSON value"},
        {"{'type' 'INSERT'}", TR_EMALFORMED, "missing ':'"},
        {"{type:'INSERT'}", TR_EMALFORMED, "object key is not a string"},
        {"{'a':1,}", TR_EMALFORMED, "object key is not a string"},
        {"{'a':1 'b':2}", TR_EMALFORMED, "expected ',' or '}'"},
        {"{'a':[1,]}", TR_EMALFORMED, "not a JSON value"},
        {"{'a':[1 2]}", TR_EMALFORMED, "expected ',' or ']'"},
        {"{'a':01}", TR_EMALFORMED, "expected ',' or '}'"},
        {"{'a':1.}", TR_EMALFORMED, "not a JSON value"},
        {"{'a':-}", TR_EMALFORMED, "not a JSON value"},
        {"{'a':1e}", TR_EMALFORMED, "not a JSON value"},
        {"{'a':NaN}", TR_EMALFORMED, "not a JSON value"},
        {"{'a':tru}", TR_EMALFORMED, "not a JSON value"},
        {"{'a':nul}", TR_EMALFORMED, "not a JSON value"},
        {"{'a':'x}", TR_EMALFORMED, "unterminated string"},
        {"{'a':'x\\", TR_EMALFORMED, "unterminated string"},
        {"{} {}", TR_EMALFORMED, "bytes after the message"},
        {"{}x", TR_EMALFORMED, "bytes after the message"},
        {"{'isDdl':'false','type':'INSERT'}", TR_EMALFORMED, "isDdl is not a boolean"},
        {"{'type':3}", TR_EMALFORMED, "type is not a string"},
        {"{'type':'INSERT','es':'1'}", TR_EMALFORMED, "es is not an integer"},
        {"{'type':'INSERT','es':1.5}", TR_EMALFORMED, "es is not an integer"},
        {"{'type':'INSERT','es':99999999999999999999}", TR_EMALFORMED, "es is not an integer"},
        {"{'type':'INSERT','_tidb':[]}", TR_EMALFORMED, "_tidb is not an object"},
        {"{'type':'INSERT','_tidb':{'commitTs':1}}", TR_EMALFORMED, "row without data"},
        {"{'type':'INSERT','data':null,'_tidb':{'commitTs':1}}", TR_EMALFORMED,
         "row without data"},
        {"{'type':'INSERT','data':{},'_tidb':{'commitTs':1}}", TR_EMALFORMED,
         "data is not an array of one object"},
        {"{'type':'INSERT','data':[],'_tidb':{'commitTs':1}}", TR_EMALFORMED,
         "data is not an array of one object"},
        {"{'type':'INSERT','data':[{},{}],'_tidb':{'commitTs':1}}", TR_EMALFORMED,
         "data is not an array of one object"},
        {"{'type':'INSERT','data':['x'],'_tidb':{'commitTs':1}}", TR_EMALFORMED,
         "data is not an array of one object"},
        {"{'type':'UPDATE','data':[{}],'old':[{},{}],'_tidb':{'commitTs':1}}", TR_EMALFORMED,
         "old is not an array of one object"},
        {"{'type':'UPDATE','data':[{}],'old':'x','_tidb':{'commitTs':1}}", TR_EMALFORMED,
         "old is not an array of one object"},
        {"{'type':'INSERT','data':[{}],'mysqlType':[],'_tidb':{'commitTs':1}}", TR_EMALFORMED,
         "mysqlType is not an object"},
        {"{'type':'INSERT','data':[{}],'sqlType':'x','_tidb':{'commitTs':1}}", TR_EMALFORMED,
         "sqlType is not an object"},
        {"{'type':'INSERT','data':[{}],'pkNames':['a',1],'_tidb':{'commitTs':1}}",
         TR_EMALFORMED, "pkNames is not an array of strings"},
        {"{'type':'INSERT','data':[{}],'pkNames':'id','_tidb':{'commitTs':1}}", TR_EMALFORMED,
         "pkNames is not an array of strings"},
        {"{'type':'INSERT','data':[{}],'database':1,'_tidb':{'commitTs':1}}", TR_EMALFORMED,
         "database is not a string"},
        {"{'type':'INSERT','data':[{}],'table':true,'_tidb':{'commitTs':1}}", TR_EMALFORMED,
         "table is not a string"},
        {"{'type':'INSERT','data':[{}],'_tidb':{'commitTs':'1'}}", TR_EMALFORMED,
         "commitTs is not an unsigned integer"},
        {"{'type':'INSERT','data':[{}],'_tidb':{'commitTs':-1}}", TR_EMALFORMED,
         "commitTs is not an unsigned integer"},
        {"{'type':'INSERT','data':[{}],'_tidb':{'commitTs':1e3}}", TR_EMALFORMED,
         "commitTs is not an unsigned integer"},
        {"{'type':'INSERT','data':[{}],'_tidb':{'commitTs':18446744073709551616}}",
         TR_EMALFORMED, "commitTs is not an unsigned integer"},
        {"{'type':'INSERT','data':[{}],'_tidb':{'commitTs':1,'onlyHandleKey':1}}",
         TR_EMALFORMED, "onlyHandleKey is not a boolean"},
        {"{'type':'INSERT','data':[{}],'_tidb':{'commitTs':1,'claimCheckLocation':1}}",
         TR_EMALFORMED, "claimCheckLocation is not a string"},
        {"{'type':'TRUNCATE','data':[{}],'_tidb':{'commitTs':1}}", TR_EUNSUPPORTED,
         "type is none of"},
        {"{'type':'insert','data':[{}],'_tidb':{'commitTs':1}}", TR_EUNSUPPORTED,
         "type is none of"},
        {"{'data':[{}],'_tidb':{'commitTs':1}}", TR_EUNSUPPORTED, "type is none of"},
        {"{'isDdl':false,'type':'CREATE','sql':'CREATE TABLE t (a INT)','_tidb':{'commitTs':1}}",
         TR_EUNSUPPORTED, "type is none of"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        EXPECT_REJECT(J(cases[i].lit), cases[i].rc, cases[i].why);
    }
    /* Not a C string: a NUL inside the message is just a byte that is not JSON. */
    tr_canal_msg_t m;
    const char *why = NULL;
    EXPECT_EQ_INT(parse_n("{}\0", 3, &m, &why), TR_EMALFORMED);
    EXPECT_EQ_INT(parse_n("{\"type\0\":1}", 11, &m, &why),
                  TR_EMALFORMED);
    EXPECT_EQ_STR(why, "control character in a string");
}

TR_TEST(nesting_limit)
{
    /* TR_CANAL_MAX_DEPTH containers deep parses; one more is rejected, anywhere. */
    char js[1024];
    for (int extra = 0; extra < 2; extra++) {
        /* The root object is depth 1, "x" adds TR_CANAL_MAX_DEPTH - 1 + extra arrays. */
        int arrays = TR_CANAL_MAX_DEPTH - 1 + extra;
        size_t n = (size_t)snprintf(js, sizeof(js), "{\"type\":\"DELETE\",\"x\":");
        for (int i = 0; i < arrays; i++) {
            js[n++] = '[';
        }
        for (int i = 0; i < arrays; i++) {
            js[n++] = ']';
        }
        n += (size_t)snprintf(js + n, sizeof(js) - n,
                              ",\"data\":[{}],\"_tidb\":{\"commitTs\":1}}");
        tr_canal_msg_t m;
        const char *why = NULL;
        int rc = parse_n(js, n, &m, &why);
        if (extra == 0) {
            EXPECT_EQ_INT(rc, 0);
        } else {
            EXPECT_EQ_INT(rc, TR_EMALFORMED);
            EXPECT_EQ_STR(why, "nesting too deep");
        }
    }
    /* Deep inside data, and inside _tidb. */
    size_t n = (size_t)snprintf(js, sizeof(js), "{\"type\":\"DELETE\",\"data\":[{\"v\":");
    for (int i = 0; i < 100; i++) {
        js[n++] = '[';
    }
    for (int i = 0; i < 100; i++) {
        js[n++] = ']';
    }
    n += (size_t)snprintf(js + n, sizeof(js) - n, "}],\"_tidb\":{\"commitTs\":1}}");
    tr_canal_msg_t m;
    const char *why = NULL;
    EXPECT_EQ_INT(parse_n(js, n, &m, &why), TR_EMALFORMED);
    EXPECT_EQ_STR(why, "nesting too deep");
    n = (size_t)snprintf(js, sizeof(js), "{\"type\":\"DELETE\",\"_tidb\":{\"x\":");
    for (int i = 0; i < 100; i++) {
        js[n++] = '{';
        js[n++] = '"';
        js[n++] = '"';
        js[n++] = ':';
    }
    js[n++] = '1';
    for (int i = 0; i < 100; i++) {
        js[n++] = '}';
    }
    n += (size_t)snprintf(js + n, sizeof(js) - n, "}}");
    EXPECT_EQ_INT(parse_n(js, n, &m, &why), TR_EMALFORMED);
    EXPECT_EQ_STR(why, "nesting too deep");
}

TR_TEST(every_prefix_is_rejected)
{
    /* A message cut anywhere (a Kafka value or a file line cut short) is never accepted
     * and never read past its end: the test runs each prefix from an exact-size copy. */
    const char *full = J(insert_lit);
    size_t len = strlen(full);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *p = malloc(cut ? cut : 1);
        if (p == NULL) {
            abort();
        }
        memcpy(p, full, cut);
        tr_canal_msg_t m;
        const char *why = NULL;
        int rc = parse_n(p, cut, &m, &why);
        if (rc != TR_EMALFORMED || why == NULL) {
            TR_FAIL_AT("prefix of %zu bytes: rc %d", cut, rc);
        }
        free(p);
    }
}

TR_TEST(iterators_on_bad_slices)
{
    static const char *const bad_objs[] = {
        "[]", "{", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":1,}", "{\"a\" 1}", "{1:2}",
        "{\"a\":1}x", "{\"a\":nul}", "{\"a\":\"\\x\"}", "{\"a\":[1,]}",
    };
    for (size_t i = 0; i < sizeof(bad_objs) / sizeof(bad_objs[0]); i++) {
        tr_canal_obj_iter_t it = tr_canal_obj_iter(tr_slice(bad_objs[i], strlen(bad_objs[i])));
        tr_canal_str_t k;
        tr_canal_val_t v;
        const char *why = NULL;
        int rc;
        int guard = 0;
        while ((rc = tr_canal_obj_next(&it, &k, &v, &why)) > 0 && ++guard < 10) {
        }
        if (rc != TR_EMALFORMED || why == NULL) {
            TR_FAIL_AT("object %s: rc %d", bad_objs[i], rc);
        }
    }
    static const char *const bad_arrs[] = {"{}", "[", "[\"a\"", "[\"a\",]", "[1]", "[\"a\" \"b\"]",
                                           "[\"a\"]]"};
    for (size_t i = 0; i < sizeof(bad_arrs) / sizeof(bad_arrs[0]); i++) {
        tr_canal_arr_iter_t it = tr_canal_arr_iter(tr_slice(bad_arrs[i], strlen(bad_arrs[i])));
        tr_canal_str_t s;
        const char *why = NULL;
        int rc;
        int guard = 0;
        while ((rc = tr_canal_arr_next(&it, &s, &why)) > 0 && ++guard < 10) {
        }
        if (rc != TR_EMALFORMED || why == NULL) {
            TR_FAIL_AT("array %s: rc %d", bad_arrs[i], rc);
        }
    }
    /* Empty slices iterate as empty; whitespace is allowed around members. */
    tr_canal_obj_iter_t it = tr_canal_obj_iter(tr_slice(NULL, 0));
    tr_canal_str_t k;
    tr_canal_val_t v;
    const char *why;
    EXPECT_EQ_INT(tr_canal_obj_next(&it, &k, &v, &why), 0);
    tr_canal_arr_iter_t ai = tr_canal_arr_iter(tr_slice(NULL, 0));
    EXPECT_EQ_INT(tr_canal_arr_next(&ai, &k, &why), 0);
    const char *ws = " { \"a\" : \"1\" , \"b\" : null } ";
    EXPECT_EQ_INT(n_members(tr_slice(ws, strlen(ws))), 2);
    const char *ws2 = " [ \"a\" , \"b\" ] ";
    ai = tr_canal_arr_iter(tr_slice(ws2, strlen(ws2)));
    EXPECT_EQ_INT(tr_canal_arr_next(&ai, &k, &why), 1);
    EXPECT_EQ_INT(tr_canal_arr_next(&ai, &k, &why), 1);
    EXPECT_EQ_STR(text_of(&k), "b");
    EXPECT_EQ_INT(tr_canal_arr_next(&ai, &k, &why), 0);
}

/* ---------------------------------------------------------------- values */

/* A TableInfo as TiDB's status API serves it (the keys tidb_schema.c reads). */
#define COLX(id, name, tp, flag, flen, dec, cs, extra)                                             \
    "{'id':" #id ",'name':{'O':'" name "'},'offset':" #id ",'state':5,'type':{'Tp':" #tp        \
    ",'Flag':" #flag ",'Flen':" #flen ",'Decimal':" #dec ",'Charset':'" cs "','Collate':'" cs  \
    "_bin'" extra "}}"
#define COL(id, name, tp, flag, flen, cs) COLX(id, name, tp, flag, flen, 0, cs, "")

/* Every row of shared/spec/ticdc.md section 4 (flags: 1 NOT NULL, 2 PK, 32 UNSIGNED,
 * 64 ZEROFILL, 128 BINARY). */
static const char types_table[] =
    "{'id':200,'name':{'O':'types'},'pk_is_handle':true,'cols':["
    COL(0, "id", 8, 35, 20, "binary") ","
    COL(1, "i8", 1, 0, 4, "binary") ","
    COL(2, "u8", 1, 32, 3, "binary") ","
    COL(3, "i16", 2, 0, 6, "binary") ","
    COL(4, "u16", 2, 32, 5, "binary") ","
    COL(5, "i24", 9, 0, 9, "binary") ","
    COL(6, "u24", 9, 32, 8, "binary") ","
    COL(7, "i32", 3, 0, 11, "binary") ","
    COL(8, "u32", 3, 96, 10, "binary") ","
    COL(9, "i64", 8, 0, 20, "binary") ","
    COLX(10, "f", 4, 0, 12, -1, "binary", "") ","
    COLX(11, "d", 5, 0, 22, -1, "binary", "") ","
    COLX(12, "dec", 246, 0, 10, 2, "binary", "") ","
    COLX(13, "dec65", 246, 0, 65, 30, "binary", "") ","
    COLX(14, "dec0", 246, 32, 5, 0, "binary", "") ","
    COL(15, "dt", 10, 128, 10, "binary") ","
    COLX(16, "dtm", 12, 128, 19, 0, "binary", "") ","
    COLX(17, "dtm6", 12, 128, 26, 6, "binary", "") ","
    COLX(18, "ts3", 7, 128, 23, 3, "binary", "") ","
    COLX(19, "tm", 11, 128, 10, 0, "binary", "") ","
    COLX(20, "tm2", 11, 128, 13, 2, "binary", "") ","
    COL(21, "y", 13, 96, 4, "binary") ","
    COL(22, "vc", 15, 0, 8, "utf8mb4") ","
    COL(23, "ch", 254, 0, 4, "utf8mb4") ","
    COL(24, "txt", 252, 0, 65535, "utf8mb4") ","
    COL(25, "ttxt", 249, 0, 255, "utf8mb4") ","
    COL(26, "vb", 15, 128, 16, "binary") ","
    COL(27, "bl", 252, 128, 65535, "binary") ","
    COL(28, "bn", 254, 128, 4, "binary") ","
    COLX(29, "e", 247, 0, 1, 0, "utf8mb4", ",'Elems':['a','b','c']") ","
    COLX(30, "s", 248, 0, 5, 0, "utf8mb4", ",'Elems':['x','y','z']") ","
    COL(31, "b", 16, 32, 17, "binary") ","
    COL(32, "j", 245, 128, -1, "binary") ","
    COL(33, "l1", 15, 0, 4, "latin1") ","
    COLX(34, "vec", 225, 0, 3, 0, "binary", "") ","
    COL(35, "b64", 16, 32, 64, "binary") "]}";

static tr_table_info_t *types_info(void)
{
    static tr_table_info_t *t;
    if (t == NULL) {
        const char *why = NULL;
        const char *js = J(types_table);
        t = tr_table_info_parse(js, strlen(js), &why);
        if (t == NULL) {
            fprintf(stderr, "types table: %s\n", why);
            abort();
        }
    }
    return t;
}

static const tr_tidb_column_t *col(const char *name)
{
    tr_table_info_t *t = types_info();
    for (size_t i = 0; i < t->n_cols; i++) {
        if (strcmp(t->cols[i].name, name) == 0) {
            return &t->cols[i];
        }
    }
    fprintf(stderr, "no column %s\n", name);
    abort();
}

static int value(const char *name, const char *text, tr_datum_t *d, const char **why)
{
    *why = NULL;
    return tr_canal_value(col(name), (const uint8_t *)text, strlen(text), d, why);
}

#define EXPECT_INT_VALUE(name, text, want)                                                         \
    do {                                                                                           \
        tr_datum_t d_;                                                                             \
        const char *w_;                                                                            \
        EXPECT_EQ_INT(value(name, text, &d_, &w_), 0);                                             \
        EXPECT_EQ_INT(d_.kind, TR_DATUM_INT);                                                      \
        EXPECT_EQ_INT(d_.flag, TR_DATUM_FLAG_INT);                                                 \
        EXPECT_EQ_INT(d_.i, (want));                                                               \
    } while (0)

#define EXPECT_UINT_VALUE(name, text, want)                                                        \
    do {                                                                                           \
        tr_datum_t d_;                                                                             \
        const char *w_;                                                                            \
        EXPECT_EQ_INT(value(name, text, &d_, &w_), 0);                                             \
        EXPECT_EQ_INT(d_.kind, TR_DATUM_UINT);                                                     \
        EXPECT_EQ_INT(d_.flag, TR_DATUM_FLAG_UINT);                                                \
        EXPECT_EQ_U64(d_.u, (want));                                                               \
    } while (0)

#define EXPECT_BAD_VALUE(name, text, want_rc, want_why)                                            \
    do {                                                                                           \
        tr_datum_t d_;                                                                             \
        const char *w_;                                                                            \
        EXPECT_EQ_INT(value(name, text, &d_, &w_), (want_rc));                                     \
        if (w_ == NULL || strstr(w_, (want_why)) == NULL) {                                        \
            TR_FAIL_AT("%s '%s': why \"%s\", want \"%s\"", (name), (text), w_ ? w_ : "(null)",   \
                       (want_why));                                                                \
        }                                                                                          \
    } while (0)

TR_TEST(value_integers)
{
    EXPECT_UINT_VALUE("id", "18446744073709551615", UINT64_MAX);
    /* 19 digits, and 20 that fit or not by their last digit. */
    EXPECT_UINT_VALUE("id", "9999999999999999999", 9999999999999999999ull);
    EXPECT_UINT_VALUE("id", "10000000000000000000", 10000000000000000000ull);
    EXPECT_UINT_VALUE("id", "18446744073709551609", 18446744073709551609ull);
    EXPECT_BAD_VALUE("id", "18446744073709551620", TR_ESCHEMA, "not an unsigned integer");
    EXPECT_BAD_VALUE("id", "28446744073709551615", TR_ESCHEMA, "not an unsigned integer");
    EXPECT_BAD_VALUE("id", "184467440737095516150", TR_ESCHEMA, "not an unsigned integer");
    EXPECT_BAD_VALUE("id", "1844674407370955161x", TR_ESCHEMA, "not an unsigned integer");
    EXPECT_INT_VALUE("i8", "-128", -128);
    EXPECT_INT_VALUE("i8", "127", 127);
    EXPECT_UINT_VALUE("u8", "255", 255);
    EXPECT_INT_VALUE("i16", "-32768", -32768);
    EXPECT_UINT_VALUE("u16", "65535", 65535);
    EXPECT_INT_VALUE("i24", "-8388608", -8388608);
    EXPECT_UINT_VALUE("u24", "16777215", 16777215);
    EXPECT_INT_VALUE("i32", "-2147483648", INT32_MIN);
    EXPECT_UINT_VALUE("u32", "4294967295", UINT32_MAX);
    EXPECT_INT_VALUE("i64", "-9223372036854775808", INT64_MIN);
    EXPECT_INT_VALUE("i64", "9223372036854775807", INT64_MAX);
    EXPECT_INT_VALUE("i64", "0", 0);
    EXPECT_UINT_VALUE("y", "2155", 2155);
    EXPECT_UINT_VALUE("y", "1901", 1901);
    EXPECT_UINT_VALUE("y", "0", 0);

    EXPECT_BAD_VALUE("i8", "128", TR_ESCHEMA, "out of the column type's range");
    EXPECT_BAD_VALUE("i8", "-129", TR_ESCHEMA, "out of the column type's range");
    EXPECT_BAD_VALUE("u8", "256", TR_ESCHEMA, "out of the column type's range");
    EXPECT_BAD_VALUE("u8", "-1", TR_ESCHEMA, "not an unsigned integer");
    EXPECT_BAD_VALUE("i24", "8388608", TR_ESCHEMA, "out of the column type's range");
    EXPECT_BAD_VALUE("u32", "4294967296", TR_ESCHEMA, "out of the column type's range");
    EXPECT_BAD_VALUE("i64", "9223372036854775808", TR_ESCHEMA, "not an integer within 64 bits");
    EXPECT_BAD_VALUE("id", "18446744073709551616", TR_ESCHEMA, "not an unsigned integer");
    EXPECT_BAD_VALUE("i32", "", TR_ESCHEMA, "not an integer");
    EXPECT_BAD_VALUE("i32", "-", TR_ESCHEMA, "not an integer");
    EXPECT_BAD_VALUE("i32", "1.0", TR_ESCHEMA, "not an integer");
    EXPECT_BAD_VALUE("i32", " 1", TR_ESCHEMA, "not an integer");
    EXPECT_BAD_VALUE("i32", "+1", TR_ESCHEMA, "not an integer");
    EXPECT_BAD_VALUE("y", "1900", TR_ESCHEMA, "YEAR out of range");
    EXPECT_BAD_VALUE("y", "2156", TR_ESCHEMA, "YEAR out of range");
}

/* A DOUBLE's text as tr_canal_value reads it must be strtod's double, bit for bit (its own
 * product of the digits and a table power of five, or strtod when that cannot be sure). */
static bool double_like_strtod(const char *text)
{
    tr_datum_t d;
    const char *why;
    double want = strtod(text, NULL);
    if (isinf(want)) {
        return value("d", text, &d, &why) == TR_ESCHEMA;
    }
    if (value("d", text, &d, &why) != 0) {
        return false;
    }
    return memcmp(&d.f, &want, sizeof(want)) == 0;
}

static uint64_t rnd_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

TR_TEST(value_double_matches_strtod)
{
    static const char *const cases[] = {
        "0",
        "-0",
        "0.0",
        "-0.0",
        "1",
        "-1",
        "0.1",
        "0.2",
        "0.3",
        "1e23",
        "8.98846567431158e307",
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.7976931348623159e308",
        "2.2250738585072014e-308",
        "2.2250738585072011e-308",
        "2.2250738585072012e-308",
        "4.9406564584124654e-324",
        "5e-324",
        "2.4703282292062327e-324",
        "1e-400",
        "1e400",
        "9007199254740993",
        "9007199254740995",
        "9007199254740992.5",
        "4503599627370497.5",
        "18446744073709551615",
        "18446744073709551616",
        "9999999999999999999",
        "0.30000000000000004",
        "123456789012345678901234567890",
        "7.2057594037927933e16",
        "0.000000000000000000000000000000000000000000000000000000000000000001",
        "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124",
        "1.00000000000000011102230246251565404236316680908203126",
        "12345678901234567890000000000000000000000",
        "1234567890123456789000000000000000000000.0000",
        "12345678901234567891000000000000000000000",
        "100000000000000000000000000000000000000000000000000000000000000000000000000000000",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (!double_like_strtod(cases[i])) {
            fprintf(stderr, "differs: %s\n", cases[i]);
            EXPECT_TRUE(false);
        }
    }
    char text[512];
    int bad = 0;
    /* TR_TEST_DOUBLE_ITERS: a longer run by hand (100,000,000 passed when this was written). */
    const char *iters_env = getenv("TR_TEST_DOUBLE_ITERS");
    long iters = iters_env != NULL ? atol(iters_env) : 300000;
    for (long i = 0; i < iters && bad < 5; i++) {
        uint64_t r = rnd();
        switch (i % 5) {
        case 0: { /* a finite double's shortest-ish texts, as TiCDC writes DOUBLEs */
            uint64_t bits = r & ~(0x7FFull << 52);
            bits |= (rnd() % 0x7FF) << 52;
            double v;
            memcpy(&v, &bits, sizeof(v));
            snprintf(text, sizeof(text), "%.*g", 15 + (int)(rnd() % 3), v);
            break;
        }
        case 1: { /* fixed notation ('f' as strconv writes it) of a moderate double */
            double v = (double)(int64_t)(r >> 11) / (double)(1ull << (rnd() % 60));
            snprintf(text, sizeof(text), "%.*f", (int)(rnd() % 20), v);
            break;
        }
        case 2: { /* 1 to 22 random digits, a point somewhere, an exponent or none */
            int nd = 1 + (int)(r % 22);
            int point = (int)(rnd() % (unsigned)(nd + 1));
            size_t k = 0;
            if (rnd() & 1) {
                text[k++] = '-';
            }
            for (int j = 0; j < nd; j++) {
                if (j == point && j > 0) {
                    text[k++] = '.';
                }
                char c = (char)('0' + rnd() % 10);
                if (j == 0 && (point != 1 || nd == 1) && c == '0') {
                    c = '1'; /* no leading zero before more integer digits */
                }
                text[k++] = c;
            }
            if (rnd() % 3 == 0) { /* trailing zeros, as 'f' notation writes large values */
                for (int z = (int)(rnd() % 300); z > 0; z--) {
                    text[k++] = '0';
                }
            }
            text[k] = '\0';
            if (rnd() & 1) {
                snprintf(text + k, sizeof(text) - k, "e%d", (int)(rnd() % 700) - 350);
            }
            break;
        }
        case 3: { /* 'f' notation of any double: up to 309 integer digits, trailing zeros */
            uint64_t bits = r & ~(0x7FFull << 52);
            bits |= (rnd() % 0x7FF) << 52;
            double v;
            memcpy(&v, &bits, sizeof(v));
            snprintf(text, sizeof(text), "%.*f", (int)(rnd() % 4), v);
            break;
        }
        default: { /* near powers of two and their ties: 2^k + small, printed exactly */
            int k = 40 + (int)(r % 24);
            uint64_t base = 1ull << k;
            snprintf(text, sizeof(text), "%" PRIu64 ".%d", base + (rnd() % 4096),
                     (int)(rnd() % 10));
            break;
        }
        }
        if (!double_like_strtod(text)) {
            fprintf(stderr, "differs: %s\n", text);
            bad++;
        }
    }
    EXPECT_EQ_INT(bad, 0);
}

TR_TEST(value_floats)
{
    tr_datum_t d;
    const char *why;
    /* strconv.FormatFloat(float64(v), 'f', -1, 32): the shortest text of the float32. */
    EXPECT_EQ_INT(value("f", "3.1415927", &d, &why), 0);
    EXPECT_EQ_INT(d.kind, TR_DATUM_FLOAT);
    EXPECT_EQ_INT(d.flag, TR_DATUM_FLAG_FLOAT);
    EXPECT_TRUE(d.f == (double)3.1415927f);
    EXPECT_EQ_INT(value("f", "0.1", &d, &why), 0);
    EXPECT_TRUE(d.f == (double)0.1f); /* rounded once, to float32 */
    EXPECT_TRUE(d.f != 0.1);
    EXPECT_EQ_INT(value("f", "340282350000000000000000000000000000000", &d, &why), 0);
    EXPECT_TRUE(d.f == (double)FLT_MAX);
    EXPECT_EQ_INT(value("f", "-0.000000000000000000000000000000000000000000001", &d, &why), 0);
    EXPECT_TRUE(d.f < 0 && d.f == (double)-1e-45f);
    EXPECT_EQ_INT(value("d", "2.718281828459045", &d, &why), 0);
    EXPECT_TRUE(d.f == 2.718281828459045);
    EXPECT_EQ_INT(value("d", "0", &d, &why), 0); /* NaN and Inf arrive as 0 */
    EXPECT_TRUE(d.f == 0);
    /* DBL_MAX in fixed notation: 309 digits (spec correction 5). */
    char big[400];
    int n = snprintf(big, sizeof(big), "%.0f", DBL_MAX);
    EXPECT_EQ_INT(n, 309);
    EXPECT_EQ_INT(value("d", big, &d, &why), 0);
    EXPECT_TRUE(d.f == DBL_MAX);
    /* The smallest subnormal, fixed: "0." and 323 zeros then "5" (326 characters). */
    char tiny[400];
    n = snprintf(tiny, sizeof(tiny), "-0.%0323d5", 0);
    EXPECT_EQ_INT(n, 327);
    EXPECT_EQ_INT(value("d", tiny, &d, &why), 0);
    EXPECT_TRUE(d.f == -4.9406564584124654e-324);
    EXPECT_EQ_INT(value("d", "1e300", &d, &why), 0); /* exponents are accepted too */
    EXPECT_TRUE(d.f == 1e300);

    EXPECT_BAD_VALUE("f", "340282360000000000000000000000000000000", TR_ESCHEMA, "out of range");
    EXPECT_BAD_VALUE("d", "1e309", TR_ESCHEMA, "out of range");
    EXPECT_BAD_VALUE("d", "NaN", TR_ESCHEMA, "not a floating-point number");
    EXPECT_BAD_VALUE("d", "inf", TR_ESCHEMA, "not a floating-point number");
    EXPECT_BAD_VALUE("d", "0x10", TR_ESCHEMA, "not a floating-point number");
    EXPECT_BAD_VALUE("d", "", TR_ESCHEMA, "not a floating-point number");
    EXPECT_BAD_VALUE("d", "1.5 ", TR_ESCHEMA, "not a floating-point number");
}

TR_TEST(value_decimal)
{
    tr_datum_t d;
    const char *why;
    /* MyDecimal.String(): exactly scale fraction digits. */
    EXPECT_EQ_INT(value("dec", "-12345678.90", &d, &why), 0);
    EXPECT_EQ_INT(d.kind, TR_DATUM_TEXT);
    EXPECT_EQ_INT(d.precision, 10);
    EXPECT_EQ_INT(d.frac, 2);
    EXPECT_EQ_MEM(d.bytes.p, d.bytes.len, "-12345678.90", 12);
    EXPECT_EQ_INT(value("dec", "0.05", &d, &why), 0);
    EXPECT_EQ_INT(value("dec", "0.5", &d, &why), 0);        /* fewer digits: still the value */
    EXPECT_EQ_INT(value("dec", "00012345678.90", &d, &why), 0); /* leading zeros take no room */
    EXPECT_EQ_INT(value("dec", "1.200", &d, &why), 0);      /* zeros past the scale */
    EXPECT_EQ_INT(value("dec65",
                        "99999999999999999999999999999999999.999999999999999999999999999999", &d,
                        &why),
                  0);
    EXPECT_EQ_INT(d.precision, 65);
    EXPECT_EQ_INT(d.frac, 30);
    EXPECT_EQ_INT(value("dec0", "12345", &d, &why), 0);
    EXPECT_EQ_INT(d.frac, 0);

    EXPECT_BAD_VALUE("dec", "1.234", TR_ESCHEMA, "more fraction digits than the column's scale");
    EXPECT_BAD_VALUE("dec", "123456789.00", TR_ESCHEMA, "more integer digits");
    EXPECT_BAD_VALUE("dec0", "123456", TR_ESCHEMA, "more integer digits");
    EXPECT_BAD_VALUE("dec0", "1.5", TR_ESCHEMA, "more fraction digits");
    EXPECT_BAD_VALUE("dec", "1.", TR_ESCHEMA, "not a decimal number");
    EXPECT_BAD_VALUE("dec", ".5", TR_ESCHEMA, "not a decimal number");
    EXPECT_BAD_VALUE("dec", "1e3", TR_ESCHEMA, "not a decimal number");
    EXPECT_BAD_VALUE("dec", "", TR_ESCHEMA, "not a decimal number");
    EXPECT_BAD_VALUE("dec", "-", TR_ESCHEMA, "not a decimal number");
    EXPECT_BAD_VALUE("dec", "+1.00", TR_ESCHEMA, "not a decimal number");
    EXPECT_BAD_VALUE("dec", "1,00", TR_ESCHEMA, "not a decimal number");
}

static void expect_time(const char *name, const char *text, uint64_t packed)
{
    tr_datum_t d;
    const char *why;
    int rc = value(name, text, &d, &why);
    EXPECT_EQ_INT(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "    %s '%s': %s\n", name, text, why);
        return;
    }
    EXPECT_EQ_INT(d.kind, TR_DATUM_UINT);
    EXPECT_EQ_INT(d.flag, TR_DATUM_FLAG_UINT);
    EXPECT_EQ_U64(d.u, packed);
}

TR_TEST(value_dates_and_times)
{
    /* Packed as TiDB's CoreTime (types/core_time.go ToPackedUint):
     * ((((year * 13 + month) << 5 | day) << 17 | hour << 12 | minute << 6 | second) << 24)
     * | microsecond. */
    expect_time("dt", "2024-02-29", 1851746905965461504ull);
    expect_time("dt", "0000-00-00", 0);
    expect_time("dtm", "2024-02-29 23:59:59", 1851748550854049792ull);
    expect_time("dtm6", "2024-02-29 23:59:59.999999", 1851748550855049791ull);
    expect_time("dtm6", "0000-00-00 00:00:00.000000", 0);
    /* TIMESTAMP text is UTC (TiCDC run with --tz=UTC). */
    expect_time("ts3", "2038-01-19 03:14:07.499", 1864461879737818424ull);
    tr_datum_t d;
    const char *why;
    EXPECT_EQ_INT(value("dtm6", "2024-02-29 23:59:59.5", &d, &why), 0);
    tr_tidb_time_t t;
    EXPECT_EQ_INT(tr_tidb_time_unpack(d.u, &t), 0);
    EXPECT_EQ_INT(t.microsecond, 500000);

    EXPECT_BAD_VALUE("dt", "2024-2-29", TR_ESCHEMA, "not a date");
    EXPECT_BAD_VALUE("dt", "2024/02/29", TR_ESCHEMA, "not a date");
    EXPECT_BAD_VALUE("dt", "2024-02-29 12:00:00", TR_ESCHEMA, "DATE value with a time of day");
    EXPECT_BAD_VALUE("dt", "2024-13-01", TR_ESCHEMA, "out of range");
    EXPECT_BAD_VALUE("dtm", "2024-02-29T23:59:59", TR_ESCHEMA, "not a time of day");
    EXPECT_BAD_VALUE("dtm", "2024-02-29 24:00:00", TR_ESCHEMA, "out of range");
    EXPECT_BAD_VALUE("dtm", "2024-02-29 23:60:00", TR_ESCHEMA, "out of range");
    EXPECT_BAD_VALUE("dtm", "2024-02-29 23:59:59.5", TR_ESCHEMA,
                     "longer than the column's precision");
    EXPECT_BAD_VALUE("ts3", "2038-01-19 03:14:07.4991", TR_ESCHEMA,
                     "longer than the column's precision");
    EXPECT_BAD_VALUE("dtm6", "2024-02-29 23:59:59.1234567", TR_ESCHEMA, "not 1 to 6 digits");
    EXPECT_BAD_VALUE("dtm6", "2024-02-29 23:59:59.", TR_ESCHEMA, "not 1 to 6 digits");
    EXPECT_BAD_VALUE("dtm6", "2024-02-29 23:59:59Z", TR_ESCHEMA, "not 1 to 6 digits");
}

TR_TEST(value_durations)
{
    tr_datum_t d;
    const char *why;
    EXPECT_EQ_INT(value("tm2", "-838:59:58.99", &d, &why), 0);
    EXPECT_EQ_INT(d.kind, TR_DATUM_DURATION);
    EXPECT_EQ_INT(d.flag, TR_DATUM_FLAG_DURATION);
    EXPECT_EQ_INT(d.i, -3020398990000000ll);
    EXPECT_EQ_INT(value("tm", "838:59:59", &d, &why), 0);
    EXPECT_EQ_INT(d.i, 3020399000000000ll);
    EXPECT_EQ_INT(value("tm", "00:00:00", &d, &why), 0);
    EXPECT_EQ_INT(d.i, 0);
    EXPECT_EQ_INT(value("tm", "-00:00:01", &d, &why), 0);
    EXPECT_EQ_INT(d.i, -1000000000ll);
    EXPECT_EQ_INT(value("tm2", "12:34:56.07", &d, &why), 0);
    EXPECT_EQ_INT(d.i, (12 * 3600 + 34 * 60 + 56) * 1000000000ll + 70000000ll);

    EXPECT_BAD_VALUE("tm", "839:00:00", TR_ESCHEMA, "time out of range");
    EXPECT_BAD_VALUE("tm2", "-838:59:59.01", TR_ESCHEMA, "time out of range");
    EXPECT_BAD_VALUE("tm", "12:60:00", TR_ESCHEMA, "time out of range");
    EXPECT_BAD_VALUE("tm", "1:00:00", TR_ESCHEMA, "not a time");
    EXPECT_BAD_VALUE("tm", "1000:00:00", TR_ESCHEMA, "not a time");
    EXPECT_BAD_VALUE("tm", "12:00", TR_ESCHEMA, "not a time");
    EXPECT_BAD_VALUE("tm", "12:00:00.5", TR_ESCHEMA, "longer than the column's precision");
}

TR_TEST(value_strings_and_binary)
{
    tr_datum_t d;
    const char *why;
    /* varchar(8) utf8mb4: up to 32 bytes */
    EXPECT_EQ_INT(value("vc", "caf\xc3\xa9 \xf0\x9f\x98\x80", &d, &why), 0);
    EXPECT_EQ_INT(d.kind, TR_DATUM_BYTES);
    EXPECT_EQ_INT(d.flag, TR_DATUM_FLAG_COMPACT_BYTES);
    EXPECT_EQ_MEM(d.bytes.p, d.bytes.len, "caf\xc3\xa9 \xf0\x9f\x98\x80", 10);
    EXPECT_EQ_INT(value("vc", "", &d, &why), 0);
    EXPECT_EQ_INT(d.bytes.len, 0);
    EXPECT_BAD_VALUE("vc", "123456789012345678901234567890123", TR_ESCHEMA, "longer than its column");
    EXPECT_EQ_INT(value("ch", "abcd", &d, &why), 0);
    EXPECT_EQ_INT(value("txt", "text with \"quotes\"\n", &d, &why), 0);
    EXPECT_EQ_INT(d.kind, TR_DATUM_BYTES);
    char long_text[300];
    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    EXPECT_BAD_VALUE("ttxt", long_text, TR_ESCHEMA, "blob longer than its column");
    /* latin1: the limit applies after conversion, so the UTF-8 text may be longer. */
    EXPECT_EQ_INT(value("l1", "\xc3\xa9\xc3\xa9\xc3\xa9", &d, &why), 0);

    /* varbinary: the JSON text of bytes 00 01 7f 80 ff 22 5c 3c, as TiCDC writes it. */
    tr_canal_msg_t m;
    if (!parse_ok("{\"type\":\"INSERT\",\"data\":[{\"vb\":\"\\u0000\\u0001\x7f\xc2\x80\xc3\xbf"
                  "\\\"\\\\\\u003c\"}],\"_tidb\":{\"commitTs\":1}}",
                  &m)) {
        return;
    }
    tr_canal_obj_iter_t it = tr_canal_obj_iter(m.data);
    tr_canal_str_t k;
    tr_canal_val_t v;
    EXPECT_EQ_INT(tr_canal_obj_next(&it, &k, &v, &why), 1);
    uint8_t buf[64];
    ssize_t n = tr_canal_str_decode(&v.str, buf, &why);
    EXPECT_TRUE(n > 0);
    n = tr_canal_latin1_bytes(buf, (size_t)n, buf, &why);
    EXPECT_EQ_INT(n, 8);
    EXPECT_EQ_INT(tr_canal_value(col("vb"), buf, (size_t)n, &d, &why), 0);
    EXPECT_EQ_INT(d.kind, TR_DATUM_BYTES);
    EXPECT_EQ_INT(d.flag, TR_DATUM_FLAG_COMPACT_BYTES);
    EXPECT_EQ_MEM(d.bytes.p, d.bytes.len, "\x00\x01\x7f\x80\xff\"\\<", 8);
    EXPECT_TRUE(d.bytes.p == buf); /* a view, nothing copied */
    EXPECT_EQ_INT(tr_canal_value(col("bn"), (const uint8_t *)"\x00\x01\x02\x03", 4, &d, &why), 0);
    EXPECT_EQ_INT(tr_canal_value(col("bn"), (const uint8_t *)"\x00\x01\x02\x03\x04", 5, &d, &why),
                  TR_ESCHEMA);
    EXPECT_EQ_INT(tr_canal_value(col("bl"), (const uint8_t *)"\x00", 1, &d, &why), 0);
}

TR_TEST(value_enum_set_bit_json)
{
    EXPECT_UINT_VALUE("e", "2", 2);
    EXPECT_UINT_VALUE("e", "0", 0); /* the '' of an invalid value */
    EXPECT_UINT_VALUE("e", "3", 3);
    EXPECT_BAD_VALUE("e", "4", TR_ESCHEMA, "ENUM, SET or BIT value out of the column's range");
    EXPECT_BAD_VALUE("e", "b", TR_ESCHEMA, "not an unsigned integer");
    EXPECT_UINT_VALUE("s", "5", 5); /* x,z */
    EXPECT_UINT_VALUE("s", "7", 7);
    EXPECT_UINT_VALUE("s", "0", 0);
    EXPECT_BAD_VALUE("s", "8", TR_ESCHEMA, "out of the column's range");
    EXPECT_UINT_VALUE("b", "131071", 131071); /* BIT(17) */
    EXPECT_BAD_VALUE("b", "131072", TR_ESCHEMA, "out of the column's range");
    EXPECT_UINT_VALUE("b64", "18446744073709551615", UINT64_MAX);

    /* JSON: TiDB's text form, passed on as text once checked. */
    tr_datum_t d;
    const char *why;
    const char *doc = "{\"a\": [1, 2.5, {\"b\": \"c\\\"d\"}], \"k\": null, \"t\": true}";
    EXPECT_EQ_INT(value("j", doc, &d, &why), 0);
    EXPECT_EQ_INT(d.kind, TR_DATUM_TEXT);
    EXPECT_EQ_MEM(d.bytes.p, d.bytes.len, doc, strlen(doc));
    EXPECT_EQ_INT(value("j", "\"just a string\"", &d, &why), 0);
    EXPECT_EQ_INT(value("j", "-1.5e10", &d, &why), 0);
    EXPECT_EQ_INT(value("j", "null", &d, &why), 0);
    EXPECT_BAD_VALUE("j", "{\"a\":", TR_ESCHEMA, "not one JSON document");
    EXPECT_BAD_VALUE("j", "[1] [2]", TR_ESCHEMA, "not one JSON document");
    EXPECT_BAD_VALUE("j", "", TR_ESCHEMA, "not one JSON document");
    char deep[256];
    memset(deep, '[', 101);
    memset(deep + 101, ']', 101);
    deep[202] = '\0';
    EXPECT_BAD_VALUE("j", deep, TR_ESCHEMA, "not one JSON document");
    deep[100] = '\0';
    memset(deep + 50, ']', 50);
    EXPECT_EQ_INT(value("j", deep, &d, &why), 0);

    /* TiDB's VECTOR has no MySQL binlog type. */
    EXPECT_BAD_VALUE("vec", "[1,2,3]", TR_EUNSUPPORTED, "unsupported column type");
}

TR_TEST(value_of_a_whole_row)
{
    /* One INSERT carrying a value of every type, as TiCDC writes it, walked the way the
     * writer will: decode, binary columns to bytes, tr_canal_value by column name. */
    tr_canal_msg_t m;
    if (!parse_ok(
            J("{'id':0,'database':'test','table':'types','pkNames':['id'],'isDdl':false,"
              "'type':'INSERT','es':1700000005000,'ts':1700000005678,'sql':'','sqlType':{'id':-5},"
              "'mysqlType':{'id':'bigint unsigned'},'old':null,'data':[{'id':'1','i8':'-1',"
              "'u8':'200','i16':'-300','u16':'60000','i24':'-70000','u24':'16000000',"
              "'i32':'-2000000000','u32':'4000000000','i64':'-9000000000000000000',"
              "'f':'1.5','d':'-0.25','dec':'3.14','dec65':'0.000000000000000000000000000001',"
              "'dec0':'7','dt':'1999-12-31','dtm':'1999-12-31 23:59:59',"
              "'dtm6':'2000-01-01 00:00:00.000001','ts3':'1970-01-01 00:00:01.000',"
              "'tm':'-01:02:03','tm2':'100:00:00.50','y':'1999','vc':'\\u00e9t\\u00e9',"
              "'ch':'a','txt':'line1\\nline2','ttxt':'','vb':'\\u0000\xc3\xbf','bl':null,"
              "'bn':'ab\\u0000\\u0000','e':'1','s':'6','b':'1','j':'[1, \\'x\\']',"
              "'l1':'\xc3\xa9','vec':null,'b64':'0'}],'_tidb':{'commitTs':445566778899001111}}"),
            &m)) {
        return;
    }
    tr_canal_obj_iter_t it = tr_canal_obj_iter(m.data);
    tr_canal_str_t k;
    tr_canal_val_t v;
    const char *why = NULL;
    int rc;
    int n = 0;
    int nulls = 0;
    while ((rc = tr_canal_obj_next(&it, &k, &v, &why)) > 0) {
        n++;
        char name[32];
        ssize_t nn = tr_canal_str_decode(&k, (uint8_t *)name, &why);
        EXPECT_TRUE(nn > 0 && (size_t)nn < sizeof(name));
        name[nn < 0 ? 0 : nn] = '\0';
        const tr_tidb_column_t *c = col(name);
        if (v.kind == TR_CANAL_VAL_NULL) {
            nulls++;
            continue;
        }
        EXPECT_EQ_INT(v.kind, TR_CANAL_VAL_STRING);
        uint8_t buf[256];
        ssize_t tn = tr_canal_str_decode(&v.str, buf, &why);
        EXPECT_TRUE(tn >= 0);
        if (tn < 0) {
            continue;
        }
        if (strcmp(c->charset, "binary") == 0 &&
            (c->tp == TR_TIDB_TP_VARCHAR || c->tp == TR_TIDB_TP_STRING ||
             c->tp == TR_TIDB_TP_BLOB)) {
            tn = tr_canal_latin1_bytes(buf, (size_t)tn, buf, &why);
            EXPECT_TRUE(tn >= 0);
        }
        tr_datum_t d;
        rc = tr_canal_value(c, buf, (size_t)tn, &d, &why);
        if (rc != 0) {
            TR_FAIL_AT("column %s: %s", name, why);
        }
        if (strcmp(name, "vb") == 0) {
            EXPECT_EQ_MEM(d.bytes.p, d.bytes.len, "\x00\xff", 2);
        } else if (strcmp(name, "bn") == 0) {
            EXPECT_EQ_MEM(d.bytes.p, d.bytes.len, "ab\x00\x00", 4);
        } else if (strcmp(name, "j") == 0) {
            EXPECT_EQ_MEM(d.bytes.p, d.bytes.len, "[1, \"x\"]", 8);
        } else if (strcmp(name, "vc") == 0) {
            EXPECT_EQ_MEM(d.bytes.p, d.bytes.len, "\xc3\xa9t\xc3\xa9", 5);
        } else if (strcmp(name, "tm2") == 0) {
            EXPECT_EQ_INT(d.i, 360000500000000ll);
        } else if (strcmp(name, "u32") == 0) {
            EXPECT_EQ_U64(d.u, 4000000000u);
        }
    }
    EXPECT_EQ_INT(rc, 0);
    EXPECT_EQ_INT(n, 36);
    EXPECT_EQ_INT(nulls, 2);
}

TR_TEST(type_matches)
{
    static const struct {
        const char *col;
        const char *mysql_type;
        bool want;
    } cases[] = {
        {"id", "bigint unsigned", true},
        {"id", "bigint", false},
        {"id", "bigint(20) unsigned", true}, /* content-compatible: the full type */
        {"i8", "tinyint", true},
        {"i8", "tinyint(4)", true},
        {"i8", "TINYINT", true},
        {"i8", "smallint", false},
        {"i8", "tinyint unsigned", false},
        {"u8", "tinyint unsigned", true},
        {"u32", "int unsigned zerofill", true},
        {"u32", "int(10) unsigned zerofill", true},
        {"i24", "mediumint", true},
        {"f", "float", true},
        {"d", "double", true},
        {"d", "float", false},
        {"dec", "decimal", true},
        {"dec", "decimal(10,2)", true},
        {"dec0", "decimal unsigned", true},
        {"dec0", "decimal", false},
        {"dt", "date", true},
        {"dtm6", "datetime", true},
        {"dtm6", "datetime(6)", true},
        {"ts3", "timestamp", true},
        {"tm2", "time", true},
        {"tm2", "timestamp", false},
        {"y", "year", true}, /* YEAR is unsigned in TiDB but has no flag text */
        {"vc", "varchar", true},
        {"vc", "varchar(8)", true},
        {"vc", "varbinary", false},
        {"ch", "char", true},
        {"ch", "binary", false},
        {"txt", "text", true},
        {"txt", "blob", false},
        {"ttxt", "tinytext", true},
        {"vb", "varbinary", true},
        {"vb", "varchar", false},
        {"bl", "blob", true},
        {"bn", "binary", true},
        {"bn", "binary(4)", true},
        {"e", "enum", true},
        {"e", "enum('a','b','c')", true},
        {"e", "enum('a)','b unsigned')", true},
        {"s", "set", true},
        {"s", "set('x','y','z')", true},
        {"b", "bit", true},
        {"b", "bit(17)", true},
        {"j", "json", true},
        {"j", "text", false},
        {"l1", "varchar", true},
        {"vec", "vector", false},
        {"i32", "", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool got = tr_canal_type_matches(col(cases[i].col), (const uint8_t *)cases[i].mysql_type,
                                         strlen(cases[i].mysql_type));
        if (got != cases[i].want) {
            TR_FAIL_AT("%s vs \"%s\": got %d", cases[i].col, cases[i].mysql_type, got);
        }
    }
}

TR_TEST_MAIN()
