import NoexJSON

/// The envelope checks of docs/protocol/envelope.md, in their exact order.
public enum Envelope {
    /// Classifies one text frame: the flat-object scanner reads the usual request shape
    /// straight into the request's members, the full parser everything else (the scanner
    /// answers only where its members equal the parser's, so the two paths cannot disagree).
    public static func classify(bytes: UnsafeRawBufferPointer) -> InboundMessage {
        var members = RequestMembers()
        if members.scan(bytes) { return classify(consume members) }
        return classify(try? JSON.parse(bytes))
    }

    public static func classify(bytes: [UInt8]) -> InboundMessage {
        bytes.withUnsafeBytes { classify(bytes: $0) }
    }

    /// Classifies a parsed frame. `parsed` is `nil` when the text was not valid JSON.
    public static func classify(_ parsed: JSON?) -> InboundMessage {
        guard let parsed else { return .invalid(.invalidJSON) }
        guard case .object(let object) = parsed else { return .invalid(.notAnObject) }
        return classify(RequestMembers(object))
    }

    static func classify(_ members: consuming RequestMembers) -> InboundMessage {
        guard case .string(let type)? = members.type, !type.isEmpty else { return .invalid(.missingType) }
        if type == "pong" {
            guard let ts = members["timestamp"].flatMap(finiteNumber) else { return .invalid(.badPongTimestamp) }
            return .pong(timestamp: ts)
        }
        guard let raw = members.id, let idValue = finiteNumber(raw) else { return .invalid(.missingID) }
        return .request(Request(id: normalizedID(raw, idValue), type: type, members: members))
    }

    /// The id as JavaScript would write it back: integral values without a fraction.
    static func normalizedID(_ raw: JSON, _ value: Double) -> JSON {
        if case .int = raw { return raw }
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992, let i = Int64(exactly: value) {
            return .int(i)
        }
        return .double(value)
    }

    private static func finiteNumber(_ value: JSON) -> Double? {
        guard let d = value.numberValue, d.isFinite else { return nil }
        return d
    }
}
