import NoexJSON

/// One store mutation as it travels through the cluster's log (docs/cluster.md#the-command-format).
/// Everything that is not a function of the store's state was decided by the origin node
/// before the append: the time (`atMs`) and the random source of generated uuid/cuid values
/// (`seed`). Autoincrement values, `_version`, unique checks, TTL expiry and `maxSize`
/// eviction follow from the state and the time, so every node computes the same.
public struct ClusterCommand: Equatable, Sendable {
    /// Format version of the entry; a node refuses entries newer than it understands.
    public static let formatVersion: Int64 = 1

    /// The node that appended the entry (it answers its client when it applies it).
    public var origin: String
    /// The origin's own serial for the request, to find the waiting client.
    public var request: UInt64
    /// The origin's clock at the append (ms since the epoch).
    public var atMs: Int64
    /// 128 random bits from the origin: the source of every generated uuid/cuid.
    public var seed: (UInt64, UInt64)
    public var operation: ClusterOperation

    public init(origin: String, request: UInt64, atMs: Int64, seed: (UInt64, UInt64), operation: ClusterOperation) {
        self.origin = origin
        self.request = request
        self.atMs = atMs
        self.seed = seed
        self.operation = operation
    }

    /// A command decided now on this node: its clock, fresh random bits.
    public static func decide(
        _ operation: ClusterOperation, origin: String, request: UInt64, nowMs: Int64,
        random: inout some RandomNumberGenerator
    ) -> ClusterCommand {
        ClusterCommand(origin: origin, request: request, atMs: nowMs, seed: (random.next(), random.next()), operation: operation)
    }

    public static func == (a: ClusterCommand, b: ClusterCommand) -> Bool {
        a.origin == b.origin && a.request == b.request && a.atMs == b.atMs && a.seed == b.seed
            && a.operation == b.operation
    }

    // MARK: JSON

    public var json: JSON {
        var o: JSONObject = [
            "v": .int(Self.formatVersion), "origin": .string(origin), "req": .string(String(request)),
            "at": .int(atMs), "seed": .string(Self.hex(seed.0) + Self.hex(seed.1)),
        ]
        for (k, v) in operation.fields { o[k] = v }
        return .object(o)
    }

    public init(json: JSON) throws(ClusterCommandError) {
        guard let o = json.objectValue else { throw .init("entry is not a JSON object") }
        guard let v = o["v"]?.intValue else { throw .init("entry has no format version \"v\"") }
        guard v <= Self.formatVersion else {
            throw .init("entry has format version \(v), newer than this node's \(Self.formatVersion): upgrade this node", needsUpgrade: true)
        }
        guard let origin = o["origin"]?.stringValue, let req = o["req"]?.stringValue.flatMap({ UInt64($0) }),
            let at = o["at"]?.intValue, let seed = o["seed"]?.stringValue, seed.utf8.count == 32,
            let hi = UInt64(seed.prefix(16), radix: 16), let lo = UInt64(seed.suffix(16), radix: 16)
        else { throw .init("entry lacks origin, req, at or a 32-hex-digit seed") }
        self.init(origin: origin, request: req, atMs: at, seed: (hi, lo), operation: try ClusterOperation(o))
    }

    private static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

/// A log entry that cannot be understood; the message says what is wrong with it.
public struct ClusterCommandError: Error, Equatable, Sendable {
    public let message: String
    /// The entry was written by a newer node (a newer format version, an operation this node
    /// does not know): this node cannot apply it, unlike a malformed entry, which no node can.
    public let needsUpgrade: Bool
    public init(_ message: String, needsUpgrade: Bool = false) {
        self.message = message
        self.needsUpgrade = needsUpgrade
    }
}

/// Every store mutation the wire can make (docs/cluster.md#the-command-format).
public enum ClusterOperation: Equatable, Sendable {
    case insert(bucket: String, data: JSONObject)
    case update(bucket: String, key: JSON, data: JSONObject, expectedVersion: Int64?)
    case delete(bucket: String, key: JSON, expectedVersion: Int64?)
    case clear(bucket: String)
    /// The wire operations of `store.transaction`, as the origin validated them.
    case transaction(operations: [JSON])
    case defineBucket(name: String, config: JSONObject)
    case dropBucket(name: String)
    case updateBucket(name: String, updates: JSONObject)
    case defineQuery(name: String, config: JSONObject)
    case undefineQuery(name: String)
    /// TTL expiry at the command's time: every record with `_expiresAt <= atMs` goes.
    case purgeExpired
    /// An operation outside the store (e.g. `rules.setFact`), applied by the handler the server
    /// installed for `name` on the `ClusterApplier`; `args` are the fields it reads.
    case custom(name: String, args: JSONObject)

    var fields: JSONObject {
        switch self {
        case .insert(let b, let d): return ["op": "insert", "bucket": .string(b), "data": .object(d)]
        case .update(let b, let k, let d, let v):
            var o: JSONObject = ["op": "update", "bucket": .string(b), "key": k, "data": .object(d)]
            if let v { o["expectedVersion"] = .int(v) }
            return o
        case .delete(let b, let k, let v):
            var o: JSONObject = ["op": "delete", "bucket": .string(b), "key": k]
            if let v { o["expectedVersion"] = .int(v) }
            return o
        case .clear(let b): return ["op": "clear", "bucket": .string(b)]
        case .transaction(let ops): return ["op": "transaction", "operations": .array(ops)]
        case .defineBucket(let n, let c): return ["op": "defineBucket", "name": .string(n), "config": .object(c)]
        case .dropBucket(let n): return ["op": "dropBucket", "name": .string(n)]
        case .updateBucket(let n, let u): return ["op": "updateBucket", "name": .string(n), "updates": .object(u)]
        case .defineQuery(let n, let c): return ["op": "defineQuery", "name": .string(n), "config": .object(c)]
        case .undefineQuery(let n): return ["op": "undefineQuery", "name": .string(n)]
        case .purgeExpired: return ["op": "purgeExpired"]
        case .custom(let n, let a): return ["op": "ext", "name": .string(n), "args": .object(a)]
        }
    }

    init(_ o: JSONObject) throws(ClusterCommandError) {
        guard let op = o["op"]?.stringValue else { throw .init("entry has no \"op\"") }
        func string(_ k: String) throws(ClusterCommandError) -> String {
            guard let s = o[k]?.stringValue else { throw .init("\"\(op)\" entry lacks string \"\(k)\"") }
            return s
        }
        func object(_ k: String) throws(ClusterCommandError) -> JSONObject {
            guard let v = o[k]?.objectValue else { throw .init("\"\(op)\" entry lacks object \"\(k)\"") }
            return v
        }
        func key() throws(ClusterCommandError) -> JSON {
            guard let k = o["key"]?.nonNull else { throw .init("\"\(op)\" entry lacks \"key\"") }
            return k
        }
        let version = o["expectedVersion"]?.intValue
        switch op {
        case "insert": self = .insert(bucket: try string("bucket"), data: try object("data"))
        case "update":
            self = .update(bucket: try string("bucket"), key: try key(), data: try object("data"), expectedVersion: version)
        case "delete": self = .delete(bucket: try string("bucket"), key: try key(), expectedVersion: version)
        case "clear": self = .clear(bucket: try string("bucket"))
        case "transaction":
            guard let ops = o["operations"]?.arrayValue else { throw .init("\"transaction\" entry lacks array \"operations\"") }
            self = .transaction(operations: ops)
        case "defineBucket": self = .defineBucket(name: try string("name"), config: try object("config"))
        case "dropBucket": self = .dropBucket(name: try string("name"))
        case "updateBucket": self = .updateBucket(name: try string("name"), updates: try object("updates"))
        case "defineQuery": self = .defineQuery(name: try string("name"), config: try object("config"))
        case "undefineQuery": self = .undefineQuery(name: try string("name"))
        case "purgeExpired": self = .purgeExpired
        case "ext": self = .custom(name: try string("name"), args: try object("args"))
        default: throw .init("unknown \"op\" \"\(op)\" in entry: upgrade this node", needsUpgrade: true)
        }
    }
}

/// The random source of one command's generated ids: xoshiro256** seeded from the command's
/// 128 bits (expanded with SplitMix64), so every node draws the same sequence.
public struct CommandRandom: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: (UInt64, UInt64)) {
        var x = SeededRandom(seed: seed.0 ^ 0x6A09_E667_F3BC_C908)
        var y = SeededRandom(seed: seed.1 ^ 0xBB67_AE85_84CA_A73B)
        s = (x.next(), y.next(), x.next(), y.next())
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
