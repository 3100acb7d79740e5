#!/usr/bin/env bash
# The cluster foundation's log path (docs/cluster.md): starts a redis-server (no persistence)
# on a free 127.0.0.1 port in a scratch folder, then cluster-bench with 1 and with 2 simulated
# nodes in one process, saturated (256 appends in flight) and paced at 5000 writes/s:
# appends/s, entries applied on every node per second, and the append-to-apply latency
# (p50/p99; under saturation it is the backlog, paced it is the replication lag). One line per
# figure, prefixed with the node count and the mode.
#
#   bench/cluster.sh [--writes W] [--no-build]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

writes=20000 build=1
while (( $# )); do
    case "$1" in
        --writes) writes=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        *) echo "usage: $0 [--writes W] [--no-build]" >&2; exit 2 ;;
    esac
done

require_redis
bench_setup
if (( build )); then
    log "building cluster-bench (release)"
    swift build -c release --package-path "$BENCH_DIR" --product cluster-bench >&2
fi
start_redis $(server_cpu)
port=$REDIS_PORT
for nodes in 1 2; do
    $(client_cpu) "$BENCH_DIR/.build/release/cluster-bench" --port "$port" --nodes "$nodes" --writes "$writes" \
        | sed "s/^cluster\./cluster.${nodes}node.saturated./"
    $(client_cpu) "$BENCH_DIR/.build/release/cluster-bench" --port "$port" --nodes "$nodes" --writes "$((writes / 4))" --rate 5000 \
        | sed "s/^cluster\./cluster.${nodes}node.paced./"
done
