/* Unit tests for src/common: buffers, reader, lenenc, arena. */
#include "tr_test.h"

#include "common/buf.h"
#include "common/err.h"
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

TR_TEST_MAIN()
