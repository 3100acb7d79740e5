import NoexJSON

extension RuleEngine {
    // MARK: - Rule administration (docs/protocol/rules-operations.md)

    /// Validates and registers a rule from the client's JSON object. An existing id is
    /// `ALREADY_EXISTS` (checked first, as the wire layer of the original does); an invalid
    /// rule is `VALIDATION_ERROR` "Rule validation failed" with the issues as details; a rule
    /// in an unknown group is `VALIDATION_ERROR` too.
    @discardableResult
    public func registerRule(_ input: JSON) throws(RulesError) -> Rule {
        try ensureRunning()
        if let id = input["id"]?.stringValue, rules[id] != nil {
            throw RulesError(.alreadyExists, "Rule \"\(id)\" already exists")
        }
        return try insertValidated(input)
    }

    /// Removes a rule; `NOT_FOUND` if there is none.
    public func unregisterRule(_ id: String) throws(RulesError) {
        try ensureRunning()
        guard let rule = rules.removeValue(forKey: id) else { throw RulesError.ruleNotFound(id) }
        ruleOrder.remove(id)
        runtimes[id] = nil
        unindex(rule)
    }

    /// Merges `updates` over the stored rule (without its version and timestamps), forces the
    /// id, validates, and re-registers: a new version from the global counter, fresh
    /// `createdAt`/`updatedAt`, and the rule moves to the end of every order. An unknown id is
    /// `INTERNAL_ERROR` "Rule '<id>' not found", as in the original.
    @discardableResult
    public func updateRule(_ id: String, updates: JSONObject) throws(RulesError) -> Rule {
        try ensureRunning()
        guard let existing = rules[id] else { throw RulesError(.internalError, "Rule '\(id)' not found") }
        var merged = existing.stored
        merged["enabled"] = .bool(existing.enabled)
        for (k, v) in updates { merged[k] = v }
        merged["id"] = .string(id)
        let result = RuleValidator.validate(.object(merged))
        guard result.valid else { throw validationFailed(result) }
        try checkGroup(merged)
        rules[id] = nil
        runtimes[id] = nil
        ruleOrder.remove(id)
        unindex(existing)
        return try insertValidated(.object(merged))
    }

    /// Enables a rule (idempotent; bumps `updatedAt`, not the version).
    @discardableResult
    public func enableRule(_ id: String) throws(RulesError) -> Rule { try setEnabled(id, true) }

    /// Disables a rule (idempotent; bumps `updatedAt`, not the version).
    @discardableResult
    public func disableRule(_ id: String) throws(RulesError) -> Rule { try setEnabled(id, false) }

    /// A registered rule; `NOT_FOUND` if there is none.
    public func getRule(_ id: String) throws(RulesError) -> Rule {
        guard let rule = rules[id] else { throw RulesError.ruleNotFound(id) }
        return rule
    }

    /// Whether a rule with this id is registered.
    public func hasRule(_ id: String) -> Bool { rules[id] != nil }

    /// Every rule in registration order (an update moves a rule to the end).
    public func getRules() -> [Rule] { ruleOrder.keys.compactMap { rules[$0] } }

    /// A dry run of the validator: never registers, checks neither duplicates nor groups.
    public func validateRule(_ input: JSON) -> ValidationResult { RuleValidator.validate(input) }

    // MARK: - Groups (engine-side only; no wire operation reaches them)

    /// Creates or replaces a group. Rules of a disabled group do not run.
    public func setGroup(_ id: String, enabled: Bool) { groups[id] = enabled }

    public func removeGroup(_ id: String) { groups[id] = nil }

    // MARK: - Internals

    private func setEnabled(_ id: String, _ enabled: Bool) throws(RulesError) -> Rule {
        try ensureRunning()
        guard var rule = rules[id] else { throw RulesError.ruleNotFound(id) }
        rule.enabled = enabled
        rule.updatedAt = nowMs()
        rules[id] = rule
        runtimes[id]?.enabled = enabled
        return rule
    }

    private func validationFailed(_ result: ValidationResult) -> RulesError {
        RulesError(.validation, "Rule validation failed", details: .array(result.errors.map(\.json)))
    }

    private func checkGroup(_ input: JSONObject) throws(RulesError) {
        guard let g = input["group"]?.stringValue, groups[g] == nil else { return }
        let message = "Rule references non-existent group: \"\(g)\""
        let issue = ValidationIssue(path: "group", message: message, severity: .error)
        throw RulesError(.validation, message, details: .array([issue.json]))
    }

    func insertValidated(_ input: JSON) throws(RulesError) -> Rule {
        let result = RuleValidator.validate(input)
        guard result.valid, let object = input.objectValue else { throw validationFailed(result) }
        try checkGroup(object)
        let rule = Rule(validated: object, version: nextRuleVersion, now: nowMs())
        nextRuleVersion += 1
        let runtime = RuleRuntime(rule)
        rules[rule.id] = rule
        runtimes[rule.id] = runtime
        ruleOrder.insert(rule.id)
        switch rule.trigger {
        case .event(let topic): eventIndex.add(topic, runtime)
        case .fact(let pattern): factIndex.add(pattern, runtime)
        case .timer(let name): timerIndex.add(name, runtime)
        case .temporal: break  // stored and counted, never fired (docs/protocol/rule-format.md#triggers)
        }
        return rule
    }

    private func unindex(_ rule: Rule) {
        switch rule.trigger {
        case .event(let topic): eventIndex.remove(topic, rule.id)
        case .fact(let pattern): factIndex.remove(pattern, rule.id)
        case .timer(let name): timerIndex.remove(name, rule.id)
        case .temporal: break
        }
    }
}
