import Foundation
import NoexJSON
import RedisTestSupport
import Testing

/// One Redis command over a fresh TCP connection (RESP); the first line of the reply
/// (`:12`, `+OK`, `$-1`…), or nil when Redis does not answer within a second.
func redisCommand(port: Int, _ args: [String]) -> String? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = UInt16(port).bigEndian
    var timeout = timeval(tv_sec: 1, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let ok = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard ok == 0 else { return nil }
    var out = "*\(args.count)\r\n"
    for a in args { out += "$\(a.utf8.count)\r\n\(a)\r\n" }
    let bytes = Array(out.utf8)
    guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else { return nil }
    var reply: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while !reply.contains(UInt8(ascii: "\n")) {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { return nil }
        reply += buffer[0..<n]
    }
    return String(decoding: reply.prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
}

/// A `noex-server` process of the built binary joined to a cluster: `-p 0` on 127.0.0.1, the
/// port read from its banner; killed (SIGKILL) by `kill()`.
final class ClusterNodeProcess {
    let process = Process()
    let port: Int

    init(config: String, redisPort: Int, cluster: String, extra: [String] = []) throws {
        process.executableURL = try #require(locateServerBinary(), "noex-server binary not found; run swift build --build-tests")
        process.arguments = ["-p", "0", "-H", "127.0.0.1", "-c", config, "--cluster", "redis://127.0.0.1:\(redisPort)",
                             "--name", cluster] + extra
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        var port: Int?
        // Ends at the banner, or at EOF when the start failed (bounded by the node's startupTimeoutMs).
        while port == nil {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            if let r = text.range(of: "ws://127.0.0.1:") {
                let digits = text[r.upperBound...].prefix { $0.isNumber }
                if text[r.upperBound...].count > digits.count { port = Int(digits) }
            }
        }
        self.port = try #require(port, "no banner: \(text)")
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

    init(nodes count: Int, appendOnly: Bool = false, cluster: String = "wire") throws {
        redis = try RedisServer(appendOnly: appendOnly)
        self.cluster = cluster
        try Self.config.write(toFile: dir.file("node.json"), atomically: true, encoding: .utf8)
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

    /// What a node holds: `store.all` of every bucket, as its exact answer text.
    static func digest(_ c: WireStoreClient) -> String {
        c.askRaw(["id": 0, "type": "store.all", "bucket": "items"]) ?? "no answer"
    }

    /// Polls until every client's digest is the same (bounded); returns the digests.
    static func converge(_ clients: [WireStoreClient], limitMs: Int = 15_000) -> [String] {
        let deadline = Date().addingTimeInterval(Double(limitMs) / 1000)
        var digests = clients.map(digest)
        while Set(digests).count > 1, Date() < deadline {
            usleep(50_000)
            digests = clients.map(digest)
        }
        return digests
    }
}
