import NoexLoop
import NoexPersistence
import NoexRules
import NoexStore

/// Everything that shapes one server (docs/config.md), with the original's defaults.
///
/// Nested option groups are replaced as a whole (`heartbeat`, `backpressure`) or merged per
/// field by the config-file reader (`connectionLimits`), as in the original.
public struct ServerConfig {
    /// The store the server fronts; shared with the host, never stopped by the server.
    public var store: Store
    /// The rule engine behind `rules.*`; `nil` answers every `rules.*` with `RULES_NOT_AVAILABLE`.
    public var rules: RuleEngine?
    public var port: Int = 8080
    public var host: String = "0.0.0.0"
    /// Exact pathname the WebSocket upgrade must use (`/ws` ≠ `/ws/`).
    public var path: String = "/"
    /// Largest accepted incoming message; larger ones close the connection with 1009.
    public var maxPayloadBytes: Int = 1_048_576
    /// External auth; `nil` = no auth at all.
    public var auth: AuthConfig?
    /// Built-in identity (docs/identity.md); when set it replaces `auth`.
    public var builtInAuth: BuiltInAuthConfig?
    /// `nil` = request rate limiting off.
    public var rateLimit: RateLimitConfig?
    public var heartbeat = HeartbeatConfig()
    public var backpressure = BackpressureConfig()
    public var connectionLimits = ConnectionLimits()
    public var revocation = RevocationConfig()
    /// Used in `server.stats` / `getStats()`.
    public var name: String = "noex-server"
    /// `false` removes `details` from every error answer (messages are kept).
    public var exposeErrorDetails: Bool = true
    /// `nil` = no Origin check; otherwise a request with an Origin not in the list gets HTTP 403.
    public var allowedOrigins: [String]?
    /// `nil` = unlimited; otherwise extra connections from one address are closed with 4003.
    public var maxConnectionsPerIp: Int?
    /// Grace period of a stop by signal (`NoexServer.stopOnSignals`): every client gets the
    /// shutdown system message and keeps working this long (or until it leaves), then is closed
    /// with 1001. 0 closes at once, without the message. At most `maxShutdownGracePeriodMs`.
    public var shutdownGracePeriodMs: Int64 = 5_000
    /// Upper bound of `shutdownGracePeriodMs` (config key and flag): 5 minutes.
    public static let maxShutdownGracePeriodMs: Int64 = 300_000
    /// `GET /metrics` and `GET /health` on the listening port (docs/metrics.md).
    public var monitoring = MonitoringConfig()
    /// permessage-deflate (RFC 7692, docs/transport.md); nil = never negotiated (the default).
    public var compression: PerMessageDeflateConfig?
    /// Durable storage (docs/persistence.md); `nil` = memory only, as the original's default.
    public var persistence: PersistenceOptions?
    /// Limits of `procedures.*` (docs/procedures.md#limits); procedures are always available.
    public var procedures = ProceduresConfig()
    /// The audit log (docs/audit.md); `nil` = off, as the original's default.
    public var audit: AuditConfig?
    /// Cluster mode (docs/cluster.md); nil = a single server.
    public var cluster: ClusterConfig?
    /// The byte-level `store.get` path (ProtocolCore+FastGet.swift). Not a user setting: the
    /// tests turn it off to compare its answers with the general path's.
    var fastGetPath = true

    public init(store: Store, rules: RuleEngine? = nil) {
        self.store = store
        self.rules = rules
    }
}

/// `rateLimit: {maxRequests, windowMs}` (docs/protocol/envelope.md#the-pipeline).
public struct RateLimitConfig: Sendable, Equatable {
    public var maxRequests: Int
    public var windowMs: Int64
    public init(maxRequests: Int, windowMs: Int64) {
        self.maxRequests = maxRequests
        self.windowMs = windowMs
    }
}

/// Application-level ping/pong (docs/protocol/connecting.md).
public struct HeartbeatConfig: Sendable, Equatable {
    public var intervalMs: Int64 = 30_000
    /// How long after a ping the pong may arrive before the socket is closed with 4001 (the
    /// original accepts but ignores this option; we honour it, as its documentation promises).
    public var timeoutMs: Int64 = 10_000
    public init(intervalMs: Int64 = 30_000, timeoutMs: Int64 = 10_000) {
        self.intervalMs = intervalMs
        self.timeoutMs = timeoutMs
    }
}

/// Write-buffer backpressure (docs/protocol/deviations.md, item 1).
///
/// Above `maxBufferedBytes × highWaterMark` query-subscription pushes coalesce (newest result per
/// subscription kept); above `maxBufferedBytes` event pushes are dropped and answers replaced by
/// `BACKPRESSURE`; a client above it for longer than `slowClientTimeoutMs` is disconnected.
public struct BackpressureConfig: Sendable, Equatable {
    public var maxBufferedBytes: Int = 1_048_576
    public var highWaterMark: Double = 0.8
    /// Our extension: the grace a slow client gets above the hard limit.
    public var slowClientTimeoutMs: Int64 = 30_000
    public init(maxBufferedBytes: Int = 1_048_576, highWaterMark: Double = 0.8, slowClientTimeoutMs: Int64 = 30_000) {
        self.maxBufferedBytes = maxBufferedBytes
        self.highWaterMark = highWaterMark
        self.slowClientTimeoutMs = slowClientTimeoutMs
    }

    public var highWaterBytes: Int { Int(Double(maxBufferedBytes) * highWaterMark) }
}

/// Subscription limits (docs/protocol/store-operations.md#subscriptions).
public struct ConnectionLimits: Sendable, Equatable {
    public var maxSubscriptionsPerConnection: Int = 100
    public var maxTotalSubscriptions: Int = 10_000
    public init(maxSubscriptionsPerConnection: Int = 100, maxTotalSubscriptions: Int = 10_000) {
        self.maxSubscriptionsPerConnection = maxSubscriptionsPerConnection
        self.maxTotalSubscriptions = maxTotalSubscriptions
    }
}

/// How long a revoked user id stays blacklisted for `auth.login` (docs/protocol/auth.md).
public struct RevocationConfig: Sendable, Equatable {
    public var blacklistTtlMs: Int64 = 3_600_000
    public init(blacklistTtlMs: Int64 = 3_600_000) { self.blacklistTtlMs = blacklistTtlMs }
}

/// `--persistence sqlite --db PATH --fsync POLICY` or `--persistence file --data-dir DIR`
/// (docs/persistence.md).
public struct PersistenceOptions: Sendable, Equatable {
    public typealias Policy = FsyncPolicy
    /// `sqlite`: a per-write log with replies held until committed; `file`: debounced snapshots.
    public enum Engine: String, Sendable { case sqlite, file }
    /// The SQLite database file, or the `file` engine's data directory (created when missing).
    public var path: String
    public var fsync: FsyncPolicy
    public var engine: Engine
    public init(path: String, fsync: FsyncPolicy = .everysec, engine: Engine = .sqlite) {
        self.path = path
        self.fsync = fsync
        self.engine = engine
    }
}
