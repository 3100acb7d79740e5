import NoexJSON

/// The filter of `audit.query` (docs/protocol/audit.md), read with the original's exact
/// validation messages, in its order. A present `null` is a type error; only an absent key
/// means "no filter".
struct AuditQuery: Equatable {
    var userId: String?
    var operation: String?
    var result: AuditEntry.Outcome?
    var from: Double?
    var to: Double?
    var limit: Int?

    init(_ r: Request) throws(ServerError) {
        if let v = r["userId"] {
            guard case .string(let s) = v else { throw Self.invalid("userId", "string") }
            userId = s
        }
        if let v = r["operation"] {
            guard case .string(let s) = v else { throw Self.invalid("operation", "string") }
            operation = s
        }
        if let v = r["result"] {
            guard let outcome = v.stringValue.flatMap(AuditEntry.Outcome.init(rawValue:)) else {
                throw Self.invalid("result", "\"success\" or \"error\"")
            }
            result = outcome
        }
        if let v = r["from"] {
            guard let d = v.numberValue else { throw Self.invalid("from", "number") }
            from = d
        }
        if let v = r["to"] {
            guard let d = v.numberValue else { throw Self.invalid("to", "number") }
            to = d
        }
        if let v = r["limit"] {
            guard let d = v.numberValue, d.isFinite, d >= 1, d == d.rounded() else {
                throw Self.invalid("limit", "positive integer")
            }
            limit = d >= Double(Int.max / 2) ? Int.max / 2 : Int(d)
        }
    }

    private static func invalid(_ field: String, _ expected: String) -> ServerError {
        ServerError(.validationError, "Invalid \"\(field)\": expected \(expected)")
    }

    /// All filters ANDed; `from` and `to` are inclusive.
    func matches(_ e: AuditEntry) -> Bool {
        if let userId, e.userId != userId { return false }
        if let operation, e.operation != operation { return false }
        if let result, e.result != result { return false }
        if let from, Double(e.timestamp) < from { return false }
        if let to, Double(e.timestamp) > to { return false }
        return true
    }
}
