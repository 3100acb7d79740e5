/// A fast path for the shape nearly every protocol request has: one flat object of strings,
/// numbers, booleans and nulls, plus at most one nested object (`data`).
///
/// It reads the members straight from the bytes into two exact-size arrays, with none of the
/// general parser's value stacks, and answers `nil` for anything it does not read exactly the
/// way `JSON.parse` would: then the caller runs the parser, which also produces every error.
/// So for any input, `scan(...) ?? JSON.parse(...)` equals `JSON.parse(...)` alone, member
/// for member, in the same order (`FlatObjectScannerTests`, and fuzz-request checks it on
/// every input). What it leaves to the parser:
/// - strings with an escape, a control byte or any byte >= 0x80 (UTF-8 must be validated);
/// - keys that start with a digit (array-index keys are reordered) and duplicate keys;
/// - numbers with a fraction, an exponent, a leading zero or more than 18 digits (only
///   plain integers are exact without the parser's rounding code);
/// - arrays, a second nested object, more than `maxMembers` members, more than `maxBytes`.
/// The nested object is read the same way when it is flat itself (a typical record); when it
/// is not, `JSONParser` parses that object (at depth 2, as in a full parse).
///
/// The member loop is `@inlinable` and generic over its `FlatMemberSink`, so a caller in
/// another module (the server's request members) gets it specialised, with the sink's
/// `member` inlined: handing each member through a closure, and copying each value into it,
/// was ~0.5k instructions of a `store.get` (issue 13, fourth round).
@usableFromInline
struct FlatObjectScanner {
    /// Larger inputs go to the parser (which also enforces `JSONLimits`).
    @usableFromInline static let maxBytes = 4096
    @usableFromInline static let maxMembers = 16

    @usableFromInline let base: UnsafePointer<UInt8>
    @usableFromInline let end: Int
    @usableFromInline var pos = 0

    @usableFromInline
    init(base: UnsafePointer<UInt8>, end: Int) {
        self.base = base
        self.end = end
    }

    /// Hands each member of the object to `sink` in order and answers true, or answers false
    /// when the parser must decide (then `sink` may already have seen some members: the
    /// caller drops what it collected).
    @inlinable
    static func scan<Sink: FlatMemberSink>(_ base: UnsafePointer<UInt8>, count: Int, into sink: inout Sink) -> Bool {
        guard count <= maxBytes else { return false }
        var scanner = FlatObjectScanner(base: base, end: count)
        scanner.skipWhitespace()
        guard scanner.pos < count, base[scanner.pos] == UInt8(ascii: "{"), scanner.members(nested: false, &sink) else { return false }
        scanner.skipWhitespace()
        return scanner.pos == count
    }

    /// The object as a tree, or nil when the parser must decide.
    static func scanObject(_ base: UnsafePointer<UInt8>, count: Int) -> JSONObject? {
        var sink = ObjectSink()
        guard scan(base, count: count, into: &sink) else { return nil }
        return sink.object
    }

    /// A member key as a `String`: one of the parser's preallocated common keys when it
    /// spells one, so both paths return the same strings.
    @usableFromInline
    static func key(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard let p = bytes.baseAddress else { return "" }
        return JSONParser.knownKey(p, count: bytes.count) ?? String(decoding: bytes, as: UTF8.self)
    }

    /// The members of the object at `pos` as a `JSONObject` (the nested level, and
    /// `scanFlatObject`'s tree form).
    @usableFromInline
    mutating func object(nested: Bool) -> JSONObject? {
        var sink = ObjectSink()
        guard members(nested: nested, &sink) else { return nil }
        return sink.object
    }

    /// Collects members into a `JSONObject`'s two arrays (the tree forms above).
    struct ObjectSink: FlatMemberSink {
        var keys = ContiguousArray<String>()
        var values = ContiguousArray<JSON>()

        mutating func member(key: UnsafeBufferPointer<UInt8>, value: consuming JSON) {
            if keys.isEmpty {
                keys.reserveCapacity(8)
                values.reserveCapacity(8)
            }
            keys.append(FlatObjectScanner.key(key))
            values.append(value)
        }

        var object: JSONObject {
            keys.isEmpty ? JSONObject() : JSONObject(uncheckedUniqueKeys: keys, values: values)
        }
    }

    /// The members of the object whose `{` is at `pos`; `pos` ends after its `}`. At the top
    /// level (`nested` false) one member may be an object: read by this scanner when it is flat
    /// itself (the usual record), else by the parser. A nested object inside it is left to the
    /// parser (nil).
    @inlinable
    mutating func members<Sink: FlatMemberSink>(nested: Bool, _ sink: inout Sink) -> Bool {
        pos += 1  // '{'
        skipWhitespace()
        guard pos < end else { return false }
        if base[pos] == UInt8(ascii: "}") {
            pos += 1
            return true
        }
        var count = 0
        // Where each key's bytes lie, for the duplicate check (at most `maxMembers`).
        var spans: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                    UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var sawObject = false
        while true {
            guard count < Self.maxMembers, pos < end, base[pos] == UInt8(ascii: "\"") else { return false }
            let keyStart = pos + 1
            guard let keyEnd = plainStringEnd(from: keyStart) else { return false }
            let keyCount = keyEnd - keyStart
            // A key starting with a digit may be an array index, which JavaScript orders first.
            if keyCount > 0 && base[keyStart] &- UInt8(ascii: "0") < 10 { return false }
            let span = UInt64(keyStart) << 32 | UInt64(keyCount)
            let isDuplicate = withUnsafeBytes(of: &spans) { raw in
                let known = raw.bindMemory(to: UInt64.self)
                for i in 0..<count where sameKey(known[i], span) { return true }
                return false
            }
            if isDuplicate { return false }
            withUnsafeMutableBytes(of: &spans) { $0.bindMemory(to: UInt64.self)[count] = span }
            pos = keyEnd + 1
            skipWhitespace()
            guard pos < end, base[pos] == UInt8(ascii: ":") else { return false }
            pos += 1
            skipWhitespace()
            guard pos < end else { return false }
            let key = UnsafeBufferPointer(start: base + keyStart, count: keyCount)
            switch base[pos] {
            case UInt8(ascii: "\""):
                guard let stringEnd = plainStringEnd(from: pos + 1) else { return false }
                // Handed over as bytes: a sink that needs no `String` makes none.
                sink.member(key: key, string: UnsafeBufferPointer(start: base + pos + 1, count: stringEnd - pos - 1))
                pos = stringEnd + 1
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                guard let n = scanInteger() else { return false }
                sink.member(key: key, value: .int(n))
            case UInt8(ascii: "t"):
                guard literal("true") else { return false }
                sink.member(key: key, value: .bool(true))
            case UInt8(ascii: "f"):
                guard literal("false") else { return false }
                sink.member(key: key, value: .bool(false))
            case UInt8(ascii: "n"):
                guard literal("null") else { return false }
                sink.member(key: key, value: .null)
            case UInt8(ascii: "{"):
                guard !nested, !sawObject else { return false }
                sawObject = true
                let start = pos
                if let flat = object(nested: true) {
                    sink.member(key: key, value: .object(flat))
                } else {
                    // Not flat (or not plain): the parser reads this member's object.
                    pos = start
                    guard let parsed = parseNested() else { return false }
                    sink.member(key: key, value: parsed)
                }
            default:
                return false
            }
            // A sink that has seen enough stops the scan (the scan then answers false).
            if sink.declined { return false }
            count += 1
            skipWhitespace()
            guard pos < end else { return false }
            let b = base[pos]
            pos += 1
            if b == UInt8(ascii: "}") { break }
            guard b == UInt8(ascii: ",") else { return false }
            skipWhitespace()
        }
        return true
    }

    /// The index of the closing quote of a string whose contents start at `start`, when every
    /// byte up to it is printable ASCII other than `\`; nil otherwise.
    @usableFromInline
    func plainStringEnd(from start: Int) -> Int? {
        var i = start
        // Eight bytes at a time; the lowest byte that stops the run decides.
        while i + 8 <= end {
            let stops = ByteScan.plainRunStops(UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)))
            if stops != 0 {
                let j = i + stops.trailingZeroBitCount >> 3
                return base[j] == UInt8(ascii: "\"") ? j : nil
            }
            i += 8
        }
        while i < end {
            let b = base[i]
            if b == UInt8(ascii: "\"") { return i }
            if b == UInt8(ascii: "\\") || b < 0x20 || b >= 0x80 { return nil }
            i += 1
        }
        return nil
    }

    /// The request types most frames carry, as preallocated strings: building (and
    /// validating) a `String` for them is a measurable share of a `store.get`. Equal strings
    /// either way; only the work differs.
    @usableFromInline
    static func knownValue(_ p: UnsafePointer<UInt8>, count: Int) -> String? {
        func spells(_ s: StaticString) -> Bool { JSONParser.bytes(p, count: count, spell: s) }
        switch count {
        case 9: return spells("store.get") ? "store.get" : nil
        case 11: return spells("store.where") ? "store.where" : nil
        case 12:
            return spells("store.insert") ? "store.insert" : spells("store.update") ? "store.update"
                : spells("store.delete") ? "store.delete" : nil
        default: return nil
        }
    }

    @usableFromInline @inline(__always)
    func sameKey(_ a: UInt64, _ b: UInt64) -> Bool {
        let count = Int(a & 0xFFFF_FFFF)
        guard count == Int(b & 0xFFFF_FFFF) else { return false }
        let (p, q) = (base + Int(a >> 32), base + Int(b >> 32))
        for i in 0..<count where p[i] != q[i] { return false }
        return true
    }

    /// `-?(0|[1-9][0-9]{0,17})` not followed by a fraction or exponent: exactly `.int`.
    @usableFromInline
    mutating func scanInteger() -> Int64? {
        var i = pos
        let negative = base[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        let digitsStart = i
        var value: Int64 = 0
        while i < end, base[i] &- UInt8(ascii: "0") < 10 {
            value = value &* 10 &+ Int64(base[i] &- UInt8(ascii: "0"))
            i += 1
        }
        let digits = i - digitsStart
        guard digits > 0, digits <= 18 else { return nil }
        if digits > 1 && base[digitsStart] == UInt8(ascii: "0") { return nil }
        if i < end, base[i] == UInt8(ascii: ".") || base[i] | 0x20 == UInt8(ascii: "e") { return nil }
        pos = i
        return negative ? -value : value
    }

    @usableFromInline
    mutating func literal(_ text: StaticString) -> Bool {
        let n = text.utf8CodeUnitCount
        guard end - pos >= n else { return false }
        let q = text.utf8Start
        for i in 0..<n where base[pos + i] != q[i] { return false }
        pos += n
        return true
    }

    /// The nested object at `pos`, parsed by the full parser as the second nesting level.
    @usableFromInline
    mutating func parseNested() -> JSON? {
        let (start, end, base) = (pos, self.end, self.base)
        let parsed: (JSON, Int)? = try? JSONParser.withScratch { (scratch) throws(JSONParseError) -> (JSON, Int) in
            var parser = JSONParser(base: base, count: end, maxDepth: JSONLimits.default.maxDepth, scratch: scratch)
            parser.pos = start
            parser.depth = 1
            let value = try parser.parseObject()
            return (value, parser.pos)
        }
        guard let parsed else { return nil }
        pos = parsed.1
        return parsed.0
    }

    @inlinable @inline(__always)
    mutating func skipWhitespace() {
        while pos < end {
            switch base[pos] {
            case 0x20, 0x0A, 0x0D, 0x09: pos += 1
            default: return
            }
        }
    }
}

extension JSON {
    /// The members of `bytes` when they are a flat object `FlatObjectScanner` reads exactly
    /// (the shape of a protocol request); nil when only `JSON.parse` can decide, including
    /// for every invalid input. Whenever it answers, the answer equals `JSON.parse`'s.
    public static func scanFlatObject(_ bytes: UnsafeRawBufferPointer) -> JSONObject? {
        guard let raw = bytes.baseAddress, bytes.count > 0 else { return nil }
        return FlatObjectScanner.scanObject(raw.assumingMemoryBound(to: UInt8.self), count: bytes.count)
    }

    /// The same scan without building a tree: each member goes to `member` (its key's bytes,
    /// its value), in order; true when the whole input was read. On false the input is one
    /// `JSON.parse` must decide and whatever `member` collected is to be dropped. A caller
    /// that keeps a few members in fields of its own saves the object's two arrays.
    public static func scanFlatObject(_ bytes: UnsafeRawBufferPointer,
                                      member: (_ key: UnsafeBufferPointer<UInt8>, _ value: JSON) -> Void) -> Bool {
        withoutActuallyEscaping(member) { member in
            var sink = ClosureSink(body: member)
            return scanFlatObject(bytes, into: &sink)
        }
    }

    /// The same scan into a sink of the caller's type: specialised for it across modules, so
    /// each member goes straight into the sink (the request path's members).
    @inlinable
    public static func scanFlatObject<Sink: FlatMemberSink>(_ bytes: UnsafeRawBufferPointer, into sink: inout Sink) -> Bool {
        guard let raw = bytes.baseAddress, bytes.count > 0 else { return false }
        return FlatObjectScanner.scan(raw.assumingMemoryBound(to: UInt8.self), count: bytes.count, into: &sink)
    }

    /// A member key read by `scanFlatObject(_:member:)` as the `String` the parser would make.
    public static func objectKey(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        FlatObjectScanner.key(bytes)
    }
}

/// Receives the members `JSON.scanFlatObject(_:into:)` reads, in order: each key's bytes (a
/// key with a preallocated `String` is `JSON.objectKey(_:)`) and its value, moved in. After a
/// scan that answered false, whatever the sink collected is to be dropped.
public protocol FlatMemberSink {
    mutating func member(key: UnsafeBufferPointer<UInt8>, value: consuming JSON)
    /// A string member, its contents' bytes (plain printable ASCII: no escape, no control or
    /// non-ASCII byte). The default makes the parser's `String` and calls `member(key:value:)`.
    mutating func member(key: UnsafeBufferPointer<UInt8>, string contents: UnsafeBufferPointer<UInt8>)
    /// True once the sink wants no more members: the scan stops at once and answers false (as
    /// for an input the parser must decide). Checked after each member; the default is false.
    var declined: Bool { get }
}

extension FlatMemberSink {
    @inlinable @inline(__always)
    public mutating func member(key: UnsafeBufferPointer<UInt8>, string contents: UnsafeBufferPointer<UInt8>) {
        member(key: key, value: .string(JSON.plainString(contents)))
    }

    @inlinable @inline(__always)
    public var declined: Bool { false }
}

extension JSON {
    /// The `String` the parser makes of a plain string's contents (printable ASCII without
    /// escapes): one of the preallocated request types when it spells one.
    @inlinable
    public static func plainString(_ contents: UnsafeBufferPointer<UInt8>) -> String {
        guard let p = contents.baseAddress else { return "" }
        return FlatObjectScanner.knownValue(p, count: contents.count) ?? String(decoding: contents, as: UTF8.self)
    }
}

/// The closure form of `scanFlatObject(_:member:)` as a sink.
private struct ClosureSink: FlatMemberSink {
    let body: (_ key: UnsafeBufferPointer<UInt8>, _ value: JSON) -> Void

    func member(key: UnsafeBufferPointer<UInt8>, value: consuming JSON) { body(key, value) }
}
