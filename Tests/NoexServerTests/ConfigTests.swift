import NoexJSON
import Testing
@testable import NoexServer

@Suite struct FileConfigTests {
    @Test func fullOriginalFileDecodes() throws {
        let c = try FileConfig.decode([
            "port": 9000, "host": "127.0.0.1", "name": "n", "persistence": "memory", "dataDir": "./data", "db": "./noex.db",
            "auth": false, "adminSecret": "s", "rules": true, "audit": false,
            "rateLimit": ["maxRequests": 200, "windowMs": 60000],
            "heartbeat": ["intervalMs": 1000],
            "backpressure": ["maxBufferedBytes": 2048, "highWaterMark": 0.5],
            "connectionLimits": ["maxTotalSubscriptions": 7],
            "exposeErrorDetails": false, "allowedOrigins": ["https://app.example.com"], "maxConnectionsPerIp": 10,
        ])
        #expect(c.port == 9000)
        #expect(c.rateLimit == RateLimitConfig(maxRequests: 200, windowMs: 60000))
        #expect(c.heartbeat == HeartbeatConfig(intervalMs: 1000, timeoutMs: 10_000))
        #expect(c.backpressure?.highWaterBytes == 1024)
        #expect(c.connectionLimits == ConnectionLimits(maxSubscriptionsPerConnection: 100, maxTotalSubscriptions: 7))
        #expect(c.exposeErrorDetails == false)
        #expect(c.allowedOrigins == ["https://app.example.com"])
        #expect(c.auth == nil)
    }

    @Test func shutdownGracePeriodFromTheFileAndTheFlag() throws {
        #expect(try LaunchPlan.resolve(CommandLineOptions(), file: nil).server.shutdownGracePeriodMs == 5_000)
        let file = try FileConfig.decode(["shutdownGracePeriodMs": 0])
        #expect(try LaunchPlan.resolve(CommandLineOptions(), file: file).server.shutdownGracePeriodMs == 0)
        var cli = CommandLineOptions()
        cli.shutdownGracePeriodMs = 300_000
        #expect(try LaunchPlan.resolve(cli, file: file).server.shutdownGracePeriodMs == 300_000)  // the flag wins
        cli.shutdownGracePeriodMs = 300_001
        #expect(throws: CommandLineError("Invalid --shutdown-grace-period-ms: 300001 (must be an integer 0-300000)")) {
            try LaunchPlan.resolve(cli, file: nil)
        }
    }

    static func bad(_ json: JSON, _ key: String) -> (JSON, String) { (json, key) }
    static let badCases: [(JSON, String)] = [
        bad(["port": 70000], "port"),
        bad(["port": "80"], "port"),
        bad(["prot": 80], "prot"),
        bad(["rateLimit": ["maxRequests": 0, "windowMs": 1]], "rateLimit.maxRequests"),
        bad(["rateLimit": ["maxRequests": 1]], "rateLimit.windowMs"),
        bad(["heartbeat": ["intervalMs": 1, "timeoutms": 2]], "heartbeat.timeoutms"),
        bad(["backpressure": ["highWaterMark": 2]], "backpressure.highWaterMark"),
        bad(["allowedOrigins": ["a", 1]], "allowedOrigins[1]"),
        bad(["auth": ["builtIn": true, "sessionTtl": 0]], "auth.sessionTtl"),
        bad(["auth": ["builtIn": true, "sesionTtl": 1]], "auth.sesionTtl"),
        bad(["auth": ["builtIn": true, "adminSecret": ""]], "auth.adminSecret"),
        bad(["auth": ["builtIn": true, "loginRateLimit": ["maxAttemps": 3]]], "auth.loginRateLimit.maxAttemps"),
        bad(["auth": ["tokens": ["t": ["roles": ["a"]]]]], "auth.tokens.t.userId"),
        bad(["auth": ["tokens": [:], "permissions": ["default": "maybe"]]], "auth.permissions.default"),
        bad(["auth": ["tokens": [:], "permissions": ["rules": [["role": "a"]]]]], "auth.permissions.rules[0].allow"),
        bad(["audit": "yes"], "audit"),
        bad(["audit": ["tiers": ["admin", "root"]]], "audit.tiers[1]"),
        bad(["audit": ["tiers": []]], "audit.tiers"),
        bad(["audit": ["tiers": "admin"]], "audit.tiers"),
        bad(["audit": ["maxEntries": 0]], "audit.maxEntries"),
        bad(["audit": ["maxEntries": 1_000_001]], "audit.maxEntries"),
        bad(["audit": ["maxentries": 5]], "audit.maxentries"),
        bad(["audit": ["onEntry": "x"]], "audit.onEntry"),
        bad(["procedures": ["maxSteps": 0]], "procedures.maxSteps"),
        bad(["procedures": ["maxStep": 10]], "procedures.maxStep"),
        bad(["procedures": ["maxItemsPerCall": 100_000_001]], "procedures.maxItemsPerCall"),
        bad(["procedures": 5], "procedures"),
        bad(["persistence": "disk"], "persistence"),
        bad(["persistence": "sqlite", "fsync": "sometimes"], "fsync"),
        bad(["buckets": ["users": 3]], "buckets.users"),
        bad(["queries": ["q": ["filter": [:]]]], "queries.q.bucket"),
        bad(["path": "ws"], "path"),
        bad(["shutdownGracePeriodMs": 300_001], "shutdownGracePeriodMs"),
        bad(["shutdownGracePeriodMs": -1], "shutdownGracePeriodMs"),
        bad(["shutdownGracePeriodMs": "5s"], "shutdownGracePeriodMs"),
    ]

    @Test(arguments: badCases)
    func badConfigNamesTheKey(_ json: JSON, _ key: String) {
        #expect(throws: ConfigError.self) { try FileConfig.decode(json) }
        do {
            _ = try FileConfig.decode(json)
        } catch {
            #expect(error.key == key)
            #expect(error.description.contains(key))
        }
    }

    @Test func tokenTableAndPermissionsBecomeAuth() throws {
        let c = try FileConfig.decode([
            "auth": [
                "tokens": [
                    "user-token": ["userId": "user-1", "roles": ["user"]],
                    "admin-token": ["userId": "admin-1", "roles": ["admin"], "expiresAt": 99],
                ],
                "permissions": ["default": "deny", "rules": [["role": "user", "allow": "store.insert", "buckets": ["users"]]]],
            ],
            "buckets": ["users": ["key": "id", "schema": ["id": ["type": "string"]]]],
            "queries": ["all": ["bucket": "users"]],
        ])
        let auth = try #require(c.auth)
        #expect(auth.tokens["admin-token"] == AuthSession(userId: "admin-1", roles: ["admin"], expiresAt: 99))
        #expect(auth.permissions?.rules == [PermissionRule(role: "user", allow: ["store.insert"], buckets: ["users"])])
        let config = auth.authConfig
        #expect(try config.validate("user-token")?.userId == "user-1")
        #expect(try config.validate("nope") == nil)
        #expect(c.buckets.map(\.name) == ["users"])
        #expect(c.queries.map(\.name) == ["all"])
    }
}

/// How parsed flags (`CommandLineOptions`, filled by the executable's parser, tested in
/// noex-serverTests) combine with the config file and the defaults.
@Suite struct LaunchPlanTests {
    private func cli(_ edit: (inout CommandLineOptions) -> Void) -> CommandLineOptions {
        var o = CommandLineOptions()
        edit(&o)
        return o
    }

    @Test func precedenceFlagOverFileOverDefault() throws {
        var file = FileConfig()
        file.port = 7000
        file.host = "10.0.0.1"
        file.rules = false
        file.exposeErrorDetails = true
        file.allowedOrigins = ["f"]
        file.maxPayloadBytes = 4096
        var plan = try LaunchPlan.resolve(cli { $0.port = 7001; $0.noErrorDetails = true }, file: file)
        #expect(plan.server.port == 7001)
        #expect(plan.server.host == "10.0.0.1")
        #expect(!plan.rulesEnabled)
        #expect(!plan.server.exposeErrorDetails)
        #expect(plan.server.allowedOrigins == ["f"] && plan.server.maxPayloadBytes == 4096)
        #expect(!plan.usesDemoSchema && plan.buckets.isEmpty)
        plan = try LaunchPlan.resolve(cli { $0.allowedOrigins = ["a"]; $0.maxPayloadBytes = 10; $0.host = "::1" }, file: file)
        #expect(plan.server.allowedOrigins == ["a"] && plan.server.maxPayloadBytes == 10 && plan.server.host == "::1")
        plan = try LaunchPlan.resolve(CommandLineOptions(), file: nil)
        #expect(plan.server.port == 8080 && plan.server.host == "0.0.0.0" && plan.rulesEnabled)
        #expect(plan.server.maxPayloadBytes == 1_048_576 && plan.server.exposeErrorDetails)
        #expect(plan.usesDemoSchema && plan.buckets.map(\.name) == ["users", "products", "orders", "logs"])
    }

    @Test func payloadAndConnectionLimits() throws {
        let plan = try LaunchPlan.resolve(cli { $0.maxPayloadBytes = 2048; $0.maxConnectionsPerIp = 3 }, file: nil)
        #expect(plan.server.maxPayloadBytes == 2048 && plan.server.maxConnectionsPerIp == 3)
        #expect(throws: CommandLineError("Invalid --max-payload-bytes: 0 (must be a positive integer no larger than 1073741824)")) {
            try LaunchPlan.resolve(cli { $0.maxPayloadBytes = 0 }, file: nil)
        }
        #expect(throws: CommandLineError.self) { try LaunchPlan.resolve(cli { $0.maxConnectionsPerIp = -2 }, file: nil) }
    }

    @Test func launchValidation() throws {
        #expect(throws: CommandLineError("Invalid port: 99999 (must be integer 0-65535)")) {
            try LaunchPlan.resolve(cli { $0.port = 99999 }, file: nil)
        }
        #expect(throws: CommandLineError("--admin-secret is required when --auth is enabled; add --admin-secret SECRET or drop --auth")) {
            try LaunchPlan.resolve(cli { $0.auth = true }, file: nil)
        }
        #expect(throws: CommandLineError("Unknown persistence type: disk (must be memory, file, or sqlite)")) {
            try LaunchPlan.resolve(cli { $0.persistence = "disk" }, file: nil)
        }
        #expect(try LaunchPlan.resolve(cli { $0.persistence = "file" }, file: nil).server.persistence
                == PersistenceOptions(path: "./data", fsync: .everysec, engine: .file))
        #expect(try LaunchPlan.resolve(cli { $0.persistence = "file"; $0.dataDir = "d"; $0.fsync = "no" }, file: nil).server.persistence
                == PersistenceOptions(path: "d", fsync: .no, engine: .file))
        var fileEngine = FileConfig()
        fileEngine.persistence = "file"
        fileEngine.dataDir = "snapshots"
        #expect(try LaunchPlan.resolve(cli { _ in }, file: fileEngine).server.persistence
                == PersistenceOptions(path: "snapshots", fsync: .everysec, engine: .file))
        #expect(throws: CommandLineError("Unknown fsync policy: sometimes (must be always, everysec, or no)")) {
            try LaunchPlan.resolve(cli { $0.persistence = "sqlite"; $0.fsync = "sometimes" }, file: nil)
        }
        let durable = try LaunchPlan.resolve(cli { $0.persistence = "sqlite"; $0.db = "x.db" }, file: nil)
        #expect(durable.server.persistence == PersistenceOptions(path: "x.db", fsync: .everysec))
        var f = FileConfig()
        f.persistence = "sqlite"
        f.fsync = "always"
        #expect(try LaunchPlan.resolve(cli { _ in }, file: f).server.persistence == PersistenceOptions(path: "./noex.db", fsync: .always))
        #expect(try LaunchPlan.resolve(cli { _ in }, file: nil).server.persistence == nil)
        // --audit turns the audit log on with its defaults; the file's object sets tiers and size.
        #expect(try LaunchPlan.resolve(cli { _ in }, file: nil).server.audit == nil)
        let flag = try #require(try LaunchPlan.resolve(cli { $0.audit = true }, file: nil).server.audit)
        #expect(flag.tiers == [.admin] && flag.maxEntries == 10_000)
        let sized = try FileConfig.decode(["audit": ["tiers": ["write", "admin"], "maxEntries": 50]])
        let fromFile = try #require(try LaunchPlan.resolve(cli { $0.audit = true }, file: sized).server.audit)
        #expect(fromFile.tiers == [.write, .admin] && fromFile.maxEntries == 50)
        #expect(try FileConfig.decode(["audit": true]).audit?.tiers == [.admin])
        #expect(try FileConfig.decode(["audit": false]).audit == nil)
        #expect(try FileConfig.decode(["audit": ["maxEntries": 1_000_000]]).audit?.maxEntries == 1_000_000)
    }
}
