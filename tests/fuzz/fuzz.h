/*
 * fuzz.h: what the libFuzzer targets of tests/fuzz share (make fuzz, issue 8).
 *
 * Each fuzz_<name>.c defines fuzz_<name>_one(), the whole property check of one
 * input, and LLVMFuzzerTestOneInput() calling it. Built with -DFUZZ_NO_ENTRY the
 * files leave LLVMFuzzerTestOneInput out, so tests/unit/test_fuzz_regressions.c
 * can replay every file of tests/fuzz/regressions/<name>/ through the very same checks in
 * `make check` (release and ASan builds).
 *
 * A broken property is a finding: FUZZ_CHECK prints what and where and aborts, so
 * libFuzzer saves the input as a crash artifact.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond, what)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz property broken: %s (%s)\n", __FILE__, __LINE__, what,    \
                    #cond);                                                                        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int fuzz_api_body_one(const uint8_t *data, size_t size);
int fuzz_envelope_one(const uint8_t *data, size_t size);
int fuzz_codec_ledger_one(const uint8_t *data, size_t size);
int fuzz_amount_period_one(const uint8_t *data, size_t size);
int fuzz_routes_one(const uint8_t *data, size_t size);

#ifndef FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#define FUZZ_ENTRY(fn)                                                                             \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                                   \
    {                                                                                              \
        return fn(data, size);                                                                     \
    }
#else
#define FUZZ_ENTRY(fn)
#endif

#endif
