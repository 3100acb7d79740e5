import NoexJSON

/// An event flowing through the engine (docs/rules.md): emitted by a client, by a rule's
/// `emit_event` action, by a timer's expiry, or bridged from the store.
public struct RuleEvent: Sendable, Equatable {
    /// Who made the event; written as `source` on the wire.
    public enum Source: String, Sendable {
        case api, rule, timer
    }

    public let id: String
    public let topic: String
    /// Always an object (a client cannot emit an array).
    public let data: JSONObject
    public let timestamp: Int64
    public let correlationId: String?
    public let causationId: String?
    public let source: Source

    public init(
        id: String, topic: String, data: JSONObject, timestamp: Int64,
        correlationId: String? = nil, causationId: String? = nil, source: Source
    ) {
        self.id = id
        self.topic = topic
        self.data = data
        self.timestamp = timestamp
        self.correlationId = correlationId
        self.causationId = causationId
        self.source = source
    }

    /// The wire form; absent correlation/causation ids are omitted (JS `undefined`).
    public var json: JSON {
        var o = JSONObject(minimumCapacity: 7)
        o["id"] = .string(id)
        o["topic"] = .string(topic)
        o["data"] = .object(data)
        o["timestamp"] = .int(timestamp)
        if let correlationId { o["correlationId"] = .string(correlationId) }
        if let causationId { o["causationId"] = .string(causationId) }
        o["source"] = .string(source.rawValue)
        return .object(o)
    }
}
