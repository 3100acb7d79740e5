import NoexJSON

/// A fact in the engine's working memory (docs/rules.md).
public struct Fact: Sendable, Equatable {
    public let key: String
    /// `nil` is JavaScript's `undefined` (a `set_fact` whose `{ref}` resolved to nothing);
    /// it is omitted from the wire form, while `.null` is written as `null`.
    public let value: JSON?
    public let timestamp: Int64
    /// `"api"` (rules.setFact), `"rule"` (the set_fact action) or `"system"`.
    public let source: String
    /// 1 on creation, +1 per overwrite, back to 1 after a delete. Informational only.
    public let version: Int

    public var json: JSON {
        var o = JSONObject(minimumCapacity: 5)
        o["key"] = .string(key)
        if let value { o["value"] = value }
        o["timestamp"] = .int(timestamp)
        o["source"] = .string(source)
        o["version"] = .int(Int64(version))
        return .object(o)
    }
}
