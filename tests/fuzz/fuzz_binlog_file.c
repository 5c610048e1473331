/*
 * Fuzz target: the binlog file reader used at recovery (store/binlog_file.c
 * tr_store_reader_verify, which store.c runs over the active file on start), on a
 * temporary file holding the input, against the whole file and against a
 * committed end taken from the input's last 2 bytes; then the event headers
 * and GTID peeks the dump and SHOW BINLOG EVENTS paths apply to the same
 * bytes.
 */
#include "fuzz.h"

#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "protocol/binlog_event.h"
#include "protocol/gtid.h"
#include "store/binlog_file.h"
#include "store/reader.h"

static int g_fd = -1;

static void open_temp(void)
{
    char path[] = "/tmp/tirelay-fuzz-binlog-XXXXXX";
    g_fd = mkstemp(path);
    if (g_fd < 0) {
        perror("mkstemp");
        abort();
    }
    (void)unlink(path);
}

static void walk_events(const uint8_t *p, size_t len)
{
    size_t off = TR_BINLOG_MAGIC_LEN;
    while (off < len) {
        tr_evt_header_t h;
        const char *why = NULL;
        if (tr_evt_header_decode(p + off, len - off, &h, &why) <= 0 ||
            h.event_size < TR_EVT_HEADER_LEN || h.event_size > len - off) {
            break;
        }
        const uint8_t *ev = p + off;
        (void)tr_evt_check_crc(ev, h.event_size);
        uint8_t uuid[16];
        uint64_t gno;
        tr_maria_gtid_t g;
        uint8_t flags2;
        (void)tr_gtid_peek_mysql(ev, h.event_size, uuid, &gno, &why);
        (void)tr_gtid_peek_maria(ev, h.event_size, &g, &flags2, &why);
        (void)tr_gtid_peek_is_commit(ev, h.event_size, true);
        off += h.event_size;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (g_fd < 0) {
        open_temp();
    }
    if (ftruncate(g_fd, 0) != 0 || (size > 0 && pwrite(g_fd, data, size, 0) != (ssize_t)size)) {
        perror("temp file");
        abort();
    }
    uint64_t good = 0;
    const char *why = NULL;
    int r = tr_store_reader_verify(NULL, g_fd, size, &good, &why);
    FUZZ_CHECK(r == 0 || r == TR_ECORRUPT);
    FUZZ_CHECK(good <= size);
    FUZZ_CHECK(r == 0 ? good == size || size < TR_BINLOG_MAGIC_LEN : why != NULL);
    if (size >= 2) {
        uint64_t end = (uint64_t)data[size - 2] << 8 | data[size - 1];
        r = tr_store_reader_verify(NULL, g_fd, end, &good, &why);
        FUZZ_CHECK(r == 0 || r == TR_ECORRUPT);
        FUZZ_CHECK(good <= size);
    }
    if (size >= TR_BINLOG_MAGIC_LEN) {
        walk_events(data, size);
    }
    return 0;
}
