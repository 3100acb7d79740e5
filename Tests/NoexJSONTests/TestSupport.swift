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

