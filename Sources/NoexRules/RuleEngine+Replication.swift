import NoexJSON

/// What a replicated deployment (cluster mode, docs/cluster.md) needs from the engine: apply an
/// input with the time and the random source its log entry decided, so every node computes the
/// same facts, versions, timestamps, timer deadlines and event ids; and copy the whole state in
/// and out for snapshots.
extension RuleEngine {
    /// Runs `body` with every time the engine reads pinned to `nowMs` and the random part of
    /// generated ids (events, timers) drawn from `idSeed`. Nested calls keep the outer pin.
    public func withDecisions<T, E: Error>(nowMs: Int64, idSeed: UInt64, _ body: () throws(E) -> T) throws(E) -> T {
        if pinnedNowMs != nil { return try body() }
        pinnedNowMs = nowMs
        ids.reseed(idSeed)
        defer { pinnedNowMs = nil }
        return try body()
    }

    /// Rules (registration order, with version, enabled, createdAt/updatedAt), facts (insertion
    /// order, with version, timestamp, source), pending timers (firing order, with how often a
    /// repeating one fired) and the next rule version.
    public func replicatedState() -> JSON {
        var o = timersAndCounters().objectValue ?? [:]
        o["rules"] = .array(getRules().map(\.json))
        o["facts"] = .array(getAllFacts().map(\.json))
        return .object(o)
    }

    /// The part of `replicatedState()` a durable rules/facts store does not hold: pending
    /// timers and the next rule version (`restoreReplicatedState` loads it too).
    public func timersAndCounters() -> JSON {
        [
            "timers": .array(timers.inFiringOrder().map { t in
                var o = t.json.objectValue ?? [:]
                o["firedCount"] = .int(Int64(t.firedCount))
                return .object(o)
            }),
            "nextRuleVersion": .int(Int64(nextRuleVersion)),
            // Equal priorities run in registration order; a durable store may load rules in
            // another order (an update moves a rule to the end only in memory).
            "ruleOrder": .array(ruleOrder.keys.map { .string($0) }),
        ]
    }

    /// Loads `replicatedState()` into this engine: rules and facts are added (a rule the config
    /// file registered already wins), the timer table is replaced. Runs no rules.
    public func restoreReplicatedState(_ state: JSON) throws(RulesError) {
        for rule in state["rules"]?.arrayValue ?? [] { try restoreRule(rule) }
        for f in state["facts"]?.arrayValue ?? [] {
            guard let fact = Fact(saved: f) else { throw RulesError(.validation, "Saved fact lacks key, timestamp, source or version") }
            restoreFact(key: fact.key, fact)
        }
        timers.removeAll()
        for t in state["timers"]?.arrayValue ?? [] {
            guard let id = t["id"]?.stringValue, let name = t["name"]?.stringValue, let at = t["expiresAt"]?.intValue,
                let topic = t["onExpire"]?["topic"]?.stringValue
            else { throw RulesError(.validation, "Saved timer lacks id, name, expiresAt or onExpire.topic") }
            var timer = RuleTimer(
                id: id, name: name, expiresAt: at, topic: topic, data: t["onExpire"]?["data"]?.objectValue ?? [:],
                repeatIntervalMs: t["repeat"]?["interval"]?.intValue, repeatMaxCount: t["repeat"]?["maxCount"]?.intValue.map { Int($0) },
                correlationId: t["correlationId"]?.stringValue)
            timer.firedCount = Int(t["firedCount"]?.intValue ?? 0)
            timers.insert(timer)
        }
        // Re-registering moves a rule to the end of every order, keeping version and timestamps.
        for id in state["ruleOrder"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
            guard let saved = rules[id]?.json else { continue }
            try unregisterRule(id)
            try restoreRule(saved)
        }
        // Set last and exactly: every restore above drew a version from the counter.
        if let next = state["nextRuleVersion"]?.intValue { nextRuleVersion = Int(next) }
        reportDeadline()
    }
}
