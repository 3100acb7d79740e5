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
    /// timers, the rule order and the next rule version (`restoreReplicatedState` loads it too).
    public func timersAndCounters() -> JSON {
        var o = ruleOrderState().objectValue ?? [:]
        o["timers"] = .array(timers.inFiringOrder().map { t in
            var o = t.json.objectValue ?? [:]
            o["firedCount"] = .int(Int64(t.firedCount))
            return .object(o)
        })
        return .object(o)
    }

    /// Changes whenever `timersAndCounters()` may answer differently, at the cost of reading
    /// three counters: a durable store rewrites its copy only when this moved.
    public var timersAndCountersStamp: RuleStateStamp {
        RuleStateStamp(timerChanges: timers.changes, orderChanges: ruleOrder.changes, nextRuleVersion: nextRuleVersion)
    }

    /// `{ruleOrder, nextRuleVersion}`: what a store that saves each rule on its own needs to
    /// put the engine back exactly. Equal priorities run in registration order and an update
    /// moves a rule to the end, which a store's row order does not follow; the counter also
    /// counts versions of rules that were removed since.
    public func ruleOrderState() -> JSON {
        [
            "nextRuleVersion": .int(Int64(nextRuleVersion)),
            "ruleOrder": .array(ruleOrder.keys.map { .string($0) }),
        ]
    }

    /// Loads `ruleOrderState()` after the rules were restored: the listed rules move to the end
    /// in the listed order (keeping version and timestamps; ids not registered are skipped), and
    /// the next rule version is the saved one — unless rules registered at this start (the
    /// config file) already drew past it. Runs no rules.
    public func restoreRuleOrder(_ state: JSON) throws(RulesError) {
        let next = nextRuleVersion
        let ids = state["ruleOrder"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if ids != ruleOrder.keys {
            // Re-registering moves a rule to the end of every order.
            for id in ids {
                guard let saved = rules[id]?.json else { continue }
                try unregisterRule(id)
                try restoreRule(saved)
            }
        }
        // Set last: every restore above drew a version from the counter.
        nextRuleVersion = Swift.max(next, state["nextRuleVersion"]?.intValue.map(Int.init) ?? next)
    }

    /// Replaces every rule, fact and timer with `state` (a node that loads the cluster's snapshot
    /// over a stale database, docs/cluster.md#a-stale-database): what was there goes first,
    /// without rules running or the fact observer being called; the next rule version is the
    /// larger of the two.
    public func replaceReplicatedState(_ state: JSON) throws(RulesError) {
        for id in ruleOrder.keys { try unregisterRule(id) }
        for f in getAllFacts() { restoreFact(key: f.key, nil) }
        try restoreReplicatedState(state)
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
        try restoreRuleOrder(state)
        reportDeadline()
    }
}
