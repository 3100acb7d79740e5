import NoexJSON

/// How far a node has applied the log: the id of the last entry and the cluster time after it.
/// The cluster time is the largest `atMs` applied so far; each command runs at
/// `max(clusterTime, atMs)`, so timestamps never go backwards even when the origins' clocks
/// disagree, and every node computes the same because the time is part of the applied state.
public struct ClusterPosition: Equatable, Sendable {
    public var lastID: StreamID
    public var timeMs: Int64

    public static let start = ClusterPosition(lastID: .zero, timeMs: 0)

    public init(lastID: StreamID, timeMs: Int64) {
        self.lastID = lastID
        self.timeMs = timeMs
    }

    /// `{"id":"MS-SEQ","timeMs":N}`, as stored in the database and in snapshots.
    public var json: JSON { ["id": .string(lastID.description), "timeMs": .int(timeMs)] }

    public var text: String { String(decoding: json.serializedBytes, as: UTF8.self) }

    public init?(json: JSON) {
        guard let s = json["id"]?.stringValue, let id = StreamID(s), let t = json["timeMs"]?.intValue else { return nil }
        self.init(lastID: id, timeMs: t)
    }

    public init?(text: String) {
        guard let j = try? JSON.parse(text) else { return nil }
        self.init(json: j)
    }
}
