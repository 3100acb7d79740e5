import Testing
@testable import NoexJSON

/// Generated values survive serialize → parse, and re-serializing gives the same bytes.
@Suite struct RoundTripTests {
    struct Generator {
        var rng: SeededRandom

        mutating func value(depth: Int) -> JSON {
            let pick = Int.random(in: 0..<(depth > 0 ? 9 : 6), using: &rng)
            switch pick {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &rng))
            case 2: return .int(integer())
            case 3: return .double(double())
            case 4, 5: return .string(string())
            case 6: return .array((0..<Int.random(in: 0...5, using: &rng)).map { _ in value(depth: depth - 1) })
            default:
                var o = JSONObject()
                for _ in 0..<Int.random(in: 0...5, using: &rng) { o[string()] = value(depth: depth - 1) }
                return .object(o)
            }
        }

        mutating func integer() -> Int64 {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: return Int64.random(in: -10...10, using: &rng)
            case 1: return [Int64.max, .min, 0, -1, 1 << 53, -(1 << 53)][Int.random(in: 0..<6, using: &rng)]
            default: return Int64(bitPattern: rng.next()) >> Int64.random(in: 0..<63, using: &rng)
            }
        }

        mutating func double() -> Double {
            while true {
                let d: Double
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: d = Double(bitPattern: rng.next())
                case 1: d = Double(Int.random(in: -1000...1000, using: &rng)) / 8
                default: d = Double.random(in: -1...1, using: &rng) * 1e15
                }
                if d.isFinite { return d }
            }
        }

        mutating func string() -> String {
            let pool: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1F}", "\u{7F}",
                                          "é", "€", "\u{2028}", "\u{FFFD}", "😀", "\u{10FFFF}", "日"]
            var s = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...12, using: &rng) {
                if Bool.random(using: &rng) {
                    s.append(pool[Int.random(in: 0..<pool.count, using: &rng)])
                } else {
                    s.append(Unicode.Scalar(UInt8.random(in: 0x20..<0x7F, using: &rng)))
                }
            }
            return String(s)
        }
    }

    @Test func generatedValuesRoundTrip() throws {
        var gen = Generator(rng: SeededRandom(seed: 0x0DDBA11))
        for _ in 0..<2_000 {
            let value = gen.value(depth: 4)
            let bytes = value.serializedBytes
            let back = try JSON.parse(bytes)
            #expect(back == value, "\(String(decoding: bytes, as: UTF8.self))")
            #expect(back.serializedBytes == bytes)
            #expect(try JSON.parse(String(decoding: bytes, as: UTF8.self)) == value)
        }
    }

    @Test func doublesRoundTripBitForBit() throws {
        var gen = Generator(rng: SeededRandom(seed: 42))
        for _ in 0..<10_000 {
            let d = gen.double()
            let back = try JSON.parse(JSON.double(d).serializedBytes)
            // Integral doubles print without a fraction and come back as .int; compare values.
            switch back {
            case .double(let x): #expect(x.bitPattern == d.bitPattern || (x == 0 && d == 0), "\(d)")
            case .int(let i): #expect(Double(i) == d, "\(d)")
            default: Issue.record("\(d) came back as \(back)")
            }
        }
    }
}
