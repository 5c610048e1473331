/* Logging implementation (see log.h). */
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static tr_log_level_t g_level = TR_LOG_INFO;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG", "TRACE"};

void tr_log_set_level(tr_log_level_t level)
{
    g_level = level;
}

tr_log_level_t tr_log_get_level(void)
{
    return g_level;
}

int tr_log_level_parse(const char *name)
{
    for (size_t i = 0; i < TR_ARRAY_LEN(level_names); i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            return (int)i;
        }
    }
    return -1;
}

void tr_vlog(tr_log_level_t level, const char *component, const char *fmt, va_list ap)
{
    if (level > g_level) {
        return;
    }
    char line[2048];
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    (void)gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %-6s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level_names[level], component);
    if (n < 0) {
        return;
    }
    size_t used = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    size_t msg_start = used;
    int m = vsnprintf(line + used, sizeof(line) - used, fmt, ap);
    if (m > 0) {
        used += (size_t)m < sizeof(line) - used ? (size_t)m : sizeof(line) - used - 1;
    }
    /* One line per event: a message that carries a line break or another control
     * character (a peer's error text, say) cannot split or forge log lines. */
    for (size_t i = msg_start; i < used; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c < 0x20 || c == 0x7f) {
            line[i] = ' ';
        }
    }
    if (used >= sizeof(line) - 1) {
        used = sizeof(line) - 2;
    }
    line[used++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, used);
    (void)w;
}

void tr_log(tr_log_level_t level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tr_vlog(level, component, fmt, ap);
    va_end(ap);
}

void tr_fatal(const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tr_vlog(TR_LOG_ERROR, component, fmt, ap);
    va_end(ap);
    abort();
}
