import Testing
@testable import NoexJSON

@Suite struct ByteScanTests {
    func reference(_ b: UInt8) -> Bool { b < 0x20 || b == 0x22 || b == 0x5C }

    @Test func everyByteInEveryLane() {
        for lane in 0..<8 {
            for b in 0...255 {
                var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 8)
                bytes[lane] = UInt8(b)
                let w = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                #expect(ByteScan.needsEscape(w) == reference(UInt8(b)), "byte \(b) lane \(lane)")
                #expect(ByteScan.endsPlainRun(w) == (reference(UInt8(b)) || b >= 0x80), "byte \(b) lane \(lane)")
            }
        }
    }

    @Test func randomWordsMatchBytewiseCheck() {
        var rng = SeededRandom(seed: 7)
        for _ in 0..<100_000 {
            // Bias toward interesting bytes so that hits and near-misses both occur.
            var bytes = [UInt8]()
            for _ in 0..<8 {
                let r = rng.next()
                bytes.append(r & 3 == 0 ? [0x00, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7F, 0x80, 0xFF][Int(r >> 8) % 12] : UInt8(truncatingIfNeeded: r >> 16))
            }
            let w = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            #expect(ByteScan.needsEscape(w) == bytes.contains(where: reference))
        }
    }

    /// Serialization of strings with escapes at every position around the word boundaries
    /// matches a byte-by-byte reference.
    @Test func serializedStringsMatchReferenceAtEveryPosition() throws {
        func naive(_ s: String) -> String {
            var out = "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\u{8}": out += "\\b"
                case "\u{C}": out += "\\f"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case _ where u.value < 0x20:
                    let hex = Array("0123456789abcdef")
                    out += "\\u00" + String(hex[Int(u.value >> 4)]) + String(hex[Int(u.value & 0xF)])
                default: out.unicodeScalars.append(u)
                }
            }
            return out + "\""
        }
        for length in 0..<40 {
            for position in 0..<max(length, 1) {
                for special in ["\"", "\\", "\n", "\u{1}", "é", "😀"] {
                    var chars = Array(repeating: "x", count: length)
                    if length > 0 { chars[position] = special }
                    let s = chars.joined()
                    #expect(JSON.string(s).jsonString == naive(s))
                    #expect(try JSON.parse(naive(s)) == .string(s))
                }
            }
        }
    }

    /// `plainRunStops`' lowest flagged byte is the first byte that ends a plain run, for words
    /// with one stopping byte at every position and for random words (several stops, borrows).
    @Test func plainRunStopsFindsTheFirstStop() {
        func firstStop(_ bytes: [UInt8]) -> Int? {
            bytes.firstIndex { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 >= 0x80 }
        }
        func lowestFlag(_ bytes: [UInt8]) -> Int? {
            let w = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
            let stops = ByteScan.plainRunStops(w)
            return stops == 0 ? nil : stops.trailingZeroBitCount >> 3
        }
        for position in 0..<8 {
            for b in 0...255 {
                var bytes = Array(repeating: UInt8(ascii: "a"), count: 8)
                bytes[position] = UInt8(b)
                #expect(lowestFlag(bytes) == firstStop(bytes), "byte \(b) at \(position)")
            }
        }
        var rng = SeededRandom(seed: 7)
        let pool: [UInt8] = [0x00, 0x01, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7F, 0x80, 0xA0, 0xC3, 0xFF, 0x61, 0x7A]
        for _ in 0..<50_000 {
            let bytes = (0..<8).map { _ in Bool.random(using: &rng) ? UInt8(ascii: "a") : pool.randomElement(using: &rng)! }
            #expect(lowestFlag(bytes) == firstStop(bytes), "\(bytes)")
        }
    }
}
