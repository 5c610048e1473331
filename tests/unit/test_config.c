/* Unit tests for common/config.c: every file in conf/ parses, and bad input is
 * reported with file, line and key. */
#include "tr_test.h"

#include <dirent.h>
#include <stdbool.h>

#include "common/err.h"
#include "common/config.h"
#include "relay/filter.h"

/* Every *.cnf in conf/ (listed at test time, so a new example is covered
 * without touching this test) parses without errors. */
TR_TEST(conf_files_parse)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/conf", TR_SOURCE_DIR);
    DIR *d = opendir(dir);
    if (d == NULL) {
        TR_FAIL_AT("cannot open %s", dir);
        return;
    }
    int n_files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t nl = strlen(e->d_name);
        if (nl < 5 || strcmp(e->d_name + nl - 4, ".cnf") != 0) {
            continue;
        }
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        tr_config_t c;
        char err[4096] = "";
        int rc = tr_config_load(&c, path, &tr_filter_config_checks, err, sizeof(err));
        if (rc != 0) {
            TR_FAIL_AT("%s: %s", e->d_name, err);
        }
        EXPECT_TRUE(c.n_pumps >= 1 || c.pd_urls[0] != '\0');
        EXPECT_TRUE(c.n_users >= 1);
        n_files++;
    }
    (void)closedir(d);
    EXPECT_TRUE(n_files >= 2); /* tirelay.cnf and tirelay-minimal.cnf at least */
}

/* Every key the parser knows is documented in conf/tirelay.cnf, under its
 * section, as "key = value" or commented out as "# key = value". */
TR_TEST(every_key_documented)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/conf/tirelay.cnf", TR_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        TR_FAIL_AT("cannot open %s", path);
        return;
    }
    enum { MAX_DOC = 256 };
    static char doc[MAX_DOC][2][64];
    size_t n_doc = 0;
    char section[64] = "";
    char line[1024];
    while (fgets(line, sizeof(line), f) != NULL) {
        char *l = line;
        if (*l == '[') {
            char *close = strchr(l, ']');
            if (close != NULL) {
                *close = '\0';
                snprintf(section, sizeof(section), "%.63s", l + 1);
            }
            continue;
        }
        if (*l == '#') {
            l++;
            while (*l == ' ') {
                l++;
            }
        }
        size_t kl = strspn(l, "abcdefghijklmnopqrstuvwxyz0123456789-_");
        char *after = l + kl;
        while (*after == ' ') {
            after++;
        }
        if (kl == 0 || kl >= 64 || *l < 'a' || *l > 'z' || *after != '=' || n_doc == MAX_DOC) {
            continue;
        }
        snprintf(doc[n_doc][0], 64, "%s", section);
        snprintf(doc[n_doc][1], 64, "%.*s", (int)kl, l);
        n_doc++;
    }
    (void)fclose(f);
    size_t n = 0;
    const tr_config_key_t *keys = tr_config_keys(&n);
    EXPECT_TRUE(n > 20);
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t j = 0; j < n_doc && !found; j++) {
            found = strcmp(doc[j][0], keys[i].section) == 0 && strcmp(doc[j][1], keys[i].key) == 0;
        }
        if (!found) {
            TR_FAIL_AT("[%s] %s is not documented in conf/tirelay.cnf", keys[i].section,
                       keys[i].key);
        }
    }
    /* And every documented key is one the parser knows (or a [users] entry). */
    for (size_t j = 0; j < n_doc; j++) {
        bool found = strcmp(doc[j][0], "users") == 0;
        for (size_t i = 0; i < n && !found; i++) {
            found = strcmp(doc[j][0], keys[i].section) == 0 && strcmp(doc[j][1], keys[i].key) == 0;
        }
        if (!found) {
            TR_FAIL_AT("conf/tirelay.cnf documents [%s] %s, which the parser does not know",
                       doc[j][0], doc[j][1]);
        }
    }
}

static int parse(const char *text, tr_config_t *c, char *err, size_t n)
{
    tr_config_defaults(c);
    return tr_config_parse(c, text, "t.cnf", &tr_filter_config_checks, err, n);
}

TR_TEST(ddl_unsupported_policy)
{
#define BASE "[users]\nrepl = pw\n[upstream]\ntidb = r:@127.0.0.1:4000\npumps = a:1\n"
    tr_config_t c;
    char err[512] = "";
    EXPECT_EQ_INT(parse(BASE, &c, err, sizeof(err)), 0);
    EXPECT_EQ_INT(c.ddl_unsupported, TR_DDL_POLICY_STOP);
    static const char *const names[] = {"stop", "skip", "pass"};
    for (int i = 0; i < 3; i++) {
        char text[160];
        snprintf(text, sizeof(text), BASE "ddl-unsupported = %s\n", names[i]);
        EXPECT_EQ_INT(parse(text, &c, err, sizeof(err)), 0);
        EXPECT_EQ_INT(c.ddl_unsupported, i);
    }
    EXPECT_TRUE(parse(BASE "ddl-unsupported = ignore\n", &c, err, sizeof(err)) != 0);
    EXPECT_TRUE(strstr(err, "ddl-unsupported") != NULL && strstr(err, "stop, skip or pass") != NULL);
#undef BASE
}

TR_TEST(values_and_defaults)
{
    tr_config_t c;
    char err[512] = "";
    int rc = parse("[server]\nlisten = 127.0.0.1:4406\nserver-id = 77\n"
                   "server-uuid = 3E11FA47-71CA-11E1-9E33-C80AA9429562\n"
                   "[users]\nrepl = pw\n[upstream]\npumps = a:1, b:2\n"
                   "tidb = root:secret@127.0.0.1:4000\ncluster-id = 6789\n"
                   "[store]\nmax-binlog-size = 256K\nsync = none\n",
                   &c, err, sizeof(err));
    EXPECT_EQ_INT(rc, 0);
    EXPECT_EQ_INT(c.listen.port, 4406);
    EXPECT_EQ_INT(c.server_id, 77);
    EXPECT_EQ_STR(c.server_uuid, "3e11fa47-71ca-11e1-9e33-c80aa9429562");
    EXPECT_EQ_INT(c.server_uuid_bin[0], 0x3e);
    EXPECT_EQ_INT(c.n_pumps, 2);
    EXPECT_EQ_STR(c.pumps[1].host, "b");
    EXPECT_EQ_STR(c.tidb_user, "root");
    EXPECT_EQ_STR(c.tidb_password, "secret");
    EXPECT_EQ_INT(c.tidb.port, 4000);
    EXPECT_EQ_U64(c.cluster_id, 6789);
    EXPECT_EQ_U64(c.max_binlog_size, 256 * 1024);
    EXPECT_EQ_INT(c.sync, 1);
    EXPECT_EQ_STR(c.binlog_basename, "tirelay-bin");
    const tr_user_t *u = tr_config_user(&c, "repl");
    EXPECT_TRUE(u != NULL);
    /* SHA1(SHA1("pw")), as MySQL PASSWORD('pw') = *D821809F... */
    uint8_t want[20];
    tr_test_unhex("d8 21 80 9f 68 1a 40 a6 e3 79 b5 0d 04 63 ef ae 20 bd d1 22", want, 20);
    if (u != NULL) {
        EXPECT_EQ_MEM(u->native_hash, 20, want, 20);
    }
}

TR_TEST(admin_users)
{
    tr_config_t c;
    char err[512] = "";
    /* Default: nobody is an admin. */
    EXPECT_EQ_INT(parse("[users]\nrepl = pw\nops = x\n[upstream]\npumps = a:1\n"
                        "tidb = root:@h:1\n",
                        &c, err, sizeof(err)),
                  0);
    EXPECT_TRUE(!tr_config_user(&c, "repl")->is_admin);
    EXPECT_TRUE(!tr_config_user(&c, "ops")->is_admin);
    /* Marked before [users] is read; spaces and empty items are fine. */
    EXPECT_EQ_INT(parse("[server]\nadmin-users = ops , ,root2\n[users]\nrepl = pw\nops = x\n"
                        "root2 = y\n[upstream]\npumps = a:1\ntidb = root:@h:1\n",
                        &c, err, sizeof(err)),
                  0);
    EXPECT_TRUE(!tr_config_user(&c, "repl")->is_admin);
    EXPECT_TRUE(tr_config_user(&c, "ops")->is_admin);
    EXPECT_TRUE(tr_config_user(&c, "root2")->is_admin);
    /* A name that is no account is an error on its line; a prefix is not a match. */
    EXPECT_EQ_INT(parse("[server]\nadmin-users = op\n[users]\nops = x\n[upstream]\n"
                        "pumps = a:1\ntidb = root:@h:1\n",
                        &c, err, sizeof(err)),
                  TR_ECONFIG);
    EXPECT_TRUE(strstr(err, "t.cnf:2: [server] admin-users: 'op' is not a [users] account") !=
                NULL);
}

TR_TEST(errors_name_line_and_key)
{
    tr_config_t c;
    char err[512] = "";
    EXPECT_EQ_INT(parse("[server]\nlisten = 127.0.0.1:3307\nbogus = 1\n", &c, err, sizeof(err)),
                  TR_ECONFIG);
    EXPECT_TRUE(strstr(err, "t.cnf:3:") != NULL);
    EXPECT_TRUE(strstr(err, "[server] bogus") != NULL);

    EXPECT_EQ_INT(parse("[store]\nmax-binlog-size = 12X\n", &c, err, sizeof(err)), TR_ECONFIG);
    EXPECT_TRUE(strstr(err, "t.cnf:2: [store] max-binlog-size") != NULL);

    EXPECT_EQ_INT(parse("[nope]\nx = 1\n", &c, err, sizeof(err)), TR_ECONFIG);
    EXPECT_TRUE(strstr(err, "unknown section") != NULL);

    EXPECT_EQ_INT(parse("[server]\nserver-id = 0\n", &c, err, sizeof(err)), TR_ECONFIG);
    EXPECT_EQ_INT(parse("[server]\nserver-uuid = xyz\n", &c, err, sizeof(err)), TR_ECONFIG);
    EXPECT_EQ_INT(parse("[upstream]\npumps = nohost\n", &c, err, sizeof(err)), TR_ECONFIG);
    /* The password in a bad tidb DSN is never echoed. */
    EXPECT_EQ_INT(parse("[upstream]\ntidb = root:topsecret@nowhere\n", &c, err, sizeof(err)),
                  TR_ECONFIG);
    EXPECT_TRUE(strstr(err, "topsecret") == NULL);
    /* Missing pumps is reported by validation. */
    EXPECT_EQ_INT(parse("[users]\nrepl = x\n[upstream]\ntidb = r:@h:1\n", &c, err, sizeof(err)),
                  TR_ECONFIG);
    EXPECT_TRUE(strstr(err, "pumps") != NULL);
}

/* Every error of a file is reported, each with its line and key, and the
 * accepted values. */
TR_TEST(every_error_reported)
{
    tr_config_t c;
    char err[4096] = "";
    const char *text = "[server]\n"                    /* 1 */
                       "server-id = 0\n"               /* 2: range */
                       "bogus = 1\n"                   /* 3: unknown key */
                       "listen 127.0.0.1\n"            /* 4: syntax */
                       "[stor]\n"                      /* 5: unknown section */
                       "dir = x\n"                     /* 6: (not re-reported) */
                       "[store]\n"                     /* 7 */
                       "sync = sometimes\n"            /* 8: accepted values */
                       "max-binlog-total-size = 12\n"  /* 9: range */
                       "[users]\nrepl = pw\n"         /* 10, 11 */
                       "[upstream]\npumps = a:1\n";   /* 12, 13: no tidb (validation) */
    EXPECT_EQ_INT(parse(text, &c, err, sizeof(err)), TR_ECONFIG);
    EXPECT_TRUE(strstr(err, "t.cnf:2: [server] server-id: expected an integer 1..4294967295") !=
                NULL);
    EXPECT_TRUE(strstr(err, "t.cnf:3: [server] bogus: unknown key (known: listen, ") != NULL);
    EXPECT_TRUE(strstr(err, "t.cnf:4: syntax error") != NULL);
    EXPECT_TRUE(strstr(err, "t.cnf:5: [stor]: unknown section") != NULL);
    EXPECT_TRUE(strstr(err, "t.cnf:6:") == NULL);
    EXPECT_TRUE(strstr(err, "t.cnf:8: [store] sync: expected commit or none, got 'sometimes'") !=
                NULL);
    EXPECT_TRUE(strstr(err, "t.cnf:9: [store] max-binlog-total-size") != NULL);
    EXPECT_TRUE(strstr(err, "t.cnf: [upstream] tidb: set tidb") != NULL);
    int lines = 1;
    for (const char *q = err; *q; q++) {
        lines += *q == '\n';
    }
    EXPECT_EQ_INT(lines, 7);

    /* A key before any section, and a line too long for inih's buffer. */
    char longline[400];
    memset(longline, 'x', sizeof(longline));
    memcpy(longline, "\nk = ", 5);
    longline[sizeof(longline) - 1] = '\0';
    char text2[600];
    snprintf(text2, sizeof(text2), "early = 1\n[server]%s\n", longline);
    EXPECT_EQ_INT(parse(text2, &c, err, sizeof(err)), TR_ECONFIG);
    EXPECT_TRUE(strstr(err, "t.cnf:1: early: key outside any [section]") != NULL);
    EXPECT_TRUE(strstr(err, "t.cnf:3: line longer than") != NULL);
}

TR_TEST(uuid_and_addr)
{
    /* server-uuid takes the dashed form only (tests/unit/test_uuid.c has the parser's tests). */
    static const char *const bad_uuids[] = {"00000000-0000-0000-0000-00000000000g",
                                            "0000000000000000000000000000000000ab",
                                            "3e11fa4771ca11e19e33c80aa9429562"};
    for (size_t i = 0; i < sizeof(bad_uuids) / sizeof(bad_uuids[0]); i++) {
        tr_config_t uc;
        char err[256] = "";
        char text[128];
        snprintf(text, sizeof(text), "[server]\nserver-uuid = %s\n", bad_uuids[i]);
        EXPECT_EQ_INT(parse(text, &uc, err, sizeof(err)), TR_ECONFIG);
        EXPECT_TRUE(strstr(err, "[server] server-uuid") != NULL);
    }
    tr_addr_t a;
    EXPECT_EQ_INT(tr_addr_parse(&a, "[::1]:3307"), 0);
    EXPECT_EQ_STR(a.host, "::1");
    EXPECT_EQ_INT(tr_addr_parse(&a, "h:70000"), TR_ECONFIG);
    EXPECT_EQ_INT(tr_addr_parse(&a, ""), 0);
    EXPECT_EQ_STR(a.host, "");
    /* No host: loopback, never every interface. */
    EXPECT_EQ_INT(tr_addr_parse(&a, ":3307"), 0);
    EXPECT_EQ_STR(a.host, "127.0.0.1");
    EXPECT_EQ_INT(a.port, 3307);
    EXPECT_EQ_INT(tr_addr_parse(&a, " 4406"), 0);
    EXPECT_EQ_STR(a.host, "127.0.0.1");
    EXPECT_EQ_INT(a.port, 4406);
    EXPECT_EQ_INT(tr_addr_parse(&a, "[]:3307"), 0);
    EXPECT_EQ_STR(a.host, "127.0.0.1");
    EXPECT_EQ_INT(tr_addr_parse(&a, "0.0.0.0:3307"), 0);
    EXPECT_EQ_STR(a.host, "0.0.0.0");
    EXPECT_EQ_INT(tr_addr_parse(&a, "host"), TR_ECONFIG);
    EXPECT_EQ_INT(tr_addr_parse(&a, "host:"), TR_ECONFIG);
    EXPECT_EQ_INT(tr_addr_parse(&a, ":"), TR_ECONFIG);
    /* Defaults: both listeners on loopback (or off). */
    tr_config_t c;
    tr_config_defaults(&c);
    EXPECT_EQ_STR(c.listen.host, "127.0.0.1");
    EXPECT_EQ_STR(c.mariadb_listen.host, "");
    EXPECT_EQ_STR(c.metrics_listen.host, "");
}

/* The TiCDC inputs: exactly one input, each with what it needs, and [kafka] properties kept
 * as written except the ones tirelay owns. */
TR_TEST(ticdc_inputs)
{
#define HEAD "[users]\nrepl = pw\n[upstream]\ntidb = r:@127.0.0.1:4000\n"
    tr_config_t c;
    char err[1024] = "";
    EXPECT_EQ_INT(parse(HEAD "ticdc-kafka = k1:9092, k2.example:9093\nticdc-topic = tidb-cdc\n"
                             "[kafka]\nsecurity.protocol = SASL_SSL\nsasl.password = s3cret\n",
                        &c, err, sizeof(err)),
                  0);
    EXPECT_EQ_INT(tr_config_input(&c), TR_INPUT_TICDC_KAFKA);
    EXPECT_EQ_STR(c.ticdc_kafka, "k1:9092, k2.example:9093");
    EXPECT_EQ_STR(c.ticdc_topic, "tidb-cdc");
    EXPECT_EQ_INT(c.n_kafka, 2);
    EXPECT_EQ_STR(c.kafka[1].key, "sasl.password");
    EXPECT_EQ_STR(c.kafka[1].value, "s3cret");

    EXPECT_EQ_INT(parse(HEAD "ticdc-storage = file:///data/sink\n", &c, err, sizeof(err)), 0);
    EXPECT_EQ_INT(tr_config_input(&c), TR_INPUT_TICDC_STORAGE);
    EXPECT_EQ_STR(c.ticdc_storage, "/data/sink");
    EXPECT_EQ_INT(parse(HEAD "ticdc-storage = sink-dir\n", &c, err, sizeof(err)), 0);
    EXPECT_EQ_STR(c.ticdc_storage, "sink-dir");
    EXPECT_EQ_INT(parse(HEAD "pumps = a:1\n", &c, err, sizeof(err)), 0);
    EXPECT_EQ_INT(tr_config_input(&c), TR_INPUT_PUMPS);

    /* Conflicts and missing keys, each named. */
    static const struct {
        const char *text;
        const char *want;
    } bad[] = {
        {HEAD, "set one input"},
        {HEAD "pumps = a:1\nticdc-kafka = k:1\nticdc-topic = t\n",
         "not pumps/pd-urls and ticdc-kafka"},
        {HEAD "pd-urls = http://pd:2379\nticdc-storage = /d\n",
         "not pumps/pd-urls and ticdc-storage"},
        {HEAD "ticdc-kafka = k:1\nticdc-topic = t\nticdc-storage = /d\n",
         "not ticdc-kafka and ticdc-storage"},
        {HEAD "ticdc-kafka = k:1\n", "ticdc-kafka needs the changefeed's topic"},
        {HEAD "ticdc-storage = /d\nticdc-topic = t\n", "ticdc-topic: only used with ticdc-kafka"},
        {HEAD "pumps = a:1\n[kafka]\nclient.id = x\n", "only used with [upstream] ticdc-kafka"},
        {HEAD "ticdc-storage = /d\nnotify-listen = 127.0.0.1:8249\n", "only used with Pumps"},
        {HEAD "ticdc-kafka = k\nticdc-topic = t\n", "ticdc-kafka: expected a comma-separated"},
        {HEAD "ticdc-kafka = k:1\nticdc-topic = a/b\n", "ticdc-topic: expected a Kafka topic"},
        {HEAD "ticdc-storage = s3://bucket/prefix\n", "mount or sync a bucket"},
        {HEAD "ticdc-kafka = k:1\nticdc-topic = t\n[kafka]\nbootstrap.servers = x:1\n",
         "[kafka] bootstrap.servers: set by tirelay itself (brokers"},
        {HEAD "ticdc-kafka = k:1\nticdc-topic = t\n[kafka]\nenable.auto.commit = true\n",
         "offsets are kept with the binlog index"},
        {HEAD "ticdc-kafka = k:1\nticdc-topic = t\n[kafka]\nclient.id = a\nclient.id = b\n",
         "set twice"},
    };
    for (size_t i = 0; i < TR_ARRAY_LEN(bad); i++) {
        err[0] = '\0';
        EXPECT_EQ_INT(parse(bad[i].text, &c, err, sizeof(err)), TR_ECONFIG);
        if (strstr(err, bad[i].want) == NULL) {
            TR_FAIL_AT("case %zu: want '%s' in: %s", i, bad[i].want, err);
        }
    }
    /* A [kafka] value is a secret: never in a message. */
    EXPECT_EQ_INT(parse(HEAD "pumps = a:1\n[kafka]\nsasl.password = hunter2\n", &c, err,
                        sizeof(err)),
                  TR_ECONFIG);
    EXPECT_TRUE(strstr(err, "hunter2") == NULL);
#undef HEAD
}

TR_TEST_MAIN()
