import NoexJSON

/// What a durable log (NoexPersistence) needs from the engine: every fact change as it happens,
/// and a way to put saved rules and facts back exactly (versions and timestamps included). The
/// engine itself still does no I/O.
extension RuleEngine {
    /// Called with (key, before, after) of every fact change — `rules.setFact`/`deleteFact` and
    /// the set_fact/delete_fact actions alike; `after == nil` is a delete.
    public var onFactChange: ((String, Fact?, Fact?) -> Void)? {
        get { facts.observer }
        set { facts.observer = newValue }
    }

    /// Puts a fact back as it was saved (load at start, undo of a failed commit); `nil` removes
    /// the key. Runs no rules and calls no observer.
    public func restoreFact(key: String, _ fact: Fact?) {
        if let fact { facts.put(fact) } else { facts.remove(key) }
    }

    /// Registers a rule saved as `Rule.json`, keeping its `version`, `createdAt`, `updatedAt`
    /// and `enabled`. A rule with the same id already registered (from the config file) wins.
    public func restoreRule(_ saved: JSON) throws(RulesError) {
        guard case .object(let o) = saved, let id = o["id"]?.stringValue else {
            throw RulesError(.validation, "Saved rule is not an object with an id")
        }
        if rules[id] != nil { return }
        let version = o["version"]?.intValue.map(Int.init)
        let created = o["createdAt"]?.intValue
        let updated = o["updatedAt"]?.intValue
        let counter = nextRuleVersion
        var rule = try insertValidated(saved)
        if let version {
            // A restored rule keeps its version and draws none: the counter only moves past it.
            rule.version = version
            nextRuleVersion = Swift.max(counter, version + 1)
        }
        if let created { rule.createdAt = created }
        if let updated { rule.updatedAt = updated }
        rules[id] = rule
    }
}

extension Fact {
    /// A fact as saved in `json` form (`{key, value?, timestamp, source, version}`).
    public init?(saved: JSON) {
        guard case .object(let o) = saved, let key = o["key"]?.stringValue, let ts = o["timestamp"]?.intValue,
            let source = o["source"]?.stringValue, let version = o["version"]?.intValue
        else { return nil }
        self.init(key: key, value: o["value"], timestamp: ts, source: source, version: Int(version))
    }
}
