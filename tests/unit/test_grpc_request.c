/*
 * The request side of a gRPC server call (protocol/grpc_request.c) against
 * grpc/grpc doc/PROTOCOL-HTTP2.md: routing on :method, content-type, :path and
 * grpc-encoding; the one Length-Prefixed-Message split at every byte; every
 * truncation of a request; the size limit checked from the prefix; two
 * messages, flag bytes; and the protobuf wire-format check used for NotifyReq.
 */
#include "common/err.h"
#include "protocol/grpc_request.h"
#include "tr_test.h"

static const char *const paths[] = {"/binlog.Cistern/Notify", "/binlog.Pump/PullBinlogs"};

static void hdr(tr_grpc_req_t *r, const char *name, const char *value)
{
    tr_grpc_req_header(r, (const uint8_t *)name, strlen(name), (const uint8_t *)value,
                       strlen(value));
}

static void grpc_headers(tr_grpc_req_t *r, const char *path)
{
    hdr(r, ":method", "POST");
    hdr(r, ":scheme", "http");
    hdr(r, ":path", path);
    hdr(r, ":authority", "127.0.0.1:8249");
    hdr(r, "content-type", "application/grpc");
    hdr(r, "te", "trailers");
}

TR_TEST(grpc_req_routes_by_path)
{
    tr_grpc_req_t r;
    tr_grpc_verdict_t v;
    tr_grpc_req_init(&r, 64);
    grpc_headers(&r, "/binlog.Pump/PullBinlogs");
    EXPECT_EQ_INT(tr_grpc_req_route(&r, paths, 2, &v), 1);
    tr_grpc_req_cleanup(&r);

    tr_grpc_req_init(&r, 64);
    grpc_headers(&r, "/binlog.Cistern/Nope");
    EXPECT_EQ_INT(tr_grpc_req_route(&r, paths, 2, &v), -1);
    EXPECT_EQ_INT(v.http_status, 200);
    EXPECT_EQ_INT(v.grpc_status, TR_GRPC_UNIMPLEMENTED);
    tr_grpc_req_cleanup(&r);

    /* A path longer than the kept copy never matches (even if its head does). */
    tr_grpc_req_init(&r, 64);
    char longp[300];
    memset(longp, 'x', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    memcpy(longp, paths[0], strlen(paths[0]));
    grpc_headers(&r, longp);
    EXPECT_EQ_INT(tr_grpc_req_route(&r, paths, 2, &v), -1);
    EXPECT_EQ_INT(v.grpc_status, TR_GRPC_UNIMPLEMENTED);
    EXPECT_EQ_INT(strlen(r.path), TR_GRPC_REQ_PATH_MAX - 1);
    tr_grpc_req_cleanup(&r);

    /* +proto and parameters are gRPC content types too. */
    const char *types_ok[] = {"application/grpc+proto", "application/grpc;charset=utf-8"};
    for (size_t i = 0; i < 2; i++) {
        tr_grpc_req_init(&r, 64);
        grpc_headers(&r, paths[0]);
        hdr(&r, "content-type", types_ok[i]);
        EXPECT_EQ_INT(tr_grpc_req_route(&r, paths, 2, &v), 0);
        tr_grpc_req_cleanup(&r);
    }
}

TR_TEST(grpc_req_refuses_non_grpc_requests)
{
    tr_grpc_req_t r;
    tr_grpc_verdict_t v;
    tr_grpc_req_init(&r, 64);
    grpc_headers(&r, paths[0]);
    hdr(&r, ":method", "GET");
    EXPECT_EQ_INT(tr_grpc_req_route(&r, paths, 2, &v), -1);
    EXPECT_EQ_INT(v.http_status, 405);
    EXPECT_EQ_INT(v.grpc_status, TR_GRPC_UNIMPLEMENTED);
    tr_grpc_req_cleanup(&r);

    const char *types_bad[] = {"application/json", "application/grpcx", "text/plain", ""};
    for (size_t i = 0; i < 4; i++) {
        tr_grpc_req_init(&r, 64);
        grpc_headers(&r, paths[0]);
        hdr(&r, "content-type", types_bad[i]);
        EXPECT_EQ_INT(tr_grpc_req_route(&r, paths, 2, &v), -1);
        EXPECT_EQ_INT(v.http_status, 415);
        EXPECT_EQ_INT(v.grpc_status, TR_GRPC_INVALID_ARGUMENT);
        tr_grpc_req_cleanup(&r);
    }
    /* No content-type at all. */
    tr_grpc_req_init(&r, 64);
    hdr(&r, ":method", "POST");
    hdr(&r, ":path", paths[0]);
    EXPECT_EQ_INT(tr_grpc_req_route(&r, paths, 2, &v), -1);
    EXPECT_EQ_INT(v.http_status, 415);
    tr_grpc_req_cleanup(&r);

    /* Compression is not offered; identity is fine. */
    tr_grpc_req_init(&r, 64);
    grpc_headers(&r, paths[0]);
    hdr(&r, "grpc-encoding", "gzip");
    EXPECT_EQ_INT(tr_grpc_req_route(&r, paths, 2, &v), -1);
    EXPECT_EQ_INT(v.grpc_status, TR_GRPC_UNIMPLEMENTED);
    tr_grpc_req_cleanup(&r);
    tr_grpc_req_init(&r, 64);
    grpc_headers(&r, paths[0]);
    hdr(&r, "grpc-encoding", "identity");
    EXPECT_EQ_INT(tr_grpc_req_route(&r, paths, 2, &v), 0);
    tr_grpc_req_cleanup(&r);
}

/* PullBinlogReq{clusterID=6789, startFrom={offset=445644800000000005}} (spec 3.6). */
static const uint8_t pull_req[] = {0x00, 0x00, 0x00, 0x00, 0x0f, 0x08, 0x85, 0x35, 0x12, 0x0a,
                                   0x10, 0x85, 0x80, 0x80, 0x80, 0xda, 0xf2, 0xcf, 0x97, 0x06};

TR_TEST(grpc_req_message_at_every_split)
{
    for (size_t cut1 = 0; cut1 <= sizeof(pull_req); cut1++) {
        for (size_t cut2 = cut1; cut2 <= sizeof(pull_req); cut2++) {
            tr_grpc_req_t r;
            tr_grpc_verdict_t v;
            tr_slice_t msg;
            tr_grpc_req_init(&r, 64);
            EXPECT_EQ_INT(tr_grpc_req_data(&r, pull_req, cut1, &v), 0);
            EXPECT_EQ_INT(tr_grpc_req_data(&r, pull_req + cut1, cut2 - cut1, &v), 0);
            EXPECT_EQ_INT(tr_grpc_req_data(&r, pull_req + cut2, sizeof(pull_req) - cut2, &v), 0);
            EXPECT_EQ_INT(tr_grpc_req_end(&r, &msg, &v), 0);
            EXPECT_EQ_MEM(msg.p, msg.len, pull_req + 5, sizeof(pull_req) - 5);
            tr_grpc_req_cleanup(&r);
        }
    }
}

TR_TEST(grpc_req_every_truncation_is_refused)
{
    /* Every proper prefix ended by END_STREAM: no message or half a message. */
    for (size_t n = 0; n < sizeof(pull_req); n++) {
        tr_grpc_req_t r;
        tr_grpc_verdict_t v;
        tr_slice_t msg;
        tr_grpc_req_init(&r, 64);
        EXPECT_EQ_INT(tr_grpc_req_data(&r, pull_req, n, &v), 0);
        EXPECT_EQ_INT(tr_grpc_req_end(&r, &msg, &v), -1);
        EXPECT_EQ_INT(v.http_status, 200);
        EXPECT_EQ_INT(v.grpc_status, TR_GRPC_INVALID_ARGUMENT);
        EXPECT_TRUE(v.message != NULL && v.message[0] != '\0');
        tr_grpc_req_cleanup(&r);
    }
}

TR_TEST(grpc_req_empty_message_is_a_message)
{
    /* NotifyReq{} as every gRPC client sends it: a prefix with length 0. */
    static const uint8_t empty[] = {0, 0, 0, 0, 0};
    tr_grpc_req_t r;
    tr_grpc_verdict_t v;
    tr_slice_t msg;
    tr_grpc_req_init(&r, 64);
    EXPECT_EQ_INT(tr_grpc_req_data(&r, empty, sizeof(empty), &v), 0);
    EXPECT_EQ_INT(tr_grpc_req_end(&r, &msg, &v), 0);
    EXPECT_EQ_INT(msg.len, 0);
    tr_grpc_req_cleanup(&r);
}

TR_TEST(grpc_req_limits_and_malformed_messages)
{
    tr_grpc_req_t r;
    tr_grpc_verdict_t v;
    tr_slice_t msg;

    /* Declared length over the limit: refused from the prefix, nothing allocated. */
    static const uint8_t huge[] = {0x00, 0x7f, 0xff, 0xff, 0xff, 'x'};
    tr_grpc_req_init(&r, 4096);
    EXPECT_EQ_INT(tr_grpc_req_data(&r, huge, sizeof(huge), &v), -1);
    EXPECT_EQ_INT(v.grpc_status, TR_GRPC_RESOURCE_EXHAUSTED);
    EXPECT_EQ_INT(r.msg.cap, 0);
    /* Sticky: later bytes and the end give the same verdict. */
    EXPECT_EQ_INT(tr_grpc_req_data(&r, pull_req, sizeof(pull_req), &v), -1);
    EXPECT_EQ_INT(v.grpc_status, TR_GRPC_RESOURCE_EXHAUSTED);
    EXPECT_EQ_INT(tr_grpc_req_end(&r, &msg, &v), -1);
    EXPECT_EQ_INT(v.grpc_status, TR_GRPC_RESOURCE_EXHAUSTED);
    tr_grpc_req_cleanup(&r);

    /* Exactly at the limit is fine. */
    static const uint8_t at_limit[] = {0x00, 0x00, 0x00, 0x00, 0x03, 1, 2, 3};
    tr_grpc_req_init(&r, 3);
    EXPECT_EQ_INT(tr_grpc_req_data(&r, at_limit, sizeof(at_limit), &v), 0);
    EXPECT_EQ_INT(tr_grpc_req_end(&r, &msg, &v), 0);
    EXPECT_EQ_INT(msg.len, 3);
    tr_grpc_req_cleanup(&r);

    /* Compressed flag (no grpc-encoding was accepted) and other flag bytes. */
    for (int flag = 1; flag < 256; flag++) {
        uint8_t bad[] = {(uint8_t)flag, 0, 0, 0, 0};
        tr_grpc_req_init(&r, 64);
        EXPECT_EQ_INT(tr_grpc_req_data(&r, bad, sizeof(bad), &v), -1);
        EXPECT_EQ_INT(v.grpc_status, TR_GRPC_INVALID_ARGUMENT);
        tr_grpc_req_cleanup(&r);
    }

    /* Two messages in a call that takes one, even split in the second prefix. */
    tr_grpc_req_init(&r, 64);
    EXPECT_EQ_INT(tr_grpc_req_data(&r, pull_req, sizeof(pull_req), &v), 0);
    EXPECT_EQ_INT(tr_grpc_req_data(&r, pull_req, 1, &v), -1);
    EXPECT_EQ_INT(v.grpc_status, TR_GRPC_INVALID_ARGUMENT);
    EXPECT_EQ_INT(tr_grpc_req_end(&r, &msg, &v), -1);
    tr_grpc_req_cleanup(&r);

    /* No DATA at all. */
    tr_grpc_req_init(&r, 64);
    EXPECT_EQ_INT(tr_grpc_req_end(&r, &msg, &v), -1);
    EXPECT_EQ_INT(v.grpc_status, TR_GRPC_INVALID_ARGUMENT);
    tr_grpc_req_cleanup(&r);
}

TR_TEST(grpc_req_protobuf_check)
{
    const char *why = NULL;
    EXPECT_EQ_INT(tr_grpc_req_check_protobuf(NULL, 0, &why), 0); /* NotifyReq{} */
    EXPECT_EQ_INT(tr_grpc_req_check_protobuf(pull_req + 5, sizeof(pull_req) - 5, &why), 0);
    /* Unknown fields of every wire type are fine (proto3 skips them). */
    static const uint8_t unknown[] = {0x08, 0x01,                                     /* varint */
                                      0x11, 1, 2, 3, 4, 5, 6, 7, 8,                   /* fixed64 */
                                      0x1a, 0x02, 'h', 'i',                           /* bytes */
                                      0x25, 1, 2, 3, 4};                              /* fixed32 */
    EXPECT_EQ_INT(tr_grpc_req_check_protobuf(unknown, sizeof(unknown), &why), 0);
    /* Every truncation of that is malformed (each field is whole only at its end). */
    static const size_t ends[] = {2, 11, 15, 20};
    for (size_t n = 1; n < sizeof(unknown); n++) {
        bool at_end = false;
        for (size_t i = 0; i < 4; i++) {
            at_end |= ends[i] == n;
        }
        why = NULL;
        int rc = tr_grpc_req_check_protobuf(unknown, n, &why);
        EXPECT_EQ_INT(rc, at_end ? 0 : TR_EMALFORMED);
        EXPECT_TRUE(at_end || why != NULL);
    }
    static const uint8_t field0[] = {0x00, 0x01};
    static const uint8_t group[] = {0x0b, 0x0c};
    static const uint8_t wt7[] = {0x0f};
    static const uint8_t overlong[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t past_end[] = {0x0a, 0x05, 'a'};
    static const uint8_t huge_len[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t garbage[] = {0xff, 0xff, 0xff};
    EXPECT_EQ_INT(tr_grpc_req_check_protobuf(field0, sizeof(field0), &why), TR_EMALFORMED);
    EXPECT_EQ_INT(tr_grpc_req_check_protobuf(group, sizeof(group), &why), TR_EMALFORMED);
    EXPECT_EQ_INT(tr_grpc_req_check_protobuf(wt7, sizeof(wt7), &why), TR_EMALFORMED);
    EXPECT_EQ_INT(tr_grpc_req_check_protobuf(overlong, sizeof(overlong), &why), TR_EMALFORMED);
    EXPECT_EQ_INT(tr_grpc_req_check_protobuf(past_end, sizeof(past_end), &why), TR_EMALFORMED);
    EXPECT_EQ_INT(tr_grpc_req_check_protobuf(huge_len, sizeof(huge_len), &why), TR_EMALFORMED);
    EXPECT_EQ_INT(tr_grpc_req_check_protobuf(garbage, sizeof(garbage), &why), TR_EMALFORMED);
}

TR_TEST_MAIN()
