/*
 * Shared declarations of the fuzz targets (tests/fuzz/fuzz_<name>.c).
 *
 * Each target defines LLVMFuzzerTestOneInput and feeds the bytes to one
 * decoder of outside input; a target never asserts on the decoder's verdict,
 * only that it returns (ASan/UBSan and libFuzzer's leak check find the rest),
 * plus cheap consistency checks (a decoded value re-encodes, a length stays in
 * bounds) that abort through FUZZ_CHECK.
 *
 * Built two ways: with -DTR_FUZZ=ON (clang, libFuzzer) as fuzz_<name>, and in
 * every ordinary build as fuzz_replay_<name> with replay_main.c, which runs the
 * committed corpus once (CTest fuzz_replay_<name>).
 */
#ifndef TR_TESTS_FUZZ_FUZZ_H
#define TR_TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
