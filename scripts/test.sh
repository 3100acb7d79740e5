#!/usr/bin/env bash
# Runs the whole test suite: the Swift tests (unit, codec, loop and wire tests over real
# sockets), the C API smoke program, the load generator's tests, and the Autobahn RFC 6455
# conformance suite against echo mode.
# Installs what it needs on a fresh Debian machine (libuv1-dev) first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! pkg-config --exists libuv 2>/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libuv1-dev pkg-config patch >/dev/null
fi

swift build --build-tests
swift test --skip-build
# The C API as an embedder uses it: a C program against include/noex_server.h.
Tests/CAPI/run.sh

# The bundled load generator's own tests (codec, request matching, driver against the server).
(cd bench && swift build --build-tests && swift test --skip-build)

if [ -x scripts/autobahn.sh ]; then
    scripts/autobahn.sh
fi

# A short libFuzzer run of every target, then the Swift suite once under AddressSanitizer
# (docs/fuzzing.md).
scripts/fuzz.sh
scripts/asan.sh
