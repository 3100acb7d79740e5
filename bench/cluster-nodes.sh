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
#   - with --lag (or --lag-only, which skips the rest): flow control (docs/cluster.md#bounded-staleness-flow-control)
#     under a saturating insert load on both nodes, once with cluster.maxLagMs MS (default 1000)
#     and once with it off: the replication lag (noex_cluster_apply_lag_ms of both nodes sampled
#     every 100 ms: apply time minus append time of the last applied entry, p50/p99/max) next to
#     the bound, the largest lag flow control estimated, cluster_latency.py probes at 200/s
#     beside the load (node 1 answer -> node 2 push), writes accepted and refused, and what
#     publishing and reading positions cost Redis (HSET/HGETALL calls per second, INFO commandstats).
#
#   bench/cluster-nodes.sh [--seconds S] [--connections N] [--subscribers M] [--lag|--lag-only] [--max-lag MS] [--no-build]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

seconds=5 connections=32 inflight=8 subscribers=200 build=1 lag=0 main=1 max_lag=1000
while (( $# )); do
    case "$1" in
        --lag) lag=1; shift ;;
        --lag-only) lag=1 main=0; shift ;;
        --max-lag) max_lag=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --subscribers) subscribers=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        *) echo "usage: $0 [--seconds S] [--connections N] [--subscribers M] [--lag|--lag-only] [--max-lag MS] [--no-build]" >&2; exit 2 ;;
    esac
done

require_redis
bench_setup
(( build )) && build_noex
require_noex
limit=$((60 + ${seconds%.*}))
cpu() { if [[ "$PIN" == 1 ]] && command -v taskset >/dev/null && (( $(nproc) > $1 )); then echo "taskset -c $1"; fi; }

start_redis
redis_port=$REDIS_PORT

NODE_PIDS=() NODE_PORTS=()
# start_nodes N CLUSTER [CONFIG]: N nodes of a fresh cluster (its own stream).
start_nodes() {
    local i port
    NODE_PIDS=() NODE_PORTS=()
    for (( i = 0; i < $1; i++ )); do
        port=$(free_port)
        $(cpu "$i") "$NOEX_BIN" -c "${3:-$BENCH_DIR/cluster-config.json}" --host 127.0.0.1 --port "$port" \
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
    (( main )) || break
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

# cmdstat CALLS-OF: calls of one Redis command so far (INFO commandstats).
cmdstat() { redis-cli -p "$redis_port" INFO commandstats | sed -n -E "s/^cmdstat_$1:calls=([0-9]+),.*/\1/p" | tr -d '\r'; }
# Every 100 ms until killed, one line per node: noex_cluster_apply_lag_ms (how long after its
# append the node applied the entry it applied last) and noex_cluster_max_lag_ms (flow
# control's estimate of the slowest node).
sample_lag() {
    local port
    while true; do
        for port in "${NODE_PORTS[@]}"; do
            curl -s --max-time 1 "http://127.0.0.1:$port/metrics" \
                | awk '/^noex_cluster_apply_lag_ms /{a=$2} /^noex_cluster_max_lag_ms /{m=$2} END {if (a != "") print a, m}'
        done
        sleep 0.1
    done
}
# pctl P: the P-th percentile of the numbers on stdin.
pctl() { sort -n | awk -v p="$1" '{v[NR] = $1} END {i = int(NR * p / 100); if (i < 1) i = 1; if (i > NR) i = NR; print v[i] + 0}'; }

if (( lag )); then
    for bound in "$max_lag" 0; do
        p="cluster.2node.saturated.maxlag_${bound}."
        config="$BENCH_TMP/cluster-lag-$bound.json"
        python3 -c 'import json,sys; c = json.load(open(sys.argv[1])); c["cluster"] = {"maxLagMs": int(sys.argv[2])}; json.dump(c, open(sys.argv[3], "w"))' \
            "$BENCH_DIR/cluster-config.json" "$bound" "$config"
        start_nodes 2 "bench-lag-$bound-$RANDOM" "$config"
        hset0=$(cmdstat hset) hgetall0=$(cmdstat hgetall) t0=$(date +%s.%N)
        outs=() LOADGENS=()
        for (( i = 0; i < 2; i++ )); do
            timeout "$limit" "$LOADGEN" --port "${NODE_PORTS[$i]}" --seconds "$((seconds + 2))" --warmup 0 \
                --mode proto --op insert --bucket bench --connections $((connections / 2)) --inflight "$inflight" \
                >"$BENCH_TMP/lag$i.out" &
            LOADGENS+=("$!")
            outs+=("$BENCH_TMP/lag$i.out")
        done
        sample_lag >"$BENCH_TMP/lag-samples" &
        sampler=$!
        sleep 1
        python3 "$BENCH_DIR/cluster_latency.py" --writer "${NODE_PORTS[0]}" --reader "${NODE_PORTS[1]}" \
            --count $((200 * seconds)) --rate 200 --label "${p%.}" || true
        wait "${LOADGENS[@]}" || true
        kill "$sampler" 2>/dev/null || true
        wait "$sampler" 2>/dev/null || true
        t1=$(date +%s.%N)
        echo "${p}bound_ms: $bound"
        echo "${p}apply_lag_samples: $(wc -l <"$BENCH_TMP/lag-samples")"
        echo "${p}apply_lag_p50_ms: $(cut -d' ' -f1 "$BENCH_TMP/lag-samples" | pctl 50)"
        echo "${p}apply_lag_p99_ms: $(cut -d' ' -f1 "$BENCH_TMP/lag-samples" | pctl 99)"
        echo "${p}apply_lag_max_ms: $(cut -d' ' -f1 "$BENCH_TMP/lag-samples" | pctl 100)"
        echo "${p}flow_control_estimate_max_ms: $(cut -d' ' -f2 "$BENCH_TMP/lag-samples" | pctl 100)"
        echo "${p}accepted_writes_per_s: $(sum req_per_s "${outs[@]}")"
        echo "${p}writes_refused: $(sum errors "${outs[@]}")"
        echo "${p}redis_hset_per_s: $(awk -v a="$hset0" -v b="$(cmdstat hset)" -v t0="$t0" -v t1="$t1" 'BEGIN {printf "%.1f", (b - a) / (t1 - t0)}')"
        echo "${p}redis_hgetall_per_s: $(awk -v a="$hgetall0" -v b="$(cmdstat hgetall)" -v t0="$t0" -v t1="$t1" 'BEGIN {printf "%.1f", (b - a) / (t1 - t0)}')"
        stop_nodes
    done
fi
