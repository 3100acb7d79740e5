import NoexJSON

/// A change to one record, published after the mutation that caused it (docs/store.md#notifications-deterministic-synchronous).
public enum StoreEvent: Sendable, Equatable {
    case inserted(bucket: String, key: JSON, record: JSONObject)
    case updated(bucket: String, key: JSON, oldRecord: JSONObject, newRecord: JSONObject)
    case deleted(bucket: String, key: JSON, record: JSONObject)

    public var bucket: String {
        switch self {
        case .inserted(let b, _, _), .updated(let b, _, _, _), .deleted(let b, _, _): return b
        }
    }

    public var key: JSON {
        switch self {
        case .inserted(_, let k, _), .updated(_, let k, _, _), .deleted(_, let k, _): return k
        }
    }

    /// `inserted`, `updated` or `deleted`.
    public var type: String {
        switch self {
        case .inserted: return "inserted"
        case .updated: return "updated"
        case .deleted: return "deleted"
        }
    }

    /// `bucket.<name>.<type>`.
    public var topic: String { "bucket.\(bucket).\(type)" }

    /// The original's event object: `{type, bucket, key, record}` or
    /// `{type, bucket, key, oldRecord, newRecord}`.
    public var payload: JSON {
        switch self {
        case .inserted(let b, let k, let r), .deleted(let b, let k, let r):
            return ["type": .string(type), "bucket": .string(b), "key": k, "record": .object(r)]
        case .updated(let b, let k, let o, let n):
            return ["type": "updated", "bucket": .string(b), "key": k, "oldRecord": .object(o), "newRecord": .object(n)]
        }
    }
}

/// The noex EventBus topic matcher (docs/store.md#notifications-deterministic-synchronous): `*` matches everything; otherwise segments
/// compare one by one with `*` matching one segment; a shorter pattern ending in `*` matches
/// any longer topic whose leading segments equal the pattern's literally.
public func topicMatches(pattern: String, topic: String) -> Bool {
    if pattern == "*" || pattern == topic { return true }
    let p = pattern.split(separator: ".", omittingEmptySubsequences: false)
    let t = topic.split(separator: ".", omittingEmptySubsequences: false)
    if p.count == t.count {
        for (a, b) in zip(p, t) where a != "*" && a != b { return false }
        return true
    }
    if p.count < t.count, p.last == "*" {
        for i in 0..<(p.count - 1) where p[i] != t[i] { return false }
        return true
    }
    return false
}
