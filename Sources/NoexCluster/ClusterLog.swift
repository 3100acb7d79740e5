import NoexJSON

/// The cluster's ordered log: one Redis Stream per cluster name (docs/cluster.md#the-command-format).
/// Each entry has one field, `c`, holding a `ClusterCommand` as JSON. Appends and trims go
/// through this object's connection; readers (`ClusterLogReader`) use their own, so a
/// blocking read never holds up an append.
public final class ClusterLog {
    public let streamKey: String
    public let connection: RedisConnection

    /// The stream key of a cluster: `noex:{NAME}:log`.
    public static func streamKey(cluster name: String) -> String { "noex:{\(name)}:log" }

    public init(cluster name: String, connection: RedisConnection) {
        streamKey = Self.streamKey(cluster: name)
        self.connection = connection
    }

    /// Appends a command (XADD); the completion gets the entry's id — its place in the order
    /// every node applies — or why it was not appended (Redis down, queue full, error reply).
    public func append(_ command: ClusterCommand, _ done: @escaping (Result<StreamID, ClusterLogError>) -> Void) {
        append(entry: command.json, done)
    }

    /// Appends any JSON entry (tests use it to append what a newer node would write).
    public func append(entry: JSON, _ done: @escaping (Result<StreamID, ClusterLogError>) -> Void) {
        connection.send(bytes: [Array("XADD".utf8), Array(streamKey.utf8), [UInt8(ascii: "*")], [UInt8(ascii: "c")], entry.serializedBytes]) {
            switch $0 {
            case .failure(let f): done(.failure(.redis(f)))
            case .success(let reply):
                if let text = reply.text, let id = StreamID(text) { done(.success(id)) } else { done(.failure(.unexpected(reply))) }
            }
        }
    }

    /// Removes every entry below `id` (XTRIM MINID); the completion gets how many went. Call it
    /// with the oldest position every live node has made durable (docs/cluster.md#trimming-and-bootstrap).
    ///
    /// In the same atomic step (a Lua script) the id of the newest removed entry is kept in
    /// `noex:{NAME}:trimmed`, so a reader can tell whether it still finds everything after its
    /// last applied id (Redis 7.0's own `max-deleted-entry-id` is not updated by XTRIM).
    public func trim(below id: StreamID, _ done: @escaping (Result<Int64, ClusterLogError>) -> Void) {
        guard id > .zero else {
            done(.success(0))
            return
        }
        connection.send(["EVAL", Self.trimScript, "2", streamKey, trimmedKey, id.description]) {
            switch $0 {
            case .failure(let f): done(.failure(.redis(f)))
            case .success(.integer(let n)): done(.success(n))
            case .success(let other): done(.failure(.unexpected(other)))
            }
        }
    }

    /// The key holding the id of the newest entry trimming removed.
    public var trimmedKey: String { Self.trimmedKey(streamKey) }

    static func trimmedKey(_ streamKey: String) -> String {
        String(streamKey.dropLast(":log".count)) + ":trimmed"
    }

    static let trimScript = """
        local last = redis.call('XREVRANGE', KEYS[1], '(' .. ARGV[1], '-', 'COUNT', 1)
        if #last == 0 then return 0 end
        redis.call('SET', KEYS[2], last[1][1])
        return redis.call('XTRIM', KEYS[1], 'MINID', ARGV[1])
        """
}

/// Why a log operation did not happen.
public enum ClusterLogError: Error, Equatable, Sendable, CustomStringConvertible {
    case redis(RedisFailure)
    /// Redis answered something else than the command's documented reply (an error reply included).
    case unexpected(RedisReply)

    public var description: String {
        switch self {
        case .redis(let f): return f.description
        case .unexpected(.error(let e)): return "Redis refused the command: \(e)"
        case .unexpected(let r): return "unexpected Redis reply \(r)"
        }
    }
}
