/*
 * Unit tests of common/uuid.c: the dashed form (either case), the undashed form where the
 * caller allows it, and what is refused.
 */
#include <string.h>

#include "common/err.h"
#include "common/uuid.h"
#include "tr_test.h"

static const uint8_t want[16] = {0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1,
                                 0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62};

static int parse(const char *s, bool allow_undashed, uint8_t out[16])
{
    return tr_uuid_parse(s, strlen(s), allow_undashed, out);
}

TR_TEST(dashed)
{
    uint8_t u[16];
    EXPECT_EQ_INT(parse("3e11fa47-71ca-11e1-9e33-c80aa9429562", false, u), 0);
    EXPECT_EQ_MEM(u, 16, want, 16);
    memset(u, 0, sizeof(u));
    EXPECT_EQ_INT(parse("3E11FA47-71CA-11E1-9E33-C80AA9429562", true, u), 0);
    EXPECT_EQ_MEM(u, 16, want, 16);
}

TR_TEST(undashed)
{
    uint8_t u[16];
    EXPECT_EQ_INT(parse("3e11fa4771ca11e19e33c80aa9429562", true, u), 0);
    EXPECT_EQ_MEM(u, 16, want, 16);
    EXPECT_EQ_INT(parse("3e11fa4771ca11e19e33c80aa9429562", false, u), TR_EMALFORMED);
}

TR_TEST(refused)
{
    static const char *const bad[] = {
        "",
        "3e11fa47-71ca-11e1-9e33-c80aa942956",    /* a digit short */
        "3e11fa47-71ca-11e1-9e33-c80aa94295620",  /* a digit over */
        "3e11fa47-71ca-11e1-9e33-c80aa942956g",   /* not a digit */
        "00000000000000000000000000000000000a",   /* 36 digits, no dashes */
        "3e11fa4771ca-11e1-9e33-c80aa9429562-",   /* dashes in the wrong places */
        "3e11fa47--1ca-11e1-9e33-c80aa9429562",   /* a dash for a digit */
        "3e11fa47-71ca-11e1-9e33-c80aa942956 ",   /* trailing space */
        "{3e11fa47-71ca-11e1-9e33-c80aa9429562}", /* braced (MySQL reads it; we do not) */
        "3e11fa47-71ca-11e1-9e33c80aa9429562",    /* 35 characters */
        "3e11fa4771ca11e19e33c80aa942956x",       /* undashed, not a digit */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t u[16];
        if (parse(bad[i], true, u) != TR_EMALFORMED) {
            TR_FAIL_AT("accepted \"%s\"", bad[i]);
        }
    }
}

TR_TEST_MAIN()
