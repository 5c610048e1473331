/*
 * Fuzz target: the configuration parser (common/config.c tr_config_parse):
 * INI text, every key's value parser and the cross-key validation. The text
 * is NUL-terminated as tr_config_load passes it; the error message must be a
 * NUL-terminated string inside its buffer.
 */
#include "fuzz.h"

#include <string.h>

#include "common/config.h"
#include "relay/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    static tr_config_t c; /* large: kept off the stack */
    tr_config_defaults(&c);
    char err[256];
    err[0] = '\0';
    int r = tr_config_parse(&c, text, "fuzz.cnf", &tr_filter_config_checks, err, sizeof(err));
    if (r != 0) {
        FUZZ_CHECK(memchr(err, 0, sizeof(err)) != NULL && err[0] != '\0');
    }
    free(text);
    return 0;
}
