import NoexJSON

/// What one rule execution can see (docs/rules.md#semantics-in-brief): the trigger data, variables (only
/// `for_each`/`try_catch` fill them), the correlation id to inherit, the matched events and
/// resolved lookups.
struct EvalContext {
    /// `event.data` for event rules, `{fact}` for fact rules, `{timerId,…,...data}` for timer rules.
    var triggerData: JSON
    var variables: [String: JSON] = [:]
    var correlationId: String?
    var matchedEvents: [RuleEvent] = []
    var lookups: [String: JSON] = [:]
}

extension RuleEngine {
    // MARK: - References in actions and interpolation (docs/protocol/rule-format.md)

    /// `resolveRef(path)` of the action executor: `event`/`trigger`, `fact`, `var`, `matched`,
    /// `lookup`; any other head fails the action (or the condition that interpolates it).
    func resolveRef(_ path: RefPath, _ ctx: EvalContext) throws(EvaluationError) -> JSON? {
        switch path.head {
        case "event", "trigger":
            return JSValue.get(ctx.triggerData, segments: path.rest)
        case "fact":
            return facts.get(try interpolate(path.joinedRest, ctx))?.value
        case "var":
            guard let name = path.rest.first else { return nil }
            return JSValue.get(ctx.variables[name], segments: path.rest.dropFirst())
        case "matched":
            guard let first = path.rest.first, let i = Int(first), i >= 0, i < ctx.matchedEvents.count else {
                return nil
            }
            return JSValue.get(.object(ctx.matchedEvents[i].data), segments: path.rest.dropFirst())
        case "lookup":
            guard let name = path.rest.first else { return nil }
            return JSValue.get(ctx.lookups[name], segments: path.rest.dropFirst())
        default:
            throw EvaluationError("Unknown reference source: \(path.head)")
        }
    }

    func resolveRef(_ path: String, _ ctx: EvalContext) throws(EvaluationError) -> JSON? {
        try resolveRef(RefPath(path), ctx)
    }

    /// `resolve(v)`: a `{ref}` is replaced by what it refers to; a literal is returned as is.
    func resolve(_ value: ValueTemplate, _ ctx: EvalContext) throws(EvaluationError) -> JSON? {
        switch value {
        case .literal(let v): return v
        case .ref(let path): return try resolveRef(path, ctx)
        case .badRef(let r): throw EvaluationError("Invalid reference: \(JSValue.string(r))")
        }
    }

    func resolve(_ value: JSON?, _ ctx: EvalContext) throws(EvaluationError) -> JSON? {
        try resolve(ValueTemplate(value), ctx)
    }

    /// Resolves each top-level value of an action's data object; a value resolving to
    /// `undefined` drops its key (it would vanish from JSON), `null` stays.
    func resolveTopLevel(_ data: ObjectTemplate, _ ctx: EvalContext) throws(EvaluationError) -> JSONObject {
        var out = JSONObject(minimumCapacity: data.entries.count)
        for (key, value) in data.entries {
            if let v = try resolve(value, ctx) { out[key] = v }
        }
        return out
    }

    func resolveTopLevel(_ data: JSONObject, _ ctx: EvalContext) throws(EvaluationError) -> JSONObject {
        try resolveTopLevel(ObjectTemplate(data), ctx)
    }

    /// `${path}` interpolation: every placeholder becomes `String(resolveRef(path) ?? "")`
    /// with JavaScript's `String()`.
    func render(_ template: StringTemplate, _ ctx: EvalContext) throws(EvaluationError) -> String {
        if template.parts.isEmpty { return template.source }
        var out = ""
        for part in template.parts {
            switch part {
            case .text(let s):
                out += s
            case .ref(let path):
                switch try resolveRef(path, ctx) {
                case nil, .null?: break
                case let v?: out += JSValue.string(v)
                }
            }
        }
        return out
    }

    func interpolate(_ template: String, _ ctx: EvalContext) throws(EvaluationError) -> String {
        guard template.utf8.contains(UInt8(ascii: "$")) else { return template }
        return try render(StringTemplate(template), ctx)
    }

    // MARK: - Conditions (docs/protocol/rule-format.md#conditions)

    /// All conditions ANDed in order with short-circuit; an empty list is true.
    func conditionsHold(_ conditions: [Condition], _ ctx: EvalContext) throws(EvaluationError) -> Bool {
        for c in conditions where !(try conditionHolds(c, ctx)) { return false }
        return true
    }

    func conditionHolds(_ c: Condition, _ ctx: EvalContext) throws(EvaluationError) -> Bool {
        guard let op = c.op else { throw EvaluationError("Unknown operator") }
        let actual: JSON?
        switch c.source {
        case .event(_, let segments):
            actual = JSValue.get(ctx.triggerData, segments: segments)
        case .fact(let pattern):
            actual = facts.firstValue(matching: try render(pattern, ctx))
        case .context(let key):
            if let v = ctx.variables[key] {
                actual = v
            } else {
                let parts = key.split(separator: ".", omittingEmptySubsequences: false)
                actual = JSValue.get(ctx.variables[String(parts[0])], segments: parts.dropFirst())
            }
        case .lookup(let name, let field):
            actual = field.map { JSValue.get(ctx.lookups[name], path: $0) } ?? ctx.lookups[name]
        case .baseline:
            actual = nil
        case .invalid:
            throw EvaluationError("Invalid condition source")
        }
        let expected = try compareValue(c.value, ctx)
        return evaluate(op, actual, expected)
    }

    /// The compare value: a literal as-is, or a `{ref}` with the condition's own resolution
    /// table — `fact.`, `event.`/`trigger.`, `var.`, `lookup.`; any other head leaves the
    /// `{ref}` object itself as the value (so `eq` is false).
    func compareValue(_ value: CompareValue, _ ctx: EvalContext) throws(EvaluationError) -> JSON? {
        guard case .ref(let path, let original) = value else {
            if case .literal(let v) = value { return v }
            return nil
        }
        switch path.head {
        case "fact":
            return facts.get(try interpolate(path.joinedRest, ctx))?.value
        case "event", "trigger":
            // A bare `event` reads the path "" (undefined), unlike in actions.
            return JSValue.get(ctx.triggerData, segments: path.rest.isEmpty ? [""] : path.rest)
        case "var":
            return path.rest.first.flatMap { ctx.variables[$0] }
        case "lookup":
            guard let name = path.rest.first else { return nil }
            return JSValue.get(ctx.lookups[name], segments: path.rest.dropFirst())
        case "baseline":
            return nil
        default:
            return original
        }
    }

    func compareValue(_ value: JSON?, _ ctx: EvalContext) throws(EvaluationError) -> JSON? {
        try compareValue(CompareValue(value), ctx)
    }

    /// The operators with JavaScript semantics (docs/protocol/rule-format.md#conditions); `nil` is `undefined`.
    func evaluate(_ op: Operator, _ a: JSON?, _ b: JSON?) -> Bool {
        switch op {
        case .eq: return Operators.strictEquals(a, b)
        case .neq: return !Operators.strictEquals(a, b)
        case .gt, .gte, .lt, .lte:
            guard let x = a?.numberValue, let y = b?.numberValue else { return false }
            switch op {
            case .gt: return x > y
            case .gte: return x >= y
            case .lt: return x < y
            default: return x <= y
            }
        case .in, .not_in:
            guard case .array(let list)? = b else { return false }
            let found = list.contains { Operators.sameValueZero($0, a) }
            return op == .in ? found : !found
        case .contains:
            switch (a, b) {
            case (.string(let s)?, .string(let t)?): return Operators.substring(s, t)
            case (.array(let list)?, _): return list.contains { Operators.sameValueZero($0, b) }
            default: return false
            }
        case .not_contains:
            switch (a, b) {
            case (.string(let s)?, .string(let t)?): return !Operators.substring(s, t)
            case (.array(let list)?, _): return !list.contains { Operators.sameValueZero($0, b) }
            default: return true
            }
        case .matches:
            guard case .string(let s)? = a, case .string(let source)? = b else { return false }
            return regexMatches(source, s)
        case .exists:
            if a == nil || a == .null { return false }
            return true
        case .not_exists:
            return a == nil || a == .null
        }
    }
}

/// JavaScript equality flavours over JSON values (docs/protocol/rule-format.md#conditions).
enum Operators {
    /// `===`: primitives by value (`1 === 1.0`, `"1" !== 1`); objects and arrays are never
    /// equal — the original compares them by identity, and two values decoded from JSON are
    /// never the same object.
    static func strictEquals(_ a: JSON?, _ b: JSON?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (nil, _), (_, nil): return false
        case (.array?, _), (_, .array?), (.object?, _), (_, .object?): return false
        case let (x?, y?): return x == y
        }
    }

    /// SameValueZero (`Array.prototype.includes`): like `===` here, since JSON has no NaN.
    static func sameValueZero(_ a: JSON?, _ b: JSON?) -> Bool { strictEquals(a, b) }

    /// `String.prototype.includes` (the empty string is contained in everything).
    static func substring(_ s: String, _ t: String) -> Bool {
        t.isEmpty || s.firstRange(of: t) != nil
    }
}
