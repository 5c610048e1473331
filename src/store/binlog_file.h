/*
 * One binlog file on disk: create, positional append, sync, truncate, and a
 * structural check that walks its events from offset 4 (sizes and CRC32).
 * Thin I/O helpers for store.c; they never log and return 0 or -errno /
 * TR_ECORRUPT with a static `why`. Layout of the bytes: spec section 6.1.
 */
#ifndef TR_STORE_BINLOG_FILE_H
#define TR_STORE_BINLOG_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/defs.h"

/* Opens path read-write; with create, the file must not exist yet (O_EXCL).
 * Returns 0 and the descriptor in *fd, or -errno. */
int tr_bfile_open(const char *path, bool create, int *fd) TR_MUSTCHECK;
/* Writes all n bytes at offset off (retries short writes). 0 or -errno. */
int tr_bfile_pwrite(int fd, const uint8_t *p, size_t n, uint64_t off) TR_MUSTCHECK;
/* Reads exactly n bytes at off: 0, TR_EINCOMPLETE at end of file, or -errno. */
int tr_bfile_pread(int fd, uint8_t *p, size_t n, uint64_t off) TR_MUSTCHECK;
/* fdatasync. 0 or -errno. */
int tr_bfile_sync(int fd) TR_MUSTCHECK;
/* fsync of the directory holding path (after creating or removing files). */
int tr_bfile_sync_dir(const char *dir) TR_MUSTCHECK;
int tr_bfile_truncate(int fd, uint64_t size) TR_MUSTCHECK;
int tr_bfile_size(int fd, uint64_t *size) TR_MUSTCHECK;

/*
 * Checks that the file starts with the binlog magic and that its events, walked
 * by event_size from offset 4, end exactly at `end`, each with a valid CRC32.
 * Returns 0; TR_ECORRUPT with *why (and *good_end = last valid event boundary)
 * when they do not; or -errno.
 */
int tr_bfile_verify(int fd, uint64_t end, uint64_t *good_end, const char **why) TR_MUSTCHECK;

#endif
