/// Serialization to the exact bytes JavaScript's `JSON.stringify` produces for the same
/// value: members in insertion order, no whitespace, strings escaped as JavaScript escapes
/// them, numbers printed by `Number.prototype.toString` (see `JSNumberFormat`).
extension JSON {
    /// Appends this value's JSON text to `buffer`.
    public func serialize(into buffer: inout [UInt8]) {
        var writer = JSONWriter(capacity: initialCapacity)
        write(to: &writer)
        buffer.append(contentsOf: writer.bytes)
    }

    /// The JSON text as bytes.
    public var serializedBytes: [UInt8] {
        var writer = JSONWriter(capacity: initialCapacity)
        write(to: &writer)
        return writer.makeArray()
    }

    /// The JSON text as a `String`.
    public var jsonString: String {
        var writer = JSONWriter(capacity: initialCapacity)
        write(to: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// A first guess at the size of this value's JSON text (for sizing output buffers).
    public var initialCapacityGuess: Int { initialCapacity }

    /// A first guess at the output size, so that most messages need a single allocation.
    var initialCapacity: Int {
        switch self {
        case .array(let a): return 64 + a.count * 64
        case .object(let o): return o.text.map { $0.count + 64 } ?? 64 + o.count * 32
        default: return 64
        }
    }

    func write(to writer: inout JSONWriter) {
        switch self {
        case .null: writer.write("null")
        case .bool(let b): if b { writer.write("true") } else { writer.write("false") }
        case .int(let i): JSNumberFormat.write(i, to: &writer)
        case .double(let d): JSNumberFormat.write(d, to: &writer)
        case .string(let s): JSON.writeString(s, to: &writer)
        case .array(let elements):
            writer.write(UInt8(ascii: "["))
            elements.withUnsafeBufferPointer { elements in
                for i in elements.indices {
                    if i > 0 { writer.write(UInt8(ascii: ",")) }
                    elements[i].write(to: &writer)
                }
            }
            writer.write(UInt8(ascii: "]"))
        case .object(let object): object.write(to: &writer)
        }
    }

    /// Appends `string` as a quoted JSON string literal, escaped as `JSON.stringify` does:
    /// `"` and `\` with a backslash; backspace, form feed, newline, carriage return and tab as
    /// `\b \f \n \r \t`; other control characters as `\u00XX` (lowercase hex); everything else,
    /// including `/`, DEL, U+2028/U+2029 and all non-ASCII text, as raw UTF-8. (JavaScript
    /// writes lone surrogates as `\udXXX`; a Swift `String` cannot contain one.)
    public static func serializeString(_ string: String, into buffer: inout [UInt8]) {
        var writer = JSONWriter(capacity: string.utf8.count + 16)
        writeString(string, to: &writer)
        buffer.append(contentsOf: writer.bytes)
    }

    static func writeString(_ string: String, to writer: inout JSONWriter) {
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { utf8 in
            writeEscaped(utf8, to: &writer)
        }
        if done == nil {
            let copy = Array(string.utf8)
            copy.withUnsafeBufferPointer { writeEscaped($0, to: &writer) }
        }
    }

    private static func writeEscaped(_ utf8: UnsafeBufferPointer<UInt8>, to writer: inout JSONWriter) {
        let n = utf8.count
        guard let p = utf8.baseAddress, n > 0 else {
            writer.write("\"\"")
            return
        }
        // Room for the quotes and the text unescaped; each escape reserves more.
        var out = writer.reserve(n + 2)
        out[0] = UInt8(ascii: "\"")
        var written = 1
        var i = 0
        while i < n {
            let j = ByteScan.firstNeedingEscape(p, from: i, count: n)
            (out + written).update(from: p + i, count: j - i)
            written += j - i
            if j == n { break }
            // An escape: at most 6 bytes instead of 1; make room for it and the rest.
            writer.advance(by: written)
            out = writer.reserve(6 + (n - j - 1) + 1)
            written = escape(p[j], into: out)
            i = j + 1
        }
        out[written] = UInt8(ascii: "\"")
        writer.advance(by: written + 1)
    }

    /// Writes the escape for `b` at `out` and returns its length.
    @inline(__always)
    private static func escape(_ b: UInt8, into out: UnsafeMutablePointer<UInt8>) -> Int {
        out[0] = UInt8(ascii: "\\")
        switch b {
        case UInt8(ascii: "\""): out[1] = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): out[1] = UInt8(ascii: "\\")
        case 0x08: out[1] = UInt8(ascii: "b")
        case 0x0C: out[1] = UInt8(ascii: "f")
        case 0x0A: out[1] = UInt8(ascii: "n")
        case 0x0D: out[1] = UInt8(ascii: "r")
        case 0x09: out[1] = UInt8(ascii: "t")
        default:
            let hex: StaticString = "0123456789abcdef"
            out[1] = UInt8(ascii: "u")
            out[2] = UInt8(ascii: "0")
            out[3] = UInt8(ascii: "0")
            out[4] = hex.utf8Start[Int(b >> 4)]
            out[5] = hex.utf8Start[Int(b & 0xF)]
            return 6
        }
        return 2
    }
}

extension JSONObject {
    /// Appends this object's JSON text (members in insertion order) to `buffer`.
    public func serialize(into buffer: inout [UInt8]) {
        if let text {
            buffer.append(contentsOf: text)
            return
        }
        var writer = JSONWriter(capacity: 64 + count * 32)
        write(to: &writer)
        buffer.append(contentsOf: writer.bytes)
    }

    /// The JSON text as bytes.
    public var serializedBytes: [UInt8] {
        if let text { return text }
        var writer = JSONWriter(capacity: 64 + count * 32)
        write(to: &writer)
        return writer.makeArray()
    }

    /// The JSON text as a `String`.
    public var jsonString: String {
        var writer = JSONWriter(capacity: 64 + count * 32)
        write(to: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    func write(to writer: inout JSONWriter) {
        if let text {
            text.withUnsafeBufferPointer { writer.write($0) }
            return
        }
        writeMembers(to: &writer)
    }

    func writeMembers(to writer: inout JSONWriter) {
        writer.write(UInt8(ascii: "{"))
        storage.keys.elements.withUnsafeBufferPointer { keys in
            storage.values.elements.withUnsafeBufferPointer { values in
                for i in keys.indices {
                    if i > 0 { writer.write(UInt8(ascii: ",")) }
                    JSON.writeString(keys[i], to: &writer)
                    writer.write(UInt8(ascii: ":"))
                    values[i].write(to: &writer)
                }
            }
        }
        writer.write(UInt8(ascii: "}"))
    }
}
