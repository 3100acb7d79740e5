import NoexJSON
import NoexRegex

/// How a field gets a value on insert when none was supplied.
public enum GeneratedKind: String, Sendable {
    case uuid, cuid, autoincrement, timestamp
}

/// One field of a bucket schema (docs/protocol/queries.md#bucket-definitions), parsed from its wire JSON.
///
/// Parsing is lenient like the original: unknown properties are ignored, a property of the
/// wrong JSON type is treated as absent (booleans use JavaScript truthiness).
public struct FieldDefinition: Sendable, Equatable {
    public var type: String?
    public var required: Bool
    public var defaultValue: JSON?
    public var generated: GeneratedKind?
    public var enumValues: [JSON]?
    public var format: String?
    public var min: Double?
    public var max: Double?
    public var minLength: Double?
    public var maxLength: Double?
    public var pattern: String?
    public var unique: Bool
    /// Target bucket of a foreign key (docs/store.md), enforced outside transactions.
    public var ref: String?
    /// `restrict` (default), `cascade` or `set_null`.
    public var onDelete: String

    public init(json: JSON) {
        let o = json.objectValue ?? JSONObject()
        type = o["type"]?.stringValue
        required = JSValue.truthy(o["required"])
        defaultValue = o["default"]
        generated = o["generated"]?.stringValue.flatMap(GeneratedKind.init(rawValue:))
        enumValues = o["enum"]?.arrayValue
        format = o["format"]?.stringValue
        min = o["min"]?.numberValue
        max = o["max"]?.numberValue
        minLength = o["minLength"]?.numberValue
        maxLength = o["maxLength"]?.numberValue
        pattern = o["pattern"]?.stringValue
        unique = JSValue.truthy(o["unique"])
        ref = o["ref"]?.stringValue
        onDelete = o["onDelete"]?.stringValue ?? "restrict"
    }
}

/// `ordered_set` sorts `first`/`last`/`paginate` by key; the other kinds keep insertion order.
public enum BucketKind: String, Sendable {
    case set, orderedSet = "ordered_set", bag, duplicateBag = "duplicate_bag"
}

/// A bucket definition (docs/protocol/queries.md#bucket-definitions), parsed and checked.
public struct BucketDefinition: Sendable {
    /// The primary-key field.
    public var key: String
    /// Schema fields in declaration order.
    public var fields: [(name: String, definition: FieldDefinition)]
    /// Explicitly indexed fields, in the order given.
    public var indexes: [String]
    public var kind: BucketKind
    public var persistent: Bool?
    /// Time to live in milliseconds, nil when the bucket has no TTL.
    public var ttlMs: Double?
    public var maxSize: Int?
    /// The definition object as the client sent it (what `getBucketSchema` returns).
    public var config: JSONObject

    /// Parses and checks `config` for bucket `bucket` (definition-time rules of docs/protocol/queries.md#bucket-definitions).
    public init(bucket: String, config: JSONObject) throws(StoreError) {
        self.config = config
        key = config["key"]?.stringValue ?? JSValue.string(config["key"])
        let schema = config["schema"]?.objectValue ?? JSONObject()
        fields = schema.map { ($0.key, FieldDefinition(json: $0.value)) }
        guard schema.contains(key) else {
            throw .invalidDefinition("Key field \"\(key)\" does not exist in schema for bucket \"\(bucket)\"")
        }
        indexes = []
        for entry in config["indexes"]?.arrayValue ?? [] {
            let f = JSValue.string(entry)
            guard schema.contains(f) else {
                throw .invalidDefinition("Index field \"\(f)\" does not exist in schema for bucket \"\(bucket)\"")
            }
            if !indexes.contains(f) { indexes.append(f) }
        }
        kind = config["etsType"]?.stringValue.flatMap(BucketKind.init(rawValue:)) ?? .set
        persistent = config["persistent"]?.boolValue
        if let ttl = config["ttl"], !ttl.isNull {
            ttlMs = try parseTTL(ttl)
        }
        if let m = config["maxSize"]?.numberValue, !m.isNaN {
            // negative behaves like 0 (every insert evicts everything before it), as in the original
            maxSize = m >= 1e15 ? Int(1e15) : Swift.max(0, Int(m.rounded(.down)))
        }
        for (name, def) in fields {
            if def.ref != nil, !["restrict", "cascade", "set_null"].contains(def.onDelete) {
                throw .invalidDefinition("Invalid onDelete \"\(def.onDelete)\" for field \"\(name)\" in bucket \"\(bucket)\"")
            }
            if def.ref != nil, def.onDelete == "set_null", def.required {
                throw .invalidDefinition("Field \"\(name)\" in bucket \"\(bucket)\" cannot use onDelete \"set_null\" because it is required")
            }
            if let p = def.pattern {
                do throws(RegexSyntaxError) {
                    _ = try BoundedRegex(p)
                } catch {
                    throw .invalidDefinition(
                        "Invalid regular expression: /\(p)/ for field \"\(name)\" in bucket \"\(bucket)\": \(error.message) at offset \(error.offset)")
                }
            }
        }
    }

    public func field(_ name: String) -> FieldDefinition? {
        fields.first { $0.name == name }?.definition
    }

    /// Fields that carry an index: explicit indexes first, then unlisted `unique` fields.
    var indexedFields: [(name: String, unique: Bool)] {
        var out: [(String, Bool)] = indexes.map { ($0, field($0)?.unique ?? false) }
        for (name, def) in fields where def.unique && !indexes.contains(name) {
            out.append((name, true))
        }
        return out
    }
}

/// Parses a TTL (docs/protocol/queries.md#bucket-definitions): a positive finite number of ms, or `"<n>s|m|h|d"`.
public func parseTTL(_ value: JSON) throws(StoreError) -> Double {
    switch value {
    case .int, .double:
        let d = value.numberValue!
        guard d.isFinite, d > 0 else {
            throw .invalidDefinition("TTL must be a positive finite number, got \(JSValue.string(value))")
        }
        return d
    case .string(let s):
        let invalid = StoreError.invalidDefinition(
            "Invalid TTL format \"\(s)\". Expected a number (ms) or string like \"30s\", \"5m\", \"1h\", \"7d\".")
        guard let unit = s.last, let mult = ["s": 1000.0, "m": 60_000, "h": 3_600_000, "d": 86_400_000][unit] else {
            throw invalid
        }
        var num = s.dropLast()
        while let l = num.last, l.unicodeScalars.first!.isJSWhitespace { num = num.dropLast() }
        // ^\d+(\.\d+)?$
        let parts = num.split(separator: ".", omittingEmptySubsequences: false)
        let isDigits = { (p: Substring) in !p.isEmpty && p.allSatisfy { $0.isASCII && $0.isNumber } }
        guard (parts.count == 1 && isDigits(parts[0])) || (parts.count == 2 && isDigits(parts[0]) && isDigits(parts[1])),
            let n = Double(num)
        else { throw invalid }
        guard n > 0 else { throw .invalidDefinition("TTL value must be positive, got \"\(s)\"") }
        return n * mult
    default:
        throw .invalidDefinition(
            "Invalid TTL format \"\(JSValue.string(value))\". Expected a number (ms) or string like \"30s\", \"5m\", \"1h\", \"7d\".")
    }
}
