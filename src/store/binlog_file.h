/*
 * One binlog file on disk: create, positional append, sync, truncate (its
 * events are walked by store/reader.h).
 * Thin I/O helpers for store.c; they never log and return 0 or -errno /
 * TR_ECORRUPT with a static `why`. Layout of the bytes: spec section 6.1.
 *
 * Every system call goes through a tr_store_io_t (NULL = the real calls), so
 * unit tests can inject ENOSPC, EIO, short writes and crash points.
 */
#ifndef TR_STORE_BINLOG_FILE_H
#define TR_STORE_BINLOG_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "common/defs.h"

/*
 * The file-system calls the store makes, with the C library's contract (return
 * -1 and set errno on failure). tr_store_io_default() holds the real ones; a
 * test copies it and replaces entries. Thread: the table is read-only once in
 * use (any thread may call through it).
 */
typedef struct tr_store_io {
    int (*open)(const char *path, int flags, mode_t mode);
    int (*close)(int fd);
    ssize_t (*pwrite)(int fd, const void *p, size_t n, off_t off);
    ssize_t (*pread)(int fd, void *p, size_t n, off_t off);
    int (*fdatasync)(int fd);
    int (*fsync)(int fd);
    int (*ftruncate)(int fd, off_t size);
    int (*rename)(const char *from, const char *to);
    int (*unlink)(const char *path);
} tr_store_io_t;

/* The real system calls. Returns view (static). */
const tr_store_io_t *tr_store_io_default(void);

/* Opens path read-write; with create, the file must not exist yet (O_EXCL).
 * Returns 0 and the descriptor in *fd, or -errno. */
/* In every function below io may be NULL (the real system calls); borrows io. */
int tr_bfile_open(const tr_store_io_t *io, const char *path, bool create, int *fd) TR_MUSTCHECK;
/* Writes all n bytes at offset off (retries short writes). 0 or -errno; on error
 * some of the bytes may have been written. */
int tr_bfile_pwrite(const tr_store_io_t *io, int fd, const uint8_t *p, size_t n,
                    uint64_t off) TR_MUSTCHECK;
/* Reads exactly n bytes at off: 0, TR_EINCOMPLETE at end of file, or -errno. */
int tr_bfile_pread(const tr_store_io_t *io, int fd, uint8_t *p, size_t n,
                   uint64_t off) TR_MUSTCHECK;
/* fdatasync. 0 or -errno. After a failure the kernel may have dropped the
 * unwritten pages and marked them clean: never retry and trust a later success. */
int tr_bfile_sync(const tr_store_io_t *io, int fd) TR_MUSTCHECK;
/* fsync of the directory holding path (after creating or removing files). */
int tr_bfile_sync_dir(const tr_store_io_t *io, const char *dir) TR_MUSTCHECK;
int tr_bfile_truncate(const tr_store_io_t *io, int fd, uint64_t size) TR_MUSTCHECK;
/* Closes fd (errors ignored: nothing is written through a closed descriptor). */
void tr_bfile_close(const tr_store_io_t *io, int fd);
int tr_bfile_size(int fd, uint64_t *size) TR_MUSTCHECK;


#endif
