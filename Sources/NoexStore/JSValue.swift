import NoexJSON

/// JavaScript value semantics the original relies on, applied to JSON values.
///
/// `nil` stands for JavaScript `undefined` (a missing field) wherever an optional is taken.
enum JSValue {
    /// JavaScript `String(v)` (template-literal interpolation), used in error messages.
    static func string(_ value: JSON?) -> String {
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

    /// JavaScript `Number.prototype.toString()` for the common cases.
    static func number(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
        if d == 0 { return "0" }
        if d == d.rounded(), abs(d) < 9.0e18 { return String(Int64(d)) }
        var s = d.description
        // Swift writes "1e-07" / "1e+22"; JavaScript writes "1e-7" / "1e+22".
        if let e = s.firstIndex(of: "e") {
            let mantissa = s[..<e]
            var exp = s[s.index(after: e)...]
            var sign = "+"
            if exp.first == "-" || exp.first == "+" {
                sign = exp.first == "-" ? "-" : "+"
                exp = exp.dropFirst()
            }
            let digits = exp.drop { $0 == "0" }
            s = "\(mantissa.hasSuffix(".0") ? String(mantissa.dropLast(2)) : String(mantissa))e\(sign)\(digits.isEmpty ? "0" : String(digits))"
        }
        return s
    }

    /// A JSON number from a Double: `.int` when it is integral and exactly representable.
    static func json(_ d: Double) -> JSON {
        if d == d.rounded(), abs(d) <= 9_007_199_254_740_992 { return .int(Int64(d)) }
        return .double(d)
    }

    /// JavaScript `===` on JSON values: same type and value; objects and arrays (which arrive
    /// as fresh instances) are never strictly equal; `undefined === undefined`.
    static func strictEquals(_ a: JSON?, _ b: JSON?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (nil, _), (_, nil): return false
        case (.array, _), (.object, _), (_, .array), (_, .object): return false
        case (.some(let x), .some(let y)): return x == y && !(x.numberValue?.isNaN ?? false)
        }
    }

    /// SameValueZero (`Array.prototype.includes`, Map keys): like `===` but NaN equals NaN.
    static func sameValueZero(_ a: JSON?, _ b: JSON?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (nil, _), (_, nil): return false
        case (.array, _), (.object, _), (_, .array), (_, .object): return false
        case (.some(let x), .some(let y)): return x == y
        }
    }

    /// JavaScript `ToNumber` for primitives; nil for objects/arrays/undefined (NaN).
    static func toNumber(_ v: JSON) -> Double? {
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
    static func less(_ a: JSON, _ b: JSON) -> Bool {
        if case .string(let x) = a, case .string(let y) = b { return utf16Less(x, y) }
        if case .int(let x) = a, case .int(let y) = b { return x < y }
        guard let x = toNumber(a), let y = toNumber(b) else { return false }
        return x < y
    }

    static func lessOrEqual(_ a: JSON, _ b: JSON) -> Bool {
        if case .string(let x) = a, case .string(let y) = b { return !utf16Less(y, x) }
        if case .int(let x) = a, case .int(let y) = b { return x <= y }
        guard let x = toNumber(a), let y = toNumber(b) else { return false }
        return x <= y
    }

    static func utf16Less(_ a: String, _ b: String) -> Bool {
        var i = a.utf16.makeIterator()
        var j = b.utf16.makeIterator()
        while true {
            switch (i.next(), j.next()) {
            case (nil, nil): return false
            case (nil, _): return true
            case (_, nil): return false
            case (let x?, let y?): if x != y { return x < y }
            }
        }
    }

    /// JavaScript truthiness of a definition property (`if (def.required)`).
    static func truthy(_ v: JSON?) -> Bool {
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
}

extension String {
    /// Whether `needle` occurs in `self`, comparing UTF-16 code units (JS `includes`).
    func utf16Contains(_ needle: String) -> Bool {
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

    func utf16HasPrefix(_ p: String) -> Bool { utf16.starts(with: p.utf16) }

    func utf16HasSuffix(_ s: String) -> Bool {
        let a = utf16, b = s.utf16
        return a.count >= b.count && a.reversed().starts(with: b.reversed())
    }

    /// Strips JavaScript whitespace (as `String.prototype.trim`) from both ends.
    func trimmingJSWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.isJSWhitespace }) else { return "" }
        let end = scalars.lastIndex(where: { !$0.isJSWhitespace })!
        return String(scalars[start...end])
    }
}

extension Unicode.Scalar {
    /// JavaScript `\s`: WhiteSpace and LineTerminator code points.
    var isJSWhitespace: Bool {
        switch value {
        case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0xA0, 0x1680, 0x2000...0x200A,
            0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
            return true
        default: return false
        }
    }
}
