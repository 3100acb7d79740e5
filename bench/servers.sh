# Shared by echo.sh and idle.sh (sourced, not run): building, starting and stopping the echo
# servers under comparison. Every server binds 127.0.0.1 on a free port; everything started
# here is recorded in STARTED_PIDS and killed by stop_all (installed as an EXIT trap).
#
# Servers: noex (noex-server --echo), hummingbird (peers/hummingbird-echo),
#          picows (peers/picows_echo.py in a venv), uws (peers/uws_echo.c: uWebSockets' C API, linked
#          against the uWS library socketify ships, same venv), noex-proto (noex-server -c proto-config.json).

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(cd "$BENCH_DIR/.." && pwd)"
VENV="${BENCH_VENV:-$BENCH_DIR/.venv}"
LOADGEN="$BENCH_DIR/.build/release/loadgen"
# NOEX_BIN may name another build, e.g. a copy of the binary before a change, for before/after runs.
NOEX_BIN="${NOEX_BIN:-$ROOT_DIR/.build/release/noex-server}"
HUMMINGBIRD_BIN="$BENCH_DIR/peers/hummingbird-echo/.build/release/hummingbird-echo"
UWS_BIN="$BENCH_DIR/peers/.build/uws-echo"
STARTED_PIDS=()
SERVER_PID=""

# The machine may have few cores: by default the server runs on CPU 0 and loadgen on CPU 1
# (PIN=0 disables pinning). Each server thus gets one core, whatever its thread count.
PIN="${PIN:-1}"
server_cpu() { if [[ "$PIN" == 1 ]] && command -v taskset >/dev/null && (( $(nproc) >= 2 )); then echo "taskset -c 0"; fi; }
client_cpu() { if [[ "$PIN" == 1 ]] && command -v taskset >/dev/null && (( $(nproc) >= 2 )); then echo "taskset -c 1"; fi; }

log() { echo "# $*" >&2; }

stop_all() {
    local pid
    for pid in "${STARTED_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${STARTED_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    STARTED_PIDS=()
}

raise_fd_limit() { ulimit -n "$(ulimit -Hn)" 2>/dev/null || true; }

# What every bench script does before starting servers: a scratch folder, traps that stop
# everything it started (also on INT/TERM), and the highest fd limit allowed.
bench_setup() {
    BENCH_TMP=$(mktemp -d)
    trap 'stop_all; rm -rf "$BENCH_TMP"' EXIT
    trap 'exit 130' INT TERM
    raise_fd_limit
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT SECONDS: succeeds once something accepts TCP connections on 127.0.0.1:PORT.
wait_port() {
    local port=$1 deadline=$((SECONDS + $2))
    while (( SECONDS < deadline )); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        if [[ -n "$SERVER_PID" ]] && ! kill -0 "$SERVER_PID" 2>/dev/null; then return 1; fi
        sleep 0.2
    done
    return 1
}

# require_redis: exits unless redis-server is installed (call it before a long build).
require_redis() {
    command -v redis-server >/dev/null || { echo "redis-server is not installed (apt-get install redis-server)" >&2; exit 1; }
}

# start_redis [CPU-PREFIX...]: a throw-away redis-server (no persistence) on a free 127.0.0.1 port
# in $BENCH_TMP, stopped with everything else; sets REDIS_PORT. Exits if it does not start.
start_redis() {
    require_redis
    REDIS_PORT=$(free_port)
    "$@" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$BENCH_TMP" --save "" --appendonly no \
        --daemonize no --logfile "$BENCH_TMP/redis.log" &
    STARTED_PIDS+=("$!")
    SERVER_PID=$! wait_port "$REDIS_PORT" 10 || { echo "redis-server did not start; see $BENCH_TMP/redis.log" >&2; exit 1; }
}

# build_noex: release builds of loadgen and noex-server only (the protocol benchmarks).
build_noex() {
    log "building loadgen (release)"
    swift build -c release --package-path "$BENCH_DIR" --product loadgen >&2
    log "building noex-server (release)"
    swift build -c release --package-path "$ROOT_DIR" --product noex-server >&2
}

# require_noex: exits unless both loadgen and noex-server are built.
require_noex() {
    [[ -x "$LOADGEN" ]] || { echo "loadgen is not built" >&2; exit 1; }
    [[ -x "$NOEX_BIN" ]] || { echo "noex-server is not built" >&2; exit 1; }
}

# build_all: release builds of loadgen, noex-server and the Hummingbird peer, and the picows
# venv. A peer that cannot be built is reported and left out (its binary stays missing).
build_all() {
    log "building loadgen (release)"
    swift build -c release --package-path "$BENCH_DIR" --product loadgen >&2
    log "building noex-server (release)"
    swift build -c release --package-path "$ROOT_DIR" --product noex-server >&2 \
        || log "noex-server did not build; it is left out"
    log "building the Hummingbird echo peer (release)"
    swift build -c release --package-path "$BENCH_DIR/peers/hummingbird-echo" >&2 \
        || log "the Hummingbird peer did not build; it is left out"
    if [[ ! -x "$VENV/bin/python" ]]; then
        log "creating the picows venv in $VENV"
        python3 -m venv "$VENV" >&2 || true
    fi
    if [[ -x "$VENV/bin/python" ]] && ! "$VENV/bin/python" -c 'import picows' 2>/dev/null; then
        "$VENV/bin/pip" install -q picows uvloop >&2 || log "picows did not install; it is left out"
    fi
    if [[ -x "$VENV/bin/python" ]] && ! "$VENV/bin/python" -c 'import socketify' 2>/dev/null; then
        "$VENV/bin/pip" install -q socketify >&2 || log "socketify (uWS) did not install; uws is left out"
    fi
    build_uws || log "the uWS echo peer did not build; uws is left out"
}

# build_uws: compiles peers/uws_echo.c against the uWebSockets library inside the venv's socketify
# package (libsocketify_linux_amd64.so exports uWS's C API), with an rpath to it.
build_uws() {
    local lib
    lib=$("$VENV/bin/python" -c 'import os, socketify; print(os.path.dirname(socketify.__file__))' 2>/dev/null) || return 1
    [[ -f "$lib/libsocketify_linux_amd64.so" ]] || { log "uws: no libsocketify_linux_amd64.so in $lib"; return 1; }
    mkdir -p "$(dirname "$UWS_BIN")"
    log "building the uWS echo peer (cc -O2)"
    cc -O2 -o "$UWS_BIN" "$BENCH_DIR/peers/uws_echo.c" -L"$lib" -l:libsocketify_linux_amd64.so -Wl,-rpath,"$lib" >&2
}

# start_server NAME PORT [FLAGS...]: starts the named echo server in the background and waits
# until it accepts connections; sets SERVER_PID. Fails (returns 1) if the server is unavailable.
# FLAGS go to noex-proto (e.g. --persistence sqlite, persist.sh).
start_server() {
    local name=$1 port=$2
    local extra=("${@:3}")
    SERVER_PID=""
    case "$name" in
        noex)
            [[ -x "$NOEX_BIN" ]] || { log "noex: $NOEX_BIN missing"; return 1; }
            $(server_cpu) "$NOEX_BIN" --echo --host 127.0.0.1 --port "$port" >/dev/null 2>"$BENCH_TMP/$name.err" &
            ;;
        noex-proto)
            # The protocol server with the benchmark's buckets and query (proto.sh).
            [[ -x "$NOEX_BIN" ]] || { log "noex-proto: $NOEX_BIN missing"; return 1; }
            $(server_cpu) "$NOEX_BIN" -c "$BENCH_DIR/proto-config.json" --host 127.0.0.1 --port "$port" \
                "${extra[@]}" >/dev/null 2>"$BENCH_TMP/$name.err" &
            ;;
        hummingbird)
            [[ -x "$HUMMINGBIRD_BIN" ]] || { log "hummingbird: $HUMMINGBIRD_BIN missing"; return 1; }
            $(server_cpu) "$HUMMINGBIRD_BIN" --host 127.0.0.1 --port "$port" >/dev/null 2>"$BENCH_TMP/$name.err" &
            ;;
        picows)
            "$VENV/bin/python" -c 'import picows' 2>/dev/null || { log "picows: not installed"; return 1; }
            $(server_cpu) "$VENV/bin/python" "$BENCH_DIR/peers/picows_echo.py" --host 127.0.0.1 --port "$port" \
                >/dev/null 2>"$BENCH_TMP/$name.err" &
            ;;
        uws)
            [[ -x "$UWS_BIN" ]] || { log "uws: $UWS_BIN missing (built by build_all from peers/uws_echo.c)"; return 1; }
            $(server_cpu) "$UWS_BIN" --host 127.0.0.1 --port "$port" >/dev/null 2>"$BENCH_TMP/$name.err" &
            ;;
        *) log "unknown server $name"; return 1 ;;
    esac
    SERVER_PID=$!
    STARTED_PIDS+=("$SERVER_PID")
    if ! wait_port "$port" 20; then
        log "$name did not start listening on $port: $(tail -c 400 "$BENCH_TMP/$name.err" 2>/dev/null)"
        stop_server
        return 1
    fi
}

stop_server() {
    [[ -n "$SERVER_PID" ]] || return 0
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    forget_pid "$SERVER_PID"
    SERVER_PID=""
}

# forget_pid PID: the process has ended; stop_all need not kill it.
forget_pid() {
    local kept=() pid
    for pid in "${STARTED_PIDS[@]}"; do [[ "$pid" == "$1" ]] || kept+=("$pid"); done
    STARTED_PIDS=("${kept[@]}")
}

# ratio A B: A / B with two decimals (empty when either is missing or B is zero).
ratio() {
    python3 -c 'import sys; a, b = sys.argv[1], sys.argv[2]; print(f"{float(a) / float(b):.2f}" if a and b and float(b) else "")' "$1" "$2"
}

# Several load generators: one loadgen process per core besides the server's by default (at
# least one), so that the generator is not what limits the server. Generator i runs on CPU
# 1 + i mod (cores - 1) (PIN=0: unpinned).
default_generators() { local n=$(( $(nproc) - 1 )); (( n >= 1 )) || n=1; echo "$n"; }
generator_cpu() {
    if [[ "$PIN" == 1 ]] && command -v taskset >/dev/null && (( $(nproc) >= 2 )); then
        echo "taskset -c $(( 1 + $1 % ($(nproc) - 1) ))"
    fi
}

# run_generators N LIMIT SECONDS CONNECTIONS LOADGEN-ARGS...: N loadgen processes load one
# server at once and share CONNECTIONS between them; prints their combined figures (rates
# summed, the worst percentiles, the server's and the generators' CPU per message, see
# combine_generators.py) and each generator's own rate and core share on stderr. LIMIT bounds
# each process in seconds. Fails when any generator fails.
run_generators() {
    local n=$1 limit=$2 seconds=$3 connections=$4; shift 4
    local i per rc=0 pids=() files=()
    (( n <= connections )) || n=$connections
    for ((i = 0; i < n; i++)); do
        per=$(( connections / n + (i < connections % n ? 1 : 0) ))
        files+=("$BENCH_TMP/generator.$i.out")
        timeout "$limit" $(generator_cpu "$i") "$LOADGEN" --connections "$per" --seconds "$seconds" "$@" \
            >"${files[$i]}" &
        pids+=("$!")
    done
    for i in "${!pids[@]}"; do wait "${pids[$i]}" || rc=1; done
    if (( n > 1 )); then
        for i in "${!files[@]}"; do
            log "generator $i: $(grep -E '(_per_s|client_cpu_us_per_[a-z]+):' "${files[$i]}" | tr '\n' ' ')"
        done
    fi
    python3 "$BENCH_DIR/combine_generators.py" "$seconds" "${files[@]}" || rc=1
    return "$rc"
}
