/*
 * Compiler helpers shared by every layer: attribute macros and the always-on
 * assertion used where a broken invariant would corrupt stored binlogs.
 */
#ifndef TR_COMMON_DEFS_H
#define TR_COMMON_DEFS_H

#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#define TR_MUSTCHECK   __attribute__((warn_unused_result))
#define TR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define TR_NORETURN    __attribute__((noreturn))
#else
#define TR_MUSTCHECK
#define TR_PRINTF(f, a)
#define TR_NORETURN
#endif

#define TR_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Aborts with file:line when called; use through TR_ASSERT. */
TR_NORETURN void tr_assert_fail(const char *expr, const char *file, int line);

/* Always-on assertion (also in release builds). Never use it on input data. */
#define TR_ASSERT(e) ((e) ? (void)0 : tr_assert_fail(#e, __FILE__, __LINE__))

#endif
