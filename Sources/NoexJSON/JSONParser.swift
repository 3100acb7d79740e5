/// A strict RFC 8259 recursive-descent parser over raw bytes.
///
/// One parser parses one document: it walks the bytes once, validates UTF-8 as it goes, and
/// builds `JSON` values directly (no token stream). Errors are thrown as `JSONParseError`
/// values naming the byte offset. Recursion depth is bounded by `JSONLimits.maxDepth`.
///
/// Decisions beyond the RFC, matching JavaScript's `JSON.parse` where it has an answer:
/// - duplicate object keys: the last value wins, at the first key's position; array-index
///   keys go first in numeric order (JavaScript's property order, see `JSONObject`);
/// - `-0` (no fraction or exponent) is `.int(0)`; `-0.0` stays `.double(-0.0)`;
/// - a `\u` escape of a lone surrogate (`"\ud800"`) decodes to U+FFFD: JavaScript would keep
///   the lone UTF-16 unit, which a Swift `String` cannot hold, and rejecting the text would
///   fail requests the original accepts;
/// - a byte order mark is not whitespace and is rejected (as `JSON.parse` does).
struct JSONParser: ~Copyable {
    let base: UnsafePointer<UInt8>
    let end: Int
    var pos: Int = 0
    var depth: Int = 0
    let maxDepth: Int
    /// Reused buffer for strings that contain escapes.
    var scratch: [UInt8] = []
    /// Members of the open containers, moved out into a right-sized container at its close.
    var values: MoveStack<JSON>
    var keys: MoveStack<String>
    /// Where each pending key's text sits in the input, for a cheap duplicate check.
    var keySpans: MoveStack<KeySpan>

    struct KeySpan {
        var start: Int
        var count: Int
    }

    /// Objects up to this many members are checked for duplicate keys by comparing their
    /// input bytes pairwise, and built without hashing when the check passes.
    static let smallObjectLimit = 16

    /// A parser whose stacks start in the caller's scratch memory (`JSON.parse` passes stack
    /// memory), so parsing a small message allocates only the values it returns.
    init(base: UnsafePointer<UInt8>, count: Int, maxDepth: Int, scratch: Scratch) {
        self.base = base
        self.end = count
        self.maxDepth = maxDepth
        values = MoveStack(scratch: scratch.values)
        keys = MoveStack(scratch: scratch.keys)
        keySpans = MoveStack(scratch: scratch.keySpans)
    }

    struct Scratch {
        var values: UnsafeMutableBufferPointer<JSON>
        var keys: UnsafeMutableBufferPointer<String>
        var keySpans: UnsafeMutableBufferPointer<KeySpan>
    }

    /// Runs `body` with scratch memory on the stack for one parse (enough for a protocol
    /// request and its record; a larger document continues on the heap).
    static func withScratch<R>(_ body: (Scratch) throws(JSONParseError) -> R) throws(JSONParseError) -> R {
        try withUnsafeTemporaryAllocation(of: JSON.self, capacity: 16) { (values) throws(JSONParseError) -> R in
            try withUnsafeTemporaryAllocation(of: String.self, capacity: 16) { (keys) throws(JSONParseError) -> R in
                try withUnsafeTemporaryAllocation(of: KeySpan.self, capacity: 16) { (spans) throws(JSONParseError) -> R in
                    try body(Scratch(values: values, keys: keys, keySpans: spans))
                }
            }
        }
    }

    /// Parses exactly one value surrounded by optional whitespace.
    mutating func parseDocument() throws(JSONParseError) -> JSON {
        let value = try parseValue()
        skipWhitespace()
        if pos < end { throw JSONParseError(kind: .trailingData, offset: pos, byte: base[pos]) }
        return value
    }

    // MARK: - Values

    mutating func parseValue() throws(JSONParseError) -> JSON {
        skipWhitespace()
        guard pos < end else { throw endError() }
        switch base[pos] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case let b: throw JSONParseError(kind: .unexpectedByte, offset: pos, byte: b)
        }
    }

    mutating func parseObject() throws(JSONParseError) -> JSON {
        try enterContainer()
        pos += 1  // '{'
        skipWhitespace()
        if pos < end && base[pos] == UInt8(ascii: "}") {
            pos += 1
            depth -= 1
            return .object(JSONObject())
        }
        let keyStart = keys.count
        let valueStart = values.count
        let spanStart = keySpans.count
        // Plain keys: no escapes and not starting with a digit (so never array indices).
        var plainKeys = true
        while true {
            guard pos < end else { throw endError() }
            guard base[pos] == UInt8(ascii: "\"") else { throw unexpected() }
            let keyPos = pos + 1
            let key = try parseKey()
            let rawCount = pos - 1 - keyPos
            // An escape always makes the decoded text shorter than its source.
            if key.utf8.count != rawCount || (rawCount > 0 && base[keyPos] &- UInt8(ascii: "0") < 10) {
                plainKeys = false
            }
            keySpans.push(KeySpan(start: keyPos, count: rawCount))
            keys.push(key)
            skipWhitespace()
            guard pos < end else { throw endError() }
            guard base[pos] == UInt8(ascii: ":") else { throw unexpected() }
            pos += 1
            values.push(try parseValue())
            skipWhitespace()
            guard pos < end else { throw endError() }
            let b = base[pos]
            pos += 1
            if b == UInt8(ascii: ",") {
                skipWhitespace()
                continue
            }
            if b == UInt8(ascii: "}") { break }
            pos -= 1
            throw unexpected()
        }
        depth -= 1
        let n = keys.count - keyStart
        let spans = keySpans.take(from: spanStart)
        let k = keys.take(from: keyStart)
        let v = values.take(from: valueStart)
        if plainKeys && n <= Self.smallObjectLimit && !hasDuplicateKey(spans, count: n) {
            // reserve-and-append stays in specialized code (the unsafe-uninitialized
            // initializers go through a generic runtime path with a metadata lookup).
            var keyArray = ContiguousArray<String>()
            keyArray.reserveCapacity(n)
            var valueArray = ContiguousArray<JSON>()
            valueArray.reserveCapacity(n)
            for i in 0..<n {
                keyArray.append((k + i).move())
                valueArray.append((v + i).move())
            }
            return .object(JSONObject(uncheckedUniqueKeys: keyArray, values: valueArray))
        }
        var object = JSONObject(minimumCapacity: n)
        for i in 0..<n {
            // A repeated key keeps its first position and takes the last value; array-index
            // keys are ordered first, as JavaScript orders them.
            object.insertOrUpdate((v + i).move(), forKey: (k + i).move())
        }
        return .object(object)
    }

    mutating func parseArray() throws(JSONParseError) -> JSON {
        try enterContainer()
        pos += 1  // '['
        skipWhitespace()
        if pos < end && base[pos] == UInt8(ascii: "]") {
            pos += 1
            depth -= 1
            return .array([])
        }
        let start = values.count
        while true {
            values.push(try parseValue())
            skipWhitespace()
            guard pos < end else { throw endError() }
            let b = base[pos]
            pos += 1
            if b == UInt8(ascii: ",") { continue }
            if b == UInt8(ascii: "]") { break }
            pos -= 1
            throw unexpected()
        }
        depth -= 1
        return .array(values.popArray(from: start))
    }

    // MARK: - Helpers

    /// Whether two of the `count` unescaped keys at `spans` have the same bytes.
    func hasDuplicateKey(_ spans: UnsafeMutablePointer<KeySpan>, count: Int) -> Bool {
        var i = 1
        while i < count {
            let a = spans[i]
            for j in 0..<i where spans[j].count == a.count {
                let b = spans[j]
                var same = true
                for t in 0..<a.count where base[a.start + t] != base[b.start + t] {
                    same = false
                    break
                }
                if same { return true }
            }
            i += 1
        }
        return false
    }

    @inline(__always)
    mutating func enterContainer() throws(JSONParseError) {
        depth += 1
        if depth > maxDepth { throw JSONParseError(kind: .depthLimitExceeded, offset: pos) }
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < end {
            switch base[pos] {
            case 0x20, 0x0A, 0x0D, 0x09: pos += 1
            default: return
            }
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let lit = literal.utf8Start
        for i in 0..<literal.utf8CodeUnitCount {
            guard pos < end else { throw endError() }
            guard base[pos] == lit[i] else { throw unexpected() }
            pos += 1
        }
    }

    @inline(__always)
    func endError() -> JSONParseError { JSONParseError(kind: .unexpectedEnd, offset: end) }

    @inline(__always)
    func unexpected() -> JSONParseError { JSONParseError(kind: .unexpectedByte, offset: pos, byte: base[pos]) }
}
