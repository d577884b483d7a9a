/*
 * test_fuzz_regressions.c: every input the fuzzers ever broke something with, and
 * every seed, replayed through the same checks (tests/fuzz/fuzz_<name>.c, built
 * here without libFuzzer), so `make check` keeps catching what `make fuzz` found,
 * in the release and in the ASan+UBSan build.
 *
 * Inputs live in tests/fuzz/regressions/<target>/ (one file per finding, named
 * after what it broke) and tests/fuzz/corpus/<target>/ (the seeds). A broken
 * property aborts the binary, which tests/run.sh counts as a failure. Paths are
 * relative to the repository root (where tests/run.sh runs), or to
 * $COAL_FUZZ_DIR when set.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

typedef int (*fuzz_fn)(const uint8_t *data, size_t size);

/* Replays every regular file of dir through fn; returns how many. A missing dir
 * is none (a target may have no regressions yet). */
static int s_replay_dir(const char *dir, fuzz_fn fn)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[1024];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        uint8_t *buf = malloc((size_t)st.st_size + 1); /* +1: malloc(0) may be NULL */
        assert_non_null(buf);
        size_t len = fread(buf, 1, (size_t)st.st_size, f);
        fclose(f);
        assert_int_equal(len, (size_t)st.st_size);
        fprintf(stderr, "replay %s\n", path);
        assert_int_equal(fn(buf, len), 0);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

static const char *s_root(void)
{
    const char *r = getenv("COAL_FUZZ_DIR");
    return r && *r ? r : "tests/fuzz";
}

/* Replays the regressions and the seeds of target; the seeds must exist (else the
 * test runs from the wrong directory and would prove nothing). */
static void s_replay(const char *target, fuzz_fn fn)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/regressions/%s", s_root(), target);
    int regressions = s_replay_dir(dir, fn);
    snprintf(dir, sizeof dir, "%s/corpus/%s", s_root(), target);
    int seeds = s_replay_dir(dir, fn);
    if (seeds == 0)
        fail_msg("no seeds in %s (run from the repository root or set COAL_FUZZ_DIR)", dir);
    fprintf(stderr, "%s: %d regressions, %d seeds replayed\n", target, regressions, seeds);
}

static void fuzz_regressions_api_body(void **state)
{
    (void)state;
    s_replay("fuzz_api_body", fuzz_api_body_one);
}

static void fuzz_regressions_envelope(void **state)
{
    (void)state;
    s_replay("fuzz_envelope", fuzz_envelope_one);
}

static void fuzz_regressions_codec_ledger(void **state)
{
    (void)state;
    s_replay("fuzz_codec_ledger", fuzz_codec_ledger_one);
}

static void fuzz_regressions_amount_period(void **state)
{
    (void)state;
    s_replay("fuzz_amount_period", fuzz_amount_period_one);
}

static void fuzz_regressions_routes(void **state)
{
    (void)state;
    s_replay("fuzz_routes", fuzz_routes_one);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fuzz_regressions_api_body),
        cmocka_unit_test(fuzz_regressions_envelope),
        cmocka_unit_test(fuzz_regressions_codec_ledger),
        cmocka_unit_test(fuzz_regressions_amount_period),
        cmocka_unit_test(fuzz_regressions_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
