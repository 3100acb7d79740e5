#!/usr/bin/env bash
# Builds the C library and installs it under PREFIX (default /usr/local):
#   PREFIX/lib/libnoexserver.so            shared library (the Swift runtime stays shared)
#   PREFIX/lib/libnoexserver.a             static library (one object: the server, its Swift
#                                          dependencies and the Swift image registration)
#   PREFIX/include/noex_server.h           the header
#   PREFIX/lib/pkgconfig/noexserver.pc     link the shared library
#   PREFIX/lib/pkgconfig/noexserver-static.pc   link the static library
# Usage: scripts/build-c-library.sh [--debug] [PREFIX]   (--debug: the debug build, for tests)
# Then: cc prog.c $(PKG_CONFIG_PATH=PREFIX/lib/pkgconfig pkg-config --cflags --libs noexserver)
# See docs/embedding.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

configuration=release
if [ "${1:-}" = "--debug" ]; then
    configuration=debug
    shift
fi
if [ $# -gt 1 ] || [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
    echo "usage: scripts/build-c-library.sh [--debug] [PREFIX]   (PREFIX defaults to /usr/local)" >&2
    exit 2
fi
prefix=${1:-/usr/local}
for tool in swift readelf ld ar pkg-config; do
    if ! command -v "$tool" >/dev/null; then
        echo "build-c-library.sh: '$tool' not found; install the Swift toolchain and Debian's binutils and pkg-config" >&2
        exit 1
    fi
done

swift build -c "$configuration" --product noexserver
swift build -c "$configuration" --product noexserver-static
bin=$(swift build -c "$configuration" --show-bin-path)

mkdir -p "$prefix/lib/pkgconfig" "$prefix/include"
prefix=$(cd "$prefix" && pwd)

# The Swift runtime: its shared libraries' folder (for -L and the rpath) and swiftrt.o, which
# registers an image's Swift metadata with the runtime (swiftc adds it to every link it does).
resource_dir=$(swift -print-target-info | sed -n 's/.*"runtimeResourcePath": *"\([^"]*\)".*/\1/p')
swift_lib_dir=$resource_dir/linux
swiftrt=$swift_lib_dir/$(uname -m)/swiftrt.o
if [ ! -f "$swiftrt" ]; then
    echo "build-c-library.sh: $swiftrt not found (Swift toolchain layout changed?)" >&2
    exit 1
fi

install -m 0755 "$bin/libnoexserver.so" "$prefix/lib/libnoexserver.so"
install -m 0644 include/noex_server.h "$prefix/include/noex_server.h"

# One relocatable object, so that a plain `cc prog.c libnoexserver.a` pulls in everything,
# including files that only register protocol conformances, which no symbol reference would
# pull out of an ordinary archive.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ld -r -o "$work/noexserver.o" "$swiftrt" --whole-archive "$bin/libnoexserver-static.a" --no-whole-archive
rm -f "$prefix/lib/libnoexserver.a"
ar rcs "$prefix/lib/libnoexserver.a" "$work/noexserver.o"

# The system libraries to list for the static link are exactly what the shared build of the
# same code needs (its DT_NEEDED entries): the Swift runtime, libuv, and whatever a target
# links later (e.g. sqlite3, pcre2-8) appear here without editing this script.
needed_libs=$(readelf -d "$prefix/lib/libnoexserver.so" \
    | sed -n 's/.*(NEEDED).*\[lib\([^].]*\)\.so.*\]/-l\1/p' \
    | grep -v -x -e '-lc' \
    | tr '\n' ' ' | sed 's/ *$//')
version=$(sed -n 's/.*static let version = "noex-server v\([^"]*\)".*/\1/p' Sources/NoexServer/CLI/CommandLineOptions.swift)

write_pc() {  # name description libs
    cat > "$prefix/lib/pkgconfig/$1.pc" <<EOF
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include
swiftlibdir=$swift_lib_dir

Name: $1
Description: $2
Version: $version
Requires: libuv
Cflags: -I\${includedir}
Libs: $3
EOF
}
write_pc noexserver "noex-server embedded in C/C++ (shared library)" \
    "-L\${libdir} -lnoexserver -Wl,-rpath,\${libdir} -Wl,-rpath,\${swiftlibdir}"
write_pc noexserver-static "noex-server embedded in C/C++ (static library; Swift runtime shared)" \
    "\${libdir}/libnoexserver.a -L\${swiftlibdir} -Wl,-rpath,\${swiftlibdir} $needed_libs"

echo "installed libnoexserver ($configuration) under $prefix"
echo "  cc prog.c \$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs noexserver)"
