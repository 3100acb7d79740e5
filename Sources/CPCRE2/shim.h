// PCRE2's API names are token-pasting macros Swift cannot import; fixing the code unit width
// to 8 here exposes the `_8` functions, and the inline helpers below wrap the macros that are
// not plain constants.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/// Compiles `pattern` (UTF-8, `length` bytes) with `options` and a compile context whose
/// newline convention is CR, LF or CRLF (closest to JavaScript's line terminators).
static inline pcre2_code_8 *noex_pcre2_compile(const char *pattern, size_t length, uint32_t options,
                                               uint32_t extra, int *error_code, size_t *error_offset) {
    pcre2_compile_context_8 *ctx = pcre2_compile_context_create_8(NULL);
    if (ctx == NULL) { *error_code = PCRE2_ERROR_NOMEMORY; *error_offset = 0; return NULL; }
    pcre2_set_newline_8(ctx, PCRE2_NEWLINE_ANYCRLF);
    pcre2_set_compile_extra_options_8(ctx, extra);
    pcre2_code_8 *code = pcre2_compile_8((PCRE2_SPTR8)pattern, length, options, error_code, error_offset, ctx);
    pcre2_compile_context_free_8(ctx);
    return code;
}
