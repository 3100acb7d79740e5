#!/bin/sh
# Builds the C smoke test against the debug build's object files and runs it.
# Usage (from the package root, after `swift build`): Tests/CAPI/run.sh
set -eu
BIN=.build/debug
OUT=${TMPDIR:-/tmp}/noex-c-api-smoke
cc -c -I include Tests/CAPI/c_api_smoke.c -o "$OUT.o"
# Object file names may contain spaces (swift-collections): pass them through a response file.
RSP="$OUT.rsp"
: > "$RSP"
# Only the objects of the module's current sources (SwiftPM lists them in `sources`): a
# renamed or deleted file leaves a stale object behind that would define its symbols twice.
for m in NoexServer NoexLoop NoexJSON NoexStore NoexRules NoexPersistence OrderedCollections InternalCollectionsUtilities; do
    while IFS= read -r src; do
        printf '"%s"\n' "$BIN/$m.build/$(basename "$src").o" >> "$RSP"
    done < "$BIN/$m.build/sources"
done
swiftc -o "$OUT" "$OUT.o" @"$RSP" -luv -lsqlite3 -lpthread
"$OUT"
