/// Word-at-a-time byte classification (SWAR): eight bytes are tested with a few integer
/// operations instead of eight compares. Used to skip the long plain runs inside strings.
enum ByteScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// True when some byte of `w` is below 0x20, or is `"` or `\`: a byte that must be
    /// escaped in JSON output. (Exact as a yes/no answer; bytes >= 0x80 never match.)
    @inline(__always)
    static func needsEscape(_ w: UInt64) -> Bool {
        let control = (w &- (ones &* 0x20)) & ~w
        let q = w ^ (ones &* 0x22)
        let quote = (q &- ones) & ~q
        let s = w ^ (ones &* 0x5C)
        let backslash = (s &- ones) & ~s
        return (control | quote | backslash) & highs != 0
    }

    /// True when some byte of `w` ends a plain ASCII run in JSON input: a control byte,
    /// `"`, `\`, or any byte >= 0x80 (which needs UTF-8 validation).
    @inline(__always)
    static func endsPlainRun(_ w: UInt64) -> Bool {
        needsEscape(w) || w & highs != 0
    }

    /// The high bit of each byte of `w` (loaded little-endian) that ends a plain run, as
    /// `endsPlainRun` decides. Exact for the lowest such byte, which is all a caller may use:
    /// a subtraction's borrow can flag bytes above a match, never below one.
    @inline(__always)
    static func plainRunStops(_ w: UInt64) -> UInt64 {
        let control = (w &- (ones &* 0x20)) & ~w
        let q = w ^ (ones &* 0x22)
        let quote = (q &- ones) & ~q
        let s = w ^ (ones &* 0x5C)
        let backslash = (s &- ones) & ~s
        return (control | quote | backslash | w) & highs
    }

    /// The index of the first byte at or after `start` that must be escaped in JSON output
    /// (`count` when there is none).
    @inline(__always)
    static func firstNeedingEscape(_ p: UnsafePointer<UInt8>, from start: Int, count: Int) -> Int {
        var i = start
        while i + 8 <= count {
            let w = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)
            if needsEscape(w) { break }
            i += 8
        }
        while i < count {
            let b = p[i]
            if b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { return i }
            i += 1
        }
        return count
    }
}
