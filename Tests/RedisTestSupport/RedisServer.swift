import Foundation
import NoexCluster

// Shared by the cluster's unit tests (Tests/NoexClusterTests) and the server's wire tests with
// real node processes (Tests/NoexServerTests): one copy of the Redis fixture.

/// A real `redis-server` on a free 127.0.0.1 port with its files in a temporary directory,
/// killed (and the directory removed) by `shutdown()`.
public final class RedisServer {
    /// The binary, or nil when Redis is not installed (the tests are then skipped).
    public static let binary: String? = ["/usr/bin/redis-server", "/usr/local/bin/redis-server", "/opt/homebrew/bin/redis-server"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    public static let missing = "redis-server is not installed (apt-get install redis-server); the cluster's Redis tests are skipped"

    public let dir: String
    public let port: Int
    private var process: Process?

    /// `appendOnly`: the stream survives a kill -9 and restart (appendfsync always).
    public init(appendOnly: Bool = false) throws {
        dir = makeTemporaryDirectory("noex-redis")
        port = Self.freePort()
        self.appendOnly = appendOnly
        try start()
    }

    private let appendOnly: Bool

    public var endpoint: RedisEndpoint { RedisEndpoint(host: "127.0.0.1", port: port) }

    /// Starts (again) on the same port and directory; `extra` are further redis-server options.
    public func start(extra: [String] = []) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary!)
        p.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "",
                       "--appendonly", appendOnly ? "yes" : "no", "--appendfsync", "always",
                       "--daemonize", "no", "--logfile", dir + "/redis.log"] + extra
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
    public func kill() {
        guard let p = process else { return }
        _ = Foundation.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    /// SIGSTOP: the process stays, its port accepts nothing (a hung Redis); `resume()` undoes it.
    public func pause() {
        if let p = process { _ = Foundation.kill(p.processIdentifier, SIGSTOP) }
    }

    /// SIGCONT after `pause()`.
    public func resume() {
        if let p = process { _ = Foundation.kill(p.processIdentifier, SIGCONT) }
    }

    public func shutdown() {
        kill()
        try? FileManager.default.removeItem(atPath: dir)
    }

    public static func freePort() -> Int {
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

    /// One command over a fresh TCP connection (RESP); the first line of the reply (`:12`,
    /// `+OK`, `$-1`…), or nil when Redis does not answer within a second.
    public func command(_ args: [String]) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard Self.connect(fd, port) else { return nil }
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

    public static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        return connect(fd, port)
    }

    /// Connects `fd` to 127.0.0.1:`port`.
    static func connect(_ fd: Int32, _ port: Int) -> Bool {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let len = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, len) } } == 0
    }
}

public struct RedisServerError: Error { public let message: String }

/// A fresh directory under the system's temporary directory (the caller removes it).
public func makeTemporaryDirectory(_ prefix: String) -> String {
    var template = Array((NSTemporaryDirectory() + prefix + "-XXXXXX").utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}
