/// Command-line options of `loadgen`; see bench/README.md for what each one means.
public struct LoadgenOptions: Equatable, Sendable {
    public enum Mode: String, Sendable { case echo, idle, proto, fanout, hostile }

    public var mode: Mode = .echo
    public var host = "127.0.0.1"
    public var port = 9001
    public var path = "/"
    public var label = ""
    public var connections = 100
    public var inflight = 10
    public var size = 20
    /// Echo: the measured duration. Idle, hostile: how long the connections are held.
    public var seconds = 10.0
    public var warmup = 2.0
    /// How long connecting (TCP + handshake) all connections may take before giving up.
    public var connectTimeout = 60.0
    /// At most this many connections are being set up at once, so a large `connections`
    /// does not overflow the server's accept backlog.
    public var connectConcurrency = 256
    /// Echo mode, Linux: the server's process id, to report its CPU time per message.
    public var serverPID: Int?
    /// Proto mode: the request type.
    public var operation: ProtocolRequestGenerator.Operation = .get
    /// Proto mode: the bucket read and written; fan-out: the bucket the writer inserts into.
    public var bucket = "bench"
    /// Proto get: keys each connection inserts first and then reads round robin.
    public var keys = 16
    /// Fan-out: subscriber connections (the writer is one more).
    public var subscribers = 1000
    /// Fan-out: the named query every subscriber subscribes to.
    public var query = "feed-latest"

    public init() {}

    public static let usage = """
        usage: loadgen [--mode echo|idle|proto|fanout|hostile] [--host 127.0.0.1] --port P [--path /] [--label NAME]
                       [--connections N] [--inflight K] [--size B] [--seconds S] [--warmup S]
                       [--connect-timeout S] [--connect-concurrency N] [--server-pid PID]
                       [--op get|insert] [--bucket NAME] [--keys N] [--subscribers M] [--query NAME]
        """

    /// Hosts the generator will talk to: it exists to measure servers on this machine.
    public static let loopbackHosts: Set<String> = ["127.0.0.1", "::1", "localhost"]

    public static func parse(_ arguments: [String]) throws(OptionsError) -> LoadgenOptions {
        var options = LoadgenOptions()
        var explicitSeconds = false
        var iterator = arguments.makeIterator()
        while let flag = iterator.next() {
            if flag == "--help" || flag == "-h" { throw .help }
            guard let value = iterator.next() else { throw .missingValue(flag) }
            switch flag {
            case "--mode":
                guard let mode = Mode(rawValue: value) else { throw .invalidValue(flag, value, expected: "echo, idle, proto or fanout") }
                options.mode = mode
            case "--host": options.host = value
            case "--port": options.port = try int(flag, value, in: 1...65535)
            case "--path":
                guard value.hasPrefix("/"), !value.contains(" ") else { throw .invalidValue(flag, value, expected: "a path starting with / and without spaces") }
                options.path = value
            case "--label": options.label = value
            case "--connections": options.connections = try int(flag, value, in: 1...1_000_000)
            case "--inflight": options.inflight = try int(flag, value, in: 1...1_000_000)
            case "--size": options.size = try int(flag, value, in: 0...(16 << 20))
            case "--seconds": options.seconds = try seconds(flag, value); explicitSeconds = true
            case "--warmup": options.warmup = try seconds(flag, value)
            case "--connect-timeout": options.connectTimeout = try seconds(flag, value)
            case "--connect-concurrency": options.connectConcurrency = try int(flag, value, in: 1...100_000)
            case "--server-pid": options.serverPID = try int(flag, value, in: 1...Int(Int32.max))
            case "--op":
                guard let op = ProtocolRequestGenerator.Operation(rawValue: value) else { throw .invalidValue(flag, value, expected: "get or insert") }
                options.operation = op
            case "--bucket": options.bucket = try name(flag, value)
            case "--query": options.query = try name(flag, value)
            case "--keys": options.keys = try int(flag, value, in: 1...1_000_000)
            case "--subscribers": options.subscribers = try int(flag, value, in: 1...1_000_000)
            default: throw .unknownFlag(flag)
            }
        }
        guard loopbackHosts.contains(options.host) else { throw .nonLoopbackHost(options.host) }
        if (options.mode == .idle || options.mode == .hostile) && !explicitSeconds { options.seconds = 5 }
        return options
    }

    /// The numeric address to connect to.
    public var address: String { host == "localhost" ? "127.0.0.1" : host }

    /// `label.` when a label was given, so figure names read `noex.echo.p50_us`.
    public var prefix: String { label.isEmpty ? "" : label + "." }

    private static func int(_ flag: String, _ value: String, in range: ClosedRange<Int>) throws(OptionsError) -> Int {
        guard let n = Int(value), range.contains(n) else {
            throw .invalidValue(flag, value, expected: "an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    /// Bucket and query names are pasted into JSON strings: keep them to plain characters.
    private static func name(_ flag: String, _ value: String) throws(OptionsError) -> String {
        let allowed = value.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F || c == 0x2E
        }
        guard !value.isEmpty, allowed else { throw .invalidValue(flag, value, expected: "a name of letters, digits, -, _ and .") }
        return value
    }

    private static func seconds(_ flag: String, _ value: String) throws(OptionsError) -> Double {
        guard let s = Double(value), s >= 0, s <= 3600 else { throw .invalidValue(flag, value, expected: "seconds from 0 to 3600") }
        return s
    }
}

public enum OptionsError: Error, Equatable, CustomStringConvertible {
    case help
    case missingValue(String)
    /// The flag, the value given, and what it must be instead.
    case invalidValue(String, String, expected: String)
    case unknownFlag(String)
    case nonLoopbackHost(String)

    public var description: String {
        switch self {
        case .help: return LoadgenOptions.usage
        case .missingValue(let flag): return "\(flag) needs a value (loadgen --help lists the flags)"
        case .invalidValue(let flag, let value, let expected): return "invalid value for \(flag): \(value) (expected \(expected))"
        case .unknownFlag(let flag): return "unknown flag \(flag) (loadgen --help lists the flags)"
        case .nonLoopbackHost(let host): return "refusing non-loopback host \(host) (loadgen only measures local servers: use 127.0.0.1, ::1 or localhost)"
        }
    }
}
