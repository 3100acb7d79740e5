#!/usr/bin/env bash
# Durable storage benchmarks: insert and transaction load against noex-server in memory and
# with --persistence sqlite under each fsync policy and with --persistence file, in one run; then startup (load) time for
# databases of 100k and 1M records.
#
#   bench/persist.sh [--seconds S] [--warmup S] [--connections N] [--inflight K] [--rounds R]
#                    [--startup "100000 1000000"] [--no-build]
#
# Prints loadgen's lines, labelled by configuration (`memory.proto.insert.req_per_s: ...`,
# `sqlite-everysec.proto.transaction.server_cpu_us_per_req: ...`), then
# `<config>.insert_cpu_ratio_vs_memory: X`, `startup.<n>_records_s: T` and the server's peak
# resident set once it answers, `startup.<n>_records_peak_mb: M`. See bench/README.md.
# `--rounds R` (default 1) measures the inserts of memory and of the three sqlite policies R
# times, interleaved, and prints each ratio as the median of the rounds' ratios (the CPU of
# one run moves by ~5% on a shared VM), with `<config>.insert_cpu_ratio_vs_memory_rounds:`
# listing them; the transaction load and the file engine are measured in the first round only.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

seconds=5 warmup=1 connections=50 inflight=10 build=1 rounds=1 startup="100000 1000000"
while (( $# )); do
    case "$1" in
        --seconds) seconds=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --inflight) inflight=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --startup) startup=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        *) echo "usage: $0 [--seconds S] [--warmup S] [--connections N] [--inflight K] [--rounds R] [--startup LIST] [--no-build]" >&2; exit 2 ;;
    esac
done

bench_setup
(( build )) && build_noex
require_noex
log "pinning: server '$(server_cpu)', loadgen '$(client_cpu)' (PIN=0 to disable); $(nproc) cores"

limit=$((60 + ${warmup%.*} + ${seconds%.*} + 30))
declare -A cpu
status=0

# measure LABEL OP ARGS...: one loadgen run of OP against a fresh server started with ARGS.
measure() {
    local label=$1 op=$2 port out; shift 2
    port=$(free_port)
    start_server noex-proto "$port" "$@" || { log "$label: server did not start"; status=1; return; }
    if out=$(timeout "$limit" $(client_cpu) "$LOADGEN" --port "$port" --seconds "$seconds" --warmup "$warmup" \
            --server-pid "$SERVER_PID" --mode proto --op "$op" --bucket bench \
            --connections "$connections" --inflight "$inflight" --label "$label"); then
        echo "$out"
    else
        echo "$out"
        log "$label $op: loadgen failed"
        status=1
    fi
    cpu[$label.$op]=$(sed -n -E "s/^.*\.server_cpu_us_per_req: //p" <<<"$out" | head -n 1)
    stop_server
}

declare -A ratios
for ((round = 1; round <= rounds; round++)); do
    for op in insert transaction; do
        (( round > 1 )) && [[ $op == transaction ]] && continue
        measure memory "$op"
        for policy in no everysec always; do
            rm -f "$BENCH_TMP"/p.db*
            measure "sqlite-$policy" "$op" --persistence sqlite --db "$BENCH_TMP/p.db" --fsync "$policy"
        done
        (( round > 1 )) && continue
        rm -rf "$BENCH_TMP/data"
        measure file "$op" --persistence file --data-dir "$BENCH_TMP/data"
        r=$(ratio "${cpu[file.insert]:-}" "${cpu[memory.insert]:-}")
        [[ -n "$r" && $op == insert ]] && ratios[file]=$r
    done
    for policy in no everysec always; do
        r=$(ratio "${cpu[sqlite-$policy.insert]:-}" "${cpu[memory.insert]:-}")
        [[ -n "$r" ]] && ratios[sqlite-$policy]+="$r "
    done
done
for policy in no everysec always; do
    list=${ratios[sqlite-$policy]:-}
    [[ -z "$list" ]] && continue
    median=$(python3 -c 'import statistics, sys; print(f"{statistics.median(map(float, sys.argv[1:])):.2f}")' $list)
    echo "sqlite-$policy.insert_cpu_ratio_vs_memory: $median"
    (( rounds > 1 )) && echo "sqlite-$policy.insert_cpu_ratio_vs_memory_rounds: ${list% }"
done
[[ -n "${ratios[file]:-}" ]] && echo "file.insert_cpu_ratio_vs_memory: ${ratios[file]}"

# Startup: a database of N records written by sqlite3's own bulk insert (same rows the server
# writes), then the time from exec to the port answering.
for n in $startup; do
    db="$BENCH_TMP/startup-$n.db"
    rm -f "$db"*
    port=$(free_port)
    start_server noex-proto "$port" --persistence sqlite --db "$db" || { log "startup: server did not start"; status=1; continue; }
    stop_server
    python3 - "$db" "$n" <<'PY'
import sqlite3, sys
db, n = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db)
c.executemany("INSERT INTO records (bucket, key, record) VALUES ('bench', ?, ?)",
    (('"k%d"' % i, '{"id":"k%d","n":%d,"_version":1,"_createdAt":1700000000000,"_updatedAt":1700000000000}' % (i, i))
     for i in range(n)))
c.commit()
PY
    port=$(free_port)
    t0=$(date +%s.%N)
    start_server noex-proto "$port" --persistence sqlite --db "$db" || { log "startup $n: server did not start"; status=1; continue; }
    t1=$(date +%s.%N)
    peak_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status")
    stop_server
    echo "startup.${n}_records_s: $(python3 -c "print(round($t1 - $t0, 2))")"
    echo "startup.${n}_records_peak_mb: $((peak_kb / 1024))"
done
echo "persist.connections: $connections"
echo "persist.inflight: $inflight"
exit "$status"
