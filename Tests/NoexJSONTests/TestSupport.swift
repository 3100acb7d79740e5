@testable import NoexJSON

/// Structural identity, stricter than `==` (`JSON.isIdentical(to:)`).
func identical(_ a: JSON, _ b: JSON) -> Bool { a.isIdentical(to: b) }

/// The error a parse of `bytes` throws, or nil when it succeeds.
func parseError(_ bytes: [UInt8], limits: JSONLimits = .default) -> JSONParseError? {
    do {
        _ = try JSON.parse(bytes, limits: limits)
        return nil
    } catch {
        return error
    }
}

func parseError(_ text: String, limits: JSONLimits = .default) -> JSONParseError? {
    parseError(Array(text.utf8), limits: limits)
}

/// Parses text that must be valid.
func mustParse(_ text: String) throws -> JSON {
    try JSON.parse(text)
}

/// A small deterministic generator (SplitMix64), so generated cases are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
