#!/usr/bin/env bash
# Drives the server with the original's own Python client (noex-client from PyPI): proof that a
# client written for the original works unchanged. Usage: Tests/client-python/run.sh [pytest args]
# Expects a debug build (`swift build`); the venv is made once under .build/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/.build/client-python-venv"
if [ ! -x "$venv/bin/pytest" ] || ! cmp -s "$here/requirements.txt" "$venv/requirements.txt"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$venv/requirements.txt"
fi
export NOEX_SERVER_BIN="${NOEX_SERVER_BIN:-$(cd "$root" && swift build --show-bin-path)/noex-server}"
cd "$here"
exec "$venv/bin/pytest" -p no:cacheprovider "$@"
