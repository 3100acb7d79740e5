import NoexJSON
import NoexRules

/// The rules steps of one call. Without `transaction` they act on the engine at once (as the
/// original). Under `transaction: true` an emitted event or a set fact cannot be taken back, so
/// they wait: they are applied in step order after the call's store writes committed, and never
/// if the call fails. `rules.getFact` sees the facts the call set before it.
struct ProcedureRulesAccess {
    enum Effect {
        case emit(topic: String, data: JSONObject)
        case setFact(key: String, value: JSON)
    }

    let engine: RuleEngine?
    let deferred: Bool
    private(set) var pending: [Effect] = []
    private var pendingFacts: [String: JSON] = [:]

    init(engine: RuleEngine?, deferred: Bool) {
        self.engine = engine
        self.deferred = deferred
    }

    /// The engine, or the original's error for a rules step on a server without one.
    private func requireEngine(_ action: String) throws(ServerError) -> RuleEngine {
        guard let engine else { throw ServerError(.internalError, "\(action): rule engine is not configured") }
        return engine
    }

    mutating func emit(topic: String, data: JSONObject) throws(ServerError) {
        let engine = try requireEngine("rules.emit")
        if deferred {
            pending.append(.emit(topic: topic, data: data))
        } else {
            try Self.apply(.emit(topic: topic, data: data), engine)
        }
    }

    mutating func setFact(key: String, value: JSON) throws(ServerError) {
        let engine = try requireEngine("rules.setFact")
        if deferred {
            pending.append(.setFact(key: key, value: value))
            pendingFacts[key] = value
        } else {
            try Self.apply(.setFact(key: key, value: value), engine)
        }
    }

    func getFact(_ key: String) throws(ServerError) -> JSON? {
        let engine = try requireEngine("rules.getFact")
        return pendingFacts[key] ?? engine.getFact(key)
    }

    /// After the commit: the waiting effects, in step order.
    func applyPending() throws(ServerError) {
        guard let engine else { return }
        for effect in pending { try Self.apply(effect, engine) }
    }

    private static func apply(_ effect: Effect, _ engine: RuleEngine) throws(ServerError) {
        do throws(RulesError) {
            switch effect {
            case .emit(let topic, let data): _ = try engine.emit(topic: topic, data: data)
            case .setFact(let key, let value): _ = try engine.setFact(key: key, value: value)
            }
        } catch {
            // The original maps every rules failure inside a procedure to INTERNAL_ERROR.
            throw ServerError(.internalError, error.message)
        }
    }
}
