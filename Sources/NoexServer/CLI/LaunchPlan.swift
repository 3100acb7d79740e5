import NoexJSON
import NoexLoop
import NoexPersistence
import NoexRules
import NoexStore

/// What the binary will run: the server config plus the schema the store starts with, resolved
/// from flags (highest precedence), the config file, and the defaults (docs/config.md).
public struct LaunchPlan {
    public var server: ServerConfig
    public var buckets: [(name: String, definition: JSONObject)]
    public var queries: [(name: String, definition: JSONObject)]
    public var rulesEnabled: Bool
    public var ruleDefinitions: JSON?
    public var bridgeStoreToRules: Bool
    public var usesDemoSchema: Bool
    public var echo: Bool

    /// Combines the parsed flags with the decoded config file (`nil` when none was given).
    public static func resolve(_ cli: CommandLineOptions, file: FileConfig?) throws(CommandLineError) -> LaunchPlan {
        let f = file ?? FileConfig()
        let name = cli.name ?? f.name ?? "noex-server"
        var s = ServerConfig(store: Store(name: name, nowMs: ServerClock.systemWallMs))
        s.name = name
        if let p = cli.port {
            guard (0...65535).contains(p) else { throw CommandLineError("Invalid port: \(p) (must be integer 0-65535)") }
            s.port = p
        } else if let p = f.port {
            s.port = p
        }
        s.host = cli.host ?? f.host ?? s.host
        s.path = f.path ?? s.path
        if let m = cli.maxPayloadBytes {
            guard m >= 1, m <= Int(ConfigBounds.bytes) else {
                throw CommandLineError("Invalid --max-payload-bytes: \(m) (must be a positive integer no larger than \(ConfigBounds.bytes))")
            }
            s.maxPayloadBytes = m
        } else {
            s.maxPayloadBytes = f.maxPayloadBytes ?? s.maxPayloadBytes
        }
        let persistence = cli.persistence ?? f.persistence ?? "memory"
        switch persistence {
        case "memory": break
        case "sqlite", "file":
            let name = cli.fsync ?? f.fsync ?? "everysec"
            guard let policy = FsyncPolicy(rawValue: name) else {
                throw CommandLineError("Unknown fsync policy: \(name) (must be always, everysec, or no)")
            }
            s.persistence = persistence == "sqlite"
                ? PersistenceOptions(path: cli.db ?? f.db ?? "./noex.db", fsync: policy)
                : PersistenceOptions(path: cli.dataDir ?? f.dataDir ?? "./data", fsync: policy, engine: .file)
        default:
            throw CommandLineError("Unknown persistence type: \(persistence) (must be memory, file, or sqlite)")
        }
        if cli.auth || f.builtInAuth != nil {
            guard let secret = cli.adminSecret ?? f.builtInAuth?.adminSecret ?? f.adminSecret else {
                throw CommandLineError(cli.auth
                    ? "--admin-secret is required when --auth is enabled; add --admin-secret SECRET or drop --auth"
                    : "config key \"auth\": built-in identity needs an admin secret; add \"adminSecret\" or --admin-secret SECRET")
            }
            do { try FileBuiltInAuth.checkSecret(secret, key: "adminSecret") } catch {
                throw CommandLineError("Invalid admin secret: \(error.problem)")
            }
            var builtIn = BuiltInAuthConfig(adminSecret: secret)
            if let ttl = f.builtInAuth?.sessionTtlMs { builtIn.sessionTtlMs = ttl }
            builtIn.maxSessionsPerUser = f.builtInAuth?.maxSessionsPerUser
            if let limit = f.builtInAuth?.loginRateLimit { builtIn.loginRateLimit = limit }
            s.builtInAuth = builtIn
        }
        s.audit = f.audit ?? (cli.audit ? AuditConfig() : nil)
        if s.builtInAuth == nil { s.auth = f.auth?.authConfig }
        s.rateLimit = f.rateLimit
        s.heartbeat = f.heartbeat ?? s.heartbeat
        s.backpressure = f.backpressure ?? s.backpressure
        s.connectionLimits = f.connectionLimits ?? s.connectionLimits
        s.revocation = f.revocation ?? s.revocation
        s.procedures = f.procedures ?? s.procedures
        s.exposeErrorDetails = cli.noErrorDetails ? false : (f.exposeErrorDetails ?? true)
        s.allowedOrigins = cli.allowedOrigins ?? f.allowedOrigins
        if let m = cli.maxConnectionsPerIp {
            guard m >= 1, m <= Int(ConfigBounds.count) else {
                throw CommandLineError("Invalid --max-connections-per-ip: \(m) (must be a positive integer no larger than \(ConfigBounds.count))")
            }
            s.maxConnectionsPerIp = m
        } else {
            s.maxConnectionsPerIp = f.maxConnectionsPerIp
        }
        if let g = cli.shutdownGracePeriodMs {
            guard (0...ServerConfig.maxShutdownGracePeriodMs).contains(g) else {
                throw CommandLineError("Invalid --shutdown-grace-period-ms: \(g) (must be an integer 0-\(ServerConfig.maxShutdownGracePeriodMs))")
            }
            s.shutdownGracePeriodMs = g
        } else {
            s.shutdownGracePeriodMs = f.shutdownGracePeriodMs ?? s.shutdownGracePeriodMs
        }
        s.monitoring = try monitoring(cli, f, webSocketPath: s.path)
        // `--compression` turns it on with the file's settings (or the defaults).
        if cli.compression || f.compression?.enabled == true { s.compression = f.compression?.settings ?? .init() }
        s.cluster = try cluster(cli, f, s)
        let demo = file == nil
        return LaunchPlan(
            server: s,
            buckets: demo ? DemoSchema.buckets : f.buckets,
            queries: demo ? DemoSchema.queries : f.queries,
            rulesEnabled: cli.noRules ? false : (f.rules ?? true),
            ruleDefinitions: f.ruleDefinitions, bridgeStoreToRules: f.bridgeStoreToRules ?? false,
            usesDemoSchema: demo, echo: cli.echo)
    }

    /// `--cluster URL` / `cluster: {url, …}` with the cluster's name from `--name`,
    /// `cluster.name` or `name` (docs/cluster.md); nil for a single server.
    static func cluster(_ cli: CommandLineOptions, _ f: FileConfig, _ s: ServerConfig) throws(CommandLineError) -> ClusterConfig? {
        guard let url = cli.cluster ?? f.cluster?.url else {
            if f.cluster != nil {
                throw CommandLineError("config key \"cluster.url\": required (or --cluster redis://HOST:PORT): the Redis that holds the cluster's log")
            }
            return nil
        }
        guard let endpoint = ClusterConfig.endpoint(url: url) else {
            throw CommandLineError("Invalid --cluster: \(url) (expected redis://HOST:PORT, e.g. redis://127.0.0.1:6379)")
        }
        guard let name = cli.name ?? f.cluster?.name ?? f.name else {
            throw CommandLineError("--cluster needs --name NAME (or \"cluster\": {\"name\"}): the cluster's name, the same on every node of one cluster")
        }
        if let problem = ClusterConfig.problem(name: name) { throw CommandLineError(problem) }
        if let problem = ClusterConfig.problem(with: s) { throw CommandLineError(problem) }
        var c = ClusterConfig(redis: endpoint, name: name)
        if let v = f.cluster?.writeTimeoutMs { c.writeTimeoutMs = v }
        if let v = f.cluster?.maxQueuedWrites { c.maxQueuedWrites = v }
        if let v = f.cluster?.startupTimeoutMs { c.startupTimeoutMs = v }
        if let v = f.cluster?.positionIntervalMs { c.positionIntervalMs = v }
        if let v = f.cluster?.nodeTimeoutMs { c.nodeTimeoutMs = v }
        if let v = f.cluster?.snapshotEveryEntries { c.snapshotEveryEntries = v }
        if let v = f.cluster?.snapshotIntervalMs { c.snapshotIntervalMs = v }
        if let v = f.cluster?.maxSnapshotBytes { c.maxSnapshotBytes = v }
        if let v = f.cluster?.maxLagMs { c.maxLagMs = v }
        if c.nodeTimeoutMs <= c.positionIntervalMs {
            throw CommandLineError("config key \"cluster.nodeTimeoutMs\" (\(c.nodeTimeoutMs)) must be above cluster.positionIntervalMs (\(c.positionIntervalMs)): a live node publishes its position every positionIntervalMs")
        }
        return c
    }

    /// `/metrics` and `/health`: flags over the file over the defaults; `--no-…` wins.
    static func monitoring(_ cli: CommandLineOptions, _ f: FileConfig, webSocketPath: String) throws(CommandLineError) -> MonitoringConfig {
        var m = MonitoringConfig()
        if let set = f.metrics { m.metricsPath = set.applied(to: m.metricsPath, defaultPath: "/metrics") }
        if let set = f.health { m.healthPath = set.applied(to: m.healthPath, defaultPath: "/health") }
        if let p = cli.metricsPath { m.metricsPath = p }
        if let p = cli.healthPath { m.healthPath = p }
        if cli.noMetrics { m.metricsPath = nil }
        if cli.noHealth { m.healthPath = nil }
        if let problem = m.problem(webSocketPath: webSocketPath) { throw CommandLineError(problem) }
        return m
    }

    /// Defines the plan's buckets and queries on its store, creates and loads the rule engine,
    /// and bridges the store to it when asked: the binary's and the C API's common start path.
    /// Errors name the config key.
    public func prepare() throws(CommandLineError) -> ServerConfig {
        var config = server
        for (name, definition) in buckets {
            do { try config.store.defineBucket(name, config: definition) } catch {
                throw CommandLineError("config key \"buckets.\(name)\": \(error.message)")
            }
        }
        for (name, definition) in queries {
            do { try config.store.defineQuery(name, config: definition) } catch {
                throw CommandLineError("config key \"queries.\(name)\": \(error.message)")
            }
        }
        guard rulesEnabled else {
            if ruleDefinitions != nil || bridgeStoreToRules {
                throw CommandLineError("config keys \"ruleDefinitions\"/\"bridgeStoreToRules\" need the rule engine, which is disabled (--no-rules or \"rules\": false); enable it or remove those keys")
            }
            return config
        }
        let engine = RuleEngine(config: RuleEngineConfig(name: "rule-engine"), clock: WallRulesClock())
        if let ruleDefinitions {
            do { try engine.load(config: ruleDefinitions) } catch {
                throw CommandLineError("config key \"ruleDefinitions\": \(error.message)")
            }
        }
        if bridgeStoreToRules {
            // Built-in identity guards every `_` bucket, from the rules bridge too.
            StoreRulesBridge.connect(store: config.store, engine: engine,
                                     systemBuckets: SystemBuckets(allUnderscored: config.builtInAuth != nil))
        }
        config.rules = engine
        return config
    }

    /// The start-up banner (docs/config.md), one line per setting.
    public func banner(boundPort: Int) -> String {
        let s = server
        let monitoring = [s.monitoring.metricsPath, s.monitoring.healthPath].compactMap { $0 }
        return """
            \(CommandLineOptions.version)
              URL:          ws://\(urlHost(s.host)):\(boundPort)\(s.path == "/" ? "" : s.path)
              Persistence:  \(s.persistence.map { "\($0.engine.rawValue) (\($0.path), fsync \($0.fsync.rawValue))" } ?? "memory")
              Auth:         \(s.builtInAuth != nil ? "built-in" : s.auth == nil ? "disabled" : "static tokens")
              Rules:        \(rulesEnabled ? "enabled" : "disabled")
              Audit:        \(s.audit.map { "enabled (tiers: \($0.tierList); maxEntries: \($0.capacity)\(s.persistence == nil ? "" : "; durable"))" } ?? "disabled")
              Error details: \(s.exposeErrorDetails ? "exposed" : "hidden")
              Origins:      \(s.allowedOrigins?.joined(separator: ", ") ?? "any")
              Max conn/IP:  \(s.maxConnectionsPerIp.map(String.init) ?? "unlimited")
              Monitoring:   \(monitoring.isEmpty ? "off" : monitoring.joined(separator: ", "))
              Cluster:      \(s.cluster.map { "\($0.name) via \($0.redis)" } ?? "off (single server)")
              Schema:       \(usesDemoSchema ? "demo (" : "")\(buckets.count) bucket(s), \(queries.count) query(ies)\(usesDemoSchema ? ")" : "")
            """
    }
}
