/// The two top-level fields of a server message the load generator needs (`id` and `type`),
/// read without building a JSON value: a scan that tracks nesting and strings and stops as soon
/// as both are known (the server writes them first, so an answer costs a few bytes of work).
public struct ProtocolMessage: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case result, error, push
        /// `welcome`, `ping`, `system` or anything else.
        case other
    }

    public var id: Int64?
    public var kind: Kind

    public init(id: Int64?, kind: Kind) {
        self.id = id
        self.kind = kind
    }

    /// Nil when the bytes are not a JSON object with a string `type` at the top level.
    public static func scan(_ bytes: UnsafeRawBufferPointer) -> ProtocolMessage? {
        var i = 0
        let n = bytes.count
        func skipSpace() { while i < n, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 } }
        /// Skips a string starting at the opening quote; returns the range of its raw contents.
        func skipString() -> Range<Int>? {
            guard i < n, bytes[i] == UInt8(ascii: "\"") else { return nil }
            i += 1
            let start = i
            while i < n {
                switch bytes[i] {
                case UInt8(ascii: "\\"): i += 2
                case UInt8(ascii: "\""): i += 1; return start..<(i - 1)
                default: i += 1
                }
            }
            return nil
        }
        /// Skips any value (nested objects/arrays by depth counting).
        func skipValue() -> Bool {
            skipSpace()
            guard i < n else { return false }
            if bytes[i] == UInt8(ascii: "\"") { return skipString() != nil }
            var depth = 0
            while i < n {
                let c = bytes[i]
                if c == UInt8(ascii: "\"") { guard skipString() != nil else { return false }; continue }
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") { depth += 1 }
                else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                    if depth == 0 { return true }
                    depth -= 1
                    if depth == 0 { i += 1; return true }
                } else if c == UInt8(ascii: ","), depth == 0 { return true }
                i += 1
            }
            return depth == 0
        }
        func equals(_ range: Range<Int>, _ literal: StaticString) -> Bool {
            guard range.count == literal.utf8CodeUnitCount else { return false }
            let p = literal.utf8Start
            for k in 0..<range.count where bytes[range.lowerBound + k] != p[k] { return false }
            return true
        }

        skipSpace()
        guard i < n, bytes[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        var id: Int64?
        var kind: Kind?
        var sawID = false
        while true {
            skipSpace()
            guard i < n else { return nil }
            if bytes[i] == UInt8(ascii: "}") { break }
            guard let key = skipString() else { return nil }
            skipSpace()
            guard i < n, bytes[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            skipSpace()
            if equals(key, "id") {
                sawID = true
                var value: Int64 = 0
                var digits = 0
                while i < n, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9"), digits < 18 {
                    value = value * 10 + Int64(bytes[i] - UInt8(ascii: "0"))
                    digits += 1
                    i += 1
                }
                // A non-integer id (string, null, fraction) is not one of ours.
                id = digits > 0 ? value : nil
                if digits == 0 || (i < n && bytes[i] != UInt8(ascii: ",") && bytes[i] != UInt8(ascii: "}") && bytes[i] != UInt8(ascii: " ")) {
                    id = nil
                    guard skipValue() else { return nil }
                }
            } else if equals(key, "type") {
                guard let value = skipString() else { return nil }
                if equals(value, "result") { kind = .result }
                else if equals(value, "error") { kind = .error }
                else if equals(value, "push") { kind = .push }
                else { kind = .other }
            } else {
                guard skipValue() else { return nil }
            }
            if let kind, sawID || kind == .push { return ProtocolMessage(id: id, kind: kind) }
            skipSpace()
            guard i < n else { return nil }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { break }
            return nil
        }
        guard let kind else { return nil }
        return ProtocolMessage(id: id, kind: kind)
    }
}
