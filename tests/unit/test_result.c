/* Unit tests for protocol/result (OK/ERR/EOF, column definitions, text
 * result sets) and protocol/command (COM_* decode). Golden bytes come from a
 * real MariaDB 10.11.19 server and mariadb-binlog (tests/vectors/mysql/). */
#include "tr_test.h"

#include "common/err.h"
#include "protocol/command.h"
#include "protocol/result.h"
#include "protocol/wire.h"

#include "vec_packets.inc"

#define CLI_VEC "tests/vectors/mysql/mariadb-10.11-cli-session.txt"
#define MBL_VEC "tests/vectors/mysql/mariadb-binlog-10.11-dump.txt"

TR_TEST(err_1193_matches_real_server)
{
    vec_packet_t pk[64];
    size_t n = vec_read_packets(CLI_VEC, pk, 64);
    const vec_packet_t *real = NULL;
    for (size_t i = 0; i < n; i++) {
        if (pk[i].len > 4 && pk[i].bytes[4] == 0xFF) {
            real = &pk[i];
        }
    }
    EXPECT_TRUE(real != NULL);
    if (real == NULL) {
        return;
    }
    const char *msg = "Unknown system variable 'nope'";
    tr_buf_t b;
    tr_buf_init(&b, 0);
    uint8_t seq = 1;
    size_t h = tr_wire_begin(&b);
    tr_res_put_err(&b, TR_ER_UNKNOWN_SYSVAR, tr_res_sqlstate(TR_ER_UNKNOWN_SYSVAR), msg,
                   strlen(msg));
    tr_wire_end(&b, h, &seq);
    EXPECT_EQ_MEM(b.data, b.len, real->bytes, real->len);
    tr_res_err_t e;
    const char *why = NULL;
    EXPECT_TRUE(tr_res_err_decode(b.data + 4, b.len - 4, &e, &why) > 0);
    EXPECT_EQ_INT(e.code, 1193);
    EXPECT_EQ_STR(e.sqlstate, "HY000");
    EXPECT_EQ_MEM(e.msg.p, e.msg.len, msg, strlen(msg));
    for (size_t k = 0; k < b.len - 4; k++) {
        if (k < 3) {
            EXPECT_EQ_INT(tr_res_err_decode(b.data + 4, k, &e, &why), TR_EMALFORMED);
        } else {
            (void)tr_res_err_decode(b.data + 4, k, &e, &why);
        }
    }
    tr_buf_cleanup(&b);
    vec_free_packets(pk, n);
}

TR_TEST(ok_and_eof_match_real_server)
{
    /* OK after auth: 00 00 00 02 00 00 00 (seq 2); EOF: fe 00 00 02 00. */
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_res_put_ok(&b, 0, 0, 0x0002, 0);
    const uint8_t ok[] = {0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00};
    EXPECT_EQ_MEM(b.data, b.len, ok, sizeof(ok));
    tr_res_ok_t o;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_res_ok_decode(b.data, b.len, &o, &why), (ssize_t)b.len);
    EXPECT_EQ_INT(o.status, 2);
    for (size_t k = 0; k < b.len; k++) {
        EXPECT_EQ_INT(tr_res_ok_decode(b.data, k, &o, &why), TR_EMALFORMED);
    }
    tr_buf_reset(&b);
    tr_res_put_eof(&b, 0, 0x0002);
    const uint8_t eof[] = {0xFE, 0x00, 0x00, 0x02, 0x00};
    EXPECT_EQ_MEM(b.data, b.len, eof, sizeof(eof));
    EXPECT_TRUE(tr_res_is_eof(b.data, b.len));
    EXPECT_TRUE(!tr_res_is_eof(ok, sizeof(ok)));
    tr_buf_cleanup(&b);
}

TR_TEST(result_set_layout)
{
    /* SHOW VARIABLES LIKE 'SERVER_ID' from tirelay: 2 string columns, 1 row. */
    tr_buf_t b;
    tr_buf_init(&b, 0);
    uint8_t seq = 1;
    tr_res_col_t cols[2] = {tr_res_col_str("Variable_name"), tr_res_col_str("Value")};
    tr_res_writer_t w;
    tr_res_begin(&w, &b, &seq, false, cols, 2);
    tr_res_row_begin(&w);
    tr_res_cell_str(&w, "server_id");
    tr_res_cell_u64(&w, 1);
    tr_res_row_end(&w);
    tr_res_end(&w, 0x0002);
    EXPECT_EQ_INT(seq, 7);
    /* Walk the packets: count, 2 defs, EOF, row, EOF. */
    size_t off = 0;
    int npk = 0;
    const uint8_t *row = NULL;
    size_t row_len = 0;
    while (off < b.len) {
        tr_wire_packet_t p;
        const char *why = NULL;
        ssize_t r = tr_wire_packet_decode(b.data + off, b.len - off, 0, &p, &why);
        EXPECT_TRUE(r > 0);
        if (r <= 0) {
            break;
        }
        EXPECT_EQ_INT(p.first_seq, npk + 1);
        if (npk == 4) {
            row = p.payload.p;
            row_len = p.payload.len;
        }
        off += (size_t)r;
        npk++;
    }
    EXPECT_EQ_INT(npk, 6);
    /* Row bytes equal the real server's row: 09 "server_id" 01 "1". */
    const uint8_t want_row[] = {0x09, 's', 'e', 'r', 'v', 'e', 'r', '_', 'i', 'd', 0x01, '1'};
    EXPECT_EQ_MEM(row, row_len, want_row, sizeof(want_row));
    /* Column definition of a number: LONGLONG, UNSIGNED|BINARY, charset 63. */
    tr_buf_reset(&b);
    tr_res_col_t c = tr_res_col_num("@@server_id");
    tr_res_put_coldef(&b, &c);
    uint8_t want[64];
    size_t wn = tr_test_unhex("03646566 00 00 00 0b4040736572766572 5f6964 0b4040736572766572 5f6964"
                              "0c 3f00 14000000 08 a000 00 0000",
                              want, sizeof(want));
    EXPECT_EQ_MEM(b.data, b.len, want, wn);
    /* DEPRECATE_EOF form: no EOF after the definitions, 0xFE OK at the end. */
    tr_buf_reset(&b);
    seq = 1;
    tr_res_begin(&w, &b, &seq, true, cols, 1);
    tr_res_end(&w, 2);
    EXPECT_EQ_INT(seq, 4);
    EXPECT_EQ_INT(b.data[b.len - 7], 0xFE);
    tr_buf_cleanup(&b);
}

TR_TEST(command_decode_real_binlog_dump)
{
    vec_packet_t pk[64];
    size_t n = vec_read_packets(MBL_VEC, pk, 64);
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(pk[i].dir, "C>S") != 0 || pk[i].bytes[3] != 0) {
            continue;
        }
        const uint8_t *p = pk[i].bytes + 4;
        size_t len = pk[i].len - 4;
        tr_cmd_t c;
        const char *why = NULL;
        EXPECT_EQ_INT(tr_cmd_decode(p, len, &c, &why), (ssize_t)len);
        if (c.com == TR_COM_BINLOG_DUMP) {
            seen++;
            EXPECT_EQ_U64(c.u.dump.pos, 4);
            EXPECT_EQ_INT(c.u.dump.flags, TR_DUMP_NON_BLOCK | TR_DUMP_FLAG_2);
            EXPECT_EQ_INT(c.u.dump.server_id, 0);
            EXPECT_EQ_MEM(c.u.dump.file.p, c.u.dump.file.len, "mbin.000001", 11);
            tr_buf_t b;
            tr_buf_init(&b, 0);
            tr_cmd_encode_dump(&b, &c.u.dump);
            EXPECT_EQ_MEM(b.data, b.len, p, len);
            tr_buf_cleanup(&b);
            for (size_t k = 0; k < 11; k++) {
                EXPECT_EQ_INT(tr_cmd_decode(p, k, &c, &why), TR_EMALFORMED);
            }
        } else if (c.com == TR_COM_QUERY) {
            EXPECT_EQ_INT(c.u.text.len, len - 1);
        } else {
            EXPECT_EQ_INT(c.com, TR_COM_QUIT);
        }
    }
    EXPECT_EQ_INT(seen, 1);
    vec_free_packets(pk, n);
}

TR_TEST(command_dump_name_cut_at_nul)
{
    /* zongji: NUL-terminated name; python-mysql-replication: 3 NULs. */
    const uint8_t z[] = {0x12, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 'b', '.', '1', 0};
    tr_cmd_t c;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_cmd_decode(z, sizeof(z), &c, &why), (ssize_t)sizeof(z));
    EXPECT_EQ_MEM(c.u.dump.file.p, c.u.dump.file.len, "b.1", 3);
    const uint8_t py[] = {0x12, 4, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0};
    EXPECT_EQ_INT(tr_cmd_decode(py, sizeof(py), &c, &why), (ssize_t)sizeof(py));
    EXPECT_EQ_INT(c.u.dump.file.len, 0);
}

TR_TEST(command_register_and_dump_gtid_roundtrip)
{
    tr_cmd_register_t r = {77, {(const uint8_t *)"host", 4}, {(const uint8_t *)"repl", 4},
                           {(const uint8_t *)"", 0}, 3306, 0, 0};
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_cmd_encode_register(&b, &r);
    EXPECT_EQ_INT(b.len, 1 + 4 + 5 + 5 + 1 + 2 + 8);
    tr_cmd_t c;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_cmd_decode(b.data, b.len, &c, &why), (ssize_t)b.len);
    EXPECT_EQ_INT(c.com, TR_COM_REGISTER_SLAVE);
    EXPECT_EQ_INT(c.u.reg.server_id, 77);
    EXPECT_EQ_INT(c.u.reg.port, 3306);
    EXPECT_EQ_MEM(c.u.reg.host.p, c.u.reg.host.len, "host", 4);
    for (size_t k = 0; k < b.len - 8; k++) {
        EXPECT_EQ_INT(tr_cmd_decode(b.data, k, &c, &why), TR_EMALFORMED);
    }
    tr_buf_reset(&b);
    const uint8_t set[8] = {0};
    tr_cmd_dump_t d = {4, 2, 9, {(const uint8_t *)"", 0}, {set, 8}};
    tr_cmd_encode_dump_gtid(&b, &d);
    EXPECT_EQ_INT(tr_cmd_decode(b.data, b.len, &c, &why), (ssize_t)b.len);
    EXPECT_EQ_INT(c.com, TR_COM_BINLOG_DUMP_GTID);
    EXPECT_EQ_U64(c.u.dump.pos, 4);
    EXPECT_EQ_INT(c.u.dump.flags, 2);
    EXPECT_EQ_INT(c.u.dump.server_id, 9);
    EXPECT_EQ_INT(c.u.dump.gtid_data.len, 8);
    /* Name length larger than the packet is malformed. */
    b.data[7] = 0xFF;
    EXPECT_EQ_INT(tr_cmd_decode(b.data, b.len, &c, &why), TR_EMALFORMED);
    tr_buf_cleanup(&b);
    /* Empty packet and unknown command. */
    EXPECT_EQ_INT(tr_cmd_decode(set, 0, &c, &why), TR_EMALFORMED);
    const uint8_t unk[] = {0x55, 1, 2};
    EXPECT_EQ_INT(tr_cmd_decode(unk, 3, &c, &why), 3);
    EXPECT_EQ_INT(c.com, 0x55);
}

TR_TEST_MAIN()
