import NoexJSON
import NoexPersistence
import NoexRules

extension ServerError {
    /// Rules errors arrive already shaped as the original's `mapRulesError` shapes them.
    init(_ error: RulesError) {
        self.init(ErrorCode(rawValue: error.code.rawValue) ?? .internalError, error.message, details: error.details)
    }
}

/// The `rules.*` operations that need no connection state (docs/protocol/rules-operations.md); subscriptions live
/// in the connection layer.
struct RulesOperations {
    let engine: RuleEngine
    /// Durable storage: rule changes commit on their own before they are answered.
    var durable: (any SchemaJournal)?

    init(engine: RuleEngine) { self.engine = engine }

    func handle(_ r: Request) throws(ServerError) -> JSON {
        try ServerError.mapping({ (e: RulesError) in ServerError(e) }) { try dispatch(r) }
    }

    private func dispatch(_ r: Request) throws -> JSON {
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
            return try engine.emit(topic: topic, data: data, correlationId: correlationId, causationId: causationId).json
        case "rules.setFact":
            let key = try r.nonEmptyString("key")
            guard let value = r["value"] else { throw ServerError(.validationError, "Missing \"value\": expected a value") }
            return try engine.setFact(key: key, value: value).json
        case "rules.getFact":
            return engine.getFact(try r.nonEmptyString("key")) ?? .null
        case "rules.deleteFact":
            return ["deleted": .bool(try engine.deleteFact(try r.nonEmptyString("key")))]
        case "rules.queryFacts":
            return .array(engine.queryFacts(try r.nonEmptyString("pattern")).map(\.json))
        case "rules.getAllFacts":
            return .array(engine.getAllFacts().map(\.json))
        case "rules.stats":
            return engine.stats().json
        case "rules.registerRule":
            guard case .object = r["rule"] else { throw ServerError(.validationError, "Missing or invalid \"rule\": expected object") }
            let rule = try engine.registerRule(r["rule"]!)
            try persist(rule.id, undo: { try? engine.unregisterRule(rule.id) })
            return rule.registerResultJSON
        case "rules.unregisterRule":
            let id = try r.nonEmptyString("ruleId")
            let saved = try engine.getRule(id).json
            try engine.unregisterRule(id)
            try persist(id, undo: { try? engine.restoreRule(saved) })
            return ["ruleId": .string(id), "unregistered": true]
        case "rules.updateRule":
            let id = try r.nonEmptyString("ruleId")
            let updates = try r.object("updates")
            let saved = engine.hasRule(id) ? try engine.getRule(id).json : nil
            let rule = try engine.updateRule(id, updates: updates)
            try persist(id, undo: { revert(id, to: saved) })
            return rule.updateResultJSON
        case "rules.enableRule", "rules.disableRule":
            let id = try r.nonEmptyString("ruleId")
            let enable = r.type == "rules.enableRule"
            let saved = engine.hasRule(id) ? try engine.getRule(id).json : nil
            _ = enable ? try engine.enableRule(id) : try engine.disableRule(id)
            try persist(id, undo: { revert(id, to: saved) })
            return ["ruleId": .string(id), "enabled": .bool(enable)]
        case "rules.getRule":
            return try engine.getRule(try r.nonEmptyString("ruleId")).json
        case "rules.getRules":
            return ["rules": .array(engine.getRules().map(\.summaryJSON))]
        case "rules.validateRule":
            guard case .object = r["rule"] else { throw ServerError(.validationError, "Missing or invalid \"rule\": expected object") }
            return engine.validateRule(r["rule"]!).json
        default:
            throw ServerError.unknownOperation(r.type, in: "rules")
        }
    }

    /// After a failed commit: the rule as it was (version, timestamps, enabled). Like any
    /// re-registration it moves to the end of the engine's order.
    private func revert(_ id: String, to saved: JSON?) {
        guard let saved else { return }
        try? engine.unregisterRule(id)
        try? engine.restoreRule(saved)
    }

    /// Saves the rule as it now is (or its removal); on failure undoes what `undo` can and
    /// answers PERSISTENCE_ERROR.
    private func persist(_ id: String, undo: () -> Void = {}) throws(ServerError) {
        guard let durable else { return }
        do throws(PersistenceError) {
            try durable.ruleChanged(id, engine.hasRule(id) ? try? engine.getRule(id).json : nil)
        } catch {
            undo()
            throw ServerError(.persistenceError, error.message)
        }
    }
}

/// The wall clock for a rule engine the binary creates.
public final class WallRulesClock: RulesClock {
    public init() {}
    public func nowMs() -> Int64 { ServerClock.systemWallMs() }
}
