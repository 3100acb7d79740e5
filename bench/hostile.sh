#!/usr/bin/env bash
# Hostile clients: the server's peak memory and a well-behaved client's latency while N
# connections pipeline requests and never read the answers, beside the same figures without
# them, in one run.
#
#   bench/hostile.sh [--connections 100] [--burst 2000] [--seconds 5] [--warmup 1] [--no-build]
#
# Each half runs against a fresh `noex-server -c bench/proto-config.json` (default backpressure:
# 1 MiB hard limit per connection). The well-behaved client is loadgen's proto get mode with
# one connection and one request in flight. The hostile clients (loadgen --mode hostile) each
# send a burst of `server.connections` requests (large answers, no store growth) and stop
# reading. Prints `calm.*` and `hostile.*` figures: the proto get latency lines, the server's
# peak resident set (VmHWM) and, for the hostile half, its growth per hostile connection.
# See bench/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

connections=100 burst=2000 seconds=5 warmup=1 build=1
while (( $# )); do
    case "$1" in
        --connections) connections=$2; shift 2 ;;
        --burst) burst=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        *) echo "usage: $0 [--connections N] [--burst K] [--seconds S] [--warmup S] [--no-build]" >&2; exit 2 ;;
    esac
done

bench_setup
(( build )) && build_noex
require_noex

peak_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
# Bounded: connect timeout + warm-up + measurement, plus slack.
limit=$((60 + ${warmup%.*} + ${seconds%.*} + 30))
status=0

# measure LABEL: the well-behaved client's latency against the running server.
measure() {
    local out
    if ! out=$(timeout "$limit" $(client_cpu) "$LOADGEN" --mode proto --op get --bucket bench --port "$port" \
            --connections 1 --inflight 1 --seconds "$seconds" --warmup "$warmup" --label "$1"); then
        log "$1: loadgen failed"
        status=1
    fi
    grep -E "\.(p50_us|p99_us|req_per_s|errors):" <<<"$out" || true
}

# Without hostile clients.
port=$(free_port)
start_server noex-proto "$port" || exit 1
base_kb=$(peak_kb "$SERVER_PID")
measure calm
calm_kb=$(peak_kb "$SERVER_PID")
stop_server
echo "calm.server_start_rss_kb: $base_kb"
echo "calm.server_peak_rss_kb: $calm_kb"

# With N hostile clients, held for the whole measurement.
port=$(free_port)
start_server noex-proto "$port" || exit 1
out="$BENCH_TMP/hostile.out"
hold=$(( ${warmup%.*} + ${seconds%.*} + 5 ))
timeout "$limit" $(client_cpu) "$LOADGEN" --mode hostile --port "$port" --connections "$connections" \
    --inflight "$burst" --seconds "$hold" >"$out" &
hostile_pid=$!
STARTED_PIDS+=("$hostile_pid")
deadline=$((SECONDS + 60))
until grep -q "hostile.connected:" "$out" 2>/dev/null || (( SECONDS >= deadline )) || ! kill -0 "$hostile_pid" 2>/dev/null; do
    sleep 0.2
done
grep -q "hostile.connected:" "$out" || { log "the hostile clients did not connect: $(cat "$out")"; exit 1; }
sleep 1  # the bursts arrive and the server's queues fill
measure hostile
hostile_kb=$(peak_kb "$SERVER_PID")
wait "$hostile_pid" 2>/dev/null || { log "hostile loadgen exited non-zero: $(tail -3 "$out")"; status=1; }
forget_pid "$hostile_pid"
stop_server
sed -n -E 's/^(hostile\.(connected|dropped)): /\1: /p' "$out"
echo "hostile.burst_requests_per_conn: $burst"
echo "hostile.server_peak_rss_kb: $hostile_kb"
echo "hostile.server_rss_growth_per_conn_kb: $(( (hostile_kb - calm_kb) / connections ))"
echo "hostile.hard_limit_per_conn_kb: 1024"
exit "$status"
