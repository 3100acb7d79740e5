import NoexJSON

/// A `rules.*` request that changes the engine, its fields checked in the order and with the
/// messages of the single server. In cluster mode the origin checks it, appends `args` to the
/// log, and every node parses `args` back (`Request(type, args)`) to the same input and applies
/// it (docs/cluster.md#rule-engine-inputs).
enum RulesInput {
    case emit(topic: String, data: JSONObject, correlationId: String?, causationId: String?)
    case setFact(key: String, value: JSON)
    case deleteFact(key: String)
    case registerRule(JSON)
    case unregisterRule(id: String)
    case updateRule(id: String, updates: JSONObject)
    case setEnabled(id: String, enabled: Bool)

    /// Every `rules.*` operation that changes the engine's state.
    static let types: Set<String> = [
        "rules.emit", "rules.setFact", "rules.deleteFact", "rules.registerRule", "rules.updateRule",
        "rules.unregisterRule", "rules.enableRule", "rules.disableRule",
    ]

    /// The input `r` asks for; nil for the operations that only read.
    init?(_ r: Request) throws(ServerError) {
        switch r.type {
        case "rules.emit":
            let topic = try r.nonEmptyString("topic")
            let data: JSONObject
            switch r["data"] {
            case nil, .null?: data = JSONObject()
            case .object(let o)?: data = o
            default: throw ServerError(.validationError, "Invalid \"data\": expected object")
            }
            var correlationId: String?
            switch r["correlationId"] {
            case nil, .null?: correlationId = nil
            case .string(let s)? where !s.isEmpty: correlationId = s
            default: throw ServerError(.validationError, "Invalid \"correlationId\": expected non-empty string")
            }
            let causationId = correlationId == nil ? nil : r["causationId"]?.stringValue
            self = .emit(topic: topic, data: data, correlationId: correlationId, causationId: causationId)
        case "rules.setFact":
            let key = try r.nonEmptyString("key")
            guard let value = r["value"] else { throw ServerError(.validationError, "Missing \"value\": expected a value") }
            self = .setFact(key: key, value: value)
        case "rules.deleteFact":
            self = .deleteFact(key: try r.nonEmptyString("key"))
        case "rules.registerRule":
            guard case .object = r["rule"] else { throw ServerError(.validationError, "Missing or invalid \"rule\": expected object") }
            self = .registerRule(r["rule"]!)
        case "rules.unregisterRule":
            self = .unregisterRule(id: try r.nonEmptyString("ruleId"))
        case "rules.updateRule":
            let id = try r.nonEmptyString("ruleId")
            self = .updateRule(id: id, updates: try r.object("updates"))
        case "rules.enableRule", "rules.disableRule":
            self = .setEnabled(id: try r.nonEmptyString("ruleId"), enabled: r.type == "rules.enableRule")
        default:
            return nil
        }
    }

    /// The fields of the request that this input reads, as the log carries them.
    var args: JSONObject {
        switch self {
        case .emit(let topic, let data, let correlationId, let causationId):
            var o: JSONObject = ["topic": .string(topic), "data": .object(data)]
            if let correlationId { o["correlationId"] = .string(correlationId) }
            if let causationId { o["causationId"] = .string(causationId) }
            return o
        case .setFact(let key, let value): return ["key": .string(key), "value": value]
        case .deleteFact(let key): return ["key": .string(key)]
        case .registerRule(let rule): return ["rule": rule]
        case .unregisterRule(let id), .setEnabled(let id, _): return ["ruleId": .string(id)]
        case .updateRule(let id, let updates): return ["ruleId": .string(id), "updates": .object(updates)]
        }
    }
}
