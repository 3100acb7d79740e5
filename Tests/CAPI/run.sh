#!/bin/sh
# The C library as an embedder gets it: installs it with the documented command
# (scripts/build-c-library.sh, debug build) into a temporary prefix, then compiles with
# pkg-config against the shared AND the static library and runs
#   - Tests/CAPI/c_api_smoke.c: own loop and host loop, a real WebSocket client, the C
#     validate callback, exact answers, stop, free, uv_loop_close == 0;
#   - docs/embedding-example.c, after checking docs/embedding.md shows it verbatim;
#   - Tests/CAPI/cxx_link.cpp: the header from C++ (the Swift toolchain's clang++).
# Usage (from the package root): Tests/CAPI/run.sh
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The example in docs/embedding.md is the file compiled here: the ```c block after the marker
# line must equal docs/embedding-example.c.
awk '/^<!-- source: docs\/embedding-example.c -->$/ {found = 1; next}
     found == 1 && /^```c$/ {found = 2; next}
     found == 2 && /^```$/ {exit}
     found == 2 {print}' docs/embedding.md > "$work/example-in-doc.c"
if ! cmp -s "$work/example-in-doc.c" docs/embedding-example.c; then
    echo "FAIL: docs/embedding.md does not show docs/embedding-example.c verbatim:" >&2
    diff "$work/example-in-doc.c" docs/embedding-example.c >&2 || true
    exit 1
fi

scripts/build-c-library.sh --debug "$work/prefix" >/dev/null
PKG_CONFIG_PATH=$work/prefix/lib/pkgconfig
export PKG_CONFIG_PATH
for variant in noexserver noexserver-static; do
    flags=$(pkg-config --cflags --libs "$variant")
    echo "== $variant: cc ... \$(pkg-config --cflags --libs $variant)"
    cc -Wall -Wextra -Werror -o "$work/smoke-$variant" Tests/CAPI/c_api_smoke.c $flags -lpthread
    cc -Wall -Wextra -Werror -o "$work/example-$variant" docs/embedding-example.c $flags
    # The smoke test's broken-callback logins log to stderr by design; keep only its verdict.
    "$work/smoke-$variant" 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
    "$work/example-$variant" 100
    clang++ -Wall -Wextra -Werror -o "$work/cxx-$variant" Tests/CAPI/cxx_link.cpp $flags
    "$work/cxx-$variant"
done
# The static variant really is static: no libnoexserver.so is needed at run time.
if ldd "$work/smoke-noexserver-static" | grep -q libnoexserver; then
    echo "FAIL: the static build links libnoexserver.so" >&2
    exit 1
fi
echo "C library OK (shared and static)"
