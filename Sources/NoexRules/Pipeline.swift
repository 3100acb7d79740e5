import NoexJSON

extension RuleEngine {
    /// The event pipeline (docs/rules.md#semantics-in-brief) shared by API events, rule-emitted events and timer
    /// events: count, notify subscribers, then run the matching event rules — unless the
    /// depth guard says the chain is too deep, in which case the event is still counted and
    /// delivered but triggers nothing.
    func runEventPipeline(_ event: RuleEvent) {
        eventsProcessed += 1
        for handler in subscribers.handlers(for: event.topic) { handler(event) }
        guard !depthGuardTripped() else { return }
        let matching = activeRules(eventIndex.candidates(event.topic, Patterns.matchesRuleTopic))
        guard !matching.isEmpty else { return }
        let ctx = EvalContext(
            triggerData: .object(event.data), correlationId: event.correlationId, matchedEvents: [event])
        runRules(matching, ctx)
    }

    /// Fact rules for an API `setFact` (never for the set_fact action, docs/protocol/rule-format.md#triggers).
    func runFactRules(_ fact: Fact) {
        let matching = activeRules(factIndex.candidates(fact.key, Patterns.matchesFactKey))
        guard !matching.isEmpty else { return }
        runRules(matching, EvalContext(triggerData: ["fact": fact.json]))
    }

    /// A timer's expiry (docs/rules.md#semantics-in-brief): timer rules first, then the `onExpire` event.
    func expire(_ timer: RuleTimer) {
        let matching = activeRules(timerIndex.candidates(timer.name, Patterns.matchesTimerName))
        if !matching.isEmpty {
            var data = JSONObject(minimumCapacity: timer.data.count + 4)
            data["timerId"] = .string(timer.id)
            data["timerName"] = .string(timer.name)
            data["expiresAt"] = .int(timer.expiresAt)
            if let c = timer.correlationId { data["correlationId"] = .string(c) }
            for (k, v) in timer.data { data[k] = v }
            runRules(matching, EvalContext(triggerData: .object(data), correlationId: timer.correlationId))
        }
        let event = makeEvent(
            timer.topic, timer.data, correlationId: timer.correlationId, causationId: timer.id, source: .timer)
        runEventPipeline(event)
    }

    func depthGuardTripped() -> Bool { depth > 0 && depth >= config.maxForwardDepth }

    /// The active rules among `candidates`, highest priority first; ties keep index order
    /// (docs/rules.md#semantics-in-brief). Insertion sort: stable, and the lists are short.
    func activeRules(_ candidates: [RuleRuntime]) -> [RuleRuntime] {
        var out: [RuleRuntime] = []
        out.reserveCapacity(candidates.count)
        for rule in candidates where rule.enabled {
            if let g = rule.group, groups[g] != true { continue }
            var i = out.count
            out.append(rule)
            while i > 0 && out[i - 1].priority < rule.priority {
                out[i] = out[i - 1]
                i -= 1
            }
            out[i] = rule
        }
        return out
    }

    /// Runs the selected rules one after another (docs/rules.md#semantics-in-brief). The list is a snapshot
    /// taken when the trigger arrived.
    func runRules(_ selected: [RuleRuntime], _ base: EvalContext) {
        for rule in selected {
            guard budget > 0 else {
                log(.warn, "Rule execution budget of \(config.maxRuleExecutionsPerTrigger) exhausted; skipping rule \"\(rule.name)\" (\(rule.id))")
                return
            }
            var ctx = base
            do {
                if !rule.lookups.isEmpty {
                    guard try resolveLookups(rule, &ctx) else { continue }
                }
                let hold = try conditionsHold(rule.conditions, ctx)
                if noteRegexOverrun(rule) || !hold { continue }
            } catch {
                contained("Error executing rule \"\(rule.name)\" (\(rule.id)): \(error.message)")
                continue
            }
            budget -= 1
            let started = clock.nowMs()
            depth += 1
            execute(rule.actions, &ctx)
            depth -= 1
            rulesExecuted += 1
            totalProcessingMs += Swift.max(0, clock.nowMs() - started)
        }
    }

    /// Resolves a rule's lookups through the services (Tier 3). `false` skips the rule
    /// (`onError: "skip"`, the default); `onError: "fail"` raises a contained rule error.
    func resolveLookups(_ rule: RuleRuntime, _ ctx: inout EvalContext) throws(EvaluationError) -> Bool {
        for lookup in rule.lookups {
            do {
                var args: [JSON] = []
                for a in lookup.args { args.append(try resolve(a, ctx) ?? .null) }
                ctx.lookups[lookup.name] = try callService(lookup.service, lookup.method, args)
            } catch {
                if lookup.failRule { throw EvaluationError("Lookup \"\(lookup.name)\" failed: \(error.message)") }
                return false
            }
        }
        return true
    }

    func callService(_ service: String, _ method: String, _ args: [JSON]) throws(EvaluationError) -> JSON {
        guard let methods = config.services[service] else { throw EvaluationError("Service not found: \(service)") }
        guard let fn = methods[method] else { throw EvaluationError("Method not found: \(service).\(method)") }
        do {
            return try fn(args)
        } catch {
            throw EvaluationError(String(describing: error))
        }
    }
}
