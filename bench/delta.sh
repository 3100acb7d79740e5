#!/usr/bin/env bash
# Delta subscriptions vs full-result pushes: a query over 20k records, one insert per push.
#
#   bench/delta.sh [--records N] [--inserts K] [--full-inserts K] [--no-build]
#
# Starts `noex-server -c bench/delta-config.json` (a `rows` bucket and its `rows-all` query) on a
# free 127.0.0.1 port and runs bench/delta_client.py against it: bytes per push and server CPU
# per push for a full-result subscriber and a delta subscriber of the same query, in the same
# server process, beside the insert alone. See bench/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

records=20000 inserts=300 full_inserts=40 build=1
while (( $# )); do
    case "$1" in
        --records) records=$2; shift 2 ;;
        --inserts) inserts=$2; shift 2 ;;
        --full-inserts) full_inserts=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        *) echo "usage: $0 [--records N] [--inserts K] [--full-inserts K] [--no-build]" >&2; exit 2 ;;
    esac
done

bench_setup
if (( build )); then
    log "building noex-server (release)"
    swift build -c release --package-path "$ROOT_DIR" --product noex-server >&2
fi
[[ -x "$NOEX_BIN" ]] || { echo "noex-server is not built" >&2; exit 1; }
log "pinning: server '$(server_cpu)', client '$(client_cpu)' (PIN=0 to disable); $(nproc) cores"

port=$(free_port)
# The protocol server with the `rows` bucket and `rows-all` query; a hard write limit above the
# 20k-record result (about 1.7 MB), so the full-result pushes are not dropped.
$(server_cpu) "$NOEX_BIN" -c "$BENCH_DIR/delta-config.json" --host 127.0.0.1 --port "$port" \
    >/dev/null 2>"$BENCH_TMP/delta.err" &
SERVER_PID=$!
STARTED_PIDS+=("$SERVER_PID")
wait_port "$port" 20 || { log "noex-server did not start: $(tail -c 400 "$BENCH_TMP/delta.err")"; exit 1; }
status=0
timeout 600 $(client_cpu) python3 "$BENCH_DIR/delta_client.py" --port "$port" --server-pid "$SERVER_PID" \
    --records "$records" --inserts "$inserts" --full-inserts "$full_inserts" || status=1
stop_server
exit "$status"
