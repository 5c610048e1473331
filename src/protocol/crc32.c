/*
 * CRC-32 (see crc32.h): libdeflate's implementation. A function of our own
 * rather than calls to libdeflate_crc32 everywhere, so that only this file
 * includes libdeflate.h and the event codec keeps one name for its checksum.
 */
#include "protocol/crc32.h"

#include <libdeflate.h>

uint32_t tr_crc32(uint32_t crc, const void *buf, size_t len)
{
    return libdeflate_crc32(crc, buf, len);
}
