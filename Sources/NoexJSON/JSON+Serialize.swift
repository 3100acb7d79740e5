/// Serialization to the exact bytes JavaScript's `JSON.stringify` produces for the same
/// value: members in insertion order, no whitespace, strings escaped as JavaScript escapes
/// them, numbers printed by `Number.prototype.toString` (see `JSNumberFormat`).
extension JSON {
    /// Appends this value's JSON text to `buffer`.
    public func serialize(into buffer: inout [UInt8]) {
        switch self {
        case .null: buffer.appendStatic("null")
        case .bool(let b): if b { buffer.appendStatic("true") } else { buffer.appendStatic("false") }
        case .int(let i): JSNumberFormat.append(i, to: &buffer)
        case .double(let d): JSNumberFormat.append(d, to: &buffer)
        case .string(let s): JSON.serializeString(s, into: &buffer)
        case .array(let elements):
            buffer.append(UInt8(ascii: "["))
            var first = true
            for element in elements {
                if !first { buffer.append(UInt8(ascii: ",")) }
                first = false
                element.serialize(into: &buffer)
            }
            buffer.append(UInt8(ascii: "]"))
        case .object(let object): object.serialize(into: &buffer)
        }
    }

    /// The JSON text as bytes.
    public var serializedBytes: [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(initialCapacity)
        serialize(into: &buffer)
        return buffer
    }

    /// The JSON text as a `String`.
    public var jsonString: String { String(decoding: serializedBytes, as: UTF8.self) }

    /// A first guess at the output size, so that small messages need a single allocation.
    var initialCapacity: Int {
        switch self {
        case .array(let a): return 16 + a.count * 32
        case .object(let o): return 16 + o.count * 48
        default: return 32
        }
    }

    /// Appends `string` as a quoted JSON string literal, escaped as `JSON.stringify` does:
    /// `"` and `\` with a backslash; backspace, form feed, newline, carriage return and tab as
    /// `\b \f \n \r \t`; other control characters as `\u00XX` (lowercase hex); everything else,
    /// including `/`, DEL, U+2028/U+2029 and all non-ASCII text, as raw UTF-8. (JavaScript
    /// writes lone surrogates as `\udXXX`; a Swift `String` cannot contain one.)
    public static func serializeString(_ string: String, into buffer: inout [UInt8]) {
        var string = string
        string.withUTF8 { utf8 in
            buffer.append(UInt8(ascii: "\""))
            var runStart = 0
            var i = 0
            let n = utf8.count
            while i < n {
                let b = utf8[i]
                if b >= 0x20 && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") {
                    i += 1
                    continue
                }
                if i > runStart { buffer.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i])) }
                appendEscape(b, to: &buffer)
                i += 1
                runStart = i
            }
            if n > runStart { buffer.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<n])) }
            buffer.append(UInt8(ascii: "\""))
        }
    }

    private static func appendEscape(_ b: UInt8, to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "\\"))
        switch b {
        case UInt8(ascii: "\""): buffer.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): buffer.append(UInt8(ascii: "\\"))
        case 0x08: buffer.append(UInt8(ascii: "b"))
        case 0x0C: buffer.append(UInt8(ascii: "f"))
        case 0x0A: buffer.append(UInt8(ascii: "n"))
        case 0x0D: buffer.append(UInt8(ascii: "r"))
        case 0x09: buffer.append(UInt8(ascii: "t"))
        default:
            let hex: StaticString = "0123456789abcdef"
            buffer.append(UInt8(ascii: "u"))
            buffer.append(UInt8(ascii: "0"))
            buffer.append(UInt8(ascii: "0"))
            buffer.append(hex.utf8Start[Int(b >> 4)])
            buffer.append(hex.utf8Start[Int(b & 0xF)])
        }
    }
}

extension JSONObject {
    /// Appends this object's JSON text (members in insertion order) to `buffer`.
    public func serialize(into buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "{"))
        var first = true
        for (key, value) in storage {
            if !first { buffer.append(UInt8(ascii: ",")) }
            first = false
            JSON.serializeString(key, into: &buffer)
            buffer.append(UInt8(ascii: ":"))
            value.serialize(into: &buffer)
        }
        buffer.append(UInt8(ascii: "}"))
    }

    /// The JSON text as bytes.
    public var serializedBytes: [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 + count * 48)
        serialize(into: &buffer)
        return buffer
    }

    /// The JSON text as a `String`.
    public var jsonString: String { String(decoding: serializedBytes, as: UTF8.self) }
}

extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendStatic(_ s: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
}
