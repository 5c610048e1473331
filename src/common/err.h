/*
 * Project error codes. Fallible functions return 0 or a negative code: either
 * a negative errno / UV_E* value passed through, or one of the TR_E* codes
 * below, valued -1999..-1000 so they never collide with errno or libuv.
 * Pure: no I/O.
 */
#ifndef TR_COMMON_ERR_H
#define TR_COMMON_ERR_H

/* X(name, value, description) */
#define TR_ERR_MAP(X)                                                                              \
    X(TR_EINCOMPLETE, -1000, "need more input")                                                    \
    X(TR_EMALFORMED, -1001, "malformed input")                                                     \
    X(TR_ETOOBIG, -1002, "size limit exceeded")                                                    \
    X(TR_ECHECKSUM, -1003, "checksum mismatch")                                                    \
    X(TR_EUNSUPPORTED, -1004, "unsupported")                                                       \
    X(TR_ESEQUENCE, -1005, "packet sequence error")                                                \
    X(TR_ECORRUPT, -1006, "corrupt stored data")                                                   \
    X(TR_ENOTFOUND, -1007, "not found")                                                            \
    X(TR_ESQLITE, -1008, "sqlite error")                                                           \
    X(TR_ECLOSED, -1009, "closed")                                                                 \
    X(TR_ECONFIG, -1010, "bad configuration")                                                      \
    X(TR_EUPSTREAM, -1011, "upstream error")                                                       \
    X(TR_ESCHEMA, -1012, "schema error")                                                           \
    X(TR_EAUTH, -1013, "authentication failed")

enum {
#define TR_ERR_ENUM(name, value, desc) name = (value),
    TR_ERR_MAP(TR_ERR_ENUM)
#undef TR_ERR_ENUM
};

/* Human-readable text for any code (project, errno or libuv). Returns a static string. */
const char *tr_strerror(int code);

/* Symbolic name of a project code ("TR_EMALFORMED"), or "errno" for others. */
const char *tr_err_name(int code);

#endif
