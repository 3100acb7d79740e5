import NoexJSON

/// The envelope checks of docs/protocol/envelope.md, in their exact order.
public enum Envelope {
    /// Classifies one text frame. `parsed` is `nil` when the text was not valid JSON.
    public static func classify(_ parsed: JSON?) -> InboundMessage {
        guard let parsed else { return .invalid(.invalidJSON) }
        guard case .object(let object) = parsed else { return .invalid(.notAnObject) }
        guard case .string(let type)? = object["type"], !type.isEmpty else { return .invalid(.missingType) }
        if type == "pong" {
            guard let ts = object["timestamp"].flatMap(finiteNumber) else { return .invalid(.badPongTimestamp) }
            return .pong(timestamp: ts)
        }
        guard let raw = object["id"], let idValue = finiteNumber(raw) else { return .invalid(.missingID) }
        return .request(Request(id: normalizedID(raw, idValue), type: type, fields: object))
    }

    /// Parses one text frame for `classify`: the flat-object scanner for the usual request
    /// shape, the full parser for anything else (the scanner answers only where its result
    /// equals the parser's, so the two paths cannot disagree).
    public static func parse(_ bytes: [UInt8]) -> JSON? {
        if let object = bytes.withUnsafeBytes({ JSON.scanFlatObject($0) }) { return .object(object) }
        return try? JSON.parse(bytes)
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
