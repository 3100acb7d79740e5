import CHiredis

/// One Redis reply, copied out of hiredis' reply object (which hiredis frees after the callback).
public enum RedisReply: Equatable, Sendable {
    case status(String)
    /// An error reply (`ERR …`, `WRONGTYPE …`): Redis answered, the command failed.
    case error(String)
    case integer(Int64)
    case bulk([UInt8])
    case null
    case array([RedisReply])

    /// A bulk or status reply as text.
    public var text: String? {
        switch self {
        case .bulk(let b): return String(decoding: b, as: UTF8.self)
        case .status(let s): return s
        default: return nil
        }
    }

    public var elements: [RedisReply]? {
        if case .array(let a) = self { return a }
        return nil
    }

    init(_ r: UnsafePointer<redisReply>) {
        let p = r.pointee
        func bytes() -> [UInt8] {
            guard let s = p.str, p.len > 0 else { return [] }
            return Array(UnsafeRawBufferPointer(start: s, count: Int(p.len)))
        }
        switch p.type {
        case REDIS_REPLY_STATUS: self = .status(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_ERROR: self = .error(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_INTEGER: self = .integer(Int64(p.integer))
        case REDIS_REPLY_STRING: self = .bulk(bytes())
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(Int(p.elements))
            for i in 0..<Int(p.elements) {
                if let e = p.element[i] { items.append(RedisReply(e)) } else { items.append(.null) }
            }
            self = .array(items)
        default: self = .null
        }
    }
}

/// Why a command got no reply from Redis. Every case names the problem and what happens next.
public struct RedisFailure: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Redis is not reachable and the queue of waiting commands is full.
        case queueFull = "REDIS_QUEUE_FULL"
        /// The command waited longer than `maxQueueWaitMs` for a connection.
        case queueTimeout = "REDIS_QUEUE_TIMEOUT"
        /// The connection broke after the command was sent: it may or may not have run.
        case connectionLost = "REDIS_CONNECTION_LOST"
        /// `close()` was called.
        case closed = "REDIS_CLOSED"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// Where Redis listens: `redis://HOST:PORT` (port 6379 when omitted).
public struct RedisEndpoint: Equatable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `redis://HOST[:PORT]` or `HOST[:PORT]`; nil when malformed.
    public init?(url: String) {
        var rest = Substring(url)
        if rest.hasPrefix("redis://") { rest = rest.dropFirst(8) }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        var port = 6379
        if let colon = rest.lastIndex(of: ":") {
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            port = p
            rest = rest[..<colon]
        }
        guard !rest.isEmpty, !rest.contains("/"), !rest.contains("@") else { return nil }
        self.host = String(rest)
        self.port = port
    }

    public var description: String { "redis://\(host):\(port)" }
}
