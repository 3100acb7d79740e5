#!/usr/bin/env bash
# A short libFuzzer run of every target in fuzz/ (docs/fuzzing.md): builds them (release,
# -sanitize=fuzzer,address), then runs each on its committed seed corpus for
# FUZZ_SECONDS (default 25; 4 targets = 100 s of fuzzing) in a throw-away working corpus.
# Exits non-zero when a target crashes or breaks an invariant; the input that did it is
# left in fuzz/artifacts/ (git-ignored) for `$BIN/fuzz-<target> <file>` (BIN: the build's `--show-bin-path`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../fuzz"

SECONDS_EACH="${FUZZ_SECONDS:-25}"
TARGETS="${FUZZ_TARGETS:-http frame json request}"

swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
BIN="$(swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --show-bin-path)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/noex-fuzz.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p artifacts
status=0
# detect_leaks=0 (libFuzzer's per-input check and ASan's at exit): LeakSanitizer cannot see
# pointers Swift keeps in enum spare bits, so it reports reachable JSON values as leaked
# (docs/fuzzing.md). Memory errors are still fatal.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
for t in $TARGETS; do
    mkdir -p "$WORK/$t"
    if "$BIN/fuzz-$t" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -max_len=4096 -detect_leaks=0 -dict="dict/$t.dict" \
        -print_final_stats=1 -artifact_prefix="artifacts/$t-" "$WORK/$t" "corpus/$t" >"$WORK/$t.log" 2>&1; then
        runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$t.log")"
        rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$WORK/$t.log")"
        echo "fuzz-$t: ${runs:-?} executions, ${rate:-?} exec/s, no crash"
    else
        status=1
        echo "fuzz-$t: FAILED (input saved under fuzz/artifacts/); the end of its log:" >&2
        tail -n 40 "$WORK/$t.log" >&2
    fi
done
exit "$status"
