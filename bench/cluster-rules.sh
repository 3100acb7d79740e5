#!/usr/bin/env bash
# The rule engine through the cluster's log (docs/cluster.md#rule-engine-inputs): a
# redis-server (no persistence) and 2 noex-server nodes with the rule engine on; events emitted
# on node 1 at a fixed rate, pushed to a rules.subscribe subscriber on node 2, then one timer per
# event fired through the lease holder (cluster_rules_latency.py). One line per figure, prefixed
# `cluster.rules.`.
#
#   bench/cluster-rules.sh [--count N] [--rate R] [--no-build]
#   NOEX_BIN=.build/debug/noex-server bench/cluster-rules.sh --no-build   # a debug build
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

count=500 rate=200 build=1
while (( $# )); do
    case "$1" in
        --count) count=$2; shift 2 ;;
        --rate) rate=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        *) echo "usage: $0 [--count N] [--rate R] [--no-build]" >&2; exit 2 ;;
    esac
done

require_redis
bench_setup
if (( build )); then
    log "building noex-server (release)"
    swift build -c release --package-path "$ROOT_DIR" --product noex-server >&2
fi
[[ -x "$NOEX_BIN" ]] || { echo "noex-server is not built ($NOEX_BIN)" >&2; exit 1; }
sed 's/"rules": false/"rules": true/' "$BENCH_DIR/cluster-config.json" >"$BENCH_TMP/config.json"

start_redis
redis_port=$REDIS_PORT
ports=() name="bench-rules-$RANDOM"
for i in 0 1; do
    port=$(free_port)
    "$NOEX_BIN" -c "$BENCH_TMP/config.json" --host 127.0.0.1 --port "$port" \
        --cluster "redis://127.0.0.1:$redis_port" --name "$name" >/dev/null 2>"$BENCH_TMP/node$i.err" &
    STARTED_PIDS+=("$!")
    SERVER_PID=$! wait_port "$port" 20 || { echo "node $i did not start: $(cat "$BENCH_TMP/node$i.err")" >&2; exit 1; }
    ports+=("$port")
done
timeout $((60 + count * 2 / rate)) python3 "$BENCH_DIR/cluster_rules_latency.py" --writer "${ports[0]}" --reader "${ports[1]}" \
    --count "$count" --rate "$rate" --label cluster.rules
