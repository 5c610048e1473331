/*
 * UUID text (see uuid.h): two hex digits per byte, dashes at fixed places.
 */
#include "common/uuid.h"

#include "common/err.h"
#include "common/hex.h"

int tr_uuid_parse(const char *p, size_t len, bool allow_undashed, uint8_t out[16])
{
    bool dashed = len == TR_UUID_TEXT_LEN;
    if (!dashed && !(allow_undashed && len == 32)) {
        return TR_EMALFORMED;
    }
    size_t n = 0;
    for (size_t i = 0; i < len; i += 2) {
        if (dashed && (i == 8 || i == 13 || i == 18 || i == 23)) {
            if (p[i] != '-') {
                return TR_EMALFORMED;
            }
            i++;
        }
        int hi = tr_hex_digit((unsigned char)p[i]);
        int lo = tr_hex_digit((unsigned char)p[i + 1]);
        if (hi < 0 || lo < 0) {
            return TR_EMALFORMED;
        }
        out[n++] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}
