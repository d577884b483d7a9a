#!/usr/bin/env bash
# run.sh: runs every test of each build directory given (e.g. build/release
# build/asan) against one throwaway PostgreSQL cluster, and ends with the summary
# line "N passed, N failed" (counting cmocka tests; a binary that dies without a
# cmocka summary counts as one failure). COAL_TEST_ONLY=<substring> runs only
# the binaries whose path contains it. Then every HTTP exchange the e2e tests
# recorded is checked against proto/openapi.yaml (tests/openapi/check.mjs, with
# node; each exchange and the document itself count as one test).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

export COAL_VAR=$(mktemp -d /tmp/coal-test.XXXXXX)
# Ports below the kernel's ephemeral range (32768 and up on Linux), where no
# outgoing connection of another test can hold the port first.
export COAL_PG_PORT=${COAL_TEST_PG_PORT:-$((20000 + RANDOM % 12000))}
export COAL_PROTO_DIR=$ROOT/proto
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$ROOT/tests/lsan.supp:print_suppressions=0
# End-to-end tests record every HTTP exchange here for the OpenAPI check.
export COAL_E2E_RECORD=$COAL_VAR/e2e-exchanges.jsonl

cleanup() {
    pkill -f "$COAL_VAR" 2>/dev/null
    deploy/pg.sh stop >/dev/null 2>&1
    rm -rf "$COAL_VAR"
}
trap cleanup EXIT

# A random port may be taken (another cluster, a helper's test run): try a few.
started=0
for _ in 1 2 3; do
    if deploy/pg.sh start; then
        started=1
        break
    fi
    [ -n "${COAL_TEST_PG_PORT:-}" ] && break
    deploy/pg.sh stop >/dev/null 2>&1
    export COAL_PG_PORT=$((20000 + RANDOM % 12000))
done
if [ "$started" -ne 1 ]; then
    echo "0 passed, 1 failed (the test cluster did not start)"
    exit 1
fi

passed=0
failed=0
failures=()
LOGDIR=$COAL_VAR/logs
mkdir -p "$LOGDIR"

# run_one BIN [ENV...]: runs a cmocka binary, adds its counts.
run_one() {
    local bin=$1 name log out rc p f
    shift
    name=${bin#build/}
    case "$name" in *${COAL_TEST_ONLY:-}*) ;; *) return 0 ;; esac
    log=$LOGDIR/$(echo "$name" | tr / _).log
    echo "== $name"
    env "$@" timeout 900 "$bin" >"$log" 2>&1
    rc=$?
    out=$(grep -E '^\[  (PASSED|FAILED)  \] [0-9]+ test' "$log")
    p=$(echo "$out" | sed -nE 's/^\[  PASSED  \] ([0-9]+) test.*/\1/p' | tail -n 1)
    f=$(echo "$out" | sed -nE 's/^\[  FAILED  \] ([0-9]+) test.*/\1/p' | tail -n 1)
    p=${p:-0}
    f=${f:-0}
    if [ -z "$out" ] || { [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; }; then
        f=$((f + 1))   # crashed, sanitizer abort or timeout
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -gt 0 ]; then
        failures+=("$name")
        tail -n 40 "$log"
    else
        echo "   $p passed"
    fi
}

for dir in "$@"; do
    for t in "$dir"/tests/unit/test_*; do
        [ -x "$t" ] && [ "${t%.o}" = "$t" ] && [ "${t%.d}" = "$t" ] && run_one "$t"
    done
    for t in "$dir"/tests/integration/test_*; do
        [ -x "$t" ] && [ "${t%.o}" = "$t" ] && [ "${t%.d}" = "$t" ] && run_one "$t" COAL_BIN_DIR="$ROOT/$dir/bin"
    done
    for t in "$dir"/tests/e2e/test_*; do
        [ -x "$t" ] && [ "${t%.o}" = "$t" ] && [ "${t%.d}" = "$t" ] && run_one "$t" COAL_BIN_DIR="$ROOT/$dir/bin"
    done
done

# run_openapi: checks proto/openapi.yaml itself and every exchange the e2e tests
# recorded against it (tests/openapi/check.mjs; one test each), adds its counts.
run_openapi() {
    local log=$LOGDIR/openapi.log out p f
    [ -s "$COAL_E2E_RECORD" ] || return 0
    echo "== openapi ($(wc -l <"$COAL_E2E_RECORD") recorded exchanges)"
    if ! command -v node >/dev/null 2>&1; then
        echo "   node is not installed: cannot check the responses against proto/openapi.yaml" \
            "(run deploy/bootstrap.sh)"
        failed=$((failed + 1))
        failures+=("openapi")
        return 0
    fi
    timeout 300 node tests/openapi/check.mjs proto/openapi.yaml "$COAL_E2E_RECORD" >"$log" 2>&1
    out=$(tail -n 1 "$log")
    p=$(echo "$out" | sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1/p')
    f=$(echo "$out" | sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\2/p')
    if [ -z "$p" ]; then
        # No summary: node could not run the checker (e.g. tests/openapi's
        # dependencies are not installed: deploy/bootstrap.sh installs them).
        echo "openapi: the checker stopped without its summary; are tests/openapi's npm" \
            "packages installed (deploy/bootstrap.sh)?" >>"$log"
        p=0
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -gt 0 ]; then
        failures+=("openapi")
        tail -n 40 "$log"
    else
        echo "   $p passed"
    fi
}
run_openapi

# run_bench_smoke: a 10-second smoke run of `make bench` (tests/bench/bench.sh
# --smoke) with the first release build given, on this run's cluster. One test:
# it passes when every scenario completes and results.json is well-formed JSON
# naming each scenario with its figures. No thresholds: timings are not tests.
run_bench_smoke() {
    local dir log=$LOGDIR/bench-smoke.log out=$COAL_VAR/bench-smoke
    case "bench-smoke" in *${COAL_TEST_ONLY:-}*) ;; *) return 0 ;; esac
    for dir in "$@"; do
        case "${dir##*/}" in *release) ;; *) continue ;; esac
        echo "== bench smoke ($dir)"
        if COAL_BENCH_OUT=$out timeout 300 tests/bench/bench.sh --smoke "$dir" >"$log" 2>&1 &&
            node -e '
                const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
                const want = ["ledger", "baseline_row_lock", "sql_batch_ceiling", "http_earn", "scale"];
                const ok = Array.isArray(r.runs) && want.every((n) => r.runs.some((x) =>
                    x.name === n && ["ops_per_s", "p50_ms", "p99_ms", "rss_mb"].every((f) =>
                        typeof x[f] === "number")) && r.cpus > 0 && r.memory_mb > 0);
                process.exit(ok ? 0 : 1);' "$out/results.json" >>"$log" 2>&1; then
            passed=$((passed + 1))
            echo "   1 passed"
        else
            failed=$((failed + 1))
            failures+=("bench-smoke")
            tail -n 40 "$log"
        fi
        return 0
    done
}
run_bench_smoke "$@"

# run_valgrind: memcheck over the unit tests of the release build (the ASan build
# already runs everything under ASan and UBSan; valgrind also sees what those do
# not, e.g. reads of uninitialized memory). One test per binary: it passes when
# the binary passes and valgrind reports no error and no definite leak.
run_valgrind() {
    local dir t name log n=0 bad=()
    for dir in "$@"; do
        [ "${dir##*/}" = release ] || continue
        if ! command -v valgrind >/dev/null 2>&1; then
            echo "== valgrind: not installed (deploy/bootstrap.sh installs it)"
            failed=$((failed + 1))
            failures+=("valgrind")
            return 0
        fi
        echo "== valgrind memcheck ($dir/tests/unit)"
        for t in "$dir"/tests/unit/test_*; do
            [ -x "$t" ] && [ "${t%.o}" = "$t" ] && [ "${t%.d}" = "$t" ] || continue
            name=$(basename "$t")
            log=$LOGDIR/valgrind_$name.log
            if timeout 600 valgrind -q --error-exitcode=99 --leak-check=full \
                    --errors-for-leak-kinds=definite "$t" >"$log" 2>&1; then
                n=$((n + 1))
            else
                bad+=("$name")
                tail -n 30 "$log"
            fi
        done
    done
    [ $n -eq 0 ] && [ ${#bad[@]} -eq 0 ] && return 0
    passed=$((passed + n))
    failed=$((failed + ${#bad[@]}))
    if [ ${#bad[@]} -gt 0 ]; then
        failures+=("${bad[@]/#/valgrind:}")
    else
        echo "   $n passed"
    fi
}
run_valgrind "$@"

if [ ${#failures[@]} -gt 0 ]; then
    echo "failing: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
