import CPCRE2

/// A regular expression that cannot stall the loop: PCRE2 with a hard match (step) limit and
/// depth limit, compiled once. A match that would need more work than the limits allow ends
/// with `.tooComplex` instead of backtracking for seconds (`^(a+)+$` against "aaaa…a!").
///
/// Compile options keep JavaScript's meaning where PCRE2's default differs: `$` matches only
/// at the very end, `\uHHHH`/`\xHH` escapes, an unset back-reference matches empty, `[]` never
/// matches and `[^]` matches any character; `.` stops at CR and LF. The remaining differences
/// are listed in docs/security.md.
///
/// Loop-confined like the store and the rule engine that own it (one match block is reused).
public final class BoundedRegex {
    public enum Outcome: Sendable, Equatable {
        case match, noMatch
        /// The match or depth limit was reached: the answer is unknown and the caller reports it.
        case tooComplex
    }

    /// Backtracking steps one match may take (PCRE2's default is 10 000 000, seconds of CPU;
    /// reaching this one costs about 1.3 ms, store-bench `insert_pattern_over_step_limit`).
    public static let matchLimit: UInt32 = 100_000
    /// Nested backtracking frames one match may hold.
    public static let depthLimit: UInt32 = 100_000

    public let pattern: String
    private let code: OpaquePointer
    private let matchData: OpaquePointer
    private let matchContext: OpaquePointer

    /// Compiles `pattern`; a syntax error throws PCRE2's message and the offset it points at.
    public init(_ pattern: String) throws(RegexSyntaxError) {
        self.pattern = pattern
        var errorCode: Int32 = 0
        var errorOffset = 0
        let options = UInt32(PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX | PCRE2_MATCH_UNSET_BACKREF
            | PCRE2_ALLOW_EMPTY_CLASS)
        let compiled = pattern.withCString { p in
            noex_pcre2_compile(p, pattern.utf8.count, options, UInt32(PCRE2_EXTRA_ALT_BSUX), &errorCode, &errorOffset)
        }
        guard let compiled else {
            throw RegexSyntaxError(message: Self.message(for: errorCode), offset: errorOffset)
        }
        guard let data = pcre2_match_data_create_from_pattern_8(compiled, nil),
              let context = pcre2_match_context_create_8(nil) else {
            fatalError("PCRE2 could not allocate its match block (out of memory)")
        }
        pcre2_set_match_limit_8(context, Self.matchLimit)
        pcre2_set_depth_limit_8(context, Self.depthLimit)
        code = compiled
        matchData = data
        matchContext = context
    }

    deinit {
        pcre2_match_context_free_8(matchContext)
        pcre2_match_data_free_8(matchData)
        pcre2_code_free_8(code)
    }

    /// JavaScript's `RegExp.prototype.test`: is there a match anywhere in `subject`?
    public func test(_ subject: String) -> Outcome {
        var s = subject
        let rc = s.withUTF8 { buf in
            pcre2_match_8(code, buf.baseAddress ?? UnsafePointer(bitPattern: 1)!, buf.count, 0,
                          UInt32(PCRE2_NO_UTF_CHECK), matchData, matchContext)
        }
        if rc >= 0 { return .match }
        switch rc {
        case PCRE2_ERROR_NOMATCH: return .noMatch
        default: return .tooComplex  // match, depth or heap limit: every other failure is a resource limit
        }
    }

    static func message(for code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = pcre2_get_error_message_8(code, &buffer, buffer.count)
        return n > 0 ? String(decoding: buffer[0..<Int(n)], as: UTF8.self) : "error \(code)"
    }
}

@available(*, unavailable)
extension BoundedRegex: Sendable {}

/// A pattern PCRE2 refused to compile.
public struct RegexSyntaxError: Error, Sendable, Equatable {
    public let message: String
    /// Byte offset in the pattern where PCRE2 noticed the problem.
    public let offset: Int
}
