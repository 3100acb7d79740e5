#include <zlib.h>

// deflateInit2 and inflateInit2 are macros (they pass the library version and the struct size):
// Swift cannot call them, so these one-line wrappers do.
static inline int noex_deflate_init2(z_streamp strm, int level, int windowBits, int memLevel) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY);
}
static inline int noex_inflate_init2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
