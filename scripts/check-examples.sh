#!/usr/bin/env bash
# Runs every shell example of README.md, docs/*.md and bench/README.md as written, in order,
# from the repository root, and fails on an error the text does not announce.
#
#   scripts/check-examples.sh [--all] [--list] [FILE.md ...]
#
# Conventions (README.md, "Conventions for examples", says the same for authors):
# - A fence tagged ```sh is an example: it is run. Fences that are not meant to be run carry
#   another tag (```text, ```json, ```swift, ```c ...). A fence without a tag, or tagged bash,
#   shell, console or zsh, is an error: tag it sh or something else, so nothing is left out
#   silently.
# - Each sh block runs in a fresh `bash -e -o pipefail` in the repository root, so a block
#   that cds must do it inside the block, and every command in it must succeed.
# - HTML comments on the lines right before the fence (invisible when rendered) change that:
#     <!-- example: skip REASON -->       not run; REASON (required) is printed. For commands
#                                         that cannot run here (this checker itself, ...).
#     <!-- example: slow REASON -->       run only with --all (long benchmarks, big builds);
#                                         REASON is printed when skipped.
#     <!-- example: background PORT -->   started in the background (a server); the checker
#                                         waits until 127.0.0.1:PORT accepts (bounded, and it
#                                         stops waiting if the block exits), then goes on. It
#                                         is stopped (SIGTERM to its process group) at the end
#                                         of its file or by a later `stop PORT`.
#     <!-- example: stop PORT -->         stops the background block on PORT before this block.
#     <!-- example: fails TEXT -->        the block must exit non-zero and print TEXT: an
#                                         error the text announces.
#     <!-- example: timeout SECONDS -->   this block's limit (default EXAMPLES_TIMEOUT, 300 s).
#   A directive not followed by a fence, an unknown one, or a skip/slow without a reason is an
#   error.
#
# Environment: EXAMPLES_TIMEOUT (per block, default 300 s), EXAMPLES_START_WAIT (how long a
# background block may take to open its port, default 900 s: a first `swift run -c release`
# compiles). Every block's output goes to a scratch folder; a failing block's tail is shown.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

ALL=0 LIST=0 FILES=()
for arg in "$@"; do
    case "$arg" in
        --all) ALL=1 ;;
        --list) LIST=1 ;;
        -h|--help) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "check-examples: unknown option $arg (see --help)" >&2; exit 2 ;;
        *) FILES+=("$arg") ;;
    esac
done
if [ ${#FILES[@]} -eq 0 ]; then
    FILES=(README.md)
    for f in docs/*.md; do [ -e "$f" ] && FILES+=("$f"); done
    FILES+=(bench/README.md)
fi
TIMEOUT="${EXAMPLES_TIMEOUT:-300}"
START_WAIT="${EXAMPLES_START_WAIT:-900}"
SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/check-examples.XXXXXX")"

declare -A BG_PID=()   # port -> process-group leader of a background block
stop_background() {    # stop_background PORT
    local port=$1 pid=${BG_PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -TERM -- "-$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    unset "BG_PID[$port]"
}
stop_all() { for port in "${!BG_PID[@]}"; do stop_background "$port"; done; }
trap 'stop_all; rm -rf "$SCRATCH"' EXIT
trap 'exit 130' INT TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# extract FILE: writes SCRATCH/blocks/N.{sh,meta} for each fence and prints problems.
# meta lines: "line N", "lang L", then one line per directive.
extract() {
    rm -rf "$SCRATCH/blocks" && mkdir -p "$SCRATCH/blocks"
    awk -v out="$SCRATCH/blocks" -v file="$1" '
        function problem(msg) { printf "%s:%d: %s\n", file, NR, msg; bad = 1 }
        BEGIN { n = 0; infence = 0; ndir = 0 }
        infence {
            if ($0 ~ "^" fence "[ \t]*$") { infence = 0; close(body); next }
            print > body; next
        }
        /^[ \t]*```/ {
            match($0, /^[ \t]*`+/); fence = substr($0, RSTART, RLENGTH); sub(/^[ \t]*/, "", fence)
            lang = substr($0, RSTART + RLENGTH); gsub(/[ \t].*$/, "", lang)
            n++; infence = 1
            body = sprintf("%s/%03d.sh", out, n); meta = sprintf("%s/%03d.meta", out, n)
            printf "" > body
            printf "line %d\nlang %s\n", NR, lang > meta
            for (i = 1; i <= ndir; i++) print dir[i] > meta
            close(meta)
            if (lang == "" ) problem("fence without a language tag: tag it sh (run by scripts/check-examples.sh) or text/json/... (not run)")
            else if (lang ~ /^(bash|shell|console|zsh)$/) problem("fence tagged " lang ": use sh (run by scripts/check-examples.sh) or text (not run)")
            else if (ndir > 0 && lang != "sh") problem("example directives before a " lang " fence: they apply to sh fences only")
            ndir = 0; next
        }
        /^[ \t]*<!--[ \t]*example:/ {
            d = $0; sub(/^[ \t]*<!--[ \t]*example:[ \t]*/, "", d); sub(/[ \t]*-->[ \t]*$/, "", d)
            split(d, w, /[ \t]+/); kw = w[1]; rest = d; sub(/^[^ \t]+[ \t]*/, "", rest)
            if (kw !~ /^(skip|slow|background|stop|fails|timeout)$/) problem("unknown example directive \"" kw "\" (skip, slow, background, stop, fails, timeout)")
            else if ((kw == "skip" || kw == "slow" || kw == "fails") && rest == "") problem("\"" kw "\" needs a reason or text")
            else if ((kw == "background" || kw == "stop" || kw == "timeout") && rest !~ /^[0-9]+$/) problem("\"" kw "\" needs a number")
            dir[++ndir] = kw " " rest; next
        }
        /^[ \t]*$/ { next }
        { if (ndir > 0) problem("example directive not followed by a fence"); ndir = 0 }
        END {
            if (infence) problem("unclosed fence")
            if (ndir > 0) problem("example directive not followed by a fence")
            exit bad
        }' "$1"
}

failures=0 ran=0 skipped=0
fail_block() {  # fail_block WHERE MESSAGE LOG
    echo "check-examples: FAIL $1: $2" >&2
    if [ -n "${3:-}" ] && [ -s "$3" ]; then
        echo "----- last lines of its output -----" >&2
        tail -n 30 "$3" >&2
        echo "------------------------------------" >&2
    fi
    failures=$((failures + 1))
}

for file in "${FILES[@]}"; do
    [ -f "$file" ] || { echo "check-examples: $file not found" >&2; exit 2; }
    if ! problems="$(extract "$file")"; then
        echo "$problems" >&2
        echo "check-examples: $file breaks the example conventions (see the top of scripts/check-examples.sh)" >&2
        failures=$((failures + 1))
        continue
    fi
    for meta in "$SCRATCH"/blocks/*.meta; do
        [ -e "$meta" ] || continue
        block="${meta%.meta}.sh"
        line="$(sed -n 's/^line //p' "$meta")"
        lang="$(sed -n 's/^lang //p' "$meta")"
        [ "$lang" = sh ] || continue
        where="$file:$line"
        skip="$(sed -n 's/^skip //p' "$meta")"
        slow="$(sed -n 's/^slow //p' "$meta")"
        background="$(sed -n 's/^background //p' "$meta")"
        fails="$(sed -n 's/^fails //p' "$meta")"
        limit="$(sed -n 's/^timeout //p' "$meta")"; limit="${limit:-$TIMEOUT}"
        if [ $LIST -eq 1 ]; then
            echo "$where: ${skip:+skip ($skip)}${slow:+slow ($slow)}${background:+background $background}${fails:+fails ($fails)}"
            sed 's/^/    /' "$block"
            continue
        fi
        for port in $(sed -n 's/^stop //p' "$meta"); do stop_background "$port"; done
        if [ -n "$skip" ]; then
            echo "check-examples: skip $where: $skip"; skipped=$((skipped + 1)); continue
        fi
        if [ -n "$slow" ] && [ $ALL -eq 0 ]; then
            echo "check-examples: skip $where (slow; --all runs it): $slow"; skipped=$((skipped + 1)); continue
        fi
        log="$SCRATCH/$(basename "$file" .md)-$line.log"
        first="$(head -n 1 "$block")"
        if [ -n "$background" ]; then
            if port_open "$background"; then
                fail_block "$where" "port $background is already in use, so this server cannot start; stop what listens there" ""
                break
            fi
            echo "check-examples: start $where (background, port $background): $first"
            setsid bash -e -o pipefail "$block" >"$log" 2>&1 </dev/null &
            BG_PID[$background]=$!
            waited=0
            until port_open "$background"; do
                if ! kill -0 "${BG_PID[$background]}" 2>/dev/null; then
                    wait "${BG_PID[$background]}"; rc=$?
                    unset "BG_PID[$background]"
                    fail_block "$where" "exited with status $rc before port $background opened" "$log"
                    break 2
                fi
                if [ $waited -ge $((START_WAIT * 10)) ]; then
                    fail_block "$where" "port $background did not open within $START_WAIT s" "$log"
                    break 2
                fi
                sleep 0.1; waited=$((waited + 1))
            done
            ran=$((ran + 1))
            continue
        fi
        echo "check-examples: run $where: $first"
        start=$SECONDS
        timeout --kill-after=10 "$limit" bash -e -o pipefail "$block" >"$log" 2>&1 </dev/null
        rc=$?
        ran=$((ran + 1))
        if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
            fail_block "$where" "did not finish within $limit s" "$log"; break
        elif [ -n "$fails" ]; then
            if [ $rc -eq 0 ]; then fail_block "$where" "was announced to fail (\"$fails\") but succeeded" "$log"; break; fi
            if ! grep -qF -- "$fails" "$log"; then fail_block "$where" "failed (status $rc) without the announced \"$fails\"" "$log"; break; fi
        elif [ $rc -ne 0 ]; then
            fail_block "$where" "exited with status $rc" "$log"; break
        fi
        echo "check-examples:   ok ($((SECONDS - start)) s)"
    done
    stop_all
done

[ $LIST -eq 1 ] && exit 0
echo "check-examples: $ran run, $skipped skipped, $failures failed"
[ $failures -eq 0 ]
