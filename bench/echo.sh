#!/usr/bin/env bash
# Echo throughput and latency: the same loadgen parameters against each echo server.
#
#   bench/echo.sh [--seconds S] [--warmup S] [--servers "noex hummingbird picows uws"]
#                 [--scenarios "100x10 1000x1"] [--size B] [--generators N] [--no-build]
#
# Prints loadgen's lines (`<server>.c<N>x<K>.echo.msgs_per_s: ...`) for each server and
# scenario (N connections x K messages in flight), then `echo.ratio.noex_vs_<peer>.c<N>x<K>: X`
# (noex's msgs/s over the peer's) and `echo.cpu_ratio.<peer>_vs_noex.c<N>x<K>: X` (the peer's
# server CPU per message over noex's). --generators N loadgen processes share the connections
# (default: one per core besides the server's) and their figures are summed, with
# `<label>.echo.generator_core_share_max`. See bench/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

seconds=10 warmup=2 size=20 build=1
servers="noex hummingbird picows uws"
generators=$(default_generators)
scenarios="100x10 1000x1"
while (( $# )); do
    case "$1" in
        --seconds) seconds=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --servers) servers=$2; shift 2 ;;
        --scenarios) scenarios=$2; shift 2 ;;
        --generators) generators=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        *) echo "usage: $0 [--seconds S] [--warmup S] [--size B] [--servers LIST] [--scenarios LIST] [--generators N] [--no-build]" >&2; exit 2 ;;
    esac
done

bench_setup
(( build )) && build_all
[[ -x "$LOADGEN" ]] || { echo "loadgen is not built" >&2; exit 1; }
log "pinning: server '$(server_cpu)', loadgen '$(client_cpu)' (PIN=0 to disable); $(nproc) cores"

declare -A rate cpu
status=0  # 1 when a loadgen run failed (a server that cannot start is skipped, as documented)
for scenario in $scenarios; do
    connections=${scenario%x*} inflight=${scenario#*x}
    for server in $servers; do
        port=$(free_port)
        start_server "$server" "$port" || { log "$server skipped"; continue; }
        label="$server.c${connections}x${inflight}"
        # Bounded: connect timeout 60 s + warm-up + measurement, plus slack.
        if out=$(run_generators "$generators" $((60 + ${warmup%.*} + ${seconds%.*} + 30)) "$seconds" "$connections" \
                --port "$port" --inflight "$inflight" --size "$size" \
                --warmup "$warmup" --label "$label" --server-pid "$SERVER_PID"); then
            echo "$out"
            rate[$label]=$(sed -n "s/^$label\.echo\.msgs_per_s: //p" <<<"$out")
            cpu[$label]=$(sed -n "s/^$label\.echo\.server_cpu_us_per_msg: //p" <<<"$out")
        else
            echo "$out"
            log "$server: loadgen failed for $scenario"
            status=1
        fi
        stop_server
    done
    for peer in $servers; do
        [[ "$peer" == noex ]] && continue
        s="c${connections}x${inflight}"
        r=$(ratio "${rate[noex.$s]:-}" "${rate[$peer.$s]:-}")
        [[ -n "$r" ]] && echo "echo.ratio.noex_vs_$peer.$s: $r"
        r=$(ratio "${cpu[$peer.$s]:-}" "${cpu[noex.$s]:-}")
        [[ -n "$r" ]] && echo "echo.cpu_ratio.${peer}_vs_noex.$s: $r"
    done
done
exit "$status"
