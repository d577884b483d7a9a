#!/usr/bin/env bash
# run.sh SECONDS FUZZ_DIR TARGET...: runs each libFuzzer target (FUZZ_DIR/TARGET,
# built by `make fuzz`) for SECONDS on a working copy of its committed seed corpus
# (FUZZ_DIR/corpus/TARGET: the committed tests/fuzz/corpus/TARGET is only read, so
# a run never writes into the repository; inputs found by earlier runs are kept
# there). Prints one line per target; a crash, leak, UB report or timeout leaves
# its input in FUZZ_DIR/artifacts/TARGET/ and its log in FUZZ_DIR/logs/, and makes
# the script exit 1 once every target ran. Needs no database and no network.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
secs=${1:?seconds}
dir=${2:?fuzz build directory}
shift 2

# Leaks are findings too (libFuzzer checks after each input that allocates).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$ROOT/tests/lsan.supp:print_suppressions=0

failed=0
for t in "$@"; do
    work=$dir/corpus/$t
    art=$dir/artifacts/$t
    log=$dir/logs/$t.log
    mkdir -p "$work" "$art" "$dir/logs"
    if [ -d "tests/fuzz/corpus/$t" ]; then
        cp -n "tests/fuzz/corpus/$t"/* "$work"/ 2>/dev/null
    fi
    # A target's own dictionary, else the JSON one.
    dict=tests/fuzz/json.dict
    [ -f "tests/fuzz/$t.dict" ] && dict=tests/fuzz/$t.dict
    "$dir/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$art/" -dict="$dict" "$work" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    size=$(find "$work" -type f | wc -l)
    if [ "$rc" -eq 0 ]; then
        printf '%-20s ok      %4ss  %10s runs  corpus %s\n' "$t" "$secs" "${runs:-?}" "$size"
    else
        failed=1
        found=$(ls -t "$art" 2>/dev/null | head -n 1)
        what=$(grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [a-zA-Z -]+|runtime error: .*|fuzz property broken: .*' "$log")
        printf '%-20s FAILED  %s; input %s; log %s\n' "$t" "${what:-exit $rc}" \
            "${found:+$art/$found}" "$log"
    fi
done
exit "$failed"
