#!/usr/bin/env bash
# Protocol benchmarks of noex-server: store.get and store.insert request load, and push fan-out.
#
#   bench/proto.sh [--seconds S] [--warmup S] [--connections N] [--inflight K]
#                  [--subscribers M] [--echo-size B] [--scenarios "get insert fanout echo"]
#                  [--generators N] [--no-build]
#
# Each scenario runs against a fresh `noex-server -c bench/proto-config.json` (auth and rate
# limit off) on a free 127.0.0.1 port. `echo` runs loadgen's echo mode against
# `noex-server --echo` with the same connections and in-flight count: the in-run peer, since the
# original TypeScript server cannot be run here. Prints loadgen's lines (`proto.get.req_per_s: ...`,
# `fanout.pushes_per_s: ...`) and `proto.<op>.ratio_vs_echo: X` (req/s over the echo msgs/s of
# the same run). get, insert and echo run --generators N loadgen processes (default: one per core
# besides the server's) and sum their figures; fanout runs one. See bench/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

seconds=5 warmup=1 connections=100 inflight=10 subscribers=1000 echo_size=80 build=1
scenarios="get insert fanout echo"
generators=$(default_generators)
while (( $# )); do
    case "$1" in
        --seconds) seconds=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --inflight) inflight=$2; shift 2 ;;
        --subscribers) subscribers=$2; shift 2 ;;
        --echo-size) echo_size=$2; shift 2 ;;
        --scenarios) scenarios=$2; shift 2 ;;
        --generators) generators=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        *) echo "usage: $0 [--seconds S] [--warmup S] [--connections N] [--inflight K] [--subscribers M] [--echo-size B] [--scenarios LIST] [--generators N] [--no-build]" >&2; exit 2 ;;
    esac
done

bench_setup
(( build )) && build_noex
require_noex
log "pinning: server '$(server_cpu)', loadgen '$(client_cpu)' (PIN=0 to disable); $(nproc) cores"

# Bounded: connect timeout 60 s + warm-up + measurement, plus slack.
limit=$((60 + ${warmup%.*} + ${seconds%.*} + 30))
declare -A rate
status=0

# run SERVER NAME CONNECTIONS LOADGEN-ARGS...: starts SERVER, runs loadgen (CONNECTIONS > 0:
# $generators processes sharing them; 0: one process), prints its lines, stops SERVER.
run() {
    local server=$1 name=$2 conns=$3 port out ok; shift 3
    port=$(free_port)
    start_server "$server" "$port" || { log "$name skipped: $server did not start"; status=1; return; }
    if (( conns > 0 )); then
        out=$(run_generators "$generators" "$limit" "$seconds" "$conns" --port "$port" --warmup "$warmup" \
            --server-pid "$SERVER_PID" "$@") && ok=1 || ok=0
    else
        out=$(timeout "$limit" $(client_cpu) "$LOADGEN" --port "$port" --seconds "$seconds" --warmup "$warmup" \
            --server-pid "$SERVER_PID" "$@") && ok=1 || ok=0
    fi
    if (( ok )); then
        echo "$out"
    else
        echo "$out"
        log "$name: loadgen failed"
        status=1
    fi
    rate[$name]=$(sed -n -E "s/^[a-z.]+\.(req_per_s|msgs_per_s): //p" <<<"$out" | head -n 1)
    stop_server
}

for scenario in $scenarios; do
    case "$scenario" in
        get|insert)
            run noex-proto "$scenario" "$connections" --mode proto --op "$scenario" --bucket bench \
                --inflight "$inflight" ;;
        fanout)
            run noex-proto fanout 0 --mode fanout --subscribers "$subscribers" --bucket feed --query feed-latest ;;
        echo)
            run noex echo "$connections" --inflight "$inflight" --size "$echo_size" ;;
        *) log "unknown scenario $scenario"; status=1 ;;
    esac
done
echo "proto.connections: $connections"
echo "proto.inflight: $inflight"
for op in get insert; do
    r=$(ratio "${rate[$op]:-}" "${rate[echo]:-}")
    [[ -n "$r" ]] && echo "proto.$op.ratio_vs_echo: $r"
done
exit "$status"
