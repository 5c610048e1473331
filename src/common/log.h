/*
 * Leveled logging to stderr (the journal under systemd): one line per event,
 *   2024-05-01T12:00:00.123Z INFO  relay  message key=value key=value
 * UTC timestamp with milliseconds, level, component, then the message and its
 * key=value pairs; control characters in the message become spaces, so a line
 * is always one event. Thread-safe (each line is written with one write()).
 * Never log passwords, scrambles or row data.
 */
#ifndef TR_COMMON_LOG_H
#define TR_COMMON_LOG_H

#include <stdarg.h>

#include "common/defs.h"

typedef enum {
    TR_LOG_ERROR = 0,
    TR_LOG_WARN = 1,
    TR_LOG_INFO = 2,
    TR_LOG_DEBUG = 3,
    TR_LOG_TRACE = 4,
} tr_log_level_t;

/* Sets the most verbose level that is printed (default INFO). Call before threads start. */
void tr_log_set_level(tr_log_level_t level);
tr_log_level_t tr_log_get_level(void);
/* Parses "error", "warn", "info", "debug", "trace"; returns -1 if unknown. */
int tr_log_level_parse(const char *name);

/* component: short module name ("store", "pump", "sess"). */
void tr_log(tr_log_level_t level, const char *component, const char *fmt, ...) TR_PRINTF(3, 4);
void tr_vlog(tr_log_level_t level, const char *component, const char *fmt, va_list ap)
    TR_PRINTF(3, 0);

static inline int tr_log_enabled(tr_log_level_t level)
{
    return level <= tr_log_get_level();
}

#define tr_log_error(comp, ...) tr_log(TR_LOG_ERROR, comp, __VA_ARGS__)
#define tr_log_warn(comp, ...)  tr_log(TR_LOG_WARN, comp, __VA_ARGS__)
#define tr_log_info(comp, ...)  tr_log(TR_LOG_INFO, comp, __VA_ARGS__)
#define tr_log_debug(comp, ...)                                                                    \
    do {                                                                                           \
        if (tr_log_enabled(TR_LOG_DEBUG)) {                                                        \
            tr_log(TR_LOG_DEBUG, comp, __VA_ARGS__);                                               \
        }                                                                                          \
    } while (0)

/* Logs at ERROR and aborts the process: startup errors and broken invariants only. */
TR_NORETURN void tr_fatal(const char *component, const char *fmt, ...) TR_PRINTF(2, 3);

#endif
