extension JSON {
    /// Structural identity, stricter than `==`: number kinds must match (`.int(1)` is not
    /// `.double(1)`), doubles compare by bit pattern (`-0.0` is not `0.0`), and object keys
    /// must come in the same order. Two values identical in this sense serialise to the same
    /// bytes; it is how two parse paths are proven to agree (tests, fuzz-request, fuzz-json).
    public func isIdentical(to other: JSON) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN)
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.isIdentical(to: $1) }
        case (.object(let x), .object(let y)):
            return x.keys == y.keys && zip(x.values, y.values).allSatisfy { $0.isIdentical(to: $1) }
        default: return false
        }
    }
}
