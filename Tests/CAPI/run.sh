#!/bin/sh
# Builds the C smoke test against the debug build's object files and runs it.
# Usage (from the package root, after `swift build`): Tests/CAPI/run.sh
set -eu
BIN=.build/debug
OUT=${TMPDIR:-/tmp}/noex-c-api-smoke
cc -c -I Tests/CAPI Tests/CAPI/c_api_smoke.c -o "$OUT.o"
# Object file names may contain spaces (swift-collections): pass them through a response file.
RSP="$OUT.rsp"
: > "$RSP"
for m in NoexServer NoexLoop NoexJSON NoexStore NoexRules OrderedCollections InternalCollectionsUtilities; do
    for o in "$BIN/$m.build"/*.o; do printf '"%s"\n' "$o" >> "$RSP"; done
done
swiftc -o "$OUT" "$OUT.o" @"$RSP" -luv -lpthread
"$OUT"
