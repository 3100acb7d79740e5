import NoexJSON

/// The keys a config file's `buckets` and `queries` entries may use. The store itself ignores
/// unknown keys (as the original does over the wire), so without this check `"requird": true`
/// would silently leave a field optional; in the config file every key is checked, as all
/// other config keys are.
enum SchemaConfigKeys {
    static let bucket: Set<String> = ["key", "schema", "indexes", "etsType", "persistent", "ttl", "maxSize"]
    static let field: Set<String> = [
        "type", "required", "default", "generated", "enum", "format", "min", "max", "minLength", "maxLength",
        "pattern", "unique", "ref", "onDelete",
    ]
    static let query: Set<String> = [
        "bucket", "filter", "get", "getMany", "one", "first", "last", "page", "sort", "offset", "limit", "fields",
        "pluck", "aggregate", "groupBy", "groupFormat", "lookup", "compute", "omit", "params",
    ]
    /// A lookup joins one record by `key`, or runs a sub-query with the query keys.
    static let lookup: Set<String> = query.union(["key"])

    /// `buckets.NAME`: its own keys, then each `schema` field's keys.
    static func checkBucket(_ name: String, _ definition: JSONObject) throws(ConfigError) {
        let path = "buckets.\(name)"
        let r = ConfigReader(definition, path: path)
        try r.rejectUnknownKeys(bucket)
        guard let schema = try r.object("schema") else { return }
        for (fieldName, value) in schema.object {
            guard case .object(let def) = value else {
                throw ConfigError(key: schema.keyPath(fieldName), "expected a field definition object, got \(value.typeName)")
            }
            try ConfigReader(def, path: schema.keyPath(fieldName)).rejectUnknownKeys(field)
        }
    }

    /// `queries.NAME`: its own keys and each lookup's.
    static func checkQuery(_ name: String, _ definition: JSONObject) throws(ConfigError) {
        try checkQuery(ConfigReader(definition, path: "queries.\(name)"), allowed: query)
    }

    private static func checkQuery(_ r: ConfigReader, allowed: Set<String>) throws(ConfigError) {
        try r.rejectUnknownKeys(allowed)
        guard let lookups = try r.object("lookup") else { return }
        for (alias, value) in lookups.object {
            guard case .object(let o) = value else {
                throw ConfigError(key: lookups.keyPath(alias), "expected a lookup object, got \(value.typeName)")
            }
            try checkQuery(ConfigReader(o, path: lookups.keyPath(alias)), allowed: lookup)
        }
    }
}
