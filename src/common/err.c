/* Error code table lookups (see err.h). */
#include "common/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/defs.h"

const char *tr_strerror(int code)
{
    switch (code) {
#define TR_ERR_CASE(name, value, desc)                                                             \
    case name:                                                                                     \
        return desc;
        TR_ERR_MAP(TR_ERR_CASE)
#undef TR_ERR_CASE
    default:
        break;
    }
    if (code < 0 && code > -4096) {
        return strerror(-code);
    }
    return "unknown error";
}

const char *tr_err_name(int code)
{
    switch (code) {
#define TR_ERR_NAME(name, value, desc)                                                             \
    case name:                                                                                     \
        return #name;
        TR_ERR_MAP(TR_ERR_NAME)
#undef TR_ERR_NAME
    default:
        return "errno";
    }
}

void tr_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "tirelay: assertion failed: %s at %s:%d\n", expr, file, line);
    fflush(stderr);
    abort();
}
