import NoexCluster
import NoexJSON
import Testing
@testable import NoexServer

/// `--cluster` / `--name` and the config file's `cluster` key (docs/config.md, docs/cluster.md):
/// what is accepted, and the message for each mistake.
@Suite struct ClusterConfigTests {
    private func resolve(_ cli: CommandLineOptions, _ file: JSON? = nil) throws -> LaunchPlan {
        try LaunchPlan.resolve(cli, file: try file.map(FileConfig.decode))
    }

    private func cli(_ cluster: String?, name: String? = nil) -> CommandLineOptions {
        var o = CommandLineOptions()
        o.cluster = cluster
        o.name = name
        return o
    }

    @Test func flagsMakeAClusterNode() throws {
        #expect(try resolve(CommandLineOptions()).server.cluster == nil)
        let c = try #require(try resolve(cli("redis://10.0.0.5:7000", name: "shop")).server.cluster)
        #expect(c.redis == RedisEndpoint(host: "10.0.0.5", port: 7000) && c.name == "shop")
        #expect(c.writeTimeoutMs == 2_000 && c.maxQueuedWrites == 1_024 && c.startupTimeoutMs == 30_000)
        #expect(try resolve(cli("redis://h", name: "a")).server.cluster?.redis.port == 6379)
        #expect(try resolve(cli("redis://h:1", name: "a")).banner(boundPort: 1).contains("\n  Cluster:      a via redis://h:1\n"))
    }

    @Test func theFileKeySetsEverythingAndFlagsWin() throws {
        let file: JSON = ["name": "ignored", "cluster": ["url": "redis://r:6380", "name": "orders", "writeTimeoutMs": 500,
                                                          "maxQueuedWrites": 10, "startupTimeoutMs": 900]]
        let c = try #require(try resolve(CommandLineOptions(), file).server.cluster)
        #expect(c.redis == RedisEndpoint(host: "r", port: 6380) && c.name == "orders")
        #expect(c.writeTimeoutMs == 500 && c.maxQueuedWrites == 10 && c.startupTimeoutMs == 900)
        let flagged = try #require(try resolve(cli("redis://other:1", name: "n2"), file).server.cluster)
        #expect(flagged.redis == RedisEndpoint(host: "other", port: 1) && flagged.name == "n2")
        // `url` may come from the flag, the name from the top-level `name`.
        #expect(try resolve(cli("redis://x:2"), ["name": "top", "cluster": ["writeTimeoutMs": 100]]).server.cluster?.name == "top")
    }

    @Test func mistakesAreNamed() throws {
        #expect(throws: CommandLineError("--cluster needs --name NAME (or \"cluster\": {\"name\"}): the cluster's name, the same on every node of one cluster")) {
            try resolve(cli("redis://127.0.0.1:6379"))
        }
        #expect(throws: CommandLineError("Invalid --cluster: http://x:1 (expected redis://HOST:PORT, e.g. redis://127.0.0.1:6379)")) {
            try resolve(cli("http://x:1", name: "a"))
        }
        #expect(throws: CommandLineError("Invalid --cluster: redis://x:99999 (expected redis://HOST:PORT, e.g. redis://127.0.0.1:6379)")) {
            try resolve(cli("redis://x:99999", name: "a"))
        }
        #expect(throws: CommandLineError("invalid cluster name \"a b\": use 1-64 letters, digits, \".\", \"_\" or \"-\" (every node of one cluster uses the same name)")) {
            try resolve(cli("redis://x", name: "a b"))
        }
        var withAuth = cli("redis://x", name: "a")
        withAuth.auth = true
        withAuth.adminSecret = "a-long-enough-admin-secret"
        #expect(throws: CommandLineError(ClusterConfig.problem(with: try resolve({ var o = withAuth; o.cluster = nil; return o }()).server)!)) {
            try resolve(withAuth)
        }
        var fileEngine = cli("redis://x", name: "a")
        fileEngine.persistence = "file"
        #expect(throws: CommandLineError("cluster mode works with --persistence memory or sqlite: the file engine does not store the cluster position a restarted node resumes from")) {
            try resolve(fileEngine)
        }
        #expect(throws: CommandLineError("config key \"cluster.url\": required (or --cluster redis://HOST:PORT): the Redis that holds the cluster's log")) {
            try resolve(CommandLineOptions(), ["name": "a", "cluster": ["name": "a"]])
        }
        #expect(throws: ConfigError(key: "cluster.url", "expected redis://HOST:PORT, got \"redis://a@b:1\"")) {
            try FileConfig.decode(["cluster": ["url": "redis://a@b:1"]])
        }
        #expect(throws: ConfigError(key: "cluster.writeTimeoutMs", "expected a positive integer no larger than 31536000000, got 0")) {
            try FileConfig.decode(["cluster": ["url": "redis://b:1", "writeTimeoutMs": 0]])
        }
        #expect(throws: (any Error).self) { try FileConfig.decode(["cluster": ["url": "redis://b:1", "nmae": "x"]]) }
    }

    @Test func trimmingKeysHaveDefaultsAndBounds() throws {
        let d = try #require(try resolve(cli("redis://h", name: "a")).server.cluster)
        #expect(d.positionIntervalMs == 2_000 && d.nodeTimeoutMs == 30_000 && d.snapshotEveryEntries == 10_000
                && d.snapshotIntervalMs == 300_000 && d.maxSnapshotBytes == 500_000_000)
        let file: JSON = ["cluster": ["url": "redis://r:1", "name": "o", "positionIntervalMs": 100, "nodeTimeoutMs": 900,
                                      "snapshotEveryEntries": 5, "snapshotIntervalMs": 700, "maxSnapshotBytes": 1000]]
        let c = try #require(try resolve(CommandLineOptions(), file).server.cluster)
        #expect(c.positionIntervalMs == 100 && c.nodeTimeoutMs == 900 && c.snapshotEveryEntries == 5
                && c.snapshotIntervalMs == 700 && c.maxSnapshotBytes == 1000)
        #expect(throws: ConfigError(key: "cluster.nodeTimeoutMs", "must be above cluster.positionIntervalMs (100): a live node publishes its position every positionIntervalMs")) {
            try FileConfig.decode(["cluster": ["url": "redis://b:1", "positionIntervalMs": 100, "nodeTimeoutMs": 100]])
        }
        // Only one of the two in the file: the check runs against the other's default.
        #expect(throws: CommandLineError("config key \"cluster.nodeTimeoutMs\" (1000) must be above cluster.positionIntervalMs (2000): a live node publishes its position every positionIntervalMs")) {
            try resolve(CommandLineOptions(), ["cluster": ["url": "redis://b:1", "name": "a", "nodeTimeoutMs": 1000]])
        }
        #expect(throws: ConfigError(key: "cluster.maxSnapshotBytes", "expected a positive integer no larger than 536870912, got 600000000")) {
            try FileConfig.decode(["cluster": ["url": "redis://b:1", "maxSnapshotBytes": 600_000_000]])
        }
    }

    @Test func maxLagHasADefaultBoundsAndSetsThePublishInterval() throws {
        let d = try #require(try resolve(cli("redis://h", name: "a")).server.cluster)
        #expect(d.maxLagMs == 5_000 && d.publishIntervalMs == 1_250)
        let set = try #require(try resolve(CommandLineOptions(), ["cluster": ["url": "redis://r:1", "name": "o", "maxLagMs": 400]]).server.cluster)
        #expect(set.maxLagMs == 400 && set.publishIntervalMs == 100)
        // Off: positions at positionIntervalMs, as without flow control.
        let off = try #require(try resolve(CommandLineOptions(), ["cluster": ["url": "redis://r:1", "name": "o", "maxLagMs": 0]]).server.cluster)
        #expect(off.maxLagMs == 0 && off.publishIntervalMs == 2_000)
        #expect(throws: ConfigError(key: "cluster.maxLagMs", "must be 0 (flow control off) or at least 100 ms, got 99: a smaller bound is below the noise of publishing positions")) {
            try FileConfig.decode(["cluster": ["url": "redis://b:1", "maxLagMs": 99]])
        }
        #expect(throws: ConfigError(key: "cluster.maxLagMs", "expected an integer in 0…31536000000, got -1")) {
            try FileConfig.decode(["cluster": ["url": "redis://b:1", "maxLagMs": -1]])
        }
    }
}
