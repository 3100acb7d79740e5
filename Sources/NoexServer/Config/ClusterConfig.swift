import NoexCluster

/// Cluster mode (docs/cluster.md): this node joins the cluster `name` whose ordered log is the
/// Redis Stream `noex:{name}:log` on `redis`. Every node of one cluster uses the same name and
/// the same schema (config file); each node gets its own random origin id at start.
public struct ClusterConfig: Sendable, Equatable {
    public var redis: RedisEndpoint
    /// The cluster's name: letters, digits, `.`, `_`, `-` (it becomes part of Redis keys).
    public var name: String
    /// A write waits at most this long for Redis (disconnected: queued) before it is answered
    /// `CLUSTER_UNAVAILABLE`.
    public var writeTimeoutMs: Int64 = 2_000
    /// Writes queued while Redis is unreachable; past this they are answered at once.
    public var maxQueuedWrites: Int = 1_024
    /// The start gives up (with an error naming Redis) when the node has not caught up with
    /// the log's tail by then.
    public var startupTimeoutMs: Int64 = 30_000
    /// How often this node publishes its position in `noex:{name}:nodes` (and the snapshot
    /// holder checks whether a snapshot is due).
    public var positionIntervalMs: Int64 = 2_000
    /// A node whose published position is older than this is not live: it no longer holds
    /// trimming back (and its entry is removed).
    public var nodeTimeoutMs: Int64 = 30_000
    /// The lease holder stores a snapshot (and trims) once this many entries were applied
    /// since its last one …
    public var snapshotEveryEntries: Int64 = 10_000
    /// … or once this long passed with at least one new entry.
    public var snapshotIntervalMs: Int64 = 300_000
    /// A snapshot larger than this (serialized) is not stored, and the log is not trimmed; a
    /// line on stderr says so. Redis refuses strings above 512 MB.
    public var maxSnapshotBytes: Int64 = 500_000_000
    /// Flow control (docs/cluster.md#bounded-staleness-flow-control): when the slowest live node is more than
    /// this far behind the log, this node refuses its clients' writes until it catches up; 0
    /// turns it off. Positions are then published every quarter of it (`publishIntervalMs`).
    public var maxLagMs: Int64 = 5_000

    /// Below this a bound is smaller than the publication and scheduling noise it is measured with.
    public static let minimumMaxLagMs: Int64 = 100

    /// How often positions are published (and, with flow control on, the other nodes' read):
    /// `positionIntervalMs`, or a quarter of `maxLagMs` when that is shorter, so a live node's
    /// published lag is never more than a quarter of the bound out of date.
    public var publishIntervalMs: Int64 {
        maxLagMs > 0 ? max(25, min(positionIntervalMs, maxLagMs / 4)) : positionIntervalMs
    }

    public init(redis: RedisEndpoint, name: String) {
        self.redis = redis
        self.name = name
    }

    /// Why `name` cannot name a cluster, or nil.
    public static func problem(name: String) -> String? {
        let allowed = name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x2D
        }
        guard !name.isEmpty, name.utf8.count <= 64, allowed else {
            return "invalid cluster name \"\(name)\": use 1-64 letters, digits, \".\", \"_\" or \"-\" (every node of one cluster uses the same name)"
        }
        return nil
    }

    /// Why `url` is not a Redis address, or nil.
    public static func endpoint(url: String) -> RedisEndpoint? {
        guard url.hasPrefix("redis://") else { return nil }
        return RedisEndpoint(url: url)
    }
}

/// The config file's `cluster: {url?, name?, writeTimeoutMs?, maxQueuedWrites?, startupTimeoutMs?,
/// positionIntervalMs?, nodeTimeoutMs?, snapshotEveryEntries?, snapshotIntervalMs?, maxSnapshotBytes?, maxLagMs?}`
/// (`url` may come from `--cluster` instead).
public struct FileClusterConfig: Sendable, Equatable {
    public var url: String?
    public var name: String?
    public var writeTimeoutMs: Int64?
    public var maxQueuedWrites: Int?
    public var startupTimeoutMs: Int64?
    public var positionIntervalMs: Int64?
    public var nodeTimeoutMs: Int64?
    public var snapshotEveryEntries: Int64?
    public var snapshotIntervalMs: Int64?
    public var maxSnapshotBytes: Int64?
    public var maxLagMs: Int64?

    static func decode(_ r: ConfigReader) throws(ConfigError) -> FileClusterConfig? {
        guard let o = try r.object("cluster") else { return nil }
        try o.rejectUnknownKeys(["url", "name", "writeTimeoutMs", "maxQueuedWrites", "startupTimeoutMs", "positionIntervalMs",
                                 "nodeTimeoutMs", "snapshotEveryEntries", "snapshotIntervalMs", "maxSnapshotBytes", "maxLagMs"])
        let url = try o.string("url")
        if let url, ClusterConfig.endpoint(url: url) == nil {
            throw ConfigError(key: "cluster.url", "expected redis://HOST:PORT, got \"\(url)\"")
        }
        var c = FileClusterConfig(url: url)
        c.name = try o.string("name")
        if let n = c.name, let problem = ClusterConfig.problem(name: n) { throw ConfigError(key: "cluster.name", problem) }
        c.writeTimeoutMs = try o.positiveInteger("writeTimeoutMs", max: ConfigBounds.durationMs)
        c.maxQueuedWrites = try o.positiveInteger("maxQueuedWrites", max: ConfigBounds.count).map(Int.init)
        c.startupTimeoutMs = try o.positiveInteger("startupTimeoutMs", max: ConfigBounds.durationMs)
        c.positionIntervalMs = try o.positiveInteger("positionIntervalMs", max: ConfigBounds.durationMs)
        c.nodeTimeoutMs = try o.positiveInteger("nodeTimeoutMs", max: ConfigBounds.durationMs)
        c.snapshotEveryEntries = try o.positiveInteger("snapshotEveryEntries", max: ConfigBounds.count)
        c.snapshotIntervalMs = try o.positiveInteger("snapshotIntervalMs", max: ConfigBounds.durationMs)
        c.maxSnapshotBytes = try o.positiveInteger("maxSnapshotBytes", max: Int64(ClusterSnapshot.maxBytes))
        c.maxLagMs = try o.integer("maxLagMs", in: 0...ConfigBounds.durationMs)
        if let m = c.maxLagMs, m > 0, m < ClusterConfig.minimumMaxLagMs {
            throw ConfigError(key: "cluster.maxLagMs", "must be 0 (flow control off) or at least \(ClusterConfig.minimumMaxLagMs) ms, got \(m): a smaller bound is below the noise of publishing positions")
        }
        if let p = c.positionIntervalMs, let t = c.nodeTimeoutMs, t <= p {
            throw ConfigError(key: "cluster.nodeTimeoutMs", "must be above cluster.positionIntervalMs (\(p)): a live node publishes its position every positionIntervalMs")
        }
        return c
    }
}

extension ClusterConfig {
    /// Why a server config cannot run as a cluster node, or nil: what it would keep per node
    /// while clients expect it shared.
    public static func problem(with s: ServerConfig) -> String? {
        if s.builtInAuth != nil {
            return "cluster mode cannot be combined with the built-in identity (--auth / \"auth\": {\"builtIn\": true}): its users, roles and sessions are not replicated; use static tokens (\"auth\": {\"tokens\": …}) on every node"
        }
        if let p = s.persistence, p.engine == .file {
            return "cluster mode works with --persistence memory or sqlite: the file engine does not store the cluster position a restarted node resumes from"
        }
        return nil
    }
}
