#!/usr/bin/env bash
# Push fan-out against its floor: the same machine, the same subscriber count, one run.
#
#   bench/fanout.sh [--seconds S] [--warmup S] [--subscribers M] [--size B] [--no-build]
#
# 1. The floor: fanout-floor writes one prepared B-byte frame to M loopback sockets per round
#    from one shared buffer with uv_try_write (server side on CPU 0, the reading clients on
#    CPU 1): `fanout.floor_cpu_us_per_send`, the CPU one send per subscriber costs at least.
# 2. noex-server (`-c bench/proto-config.json`): loadgen's fanout mode, one insert until all M
#    subscribers got its push (`fanout.server_cpu_us_per_push`, ...).
# Then `fanout.server_vs_floor: X` (server CPU per push over the floor's CPU per send).
# B defaults to the size of the server's push frame in step 2. See bench/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

seconds=5 warmup=1 subscribers=1000 size=174 build=1
while (( $# )); do
    case "$1" in
        --seconds) seconds=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --subscribers) subscribers=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        *) echo "usage: $0 [--seconds S] [--warmup S] [--subscribers M] [--size B] [--no-build]" >&2; exit 2 ;;
    esac
done

FLOOR="$BENCH_DIR/.build/release/fanout-floor"
bench_setup
if (( build )); then
    build_noex
    log "building fanout-floor (release)"
    swift build -c release --package-path "$BENCH_DIR" --product fanout-floor >&2
fi
require_noex
[[ -x "$FLOOR" ]] || { echo "fanout-floor is not built" >&2; exit 1; }
limit=$((60 + ${warmup%.*} + ${seconds%.*} + 30))
status=0

# The floor: its server side first (it listens), then the clients; both bounded.
port=$(free_port)
timeout "$limit" $(server_cpu) "$FLOOR" --role server --port "$port" --connections "$subscribers" \
    --size "$size" --seconds "$seconds" >"$BENCH_TMP/floor.out" 2>"$BENCH_TMP/floor.err" &
floor_pid=$!
STARTED_PIDS+=("$floor_pid")
# Not wait_port: a probe connection would count as a subscriber. The floor says when it listens.
for _ in $(seq 100); do grep -qs listening "$BENCH_TMP/floor.err" && break; sleep 0.2; done
grep -qs listening "$BENCH_TMP/floor.err" || { log "fanout-floor did not listen: $(cat "$BENCH_TMP/floor.err")"; exit 1; }
timeout "$limit" $(client_cpu) "$FLOOR" --role clients --port "$port" --connections "$subscribers" \
    --seconds "$seconds" >"$BENCH_TMP/floor-clients.out" || { log "fanout-floor clients failed"; status=1; }
wait "$floor_pid" || { log "fanout-floor failed"; status=1; }
forget_pid "$floor_pid"
cat "$BENCH_TMP/floor.out"
floor=$(sed -n 's/^fanout.floor_cpu_us_per_send: //p' "$BENCH_TMP/floor.out")

# The server.
port=$(free_port)
start_server noex-proto "$port" || { log "noex-proto did not start"; exit 1; }
if out=$(timeout "$limit" $(client_cpu) "$LOADGEN" --port "$port" --seconds "$seconds" --warmup "$warmup" \
        --server-pid "$SERVER_PID" --mode fanout --subscribers "$subscribers" --bucket feed --query feed-latest); then
    echo "$out"
else
    echo "$out"
    log "fanout: loadgen failed"
    status=1
fi
stop_server
server=$(sed -n 's/^fanout.server_cpu_us_per_push: //p' <<<"$out")
r=$(ratio "$server" "$floor")
[[ -n "$r" ]] && echo "fanout.server_vs_floor: $r"
exit "$status"
