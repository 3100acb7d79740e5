import NoexJSON

/// The binary's JSON config file (docs/config.md) plus our extensions: `path`,
/// `maxPayloadBytes`, `revocation`, `auth` as a static token table with permission rules, and
/// `buckets` / `queries` declaring the schema the store starts with. See docs/config.md.
///
/// Every field is optional so that command-line flags can take precedence over it.
public struct FileConfig {
    public var port: Int?
    public var host: String?
    public var name: String?
    public var path: String?
    public var maxPayloadBytes: Int?
    public var persistence: String?
    public var dataDir: String?
    public var db: String?
    /// `always`, `everysec` or `no` (our extension, sqlite persistence).
    public var fsync: String?
    /// The static token table (`auth` as an object with `tokens`).
    public var auth: StaticAuthConfig?
    /// Built-in identity (`auth: true` or `auth: {builtIn: true, …}`); its secret may also come
    /// from the top-level `adminSecret` or `--admin-secret`.
    public var builtInAuth: FileBuiltInAuth?
    public var adminSecret: String?
    public var rules: Bool?
    /// Rules, facts and timers loaded into the engine at start (`RuleEngine.load(config:)`).
    public var ruleDefinitions: JSON?
    /// Forward store mutations to the rule engine as `bucket.<name>.<event>` events.
    public var bridgeStoreToRules: Bool?
    /// Grace period of a stop by SIGINT/SIGTERM (`ServerConfig.shutdownGracePeriodMs`).
    public var shutdownGracePeriodMs: Int64?
    public var rateLimit: RateLimitConfig?
    public var heartbeat: HeartbeatConfig?
    public var backpressure: BackpressureConfig?
    public var connectionLimits: ConnectionLimits?
    public var revocation: RevocationConfig?
    /// `procedures: {…}` limits (docs/procedures.md#limits), merged per field over the defaults.
    public var procedures: ProceduresConfig?
    public var exposeErrorDetails: Bool?
    public var allowedOrigins: [String]?
    public var maxConnectionsPerIp: Int?
    /// `metrics: {enabled?, path?}` (docs/metrics.md); nil = not in the file.
    public var metrics: EndpointSetting?
    /// `audit: true | false | {tiers?, maxEntries?}` (docs/audit.md); nil = off.
    public var audit: AuditConfig?
    /// `health: {enabled?, path?}` (docs/metrics.md); nil = not in the file.
    public var health: EndpointSetting?
    /// `compression: true | {enabled?, threshold?, …}` (permessage-deflate); nil = not in the file.
    public var compression: CompressionSetting?
    /// `cluster: {url, name?, …}` (docs/cluster.md); nil = a single server.
    public var cluster: FileClusterConfig?
    /// Bucket name → BucketDefinition (docs/protocol/queries.md#bucket-definitions), in file order.
    public var buckets: [(name: String, definition: JSONObject)] = []
    /// Query name → DeclarativeQueryConfig (docs/protocol/queries.md), in file order.
    public var queries: [(name: String, definition: JSONObject)] = []

    public init() {}

    static let knownKeys: Set<String> = [
        "port", "host", "name", "path", "maxPayloadBytes", "persistence", "dataDir", "db", "fsync", "auth",
        "adminSecret", "rules", "audit", "rateLimit", "heartbeat", "backpressure", "connectionLimits",
        "revocation", "procedures", "exposeErrorDetails", "allowedOrigins", "maxConnectionsPerIp",
        "buckets", "queries", "ruleDefinitions", "bridgeStoreToRules",
        "shutdownGracePeriodMs",
        "metrics", "health",
        "compression",
        "cluster",
    ]

    /// Decodes a parsed config file; the first problem is thrown, naming its key.
    public static func decode(_ json: JSON) throws(ConfigError) -> FileConfig {
        guard case .object(let root) = json else {
            throw ConfigError(key: "", "the config file must contain a JSON object, got \(json.typeName)")
        }
        let r = ConfigReader(root)
        try r.rejectUnknownKeys(knownKeys)
        var c = FileConfig()
        c.port = try r.integer("port", in: 0...65535).map(Int.init)
        c.host = try r.string("host")
        c.name = try r.string("name")
        if let p = try r.string("path") {
            guard p.hasPrefix("/") else { throw ConfigError(key: "path", "must start with \"/\"") }
            c.path = p
        }
        c.maxPayloadBytes = try r.positiveInteger("maxPayloadBytes", max: ConfigBounds.bytes).map(Int.init)
        c.persistence = try r.string("persistence")
        if let p = c.persistence, p != "memory" {
            guard p == "file" || p == "sqlite" else {
                throw ConfigError(key: "persistence", "Unknown persistence type: \(p) (must be memory, file, or sqlite)")
            }
        }
        c.dataDir = try r.string("dataDir")
        c.db = try r.string("db")
        c.fsync = try r.string("fsync")
        if let v = c.fsync, !["always", "everysec", "no"].contains(v) {
            throw ConfigError(key: "fsync", "Unknown fsync policy: \(v) (must be always, everysec, or no)")
        }
        c.adminSecret = try r.string("adminSecret")
        if let secret = c.adminSecret { try FileBuiltInAuth.checkSecret(secret, key: "adminSecret") }
        c.builtInAuth = try FileBuiltInAuth.decode(r)
        if c.builtInAuth == nil { c.auth = try decodeAuth(r) }
        c.rules = try r.bool("rules")
        if let defs = try r.object("ruleDefinitions") {
            try defs.rejectUnknownKeys(["rules", "facts", "timers"])
            c.ruleDefinitions = .object(defs.object)
        }
        c.bridgeStoreToRules = try r.bool("bridgeStoreToRules")
        c.shutdownGracePeriodMs = try r.integer("shutdownGracePeriodMs", in: 0...ServerConfig.maxShutdownGracePeriodMs)
        c.audit = try AuditConfig.decode(r)
        if let o = try r.object("procedures") {
            try o.rejectUnknownKeys(["maxSteps", "maxConditionDepth", "defaultTimeoutMs", "maxItemsPerCall", "maxTemplateBytes"])
            var p = ProceduresConfig()  // merged per field
            if let v = try o.positiveInteger("maxSteps", max: ProceduresConfig.maxStepsBound) { p.maxSteps = Int(v) }
            if let v = try o.positiveInteger("maxConditionDepth", max: ProceduresConfig.maxConditionDepthBound) { p.maxConditionDepth = Int(v) }
            if let v = try o.positiveInteger("defaultTimeoutMs", max: ConfigBounds.durationMs) { p.defaultTimeoutMs = Double(v) }
            if let v = try o.positiveInteger("maxItemsPerCall", max: ProceduresConfig.maxItemsBound) { p.maxItemsPerCall = Int(v) }
            if let v = try o.positiveInteger("maxTemplateBytes", max: ConfigBounds.bytes) { p.maxTemplateBytes = Int(v) }
            c.procedures = p
        }
        if let o = try r.object("rateLimit") {
            try o.rejectUnknownKeys(["maxRequests", "windowMs"])
            guard let max = try o.positiveInteger("maxRequests", max: ConfigBounds.count) else { throw ConfigError(key: "rateLimit.maxRequests", "required") }
            guard let window = try o.positiveInteger("windowMs", max: ConfigBounds.durationMs) else { throw ConfigError(key: "rateLimit.windowMs", "required") }
            c.rateLimit = RateLimitConfig(maxRequests: Int(max), windowMs: window)
        }
        if let o = try r.object("heartbeat") {
            try o.rejectUnknownKeys(["intervalMs", "timeoutMs"])
            var h = HeartbeatConfig()  // replaced as a whole: missing fields take the defaults
            if let v = try o.positiveInteger("intervalMs", max: ConfigBounds.durationMs) { h.intervalMs = v }
            if let v = try o.positiveInteger("timeoutMs", max: ConfigBounds.durationMs) { h.timeoutMs = v }
            c.heartbeat = h
        }
        if let o = try r.object("backpressure") {
            try o.rejectUnknownKeys(["maxBufferedBytes", "highWaterMark", "slowClientTimeoutMs"])
            var b = BackpressureConfig()
            if let v = try o.positiveInteger("maxBufferedBytes", max: ConfigBounds.bytes) { b.maxBufferedBytes = Int(v) }
            if let v = try o.number("highWaterMark") {
                guard v > 0 && v <= 1 else { throw ConfigError(key: "backpressure.highWaterMark", "expected a number in (0, 1], got \(v)") }
                b.highWaterMark = v
            }
            if let v = try o.positiveInteger("slowClientTimeoutMs", max: ConfigBounds.durationMs) { b.slowClientTimeoutMs = v }
            c.backpressure = b
        }
        if let o = try r.object("connectionLimits") {
            try o.rejectUnknownKeys(["maxSubscriptionsPerConnection", "maxTotalSubscriptions"])
            var l = ConnectionLimits()  // merged per field
            if let v = try o.positiveInteger("maxSubscriptionsPerConnection", max: ConfigBounds.count) { l.maxSubscriptionsPerConnection = Int(v) }
            if let v = try o.positiveInteger("maxTotalSubscriptions", max: ConfigBounds.count) { l.maxTotalSubscriptions = Int(v) }
            c.connectionLimits = l
        }
        if let o = try r.object("revocation") {
            try o.rejectUnknownKeys(["blacklistTtlMs"])
            var rv = RevocationConfig()
            if let v = try o.positiveInteger("blacklistTtlMs", max: ConfigBounds.durationMs) { rv.blacklistTtlMs = v }
            c.revocation = rv
        }
        c.exposeErrorDetails = try r.bool("exposeErrorDetails")
        c.allowedOrigins = try r.stringArray("allowedOrigins")
        c.maxConnectionsPerIp = try r.positiveInteger("maxConnectionsPerIp", max: ConfigBounds.count).map(Int.init)
        c.metrics = try EndpointSetting.decode(r, "metrics")
        c.health = try EndpointSetting.decode(r, "health")
        c.compression = try CompressionSetting.decode(r, "compression")
        c.cluster = try FileClusterConfig.decode(r)
        c.buckets = try namedObjects(r, "buckets")
        for (name, def) in c.buckets { try SchemaConfigKeys.checkBucket(name, def) }
        c.queries = try namedObjects(r, "queries")
        for (name, def) in c.queries {
            try SchemaConfigKeys.checkQuery(name, def)
            guard case .string(let b)? = def["bucket"], !b.isEmpty else {
                throw ConfigError(key: "queries.\(name).bucket", "expected a non-empty string (the bucket the query reads)")
            }
        }
        return c
    }

    private static func namedObjects(_ r: ConfigReader, _ key: String) throws(ConfigError) -> [(name: String, definition: JSONObject)] {
        guard let o = try r.object(key) else { return [] }
        var out: [(name: String, definition: JSONObject)] = []
        for (name, value) in o.object {
            guard !name.isEmpty else { throw ConfigError(key: key, "names must be non-empty") }
            guard case .object(let def) = value else {
                throw ConfigError(key: "\(key).\(name)", "expected an object, got \(value.typeName)")
            }
            out.append((name, def))
        }
        return out
    }

    /// `auth: false` → none; `auth: {tokens, required?, permissions?}` → static token table
    /// (built-in identity is decoded by `FileBuiltInAuth` first).
    private static func decodeAuth(_ r: ConfigReader) throws(ConfigError) -> StaticAuthConfig? {
        guard let v = r.value("auth") else { return nil }
        if case .bool = v { return nil }
        guard let a = try r.object("auth") else { return nil }
        try a.rejectUnknownKeys(["tokens", "required", "permissions", "builtIn"])
        guard let tokens = try a.object("tokens") else { throw ConfigError(key: "auth.tokens", "required: an object mapping each token to {userId, roles, expiresAt?}") }
        var table: [String: AuthSession] = [:]
        for (token, _) in tokens.object {
            guard let t = try tokens.object(token) else { throw ConfigError(key: "auth.tokens.\(token)", "expected an object") }
            table[token] = try t.authSession()
        }
        var out = StaticAuthConfig(tokens: table)
        out.required = try a.bool("required") ?? true
        if let p = try a.object("permissions") {
            try p.rejectUnknownKeys(["default", "rules"])
            var perms = StaticPermissions()
            if let d = try p.string("default") {
                guard let dv = PermissionConfig.Default(rawValue: d) else {
                    throw ConfigError(key: "auth.permissions.default", "expected \"allow\" or \"deny\", got \"\(d)\"")
                }
                perms.default = dv
            }
            if let rules = p.value("rules") {
                guard case .array(let items) = rules else { throw ConfigError(key: "auth.permissions.rules", "expected an array") }
                for (i, item) in items.enumerated() {
                    let k = "auth.permissions.rules[\(i)]"
                    guard case .object(let ro) = item else { throw ConfigError(key: k, "expected an object") }
                    let rr = ConfigReader(ro, path: k)
                    try rr.rejectUnknownKeys(["role", "allow", "buckets", "topics"])
                    guard let role = try rr.string("role"), !role.isEmpty else { throw ConfigError(key: "\(k).role", "required: a non-empty string") }
                    guard let allow = try rr.stringOrStringArray("allow") else { throw ConfigError(key: "\(k).allow", "required: a string or an array of strings") }
                    perms.rules.append(PermissionRule(role: role, allow: allow, buckets: try rr.stringArray("buckets"), topics: try rr.stringArray("topics")))
                }
            }
            out.permissions = perms
        }
        return out
    }
}

/// The config file's auth: a fixed token table and declarative permission rules.
public struct StaticAuthConfig: Sendable, Equatable {
    public var tokens: [String: AuthSession]
    public var required: Bool = true
    public var permissions: StaticPermissions?

    public init(tokens: [String: AuthSession]) { self.tokens = tokens }

    /// The equivalent programmatic auth config.
    public var authConfig: AuthConfig {
        .staticTokens(tokens, required: required,
                      permissions: permissions.map { PermissionConfig(default: $0.default, rules: $0.rules) })
    }
}

/// Declarative permissions as a config file can express them (no `check` callback).
public struct StaticPermissions: Sendable, Equatable {
    public var `default`: PermissionConfig.Default = .allow
    public var rules: [PermissionRule] = []
    public init() {}
}
