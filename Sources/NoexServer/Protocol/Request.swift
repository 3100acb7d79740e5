import NoexJSON

/// One valid request frame: `id` and `type` checked by the envelope, every other member a
/// top-level sibling (there is no `payload` wrapper).
public struct Request: Sendable {
    /// The client's id, echoed unchanged as a number (integral doubles are written as integers,
    /// as JavaScript would).
    public let id: JSON
    public let type: String
    /// `type` as a table slot, looked up once: routing and the handlers switch on it.
    let operation: RequestOperation
    /// Every member of the frame (`id` and `type` included), read without building a tree.
    /// Changed only by `takeObject` (a handler taking a member it consumes).
    var members: RequestMembers

    public init(id: JSON, type: String, fields: JSONObject) {
        self.init(id: id, type: type, members: RequestMembers(fields))
    }

    init(id: JSON, type: String, members: consuming RequestMembers) {
        self.id = id
        self.type = type
        operation = RequestOperation(type: type)
        self.members = members
    }

    /// The members as the parser's object, built on demand (few readers need the whole object;
    /// the request path reads single members).
    public var fields: JSONObject { members.object }

    public subscript(field: String) -> JSON? { members[field] }
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
