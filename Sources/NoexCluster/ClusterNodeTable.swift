import NoexJSON

/// The Redis hash `noex:{NAME}:nodes` (docs/cluster.md#trimming-and-bootstrap): every node publishes, under
/// its origin id, the last log position it still needs — with sqlite the committed one, without
/// persistence the applied one (`durable: false`) — and when it published it. The snapshot holder
/// reads it to decide how far the log may be trimmed.
public enum ClusterNodeTable {
    public static func key(cluster name: String) -> String { "noex:{\(name)}:nodes" }

    /// One node's value: `{"position":{"id":"MS-SEQ","timeMs":N},"durable":B,"atMs":N}`, and for
    /// flow control `"applied":"MS-SEQ"` (the last entry it applied) and `"seenMs":N` (it had
    /// applied everything appended before that time).
    public static func entry(position: ClusterPosition, durable: Bool, atMs: Int64, applied: StreamID? = nil, seenMs: Int64? = nil) -> JSON {
        var o: JSONObject = ["position": position.json, "durable": .bool(durable), "atMs": .int(atMs)]
        if let applied { o["applied"] = .string(applied.description) }
        if let seenMs { o["seenMs"] = .int(seenMs) }
        return .object(o)
    }

    /// What the table allows: trim below `limit` (nil: not at all, because an entry cannot be
    /// read), and the fields of nodes that timed out (to be removed).
    public struct Verdict: Equatable, Sendable {
        public var limit: StreamID?
        public var expired: [String]

        public init(limit: StreamID?, expired: [String]) {
            self.limit = limit
            self.expired = expired
        }
    }

    /// The trim limit for a snapshot at `snapshot`: the lowest of it and every live node's
    /// position. A node is live while its entry is younger than `timeoutMs` (by the reader's
    /// clock). An entry this node cannot read (a newer format) stops trimming: it may be a live
    /// node that still needs the log.
    public static func verdict(fieldsAndValues: [(String, String)], snapshot: StreamID, nowMs: Int64, timeoutMs: Int64) -> Verdict {
        var limit = snapshot
        var expired: [String] = []
        for (field, value) in fieldsAndValues {
            guard let json = try? JSON.parse(value), let at = json["atMs"]?.intValue,
                  let position = json["position"].flatMap(ClusterPosition.init(json:))
            else { return Verdict(limit: nil, expired: []) }
            if nowMs - at > timeoutMs {
                expired.append(field)
            } else {
                limit = min(limit, position.lastID)
            }
        }
        return Verdict(limit: limit, expired: expired)
    }
}
