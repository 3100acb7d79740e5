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
        if let input = try RulesInput(r) { return try apply(input) }
        switch r.type {
        case "rules.getFact":
            return engine.getFact(try r.nonEmptyString("key")) ?? .null
        case "rules.queryFacts":
            return .array(engine.queryFacts(try r.nonEmptyString("pattern")).map(\.json))
        case "rules.getAllFacts":
            return .array(engine.getAllFacts().map(\.json))
        case "rules.stats":
            return engine.stats().json
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

    /// Changes the engine as `input` asks; the answer's `data`.
    private func apply(_ input: RulesInput) throws -> JSON {
        switch input {
        case .emit(let topic, let data, let correlationId, let causationId):
            return try engine.emit(topic: topic, data: data, correlationId: correlationId, causationId: causationId).json
        case .setFact(let key, let value):
            return try engine.setFact(key: key, value: value).json
        case .deleteFact(let key):
            return ["deleted": .bool(try engine.deleteFact(key))]
        case .registerRule(let input):
            let rule = try engine.registerRule(input)
            try persist(rule.id, undo: { try? engine.unregisterRule(rule.id) })
            return rule.registerResultJSON
        case .unregisterRule(let id):
            let saved = try engine.getRule(id).json
            try engine.unregisterRule(id)
            try persist(id, undo: { try? engine.restoreRule(saved) })
            return ["ruleId": .string(id), "unregistered": true]
        case .updateRule(let id, let updates):
            let saved = engine.hasRule(id) ? try engine.getRule(id).json : nil
            let rule = try engine.updateRule(id, updates: updates)
            try persist(id, undo: { revert(id, to: saved) })
            return rule.updateResultJSON
        case .setEnabled(let id, let enable):
            let saved = engine.hasRule(id) ? try engine.getRule(id).json : nil
            _ = enable ? try engine.enableRule(id) : try engine.disableRule(id)
            try persist(id, undo: { revert(id, to: saved) })
            return ["ruleId": .string(id), "enabled": .bool(enable)]
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
