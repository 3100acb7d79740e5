/// String literals: a fast path for runs without escapes (one scan, one `String` built from
/// the input bytes), and a slow path that decodes escapes into the parser's scratch buffer.
/// UTF-8 is validated byte by byte in both paths so that errors carry the exact offset.
extension JSONParser {
    /// Parses a string literal; `pos` is at the opening quote, and ends after the closing one.
    mutating func parseString() throws(JSONParseError) -> String {
        pos += 1  // opening quote
        let start = pos
        while true {
            // Skip plain ASCII eight bytes at a time; look at the byte that stopped the run.
            while pos + 8 <= end, !ByteScan.endsPlainRun(UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self)) {
                pos += 8
            }
            guard pos < end else { throw endError() }
            let b = base[pos]
            if b == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(start: base + start, count: pos - start), as: UTF8.self)
                pos += 1
                return s
            }
            if b == UInt8(ascii: "\\") { return try parseEscapedString(from: start) }
            if b < 0x20 { throw JSONParseError(kind: .controlCharacterInString, offset: pos, byte: b) }
            if b < 0x80 { pos += 1 } else { try skipUTF8Sequence() }
        }
    }

    /// Keys that nearly every protocol message or record carries (`knownKey` matches these).
    /// Returning them as preallocated strings skips building (and validating, and often
    /// allocating) a `String` per key per message.
    static let commonKeyStrings: [String] = [
        "id", "key", "type", "data", "query", "bucket", "params", "filter", "timestamp",
        "subscriptionId", "_version", "_createdAt", "_updatedAt",
    ]

    /// Parses an object key; `pos` is at the opening quote. Same result as `parseString`.
    mutating func parseKey() throws(JSONParseError) -> String {
        let start = pos + 1
        let limit = Swift.min(end, start + 15)
        var i = start
        while i < limit {
            let b = base[i]
            if b == UInt8(ascii: "\"") { break }
            // Escapes, control and non-ASCII bytes: the general path checks and decodes them.
            if b == UInt8(ascii: "\\") || b < 0x20 || b >= 0x80 { return try parseString() }
            i += 1
        }
        guard i < limit, let known = knownKey(at: start, count: i - start) else { return try parseString() }
        pos = i + 1
        return known
    }

    /// One of `commonKeyStrings` when the `count` bytes at `start` spell it.
    @inline(__always)
    private func knownKey(at start: Int, count: Int) -> String? { Self.knownKey(base + start, count: count) }

    /// Whether the `count` bytes at `p` are the first `count` bytes of `s` (callers compare only
    /// strings of that length): the known-string tables of the parser and the flat scanner.
    @inline(__always)
    static func bytes(_ p: UnsafePointer<UInt8>, count: Int, spell s: StaticString) -> Bool {
        let q = s.utf8Start
        for j in 0..<count where p[j] != q[j] { return false }
        return true
    }

    /// One of `commonKeyStrings` when the `count` bytes at `p` spell it (also used by
    /// `FlatObjectScanner`, so both paths return the same preallocated strings).
    @inline(__always)
    static func knownKey(_ p: UnsafePointer<UInt8>, count: Int) -> String? {
        func spells(_ s: StaticString) -> Bool { Self.bytes(p, count: count, spell: s) }
        switch count {
        case 2: return spells("id") ? "id" : nil
        case 3: return spells("key") ? "key" : nil
        case 4: return spells("type") ? "type" : spells("data") ? "data" : nil
        case 5: return spells("query") ? "query" : nil
        case 6: return spells("bucket") ? "bucket" : spells("params") ? "params" : spells("filter") ? "filter" : nil
        case 8: return spells("_version") ? "_version" : nil
        case 9: return spells("timestamp") ? "timestamp" : nil
        case 10: return spells("_createdAt") ? "_createdAt" : spells("_updatedAt") ? "_updatedAt" : nil
        case 14: return spells("subscriptionId") ? "subscriptionId" : nil
        default: return nil
        }
    }

    /// Continues a string at its first backslash; `start` is where its contents began.
    mutating func parseEscapedString(from start: Int) throws(JSONParseError) -> String {
        scratch.removeAll(keepingCapacity: true)
        var runStart = start
        while pos < end {
            let b = base[pos]
            if b == UInt8(ascii: "\"") {
                appendRun(from: runStart)
                pos += 1
                return String(decoding: scratch, as: UTF8.self)
            }
            if b == UInt8(ascii: "\\") {
                appendRun(from: runStart)
                try decodeEscape()
                runStart = pos
                continue
            }
            if b < 0x20 { throw JSONParseError(kind: .controlCharacterInString, offset: pos, byte: b) }
            if b < 0x80 { pos += 1 } else { try skipUTF8Sequence() }
        }
        throw endError()
    }

    @inline(__always)
    mutating func appendRun(from runStart: Int) {
        if pos > runStart {
            scratch.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: pos - runStart))
        }
    }

    /// Decodes one escape at `pos` (the backslash) into `scratch`.
    mutating func decodeEscape() throws(JSONParseError) {
        pos += 1
        guard pos < end else { throw endError() }
        let c = base[pos]
        pos += 1
        switch c {
        case UInt8(ascii: "\""): scratch.append(0x22)
        case UInt8(ascii: "\\"): scratch.append(0x5C)
        case UInt8(ascii: "/"): scratch.append(0x2F)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try readHex4()
            var scalar: UInt32 = 0xFFFD  // lone surrogates decode to U+FFFD (see JSONParser)
            if unit & 0xF800 != 0xD800 {
                scalar = unit
            } else if unit < 0xDC00, pos + 1 < end, base[pos] == UInt8(ascii: "\\"), base[pos + 1] == UInt8(ascii: "u") {
                // A high surrogate: take the next escape only if it is the matching low half.
                let save = pos
                pos += 2
                let low = try readHex4()
                if low & 0xFC00 == 0xDC00 {
                    scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    pos = save  // decode the following escape on its own
                }
            }
            appendUTF8(scalar)
        default:
            pos -= 1
            throw JSONParseError(kind: .invalidEscape, offset: pos, byte: c)
        }
    }

    mutating func readHex4() throws(JSONParseError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard pos < end else { throw endError() }
            let b = base[pos]
            let d: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b &- UInt8(ascii: "A") &+ 10
            default: throw JSONParseError(kind: .invalidEscape, offset: pos, byte: b)
            }
            v = v << 4 | UInt32(d)
            pos += 1
        }
        return v
    }

    mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case ..<0x80:
            scratch.append(UInt8(scalar))
        case ..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case ..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Validates one multi-byte UTF-8 sequence at `pos` (Unicode Table 3-7: no overlongs,
    /// no encoded surrogates, nothing above U+10FFFF) and steps over it.
    @inline(__always)
    mutating func skipUTF8Sequence() throws(JSONParseError) {
        let lead = base[pos]
        let count: Int
        var lo: UInt8 = 0x80
        var hi: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: count = 1
        case 0xE0: count = 2; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: count = 2
        case 0xED: count = 2; hi = 0x9F
        case 0xF0: count = 3; lo = 0x90
        case 0xF1...0xF3: count = 3
        case 0xF4: count = 3; hi = 0x8F
        default: throw JSONParseError(kind: .invalidUTF8, offset: pos, byte: lead)
        }
        pos += 1
        for i in 0..<count {
            guard pos < end else { throw endError() }
            let b = base[pos]
            let ok = i == 0 ? (b >= lo && b <= hi) : (b & 0xC0 == 0x80)
            if !ok { throw JSONParseError(kind: .invalidUTF8, offset: pos, byte: b) }
            pos += 1
        }
    }
}
