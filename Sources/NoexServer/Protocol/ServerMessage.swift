import NoexJSON

/// Builders for every frame the server sends, with the original's key order (docs/protocol/envelope.md).
public enum ServerMessage {
    /// The protocol version announced in the welcome; unrelated to the package version.
    public static let protocolVersion = "1.0.0"

    public static func result(id: JSON, data: JSON) -> JSON {
        ["id": id, "type": "result", "data": data]
    }

    /// An error answer; `details` is left out when absent or when details are not exposed.
    public static func error(id: JSON, _ error: ServerError, exposeDetails: Bool = true) -> JSON {
        var o: JSONObject = ["id": id, "type": "error", "code": .string(error.code.rawValue), "message": .string(error.message)]
        if exposeDetails, let details = error.details { o["details"] = details }
        return .object(o)
    }

    public static func welcome(serverTimeMs: Int64, requiresAuth: Bool) -> JSON {
        ["type": "welcome", "version": .string(protocolVersion), "serverTime": .int(serverTimeMs), "requiresAuth": .bool(requiresAuth)]
    }

    public static func ping(timestampMs: Int64) -> JSON {
        ["type": "ping", "timestamp": .int(timestampMs)]
    }

    public static func subscriptionPush(subscriptionId: String, data: JSON) -> JSON {
        ["type": "push", "channel": "subscription", "subscriptionId": .string(subscriptionId), "data": data]
    }

    /// `subscriptionPush(...).serializedBytes` built around data that is already serialised
    /// (the same bytes, key order included): `subscriptionPushHead`, the data, `subscriptionPushTail`.
    public static func subscriptionPushBytes(subscriptionId: String, serializedData data: [UInt8]) -> [UInt8] {
        subscriptionPushHead(subscriptionId: subscriptionId) + data + subscriptionPushTail
    }

    /// A subscription push up to its data: `{"type":"push","channel":"subscription",
    /// "subscriptionId":"<id>","data":`. The same for every push of the subscription, so the
    /// server builds it once, at subscribe time; a fan-out then sends each subscriber its head,
    /// the data serialised once per evaluation, and `subscriptionPushTail`, without putting
    /// them together per subscriber (docs/transport.md, "Write queue and flushing").
    public static func subscriptionPushHead(subscriptionId: String) -> [UInt8] {
        var out = JSONTextBuilder(capacity: 72 + subscriptionId.utf8.count)
        out.raw(#"{"type":"push","channel":"subscription","subscriptionId":"#)
        out.string(subscriptionId)
        out.raw(#","data":"#)
        return out.finish()
    }

    /// What follows the data of a subscription push.
    public static let subscriptionPushTail: [UInt8] = [UInt8(ascii: "}")]

    /// `result(id:data:).serializedBytes`, written directly (the hot path of every answer).
    public static func resultBytes(id: JSON, data: JSON) -> [UInt8] {
        var out: [UInt8] = []
        writeResult(id: id, data: data, into: &out)
        return out
    }

    /// `resultBytes` written into `out`, whose bytes it replaces. A caller that keeps `out`
    /// between answers (and no other reference to its buffer) reuses its memory: a stored
    /// record answered whole (store.get/insert/update) carries its text, so its answer is
    /// then written with no allocation at all.
    public static func writeResult(id: JSON, data: JSON, into out: inout [UInt8]) {
        if case .object(let record) = data, let text = record.attachedText, case .int(let n) = id {
            writeResult(id: n, text: text, into: &out)
            return
        }
        out = builtResult(id: id, data: data)
    }

    /// The answer to a request with the integer id `n` whose data is the JSON text `text` (a
    /// stored record's), written into `out` as `writeResult(id:data:into:)` writes it.
    public static func writeResult(id n: Int64, text: [UInt8], into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        out.reserveCapacity(text.count + resultHeadMaxBytes + 1)
        // The head (`{"id":…,"type":"result","data":`) is put together on the stack and
        // appended once: each append checks capacity and uniqueness again.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: resultHeadMaxBytes) { head in
            var p = head.baseAddress!
            func put(_ s: StaticString) {
                p.initialize(from: s.utf8Start, count: s.utf8CodeUnitCount)
                p += s.utf8CodeUnitCount
            }
            put(#"{"id":"#)
            p += JSNumberFormat.format(n, into: p)
            put(#","type":"result","data":"#)
            out.append(contentsOf: UnsafeBufferPointer(start: head.baseAddress!, count: p - head.baseAddress!))
        }
        out.append(contentsOf: text)
        out.append(UInt8(ascii: "}"))
    }

    /// Room for a result's head with an integer id: the two fixed parts and the longest number.
    private static let resultHeadMaxBytes = 6 + JSNumberFormat.maxLength + 24

    private static func builtResult(id: JSON, data: JSON) -> [UInt8] {
        var out = JSONTextBuilder(capacity: data.initialCapacityGuess + 40)
        out.raw(#"{"id":"#)
        out.value(id)
        out.raw(#","type":"result","data":"#)
        out.value(data)
        out.raw("}")
        return out.finish()
    }

    public static func eventPush(subscriptionId: String, topic: String, event: JSON) -> JSON {
        ["type": "push", "channel": "event", "subscriptionId": .string(subscriptionId),
         "data": ["topic": .string(topic), "event": event]]
    }

    public static func shutdown(gracePeriodMs: Int64) -> JSON {
        ["type": "system", "event": "shutdown", "gracePeriodMs": .int(gracePeriodMs)]
    }

    /// A subscription removed because the connection's session ended or changed (our extension).
    public static func subscriptionEnded(subscriptionId: String, reason: String) -> JSON {
        ["type": "system", "event": "subscription_ended", "subscriptionId": .string(subscriptionId), "reason": .string(reason)]
    }

    public static let sessionRevoked: JSON =
        ["type": "system", "event": "session_revoked", "reason": "Session revoked by administrator"]
}
