#!/usr/bin/env bash
# Audit log cost: server CPU per store.insert with every insert audited (tiers admin + write)
# beside the same load unaudited, in memory and with --persistence sqlite (fsync everysec), in
# one run.
#
#   bench/audit.sh [--seconds S] [--warmup S] [--connections N] [--inflight K] [--no-build]
#
# Prints loadgen's lines labelled `memory`, `memory-audit`, `sqlite`, `sqlite-audit`, then per
# storage `<storage>.audit_added_cpu_us_per_req: X` and `<storage>.audit_cpu_ratio: R`
# (audited / unaudited). See bench/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

seconds=5 warmup=1 connections=50 inflight=10 build=1
while (( $# )); do
    case "$1" in
        --seconds) seconds=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --inflight) inflight=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        *) echo "usage: $0 [--seconds S] [--warmup S] [--connections N] [--inflight K] [--no-build]" >&2; exit 2 ;;
    esac
done

bench_setup
(( build )) && build_noex
require_noex
log "pinning: server '$(server_cpu)', loadgen '$(client_cpu)' (PIN=0 to disable); $(nproc) cores"

# The benchmark's config with every write audited (a later -c wins over proto-config.json).
audited="$BENCH_TMP/audit-config.json"
python3 - "$BENCH_DIR/proto-config.json" "$audited" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["audit"] = {"tiers": ["admin", "write"], "maxEntries": 10000}
json.dump(c, open(sys.argv[2], "w"))
PY

limit=$((60 + ${warmup%.*} + ${seconds%.*} + 30))
declare -A cpu
status=0

# measure LABEL ARGS...: one insert run against a fresh server started with ARGS.
measure() {
    local label=$1 port out; shift
    port=$(free_port)
    start_server noex-proto "$port" "$@" || { log "$label: server did not start"; status=1; return; }
    if out=$(timeout "$limit" $(client_cpu) "$LOADGEN" --port "$port" --seconds "$seconds" --warmup "$warmup" \
            --server-pid "$SERVER_PID" --mode proto --op insert --bucket bench \
            --connections "$connections" --inflight "$inflight" --label "$label"); then
        echo "$out"
    else
        echo "$out"
        log "$label: loadgen failed"
        status=1
    fi
    cpu[$label]=$(sed -n -E "s/^.*\.server_cpu_us_per_req: //p" <<<"$out" | head -n 1)
    stop_server
}

measure memory
measure memory-audit -c "$audited"
rm -f "$BENCH_TMP"/a.db*
measure sqlite --persistence sqlite --db "$BENCH_TMP/a.db" --fsync everysec
rm -f "$BENCH_TMP"/a.db*
measure sqlite-audit -c "$audited" --persistence sqlite --db "$BENCH_TMP/a.db" --fsync everysec
for storage in memory sqlite; do
    base=${cpu[$storage]:-} audit=${cpu[$storage-audit]:-}
    [[ -n "$base" && -n "$audit" ]] || continue
    echo "$storage.audit_added_cpu_us_per_req: $(python3 -c "print(round($audit - $base, 2))")"
    echo "$storage.audit_cpu_ratio: $(ratio "$audit" "$base")"
done
echo "audit.connections: $connections"
echo "audit.inflight: $inflight"
exit "$status"
