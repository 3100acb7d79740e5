// Incremental UTF-8 validation (RFC 3629 well-formedness: no overlongs, no surrogates,
// nothing above U+10FFFF), fed chunk by chunk so a text message split over frames and reads
// fails as soon as the first invalid byte arrives (RFC 6455 §8.1, Autobahn 6.4.x).

/// A resumable UTF-8 checker: feed it any split of the bytes; `isComplete` tells whether the
/// input so far ends on a character boundary.
struct UTF8Validator: Equatable {
    /// Continuation bytes still expected for the current character.
    private var needed: UInt8 = 0
    /// Allowed range for the *next* continuation byte (narrowed after E0, ED, F0, F4).
    private var low: UInt8 = 0x80
    private var high: UInt8 = 0xBF

    /// True when the bytes fed so far end exactly at a character boundary.
    var isComplete: Bool { needed == 0 }

    /// Validates the next chunk. Returns false at the first invalid byte (the validator is then
    /// in an unspecified state and should be discarded).
    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        while i < n {
            if needed == 0 {
                // ASCII fast path: 8 bytes at a time while no high bit is set.
                while i + 8 <= n && bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                    i += 8
                }
                if i >= n { break }
                let b = bytes[i]
                i += 1
                switch b {
                case 0x00...0x7F: continue
                case 0xC2...0xDF: needed = 1; low = 0x80; high = 0xBF
                case 0xE0: needed = 2; low = 0xA0; high = 0xBF
                case 0xE1...0xEC, 0xEE...0xEF: needed = 2; low = 0x80; high = 0xBF
                case 0xED: needed = 2; low = 0x80; high = 0x9F
                case 0xF0: needed = 3; low = 0x90; high = 0xBF
                case 0xF1...0xF3: needed = 3; low = 0x80; high = 0xBF
                case 0xF4: needed = 3; low = 0x80; high = 0x8F
                default: return false
                }
            } else {
                let b = bytes[i]
                i += 1
                guard b >= low && b <= high else { return false }
                needed -= 1
                low = 0x80
                high = 0xBF
            }
        }
        return true
    }

    /// Convenience for arrays (tests, close reasons).
    mutating func feed(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// Whether `bytes` is one complete, well-formed UTF-8 string.
    static func isValid(_ bytes: [UInt8]) -> Bool {
        var v = UTF8Validator()
        return v.feed(bytes) && v.isComplete
    }
}
