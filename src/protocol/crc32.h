/*
 * CRC-32 as binlog event checksums use it (ISO-HDLC: polynomial 0x04C11DB7,
 * reflected, initial and final XOR 0xFFFFFFFF), the same value as zlib's
 * crc32(). Every event written or checked goes through it, so it is on the
 * hot path of ingest: it is libdeflate's libdeflate_crc32, which picks its
 * code for the CPU at run time (PCLMULQDQ on x86-64, the CRC instructions on
 * arm64, else a slice-by-8 table). docs/decisions.md, "CRC-32 from
 * libdeflate", has the measurements behind the choice.
 *
 * Pure function, no allocation, thread-safe.
 */
#ifndef TR_PROTOCOL_CRC32_H
#define TR_PROTOCOL_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc (0 to start) over buf[0..len), as zlib's crc32(crc, buf, len). */
uint32_t tr_crc32(uint32_t crc, const void *buf, size_t len);

#endif
