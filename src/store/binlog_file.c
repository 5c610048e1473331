/*
 * Binlog file I/O helpers (see binlog_file.h). No logging, no format
 * knowledge of events (store/reader.c walks them).
 */
#include "store/binlog_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/mem.h"
#include "protocol/binlog_event.h"

static int sys_open(const char *path, int flags, mode_t mode)
{
    return open(path, flags, mode);
}

static const tr_store_io_t sys_io = {
    .open = sys_open,
    .close = close,
    .pwrite = pwrite,
    .pread = pread,
    .fdatasync = fdatasync,
    .fsync = fsync,
    .ftruncate = ftruncate,
    .rename = rename,
    .unlink = unlink,
};

const tr_store_io_t *tr_store_io_default(void)
{
    return &sys_io;
}

#define IO(io) ((io) != NULL ? (io) : &sys_io)

int tr_bfile_open(const tr_store_io_t *io, const char *path, bool create, int *fd)
{
    int flags = O_RDWR | O_CLOEXEC;
    if (create) {
        flags |= O_CREAT | O_EXCL;
    }
    int r = IO(io)->open(path, flags, 0644);
    if (r < 0) {
        return -errno;
    }
    *fd = r;
    return 0;
}

int tr_bfile_pwrite(const tr_store_io_t *io, int fd, const uint8_t *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t w = IO(io)->pwrite(fd, p, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (w == 0) {
            return -EIO;
        }
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

int tr_bfile_pread(const tr_store_io_t *io, int fd, uint8_t *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t r = IO(io)->pread(fd, p, n, (off_t)off);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (r == 0) {
            return TR_EINCOMPLETE;
        }
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

int tr_bfile_sync(const tr_store_io_t *io, int fd)
{
    return IO(io)->fdatasync(fd) == 0 ? 0 : -errno;
}

int tr_bfile_sync_dir(const tr_store_io_t *io, const char *dir)
{
    int fd = IO(io)->open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    int r = IO(io)->fsync(fd) == 0 ? 0 : -errno;
    (void)IO(io)->close(fd);
    return r;
}

int tr_bfile_truncate(const tr_store_io_t *io, int fd, uint64_t size)
{
    return IO(io)->ftruncate(fd, (off_t)size) == 0 ? 0 : -errno;
}

void tr_bfile_close(const tr_store_io_t *io, int fd)
{
    if (fd >= 0) {
        (void)IO(io)->close(fd);
    }
}

int tr_bfile_size(int fd, uint64_t *size)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        return -errno;
    }
    *size = (uint64_t)st.st_size;
    return 0;
}
