import NoexJSON

/// One valid request frame: `id` and `type` checked by the envelope, every other member a
/// top-level sibling (there is no `payload` wrapper).
public struct Request: Sendable {
    /// The client's id, echoed unchanged as a number (integral doubles are written as integers,
    /// as JavaScript would).
    public let id: JSON
    public let type: String
    public let fields: JSONObject

    public init(id: JSON, type: String, fields: JSONObject) {
        self.id = id
        self.type = type
        self.fields = fields
    }

    public subscript(field: String) -> JSON? { fields[field] }
}

/// What one inbound text frame turned out to be, after the checks of docs/protocol/envelope.md.
public enum InboundMessage: Sendable {
    /// A request to authorise, rate-limit, route and answer.
    case request(Request)
    /// A heartbeat reply; never answered.
    case pong(timestamp: Double)
    /// An envelope error, answered with `id: 0` and never with details.
    case invalid(ServerError)
}
