#!/usr/bin/env bash
# bench.sh: what `make bench` runs (issue 7; figures and how to read them:
# docs/PERFORMANCE.md). Five scenarios, one after the other, against one local
# PostgreSQL cluster with fsync=on and synchronous_commit=on (deploy/pg.sh; the
# ledger refuses to start otherwise), each on a fresh database:
#
#   ledger             bench_ledger: 64 clients, one transfer per request over ZeroMQ,
#                      100,000 members, 100 hot partner accounts (1 in 10 transfers)
#   baseline_row_lock  bench_sql: the same load as one SQL transaction per transfer
#                      with FOR UPDATE row locks, 64 connections
#   sql_batch_ceiling  bench_sql: 1,000 transfers per transaction, one connection,
#                      no checks: what PostgreSQL itself can absorb
#   http_earn          bench_http: POST /v1/earn through the gateway and every
#                      service, 64 keep-alive connections, 200 members
#   scale              the ledger scenario after preloading 1,000,000 members and
#                      10,000,000 journal entries (preload.sql); also the ledger's
#                      start-up time and memory per account at that size
#
#   tests/bench/bench.sh [--smoke] [BUILD_DIR]     (default build/release)
#
# COAL_BENCH_ONLY=name[,name...] runs only those scenarios (for figures by hand,
# e.g. COAL_BENCH_ONLY=http_earn); results.json then holds only theirs.
#
# It prints a table and writes results.json ({"runs": [{"name", "ops_per_s",
# "p50_ms", "p99_ms", "rss_mb"}, ...], plus the machine) to $COAL_BENCH_OUT
# (default var/bench). The cluster lives in $COAL_VAR/pg (default var/bench, port
# $COAL_PG_PORT, default 55433); a cluster already running there is used as is
# and left running. --smoke runs every scenario for one second on small data
# (about 10 seconds in all): `make check` runs it to keep the benchmark working,
# its figures mean nothing. Exits non-zero when a scenario fails.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

SMOKE=0
if [ "${1:-}" = --smoke ]; then
    SMOKE=1
    shift
fi
O=${1:-build/release}
BIN=$ROOT/$O/bin
export COAL_VAR=${COAL_VAR:-$ROOT/var/bench}
export COAL_PG_PORT=${COAL_PG_PORT:-55433}
OUT=${COAL_BENCH_OUT:-$ROOT/var/bench}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/coal-bench.XXXXXX")
LOGS=$OUT/logs

if [ "$SMOKE" -eq 1 ]; then
    CLIENTS=8 WARMUP=0 SECONDS_RUN=1 MEMBERS=2000 PARTNERS=10 BATCH=100 HTTP_MEMBERS=10
    SCALE_MEMBERS=5000 SCALE_ENTRIES=50000
else
    CLIENTS=64 WARMUP=5 SECONDS_RUN=30 MEMBERS=100000 PARTNERS=100 BATCH=1000 HTTP_MEMBERS=200
    SCALE_MEMBERS=1000000 SCALE_ENTRIES=10000000
fi

die() { echo "bench: $*" >&2; exit 1; }
ONLY=${COAL_BENCH_ONLY:-}
for name in ${ONLY//,/ }; do
    case $name in
    ledger | baseline_row_lock | sql_batch_ceiling | http_earn | scale) ;;
    *) die "COAL_BENCH_ONLY: unknown scenario '$name'" ;;
    esac
done
# want NAME: whether scenario NAME runs.
want() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }
for b in ledger members settlement donation gateway buscall bench_ledger bench_sql bench_http; do
    [ -x "$BIN/$b" ] || die "$BIN/$b is missing (make O=$O tests)"
done
mkdir -p "$OUT" "$LOGS"
rm -f "$OUT/results.json"

# Every process this script starts is listed here and stopped on exit.
PIDS=()
STARTED_PG=0
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    [ "$STARTED_PG" -eq 1 ] && deploy/pg.sh stop >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

if ! deploy/pg.sh status; then
    deploy/pg.sh start
    STARTED_PG=1
fi

# fresh_db NAME: drops NAME and creates it again with every migration, as a copy
# of bench_template (migrated once per run: copying is much faster than
# migrating every database).
deploy/pg.sh psql -d postgres -c "DROP DATABASE IF EXISTS bench_template" >/dev/null
deploy/pg.sh migrate bench_template
fresh_db() {
    deploy/pg.sh psql -d postgres -c "DROP DATABASE IF EXISTS $1" >/dev/null
    deploy/pg.sh psql -d postgres -c "CREATE DATABASE $1 TEMPLATE bench_template" >/dev/null
}

# peak_mb PID...: the sum of the processes' peak resident sizes (VmHWM), in MB.
peak_mb() {
    local kb=0 p v
    for p in "$@"; do
        v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
        kb=$((kb + ${v:-0}))
    done
    echo $((kb / 1024))
}

# pg_mb: PostgreSQL's resident memory now: the private memory of the postmaster
# and of each of its children, plus the shared buffers once, in MB.
pg_mb() {
    local pm p anon=0 shm=0 v
    pm=$(head -1 "$COAL_VAR/pg/data/postmaster.pid")
    for p in "$pm" $(pgrep -P "$pm"); do
        v=$(awk '/^RssAnon:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
        anon=$((anon + ${v:-0}))
        v=$(awk '/^RssShmem:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
        [ "${v:-0}" -gt "$shm" ] && shm=$v
    done
    echo $(((anon + shm) / 1024))
}

# start_ledger DB: starts the ledger on DB and waits until it answers ping;
# sets LEDGER_PID and STARTUP_MS (from exec to the first answer).
LEDGER_EP=ipc://$WORK/ledger.sock
start_ledger() {
    local t0
    t0=$(date +%s%N)
    COAL_LEDGER_DB="$(deploy/pg.sh conninfo coal_ledger "$1")" COAL_LEDGER_BIND=$LEDGER_EP \
        COAL_LEDGER_PUBLISH=ipc://$WORK/journal.sock COAL_LOG_LEVEL=warn \
        "$BIN/ledger" 2>>"$LOGS/ledger-$1.log" &
    LEDGER_PID=$!
    PIDS+=("$LEDGER_PID")
    until "$BIN/buscall" "$LEDGER_EP" ledger.ping >/dev/null 2>&1; do
        kill -0 "$LEDGER_PID" 2>/dev/null || die "the ledger exited (log: $LOGS/ledger-$1.log)"
        sleep 0.1
    done
    STARTUP_MS=$((($(date +%s%N) - t0) / 1000000))
}

stop_pid() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# record LINE RSS_MB: keeps one scenario's figures (LINE is a client's JSON line).
RUNS=()
ERRORS=()
field() { sed -nE "s/.*\"$1\":\"?([^,\"}]*).*/\1/p" <<<"$2"; }
record() {
    local line=$1 rss=$2 name
    name=$(field name "$line")
    [ -n "$name" ] || die "a scenario printed no result: $line"
    RUNS+=("{\"name\":\"$name\",\"ops_per_s\":$(field ops_per_s "$line"),\"p50_ms\":$(field p50_ms "$line"),\"p99_ms\":$(field p99_ms "$line"),\"rss_mb\":$rss}")
    ERRORS+=("\"$name\":$(field errors "$line")")
    printf '%-18s %10s %8s %8s %8s %8s\n' "$name" "$(field ops_per_s "$line")" \
        "$(field p50_ms "$line")" "$(field p99_ms "$line")" "$rss" "$(field errors "$line")" \
        >>"$WORK/table"
}

# sample_pg_mb_later SECONDS FILE: writes pg_mb to FILE after SECONDS (mid-run);
# SAMPLER is its pid.
sample_pg_mb_later() {
    (sleep "$1"; pg_mb >"$2") &
    SAMPLER=$!
}

echo "bench: $(nproc) CPUs, $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MB;" \
    "load $(cut -d' ' -f1-3 /proc/loadavg); ${SECONDS_RUN} s per scenario after ${WARMUP} s warm-up"
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
MID=$((WARMUP + SECONDS_RUN / 2))

# ---- ledger --------------------------------------------------------------------
if want ledger; then
    echo "bench: ledger"
    fresh_db bench_ledger
    start_ledger bench_ledger
    line=$("$BIN/bench_ledger" --endpoint="$LEDGER_EP" --clients=$CLIENTS --warmup=$WARMUP \
        --seconds=$SECONDS_RUN --members=$MEMBERS --partners=$PARTNERS 2>>"$LOGS/bench.log") ||
        die "bench_ledger failed (logs: $LOGS)"
    record "$line" "$(peak_mb "$LEDGER_PID")"
    stop_pid "$LEDGER_PID"
fi

# ---- baseline_row_lock and sql_batch_ceiling: same accounts, plain SQL ------------
if want baseline_row_lock || want sql_batch_ceiling; then
    echo "bench: baseline_row_lock, sql_batch_ceiling"
    fresh_db bench_sql
    deploy/pg.sh psql -d bench_sql -v members=$MEMBERS -v entries=$MEMBERS \
        -f tests/bench/preload.sql >/dev/null
    SQL_CI=$(deploy/pg.sh conninfo coal_admin bench_sql)
    for s in baseline_row_lock sql_batch_ceiling; do
        want "$s" || continue
        sample_pg_mb_later "$MID" "$WORK/pg_mb"
        line=$("$BIN/bench_sql" --scenario=$s --conninfo="$SQL_CI" --clients=$CLIENTS \
            --warmup=$WARMUP --seconds=$SECONDS_RUN --members=$MEMBERS --partners=$PARTNERS \
            --batch=$BATCH 2>>"$LOGS/bench.log") || die "bench_sql $s failed (logs: $LOGS)"
        wait "$SAMPLER"
        record "$line" "$(cat "$WORK/pg_mb")"
    done
fi

# ---- http_earn: the gateway and every service -----------------------------------
if want http_earn; then
    echo "bench: http_earn"
    fresh_db bench_http
    start_ledger bench_http
    SVC_PIDS=("$LEDGER_PID")
    export COAL_LEDGER_CONNECT=$LEDGER_EP COAL_LOG_LEVEL=warn
    export COAL_MEMBERS_BIND=ipc://$WORK/members.sock COAL_MEMBERS_CONNECT=ipc://$WORK/members.sock
    export COAL_SETTLEMENT_BIND=ipc://$WORK/settlement.sock
    export COAL_SETTLEMENT_CONNECT=ipc://$WORK/settlement.sock
    export COAL_DONATION_BIND=ipc://$WORK/donation.sock COAL_DONATION_CONNECT=ipc://$WORK/donation.sock
    export COAL_DONATION_SECRETS_DIR=$WORK/secrets COAL_GATEWAY_SECRETS_DIR=$WORK/secrets
    # One partner key sends everything: its rate limit must not be what is measured.
    export COAL_GATEWAY_PORT=0 COAL_GATEWAY_PORT_FILE=$WORK/gateway.port
    export COAL_GATEWAY_RATE_PER_S=1000000 COAL_GATEWAY_RATE_BURST=1000000
    for svc in members settlement donation gateway; do
        env "COAL_${svc^^}_DB=$(deploy/pg.sh conninfo "coal_$svc" bench_http)" "$BIN/$svc" \
            2>>"$LOGS/$svc.log" &
        SVC_PIDS+=($!)
        PIDS+=($!)
    done
    for _ in $(seq 100); do
        [ -s "$WORK/gateway.port" ] && [ -s "$WORK/secrets/admin.key" ] && break
        sleep 0.1
    done
    [ -s "$WORK/gateway.port" ] || die "the gateway did not start (log: $LOGS/gateway.log)"
    URL=http://127.0.0.1:$(cat "$WORK/gateway.port")
    line=$("$BIN/bench_http" --url="$URL" --admin-key-file="$WORK/secrets/admin.key" \
        --clients=$CLIENTS --warmup=$WARMUP --seconds=$SECONDS_RUN --members=$HTTP_MEMBERS \
        2>>"$LOGS/bench.log") || die "bench_http failed (logs: $LOGS)"
    record "$line" "$(peak_mb "${SVC_PIDS[@]}")"
    for p in "${SVC_PIDS[@]}"; do stop_pid "$p"; done
fi

# ---- scale: the ledger on a big database ------------------------------------------
if want scale; then
    echo "bench: scale (preloading $SCALE_MEMBERS members, $SCALE_ENTRIES journal entries)"
    fresh_db bench_scale
    t0=$(date +%s%N)
    deploy/pg.sh psql -d bench_scale -v members=$SCALE_MEMBERS -v entries=$SCALE_ENTRIES \
        -f tests/bench/preload.sql >/dev/null
    PRELOAD_S=$(((($(date +%s%N) - t0) / 1000000 + 500) / 1000))
    start_ledger bench_scale
    SCALE_STARTUP_MS=$STARTUP_MS
    SCALE_LOADED_MB=$(peak_mb "$LEDGER_PID")
    line=$("$BIN/bench_ledger" --name=scale --setup=0 --endpoint="$LEDGER_EP" --clients=$CLIENTS \
        --warmup=$WARMUP --seconds=$SECONDS_RUN --members=$SCALE_MEMBERS --partners=100 \
        2>>"$LOGS/bench.log") || die "bench_ledger (scale) failed (logs: $LOGS)"
    SCALE_RSS=$(peak_mb "$LEDGER_PID")
    record "$line" "$SCALE_RSS"
    SCALE_RSS_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$LEDGER_PID/status")
    stop_pid "$LEDGER_PID"
    deploy/pg.sh psql -d postgres -c "DROP DATABASE IF EXISTS bench_scale" >/dev/null
fi

# ---- report --------------------------------------------------------------------
ACCOUNTS=$((SCALE_MEMBERS + 101))
SCALE_JSON=
if want scale; then
    BYTES_PER_ACCOUNT=$((SCALE_RSS_KB * 1024 / ACCOUNTS))
    SCALE_JSON=$(printf ',"scale":{"members":%s,"journal_entries":%s,"preload_s":%s,"startup_s":%s,"rss_after_load_mb":%s,"bytes_per_account":%s}' \
        "$SCALE_MEMBERS" "$SCALE_ENTRIES" "$PRELOAD_S" \
        "$(awk -v m="$SCALE_STARTUP_MS" 'BEGIN { printf "%.1f", m / 1000 }')" \
        "$SCALE_LOADED_MB" "$BYTES_PER_ACCOUNT")
fi
{
    printf '{"runs":['
    (IFS=,; printf '%s' "${RUNS[*]}")
    printf '],"cpus":%s,"memory_mb":%s,' "$(nproc)" \
        "$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo)"
    printf '"load_before":%s,"load_after":%s,"smoke":%s,' "$LOAD_BEFORE" \
        "$(cut -d' ' -f1 /proc/loadavg)" "$([ "$SMOKE" -eq 1 ] && echo true || echo false)"
    printf '"errors":{%s}%s}\n' "$(IFS=,; echo "${ERRORS[*]}")" "$SCALE_JSON"
} >"$OUT/results.json"

echo
printf '%-18s %10s %8s %8s %8s %8s\n' scenario ops/s p50_ms p99_ms rss_mb errors
cat "$WORK/table"
if want scale; then
    echo "scale: preload ${PRELOAD_S} s, ledger start-up $(awk -v m="$SCALE_STARTUP_MS" \
        'BEGIN { printf "%.1f", m / 1000 }') s, ${BYTES_PER_ACCOUNT} bytes per account" \
        "($ACCOUNTS accounts, $SCALE_ENTRIES journal entries)"
fi
echo "results: $OUT/results.json (load $(cut -d' ' -f1-3 /proc/loadavg))"
