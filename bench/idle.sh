#!/usr/bin/env bash
# Memory per idle connection: each server's resident set (VmRSS) before and while it holds
# N idle, handshaken WebSocket connections.
#
#   bench/idle.sh [--connections 10000] [--servers "noex hummingbird picows uws"] [--no-build]
#
# Prints, per server: `idle.rss_before_kb.<server>: N`, `idle.rss_with_kb.<server>: N`,
# `idle.connected.<server>: N` and `idle.bytes_per_conn.<server>: N`. See bench/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

connections=10000 build=1 hold=6
servers="noex hummingbird picows uws"
while (( $# )); do
    case "$1" in
        --connections) connections=$2; shift 2 ;;
        --servers) servers=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        *) echo "usage: $0 [--connections N] [--servers LIST] [--no-build]" >&2; exit 2 ;;
    esac
done

bench_setup
(( build )) && build_all
[[ -x "$LOADGEN" ]] || { echo "loadgen is not built" >&2; exit 1; }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

status=0  # 1 when a run failed (a server that cannot start is skipped, as documented)
for server in $servers; do
    port=$(free_port)
    start_server "$server" "$port" || { log "$server skipped"; continue; }
    sleep 1
    before=$(rss_kb "$SERVER_PID")
    out="$BENCH_TMP/$server.idle"
    timeout 120 $(client_cpu) "$LOADGEN" --mode idle --port "$port" --connections "$connections" \
        --connect-concurrency 128 --seconds "$hold" --label "$server" >"$out" &
    loadgen_pid=$!
    STARTED_PIDS+=("$loadgen_pid")
    # Wait (bounded) for loadgen to report that every connection is open, let the server settle,
    # then sample its RSS while the connections are still held.
    deadline=$((SECONDS + 100))
    until grep -q "idle.connected:" "$out" 2>/dev/null || (( SECONDS >= deadline )) || ! kill -0 "$loadgen_pid" 2>/dev/null; do
        sleep 0.2
    done
    connected=$(sed -n 's/^.*idle\.connected: //p' "$out")
    if [[ -z "$connected" ]]; then
        log "$server: loadgen reported no connections"
        status=1
    else
        sleep 2
        with=$(rss_kb "$SERVER_PID")
        echo "idle.rss_before_kb.$server: $before"
        echo "idle.rss_with_kb.$server: $with"
        echo "idle.connected.$server: $connected"
        if (( connected > 0 )); then
            echo "idle.bytes_per_conn.$server: $(( (with - before) * 1024 / connected ))"
        fi
    fi
    wait "$loadgen_pid" 2>/dev/null || { log "$server: loadgen exited non-zero: $(grep -v 'idle.connected' "$out" | tail -3)"; status=1; }
    forget_pid "$loadgen_pid"
    stop_server
done
exit "$status"
