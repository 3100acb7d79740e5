import Foundation
import NoexJSON
import RedisTestSupport
import Testing

/// Runs the built `noex-server` with `arguments` (which must include `-H 127.0.0.1`) in
/// `process` and returns the port its banner names. Reading ends at the banner, or at the end of
/// its output when the start failed (the binary then exits by itself).
func launchServerBinary(_ process: Process, _ arguments: [String]) throws -> Int {
    process.executableURL = try #require(locateServerBinary(), "noex-server binary not found; run swift build --build-tests")
    process.arguments = arguments
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    var text = ""
    while true {
        let chunk = out.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        text += String(decoding: chunk, as: UTF8.self)
        if let r = text.range(of: "ws://127.0.0.1:") {
            let digits = text[r.upperBound...].prefix { $0.isNumber }
            if text[r.upperBound...].count > digits.count, let port = Int(digits) { return port }
        }
    }
    throw BannerMissing(output: text)
}

struct BannerMissing: Error, CustomStringConvertible {
    let output: String
    var description: String { "noex-server printed no banner: \(output)" }
}

/// A `noex-server` process of the built binary joined to a cluster: `-p 0` on 127.0.0.1, the
/// port read from its banner; killed (SIGKILL) by `kill()`.
final class ClusterNodeProcess {
    let process = Process()
    let port: Int

    init(config: String, redisPort: Int, cluster: String, extra: [String] = []) throws {
        process.standardError = FileHandle.nullDevice
        port = try launchServerBinary(process, ["-p", "0", "-H", "127.0.0.1", "-c", config,
                                                "--cluster", "redis://127.0.0.1:\(redisPort)", "--name", cluster] + extra)
    }

    func kill() {
        guard process.isRunning else { return }
        _ = Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// Three (or more) node processes over one `redis-server`, each with its own config file in a
/// scratch directory, and the helpers the tests compare them with.
final class ClusterFixture {
    let redis: RedisServer
    let dir = ScratchDirectory()
    let cluster: String
    var nodes: [ClusterNodeProcess] = []

    /// Every node's config: an `items` bucket with client-chosen keys, a query over it, and
    /// short Redis timeouts so outages are reported quickly.
    static let config = """
        {"buckets": {"items": {"key": "sku", "schema": {"sku": {"type": "string", "required": true},
           "name": {"type": "string", "required": true}, "qty": {"type": "number", "default": 0}}}},
         "queries": {"all-items": {"bucket": "items"}},
         "cluster": {"writeTimeoutMs": 700, "startupTimeoutMs": 15000}}
        """

    init(nodes count: Int, appendOnly: Bool = false, cluster: String = "wire", config: String = ClusterFixture.config) throws {
        redis = try RedisServer(appendOnly: appendOnly)
        self.cluster = cluster
        try config.write(toFile: dir.file("node.json"), atomically: true, encoding: .utf8)
        for _ in 0..<count { nodes.append(try start()) }
    }

    /// Starts one more node (`extra`: e.g. `--persistence sqlite --db PATH`).
    func start(_ extra: [String] = []) throws -> ClusterNodeProcess {
        try ClusterNodeProcess(config: dir.file("node.json"), redisPort: redis.port, cluster: cluster, extra: extra)
    }

    func shutdown() {
        for n in nodes { n.kill() }
        redis.shutdown()
        dir.remove()
    }

    /// The value of a Lua expression evaluated in Redis over `keys`, as one line (nil when the
    /// reply is not a status line): lets a test read bulk values and several keys atomically.
    func lua(_ expression: String, keys: [String]) -> String? {
        let line = redis.command(["EVAL", "return redis.status_reply(tostring(\(expression)))", String(keys.count)] + keys)
        guard let line, line.hasPrefix("+") else { return nil }
        return String(line.dropFirst())
    }

    /// `noex:{CLUSTER}:SUFFIX`, the cluster's Redis keys.
    func key(_ suffix: String) -> String { "noex:{\(cluster)}:\(suffix)" }

    /// What a node holds: `store.all` of every bucket, as its exact answer text.
    static func digest(_ c: WireStoreClient) -> String {
        c.askRaw(["id": 0, "type": "store.all", "bucket": "items"]) ?? "no answer"
    }

    /// Polls until every client's digest is the same (bounded); returns the digests.
    static func converge(_ clients: [WireStoreClient], limitMs: Int = 15_000,
                         digest: (WireStoreClient) -> String = ClusterFixture.digest) -> [String] {
        let deadline = Date().addingTimeInterval(Double(limitMs) / 1000)
        var digests = clients.map(digest)
        while Set(digests).count > 1, Date() < deadline {
            usleep(50_000)
            digests = clients.map(digest)
        }
        return digests
    }
}
