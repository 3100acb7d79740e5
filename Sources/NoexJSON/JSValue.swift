/// JavaScript value semantics the original (a Node program) relies on, applied to JSON values:
/// `String(x)`, `===`, SameValueZero, `ToNumber`, relational comparison, truthiness and nested
/// property reads. The store and the rule engine both compare and print values this way.
///
/// `nil` stands for JavaScript `undefined` (a missing field) wherever an optional is taken.
public enum JSValue {
    /// JavaScript `String(v)` (template-literal interpolation), used in error messages.
    public static func string(_ value: JSON?) -> String {
        guard let value else { return "undefined" }
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return number(d)
        case .string(let s): return s
        case .array(let a):
            return a.map { $0.isNull ? "" : string($0) }.joined(separator: ",")
        case .object: return "[object Object]"
        }
    }

    /// JavaScript `Number.prototype.toString()`; the serializer's formatter.
    public static func number(_ d: Double) -> String { JSNumberFormat.string(d) }

    /// A JSON number from a Double: `.int` when it is integral and exactly representable.
    public static func json(_ d: Double) -> JSON {
        if d == d.rounded(), abs(d) <= 9_007_199_254_740_992 { return .int(Int64(d)) }
        return .double(d)
    }

    /// JavaScript `===` on JSON values: same type and value; objects and arrays (which arrive
    /// as fresh instances) are never strictly equal; `undefined === undefined`.
    public static func strictEquals(_ a: JSON?, _ b: JSON?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (nil, _), (_, nil): return false
        case (.array, _), (.object, _), (_, .array), (_, .object): return false
        case (.some(let x), .some(let y)): return x == y && !(x.numberValue?.isNaN ?? false)
        }
    }

    /// SameValueZero (`Array.prototype.includes`, Map keys): like `===` but NaN equals NaN.
    public static func sameValueZero(_ a: JSON?, _ b: JSON?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (nil, _), (_, nil): return false
        case (.array, _), (.object, _), (_, .array), (_, .object): return false
        case (.some(let x), .some(let y)): return x == y
        }
    }

    /// JavaScript `ToNumber` for primitives; nil for objects/arrays/undefined (NaN).
    public static func toNumber(_ v: JSON) -> Double? {
        switch v {
        case .null: return 0
        case .bool(let b): return b ? 1 : 0
        case .int, .double: return v.numberValue
        case .string(let s):
            let t = s.trimmingJSWhitespace()
            if t.isEmpty { return 0 }
            if t == "Infinity" || t == "+Infinity" { return .infinity }
            if t == "-Infinity" { return -.infinity }
            if t.lowercased().contains("inf") || t.lowercased().contains("nan") { return nil }
            if t.hasPrefix("0x") || t.hasPrefix("0X") { return UInt64(t.dropFirst(2), radix: 16).map(Double.init) }
            return Double(t)
        case .array, .object: return nil
        }
    }

    /// JavaScript abstract relational comparison `a < b` on primitives: two strings compare by
    /// UTF-16 code units, everything else numerically after `ToNumber`; NaN and objects → false.
    public static func less(_ a: JSON, _ b: JSON) -> Bool {
        if case .string(let x) = a, case .string(let y) = b { return utf16Less(x, y) }
        if case .int(let x) = a, case .int(let y) = b { return x < y }
        guard let x = toNumber(a), let y = toNumber(b) else { return false }
        return x < y
    }

    public static func lessOrEqual(_ a: JSON, _ b: JSON) -> Bool {
        if case .string(let x) = a, case .string(let y) = b { return !utf16Less(y, x) }
        if case .int(let x) = a, case .int(let y) = b { return x <= y }
        guard let x = toNumber(a), let y = toNumber(b) else { return false }
        return x <= y
    }

    /// JavaScript's `a < b` on strings: UTF-16 code unit order.
    ///
    /// Read from the UTF-8 bytes: equal bytes are equal code points, and at the first code point
    /// that differs, UTF-16 order is code point order except that a code point above U+FFFF
    /// (a surrogate pair, D800–DFFF first) sorts before U+E000–U+FFFF. Walking the strings'
    /// UTF-16 views instead cost ~150 ns per comparison of two short keys, most of a sort.
    public static func utf16Less(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in b.withUTF8 { y in utf16Less(utf8: x, y) } }
    }

    static func utf16Less(utf8 x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = Swift.min(x.count, y.count)
        var i = 0
        while i < n && x[i] == y[i] { i += 1 }
        if i == n { return x.count < y.count }
        while i > 0 && x[i] & 0xC0 == 0x80 { i -= 1 }  // back to the code point's first byte
        let cx = scalar(x, at: i), cy = scalar(y, at: i)
        return utf16Order(cx) < utf16Order(cy) || (utf16Order(cx) == utf16Order(cy) && cx < cy)
    }

    /// The first UTF-16 code unit of a code point, where code points order as UTF-16 does.
    @inline(__always)
    private static func utf16Order(_ c: UInt32) -> UInt32 { c >= 0x10000 ? 0xD800 + ((c - 0x10000) >> 10) : c }

    /// The code point whose UTF-8 encoding starts at `i` (the bytes are valid UTF-8).
    private static func scalar(_ u: UnsafeBufferPointer<UInt8>, at i: Int) -> UInt32 {
        let b0 = UInt32(u[i])
        if b0 < 0x80 { return b0 }
        if b0 < 0xE0 { return (b0 & 0x1F) << 6 | UInt32(u[i + 1] & 0x3F) }
        if b0 < 0xF0 { return (b0 & 0x0F) << 12 | UInt32(u[i + 1] & 0x3F) << 6 | UInt32(u[i + 2] & 0x3F) }
        return (b0 & 0x07) << 18 | UInt32(u[i + 1] & 0x3F) << 12 | UInt32(u[i + 2] & 0x3F) << 6 | UInt32(u[i + 3] & 0x3F)
    }

    /// JavaScript truthiness of a definition property (`if (def.required)`).
    public static func truthy(_ v: JSON?) -> Bool {
        guard let v else { return false }
        switch v {
        case .null: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0 && !d.isNaN
        case .string(let s): return !s.isEmpty
        case .array, .object: return true
        }
    }

    /// Nested get by a dotted path: objects by key, arrays by a numeric index segment;
    /// anything else along the way gives `undefined`.
    public static func get(_ root: JSON?, path: String) -> JSON? {
        get(root, segments: path.split(separator: ".", omittingEmptySubsequences: false))
    }

    /// A dotted path split on "." (empty segments kept, as JavaScript's `split` keeps them).
    public static func segments(_ path: String) -> [String] {
        path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    /// Reads along path segments: objects by key, arrays by a canonical index segment ("1",
    /// not "01" or "-1", as JavaScript property keys work); anything else gives `undefined`.
    public static func get<S: StringProtocol>(_ root: JSON?, segments: some Sequence<S>) -> JSON? {
        var current = root
        for seg in segments {
            switch current {
            case .object(let o)?:
                current = o[String(seg)]
            case .array(let a)?:
                guard let i = Int(seg), i >= 0, i < a.count, String(i) == seg else { return nil }
                current = a[i]
            default:
                return nil
            }
        }
        return current
    }
}

extension String {
    /// Whether `needle` occurs in `self`, comparing UTF-16 code units (JS `includes`).
    public func utf16Contains(_ needle: String) -> Bool {
        let h = Array(utf16), n = Array(needle.utf16)
        if n.isEmpty { return true }
        if n.count > h.count { return false }
        var i = 0
        while i + n.count <= h.count {
            if h[i] == n[0] {
                var k = 1
                while k < n.count && h[i + k] == n[k] { k += 1 }
                if k == n.count { return true }
            }
            i += 1
        }
        return false
    }

    public func utf16HasPrefix(_ p: String) -> Bool { utf16.starts(with: p.utf16) }

    public func utf16HasSuffix(_ s: String) -> Bool {
        let a = utf16, b = s.utf16
        return a.count >= b.count && a.reversed().starts(with: b.reversed())
    }

    /// Strips JavaScript whitespace (as `String.prototype.trim`) from both ends.
    public func trimmingJSWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.isJSWhitespace }) else { return "" }
        let end = scalars.lastIndex(where: { !$0.isJSWhitespace })!
        return String(scalars[start...end])
    }
}

extension Unicode.Scalar {
    /// JavaScript `\s`: WhiteSpace and LineTerminator code points.
    public var isJSWhitespace: Bool {
        switch value {
        case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0xA0, 0x1680, 0x2000...0x200A,
            0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
            return true
        default: return false
        }
    }
}
