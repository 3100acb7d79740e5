import NoexJSON

/// Typed, path-aware reads from one JSON object of a config file; every failure names its key.
struct ConfigReader {
    let object: JSONObject
    /// Dotted path of this object (`""` at the top level).
    let path: String

    init(_ object: JSONObject, path: String = "") {
        self.object = object
        self.path = path
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Rejects keys outside `allowed`, so a typo is reported instead of silently ignored.
    func rejectUnknownKeys(_ allowed: Set<String>) throws(ConfigError) {
        for key in object.keys where !allowed.contains(key) {
            throw ConfigError(key: keyPath(key), "unknown key (known keys: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    /// A present, non-null value.
    func value(_ key: String) -> JSON? {
        guard let v = object[key], !v.isNull else { return nil }
        return v
    }

    func string(_ key: String) throws(ConfigError) -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else { throw ConfigError(key: keyPath(key), "expected a string, got \(v.typeName)") }
        return s
    }

    func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { throw ConfigError(key: keyPath(key), "expected true or false, got \(v.typeName)") }
        return b
    }

    /// An integer within `range` (a JSON number without fraction).
    func integer(_ key: String, in range: ClosedRange<Int64>) throws(ConfigError) -> Int64? {
        guard let v = value(key) else { return nil }
        guard let i = v.intValue, range.contains(i) else {
            throw ConfigError(key: keyPath(key), "expected an integer in \(range.lowerBound)…\(range.upperBound), got \(Self.show(v))")
        }
        return i
    }

    func positiveInteger(_ key: String) throws(ConfigError) -> Int64? {
        guard let v = value(key) else { return nil }
        guard let i = v.intValue, i >= 1 else {
            throw ConfigError(key: keyPath(key), "expected a positive integer, got \(Self.show(v))")
        }
        return i
    }

    /// A positive integer no larger than `max` (every count, size and duration has a ceiling,
    /// so no value can overflow the arithmetic that uses it).
    func positiveInteger(_ key: String, max: Int64) throws(ConfigError) -> Int64? {
        guard let v = value(key) else { return nil }
        guard let i = v.intValue, i >= 1, i <= max else {
            throw ConfigError(key: keyPath(key), "expected a positive integer no larger than \(max), got \(Self.show(v))")
        }
        return i
    }

    func number(_ key: String) throws(ConfigError) -> Double? {
        guard let v = value(key) else { return nil }
        guard let d = v.numberValue, d.isFinite else { throw ConfigError(key: keyPath(key), "expected a number, got \(v.typeName)") }
        return d
    }

    func stringArray(_ key: String) throws(ConfigError) -> [String]? {
        guard let v = value(key) else { return nil }
        guard case .array(let items) = v else { throw ConfigError(key: keyPath(key), "expected an array of strings, got \(v.typeName)") }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item else {
                throw ConfigError(key: "\(keyPath(key))[\(i)]", "expected a string, got \(item.typeName)")
            }
            out.append(s)
        }
        return out
    }

    /// A string or an array of strings (as `allow` in permission rules).
    func stringOrStringArray(_ key: String) throws(ConfigError) -> [String]? {
        if case .string(let s)? = value(key) { return [s] }
        return try stringArray(key)
    }

    func object(_ key: String) throws(ConfigError) -> ConfigReader? {
        guard let v = value(key) else { return nil }
        guard case .object(let o) = v else { throw ConfigError(key: keyPath(key), "expected an object, got \(v.typeName)") }
        return ConfigReader(o, path: keyPath(key))
    }

    static func show(_ v: JSON) -> String {
        switch v {
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return "\"\(s)\""
        default: return v.typeName
        }
    }
}
