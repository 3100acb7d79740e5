#!/usr/bin/env bash
# Runs the whole test suite: the Swift tests (unit, codec, loop and wire tests over real
# sockets), the C API smoke program, the load generator's tests, and the Autobahn RFC 6455
# conformance suite against echo mode.
# Installs what it needs on a fresh Debian machine (libuv, PCRE2, SQLite, curl for the /metrics tests, Python venv for Autobahn) first.
# Also hiredis and redis-server for the cluster tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! pkg-config --exists libuv libpcre2-8 sqlite3 libcrypto zlib 2>/dev/null || ! command -v patch >/dev/null \
    || ! command -v curl >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libuv1-dev libpcre2-dev libsqlite3-dev libssl-dev zlib1g-dev pkg-config patch curl python3 python3-venv >/dev/null
fi
# The cluster module (hiredis) and its tests (a real redis-server on a free port).
if ! pkg-config --exists hiredis 2>/dev/null || ! command -v redis-server >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libhiredis-dev redis-server >/dev/null
fi

swift build --build-tests
swift test --skip-build
# The original server's own Python client (noex-client from PyPI) against the binary.
Tests/client-python/run.sh
# The C library as an embedder gets it: installed by scripts/build-c-library.sh into a temporary
# prefix, C programs linked through pkg-config against the shared and the static library.
Tests/CAPI/run.sh

# The bundled load generator's own tests (codec, request matching, driver against the server).
(cd bench && swift build --build-tests && swift test --skip-build)

if [ -x scripts/autobahn.sh ]; then
    scripts/autobahn.sh
fi

# Every shell example of README.md, docs/*.md and bench/README.md, run as written, in order
# (see "Conventions for examples" in README.md; the first one builds the release binary).
scripts/check-examples-test.sh
scripts/check-examples.sh

# A short libFuzzer run of every target, then the Swift suite once under AddressSanitizer
# (docs/fuzzing.md).
scripts/fuzz.sh
scripts/asan.sh
