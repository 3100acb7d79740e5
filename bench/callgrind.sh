#!/usr/bin/env bash
# User-space instructions per operation of noex-server, counted by valgrind's callgrind: exact
# and repeatable on a loaded machine, where CPU-time figures move by tens of percent.
#
#   bench/callgrind.sh [--ops "echo get insert fanout"] [--connections N] [--inflight K]
#                      [--subscribers M] [--settle S] [--window S] [--no-build] [-- SERVER-FLAGS...]
#
# For each op it starts the server under callgrind (`--echo` for echo; `-c bench/proto-config.json`
# plus SERVER-FLAGS for the protocol ops), drives it with loadgen (N connections x K in flight),
# zeroes the counters `--settle` seconds after the start (set-up and warm-up done), dumps them
# `--window` seconds later, and divides the instructions of the window by the operations in it
# (calls of `EchoDelegate.onText` for echo, of `ProtocolCore.process` for the others). Prints
# `callgrind.<op>.instructions_per_op: N`, `callgrind.<op>.ops: N` and the dump's path; the
# server runs about fifty times slower under callgrind, so the windows hold tens of thousands of
# operations. `callgrind_annotate <dump>` shows where they went. NOEX_BIN runs another binary.
#
# `fanout` is loadgen's fanout mode (M subscribers, default 200, of `feed-latest`; one insert
# until every subscriber got its push): the window's instructions over the calls of
# `ProtocolCore.sendPush`, printed as `callgrind.fanout.instructions_per_push`. Its settle and
# window default to 12 and 6 s (the subscribers connect slowly under callgrind).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

ops="echo get insert" connections=10 inflight=10 subscribers=200 settle="" window="" build=1
while (( $# )); do
    case "$1" in
        --ops) ops=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --inflight) inflight=$2; shift 2 ;;
        --subscribers) subscribers=$2; shift 2 ;;
        --settle) settle=$2; shift 2 ;;
        --window) window=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        --) shift; break ;;
        *) echo "usage: $0 [--ops LIST] [--connections N] [--inflight K] [--subscribers M] [--settle S] [--window S] [--no-build] [-- SERVER-FLAGS...]" >&2; exit 2 ;;
    esac
done
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

bench_setup
(( build )) && build_noex
require_noex
status=0

for op in $ops; do
    port=$(free_port)
    out="$BENCH_TMP/callgrind.$op"
    op_settle=${settle:-6} op_window=${window:-4} figure=instructions_per_op
    load=(--connections "$connections" --inflight "$inflight")
    case "$op" in
        echo) server=(--echo) mode=(--mode echo) counted="EchoDelegate onText" ;;
        get|insert) server=(-c "$BENCH_DIR/proto-config.json" "$@") mode=(--mode proto --op "$op") counted="ProtocolCore process" ;;
        fanout)
            server=(-c "$BENCH_DIR/proto-config.json" "$@") mode=(--mode fanout --bucket feed --query feed-latest)
            load=(--subscribers "$subscribers") counted="ProtocolCore sendPush" figure=instructions_per_push
            op_settle=${settle:-12} op_window=${window:-6} ;;
        *) log "unknown op $op (echo, get, insert, fanout)"; status=1; continue ;;
    esac
    valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$out" \
        "$NOEX_BIN" "${server[@]}" --host 127.0.0.1 --port "$port" >/dev/null 2>"$BENCH_TMP/$op.err" &
    SERVER_PID=$!
    STARTED_PIDS+=("$SERVER_PID")
    if ! wait_port "$port" 60; then
        log "$op: the server did not start under callgrind: $(tail -c 300 "$BENCH_TMP/$op.err")"
        status=1; stop_all; continue
    fi
    ( sleep "$op_settle"; callgrind_control -z "$SERVER_PID" >/dev/null 2>&1; sleep "$op_window"; callgrind_control -d "$SERVER_PID" >/dev/null 2>&1 ) &
    marks=$!
    timeout $((op_settle + op_window + 60)) $(client_cpu) "$LOADGEN" "${mode[@]}" --port "$port" \
        "${load[@]}" --warmup 1 --seconds $((op_settle + op_window + 2)) >/dev/null \
        || { log "$op: loadgen failed"; status=1; }
    wait "$marks" || true
    stop_all
    dump=$(ls -t "$out".* 2>/dev/null | head -1)
    [[ -n "$dump" ]] || { log "$op: no callgrind dump"; status=1; continue; }
    kept="/tmp/noex-callgrind.$op.$(date +%s)"
    cp "$dump" "$kept"
    # shellcheck disable=SC2086
    python3 "$BENCH_DIR/callgrind_calls.py" "$kept" $counted | while read -r total calls; do
        if (( calls == 0 )); then log "$op: no operations in the window"; exit 1; fi
        echo "callgrind.$op.$figure: $((total / calls))"
        echo "callgrind.$op.ops: $calls"
    done || status=1
    echo "callgrind.$op.dump: $kept"
done
exit "$status"
