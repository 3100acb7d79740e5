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

    /// `Number.prototype.toString()`; NoexJSON's formatter, shared with serialization.
    static func numberString(_ d: Double) -> String { JSNumberFormat.string(d) }

    /// Nested get by a dotted path: objects by key, arrays by a numeric index segment;
    /// anything else along the way gives `undefined`.
    static func get(_ root: JSON?, path: String) -> JSON? {
        get(root, segments: path.split(separator: ".", omittingEmptySubsequences: false))
    }

    /// A dotted path split on "." (empty segments kept, as JavaScript's `split` keeps them).
    static func segments(_ path: String) -> [String] {
        path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    static func get(_ root: JSON?, segments: some Sequence<String>) -> JSON? {
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
