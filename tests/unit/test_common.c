/* Unit tests for src/common: buffers, reader, lenenc, arena, hash. */
#include "tr_test.h"

#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/mem.h"

TR_TEST(lenenc_roundtrip)
{
    const uint64_t values[] = {0, 250, 251, 65535, 65536, 16777215, 16777216, UINT64_MAX};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        tr_buf_t b;
        tr_buf_init(&b, 0);
        tr_buf_put_lenenc(&b, values[i]);
        EXPECT_EQ_INT(b.len, tr_lenenc_size(values[i]));
        tr_rd_t r = tr_rd(b.data, b.len);
        EXPECT_EQ_U64(tr_rd_lenenc(&r, NULL), values[i]);
        EXPECT_TRUE(!r.err);
        EXPECT_EQ_INT(tr_rd_left(&r), 0);
        tr_buf_cleanup(&b);
    }
}

/* Every byte of the input, at every length (short tails, the eight-byte steps and the
 * four-lane body), changes the hash; the bytes past len and the lane split do not. */
TR_TEST(hash_sees_every_byte)
{
    uint8_t buf[201];
    uint64_t x = 0x243F6A8885A308D3ull;
    for (size_t i = 0; i < sizeof(buf); i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        buf[i] = (uint8_t)(x >> 56);
    }
    uint64_t prev_len = 0;
    for (size_t len = 0; len < sizeof(buf); len++) {
        uint64_t h = tr_hash_bytes(buf, len, 7);
        EXPECT_TRUE(len == 0 || h != prev_len); /* a trailing byte is not padding */
        prev_len = h;
        EXPECT_TRUE(h != tr_hash_bytes(buf, len, 8));
        uint8_t past = buf[len];
        buf[len] ^= 0x5A;
        EXPECT_EQ_U64(tr_hash_bytes(buf, len, 7), h);
        buf[len] = past;
        for (size_t i = 0; i < len; i++) {
            for (int bit = 0; bit < 8; bit++) {
                buf[i] ^= (uint8_t)(1u << bit);
                uint64_t g = tr_hash_bytes(buf, len, 7);
                buf[i] ^= (uint8_t)(1u << bit);
                if (g == h) {
                    EXPECT_TRUE(g != h); /* reports the first position only */
                    return;
                }
            }
        }
    }
}

TR_TEST(reader_underflow_is_sticky)
{
    const uint8_t p[] = {1, 2, 3};
    tr_rd_t r = tr_rd(p, sizeof(p));
    EXPECT_EQ_INT(tr_rd_u16le(&r), 0x0201);
    EXPECT_EQ_INT(tr_rd_u16le(&r), 0);
    EXPECT_TRUE(r.err);
    EXPECT_EQ_INT(tr_rd_u8(&r), 0);
}

TR_TEST(buf_limit_sets_failed)
{
    tr_buf_t b;
    tr_buf_init(&b, 4);
    tr_buf_put_u32le(&b, 7);
    EXPECT_TRUE(tr_buf_ok(&b));
    tr_buf_put_u8(&b, 1);
    EXPECT_TRUE(!tr_buf_ok(&b));
    EXPECT_EQ_INT(b.len, 4);
    tr_buf_cleanup(&b);
}

TR_TEST(arena_alignment_and_reset)
{
    tr_arena_t a;
    tr_arena_init(&a, 128);
    for (int i = 0; i < 100; i++) {
        uint8_t *p = tr_arena_alloc(&a, (size_t)(i * 7 + 1));
        EXPECT_EQ_INT(((uintptr_t)p) % 16, 0);
        memset(p, 0xAB, (size_t)(i * 7 + 1));
    }
    tr_arena_reset(&a);
    EXPECT_EQ_INT(a.used_bytes, 0);
    char *s = tr_arena_strndup(&a, "hello", 5);
    EXPECT_EQ_STR(s, "hello");
    tr_arena_cleanup(&a);
}

TR_TEST(error_names)
{
    EXPECT_EQ_STR(tr_err_name(TR_EMALFORMED), "TR_EMALFORMED");
    EXPECT_EQ_STR(tr_strerror(TR_ECHECKSUM), "checksum mismatch");
}

/* One line per event: a message with line breaks or other control characters stays one
 * line in the format "<time> <LEVEL> <component> <message>". */
TR_TEST(log_one_line_per_event)
{
    FILE *tmp = tmpfile();
    EXPECT_TRUE(tmp != NULL);
    if (tmp == NULL) {
        return;
    }
    int saved = dup(STDERR_FILENO);
    EXPECT_TRUE(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    tr_log_info("test", "peer said \"%s\" code=%d", "bad\nINFO  forged line\r\t", 7);
    tr_log_debug("test", "not shown at info%s", "");
    (void)dup2(saved, STDERR_FILENO);
    (void)close(saved);
    char line[512] = {0};
    rewind(tmp);
    size_t n = fread(line, 1, sizeof(line) - 1, tmp);
    (void)fclose(tmp);
    EXPECT_TRUE(n > 24);
    /* 2024-05-01T12:00:00.123Z INFO  test   ... */
    EXPECT_TRUE(line[4] == '-' && line[10] == 'T' && line[19] == '.' && line[23] == 'Z');
    EXPECT_TRUE(strstr(line, " INFO  test   peer said \"bad INFO  forged line  \" code=7\n") != NULL);
    EXPECT_TRUE(strchr(line, '\n') == line + n - 1); /* exactly one line */
}

TR_TEST_MAIN()
