import NoexJSON

extension RuleEngine {
    /// Runs actions in order; a failing action is contained (counted, logged) and the next
    /// one still runs (docs/protocol/rule-format.md#actions, docs/rules.md#semantics-in-brief).
    func execute(_ actions: [Action], _ ctx: inout EvalContext) {
        for action in actions {
            do {
                try perform(action, &ctx)
            } catch {
                contained("Action failed: \(error.message)")
            }
        }
    }

    func perform(_ action: Action, _ ctx: inout EvalContext) throws(EvaluationError) {
        switch action {
        case .setFact(let key, let value):
            // Does not trigger fact rules (docs/rules.md#semantics-in-brief).
            facts.set(try render(key, ctx), try resolve(value, ctx), source: "rule", now: nowMs())

        case .deleteFact(let key):
            facts.delete(try render(key, ctx))

        case .emitEvent(let topic, let data):
            let event = makeEvent(
                try render(topic, ctx), try resolveTopLevel(data, ctx),
                correlationId: ctx.correlationId, causationId: nil, source: .rule)
            runEventPipeline(event)

        case .setTimer(let template):
            try armTimer(template, ctx)

        case .cancelTimer(let name):
            timers.remove(try render(name, ctx))

        case .callService(let service, let method, let args):
            var resolved: [JSON] = []
            for a in args { resolved.append(try resolve(a, ctx) ?? .null) }
            _ = try callService(service, method, resolved)

        case .log(let level, let message):
            log(RulesLogLevel(rawValue: level) ?? .info, try render(message, ctx))

        case .conditional(let conditions, let thenActions, let elseActions):
            let hold = try conditionsHold(conditions, ctx)
            overrunPattern = nil  // an overrun here takes the else branch; it is not the rule's trigger
            if hold {
                execute(thenActions, &ctx)
            } else {
                execute(elseActions, &ctx)
            }

        case .forEach(let collection, let name, let actions, let maxIterations):
            guard case .array(let items)? = try resolve(collection, ctx) else {
                throw EvaluationError("for_each collection must be an array")
            }
            let indexName = "\(name)_index"
            for (i, item) in items.prefix(Swift.max(0, maxIterations)).enumerated() {
                ctx.variables[name] = item
                ctx.variables[indexName] = .int(Int64(i))
                execute(actions, &ctx)
            }
            ctx.variables[name] = nil
            ctx.variables[indexName] = nil

        case .tryCatch(let tryActions, let catchAs, let catchActions, let finallyActions):
            var failure: EvaluationError?
            for a in tryActions {
                do {
                    try perform(a, &ctx)
                } catch {
                    failure = error
                    break
                }
            }
            if let failure, let catchActions {
                if let catchAs { ctx.variables[catchAs] = ["message": .string(failure.message)] }
                execute(catchActions, &ctx)
                if let catchAs { ctx.variables[catchAs] = nil }
            }
            execute(finallyActions, &ctx)
            if let failure, catchActions == nil { throw failure }

        case .invalid(let message):
            throw EvaluationError(message)
        }
    }

    /// Sets a timer from a template (docs/protocol/rule-format.md#actions set_timer, docs/rules.md#semantics-in-brief): the name and topic are
    /// interpolated and the data's top-level `{ref}`s resolved now; an existing timer of the
    /// same name is replaced without an event. Durations under 1 ms become 1 ms so a timer
    /// re-armed on its own expiry cannot spin inside one `fireDueTimers` call.
    @discardableResult
    func armTimer(_ template: TimerTemplate, _ ctx: EvalContext) throws(EvaluationError) -> RuleTimer {
        let name = try render(template.name, ctx)
        let topic = try render(template.topic, ctx)
        let data = try resolveTopLevel(template.data, ctx)
        guard template.duration != nil else { throw EvaluationError("Timer requires duration or cron") }
        let durationMs = Swift.max(1, try Durations.milliseconds(template.duration))
        var interval: Int64?
        if let r = template.repeatInterval { interval = Swift.max(1, try Durations.milliseconds(r)) }
        timers.remove(name)
        let now = nowMs()
        let timer = RuleTimer(
            id: ids.next(now: now), name: name, expiresAt: now + durationMs, topic: topic, data: data,
            repeatIntervalMs: interval, repeatMaxCount: template.repeatMaxCount, correlationId: ctx.correlationId)
        timers.insert(timer)
        return timer
    }
}
