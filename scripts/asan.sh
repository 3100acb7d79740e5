#!/usr/bin/env bash
# Builds and runs the whole Swift test suite once under AddressSanitizer (docs/fuzzing.md), in
# its own scratch path (.build-asan, git-ignored) so the normal debug build is untouched.
# Every test runs; none is skipped under ASan.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# detect_leaks=0: LeakSanitizer cannot see pointers Swift keeps in enum spare bits and reports
# reachable values (e.g. static JSON tables) as leaked; use-after-free, overflows and other
# memory errors still abort the run.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"
swift build --build-tests --sanitize=address --scratch-path .build-asan
swift test --skip-build --sanitize=address --scratch-path .build-asan
