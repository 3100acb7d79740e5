import NoexJSON

/// JavaScript semantics the engine needs on JSON values: `String(x)` for interpolation and
/// the nested property get used by condition sources and references. `nil` stands for
/// JavaScript's `undefined` throughout the engine.
enum JSValue {
    /// `String(x)` as JavaScript prints it: numbers in JS style (`7`, `1.5`, `1e+21`), arrays
    /// comma-joined with null elements empty, objects as `[object Object]`.
    static func string(_ value: JSON?) -> String {
        guard let value else { return "undefined" }
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return numberString(d)
        case .string(let s): return s
        case .array(let a):
            return a.map { element -> String in
                if case .null = element { return "" }
                return string(element)
            }.joined(separator: ",")
        case .object: return "[object Object]"
        }
    }

    /// `Number.prototype.toString()` (ECMA-262 Number::toString) from Swift's shortest
    /// round-trip digits.
    static func numberString(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        if d == 0 { return "0" }
        let negative = d < 0
        // Swift's description is shortest round-trip: "1.5", "100.0", "1e+21", "1.2e-07".
        var text = Substring(String(describing: Swift.abs(d)))
        var exp10 = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exp10 = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        var digits = ""
        var pointAt = text.count
        for (offset, ch) in text.enumerated() {
            if ch == "." { pointAt = offset } else { digits.append(ch) }
        }
        // value = 0.digits × 10^n
        var n = pointAt + exp10
        while digits.first == "0" && digits.count > 1 {
            digits.removeFirst()
            n -= 1
        }
        while digits.last == "0" && digits.count > 1 { digits.removeLast() }
        let k = digits.count
        var out = negative ? "-" : ""
        if k <= n && n <= 21 {
            out += digits + String(repeating: "0", count: n - k)
        } else if 0 < n && n <= 21 {
            out += digits.prefix(n) + "." + digits.dropFirst(n)
        } else if -6 < n && n <= 0 {
            out += "0." + String(repeating: "0", count: -n) + digits
        } else {
            let e = n - 1
            out += String(digits.prefix(1))
            if k > 1 { out += "." + digits.dropFirst(1) }
            out += "e" + (e >= 0 ? "+" : "-") + String(Swift.abs(e))
        }
        return out
    }

    /// Nested get by a dotted path: objects by key, arrays by a numeric index segment;
    /// anything else along the way gives `undefined`.
    static func get(_ root: JSON?, path: String) -> JSON? {
        get(root, segments: path.split(separator: ".", omittingEmptySubsequences: false))
    }

    /// A dotted path split on "." (empty segments kept, as JavaScript's `split` keeps them).
    static func segments(_ path: String) -> [String] {
        path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    static func get(_ root: JSON?, segments: [String]) -> JSON? {
        var current = root
        for seg in segments {
            switch current {
            case .object(let o)?:
                current = o[seg]
            case .array(let a)?:
                guard let i = Int(seg), i >= 0, i < a.count, String(i) == seg else { return nil }
                current = a[i]
            default:
                return nil
            }
        }
        return current
    }

    static func get(_ root: JSON?, segments: some Sequence<Substring>) -> JSON? {
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
