import CUV
import Foundation
import NoexCluster
import NoexJSON
import NoexStore

/// A libuv loop driven by the test thread: `run(until:)` turns it until a condition holds or
/// a bound (a safety net against hangs, not a measured time) passes.
final class TestLoop {
    let loop: UnsafeMutablePointer<uv_loop_t>
    private let tick: UnsafeMutablePointer<uv_timer_t>

    init() {
        loop = .allocate(capacity: 1)
        precondition(uv_loop_init(loop) == 0)
        tick = .allocate(capacity: 1)
        uv_timer_init(loop, tick)
        // Wakes uv_run(ONCE) regularly so the condition is re-checked.
        uv_timer_start(tick, { _ in }, 5, 5)
    }

    /// Runs the loop until `condition` is true; false when `limitMs` passed first.
    @discardableResult
    func run(limitMs: UInt64 = 15_000, until condition: () -> Bool) -> Bool {
        let start = uv_hrtime()
        while !condition() {
            if (uv_hrtime() - start) / 1_000_000 > limitMs { return false }
            uv_run(loop, UV_RUN_ONCE)
        }
        return true
    }

    /// Runs the loop for about `ms` (lets pending I/O settle).
    func spin(ms: UInt64) {
        let start = uv_hrtime()
        run(limitMs: ms + 1000) { (uv_hrtime() - start) / 1_000_000 >= ms }
    }

    /// Closes the loop; every connection on it must be closed first.
    func close() {
        uv_timer_stop(tick)
        tick.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { uv_close($0) { h in UnsafeMutableRawPointer(h!).deallocate() } }
        var rounds = 0
        while uv_loop_alive(loop) != 0 && rounds < 1000 {
            uv_run(loop, UV_RUN_NOWAIT)
            rounds += 1
        }
        uv_loop_close(loop)
        loop.deallocate()
    }
}

/// A real `redis-server` on a free 127.0.0.1 port with its files in a temporary directory,
/// killed (and the directory removed) by `shutdown()`.
final class RedisServer {
    /// The binary, or nil when Redis is not installed (the tests are then skipped).
    static let binary: String? = ["/usr/bin/redis-server", "/usr/local/bin/redis-server", "/opt/homebrew/bin/redis-server"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    static let missing = "redis-server is not installed (apt-get install redis-server); the cluster's Redis tests are skipped"

    let dir: String
    let port: Int
    private var process: Process?

    /// `appendOnly`: the stream survives a kill -9 and restart (appendfsync always).
    init(appendOnly: Bool = false) throws {
        dir = makeTemporaryDirectory("noex-redis")
        port = Self.freePort()
        self.appendOnly = appendOnly
        try start()
    }

    private let appendOnly: Bool

    var endpoint: RedisEndpoint { RedisEndpoint(host: "127.0.0.1", port: port) }

    func start() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary!)
        p.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "",
                       "--appendonly", appendOnly ? "yes" : "no", "--appendfsync", "always",
                       "--daemonize", "no", "--logfile", dir + "/redis.log"]
        try p.run()
        process = p
        // Ready when it accepts a TCP connection (bounded).
        for _ in 0..<500 {
            if Self.accepts(port) { return }
            usleep(10_000)
        }
        throw RedisServerError(message: "redis-server did not start on port \(port); see \(dir)/redis.log")
    }

    /// SIGKILL, and wait for the process to be gone.
    func kill() {
        guard let p = process else { return }
        _ = Foundation.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    func shutdown() {
        kill()
        try? FileManager.default.removeItem(atPath: dir)
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let len = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, len) } } == 0
    }
}

struct RedisServerError: Error { let message: String }

extension TestLoop {
    /// Sends one command and runs the loop until its reply (or failure) arrives.
    func ask(_ c: RedisConnection, _ args: [String]) -> Result<RedisReply, RedisFailure>? {
        var result: Result<RedisReply, RedisFailure>?
        c.send(args) { result = $0 }
        run { result != nil }
        return result
    }
}

/// The bytes every node is compared on: the full snapshot of its store at its position.
func digest(_ store: Store, _ position: ClusterPosition) -> String {
    String(decoding: ClusterSnapshot.capture(store, at: position).serializedBytes, as: UTF8.self)
}

/// A fresh directory under the system's temporary directory (the caller removes it).
func makeTemporaryDirectory(_ prefix: String) -> String {
    var template = Array((NSTemporaryDirectory() + prefix + "-XXXXXX").utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}
