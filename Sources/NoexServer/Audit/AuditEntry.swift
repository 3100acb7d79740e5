import NoexJSON

/// One recorded request (docs/audit.md), the original's `AuditEntry`.
public struct AuditEntry: Sendable, Equatable {
    public enum Outcome: String, Sendable { case success, error }

    /// Wall-clock ms when the entry was appended (after the request was handled).
    public var timestamp: Int64
    /// The connection's session user *after* handling (`nil` = not logged in).
    public var userId: String?
    /// The connection id (`conn-N`), not a token.
    public var sessionId: String
    /// The request type.
    public var operation: String
    /// What the request acted on (`AuditFacts.resource`).
    public var resource: String
    public var result: Outcome
    /// The error message, for errors only.
    public var error: String?
    /// Request fields of some identity operations (`AuditFacts.details`).
    public var details: JSONObject?
    public var remoteAddress: String

    public init(timestamp: Int64, userId: String?, sessionId: String, operation: String, resource: String,
                result: Outcome, error: String? = nil, details: JSONObject? = nil, remoteAddress: String) {
        self.timestamp = timestamp
        self.userId = userId
        self.sessionId = sessionId
        self.operation = operation
        self.resource = resource
        self.result = result
        self.error = error
        self.details = details
        self.remoteAddress = remoteAddress
    }

    /// The wire shape, in the original's key order; `error` and `details` only when present.
    public var json: JSON { .object(fields) }

    var fields: JSONObject {
        var o: JSONObject = [
            "timestamp": .int(timestamp),
            "userId": userId.map { .string($0) } ?? .null,
            "sessionId": .string(sessionId),
            "operation": .string(operation),
            "resource": .string(resource),
            "result": .string(result.rawValue),
        ]
        if let error { o["error"] = .string(error) }
        if let details { o["details"] = .object(details) }
        o["remoteAddress"] = .string(remoteAddress)
        return o
    }

    /// An entry read back from the `_audit` bucket; `nil` when the record is not one.
    init?(stored o: JSONObject) {
        guard let timestamp = o["timestamp"]?.intValue, case .string(let sessionId)? = o["sessionId"],
              case .string(let operation)? = o["operation"], case .string(let resource)? = o["resource"],
              let result = o["result"]?.stringValue.flatMap(Outcome.init(rawValue:)),
              case .string(let remoteAddress)? = o["remoteAddress"]
        else { return nil }
        self.init(timestamp: timestamp, userId: o["userId"]?.stringValue, sessionId: sessionId, operation: operation,
                  resource: resource, result: result, error: o["error"]?.stringValue, details: o["details"]?.objectValue,
                  remoteAddress: remoteAddress)
    }
}
