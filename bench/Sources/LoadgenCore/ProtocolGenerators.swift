/// JSON request mode (`--mode proto`): the noex protocol's `store.get` / `store.insert` /
/// `store.transaction` (two inserts), one
/// request per message with increasing ids, answers matched by id (`ResponseMatcher`).
///
/// Keys are `<run>-<connection>-<n>`: `run` differs between runs, so repeating a run against the
/// same server never collides with the records of an earlier one.
public struct ProtocolRequestGenerator: RequestGenerator {
    public enum Operation: String, Sendable, CaseIterable {
        /// The first `keys` requests insert the connection's keys (setup, not timed); every later
        /// one reads one of them, round robin.
        case get
        /// Every request inserts a new record.
        case insert
        /// Every request is a `store.transaction` inserting two new records.
        case transaction
    }

    public let opcode: Opcode = .text
    public let operation: Operation
    private let bucket: String
    private let keyPrefix: String
    private let keys: UInt64
    private var matcher = ResponseMatcher()
    private var buffer: [UInt8] = []

    public init(operation: Operation, bucket: String, run: UInt64, connection: Int, keys: Int) {
        self.operation = operation
        self.bucket = bucket
        keyPrefix = "r\(run)-\(connection)-"
        self.keys = UInt64(max(keys, 1))
        buffer.reserveCapacity(256)
    }

    /// The request text for `sequence`, as sent.
    public func request(sequence: UInt64) -> String {
        let id = ResponseMatcher.id(ofSequence: sequence)
        if operation == .get, sequence >= keys {
            let key = keyPrefix + String((sequence - keys) % keys)
            return #"{"id":\#(id),"type":"store.get","bucket":"\#(bucket)","key":"\#(key)"}"#
        }
        let key = keyPrefix + String(sequence)
        if operation == .transaction {
            return #"{"id":\#(id),"type":"store.transaction","operations":[{"op":"insert","bucket":"\#(bucket)","data":{"id":"\#(key)a","n":\#(sequence)}},{"op":"insert","bucket":"\#(bucket)","data":{"id":"\#(key)b","n":\#(sequence)}}]}"#
        }
        return #"{"id":\#(id),"type":"store.insert","bucket":"\#(bucket)","data":{"id":"\#(key)","n":\#(sequence)}}"#
    }

    public mutating func withRequest(sequence: UInt64, _ body: (UnsafeRawBufferPointer) -> Void) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: request(sequence: sequence).utf8)
        buffer.withUnsafeBytes(body)
    }

    public mutating func classify(opcode: Opcode, payload: UnsafeRawBufferPointer) -> Reply {
        switch matcher.match(opcode: opcode, payload: payload) {
        case .answer(let id, let ok):
            if operation == .get, UInt64(id) <= keys { return .setup(ok: ok) }
            return ok ? .answer : .wrongAnswer
        case .mismatch, .malformed: return .wrongAnswer
        case .push: return .push
        case .unsolicited: return .unsolicited
        }
    }
}

/// Fan-out mode, subscriber side: request 0 subscribes to `query` (setup); afterwards only
/// pushes arrive, and each is reported as `.push`.
public struct SubscriberGenerator: RequestGenerator {
    public let opcode: Opcode = .text
    private let query: String
    private var matcher = ResponseMatcher()

    public init(query: String) { self.query = query }

    public mutating func withRequest(sequence: UInt64, _ body: (UnsafeRawBufferPointer) -> Void) {
        let text = #"{"id":\#(ResponseMatcher.id(ofSequence: sequence)),"type":"store.subscribe","query":"\#(query)"}"#
        Array(text.utf8).withUnsafeBytes(body)
    }

    public mutating func classify(opcode: Opcode, payload: UnsafeRawBufferPointer) -> Reply {
        switch matcher.match(opcode: opcode, payload: payload) {
        case .answer(_, let ok): return .setup(ok: ok)
        case .mismatch, .malformed: return .wrongAnswer
        case .push: return .push
        case .unsolicited: return .unsolicited
        }
    }
}

/// Fan-out mode, writer side: every request inserts `{"n": sequence}` into `bucket` (the key is
/// left to the bucket's generated key).
public struct FeedWriterGenerator: RequestGenerator {
    public let opcode: Opcode = .text
    private let bucket: String
    private var matcher = ResponseMatcher()

    public init(bucket: String) { self.bucket = bucket }

    public mutating func withRequest(sequence: UInt64, _ body: (UnsafeRawBufferPointer) -> Void) {
        let text = #"{"id":\#(ResponseMatcher.id(ofSequence: sequence)),"type":"store.insert","bucket":"\#(bucket)","data":{"n":\#(sequence)}}"#
        Array(text.utf8).withUnsafeBytes(body)
    }

    public mutating func classify(opcode: Opcode, payload: UnsafeRawBufferPointer) -> Reply {
        switch matcher.match(opcode: opcode, payload: payload) {
        case .answer(_, let ok): return ok ? .answer : .wrongAnswer
        case .mismatch, .malformed: return .wrongAnswer
        case .push: return .push
        case .unsolicited: return .unsolicited
        }
    }
}

/// Hostile mode: `server.connections` requests (each answer lists every connection, so the
/// answers are large and cost the server no store memory), sent in one burst by a client that
/// never reads them.
public struct HostileGenerator: RequestGenerator {
    public let opcode: Opcode = .text

    public init() {}

    public mutating func withRequest(sequence: UInt64, _ body: (UnsafeRawBufferPointer) -> Void) {
        let text = #"{"id":\#(ResponseMatcher.id(ofSequence: sequence)),"type":"server.connections"}"#
        Array(text.utf8).withUnsafeBytes(body)
    }

    /// Never called in practice: the connection stops reading once its burst is sent.
    public mutating func classify(opcode: Opcode, payload: UnsafeRawBufferPointer) -> Reply { .unsolicited }
}
