/* Unit tests for relay/config.c: every file in conf/ parses, and bad input is
 * reported with file, line and key. */
#include "tr_test.h"

#include "common/err.h"
#include "relay/config.h"

TR_TEST(conf_files_parse)
{
    const char *files[] = {"conf/tirelay.cnf", "conf/tirelay-minimal.cnf"};
    for (size_t i = 0; i < 2; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", TR_SOURCE_DIR, files[i]);
        tr_config_t c;
        char err[512] = "";
        int rc = tr_config_load(&c, path, err, sizeof(err));
        if (rc != 0) {
            TR_FAIL_AT("%s: %s", files[i], err);
        }
        EXPECT_EQ_INT(c.n_pumps, 1);
        EXPECT_EQ_INT(c.pumps[0].port, 8250);
        EXPECT_EQ_INT(c.listen.port, 3307);
        EXPECT_TRUE(tr_config_user(&c, "repl") != NULL);
    }
}

static int parse(const char *text, tr_config_t *c, char *err, size_t n)
{
    tr_config_defaults(c);
    return tr_config_parse(c, text, "t.cnf", err, n);
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

TR_TEST(uuid_and_addr)
{
    uint8_t u[16];
    EXPECT_EQ_INT(tr_uuid_parse("00000000-0000-0000-0000-00000000000g", u), TR_EMALFORMED);
    EXPECT_EQ_INT(tr_uuid_parse("0000000000000000000000000000000000ab", u), TR_EMALFORMED);
    tr_addr_t a;
    EXPECT_EQ_INT(tr_addr_parse(&a, "[::1]:3307"), 0);
    EXPECT_EQ_STR(a.host, "::1");
    EXPECT_EQ_INT(tr_addr_parse(&a, "h:70000"), TR_ECONFIG);
    EXPECT_EQ_INT(tr_addr_parse(&a, ""), 0);
    EXPECT_EQ_STR(a.host, "");
}

TR_TEST_MAIN()
