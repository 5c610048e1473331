/*
 * CRC-32 as binlog event checksums use it (ISO-HDLC: polynomial 0x04C11DB7,
 * reflected, initial and final XOR 0xFFFFFFFF), the same value as zlib's
 * crc32(). Every event written or checked goes through it, so it is on the
 * hot path of ingest: on x86-64 CPUs with PCLMULQDQ, buffers of 64 bytes or
 * more are folded 64 bytes at a time with carry-less multiplication; the
 * rest (short buffers, the final 16 + tail bytes, other CPUs) uses zlib.
 *
 * Pure function, no allocation, thread-safe (the CPU check and constants are
 * set up once, by whichever thread comes first).
 */
#ifndef TR_PROTOCOL_CRC32_H
#define TR_PROTOCOL_CRC32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Continues crc (0 to start) over buf[0..len), as zlib's crc32(crc, buf, len). */
uint32_t tr_crc32(uint32_t crc, const void *buf, size_t len);

/* The portable path only (tests compare the two). */
uint32_t tr_crc32_portable(uint32_t crc, const void *buf, size_t len);

/* Whether tr_crc32 folds with PCLMULQDQ on this CPU. */
bool tr_crc32_accelerated(void);

#endif
