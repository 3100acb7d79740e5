#!/usr/bin/env bash
# The cluster end to end (docs/cluster.md): a redis-server (no persistence) and 1 or 2
# noex-server node processes (node i pinned to CPU i-1 with taskset) joined to one cluster, the
# same loadgen insert load split across the nodes. One line per figure, prefixed
# `cluster.<N>node.`:
#   - writes/s (sum over the nodes) and server CPU per write (each node applies every write of
#     the cluster, so this is the CPU the whole write costs one node);
#   - pushes/s: loadgen's fan-out mode on every node at once (its subscribers get the pushes of
#     every node's writes);
#   - with 2 nodes, the write-to-push latency across nodes (write on node 1, push on node 2) and
#     the replication lag (answer on node 1 -> push on node 2), p50/p99, paced at 200 writes/s,
#     idle and under a moderate insert load (4 connections, 1 in flight, on each node; a
#     saturating load only measures the backlog) (cluster_latency.py).
#
#   bench/cluster-nodes.sh [--seconds S] [--connections N] [--subscribers M] [--no-build]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

seconds=5 connections=32 inflight=8 subscribers=200 build=1
while (( $# )); do
    case "$1" in
        --seconds) seconds=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --subscribers) subscribers=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        *) echo "usage: $0 [--seconds S] [--connections N] [--subscribers M] [--no-build]" >&2; exit 2 ;;
    esac
done

command -v redis-server >/dev/null || { echo "redis-server is not installed (apt-get install redis-server)" >&2; exit 1; }
bench_setup
(( build )) && build_noex
require_noex
limit=$((60 + ${seconds%.*}))
cpu() { if [[ "$PIN" == 1 ]] && command -v taskset >/dev/null && (( $(nproc) > $1 )); then echo "taskset -c $1"; fi; }

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$BENCH_TMP" --save "" --appendonly no \
    --daemonize no --logfile "$BENCH_TMP/redis.log" &
STARTED_PIDS+=("$!")
wait_port "$redis_port" 10 || { echo "redis-server did not start; see its log" >&2; exit 1; }

NODE_PIDS=() NODE_PORTS=()
# start_nodes N CLUSTER: N nodes of a fresh cluster (its own stream).
start_nodes() {
    local i port
    NODE_PIDS=() NODE_PORTS=()
    for (( i = 0; i < $1; i++ )); do
        port=$(free_port)
        $(cpu "$i") "$NOEX_BIN" -c "$BENCH_DIR/cluster-config.json" --host 127.0.0.1 --port "$port" \
            --cluster "redis://127.0.0.1:$redis_port" --name "$2" >/dev/null 2>"$BENCH_TMP/node$i.err" &
        NODE_PIDS+=("$!") NODE_PORTS+=("$port")
        STARTED_PIDS+=("$!")
        SERVER_PID=$! wait_port "$port" 20 || { echo "node $i did not start: $(cat "$BENCH_TMP/node$i.err")" >&2; exit 1; }
    done
}
stop_nodes() {
    local pid
    for pid in "${NODE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; forget_pid "$pid"; done
}
# sum KEY FILES...: the sum of a figure over loadgen outputs.
sum() { local key=$1; shift; cat "$@" | sed -n -E "s/^[a-z.]+\.$key: //p" | awk '{s += $1} END {printf "%d", s}'; }
avg() { local key=$1; shift; cat "$@" | sed -n -E "s/^[a-z.]+\.$key: //p" | awk '{s += $1; n++} END {if (n) printf "%.1f", s / n}'; }

for nodes in 1 2; do
    p="cluster.${nodes}node."
    start_nodes "$nodes" "bench-insert-$nodes-$RANDOM"
    outs=() LOADGENS=()
    for (( i = 0; i < nodes; i++ )); do
        timeout "$limit" "$LOADGEN" --port "${NODE_PORTS[$i]}" --seconds "$seconds" --warmup 1 --server-pid "${NODE_PIDS[$i]}" \
            --mode proto --op insert --bucket bench --connections $((connections / nodes)) --inflight "$inflight" \
            >"$BENCH_TMP/insert$i.out" &
        LOADGENS+=("$!")
        outs+=("$BENCH_TMP/insert$i.out")
    done
    wait "${LOADGENS[@]}" || true
    echo "${p}writes_per_s: $(sum req_per_s "${outs[@]}")"
    echo "${p}write_p99_us: $(avg p99_us "${outs[@]}")"
    # Each node's CPU over the writes it answered: with equal shares, the CPU all nodes together
    # spend on one write of the cluster.
    echo "${p}server_cpu_us_per_write_all_nodes: $(avg server_cpu_us_per_req "${outs[@]}")"
    echo "${p}write_errors: $(sum errors "${outs[@]}")"
    stop_nodes

    start_nodes "$nodes" "bench-fanout-$nodes-$RANDOM"
    outs=() LOADGENS=()
    for (( i = 0; i < nodes; i++ )); do
        timeout "$limit" "$LOADGEN" --port "${NODE_PORTS[$i]}" --seconds "$seconds" --warmup 1 --server-pid "${NODE_PIDS[$i]}" \
            --mode fanout --subscribers "$subscribers" --bucket feed --query feed-latest >"$BENCH_TMP/fanout$i.out" &
        LOADGENS+=("$!")
        outs+=("$BENCH_TMP/fanout$i.out")
    done
    wait "${LOADGENS[@]}" || true
    echo "${p}subscribers: $((subscribers * nodes))"
    echo "${p}pushes_per_s: $(sum pushes_per_s "${outs[@]}")"
    echo "${p}server_cpu_us_per_push: $(avg server_cpu_us_per_push "${outs[@]}")"
    stop_nodes

    if (( nodes == 2 )); then
        start_nodes 2 "bench-latency-$RANDOM"
        python3 "$BENCH_DIR/cluster_latency.py" --writer "${NODE_PORTS[0]}" --reader "${NODE_PORTS[1]}" \
            --count 1000 --rate 200 --label "${p}idle" || true
        timeout "$limit" "$LOADGEN" --port "${NODE_PORTS[0]}" --seconds "$((seconds + 6))" --warmup 0 \
            --mode proto --op insert --bucket bench --connections 4 --inflight 1 >/dev/null &
        lg1=$!
        timeout "$limit" "$LOADGEN" --port "${NODE_PORTS[1]}" --seconds "$((seconds + 6))" --warmup 0 \
            --mode proto --op insert --bucket bench --connections 4 --inflight 1 >/dev/null &
        lg2=$!
        sleep 1
        python3 "$BENCH_DIR/cluster_latency.py" --writer "${NODE_PORTS[0]}" --reader "${NODE_PORTS[1]}" \
            --count 1000 --rate 200 --label "${p}loaded" || true
        wait "$lg1" "$lg2" || true
        stop_nodes
    fi
done
