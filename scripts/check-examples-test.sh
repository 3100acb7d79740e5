#!/usr/bin/env bash
# Tests scripts/check-examples.sh on small Markdown files: that it runs what it must, refuses
# what would let an example slip through unchecked, and stops the servers it starts.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CHECK=scripts/check-examples.sh
DIR="$(mktemp -d "${TMPDIR:-/tmp}/check-examples-test.XXXXXX")"
trap 'rm -rf "$DIR"' EXIT
failures=0
F='```'

# expect NAME STATUS TEXT MARKDOWN: the checker on MARKDOWN exits with STATUS and prints TEXT.
expect() {
    local name=$1 status=$2 text=$3 md="$DIR/$1.md" rc
    printf '%s\n' "$4" >"$md"
    EXAMPLES_START_WAIT=20 "$CHECK" "$md" >"$DIR/$name.out" 2>&1
    rc=$?
    if [ "$rc" -ne "$status" ] || ! grep -qF -- "$text" "$DIR/$name.out"; then
        echo "check-examples-test: FAIL $name: status $rc (wanted $status), output:" >&2
        sed 's/^/    /' "$DIR/$name.out" >&2
        failures=$((failures + 1))
    else
        echo "check-examples-test: ok $name"
    fi
}

expect runs-sh 0 "1 run, 0 skipped, 0 failed" "$F"'sh
echo hello > '"$DIR"'/ran
'"$F"
[ -f "$DIR/ran" ] || { echo "check-examples-test: FAIL runs-sh: the block did not run" >&2; failures=$((failures + 1)); }
expect failing-command 1 "exited with status 1" "$F"'sh
true
false
true
'"$F"
expect pipefail 1 "exited with status" "$F"'sh
false | cat
'"$F"
expect untagged-fence 1 "fence without a language tag" "$F"'
echo not checked
'"$F"
expect bash-tag 1 "fence tagged bash: use sh" "$F"'bash
echo not checked
'"$F"
expect other-tags-are-not-run 0 "0 run, 0 skipped" "$F"'text
false
'"$F"'
'"$F"'json
{"a": 1}
'"$F"
expect skip-needs-reason 1 '"skip" needs a reason' '<!-- example: skip -->
'"$F"'sh
false
'"$F"
expect skip-with-reason 0 "skip $DIR/skip-with-reason.md:2: cannot run here" '<!-- example: skip cannot run here -->
'"$F"'sh
false
'"$F"
expect slow-is-skipped 0 "(slow; --all runs it): long" '<!-- example: slow long -->
'"$F"'sh
false
'"$F"
expect unknown-directive 1 'unknown example directive "maybe"' '<!-- example: maybe -->
'"$F"'sh
true
'"$F"
expect stale-directive 1 "example directive not followed by a fence" '<!-- example: skip old -->
Some text.
'"$F"'sh
true
'"$F"
expect announced-failure 0 "1 run" '<!-- example: fails Error: bad port -->
'"$F"'sh
echo "Error: bad port" >&2; exit 1
'"$F"
expect announced-failure-that-succeeds 1 "was announced to fail" '<!-- example: fails Error -->
'"$F"'sh
true
'"$F"
expect other-failure-than-announced 1 'without the announced "Error: bad port"' '<!-- example: fails Error: bad port -->
'"$F"'sh
echo "Error: something else" >&2; exit 1
'"$F"
expect timeout 1 "did not finish within 1 s" '<!-- example: timeout 1 -->
'"$F"'sh
sleep 30
'"$F"

# A background server: waited for, used by the next block, stopped at the end of the file.
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
SERVER="python3 -c 'import socket, time; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((\"127.0.0.1\", $PORT)); s.listen(); time.sleep(120)'"
expect background 0 "2 run" "<!-- example: background $PORT -->
${F}sh
sleep 0.5; $SERVER
${F}
${F}sh
(exec 3<>/dev/tcp/127.0.0.1/$PORT)
${F}"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "check-examples-test: FAIL background: the server still listens after its file" >&2
    failures=$((failures + 1))
fi
expect background-that-dies 1 "exited with status 3 before port $PORT opened" "<!-- example: background $PORT -->
${F}sh
exit 3
${F}"

[ $failures -eq 0 ] && echo "check-examples-test: all passed"
[ $failures -eq 0 ]
