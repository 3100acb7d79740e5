#!/usr/bin/env bash
# Built-in identity: logins/s and the p99 of store.get on another connection while logins run,
# beside the same p99 without logins, from one run against one server.
#
#   bench/identity.sh [--seconds S] [--logins N] [--no-build]
#
# Starts `noex-server -c bench/proto-config.json --auth --admin-secret …` on a free 127.0.0.1
# port (not pinned to one CPU: the scrypt hashes run on libuv's threadpool, beside the loop),
# then bench/identity_client.py: a store.get probe alone for S seconds, then the same probe
# while N connections log in back to back. Prints `identity.logins_per_s: X`,
# `identity.get_p99_ms.idle: Y`, `identity.get_p99_ms.during_logins: Z` (and p50s, counts).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

seconds=5 logins=8 build=1
while (( $# )); do
    case "$1" in
        --seconds) seconds=$2; shift 2 ;;
        --logins) logins=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        *) echo "usage: $0 [--seconds S] [--logins N] [--no-build]" >&2; exit 2 ;;
    esac
done

bench_setup
if (( build )); then
    log "building noex-server (release)"
    swift build -c release --package-path "$ROOT_DIR" --product noex-server >&2
fi
[[ -x "$NOEX_BIN" ]] || { echo "noex-server is not built" >&2; exit 1; }
PIN=0
port=$(free_port)
start_server noex-proto "$port" --auth --admin-secret bench-secret || { log "the server did not start"; exit 1; }
timeout $((2 * ${seconds%.*} + 60)) python3 "$BENCH_DIR/identity_client.py" --port "$port" --secret bench-secret \
    --seconds "$seconds" --logins "$logins"
stop_server
